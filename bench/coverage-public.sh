#!/usr/bin/env bash
# Start coverage on configurations nobody wrote for hapee: each public configuration HAProxy 2.7
# accepts (testdata/public-corpus, `haproxy27_exit` 0) is started with `hapee-lb run` and with
# HAProxy itself, each in a sandbox of its own: new network and pid namespaces (`unshare -n -p -f`),
# loopback up and every IPv4 address a `bind` or `peer` line names added to it, so ports 80/443
# and any address bind there and nothing collides. The configuration is copied alone into an
# empty folder and started from there, as its verdict was made. An engine counts as started once
# it listens and is still running a second later, or if it is still running after SECONDS; otherwise the first error line is kept.
# `hapee-lb check` runs too: a configuration `run` refuses while `check` reports no error is a
# break of "one source of truth" (every refusal of `run` is a U001 of `check`).
#
#   bash bench/coverage-public.sh [SECONDS] [public|regtests]
#
# Needs root (or a user namespace that may create network namespaces). HAProxy 2.7.0 built from
# its tag at /tmp/haproxy-2.7.0/haproxy is the reference; Debian's /usr/sbin/haproxy (2.6) else.
# The table goes to $OUT (default /tmp/hapee-coverage-public/table.tsv); a summary is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
wait_s=${1:-3}
corpus_kind=${2:-public}
out_dir=${OUT_DIR:-/tmp/hapee-coverage-public}
haproxy=${HAPROXY:-/tmp/haproxy-2.7.0/haproxy}
[ -x "$haproxy" ] || haproxy=/usr/sbin/haproxy
export CARGO_INCREMENTAL=0
nice -n 10 cargo build -q -p hapee-lb 2>/dev/null
hapee=$PWD/target/debug/hapee-lb

if ! unshare -n -p -f true 2>/dev/null; then
    echo "coverage-public: cannot create network namespaces here (unshare -n -p -f); run as root" >&2
    exit 2
fi

# One engine in one sandbox: prints "started listening", "started running" or
# "failed <exit>\t<first error line>". Runs inside `unshare -n -p -f` as its pid 1, so
# whatever the engine leaves behind dies with it.
sandbox_script='
    set -u
    wait_s=$1 addrs=$2 out=$3; shift 3
    ip link set lo up
    for a in $addrs; do ip addr add "$a/32" dev lo 2>/dev/null; done
    "$@" >"$out" 2>&1 </dev/null &
    pid=$!
    deadline=$((SECONDS + wait_s))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 $pid 2>/dev/null; then
            wait $pid; rc=$?
            printf "failed %s\n" "$rc"; exit 0
        fi
        # Listening is not serving yet: the root and the user change after the binds.
        if [ -n "$(ss -Hltnux 2>/dev/null | head -1)" ]; then
            sleep 1
            if kill -0 $pid 2>/dev/null; then printf "started listening\n"; kill -KILL $pid; exit 0; fi
            wait $pid; printf "failed %s\n" "$?"; exit 0
        fi
        sleep 0.1
    done
    if kill -0 $pid 2>/dev/null; then printf "started running\n"; kill -KILL $pid; exit 0; fi
    wait $pid; printf "failed %s\n" "$?"
'

# The first line that says why an engine stopped.
first_error() {
    grep -m1 -E 'ALERT|error|Error|cannot|refus|not implement|failed' "$1" | sed -E 's/\(([0-9]+)\)/(PID)/; s/\t/ /g' | cut -c1-240
}

# IPv4 addresses the listeners and peers name, other than the wildcard and loopback ones.
local_addrs() {
    grep -E '^[[:space:]]*(bind|peer|server)[[:space:]]' "$1" |
        grep -oE '(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}' | grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' |
        grep -vE '^(0\.0\.0\.0|127\.)' | sort -u | tr '\n' ' '
}

rows() {
    case $corpus_kind in
    public) awk -F'\t' 'NR > 1 && $6 == "0" { print $1 "\t" $5 }' testdata/public-corpus/index.tsv ;;
    regtests) awk -F'\t' 'NR > 1 && $7 == "0" { print $1 "\t" $5 }' ../shared/corpus/regtests-2.7/index.tsv ;;
    *) echo "unknown corpus '$corpus_kind' (public or regtests)" >&2; exit 2 ;;
    esac
}

