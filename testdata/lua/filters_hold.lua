-- A filter that holds data (tools/lb/tests/runtime/lua_filter_hold.rs): "hold <ms> <sides…>"
-- forwards nothing of the sides it names for <ms> milliseconds after their data first comes,
-- asking to be called again every 20 ms (filter.wake_time), then forwards all. It notes the
-- most it was ever offered at once, and prints it as each side ends.

local Hold = {}
Hold.id = "hold"
Hold.flags = filter.FLT_CFG_FL_HTX
Hold.__index = Hold

local function side(chn)
  if chn:is_resp() then return "res" end
  return "req"
end

local function now_ms()
  local t = core.now()
  return t.sec * 1000 + t.usec // 1000
end

function Hold:new()
  return setmetatable({ ms = self.ms, sides = self.sides, since = {}, max = {}, calls = {} }, Hold)
end

function Hold:start_analyze(txn, chn)
  if self.sides[side(chn)] then
    filter.register_data_filter(self, chn)
  end
end

-- How much of `offered` bytes of side `s` goes on.
function Hold:decide(s, offered)
  self.max[s] = math.max(self.max[s] or 0, offered)
  self.calls[s] = (self.calls[s] or 0) + 1
  local first = self.since[s]
  if not first then
    first = now_ms()
    self.since[s] = first
  end
  if now_ms() - first < self.ms then
    filter.wake_time(20)
    return 0
  end
  return offered
end

function Hold:http_payload(txn, msg)
  return self:decide(side(msg.channel), msg:input())
end

function Hold:tcp_payload(txn, chn)
  return self:decide(side(chn), chn:input())
end

function Hold:end_analyze(txn, chn)
  local s = side(chn)
  if self.sides[s] then
    print("hold " .. s .. " max=" .. (self.max[s] or 0) .. " calls=" .. (self.calls[s] or 0))
  end
end

core.register_filter("hold", Hold, function(class, args)
  class.ms = tonumber(args[1]) or 0
  class.sides = {}
  for i = 2, #args do class.sides[args[i]] = true end
  return class
end)
