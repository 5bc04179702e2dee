//! Traces (HAProxy's `trace` CLI command and global directive): named sources (`h1`, `h2`,
//! `h3`, `quic`, `stream`, `check`, …) whose events, at or below a level, go to a sink: the
//! `buf0` ring (read back with `show events`), standard output or standard error. A source is
//! stopped, waiting for a start event, or running; start, stop and pause may wait for an event.
//! The rings themselves are `crate::rings`.
//! The request path pays one relaxed atomic load per trace point while its source is stopped.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

/// The trace sources, in the order HAProxy lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    H2,
    Fcgi,
    H1,
    Quic,
    Qmux,
    H3,
    Stream,
    Peers,
    Check,
    Pt,
}

struct SourceDef {
    name: &'static str,
    desc: &'static str,
    /// The source's own events, after `none`/`any`: bit `i` is event `i`.
    events: &'static [(&'static str, &'static str)],
    /// Its extra lock-on criterion.
    lock: (&'static str, &'static str),
}

const CONN_EVENTS: &[(&str, &str)] = &[
    ("conn_new", "new connection"),
    ("conn_recv", "receipt on the connection"),
    ("conn_send", "transmission on the connection"),
    ("conn_end", "connection terminated"),
    ("conn_err", "error on the connection"),
    ("rx_headers", "receipt of request or response headers"),
    ("tx_headers", "transmission of request or response headers"),
    ("strm_new", "new stream"),
    ("strm_end", "stream terminated"),
    ("strm_err", "error on a stream"),
];

const SOURCES: &[SourceDef] = &[
    SourceDef {
        name: "h2",
        desc: "HTTP/2 multiplexer",
        events: CONN_EVENTS,
        lock: ("h2s", "H2 stream"),
    },
    SourceDef {
        name: "fcgi",
        desc: "FastCGI multiplexer",
        events: CONN_EVENTS,
        lock: ("fstrm", "FCGI stream"),
    },
    SourceDef {
        name: "h1",
        desc: "HTTP/1 multiplexer",
        events: CONN_EVENTS,
        lock: ("h1s", "H1 stream"),
    },
    SourceDef {
        name: "quic",
        desc: "QUIC xprt",
        events: CONN_EVENTS,
        lock: ("quic", "QUIC connection"),
    },
    SourceDef {
        name: "qmux",
        desc: "QUIC multiplexer",
        events: CONN_EVENTS,
        lock: ("qcs", "QUIC stream"),
    },
    SourceDef {
        name: "h3",
        desc: "HTTP/3 transcoder",
        events: CONN_EVENTS,
        lock: ("h3s", "H3 stream"),
    },
    SourceDef {
        name: "stream",
        desc: "Applicative stream",
        events: &[
            ("new", "new stream"),
            ("http_req", "HTTP request analysis"),
            ("tcp_ana", "TCP analysis"),
            ("srv_conn", "connection to a server"),
            ("http_rsp", "HTTP response analysis"),
            ("end", "stream end"),
            ("error", "stream error"),
        ],
        lock: ("stream", "stream"),
    },
    SourceDef {
        name: "peers",
        desc: "Peers protocol",
        events: CONN_EVENTS,
        lock: ("peer", "peer"),
    },
    SourceDef {
        name: "check",
        desc: "Health-check",
        events: &[
            ("check_new", "new health check"),
            ("check_conn", "health check connection"),
            ("check_result", "health check result"),
            ("check_err", "health check error"),
        ],
        lock: ("check", "health check"),
    },
    SourceDef {
        name: "pt",
        desc: "Passthrough multiplexer",
        events: CONN_EVENTS,
        lock: ("pt", "passthrough connection"),
    },
];

const SOURCE_LIST: [Source; 10] = [
    Source::H2,
    Source::Fcgi,
    Source::H1,
    Source::Quic,
    Source::Qmux,
    Source::H3,
    Source::Stream,
    Source::Peers,
    Source::Check,
    Source::Pt,
];

