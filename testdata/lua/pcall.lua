-- hapee's own test script: what `pcall` and `xpcall` hand a script for errors raised by Lua
-- code and by the functions of HAProxy's API (plain strings, as HAProxy raises them).
local function show(...)
  local r = table.pack(pcall(...))
  local v = r[2]
  if type(v) == "string" then return tostring(r[1]) .. " [" .. v .. "]" end
  return tostring(r[1]) .. " <" .. type(v) .. ">"
end

core.register_service("pcall", "http", function(applet)
  local out = {}
  out[#out + 1] = show(error, "x")
  out[#out + 1] = show(error, { code = 1 })
  out[#out + 1] = show(core.msleep, "abc")
  out[#out + 1] = show(core.set_map, "/nonexistent.map", "k", "v")
  out[#out + 1] = show(core.tokenize)
  out[#out + 1] = show(core.parse_addr)
  out[#out + 1] = show(function() return applet.headers.nope.x end)
  out[#out + 1] = tostring(select(2, xpcall(core.msleep, function(e) return "handled: " .. e end, "abc")))
  out[#out + 1] = show(function() core.Info() end)
  out[#out + 1] = tostring(select(2, xpcall(function() core.msleep("x") end, function(e) return "handled: " .. e end)))
  local s = table.concat(out, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", string.len(s))
  applet:start_response()
  applet:send(s)
end)
