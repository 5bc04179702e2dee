//! The runtime coverage measure: of the corpus configurations HAProxy 2.7 accepts, how many
//! `hapee-lb run` starts, and which keywords block the others. `bench/coverage.sh` prints the
//! table; this test also holds the two promises behind it: the share never drops below the
//! last measure, and whatever `check` lets through (no U001), the runtime accepts at start.

use super::unsupported;
use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::collections::BTreeMap;

/// The share measured when this floor was last raised; a change that lowers it fails here.
const STARTS_AT_LEAST: usize = 202;

/// The keyword part of a U001 reason (`'stats' in a global section` → `stats`), so that the
/// table ranks keywords, not lines.
fn blocker(reason: &str) -> String {
    let quoted = reason.split('\'').nth(1).unwrap_or(reason);
    let mut words = quoted.split_whitespace();
    let first = words.next().unwrap_or(quoted);
    match first {
        "option" | "http-request" | "http-response" | "tcp-request" | "stats" => {
            format!("{first} {}", words.next().unwrap_or(""))
        }
        _ => first.to_string(),
    }
    .trim()
    .to_string()
}

#[test]
fn valid_corpus_configurations_start_and_check_agrees_with_run() {
    let root = hapee_compiler::testkit::corpus_dir().join("regtests-2.7");
    let index = std::fs::read_to_string(root.join("index.tsv")).expect("corpus index");
    let (mut valid, mut starts) = (0usize, 0usize);
    let mut blockers: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (Some(cfg), Some(kind), Some(exit)) = (cols.first(), cols.get(1), cols.get(6)) else {
            continue;
        };
        if !matches!(*kind, "conf" | "conf-OK") || *exit != "0" {
            continue;
        }
        let path = root.join(cfg);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        valid += 1;
        let mut db = SourceDb::new();
        db.add(cfg.to_string(), text);
        let options = CheckOptions {
            no_env: true,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        };
        let c = compile(db, &MapEnv::default(), &options);
        if c.has_errors() {
            *blockers.entry("(check error)".into()).or_default() += 1;
            continue;
        }
        let plan = hapee_compiler::plan::build(&c.config, 2);
        // Relative paths in the configurations (maps, error files, certificates) are relative
        // to their folder.
        let cwd = std::env::current_dir().unwrap();
        std::env::set_current_dir(path.parent().unwrap()).unwrap();
        let refused = unsupported(&c);
        let built = hapee_runtime::state::Shared::build(&plan);
        std::env::set_current_dir(cwd).unwrap();
        match (refused.is_empty(), built) {
            (true, Ok(_)) => starts += 1,
            (true, Err(problems)) => {
                disagreements.push(format!("{cfg}: {}", problems.join("; ")));
            }
            (false, _) => {
                let mut seen: Vec<String> = refused.iter().map(|(_, w)| blocker(w)).collect();
                seen.sort();
                seen.dedup();
                if std::env::var_os("HAPEE_COVERAGE_DETAIL").is_some() {
                    eprintln!("blocked: {cfg}: {}", seen.join(" | "));
                }
                for b in seen {
                    *blockers.entry(b).or_default() += 1;
                }
            }
        }
    }
    let mut ranked: Vec<_> = blockers.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    eprintln!(
        "coverage: {starts} of {valid} valid corpus configurations start ({:.1} %)",
        100.0 * starts as f64 / valid.max(1) as f64
    );
    eprintln!("| keyword | configurations it blocks |\n|---|---|");
    for (keyword, count) in ranked.iter().take(40) {
        eprintln!("| `{keyword}` | {count} |");
    }
    assert!(
        valid >= 200,
        "the corpus index lists {valid} valid configurations"
    );
    assert!(
        disagreements.is_empty(),
        "check found nothing to refuse, but the runtime refused at start:\n{}",
        disagreements.join("\n")
    );
    assert!(
        starts >= STARTS_AT_LEAST,
        "{starts} configurations start, fewer than the last measure ({STARTS_AT_LEAST})"
    );
}
