#!/usr/bin/env bash
# Whether two hapee-lb binaries print the same diagnostics: `check` on every .cfg under
# testdata/ and the shared corpus (or the folders given after the binaries), in the human,
# `--format json` and `--format haproxy` modes, each with and without -q; outputs and exit
# codes compared byte for byte, once the process ids and the binary's own path that
# `--format haproxy` prints are masked. Usage: bench/check-same.sh OLD_BIN NEW_BIN [DIR…]
set -uo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1") new=$(realpath "$2")
shift 2
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(testdata /work/wt/shared/corpus)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 diff=0
# The lines that name the run, not the configuration: HAProxy's "(pid)" and the executable.
mask() { sed -e 's/^\(\[[A-Z]*\] *\)([0-9]*)/\1(PID)/' -e "s#$1#BIN#g" "$2"; }
while IFS= read -r -d '' cfg; do
    cfg=$(realpath "$cfg")
    dir=$(dirname "$cfg")
    for mode in "" "--format json" "--format haproxy"; do
        for q in "" -q; do
            # Run from the file's folder: relative paths in a configuration resolve there.
            # shellcheck disable=SC2086
            (cd "$dir" && "$old" check --no-env $mode $q -f "$cfg" >"$work/a" 2>&1; echo "rc=$?" >>"$work/a")
            # shellcheck disable=SC2086
            (cd "$dir" && "$new" check --no-env $mode $q -f "$cfg" >"$work/b" 2>&1; echo "rc=$?" >>"$work/b")
            n=$((n + 1))
            mask "$old" "$work/a" >"$work/a.m"
            mask "$new" "$work/b" >"$work/b.m"
            if ! cmp -s "$work/a.m" "$work/b.m"; then
                diff=$((diff + 1))
                echo "DIFFERS: $cfg ($mode $q)"
                diff "$work/a.m" "$work/b.m" | head -10
            fi
        done
    done
done < <(find "${dirs[@]}" -name '*.cfg' -print0 | sort -z)
echo "$n runs, $diff differ"
[ "$diff" -eq 0 ]
