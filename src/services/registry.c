/* The built-in services, by name. */
#include <string.h>

#include <sockit/service.h>

extern const sk_service sk__service_echo;
extern const sk_service sk__service_discard;
extern const sk_service sk__service_chargen;
extern const sk_service sk__service_daytime;
extern const sk_service sk__service_http;
extern const sk_service sk__service_chat;
extern const sk_service sk__service_exec;

static const sk_service *const services[] = {
    &sk__service_echo, &sk__service_discard, &sk__service_chargen, &sk__service_daytime,
    &sk__service_http, &sk__service_chat,    &sk__service_exec,    NULL,
};

const sk_service *sk_service_find(const char *name)
{
    for (size_t i = 0; services[i] != NULL; i++) {
        if (name && strcmp(services[i]->name, name) == 0)
            return services[i];
    }
    return NULL;
}

const sk_service *const *sk_service_list(void) { return services; }
