//! Global settings of the process seen through real sockets, side by side with Debian's
//! haproxy: the socket buffer sizes (`tune.rcvbuf.*`, `tune.sndbuf.*`, as `ss` shows them),
//! the delay before a soft stop (`grace`), the largest TLS record (`tune.ssl.maxrecord`, as
//! `openssl s_client -msg` sees the records) and the environment as `setenv` and its kin
//! leave it for the lines after them.

use super::harness::*;
use super::tls::{have, Pki};
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

const TIMEOUTS: &str = "timeout client 5s\n    timeout server 5s\n    timeout connect 5s";

/// `ss`'s socket memory of the one established TCP socket matching `filter`: its receive and
/// send buffer sizes (`rb`, `tb`).
fn buffer_sizes(filter: &str) -> (u64, u64) {
    let out = Command::new("ss")
        .args(["-Htmn", "state", "established"])
        .args(filter.split_whitespace())
        .output()
        .expect("ss");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.split([',', '(', ')'])
            .find_map(|f| f.strip_prefix(name).and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    };
    (field("rb"), field("tb"))
}

#[test]
fn socket_buffer_sizes_reach_client_and_server_connections() {
    if !have("ss", &["-V"]) {
        return;
    }
    let cfg = |port: u16, origin: &std::net::SocketAddr| {
        format!(
            "global
    tune.rcvbuf.client 8192
    tune.sndbuf.client 12288
    tune.rcvbuf.server 20480
    tune.sndbuf.server 24576
defaults
    mode tcp
    {TIMEOUTS}
listen l
    bind 127.0.0.1:{port}
    server s {origin}
"
        )
    };
    let origin = || raw_server(b"hello", Duration::ZERO, Duration::from_secs(3));
    let (mine, theirs) = both_with(origin, cfg, |port, origin| {
        let mut client = connect(("127.0.0.1", port));
        client.write_all(b"hi").unwrap();
        let mut got = [0u8; 5];
        client.read_exact(&mut got).unwrap();
        // The proxy's end of each connection: the one accepted on its port, and the one
        // it opened to the origin.
        (
            buffer_sizes(&format!("sport = :{port}")),
            buffer_sizes(&format!("dport = :{}", origin.port())),
        )
    });
    // The kernel keeps twice the size asked for (its bookkeeping share).
    assert_eq!(mine, ((16384, 24576), (40960, 49152)));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// The lines of `stderr` about the soft stop, without the process id.
fn stop_notices(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("soft-stop"))
        .map(|l| match l.split_once(") : ") {
            Some((level, text)) => {
                format!("{} {text}", level.split('(').next().unwrap_or("").trim())
            }
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn grace_keeps_serving_with_stopping_set_before_the_soft_stop() {
    let cfg = |port: u16| {
        format!(
            "global
    grace 3s
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain lf-string \"stopping=%[stopping]\"
"
        )
    };
    let (mine, theirs) = both_reading(1, cfg, |port, side| {
        let url = format!("http://127.0.0.1:{port}/");
        let before = curl(&[&url]);
        let pid = side.pid().to_string();
        let _ = Command::new("kill").args(["-USR1", &pid]).status();
        std::thread::sleep(Duration::from_millis(200));
        let during = curl(&[&url]);
        let closed = wait_until(Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        });
        let notices = stop_notices(&side.stderr());
        (before, during, closed, notices)
    });
    let expected = (
        (200, "stopping=0".to_string()),
        (200, "stopping=1".to_string()),
        true,
        vec![
            "[NOTICE] Scheduling a soft-stop in 3000 ms.".to_string(),
            "[NOTICE] Grace period expired, proceeding with soft-stop now.".to_string(),
        ],
    );
    assert_eq!(mine, expected);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, expected);
    }
}