/// Trace levels, each reporting what the ones before it do and more.
pub const LEVELS: [(&str, &str); 6] = [
    ("error", "report errors"),
    ("user", "also information useful to the end user"),
    ("proto", "also protocol-level updates"),
    ("state", "also report internal state changes"),
    ("data", "also report data transfers"),
    (
        "developer",
        "also report information useful only to the developer",
    ),
];

const VERBOSITIES: [(&str, &str); 6] = [
    ("quiet", "only report basic information with no decoding"),
    (
        "clean",
        "only user-friendly stuff, generally suitable for level \"user\"",
    ),
    (
        "minimal",
        "report only connection/stream state and flags, no real decoding",
    ),
    ("simple", "add request/response status line when available"),
    (
        "advanced",
        "add header fields or frame decoding when available",
    ),
    ("complete", "add full data dump when available"),
];

const LOCKS: [(&str, &str); 8] = [
    ("backend", "lock on the backend that started the trace"),
    (
        "connection",
        "lock on the connection that started the trace",
    ),
    ("frontend", "lock on the frontend that started the trace"),
    ("listener", "lock on the listener that started the trace"),
    ("nothing", "do not lock on anything"),
    ("server", "lock on the server that started the trace"),
    ("session", "lock on the session that started the trace"),
    ("thread", "lock on the thread that started the trace"),
];

/// The sinks before the rings: `none` and the two standard streams.
const FD_SINKS: [(&str, &str); 3] = [
    ("none", "no sink"),
    ("stdout", "standard output (fd#1)"),
    ("stderr", "standard output (fd#2)"),
];

/// Every sink, `(name, description)`: the standard streams, then the rings (`buf0` first).
fn sinks() -> Vec<(String, String)> {
    FD_SINKS
        .iter()
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .chain(
            crate::rings::all()
                .iter()
                .map(|r| (r.name.clone(), r.description.clone())),
        )
        .collect()
}

const STOPPED: u8 = 0;
const WAITING: u8 = 1;
const RUNNING: u8 = 2;

/// One source's settings, all atomics.
#[derive(Default)]
struct State {
    state: AtomicU8,
    level: AtomicU8,
    verbosity: AtomicU8,
    sink: AtomicU8,
    lock: AtomicU8,
    events: AtomicU64,
    start_on: AtomicU64,
    stop_on: AtomicU64,
    pause_on: AtomicU64,
    dropped: AtomicU64,
}

struct Traces {
    sources: Vec<State>,
}

fn traces() -> &'static Traces {
    static T: OnceLock<Traces> = OnceLock::new();
    T.get_or_init(|| Traces {
        sources: SOURCES
            .iter()
            .map(|d| State {
                level: AtomicU8::new(1),
                verbosity: AtomicU8::new(1),
                lock: AtomicU8::new(4),
                events: AtomicU64::new(all_events(d)),
                ..State::default()
            })
            .collect(),
    })
}

fn all_events(d: &SourceDef) -> u64 {
    (1u64 << d.events.len()) - 1
}

fn def(s: Source) -> &'static SourceDef {
    &SOURCES[s as usize]
}

/// Whether a trace point of `source` has anything to do: the one check on the hot path.
#[inline]
pub fn enabled(source: Source) -> bool {
    traces().sources[source as usize]
        .state
        .load(Ordering::Relaxed)
        != STOPPED
}

