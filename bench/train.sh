# The general training of the profile-guided builds (sourced, not run): bench/pgo_build.sh
# runs it through a binary instrumented by LLVM, bench/bolt_build.sh through one instrumented
# by BOLT. `train BIN` runs general traffic through a configuration of its own, not any
# benchmark's: HTTP/1 and HTTP/2, cleartext and TLS, ACL routing, header rules, a Lua action,
# round robin and access logs, at nbthread 1 and 2; then `check` on every configuration of
# testdata/ and the shared corpus. What it does not run (QUIC, peers, caches...) is laid out as
# cold. Each proxy ends with SIGTERM and a clean exit, which is when both kinds of
# instrumentation write their counts.
# The caller may define `train_check_batch`, called after every 100 `check` runs (BOLT's
# per-process profiles are merged there, so that 1,500 of them do not pile up on disk).
# Optional: ORIGIN_PORT / PROXY_PORT (default 18630 / 18631) and TLS_PORT (18632); TRAIN_SECS
# (default 5) per client run.
# `llvm_tool TOOL PACKAGE`: the path of LLVM's TOOL of rustc's own LLVM major version
# (`llvm-profdata-22`, `llvm-bolt-22`), its Debian PACKAGE (`llvm`, `bolt`, suffixed with the
# major) installed when missing: profiles are read only by the LLVM that wrote their format.
llvm_tool() {
    local major path
    major=$(rustc -vV | awk '/^LLVM version/ { split($3, v, "."); print v[1] }')
    path=$(command -v "$1-$major" || true)
    if [ -z "$path" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2-$major" >&2
        path=$(command -v "$1-$major")
    fi
    echo "$path"
}
train() {
    local origin=${ORIGIN_PORT:-18630} proxy=${PROXY_PORT:-18631} tls=${TLS_PORT:-18632}
    local secs=${TRAIN_SECS:-5} tools="h2load:nghttp2-client openssl:openssl"
    local HAPEE=$1
    # shellcheck source=bench/http1_setup.sh
    . bench/http1_setup.sh
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$work/train.key" -out "$work/train.crt" 2>/dev/null
    cat "$work/train.crt" "$work/train.key" >"$work/train.pem"
    cat >"$work/train.lua" <<'LUA'
core.register_action("tag", { "http-req" }, function(txn)
  txn:set_var("txn.agent", txn.sf:req_hdr("user-agent"))
end)
LUA
    local threads
    for threads in 1 2; do
        train_config "$threads" >"$work/proxy.cfg"
        start_proxy hapee
        wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$proxy/" >/dev/null
        wrk -t1 -c10 -d"${secs}s" "http://127.0.0.1:$proxy/api/items?id=1" >/dev/null
        wrk -t1 -c10 -d"${secs}s" "http://127.0.0.1:$proxy/lua" >/dev/null
        wrk -t1 -c10 -d"${secs}s" "https://127.0.0.1:$tls/" >/dev/null
        h2load -c10 -m10 -D"$secs" "https://127.0.0.1:$tls/api" >/dev/null
        h2load -c10 -m10 -D"$secs" "http://127.0.0.1:$proxy/" >/dev/null || true
        kill -TERM "$proxy_pid"
        wait "$proxy_pid" || true
    done
    local n=0
    while read -r cfg; do
        (cd "$(dirname "$cfg")" && timeout 20 "$HAPEE" check --no-env -q -f "$(basename "$cfg")" \
            >/dev/null 2>&1) || true
        n=$((n + 1))
        if [ $((n % 100)) = 0 ] && declare -F train_check_batch >/dev/null; then
            train_check_batch
        fi
    done < <(find testdata ../shared/corpus -name '*.cfg' 2>/dev/null)
    if declare -F train_check_batch >/dev/null; then train_check_batch; fi
    cleanup
    trap - EXIT
}

train_config() {
    cat <<CFG
global
    nbthread $1
    lua-load $work/train.lua
defaults
    mode http
    log stdout format raw local0
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy
    bind 127.0.0.1:$tls ssl crt $work/train.pem alpn h2,http/1.1
    acl api path_beg /api
    acl scripted path_beg /lua
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request add-header X-Trained yes
    http-request lua.tag if scripted
    http-response set-header X-Served-By hapee
    use_backend api if api
    default_backend app
backend app
    balance roundrobin
    server a 127.0.0.1:$origin
    server b 127.0.0.1:$origin
backend api
    http-reuse always
    server c 127.0.0.1:$origin
CFG
}