/// The largest application-data record (its length field) `openssl s_client -msg` received
/// while reading the answer to one request.
pub(super) fn largest_record(port: u16) -> usize {
    let out = output_with_input(
        Command::new("openssl").args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-msg",
            "-ign_eof",
            "-tls1_3",
        ]),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("<<<") && w[0].contains("RecordHeader"))
        .filter_map(|w| {
            let bytes: Vec<u8> = w[1]
                .split_whitespace()
                .filter_map(|b| u8::from_str_radix(b, 16).ok())
                .collect();
            (bytes.len() == 5 && bytes[0] == 0x17)
                .then(|| usize::from(bytes[3]) << 8 | usize::from(bytes[4]))
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn ssl_maxrecord_caps_the_records_sent() {
    if !have("openssl", &["version"]) {
        return;
    }
    let pki = Pki::with_server_certs("maxrecord");
    let body = pki.write("body.txt", &"0123456789".repeat(600));
    let cert = pki.path("default.pem");
    let cfg = |limit: &str| {
        let (cert, body) = (cert.clone(), body.clone());
        let limit = limit.to_string();
        move |port: u16| {
            format!(
                "global
    {limit}
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port} ssl crt {cert}
    http-request return status 200 content-type text/plain file {body}
"
            )
        }
    };
    let (limited, theirs) = both(cfg("tune.ssl.maxrecord 1000"), largest_record);
    let (unlimited, _) = both(cfg(""), largest_record);
    // 1000 bytes of plaintext, its content type and the 16-byte AEAD tag.
    assert_eq!(limited, 1017);
    assert!(
        unlimited > 6000,
        "without a limit the body goes in one record: {unlimited}"
    );
    if let Some(theirs) = theirs {
        assert_eq!(limited, theirs);
    }
}

#[test]
fn setenv_changes_what_the_lines_after_it_expand() {
    std::env::set_var("HAPEE_G_OUTSIDE", "outside");
    std::env::set_var("HAPEE_G_DROPPED", "present");
    let cfg = |port: u16| {
        format!(
            "global
    setenv HAPEE_G_NAME world
    setenv HAPEE_G_GREETING \"hello ${{HAPEE_G_NAME}}\"
    presetenv HAPEE_G_OUTSIDE preset
    unsetenv HAPEE_G_DROPPED
    setenv HAPEE_G_PORT {port}
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind \"127.0.0.1:${{HAPEE_G_PORT}}\"
    http-request return status 200 content-type text/plain string \"${{HAPEE_G_GREETING}} ${{HAPEE_G_OUTSIDE}} [${{HAPEE_G_DROPPED-gone}}]\"
"
        )
    };
    let (mine, theirs) = both(cfg, |port| curl(&[&format!("http://127.0.0.1:{port}/")]));
    assert_eq!(mine, (200, "hello world outside [gone]".to_string()));
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn unix_bind_sets_the_prefix_mode_and_group_of_unix_binds() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    // Only root may give the socket to another group.
    let group = if root { " gid 65534" } else { "" };
    let dir_name = |port: u16| format!("hapee-ub-{}-{port}", std::process::id());
    let dir = |port: u16| std::env::temp_dir().join(dir_name(port));
    // Each side's folder, removed once the comparison is over.
    let dirs = std::cell::RefCell::new(Vec::new());
    let cfg = |port: u16| {
        let dir = Scratch::dir(&dir_name(port));
        let config = format!(
            "global
    unix-bind prefix {}/ mode 640{group}
defaults
    mode http
    {TIMEOUTS}
frontend tcp
    bind 127.0.0.1:{port}
    http-request return status 200
frontend unix
    bind unix@served.sock
    bind unix@own.sock mode 600
    http-request return status 200 content-type text/plain string over-unix
",
            dir.display()
        );
        dirs.borrow_mut().push(dir);
        config
    };
    let (mine, theirs) = both(cfg, |port| {
        let dir = dir(port);
        let socket = |name: &str| {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).ok();
            (
                meta.as_ref().map(|m| m.permissions().mode() & 0o777),
                meta.map(|m| m.gid() == 65534),
            )
        };
        let served = dir.join("served.sock").display().to_string();
        let answer = curl(&["--unix-socket", &served, "http://x/"]);
        (answer, socket("served.sock"), socket("own.sock"))
    });
    assert_eq!(
        mine,
        (
            (200, "over-unix".to_string()),
            (Some(0o640), Some(root)),
            (Some(0o600), Some(root)),
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

/// A server that keeps the head of each request it gets and answers it with a short page.
fn head_keeping_origin() -> (std::net::SocketAddr, std::sync::mpsc::Receiver<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\netag: \"v1\"\r\nconnection: close\r\n\r\nok",
            );
        }
    });
    (addr, rx)
}

