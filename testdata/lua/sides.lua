-- Which message a script reads and may change, as the rules or filter callback around it
-- (tools/lb/tests/runtime/lua_sides.rs): "sides" notes what its fetches find and the private
-- value an earlier call left; "wrong" calls the other side's txn.http function the request
-- names, which HAProxy refuses by raising that function's last argument; the "sides" filter
-- prints what each direction's callback finds.

local function show(v)
  if v == nil then return "nil" end
  return tostring(v)
end

local function seen(txn)
  local f = txn.f
  return "hdr=" .. show(f:hdr("x-a")) .. " req.hdr=" .. show(f:req_hdr("x-a"))
    .. " res.hdr=" .. show(f:res_hdr("x-a")) .. " path=" .. show(f:path())
    .. " method=" .. show(f:method()) .. " cookie=" .. show(f:cookie("c"))
    .. " priv=" .. show(txn:get_priv())
end

core.register_action("sides", { "http-req", "http-res" }, function(txn, where)
  txn:set_var("txn." .. where, seen(txn))
  txn:set_priv(where)
end, 1)

local wrong = {
  res_set_header = function(http) http:res_set_header("x-b", "from-req") end,
  res_get_headers = function(http) http:res_get_headers() end,
  req_set_header = function(http) http:req_set_header("x-b", "from-res") end,
  req_set_path = function(http) http:req_set_path("/p") end,
}

core.register_action("wrong", { "http-req", "http-res" }, function(txn, side)
  if txn:get_var("txn.side") == side then
    wrong[txn:get_var("txn.w")](txn.http)
  end
end, 1)

core.register_fetches("priv", function(txn) return show(txn:get_priv()) end)

local Sides = {}
Sides.id = "sides"
Sides.flags = filter.FLT_CFG_FL_HTX
Sides.__index = Sides

function Sides:new() return setmetatable({}, Sides) end

function Sides:http_headers(txn, msg)
  local side = msg.channel:is_resp() and "res" or "req"
  core.Info("filter " .. side .. " " .. seen(txn))
  txn:set_priv("filter-" .. side)
end

core.register_filter("sides", Sides, function(class) return class end)
