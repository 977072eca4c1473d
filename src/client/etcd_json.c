/* The etcd v3 JSON gateway's bodies, written and read with jansson: int64s
 * travel as decimal strings, keys and values as base64, and every answer
 * is checked member by member before anything is taken from it. */
#include "etcd_int.h"

#include "codec/base64.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <sockit/error.h>

/* A text as the gateway's base64 into a new jansson string. */
static json_t *b64(const void *data, size_t n)
{
    size_t cap = SK_BASE64_LEN(n) + 1;
    char *text = malloc(cap);
    if (text == NULL)
        return NULL;
    json_t *s = NULL;
    if (sk__base64_encode(data, n, text, cap) >= 0)
        s = json_string(text);
    free(text);
    return s;
}

static json_t *i64(int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)v);
    return json_string(text);
}

/* Serialise and release o; NULL when o is (a member failed to build). */
static char *dump(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

char *sk__etcd_body_grant(int64_t ttl_s) { return dump(json_pack("{s:o}", "TTL", i64(ttl_s))); }

char *sk__etcd_body_lease(int64_t id) { return dump(json_pack("{s:o}", "ID", i64(id))); }

char *sk__etcd_body_put(const char *key, const char *value, int64_t lease)
{
    return dump(json_pack("{s:o,s:o,s:o}", "key", b64(key, strlen(key)), "value", b64(value, strlen(value)), "lease",
                          i64(lease)));
}

char *sk__etcd_body_delete(const char *key) { return dump(json_pack("{s:o}", "key", b64(key, strlen(key)))); }

/* The end of the range of keys starting with prefix: the prefix with its
 * last byte plus one (a last byte 0xff is dropped and the one before it
 * raised, and a prefix of only 0xff bytes has no end: "\0", every key). */
static json_t *range_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = malloc(n + 1);
    if (end == NULL)
        return NULL;
    memcpy(end, prefix, n);
    while (n > 0 && (unsigned char)end[n - 1] == 0xff)
        n--;
    json_t *s;
    if (n == 0) {
        s = b64("", 1);
    } else {
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
        s = b64(end, n);
    }
    free(end);
    return s;
}

char *sk__etcd_body_range(const char *prefix)
{
    return dump(json_pack("{s:o,s:o}", "key", b64(prefix, strlen(prefix)), "range_end", range_end(prefix)));
}

char *sk__etcd_body_watch(const char *prefix, int64_t start_rev)
{
    return dump(json_pack("{s:{s:o,s:o,s:o}}", "create_request", "key", b64(prefix, strlen(prefix)), "range_end",
                          range_end(prefix), "start_revision", i64(start_rev)));
}

/* Reading ------------------------------------------------------------------ */

static json_t *load(const char *body, size_t len)
{
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An int64 member, sent as a decimal string (or, leniently, a number).
 * Absent is 0; anything else is false. */
static bool get_i64(const json_t *o, const char *name, int64_t *out)
{
    const json_t *m = json_object_get(o, name);
    *out = 0;
    if (m == NULL)
        return true;
    if (json_is_integer(m)) {
        *out = (int64_t)json_integer_value(m);
        return true;
    }
    if (!json_is_string(m))
        return false;
    const char *s = json_string_value(m);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return false;
    *out = v;
    return true;
}

/* A base64 member decoded into out (cap bytes, NUL-terminated); absent is
 * "". Bytes that are not text (a NUL) are refused too. */
static bool get_b64(const json_t *o, const char *name, char *out, size_t cap)
{
    const json_t *m = json_object_get(o, name);
    out[0] = '\0';
    if (m == NULL)
        return true;
    if (!json_is_string(m))
        return false;
    ssize_t n = sk__base64_decode(json_string_value(m), json_string_length(m), out, cap - 1);
    if (n < 0)
        return false;
    out[n] = '\0';
    return strlen(out) == (size_t)n;
}

static bool header_revision(const json_t *o, int64_t *revision)
{
    const json_t *h = json_object_get(o, "header");
    int64_t r = 0;
    if (h && (!json_is_object(h) || !get_i64(h, "revision", &r)))
        return false;
    if (revision)
        *revision = r;
    return true;
}

int sk__etcd_check(int status, const char *body, size_t len)
{
    if (status != 200)
        return SK_EETCD;
    json_t *o = load(body, len);
    json_decref(o);
    return o ? 0 : SK_EETCDBAD;
}

int sk__etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s)
{
    json_t *o = load(body, len);
    int rc = SK_EETCDBAD;
    if (o && json_object_get(o, "error"))
        rc = SK_EETCD;
    else if (o && get_i64(o, "ID", id) && get_i64(o, "TTL", ttl_s) && *id != 0 && *ttl_s > 0)
        rc = 0;
    json_decref(o);
    return rc;
}

