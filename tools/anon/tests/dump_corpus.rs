//! `hapee-lb -dC123456` must reproduce HAProxy 2.7.0's anonymized dump byte for byte on every
//! config of the regression-test corpus.

use hapee_anon::dump::{dump, DumpOptions};
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    hapee_compiler::testkit::corpus_dir()
}

#[test]
fn dc123456_matches_haproxy_byte_for_byte() {
    let root = corpus();
    let index = std::fs::read_to_string(root.join("regtests-2.7/index.tsv")).expect("index");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in index.lines().skip(1) {
        let cfg = line.split('\t').next().unwrap_or_default();
        let expected_path = root
            .join("regtests-2.7-dC123456")
            .join(format!("{cfg}.out"));
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            continue;
        };
        let text = std::fs::read(root.join("regtests-2.7").join(cfg)).expect("config");
        let mut db = SourceDb::new();
        db.add(cfg, String::from_utf8_lossy(&text).into_owned());
        let (got, _) = dump(&db, &MapEnv::default(), DumpOptions::parse("123456"));
        count += 1;
        if got != expected {
            let diff = similar::TextDiff::from_lines(&expected, &got);
            let shown: String = diff
                .unified_diff()
                .context_radius(1)
                .to_string()
                .lines()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n");
            failures.push(format!("{cfg}:\n{shown}"));
        }
    }
    assert!(count >= 220, "only {count} expected dumps found");
    assert!(
        failures.is_empty(),
        "{} of {count} dumps differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
