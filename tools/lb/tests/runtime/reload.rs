//! Master-worker mode and hitless reloads over real sockets: keep-alive clients and clients
//! opening a connection per request run through reloads (SIGUSR2, the master CLI's `reload`,
//! a broken configuration, the standalone `-sf`) and must lose nothing.

use crate::harness::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One HTTP/1.1 client connection that reads whole responses.
struct Client {
    port: u16,
    conn: Option<BufReader<TcpStream>>,
}

/// What one request got.
enum Outcome {
    /// A response, and whether it closed the connection (`Connection: close`).
    Answered {
        close: bool,
    },
    Failed(String),
    /// A new connection reset before any byte of an answer (at its connect, its write or its
    /// first read): what the kernel does to the connections it queued on a listening socket
    /// as the socket closes (see [`Load::finish_apart`]).
    Reset(String),
    /// A kept-alive connection closed (or reset) before any byte of an answer to its next
    /// request: a stopping worker closes its idle connections at once, as HAProxy does, and
    /// a request sent at that moment is one a client retries on a new connection (RFC 9110,
    /// 9.2.2). Counted with the connections the proxy ended.
    Retry,
}

/// Whether `e` is the reset of a connection (or a write after it).
fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
    )
}

impl Client {
    fn new(port: u16) -> Client {
        Client { port, conn: None }
    }

    fn get(&mut self, close: bool) -> Outcome {
        let fresh = self.conn.is_none();
        if fresh {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    self.conn = Some(BufReader::new(s));
                }
                Err(e) if is_reset(&e) => return Outcome::Reset(format!("connect: {e}")),
                Err(e) => return Outcome::Failed(format!("connect: {e}")),
            }
        }
        let conn = self.conn.as_mut().unwrap();
        let extra = if close { "connection: close\r\n" } else { "" };
        let req = format!("GET /ka HTTP/1.1\r\nhost: t\r\n{extra}\r\n");
        if let Err(e) = conn.get_mut().write_all(req.as_bytes()) {
            self.conn = None;
            if !fresh {
                return Outcome::Retry;
            }
            if is_reset(&e) {
                return Outcome::Reset(format!("write: {e}"));
            }
            return Outcome::Failed(format!("write: {e}"));
        }
        let mut length = 0usize;
        let mut closing = close;
        let mut status = String::new();
        let first = conn.read_line(&mut status);
        if first.as_ref().map_or(true, |&n| n == 0) {
            self.conn = None;
            if !fresh {
                return Outcome::Retry;
            }
            let on = if fresh { "new" } else { "reused" };
            return match first {
                Err(e) if fresh && is_reset(&e) => Outcome::Reset(format!("read: {e}")),
                Err(e) => {
                    Outcome::Failed(format!("closed before a response ({e}, {on} connection)"))
                }
                Ok(_) => Outcome::Failed(format!("closed before a response ({on} connection)")),
            };
        }
        loop {
            let mut line = String::new();
            if conn.read_line(&mut line).map_or(true, |n| n == 0) {
                self.conn = None;
                return Outcome::Failed("closed inside a response".into());
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if l.starts_with("connection:") && l.contains("close") {
                closing = true;
            }
        }
        let mut body = vec![0u8; length];
        if conn.read_exact(&mut body).is_err() {
            self.conn = None;
            return Outcome::Failed("short body".into());
        }
        if !status.contains(" 200 ") {
            return Outcome::Failed(status);
        }
        if closing {
            self.conn = None;
        }
        Outcome::Answered { close: closing }
    }
}

