//! Test harness: real origin servers (hyper), a real `hapee-lb run` process, real clients.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "harness_haproxy.rs"]
mod haproxy;
pub use haproxy::*;
#[path = "harness_scratch.rs"]
mod scratch;
pub use scratch::Scratch;
#[path = "harness_balance.rs"]
mod balance;
pub use balance::*;

/// A free TCP port on 127.0.0.1 that no other test of this process is given.
///
/// Ports come from a per-process counter below the kernel's ephemeral range: a port from
/// `bind(0)` may be handed out again to a concurrent test, and since the proxy binds with
/// SO_REUSEPORT, two proxies could then share a port and answer each other's requests.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `n` consecutive free ports on 127.0.0.1, all of them taken from the counter
/// of [`free_port`] at once, so that no concurrent test is given one of the others. (A test
/// that used `port + 1` without reserving it shared that port with the next test's proxy.)
///
/// Other test processes on the machine (other checkouts running their suites) draw from the
/// same range: each port is also claimed with a lock on a file of its own, held until this
/// process ends, so that two processes never hand out the same port while both run.
pub fn free_ports(n: u16) -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let start = std::process::id() as usize * 37;
    loop {
        let base = 20_000 + (start + NEXT.fetch_add(usize::from(n), Ordering::SeqCst)) % 12_000;
        let Ok(base) = u16::try_from(base) else {
            continue;
        };
        // The claim comes before the probe: a probe binds (and listens on) the port for a
        // moment, which made a test binding again a port it holds (tls_early's origin, bound
        // anew on its claimed port) fail with EADDRINUSE when another suite probed it then.
        if base.checked_add(n).is_some_and(|end| end <= 32_000)
            && claim((base..base + n).collect())
            && (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            CLAIMED_HERE.with(|here| here.borrow_mut().extend(base..base + n));
            return base;
        }
    }
}

thread_local! {
    /// The ports this thread (one test) claimed, for [`assert_within_claimed`].
    static CLAIMED_HERE: std::cell::RefCell<std::collections::HashSet<u16>> =
        std::cell::RefCell::default();
}

/// Locks one file per port (`$TMPDIR/hapee-test-ports/<port>`), all or none; the locks stay
/// held for the life of the process.
fn claim(ports: Vec<u16>) -> bool {
    static HELD: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());
    let dir = std::env::temp_dir().join("hapee-test-ports");
    let _ = std::fs::create_dir_all(&dir);
    let mut taken = Vec::new();
    for port in ports {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(port.to_string()));
        match file {
            Ok(f) if f.try_lock().is_ok() => taken.push(f),
            // Held by another process (or the folder is unusable: then go by bind alone).
            Ok(_) => return false,
            Err(_) => {}
        }
    }
    HELD.lock().unwrap_or_else(|e| e.into_inner()).extend(taken);
    true
}

/// Waits up to `limit` for `done` to hold, checking every 50 ms; answers whether it held.
/// Tests wait on a condition (a log line written, a count reached) rather than for a fixed
/// time, which a loaded machine may overrun.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP origin that describes each request it gets in its response body.
pub struct Origin {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    /// TCP connections accepted.
    pub conns: Arc<AtomicUsize>,
    /// When set, `/health` answers 503.
    pub sick: Arc<AtomicBool>,
    /// When not 0, the status `/health` answers (over `sick`).
    pub health_status: Arc<AtomicU16>,
    /// Requests for `/slow/…` received (counted on arrival, before the wait).
    pub slow: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// `health`: the status `/health` answers.
async fn describe(name: String, req: Request<Incoming>, health: u16) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if path == "/health" {
        let status = health;
        return Response::builder()
            .status(status)
            .body(Full::new(Bytes::from("health")))
            .unwrap();
    }
    if let Some(ms) = path.strip_prefix("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(100))).await;
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return Response::builder()
            .status(code.parse::<u16>().unwrap_or(500))
            .body(Full::new(Bytes::from(format!("name={name}\n"))))
            .unwrap();
    }
    let mut text = format!(
        "name={name}\nmethod={}\npath={path}\nquery={query}\n",
        req.method()
    );
    let mut headers: Vec<String> = req
        .headers()
        .iter()
        .map(|(n, v)| format!("hdr:{}={}", n, v.to_str().unwrap_or("?")))
        .collect();
    headers.sort();
    for h in headers {
        text.push_str(&h);
        text.push('\n');
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    text.push_str(&format!("body={}\n", String::from_utf8_lossy(&body)));
    Response::builder()
        .header("x-origin", name)
        .body(Full::new(Bytes::from(text)))
        .unwrap()
}

impl Origin {
    pub fn start(name: &str) -> Origin {
        Origin::start_on(name, 0)
    }

