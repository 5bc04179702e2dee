//! How an SRV-driven `server-template` takes in an answer that changes several records,
//! side by side with Debian's haproxy against dnsmasq (restarted with other records at each
//! step), two backends on the same service:
//! - HAProxy goes through an answer's records in the order of a hash of their target names
//!   (XXH32, the same in every process, so the lines are reproducible), each record through
//!   every backend: a record that went empties its slots where it comes in that order, a new
//!   one takes the slot free the longest then, or waits for a later answer if none is free;
//! - a slot whose record keeps its target and port but whose additional record gives a new
//!   address resolves the target itself: `by <section>/<nameserver>` for the first slot to
//!   resolve it, `by DNS cache` for the others, after the lines of the SRV answer;
//! - a new port is another record; the address the additional section gives stays with the
//!   older record, so the new one resolves its target too; of two new records of one target,
//!   only the first takes that address.

use crate::discovery_srv_reports::{Records, Service, FIRST};
use crate::harness::have_tool;

/// Two backends of four slots each; every record weighs 10.
const SERVICE: Service = Service {
    backends: &["b", "c"],
    slots: 4,
    weight_of: |_| 10,
};

/// `[WARNING]` lines of slot `slot` (`b/s1`) taking a record of `web<n>` at `ip`, given by
/// the additional section or (`by`) the target's own resolution.
fn took(slot: &str, n: u8, ip: &str, by: Option<&str>) -> Vec<String> {
    let mut lines = vec![
        format!(
            "[WARNING] {slot} changed its IP from (none) to {ip} by {}.",
            by.unwrap_or("DNS additional record")
        ),
        format!("[WARNING] Server {slot} ('web{n}.hapee.test') is UP/READY (resolves again)."),
    ];
    if by.is_some() {
        lines.push(format!(
            "[WARNING] Server {slot} administratively READY thanks to valid DNS answer."
        ));
    }
    lines
}

#[test]
fn srv_answers_changing_several_records_report_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    // Each step's records (whatever order dnsmasq lists them in), and how many lines stderr
    // has once they are taken in. In HAProxy's order: web4, web3, web2, web5, web1.
    let web2_moved = "127.0.0.22";
    let steps: [(Records, usize); 7] = [
        (FIRST, 4),
        // Two new records in one answer: web2's before web5's, each in both backends.
        (
            Records {
                srv: &[("web5", 8080), ("web1", 8080), ("web2", 8080)],
                ..FIRST
            },
            12,
        ),
        // (a) web2's additional record gives a new address.
        (
            Records {
                srv: &[("web5", 8080), ("web1", 8080), ("web2", 8080)],
                web2: web2_moved,
            },
            14,
        ),
        // (b) web5's port changes: another record.
        (
            Records {
                srv: &[("web5", 9090), ("web1", 8080), ("web2", 8080)],
                web2: web2_moved,
            },
            22,
        ),
        // (c) web1 goes, web3 comes: web3 first.
        (
            Records {
                srv: &[("web5", 9090), ("web3", 8080), ("web2", 8080)],
                web2: web2_moved,
            },
            28,
        ),
        // (c) web2 goes, web4 and web1 come: web4 takes the free slot, then web2's slot is
        // emptied and web1 takes it.
        (
            Records {
                srv: &[
                    ("web5", 9090),
                    ("web3", 8080),
                    ("web1", 8080),
                    ("web4", 8080),
                ],
                web2: web2_moved,
            },
            38,
        ),
        // (c) A full template: web2 comes before web5 goes, finds no free slot, and takes
        // web5's.
        (
            Records {
                srv: &[
                    ("web2", 8080),
                    ("web3", 8080),
                    ("web1", 8080),
                    ("web4", 8080),
                ],
                web2: web2_moved,
            },
            44,
        ),
    ];
    let (mine, theirs) = SERVICE.side_by_side(&steps);
    let both = |slot: &str, n: u8, ip: &str| {
        [
            took(&format!("b/{slot}"), n, ip, None),
            took(&format!("c/{slot}"), n, ip, None),
        ]
        .concat()
    };
    let gone = |slot: &str, left: u8| {
        ["b", "c"].map(|b| format!("[WARNING] Server {b}/{slot} is going DOWN for maintenance (entry removed from SRV record). {left} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."))
    };
    let expected: Vec<String> = [
        both("s1", 1, "127.0.0.11"),
        both("s2", 2, "127.0.0.12"),
        both("s3", 5, "127.0.0.15"),
        vec![
            "[WARNING] b/s2 changed its IP from 127.0.0.12 to 127.0.0.22 by dns/ns1.".into(),
            "[WARNING] c/s2 changed its IP from 127.0.0.12 to 127.0.0.22 by DNS cache.".into(),
        ],
        gone("s3", 2).to_vec(),
        took("b/s4", 5, "127.0.0.15", Some("dns/ns1")),
        took("c/s4", 5, "127.0.0.15", Some("DNS cache")),
        both("s3", 3, "127.0.0.13"),
        gone("s1", 3).to_vec(),
        both("s1", 4, "127.0.0.14"),
        gone("s2", 3).to_vec(),
        both("s2", 1, "127.0.0.11"),
        gone("s4", 3).to_vec(),
        both("s4", 2, "127.0.0.22"),
    ]
    .concat();
    assert_eq!(mine.0, expected);
    // The new port's record names its target in the SRV answer's pass, before either
    // backend's slot has its address.
    let fqdn =
        |b: &str| format!("{b}/s4 changed its FQDN from (null) to web5.hapee.test by 'SRV record'");
    let at = mine
        .1
        .iter()
        .position(|l| *l == fqdn("b"))
        .expect("b/s4's FQDN");
    assert_eq!(mine.1[at + 1], fqdn("c"));
    assert!(
        mine.1[at + 2].starts_with("b/s4 changed its IP"),
        "{:#?}",
        mine.1
    );
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}

