//! The diagnostics of `.hapee.toml` itself (L023: a code that names no rule), published for that
//! file's URI as `hapee-lb check` prints them with its path, line and column.

use crate::position::Encoding;
use hapee_compiler::lint::LintConfig;
use hapee_compiler::source::SourceDb;
use lsp_types as lsp;

/// The settings file's URI and its diagnostics, with `lints`' own levels applied (L023 may be
/// allowed there too); `None` when the levels come from no file.
pub fn diagnostics(lints: &LintConfig, enc: Encoding) -> Option<(lsp::Url, Vec<lsp::Diagnostic>)> {
    let path = lints.settings_path()?;
    let uri = lsp::Url::from_file_path(path).ok()?;
    let mut db = SourceDb::new();
    let found = lints.settings_diagnostics(&mut db);
    let found = lints.apply(&db, found);
    let diagnostics = found
        .iter()
        .filter_map(|d| {
            let span = d.span?;
            Some(lsp::Diagnostic {
                range: enc.range(db.file(span.file), span),
                severity: Some(crate::analysis::lsp_severity(d.severity)),
                code: Some(lsp::NumberOrString::String(d.code.to_string())),
                source: Some("hapee".into()),
                message: match &d.help {
                    Some(h) => format!("{}\nhelp: {h}", d.message),
                    None => d.message.to_string(),
                },
                ..Default::default()
            })
        })
        .collect();
    Some((uri, diagnostics))
}
