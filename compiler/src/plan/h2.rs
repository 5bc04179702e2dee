//! `tune.h2.*`: the HTTP/2 settings both sides of the proxy announce and keep to.

use crate::ir::DirectiveLine;
use serde::Serialize;

/// `tune.h2.*` settings, HAProxy's defaults where unset.
#[derive(Clone, Debug, Serialize)]
pub struct H2Tune {
    pub header_table_size: u32,
    pub initial_window_size: u32,
    pub max_concurrent_streams: u32,
    pub max_frame_size: u32,
    /// Whether the SETTINGS frame announces extended CONNECT (RFC 8441, WebSocket over
    /// HTTP/2); `h2-workaround-bogus-websocket-clients` turns it off.
    pub extended_connect: bool,
}

impl H2Tune {
    pub fn of(lines: &[DirectiveLine]) -> H2Tune {
        let number = |k: &str, default: u32| {
            super::lower::last_arg(lines, k)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        H2Tune {
            header_table_size: number("tune.h2.header-table-size", 4096),
            initial_window_size: number("tune.h2.initial-window-size", 65536),
            max_concurrent_streams: number("tune.h2.max-concurrent-streams", 100),
            // As HAProxy sizes it: a buffer (`tune.bufsize`) unless set, and never more.
            max_frame_size: {
                let bufsize = number("tune.bufsize", 16384);
                match number("tune.h2.max-frame-size", 0) {
                    0 => bufsize,
                    set => set.min(bufsize),
                }
            },
            extended_connect: !lines
                .iter()
                .any(|d| d.keyword == "h2-workaround-bogus-websocket-clients"),
        }
    }
}
