//! `http-request wait-for-body time <time> [at-least <bytes>]`: the rules pause until the whole
//! request body has arrived (or `at-least` bytes of it, or a full buffer), so that the rules
//! after it see the body (`req.body`…); when `time` passes first, the client gets a 408.
//! `http-response wait-for-body` holds the response the same way for the server's body; when
//! `time` passes first, the client gets a 504.

use super::prefetch::Arrived;
use super::{reply, ReqBody, ResBody};
use crate::sample::Unsupported;
use crate::txn::Txn;
use http_body_util::{Either, Full};
use hyper::Response;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitBody {
    pub time: Duration,
    /// 0: the whole body.
    pub at_least: usize,
}

impl WaitBody {
    pub fn compile(args: &[String]) -> Result<WaitBody, Unsupported> {
        let after = |key: &str| {
            args.iter()
                .position(|a| a == key)
                .and_then(|i| args.get(i + 1))
        };
        let time = after("time")
            .and_then(|t| {
                hapee_compiler::ir::values::parse_time(t, hapee_compiler::ir::values::TimeUnit::Ms)
                    .ok()
            })
            .ok_or_else(|| Unsupported("wait-for-body without a valid 'time'".into()))?;
        let at_least = match after("at-least") {
            None => 0,
            Some(size) => parse_size(size)
                .ok_or_else(|| Unsupported(format!("wait-for-body at-least '{size}'")))?,
        };
        Ok(WaitBody {
            time: Duration::from_millis(u64::from(time.value)),
            at_least,
        })
    }

    /// Waits for the server's body (or `at-least` bytes of it, or `limit`); what arrived, when
    /// it came within `time`.
    pub async fn wait_response(
        &self,
        body: &mut crate::upstream::ServerBody,
        limit: usize,
    ) -> Option<bytes::Bytes> {
        let wanted = if self.at_least > 0 {
            self.at_least.min(limit)
        } else {
            limit
        };
        let until = tokio::time::Instant::now() + self.time;
        body.read_ahead(wanted, until).await
    }

    /// Waits for the body; what arrived is what `req.body` shows from then on. The 408 when
    /// `time` passes first.
    pub async fn wait(
        &self,
        txn: &mut Txn,
        body: ReqBody,
        limit: usize,
        files: &[&crate::state::ErrorFiles],
    ) -> Result<ReqBody, Response<ResBody>> {
        let Either::Left(client) = body else {
            return Ok(body);
        };
        let until = tokio::time::Instant::now() + self.time;
        match client.wait_for(until, self.at_least, limit).await {
            Ok((Arrived::Whole(data), _)) => {
                if !data.is_empty() {
                    txn.rare_mut().request_body = Some(data.clone());
                }
                Ok(Either::Right(Full::new(data)))
            }
            Ok((Arrived::Partial(client), false)) => {
                if let Some(arrived) = client.arrived() {
                    txn.rare_mut().request_body = Some(arrived);
                } else if let Some(rare) = txn.rare.as_deref_mut() {
                    rare.request_body = None;
                }
                Ok(Either::Left(client))
            }
            Ok((Arrived::Partial(_), true)) => {
                let page = reply::error_in(408, files, txn);
                Err(super::local(txn, page, b"cD"))
            }
            Err(_) => {
                let page = reply::error_in(400, files, txn);
                Err(super::local(txn, page, b"PR"))
            }
        }
    }
}

/// A byte count with an optional `k`/`m`/`g` suffix (powers of 1024).
fn parse_size(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let (digits, mult) = match lower.as_bytes().last()? {
        b'k' => (&lower[..lower.len() - 1], 1024),
        b'm' => (&lower[..lower.len() - 1], 1024 * 1024),
        b'g' => (&lower[..lower.len() - 1], 1024 * 1024 * 1024),
        _ => (&lower[..], 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_and_at_least() {
        let w = WaitBody::compile(&["time".into(), "1s".into(), "at-least".into(), "2k".into()])
            .unwrap();
        assert_eq!(w.time, Duration::from_secs(1));
        assert_eq!(w.at_least, 2048);
        assert!(WaitBody::compile(&["at-least".into(), "1".into()]).is_err());
    }
}
