//! Timing spans of the pipeline's stages, printed to stderr when `HAPEE_TIMING` is set (the
//! language server and `check` both compile through [`crate::check::compile`]): where an edit's
//! or a check's time goes, without a profiler.

use std::time::Instant;

/// Whether `HAPEE_TIMING` is set, read once.
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("HAPEE_TIMING").is_some())
}

/// Stages timed one after another; [`Spans::done`] prints them on one line.
pub struct Spans {
    what: &'static str,
    last: Option<Instant>,
    parts: Vec<(&'static str, f64)>,
}

impl Spans {
    pub fn new(what: &'static str) -> Spans {
        Spans {
            what,
            last: enabled().then(Instant::now),
            parts: Vec::new(),
        }
    }

    /// Ends the stage `name` (begun at the previous mark).
    pub fn mark(&mut self, name: &'static str) {
        if let Some(last) = self.last {
            let now = Instant::now();
            self.parts
                .push((name, now.duration_since(last).as_secs_f64() * 1e3));
            self.last = Some(now);
        }
    }

    pub fn done(self) {
        if self.last.is_none() {
            return;
        }
        let total: f64 = self.parts.iter().map(|p| p.1).sum();
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.2}"))
            .collect();
        eprintln!(
            "hapee timing: {}: {} | total {total:.2} ms",
            self.what,
            parts.join(", ")
        );
    }
}
