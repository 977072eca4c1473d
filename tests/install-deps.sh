#!/usr/bin/env bash
# Install what the build and the test suite need, only when missing.
set -euo pipefail
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in cmake gcc make pkg-config libcmocka-dev liburing-dev netcat-openbsd socat curl netbase libxml2-utils \
           iproute2 procps python3 iputils-ping nftables util-linux wrk; do
    have_pkg "$pkg" || need+=("$pkg")
done
if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install-deps: missing ${need[*]}; run as root or install them" >&2
        exit 1
    fi
    echo "install-deps: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
