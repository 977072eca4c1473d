/* libsockit: the whole public API. Each header carries its own extern "C"
 * block (#ifdef __cplusplus), so C++ programs include them as they are. */
#ifndef SOCKIT_SOCKIT_H
#define SOCKIT_SOCKIT_H

#include <sockit/addr.h>
#include <sockit/bench.h>
#include <sockit/capture.h>
#include <sockit/clock.h>
#include <sockit/dial.h>
#include <sockit/dns.h>
#include <sockit/error.h>
#include <sockit/etcd.h>
#include <sockit/hist.h>
#include <sockit/http.h>
#include <sockit/icmp.h>
#include <sockit/icmp_sock.h>
#include <sockit/loop.h>
#include <sockit/mdns.h>
#include <sockit/resolve.h>
#include <sockit/server.h>
#include <sockit/service.h>
#include <sockit/sock.h>
#include <sockit/sockdiag.h>
#include <sockit/stats.h>
#include <sockit/tcpinfo.h>
#include <sockit/tcpstate.h>
#include <sockit/trace.h>
#include <sockit/udp.h>
#include <sockit/version.h>

#endif
