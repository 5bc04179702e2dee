//! One fixture per diagnostic code: `testdata/diagnostics/<CODE>.cfg` must raise `<CODE>`, and its
//! full human rendering is snapshotted so message, span and label changes are reviewed.

use hapee_compiler::check::compile;
use hapee_compiler::codes::{Origin, RULES};
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::path::Path;

fn fixtures_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/diagnostics"
    ))
}

#[test]
fn every_fixture_raises_its_code() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../testdata/diagnostics/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../../testdata/diagnostics", "*.cfg", |path| {
            let code = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .split('-')
                .next()
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(path).expect("fixture readable");
            let mut db = SourceDb::new();
            db.add(format!("{code}.cfg"), text);
            let c = compile(
                db,
                &MapEnv::default(),
                &CheckOptions {
                    no_env: false,
                    master_worker: false,
                    lints: true,
                    resolve_dontfail: false,
                },
            );
            assert!(
                c.diagnostics.iter().any(|d| d.code == code),
                "fixture {code} does not raise {code}; got {:?}",
                c.diagnostics
                    .iter()
                    .map(|d| (d.code, &d.message))
                    .collect::<Vec<_>>()
            );
            insta::assert_snapshot!(render::human(&c.db, &c.diagnostics, false));
        });
    });
}

#[test]
fn every_checked_code_has_a_fixture() {
    let missing: Vec<&str> = RULES
        .iter()
        .filter(|r| r.origin != Origin::Runtime)
        .map(|r| r.code)
        .filter(|code| !fixtures_dir().join(format!("{code}.cfg")).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture in testdata/diagnostics: {missing:?}"
    );
}

#[test]
fn every_code_in_the_source_is_declared() {
    fn visit(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("source dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                visit(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("codes.rs") {
                out.push(std::fs::read_to_string(&p).expect("readable source"));
            }
        }
    }
    let mut sources = Vec::new();
    visit(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut sources,
    );
    let mut undeclared = Vec::new();
    for text in &sources {
        let bytes = text.as_bytes();
        for i in 0..bytes.len().saturating_sub(5) {
            let is_code = bytes[i] == b'"'
                && matches!(bytes[i + 1], b'E' | b'W' | b'L' | b'U')
                && bytes[i + 2..i + 5].iter().all(u8::is_ascii_digit)
                && bytes[i + 5] == b'"';
            if is_code {
                let code = &text[i + 1..i + 5];
                if hapee_compiler::codes::rule(code).is_none()
                    && !undeclared.contains(&code.to_string())
                {
                    undeclared.push(code.to_string());
                }
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "codes used but not declared in codes.rs: {undeclared:?}"
    );
}
