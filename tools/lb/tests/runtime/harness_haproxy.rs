//! The reference side of side-by-side tests: Debian's haproxy (or a 2.7.0 build) on the same
//! configuration as hapee, and what it answered, logged or reported.

use super::*;

/// Debian's haproxy run on a configuration written to a file of its own, its standard
/// output and error kept in files; killed when dropped.
pub struct Haproxy {
    pub child: Child,
    pub dir: Scratch,
}

impl Haproxy {
    /// Whether haproxy is installed (required under `CI=true`).
    pub fn installed() -> bool {
        have_tool("haproxy", "-v")
    }

    /// `haproxy -db` on `cfg`, logging to its standard output (what `stop` answers).
    pub fn start(cfg: &str, port: u16) -> Haproxy {
        Haproxy::start_with(cfg, port, &["-db"])
    }

    /// Starts it with `args` before `-f CONFIG`, and waits until `port` listens (seen as
    /// [`Proxy::start_with`] sees it, without a connection).
    pub fn start_with(config: &str, port: u16, args: &[&str]) -> Haproxy {
        Haproxy::start_program(std::path::Path::new("haproxy"), config, port, args)
    }

    /// [`Haproxy::start_with`] for the haproxy at `program`.
    pub fn start_program(
        program: &std::path::Path,
        config: &str,
        port: u16,
        args: &[&str],
    ) -> Haproxy {
        Haproxy::start_program_env(program, config, port, args, &[])
    }

    /// [`Haproxy::start_program`] with `env` added to its environment (an OpenSSL
    /// configuration, say).
    pub fn start_program_env(
        program: &std::path::Path,
        config: &str,
        port: u16,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Haproxy {
        assert_within_claimed(config, port);
        let dir = Scratch::dir(&format!("hapee-ha-{}-{port}", std::process::id()));
        std::fs::write(dir.join("h.cfg"), config).unwrap();
        let child = Command::new(program)
            .envs(env.iter().copied())
            .args(args)
            .arg("-f")
            .arg(dir.join("h.cfg"))
            .stdout(Stdio::from(
                std::fs::File::create(dir.join("out.log")).unwrap(),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("err.log")).unwrap(),
            ))
            .spawn()
            .expect("start haproxy");
        let mut h = Haproxy { child, dir };
        let log = h.dir.join("err.log");
        wait_listening(&mut h.child, config, port, "haproxy", &log);
        h
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("err.log")).unwrap_or_default()
    }

    /// What it logged so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default()
    }

    /// Stops it and answers what it logged.
    pub fn stop(&mut self) -> String {
        self.stop_when(Duration::from_millis(300), |_| false)
    }

    /// Stops it once its log satisfies `logged` (or after `limit`), and answers the log.
    pub fn stop_when(&mut self, limit: Duration, logged: impl Fn(&str) -> bool) -> String {
        wait_until(limit, || logged(&self.stdout()));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdout()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's haproxy on `cfg(port)` while `drive(port)` runs: what `drive` answered and what
/// haproxy logged; `None` when haproxy is not installed.
pub fn with_haproxy<T>(
    cfg: impl Fn(u16) -> String,
    drive: impl FnOnce(u16) -> T,
) -> Option<(T, String)> {
    side_by_side(1, cfg, drive, Duration::from_millis(300), |_| false)
}

/// HAProxy 2.7.0 built from source, for the behaviours in which Debian's 2.6 differs from it:
/// `$HAPEE_HAPROXY_27`, else `/tmp/haproxy-2.7.0/haproxy`; `None` when there is none there.
pub fn haproxy_27() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("HAPEE_HAPROXY_27").map_or_else(
        || "/tmp/haproxy-2.7.0/haproxy".into(),
        std::path::PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    eprintln!(
        "skipping the comparison with HAProxy 2.7.0: no build at {}",
        path.display()
    );
    None
}

/// [`with_haproxy`] with HAProxy 2.7.0 (see [`haproxy_27`]): `None` without it.
pub fn with_haproxy_27<T>(
    cfg: impl Fn(u16) -> String,
    drive: impl FnOnce(u16) -> T,
) -> Option<(T, String)> {
    let program = haproxy_27()?;
    let port = free_port();
    let mut h = Haproxy::start_program(&program, &cfg(port), port, &["-db"]);
    let out = drive(port);
    Some((out, h.stop()))
}

/// [`with_haproxy`] for a configuration that listens on `ports` consecutive ports from the
/// one it is given, stopping haproxy once its log satisfies `logged` (at most 10 s later)
/// rather than after a fixed wait.
pub fn with_haproxy_until<T>(
    ports: u16,
    cfg: impl Fn(u16) -> String,
    drive: impl FnOnce(u16) -> T,
    logged: impl Fn(&str) -> bool,
) -> Option<(T, String)> {
    side_by_side(ports, cfg, drive, Duration::from_secs(10), logged)
}

/// What one side-by-side run returns: `drive`'s result and the kept log lines, for hapee and
/// (when it is installed) for haproxy.
pub type LoggedRuns<T> = ((T, Vec<String>), Option<(T, Vec<String>)>);

/// Runs `drive` against hapee on `cfg` and reads its log until `count` lines pass `keep`; then
/// does the same with haproxy when it is installed, so that a test can compare the lines.
pub fn logged_side_by_side<T>(
    cfg: impl Fn(u16) -> String,
    drive: impl Fn(u16) -> T,
    keep: impl Fn(&str) -> bool,
    count: usize,
) -> LoggedRuns<T> {
    let lines = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| keep(l))
            .map(str::to_string)
            .collect()
    };
    both_reading(1, cfg, |port, side| {
        let out = drive(port);
        (out, lines(&side.stdout_when(|l| lines(l).len() == count)))
    })
}

