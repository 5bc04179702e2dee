//! `hapee-lsp`: the language server binary (stdio).

fn main() -> std::process::ExitCode {
    match hapee_lsp::server::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hapee-lsp: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
