/* What the DNS reader and writer share: presentation names to wire form. */
#ifndef SOCKIT_CODEC_DNS_INT_H
#define SOCKIT_CODEC_DNS_INT_H

#include <stddef.h>
#include <stdint.h>

/* The presentation name text ("a\.b.local", "." or "" for the root, a
 * trailing dot allowed) in wire form, uncompressed, into out[0..255].
 * Returns the wire length (root: 1), or -EINVAL for an empty label, a
 * label over 63 bytes, a name over 255 bytes or a bad escape. */
int sk__dns_name_wire(const char *text, uint8_t out[255]);

#endif
