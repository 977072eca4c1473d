/* Bounded byte buffers whose storage is borrowed from a per-thread pool
 * only while they hold data, so an idle connection holds no buffer. */
#ifndef SOCKIT_BUF_H
#define SOCKIT_BUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A free list of equal-sized blocks owned by one thread. Taking and giving
 * back a block is a pointer swap: no malloc on the request path once warm. */
typedef struct sk__bufpool {
    void **free;
    uint32_t nfree, max;
    size_t blocksize;
} sk__bufpool;

/* Bytes live in data[start, end); cap is the bound (the block size). */
typedef struct sk__buf {
    char *data;
    uint32_t start, end;
} sk__buf;

int sk__bufpool_init(sk__bufpool *p, size_t blocksize, uint32_t max_cached);
void sk__bufpool_destroy(sk__bufpool *p);

static inline size_t sk__buf_used(const sk__buf *b) { return b->end - b->start; }
static inline const char *sk__buf_rptr(const sk__buf *b) { return b->data + b->start; }

/* Room for more bytes, counting the space compaction would recover. An
 * unallocated buffer has the whole block. */
static inline size_t sk__buf_room(const sk__buf *b, const sk__bufpool *p) { return p->blocksize - sk__buf_used(b); }

/* sk__buf_prepare's slow paths: malloc when the free list is empty, and
 * moving live bytes to the front. */
int sk__buf_fill(sk__buf *b, sk__bufpool *p);

/* Make sure the buffer has storage; moves live bytes to the front so the
 * whole room is contiguous at wptr. Returns 0 or -ENOMEM. Every request
 * takes a block and gives it back (an idle connection holds none), so the
 * common case - a block from the free list - is inline. */
static inline int sk__buf_prepare(sk__buf *b, sk__bufpool *p)
{
    if (b->data == NULL && p->nfree > 0) {
        b->data = p->free[--p->nfree];
        b->start = b->end = 0;
        return 0;
    }
    if (b->data != NULL && b->start == 0)
        return 0;
    return sk__buf_fill(b, p);
}

/* Where the next bytes go after sk__buf_prepare, and how many fit there. */
static inline char *sk__buf_wptr(sk__buf *b) { return b->data + b->end; }
static inline size_t sk__buf_wspace(const sk__buf *b, const sk__bufpool *p) { return p->blocksize - b->end; }
static inline void sk__buf_commit(sk__buf *b, size_t n) { b->end += (uint32_t)n; }

/* Append len bytes if they all fit; returns 0, -ENOBUFS (nothing written)
 * or -ENOMEM. */
static inline int sk__buf_append(sk__buf *b, sk__bufpool *p, const void *src, size_t len)
{
    if (len == 0)
        return 0;
    if (len > sk__buf_room(b, p))
        return -ENOBUFS;
    if (b->data == NULL || len > sk__buf_wspace(b, p)) {
        int rc = sk__buf_prepare(b, p);
        if (rc < 0)
            return rc;
    }
    memcpy(b->data + b->end, src, len);
    b->end += (uint32_t)len;
    return 0;
}

/* Give the block back whatever it holds. */
static inline void sk__buf_release(sk__buf *b, sk__bufpool *p)
{
    if (b->data != NULL) {
        if (p->nfree < p->max)
            p->free[p->nfree++] = b->data;
        else
            free(b->data);
    }
    b->data = NULL;
    b->start = b->end = 0;
}

/* Drop n bytes from the front; an emptied buffer gives its block back. */
static inline void sk__buf_consume(sk__buf *b, sk__bufpool *p, size_t n)
{
    b->start += (uint32_t)n;
    if (b->start >= b->end)
        sk__buf_release(b, p);
}

#endif
