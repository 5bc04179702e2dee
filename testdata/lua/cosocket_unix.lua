-- A cosocket to the Runtime API's UNIX socket, as metrics exporters ask it for
-- `show stat typed` (SOCK is set by a file loaded first).
local function ask(address, port, command)
  local s = core.tcp()
  s:settimeout(2)
  local ok, err
  if port then ok, err = s:connect(address, port) else ok, err = s:connect(address) end
  if not ok then return "connect " .. tostring(ok) .. " " .. tostring(err) end
  s:send(command)
  local all = s:receive("*a")
  s:close()
  return all
end

core.register_service("cosocket_unix", "http", function(applet)
  local typed = ask(SOCK, nil, "show stat typed\n")
  local out = {}
  for line in typed:gmatch("[^\n]+") do
    local field = line:match("^[FBS]%.%d+%.%d+%.%d+%.([%w_]+)%.1:")
    if field == "rate" or field == "rate_max" or field == "act" or field == "scur" then
      out[#out + 1] = line:sub(1, 1) .. " " .. field .. " " .. line:match(":(%u%u%u):")
    end
  end
  out[#out + 1] = "prefixed " .. tostring(#ask("unix@" .. SOCK, nil, "show info\n") > 0)
  out[#out + 1] = "with port " .. ask(SOCK, 80, "show info\n")
  -- An explicit nil port is a bad argument, not a missing one.
  out[#out + 1] = "nil port " .. select(2, pcall(function()
    local r = core.tcp():connect(SOCK, nil)
    return r
  end))
  local body = table.concat(out, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)
