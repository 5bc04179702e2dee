//! A listener's TLS as it is in force now: rustls configurations cannot change, so a
//! committed certificate, CA, CRL or crt-list change builds a new one from the store and swaps
//! it in; handshakes that start after the swap, on every thread, use the new one.

use super::ckch::{self, Kind};
use super::config::BindTlsConfig;
use arc_swap::ArcSwap;
use hapee_compiler::plan::tls::BindTls;
use std::sync::{Arc, Mutex};

pub struct LiveBind {
    settings: BindTls,
    current: ArcSwap<BindTlsConfig>,
    /// The store files the configuration in force was built from.
    reads: Mutex<Vec<(Kind, String)>>,
}

impl std::fmt::Debug for LiveBind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveBind")
            .field("reads", &self.reads)
            .finish()
    }
}

impl LiveBind {
    /// Builds a listener's TLS and lets commits rebuild it; `warnings` receives what was left out.
    pub fn build(settings: &BindTls, warnings: &mut Vec<String>) -> Result<Arc<LiveBind>, String> {
        let (built, reads) = ckch::recording(|| BindTlsConfig::build(settings, warnings));
        let live = Arc::new(LiveBind {
            settings: settings.clone(),
            current: ArcSwap::from_pointee(built?),
            reads: Mutex::new(reads),
        });
        let weak: std::sync::Weak<dyn ckch::User> = Arc::downgrade(&live) as _;
        ckch::register(weak);
        Ok(live)
    }

    /// The configuration for a handshake starting now.
    pub fn current(&self) -> Arc<BindTlsConfig> {
        self.current.load_full()
    }
}

impl ckch::User for LiveBind {
    fn uses(&self, kind: Kind, path: &str) -> bool {
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(k, p)| *k == kind && p == path)
    }

    fn rebuild(&self) -> Result<Box<dyn FnOnce() + '_>, String> {
        let mut warnings = Vec::new();
        let (built, reads) =
            ckch::recording(|| BindTlsConfig::build(&self.settings, &mut warnings));
        let built = Arc::new(built?);
        Ok(Box::new(move || {
            self.current.store(built);
            *self.reads.lock().unwrap_or_else(|e| e.into_inner()) = reads;
        }))
    }
}
