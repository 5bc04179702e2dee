//! Session tickets sealed with the keys of a `tls-ticket-keys` file, as HAProxy uses them:
//! of the three keys in use (the file's last three, oldest first) the middle one seals new
//! tickets and any of them opens one; the Runtime API's `set ssl tls-key` adds a newest key
//! and drops the oldest, so the key that sealed moves to opening only. A file named by
//! several `bind` lines is one set of keys, shared (and numbered) across them.
//!
//! A ticket is laid out as OpenSSL lays out its own: the key's 16-byte name, a random 16-byte
//! IV, the session sealed with AES-CBC (PKCS#7 padding), and an HMAC-SHA256 of all of that.

use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey, AES_128, AES_256,
};
use aws_lc_rs::{hmac, iv::FixedLength};
use hapee_compiler::plan::ticket_keys::{self, AES128_KEY_SIZE, KEYS_IN_USE};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

const NAME: usize = 16;
const IV: usize = 16;
const MAC: usize = 32;

/// The keys of one file, and the number the Runtime API knows them by.
#[derive(Debug)]
pub struct TicketKeyRef {
    pub id: u32,
    pub file: String,
    /// The keys in use, oldest first (each [`AES128_KEY_SIZE`] or `AES256_KEY_SIZE` bytes).
    keys: RwLock<Vec<Vec<u8>>>,
}

/// Every key file loaded by this process, in the order they were first named.
static REFS: Mutex<Vec<Arc<TicketKeyRef>>> = Mutex::new(Vec::new());

/// The keys of `file`, read now, or those already read for another listener (or for an
/// earlier build of this one), which must stay the same.
pub fn keys_of(file: &str) -> Result<Arc<TicketKeyRef>, String> {
    let mut refs = REFS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(r) = refs.iter().find(|r| r.file == file) {
        return Ok(r.clone());
    }
    let text = std::fs::read_to_string(file)
        .map_err(|_| format!("'{file}' : unable to load ssl tickets keys file"))?;
    let keys = ticket_keys::parse(file, &text)?;
    let r = Arc::new(TicketKeyRef {
        id: refs.len() as u32,
        file: file.to_string(),
        keys: RwLock::new(keys),
    });
    refs.push(r.clone());
    Ok(r)
}

/// Every key file, by number.
pub fn all() -> Vec<Arc<TicketKeyRef>> {
    REFS.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// A key file as the Runtime API names it: `#<id>` or its path.
pub fn lookup(reference: &str) -> Option<Arc<TicketKeyRef>> {
    let refs = all();
    match reference.strip_prefix('#') {
        Some(id) => {
            let id: u32 = id.parse().ok()?;
            refs.into_iter().find(|r| r.id == id)
        }
        None => refs.into_iter().find(|r| r.file == reference),
    }
}

impl TicketKeyRef {
    /// The keys in use, oldest first.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Adds `key` as the newest, dropping the oldest; `Err` when its size differs from the
    /// others'.
    pub fn rotate(&self, key: Vec<u8>) -> Result<(), &'static str> {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.first().map(Vec::len) != Some(key.len()) {
            return Err("a key of another size than the others");
        }
        keys.remove(0);
        keys.push(key);
        Ok(())
    }

    /// What a ticketer of these keys produces, with this lifetime hint (seconds).
    pub fn ticketer(self: &Arc<Self>, lifetime: u32) -> Arc<dyn rustls::server::ProducesTickets> {
        Arc::new(FileTicketer {
            keys: self.clone(),
            lifetime,
        })
    }
}

/// The parts of one key: its name, its AES key and its HMAC key.
fn parts(key: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let half = (key.len() - NAME) / 2;
    (&key[..NAME], &key[NAME..NAME + half], &key[NAME + half..])
}

fn cipher(aes: &[u8]) -> Option<UnboundCipherKey> {
    let algorithm = if aes.len() * 2 + NAME == AES128_KEY_SIZE {
        &AES_128
    } else {
        &AES_256
    };
    UnboundCipherKey::new(algorithm, aes).ok()
}

#[derive(Debug)]
struct FileTicketer {
    keys: Arc<TicketKeyRef>,
    lifetime: u32,
}

impl rustls::server::ProducesTickets for FileTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let keys = self.keys.keys();
        // The middle of the three keys in use seals.
        let (name, aes, mac_key) = parts(keys.get(KEYS_IN_USE - 2)?);
        let mut iv = [0u8; IV];
        aws_lc_rs::rand::fill(&mut iv).ok()?;
        let mut sealed = plain.to_vec();
        PaddedBlockEncryptingKey::cbc_pkcs7(cipher(aes)?)
            .ok()?
            .less_safe_encrypt(&mut sealed, EncryptionContext::Iv128(FixedLength::from(iv)))
            .ok()?;
        let mut ticket = [name, &iv[..], &sealed].concat();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mac_key), &ticket);
        ticket.extend_from_slice(tag.as_ref());
        Some(ticket)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < NAME + IV + MAC {
            return None;
        }
        let (signed, tag) = ticket.split_at(ticket.len() - MAC);
        let (name, rest) = signed.split_at(NAME);
        let (iv, sealed) = rest.split_at(IV);
        // Any key in use that bears the ticket's name and whose HMAC matches opens it.
        self.keys.keys().iter().find_map(|key| {
            let (key_name, aes, mac_key) = parts(key);
            if key_name != name {
                return None;
            }
            hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, mac_key), signed, tag).ok()?;
            let mut plain = sealed.to_vec();
            let iv = FixedLength::<IV>::try_from(iv).ok()?;
            let opened = PaddedBlockDecryptingKey::cbc_pkcs7(cipher(aes)?)
                .ok()?
                .decrypt(&mut plain, DecryptionContext::Iv128(iv))
                .ok()?
                .len();
            plain.truncate(opened);
            Some(plain)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_ref(size: usize) -> Arc<TicketKeyRef> {
        let keys = (1..=3u8).map(|n| vec![n; size]).collect();
        Arc::new(TicketKeyRef {
            id: 0,
            file: "k".into(),
            keys: RwLock::new(keys),
        })
    }

    #[test]
    fn the_middle_key_seals_and_every_key_in_use_opens() {
        for size in [48, 80] {
            let keys = key_ref(size);
            let t = keys.ticketer(300);
            let ticket = t.encrypt(b"session state").unwrap();
            assert_eq!(&ticket[..NAME], &[2u8; NAME]);
            assert_eq!(t.decrypt(&ticket).unwrap(), b"session state");
            // One rotation: the sealing key is now the oldest, still in use.
            keys.rotate(vec![4; size]).unwrap();
            assert_eq!(t.decrypt(&ticket).unwrap(), b"session state");
            assert_eq!(&t.encrypt(b"x").unwrap()[..NAME], &[3u8; NAME]);
            // Two: it is gone.
            keys.rotate(vec![5; size]).unwrap();
            assert_eq!(t.decrypt(&ticket), None);
            assert!(keys.rotate(vec![6; 17]).is_err());
        }
    }

    #[test]
    fn a_tampered_ticket_does_not_open() {
        let t = key_ref(48).ticketer(300);
        let mut ticket = t.encrypt(b"session state").unwrap();
        let at = NAME + IV + 1;
        ticket[at] ^= 1;
        assert_eq!(t.decrypt(&ticket), None);
        assert_eq!(t.decrypt(&ticket[..20]), None);
    }
}
