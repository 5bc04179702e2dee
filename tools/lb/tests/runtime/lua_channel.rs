//! The `Channel` functions that wait for the client's bytes in `tcp-request content` Lua
//! actions (`getline`, `data`, `line` with a length), and AppletTCP reads at the end of the
//! client's data (`testdata/lua/channel.lua`), through real sockets, side by side with
//! Debian's haproxy on the same configuration.

use super::harness::{free_port, with_haproxy, with_haproxy_until, Proxy, Scratch};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn script() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/lua/channel.lua");
    p.canonicalize().unwrap().display().to_string()
}

/// The frontends, each on `port + n`: (name, inspect delay, rules).
const FRONTENDS: [(&str, &str, &str); 8] = [
    ("getline", "2s", "lua.getline"),
    ("short", "1s", "lua.getline"),
    ("nodelay", "", "lua.getline"),
    ("data", "2s", "lua.data 8"),
    ("line", "2s", "lua.line"),
    ("get", "2s", "lua.get if { req.len gt 0 }"),
    ("bad", "2s", "lua.bad_offset if { req.len gt 0 }"),
    ("lines", "", ""),
];

/// Ports for one proxy: the first is `port`, the others the next free ones.
fn ports(port: u16) -> Vec<u16> {
    std::iter::once(port)
        .chain((1..FRONTENDS.len()).map(|_| free_port()))
        .collect()
}

fn config(ports: &[u16]) -> String {
    let mut cfg = format!(
        "global\n    lua-load {}\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n",
        script()
    );
    for ((name, delay, rule), port) in FRONTENDS.iter().zip(ports) {
        cfg.push_str(&format!("frontend {name}\n    bind 127.0.0.1:{port}\n"));
        if !delay.is_empty() {
            cfg.push_str(&format!("    tcp-request inspect-delay {delay}\n"));
        }
        if rule.is_empty() {
            cfg.push_str("    tcp-request content use-service lua.lines\n");
        } else {
            cfg.push_str(&format!(
                "    tcp-request content {rule}\n    tcp-request content use-service lua.report\n"
            ));
        }
    }
    cfg
}

/// Sends `parts` to `port`, each followed by a pause (ms), then closes the sending side if
/// `shut`; answers what came back and how long it all took, in tenths of a second.
fn exchange(port: u16, parts: &[(&[u8], u64)], shut: bool) -> (String, u64) {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    for (bytes, pause) in parts {
        s.write_all(bytes).unwrap();
        std::thread::sleep(Duration::from_millis(*pause));
    }
    if shut {
        s.shutdown(Shutdown::Write).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let tenths = (start.elapsed().as_millis() / 100) as u64;
    (String::from_utf8_lossy(&out).into_owned(), tenths)
}

/// Every case's answer and duration, in order, against a proxy whose frontends are on
/// `ports`.
fn answers(ports: &[u16]) -> Vec<(String, u64)> {
    vec![
        exchange(
            ports[0],
            &[(b"HEL", 300), (b"LO\nwor", 300), (b"ld\n", 0)],
            false,
        ),
        exchange(ports[0], &[(b"abc", 100)], true),
        exchange(ports[1], &[(b"abc", 0)], false),
        exchange(ports[2], &[], false),
        exchange(ports[3], &[(b"abcd", 300), (b"efghij", 0)], false),
        exchange(ports[4], &[(b"ab", 300), (b"c\nrest", 0)], false),
        exchange(ports[5], &[(b"xyz", 0)], false),
        exchange(ports[6], &[(b"xyz", 0)], false),
        exchange(ports[7], &[(b"one\ntwo", 100)], true),
    ]
}

#[test]
fn channel_reads_wait_for_the_clients_bytes_as_in_haproxy() {
    let p0 = free_port();
    let ours_ports = ports(p0);
    let proxy = Proxy::start(&config(&ours_ports), p0);
    let ours = answers(&ours_ports);
    let texts: Vec<&str> = ours.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            // `getline` waits for each line feed while the client sends in pieces.
            "getline [HELLO\\n] [world\\n] may_recv=true\n",
            // The client closed: what is left, then nil.
            "getline [abc] nil may_recv=false\n",
            // The inspect delay (1 s) passed: what is there, then an empty string.
            "getline [abc] [] may_recv=true\n",
            // No inspect delay: the action may not wait.
            "getline [] [] may_recv=true\n",
            // `data(0, 8)` waits for 8 bytes; `data(-2)` reads the last two.
            "data [abcdefgh] tail=[ij] input=10\n",
            // `line(0, 64)` waits for the line feed; `line()` does not wait.
            "line [abc\\n] [abc\\n] input=8\n",
            "get [xyz] [] may_recv=true\n",
            "errors false offset out of range. false length out of range.\n",
            // AppletTCP: at the end of the client's data, empty strings, not nil.
            "lines [one\\n] [two] [] [] []\n",
        ],
        "{}",
        proxy.stderr()
    );
    // Waiting is not blocking: the pieces' pauses, and the inspect delay of the third.
    assert!((5..20).contains(&ours[0].1), "{:?}", ours[0]);
    assert!((10..20).contains(&ours[2].1), "{:?}", ours[2]);
    assert!(ours[3].1 < 5, "{:?}", ours[3]);
    let theirs_ports = std::cell::OnceCell::new();
    let cfg = |p| config(theirs_ports.get_or_init(|| ports(p)));
    if let Some((theirs, _)) = with_haproxy(cfg, |p| answers(theirs_ports.get_or_init(|| ports(p))))
    {
        let theirs: Vec<&str> = theirs.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, theirs, "hapee and haproxy differ");
    }
}

