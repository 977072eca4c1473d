/* libsockit: the whole public API. */
#ifndef SOCKIT_SOCKIT_H
#define SOCKIT_SOCKIT_H

#include <sockit/addr.h>
#include <sockit/bench.h>
#include <sockit/error.h>
#include <sockit/hist.h>
#include <sockit/loop.h>
#include <sockit/server.h>
#include <sockit/service.h>
#include <sockit/sock.h>

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *sk_version(void);

#endif