/// The names of a head's header lines that `wanted` has (in any case), in order.
fn names_in(head: &str, wanted: &[&str]) -> Vec<String> {
    head.lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split(':').next())
        .filter(|n| wanted.iter().any(|w| w.eq_ignore_ascii_case(n)))
        .map(str::to_string)
        .collect()
}

#[test]
fn h1_case_adjust_spells_names_for_bogus_clients_and_servers() {
    let dir = Scratch::dir(&format!("hapee-case-{}", std::process::id()));
    let file = dir.join("case.txt");
    std::fs::write(&file, "# spellings\nx-api-key X-API-Key\n  etag\tETag \n").unwrap();
    let cfg = |port: u16, origin: &(std::net::SocketAddr, std::sync::mpsc::Receiver<String>)| {
        format!(
            "global
    h1-case-adjust content-type Content-Type
    h1-case-adjust-file {}
defaults
    mode http
    {TIMEOUTS}
frontend adjusted
    bind 127.0.0.1:{port}
    option h1-case-adjust-bogus-client
    http-request return status 200 content-type text/plain string ok if {{ path /local }}
    default_backend bogus
frontend plain
    bind 127.0.0.1:{}
    http-request return status 200 content-type text/plain string ok
backend bogus
    option h1-case-adjust-bogus-server
    server s {}
",
            file.display(),
            port + 1,
            origin.0
        )
    };
    let wanted = ["content-type", "etag", "x-api-key"];
    let (mine, theirs) = both_sides(2, head_keeping_origin, cfg, |port, origin, _| {
        let ask = |port: u16, path: &str| {
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nconnection: close\r\n\r\n"
            );
            raw(port, request.as_bytes(), Duration::from_secs(3))
        };
        let local = names_in(&ask(port, "/local"), &wanted);
        let relayed = names_in(&ask(port, "/relayed"), &wanted);
        let to_server = origin
            .1
            .recv_timeout(Duration::from_secs(5))
            .map(|head| names_in(&head, &wanted))
            .unwrap_or_default();
        let plain = names_in(&ask(port + 1, "/"), &wanted);
        (local, relayed, to_server, plain)
    });
    assert_eq!(
        mine,
        (
            vec!["Content-Type".to_string()],
            vec!["ETag".to_string()],
            vec!["X-API-Key".to_string()],
            vec!["content-type".to_string()],
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}

#[test]
fn logurilen_cuts_the_request_line_in_logs() {
    let cfg = |limit: &'static str| {
        move |port: u16| {
            format!(
                "global
    log stdout len 4096 format raw local0
    {limit}
defaults
    mode http
    log global
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    log-format \"r=%r hu=%HU hp=%HP hq=%HQ hv=%HV\"
    http-request return status 200
"
            )
        }
    };
    let long = format!("/{}?q={}", "p".repeat(1000), "v".repeat(60));
    let drive = |port: u16| curl(&[&format!("http://127.0.0.1:{port}{long}")]).0;
    // The harness's probe connection logs a line of its own, without a request.
    let keep = |l: &str| l.starts_with("r=") && !l.starts_with("r=<BADREQ>");
    let (default_cut, theirs_default) = logged_side_by_side(cfg(""), drive, keep, 1);
    let (short_cut, theirs_short) =
        logged_side_by_side(cfg("tune.http.logurilen 40"), drive, keep, 1);
    let line_of = |run: &(u16, Vec<String>)| run.1.first().cloned().unwrap_or_default();
    // 1023 bytes of `GET /ppp…?q=vvv HTTP/1.1`: the query's end and the version are cut,
    // and a line without a version reads as HTTP/0.9's.
    let cut_at_1023 = format!("GET {}", &long[..1019]);
    assert_eq!(
        line_of(&default_cut),
        format!(
            "r={cut_at_1023} hu={} hp=/{} hq={} hv=HTTP/0.9",
            &long[..1019],
            "p".repeat(1000),
            &long[1001..1019]
        )
    );
    let cut_at_40 = format!("GET {}", &long[..36]);
    assert_eq!(
        line_of(&short_cut),
        format!(
            "r={cut_at_40} hu={} hp={} hq= hv=HTTP/0.9",
            &long[..36],
            &long[..36]
        )
    );
    for (mine, theirs) in [(default_cut, theirs_default), (short_cut, theirs_short)] {
        if let Some(theirs) = theirs {
            assert_eq!(line_of(&mine), line_of(&theirs));
        }
    }
}

