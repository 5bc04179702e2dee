-- A filter on requests a Lua service answers (tools/lb/tests/runtime/lua_filter_service.rs).
-- "trace" notes every callback it gets (the payload's size and whether it is the message's
-- end), marks the response's head and upper-cases its body, and prints what it saw as it
-- ends each channel; "upreq" upper-cases the request body, which the services then read.

local function side(chn)
  if chn:is_resp() then return "res" end
  return "req"
end

local Trace = {}
Trace.id = "trace"
Trace.flags = filter.FLT_CFG_FL_HTX
Trace.__index = Trace

function Trace:new()
  return setmetatable({ seen = {} }, Trace)
end

function Trace:note(what)
  self.seen[#self.seen + 1] = what
end

function Trace:start_analyze(txn, chn)
  self:note("start:" .. side(chn))
  filter.register_data_filter(self, chn)
end

function Trace:http_headers(txn, msg)
  local sl = msg:get_stline()
  if msg:is_resp() then
    self:note("headers:res:" .. sl.code)
    msg:set_header("x-trace", table.concat(self.seen, " "))
  else
    self:note("headers:req:" .. sl.method)
  end
end

function Trace:http_payload(txn, msg)
  local body = msg:body()
  self:note("payload:" .. side(msg.channel) .. ":" .. (body and #body or 0) .. ":" .. tostring(msg:eom()))
  if msg:is_resp() and body then
    msg:set(body:upper())
  end
end

function Trace:http_end(txn, msg)
  self:note("http_end:" .. side(msg.channel))
end

function Trace:end_analyze(txn, chn)
  self:note("end:" .. side(chn))
  print("traced " .. table.concat(self.seen, " "))
end

core.register_filter("trace", Trace, function(class, args) return class end)

local UpReq = {}
UpReq.id = "upreq"
UpReq.flags = filter.FLT_CFG_FL_HTX
UpReq.__index = UpReq

function UpReq:new()
  return setmetatable({}, UpReq)
end

function UpReq:start_analyze(txn, chn)
  if not chn:is_resp() then
    filter.register_data_filter(self, chn)
  end
end

function UpReq:http_payload(txn, msg)
  local body = msg:body()
  if body then
    msg:set(body:upper())
  end
end

core.register_filter("upreq", UpReq, function(class, args) return class end)

-- Answers with a length.
core.register_service("hello", "http", function(applet)
  local body = applet:receive()
  local reply = "hello " .. #body
  applet:set_status(200)
  applet:add_header("content-length", tostring(#reply))
  applet:start_response()
  applet:send(reply)
end)

-- Answers without a length, in two sends, with the body it read.
core.register_service("echo", "http", function(applet)
  local body = applet:receive()
  applet:set_status(200)
  applet:start_response()
  applet:send("got " .. body)
  applet:send(" and more")
end)
