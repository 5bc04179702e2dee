//! When a script filter's `http_payload` sees the message's end, side by side with Debian's
//! haproxy: a response whose body came with its head, its end known from its length, is
//! offered once, as the end of the message (HAProxy has the whole message in its buffer), not
//! as data and then an empty end.

use super::harness::{both_sides, curl, raw_server, Scratch, DEFAULTS};
use std::time::Duration;

const SCRIPT: &str = r#"
Eom = { id = "eom", flags = filter.FLT_CFG_FL_HTX }
Eom.__index = Eom
function Eom:new()
  return setmetatable({ seen = "" }, Eom)
end
function Eom:start_analyze(txn, chn)
  if chn:is_resp() then
    filter.register_data_filter(self, chn)
  end
end
function Eom:http_payload(txn, msg)
  self.seen = self.seen .. " " .. tostring(msg:input()) .. ":" .. tostring(msg:eom())
end
function Eom:end_analyze(txn, chn)
  if chn:is_resp() then
    print("payload" .. self.seen)
  end
end
core.register_filter("eom", Eom, function(class, args) return class end)
"#;

#[test]
fn a_body_that_came_with_its_head_is_offered_once_as_the_end_as_in_haproxy() {
    let dir = Scratch::dir(&format!("hapee-lua-eom-{}", std::process::id()));
    let script = dir.join("eom.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let reply: &'static [u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let cfg = |port: u16, server: &std::net::SocketAddr| {
        format!(
            "global\n    lua-load {}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    filter lua.eom\n    default_backend app\nbackend app\n    server o {server}\n",
            script.display()
        )
    };
    let (ours, theirs) = both_sides(
        1,
        // The server holds its connection open: the end is known from the length alone.
        || raw_server(reply, Duration::ZERO, Duration::from_secs(3)),
        cfg,
        |port, _, side| {
            let answer = curl(&[&format!("http://127.0.0.1:{port}/")]);
            let seen = side.selected(
                |out| {
                    out.lines()
                        .filter(|l| l.starts_with("payload"))
                        .map(str::to_string)
                        .collect()
                },
                1,
            );
            (answer, seen)
        },
    );
    assert_eq!(
        ours,
        ((200, "hello".into()), vec!["payload 5:true".to_string()])
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, ours, "Debian's haproxy");
    }
}