#[test]
fn comp_maxlevel_sets_the_compression_level() {
    // Words drawn from a small vocabulary: what a stronger level finds more matches in.
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let mut seed = 7u32;
    let body: String = (0..6000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            words[(seed >> 16) as usize % words.len()]
        })
        .collect::<Vec<_>>()
        .join(" ");
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let reply: &'static [u8] = Box::leak(reply.into_bytes().into_boxed_slice());
    let size_at = |level: &str| {
        let origin = raw_server(reply, Duration::ZERO, Duration::ZERO);
        let port = free_port();
        let cfg = format!(
            "global
    {level}
defaults
    mode http
    {TIMEOUTS}
listen l
    bind 127.0.0.1:{port}
    compression algo gzip
    compression type text/plain
    server s {origin}
"
        );
        let _proxy = Proxy::start(&cfg, port);
        let out = Command::new("curl")
            .args(["-s", "-H", "Accept-Encoding: gzip"])
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .expect("curl");
        let mut plain = String::new();
        let _ = flate2::read::GzDecoder::new(&out.stdout[..]).read_to_string(&mut plain);
        assert_eq!(plain, body, "the body comes back whole at {level:?}");
        out.stdout.len()
    };
    let default = size_at("");
    let first = size_at("tune.comp.maxlevel 1");
    let best = size_at("tune.comp.maxlevel 9");
    assert_eq!(default, first, "level 1 is the default");
    assert!(best < first, "level 9 compresses more: {best} vs {first}");
}

/// The soft and hard open-file limits of process `pid`.
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_default();
    let mut words = line.split_whitespace().skip(3);
    let mut next = || words.next().unwrap_or_default().to_string();
    (next(), next())
}

/// What a proxy that cannot start on `cfg` says, without its process id.
fn start_refusal(program: &str, args: &[&str], cfg: &str) -> (bool, Vec<String>) {
    // The program's own name: a path would make nested folders.
    let name = std::path::Path::new(program)
        .file_name()
        .map_or(program.into(), |n| n.to_string_lossy());
    let dir = Scratch::dir(&format!("hapee-limits-{}-{name}", std::process::id()));
    let file = dir.join("h.cfg");
    std::fs::write(&file, cfg).unwrap();
    let out = Command::new("timeout")
        .arg("10")
        .arg(program)
        .args(args)
        .arg("-f")
        .arg(&file)
        .output()
        .expect("the proxy runs");
    let said = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("FD limit"))
        .map(|l| l.split_once(") : ").map_or(l, |(_, t)| t).to_string())
        .collect();
    (out.status.success(), said)
}

