#!/usr/bin/env bash
# Whether two hapee-lb binaries print the same diagnostics: `check` on every .cfg under
# testdata/ and the shared corpus (or the folders given after the binaries), in the human,
# `--format json` and `--format haproxy` modes, each with and without -q; outputs and exit
# codes compared byte for byte. Usage: bench/check-same.sh OLD_BIN NEW_BIN [DIR…]
set -uo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2
shift 2
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(testdata /work/wt/shared/corpus)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 diff=0
while IFS= read -r -d '' cfg; do
    dir=$(dirname "$cfg")
    for mode in "" "--format json" "--format haproxy"; do
        for q in "" -q; do
            # Run from the file's folder: relative paths in a configuration resolve there.
            # shellcheck disable=SC2086
            (cd "$dir" && "$old" check --no-env $mode $q -f "$cfg" >"$work/a" 2>&1; echo "rc=$?" >>"$work/a")
            # shellcheck disable=SC2086
            (cd "$dir" && "$new" check --no-env $mode $q -f "$cfg" >"$work/b" 2>&1; echo "rc=$?" >>"$work/b")
            n=$((n + 1))
            if ! cmp -s "$work/a" "$work/b"; then
                diff=$((diff + 1))
                echo "DIFFERS: $cfg ($mode $q)"
                diff "$work/a" "$work/b" | head -10
            fi
        done
    done
done < <(find "${dirs[@]}" -name '*.cfg' -print0 | sort -z)
echo "$n runs, $diff differ"
[ "$diff" -eq 0 ]
