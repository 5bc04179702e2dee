//! Script filters on a request a service answers (`use-service lua.<name>`, the Prometheus
//! exporter): HAProxy's filters see the exchange with the service's applet as one with a
//! server. The request's
//! `http_headers`, payload and `http_end` run before the service reads the body (which it
//! gets as they left it); the response's `start_analyze`, `http_headers`, payload and
//! `http_end` after its rules; then `end_analyze` on both channels, the response's first
//! for a POST (HAProxy's request channel reads on after a POST, for the CRLF some clients
//! send after its body, so that it ends only with the stream) and for a response whose end
//! is the connection's.

use super::{reply, script_filters, ReqBody, ResBody};
use crate::txn::Txn;
use bytes::Bytes;
use hyper::Response;

/// The request's body as the script filters let it go (the backend's attach first when the
/// service is a backend's), read whole for the service; the answer instead when a filter
/// failed, or when the body could not be read (`status`, with `failed`'s page).
pub(super) async fn request(
    txn: &mut Txn,
    body: ReqBody,
    limit: usize,
    files: &[&crate::state::ErrorFiles],
) -> Result<Bytes, Result<Response<ResBody>, u16>> {
    let backend = txn.backend.clone().unwrap_or_else(|| txn.frontend.clone());
    let body = script_filters::on_request(txn, &backend, body, files)
        .await
        .map_err(Ok)?;
    let read = super::prefetch::buffered_body(body, limit);
    // A body streaming through the filters reaches the transaction through their slot.
    let read = match txn.filters.lent.clone() {
        Some(slot) => crate::script::lend_during(txn, &slot, read).await,
        None => read.await,
    };
    match read {
        Ok(data) => Ok(data),
        Err(_) if script_filters::upload_failed(txn) => {
            Err(Ok(script_filters::failed_upload(txn, files)))
        }
        Err(status) => Err(Err(status)),
    }
}

/// The service's response (its head in `txn.response` as the rules left it, copied into
/// `parts` once the head's callbacks ran) through the script filters still attached: the head's callbacks, then the body's, at once
/// for a whole body, else as it streams. The 502 HAProxy answers with when a head's callback
/// failed.
pub(super) async fn response(
    txn: &mut Txn,
    parts: &mut hyper::http::response::Parts,
    body: ResBody,
    files: &[&crate::state::ErrorFiles],
) -> Result<ResBody, Response<ResBody>> {
    use http_body_util::{BodyExt, Either};
    let mut body = body;
    let server = match &mut body {
        Either::Right(server) => Some(&mut **server),
        Either::Left(_) => None,
    };
    if let Err(at) = script_filters::response_headers(txn, server).await {
        script_filters::end_after_error(txn, 0, at);
        txn.term = *b"PH";
        let mut page = reply::error_in(502, files, txn);
        page.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
        return Err(page);
    }
    // The head as they left it; the transaction keeps a copy for the body's callbacks.
    if let Some(view) = txn.response.as_ref() {
        parts.status = hyper::StatusCode::from_u16(view.status).unwrap_or(parts.status);
        parts.headers = view.headers.clone();
    }
    // The request channel reads on after a POST, and a response whose end is the
    // connection's ends before the request: the response's analysis then ends first.
    let response_first = parts
        .extensions
        .get::<hyper::ext::CloseDelimited>()
        .is_some()
        || txn
            .request
            .as_ref()
            .is_some_and(|r| r.method == hyper::Method::POST);
    let lent = parts.extensions.get::<crate::script::LentTxn>().cloned();
    Ok(match body {
        Either::Left(full) => {
            let data = full
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            match script_filters::whole_response(txn, data, response_first) {
                Some(data) => reply::full(data),
                // HAProxy aborts the stream: the client's connection is cut.
                None => Either::Right(Box::new(crate::upstream::ServerBody::cut_short(
                    Bytes::new(),
                ))),
            }
        }
        Either::Right(mut server) => {
            // A service still sending has the transaction lent to its script: the filters
            // find it in the same slot.
            if let Some(lent) = &lent {
                txn.filters.lent = Some(lent.0.clone());
            }
            if let Some(filter) = script_filters::script_body(txn, response_first) {
                server.filter(super::filters::Chain::of(Box::new(filter)));
            }
            if let (None, Some(slot)) = (lent, txn.filters.lent.take()) {
                parts.extensions.insert(crate::script::LentTxn(slot));
            }
            Either::Right(server)
        }
    })
}

/// [`response`] on an applet's answer `resp`, whose head goes to `txn.response` first.
pub(super) async fn applet_response(
    txn: &mut Txn,
    resp: Response<ResBody>,
    files: &[&crate::state::ErrorFiles],
) -> Response<ResBody> {
    if txn.filters.scripts.is_empty() {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    txn.response = Some(head_view(&mut parts));
    match response(txn, &mut parts, body, files).await {
        Ok(body) => Response::from_parts(parts, body),
        Err(page) => page,
    }
}

/// The view of a response the proxy made, its head moved out of `parts`, for the rules and
/// filters that read and change it.
pub(super) fn head_view(parts: &mut hyper::http::response::Parts) -> crate::txn::ResponseView {
    crate::txn::ResponseView {
        status: parts.status.as_u16(),
        version: parts.version,
        headers: std::mem::take(&mut parts.headers),
        lines: Default::default(),
    }
}
