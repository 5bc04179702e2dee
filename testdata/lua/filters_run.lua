-- Filters that run (tools/lb/tests/runtime/lua_filters.rs). "calls" notes the callbacks it
-- gets and shows them in a response header; "upper" upper-cases the bodies of the sides its
-- filter line names, and "bang" adds a "!" at the end of the response body; "tcp"
-- upper-cases both directions of a TCP stream, counting them in variables.

local function side(chn)
  if chn:is_resp() then return "res" end
  return "req"
end

local Calls = {}
Calls.id = "calls"
Calls.flags = filter.FLT_CFG_FL_HTX
Calls.__index = Calls

function Calls:new()
  -- `self` is the filter line's own copy of the class, as its function left it.
  return setmetatable({ tag = self.tag, seen = {} }, Calls)
end

function Calls:note(what)
  self.seen[#self.seen + 1] = what
end

function Calls:start_analyze(txn, chn)
  self:note("start:" .. side(chn))
end

function Calls:end_analyze(txn, chn)
  self:note("end:" .. side(chn))
  print("ended " .. self.tag .. " " .. table.concat(self.seen, " "))
end

function Calls:http_headers(txn, msg)
  local sl = msg:get_stline()
  if msg:is_resp() then
    self:note("headers:res:" .. sl.version .. ":" .. sl.code)
    msg:set_header("x-calls-" .. self.tag, table.concat(self.seen, " "))
    msg:set_header("x-messages", type(txn.http_req) .. " " .. type(txn.http_res) .. " " .. type(msg.channel))
    msg:del_header("x-origin")
  else
    self:note("headers:req:" .. sl.method .. ":" .. sl.uri .. ":" .. sl.version)
    local h = msg:get_headers()
    msg:add_header("x-seen-" .. self.tag, h["host"] and "host" or "nohost")
    if sl.uri == "/rewrite" then
      msg:set_path("/rewritten")
      msg:set_query("q=1")
    end
    if h["x-fail"] and h["x-fail"][0] == self.tag then
      return filter.ERROR
    end
    if h["x-boom"] and h["x-boom"][0] == self.tag then
      error("boom in " .. self.tag)
    end
  end
  return filter.CONTINUE
end

core.register_filter("calls", Calls, function(class, args)
  class.tag = args[1] or "none"
  return class
end)

local Upper = {}
Upper.id = "upper"
Upper.flags = filter.FLT_CFG_FL_HTX
Upper.__index = Upper

function Upper:new()
  return setmetatable({ sides = self.sides, bytes = 0 }, Upper)
end

function Upper:start_analyze(txn, chn)
  if self.sides[side(chn)] then
    filter.register_data_filter(self, chn)
  end
end

function Upper:http_payload(txn, msg)
  local data = msg:body()
  if data then
    self.bytes = self.bytes + #data
    msg:set(data:upper())
  end
end

function Upper:http_end(txn, msg)
  txn:set_var("txn.upper_" .. side(msg.channel), self.bytes)
end

core.register_filter("upper", Upper, function(class, args)
  class.sides = {}
  for _, s in ipairs(args) do class.sides[s] = true end
  return class
end)

local Bang = {}
Bang.id = "bang"
Bang.flags = filter.FLT_CFG_FL_HTX
Bang.__index = Bang

function Bang:new()
  return setmetatable({}, Bang)
end

function Bang:http_headers(txn, msg)
  if msg:is_resp() then
    filter.register_data_filter(self, msg.channel)
    msg:del_header("content-length")
  end
end

function Bang:http_payload(txn, msg)
  if msg:eom() then
    msg:append("!")
  end
end

core.register_filter("bang", Bang, function(class, args) return class end)

-- Without FLT_CFG_FL_HTX: never attached to an HTTP stream.
local Plain = {}
Plain.__index = Plain
function Plain:new() return setmetatable({}, Plain) end
function Plain:http_headers(txn, msg)
  msg:set_header("x-plain", "ran")
end
core.register_filter("plain", Plain, function(class, args) return class end)

-- A TCP stream's filter: both directions upper-cased as they pass.
local Tcp = {}
Tcp.id = "tcp"
Tcp.__index = Tcp

function Tcp:new()
  return setmetatable({ seen = {}, bytes = { req = 0, res = 0 } }, Tcp)
end

function Tcp:start_analyze(txn, chn)
  self.seen[#self.seen + 1] = "start:" .. side(chn)
  filter.register_data_filter(self, chn)
end

function Tcp:end_analyze(txn, chn)
  self.seen[#self.seen + 1] = "end:" .. side(chn)
  print("ended tcp " .. table.concat(self.seen, " "))
end

function Tcp:tcp_payload(txn, chn)
  -- What passed so far, where the log line sees it.
  local s = side(chn)
  self.bytes[s] = self.bytes[s] + chn:input()
  txn:set_var("txn.tcp_" .. s, self.bytes[s])
  if chn:input() > 0 then
    chn:set(chn:data():upper())
  end
end

core.register_filter("tcp", Tcp, function(class, args) return class end)

-- "tally" counts the response body as it passes and leaves what it saw in variables the
-- log line shows; with the argument "cut" it fails once past 50000 bytes of it, with
-- "cutreq" once past 50000 bytes of the request body.
local Tally = {}
Tally.id = "tally"
Tally.flags = filter.FLT_CFG_FL_HTX
Tally.__index = Tally

function Tally:new()
  return setmetatable({ cut = self.cut, cutreq = self.cutreq, seen = 0, seenreq = 0 }, Tally)
end

function Tally:start_analyze(txn, chn)
  if chn:is_resp() or self.cutreq then
    filter.register_data_filter(self, chn)
  end
end

function Tally:http_payload(txn, msg)
  if not msg:is_resp() then
    self.seenreq = self.seenreq + msg:input()
    if self.seenreq > 50000 then
      error("cut")
    end
    return
  end
  self.seen = self.seen + msg:input()
  txn:set_var("txn.tally_seen", self.seen)
  if self.cut and self.seen > 50000 then
    error("cut")
  end
end

function Tally:http_end(txn, msg)
  txn:set_var("txn.tally_end", "end")
end

function Tally:end_analyze(txn, chn)
  txn:set_var("txn.tally_" .. side(chn), "ended")
  print("tally ended " .. side(chn))
end

core.register_filter("tally", Tally, function(class, args)
  class.cut = args[1] == "cut"
  class.cutreq = args[1] == "cutreq"
  return class
end)

-- "waits" answers filter.WAIT (without a wake time) the first time the callback its
-- argument names runs ("start:req", "headers:req", "start:res" or "headers:res"), and
-- notes each call.
local Waits = {}
Waits.id = "waits"
Waits.flags = filter.FLT_CFG_FL_HTX
Waits.__index = Waits

function Waits:new()
  return setmetatable({ n = 0, where = self.where }, Waits)
end

function Waits:once(what)
  if self.where ~= what then
    return filter.CONTINUE
  end
  self.n = self.n + 1
  print("waits " .. what .. " " .. self.n)
  if self.n == 1 then
    return filter.WAIT
  end
  return filter.CONTINUE
end

function Waits:start_analyze(txn, chn)
  return self:once("start:" .. side(chn))
end

function Waits:http_headers(txn, msg)
  return self:once("headers:" .. side(msg.channel))
end

core.register_filter("waits", Waits, function(class, args)
  class.where = args[1]
  return class
end)

-- "waitin <where> <times> [held]" answers filter.WAIT (without a wake time) the first <times>
-- calls to the callback <where> names ("start:req", "start:res" or "headers:res"), printing
-- "waitin <where> <n>" and, with "held", how many bytes the channel held. It upper-cases
-- the bytes of a TCP stream both ways.
local WaitIn = {}
WaitIn.id = "waitin"
WaitIn.flags = filter.FLT_CFG_FL_HTX
WaitIn.__index = WaitIn

function WaitIn:new()
  return setmetatable({ where = self.where, times = self.times, held = self.held, n = 0 }, WaitIn)
end

function WaitIn:once(what, held)
  if self.where ~= what then
    return filter.CONTINUE
  end
  self.n = self.n + 1
  print("waitin " .. what .. " " .. self.n .. (held and (" " .. held) or ""))
  if self.n <= self.times then
    return filter.WAIT
  end
  return filter.CONTINUE
end

function WaitIn:start_analyze(txn, chn)
  filter.register_data_filter(self, chn)
  return self:once("start:" .. side(chn), self.held and chn:input())
end

function WaitIn:http_headers(txn, msg)
  return self:once("headers:" .. side(msg.channel))
end

function WaitIn:tcp_payload(txn, chn)
  if chn:input() > 0 then
    chn:set(chn:data():upper())
  end
end

core.register_filter("waitin", WaitIn, function(class, args)
  class.where, class.times, class.held = args[1], tonumber(args[2]) or 1, args[3] == "held"
  return class
end)

-- "endwait <tag> <side> <waits> [ms]" answers filter.WAIT from http_end on <side> ("req" or
-- "res") the first <waits> times (with a wake time of [ms] when given), and notes each call.
local EndWait = {}
EndWait.id = "endwait"
EndWait.flags = filter.FLT_CFG_FL_HTX
EndWait.__index = EndWait

function EndWait:new()
  return setmetatable({ tag = self.tag, where = self.where, waits = self.waits, ms = self.ms, n = 0 }, EndWait)
end

function EndWait:start_analyze(txn, chn)
  filter.register_data_filter(self, chn)
end

function EndWait:http_end(txn, msg)
  if side(msg.channel) ~= self.where then
    return filter.CONTINUE
  end
  self.n = self.n + 1
  print("endwait " .. self.tag .. " " .. self.n)
  if self.n <= self.waits then
    if self.ms then filter.wake_time(self.ms) end
    return filter.WAIT
  end
  return filter.CONTINUE
end

core.register_filter("endwait", EndWait, function(class, args)
  class.tag, class.where = args[1], args[2]
  class.waits, class.ms = tonumber(args[3]) or 0, tonumber(args[4])
  return class
end)

-- A TCP service answering the line it reads.
core.register_service("greet", "tcp", function(applet)
  local line = applet:getline()
  applet:send("got " .. line)
end)

-- "until <where> <n>" holds a TCP stream's response until the server sent <n> bytes: its
-- response's start_analyze (<where> "start") or its tcp_payload ("payload") answers
-- filter.WAIT until then, then prints "until <where> <bytes>". Both directions are
-- upper-cased as they pass.
local Until = {}
Until.id = "until"
Until.__index = Until

function Until:new()
  return setmetatable({ where = self.where, n = self.n, went = false }, Until)
end

function Until:holds(chn, where)
  if not chn:is_resp() or self.where ~= where or self.went then
    return false
  end
  if chn:input() < self.n then
    return true
  end
  self.went = true
  print("until " .. where .. " " .. chn:input())
  return false
end

function Until:start_analyze(txn, chn)
  filter.register_data_filter(self, chn)
  if self:holds(chn, "start") then
    return filter.WAIT
  end
end

function Until:tcp_payload(txn, chn)
  if self:holds(chn, "payload") then
    return filter.WAIT
  end
  if chn:input() > 0 then
    chn:set(chn:data():upper())
  end
end

core.register_filter("until", Until, function(class, args)
  class.where, class.n = args[1], tonumber(args[2]) or 1
  return class
end)
