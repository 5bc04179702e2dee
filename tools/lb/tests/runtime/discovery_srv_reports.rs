//! What the slots of an SRV-driven `server-template` report as the records change, side by
//! side with HAProxy against dnsmasq (restarted with other records at each step): a slot
//! taking a record names the address the answer's additional section gave (`by DNS
//! additional record`) and, in the log only, its target (`changed its FQDN … by 'SRV
//! record'`); a record that goes sends its slot to maintenance (`entry removed from SRV
//! record`); a target whose address changed keeps its slot; a target whose port changed is
//! another record, which takes a free slot; a name without records (NXDOMAIN) past `hold nx`
//! empties the slots as a record that goes does.
//!
//! The steps after the first need HAProxy to ask again, which 2.7.0 does not do on most dates
//! (issue #1962, see `discovery_cycle`): they are compared with Debian's haproxy, the first
//! answer with 2.7.0 as well.

use crate::discovery::Dnsmasq;
use crate::discovery_cycle::{logged_resolvers_config, reports_about};
use crate::harness::*;
use std::time::Duration;

/// The records dnsmasq serves at one step: each SRV record's target (`webN.hapee.test`) and
/// port, and the address of web2 (the other targets' are fixed: `127.0.0.1N`).
pub(crate) struct Records {
    pub srv: &'static [(&'static str, u16)],
    pub web2: &'static str,
}

pub(crate) const FIRST: Records = Records {
    srv: &[("web1", 8080)],
    web2: "127.0.0.12",
};

/// What a side reported: its stderr lines and its log lines about the slots.
pub(crate) type Reports = (Vec<String>, Vec<String>);

/// An SRV service (`_http._tcp.svc.hapee.test`) in a `server-template` of `slots` slots in
/// each of `backends`, and the weight dnsmasq gives each target's record.
pub(crate) struct Service {
    pub backends: &'static [&'static str],
    pub slots: usize,
    pub weight_of: fn(&str) -> u16,
}

impl Service {
    /// What the lines about the slots contain: `b/s` for one backend `b`, `/s` for several.
    fn about(&self) -> String {
        match self.backends {
            [one] => format!("{one}/s"),
            _ => "/s".into(),
        }
    }

    /// dnsmasq on `port` serving `records` for the service.
    pub(crate) fn nameserver(&self, port: u16, records: &Records) -> Dnsmasq {
        let mut extra = vec!["--local=/hapee.test/".to_string()];
        for n in [1, 3, 4, 5] {
            extra.push(format!("--host-record=web{n}.hapee.test,127.0.0.1{n}"));
        }
        extra.push(format!("--host-record=web2.hapee.test,{}", records.web2));
        for (target, srv_port) in records.srv {
            let weight = (self.weight_of)(target);
            extra.push(format!(
                "--srv-host=_http._tcp.svc.hapee.test,{target}.hapee.test,{srv_port},0,{weight}"
            ));
        }
        Dnsmasq::start(port, &[], &extra)
    }

    /// The configuration: one template per backend (the first named `b`).
    pub(crate) fn config(&self, port: u16, dns: u16) -> String {
        let backends: String = self
            .backends
            .iter()
            .map(|backend| {
                format!(
                    "backend {backend}\n    server-template s {} _http._tcp.svc.hapee.test resolvers dns resolve-prefer ipv4 init-addr none\n",
                    self.slots
                )
            })
            .collect();
        let holds = ["hold valid 10s", "hold obsolete 0s", "hold nx 300ms"];
        logged_resolvers_config(port, dns, &holds, &backends)
    }

    /// Waits until `side` wrote `count` lines about the slots on stderr.
    pub(crate) fn reported(&self, side: &Side, count: usize) -> bool {
        wait_until(Duration::from_secs(15), || {
            reports_about(side, &self.about()).0.len() >= count
        })
    }

    /// What hapee and (when there) Debian's haproxy reported through `steps`: each step's
    /// records, and how many lines stderr has once they are taken in.
    pub(crate) fn side_by_side(&self, steps: &[(Records, usize)]) -> (Reports, Option<Reports>) {
        let drive = |dns_port: u16, side: &Side| {
            for (records, count) in steps {
                let _dns = self.nameserver(dns_port, records);
                let all = || format!("{}: {:#?}", side.name(), reports_about(side, &self.about()));
                assert!(self.reported(side, *count), "{}", all());
                // The log lines of the step come with the last stderr line, or just after.
                std::thread::sleep(Duration::from_millis(300));
            }
            reports_about(side, &self.about())
        };
        both_sides(
            1,
            free_port,
            |port, dns| self.config(port, *dns),
            |_, dns, side| drive(*dns, side),
        )
    }
}