rm -rf "$out_dir" && mkdir -p "$out_dir"
table=$out_dir/table.tsv
printf 'file\targs\thaproxy\thapee\tcheck_exit\thaproxy_error\thapee_error\n' >"$table"
mkdir -p /tmp/hapee-corpus-tmp
while IFS=$'\t' read -r cfg args; do
    name=$(echo "$cfg" | tr '/' '_')
    # -dr (unresolvable servers only disabled) is the one extra argument the public verdicts use;
    # the reg-tests' `-L name` names the local peer.
    extra=()
    case $args in *-dr*) extra+=(-dr) ;; esac
    case $args in *'-L '*) extra+=(-L "$(echo "$args" | grep -oE -- '-L [A-Za-z0-9_]+' | cut -d' ' -f2)") ;; esac
    for engine in haproxy hapee; do
        dir=$out_dir/$engine/$name
        mkdir -p "$dir"
        if [ "$corpus_kind" = public ]; then
            cp "testdata/public-corpus/$cfg" "$dir/"
            src=$dir/$cfg run_dir=$dir
        else
            src=../shared/corpus/regtests-2.7/$cfg run_dir=$(dirname "$src")
            grep -o '/tmp/hapee-corpus-tmp/[^ "]*' "$src" | xargs -r -n1 dirname | sort -u | xargs -r mkdir -p
        fi
        if [ $engine = haproxy ]; then
            cmd=("$haproxy" -db "${extra[@]}" -f "$(basename "$src")")
        else
            cmd=("$hapee" run "${extra[@]}" -f "$(basename "$src")")
        fi
        verdict=$(cd "$run_dir" && unshare -n -p -f bash -c "$sandbox_script" sandbox "$wait_s" \
            "$(local_addrs "$src")" "$dir/output" "${cmd[@]}")
        printf -v "verdict_$engine" '%s' "$verdict"
        if [ "${verdict%% *}" = failed ]; then
            printf -v "error_$engine" '%s' "$(first_error "$dir/output")"
        else
            printf -v "error_$engine" ''
        fi
    done
    (cd "$run_dir" && "$hapee" check -q "${extra[@]}" -f "$(basename "$src")" >/dev/null 2>&1)
    check_exit=$?
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$args" "$verdict_haproxy" "$verdict_hapee" \
        "$check_exit" "$error_haproxy" "$error_hapee" >>"$table"
done < <(rows)

# Both failing because a file the configuration names is absent (certificates, maps, Lua,
# error pages, chroot or socket folders) is the copy's fault, not the engine's.
missing_file='[Nn]o such file|[Cc]annot (open|find|stat|chroot|create)|[Uu]nable to (load|open|stat)|[Cc]ould not open|does not exist|[Ff]ailed to (open|load)|chroot'
awk -F'\t' -v missing="$missing_file" '
    NR == 1 { next }
    { total++ ; hp = ($3 ~ /^started/); hl = ($4 ~ /^started/) }
    hp && hl { both++; next }
    !hp && !hl && ($6 ~ missing) { files++; printf "both fail (files): %s\n    haproxy: %s\n    hapee:   %s\n", $1, $6, $7; next }
    !hp && !hl { bothother++; printf "both fail: %s\n    haproxy: %s\n    hapee:   %s\n", $1, $6, $7; next }
    hp && !hl { only_haproxy++; printf "DIFF haproxy starts, hapee not (check exit %s): %s\n    hapee: %s\n", $5, $1, $7; if ($5 == 0) silent++; next }
    { only_hapee++; printf "DIFF hapee starts, haproxy not: %s\n    haproxy: %s\n", $1, $6 }
    END {
        printf "\n%d configurations (%s), haproxy: %s\n", total, "'"$corpus_kind"'", "'"$("$haproxy" -v | head -1 | cut -d" " -f3)"'"
        printf "both start:                      %d\n", both
        printf "both fail, missing files:        %d\n", files
        printf "both fail, other reasons:        %d\n", bothother
        printf "haproxy starts, hapee does not:  %d (check said nothing: %d)\n", only_haproxy, silent
        printf "hapee starts, haproxy does not:  %d\n", only_hapee
    }' "$table"
echo "table: $table"
