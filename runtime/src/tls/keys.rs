//! TLS 1.2 master secrets for `ssl_fc_session_key` and `ssl_bc_session_key`. rustls hands a
//! session's secrets only to a [`rustls::KeyLog`], on the configuration shared by all its
//! connections, under the connection's client random; the connection reads its own ClientHello
//! random off the wire (`tap`) and takes its secret from here once the handshake is over.
//!
//! The table is bounded: a secret whose connection never takes it (a handshake that failed
//! after the key exchange) is dropped once [`CAPACITY`] newer ones came in, so no secret
//! stays in memory for long.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// How many secrets may wait for their connection at once.
pub const CAPACITY: usize = 4096;

/// The secrets logged and not yet taken, by client random.
#[derive(Debug, Default)]
pub struct MasterKeys {
    inner: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    by_random: HashMap<[u8; 32], Vec<u8>>,
    /// Arrival order, oldest first, for the bound (an entry already taken is skipped).
    order: VecDeque<[u8; 32]>,
}

impl MasterKeys {
    /// The process's table, logged into by every client and server configuration.
    pub fn shared() -> Arc<MasterKeys> {
        static KEYS: OnceLock<Arc<MasterKeys>> = OnceLock::new();
        KEYS.get_or_init(Arc::default).clone()
    }

    /// The master secret of the TLS 1.2 session whose ClientHello had `client_random`,
    /// removed from the table (`None`: not logged, or dropped by the bound).
    pub fn take(&self, client_random: &[u8; 32]) -> Option<Vec<u8>> {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.by_random.remove(client_random)
    }

    fn put(&self, client_random: [u8; 32], secret: &[u8]) {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while w.order.len() >= CAPACITY {
            if let Some(old) = w.order.pop_front() {
                w.by_random.remove(&old);
            }
        }
        w.order.push_back(client_random);
        w.by_random.insert(client_random, secret.to_vec());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_random.len()
    }
}

impl rustls::KeyLog for MasterKeys {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if label != "CLIENT_RANDOM" {
            return;
        }
        if let Ok(random) = <[u8; 32]>::try_from(client_random) {
            self.put(random, secret);
        }
    }

    /// Only TLS 1.2's master secret is kept; TLS 1.3's traffic secrets are not asked for.
    fn will_log(&self, label: &str) -> bool {
        label == "CLIENT_RANDOM"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn a_secret_is_taken_once_and_the_table_stays_bounded() {
        let keys = MasterKeys::default();
        keys.log("CLIENT_RANDOM", &[1; 32], b"secret");
        keys.log("CLIENT_TRAFFIC_SECRET_0", &[2; 32], b"other");
        keys.log("CLIENT_RANDOM", &[3; 5], b"bad random");
        assert_eq!(keys.take(&[1; 32]), Some(b"secret".to_vec()));
        assert_eq!(keys.take(&[1; 32]), None);
        assert_eq!(keys.take(&[2; 32]), None);
        for i in 0..CAPACITY + 10 {
            let mut random = [0u8; 32];
            random[..8].copy_from_slice(&(i as u64).to_be_bytes());
            keys.log("CLIENT_RANDOM", &random, b"k");
        }
        assert_eq!(keys.len(), CAPACITY);
        // The oldest went first.
        assert_eq!(keys.take(&[0; 32]), None);
    }
}