/// One backend of three slots; web2's record weighs 600, the others 10.
const SERVICE: Service = Service {
    backends: &["b"],
    slots: 3,
    weight_of: heavy_web2,
};

fn heavy_web2(target: &str) -> u16 {
    if target == "web2" {
        600
    } else {
        10
    }
}

#[test]
fn srv_template_slots_report_their_records_as_haproxy_does() {
    if !have_tool("dnsmasq", "--version") {
        return;
    }
    // Each step's records, and how many lines stderr has once they are taken in.
    let steps: [(Records, usize); 6] = [
        (FIRST, 2),
        // A target added.
        (
            Records {
                srv: &[("web1", 8080), ("web2", 8080)],
                ..FIRST
            },
            4,
        ),
        // A target removed.
        (
            Records {
                srv: &[("web2", 8080)],
                ..FIRST
            },
            5,
        ),
        // A target's address changed.
        (
            Records {
                srv: &[("web2", 8080)],
                web2: "127.0.0.22",
            },
            6,
        ),
        // A target's port changed: another record.
        (
            Records {
                srv: &[("web2", 9090)],
                web2: "127.0.0.22",
            },
            11,
        ),
        // No record left (NXDOMAIN), past `hold nx`.
        (
            Records {
                srv: &[],
                web2: "127.0.0.22",
            },
            13,
        ),
    ];
    let (mine, theirs) = SERVICE.side_by_side(&steps);
    let left = |n: u8| {
        format!("{n} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue")
    };
    let expected = [
        "[WARNING] b/s1 changed its IP from (none) to 127.0.0.11 by DNS additional record.".to_string(),
        "[WARNING] Server b/s1 ('web1.hapee.test') is UP/READY (resolves again).".into(),
        "[WARNING] b/s2 changed its IP from (none) to 127.0.0.12 by DNS additional record.".into(),
        "[WARNING] Server b/s2 ('web2.hapee.test') is UP/READY (resolves again).".into(),
        format!("[WARNING] Server b/s1 is going DOWN for maintenance (entry removed from SRV record). {}.", left(1)),
        "[WARNING] b/s2 changed its IP from 127.0.0.12 to 127.0.0.22 by dns/ns1.".into(),
        format!("[WARNING] Server b/s2 is going DOWN for maintenance (entry removed from SRV record). {}.", left(0)),
        "[ALERT] backend 'b' has no server available!".into(),
        "[WARNING] b/s3 changed its IP from (none) to 127.0.0.22 by dns/ns1.".into(),
        "[WARNING] Server b/s3 ('web2.hapee.test') is UP/READY (resolves again).".into(),
        "[WARNING] Server b/s3 administratively READY thanks to valid DNS answer.".into(),
        format!("[WARNING] Server b/s3 is going DOWN for maintenance (entry removed from SRV record). {}.", left(0)),
        "[ALERT] backend 'b' has no server available!".into(),
    ];
    assert_eq!(mine.0, expected);
    // The log says the same without the levels, plus each slot's new name: after the
    // address an additional record gave, before the one the target's own resolution gave.
    let fqdn = |s: &str, host: &str| {
        format!("b/{s} changed its FQDN from (null) to {host}.hapee.test by 'SRV record'")
    };
    let mut logged: Vec<String> = expected
        .iter()
        .map(|l| l.split_once("] ").map_or(l.as_str(), |(_, t)| t))
        .map(|l| l.replace("backend 'b'", "backend b"))
        .collect();
    logged.insert(8, fqdn("s3", "web2"));
    logged.insert(3, fqdn("s2", "web2"));
    logged.insert(1, fqdn("s1", "web1"));
    assert_eq!(mine.1, logged);
    if let Some(theirs) = theirs {
        assert_eq!(theirs, mine);
    }
    // HAProxy 2.7.0's first answer.
    if let Some(program) = haproxy_27() {
        let port = free_port();
        let dns_port = free_port();
        let _dns = SERVICE.nameserver(dns_port, &FIRST);
        let h = Haproxy::start_program(&program, &SERVICE.config(port, dns_port), port, &["-db"]);
        let side = Side::Haproxy(&h);
        assert!(
            SERVICE.reported(&side, 2),
            "{:#?}",
            reports_about(&side, "b/s")
        );
        std::thread::sleep(Duration::from_millis(200));
        let first = reports_about(&side, "b/s");
        assert_eq!(first.0, mine.0[..2]);
        assert_eq!(first.1, mine.1[..3]);
    }
}
