-- hapee's own test script: HTTP services that fail, or run out of time, while they send their
-- response body, next to ones that end it properly. Each request's path names its service.
local function begin(applet, length)
  applet:set_status(200)
  applet:add_header("content-type", "text/plain")
  if length then applet:add_header("content-length", length) end
  applet:start_response()
  applet:send("first part\n")
end
core.register_service("fail_mid", "http", function(applet)
  begin(applet)
  applet:send("second part\n")
  error("failed mid-body")
end)
core.register_service("fail_mid_length", "http", function(applet)
  begin(applet, "100")
  error("failed short of its length")
end)
core.register_service("fail_after_sleep", "http", function(applet)
  begin(applet)
  core.msleep(50)
  applet:send("second part\n")
  error("failed after a sleep")
end)
core.register_service("loop_mid", "http", function(applet)
  begin(applet)
  while true do end
end)
core.register_service("ok_chunked", "http", function(applet)
  begin(applet)
  applet:send("second part\n")
end)
core.register_service("ok_length", "http", function(applet)
  begin(applet, "23")
  applet:send("second part\n")
end)
-- Sends its first part, then waits until the client has read it and asked for the rest by
-- requesting `/release` (or 4 s have passed), then sends the rest: its first part must reach
-- the client while the script waits.
released = false
core.register_service("wait_for_release", "http", function(applet)
  released = false
  begin(applet)
  for _ = 1, 80 do
    if released then break end
    core.msleep(50)
  end
  applet:send("second part\n")
end)
core.register_service("release", "http", function(applet)
  released = true
  applet:set_status(200)
  applet:add_header("content-length", "9")
  applet:start_response()
  applet:send("released\n")
end)
