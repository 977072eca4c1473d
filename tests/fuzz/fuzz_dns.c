/* libFuzzer target for the DNS response parser: any bytes; checks the
 * contract (rdata views inside the message, names terminated and within
 * SK_DNS_NAME_MAX, TXT strings inside their rdata), not just crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/dns.h>
#include <sockit/error.h>

static void check_name(const char *s)
{
    size_t n = strnlen(s, SK_DNS_NAME_MAX);
    if (n == 0 || n >= SK_DNS_NAME_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sk_dns_rr rrs[4];
    sk_dns_header h;
    int n = sk_dns_parse(data, size, &h, rrs, 4);

    if (n == SK_EDNSBAD)
        return 0;
    if (n < 0 || n != h.ancount)
        abort();
    for (int i = 0; i < n && i < 4; i++) {
        const sk_dns_rr *rr = &rrs[i];
        check_name(rr->name);
        if (rr->rdata < data || rr->rdata + rr->rdlen > data + size)
            abort();
        if (rr->type == SK_DNS_SRV || rr->type == SK_DNS_PTR || rr->type == SK_DNS_CNAME)
            check_name(rr->target);
        if (rr->type == SK_DNS_TXT) {
            size_t off = 0, len;
            const uint8_t *s;
            int rc;
            while ((rc = sk_dns_txt_next(rr, &off, &s, &len)) == 1)
                if (s < rr->rdata || s + len > rr->rdata + rr->rdlen)
                    abort();
            if (rc != 0)
                abort(); /* the parser accepted it, so it is well formed */
        }
    }
    return 0;
}
