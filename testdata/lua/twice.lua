-- Names registered twice (tests/runtime/lua_registration.rs): HAProxy warns at start and keeps
-- the later function; an action named again for another phase is no repeat.
local function first() return "first" end
local function second() return "second" end
core.register_action("act", { "http-req" }, function(txn) txn:set_var("txn.act", "first") end)
core.register_action("act", { "http-res" }, function(txn) end)
core.register_action("act", { "http-req" }, function(txn) txn:set_var("txn.act", "second") end)
core.register_fetches("fetch", first)
core.register_fetches("fetch", second)
core.register_converters("conv", first)
core.register_converters("conv", second)
core.register_service("svc", "http", function(applet) end)
core.register_service("svc", "http", function(applet)
  applet:set_status(200)
  applet:add_header("content-length", "6")
  applet:start_response()
  applet:send("second")
end)
core.register_cli({ "say", "which" }, "say which", function(applet) applet:send("first\n") end)
core.register_cli({ "say", "which" }, "say which", function(applet) applet:send("second\n") end)
