//! Parse and build speed of one configuration, six times in one process (the first run pays for
//! fresh memory, the others show the work itself). Usage: `parse_speed FILE`.

use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::{self, ProcessEnv};
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mut db = SourceDb::new();
    db.load_path(std::path::Path::new(&path)).unwrap();
    for _ in 0..6 {
        let t = Instant::now();
        let (tree, _d) = syntax::parse(&db, &ProcessEnv);
        let p = t.elapsed();
        let opts = hapee_compiler::ir::CheckOptions {
            no_env: true,
            ..Default::default()
        };
        let t = Instant::now();
        let (config, _d2) = hapee_compiler::ir::build(&db, &tree, &ProcessEnv, &opts);
        let b = t.elapsed();
        println!("parse {p:?} build {b:?}");
        drop(config);
        drop(tree);
    }
}
