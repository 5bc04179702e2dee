#!/usr/bin/env bash
# The kernel's cost of one small response write by call shape (two-part writev, one-part
# writev, send) on loopback TCP: see bench/send_shape.c. Usage: bench/send_shape.sh [writes, default 100000]
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/send_shape" send_shape.c
"$work/send_shape" "${1:-100000}"
