-- What an action returns (tests/runtime/lua_act.rs): HAProxy's `act` codes end the rules as
-- `allow`, `deny` or an internal error would, or let the next rule run.
local codes = { "CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID" }

core.register_action("verdict", { "http-req", "http-res", "tcp-req" }, function(txn, code)
  return act[code]
end, 1)

core.register_service("codes", "http", function(applet)
  local parts = {}
  for _, name in ipairs(codes) do parts[#parts + 1] = name .. "=" .. tostring(act[name]) end
  parts[#parts + 1] = type(act.wake_time)
  local body = table.concat(parts, " ")
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)

-- Runs again until its `n`th run, each time `ms` later (no wake time when `ms` is 0): the
-- runs are counted in a transaction variable, which outlives each run.
core.register_action("later", { "http-req", "http-res", "tcp-req" }, function(txn, n, ms)
  local runs = (txn:get_var("txn.runs") or 0) + 1
  txn:set_var("txn.runs", runs)
  if runs < tonumber(n) then
    if tonumber(ms) > 0 then act.wake_time(tonumber(ms)) end
    return act.YIELD
  end
  return act.CONTINUE
end, 2)
