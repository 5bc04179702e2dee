//! `hapee-lsp`: the language server binary (stdio).

/// Every edit recompiles the document: thousands of small allocations, which mimalloc serves
/// faster than the system allocator (as in `hapee-lb`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match hapee_lsp::server::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hapee-lsp: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
