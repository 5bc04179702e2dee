//! Parity with HAProxy 2.7.0's `-c` verdicts on the configs of its own regression tests.
//!
//! For every decided row of `shared/corpus/regtests-2.7/index.tsv`: where HAProxy accepted the
//! config we must report no error; where it rejected it we must report an error, on the line of
//! HAProxy's first alert when that alert names a line.

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use hapee_compiler::Severity;
use std::path::Path;

use hapee_compiler::testkit::corpus_dir;

struct Row {
    cfg: String,
    exit: String,
    first_alert: String,
}

/// Rows whose verdict depends on an optional module of HAProxy's build: the reference build
/// lacks the Prometheus exporter (USE_PROMEX), hapee has it, as Debian's package does. These
/// rows follow Debian's verdict (the `haproxy26_exit` column) instead.
const BUILD_OPTIONAL: &[&str] = &["contrib/prometheus.1.cfg"];

fn rows() -> Vec<Row> {
    let index =
        std::fs::read_to_string(corpus_dir().join("regtests-2.7/index.tsv")).expect("corpus index");
    index
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let optional = BUILD_OPTIONAL.contains(&f[0]);
            Row {
                cfg: f[0].to_string(),
                exit: f[if optional { 8 } else { 6 }].to_string(),
                first_alert: f.get(7).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// The line number in `[file.cfg:N]` of an alert, if it names one.
fn alert_line(alert: &str) -> Option<u32> {
    let start = alert.find(".cfg:")? + 5;
    let digits: String = alert[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[test]
fn regtests_verdicts_match_haproxy_2_7() {
    let root = corpus_dir().join("regtests-2.7");
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for row in rows().iter().filter(|r| r.exit == "0" || r.exit == "1") {
        let path = root.join(&row.cfg);
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
        let errors: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        let describe = |d: &&hapee_compiler::Diagnostic| {
            let line = d.span.map_or(0, |s| c.db.line_col(s).line);
            format!("{}:{} {} {}", row.cfg, line, d.code, d.message)
        };
        if row.exit == "0" {
            valid += 1;
            if !errors.is_empty() {
                failures.push(format!(
                    "accepted by HAProxy, rejected here: {}",
                    errors.iter().map(describe).collect::<Vec<_>>().join(" | ")
                ));
            }
        } else {
            invalid += 1;
            match alert_line(&row.first_alert) {
                _ if errors.is_empty() => failures.push(format!(
                    "{}: rejected by HAProxy ({}), accepted here",
                    row.cfg, row.first_alert
                )),
                Some(line)
                    if !errors
                        .iter()
                        .any(|d| d.span.is_some_and(|s| c.db.line_col(s).line == line)) =>
                {
                    failures.push(format!(
                        "{}: HAProxy's first alert is on line {line} ({}), ours: {}",
                        row.cfg,
                        row.first_alert,
                        errors.iter().map(describe).collect::<Vec<_>>().join(" | ")
                    ))
                }
                _ => {}
            }
        }
    }
    assert!(
        valid >= 200 && invalid >= 18,
        "corpus too small: {valid} valid, {invalid} invalid"
    );
    assert!(
        failures.is_empty(),
        "{} parity failures of {}:\n{}",
        failures.len(),
        valid + invalid,
        failures.join("\n")
    );
}
