//! Parity with HAProxy 2.7.0's `-c` verdicts on the configs of its own regression tests.
//!
//! For every decided row of `shared/corpus/regtests-2.7/index.tsv`: where HAProxy accepted the
//! config we must report no error; where it rejected it we must report an error, on the line of
//! HAProxy's first alert when that alert names a line.

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use hapee_compiler::testkit::{corpus_dir, read_index, Parity};
use hapee_compiler::Severity;
use std::path::Path;

/// Rows whose verdict depends on an optional module of HAProxy's build: the reference build
/// lacks the Prometheus exporter (USE_PROMEX), hapee has it, as Debian's package does. These
/// rows follow Debian's verdict (the `haproxy26_exit` column) instead.
const BUILD_OPTIONAL: &[&str] = &["contrib/prometheus.1.cfg"];

#[test]
fn regtests_verdicts_match_haproxy_2_7() {
    let root = corpus_dir().join("regtests-2.7");
    let mut parity = Parity::default();
    for row in read_index(&root.join("index.tsv")) {
        let cfg = &row["cfg"];
        let exit = if BUILD_OPTIONAL.contains(&cfg.as_str()) {
            &row["haproxy26_exit"]
        } else {
            &row["haproxy27_exit"]
        };
        if exit != "0" && exit != "1" {
            continue;
        }
        let path = root.join(cfg);
        let dir = path.parent().expect("cfg has a folder");
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        std::env::set_current_dir(dir).expect("cd into the config's folder");
        let mut db = SourceDb::new();
        db.load_path(Path::new(&name)).expect("load corpus file");
        let c = compile(db, &MapEnv::default(), &CheckOptions::default());
        let errors: Vec<(u32, String)> = c
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let line = d.span.map_or(0, |s| c.db.line_col(s).line);
                (line, format!("{} {}", d.code, d.message))
            })
            .collect();
        parity.judge(cfg, exit, &row["haproxy27_first_alert"], &errors);
    }
    println!("regtests-2.7: {}", parity.summary());
    assert!(
        parity.valid >= 200 && parity.invalid >= 18,
        "corpus too small: {} valid, {} invalid",
        parity.valid,
        parity.invalid
    );
    assert!(
        parity.misses.is_empty(),
        "{} parity failures of {}:\n{}",
        parity.misses.len(),
        parity.valid + parity.invalid,
        parity.misses.join("\n")
    );
}
