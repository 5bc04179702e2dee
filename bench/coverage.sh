#!/usr/bin/env bash
# Runtime coverage: of the corpus configurations HAProxy 2.7 accepts, the share that
# `hapee-lb run` starts, and the keywords that block the others, ranked (a Markdown table).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -q -p hapee-lb --bin hapee-lb valid_corpus_configurations_start -- --nocapture 2>&1 |
    sed -n '/^coverage:/,/^$/p' | grep -E '^(coverage:|\|)'
