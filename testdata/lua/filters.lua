-- A script that registers a filter (tests/runtime/lua_filters.rs): it loads, and what it
-- sees of the `filter` global is HAProxy's, whether or not a proxy uses the filter.
local Counter = {}
Counter.id = "counter"
Counter.__index = Counter

function Counter:new()
  return setmetatable({ seen = 0 }, Counter)
end

core.register_filter("counter", Counter, function(flt, args) return flt end)
core.register_filter("counter", Counter, function(flt, args) return flt end)

core.register_service("constants", "http", function(applet)
  local body = table.concat({
    filter.CONTINUE, filter.WAIT, filter.ERROR, filter.FLT_CFG_FL_HTX,
    type(filter.wake_time), type(filter.register_data_filter),
    type(filter.unregister_data_filter), type(core.register_filter),
  }, " ")
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)
