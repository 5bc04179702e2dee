//! `hapee-lsp`: the language server binary (stdio).

/// Every edit recompiles the document: thousands of small allocations, which mimalloc serves
/// faster than the system allocator (as in `hapee-lb`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
hapee-lsp: language server for HAProxy 2.7 configurations

Usage: hapee-lsp [--stdio]

Speaks the Language Server Protocol on standard input and output; an editor starts it (see
docs/editors.md). Diagnostics are those of 'hapee-lb check', with the lint levels of
'.hapee.toml' (workspace root, else beside the file) and '# hapee: allow(CODE)' comments.

Options:
  --stdio        talk over standard input and output (the default and only transport)
  -h, --help     print this help
  -V, --version  print the version
";

fn main() -> std::process::ExitCode {
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return std::process::ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("hapee-lsp {}", env!("CARGO_PKG_VERSION"));
                return std::process::ExitCode::SUCCESS;
            }
            "--stdio" => {}
            other => {
                eprintln!("hapee-lsp: unknown argument '{other}'\n\n{HELP}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match hapee_lsp::server::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hapee-lsp: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
