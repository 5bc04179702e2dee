//! The stream's unique id (`unique-id-format`): made from the frontend's format the first time
//! something asks for it (the `unique-id` fetch, `%ID` in a log line, the `unique-id-header`
//! sent to the server, the PROXY v2 `unique-id` TLV), then the same for the whole stream.

use crate::logfmt::Format;
use crate::sample::Unsupported;
use crate::state::FrontendRt;
use crate::txn::Txn;

/// A frontend's `unique-id-format` and `unique-id-header`.
#[derive(Debug)]
pub struct UniqueId {
    format: Format,
    header: Option<hyper::header::HeaderName>,
}

impl UniqueId {
    /// From the plan's words; no format, no id (a header alone names nothing to send).
    pub fn compile(
        format: Option<&str>,
        header: Option<&str>,
    ) -> Result<Option<UniqueId>, Unsupported> {
        let Some(format) = format else {
            return Ok(None);
        };
        let header = header
            .map(|h| {
                hyper::header::HeaderName::from_bytes(h.as_bytes())
                    .map_err(|_| Unsupported(format!("unique-id-header '{h}'")))
            })
            .transpose()?;
        Ok(Some(UniqueId {
            format: Format::parse(format)?,
            header,
        }))
    }
}

/// The transaction's unique id, made now if it is the first use; `None` without a
/// `unique-id-format` in the frontend.
pub fn of(txn: &Txn) -> Option<&str> {
    if let Some(id) = txn.unique_id.get() {
        return Some(id);
    }
    let format = &txn.frontend_rt()?.unique_id.as_ref()?.format;
    let id = format.render(txn);
    Some(txn.unique_id.get_or_init(|| id))
}

/// Adds the `unique-id-header` of the transaction's frontend `fe` to the request about to be
/// forwarded.
#[inline]
pub fn add_header(fe: &FrontendRt, txn: &mut Txn) {
    if fe.unique_id.is_some() {
        add_header_of(fe, txn);
    }
}

/// [`add_header`] where the frontend has a `unique-id-format`, out of the forwarding code.
#[inline(never)]
fn add_header_of(fe: &FrontendRt, txn: &mut Txn) {
    let Some(name) = fe.unique_id.as_ref().and_then(|u| u.header.clone()) else {
        return;
    };
    let Some(value) = of(txn).and_then(|id| super::header_values::from_text(id).ok()) else {
        return;
    };
    if let Some(req) = txn.request.as_mut() {
        req.headers.append(name, value);
    }
}
