//! Why a TLS handshake failed, in OpenSSL's terms (`ssl_fc_err`, `ssl_fc_err_str`): log
//! tools and configurations written for HAProxy match OpenSSL's reason codes and texts, so
//! rustls' errors are translated to the reason OpenSSL gives for the same failure.

/// OpenSSL's library number for SSL errors; a full error code packs it above the reason.
const ERR_LIB_SSL: i64 = 20;
/// Reasons from 1000 up are alerts received from the peer (reason = 1000 + alert number).
const ALERT_OFFSET: u16 = 1000;

/// "wrong version number": what OpenSSL says of bytes that are not a TLS record.
const WRONG_VERSION: u16 = 267;

/// One OpenSSL reason code of the SSL library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SslReason(pub u16);

/// OpenSSL's reasons for failures that rustls reports, with their texts.
const REASONS: &[(u16, &str)] = &[
    (101, "no suitable key share"),
    (134, "certificate verify failed"),
    (155, "https proxy request"),
    (156, "http request"),
    (193, "no shared cipher"),
    (199, "peer did not return a certificate"),
    (235, "no application protocol"),
    (244, "unexpected message"),
    (258, "unsupported protocol"),
    (267, "wrong version number"),
    (294, "unexpected eof while reading"),
    (378, "wrong curve"),
];

/// The texts of received alerts, by alert number.
const ALERTS: &[(u8, &str)] = &[
    (0, "sslv3 alert close notify"),
    (10, "sslv3 alert unexpected message"),
    (20, "sslv3 alert bad record mac"),
    (22, "tlsv1 alert record overflow"),
    (30, "sslv3 alert decompression failure"),
    (40, "sslv3 alert handshake failure"),
    (42, "sslv3 alert bad certificate"),
    (43, "sslv3 alert unsupported certificate"),
    (44, "sslv3 alert certificate revoked"),
    (45, "sslv3 alert certificate expired"),
    (46, "sslv3 alert certificate unknown"),
    (47, "sslv3 alert illegal parameter"),
    (48, "tlsv1 alert unknown ca"),
    (49, "tlsv1 alert access denied"),
    (50, "tlsv1 alert decode error"),
    (51, "tlsv1 alert decrypt error"),
    (70, "tlsv1 alert protocol version"),
    (71, "tlsv1 alert insufficient security"),
    (80, "tlsv1 alert internal error"),
    (86, "tlsv1 alert inappropriate fallback"),
    (90, "tlsv1 alert user cancelled"),
    (109, "tls alert missing extension"),
    (110, "tlsv1 unsupported extension"),
    (112, "tlsv1 unrecognized name"),
    (113, "tlsv1 bad certificate status response"),
    (115, "tlsv1 alert unknown psk identity"),
    (116, "tlsv13 alert certificate required"),
    (120, "tlsv1 alert no application protocol"),
];

impl SslReason {
    /// The reason of a failed handshake, when rustls says why.
    pub fn of_io(e: &std::io::Error) -> Option<SslReason> {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Some(SslReason(294));
        }
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(SslReason::of)
    }

    pub fn of(e: &rustls::Error) -> SslReason {
        use rustls::{Error, PeerIncompatible};
        SslReason(match e {
            Error::AlertReceived(alert) => ALERT_OFFSET + u16::from(u8::from(*alert)),
            Error::NoCertificatesPresented => 199,
            Error::InvalidCertificate(_) => 134,
            Error::NoApplicationProtocol => 235,
            Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => 244,
            Error::PeerIncompatible(p) => match p {
                PeerIncompatible::NoKxGroupsInCommon => 101,
                PeerIncompatible::Tls12NotOffered
                | PeerIncompatible::Tls12NotOfferedOrEnabled
                | PeerIncompatible::Tls13RequiredForQuic
                | PeerIncompatible::SupportedVersionsExtensionRequired => 258,
                _ => 193,
            },
            // A TLS 1.2 peer key on a curve our side does not name.
            Error::PeerMisbehaved(rustls::PeerMisbehaved::SelectedUnofferedKxGroup) => 378,
            // Bytes that are not a TLS record at all (a plain-text client).
            Error::InvalidMessage(_) => WRONG_VERSION,
            _ => 244,
        })
    }

    /// A record that is not TLS, told apart by the client's first bytes as OpenSSL does:
    /// an HTTP request or a proxy's CONNECT sent in clear.
    /// A hello below TLS 1.2 is refused for its version, whatever rustls found first.
    pub fn refine(self, first: &[u8]) -> SslReason {
        if self.0 != WRONG_VERSION {
            if super::hello::below_tls12(first) && self.0 < ALERT_OFFSET {
                return SslReason(258);
            }
            return self;
        }
        if first.starts_with(b"CONNECT") {
            SslReason(155)
        } else if [&b"GET "[..], b"POST", b"HEAD", b"PUT "]
            .iter()
            .any(|m| first.starts_with(m))
        {
            SslReason(156)
        } else {
            self
        }
    }

    /// `ssl_fc_err`: the packed code OpenSSL 3 would report (library in the high bits).
    pub fn code(self) -> i64 {
        (ERR_LIB_SSL << 23) | i64::from(self.0)
    }

    /// `ssl_fc_err_str`: the error as OpenSSL 3 prints it (`error:<code>:SSL routines::<reason>`).
    pub fn text(self) -> Option<String> {
        let reason = self.reason()?;
        Some(format!("error:{:08X}:SSL routines::{reason}", self.code()))
    }

    /// OpenSSL's words for the reason.
    pub fn reason(self) -> Option<&'static str> {
        if let Some(alert) = self.0.checked_sub(ALERT_OFFSET) {
            return ALERTS
                .iter()
                .find(|(n, _)| u16::from(*n) == alert)
                .map(|(_, t)| *t);
        }
        REASONS.iter().find(|(n, _)| *n == self.0).map(|(_, t)| *t)
    }
}

