-- Each proxy's listeners (proxy.listeners) under their names, and a listener's statistics
-- (Listener:get_stats) where its frontend keeps them (option socket-stats).
core.register_service("listeners", "http", function(applet)
  local out = {}
  local proxies = {}
  for name in pairs(core.proxies) do proxies[#proxies + 1] = name end
  table.sort(proxies)
  for _, pn in ipairs(proxies) do
    local px = core.proxies[pn]
    local names = {}
    for name in pairs(px.listeners) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local l = px.listeners[name]
      local line = pn .. " " .. name .. " " .. type(l) .. " " .. type(getmetatable(l))
      -- Without socket-stats, HAProxy hands back whatever its buffer last held.
      if pn == "fe" then
        local st = l:get_stats()
        local keys = {}
        for k in pairs(st) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do line = line .. " " .. k .. "=" .. tostring(st[k]) end
      end
      out[#out + 1] = line
    end
  end
  local body = table.concat(out, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)
