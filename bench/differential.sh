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

if ! unshare -n -p -f -m true 2>/dev/null; then
    echo "differential: cannot create namespaces here (unshare -n -p -f -m); run as root" >&2
    exit 2
fi

# probe_one CFG ARGS: serves CFG under each engine, records in $out_dir/<name>/<engine>/.
probe_one() {
    local cfg=$1 args=$2 name engine dir file extra=() cmd
    name=$(echo "$cfg" | tr '/' '_')
    case $args in *-dr*) extra+=(-dr) ;; esac
    for engine in haproxy hapee; do
        dir=$out_dir/$name/$engine
        mkdir -p "$dir/run"
        cp "testdata/public-corpus/$cfg" "$dir/run/"
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
awk -F'\t' 'NR > 1 && $6 == "0" { print $1 "\t" $5 }' testdata/public-corpus/index.tsv | grep -E -- "$filter" |
    OUT_DIR=$out_dir NO_BUILD=1 xargs -r -d '\n' -n1 -P "${JOBS:-4}" bash "$0" --one 2>&1 | tail -1

python3 bench/differential_compare.py "$out_dir" | tee "$out_dir/table.txt"
