-- Stick tables seen from scripts (tests/runtime/lua_stktable.rs): `core.backends[name].stktable`
-- with `info()`, `lookup(key)` and `dump([filter])`, their values' Lua types, and the errors a
-- bad filter gets, printed in one stable form so that hapee's and haproxy's answers compare.

-- A value as `type(text)`, tables with their keys sorted; `expire` in an entry is the time
-- left, which differs between runs: shown as whether it is within the table's lifetime.
local function show(v, lifetime)
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do
      local x = v[k]
      if k == "expire" and lifetime and math.type(x) == "integer" and lifetime > 0 then
        x = (x > 0 and x <= lifetime) and "live" or x
      end
      parts[#parts + 1] = tostring(k) .. ":" .. (math.type(k) or type(k)) .. "=" .. show(x, lifetime)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return (math.type(v) or type(v)) .. "(" .. tostring(v) .. ")"
end

local function both(...)
  return show(table.pack(...))
end

core.register_service("tables", "http", function(applet)
  local out = {}
  for _, name in ipairs({ "ipt", "strt", "intt", "v6t", "bint", "fe", "plain" }) do
    local px = core.proxies[name]
    local st = px and px.stktable
    local line = { name, type(st) }
    if st then
      local lifetime = st:info().expire
      local keys = {}
      for k in pairs(st) do keys[#keys + 1] = tostring(k) end
      line[#line + 1] = "keys=" .. table.concat(keys, ",")
      line[#line + 1] = "class=" .. tostring(getmetatable(st) == getmetatable(core.backends[name].stktable))
      line[#line + 1] = "info=" .. show(st:info())
      for _, key in ipairs({ "127.0.0.1", "abc", "42", 42, "nope" }) do
        line[#line + 1] = "lookup(" .. tostring(key) .. ")=" .. show(st:lookup(key), lifetime)
      end
      line[#line + 1] = "dump=" .. show(st:dump())
      line[#line + 1] = "ge2=" .. both(st:dump({ { "http_req_cnt", "ge", 2 } }))
      line[#line + 1] = "lt2=" .. both(st:dump({ { "http_req_cnt", "lt", 2 } }))
      line[#line + 1] = "two=" .. both(st:dump({ { "http_req_cnt", "gt", 0 }, { "http_req_cnt", "ne", 1 } }))
      for _, bad in ipairs({
        { { "nope", "eq", 1 } }, { { "http_req_cnt", "xx", 1 } }, { { "http_req_cnt", "eq" } },
        "x", { { 1, "eq", 1 } }, { { "conn_rate", "eq", 1 } },
        { { "http_req_cnt", "eq", 1 }, { "http_req_cnt", "eq", 1 }, { "http_req_cnt", "eq", 1 },
          { "http_req_cnt", "eq", 1 }, { "http_req_cnt", "eq", 1 } },
      }) do
        line[#line + 1] = "bad=" .. both(st:dump(bad))
      end
    end
    out[#out + 1] = table.concat(line, " ")
  end
  local body = table.concat(out, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)

-- A rate limit as scripts write them: the client's request rate read from the table its
-- frontend tracks it in.
core.register_action("limit", { "http-req" }, function(txn, most)
  local entry = core.backends["ipt"].stktable:lookup(txn.sf:src())
  local rate = entry and entry.http_req_rate or 0
  txn:set_var("txn.rate", rate)
  txn:set_var("txn.limited", rate > tonumber(most))
end, 1)
