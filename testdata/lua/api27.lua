-- Parts of HAProxy 2.7's Lua API whose behaviour shows (tools/lb/tests/runtime/lua_surface.rs):
-- Regex.new's answers and case flag, a match's captures, the Map match methods' numbers, the
-- HTTP date parsers, a service's private value (its stream's, which the action set), and a TXN's queue
-- priority as the prio_class/prio_offset fetches read it.

local function show(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "table" then
      local items = {}
      for _, x in ipairs(v) do items[#items + 1] = tostring(x) end
      v = "{" .. table.concat(items, ",") .. "}"
    elseif type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean" then
      v = type(v)
    end
    parts[#parts + 1] = tostring(v)
  end
  return table.concat(parts, " ")
end

core.register_action("api27", { "http-req" }, function(txn)
  txn:set_priv("from-txn")
  txn:set_priority_class(5000)
  txn:set_priority_offset(-12)
end)

core.register_service("api27", "http", function(applet)
  local lines = {}
  local function note(...) lines[#lines + 1] = show(...) end
  local ok, re = Regex.new("^a(b+)(x)?$", false)
  note("regex", ok, type(re), re:exec("ABB"), re:match("ABB"))
  note("nomatch", re:match("zzz"))
  local _, cs = Regex.new("^ab$", true)
  note("cs", cs:exec("AB"), cs:exec("ab"))
  note("bad", Regex.new("(", true) == false)
  note("methods", Map._found, Map.int, Map._str, Map.beg, Map._sub, Map.dir, Map.dom, Map._end,
    Map.reg, Map._regm)
  note("dates", core.http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
    core.http_date("Sunday, 06-Nov-94 08:49:37 GMT"), core.http_date("Sun Nov  6 08:49:37 1994"),
    core.imf_date("Sun, 06 Nov 1994 08:49:37 GMT"), core.imf_date("Sun Nov  6 08:49:37 1994"),
    core.rfc850_date("Sunday, 06-Nov-94 08:49:37 GMT"), core.asctime_date("Sun Nov  6 08:49:37 1994"),
    core.asctime_date("Sun, 06 Nov 1994 08:49:37 GMT"), core.http_date("yesterday"))
  note("priv", applet:get_priv())
  applet:set_priv({ 1, 2 })
  note("priv", applet:get_priv())
  note("prio", applet.f:prio_class(), applet.f:prio_offset())
  core.set_nice(10)
  local body = table.concat(lines, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)
