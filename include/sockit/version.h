/* The library's version. */
#ifndef SOCKIT_VERSION_H
#define SOCKIT_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* "MAJOR.MINOR.PATCH", the version of the libsockit that is linked (which
 * may differ from the headers a program was built with). */
const char *sk_version(void);

#ifdef __cplusplus
}
#endif

#endif
