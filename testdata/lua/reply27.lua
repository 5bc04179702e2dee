-- The reply object of txn:reply() as HAProxy 2.7 makes it (a table with status, reason,
-- headers and body fields, methods from a shared metatable) and how txn:done() reads any
-- table of that form; reason phrases given to statuses set without one.

-- A table's fields as "k=v", sorted, one level of inner tables shown.
local function dump(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "table" then
      local names, inner = {}, {}
      for n in pairs(v) do names[#names + 1] = tostring(n) end
      table.sort(names)
      for _, n in ipairs(names) do
        local hv = v[n]
        if type(hv) == "table" then hv = "{" .. table.concat(hv, ",") .. "}" end
        inner[#inner + 1] = n .. "=" .. tostring(hv)
      end
      v = "{" .. table.concat(inner, " ") .. "}"
    end
    out[#out + 1] = k .. "=" .. tostring(v)
  end
  return table.concat(out, " ")
end

local replies = {}

-- What txn:reply() makes, and what its methods answer and change.
replies["/fields"] = function(txn)
  local r = txn:reply()
  local r2 = txn:reply({status = 403, reason = "Nope", body = "b",
    headers = {["x-a"] = "1", ["x-b"] = {"2", "3"}, ["x-c"] = 5, ["x-d"] = true}})
  local r3 = txn:reply({status = "404", reason = "R", body = 12})
  local oks = {r:set_status(99), r:set_status(418), r:add_header("x-y", "z"),
    r:del_header("x-nothere"), r:set_body("hello")}
  for i, v in ipairs(oks) do oks[i] = tostring(v) end
  local body = "type=" .. type(r) .. " meta=" .. type(getmetatable(r))
    .. " shared=" .. tostring(getmetatable(r) == getmetatable(r2))
    .. "\nr: " .. dump(r) .. "\nr2: " .. dump(r2) .. "\nr3: " .. dump(r3)
    .. "\noks " .. table.concat(oks, " ") .. "\n"
  txn:done({status = 200, body = body})
end

-- The fields set directly, as scripts do: the phrase stays the one of the first status.
replies["/direct"] = function(txn)
  local r = txn:reply()
  r.status = 401
  r.headers["www-authenticate"] = {'Basic realm="x"'}
  r.body = "denied\n"
  txn:done(r)
end

-- A phrase of the script's; a header value that is not a list and a content-length dropped.
replies["/reason"] = function(txn)
  local r = txn:reply()
  r.status = 429
  r.reason = "Slow Down"
  r.headers["x-h"] = "notatable"
  r.headers["content-length"] = {"999"}
  r.body = "x"
  txn:done(r)
end

-- A plain table to txn:done(): string header values are dropped there.
replies["/plain"] = function(txn)
  txn:done({status = 503, headers = {["x-s"] = "str", ["x-t"] = {"t1", "t2"}}, body = "p"})
end

replies["/numbody"] = function(txn) txn:done({status = 207, body = 42}) end
replies["/unknown"] = function(txn) txn:done(txn:reply({status = 299})) end
replies["/strstatus"] = function(txn) txn:done({status = "404"}) end

-- The methods' argument checks and errors.
replies["/errs"] = function(txn)
  local r = txn:reply()
  local res = {}
  local calls = {
    function() r:set_status() end,
    function() r:set_status("x") end,
    function() r:add_header("a") end,
    function() r.set_body(5, "x") end,
    function() r.headers = 5; r:add_header("a", "b") end,
    function() r.headers = {a = 5}; r:add_header("a", "b") end,
    function() r:set_body({}) end,
  }
  for _, f in ipairs(calls) do
    local ok, e = pcall(f)
    res[#res + 1] = tostring(ok) .. ":" .. tostring(e)
  end
  txn:done({status = 200, body = table.concat(res, "\n") .. "\n"})
end

core.register_action("reply27", {"http-req"}, function(txn)
  local f = replies[txn.sf:path()]
  if f then f(txn) end
end)

-- A service's statuses without a phrase.
core.register_service("reply27_svc", "http", function(applet)
  if applet.path == "/code" then applet:set_status(299) end
  if applet.path == "/teapot" then applet:set_status(418) end
  applet:start_response()
  applet:send("s")
end)

-- res_set_status with and without a phrase.
core.register_action("reply27_res", {"http-res"}, function(txn)
  local p = txn:get_var("txn.p")
  if p == "/lua" then txn.http:res_set_status(299) end
  if p == "/luar" then txn.http:res_set_status(404, "Gone Fishing") end
end)
