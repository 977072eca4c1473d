/* serve's log writer (-v, --json): a line never blocks the server. */
#ifndef SOCKIT_SERVE_LOG_H
#define SOCKIT_SERVE_LOG_H

#include <stddef.h>

/* Set up stdout (1) and stderr (2) before serving: a pipe, FIFO or
 * terminal gets an open file description of its own in non-blocking mode
 * (the shell's stays as it was), a socket is written with MSG_DONTWAIT, a
 * regular file as it is. json: stdout's lines are JSON (the report of
 * dropped lines is too). Call once, before any thread or child starts. */
void serve_log_init(int json);

/* Write one record of whole lines to stream 1 or 2. Never blocks: what the
 * reader does not take now waits in a bounded queue (in the process that
 * called serve_log_init; forked children have none), and a record that
 * finds it full is dropped and counted. Once the queue has drained, one
 * line reports how many were dropped. The first time the reader falls
 * behind, a thread starts that drains the queue from then on; a server
 * whose log keeps up stays one thread. Thread-safe; not for signal
 * handlers (see serve_log_signal_write). */
void serve_log_write(int stream, const char *text, size_t len);

/* Before exit: give the reader up to timeout_ms to take what is queued and
 * the report of what was dropped. */
void serve_log_flush(int timeout_ms);

/* For a signal handler: write one line to stream with one system call,
 * bypassing the queue; lost if the reader has no room. Async-signal-safe. */
void serve_log_signal_write(int stream, const char *line, size_t len);

#endif
