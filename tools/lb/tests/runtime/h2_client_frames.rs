//! What an HTTP/2 client reads from the proxy, frame by frame, beside HAProxy on the same
//! configuration: how received DATA is acknowledged (the connection window stays at 65,535
//! until the first DATA, whose acknowledgement opens it to 2^31-1; each DATA is acknowledged
//! as it is taken in, the stream's WINDOW_UPDATE before the connection's), and a client that
//! closes its side (a FIN) after a complete request, which still gets its answer.

use crate::h2_wire::*;
use crate::harness::*;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn post(stream: u32, path: &str, length: usize) -> Vec<u8> {
    let fields = block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "t"),
        (":path", path),
        ("content-length", &length.to_string()),
    ]);
    frame(1, 0x4, stream, &fields)
}

fn get(stream: u32, path: &str) -> Vec<u8> {
    let fields = block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "t"),
        (":path", path),
    ]);
    frame(1, 0x5, stream, &fields)
}

/// The frames described, SETTINGS left out (2.6 and 2.7 announce different ones), DATA
/// without its length (the origin's answer describes the request it was sent).
fn described(frames: &[Option<Frame>]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            None => "closed".to_string(),
            Some(f) if f.kind == 0 => format!(
                "DATA {}{}",
                f.stream,
                if f.flags & 1 != 0 { " END_STREAM" } else { "" }
            ),
            Some(f) => f.describe(),
        })
        .filter(|d| !d.starts_with("SETTINGS"))
        .collect()
}

fn frames_only(frames: &[Option<Frame>]) -> Vec<Frame> {
    frames.iter().flatten().cloned().collect()
}

/// The increments of the WINDOW_UPDATE frames on `stream`.
fn updates(frames: &[Frame], stream: u32) -> Vec<u32> {
    frames
        .iter()
        .filter(|f| f.kind == 8 && f.stream == stream)
        .map(|f| u32::from_be_bytes(f.payload[..4].try_into().unwrap()))
        .collect()
}

/// A client that uploads twice: 100 bytes in one DATA frame with END_STREAM, then 60,000
/// bytes in four frames, the last one sent once the first three were acknowledged. What it
/// read after connecting, after the small upload, and a summary of the large one.
fn uploads(port: u16) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(PREFACE).unwrap();
    let mut seen = vec!["-- connected".to_string()];
    seen.extend(described(&read_frames(
        &mut s,
        Duration::from_millis(500),
        |_| false,
    )));
    let mut out = frame(4, 1, 0, &[]);
    out.extend(post(1, "/small", 100));
    out.extend(frame(0, 1, 1, &[b's'; 100]));
    s.write_all(&out).unwrap();
    seen.push("-- 100 bytes sent".into());
    seen.extend(described(&read_frames(&mut s, WAIT, |f| answered(f, 1))));

    let mut out = post(3, "/large", 60_000);
    for _ in 0..3 {
        out.extend(frame(0, 0, 3, &[b'l'; 16_000]));
    }
    s.write_all(&out).unwrap();
    let first = frames_only(&read_frames(&mut s, WAIT, |f| {
        updates(f, 3).iter().sum::<u32>() >= 48_000 && updates(f, 0).iter().sum::<u32>() >= 48_000
    }));
    s.write_all(&frame(0, 1, 3, &[b'l'; 12_000])).unwrap();
    let last = frames_only(&read_frames(&mut s, WAIT, |f| answered(f, 3)));
    // Each stream update is followed by the connection's, of the same size (the connection
    // window is open already), whatever the reads grouped.
    let paired = first
        .chunks(2)
        .all(|p| p.len() == 2 && updates(&p[..1], 3) == updates(&p[1..], 0));
    seen.push(format!(
        "-- 48,000 bytes sent: stream 3 +{}, connection +{}, each stream update followed by the connection's: {paired}",
        updates(&first, 3).iter().sum::<u32>(),
        updates(&first, 0).iter().sum::<u32>(),
    ));
    seen.push(format!(
        "-- 12,000 bytes more: stream 3 +{}, connection +{}, answered: {}",
        updates(&last, 3).iter().sum::<u32>(),
        updates(&last, 0).iter().sum::<u32>(),
        answered(&last, 3)
    ));
    seen
}