/// Reports event `event` of `source` at `level` (an index in [`LEVELS`]); `message` is only
/// built when the trace is running and wants it. `at` is the code location. Out of line and
/// cold: each trace point makes its own copy (one per message closure), which the request
/// path's functions otherwise carried inline between their own instructions.
#[cold]
#[inline(never)]
pub fn emit(source: Source, level: u8, event: &str, at: &str, message: impl FnOnce() -> String) {
    let t = traces();
    let st = &t.sources[source as usize];
    let d = def(source);
    let bit = d
        .events
        .iter()
        .position(|(n, _)| *n == event)
        .map_or(0, |i| 1u64 << i);
    match st.state.load(Ordering::Relaxed) {
        STOPPED => return,
        WAITING => {
            if st.start_on.load(Ordering::Relaxed) & bit == 0 {
                return;
            }
            st.state.store(RUNNING, Ordering::Relaxed);
        }
        _ => {}
    }
    if st.stop_on.load(Ordering::Relaxed) & bit != 0 {
        st.state.store(STOPPED, Ordering::Relaxed);
        return;
    }
    if st.pause_on.load(Ordering::Relaxed) & bit != 0 {
        st.state.store(WAITING, Ordering::Relaxed);
        return;
    }
    if level > st.level.load(Ordering::Relaxed) || st.events.load(Ordering::Relaxed) & bit == 0 {
        return;
    }
    let thread = super::counters::thread_slot().saturating_sub(1);
    let line = format!("[{thread:02}|{}|{level}|{at}] {}", d.name, message());
    match usize::from(st.sink.load(Ordering::Relaxed)) {
        0 => {
            st.dropped.fetch_add(1, Ordering::Relaxed);
        }
        1 => println!("{line}"),
        2 => eprintln!("{line}"),
        n => match crate::rings::all().get(n - FD_SINKS.len()) {
            // Rings get HAProxy's `<0>` and ISO date prefix.
            Some(ring) => ring.push(&format!("<0>{} {line}", chrono_like_now())),
            None => {
                st.dropped.fetch_add(1, Ordering::Relaxed);
            }
        },
    }
}

