//! Key exchange groups rustls' aws-lc-rs provider does not carry, for the `curves`/`ecdhe`
//! lists that name them: ephemeral ECDH on P-521 (`secp521r1`), with aws-lc-rs' own
//! arithmetic. They are offered only where a list names them; the default groups stay
//! rustls' own.

use aws_lc_rs::agreement;
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

/// Ephemeral ECDH on secp521r1 (NIST P-521).
pub static SECP521R1: &dyn SupportedKxGroup = &Group {
    name: NamedGroup::secp521r1,
    algorithm: &agreement::ECDH_P521,
};

/// The groups the lists may name beyond the provider's.
pub static EXTRA_KX_GROUPS: &[&dyn SupportedKxGroup] = &[SECP521R1];

/// TLS 1.2's rule for a peer's elliptic-curve certificate key, as OpenSSL applies it: where
/// our side names its groups (`curves`, `ecdhe`), the key's curve must be one of them, else
/// the handshake fails ("wrong curve", an illegal_parameter alert). TLS 1.3 has no such rule.
pub fn check_key_group(
    groups: Option<&[NamedGroup]>,
    cert: &rustls_pki_types::CertificateDer<'_>,
) -> Result<(), Error> {
    let (Some(groups), Some(curve)) = (groups, super::x509::ec_group(cert)) else {
        return Ok(());
    };
    if groups.contains(&curve) {
        Ok(())
    } else {
        Err(PeerMisbehaved::SelectedUnofferedKxGroup.into())
    }
}

/// The groups a side names (its `curves` list, `ecdhe` folded in), as narrowed into its
/// provider; `None` when it names none and keeps the defaults.
pub fn named_groups(
    list: Option<&str>,
    provider: &rustls::crypto::CryptoProvider,
) -> Option<Vec<NamedGroup>> {
    list.map(|_| provider.kx_groups.iter().map(|g| g.name()).collect())
}

#[derive(Debug)]
struct Group {
    name: NamedGroup,
    algorithm: &'static agreement::Algorithm,
}

impl SupportedKxGroup for Group {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(self.algorithm, &rng)
            .map_err(|_| Error::FailedToGetRandomBytes)?;
        let public = private
            .compute_public_key()
            .map_err(|_| Error::FailedToGetRandomBytes)?;
        Ok(Box::new(Exchange {
            name: self.name,
            algorithm: self.algorithm,
            private,
            public,
        }))
    }

    fn name(&self) -> NamedGroup {
        self.name
    }
}

/// One exchange under way: our ephemeral key and its public point.
struct Exchange {
    name: NamedGroup,
    algorithm: &'static agreement::Algorithm,
    private: agreement::EphemeralPrivateKey,
    public: agreement::PublicKey,
}

impl ActiveKeyExchange for Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        // TLS carries uncompressed points only (RFC 8446 §4.2.8.2); aws-lc-rs would also
        // take other encodings, so anything else is refused here.
        if peer.first() != Some(&0x04) {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        let peer = agreement::UnparsedPublicKey::new(self.algorithm, peer);
        agreement::agree_ephemeral(
            self.private,
            peer,
            Error::from(PeerMisbehaved::InvalidKeyShare),
            |secret| Ok(SharedSecret::from(secret)),
        )
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_ref()
    }

    fn group(&self) -> NamedGroup {
        self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_p521_exchanges_agree_and_bad_points_are_refused() {
        let a = SECP521R1.start().unwrap();
        let b = SECP521R1.start().unwrap();
        // An uncompressed P-521 point: 0x04 and two 66-byte coordinates.
        assert_eq!(a.pub_key().len(), 133);
        assert_eq!(a.group(), NamedGroup::secp521r1);
        let b_pub = b.pub_key().to_vec();
        let a_pub = a.pub_key().to_vec();
        let s1 = a.complete(&b_pub).unwrap();
        let s2 = b.complete(&a_pub).unwrap();
        assert_eq!(s1.secret_bytes(), s2.secret_bytes());
        assert_eq!(s1.secret_bytes().len(), 66);
        let c = SECP521R1.start().unwrap();
        let mut compressed = a_pub.clone();
        compressed[0] = 0x02;
        assert!(c.complete(&compressed).is_err());
        let d = SECP521R1.start().unwrap();
        assert!(d.complete(&a_pub[..60]).is_err());
    }
}
