//! The fixed rule lists of the protocol checks (`redis-check`, `smtpchk`, `pgsql-check`,
//! `mysql-check`, `ldap-check`, `ssl-hello-chk`, `spop-check`), built from their options.

use super::*;

fn linger_connect() -> CheckRule {
    CheckRule::Connect(ConnectRule {
        default: true,
        linger: true,
        ..ConnectRule::default()
    })
}

/// `%[res.payload(offset,0)]`-style info, as the protocol checks describe replies.
fn payload(offset: usize, ltrim: bool, cut_crlf: bool) -> Option<Info> {
    Some(Info::Payload {
        offset,
        len: 0,
        ltrim,
        cut_crlf,
    })
}

pub(super) fn redis() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::String("+PONG\r\n".into()));
    e.error_status = Some("L7STS".into());
    e.on_error = payload(0, false, true);
    e.on_success = Some(Info::Text("Redis server is ok".into()));
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(b"*1\r\n$4\r\nPING\r\n".to_vec())),
        CheckRule::Expect(e),
    ]
}

pub(super) fn smtp(args: &[&str]) -> Vec<CheckRule> {
    let command = match args {
        [verb @ ("EHLO" | "HELO"), domain, ..] => format!("{verb} {domain}"),
        _ => "HELO localhost".to_string(),
    };
    let reply_line = |re: &str, min: Option<usize>, status: &str| {
        let mut e = ExpectRule::new(Matcher::Rstring(re.into()));
        e.min_recv = min;
        e.error_status = Some(status.into());
        e
    };
    let mut banner = reply_line("^[0-9]{3}[ \r]", Some(4), "L7RSP");
    banner.on_error = payload(0, false, true);
    let mut banner_ok = reply_line("^2[0-9]{2}[ \r]", Some(4), "L7STS");
    banner_ok.on_error = payload(4, true, true);
    banner_ok.status_code = Some(Info::Payload {
        offset: 0,
        len: 3,
        ltrim: false,
        cut_crlf: false,
    });
    let mut hello_ok = reply_line("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]", None, "L7STS");
    hello_ok.on_error = payload(4, true, true);
    hello_ok.on_success = payload(4, true, true);
    hello_ok.status_code = banner_ok.status_code.clone();
    let mut quit_ok = reply_line("^2[0-9]{2}[- \r]", Some(4), "L7STS");
    quit_ok.on_error = payload(4, true, true);
    quit_ok.on_success = payload(4, true, true);
    quit_ok.status_code = banner_ok.status_code.clone();
    vec![
        linger_connect(),
        CheckRule::Expect(banner),
        CheckRule::Expect(banner_ok),
        CheckRule::Send(SendRule::Bytes(format!("{command}\r\n").into_bytes())),
        CheckRule::Expect(hello_ok),
        CheckRule::Send(SendRule::Bytes(b"QUIT\r\n".to_vec())),
        CheckRule::Expect(quit_ok),
    ]
}

pub(super) fn pgsql(args: &[&str]) -> Vec<CheckRule> {
    let mut rules = vec![linger_connect()];
    if let ["user", user, ..] = args {
        // StartupMessage: length, protocol 3.0, "user" <name>, terminator.
        let len = (4 + 4 + 5 + user.len() + 1 + 1) as u32;
        let mut packet = len.to_be_bytes().to_vec();
        packet.extend_from_slice(&[0, 3, 0, 0]);
        packet.extend_from_slice(b"user\0");
        packet.extend_from_slice(user.as_bytes());
        packet.extend_from_slice(&[0, 0]);
        rules.push(CheckRule::Send(SendRule::Bytes(packet)));
    }
    let mut not_error = ExpectRule::new(Matcher::Rstring("^E".into()));
    not_error.negate = true;
    not_error.min_recv = Some(5);
    not_error.error_status = Some("L7RSP".into());
    not_error.on_error = payload(6, false, false);
    let mut auth = ExpectRule::new(Matcher::Rbinary(
        "^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)".into(),
    ));
    auth.min_recv = Some(9);
    auth.error_status = Some("L7STS".into());
    auth.on_success = Some(Info::Text("PostgreSQL server is ok".into()));
    auth.on_error = Some(Info::Text("PostgreSQL unknown error".into()));
    rules.push(CheckRule::Expect(not_error));
    rules.push(CheckRule::Expect(auth));
    rules
}

pub(super) fn mysql(args: &[&str]) -> Vec<CheckRule> {
    let mut rules = vec![linger_connect()];
    let login = match args {
        ["user", user, rest @ ..] => Some((*user, rest.first() != Some(&"pre-41"))),
        _ => None,
    };
    if let Some((user, post41)) = login {
        let len = user.len() + if post41 { 7 + 27 } else { 7 };
        let mut packet = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 1];
        if post41 {
            packet.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
            packet.extend_from_slice(&[0; 23]);
        } else {
            packet.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
        }
        packet.extend_from_slice(user.as_bytes());
        // Name terminator, filler, then a COM_QUIT packet.
        packet.extend_from_slice(&[0, 0, 1, 0, 0, 0, 1]);
        rules.push(CheckRule::Send(SendRule::Bytes(packet)));
    }
    rules.push(CheckRule::Expect(ExpectRule::new(Matcher::Custom(
        Custom::MysqlHandshake,
    ))));
    if login.is_some() {
        rules.push(CheckRule::Expect(ExpectRule::new(Matcher::Custom(
            Custom::MysqlOk,
        ))));
    }
    rules
}

pub(super) fn ldap() -> Vec<CheckRule> {
    let mut is_ldap = ExpectRule::new(Matcher::Rbinary("^30".into()));
    is_ldap.min_recv = Some(14);
    is_ldap.on_error = Some(Info::Text("Not LDAPv3 protocol".into()));
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(vec![
            0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
        ])),
        CheckRule::Expect(is_ldap),
        CheckRule::Expect(ExpectRule::new(Matcher::Custom(Custom::LdapBindResponse))),
    ]
}

pub(super) fn ssl_hello() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::Rbinary("^1[56]".into()));
    e.min_recv = Some(5);
    e.ok_status = Some("L6OK".into());
    e.error_status = Some("L6RSP".into());
    e.tout_status = Some("L6TOUT".into());
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::SslHello),
        CheckRule::Expect(e),
    ]
}

/// The SPOP HAPROXY-HELLO frame with `healthcheck` set (SPOP 2.0).
pub fn spop_hello_frame() -> Vec<u8> {
    fn kv_str(out: &mut Vec<u8>, k: &str, v: &str) {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.push(8); // string
        out.push(v.len() as u8);
        out.extend_from_slice(v.as_bytes());
    }
    let mut body = vec![1, 0, 0, 0, 1, 0, 0];
    kv_str(&mut body, "supported-versions", "2.0");
    body.push(b"max-frame-size".len() as u8);
    body.extend_from_slice(b"max-frame-size");
    body.extend_from_slice(&[3, 0xfc, 0xf0, 0x06]); // uint32 16380, varint-encoded
    kv_str(&mut body, "capabilities", "");
    body.push(b"healthcheck".len() as u8);
    body.extend_from_slice(b"healthcheck");
    body.push(0x11); // boolean true
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

pub(super) fn spop() -> Vec<CheckRule> {
    let mut e = ExpectRule::new(Matcher::Custom(Custom::SpopHello));
    e.min_recv = Some(4);
    vec![
        implicit_connect(),
        CheckRule::Send(SendRule::Bytes(spop_hello_frame())),
        CheckRule::Expect(e),
    ]
}
