/* Slabs of fixed-size objects: see slab.h. */
#include "slab.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

/* Under AddressSanitizer a free object is poisoned, so a use after free of
 * one is reported as it would be for malloc'd memory. */
#if defined(__SANITIZE_ADDRESS__)
#define SK__SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SK__SLAB_ASAN 1
#endif
#endif
#ifdef SK__SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* At the start of each slab; the objects follow it. */
struct sk__slab_page {
    sk__slab_page *prev, *next;
    void *free;     /* freed objects, linked through their first word */
    uint32_t nused; /* objects handed out from this slab */
    uint32_t fresh; /* objects [fresh, per_page) were never handed out */
};

/* The objects start on a cache line, so an object whose size is a
 * multiple of 64 bytes keeps its lines to itself. */
#define HEADER ((sizeof(sk__slab_page) + 63) & ~(size_t)63)

static char *objects(sk__slab_page *p) { return (char *)p + HEADER; }

static bool is_full(const sk__slab *s, const sk__slab_page *p) { return p->free == NULL && p->fresh == s->per_page; }

static void unlink_page(sk__slab_page **list, sk__slab_page *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        *list = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void push_page(sk__slab_page **list, sk__slab_page *p)
{
    p->prev = NULL;
    p->next = *list;
    if (*list)
        (*list)->prev = p;
    *list = p;
}

/* A slab at an address aligned to its size: map twice the size and unmap
 * what lies outside the aligned part. */
static sk__slab_page *page_new(sk__slab *s)
{
    char *m = mmap(NULL, 2 * SK__SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)m + SK__SLAB_BYTES - 1) & ~(uintptr_t)(SK__SLAB_BYTES - 1));
    if (a > m)
        munmap(m, (size_t)(a - m));
    size_t tail = (size_t)(m + 2 * SK__SLAB_BYTES - (a + SK__SLAB_BYTES));
    if (tail > 0)
        munmap(a + SK__SLAB_BYTES, tail);
    sk__slab_page *p = (sk__slab_page *)a; /* mmap's pages are zeroed */
    POISON(objects(p), (size_t)s->per_page * s->size);
    s->npages++;
    return p;
}

static void page_free(sk__slab *s, sk__slab_page *p)
{
    UNPOISON(objects(p), (size_t)s->per_page * s->size);
    munmap(p, SK__SLAB_BYTES);
    s->npages--;
}

int sk__slab_init(sk__slab *s, size_t size)
{
    memset(s, 0, sizeof *s);
    if (size < sizeof(void *))
        size = sizeof(void *);
    size = (size + 15) & ~(size_t)15;
    if (size > (SK__SLAB_BYTES - HEADER) / 2)
        return -EINVAL;
    s->size = size;
    s->per_page = (uint32_t)((SK__SLAB_BYTES - HEADER) / size);
    return 0;
}

uint64_t sk__slab_destroy(sk__slab *s)
{
    uint64_t left = s->nused;
    sk__slab_page *lists[] = {s->partial, s->full};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (sk__slab_page *p = lists[i], *next; p != NULL; p = next) {
            next = p->next;
            page_free(s, p);
        }
    }
    s->partial = s->full = NULL;
    s->nused = 0;
    s->nempty = 0;
    return left;
}

void *sk__slab_alloc(sk__slab *s)
{
    sk__slab_page *p = s->partial;
    char *obj;

    if (p == NULL) {
        p = page_new(s);
        if (p == NULL)
            return NULL;
        push_page(&s->partial, p);
        s->nempty++;
    }
    if (p->nused == 0)
        s->nempty--;
    if (p->free != NULL) {
        obj = p->free;
        UNPOISON(obj, s->size);
        memcpy(&p->free, obj, sizeof p->free);
    } else {
        obj = objects(p) + (size_t)p->fresh++ * s->size;
        UNPOISON(obj, s->size);
    }
    p->nused++;
    s->nused++;
    if (is_full(s, p)) {
        unlink_page(&s->partial, p);
        push_page(&s->full, p);
    }
    memset(obj, 0, s->size);
    return obj;
}

void sk__slab_free(sk__slab *s, void *obj)
{
    sk__slab_page *p = (sk__slab_page *)((uintptr_t)obj & ~(uintptr_t)(SK__SLAB_BYTES - 1));
    bool was_full = is_full(s, p);

    memcpy(obj, &p->free, sizeof p->free);
    POISON(obj, s->size);
    p->free = obj;
    p->nused--;
    s->nused--;
    if (was_full) {
        unlink_page(&s->full, p);
        push_page(&s->partial, p);
    }
    if (p->nused > 0)
        return;
    /* Keep one empty slab for the next connections; give the rest back. */
    if (s->nempty == 0) {
        s->nempty++;
        return;
    }
    unlink_page(&s->partial, p);
    page_free(s, p);
}
