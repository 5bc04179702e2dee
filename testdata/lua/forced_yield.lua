-- hapee's test script: an action full of calls whose last argument is itself a call (a
-- variable number of values), run under a small tune.lua.forced-yield so that the count hook
-- yields it mid-way many times a call, some of them between such a call and its use.
local function pass(...) return ... end

core.register_action("agent", { "http-req" }, function(txn)
  for _ = 1, 20 do
    txn:set_var("txn.agent", pass(txn.sf:req_hdr("user-agent")))
  end
end)
