-- Channel functions that wait for the client's bytes in `tcp-request content` actions, and
-- AppletTCP reads at the end of the client's data. Each action leaves a report in
-- `txn.report`; the `report` TCP service sends it back to the client.

local function show(v)
  if v == nil then
    return "nil"
  end
  local escaped = v:gsub("\n", "\\n")
  return "[" .. escaped .. "]"
end

core.register_action("getline", { "tcp-req" }, function(txn)
  local first = txn.req:getline()
  local second = txn.req:getline()
  txn:set_var("txn.report", "getline " .. show(first) .. " " .. show(second)
    .. " may_recv=" .. tostring(txn.req:may_recv()))
end)

core.register_action("data", { "tcp-req" }, function(txn, n)
  local d = txn.req:data(0, tonumber(n))
  local tail = txn.req:data(-2)
  txn:set_var("txn.report", "data " .. show(d) .. " tail=" .. show(tail)
    .. " input=" .. txn.req:input())
end, 1)

core.register_action("line", { "tcp-req" }, function(txn)
  local l = txn.req:line(0, 64)
  local whole = txn.req:line()
  txn:set_var("txn.report", "line " .. show(l) .. " " .. show(whole)
    .. " input=" .. txn.req:input())
end)

core.register_action("get", { "tcp-req" }, function(txn)
  local g = txn.req:get()
  local again = txn.req:get()
  txn:set_var("txn.report", "get " .. show(g) .. " " .. show(again)
    .. " may_recv=" .. tostring(txn.req:may_recv()))
end)

core.register_action("bad_offset", { "tcp-req" }, function(txn)
  local ok, err = pcall(function() return txn.req:data(100) end)
  local ok2, err2 = pcall(function() return txn.req:data(0, -5) end)
  -- Only the message: hapee's errors caught by pcall also carry a traceback.
  local function msg(e)
    return tostring(e):match("%a+ out of range%.")
  end
  txn:set_var("txn.report", "errors " .. tostring(ok) .. " " .. msg(err)
    .. " " .. tostring(ok2) .. " " .. msg(err2))
end)

core.register_service("report", "tcp", function(applet)
  applet:send((applet:get_var("txn.report") or "none") .. "\n")
end)

core.register_service("lines", "tcp", function(applet)
  local out = {}
  for _ = 1, 3 do
    out[#out + 1] = show(applet:getline())
  end
  out[#out + 1] = show(applet:receive())
  out[#out + 1] = show(applet:receive(4))
  applet:send("lines " .. table.concat(out, " ") .. "\n")
end)
