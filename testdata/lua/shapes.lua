-- The shapes of the objects HAProxy hands to scripts (tests/runtime/lua_shapes.rs): each is a
-- table whose keys `pairs()` lists, with a metatable shared by its class.

local function shape(o)
  local keys = {}
  for k in pairs(o) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return type(o) .. "[" .. table.concat(keys, " ") .. "]"
end

-- An HTTP service's answer: 200 with `body`.
local function answer(applet, body)
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end

core.register_action("shapes", { "http-req" }, function(txn)
  local parts = {}
  for _, name in ipairs({ "http", "req", "res", "f", "sf", "c", "sc" }) do
    parts[#parts + 1] = name .. "=" .. shape(txn[name])
  end
  parts[#parts + 1] = tostring(getmetatable(txn.f) == getmetatable(txn.sf))
  parts[#parts + 1] = tostring(getmetatable(txn.f) ~= getmetatable(txn.c))
  parts[#parts + 1] = tostring(getmetatable(txn.req) == getmetatable(txn.res))
  txn.http.mine = "set"
  parts[#parts + 1] = txn.http.mine
  -- Methods called through the tables, `self` being the table.
  parts[#parts + 1] = txn.http:req_get_headers()["x-a"][0]
  parts[#parts + 1] = tostring(txn.req:is_resp()) .. "/" .. tostring(txn.res:is_resp())
  parts[#parts + 1] = txn.f:req_hdr("x-a") .. "/" .. txn.sc:upper("ab")
  txn:set_var("txn.shapes", table.concat(parts, ";"))
end)

core.register_service("applet", "http", function(applet)
  local parts = {
    shape(applet), shape(applet.sf),
    applet.method, applet.path, applet.qs, applet.version, tostring(applet.length),
    applet.headers["x-a"][0], applet.sf:src(), applet.sc:upper("ab"),
    -- A service may not fetch from the HTTP messages.
    select(2, pcall(applet.f.req_hdr, applet.f, "x-a")),
  }
  applet.mine = "set"
  parts[#parts + 1] = applet.mine
  answer(applet, table.concat(parts, ";"))
end)

core.register_service("tcpshape", "tcp", function(applet)
  applet:send(shape(applet) .. ";" .. shape(applet.f) .. ";" .. applet.sf:dst_port() .. "\n")
end)

-- A Runtime API command gets an `AppletTCP` as HAProxy's CLI makes it, then the command's words.
core.register_cli({ "shape" }, "shape : the CLI applet's shape", function(applet, ...)
  local words = table.concat({ ... }, ",")
  applet:send(shape(applet) .. ";" .. shape(applet.sf) .. ";" .. type(applet.print) .. ";"
    .. type(applet.getline) .. ";" .. type(applet.set_var) .. ";" .. words .. "\n")
end)

-- Proxies and servers of `core.proxies`/`core.backends`: tables with their fields set in them
-- (`uuid` and `puid` as strings), a metatable shared by the class, methods taking the table.
core.register_service("proxies", "http", function(applet)
  local fe, be = core.proxies["fe"], core.backends["app"]
  local s = be.servers["s1"]
  local parts = {
    shape(fe), shape(be), shape(s), shape(be.servers),
    type(fe.uuid), type(s.puid), s.name, be.name,
    tostring(getmetatable(fe) == getmetatable(be)),
    tostring(getmetatable(fe) ~= getmetatable(s)),
    tostring(getmetatable(core.frontends["fe"]) == getmetatable(fe)),
    be:get_mode(), fe:get_cap(), tostring(s:get_weight()),
  }
  answer(applet, table.concat(parts, ";"))
end)
