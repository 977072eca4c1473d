/* Guard-page copies for parser tests: the input's last byte sits just before
 * a PROT_NONE page, so a parser that reads one byte too far faults at once
 * instead of reading whatever follows. Include after <cmocka.h>. */
#ifndef SOCKIT_TESTS_GUARD_H
#define SOCKIT_TESTS_GUARD_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *g_map;
static size_t g_maplen;

/* Unmap the last guarded copy (each guarded() call replaces the previous). */
static void unguard(void)
{
    if (g_map)
        munmap(g_map, g_maplen);
    g_map = NULL;
}

/* Copy n bytes so that the last one sits just before a PROT_NONE page. */
static const char *guarded(const char *s, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (n + page - 1) / page + 1;
    unguard();
    g_maplen = (data_pages + 1) * page;
    g_map = mmap(NULL, g_maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g_map != MAP_FAILED);
    assert_int_equal(mprotect(g_map + data_pages * page, page, PROT_NONE), 0);
    char *dst = g_map + data_pages * page - n;
    memcpy(dst, s, n);
    return dst;
}

#endif
