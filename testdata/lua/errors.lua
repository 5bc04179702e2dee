-- hapee's own test script: one failing call per action, so that one request through
-- `http-request lua.<name>` rules (one per action below, in this order) logs every message
-- next to Debian's haproxy's. A failed action is logged and the next rule runs.
local cases = {
  { "info_no_argument", function(txn) core.Info() end },
  { "info_two_arguments", function(txn) core.Info("a", "b") end },
  { "log_one_argument", function(txn) core.log(core.info) end },
  { "log_bad_level", function(txn) core.log(99, "x") end },
  { "txn_info_no_argument", function(txn) txn:Info() end },
  { "txn_log_bad_level", function(txn) txn:log(99, "x") end },
  { "set_var_one_argument", function(txn) txn:set_var("txn.x") end },
  { "get_var_no_argument", function(txn) txn:get_var() end },
  { "unset_var_two_arguments", function(txn) txn:unset_var("txn.x", 1) end },
  { "map_new_at_runtime", function(txn) Map.new("/nonexistent.map", Map._str) end },
  { "concat_add_table", function(txn) local c = core.concat(); c:add({}) end },
  { "concat_add_nothing", function(txn) local c = core.concat(); c:add() end },
  { "msleep_string", function(txn) core.msleep("abc") end },
  { "sleep_no_argument", function(txn) core.sleep() end },
  { "error_string", function(txn) error("plain") end },
  { "error_level_0", function(txn) error("no position", 0) end },
  { "error_table", function(txn) error({}) end },
  { "index_nil", function(txn) local t = nil; return t.x end },
  { "call_nil", function(txn) undefined_function() end },
  { "arithmetic", function(txn) return {} + 1 end },
  { "req_set_header_one_argument", function(txn) txn.http:req_set_header("x") end },
  { "req_del_header_no_argument", function(txn) txn.http:req_del_header() end },
  { "req_set_path_no_argument", function(txn) txn.http:req_set_path() end },
  { "no_such_fetch", function(txn) txn.f:no_such_fetch() end },
  { "set_map_unknown_file", function(txn) core.set_map("/nonexistent.map", "k", "v") end },
  { "add_acl_one_argument", function(txn) core.add_acl("/nonexistent.acl") end },
  { "tokenize_no_argument", function(txn) core.tokenize() end },
  { "set_loglevel_bad_level", function(txn) txn:set_loglevel(99) end },
  { "connect_no_argument", function(txn) core.tcp():connect() end },
  { "string_rep_no_argument", function(txn) string.rep() end },
  { "info_nil", function(txn) core.Info(nil) end },
  { "log_nil_message", function(txn) core.log(core.info, nil) end },
  { "msleep_nil", function(txn) core.msleep(nil) end },
  { "get_var_nil", function(txn) txn:get_var(nil) end },
  { "set_loglevel_nil", function(txn) txn:set_loglevel(nil) end },
  { "req_set_path_nil", function(txn) txn.http:req_set_path(nil) end },
  { "req_set_header_nil_value", function(txn) txn.http:req_set_header("x", nil) end },
  { "concat_add_nil", function(txn) local c = core.concat(); c:add(nil) end },
  { "tokenize_nil", function(txn) core.tokenize(nil, ",") end },
  { "add_acl_nil_key", function(txn) core.add_acl("/nonexistent.acl", nil) end },
  { "nested", function(txn)
      local function inner() core.Warning() end
      inner()
    end },
}
for _, case in ipairs(cases) do
  core.register_action(case[1], { "http-req" }, case[2])
end
core.register_service("answer", "http", function(applet)
  applet:set_status(200)
  applet:add_header("content-length", "3")
  applet:start_response()
  applet:send("ok\n")
end)
