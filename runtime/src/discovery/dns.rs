//! DNS messages (sans-I/O), with hickory-proto for the wire format: the queries the
//! resolvers send and what their answers say.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::IpAddr;

/// What to ask for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    A,
    Aaaa,
    Srv,
}

impl Kind {
    fn record_type(self) -> RecordType {
        match self {
            Kind::A => RecordType::A,
            Kind::Aaaa => RecordType::AAAA,
            Kind::Srv => RecordType::SRV,
        }
    }
}

/// One usable answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Address(IpAddr),
    Service {
        target: String,
        port: u16,
        weight: u16,
        priority: u16,
    },
    /// An address the response carried for a name (SRV targets, in the additional section).
    Additional(String, IpAddr),
}

/// What a response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The name exists: its records (maybe none of the type asked).
    Records(Vec<Answer>),
    NxDomain,
    Refused,
    /// Any other failure code, or a message that cannot be read.
    Other,
}

/// A recursive query with EDNS0 announcing `payload` bytes.
pub fn query(id: u16, name: &str, kind: Kind, payload: u16) -> Option<Vec<u8>> {
    let name = Name::from_ascii(name).ok()?;
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, kind.record_type()));
    let mut edns = Edns::new();
    edns.set_max_payload(payload.max(512));
    m.set_edns(edns);
    m.to_vec().ok()
}

/// A response as read: what it says, and whether the server truncated it (the TC bit: the
/// answer did not fit the datagram, and TCP carries all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub response: Response,
    pub truncated: bool,
    /// How many records the answer section holds, of any type.
    pub answer_count: usize,
}

/// The query id a message carries (its first two bytes); `None` when it is shorter.
pub fn answered_id(message: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*message.first()?, *message.get(1)?]))
}

/// Reads a response to query `id`; `None` when the message is not that response.
pub fn read_response(id: u16, bytes: &[u8]) -> Option<Reply> {
    let m = Message::from_vec(bytes).ok()?;
    if m.id() != id || m.message_type() != MessageType::Response {
        return None;
    }
    let truncated = m.truncated();
    let answer_count = m.answers().len();
    let response = match m.response_code() {
        ResponseCode::NoError => {
            let mut out = Vec::new();
            for r in m.answers() {
                match r.data() {
                    Some(RData::A(a)) => out.push(Answer::Address(IpAddr::V4(a.0))),
                    Some(RData::AAAA(a)) => out.push(Answer::Address(IpAddr::V6(a.0))),
                    Some(RData::SRV(s)) => out.push(Answer::Service {
                        target: s.target().to_ascii().trim_end_matches('.').to_string(),
                        port: s.port(),
                        weight: s.weight(),
                        priority: s.priority(),
                    }),
                    _ => {}
                }
            }
            for r in m.additionals() {
                let name = r.name().to_ascii().trim_end_matches('.').to_string();
                match r.data() {
                    Some(RData::A(a)) => out.push(Answer::Additional(name, IpAddr::V4(a.0))),
                    Some(RData::AAAA(a)) => out.push(Answer::Additional(name, IpAddr::V6(a.0))),
                    _ => {}
                }
            }
            Response::Records(out)
        }
        ResponseCode::NXDomain => Response::NxDomain,
        ResponseCode::Refused => Response::Refused,
        _ => Response::Other,
    };
    Some(Reply {
        response,
        truncated,
        answer_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, SRV};
    use hickory_proto::rr::Record;

    #[test]
    fn a_query_and_an_srv_response_with_additional_addresses() {
        let q = query(7, "_http._tcp.svc.test", Kind::Srv, 1232).unwrap();
        let asked = Message::from_vec(&q).unwrap();
        assert_eq!(asked.queries()[0].query_type(), RecordType::SRV);
        assert_eq!(asked.extensions().as_ref().unwrap().max_payload(), 1232);
        let mut resp = asked.clone();
        resp.set_message_type(MessageType::Response);
        let name = Name::from_ascii("_http._tcp.svc.test.").unwrap();
        let target = Name::from_ascii("a.svc.test.").unwrap();
        resp.add_answer(Record::from_rdata(
            name,
            5,
            RData::SRV(SRV::new(0, 512, 8080, target.clone())),
        ));
        resp.add_additional(Record::from_rdata(
            target,
            5,
            RData::A(A::new(127, 0, 0, 9)),
        ));
        let got = read_response(7, &resp.to_vec().unwrap()).unwrap();
        assert!(!got.truncated);
        assert_eq!(
            got.response,
            Response::Records(vec![
                Answer::Service {
                    target: "a.svc.test".into(),
                    port: 8080,
                    weight: 512,
                    priority: 0
                },
                Answer::Additional("a.svc.test".into(), "127.0.0.9".parse().unwrap()),
            ])
        );
        // Another id is someone else's answer; a refusal is reported as such.
        assert_eq!(read_response(8, &resp.to_vec().unwrap()), None);
        resp.set_response_code(ResponseCode::Refused);
        assert_eq!(
            read_response(7, &resp.to_vec().unwrap()).map(|r| r.response),
            Some(Response::Refused)
        );
        assert_eq!(read_response(7, b"junk"), None);
        // The TC bit is reported, with what the truncated message still holds.
        resp.set_response_code(ResponseCode::NoError);
        resp.set_truncated(true);
        let cut = read_response(7, &resp.to_vec().unwrap()).unwrap();
        assert!(cut.truncated);
        assert!(matches!(cut.response, Response::Records(ref a) if a.len() == 2));
    }
}
