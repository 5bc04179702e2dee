//! The differential suite of hostile HTTP/1 requests (testdata/hostile/requests.txt): each is
//! sent on its own connection through hapee and through Debian's haproxy with the same
//! configuration, to a server that records every byte it receives. hapee must never forward
//! what RFC 9110/9112 forbid, and must end each case as haproxy does unless
//! testdata/hostile/differences.txt gives the RFC's reason. `bench/hostile.sh` prints the
//! whole table and writes it to docs/hostile-requests.md.

use crate::harness::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub struct Case {
    pub group: String,
    pub id: String,
    pub bytes: Vec<u8>,
}

/// `\r`, `\n`, `\t`, `\\` and `\xNN` escapes.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, used) = match b[i + 1] {
                b'r' => (b'\r', 2),
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b'x' => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("two hex digits");
                    (u8::from_str_radix(hex, 16).expect("hex escape"), 4)
                }
                other => (other, 2),
            };
            out.push(byte);
            i += used;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(format!("{ROOT}/testdata/hostile/requests.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, " | ");
            let (group, id, bytes) = (parts.next(), parts.next(), parts.next());
            Case {
                group: group.unwrap().to_string(),
                id: id.expect("an id").to_string(),
                bytes: unescape(bytes.expect("the request bytes")),
            }
        })
        .collect()
}

/// The reasons given for each case where hapee ends differently from haproxy.
pub fn differences() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(format!("{ROOT}/testdata/hostile/differences.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(id, why)| (id.to_string(), why.to_string()))
        .collect()
}

/// A server that records the bytes of each connection, and answers a small response once
/// its client pauses after a complete head (or closes when nothing sensible came).
struct Recorder {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let conns: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let record = conns.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || serve_recorded(stream, record));
            }
        });
        Recorder { addr, conns }
    }

    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.conns.lock().unwrap())
    }
}

fn serve_recorded(mut s: TcpStream, record: Arc<Mutex<Vec<Vec<u8>>>>) {
    let index = {
        let mut conns = record.lock().unwrap();
        conns.push(Vec::new());
        conns.len() - 1
    };
    s.set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                record.lock().unwrap()[index].extend_from_slice(&buf[..n]);
            }
            Err(_) if seen.windows(4).any(|w| w == b"\r\n\r\n") => break,
            Err(_) if start.elapsed() > Duration::from_secs(3) => return,
            Err(_) => {}
        }
    }
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

/// One configuration for both proxies: a frontend per case, each to its own recorder.
fn config(ports: &[u16], servers: &[SocketAddr]) -> String {
    let mut cfg = String::from(
        "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 2s
    timeout http-request 1s
    timeout tunnel 1s
",
    );
    for (i, (port, server)) in ports.iter().zip(servers).enumerate() {
        cfg.push_str(&format!(
            "frontend f{i}\n    bind 127.0.0.1:{port}\n    default_backend b{i}\nbackend b{i}\n    server s {server}\n"
        ));
    }
    cfg
}

/// How one proxy ended one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The status codes the client received, in order.
    pub statuses: Vec<u16>,
    /// What the server received, one summary per request (empty: nothing forwarded).
    pub forwarded: Vec<String>,
    /// What the server received that RFC 9110/9112 forbid a proxy to send.
    pub violations: Vec<String>,
}

impl Outcome {
    pub fn statuses_text(&self) -> String {
        if self.statuses.is_empty() {
            "none (closed)".into()
        } else {
            let list: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
            list.join(", ")
        }
    }

    pub fn forwarded_text(&self) -> String {
        if self.forwarded.is_empty() {
            "nothing".into()
        } else {
            self.forwarded.join(" ; ")
        }
    }
}

fn exchange(port: u16, request: &[u8]) -> Vec<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(2500)))
        .unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&out);
    let status = regex::Regex::new(r"(?m)^HTTP/1\.[01] (\d{3}) ").unwrap();
    status
        .captures_iter(&text)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

/// Sends every case through the proxy listening on `ports` (in parallel, a few at a time).
fn run_through(ports: &[u16], recorders: &[Recorder], cases: &[Case]) -> Vec<Outcome> {
    let next = Arc::new(Mutex::new(0usize));
    let results: Arc<Mutex<Vec<Option<Vec<u16>>>>> = Arc::new(Mutex::new(vec![None; cases.len()]));
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (next, results) = (next.clone(), results.clone());
            scope.spawn(move || loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                if i >= cases.len() {
                    return;
                }
                let statuses = exchange(ports[i], &cases[i].bytes);
                results.lock().unwrap()[i] = Some(statuses);
            });
        }
    });
    // The recorders answer after a pause: let the last of them finish recording.
    std::thread::sleep(Duration::from_millis(500));
    let results = results.lock().unwrap();
    recorders
        .iter()
        .zip(results.iter())
        .map(|(r, statuses)| {
            let (forwarded, violations) = inspect(&r.take());
            Outcome {
                statuses: statuses.clone().unwrap_or_default(),
                forwarded,
                violations,
            }
        })
        .collect()
}

