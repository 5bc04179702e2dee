//! Each lint fires on its pitfall and stays silent without it: `testdata/lints/<CODE>-bad.cfg`
//! must raise `<CODE>`, and `<CODE>-good.cfg` must raise no lint at all (`<CODE>-<case>-bad.cfg`
//! and its `-good.cfg` for more cases of one lint).

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::path::Path;

fn lints_of(path: &Path) -> Vec<(&'static str, u32, String)> {
    let mut db = SourceDb::new();
    db.add(
        path.file_name().unwrap().to_string_lossy(),
        std::fs::read_to_string(path).expect("fixture"),
    );
    let c = compile(
        db,
        &MapEnv::default(),
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints: true,
            resolve_dontfail: false,
        },
    );
    assert!(
        !c.has_errors(),
        "{} has errors: {:?}",
        path.display(),
        c.diagnostics
    );
    c.diagnostics
        .iter()
        .filter(|d| d.code.starts_with('L'))
        .map(|d| {
            (
                d.code,
                d.span.map_or(0, |s| c.db.line_col(s).line),
                d.message.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_lint_fires_on_its_pitfall_and_only_there() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/lints"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("lint fixtures").flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // `<CODE>[-<case>]-bad.cfg`, with its `-good.cfg` twin.
        let Some(stem) = name.strip_suffix("-bad.cfg") else {
            continue;
        };
        let code = stem.split('-').next().unwrap_or_default();
        let bad = lints_of(&path);
        assert!(
            bad.iter().any(|(c, _, _)| *c == code),
            "{name} does not raise {code}: {bad:?}"
        );
        let good = lints_of(&dir.join(format!("{stem}-good.cfg")));
        assert!(good.is_empty(), "{stem}-good.cfg raises lints: {good:?}");
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} lint fixtures");
}

#[test]
fn the_example_config_is_lint_clean() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/haproxy.cfg"
    ));
    assert_eq!(lints_of(path), Vec::new());
}