int sk__etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl_s)
{
    json_t *o = load(body, len);
    int rc = SK_EETCDBAD;
    const json_t *r = o ? json_object_get(o, "result") : NULL;
    if (o && json_object_get(o, "error"))
        rc = SK_EETCD;
    else if (json_is_object(r) && get_i64(r, "TTL", ttl_s))
        rc = 0;
    json_decref(o);
    return rc;
}

int sk__etcd_parse_header(const char *body, size_t len, int64_t *revision)
{
    json_t *o = load(body, len);
    int rc = SK_EETCDBAD;
    if (o && json_object_get(o, "error"))
        rc = SK_EETCD;
    else if (o && json_is_object(json_object_get(o, "header")) && header_revision(o, revision))
        rc = 0;
    json_decref(o);
    return rc;
}

/* One mvccpb.KeyValue into kv: the key always, the instance when the value
 * is one. False when the object is malformed. */
static bool read_kv(const json_t *o, sk__etcd_kv *kv)
{
    char value[SK__ETCD_VALUE_MAX + 1];
    int64_t version;
    if (!json_is_object(o) || !get_b64(o, "key", kv->inst.key, sizeof kv->inst.key) || kv->inst.key[0] == '\0' ||
        !get_i64(o, "mod_revision", &kv->mod_revision) || !get_i64(o, "version", &version) ||
        !get_i64(o, "lease", &kv->inst.lease))
        return false;
    kv->created = version == 1;
    const json_t *v = json_object_get(o, "value");
    if (!json_is_string(v) || json_string_length(v) > SK_BASE64_LEN(SK__ETCD_VALUE_MAX)) {
        kv->valid = false; /* absent (a deletion) or far too large to be an instance */
        return v == NULL || json_is_string(v);
    }
    kv->valid = get_b64(o, "value", value, sizeof value) && sk_etcd_value_parse(value, strlen(value), &kv->inst) == 0;
    return true;
}

int sk__etcd_parse_range(const char *body, size_t len, int64_t *revision, sk__etcd_kv_fn fn, void *userdata)
{
    json_t *o = load(body, len);
    int rc = SK_EETCDBAD;
    if (o && json_object_get(o, "error")) {
        rc = SK_EETCD;
        goto out;
    }
    const json_t *kvs = o ? json_object_get(o, "kvs") : NULL;
    if (o == NULL || !json_is_object(json_object_get(o, "header")) || !header_revision(o, revision) ||
        (kvs && !json_is_array(kvs)))
        goto out;
    rc = 0;
    for (size_t i = 0; kvs && i < json_array_size(kvs) && rc == 0; i++) {
        sk__etcd_kv kv;
        memset(&kv, 0, sizeof kv);
        if (!read_kv(json_array_get(kvs, i), &kv))
            rc = SK_EETCDBAD;
        else
            rc = fn(userdata, &kv);
    }
out:
    json_decref(o);
    return rc;
}

