/* tcpstate.c's parser of one trace_pipe line, for its unit test. */
#ifndef SOCKIT_DIAG_TCPSTATE_INT_H
#define SOCKIT_DIAG_TCPSTATE_INT_H

#include <stdbool.h>

#include <sockit/tcpstate.h>

/* One line of the instance's trace_pipe ("... 12345.678901:
 * inet_sock_set_state: family=AF_INET ... newstate=TCP_CLOSING") into
 * *c. False for another event's line or one that does not parse. */
bool sk__tcpstate_parse(const char *line, sk_state_change *c);

#endif
