//! Process-wide variables: the global section's `set-var`/`set-var-fmt` lines give them their
//! first values, every stream sees (and may change) the same ones; and the `set-var`
//! converter stores a sample on its way through an expression. Compared with Debian's haproxy.

use crate::harness::*;

fn config(port: u16) -> String {
    format!(
        "global
    set-var proc.base int(40),add(2)
    set-var-fmt proc.text \"base=%[var(proc.base)]\"
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request deny if {{ req.hdr(x-a),set-var(txn.a,ifnotempty),length -m int 1 }}
    http-request set-var(proc.last) req.hdr(x-a) if {{ req.hdr(x-a) -m found }}
    http-request return status 200 hdr x-base \"%[var(proc.base)]\" hdr x-text \"%[var(proc.text)]\" hdr x-a \"%[var(txn.a)]\" hdr x-last \"%[var(proc.last)]\"
"
    )
}

/// Status and the `x-` headers of each request, in order.
fn drive(port: u16) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}/");
    [vec!["-H", "x-a: foo"], vec![], vec!["-H", "x-a: z"]]
        .into_iter()
        .map(|extra| {
            let mut args = vec!["-i", url.as_str()];
            args.extend(extra);
            let (code, text) = curl(&args);
            let mut seen: Vec<String> = text
                .lines()
                .filter(|l| l.to_ascii_lowercase().starts_with("x-"))
                .map(|l| l.trim().to_ascii_lowercase())
                .collect();
            seen.sort();
            format!("{code} {}", seen.join(" | "))
        })
        .collect()
}

#[test]
fn process_variables_are_set_at_start_shared_by_streams_and_set_by_the_converter() {
    let (mine, theirs) = both(config, drive);
    assert_eq!(
        mine[0],
        "200 x-a: foo | x-base: 42 | x-last: foo | x-text: base=42"
    );
    // Another connection sees the process-wide value the first one stored (and an empty
    // header is not added).
    assert_eq!(mine[1], "200 x-base: 42 | x-last: foo | x-text: base=42");
    // The converter stored `z` before the condition denied it.
    assert!(mine[2].starts_with("403"), "{mine:?}");
    let Some(theirs) = theirs else {
        return;
    };
    assert_eq!(theirs, mine);
}
