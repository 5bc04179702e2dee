//! Answers made by HAProxy's applets in a server's place: the Prometheus exporter and script
//! services (`use-service`), and how an applet's unframed answer is chunked to HTTP/1 clients.

use super::{local, reply, script, script_service, take_ext, ConnCtx, ReqBody, ResBody};
use crate::rules::Service;
use crate::txn::Txn;
use bytes::Bytes;
use hyper::Response;
use std::sync::Arc;

/// `use-service`: the built-in exporter or a script's service answers the request.
pub(super) async fn serve(
    ctx: &ConnCtx,
    txn: &mut Txn,
    service: Service,
    body: ReqBody,
) -> Response<ResBody> {
    match service {
        Service::PrometheusExporter => {
            // The script filters see the exchange with the applet as with a server.
            let filtered = ctx.shared.filters.has_scripts();
            let files = [&ctx.frontend().errorfiles];
            if filtered {
                let limit = ctx.shared.bufsize.max(8192);
                match Box::pin(script_service::request(txn, body, limit, &files)).await {
                    Ok(_) => {}
                    Err(Ok(answer)) => return answer,
                    Err(Err(status)) => return local(txn, reply::error(status, &files), b"PR"),
                }
            }
            // HAProxy logs its exporter applet in place of the server, reached at once.
            txn.server = Some(Arc::from("<PROMEX>"));
            txn.timings.queue = 0;
            txn.timings.connect = 0;
            txn.timings.response = 0;
            let mut resp = crate::api::service::prometheus_exporter(txn);
            applet_chunked(txn, &mut resp, true);
            let resp = local(txn, resp, b"LR");
            match filtered {
                true => Box::pin(script_service::applet_response(txn, resp, &files)).await,
                false => resp,
            }
        }
        // `serve` itself is boxed by its caller (`cold`).
        Service::Script(name) => script::service(ctx, txn, &name, body).await,
    }
}

/// HAProxy's applets (the stats page, the Prometheus exporter) stream their 200 answers
/// without a length: chunked to an HTTP/1 client (to an HTTP/1.0 one too, in an HTTP/1.1
/// status line, as HAProxy writes it). The exporter always lists the chunking among its own
/// fields; the stats page only for an HTTP/1.1 client, and for an HTTP/1.0 one HAProxy's
/// HTTP/1 layer adds it after the connection field it writes (`MuxChunked`).
pub(super) fn applet_chunked(txn: &Txn, resp: &mut Response<ResBody>, always_own_field: bool) {
    let version = txn.request.as_ref().map(|r| r.version);
    // Neither says anything of its length to HEAD (an empty body, which hyper gives no
    // length either); the exporter still names its chunking, as HAProxy's does.
    let head = txn.request.as_ref().map(|r| &r.method) == Some(&hyper::Method::HEAD);
    if head && resp.status() == hyper::StatusCode::OK {
        *resp.body_mut() = reply::full(Bytes::new());
    }
    if version.is_some_and(|v| v <= hyper::Version::HTTP_11)
        && (always_own_field || !head)
        && resp.status() == hyper::StatusCode::OK
        && !resp.headers().contains_key(hyper::header::CONTENT_LENGTH)
    {
        resp.headers_mut().insert(
            hyper::header::TRANSFER_ENCODING,
            hyper::header::HeaderValue::from_static("chunked"),
        );
        if !always_own_field && version < Some(hyper::Version::HTTP_11) {
            resp.extensions_mut().insert(MuxChunked);
        }
    }
}

/// Marks an applet's answer whose chunking HAProxy's HTTP/1 layer adds itself, last, after
/// the connection field.
#[derive(Clone, Copy)]
struct MuxChunked;

/// Orders a `MuxChunked` answer's fields as they go out: its own in the order they are, then
/// the connection field hyper adds, then the chunking.
pub(super) fn chunking_last(resp: &mut Response<ResBody>) {
    if take_ext::<MuxChunked>(resp.extensions_mut()).is_none() {
        return;
    }
    let te = hyper::header::TRANSFER_ENCODING;
    let mut lines: Vec<_> = resp.headers().iter().map(|(n, _)| n.clone()).collect();
    lines.retain(|n| n != te && n != hyper::header::CONNECTION);
    // Room for a connection value of the rules' and the one hyper adds.
    lines.extend([hyper::header::CONNECTION, hyper::header::CONNECTION, te]);
    resp.extensions_mut().insert(hyper::ext::HeaderLines(lines));
}
