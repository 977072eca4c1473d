/* daytime (RFC 867): on connect, send the date and time as one line and
 * close. Input is ignored. */
#include <sockit/service.h>

#include <time.h>

/* RFC 867 leaves the format open; this is the ctime(3) form inetd servers
 * have always sent. Returns the length, 0 if it does not fit. */
static size_t daytime_line(char *line, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return strftime(line, cap, "%a %b %e %H:%M:%S %Y\r\n", &tm);
}

static int daytime_open(sk_conn *c)
{
    char line[64];
    size_t n = daytime_line(line, sizeof line);
    if (n == 0 || sk_conn_write(c, line, n) < 0)
        return -1;
    sk_conn_close(c);
    return 0;
}

static int daytime_data(sk_conn *c, const void *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (int)len;
}

/* Over UDP any request datagram, whatever it holds, gets the line. */
static int daytime_datagram(const sk_datagram *d, void *reply, size_t cap, const void *config)
{
    (void)d;
    (void)config;
    size_t n = daytime_line(reply, cap);
    return n > 0 ? (int)n : -1;
}

const sk_service sk__service_daytime = {
    .name = "daytime",
    .summary = "send the date and time as one line, then close (RFC 867)",
    .on_open = daytime_open,
    .on_data = daytime_data,
    .on_datagram = daytime_datagram,
};
