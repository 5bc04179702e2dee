//! Email alerts (`email-alert` with a `mailers` section): each report of a server's state
//! change at or above the backend's `email-alert level` is mailed to `email-alert to` through
//! every mailer of the section, over plain SMTP, with the conversation and message HAProxy
//! uses (`HELO`, `MAIL FROM`, `RCPT TO`, `DATA` with From/To/Date/Subject, `QUIT`).
//!
//! Each mailer has a queue of its own, sent in order by one task, so that the mails about one
//! server arrive in the order of its reports.

use hapee_compiler::plan::mailers::EmailAlert;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// The queues of a backend's alerts, one per mailer.
pub struct Alerts {
    level: u8,
    queues: Vec<UnboundedSender<String>>,
}

impl Alerts {
    /// Starts a sending task per mailer on the current runtime, for as long as the process
    /// runs (outside a runtime, nothing is mailed: every caller runs on one).
    pub fn start(alert: &EmailAlert) -> Alerts {
        let runtime = tokio::runtime::Handle::try_current().ok();
        let hostname = alert
            .myhostname
            .clone()
            .unwrap_or_else(crate::log::hostname);
        let queues = alert
            .mailers
            .iter()
            .filter_map(|(_, addr)| {
                let runtime = runtime.as_ref()?;
                let (tx, mut rx) = unbounded_channel::<String>();
                let envelope = Envelope {
                    addr: addr.clone(),
                    hostname: hostname.clone(),
                    from: alert.from.clone(),
                    to: alert.to.clone(),
                    timeout: Duration::from_millis(u64::from(alert.timeout)),
                };
                runtime.spawn(async move {
                    while let Some(text) = rx.recv().await {
                        if let Err(e) = envelope.send(&text).await {
                            eprintln!(
                                "[WARNING]  ({}) : Email alert to mailer {} failed: {e}.",
                                std::process::id(),
                                envelope.addr
                            );
                        }
                    }
                });
                Some(tx)
            })
            .collect();
        Alerts {
            level: alert.level,
            queues,
        }
    }

    /// Mails `text` when `level` (a syslog level) is at or above the configured one.
    pub fn report(&self, level: u8, text: &str) {
        if level > self.level {
            return;
        }
        for q in &self.queues {
            let _ = q.send(text.to_string());
        }
    }
}

/// Where and from whom one mailer's alerts go.
struct Envelope {
    addr: String,
    hostname: String,
    from: String,
    to: String,
    timeout: Duration,
}

impl Envelope {
    /// One SMTP conversation carrying `text`, within the section's `timeout mail`.
    async fn send(&self, text: &str) -> Result<(), String> {
        tokio::time::timeout(self.timeout, self.converse(text))
            .await
            .unwrap_or_else(|_| Err("timeout".to_string()))
    }

    async fn converse(&self, text: &str) -> Result<(), String> {
        let mut conn = TcpStream::connect(self.addr.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let mut got = Vec::new();
        let steps = conversation(&self.hostname, &self.from, &self.to, text, &local_date());
        for (send, expect) in steps {
            if !send.is_empty() {
                conn.write_all(send.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            // Like HAProxy's check rules: the reply must contain the expected code.
            loop {
                if got.windows(expect.len()).any(|w| w == expect.as_bytes()) {
                    got.clear();
                    break;
                }
                let mut chunk = [0u8; 1024];
                let n = conn.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err(format!("closed while waiting for '{}'", expect.trim()));
                }
                got.extend_from_slice(&chunk[..n]);
            }
        }
        Ok(())
    }
}

/// What is sent and the reply code awaited after it, in order (the server speaks first).
fn conversation(
    hostname: &str,
    from: &str,
    to: &str,
    text: &str,
    date: &str,
) -> Vec<(String, &'static str)> {
    vec![
        (String::new(), "220 "),
        (format!("HELO {hostname}\r\n"), "250 "),
        (format!("MAIL FROM:<{from}>\r\n"), "250 "),
        (format!("RCPT TO:<{to}>\r\n"), "250 "),
        ("DATA\r\n".to_string(), "354 "),
        (
            format!(
                "From: {from}\r\nTo: {to}\r\nDate: {date}\r\nSubject: [HAProxy Alert] {text}\r\n\r\n{text}\r\n\r\n.\r\n"
            ),
            "250 ",
        ),
        ("QUIT\r\n".to_string(), "221 "),
    ]
}

/// The local time as HAProxy dates its alerts (`strftime` `%a, %d %b %Y %T %z (%Z)`).
fn local_date() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = libc::time_t::try_from(now).unwrap_or(0);
    // SAFETY: `tm` is plain data filled by localtime_r; strftime writes at most `buf.len()`
    // bytes into `buf` and returns how many, with a NUL-terminated format string.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%a, %d %b %Y %T %z (%Z)".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conversation_and_message_are_haproxys() {
        let steps = conversation("lb1", "a@x", "b@y", "Server be/s1 is DOWN", "DATE");
        let sent: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sent[1], "HELO lb1\r\n");
        assert_eq!(sent[2], "MAIL FROM:<a@x>\r\n");
        assert_eq!(sent[3], "RCPT TO:<b@y>\r\n");
        assert_eq!(
            sent[5],
            "From: a@x\r\nTo: b@y\r\nDate: DATE\r\nSubject: [HAProxy Alert] Server be/s1 is DOWN\r\n\r\nServer be/s1 is DOWN\r\n\r\n.\r\n"
        );
        let codes: Vec<&str> = steps.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            codes,
            ["220 ", "250 ", "250 ", "250 ", "354 ", "250 ", "221 "]
        );
    }

    #[test]
    fn the_date_has_a_zone_offset_and_name() {
        let d = local_date();
        assert!(d.contains(" +") || d.contains(" -"), "{d}");
        assert!(d.ends_with(')'), "{d}");
    }
}
