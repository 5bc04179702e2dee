//! `monitor-uri`: a frontend answers requests for this URI itself, with 200 (or 503 when a
//! `monitor fail` condition holds), before any rule, and does not log them.

use super::{reply, ResBody};
use crate::acl::{AclSet, Condition};
use crate::state::ErrorFiles;
use crate::txn::Txn;
use hyper::Response;

/// A frontend's monitor URI, compiled.
pub struct Monitor {
    uri: String,
    fail: Vec<Condition>,
}

impl Monitor {
    /// `None` when the frontend has no `monitor-uri`.
    pub fn compile(
        plan: &hapee_compiler::plan::persist::Monitor,
        acls: &AclSet,
    ) -> Result<Option<Monitor>, String> {
        let Some(uri) = plan.uri.clone() else {
            return Ok(None);
        };
        let fail = plan
            .fail
            .iter()
            .map(|words| Condition::compile(words, acls).map_err(|e| e.0))
            .collect::<Result<_, _>>()?;
        Ok(Some(Monitor { uri, fail }))
    }

    /// Whether the request is for the monitor URI: a URI starting with `/` is compared with
    /// the request's path, any other with the request's whole URI (absolute form).
    fn matches(&self, uri: &hyper::Uri) -> bool {
        (self.uri.starts_with('/') && uri.path() == self.uri) || uri.to_string() == self.uri
    }

    /// The answer to a request for the monitor URI, or `None` for any other request.
    #[inline(never)]
    pub fn answer(&self, txn: &mut Txn, files: &[&ErrorFiles]) -> Option<Response<ResBody>> {
        if !self.matches(&txn.request.as_ref()?.uri) {
            return None;
        }
        let failing = self.fail.iter().any(|c| c.holds(txn));
        // Monitoring requests are not logged.
        txn.log_level = Some(8);
        txn.term = *b"LR";
        Some(reply::error_in(if failing { 503 } else { 200 }, files, txn))
    }
}
