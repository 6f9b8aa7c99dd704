#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing tcpcrypt need.
# Run as root. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  # build
  build-essential autoconf automake libtool pkg-config
  # Debian packages (debian/, tests/tools/test_debian.sh)
  dpkg-dev debhelper lintian
  libsodium-dev libssl-dev check
  libbpf-dev libelf-dev zlib1g-dev clang llvm bpftool
  libnetfilter-queue-dev libmnl-dev
  libpcap-dev
  # tests
  iproute2 iptables tcpdump tshark curl socat netcat-openbsd python3
  valgrind groff man-db procps psmisc
  # tests/apps: real servers, event loops and browsers under tcpcrypt-run
  nginx redis-server redis-tools wrk openssh-server openssh-client
  firefox-esr chromium python3-pil imagemagick strace
  # tests/apps/test_parity_python.sh: CPython's own test suite
  python3.11 libpython3.11-testsuite
  # make bench: TLS 1.3 baselines (stunnel, openssl s_server/s_client/s_time)
  stunnel4 openssl
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qE 'install ok (installed|triggers-pending)' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
