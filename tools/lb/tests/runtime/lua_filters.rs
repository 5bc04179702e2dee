//! A script that registers a filter (`testdata/lua/filters.lua`) loads and serves beside it:
//! `core.register_filter` (with HAProxy's warning when a name comes twice) and the `filter`
//! global's codes and functions, side by side with Debian's haproxy. hapee does not run
//! script filters yet: `check` refuses a `filter lua.<name>` line (U001).

use super::harness::{both_reading, curl, DEFAULTS};

#[test]
fn a_script_registering_a_filter_loads_and_sees_haproxys_filter_global() {
    let script = super::lua_public::script("filters.lua");
    let cfg = |port: u16| {
        format!(
            "global\n    lua-load {script}\n{DEFAULTS}frontend fe\n    bind 127.0.0.1:{port}\n    http-request use-service lua.constants\n"
        )
    };
    let (ours, theirs) = both_reading(1, cfg, |port, side| {
        let warnings = super::lua_registration::twice_warnings(&side.stderr());
        (curl(&[&format!("http://127.0.0.1:{port}/")]), warnings)
    });
    assert_eq!(
        ours.0,
        (200, "1 0 -1 1 function function function function".into())
    );
    assert_eq!(
        ours.1,
        ["config : Trying to register filter 'lua.counter' more than once. This will become a hard error in version 2.5."]
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs, "hapee and haproxy differ");
    }
}
