//! Every valid corpus configuration turns into runtime state or a list of what the runtime
//! lacks, never a panic, and without creating files.

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use hapee_runtime::state::Shared;

#[test]
fn corpus_configs_build_runtime_state_or_say_what_is_missing() {
    let root = hapee_compiler::testkit::corpus_dir().join("regtests-2.7");
    let index = std::fs::read_to_string(root.join("index.tsv")).expect("corpus index");
    let (mut built, mut refused) = (0, 0);
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let Some(cfg) = cols.first() else { continue };
        let path = root.join(cfg);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut db = SourceDb::new();
        db.add(cfg.to_string(), text);
        let c = compile(
            db,
            &MapEnv::default(),
            &CheckOptions {
                no_env: true,
                master_worker: false,
                lints: false,
                resolve_dontfail: false,
            },
        );
        if c.has_errors() {
            continue;
        }
        let plan = hapee_compiler::plan::build(&c.config, 2);
        // Relative paths in the configs (maps, error files) are relative to their folder.
        let dir = path.parent().unwrap().to_path_buf();
        let before: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        let cwd = std::env::current_dir().unwrap();
        std::env::set_current_dir(&dir).unwrap();
        let result = Shared::build(&plan);
        std::env::set_current_dir(cwd).unwrap();
        match result {
            Ok(_) => built += 1,
            Err(problems) => {
                assert!(!problems.is_empty());
                refused += 1;
            }
        }
        let after: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(
            before.len(),
            after.len(),
            "{cfg}: building runtime state created files"
        );
    }
    eprintln!("{built} configurations built, {refused} refused with reasons");
    assert!(built + refused >= 150, "{built} built, {refused} refused");
    assert!(built > 0);
}
