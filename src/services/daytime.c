/* daytime (RFC 867): on connect, send the date and time as one line and
 * close. Input is ignored. */
#include <sockit/service.h>

#include <time.h>

static int daytime_open(sk_conn *c)
{
    char line[64];
    time_t now = time(NULL);
    struct tm tm;
    size_t n;

    /* RFC 867 leaves the format open; this is the ctime(3) form inetd
     * servers have always sent. */
    localtime_r(&now, &tm);
    n = strftime(line, sizeof line, "%a %b %e %H:%M:%S %Y\r\n", &tm);
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

const sk_service sk__service_daytime = {
    .name = "daytime",
    .summary = "send the date and time as one line, then close (RFC 867)",
    .on_open = daytime_open,
    .on_data = daytime_data,
};