int sk__etcd_parse_watch(const char *body, size_t len, int64_t *revision, sk__etcd_kv_fn fn, void *userdata)
{
    json_t *o = load(body, len);
    int rc = SK_EETCDBAD;
    const json_t *r = o ? json_object_get(o, "result") : NULL;
    if (o && json_object_get(o, "error")) {
        rc = SK_EETCD;
        goto out;
    }
    if (!json_is_object(r) || !header_revision(r, revision))
        goto out;
    const json_t *evs = json_object_get(r, "events");
    if (json_is_true(json_object_get(r, "canceled"))) {
        rc = SK_EETCD; /* compacted away, or refused */
        goto out;
    }
    if (evs && !json_is_array(evs))
        goto out;
    rc = json_is_true(json_object_get(r, "created")) ? 1 : 0;
    for (size_t i = 0; evs && i < json_array_size(evs) && rc >= 0; i++) {
        const json_t *ev = json_array_get(evs, i);
        const json_t *type = json_is_object(ev) ? json_object_get(ev, "type") : NULL;
        sk__etcd_kv kv;
        memset(&kv, 0, sizeof kv);
        if (!json_is_object(ev) || (type && !json_is_string(type)) || !read_kv(json_object_get(ev, "kv"), &kv)) {
            rc = SK_EETCDBAD;
            break;
        }
        /* PUT is the enum's zero, which the gateway leaves out. */
        kv.deleted = type && strcmp(json_string_value(type), "DELETE") == 0;
        if (type && !kv.deleted && strcmp(json_string_value(type), "PUT") != 0) {
            rc = SK_EETCDBAD;
            break;
        }
        int frc = fn(userdata, &kv);
        if (frc != 0)
            rc = frc;
    }
out:
    json_decref(o);
    return rc;
}

/* Instance values ------------------------------------------------------------ */

int sk_etcd_value_format(char *out, size_t cap, const char *addr, const char *service, const char *model,
                         unsigned weight, int64_t pid)
{
    if (addr == NULL || weight > 65535)
        return -EINVAL;
    json_t *o = json_pack("{s:s,s:I}", "addr", addr, "weight", (json_int_t)weight);
    if (o && service)
        json_object_set_new(o, "service", json_string(service));
    if (o && model)
        json_object_set_new(o, "model", json_string(model));
    if (o && pid > 0)
        json_object_set_new(o, "pid", json_integer((json_int_t)pid));
    if (o == NULL)
        return -ENOMEM;
    /* Sorted keys: the same instance always writes the same bytes. */
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (text == NULL)
        return -ENOMEM;
    size_t n = strlen(text);
    int rc = (int)n;
    if (n + 1 > cap)
        rc = -ENOSPC;
    else
        memcpy(out, text, n + 1);
    free(text);
    return rc;
}

static bool copy_str(const json_t *o, const char *name, char *out, size_t cap)
{
    const json_t *m = json_object_get(o, name);
    out[0] = '\0';
    if (m == NULL)
        return true;
    if (!json_is_string(m))
        return false;
    snprintf(out, cap, "%s", json_string_value(m));
    return true;
}

int sk_etcd_value_parse(const char *json, size_t len, sk_etcd_instance *inst)
{
    json_t *o = load(json, len);
    int rc = SK_EETCDBAD;
    if (o == NULL)
        return rc;
    const json_t *addr = json_object_get(o, "addr");
    const json_t *w = json_object_get(o, "weight");
    const json_t *pid = json_object_get(o, "pid");
    sk_hostport hp;
    long port = 0;
    char *end = NULL;
    if (!json_is_string(addr) || sk_addr_split(json_string_value(addr), &hp) < 0 || hp.host[0] == '\0')
        goto out;
    errno = 0;
    port = strtol(hp.port, &end, 10);
    if (hp.port[0] < '0' || hp.port[0] > '9' || *end != '\0' || errno || port < 1 || port > 65535)
        goto out;
    if (w && (!json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 65535))
        goto out;
    if (pid && !json_is_integer(pid))
        goto out;
    if (!copy_str(o, "service", inst->service, sizeof inst->service) ||
        !copy_str(o, "model", inst->model, sizeof inst->model))
        goto out;
    snprintf(inst->host, sizeof inst->host, "%s", hp.host);
    inst->port = (uint16_t)port;
    inst->weight = w ? (uint16_t)json_integer_value(w) : 1;
    inst->pid = pid ? (int64_t)json_integer_value(pid) : 0;
    rc = 0;
out:
    json_decref(o);
    return rc;
}
