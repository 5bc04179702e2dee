//! Client-side connection drivers, one per protocol. Each hands the same request type to the
//! one request path in `crate::http`.

pub mod h1;
pub mod proxy_protocol;
