/* The library version, set by the build. */
#include <sockit/version.h>

const char *sk_version(void) { return SOCKIT_VERSION; }