/// Two records of one target in one answer: the additional section's address goes to one of
/// them only, the other resolves the target itself; a later record of the target leaves the
/// address with the one that had it. A name without records (NXDOMAIN) past `hold nx` then
/// empties the slots backend by backend, as HAProxy's failure path does.
#[test]
fn one_additional_address_serves_one_record_of_its_target_as_in_haproxy() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    let steps: [(Records, usize); 4] = [
        (
            Records {
                srv: &[("web1", 8080), ("web1", 9090)],
                ..FIRST
            },
            10,
        ),
        (
            Records {
                srv: &[
                    ("web1", 8080),
                    ("web1", 9090),
                    ("web3", 7070),
                    ("web3", 7071),
                ],
                ..FIRST
            },
            20,
        ),
        (
            Records {
                srv: &[("web1", 9090), ("web3", 7071), ("web3", 7072)],
                ..FIRST
            },
            30,
        ),
        (Records { srv: &[], ..FIRST }, 37),
    ];
    let (mine, theirs) = SERVICE.side_by_side(&steps);
    let expected = [
        took("b/s1", 1, "127.0.0.11", None),
        took("c/s1", 1, "127.0.0.11", None),
        took("b/s2", 1, "127.0.0.11", Some("dns/ns1")),
        took("c/s2", 1, "127.0.0.11", Some("DNS cache")),
        took("b/s3", 3, "127.0.0.13", None),
        took("c/s3", 3, "127.0.0.13", None),
        took("b/s4", 3, "127.0.0.13", Some("dns/ns1")),
        took("c/s4", 3, "127.0.0.13", Some("DNS cache")),
    ]
    .concat();
    assert_eq!(mine.0[..20], expected);
    // NXDOMAIN: b's three slots, its alert, then c's three.
    let emptied: Vec<&str> = mine.0[30..].iter().map(|l| &l[..19]).collect();
    assert_eq!(
        emptied,
        [
            ["[WARNING] Server b/"; 3].as_slice(),
            &["[ALERT] backend 'b'"],
            &["[WARNING] Server c/"; 3]
        ]
        .concat(),
        "{:#?}",
        mine.0
    );
    // Which records go at the third step depends on the order dnsmasq lists those of one
    // target in (HAProxy keeps it): compared with HAProxy only.
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
}