const SHUT_SCRIPT: &str = r#"
core.register_service("shut", "http", function(applet)
  core.backends["be"].servers["s1"]:shut_sess()
  local body = "shut\n"
  applet:set_status(200)
  applet:add_header("content-length", #body)
  applet:start_response()
  applet:send(body)
end)
"#;

/// A TCP frontend on `ports[0]` to a server that holds its connections open, and an HTTP
/// frontend on `ports[1]` whose Lua service shuts the server's sessions. The guard of the
/// script's folder joins `dirs`, which the test keeps until its proxies are done.
fn shut_config(
    ports: &[u16],
    server: std::net::SocketAddr,
    dirs: &RefCell<Vec<Scratch>>,
) -> String {
    let dir = Scratch::dir(&format!(
        "hapee-lua-shut-{}-{}",
        std::process::id(),
        ports[0]
    ));
    let file = dir.join("shut.lua");
    std::fs::write(&file, SHUT_SCRIPT).unwrap();
    let config = format!(
        "global\n    lua-load {}\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\nfrontend tcpfe\n    bind 127.0.0.1:{}\n    log stdout format raw local0\n    option tcplog\n    default_backend be\nbackend be\n    server s1 {server}\nfrontend admin\n    mode http\n    bind 127.0.0.1:{}\n    http-request use-service lua.shut\n",
        file.display(),
        ports[0],
        ports[1]
    );
    dirs.borrow_mut().push(dir);
    config
}

/// Opens a tunnel through `ports[0]`, has the script shut the server's sessions, and answers
/// how long the tunnel then lived (in tenths of a second) and what the service said.
fn shut_tunnel(ports: &[u16]) -> (u64, String) {
    let mut s = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"x").unwrap();
    let mut hello = [0u8; 3];
    s.read_exact(&mut hello).unwrap();
    assert_eq!(&hello, b"hi\n");
    let (_, said) = super::harness::curl(&[&format!("http://127.0.0.1:{}/", ports[1])]);
    let start = Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    ((start.elapsed().as_millis() / 100) as u64, said)
}

#[test]
fn server_shut_sess_ends_the_servers_sessions() {
    let server = super::harness::raw_server(b"hi\n", Duration::ZERO, Duration::from_secs(20));
    let ours_ports = vec![free_port(), free_port()];
    let dirs = RefCell::new(Vec::new());
    let proxy = Proxy::start(&shut_config(&ours_ports, server, &dirs), ours_ports[0]);
    let (lived, said) = shut_tunnel(&ours_ports);
    assert_eq!(said, "shut\n", "{}", proxy.stderr());
    // Ended at once, not when the server lets go (20 s) or the timeouts pass (30 s).
    assert!(
        lived < 20,
        "the tunnel lived {lived} tenths of a second after shut_sess"
    );
    let theirs_ports = std::cell::OnceCell::new();
    let cfg = |p| {
        shut_config(
            theirs_ports.get_or_init(|| vec![p, free_port()]),
            server,
            &dirs,
        )
    };
    let drive = |p| shut_tunnel(theirs_ports.get_or_init(|| vec![p, free_port()]));
    // Logged as killed (`K`), with HAProxy's state for a tunnel (`-`).
    let logged = proxy.stdout_when(|l| l.contains(" fe be/s1 ") || l.contains(" tcpfe be/s1 "));
    assert!(
        logged.contains(" tcpfe be/s1 ") && logged.contains(" K- "),
        "{logged}"
    );
    // haproxy is stopped once it has logged the killed tunnel (the line comes after the close).
    let killed = |l: &str| l.contains(" tcpfe be/s1 ") && l.contains(" K- ");
    if let Some(((theirs, said), log)) = with_haproxy_until(1, cfg, drive, killed) {
        assert_eq!(said, "shut\n");
        assert!(theirs < 20, "haproxy's tunnel lived {theirs}");
        assert!(
            log.contains(" tcpfe be/s1 ") && log.contains(" K- "),
            "{log}"
        );
    }
}

/// An HTTP frontend on `ports[0]` to a server that never answers, and the admin frontend on
/// `ports[1]` whose Lua service shuts the server's sessions.
fn shut_http_config(
    ports: &[u16],
    server: std::net::SocketAddr,
    dirs: &RefCell<Vec<Scratch>>,
) -> String {
    shut_config(ports, server, dirs)
        .replace("    mode tcp\n", "    mode http\n")
        .replace("option tcplog", "option httplog")
        .replace("frontend tcpfe", "frontend fe")
}

