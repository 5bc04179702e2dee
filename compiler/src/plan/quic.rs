//! The global QUIC settings (`tune.quic.*`, `cluster-secret`) as the runtime needs them, with
//! HAProxy 2.7's defaults. Invalid values are reported by the checker; here they fall back to
//! the default.

use crate::ir::values::{parse_time, TimeUnit};
use crate::ir::DirectiveLine;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct QuicTunes {
    /// `tune.quic.frontend.max-idle-timeout`, in ms (30s).
    pub max_idle_timeout_ms: u32,
    /// `tune.quic.frontend.max-streams-bidi`: concurrent requests per connection (100).
    pub max_streams_bidi: u32,
    /// `tune.quic.frontend.conn-tx-buffers.limit`: buffers of `tune.bufsize` a connection may
    /// hold for sending (10).
    pub conn_tx_buffers: u32,
    /// `tune.quic.max-frame-loss`: how often one frame may be lost before the connection is
    /// given up (10).
    pub max_frame_loss: u32,
    /// `tune.quic.retry-threshold`: half-open connections from which Retry is required (100).
    pub retry_threshold: u32,
    /// `tune.quic.socket-owner`: `listener` or `connection`.
    pub socket_owner: String,
    /// `cluster-secret`: keys the Retry tokens and stateless resets, so that other processes
    /// (after a reload, or other nodes) accept them; random per process when unset.
    pub cluster_secret: Option<String>,
}

impl Default for QuicTunes {
    fn default() -> QuicTunes {
        QuicTunes {
            max_idle_timeout_ms: 30_000,
            max_streams_bidi: 100,
            conn_tx_buffers: 10,
            max_frame_loss: 10,
            retry_threshold: 100,
            socket_owner: "listener".into(),
            cluster_secret: None,
        }
    }
}

fn last(lines: &[DirectiveLine], keyword: &str) -> Option<String> {
    super::lower::last_arg(lines, keyword)
}

fn positive(lines: &[DirectiveLine], keyword: &str, default: u32) -> u32 {
    last(lines, keyword)
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|&v| v >= 1)
        .unwrap_or(default)
}

/// The QUIC settings of the global section's statements.
pub fn tunes(lines: &[DirectiveLine]) -> QuicTunes {
    let d = QuicTunes::default();
    QuicTunes {
        max_idle_timeout_ms: last(lines, "tune.quic.frontend.max-idle-timeout")
            .and_then(|v| parse_time(&v, TimeUnit::Ms).ok())
            .map_or(d.max_idle_timeout_ms, |t| t.value),
        max_streams_bidi: positive(
            lines,
            "tune.quic.frontend.max-streams-bidi",
            d.max_streams_bidi,
        ),
        conn_tx_buffers: positive(
            lines,
            "tune.quic.frontend.conn-tx-buffers.limit",
            d.conn_tx_buffers,
        ),
        max_frame_loss: positive(lines, "tune.quic.max-frame-loss", d.max_frame_loss),
        retry_threshold: positive(lines, "tune.quic.retry-threshold", d.retry_threshold),
        socket_owner: last(lines, "tune.quic.socket-owner")
            .filter(|v| matches!(v.as_str(), "listener" | "connection"))
            .unwrap_or_else(|| "listener".into()),
        cluster_secret: last(lines, "cluster-secret"),
    }
}
