//! Answers of `http-request use-service`: the Prometheus exporter.

use crate::http::reply::{error, full};
use crate::http::ResBody;
use crate::txn::Txn;
use hyper::Response;

/// The exporter's response to the transaction's request (`use-service prometheus-exporter`).
#[inline(never)]
pub fn prometheus_exporter(txn: &Txn) -> Response<ResBody> {
    let query = txn
        .request
        .as_ref()
        .and_then(|r| r.uri.query())
        .unwrap_or("");
    let Ok(scopes) = super::prometheus::parse_query(query) else {
        return error(400, &[]);
    };
    let body = super::prometheus::render(&txn.shared, scopes);
    let mut resp = Response::new(full(body));
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
