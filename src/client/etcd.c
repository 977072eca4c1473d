/* etcd:// targets and the one-shot listing of a prefix (sk_etcd_list), on
 * a loop of its own. */
#include "etcd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sockit/clock.h>
#include <sockit/error.h>

int sk_etcd_url_parse(const char *text, sk_etcd_url *out)
{
    static const char scheme[] = "etcd://";
    memset(out, 0, sizeof *out);
    if (text == NULL || strncasecmp(text, scheme, sizeof scheme - 1) != 0)
        return -EINVAL;
    const char *p = text + sizeof scheme - 1;
    for (const char *c = p; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u == 0x7f || u == '@' || u == '?' || u == '#')
            return -EINVAL;
    }
    const char *slash = strchr(p, '/');
    size_t alen = slash ? (size_t)(slash - p) : strlen(p);
    const char *hend, *portp = NULL;
    if (alen > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', alen);
        if (close == NULL || close == p + 1)
            return -EINVAL;
        if (close + 1 < p + alen && close[1] != ':')
            return -EINVAL;
        if ((size_t)(close - p - 1) >= sizeof out->host)
            return -EINVAL;
        memcpy(out->host, p + 1, (size_t)(close - p - 1));
        if (strchr(out->host, ':') == NULL)
            return -EINVAL; /* brackets are for IPv6 addresses */
        hend = close + 1;
        if (hend < p + alen)
            portp = hend + 1;
    } else {
        const char *colon = memchr(p, ':', alen);
        hend = colon ? colon : p + alen;
        if (hend == p || (size_t)(hend - p) >= sizeof out->host || memchr(p, '[', alen) || memchr(p, ']', alen))
            return -EINVAL;
        memcpy(out->host, p, (size_t)(hend - p));
        if (colon)
            portp = colon + 1;
    }
    if (portp) {
        size_t plen = (size_t)(p + alen - portp);
        long port = 0;
        if (plen == 0 || plen > 5)
            return -EINVAL;
        for (size_t i = 0; i < plen; i++) {
            if (portp[i] < '0' || portp[i] > '9')
                return -EINVAL;
            port = port * 10 + (portp[i] - '0');
        }
        if (port < 1 || port > 65535)
            return -EINVAL;
        snprintf(out->port, sizeof out->port, "%ld", port);
    } else {
        snprintf(out->port, sizeof out->port, "%s", SK_ETCD_PORT);
    }
    /* The prefix: the path with a '/' at both ends. */
    const char *path = slash ? slash : "/";
    while (*path == '/')
        path++;
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n + 3 > sizeof out->prefix)
        return -EINVAL;
    out->prefix[0] = '/';
    memcpy(out->prefix + 1, path, n);
    if (n > 0)
        out->prefix[n + 1] = '/';
    return 0;
}

typedef struct listing {
    sk_etcd_instance *out;
    size_t max, count;
    bool done;
    int err;
} listing;

static int take(void *userdata, const sk__etcd_kv *kv)
{
    listing *ls = userdata;
    if (!kv->valid)
        return 0;
    if (ls->count < ls->max)
        ls->out[ls->count] = kv->inst;
    ls->count++;
    return 0;
}

static void listed(void *userdata, int err, int status, const char *body, size_t len)
{
    listing *ls = userdata;
    ls->done = true;
    if (err == 0)
        err = sk__etcd_check(status, body, len);
    if (err == 0)
        err = sk__etcd_parse_range(body, len, NULL, take, ls);
    ls->err = err;
}

int sk_etcd_list(const char *url, int64_t timeout_ms, sk_etcd_instance *out, size_t max)
{
    sk_etcd_url u;
    int rc = sk_etcd_url_parse(url, &u);
    if (rc < 0)
        return rc;
    if (timeout_ms <= 0)
        timeout_ms = 5000;
    int64_t deadline = sk_now_ms() + timeout_ms;
    sk_loop *loop = sk_loop_new(NULL, 0, &rc);
    if (loop == NULL)
        return rc;
    sk__etcd_http *h = sk__etcd_http_new(loop, u.host, u.port, &rc);
    char *body = h ? sk__etcd_body_range(u.prefix) : NULL;
    listing ls = {out, out ? max : 0, 0, false, 0};
    if (h && body == NULL)
        rc = -ENOMEM;
    if (body)
        rc = sk__etcd_http_post(h, "/v3/kv/range", body, timeout_ms, NULL, listed, &ls);
    if (rc == 0)
        rc = sk__etcd_wait(loop, &ls.done, deadline + 100);
    if (rc == 0)
        rc = ls.err;
    free(body);
    sk__etcd_http_free(h);
    sk_loop_free(loop);
    return rc < 0 ? rc : (int)ls.count;
}
