//! Where an SPOE message's arguments are evaluated: the check points of its event (or of the
//! `send-spoe-group` rule that sends it), and the first argument whose fetch reads something
//! that does not exist there, which HAProxy refuses while it reads the configuration.

use super::{SpoeEvent, SpoeMessage};
use crate::registry::capabilities::{at, fetch_places, place_name, sources_as_place};
use crate::registry::RuleSet;

/// The check points of `event` in a proxy that is a frontend (`fe`), a backend (`be`) or both.
pub(super) fn event_places(event: SpoeEvent, fe: bool, be: bool) -> u32 {
    let side = |front: u32, back: u32| (if fe { front } else { 0 }) | (if be { back } else { 0 });
    match event {
        SpoeEvent::OnClientSession => at::FE_CON_ACC,
        SpoeEvent::OnFrontendTcpRequest => at::FE_REQ_CNT,
        SpoeEvent::OnFrontendHttpRequest => at::FE_HRQ_HDR,
        SpoeEvent::OnBackendTcpRequest => side(at::FE_REQ_CNT, at::BE_REQ_CNT),
        SpoeEvent::OnBackendHttpRequest => side(at::FE_HRQ_HDR, at::BE_HRQ_HDR),
        SpoeEvent::OnServerSession => at::BE_SRV_CON,
        SpoeEvent::OnTcpResponse => side(at::FE_RES_CNT, at::BE_RES_CNT),
        SpoeEvent::OnHttpResponse => side(at::FE_HRS_HDR, at::BE_HRS_HDR),
    }
}

/// The check point of a `send-spoe-group` rule of `set` (`None`: not a set it is read in).
pub(super) fn rule_places(set: RuleSet) -> Option<u32> {
    Some(match set {
        RuleSet::TcpRequestContent => at::FE_REQ_CNT,
        RuleSet::TcpResponseContent => at::BE_RES_CNT,
        RuleSet::HttpRequest => at::FE_HRQ_HDR,
        RuleSet::HttpResponse => at::BE_HRS_HDR,
        _ => return None,
    })
}

/// The fetch keyword an argument's expression starts with.
fn fetch_name(expr: &str) -> &str {
    let end = expr.find(['(', ',', ' ']).unwrap_or(expr.len());
    &expr[..end]
}

/// When an argument of `msg` cannot be evaluated at `places`: what it reads and where it is
/// evaluated, as HAProxy names them.
pub(super) fn unavailable(msg: &SpoeMessage, places: u32) -> Option<(&'static str, &'static str)> {
    msg.args.iter().find_map(|(_, expr)| {
        let name = fetch_name(expr);
        if fetch_places(name)? & places != 0 {
            return None;
        }
        Some((sources_as_place(name)?, place_name(places)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(args: &[&str]) -> SpoeMessage {
        SpoeMessage {
            name: "m".into(),
            args: args
                .iter()
                .map(|a| (String::new(), a.to_string()))
                .collect(),
            acls: Vec::new(),
            event: None,
            condition: Vec::new(),
            line: 1,
        }
    }

    #[test]
    fn request_headers_are_not_there_on_a_tcp_response() {
        let places = event_places(SpoeEvent::OnTcpResponse, true, false);
        let m = message(&["status", "req.hdr(host)"]);
        assert_eq!(
            unavailable(&m, places),
            Some((
                "backend http-request body rule",
                "frontend tcp-response content rule"
            ))
        );
        let m = message(&["src", "dst_port"]);
        assert_eq!(
            unavailable(&m, event_places(SpoeEvent::OnClientSession, true, false)),
            None
        );
        let m = message(&["path"]);
        assert!(unavailable(&m, event_places(SpoeEvent::OnClientSession, true, false)).is_some());
    }

    #[test]
    fn the_response_rule_place_is_the_backend_response_headers() {
        assert_eq!(rule_places(RuleSet::HttpResponse), Some(at::BE_HRS_HDR));
    }
}
