//! Fuzzes the reading of server responses without sockets: head parsing, interim responses,
//! body framing (length, chunked with extensions and trailers, up to the close). A server is
//! input like any client; any panic is a bug.
#![no_main]

use hapee_runtime::upstream::decode_buffered;
use hyper::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for method in [Method::GET, Method::HEAD, Method::CONNECT] {
        let _ = decode_buffered(data, &method);
    }
});
