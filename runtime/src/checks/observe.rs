//! `observe layer4|layer7`: the server's own traffic counts toward its health, as HAProxy's
//! health analysis does. Consecutive errors (failed connections; with `layer7` also HTTP
//! responses of 500 and up but 501 and 505, and broken or late ones) reaching `error-limit`
//! trigger the `on-error` action in the server's check loop: a failed check (`fail-check`),
//! one that leaves a single check before the server is marked down (`sudden-death`), the
//! server marked down at once (`mark-down`), or only the next check brought forward
//! (`fastinter`, which all the others do too). A success clears the count.

use hapee_compiler::plan::Observe;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

/// What one request or connection told about the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    ConnectOk,
    ConnectFailed,
    /// An HTTP response with this status.
    Response(u16),
    /// A response that was invalid, late, cut short, or never came.
    InvalidResponse,
    ReadTimeout,
    ServerClosed,
}

impl Seen {
    /// Whether it is an error (`Some(true)`), a success (`Some(false)`), or says nothing at
    /// the observed layer (HAProxy's `analyze_statuses` table), and how it is described.
    fn verdict(self, layer7: bool) -> Option<(bool, &'static str)> {
        let (l4, l7, desc) = match self {
            Seen::ConnectOk => (Some(false), None, "L4 successful connection"),
            Seen::ConnectFailed => (Some(true), Some(true), "L4 unsuccessful connection"),
            Seen::Response(s) if s < 500 || s == 501 || s == 505 => {
                (None, Some(false), "Correct http response")
            }
            Seen::Response(_) => (None, Some(true), "Wrong http response"),
            Seen::InvalidResponse => (None, Some(true), "Invalid http response"),
            Seen::ReadTimeout => (None, Some(true), "Read timeout (http)"),
            Seen::ServerClosed => (None, Some(true), "Close from server (http)"),
        };
        Some((if layer7 { l7 } else { l4 }?, desc))
    }
}

/// What the check loop is to do about the traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    FastInter,
    FailCheck,
    SuddenDeath,
    MarkDown,
}

pub struct Observer {
    layer7: bool,
    pub on_error: OnError,
    limit: u32,
    consecutive: AtomicU32,
    /// The report of the last time the limit was reached, for the check loop to act on.
    pending: Mutex<Option<String>>,
    pub wake: tokio::sync::Notify,
    /// Times the limit was reached (`show stat`'s `hanafail`).
    pub failures: AtomicU64,
}

impl Observer {
    pub fn new(o: &Observe) -> Observer {
        Observer {
            layer7: o.layer == "layer7",
            on_error: match o.on_error.as_str() {
                "fastinter" => OnError::FastInter,
                "sudden-death" => OnError::SuddenDeath,
                "mark-down" => OnError::MarkDown,
                _ => OnError::FailCheck,
            },
            limit: o.error_limit.max(1),
            consecutive: AtomicU32::new(0),
            pending: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            failures: AtomicU64::new(0),
        }
    }

    /// Counts what traffic just told.
    pub fn see(&self, seen: Seen) {
        let Some((failed, desc)) = seen.verdict(self.layer7) else {
            return;
        };
        if !failed {
            self.consecutive.store(0, Ordering::Relaxed);
            return;
        }
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        if n < self.limit {
            return;
        }
        self.consecutive.store(0, Ordering::Relaxed);
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut p) = self.pending.lock() {
            *p = Some(format!(
                "Detected {n} consecutive errors, last one was: {desc}"
            ));
        }
        self.wake.notify_one();
    }

    /// A check passed: the errors so far no longer count.
    pub fn clear(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
    }

    /// The report to act on, once.
    pub fn take(&self) -> Option<String> {
        self.pending.lock().ok()?.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observer(layer: &str, limit: u32) -> Observer {
        Observer::new(&Observe {
            layer: layer.into(),
            on_error: "mark-down".into(),
            error_limit: limit,
        })
    }

    #[test]
    fn consecutive_errors_reach_the_limit_once() {
        let o = observer("layer7", 3);
        o.see(Seen::Response(500));
        o.see(Seen::Response(503));
        assert_eq!(o.take(), None);
        o.see(Seen::Response(502));
        assert_eq!(
            o.take().as_deref(),
            Some("Detected 3 consecutive errors, last one was: Wrong http response")
        );
        assert_eq!(o.take(), None);
    }

    #[test]
    fn a_success_clears_the_count_and_layer4_ignores_statuses() {
        let o = observer("layer7", 2);
        o.see(Seen::Response(500));
        o.see(Seen::Response(501));
        o.see(Seen::Response(500));
        assert_eq!(o.take(), None);
        let o = observer("layer4", 1);
        o.see(Seen::Response(500));
        assert_eq!(o.take(), None);
        o.see(Seen::ConnectFailed);
        assert!(o.take().is_some());
    }
}
