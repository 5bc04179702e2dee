//! `hapee-anon config` keeps configurations usable: every corpus config that passes
//! `check --no-env` still passes it once anonymized, with the same lines and keywords, and no
//! defined name survives.

use hapee_anon::config::anonymize;
use hapee_anon::keyed::Anonymizer;
use hapee_compiler::Severity;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    hapee_compiler::testkit::corpus_dir()
}

fn check(name: &str, text: &str) -> (hapee_compiler::check::Compilation, Vec<String>) {
    let c = hapee_compiler::testkit::compile_text(name, text, false);
    let errors = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            format!(
                "{}:{} {} {}",
                name,
                d.span.map_or(0, |s| c.db.line_col(s).line),
                d.code,
                d.message
            )
        })
        .collect();
    (c, errors)
}

#[test]
fn anonymized_corpus_configs_still_pass_check() {
    let root = corpus().join("regtests-2.7");
    let index = std::fs::read_to_string(root.join("index.tsv")).expect("index");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in index.lines().skip(1) {
        let cfg = line.split('\t').next().unwrap_or_default();
        let text =
            String::from_utf8_lossy(&std::fs::read(root.join(cfg)).expect("config")).into_owned();
        let (c, errors) = check(cfg, &text);
        if !errors.is_empty() {
            continue; // only configs that pass check --no-env are promised to keep passing
        }
        checked += 1;
        let mut anon = Anonymizer::new(0x5eed);
        let out = anonymize(&c, &mut anon);
        let anonymized = &out[0].1;
        assert_eq!(
            anonymized.lines().count(),
            text.lines().count(),
            "{cfg}: line count changed"
        );
        let (_, after) = check(cfg, anonymized);
        if !after.is_empty() {
            failures.push(format!("{cfg}:\n  {}", after.join("\n  ")));
        }
        for p in c.config.proxies.iter().filter_map(|p| p.name.as_ref()) {
            // Header names are kept on purpose (only values are masked): skip them.
            let leaked = anonymized.lines().any(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.iter().enumerate().any(|(i, w)| {
                    let header_name = i > 0
                        && matches!(
                            words[i - 1],
                            "set-header" | "add-header" | "del-header" | "replace-header"
                        );
                    !header_name
                        && w.split(|ch: char| "()/,'\"".contains(ch))
                            .any(|t| t == p.value)
                })
            });
            let keyword = |v: &str| {
                use hapee_compiler::registry as r;
                r::DIRECTIVES.iter().any(|d| d.name == v)
                    || r::server_option(v).is_some()
                    || r::bind_option(v).is_some()
                    || r::fetch(v).is_some()
                    || r::converter(v).is_some()
                    || r::ACTIONS.iter().any(|a| a.name == v)
                    || matches!(v, "tcp" | "http" | "health" | "log")
            };
            if leaked && !keyword(&p.value) {
                failures.push(format!("{cfg}: proxy name '{}' survived", p.value));
            }
        }
    }
    assert!(checked > 150, "only {checked} configs checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} anonymized configs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
