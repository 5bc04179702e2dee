# Shared by bench/lua.sh, bench/lua_cpu.sh and bench/lua_callgrind.sh (sourced after
# bench/http1_setup.sh): the script and the configurations, $work/action.cfg, $work/service.cfg
# and $work/plain.cfg (the same script loaded, no rule calling it: the request path the action
# adds to).
cat >"$work/bench.lua" <<'LUA'
core.register_action("tag", { "http-req" }, function(txn)
  txn:set_var("txn.agent", txn.sf:req_hdr("user-agent"))
end)
core.register_service("hello", "http", function(applet)
  local body = "hello from lua\n"
  applet:set_status(200)
  applet:add_header("content-length", string.len(body))
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(body)
end)
LUA

lua_config() {
    local rules=$1
    cat <<CFG
global
    nbthread 1
    lua-load $work/bench.lua
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy
$rules
    default_backend be
backend be
    server s1 127.0.0.1:$origin
CFG
}

wait_port $origin
lua_config "    http-request lua.tag" >"$work/action.cfg"
lua_config "    http-request use-service lua.hello" >"$work/service.cfg"
lua_config "" >"$work/plain.cfg"