#[test]
fn ulimit_n_fd_hard_limit_and_strict_limits_set_the_open_file_limit() {
    let cfg = |global: &str, port: u16| {
        format!(
            "global
{global}
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
"
        )
    };
    // The limits this test runs with, which the proxies start with.
    let (soft, hard) = open_file_limits(std::process::id());
    let (soft, hard): (u64, u64) = (soft.parse().unwrap_or(0), hard.parse().unwrap_or(0));
    // A limit above the present one: up to the hard limit, or past it where that is allowed
    // (CAP_SYS_RESOURCE).
    let raised = if soft < hard { hard } else { soft + 1000 };
    let can_raise = Command::new("sh")
        .args(["-c", &format!("ulimit -n {raised}")])
        .status()
        .is_ok_and(|s| s.success());
    if can_raise {
        let (mine, theirs) = both_reading(
            1,
            |port| cfg(&format!("    ulimit-n {raised}"), port),
            |_, side| open_file_limits(side.pid()),
        );
        assert_eq!(mine, (raised.to_string(), hard.max(raised).to_string()));
        if let Some(theirs) = theirs {
            assert_eq!(mine, theirs);
        }
    }
    // A limit is only ever raised.
    let (lowered, _) = both_reading(
        1,
        |port| cfg("    ulimit-n 100", port),
        |_, side| open_file_limits(side.pid()).0,
    );
    assert_eq!(lowered, soft.to_string());
    // Past `fd-hard-limit` without `strict-limits`: a warning, and the limit stays.
    let (lenient, theirs) = both_reading(
        1,
        |port| {
            cfg(
                &format!(
                    "    ulimit-n {}\n    fd-hard-limit {soft}\n    no strict-limits",
                    soft + 1
                ),
                port,
            )
        },
        |_, side| open_file_limits(side.pid()).0,
    );
    assert_eq!(lenient, soft.to_string());
    if let Some(theirs) = theirs {
        assert_eq!(lenient, theirs);
    }
    let port = free_port();
    let strict = cfg(
        &format!("    ulimit-n {}\n    fd-hard-limit 3000", soft + 1),
        port,
    );
    let (started, said) = start_refusal(env!("CARGO_BIN_EXE_hapee-lb"), &["run"], &strict);
    assert!(!started);
    assert_eq!(
        said,
        [format!(
            "[haproxy.main()] Cannot raise FD limit to {}, limit is {}.",
            soft + 1,
            soft.min(3000)
        )]
    );
    if Haproxy::installed() {
        assert_eq!(start_refusal("haproxy", &["-db"], &strict), (started, said));
    }
}

/// Without `ulimit-n`, the global `maxconn` sets the open files asked for at start: HAProxy's
/// `maxsock` (ten spare, one per listener, two per connection, three per thread). Public
/// configurations with `maxconn 50000` and more start nowhere their hard limit is lower.
#[test]
fn global_maxconn_asks_for_the_open_files_its_connections_need() {
    let (soft, _) = open_file_limits(std::process::id());
    let soft: u64 = soft.parse().unwrap_or(0);
    let cfg = |global: &str, port: u16| {
        format!(
            "global
    nbthread 1
{global}
defaults
    mode http
    {TIMEOUTS}
frontend f
    bind 127.0.0.1:{port}
    http-request return status 200
"
        )
    };
    // 10 + 1 listener + 2 × 2000 + 3 × 1 thread, past `fd-hard-limit`.
    let past_cap = cfg("    maxconn 2000\n    fd-hard-limit 3000", free_port());
    let (started, said) = start_refusal(env!("CARGO_BIN_EXE_hapee-lb"), &["run"], &past_cap);
    assert!(!started);
    assert_eq!(
        said,
        [format!(
            "[haproxy.main()] Cannot raise FD limit to 4014, limit is {}.",
            soft.min(3000)
        )]
    );
    if Haproxy::installed() {
        assert_eq!(
            start_refusal("haproxy", &["-db"], &past_cap),
            (started, said)
        );
    }
    // A `ulimit-n` below the present limit leaves it; what `maxconn` needs is above it.
    let needed = 2 * soft + 14;
    let too_low = cfg(
        &format!("    maxconn {soft}\n    ulimit-n 100"),
        free_port(),
    );
    let (started, said) = start_refusal(env!("CARGO_BIN_EXE_hapee-lb"), &["run"], &too_low);
    assert!(!started);
    assert_eq!(
        said,
        [format!(
            "[haproxy.main()] FD limit ({soft}) too low for maxconn={soft}/maxsock={needed}. \
             Please raise 'ulimit-n' to {needed} or more to avoid any trouble."
        )]
    );
    if Haproxy::installed() {
        assert_eq!(
            start_refusal("haproxy", &["-db"], &too_low),
            (started, said)
        );
    }
    // What fits starts.
    let (fits, _) = both_reading(
        1,
        |port| cfg("    maxconn 100", port),
        |_, side| open_file_limits(side.pid()).0,
    );
    assert_eq!(fits, soft.to_string());
}
