#!/usr/bin/env bash
# Builds the parity scripts' reference binary: HAProxy 2.7.0 from its release tag, with the
# features the corpora's verdicts were taken with (OpenSSL, Lua 5.4, PCRE2 with JIT, the
# Prometheus exporter, zlib), at /tmp/haproxy-2.7.0/haproxy (what coverage-public.sh,
# differential.sh and warnings-parity.sh read by default).
#
#   bash bench/haproxy-2.7.0.sh [SOURCE]
#
# SOURCE is a git repository of HAProxy holding the tag v2.7.0 (default: a clone of
# https://github.com/haproxy/haproxy.git made into /tmp/haproxy-src). Needs Debian's
# libssl-dev, liblua5.4-dev, libpcre2-dev and zlib1g-dev (installed when missing and root).
# About 4 minutes on two cores.
set -euo pipefail
dest=/tmp/haproxy-2.7.0
src=${1:-}
if [ -z "$src" ]; then
    src=/tmp/haproxy-src
    [ -d "$src" ] || git clone --bare --filter=blob:none https://github.com/haproxy/haproxy.git "$src"
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for p in libssl-dev liblua5.4-dev libpcre2-dev zlib1g-dev; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
rm -rf "$dest"
mkdir -p "$dest"
git -C "$src" archive v2.7.0 | tar -x -C "$dest"
make -C "$dest" -j"$(nproc)" TARGET=linux-glibc USE_OPENSSL=1 USE_LUA=1 \
    LUA_INC=/usr/include/lua5.4 LUA_LIB_NAME=lua5.4 USE_PCRE2=1 USE_PCRE2_JIT=1 \
    USE_PROMEX=1 USE_ZLIB=1 >/dev/null
"$dest/haproxy" -v | head -1
