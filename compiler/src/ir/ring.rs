//! A `ring` section's `size` lines, as HAProxy reads them while it reads the section: the ring
//! starts at 16384 bytes (its compile-time buffer size) and may only grow, and only until a
//! `backing-file` maps it.

use super::build::{Builder, Stmt};
use super::model::{DirectiveLine, NamedSection};
use crate::diagnostic::{Diagnostic, Severity};

/// A ring's size before any `size` line.
const INITIAL_SIZE: u64 = 16384;

/// What a `size` line does to a ring of `current` bytes: its new size, or the refusal.
fn resize(current: u64, mapped: bool, value: &str, ring: &str) -> Result<u64, (String, bool)> {
    // C's `atol` into a `size_t`: a negative number wraps around to a huge size.
    let size = super::values::atol(value) as u64;
    if size == 0 {
        Err((
            format!("invalid size '{value}' for new sink buffer."),
            false,
        ))
    } else if mapped {
        Err((
            "cannot resize an already mapped file, please specify 'size' before 'backing-file'."
                .to_string(),
            false,
        ))
    } else if size < current {
        // Printed as a warning, and failing the configuration all the same.
        Err((
            format!("ignoring new size '{size}' that is smaller than current size '{current}' for ring '{ring}'."),
            true,
        ))
    } else {
        Ok(size)
    }
}

/// The ring's size and whether a backing file maps it, after the lines read so far.
fn state(lines: &[DirectiveLine], ring: &str) -> (u64, bool) {
    let mut size = INITIAL_SIZE;
    let mut mapped = false;
    for line in lines.iter().filter(|l| l.prefix.is_none()) {
        match line.keyword.as_str() {
            "size" => {
                let value = line.args.first().map_or("", |a| a.as_str());
                if let Ok(new) = resize(size, mapped, value, ring) {
                    size = new;
                }
            }
            "backing-file" => mapped = true,
            _ => {}
        }
    }
    (size, mapped)
}

/// One statement of a ring section (`at` past any `no`/`default` prefix).
pub(super) fn statement(b: &mut Builder, section: &NamedSection, stmt: &Stmt, at: usize) {
    if at != 0 || stmt.word(0) != "size" {
        return;
    }
    let ring = section.name.as_ref().map_or("", |n| n.value.as_str());
    let (current, mapped) = state(&section.lines, ring);
    if let Err((message, warning)) = resize(current, mapped, stmt.word(1), ring) {
        let mut d = Diagnostic::new("E117", message)
            .at(stmt.span(if stmt.word(1).is_empty() { 0 } else { 1 }))
            .label("not a size this ring can take");
        if warning {
            d.haproxy_level = Some(Severity::Warning);
        }
        b.push(d);
    }
}

/// A line of a ring section whose header HAProxy refused (no ring was made): each of the
/// ring's settings is refused for want of one; other lines are read as usual.
pub(super) fn orphan_line(b: &mut Builder, stmt: &Stmt) -> bool {
    let arg = stmt.word(1);
    let message = match stmt.word(0) {
        "size" => "'size' directive not usable with this type of sink.".to_string(),
        "backing-file" => "'backing-file' only usable with existing rings.".to_string(),
        "server" => format!("unable to create server '{arg}'."),
        "timeout" => format!("unable to set timeout '{arg}'."),
        "format" => format!("unable to set format '{arg}'."),
        "maxlen" => format!("unable to set event max length '{arg}'."),
        "description" => format!("unable to set description '{arg}'."),
        _ => return false,
    };
    b.push(
        Diagnostic::new("E524", message)
            .at(stmt.span(0))
            .label("no ring to set: its header was refused"),
    );
    true
}

#[cfg(test)]
mod tests {
    use crate::testkit::compile_text;

    fn messages(ring_body: &str) -> Vec<(&'static str, String)> {
        let text = format!("ring r\n{ring_body}");
        let c = compile_text("t.cfg", &text, false);
        c.diagnostics
            .iter()
            .filter(|d| d.code == "E117")
            .map(|d| (d.code, d.message.to_string()))
            .collect()
    }

    /// As HAProxy 2.7 (sink.c): sizes are plain numbers of bytes, only growing, before the
    /// backing file.
    #[test]
    fn ring_sizes_only_grow_and_stop_at_the_backing_file() {
        assert!(messages("    size 32768\n    size 32768\n").is_empty());
        assert_eq!(
            messages("    size 1M\n"),
            [(
                "E117",
                "ignoring new size '1' that is smaller than current size '16384' for ring 'r'."
                    .to_string()
            )]
        );
        assert_eq!(
            messages("    size 65536\n    size 32768\n"),
            [(
                "E117",
                "ignoring new size '32768' that is smaller than current size '65536' for ring 'r'."
                    .to_string()
            )]
        );
        assert_eq!(
            messages("    size x\n"),
            [("E117", "invalid size 'x' for new sink buffer.".to_string())]
        );
        assert_eq!(
            messages("    backing-file /tmp/r.bin\n    size 65536\n"),
            [("E117", "cannot resize an already mapped file, please specify 'size' before 'backing-file'.".to_string())]
        );
    }
}
