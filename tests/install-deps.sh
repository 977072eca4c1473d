#!/usr/bin/env bash
# Install what the build and the test suite need, only when missing.
#   install-deps.sh           the build and the test suite (with clang and clang-format)
#   install-deps.sh --build   the build only (make run)
#   install-deps.sh --bench   the build and the benchmarks' reference programs (make bench)
set -euo pipefail
build=(cmake gcc make pkg-config liburing-dev libc-ares-dev libjansson-dev netbase)
tests=(libcmocka-dev clang clang-format g++ netcat-openbsd socat curl libxml2-utils iproute2 procps python3 iputils-ping
       traceroute nftables util-linux wrk chromium man-db dnsmasq-base knot-dnsutils python3-jsonschema tcpdump
       etcd-server etcd-client avahi-daemon avahi-utils python3-zeroconf ldnsutils)
bench=(nginx-light apache2-utils wrk iperf3 valgrind curl python3 util-linux time)
pkgs=("${build[@]}")
case ${1:-} in
--build) ;;
--bench) pkgs+=("${bench[@]}") ;;
*) pkgs+=("${tests[@]}") ;;
esac
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in "${pkgs[@]}"; do
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