/// The hapee outcomes and, when Debian's haproxy is installed, haproxy's.
pub fn run_both(cases: &[Case]) -> (Vec<Outcome>, Option<Vec<Outcome>>) {
    let recorders: Vec<Recorder> = cases.iter().map(|_| Recorder::start()).collect();
    let servers: Vec<SocketAddr> = recorders.iter().map(|r| r.addr).collect();
    let ours: Vec<u16> = cases.iter().map(|_| free_port()).collect();
    let proxy = Proxy::start(&config(&ours, &servers), ours[0]);
    let hapee = run_through(&ours, &recorders, cases);
    let alive = raw(
        ours[0],
        b"GET /still-serving HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(
        alive.starts_with("HTTP/1.1 200"),
        "{alive}\n{}",
        proxy.stderr()
    );
    drop(proxy);
    for r in &recorders {
        r.take();
    }
    if !Haproxy::installed() {
        return (hapee, None);
    }
    let theirs: Vec<u16> = cases.iter().map(|_| free_port()).collect();
    let mut h = Haproxy::start(&config(&theirs, &servers), theirs[0]);
    let haproxy = run_through(&theirs, &recorders, cases);
    h.stop();
    (hapee, Some(haproxy))
}

/// Summarises what a server received, request by request, and lists what RFC 9112 forbids
/// a proxy to have sent.
fn inspect(conns: &[Vec<u8>]) -> (Vec<String>, Vec<String>) {
    let mut summary = Vec::new();
    let mut violations = Vec::new();
    for bytes in conns {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match one_request(rest, &mut violations) {
                Some((text, used, last)) => {
                    summary.push(text);
                    rest = &rest[used..];
                    if last && !rest.is_empty() {
                        violations.push(format!(
                            "a request behind a chunked HTTP/1.0 one on its connection: {:?}",
                            String::from_utf8_lossy(rest)
                        ));
                    }
                }
                None => {
                    summary.push(format!("{} unframed bytes", rest.len()));
                    violations.push(format!(
                        "bytes a server cannot read as a request: {:?}",
                        String::from_utf8_lossy(rest)
                    ));
                    break;
                }
            }
        }
    }
    (summary, violations)
}

/// Reads one request from the front of `bytes`: its summary, its length, and whether it must
/// be the last of its connection. A body cut short (the client stopped sending) ends the
/// stream without a violation.
fn one_request(bytes: &[u8], violations: &mut Vec<String>) -> Option<(String, usize, bool)> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head) = req.parse(bytes).ok()? else {
        return None;
    };
    let version = req.version?;
    let fields: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let all = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (hosts, lengths, codings) = (all("host"), all("content-length"), all("transfer-encoding"));
    let connection: Vec<String> = all("connection")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let mut bad = |what: String| violations.push(what);
    if hosts.len() > 1 {
        bad(format!("{} Host fields", hosts.len()));
    }
    if version == 1 && hosts.is_empty() {
        bad("an HTTP/1.1 request without Host".into());
    }
    if !lengths.is_empty() && !codings.is_empty() {
        bad("both Content-Length and Transfer-Encoding".into());
    }
    if lengths.len() > 1
        || lengths
            .iter()
            .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()))
    {
        bad(format!("Content-Length {lengths:?}"));
    }
    let chunked = codings.len() == 1 && codings[0].eq_ignore_ascii_case("chunked");
    if !codings.is_empty() && !chunked {
        bad(format!("Transfer-Encoding {codings:?}"));
    }
    // RFC 9112 §6.1: a server reads the framing of an HTTP/1.0 message with chunking as
    // faulty. HAProxy forwards it so all the same, on a connection closed after it; one kept
    // would let a server that read no body take the chunks for the next request.
    let last = !codings.is_empty() && version == 0;
    if last && connection.iter().any(|t| t == "keep-alive") {
        bad("Transfer-Encoding in HTTP/1.0 on a connection asked to stay".into());
    }
    if lengths.iter().any(|l| l.parse::<u64>().is_err()) {
        bad(format!("a Content-Length beyond 64 bits: {lengths:?}"));
    }
    for hop in ["keep-alive", "proxy-connection", "te", "trailer"] {
        if !all(hop).is_empty() {
            bad(format!("the hop-by-hop field {hop}"));
        }
    }
    let upgrading = connection.iter().any(|t| t == "upgrade");
    if !all("upgrade").is_empty() && !upgrading {
        bad("Upgrade without Connection: upgrade".into());
    }
    for token in &connection {
        if !["close", "keep-alive", "upgrade"].contains(&token.as_str()) {
            bad(format!("the connection option {token}"));
        }
    }
    let mut used = head;
    let body = if chunked {
        match dechunk(&bytes[head..]) {
            Chunked::Whole(len, n) => {
                used += n;
                len.to_string()
            }
            Chunked::Cut(len) => {
                used = bytes.len();
                format!("{len}(cut)")
            }
            Chunked::Broken => {
                bad("a chunked body that does not parse".into());
                used = bytes.len();
                "broken".into()
            }
        }
    } else if let Some(len) = lengths.first().and_then(|l| l.parse::<usize>().ok()) {
        let have = len.min(bytes.len() - head);
        used += have;
        if have < len {
            format!("{have}(cut)")
        } else {
            len.to_string()
        }
    } else {
        "0".into()
    };
    let mut names: Vec<String> = fields
        .iter()
        .map(|(n, v)| match n.as_str() {
            "host" | "content-length" | "transfer-encoding" | "upgrade" | "expect" => {
                format!("{n}={v}")
            }
            _ => n.clone(),
        })
        .filter(|n| n != "connection")
        .collect();
    names.sort();
    let text = format!(
        "{} {} HTTP/1.{version} [{}] body={body}",
        req.method?,
        req.path?,
        names.join(" ")
    );
    Some((text, used, last))
}

