#!/usr/bin/env bash
# Start coverage on configurations nobody wrote for hapee: each public configuration HAProxy 2.7
# accepts (testdata/public-corpus, `haproxy27_exit` 0) is started with `hapee-lb run` and with
# HAProxy itself, each in a sandbox of its own (bench/sandbox-start.sh: new network and pid
# namespaces, the addresses it binds on loopback), so ports 80/443 and any address bind and
# nothing collides. The configuration is copied alone into an empty folder and started from
# there, as its verdict was made. `hapee-lb check` runs too: a configuration `run` refuses while
# `check` reports no error breaks "one source of truth" (every refusal of `run` is an error of
# `check`, with its place).
#
#   bash bench/coverage-public.sh [SECONDS] [public|regtests]
#
# ONLY=<regex> keeps the configurations whose file name matches (a batch just added);
# HAPEE=<binary> starts that build of hapee-lb instead of building target/debug/hapee-lb.
#
# Needs root (network namespaces). HAProxy 2.7.0 built from its tag at
# /tmp/haproxy-2.7.0/haproxy is the reference ($HAPROXY), Debian's /usr/sbin/haproxy (2.6) else.
# The table goes to $OUT_DIR/table.tsv (default /tmp/hapee-coverage-public); a summary is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
wait_s=${1:-3}
corpus_kind=${2:-public}
out_dir=${OUT_DIR:-/tmp/hapee-coverage-public}
haproxy=${HAPROXY:-/tmp/haproxy-2.7.0/haproxy}
[ -x "$haproxy" ] || haproxy=/usr/sbin/haproxy
export CARGO_INCREMENTAL=0
if [ -n "${HAPEE:-}" ]; then
    hapee=$(realpath "$HAPEE")
else
    nice -n 10 cargo build -q -p hapee-lb 2>/dev/null
    hapee=$PWD/target/debug/hapee-lb
fi
sandbox=$PWD/bench/sandbox-start.sh

if ! unshare -n -p -f true 2>/dev/null; then
    echo "coverage-public: cannot create network namespaces here (unshare -n -p -f); run as root" >&2
    exit 2
fi

# The first line that says why an engine stopped.
first_error() {
    grep -m1 -E 'ALERT|error|Error|cannot|refus|not implement|failed' "$1" | sed -E 's/\(([0-9]+)\)/(PID)/; s/\t/ /g' | cut -c1-240
}

rows() {
    case $corpus_kind in
    public) awk -F'\t' 'NR > 1 && $6 == "0" { print $1 "\t" $5 }' testdata/public-corpus/index.tsv ;;
    regtests) awk -F'\t' 'NR > 1 && $7 == "0" { print $1 "\t" $5 }' ../shared/corpus/regtests-2.7/index.tsv ;;
    *) echo "unknown corpus '$corpus_kind' (public or regtests)" >&2; exit 2 ;;
    esac
}

# start ENGINE FILE DIR: starts FILE (in the current folder) with ENGINE in a sandbox; sets
# `verdict` and `error` (the first error line when it failed), the output in DIR/output.
start() {
    local engine=$1 file=$2 dir=$3 cmd
    mkdir -p "$dir"
    if [ "$engine" = haproxy ]; then
        cmd=("$haproxy" -db "${extra[@]}" -f "$file")
    else
        cmd=("$hapee" run "${extra[@]}" -f "$file")
    fi
    verdict=$(unshare -n -p -f bash "$sandbox" "$wait_s" "$file" "$dir/output" "${cmd[@]}")
    error=
    if [ "${verdict%% *}" = failed ]; then error=$(first_error "$dir/output"); fi
}

# A copy whose global `maxconn` asks for no more open files than this machine grants: 2000
# connections, no `ulimit-n`.
fit_open_files() {
    awk '/^[^[:space:]#]/ { global = ($1 == "global") }
        global && $1 == "ulimit-n" { next }
        global && $1 == "maxconn" { sub(/maxconn[[:space:]]+[0-9]+/, "maxconn 2000") }
        { print }' "$1"
}