    pub fn start_on(name: &str, port: u16) -> Origin {
        Origin::start_at(name, "127.0.0.1", port)
    }

    /// An origin on `ip`:`port` (another loopback address, for a server written without a
    /// port that is reached on the proxy's own port).
    pub fn start_at(name: &str, ip: &str, port: u16) -> Origin {
        let listener = TcpListener::bind((ip, port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let conns = Arc::new(AtomicUsize::new(0));
        let c = conns.clone();
        let sick = Arc::new(AtomicBool::new(false));
        let health_status = Arc::new(AtomicU16::new(0));
        let slow = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (h, s, n) = (hits.clone(), sick.clone(), name.to_string());
        let forced = health_status.clone();
        let w = slow.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut rx => return,
                        a = listener.accept() => {
                            let Ok((stream, _)) = a else { continue };
                            c.fetch_add(1, Ordering::SeqCst);
                            let (h, s, n, w) = (h.clone(), s.clone(), n.clone(), w.clone());
                            let forced = forced.clone();
                            tokio::spawn(async move {
                                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                                    h.fetch_add(1, Ordering::SeqCst);
                                    if req.uri().path().starts_with("/slow/") {
                                        w.fetch_add(1, Ordering::SeqCst);
                                    }
                                    let health = match forced.load(Ordering::SeqCst) {
                                        0 if s.load(Ordering::SeqCst) => 503,
                                        0 => 200,
                                        status => status,
                                    };
                                    let n = n.clone();
                                    async move {
                                        if req.headers().contains_key("upgrade") {
                                            return Ok::<_, std::convert::Infallible>(upgrade_echo(req));
                                        }
                                        Ok(describe(n, req, health).await)
                                    }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), svc)
                                    .with_upgrades()
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Origin {
            addr,
            hits,
            conns,
            sick,
            health_status,
            slow,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Stops listening and drops every connection, like a crashed server.
    pub fn kill(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers `101 Switching Protocols` and echoes every byte back, upper-cased.
fn upgrade_echo(mut req: Request<Incoming>) -> Response<Full<Bytes>> {
    let on = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok(up) = on.await {
            let mut io = TokioIo::new(up);
            let mut buf = [0u8; 1024];
            while let Ok(n) = io.read(&mut buf).await {
                if n == 0 || io.write_all(&buf[..n].to_ascii_uppercase()).await.is_err() {
                    break;
                }
            }
        }
    });
    Response::builder()
        .status(101)
        .header("upgrade", "echo")
        .header("connection", "upgrade")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `hapee-lb` that [`Proxy`] starts: the test build's, or the binary `HAPEE_LB_BIN` names
/// (a release, profile-guided or BOLT build: bench/bolt_build.sh), so that those builds can be
/// run through the same tests.
pub fn hapee_lb() -> std::ffi::OsString {
    std::env::var_os("HAPEE_LB_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_hapee-lb").into())
}

/// A running `hapee-lb run`, and its folder (configuration, logs), removed with it.
pub struct Proxy {
    pub child: Child,
    pub dir: Scratch,
}

impl Proxy {
    /// Writes `config` and starts the proxy; waits until `port` accepts connections.
    pub fn start(config: &str, port: u16) -> Proxy {
        Proxy::start_with(config, port, &[])
    }

    /// [`Proxy::start`] with more command-line arguments (`-W`, `-S …`, `-sf …`, `-L name`).
    pub fn start_with(config: &str, port: u16, args: &[&str]) -> Proxy {
        assert_within_claimed(config, port);
        let dir = Scratch::dir(&Proxy::dir_name(port));
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new(hapee_lb())
            .arg("run")
            .args(args)
            .arg("-f")
            .arg(&cfg)
            .current_dir(&dir)
            .stdout(Stdio::from(
                std::fs::File::create(dir.join("stdout.log")).unwrap(),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).unwrap(),
            ))
            .spawn()
            .expect("start hapee-lb");
        let mut p = Proxy { child, dir };
        let log = p.dir.join("stderr.log");
        wait_listening(&mut p.child, config, port, "hapee-lb", &log);
        p
    }

    /// The folder a proxy started on `port` writes to (made when it starts), for a file a
    /// test names before then (a master CLI socket).
    pub fn dir_for(port: u16) -> std::path::PathBuf {
        std::env::temp_dir().join(Proxy::dir_name(port))
    }

    fn dir_name(port: u16) -> String {
        format!("hapee-rt-{}-{port}", std::process::id())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default()
    }

    /// Its standard output once `logged` holds on it (or after 10 s): logs are written after
    /// the answer, so a test reading them waits for what it expects instead of a fixed time.
    pub fn stdout_when(&self, logged: impl Fn(&str) -> bool) -> String {
        wait_until(Duration::from_secs(10), || logged(&self.stdout()));
        self.stdout()
    }

    pub fn signal(&self, sig: &str) {
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TCP ports on 127.0.0.1 that the `bind` lines of `config`'s frontends and listen
/// sections name.
fn frontend_ports(config: &str) -> Vec<u16> {
    let mut in_frontend = false;
    let mut ports = Vec::new();
    for line in config.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else {
            continue;
        };
        if !line.starts_with(char::is_whitespace) {
            in_frontend = matches!(first, "frontend" | "listen");
            continue;
        }
        let Some(addr) = words.next().filter(|_| in_frontend && first == "bind") else {
            continue;
        };
        let addr = addr.strip_prefix("ipv4@").unwrap_or(addr);
        if let Some(port) = addr.strip_prefix("127.0.0.1:").and_then(|p| p.parse().ok()) {
            ports.push(port);
        }
    }
    ports
}

/// Whether a socket that takes connections to 127.0.0.1:`port` listens, as the kernel lists
/// them.
fn listens(port: u16) -> bool {
    !listening_queues(port).is_empty()
}

/// How many connections to 127.0.0.1:`port` wait in the listening sockets' accept queues
/// (made by the kernel, not yet accepted by the proxy), as the kernel lists them.
pub fn accept_queue(port: u16) -> usize {
    listening_queues(port).iter().sum()
}

/// The accept queue's length of each socket that listens for 127.0.0.1:`port`: on 127.0.0.1
/// or on any address, IPv4 or dual-stack IPv6 (a listening socket's `rx_queue` in
/// `/proc/net/tcp` is its accept queue's length).
fn listening_queues(port: u16) -> Vec<usize> {
    let wanted = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
        format!("00000000000000000000000000000000:{port:04X}"),
        format!("0000000000000000FFFF00000100007F:{port:04X}"),
    ];
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|file| {
            let table = std::fs::read_to_string(file).unwrap_or_default();
            table
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let (local, state, queues) = (*f.get(1)?, *f.get(3)?, *f.get(4)?);
                    let waiting = queues.split_once(':')?.1;
                    (state == "0A" && wanted.iter().any(|w| w == local))
                        .then(|| usize::from_str_radix(waiting, 16).ok())?
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs curl; returns (status code, body). When curl got no response head at all (status 0:
/// refused, reset, closed unanswered, timed out), the body is curl's error message instead,
/// so that an assertion on the pair says why.
pub fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed (see .ci/run)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let code = code.trim().parse().unwrap_or(0);
    if code == 0 {
        let why = String::from_utf8_lossy(&out.stderr);
        return (0, format!("{body}{}", why.trim_end()));
    }
    (code, body.to_string())
}

/// Connects to `addr`, waiting up to 5 s for it to listen: a proxy binds its listeners one
/// after the other, and [`Proxy::start`] waits only for the first.
pub fn connect(addr: (&str, u16)) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return s,
            Err(e) if Instant::now() > deadline => panic!("connect {addr:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Opens a connection to 127.0.0.1:`port` and closes it without sending a byte (a browser's
/// pre-connection; what the proxy logs as `<BADREQ>` in HTTP mode).
pub fn empty_connection(port: u16) {
    drop(connect(("127.0.0.1", port)));
}

/// Sends raw bytes and reads until the server closes or `wait` passes. The port may be one
/// of a proxy's later listeners (see [`connect`]).
pub fn raw(port: u16, request: &[u8], wait: Duration) -> String {
    let mut s = connect(("127.0.0.1", port));
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends raw bytes and reads until what came back is `enough` (an answer's whole head, say),
/// the server closes, or `limit` passes. For an answer on a connection kept open, where
/// [`raw`]'s quiet time would have to guess how long a loaded machine takes to answer.
pub fn raw_until(
    port: u16,
    request: &[u8],
    enough: impl Fn(&str) -> bool,
    limit: Duration,
) -> String {
    let deadline = Instant::now() + limit;
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while !enough(&String::from_utf8_lossy(&out)) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || s.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `answer` holds a whole response head.
pub fn has_head(answer: &str) -> bool {
    answer.contains("\r\n\r\n")
}

/// The usual defaults section of the tests.
/// A file of HAProxy's reg-test corpus (`../shared/corpus/regtests-2.7/<rel>`), absolute, or
/// `None` (a failure under CI) when the corpus is not there.
pub fn corpus_path(rel: &str) -> Option<String> {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/regtests-2.7")
        .join(rel);
    match p.canonicalize() {
        Ok(p) => Some(p.display().to_string()),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("the reg-test corpus is missing: {}", p.display())
        }
        Err(_) => {
            eprintln!("corpus not found at {}: skipping", p.display());
            None
        }
    }
}

pub const DEFAULTS: &str = "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
";

/// [`DEFAULTS`] with every proxy logging to standard output (raw lines), for the tests that
/// compare logs.
pub const LOGGED_DEFAULTS: &str = "global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
";

/// Sends `request` on a connection of its own to `127.0.0.1:port` and reads until the other
/// side closes it.
pub fn send_and_read(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = connect(("127.0.0.1", port));
    s.write_all(request).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

/// [`LOGGED_DEFAULTS`] with more `global` lines (`stats socket …`, `nbthread …`), each
/// indented and ending its line.
pub fn logged_defaults_with(global: &str) -> String {
    LOGGED_DEFAULTS.replacen("global\n", &format!("global\n{global}"), 1)
}

/// Runs `command` with `input` on its standard input (closed after it); its output once it
/// exits.
pub fn output_with_input(command: &mut Command, input: &[u8]) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    child.stdin.take().expect("piped").write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The tail of most test configurations: a frontend `fe` on 127.0.0.1:`port` with the lines
/// `frontend` (each ending in a newline) that sends every request to the backend `app`, whose
/// one server `s1` is `server` (its address, and any options after it).
pub fn fe_to_app(port: u16, frontend: &str, server: impl std::fmt::Display) -> String {
    format!(
        "frontend fe
    bind 127.0.0.1:{port}
{frontend}    default_backend app
backend app
    server s1 {server}
"
    )
}

/// A server that reads what it is sent and never answers.
pub fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = [0u8; 16384];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// A server that answers every connection with `reply` (or nothing) after `delay`, holds it
/// open for `hold`, and then closes it.
pub fn raw_server(reply: &'static [u8], delay: Duration, hold: Duration) -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                std::thread::sleep(delay);
                let _ = s.write_all(reply);
                std::thread::sleep(hold);
            });
        }
    });
    addr
}

/// Whether the external `tool` can be run. A missing tool skips the test with a message,
/// except under `CI=true`, where `.ci/run` installs it and its absence is a failure.
pub fn have_tool(tool: &str, version_flag: &str) -> bool {
    if Command::new(tool)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{tool} is not installed, and CI=true requires it (see .ci/run)"
    );
    eprintln!("{tool} is not installed: skipping this test");
    false
}

/// A ClientHello record offering one suite, with `extensions` (ID, content) in order.
pub fn client_hello(extensions: &[(u16, &[u8])]) -> Vec<u8> {
    let mut exts = Vec::new();
    for (id, content) in extensions {
        exts.extend_from_slice(&id.to_be_bytes());
        exts.extend_from_slice(&(content.len() as u16).to_be_bytes());
        exts.extend_from_slice(content);
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    record.extend_from_slice(&msg);
    record
}

/// The bytes of `s` up to and with the first empty line, or what came before the connection
/// closed or stayed silent for 5 s.
pub fn read_head(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Fails a test whose configuration names a port just past the `port` it is started on without
/// having claimed it ([`free_ports`] on this thread): such a port may be handed to a test
/// running beside it, whose proxy then shares it (SO_REUSEPORT) and whose probes land in this
/// one's logs. Ports from `port + 1` to 63 past it count; the origins tests start take ports
/// far from there.
fn assert_within_claimed(config: &str, port: u16) {
    let beyond = config
        .split(':')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u16>().ok()
        })
        .find(|&p| {
            p > port
                && p < port.saturating_add(64)
                && !CLAIMED_HERE.with(|here| here.borrow().contains(&p))
        });
    if let Some(p) = beyond {
        panic!(
            "the configuration names port {p} (port + {}), which this test did not claim: \
             use free_ports(n) or both_reading(n, …) for n consecutive ports",
            p - port
        );
    }
}

/// Waits until `port` and the other ports `config`'s frontends name listen, for up to 20 s,
/// failing with the program's standard error (`stderr_log`) when it exits or never listens.
/// Listening is seen in the kernel's socket table, not by connecting: a probe connection
/// would be a session of the proxy's own, counted and logged whenever a loaded machine gets
/// round to accepting it, in the middle of what a test counts. (Connections made once the
/// socket listens wait in its queue until the proxy accepts them.) A proxy binds its
/// listeners one after the other, so the others are waited for too.
fn wait_listening(
    child: &mut Child,
    config: &str,
    port: u16,
    program: &str,
    stderr_log: &std::path::Path,
) {
    let stderr = || std::fs::read_to_string(stderr_log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !listens(port) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{program} exited with {status}: {}", stderr());
        }
        assert!(
            Instant::now() < deadline,
            "{program} did not start: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for other in frontend_ports(config).into_iter().filter(|&o| o != port) {
        let listening = wait_until(deadline.saturating_duration_since(Instant::now()), || {
            listens(other)
        });
        assert!(listening, "port {other} never listened: {}", stderr());
    }
}
