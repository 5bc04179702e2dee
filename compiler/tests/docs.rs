//! The committed reference docs must be what the code table and the registry generate.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(file);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/{file} is stale: run `cargo run -p hapee-lb -- docs --write docs/`"
    );
}

#[test]
fn diagnostics_reference_is_fresh() {
    check(
        "diagnostics.md",
        hapee_compiler::docs::diagnostics_markdown(),
    );
}

#[test]
fn keywords_reference_is_fresh() {
    check("keywords.md", hapee_compiler::docs::keywords_markdown());
}
