//! `fmt` is idempotent and keeps the meaning: on every decided corpus config, formatting twice
//! changes nothing more, the statements read the same words, and the verdict is unchanged.

use hapee_compiler::check::Compilation;
use hapee_compiler::fmt::format_file;
use hapee_compiler::syntax::LineKind;
use hapee_compiler::Severity;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    hapee_compiler::testkit::corpus_dir().join("regtests-2.7")
}

fn build(text: &str) -> Compilation {
    hapee_compiler::testkit::compile_text("f.cfg", text, false)
}

/// What HAProxy reads: each statement's words.
fn meaning(c: &Compilation) -> Vec<Vec<String>> {
    c.tree.files[0]
        .lines
        .iter()
        .filter(|l| !matches!(l.kind, LineKind::Blank | LineKind::Comment))
        .map(|l| l.words.iter().map(|w| w.value.to_string()).collect())
        .collect()
}

fn errors(c: &Compilation) -> usize {
    c.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

#[test]
fn fmt_is_idempotent_and_meaning_preserving_on_the_corpus() {
    let root = corpus();
    let index = std::fs::read_to_string(root.join("index.tsv")).expect("index");
    let mut failures = Vec::new();
    let mut n = 0;
    for row in index.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        if f[6] != "0" && f[6] != "1" {
            continue;
        }
        n += 1;
        let text =
            String::from_utf8_lossy(&std::fs::read(root.join(f[0])).expect("cfg")).into_owned();
        let before = build(&text);
        let once = format_file(&before.db, &before.tree.files[0]);
        let after = build(&once);
        let twice = format_file(&after.db, &after.tree.files[0]);
        if once != twice {
            failures.push(format!("{}: not idempotent", f[0]));
        }
        if meaning(&before) != meaning(&after) {
            failures.push(format!("{}: statements changed", f[0]));
        }
        if (errors(&before) == 0) != (errors(&after) == 0) {
            failures.push(format!("{}: verdict changed", f[0]));
        }
    }
    assert!(n >= 221, "only {n} configs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn canonical_layout() {
    let c = build("global\n  maxconn   100 # cap\n\n\n\nfrontend fe\nbind \"127.0.0.1:80\"\n   # a comment\n    default_backend   be\n");
    assert_eq!(
        format_file(&c.db, &c.tree.files[0]),
        "global\n    maxconn 100 # cap\n\nfrontend fe\n    bind 127.0.0.1:80\n    # a comment\n    default_backend be\n"
    );
}

#[test]
fn words_that_expand_to_nothing_are_kept() {
    // Unset variables: HAProxy reads no word there, but the text is the configuration's.
    let text = "global\n  maxconn   \"${HAPEE_FMT_UNSET_A}\"\n  log \"${HAPEE_FMT_UNSET_B}\" local0\n  user \"${HAPEE_FMT_UNSET_C}\"   \"${HAPEE_FMT_UNSET_D}\"  # who\n  group \"\"\n";
    let c = build(text);
    let out = format_file(&c.db, &c.tree.files[0]);
    assert_eq!(
        out,
        "global\n    maxconn \"${HAPEE_FMT_UNSET_A}\"\n    log \"${HAPEE_FMT_UNSET_B}\" local0\n    user \"${HAPEE_FMT_UNSET_C}\" \"${HAPEE_FMT_UNSET_D}\" # who\n    group \"\"\n"
    );
    let again = build(&out);
    assert_eq!(format_file(&again.db, &again.tree.files[0]), out);
}
