-- A handshake of our own in front of TCP backends (tests/runtime/lua_tcp_reply.rs), shaped as a
-- SOCKS exchange: the client names a backend on its first line, the action answers it from
-- the proxy and waits for the client's "go" before the rules route the stream by that name.
core.register_action("handshake", { "tcp-req" }, function(txn)
  local first = txn.req:getline()
  local name = first:match("^use (%w+)")
  if not name then
    txn.res:send("refused\n")
    return act.DENY
  end
  -- The client sends its next line only once it has read this answer.
  txn.res:send("ready " .. name .. "\n")
  local go = txn.req:getline()
  if go ~= "go\n" then
    return act.DENY
  end
  txn:set_var("txn.route", name)
  return act.CONTINUE
end)