/// Clients requesting without pause until stopped: keep-alive ones and one that opens a
/// connection per request.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    closed_by_proxy: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    resets: Arc<std::sync::Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    pub(crate) fn start(port: u16, keep_alive: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let closed_by_proxy = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
        let resets = Arc::new(std::sync::Mutex::new(Vec::new()));
        let threads = (0..=keep_alive)
            .map(|i| {
                let (stop, answered, closed, failures, resets) = (
                    stop.clone(),
                    answered.clone(),
                    closed_by_proxy.clone(),
                    failures.clone(),
                    resets.clone(),
                );
                let new_conn_each_time = i == keep_alive;
                std::thread::spawn(move || {
                    let mut c = Client::new(port);
                    let which = if new_conn_each_time {
                        "a new connection"
                    } else {
                        "a keep-alive connection"
                    };
                    while !stop.load(Ordering::Relaxed) {
                        // After a reset the next round is the retry, on a new connection.
                        match c.get(new_conn_each_time) {
                            Outcome::Answered { close } => {
                                answered.fetch_add(1, Ordering::Relaxed);
                                if close && !new_conn_each_time {
                                    closed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Outcome::Failed(e) => {
                                failures.lock().unwrap().push(format!("{e} ({which})"))
                            }
                            Outcome::Reset(e) => {
                                resets.lock().unwrap().push(format!("{e} ({which})"))
                            }
                            Outcome::Retry => {
                                closed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            answered,
            closed_by_proxy,
            failures,
            resets,
            threads,
        }
    }

    /// Stops the clients: the requests answered, the keep-alive connections the proxy ended
    /// by a response, and every failure (a reset counts as one).
    pub(crate) fn finish(self) -> (usize, usize, Vec<String>) {
        let (answered, closed_by_proxy, mut failures, resets) = self.stop_all();
        failures.extend(resets);
        (answered, closed_by_proxy, failures)
    }

    /// [`Load::finish`] with the resets of new connections apart from the other failures:
    /// the requests answered, the failures, the resets. A process that closes a listening
    /// socket it shares with its replacement (SO_REUSEPORT, a standalone `-sf` reload without
    /// `-x`) makes the kernel reset the connections queued on that socket, which HAProxy's
    /// management guide describes (section 4) and only a hand-over of the sockets avoids.
    pub(crate) fn finish_apart(self) -> (usize, Vec<String>, Vec<String>) {
        let (answered, _, failures, resets) = self.stop_all();
        (answered, failures, resets)
    }

    fn stop_all(self) -> (usize, usize, Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        let resets = self.resets.lock().unwrap().clone();
        (
            self.answered.load(Ordering::Relaxed),
            self.closed_by_proxy.load(Ordering::Relaxed),
            failures,
            resets,
        )
    }
}

/// One command on the master CLI; its whole answer.
pub(crate) fn master_cli(path: &std::path::Path, command: &str) -> String {
    let mut s = UnixStream::connect(path).expect("master CLI");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The worker pids `show proc` lists under `# workers` and `# old workers`.
pub(crate) fn workers(show_proc: &str) -> (Vec<u32>, Vec<u32>) {
    let (mut current, mut old) = (Vec::new(), Vec::new());
    let mut section = 0;
    for line in show_proc.lines() {
        match line {
            "# workers" => section = 1,
            "# old workers" => section = 2,
            "# programs" => section = 3,
            l => {
                let pid = l.split_whitespace().next().and_then(|p| p.parse().ok());
                match (section, pid) {
                    (1, Some(p)) => current.push(p),
                    (2, Some(p)) => old.push(p),
                    _ => {}
                }
            }
        }
    }
    (current, old)
}

/// Waits until the master lists a current worker other than `before`; answers it.
pub(crate) fn wait_new_worker(cli: &std::path::Path, before: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (current, _) = workers(&master_cli(cli, "show proc"));
        if let Some(&p) = current.first().filter(|&&p| p != before) {
            return p;
        }
        assert!(Instant::now() < deadline, "no new worker after the reload");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config(port: u16, origin: &Origin) -> String {
    format!(
        "global
    hard-stop-after 30s
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s
frontend fe
    bind 127.0.0.1:{port}
    default_backend b
backend b
    server s {}
",
        origin.addr
    )
}

#[test]
fn reloads_under_load_lose_no_request_and_a_broken_configuration_keeps_the_old_worker() {
    let origin = Origin::start("o");
    let port = free_port();
    let (proxy, cli) = start_master(&config(port, &origin), port);
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    let mut worker = first[0];
    let load = Load::start(port, 4);
    std::thread::sleep(Duration::from_millis(300));
    // SIGUSR2 reloads, each one waited for.
    for _ in 0..3 {
        proxy.signal("USR2");
        worker = wait_new_worker(&cli, worker);
        std::thread::sleep(Duration::from_millis(200));
    }
    // A broken configuration: reported, and the worker in place keeps serving.
    let cfg = proxy.dir.join("haproxy.cfg");
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{good}    bogus-keyword here\n")).unwrap();
    proxy.signal("USR2");
    let deadline = Instant::now() + Duration::from_secs(60);
    let show = loop {
        let show = master_cli(&cli, "show proc");
        if show.contains("[failed: 1]") {
            break show;
        }
        assert!(Instant::now() < deadline, "{show}\n{}", proxy.stderr());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(workers(&show).0, vec![worker], "{show}");
    assert!(
        proxy.stderr().contains("bogus-keyword"),
        "the errors are reported: {}",
        proxy.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    // Fixed again, and reloaded through the master CLI.
    std::fs::write(&cfg, good).unwrap();
    master_cli(&cli, "reload");
    wait_new_worker(&cli, worker);
    std::thread::sleep(Duration::from_millis(500));
    let (answered, closed_by_proxy, failures) = load.finish();
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    assert!(answered > 20, "only {answered} requests were answered");
    assert!(
        closed_by_proxy > 0,
        "old workers end keep-alive connections (by a response with Connection: close, or \
         closing an idle one)"
    );
    // The old workers leave once their connections are done.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let show = master_cli(&cli, "show proc");
        if workers(&show).1.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "old workers linger: {show}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn standalone_reload_with_sf_hands_the_port_over_without_a_refusal() {
    let origin = Origin::start("o");
    let port = free_port();
    let mut old = Proxy::start(&config(port, &origin), port);
    let clients = 3;
    let load = Load::start(port, clients - 1);
    std::thread::sleep(Duration::from_millis(300));
    let pid = old.child.id().to_string();
    let _new = Proxy::start_with(&config(port, &origin), port, &["-sf", &pid]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while old.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the old process does not leave");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (answered, failures, resets) = load.finish_apart();
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    // The port is never refused. Without `-x` the old process closes its own listening socket
    // as it leaves, and the kernel resets a connection it had queued there (the keep-alive
    // clients, ended by `Connection: close`, reconnect just then): each client can be caught
    // once, by the one closing socket (one thread group), and its retry reaches the new
    // process. `-x` hands the socket over and loses none (`handover.rs`).
    assert!(
        resets.len() <= clients,
        "more resets than one per client: {resets:?}"
    );
    assert!(answered > 10);
}

/// Starts `hapee-lb -W -S` on `config`; answers the proxy and its master CLI path.
pub(crate) fn start_master(config: &str, port: u16) -> (Proxy, std::path::PathBuf) {
    // In the proxy's folder, which goes with it.
    let cli = Proxy::dir_for(port).join("master.sock");
    let proxy = Proxy::start_with(config, port, &["-W", "-S", cli.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&cli).is_err() {
        assert!(
            Instant::now() < deadline,
            "no master CLI: {}",
            proxy.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (proxy, cli)
}

/// A request to `/slow/<ms>` left running on its own connection.
fn slow_request(port: u16, ms: u32) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        raw(
            port,
            format!("GET /slow/{ms} HTTP/1.1\r\nhost: t\r\n\r\n").as_bytes(),
            Duration::from_secs(60),
        )
    })
}

#[test]
fn old_workers_end_at_hard_stop_after_and_past_mworker_max_reloads() {
    let origin = Origin::start("o");
    let port = free_port();
    let cfg = config(port, &origin)
        .replace(
            "hard-stop-after 30s",
            "hard-stop-after 60s\n    mworker-max-reloads 1",
        )
        .replace("timeout server 10s", "timeout server 60s");
    let (proxy, cli) = start_master(&cfg, port);
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    // A request in flight keeps the first worker busy through two reloads.
    let busy = slow_request(port, 40_000);
    std::thread::sleep(Duration::from_millis(500));
    proxy.signal("USR2");
    let second = wait_new_worker(&cli, first[0]);
    let (_, old) = workers(&master_cli(&cli, "show proc"));
    assert!(old.contains(&first[0]), "one reload: the busy worker stays");
    proxy.signal("USR2");
    wait_new_worker(&cli, second);
    // Past its one allowed reload, the busy worker is terminated.
    let deadline = Instant::now() + Duration::from_secs(30);
    while workers(&master_cli(&cli, "show proc"))
        .1
        .contains(&first[0])
    {
        assert!(Instant::now() < deadline, "{}", proxy.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        proxy
            .stderr()
            .contains("exceeded the maximum number of reloads"),
        "{}",
        proxy.stderr()
    );
    let _ = busy.join();

    // hard-stop-after: an old worker with a request still running leaves at the limit.
    let port = free_port();
    let cfg = config(port, &origin)
        .replace("hard-stop-after 30s", "hard-stop-after 1s")
        .replace("timeout server 10s", "timeout server 60s");
    let (proxy, cli) = start_master(&cfg, port);
    let (first, _) = workers(&master_cli(&cli, "show proc"));
    let busy = slow_request(port, 40_000);
    std::thread::sleep(Duration::from_millis(500));
    proxy.signal("USR2");
    wait_new_worker(&cli, first[0]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while workers(&master_cli(&cli, "show proc"))
        .1
        .contains(&first[0])
    {
        assert!(Instant::now() < deadline, "{}", proxy.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !busy.join().unwrap().contains("200 OK"),
        "the request outlived hard-stop-after"
    );
}

#[test]
fn daemon_master_writes_its_pid_and_stops_with_its_workers() {
    let origin = Origin::start("o");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-dw-{}-{port}", std::process::id()));
    std::fs::write(dir.join("c.cfg"), config(port, &origin)).unwrap();
    let pidfile = dir.join("pid");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hapee-lb"))
        .args(["-D", "-W", "-p"])
        .arg(&pidfile)
        .arg("-f")
        .arg(dir.join("c.cfg"))
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the daemon does not serve");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 200);
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        cmdline.contains("-W"),
        "the pidfile names the master: {cmdline:?}"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the port stays open after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pids `show proc` lists under `# programs`.
fn programs(show_proc: &str) -> Vec<u32> {
    show_proc
        .split("# programs\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// A program runs beside the workers; a reload starts a new instance of it
/// (`start-on-reload` is the default); when it is killed, the master does not start it again
/// but ends everything, as HAProxy 2.7 does (exit-on-failure), and exits with its status.
#[test]
fn the_master_runs_program_sections_and_a_crashed_one_ends_it() {
    let origin = Origin::start("o");
    let port = free_port();
    let dir = Scratch::dir(&format!("hapee-prog-{}-{port}", std::process::id()));
    let marks = dir.join("starts.txt");
    let _ = std::fs::remove_file(&marks);
    let cfg = format!(
        "{}program ticker
    command sh -c \"echo started >> {} && exec sleep 600\"
",
        config(port, &origin),
        marks.display()
    );
    let (mut proxy, cli) = start_master(&cfg, port);
    let wait_for = |what: &str, ok: &dyn Fn(&[u32]) -> bool| -> Vec<u32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let list = programs(&master_cli(&cli, "show proc"));
            if ok(&list) {
                return list;
            }
            assert!(Instant::now() < deadline, "{what}: {}", proxy.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let first = wait_for("the program runs", &|l| l.len() == 1)[0];
    let lines = || {
        std::fs::read_to_string(&marks)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(wait_until(Duration::from_secs(30), || lines() >= 1));
    // A reload starts a new instance.
    proxy.signal("USR2");
    let second = wait_for("a new instance after the reload", &|l| {
        l.len() == 1 && l[0] != first
    })[0];
    assert!(wait_until(Duration::from_secs(30), || lines() >= 2));
    // It crashes: the master ends its workers and exits with the program's status.
    std::process::Command::new("kill")
        .args(["-KILL", &second.to_string()])
        .status()
        .unwrap();
    let mut status = None;
    assert!(wait_until(Duration::from_secs(30), || {
        status = proxy.child.try_wait().ok().flatten();
        status.is_some()
    }));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(137),
        "{}",
        proxy.stderr()
    );
    let stderr = proxy.stderr();
    for said in [
        format!("Current program 'ticker' ({second}) exited with code 137 (Killed)"),
        "exit-on-failure: killing every processes with SIGTERM".to_string(),
        "All workers exited. Exiting... (137)".to_string(),
    ] {
        assert!(stderr.contains(&said), "{said}: {stderr}");
    }
    assert_eq!(lines(), 2, "started again: {stderr}");
}

/// Kills the program whose pid is written in `pid_file` and waits for the master `child` to
/// exit: its exit code and the program's pid.
fn kill_program_and_wait(
    child: &mut std::process::Child,
    pid_file: &std::path::Path,
    engine: &str,
) -> (Option<i32>, u32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        let text = std::fs::read_to_string(pid_file).unwrap_or_default();
        if let Ok(pid) = text.trim().parse::<u32>() {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "{engine}: the program did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), pid);
        }
        assert!(
            Instant::now() < deadline,
            "{engine}: the master outlived its program"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// As HAProxy's master does, a program that dies with a failing status takes every process
/// down (exit-on-failure) and the master exits with that status; `master-worker
/// no-exit-on-failure` does not prevent it in HAProxy 2.6 or 2.7 (its master reads the
/// configuration, then re-executes itself without it). Side by side with Debian's haproxy.
#[test]
fn a_failing_program_stops_the_master_as_in_haproxy() {
    let origin = Origin::start("o");
    // What each engine says and its exit status once its program is killed.
    let run = |engine: &str| -> (Option<i32>, String, u32) {
        let port = free_port();
        let dir = Scratch::dir(&format!(
            "hapee-prog-{engine}-{}-{port}",
            std::process::id()
        ));
        let pid_file = dir.join("program.pid");
        let _ = std::fs::remove_file(&pid_file);
        let cfg = format!(
            "{}program ticker
    command sh -c 'echo $$ > {} && exec sleep 600'
",
            config(port, &origin)
                .replace("global\n", "global\n    master-worker no-exit-on-failure\n"),
            pid_file.display()
        );
        if engine == "haproxy" {
            let mut h = Haproxy::start_with(&cfg, port, &["-W"]);
            let (code, pid) = kill_program_and_wait(&mut h.child, &pid_file, engine);
            (code, h.stderr(), pid)
        } else {
            let (mut p, cli) = start_master(&cfg, port);
            // The master lists its program under `show proc` once it runs.
            let deadline = Instant::now() + Duration::from_secs(30);
            while programs(&master_cli(&cli, "show proc")).is_empty() {
                assert!(Instant::now() < deadline, "no program: {}", p.stderr());
                std::thread::sleep(Duration::from_millis(50));
            }
            let listed = programs(&master_cli(&cli, "show proc"));
            let (code, pid) = kill_program_and_wait(&mut p.child, &pid_file, engine);
            assert_eq!(listed, vec![pid]);
            (code, p.stderr(), pid)
        }
    };
    // Both exit with the program's status, saying why.
    let stopped = |(code, said, pid): (Option<i32>, String, u32)| {
        assert_eq!(code, Some(137), "{said}");
        let exited = format!("Current program 'ticker' ({pid}) exited with code 137 (Killed)");
        assert!(said.contains(&exited), "{said}");
        assert!(
            said.contains("exit-on-failure: killing every processes with SIGTERM"),
            "{said}"
        );
    };
    stopped(run("hapee"));
    if Haproxy::installed() {
        stopped(run("haproxy"));
    }
}
