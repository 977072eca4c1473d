/* Pooled bounded buffers: see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sk__bufpool_init(sk__bufpool *p, size_t blocksize, uint32_t max_cached)
{
    memset(p, 0, sizeof *p);
    p->blocksize = blocksize;
    p->max = max_cached;
    if (max_cached > 0) {
        p->free = calloc(max_cached, sizeof *p->free);
        if (p->free == NULL)
            return -ENOMEM;
    }
    return 0;
}

void sk__bufpool_destroy(sk__bufpool *p)
{
    for (uint32_t i = 0; i < p->nfree; i++)
        free(p->free[i]);
    free(p->free);
    memset(p, 0, sizeof *p);
}

int sk__buf_fill(sk__buf *b, sk__bufpool *p)
{
    if (b->data == NULL) {
        b->data = p->nfree > 0 ? p->free[--p->nfree] : malloc(p->blocksize);
        if (b->data == NULL)
            return -ENOMEM;
        b->start = b->end = 0;
    } else if (b->start > 0) {
        size_t used = sk__buf_used(b);
        memmove(b->data, b->data + b->start, used);
        b->start = 0;
        b->end = (uint32_t)used;
    }
    return 0;
}
