/* The one hex dump format sockit prints, for connect --hexdump and
 * serve -v -v: the direction, the offset in that direction, sixteen bytes
 * in hex and the same bytes as ASCII. */
#ifndef SOCKIT_CLI_HEXDUMP_H
#define SOCKIT_CLI_HEXDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes one line shows. */
#define CLI_HEXDUMP_WIDTH 16

/* Write len bytes of buf to f, one line per 16 bytes:
 *   > 00000010  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|
 * dir is '>' for bytes sent and '<' for bytes received; offset is where buf
 * starts in that direction's stream. Bytes outside printable ASCII show as
 * '.'. Nothing is written for len 0. */
void cli_hexdump(FILE *f, char dir, uint64_t offset, const void *buf, size_t len);

#endif