/// Sends a request through `ports[0]` that waits for the server, and opens a second
/// connection that stays idle; has the script shut the server's sessions. Answers the
/// waiting request's status line and body length, and whether the idle connection was still
/// open a second later.
fn shut_waiting_request(ports: &[u16]) -> (String, usize, bool) {
    let mut idle = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (_, said) = super::harness::curl(&[&format!("http://127.0.0.1:{}/", ports[1])]);
    assert_eq!(said, "shut\n");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer.lines().next().unwrap_or("").to_string();
    let body = answer.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len());
    idle.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut byte = [0u8; 1];
    let open = matches!(idle.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut);
    (status, body, open)
}

#[test]
fn shut_sess_answers_a_request_waiting_for_the_server_with_a_logged_502() {
    let server = super::harness::raw_server(b"", Duration::from_secs(20), Duration::ZERO);
    let ours_ports = vec![free_port(), free_port()];
    let dirs = RefCell::new(Vec::new());
    let proxy = Proxy::start(&shut_http_config(&ours_ports, server, &dirs), ours_ports[0]);
    let (status, body, idle_open) = shut_waiting_request(&ours_ports);
    assert_eq!(status, "HTTP/1.1 502 Bad Gateway", "{}", proxy.stderr());
    // HAProxy spares a connection with no request under way (it has no stream to kill).
    assert!(idle_open, "the idle connection was closed");
    // Killed while waiting for the server's answer: `KH`, with the 502 page's bytes.
    let logged = proxy.stdout_when(|l| l.contains(" fe be/s1 "));
    assert!(logged.contains(" 502 209 - - KH-- "), "{logged}");
    assert!(logged.contains("\"GET /wait HTTP/1.1\""), "{logged}");
    let theirs_ports = std::cell::OnceCell::new();
    let cfg = |p| {
        shut_http_config(
            theirs_ports.get_or_init(|| vec![p, free_port()]),
            server,
            &dirs,
        )
    };
    let drive = |p| shut_waiting_request(theirs_ports.get_or_init(|| vec![p, free_port()]));
    let killed = |l: &str| l.contains(" 502 209 - - KH-- ");
    if let Some(((their_status, their_body, their_idle), log)) =
        with_haproxy_until(1, cfg, drive, killed)
    {
        assert_eq!(
            (status, body, idle_open),
            (their_status, their_body, their_idle)
        );
        assert!(log.contains(" 502 209 - - KH-- "), "{log}");
    }
}

/// A `tcp-request content` action that sleeps, then reads: the stream kept reading the
/// client meanwhile (as HAProxy's channel keeps receiving while a Lua action yields), so the
/// read sees all that came during the sleep, and the client's half or full close during it
/// is noticed as HAProxy notices it (the bytes held still read, the log line's state `--`).
#[test]
fn a_sleeping_content_action_reads_what_came_meanwhile_as_in_haproxy() {
    use super::harness::{both_reading, Side};
    let dir = Scratch::dir(&format!("hapee-lua-feed-{}", std::process::id()));
    let file = dir.join("feed.lua");
    std::fs::write(
        &file,
        r#"
core.register_action("nap", { "tcp-req" }, function(txn, ms)
  core.msleep(tonumber(ms))
  txn:set_var("txn.d", txn.req:data())
end, 1)
core.register_service("say", "tcp", function(applet)
  applet:send("[" .. tostring(applet:get_var("txn.d")) .. "]\n")
end)
"#,
    )
    .unwrap();
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {}\n    log stdout format raw local0\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    log global\n    option dontlognull\n    log-format \"feedlog %ts %B %[var(txn.d)]\"\nlisten a\n    bind 127.0.0.1:{port}\n    tcp-request inspect-delay 2s\n    tcp-request content lua.nap 300\n    tcp-request content use-service lua.say\n",
            file.display()
        )
    };
    // More bytes 100 ms into the sleep; the sending side shut then; the whole connection
    // closed then.
    let drive = |port: u16, side: &Side| {
        let answers: Vec<String> = ["more", "half", "close"]
            .iter()
            .map(|how| {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.write_all(b"abc").unwrap();
                std::thread::sleep(Duration::from_millis(100));
                match *how {
                    "more" => s.write_all(b"def").unwrap(),
                    "half" => s.shutdown(Shutdown::Write).unwrap(),
                    _ => {
                        drop(s);
                        std::thread::sleep(Duration::from_millis(600));
                        return String::new();
                    }
                }
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            })
            .collect();
        let logged = side.selected(
            |out| {
                out.lines()
                    .filter_map(|l| l.strip_prefix("feedlog "))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            },
            3,
        );
        (answers, logged)
    };
    let (mine, theirs) = both_reading(1, cfg, drive);
    let expected = (
        ["[abcdef]\n", "[abc]\n", ""].map(String::from).to_vec(),
        ["-- 9 abcdef", "-- 6 abc", "-- 6 abc"]
            .map(String::from)
            .to_vec(),
    );
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine, "Debian's haproxy");
    }
}
