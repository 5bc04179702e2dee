//! `hapee-lb check --fix`: the fixes of the diagnostics shown, written into their files (the
//! did-you-mean corrections, the removal of an unused ACL, a missing final line feed…), as the
//! language server's quick fixes would make them one by one. A fix whose edits overlap one
//! already taken waits for the next run.

use hapee_compiler::diagnostic::{applied_range, Diagnostic};
use hapee_compiler::source::{FileId, SourceDb};

/// Applies the fixes of `diags` to the files of `db` and writes the files changed; how many
/// fixes were applied, or the first write error.
pub fn write(db: &SourceDb, diags: &[Diagnostic]) -> Result<usize, String> {
    // Each file's edits, a fix's edits all taken or none.
    let mut by_file: Vec<Vec<(usize, usize, &str)>> = vec![Vec::new(); db.len()];
    let mut applied = 0;
    for fix in diags.iter().filter_map(|d| d.fix.as_deref()) {
        // Where each edit applies: a deletion that empties its line takes the line.
        let ranges: Vec<std::ops::Range<usize>> = (fix.edits.iter())
            .map(|e| applied_range(db.file(e.span.file), e.span, &e.replacement))
            .collect();
        let overlaps = fix.edits.iter().zip(&ranges).any(|(e, r)| {
            let taken = &by_file[e.span.file.0 as usize];
            (taken.iter())
                .any(|&(a, b, _)| r.start < b && a < r.end || (r.is_empty() && r.start == a))
        });
        if overlaps || fix.edits.is_empty() {
            continue;
        }
        for (e, r) in fix.edits.iter().zip(ranges) {
            by_file[e.span.file.0 as usize].push((r.start, r.end, &e.replacement));
        }
        applied += 1;
    }
    for (i, mut edits) in by_file.into_iter().enumerate() {
        if edits.is_empty() {
            continue;
        }
        let f = db.file(FileId(i as u32));
        let mut text = f.text.clone();
        edits.sort_by_key(|&(s, e, _)| std::cmp::Reverse((s, e)));
        for (s, e, with) in edits {
            if e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e) {
                text.replace_range(s..e, with);
            }
        }
        // The bytes the file held that are not UTF-8 go back as they were read.
        let bytes = hapee_compiler::bytestr::to_bytes(&text);
        std::fs::write(&f.name, bytes).map_err(|e| format!("cannot write {}: {e}", f.name))?;
    }
    Ok(applied)
}