/// The date as `2026-12-03T18:02:32.133979+00:00`.
fn chrono_like_now() -> String {
    let now = crate::clock::date()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn state_letter(v: u8) -> char {
    match v {
        RUNNING => 'R',
        WAITING => 'w',
        _ => '.',
    }
}

/// `trace` without arguments, and `trace <source>` without a command.
fn list_sources() -> String {
    let mut out =
        String::from("Supported trace sources and states (.=stopped, w=waiting, R=running) :\n");
    out.push_str(" [.] 0          : not a source, will immediately stop all traces\n");
    for s in SOURCE_LIST {
        let st = &traces().sources[s as usize];
        out.push_str(&format!(
            " [{}] {:<10} : {}\n",
            state_letter(st.state.load(Ordering::Relaxed)),
            def(s).name,
            def(s).desc
        ));
    }
    out
}

/// `show trace`.
pub fn show_trace() -> String {
    let mut out =
        String::from("Supported trace sources and states (.=stopped, w=waiting, R=running) :\n");
    for s in SOURCE_LIST {
        let st = &traces().sources[s as usize];
        out.push_str(&format!(
            " [{}] {:<10} -> {} [drp {}]  [{}]\n",
            state_letter(st.state.load(Ordering::Relaxed)),
            def(s).name,
            sinks()
                .get(usize::from(st.sink.load(Ordering::Relaxed)))
                .map_or("none", |s| s.0.as_str()),
            st.dropped.load(Ordering::Relaxed),
            def(s).desc
        ));
    }
    out
}

const COMMANDS_HELP: &str = "Supported commands:
  event     : list/enable/disable source-specific event reporting
  level     : list/set trace reporting level
  lock      : automatic lock on thread/connection/stream/...
  pause     : pause and automatically restart after a specific event
  sink      : list/set event sinks
  start     : start immediately or after a specific event
  stop      : stop immediately or after a specific event
  verbosity : list/set trace output verbosity
";

fn choose(list: &[(&str, &str)], current: usize, title: String) -> String {
    let mut out = title;
    for (i, (name, desc)) in list.iter().enumerate() {
        let mark = if i == current { '*' } else { ' ' };
        out.push_str(&format!("  {mark} {name:<10} : {desc}\n"));
    }
    out
}

/// The event list of `trace <src> event|start|stop|pause` without a name: `+` for events in
/// `mask`.
fn list_events(d: &SourceDef, mask: u64, with_now: bool) -> String {
    let mut out = format!(
        "Supported events for source {} (+=enabled, -=disabled):\n",
        d.name
    );
    if with_now {
        out.push_str("  - now          : don't wait for events, immediately change the state\n");
    }
    out.push_str("  - none         : disable all event types\n");
    out.push_str("  - any          : enable all event types\n");
    for (i, (name, desc)) in d.events.iter().enumerate() {
        let mark = if mask & (1 << i) != 0 { '+' } else { '-' };
        out.push_str(&format!("  {mark} {name:<12} : {desc}\n"));
    }
    out
}

/// Applies `[+|-|!]name` to `mask`; `None`: no such event.
fn change_events(d: &SourceDef, mask: u64, word: &str) -> Option<u64> {
    let (remove, name) = match word.as_bytes().first() {
        Some(b'-' | b'!') => (true, &word[1..]),
        Some(b'+') => (false, &word[1..]),
        _ => (false, word),
    };
    let bits = match name {
        "none" => return Some(0),
        "any" => all_events(d),
        _ => 1u64 << d.events.iter().position(|(n, _)| *n == name)?,
    };
    Some(if remove { mask & !bits } else { mask | bits })
}

/// Runs `trace …` (the words after `trace`): the CLI's answer, or its error.
pub fn command(args: &[&str]) -> Result<String, String> {
    let t = traces();
    let Some(&name) = args.first() else {
        return Ok(list_sources());
    };
    if name == "0" {
        for st in &t.sources {
            st.state.store(STOPPED, Ordering::Relaxed);
        }
        return Ok("All traces now stopped\n".into());
    }
    let Some(source) = SOURCE_LIST.iter().copied().find(|s| def(*s).name == name) else {
        return Err("No such trace source\n".into());
    };
    let d = def(source);
    let st = &t.sources[source as usize];
    let arg = args.get(2).copied();
    match args.get(1).copied() {
        None => Ok(COMMANDS_HELP.into()),
        Some("event") => {
            let Some(arg) = arg else {
                return Ok(list_events(d, st.events.load(Ordering::Relaxed), false));
            };
            let mask = change_events(d, st.events.load(Ordering::Relaxed), arg)
                .ok_or("No such trace event\n")?;
            st.events.store(mask, Ordering::Relaxed);
            Ok(String::new())
        }
        Some(cmd @ ("start" | "stop" | "pause")) => {
            let slot = match cmd {
                "start" => &st.start_on,
                "stop" => &st.stop_on,
                _ => &st.pause_on,
            };
            let Some(arg) = arg else {
                return Ok(list_events(d, slot.load(Ordering::Relaxed), true));
            };
            if arg == "now" {
                let state = match cmd {
                    "start" => RUNNING,
                    "stop" => STOPPED,
                    _ => WAITING,
                };
                st.state.store(state, Ordering::Relaxed);
                return Ok(String::new());
            }
            let mask = change_events(d, slot.load(Ordering::Relaxed), arg)
                .ok_or("No such trace event\n")?;
            slot.store(mask, Ordering::Relaxed);
            // Starting on an event: the source waits for it.
            if cmd == "start" && st.state.load(Ordering::Relaxed) == STOPPED && mask != 0 {
                st.state.store(WAITING, Ordering::Relaxed);
            }
            Ok(String::new())
        }
        Some("level") => pick(
            &LEVELS,
            &st.level,
            arg,
            format!("Supported trace levels for source {}:\n", d.name),
            "No such trace level\n",
        ),
        Some("verbosity") => pick(
            &VERBOSITIES,
            &st.verbosity,
            arg,
            format!("Supported trace verbosities for source {}:\n", d.name),
            "No such verbosity level\n",
        ),
        Some("lock") => {
            let mut locks: Vec<(&str, &str)> = LOCKS.to_vec();
            locks.push(d.lock);
            pick(
                &locks,
                &st.lock,
                arg,
                format!("Supported lock-on criteria for source {}:\n", d.name),
                "Unsupported lock-on criterion\n",
            )
        }
        Some("sink") => {
            let all = sinks();
            let sinks: Vec<(&str, &str)> =
                all.iter().map(|(n, d)| (n.as_str(), d.as_str())).collect();
            pick(
                &sinks,
                &st.sink,
                arg,
                format!("Supported sinks for source {} (*=current):\n", d.name),
                "No such sink\n",
            )
        }
        Some(_) => Err("Unknown trace command\n".into()),
    }
}

/// Lists the choices of a setting, or sets it by name.
fn pick(
    list: &[(&str, &str)],
    slot: &AtomicU8,
    arg: Option<&str>,
    title: String,
    unknown: &str,
) -> Result<String, String> {
    match arg {
        None => Ok(choose(
            list,
            usize::from(slot.load(Ordering::Relaxed)),
            title,
        )),
        Some(name) => {
            let i = list
                .iter()
                .position(|(n, _)| *n == name)
                .ok_or_else(|| unknown.to_string())?;
            slot.store(i as u8, Ordering::Relaxed);
            Ok(String::new())
        }
    }
}

/// `show events` without a sink: the sinks and what they dropped.
pub fn list_sinks() -> String {
    let mut out = String::from(
        "Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n",
    );
    for (name, desc) in &FD_SINKS[1..] {
        out.push_str(&format!("    {name:<10} : type=fd, 0 dropped, {desc}\n"));
    }
    for r in crate::rings::all() {
        out.push_str(&format!(
            "    {:<10} : type=buffer, {} dropped, {}\n",
            r.name,
            r.dropped(),
            r.description
        ));
    }
    out
}

/// Whether `name` is a sink `show events` knows.
pub fn is_sink(name: &str) -> bool {
    FD_SINKS[1..].iter().any(|(n, _)| *n == name) || crate::rings::get(name).is_some()
}

/// Reports a trace event when its source is not stopped; the message is only formatted when
/// it is reported.
#[macro_export]
macro_rules! trace_event {
    ($source:ident, $level:expr, $event:expr, $($fmt:tt)+) => {
        if $crate::api::trace::enabled($crate::api::trace::Source::$source) {
            $crate::api::trace::emit(
                $crate::api::trace::Source::$source,
                $level,
                $event,
                concat!(file!(), ":", line!()),
                || format!($($fmt)+),
            );
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_790), (2026, 12, 3));
    }

    #[test]
    fn event_masks_follow_signs() {
        let d = def(Source::H1);
        let all = all_events(d);
        assert_eq!(change_events(d, all, "-conn_new"), Some(all & !1));
        assert_eq!(change_events(d, 0, "conn_new"), Some(1));
        assert_eq!(change_events(d, all, "none"), Some(0));
        assert_eq!(change_events(d, 0, "nope"), None);
    }

    #[test]
    fn a_running_source_writes_to_the_ring_and_stops_on_its_event() {
        // The check source is used by this test alone.
        assert_eq!(command(&["check", "sink", "buf0"]), Ok(String::new()));
        assert_eq!(command(&["check", "level", "developer"]), Ok(String::new()));
        assert_eq!(command(&["check", "stop", "check_err"]), Ok(String::new()));
        assert_eq!(command(&["check", "start", "now"]), Ok(String::new()));
        assert!(show_trace().contains(" [R] check      -> buf0 [drp 0]  [Health-check]\n"));
        let buf0 = crate::rings::buf0();
        let (_, from) = buf0.since(u64::MAX);
        crate::trace_event!(Check, 2, "check_result", "server {} is {}", "s1", "UP");
        crate::trace_event!(Check, 0, "check_err", "this stops the source");
        crate::trace_event!(Check, 0, "check_result", "not reported");
        let (lines, _) = buf0.since(from);
        let ours: Vec<&String> = lines.iter().filter(|l| l.contains("|check|")).collect();
        assert_eq!(ours.len(), 1, "{lines:?}");
        assert!(ours[0].starts_with("<0>20"), "{}", ours[0]);
        assert!(ours[0].ends_with("] server s1 is UP"), "{}", ours[0]);
        assert!(show_trace().contains(" [.] check      -> buf0"));
        assert_eq!(
            command(&["check", "level", "loud"]),
            Err("No such trace level\n".into())
        );
        assert_eq!(command(&["nope"]), Err("No such trace source\n".into()));
    }
}
