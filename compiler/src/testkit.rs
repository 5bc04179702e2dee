//! Helpers shared by the test suites of every crate (corpus location, one-call compilation).
//! Not part of the stable API.

use crate::check::{compile, Compilation};
use crate::ir::CheckOptions;
use crate::source::SourceDb;
use crate::syntax::MapEnv;
use std::path::{Path, PathBuf};

/// `shared/corpus` beside the repository (where CI puts it), else `/work/shared/corpus`.
pub fn corpus_dir() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if beside.exists() {
        beside
    } else {
        PathBuf::from("/work/shared/corpus")
    }
}

/// Compiles one in-memory file with an empty environment and no machine checks.
pub fn compile_text(name: &str, text: &str, lints: bool) -> Compilation {
    let mut db = SourceDb::new();
    db.add(name, text);
    compile(
        db,
        &MapEnv::default(),
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints,
            resolve_dontfail: false,
        },
    )
}
