//! `close-spread-time`: how a soft-stopping process ends its client connections, as HAProxy
//! 2.7 spreads them. With a window, each idle HTTP/1 connection closes at a random moment of
//! what is left of the window, each HTTP/2 connection is sent its GOAWAY likewise, and a
//! response on a kept-alive HTTP/1 connection closes it with a chance that grows as the
//! window passes (every response once it is over). With `infinite`, the stop closes none:
//! no `Connection: close`, no GOAWAY, idle connections end by their own timeouts.

use hapee_compiler::plan::process::CloseSpread;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

/// 0: not set (the default stop), 1: a window, 2: `infinite`.
static KIND: AtomicU8 = AtomicU8::new(0);
static WINDOW_MS: AtomicU64 = AtomicU64::new(0);
/// When the window ends (`crate::tables::now_ms`), once the soft stop has begun; 0 before.
static END_MS: AtomicU64 = AtomicU64::new(0);

/// Keeps the plan's `close-spread-time`.
pub fn configure(spread: CloseSpread) {
    let (kind, window) = match spread {
        CloseSpread::AtOnce => (0, 0),
        CloseSpread::Over(ms) => (1, u64::from(ms)),
        CloseSpread::Never => (2, 0),
    };
    KIND.store(kind, Ordering::Relaxed);
    WINDOW_MS.store(window, Ordering::Relaxed);
}

/// The soft stop begins (after `grace`): the window opens now.
pub fn begin() {
    let window = WINDOW_MS.load(Ordering::Relaxed);
    END_MS.store(crate::tables::now_ms() + window.max(1), Ordering::Relaxed);
}

/// What the stop does to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStop {
    /// hapee's default stop (`crate::proto::h1`, `crate::proto::h2`).
    Default,
    /// Close it (or send GOAWAY) once idle, after this delay.
    After(Duration),
    /// Leave it to its own timeouts.
    Keep,
}

/// What the stop does to a client connection idle now: a random share of what is left of
/// the window (at once when it is over).
pub fn on_stop() -> OnStop {
    match KIND.load(Ordering::Relaxed) {
        1 => {
            let left = remaining_ms().unwrap_or(WINDOW_MS.load(Ordering::Relaxed));
            let delay = if left == 0 {
                0
            } else {
                crate::balance::random() % left
            };
            OnStop::After(Duration::from_millis(delay))
        }
        2 => OnStop::Keep,
        _ => OnStop::Default,
    }
}

/// Whether a stopping process's response closes its kept-alive HTTP/1 connection: always by
/// default, never with `infinite`, and within a window when what is left of it is no more
/// than a random share of the whole (so more and more often as it passes).
pub fn close_with_response() -> bool {
    match KIND.load(Ordering::Relaxed) {
        1 => match remaining_ms() {
            Some(left) if left > 0 => {
                let window = WINDOW_MS.load(Ordering::Relaxed).max(1);
                left <= crate::balance::random() % window
            }
            // Over, or not begun (during `grace`): as without a window.
            _ => true,
        },
        2 => false,
        _ => true,
    }
}

/// The milliseconds left in the window, once it has begun.
fn remaining_ms() -> Option<u64> {
    match END_MS.load(Ordering::Relaxed) {
        0 => None,
        end => Some(end.saturating_sub(crate::tables::now_ms())),
    }
}