enum Chunked {
    /// The decoded length and the bytes the framing took.
    Whole(usize, usize),
    /// The body stops before its end.
    Cut(usize),
    Broken,
}

/// Reads a chunked body strictly as RFC 9112 §7.1 writes it.
fn dechunk(bytes: &[u8]) -> Chunked {
    let mut at = 0;
    let mut total = 0;
    loop {
        let Some(eol) = bytes[at..].windows(2).position(|w| w == b"\r\n") else {
            return Chunked::Cut(total);
        };
        let line = &bytes[at..at + eol];
        let size = line.split(|&b| b == b';').next().unwrap_or_default();
        let Some(size) = std::str::from_utf8(size)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| usize::from_str_radix(s, 16).ok())
        else {
            return Chunked::Broken;
        };
        if line.contains(&b'\n') || line.contains(&b'\r') {
            return Chunked::Broken;
        }
        at += eol + 2;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let Some(eol) = bytes[at..].windows(2).position(|w| w == b"\r\n") else {
                    return Chunked::Cut(total);
                };
                at += eol + 2;
                if eol == 0 {
                    return Chunked::Whole(total, at);
                }
            }
        }
        if bytes.len() < at + size + 2 {
            return Chunked::Cut(total + (bytes.len() - at).min(size));
        }
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Chunked::Broken;
        }
        total += size;
        at += size + 2;
    }
}

/// Where the two proxies ended a case differently.
pub fn differ(a: &Outcome, b: &Outcome) -> bool {
    a.statuses != b.statuses
        || a.forwarded != b.forwarded
        || a.violations.is_empty() != b.violations.is_empty()
}

/// hapee's own verdicts on the cases issue 21 names, whatever haproxy does: the status the
/// client gets and whether the server sees anything.
const VERDICTS: [(&str, u16, bool); 16] = [
    ("host-two-different", 400, false),
    ("host-two-same", 200, true),
    ("host-absolute-differs", 400, false),
    ("te-header-twice", 400, false),
    ("te-chunked-twice-in-list", 400, false),
    ("te-identity-chunked", 422, false),
    ("te-gzip-chunked", 422, false),
    ("cl-empty", 400, false),
    ("cl-2-pow-64", 400, false),
    ("name-empty", 400, false),
    ("chunk-size-non-hex", 400, false),
    ("chunk-data-longer", 400, false),
    ("conn-host", 200, true),
    ("http10-with-host", 200, true),
    ("connect-basic", 200, true),
    ("connect-no-port", 400, false),
];

