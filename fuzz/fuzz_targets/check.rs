//! Fuzzes the whole front end: lexer → syntax tree → model → checks → renderers.
//! Any panic is a bug: bad input must only ever produce diagnostics.
#![no_main]

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::render;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut db = SourceDb::new();
    db.add("fuzz.cfg", text);
    let env = MapEnv(std::iter::once(("HOST".to_string(), "a b c".to_string())).collect());
    let c = compile(
        db,
        &env,
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints: false,
            resolve_dontfail: false,
        },
    );
    let _ = render::human(&c.db, &c.diagnostics, false);
    let _ = render::json(&c.db, &c.diagnostics);
    for d in &c.diagnostics {
        let _ = render::haproxy_line(&c.db, d, 1);
    }
});
