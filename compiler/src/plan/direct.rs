//! Backends that send to one address without balancing: `dispatch <address>` (a fixed
//! destination) and `option transparent` (the destination the client connected to, as rules
//! may have changed it). Either applies only when the backend has no `balance` line, its own
//! or inherited; its servers, if any, are then not used, as in HAProxy.

use super::ServerPlan;
use crate::address::{self, Address};
use crate::ir;
use serde::Serialize;

/// Where a backend without balancing connects.
#[derive(Clone, Debug, Serialize)]
pub struct Direct {
    /// `option transparent`: the stream's destination address; else the `dispatch` address.
    pub transparent: bool,
    /// The target as a server without a name: its address (none when transparent) and the
    /// connection settings every server has.
    pub server: ServerPlan,
}

/// The backend's direct target, when it has one.
pub fn of(p: &ir::Proxy, env: &dyn crate::syntax::Environment) -> Option<Direct> {
    let keyword = |k: &str| {
        p.directives
            .iter()
            .any(|d| d.keyword == k && d.prefix.is_none())
    };
    if keyword("balance") {
        // `dispatch` is ignored in balance mode (HAProxy warns); `transparent` with a
        // balance line is an error the checks report.
        return None;
    }
    let dispatch = p
        .directives
        .iter()
        .rev()
        .find(|d| d.keyword == "dispatch" && d.prefix.is_none())
        .and_then(|d| d.args.first())
        .and_then(|a| {
            let a = address::env_expand(a.as_str(), env);
            address::parse(&a, address::Rules::SERVER).ok()
        });
    // `dispatch` wins over `transparent` when both are set.
    if let Some(addr) = dispatch {
        return Some(Direct {
            transparent: false,
            server: bare_server(Some(addr)),
        });
    }
    let transparent = p.option("transparent").unwrap_or(false) || keyword("transparent");
    transparent.then(|| Direct {
        transparent: true,
        server: bare_server(None),
    })
}

fn bare_server(address: Option<Address>) -> ServerPlan {
    ServerPlan {
        name: String::new(),
        host: address
            .as_ref()
            .filter(|a| a.is_hostname())
            .map(|a| a.host.to_string()),
        address,
        weight: 1,
        backup: false,
        disabled: false,
        non_stick: false,
        check: false,
        maxconn: None,
        check_params: Default::default(),
        options: Vec::new(),
        template: None,
        tls: None,
        check_tls: None,
        mux: Default::default(),
        socks4: None,
        check_via_socks4: false,
        slowstart: None,
        minconn: None,
        observe: None,
        source: Vec::new(),
        tuning: Default::default(),
        shutdown_sessions_when_down: false,
        shutdown_backup_sessions_when_up: false,
    }
}

#[cfg(test)]
mod tests {
    fn direct_of(cfg: &str) -> Vec<Option<(bool, Option<String>)>> {
        let c = crate::testkit::compile_text("t.cfg", cfg, false);
        let plan = super::super::build(&c.config, 1);
        plan.backends
            .iter()
            .map(|b| {
                b.direct.as_ref().map(|d| {
                    let addr = d
                        .server
                        .address
                        .as_ref()
                        .map(|a| format!("{}:{:?}", a.host, a.port));
                    (d.transparent, addr)
                })
            })
            .collect()
    }

    #[test]
    fn dispatch_and_transparent_apply_without_a_balance_line() {
        let got = direct_of(
            "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
             listen a\n    bind :8001\n    dispatch 127.0.0.1:9000\n\
             listen b\n    bind :8002\n    option transparent\n\
             listen c\n    bind :8003\n    balance roundrobin\n    dispatch 127.0.0.1:9000\n    server s 127.0.0.1:9001\n\
             listen d\n    bind :8004\n    option transparent\n    dispatch 127.0.0.1:9002\n\
             listen e\n    bind :8005\n    server s 127.0.0.1:9001\n",
        );
        assert!(
            matches!(&got[0], Some((false, Some(a))) if a.starts_with("127.0.0.1:")),
            "{got:?}"
        );
        assert_eq!(got[1], Some((true, None)));
        // `balance` wins over `dispatch`, `dispatch` over `transparent`.
        assert_eq!(got[2], None);
        assert!(matches!(&got[3], Some((false, Some(_)))), "{got:?}");
        assert_eq!(got[4], None);
    }
}
