//! `balance leastconn` among servers of equal load takes the one whose load changed least
//! recently, as HAProxy's tree keeps them (an idle server's key is 0 whatever its weight): a
//! server taken out leaves the others' order as it was, and one put back comes after them.
//! Servers are taken out and put back with the Runtime API; side by side with Debian's haproxy.

use crate::harness::*;

#[test]
fn leastconn_keeps_its_order_when_a_server_goes_down_and_up() {
    let (mine, theirs) = turns_as_servers_change(
        "leastconn",
        &[
            ("", 6),
            ("disable server be/d", 5),
            ("enable server be/d", 5),
        ],
    );
    assert_eq!(mine, ["a b c d a b", "c a b c a", "b c a d b"]);
    if let Some(theirs) = theirs {
        assert_eq!(mine, theirs);
    }
}
