//! TLS as it is in force now, on a listener or towards a server: rustls configurations cannot
//! change, so a committed certificate, CA, CRL or crt-list change builds a new one from the
//! store and swaps it in; handshakes that start after the swap, on every thread, use the new
//! one.

use super::ckch::{self, Kind};
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex};

/// A TLS configuration built from settings of the plan and files of the store.
pub trait Build: Sized + Send + Sync + 'static {
    type Settings: Clone + Send + Sync + 'static;
    /// Builds it; `warnings` receives what was left out.
    fn build(settings: &Self::Settings, warnings: &mut Vec<String>) -> Result<Self, String>;
}

impl Build for super::config::BindTlsConfig {
    type Settings = hapee_compiler::plan::tls::BindTls;
    fn build(settings: &Self::Settings, warnings: &mut Vec<String>) -> Result<Self, String> {
        Self::build(settings, warnings)
    }
}

impl Build for super::client::ServerTlsConfig {
    type Settings = hapee_compiler::plan::tls::ServerTls;
    fn build(settings: &Self::Settings, warnings: &mut Vec<String>) -> Result<Self, String> {
        Self::build(settings, warnings)
    }
}

/// A configuration in force, rebuilt when a file it read is committed.
pub struct Live<C: Build> {
    settings: C::Settings,
    current: ArcSwap<C>,
    /// The store files the configuration in force was built from.
    reads: Mutex<Vec<(Kind, String)>>,
    /// Counts the swaps, for holders of a derived configuration (QUIC endpoints) to rebuild
    /// theirs.
    swaps: tokio::sync::watch::Sender<u64>,
}

/// A listener's TLS (`bind … ssl`).
pub type LiveBind = Live<super::config::BindTlsConfig>;
/// The TLS towards a server (`server … ssl`) or of its checks.
pub type LiveServer = Live<super::client::ServerTlsConfig>;

impl<C: Build> std::fmt::Debug for Live<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("reads", &self.reads).finish()
    }
}

impl<C: Build> Live<C> {
    /// Builds the configuration and lets commits rebuild it; `warnings` receives what was left
    /// out.
    pub fn build(settings: &C::Settings, warnings: &mut Vec<String>) -> Result<Arc<Self>, String> {
        let (built, reads) = ckch::recording(|| C::build(settings, warnings));
        let live = Arc::new(Live {
            settings: settings.clone(),
            current: ArcSwap::from_pointee(built?),
            reads: Mutex::new(reads),
            swaps: tokio::sync::watch::Sender::new(0),
        });
        let weak: std::sync::Weak<dyn ckch::User> = Arc::downgrade(&live) as _;
        ckch::register(weak);
        Ok(live)
    }

    /// The configuration for a handshake starting now.
    pub fn current(&self) -> Arc<C> {
        self.current.load_full()
    }

    /// Reads the configuration in force without taking a reference to keep (a per-request
    /// question such as whether it offers `h2`).
    pub fn peek<R>(&self, read: impl FnOnce(&C) -> R) -> R {
        read(&self.current.load())
    }

    /// Changes each time a commit puts a new configuration in force.
    pub fn swaps(&self) -> tokio::sync::watch::Receiver<u64> {
        self.swaps.subscribe()
    }
}

impl<C: Build> ckch::User for Live<C> {
    fn uses(&self, kind: Kind, path: &str) -> bool {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(k, p)| *k == kind && p == path)
    }

    fn rebuild(&self) -> Result<Box<dyn FnOnce() + '_>, String> {
        let mut warnings = Vec::new();
        let (built, reads) = ckch::recording(|| C::build(&self.settings, &mut warnings));
        let built = Arc::new(built?);
        Ok(Box::new(move || {
            self.current.store(built);
            *self.reads.lock().unwrap_or_else(|e| e.into_inner()) = reads;
            self.swaps.send_modify(|n| *n += 1);
        }))
    }
}
