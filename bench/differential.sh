#!/usr/bin/env bash
# Differential traffic check on configurations nobody wrote for hapee: each public
# configuration HAProxy 2.7 accepts (testdata/public-corpus, `haproxy27_exit` 0) is served by
# HAProxy and by `hapee-lb run`, each in a sandbox of its own (new network, pid and mount
# namespaces; bench/differential_probe.py), with a test origin answering on every server
# address. Each TCP `bind` gets the same requests (GET /, a query, a POST with a body, HTTP/1.0
# with and without keep-alive, a bad header name, pipelined pairs and triples, HEAD, a chunked
# PUT, DELETE, OPTIONS *, an absolute URI, large and too large headers, Content-Length with
# chunking, a bad request line, the Host names and paths the configuration's ACLs name, and last
# those hapee answers otherwise on purpose: Expect: 100-continue, no Host, HTTP/2.5);
# bench/differential_compare.py then compares status, response headers, body, what the origin
# received and the log lines' shape, and prints a table of the kinds of difference
# (configurations whose server is the proxy itself are set apart, and so are the deliberate
# differences of docs/hostile-requests.md).
#
#   bash bench/differential.sh [FILTER]        # FILTER: a grep -E on the configuration names
#   CORPUS=regtests bash bench/differential.sh [FILTER]
#
# CORPUS=regtests takes the configurations of HAProxy 2.7.0's own reg-tests instead
# (../shared/corpus/regtests-2.7, those 2.7.0 accepts): each is served from a copy of its test
# folder (maps, certificates and scripts beside it), with the arguments the test passed (`-L`),
# VTest's syslog macros given loopback addresses the probe listens on.
#
# $JOBS configurations (default 4) are served at once.
#
# Needs root (namespaces). HAProxy 2.7.0 built from its tag at /tmp/haproxy-2.7.0/haproxy is the
# reference ($HAPROXY). Records go to $OUT_DIR (default /tmp/hapee-differential).
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-.}
out_dir=${OUT_DIR:-/tmp/hapee-differential}
haproxy=${HAPROXY:-/tmp/haproxy-2.7.0/haproxy}
export CARGO_INCREMENTAL=0
[ -n "${NO_BUILD:-}" ] || nice -n 10 cargo build -q -p hapee-lb 2>/dev/null
hapee=${HAPEE:-$PWD/target/debug/hapee-lb}
probe=$PWD/bench/differential_probe.py
if [ "${CORPUS:-public}" = regtests ]; then
    corpus_dir=$PWD/../shared/corpus/regtests-2.7
    # The folder the configurations name for their sockets: a tmpfs in each sandbox.
    mkdir -p /tmp/hapee-corpus-tmp
else
    corpus_dir=$PWD/testdata/public-corpus
fi

if ! unshare -n -p -f -m true 2>/dev/null; then
    echo "differential: cannot create namespaces here (unshare -n -p -f -m); run as root" >&2
    exit 2
fi

# probe_one CFG ARGS: serves CFG under each engine, records in $out_dir/<name>/<engine>/.
probe_one() {
    local cfg=$1 args=$2 name engine dir file extra=() cmd
    name=$(echo "$cfg" | tr '/' '_')
    case $args in *-dr*) extra+=(-dr) ;; esac
    case $args in *"-L "[A-Z]*) extra+=(-L "$(echo "$args" | sed 's/.*-L \([A-Za-z0-9]*\).*/\1/')") ;; esac
    for engine in haproxy hapee; do
        dir=$out_dir/$name/$engine
        mkdir -p "$dir/run"
        if [ "${CORPUS:-public}" = regtests ]; then
            cp -r "$corpus_dir/$(dirname "$cfg")/." "$dir/run/"
        else
            cp "$corpus_dir/$cfg" "$dir/run/"
        fi
        file=$dir/run/$(basename "$cfg")
        if [ $engine = haproxy ]; then
            cmd=("$haproxy" -db "${extra[@]}" -f "$file")
        else
            cmd=("$hapee" run "${extra[@]}" -f "$file")
        fi
        timeout 120 unshare -n -p -f -m --propagation private python3 "$probe" "$dir/probe.json" "$file" "${cmd[@]}" \
            >"$dir/probe.log" 2>&1
    done
    echo "$cfg done" >&2
}

if [ "$filter" = --one ]; then
    probe_one "$(echo "$2" | cut -f1)" "$(echo "$2" | cut -f2)"
    exit 0
fi
rm -rf "$out_dir" && mkdir -p "$out_dir"
# Each configuration has namespaces of its own: several run at once (they mostly wait).
# The column of HAProxy 2.7.0's verdict: 6 in the public corpus's index, 7 in the reg-tests'.
col=$([ "${CORPUS:-public}" = regtests ] && echo 7 || echo 6)
awk -F'\t' -v col="$col" 'NR > 1 && $col == "0" { print $1 "\t" $5 }' "$corpus_dir/index.tsv" | grep -E -- "$filter" |
    OUT_DIR=$out_dir NO_BUILD=1 CORPUS=${CORPUS:-public} xargs -r -d '\n' -n1 -P "${JOBS:-4}" bash "$0" --one 2>&1 | tail -1

python3 bench/differential_compare.py "$out_dir" | tee "$out_dir/table.txt"
