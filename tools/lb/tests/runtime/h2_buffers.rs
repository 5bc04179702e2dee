//! HTTP/2 from clients with the vendored h2's buffers freed between uses (vendor/h2: the write
//! buffer once flushed, the read buffer while empty, the HPACK Huffman buffer sized per header
//! block): bodies larger than the flow-control windows go both ways intact, and many streams on
//! few connections all get their answers.

use crate::harness::*;
use crate::tls::{curl_tls, have};
use std::process::Command;

#[test]
fn bodies_beyond_the_windows_and_many_streams_cross_h2_intact() {
    if !have("curl", &["--version"]) {
        return;
    }
    let o = Origin::start("o");
    let h2c = free_port();
    // A 32 kB stream window: the upload waits for WINDOW_UPDATEs from the proxy, and the echo
    // (the origin answers with the body it got) for the client's, so both buffers empty and
    // fill again many times within one stream.
    let cfg = format!(
        "global
    tune.h2.initial-window-size 32768
{DEFAULTS}frontend fe
    bind 127.0.0.1:{h2c} proto h2
    default_backend app
backend app
    server s1 {}
",
        o.addr
    );
    let _p = Proxy::start(&cfg, h2c);
    let body: String = (0..20_000).map(|i| format!("line {i:05}\n")).collect();
    let file = Scratch::file(&format!("hapee-h2-body-{h2c}"));
    std::fs::write(&file, &body).unwrap();
    let (out, err) = curl_tls(&[
        "--http2-prior-knowledge",
        "--data-binary",
        &format!("@{}", file.display()),
        "-H",
        "content-type: application/octet-stream",
        &format!("http://127.0.0.1:{h2c}/up"),
    ]);
    std::fs::remove_file(&file).ok();
    assert!(out.ends_with("200 2"), "{err}{:?}", out.lines().last());
    assert!(
        out.contains("method=POST") && out.contains("path=/up"),
        "{err}"
    );
    assert!(
        out.contains(&format!("body={body}\n")),
        "the {} byte body did not come back whole ({} bytes answered)",
        body.len(),
        out.len()
    );
    // 400 streams over 2 connections, 10 at a time on each.
    if have("h2load", &["--version"]) {
        let out = Command::new("h2load")
            .args(["-n", "400", "-c", "2", "-m", "10"])
            .arg(format!("http://127.0.0.1:{h2c}/many"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("400 total, 400 started, 400 done, 400 succeeded"),
            "{text}"
        );
    }
}