#[test]
fn hostile_requests_are_never_forwarded_as_the_rfcs_forbid_and_end_as_in_haproxy() {
    let cases = cases();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let reasons = differences();
    let (hapee, haproxy) = run_both(&cases);
    let mut failures = Vec::new();
    for (case, ours) in cases.iter().zip(&hapee) {
        if !ours.violations.is_empty() {
            failures.push(format!(
                "{}: hapee forwarded {:?}",
                case.id, ours.violations
            ));
        }
        if let Some((_, status, forwarded)) = VERDICTS.iter().find(|v| v.0 == case.id) {
            if ours.statuses.first() != Some(status) || ours.forwarded.is_empty() == *forwarded {
                failures.push(format!(
                    "{}: hapee {} / {}, expected {status} and forwarded={forwarded}",
                    case.id,
                    ours.statuses_text(),
                    ours.forwarded_text()
                ));
            }
        }
    }
    // The requests that name Host in Connection or arrive in HTTP/1.0 reach the server with
    // their Host, and HTTP/1.0 stays HTTP/1.0.
    let seen = |id: &str| {
        let i = cases.iter().position(|c| c.id == id).unwrap();
        hapee[i].forwarded_text()
    };
    assert!(
        seen("conn-host").contains("host=a"),
        "{}",
        seen("conn-host")
    );
    assert!(
        seen("http10-with-host").contains("HTTP/1.0 [host=a]"),
        "{}",
        seen("http10-with-host")
    );
    assert!(
        seen("cl-te-basic").contains("transfer-encoding=chunked] body=0"),
        "{}",
        seen("cl-te-basic")
    );
    if let Some(haproxy) = &haproxy {
        for ((case, ours), theirs) in cases.iter().zip(&hapee).zip(haproxy) {
            if differ(ours, theirs) && !reasons.contains_key(&case.id) {
                failures.push(format!(
                    "{}: hapee {} / {} but haproxy {} / {}, and differences.txt gives no reason",
                    case.id,
                    ours.statuses_text(),
                    ours.forwarded_text(),
                    theirs.statuses_text(),
                    theirs.forwarded_text()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole table, printed and written to docs/hostile-requests.md (`bench/hostile.sh`).
#[test]
#[ignore = "prints the full comparison table; run by bench/hostile.sh"]
fn hostile_requests_table() {
    let cases = cases();
    let reasons = differences();
    let (hapee, haproxy) = run_both(&cases);
    let haproxy = haproxy.expect("the table needs Debian's haproxy installed");
    let version = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    let same = cases
        .iter()
        .zip(&hapee)
        .zip(&haproxy)
        .filter(|((_, a), b)| !differ(a, b))
        .count();
    let violations: usize = hapee.iter().map(|o| o.violations.len()).sum();
    let their_violations = haproxy.iter().filter(|o| !o.violations.is_empty()).count();
    let mut doc = format!(
        "# Hostile HTTP/1 requests: hapee and HAProxy side by side\n\n\
Generated by `bench/hostile.sh` from `testdata/hostile/requests.txt` ({} cases). Each request is \
sent on its own connection through hapee and through Debian's haproxy ({version}) with the same \
configuration; the server records every byte it receives. \"Forwarded\" summarises each request \
the server got: request line, header names (framing and Host with their values), and the body \
length it framed (`(cut)`: the client stopped sending).\n\n\
- Same outcome in {same} cases, different in {}; every difference has its reason below.\n\
- Requests hapee forwarded that RFC 9110/9112 forbid a proxy to send: {violations}.\n\
- Cases where haproxy forwarded something the checks flag: {their_violations}.\n\n\
| group | case | haproxy: status | haproxy: forwarded | hapee: status | hapee: forwarded | why hapee differs |\n\
|---|---|---|---|---|---|---|\n",
        cases.len(),
        cases.len() - same,
    );
    for ((case, ours), theirs) in cases.iter().zip(&hapee).zip(&haproxy) {
        let why = if differ(ours, theirs) {
            reasons
                .get(&case.id)
                .cloned()
                .unwrap_or_else(|| "**no reason given**".into())
        } else {
            String::new()
        };
        let cell = |s: String| s.replace('|', "\\|");
        let flagged = |o: &Outcome| {
            if o.violations.is_empty() {
                String::new()
            } else {
                format!(" **(forbidden: {})**", o.violations.join("; "))
            }
        };
        doc.push_str(&format!(
            "| {} | `{}` | {} | {}{} | {} | {}{} | {} |\n",
            case.group,
            case.id,
            theirs.statuses_text(),
            cell(theirs.forwarded_text()),
            cell(flagged(theirs)),
            ours.statuses_text(),
            cell(ours.forwarded_text()),
            cell(flagged(ours)),
            cell(why)
        ));
    }
    println!("{doc}");
    std::fs::write(format!("{ROOT}/docs/hostile-requests.md"), doc).unwrap();
}