/// One side of a [`both`] run while it runs: hapee, or Debian's haproxy.
pub enum Side<'a> {
    Hapee(&'a Proxy),
    Haproxy(&'a Haproxy),
}

impl Side<'_> {
    /// "hapee" or "haproxy", for messages and file names.
    pub fn name(&self) -> &'static str {
        match self {
            Side::Hapee(_) => "hapee",
            Side::Haproxy(_) => "haproxy",
        }
    }

    /// What it wrote to its standard output so far (the lines of `log stdout`).
    pub fn stdout(&self) -> String {
        match self {
            Side::Hapee(p) => p.stdout(),
            Side::Haproxy(h) => h.stdout(),
        }
    }

    /// The process id of the proxy that serves (for what `/proc` says of it).
    pub fn pid(&self) -> u32 {
        match self {
            Side::Hapee(p) => p.child.id(),
            Side::Haproxy(h) => h.child.id(),
        }
    }

    pub fn stderr(&self) -> String {
        match self {
            Side::Hapee(p) => p.stderr(),
            Side::Haproxy(h) => h.stderr(),
        }
    }

    /// Its standard output once `logged` holds on it (or after 10 s): log lines are written
    /// after the answers, so a drive that reads them waits for what it expects.
    pub fn stdout_when(&self, logged: impl Fn(&str) -> bool) -> String {
        wait_until(Duration::from_secs(10), || logged(&self.stdout()));
        self.stdout()
    }

    /// Its standard output's bytes, which need not be UTF-8 (a log line carrying a sample's
    /// bytes), once `logged` holds on them (or after 10 s).
    pub fn stdout_bytes_when(&self, logged: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let dir = match self {
            Side::Hapee(p) => p.dir.join("stdout.log"),
            Side::Haproxy(h) => h.dir.join("out.log"),
        };
        let read = || std::fs::read(&dir).unwrap_or_default();
        wait_until(Duration::from_secs(10), || logged(&read()));
        read()
    }

    /// What `select` takes out of its standard output once that is `at_least` items (or
    /// after 10 s): the log lines a test compares, say.
    pub fn selected<L>(&self, select: impl Fn(&str) -> Vec<L>, at_least: usize) -> Vec<L> {
        select(&self.stdout_when(|out| select(out).len() >= at_least))
    }
}

/// Runs `drive` against hapee on `cfg(port)`, then, when haproxy is installed, against Debian's
/// haproxy on `cfg` of a port of its own: what `drive` answered on each side (`None` for
/// haproxy when it is not installed, which only outside CI is not a failure). Each proxy is
/// stopped as soon as `drive` is done with it.
pub fn both<T>(cfg: impl Fn(u16) -> String, drive: impl Fn(u16) -> T) -> (T, Option<T>) {
    both_reading(1, cfg, |port, _| drive(port))
}

/// [`both`] for a configuration that listens on `ports` consecutive ports from the one it is
/// given, with a `drive` that may also read the side it runs against (its log, its errors).
pub fn both_reading<T>(
    ports: u16,
    cfg: impl Fn(u16) -> String,
    drive: impl Fn(u16, &Side) -> T,
) -> (T, Option<T>) {
    both_sides(
        ports,
        || (),
        |port, _| cfg(port),
        |port, _, side| drive(port, side),
    )
}

/// [`both`] with a `fixture` made afresh for each side before its proxy starts (an origin
/// that counts what it was sent, say), which `cfg` and `drive` are given.
pub fn both_with<F, T>(
    fixture: impl Fn() -> F,
    cfg: impl Fn(u16, &F) -> String,
    drive: impl Fn(u16, &F) -> T,
) -> (T, Option<T>) {
    both_sides(1, fixture, cfg, |port, made, _| drive(port, made))
}

/// The general form of [`both`]: `ports` consecutive ports for each side's configuration, a
/// `fixture` made afresh for each side, and a `drive` that may read the side it runs against.
pub fn both_sides<F, T>(
    ports: u16,
    fixture: impl Fn() -> F,
    cfg: impl Fn(u16, &F) -> String,
    drive: impl Fn(u16, &F, &Side) -> T,
) -> (T, Option<T>) {
    let made = fixture();
    let port = free_ports(ports);
    let hapee = Proxy::start(&cfg(port, &made), port);
    let mine = drive(port, &made, &Side::Hapee(&hapee));
    drop(hapee);
    if !Haproxy::installed() {
        return (mine, None);
    }
    let made = fixture();
    let port = free_ports(ports);
    let haproxy = Haproxy::start(&cfg(port, &made), port);
    let theirs = drive(port, &made, &Side::Haproxy(&haproxy));
    (mine, Some(theirs))
}

fn side_by_side<T>(
    ports: u16,
    cfg: impl Fn(u16) -> String,
    drive: impl FnOnce(u16) -> T,
    limit: Duration,
    logged: impl Fn(&str) -> bool,
) -> Option<(T, String)> {
    if !Haproxy::installed() {
        return None;
    }
    let port = free_ports(ports);
    let mut h = Haproxy::start(&cfg(port), port);
    let out = drive(port);
    let log = h.stop_when(limit, logged);
    Some((out, log))
}

/// The lines `program -c -f cfg` prints on standard error that `keep` keeps, each
/// `[LEVEL]    (pid) : ` prefix cut to its level so that two programs' lines compare.
pub fn check_reports(
    program: &std::path::Path,
    cfg: &std::path::Path,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let out = Command::new(program)
        .args(["-c", "-f"])
        .arg(cfg)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| keep(l))
        .map(|l| match l.find(") : ") {
            Some(at) if l.starts_with('[') => format!("{} {}", &l[..9], &l[at + 4..]),
            _ => l.to_string(),
        })
        .collect()
}