#[test]
fn received_data_is_acknowledged_as_haproxy_acknowledges_it() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{DEFAULTS}{}",
            fe_to_app(port, "", origin.addr)
                .replace(&format!("{port}\n"), &format!("{port} proto h2\n"))
        )
    };
    let (mine, debian) = both(cfg, uploads);
    assert_eq!(
        mine,
        [
            "-- connected",
            "-- 100 bytes sent",
            "WINDOW_UPDATE 1 +100",
            // 100 bytes and 2^31-1 - 65,535: the window is 2^31-1 from then on.
            "WINDOW_UPDATE 0 +2147418212",
            "HEADERS 1 :status 200",
            "DATA 1 END_STREAM",
            "-- 48,000 bytes sent: stream 3 +48000, connection +48000, each stream update followed by the connection's: true",
            "-- 12,000 bytes more: stream 3 +12000, connection +12000, answered: true",
        ]
    );
    if let Some(theirs) = debian {
        assert_eq!(theirs, mine);
    }
    if let Some((theirs, _)) = with_haproxy_27(cfg, uploads) {
        assert_eq!(theirs, mine);
    }
}

/// A GET on stream 1, a POST on stream 3 that sends 10 bytes of 1,000, then a FIN: what the
/// client reads until the proxy closes.
fn half_close(port: u16) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut out = PREFACE.to_vec();
    out.extend(get(1, "/complete"));
    out.extend(post(3, "/partial", 1000));
    out.extend(frame(0, 0, 3, &[b'p'; 10]));
    s.write_all(&out).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.shutdown(Shutdown::Write).unwrap();
    described(&read_frames(&mut s, WAIT, |_| false))
}

/// Each logged request: path, status and termination state.
fn requests(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let at = fields.iter().position(|f| f.starts_with('"'))?;
            Some(format!(
                "{} {} {}",
                fields.get(at + 1)?,
                fields.get(at.checked_sub(7)?)?,
                fields.get(at.checked_sub(3)?)?
            ))
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_client_closing_its_side_after_a_complete_request_gets_the_answer() {
    let origin = Origin::start("o");
    let cfg = |port: u16| {
        format!(
            "{LOGGED_DEFAULTS}    option httplog\n{}",
            fe_to_app(port, "", origin.addr)
                .replace(&format!("{port}\n"), &format!("{port} proto h2\n"))
        )
    };
    let drive = |port: u16, side: &Side| (half_close(port), side.selected(requests, 2));
    let (mine, debian) = both_reading(1, cfg, drive);
    assert_eq!(
        mine.0,
        [
            "WINDOW_UPDATE 3 +10",
            "WINDOW_UPDATE 0 +2147418122",
            "HEADERS 1 :status 200",
            "DATA 1 END_STREAM",
            "closed"
        ]
    );
    // Both requests are logged: the complete one answered, the partial one cut short.
    assert_eq!(
        mine.1,
        ["http://t/complete 200 ----", "http://t/partial 400 CH--"]
    );
    // HAProxy also sends the cut-short request its 400 (HEADERS and DATA on stream 3) before
    // closing, which hapee does not yet: the rest is compared.
    let without_stream_3 = |(frames, log): (Vec<String>, Vec<String>)| {
        let frames: Vec<String> = frames
            .into_iter()
            .filter(|f| !f.starts_with("HEADERS 3") && !f.starts_with("DATA 3"))
            .collect();
        (frames, log)
    };
    if let Some(theirs) = debian {
        assert_eq!(without_stream_3(theirs), mine);
    }
    if let Some((frames, log)) = with_haproxy_27(cfg, half_close) {
        assert_eq!(without_stream_3((frames, requests(&log))), mine);
    }
}
