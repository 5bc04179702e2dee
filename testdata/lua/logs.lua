-- Script log messages with bytes a log line cannot carry (tests/runtime/lua_logs.rs): a line
-- end, a tab, UTF-8 and a NUL, through core.Info, txn:Info and txn:log; one logged while the
-- script loads goes to stderr only.
core.Info("msg:while loading")
core.register_action("logs", { "http-req" }, function(txn)
  core.Info("msg:core ends with a line end\n")
  txn:Info("msg:txn tab\there, caf\u{e9}")
  txn:log(core.warning, "msg:log cut\0here")
  core.log(core.info, "msg:" .. string.rep("x", 2000))
end)
