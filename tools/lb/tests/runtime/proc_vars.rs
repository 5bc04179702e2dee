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

/// `var(<name>,<default>)`: the default (a string) stands for a variable without a value, in
/// the global section's lines as in a stream, but only where the variable's scope exists: a
/// global `set-var` has the process scope alone, a global `set-var-fmt` a session too, a
/// stream every scope but a health check's.
fn defaults_config(port: u16) -> String {
    format!(
        "global
    set-var proc.y str(yy)
    set-var proc.a var(proc.y,dflt)
    set-var proc.b var(proc.nope,dflt)
    set-var proc.c var(sess.nope,dflt)
    set-var proc.d var(txn.nope,dflt)
    set-var proc.e var(proc.nope,12),add(1)
    set-var proc.f var(proc.nope,)
    set-var-fmt proc.g \"<%[var(sess.nope,fs)]>\"
    set-var-fmt proc.h \"<%[var(txn.nope,ft)]>\"
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request set-var(txn.i) var(txn.nope,ti)
    http-request set-var(txn.j) var(check.nope,cj)
    http-request set-var(txn.k) var(req.nope,7),add(1)
    http-request return status 200 content-type text/plain lf-string \"a=%[var(proc.a)] b=%[var(proc.b)] c=%[var(proc.c)] d=%[var(proc.d)] e=%[var(proc.e)] f=%[var(proc.f),length] g=%[var(proc.g)] h=%[var(proc.h)] i=%[var(txn.i)] j=%[var(txn.j)] k=%[var(txn.k)] l=%[var(sess.nope,sl)]\"
"
    )
}

#[test]
fn a_variables_default_stands_in_where_its_scope_exists() {
    let drive = |port: u16| curl(&[&format!("http://127.0.0.1:{port}/")]);
    let (mine, theirs) = both(defaults_config, drive);
    assert_eq!(
        mine,
        (
            200,
            "a=yy b=dflt c= d= e=13 f=0 g=<fs> h=<> i=ti j= k=8 l=sl".to_string()
        )
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// `set-var(<name>,<condition>…)` on a process-wide variable: every one a rule names exists
/// from the start, value or not, so `ifexists` always holds for it and `ifnotexists` never
/// (`ifset`/`ifnotset` ask whether it holds a value); a stream's variable exists only while it
/// holds one.
fn conditions_config(port: u16) -> String {
    format!(
        "defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request set-var(proc.ex,ifexists) int(1)
    http-request set-var(proc.nex,ifnotexists) int(2)
    http-request set-var(proc.set,ifset) int(3)
    http-request set-var(proc.nset,ifnotset) int(4)
    http-request set-var(txn.ex,ifexists) int(5)
    http-request set-var(txn.nex,ifnotexists) int(6)
    http-request return status 200 content-type text/plain lf-string \"ex=%[var(proc.ex)] nex=%[var(proc.nex)] set=%[var(proc.set)] nset=%[var(proc.nset)] tex=%[var(txn.ex)] tnex=%[var(txn.nex)]\"
"
    )
}

#[test]
fn process_variables_a_rule_names_exist_for_its_conditions() {
    let drive = |port: u16| {
        let url = format!("http://127.0.0.1:{port}/");
        // The second request finds `proc.nset` set by the first and `proc.set` still unset.
        [curl(&[&url]), curl(&[&url])]
    };
    let (mine, theirs) = both(conditions_config, drive);
    let first = "ex=1 nex= set= nset=4 tex= tnex=6".to_string();
    assert_eq!(mine, [(200, first.clone()), (200, first)]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
