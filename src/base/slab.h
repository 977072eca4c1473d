/* Fixed-size objects from one thread's slabs: no malloc header per object,
 * and a free is a push onto its slab's free list. A slab is SK__SLAB_BYTES
 * of anonymous memory at an address aligned to its size, so an object's
 * slab is its address rounded down. The first object starts on a cache
 * line, so objects of a multiple of 64 bytes each have lines of their
 * own. Objects are handed out from the front of a fresh slab, so only
 * pages that held an object count as resident; a slab whose objects are
 * all free goes back to the system, except one kept for the next burst. */
#ifndef SOCKIT_SLAB_H
#define SOCKIT_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SK__SLAB_BYTES ((size_t)64 * 1024)

typedef struct sk__slab_page sk__slab_page;

typedef struct sk__slab {
    size_t size;            /* bytes per object, a multiple of 16 */
    uint32_t per_page;      /* objects in one slab */
    sk__slab_page *partial; /* slabs with a free object, most recent first */
    sk__slab_page *full;    /* slabs without one */
    uint32_t npages, nempty;
    uint64_t nused; /* objects handed out and not freed */
} sk__slab;

/* Objects of size bytes (rounded up to 16). Returns 0, or -EINVAL when
 * fewer than two fit in a slab. Allocates nothing yet. */
int sk__slab_init(sk__slab *s, size_t size);

/* Give every slab back, whether or not its objects were freed. Returns how
 * many objects were still in use. */
uint64_t sk__slab_destroy(sk__slab *s);

/* A zeroed object, or NULL when no memory is left. */
void *sk__slab_alloc(sk__slab *s);

/* Return an object from sk__slab_alloc on this slab set. */
void sk__slab_free(sk__slab *s, void *obj);

#endif