/// Why a handshake with a server failed (`bc_err`, `bc_err_str`, `ssl_bc_err`,
/// `ssl_bc_err_str`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerTlsError {
    /// OpenSSL's reason, when rustls said why.
    pub reason: Option<SslReason>,
    /// The certificate is not valid for the name checked (`verifyhost`, the SNI).
    pub name_mismatch: bool,
    /// The name checked was the SNI sent (else `verifyhost`'s).
    pub sni: bool,
    pub timeout: bool,
    /// Refused before the handshake: `maxsslconn` TLS connections were open.
    pub too_many: bool,
}

impl ServerTlsError {
    pub fn timeout() -> ServerTlsError {
        ServerTlsError {
            reason: None,
            name_mismatch: false,
            sni: false,
            timeout: true,
            too_many: false,
        }
    }

    /// `maxsslconn` reached: the connection is given up before its handshake.
    pub fn too_many() -> ServerTlsError {
        ServerTlsError {
            timeout: false,
            too_many: true,
            ..ServerTlsError::timeout()
        }
    }

    pub fn of_io(e: &std::io::Error, sni: bool) -> ServerTlsError {
        use rustls::{CertificateError, Error};
        let name_mismatch = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
            .is_some_and(|e| {
                matches!(
                    e,
                    Error::InvalidCertificate(
                        CertificateError::NotValidForName
                            | CertificateError::NotValidForNameContext { .. }
                    )
                )
            });
        ServerTlsError {
            reason: SslReason::of_io(e),
            name_mismatch,
            sni,
            timeout: false,
            too_many: false,
        }
    }

    /// HAProxy's connection error code (`bc_err`).
    pub fn code(self) -> i64 {
        if self.too_many {
            return 27;
        }
        match (self.timeout, self.name_mismatch, self.sni) {
            (true, _, _) => 26,
            (_, true, true) => 33,
            (_, true, false) => 32,
            _ => 34,
        }
    }

    /// HAProxy's text for the code (`bc_err_str`).
    pub fn message(self) -> &'static str {
        match self.code() {
            26 => "Timeout during SSL handshake",
            27 => "Too many SSL connections",
            32 => "Server presented an SSL certificate different from the configured one",
            33 => "Server presented an SSL certificate different from the expected one",
            _ => "SSL handshake failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pack_the_ssl_library_and_texts_follow_openssl() {
        let r = SslReason::of(&rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::NoCipherSuitesInCommon,
        ));
        assert_eq!(r.code(), 0x0A00_00C1);
        assert_eq!(
            r.text().as_deref(),
            Some("error:0A0000C1:SSL routines::no shared cipher")
        );
        let alert = SslReason::of(&rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA,
        ));
        assert_eq!(alert.code() & 0xfff, 1048);
        assert_eq!(alert.reason(), Some("tlsv1 alert unknown ca"));
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let garbage = SslReason::of(&rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        ));
        assert_eq!(garbage.refine(b"GET / HT").reason(), Some("http request"));
        let tls11_hello = [22, 3, 1, 0, 80, 1, 0, 0, 76, 3, 2];
        assert_eq!(
            SslReason(193).refine(&tls11_hello).reason(),
            Some("unsupported protocol")
        );
        assert_eq!(SslReason(193).refine(&tls11_hello[..10]).0, 193);
        assert_eq!(
            garbage.refine(b"\x00\x01").reason(),
            Some("wrong version number")
        );
        assert_eq!(
            SslReason::of_io(&eof).and_then(SslReason::reason),
            Some("unexpected eof while reading")
        );
    }

    #[test]
    fn server_handshake_errors_take_haproxy_codes() {
        let wrap = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let name = || {
            wrap(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ))
        };
        let mismatch = ServerTlsError::of_io(&name(), true);
        assert_eq!(
            (mismatch.code(), mismatch.reason),
            (33, Some(SslReason(134)))
        );
        assert_eq!(ServerTlsError::of_io(&name(), false).code(), 32);
        let alert = ServerTlsError::of_io(
            &wrap(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure,
            )),
            true,
        );
        assert_eq!(
            (alert.code(), alert.message()),
            (34, "SSL handshake failure")
        );
        assert_eq!(alert.reason.map(|r| r.code() & 0xfff), Some(1040));
        assert_eq!(ServerTlsError::timeout().code(), 26);
    }
}
