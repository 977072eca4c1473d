/* echo_server: the smallest useful sockit server. It serves the built-in
 * echo service (RFC 862) on ADDR (default 127.0.0.1:7007) under the loop
 * model, prints the address it is bound to (port 0 asks for a free one),
 * and on SIGINT or SIGTERM stops accepting, flushes and exits 0.
 *     ./echo_server 127.0.0.1:0        then: printf 'hi\n' | nc -N 127.0.0.1 PORT */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <sockit/sockit.h>

static sk_server *server;

/* sk_server_stop() is async-signal-safe: it only wakes the server. */
static void on_signal(int sig)
{
    (void)sig;
    sk_server_stop(server);
}

int main(int argc, char **argv)
{
    sk_server_config cfg = {.service = sk_service_find("echo"), .listen = argc > 1 ? argv[1] : "127.0.0.1:7007"};
    int rc = sk_server_open(&cfg, &server); /* binds now: "address in use" shows up here */
    if (rc < 0) {
        fprintf(stderr, "echo_server: listen %s: %s\n", cfg.listen, sk_strerror(rc));
        return 1;
    }
    /* One signal asks for the drain; a second one falls back to the default and ends the process. */
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char text[SK_ADDRSTRLEN];
    const sk_addr *a = sk_server_address(server);
    printf("echo_server: listening on %s\n", sk_addr_format((const struct sockaddr *)&a->ss, text, sizeof text));
    fflush(stdout);

    rc = sk_server_run(server); /* returns once stopped and drained */
    sk_server_free(server);
    if (rc < 0)
        fprintf(stderr, "echo_server: %s\n", sk_strerror(rc));
    return rc < 0 ? 1 : 0;
}
