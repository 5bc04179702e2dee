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
pub fn of(p: &ir::Proxy) -> Option<Direct> {
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
        .and_then(|a| address::parse(a.as_str(), address::Rules::SERVER).ok());
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
        check: false,
        maxconn: None,
        check_params: Default::default(),
        options: Vec::new(),
        template: None,
        tls: None,
        check_tls: None,
        mux: Default::default(),
    }
}
