-- hapee's test script for the parts of HAProxy's Lua API that reach into the running proxy:
-- ACLs and maps, servers and proxies, Runtime API commands, the HTTP client, cosockets and
-- the request channel. Loaded with the ACL file and the map file as arguments.
local args = table.pack(...)
local acl_file, map_file = args[1], args[2]

core.register_cli({"lua", "greet"}, "lua greet <name> : says hello", function(applet, _, _, name)
  applet:send("hello " .. (name or "nobody") .. "\n")
end)

local function answer(applet, status, body)
  applet:set_status(status)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end

local handlers = {}
handlers["/acl/add"] = function(q) core.add_acl(acl_file, q) return "added" end
handlers["/acl/del"] = function(q) core.del_acl(acl_file, q) return "deleted" end
handlers["/map/set"] = function(q)
  local k, v = q:match("^([^=]*)=(.*)$")
  core.set_map(map_file, k, v)
  return "set"
end
handlers["/map/del"] = function(q) core.del_map(map_file, q) return "deleted" end

local function server() return core.backends["be"].servers["s1"] end
handlers["/srv/weight"] = function(q)
  local err = server():set_weight(q)
  return tostring(err) .. " " .. server():get_weight()
end
handlers["/srv/maint"] = function() server():set_maint() return server():get_stats()["status"] end
handlers["/srv/drain"] = function()
  server():set_drain()
  return server():get_stats()["status"] .. " " .. tostring(server():is_draining())
end
handlers["/srv/ready"] = function() server():set_ready() return server():get_stats()["status"] end
handlers["/srv/addr"] = function(q)
  local ip, port = q:match("^(.*):(%d+)$")
  local err = server():set_addr(ip, port)
  return tostring(err) .. " " .. server():get_addr()
end
handlers["/srv/info"] = function()
  local s = server()
  return s.name .. " " .. s.puid .. " " .. s:get_stats()["svname"]
end
handlers["/proxy"] = function()
  local fe, be = core.frontends["fe"], core.backends["be"]
  return fe:get_cap() .. " " .. fe:get_mode() .. " " .. be:get_cap() .. " " .. be.name
    .. " " .. tostring(be:get_stats()["pxname"])
end
handlers["/client"] = function(q)
  local hc = core.httpclient()
  local res = hc:post{url = q, headers = {["x-from"] = {"lua"}}, body = "payload", timeout = 5000}
  return res.status .. " " .. tostring((res.headers["x-origin"] or {})[0]) .. "\n" .. res.body
end
handlers["/socket"] = function(q)
  local ip, port = q:match("^(.*):(%d+)$")
  local s = core.tcp()
  s:settimeout(3)
  if s:connect(ip, tonumber(port)) ~= 1 then return "no connection" end
  s:send("GET /sock HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
  local status = s:receive("*l")
  local rest = s:receive("*a")
  local again, err = s:receive("*l")
  s:close()
  return status .. "|" .. tostring(rest:find("path=/sock", 1, true) ~= nil) .. "|" .. tostring(again) .. "|" .. err
end

core.register_service("admin", "http", function(applet)
  local h = handlers[applet.path]
  if not h then return answer(applet, 404, "no such handler\n") end
  answer(applet, 200, h(applet.qs) .. "\n")
end)

-- Rewrites the request line a TCP-mode stream holds: `/old` becomes `/new`, and a header is
-- added after it.
core.register_action("rewrite", {"tcp-req"}, function(txn)
  local line = txn.req:getline()
  if not line then return end
  local held = txn.req:input()
  txn.req:prepend(line:gsub("/old", "/new") .. "x-channel: " .. held .. "\r\n")
  txn:set_var("sess.is_resp", tostring(txn.req:is_resp()))
end)
