//! hapee's language server: diagnostics, hover, completion, go-to-definition, document symbols,
//! formatting and quick fixes for HAProxy configurations, over stdio.
//!
//! rust-analyzer's model: an explicit main loop over `lsp-server`'s channel; edits are applied in
//! order; every request is answered from the current analysis of its document, and a panic while
//! answering one request becomes an error response instead of ending the server.

mod actions;
mod analysis;
mod arguments;
mod completion;
mod hover;
mod navigation;
mod paths;
mod position;
mod publish;
pub mod server;
mod settings;
mod signature;
mod symbols;
mod sync;
mod tokens;
mod transport;
mod words;
mod workspace;
