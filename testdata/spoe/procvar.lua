-- Reads a process-wide variable whose name is only put together at run time: no line of the
-- configuration names it, so reading the configuration does not make it exist.
core.register_fetches("proc_var", function(txn, name)
  return txn:get_var("proc." .. name) or "none"
end)
