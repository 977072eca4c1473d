/* The options services declare, offered by sockit serve (serve_services.h). */
#include "serve_services.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <sockit/error.h>

/* The options every service declares, as one group after serve's own. */
int serve_service_options(cli_option *out, int max)
{
    int n = 0, id = SERVE_SERVICE_OPT;
    for (const sk_service *const *svc = sk_service_list(); *svc; svc++) {
        for (const sk_service_option *so = (*svc)->options; so && so->name; so++, id++) {
            if (n == 0) {
                if (max < 1)
                    return -1;
                out[n++] = (cli_option)CLI_HEADING("Service options (each only with its --service):");
            }
            if (n == max)
                return -1;
            out[n++] = (cli_option){.name = so->name, .arg = so->arg, .id = id, .help = so->help, .tag = (*svc)->name};
        }
    }
    return n;
}

/* The service and option behind a service option's id, or NULL. */
static const sk_service *service_of(int id, const sk_service_option **opt, int *index)
{
    int k = SERVE_SERVICE_OPT, i = 0;
    for (const sk_service *const *svc = sk_service_list(); *svc; svc++, i++) {
        for (const sk_service_option *so = (*svc)->options; so && so->name; so++, k++) {
            if (k == id) {
                *opt = so;
                *index = i;
                return *svc;
            }
        }
    }
    return NULL;
}

/* Each service's configuration, set up on first use; static so that what
 * a usage error leaves behind is still reachable at exit. */
#define MAX_SERVICES 32
static void *g_configs[MAX_SERVICES];
static bool g_given[MAX_SERVICES];     /* services whose options were given */
static bool g_opt_given[CLI_MAX_OPTS]; /* by id - SERVE_SERVICE_OPT */

static void *service_config(const sk_service *svc, int index)
{
    if (svc->config_size == 0 || index < 0 || index >= MAX_SERVICES)
        return NULL;
    if (g_configs[index] == NULL) {
        g_configs[index] = calloc(1, svc->config_size);
        if (g_configs[index] && svc->config_init)
            svc->config_init(g_configs[index]);
    }
    return g_configs[index];
}

static int service_index(const sk_service *svc)
{
    int i = 0;
    for (const sk_service *const *s = sk_service_list(); *s; s++, i++) {
        if (*s == svc)
            return i;
    }
    return -1;
}

/* The registered services' names, "echo, discard, ...": every one, or
 * those with a UDP form. */
const char *serve_service_names(char *buf, size_t len, bool udp)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const sk_service *const *svc = sk_service_list(); *svc; svc++) {
        if (udp && (*svc)->on_datagram == NULL)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", (*svc)->name);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* "--body-size and --head-timeout apply to --service http". */
static int foreign_option_error(const sk_service *owner)
{
    char names[512];
    size_t len = 0, n = 0, k = 0;
    for (const sk_service_option *so = owner->options; so->name; so++)
        n++;
    for (const sk_service_option *so = owner->options; so->name; so++, k++) {
        const char *sep = k == 0 ? "" : k + 1 == n ? " and " : ", ";
        int w = snprintf(names + len, sizeof names - len, "%s--%s", sep, so->name);
        if (w < 0 || (size_t)w >= sizeof names - len)
            break;
        len += (size_t)w;
    }
    return cli_usage_error("serve", "%s appl%s to --service %s", names, n == 1 ? "ies" : "y", owner->name);
}

int serve_service_set(int id, const char *text)
{
    const sk_service_option *so;
    int i;
    const sk_service *owner = service_of(id, &so, &i);
    if (owner == NULL)
        return -1;
    void *conf = service_config(owner, i);
    if (conf == NULL) {
        cli_error("serve: %s", sk_strerror(-ENOMEM));
        return EXIT_FAIL;
    }
    if (so->set(conf, text) < 0)
        return cli_usage_error("serve", "--%s wants %s, not '%s'", so->name, so->wants, text);
    g_given[i] = true;
    if (id - SERVE_SERVICE_OPT < CLI_MAX_OPTS)
        g_opt_given[id - SERVE_SERVICE_OPT] = true;
    return EXIT_OK;
}

/* Calls fn for every service option with its id; stops when fn says so. */
static const sk_service *find_option(bool (*fn)(const sk_service *, const sk_service_option *, int id, void *),
                                     void *arg)
{
    int id = SERVE_SERVICE_OPT;
    for (const sk_service *const *svc = sk_service_list(); *svc; svc++) {
        for (const sk_service_option *so = (*svc)->options; so && so->name; so++, id++) {
            if (fn(*svc, so, id, arg))
                return *svc;
        }
    }
    return NULL;
}

static bool given_selecting(const sk_service *svc, const sk_service_option *so, int id, void *arg)
{
    (void)svc;
    (void)arg;
    return so->selects && id - SERVE_SERVICE_OPT < CLI_MAX_OPTS && g_opt_given[id - SERVE_SERVICE_OPT];
}

const sk_service *serve_service_selected(void) { return find_option(given_selecting, NULL); }

/* An option of svc that selects it but was not given. */
static bool missing_selecting(const sk_service *svc, const sk_service_option *so, int id, void *arg)
{
    if (svc != arg || !so->selects || given_selecting(svc, so, id, NULL))
        return false;
    cli_usage_error("serve", "--service %s needs --%s %s", svc->name, so->name, so->arg);
    return true;
}

int serve_service_config(const sk_service *svc, const void **config)
{
    int chosen = service_index(svc);
    for (int i = 0; i < MAX_SERVICES; i++) {
        if (g_given[i] && i != chosen)
            return foreign_option_error(sk_service_list()[i]);
    }
    if (find_option(missing_selecting, (void *)svc) != NULL)
        return EXIT_USAGE;
    *config = service_config(svc, chosen);
    if (svc->config_size > 0 && *config == NULL) {
        cli_error("serve: %s", sk_strerror(-ENOMEM));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
