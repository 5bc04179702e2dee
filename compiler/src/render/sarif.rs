//! SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, Azure DevOps) read: one run
//! of `hapee-lb`, one rule per code that fired (with its summary and default level), one result
//! per diagnostic with its region and, where the diagnostic has one, its fix.

use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceDb, Span};
use serde_json::{json, Value};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice | Severity::Hint => "note",
    }
}

/// A file name as an artifact URI: relative paths stay relative (to the checkout, as code
/// scanning expects), absolute ones become `file://` URIs.
fn artifact(db: &SourceDb, file: FileId) -> Value {
    let name = &db.file(file).name;
    let uri = if name.starts_with('/') {
        format!("file://{name}")
    } else {
        name.trim_start_matches("./").to_string()
    };
    json!({ "uri": uri })
}

/// A region with 1-based lines and columns (columns count Unicode code points, declared by the
/// run's `columnKind`).
fn region(db: &SourceDb, span: Span) -> Value {
    let f = db.file(span.file);
    let start = f.line_col(span.start as usize);
    let end = f.line_col(span.end as usize);
    json!({
        "startLine": start.line,
        "startColumn": start.col,
        "endLine": end.line,
        "endColumn": end.col,
    })
}

fn result(db: &SourceDb, d: &Diagnostic, rule_index: usize) -> Value {
    let mut text = d.message.to_string();
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut r = json!({
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": { "text": text },
    });
    if let Some(span) = d.span {
        r["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": artifact(db, span.file),
                "region": region(db, span),
            }
        }]);
    }
    if let Some(fix) = &d.fix {
        let changes: Vec<Value> = fix
            .edits
            .iter()
            .map(|e| {
                json!({
                    "artifactLocation": artifact(db, e.span.file),
                    "replacements": [{
                        "deletedRegion": region(db, e.span),
                        "insertedContent": { "text": e.replacement },
                    }],
                })
            })
            .collect();
        r["fixes"] = json!([{
            "description": { "text": fix.title },
            "artifactChanges": changes,
        }]);
    }
    r
}

/// One SARIF log holding every diagnostic.
pub fn sarif(db: &SourceDb, diags: &[Diagnostic]) -> String {
    let mut rules: Vec<&'static str> = Vec::new();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let index = rules.iter().position(|c| *c == d.code).unwrap_or_else(|| {
                rules.push(d.code);
                rules.len() - 1
            });
            result(db, d, index)
        })
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|code| match codes::rule(code) {
            Some(r) => json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "defaultConfiguration": { "level": level(r.severity) },
                "help": { "text": format!("hapee-lb explain {}", r.code) },
            }),
            None => json!({ "id": code }),
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "hapee-lb",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compile;
    use crate::ir::CheckOptions;
    use crate::syntax::ProcessEnv;

    #[test]
    fn results_rules_regions_and_fixes() {
        let mut db = SourceDb::new();
        db.add(
            "conf/haproxy.cfg",
            "defaults\n    timout client 5s\n    timeout conect 5s\n",
        );
        let c = compile(
            db,
            &ProcessEnv,
            &CheckOptions {
                no_env: true,
                ..Default::default()
            },
        );
        let log: Value = serde_json::from_str(&sarif(&c.db, &c.diagnostics)).unwrap();
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        let results = run["results"].as_array().unwrap();
        let e101 = results.iter().find(|r| r["ruleId"] == "E101").unwrap();
        let loc = &e101["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "conf/haproxy.cfg");
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["startColumn"], 5);
        assert_eq!(loc["region"]["endColumn"], 11);
        let fix = &e101["fixes"][0]["artifactChanges"][0]["replacements"][0];
        assert_eq!(fix["insertedContent"]["text"], "timeout");
        let rule = &run["tool"]["driver"]["rules"][e101["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "E101");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert!(results.iter().any(|r| r["ruleId"] == "E209"));
    }
}
