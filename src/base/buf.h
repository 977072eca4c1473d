/* Bounded byte buffers whose storage is borrowed from a per-thread pool
 * only while they hold data, so an idle connection holds no buffer. */
#ifndef SOCKIT_BUF_H
#define SOCKIT_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A free list of equal-sized blocks owned by one thread. Taking and giving
 * back a block is a pointer swap: no malloc on the request path once warm. */
typedef struct sk__bufpool {
    void **free;
    uint32_t nfree, max;
    size_t blocksize;
} sk__bufpool;

/* Bytes live in data[start, end); cap is the bound (the block size). */
typedef struct sk_buf {
    char *data;
    uint32_t start, end;
} sk_buf;

int sk__bufpool_init(sk__bufpool *p, size_t blocksize, uint32_t max_cached);
void sk__bufpool_destroy(sk__bufpool *p);

static inline size_t sk_buf_used(const sk_buf *b) { return b->end - b->start; }
static inline const char *sk_buf_rptr(const sk_buf *b) { return b->data + b->start; }

/* Room for more bytes, counting the space compaction would recover. An
 * unallocated buffer has the whole block. */
static inline size_t sk_buf_room(const sk_buf *b, const sk__bufpool *p) { return p->blocksize - sk_buf_used(b); }

/* Make sure the buffer has storage; moves live bytes to the front so the
 * whole room is contiguous at wptr. Returns 0 or -ENOMEM. */
int sk_buf_prepare(sk_buf *b, sk__bufpool *p);

/* Where the next bytes go after sk_buf_prepare, and how many fit there. */
static inline char *sk_buf_wptr(sk_buf *b) { return b->data + b->end; }
static inline size_t sk_buf_wspace(const sk_buf *b, const sk__bufpool *p) { return p->blocksize - b->end; }
static inline void sk_buf_commit(sk_buf *b, size_t n) { b->end += (uint32_t)n; }

/* Append len bytes if they all fit; returns 0, -ENOBUFS (nothing written)
 * or -ENOMEM. */
int sk_buf_append(sk_buf *b, sk__bufpool *p, const void *src, size_t len);

/* Drop n bytes from the front; an emptied buffer gives its block back. */
void sk_buf_consume(sk_buf *b, sk__bufpool *p, size_t n);

/* Give the block back whatever it holds. */
void sk_buf_release(sk_buf *b, sk__bufpool *p);

#endif
