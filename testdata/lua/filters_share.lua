-- Script filters and Lua code that hold the one stream together
-- (tools/lb/tests/runtime/lua_filter_share.rs): "count" notes how many bytes of each side it
-- let through in variables, as filters_run.lua's "tcp" does without changing them; "wait", a
-- tcp-response action, sleeps on the server's first bytes and then notes what the filter had
-- counted of the client's by then; "echo", a TCP service, reads a line and answers what the
-- filter had counted of it.

local Count = {}
Count.id = "count"
Count.__index = Count

function Count:new()
  return setmetatable({ bytes = { req = 0, res = 0 } }, Count)
end

function Count:start_analyze(txn, chn)
  filter.register_data_filter(self, chn)
end

function Count:tcp_payload(txn, chn)
  local side = chn:is_resp() and "res" or "req"
  self.bytes[side] = self.bytes[side] + chn:input()
  txn:set_var("txn.count_" .. side, self.bytes[side])
end

core.register_filter("count", Count, function(class) return class end)

core.register_action("wait", { "tcp-res" }, function(txn)
  core.msleep(800)
  txn:set_var("txn.during", txn:get_var("txn.count_req") or "none")
end)

core.register_service("echo", "tcp", function(applet)
  local line = applet:getline()
  applet:send("[" .. tostring(applet:get_var("txn.count_req")) .. " " .. #line .. "]\n")
end)
