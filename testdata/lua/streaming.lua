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
-- Sends 1024 pieces of 64 kB (64 MB), counting them in `big_sent`, which `/progress` tells:
-- a client that does not read must hold the script back once the buffers between are full.
big_sent = 0
core.register_service("big", "http", function(applet)
  big_sent = 0
  local piece = string.rep("x", 65536)
  applet:set_status(200)
  applet:add_header("content-length", tostring(1024 * 65536))
  applet:start_response()
  for _ = 1, 1024 do
    applet:send(piece)
    big_sent = big_sent + 1
  end
end)
core.register_service("progress", "http", function(applet)
  local body = tostring(big_sent)
  applet:set_status(200)
  applet:add_header("content-length", tostring(#body))
  applet:start_response()
  applet:send(body)
end)
