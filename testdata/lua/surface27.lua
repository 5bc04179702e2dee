-- The names HAProxy 2.7 gives scripts (tools/lb/tests/runtime/lua_surface.rs): every class,
-- function, field and constant its Lua state registers (src/hlua.c and src/hlua_fcn.c at
-- v2.7.0), each checked to exist with its type where a script meets it. Each part answers the
-- names it misses as "Class.name:expected/found", sorted; an empty part misses none. A file
-- loaded before it sets MAP_FILE, a map file for `Map.new`.

local function check(class, obj, spec, out)
  for _, entry in ipairs(spec) do
    local name, want = entry:match("^([^:]+):(%a+)$")
    local kind = type(obj)
    local got = (kind == "table" or kind == "userdata") and type(obj[name]) or kind
    if got ~= want then
      out[#out + 1] = class .. "." .. name .. ":" .. want .. "/" .. got
    end
  end
  return out
end

local function fns(names)
  local spec = {}
  for name in names:gmatch("%S+") do spec[#spec + 1] = name .. ":function" end
  return spec
end

local function nums(names)
  local spec = {}
  for name in names:gmatch("%S+") do spec[#spec + 1] = name .. ":number" end
  return spec
end

local function join(...)
  local all = {}
  for _, list in ipairs({ ... }) do
    for _, v in ipairs(list) do all[#all + 1] = v end
  end
  return all
end

local function report(out)
  table.sort(out)
  return table.concat(out, " ")
end

local SAMPLES = fns("f sf c sc")
for i, name in ipairs({ "f", "sf", "c", "sc" }) do SAMPLES[i] = name .. ":table" end

local PRIV_VARS = "set_priv get_priv set_var unset_var get_var"

local CORE = join(
  fns([[register_init register_task register_fetches register_converters register_action
    register_service register_cli register_filter yield set_nice sleep msleep add_acl del_acl
    set_map del_map tcp httpclient log Debug Info Warning Alert done now http_date imf_date
    rfc850_date asctime_date concat get_info parse_addr match_addr tokenize]]),
  nums("thread emerg alert crit err warning notice info debug"),
  { "proxies:table", "frontends:table", "backends:table" })

local MATCHES = "found bool int ip bin len str beg sub dir dom end reg regm"

local GLOBALS = {
  "core:table", "act:table", "filter:table", "Map:table", "Regex:table", "CertCache:table",
}

local CHANNEL = fns([[data line set remove append prepend insert send forward input output
  may_recv is_full is_resp get dup getline get_in_len get_out_len]])

local HTTP = fns([[req_get_headers req_del_header req_rep_header req_rep_value req_add_header
  req_set_header req_set_method req_set_path req_set_query req_set_uri res_get_headers
  res_del_header res_rep_header res_rep_value res_add_header res_set_header res_set_status]])

local HTTP_MSG = join(fns([[is_resp get_stline get_headers del_header rep_header rep_value
  add_header set_header set_method set_path set_query set_uri set_status is_full may_recv eom
  input output body set remove append prepend insert set_eom unset_eom send forward]]),
  { "channel:table" })

local TXN = join(fns(PRIV_VARS .. [[ done reply set_loglevel set_tos set_mark set_priority_class
  set_priority_offset deflog log Debug Info Warning Alert]]), SAMPLES,
  { "req:table", "res:table", "http:table" })

local REPLY = join(fns("set_status add_header del_header set_body"),
  { "status:number", "reason:string", "headers:table" })

local APPLET_HTTP = join(fns(PRIV_VARS .. " getline receive send add_header set_status start_response"),
  SAMPLES, { "method:string", "version:string", "headers:table", "path:string", "qs:string",
  "length:number", "response:table" })

local APPLET_TCP = join(fns(PRIV_VARS .. " getline receive send"), SAMPLES)

local SOCKET = fns("connect_ssl connect send receive close getpeername getsockname setoption settimeout")

local SERVER = join(fns([[is_draining set_maxconn get_maxconn set_weight get_weight set_addr
  get_addr get_stats shut_sess set_drain set_maint set_ready check_enable check_disable
  check_force_up check_force_nolb check_force_down agent_enable agent_disable agent_force_up
  agent_force_down]]), { "name:string", "puid:string" })

local PROXY = join(fns("pause resume stop shut_bcksess get_cap get_mode get_stats"),
  { "name:string", "uuid:string", "servers:table", "listeners:table" })

-- A few of the fetches and converters a script reaches through `txn.f` and `txn.c`.
local FETCHES = fns("src src_port dst dst_port req_hdr hdr path method base var rand ssl_fc fe_name be_name")
local CONVERTERS = fns("lower upper base64 b64dec url_dec hex sha1 crc32 djb2 bytes field word ipmask json")

-- A map is made while the scripts load only.
local MAP = type(Map) == "table" and type(Map.new) == "function" and Map.new(MAP_FILE, Map._str)

-- What a filter sees: HTTPMessage (`txn.http_req`), and the TXN's fields only filters get.
local Surface = {}
Surface.id = "surface"
Surface.flags = filter.FLT_CFG_FL_HTX
Surface.__index = Surface

function Surface:new() return setmetatable({}, Surface) end

function Surface:http_headers(txn, msg)
  if not msg:is_resp() then
    local out = check("HTTPMessage", msg, HTTP_MSG, {})
    check("TXN", txn, { "http_req:table", "http_res:table" }, out)
    txn:set_var("txn.filter", report(out))
  end
  return filter.CONTINUE
end

core.register_filter("surface", Surface, function(class) return class end)

-- What an HTTP action sees: TXN, HTTP, Channel, the sample objects, a reply.
core.register_action("surface", { "http-req" }, function(txn)
  local out = check("TXN", txn, TXN, {})
  check("HTTP", txn.http, HTTP, out)
  check("Channel", txn.req, CHANNEL, out)
  check("Fetches", txn.f, FETCHES, out)
  check("Converters", txn.c, CONVERTERS, out)
  check("Reply", txn:reply({ body = "b" }), join(REPLY, { "body:string" }), out)
  txn:set_var("txn.action", report(out))
end)

-- What an HTTP service sees: AppletHTTP, then the global classes and core at run time.
core.register_service("surface", "http", function(applet)
  local parts = {
    "filter=" .. (applet:get_var("txn.filter") or "unset"),
    "action=" .. (applet:get_var("txn.action") or "unset"),
    "applet=" .. report(check("AppletHTTP", applet, APPLET_HTTP, {})),
  }
  local out = check("_G", _G, GLOBALS, {})
  check("core", core, CORE, out)
  check("act", act, join(nums("CONTINUE STOP YIELD ERROR DONE DENY ABORT INVALID"), fns("wake_time")), out)
  check("filter", filter, join(nums("CONTINUE WAIT ERROR FLT_CFG_FL_HTX"),
    fns("wake_time register_data_filter unregister_data_filter")), out)
  local matches = {}
  for name in MATCHES:gmatch("%S+") do
    matches[#matches + 1] = name
    matches[#matches + 1] = "_" .. name
  end
  check("Map", Map, join(nums(table.concat(matches, " ")), fns("new")), out)
  check("CertCache", CertCache, fns("set"), out)
  check("Regex", Regex, fns("new"), out)
  parts[#parts + 1] = "globals=" .. report(out)
  out = {}
  if type(Regex) == "table" and type(Regex.new) == "function" then
    local _, re = Regex.new("a+", true)
    check("Regex", re, fns("exec match"), out)
  end
  check("Map", MAP, fns("lookup slookup"), out)
  if type(core.concat) == "function" then check("Concat", core.concat(), fns("add dump"), out) end
  if type(core.tcp) == "function" then check("Socket", core.tcp(), SOCKET, out) end
  if type(core.httpclient) == "function" then
    check("HTTPClient", core.httpclient(), fns("get head put post delete"), out)
  end
  local px = core.backends and core.backends["app"]
  check("Proxy", px, PROXY, out)
  check("Server", px and px.servers["s1"], SERVER, out)
  local fe = core.frontends and core.frontends["fe"]
  local _, listener = next(fe and fe.listeners or {})
  check("Listener", listener, fns("get_stats"), out)
  local t = core.backends and core.backends["table"]
  check("StickTable", t and t.stktable, fns("info lookup dump"), out)
  parts[#parts + 1] = "objects=" .. report(out)
  local body = table.concat(parts, "\n") .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)

-- What a TCP service sees: AppletTCP.
core.register_service("surface_tcp", "tcp", function(applet)
  applet:send("tcp=" .. report(check("AppletTCP", applet, APPLET_TCP, {})) .. "\n")
end)
