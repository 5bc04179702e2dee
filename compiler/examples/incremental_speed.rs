//! What an edit costs an incremental compilation ([`hapee_compiler::incremental::Session`]) and
//! a compilation from scratch, on one configuration: the CPU time of each (every thread's, from
//! /proc, so the machine's load does not count), averaged over the edits.
//! Usage: `[ONLY=backend|frontend] incremental_speed FILE [EDITS]`; each edit rewrites a
//! server line in the middle of the file, or the frontend's `default_backend` line, with a
//! different length, as typing does.

use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::ProcessEnv;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The process's user and system time so far, in ms (every thread's; clock ticks, so only
/// sums over many edits are meaningful).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime and stime, in ticks of 1/100 s on Linux.
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) * 10.0
}

/// One incremental compilation after an edit (a function of its own for profilers:
/// `valgrind --tool=callgrind --toggle-collect='*recompile*'`).
#[inline(never)]
fn recompile(
    session: &mut hapee_compiler::incremental::Session,
    db: SourceDb,
    options: &CheckOptions,
) {
    drop(session.compile(db, &ProcessEnv, options, |_| {}));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: incremental_speed FILE [EDITS]");
    let edits: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let text = std::fs::read_to_string(&path).expect("readable file");
    let options = CheckOptions {
        no_env: true,
        lints: true,
        ..Default::default()
    };
    let db_of = |text: &str| {
        let mut db = SourceDb::new();
        db.add(path.as_str(), text);
        db
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let servers: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("server "))
        .collect();
    let frontend = lines
        .iter()
        .position(|l| l.trim_start().starts_with("default_backend"));
    let only = std::env::var("ONLY").unwrap_or_default();
    for (what, at) in [
        ("backend line", servers.get(servers.len() / 2).copied()),
        ("frontend line", frontend),
    ] {
        let Some(at) = at.filter(|_| what.starts_with(only.as_str())) else {
            continue;
        };
        let original = lines[at].clone();
        let mut session = hapee_compiler::incremental::Session::new();
        drop(session.compile(db_of(&text), &ProcessEnv, &options, |_| {}));
        let (mut incremental, mut fresh) = (0.0, 0.0);
        for e in 0..edits {
            lines[at] = format!("{original}{}", " ".repeat(e % 3 + 1));
            let edited = lines.join("\n") + "\n";
            let t = cpu_ms();
            recompile(&mut session, db_of(&edited), &options);
            incremental += cpu_ms() - t;
            let t = cpu_ms();
            drop(hapee_compiler::check::compile(
                db_of(&edited),
                &ProcessEnv,
                &options,
            ));
            fresh += cpu_ms() - t;
        }
        lines[at] = original;
        let per = |ms: f64| ms / edits as f64;
        println!(
            "{what}: {:.1} ms CPU per edit incremental, {:.1} ms from scratch ({edits} edits)",
            per(incremental),
            per(fresh)
        );
    }
}
