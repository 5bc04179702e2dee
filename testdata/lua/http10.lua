-- Services answering HTTP/1.0 clients (tests/runtime/lua_http10.rs): without a length, with
-- one, and sending in two parts with a wait between them.
core.register_service("nolen", "http", function(applet)
  applet:start_response()
  applet:send("hello world\n")
end)

core.register_service("len", "http", function(applet)
  applet:add_header("content-length", "12")
  applet:start_response()
  applet:send("hello world\n")
end)

core.register_service("parts", "http", function(applet)
  applet:start_response()
  applet:send("hello ")
  core.msleep(20)
  applet:send("world\n")
end)
