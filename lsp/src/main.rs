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
'.hapee.toml' (found as check finds it: in the file's folder or a parent up to the
repository root, else in the workspace root) and '# hapee: allow(CODE)' comments.

Options:
  --stdio        talk over standard input and output (the default and only transport)
  -h, --help     print this help
  -V, --version  print the version
";

/// mimalloc 2's `mi_option_purge_delay` (its header's option enum; the bindings leave the
/// experimental options unnamed).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory of a freed analysis for the next one: by default mimalloc hands freed pages
/// back to the system after 10 ms, and every edit then faulted the whole model's pages in again
/// (a sixth of an edit's CPU time on 20,000 lines). The process stays at its peak, which the
/// next edit needs anyway.
fn keep_freed_memory() {
    // SAFETY: mi_option_set stores an integer in mimalloc's option table and reads no pointer;
    // it is not thread-safe, and runs first in main, before this process starts any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> std::process::ExitCode {
    keep_freed_memory();
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
