/* custom_service: a service of its own, run unchanged under any model.
 * The "shout" service answers every line it receives with the line's
 * number on this connection and the line in upper case:
 *     hello        ->  1: HELLO
 *     Bye now      ->  2: BYE NOW
 * A line longer than MAX_LINE bytes gets "error: line too long" and the
 * connection is closed; a last line without a newline is not answered.
 *     ./custom_service fork|prefork|thread|loop|hybrid [ADDR]
 * ADDR defaults to 127.0.0.1:7007; the bound address is printed first. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sockit/sockit.h>

#define MAX_LINE 1024

/* Per-connection state: the server allocates conn_state_size bytes for
 * each connection, zeroed, and frees them when it ends, whichever model
 * (process, thread or event loop) serves it. */
typedef struct shout_state {
    unsigned lines;
} shout_state;

/* Answer one complete line (without its newline). Returns 0, or -1 when
 * the answer does not fit in the output buffer now. */
static int shout_line(sk_conn *c, const char *line, size_t len)
{
    char out[MAX_LINE + 16];
    shout_state *st = sk_conn_state(c);
    int n = snprintf(out, sizeof out, "%u: ", st->lines + 1);
    for (size_t i = 0; i < len; i++)
        out[n++] = (char)toupper((unsigned char)line[i]);
    out[n++] = '\n';
    /* sk_conn_write() is all or nothing: check the room first and let the
     * line wait (unconsumed) until the client has read some output. */
    if (sk_conn_room(c) < (size_t)n)
        return -1;
    sk_conn_write(c, out, (size_t)n);
    st->lines++;
    return 0;
}

/* Input arrives in whatever pieces TCP delivers: consume each complete
 * line and leave a partial one in the server's input buffer, which offers
 * it again with the bytes that follow. */
static int shout_data(sk_conn *c, const void *buf, size_t len)
{
    const char *p = buf;
    size_t used = 0;
    for (;;) {
        const char *nl = memchr(p + used, '\n', len - used);
        size_t line = nl ? (size_t)(nl - (p + used)) : len - used;
        if (line > MAX_LINE) {
            static const char msg[] = "error: line too long\n";
            sk_conn_write(c, msg, sizeof msg - 1);
            sk_conn_close(c); /* flush the message, then FIN */
            return (int)len;
        }
        if (!nl || shout_line(c, p + used, line) < 0)
            return (int)used;
        used += line + 1;
    }
}

static const sk_service shout = {
    .name = "shout",
    .summary = "answer each line numbered and in upper case",
    .conn_state_size = sizeof(shout_state),
    .on_data = shout_data,
};

static sk_server *server;

static void on_signal(int sig)
{
    (void)sig;
    sk_server_stop(server);
}

int main(int argc, char **argv)
{
    int model = argc > 1 ? sk_model_parse(argv[1]) : -1;
    if (model < 0 || argc > 3) {
        fprintf(stderr, "usage: custom_service fork|prefork|thread|loop|hybrid [ADDR]\n");
        return 2;
    }
    sk_server_config cfg = {
        .service = &shout,
        .listen = argc > 2 ? argv[2] : "127.0.0.1:7007",
        .model = (sk_model)model,
        .workers = 2, /* prefork processes, hybrid event-loop threads */
    };
    int rc = sk_server_open(&cfg, &server);
    if (rc < 0) {
        fprintf(stderr, "custom_service: listen %s: %s\n", cfg.listen, sk_strerror(rc));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char text[SK_ADDRSTRLEN];
    const sk_addr *a = sk_server_address(server);
    printf("custom_service: serving %s on %s (model %s)\n", shout.name,
           sk_addr_format((const struct sockaddr *)&a->ss, text, sizeof text), sk_model_name(cfg.model));
    fflush(stdout);

    rc = sk_server_run(server);
    sk_server_free(server);
    if (rc < 0)
        fprintf(stderr, "custom_service: %s\n", sk_strerror(rc));
    return rc < 0 ? 1 : 0;
}
