-- hapee's own test script: one function of each kind HAProxy's Lua API registers.

-- The words after the file name on the `lua-load` line (HAProxy 2.7).
local args = table.pack(...)
local greeting = args[1] or "none"

core.register_action("tag", { "http-req" }, function(txn, suffix)
  local h = txn.http:req_get_headers()
  local who = h["x-who"] and h["x-who"][0] or "nobody"
  txn:set_var("txn.who", who .. suffix)
  txn.http:req_set_header("x-tagged", "yes")
end, 1)

core.register_action("nap", { "http-req" }, function(txn)
  core.msleep(tonumber(txn.sf:req_hdr("x-nap")) or 0)
end)

core.register_action("boom", { "http-req" }, function(txn)
  local t = nil
  return t.x
end)

core.register_action("spin", { "http-req" }, function(txn)
  while true do end
end)

core.register_action("hog", { "http-req" }, function(txn)
  local t = {}
  for i = 1, 100000000 do t[i] = string.rep("x", 64) .. i end
end)

core.register_action("stop", { "http-req" }, function(txn)
  local reply = txn:reply()
  reply:set_status(403, "Go Away")
  reply:add_header("x-why", "lua")
  reply:set_body("stopped by lua\n")
  txn:done(reply)
end)

core.register_action("stamp", { "http-res" }, function(txn)
  txn.http:res_set_header("x-stamp", txn:get_var("txn.who") or "none")
end)

core.register_fetches("twice", function(txn, s) return s .. s end)
core.register_converters("rev", function(s) return string.reverse(s) end)

local count = 0
core.register_service("hello", "http", function(applet)
  count = count + 1
  local tagged = applet.headers["x-tagged"]
  local body = string.format("greeting=%s nargs=%d who=%s tagged=%s path=%s count=%d\n",
    greeting, args.n, applet:get_var("txn.who") or "-", tagged and tagged[0] or "-",
    applet.path, count)
  applet:set_status(200)
  applet:add_header("content-type", "text/plain")
  applet:add_header("content-length", string.len(body))
  applet:start_response()
  applet:send(body)
end)

core.register_service("echo", "http", function(applet)
  local body = applet:receive()
  local reply = applet.method .. " " .. body
  applet:set_status(200)
  applet:add_header("content-length", string.len(reply))
  applet:start_response()
  applet:send(reply)
end)

core.register_task(function()
  core.Info("task started in state " .. core.thread)
end)

core.register_service("shout", "tcp", function(applet)
  local line = applet:getline()
  applet:send(string.upper(line))
end)
