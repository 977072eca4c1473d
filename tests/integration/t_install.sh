#!/usr/bin/env bash
# make install: the CLI, static and shared library, headers and sockit.pc
# land under the prefix, and a program built from them with pkg-config runs
# an echo server and talks to it; the shared library exports only the
# public API, and a C++ program includes the headers and links it.
. "$(dirname "$0")/lib.sh"

BUILD=${SOCKIT_BUILD:-$(dirname "$SOCKIT")}
PREFIX="$TMP/prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$TMP/install.log")"
LIBDIR=$(dirname "$(find "$PREFIX" -name sockit.pc | head -n1)")/..
for f in bin/sockit include/sockit/sockit.h include/sockit/service.h; do
    [[ -e $PREFIX/$f ]] || fail "not installed: $f"
done
[[ -e $LIBDIR/libsockit.a ]] || fail "static library not installed"
ls "$LIBDIR"/libsockit.so* >/dev/null 2>&1 || fail "shared library not installed"
pass "installed: bin/sockit, headers, libsockit.a, libsockit.so, sockit.pc"

# The shared library exports the public API and nothing else: no internal
# sk__ function, no helper without the prefix.
nm -D --defined-only "$LIBDIR/libsockit.so" >"$TMP/dynsym" || fail "nm -D libsockit.so"
awk '{print $NF}' "$TMP/dynsym" | grep -v '^sk_[a-z]' >"$TMP/stray" || true
[[ -s $TMP/stray ]] && fail "libsockit.so exports non-public symbols: $(tr '\n' ' ' <"$TMP/stray")"
nexp=$(wc -l <"$TMP/dynsym")
grep -q ' T sk_version$' "$TMP/dynsym" || fail "libsockit.so does not export sk_version"
grep -q ' T sk_server_open$' "$TMP/dynsym" || fail "libsockit.so does not export sk_server_open"
pass "libsockit.so exports only sk_ names ($nexp symbols), no sk__ internals"

export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
cflags=$(pkg-config --cflags sockit) || fail "pkg-config --cflags sockit"
# A sanitizer build installs an instrumented library: its users need the
# same runtime.
[[ -n ${SOCKIT_SANITIZE:-} ]] && cflags+=" -fsanitize=$SOCKIT_SANITIZE"
libs=$(pkg-config --libs sockit) || fail "pkg-config --libs sockit"
cat >"$TMP/demo.c" <<'C'
/* A library user: serve echo on port 0 in a thread, connect, check. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sockit/sockit.h>

static void *serve(void *s) { return (void *)(long)sk_server_run(s); }

int main(void)
{
    sk_server_config cfg = {.service = sk_service_find("echo"), .listen = "127.0.0.1:0"};
    sk_server *s;
    char buf[16] = {0};
    pthread_t t;
    if (sk_server_open(&cfg, &s) < 0)
        return 1;
    pthread_create(&t, NULL, serve, s);
    int fd = sk_tcp_connect(sk_server_address(s), 1, 2000, NULL);
    if (fd < 0 || write(fd, "ping", 4) != 4 || sk_shutdown_write(fd) < 0)
        return 2;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    sk_server_stop(s);
    pthread_join(t, NULL);
    sk_server_free(s);
    printf("%s %s\n", sk_version(), buf);
    return n == 4 && strcmp(buf, "ping") == 0 ? 0 : 3;
}
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $cflags "$TMP/demo.c" -o "$TMP/demo-shared" $libs -pthread || fail "build against libsockit.so"
LD_LIBRARY_PATH="$LIBDIR" timeout 20 "$TMP/demo-shared" >"$TMP/out" || fail "shared demo exited $?"
grep -q " ping$" "$TMP/out" || fail "shared demo printed: $(cat "$TMP/out")"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $cflags "$TMP/demo.c" -o "$TMP/demo-static" "$LIBDIR/libsockit.a" \
    $(pkg-config --static --libs-only-l sockit | sed 's/-lsockit//') -pthread || fail "build against libsockit.a"
timeout 20 "$TMP/demo-static" >"$TMP/out" || fail "static demo exited $?"
pass "a program built with pkg-config (shared and static) serves and echoes: $(cat "$TMP/out")"

# A C++ program includes the public headers (their extern "C" blocks keep
# the names unmangled) and links the installed shared library.
cat >"$TMP/demo.cpp" <<'CPP'
// A C++ library user: the version, an address formatted back to text, a
// code turned into a message.
#include <cstdio>
#include <cstring>
#include <string>
#include <sockit/sockit.h>

int main()
{
    sk_addr a[4];
    int n = sk_addr_resolve("127.0.0.1:7007", SOCK_STREAM, SK_RESOLVE_NUMERIC, a, 4);
    if (n < 1)
        return 1;
    char buf[SK_ADDRSTRLEN];
    std::string text = sk_addr_format(reinterpret_cast<const sockaddr *>(&a[0].ss), buf, sizeof buf);
    std::printf("%s %s %d|%s\n", sk_version(), text.c_str(), sk_addr_port(reinterpret_cast<const sockaddr *>(&a[0].ss)),
                sk_strerror(SK_EV6NOBRACKET));
    return text == "127.0.0.1:7007" ? 0 : 2;
}
CPP
# shellcheck disable=SC2086
g++ -std=c++17 -Wall -Wextra -Werror $cflags "$TMP/demo.cpp" -o "$TMP/demo-cxx" $libs -pthread ||
    fail "build a C++ program against libsockit.so"
LD_LIBRARY_PATH="$LIBDIR" timeout 20 "$TMP/demo-cxx" >"$TMP/out" || fail "C++ demo exited $?: $(cat "$TMP/out")"
version=$("$PREFIX/bin/sockit" --version | sed -n 's/^sockit //p')
want="$version 127.0.0.1:7007 7007|IPv6 address needs brackets and a port, as in [::1]:7007"
[[ $(cat "$TMP/out") == "$want" ]] || fail "C++ demo printed '$(cat "$TMP/out")', wanted '$want'"
pass "a C++17 program (g++ -Wall -Wextra -Werror) built with pkg-config links libsockit.so: $(cat "$TMP/out")"
