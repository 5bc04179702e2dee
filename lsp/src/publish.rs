//! The body of a `publishDiagnostics` notification, with each diagnostic serialised once.
//!
//! An edit changes few diagnostics: a large configuration may carry thousands of warnings that
//! an edit elsewhere leaves as they were. Converting and serialising all of them again cost the
//! server more than compiling the edit did, so each document keeps the JSON of the diagnostics
//! it last published, by a hash of everything that JSON shows (place, severity, code, message,
//! related places), and serialises only the new ones.

use crate::analysis::Analysis;
use hapee_compiler::diagnostic::Diagnostic;
use lsp_types as lsp;
use std::collections::HashMap;

/// The JSON of the diagnostics a document last published, by [`key`].
#[derive(Default)]
pub struct Published {
    by_key: Fragments,
    /// Where keys are written before they are hashed (kept to spare an allocation each).
    scratch: Vec<u8>,
    /// A hash of the keys of the diagnostics published, in order: the JSON follows from
    /// them, and hashing them is cheaper than hashing that megabyte.
    digest: u64,
    /// The first and last line of each diagnostic, as the editor counts lines.
    lines: Vec<(u32, u32)>,
}

impl Published {
    /// A hash of the diagnostics last published (equal for the same diagnostics in the same
    /// order).
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Whether a diagnostic starts or ends on a line of `first..=last`, or spans one.
    pub fn touches(&self, first: u32, last: u32) -> bool {
        self.lines.iter().any(|&(s, e)| s <= last && e >= first)
    }
}

type Fragments = HashMap<u128, Box<[u8]>, std::hash::BuildHasherDefault<KeyHasher>>;

/// The keys are hashes already: their low bits do as the table's hash.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

/// The notification for `uri` with the diagnostics of `analysis` (none without one); keeps in
/// `published` the JSON of exactly those diagnostics.
pub fn body(
    uri: &lsp::Url,
    analysis: Option<&Analysis>,
    published: &mut Published,
) -> serde_json::Result<Vec<u8>> {
    let mut spans = hapee_compiler::timing::Spans::new("lsp diagnostics");
    let mut out = Vec::with_capacity(
        published
            .by_key
            .values()
            .map(|j| j.len() + 1)
            .sum::<usize>()
            + 256,
    );
    out.extend_from_slice(
        b"{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":{\"uri\":",
    );
    serde_json::to_writer(&mut out, uri)?;
    out.extend_from_slice(b",\"diagnostics\":[");
    let mut kept = Fragments::default();
    let mut digest = xxhash_rust::xxh3::Xxh3::new();
    published.lines.clear();
    if let Some(a) = analysis {
        let shown = a.shown();
        kept.reserve(shown.len());
        let mut line = 0;
        for (i, d) in shown.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let range = a.diagnostic_range_near(d, &mut line);
            published.lines.push((range.start.line, range.end.line));
            let key = key(a, d, range, &mut published.scratch);
            digest.update(&key.to_le_bytes());
            let json = match published.by_key.remove(&key).or_else(|| kept.remove(&key)) {
                Some(json) => json,
                None => serde_json::to_vec(&a.to_lsp(d))?.into_boxed_slice(),
            };
            out.extend_from_slice(&json);
            kept.insert(key, json);
        }
    }
    out.extend_from_slice(b"]}}");
    published.by_key = kept;
    published.digest = digest.digest();
    spans.mark("convert and serialize");
    spans.done();
    Ok(out)
}

/// A hash of everything a diagnostic's JSON shows: its range, severity, code, message, help
/// and related places (the tags follow from the code). `range` is its range as the editor
/// gets it; `scratch` holds the bytes hashed.
fn key(a: &Analysis, d: &Diagnostic, range: lsp::Range, scratch: &mut Vec<u8>) -> u128 {
    scratch.clear();
    add_range(scratch, range);
    scratch.push(d.severity as u8);
    add_text(scratch, d.code);
    add_text(scratch, &d.message);
    match &d.help {
        Some(help) => add_text(scratch, help),
        None => scratch.push(0xff),
    }
    for l in &d.secondary {
        add_text(scratch, a.uri_of(l.span.file).as_str());
        add_range(scratch, a.span_range(l.span));
        add_text(scratch, &l.message);
    }
    xxhash_rust::xxh3::xxh3_128(scratch)
}

fn add_range(out: &mut Vec<u8>, r: lsp::Range) {
    for n in [r.start.line, r.start.character, r.end.line, r.end.character] {
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// A text and its length (two texts never read as their concatenation).
fn add_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use hapee_compiler::incremental::Session;
    use hapee_compiler::lint::LintConfig;
    use lsp_types::notification::Notification as _;

    /// What serde writes for the whole notification at once.
    fn whole(uri: &lsp::Url, a: &Analysis) -> Vec<u8> {
        let params = lsp::PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: a.shown().into_iter().map(|d| a.to_lsp(d)).collect(),
            version: None,
        };
        crate::transport::notification(lsp::notification::PublishDiagnostics::METHOD, &params)
            .expect("serialised")
    }

    /// Each diagnostic serialised alone, and taken from the previous publication when it did
    /// not change, makes the same bytes as the whole notification serialised at once, after
    /// edits that move, change, add and remove diagnostics (errors with related places, lints,
    /// text with characters outside ASCII).
    #[test]
    fn published_diagnostics_are_the_whole_notification_serialised_at_once() {
        let uri = lsp::Url::parse("file:///tmp/hapee-publish-test.cfg").expect("url");
        let texts = [
            "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout client 5s\n\nfrontend fe\n    bind :80\n    acl h hdr(host) -i a.example\n    use_backend be if h\n    use_backend nowhere if h\n    default_backend be\n\nbackend be\n    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81\n",
            "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout client 5s\n\n# é ü\nfrontend fe\n    bind :80\n    acl h hdr(host) -i a.example\n    use_backend be if h\n    use_backend nowhere if h\n    default_backend be\n\nbackend be\n    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81\n",
            "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout client 5s\n\n# é ü\nfrontend fe\n    bind :80\n    acl h hdr(host) -i a.example\n    use_backend be if h\n    use_backend nowhere if h2 # é\n    default_backend be\n\nbackend be\n    server s1 127.0.0.1:80\n    server s2 127.0.0.1:81\n    bogus keyword\n",
            "",
        ];
        let mut session = Session::new();
        let mut published = Published::default();
        let mut seen = 0;
        for text in texts {
            let file = hapee_compiler::source::SourceFile::new("publish.cfg", text);
            let sources = [(uri.clone(), &file)];
            let a = Analysis::workspace(
                &mut session,
                &sources,
                0,
                &LintConfig::default(),
                crate::position::Encoding::UTF16,
            );
            seen += a.shown().len();
            let body = body(&uri, Some(&a), &mut published).expect("serialised");
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&whole(&uri, &a)),
                "{text}"
            );
        }
        assert!(seen > 6, "the texts have diagnostics to publish ({seen})");
        let empty = body(&uri, None, &mut published).expect("serialised");
        assert_eq!(
            String::from_utf8_lossy(&empty),
            format!(
                "{{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":{{\"uri\":\"{uri}\",\"diagnostics\":[]}}}}"
            )
        );
    }
}