rm -rf "$out_dir" && mkdir -p "$out_dir"
table=$out_dir/table.tsv
printf 'file\targs\thaproxy\thapee\tcheck_exit\thaproxy_error\thapee_error\thaproxy_fit\thapee_fit\n' >"$table"
mkdir -p /tmp/hapee-corpus-tmp
while IFS=$'\t' read -r cfg args; do
    name=$(echo "$cfg" | tr '/' '_')
    # -dr (unresolvable servers only disabled) is the one extra argument the public verdicts use;
    # the reg-tests' `-L name` names the local peer.
    extra=()
    case $args in *-dr*) extra+=(-dr) ;; esac
    case $args in *'-L '*) extra+=(-L "$(echo "$args" | grep -oE -- '-L [A-Za-z0-9_]+' | cut -d' ' -f2)") ;; esac
    if [ "$corpus_kind" = public ]; then
        run_dir=$out_dir/run/$name
        mkdir -p "$run_dir"
        cp "testdata/public-corpus/$cfg" "$run_dir/"
    else
        run_dir=../shared/corpus/regtests-2.7/$(dirname "$cfg")
        grep -o '/tmp/hapee-corpus-tmp/[^ "]*' "../shared/corpus/regtests-2.7/$cfg" | xargs -r -n1 dirname | sort -u | xargs -r mkdir -p
    fi
    file=$(basename "$cfg")
    pushd "$run_dir" >/dev/null
    start haproxy "$file" "$out_dir/haproxy/$name"
    verdict_haproxy=$verdict error_haproxy=$error
    start hapee "$file" "$out_dir/hapee/$name"
    verdict_hapee=$verdict error_hapee=$error
    "$hapee" check -q "${extra[@]}" -f "$file" >/dev/null 2>&1
    check_exit=$?
    fit_haproxy= fit_hapee=
    # This machine's open-file limit (not the configuration) stopped HAProxy: try both again
    # with a maxconn it grants.
    if [[ $error_haproxy == *"FD limit"* ]]; then
        fit=$out_dir/fit/$name
        mkdir -p "$fit"
        fit_open_files "$file" >"$fit/$file"
        cd "$fit"
        start haproxy "$file" "$fit/haproxy"
        fit_haproxy="$verdict $error"
        start hapee "$file" "$fit/hapee"
        fit_hapee="$verdict $error"
    fi
    popd >/dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$args" "$verdict_haproxy" "$verdict_hapee" \
        "$check_exit" "$error_haproxy" "$error_hapee" "$fit_haproxy" "$fit_hapee" >>"$table"
done < <(rows | awk -F'\t' -v only="${ONLY:-}" 'only == "" || $1 ~ only')

# Both failing because a file the configuration names is absent (certificates, maps, Lua,
# error pages, chroot or socket folders) is the copy's fault, not the engine's.
missing_file='[Nn]o such file|[Cc]annot (open|find|stat|chroot|create)|[Uu]nable to (load|open|stat)|[Cc]ould not open|does not exist|[Ff]ailed to (open|load)|chroot'
awk -F'\t' -v missing="$missing_file" '
    NR == 1 { next }
    { total++ ; hp = ($3 ~ /^started/); hl = ($4 ~ /^started/) }
    !hl && $5 == 0 { unchecked++; printf "ONE SOURCE OF TRUTH: run refuses, check passes: %s\n    hapee: %s\n", $1, $7 }
    hp && hl { both++; next }
    !hp && !hl && ($6 ~ /FD limit/) {
        fd++; fhp = ($8 ~ /^started/); fhl = ($9 ~ /^started/); fd_both += fhp && fhl
        printf "both fail (this machine'"'"'s open-file limit): %s\n    haproxy: %s\n    hapee:   %s\n    with maxconn 2000: haproxy %s, hapee %s\n", $1, $6, $7, $8, $9
        if (fhp != fhl) fd_diff++
        next
    }
    !hp && !hl && ($6 ~ missing) { files++; printf "both fail (files): %s\n    haproxy: %s\n    hapee:   %s\n", $1, $6, $7; next }
    !hp && !hl { bothother++; printf "both fail: %s\n    haproxy: %s\n    hapee:   %s\n", $1, $6, $7; next }
    hp && !hl { only_haproxy++; printf "DIFF haproxy starts, hapee not (check exit %s): %s\n    hapee: %s\n", $5, $1, $7; if ($5 == 0) silent++; next }
    { only_hapee++; printf "DIFF hapee starts, haproxy not: %s\n    haproxy: %s\n", $1, $6 }
    END {
        printf "\n%d configurations (%s), haproxy: %s\n", total, "'"$corpus_kind"'", "'"$("$haproxy" -v | head -1 | cut -d" " -f3)"'"
        printf "both start:                      %d\n", both
        printf "both fail, missing files:        %d\n", files
        printf "both fail, open-file limit:      %d (with maxconn 2000: both start %d, differ %d)\n", fd, fd_both, fd_diff
        printf "both fail, other reasons:        %d\n", bothother
        printf "haproxy starts, hapee does not:  %d (check said nothing: %d)\n", only_haproxy, silent
        printf "hapee starts, haproxy does not:  %d\n", only_hapee
        printf "run refuses while check passes:  %d\n", unchecked
    }' "$table"
echo "table: $table"
