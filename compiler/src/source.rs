//! Source files, byte spans and line/column lookup.
//!
//! Every object the compiler produces points back into a [`SourceDb`] through a [`Span`], so that
//! diagnostics, formatting, anonymizing and the language server all agree on positions.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Index of a file inside a [`SourceDb`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct FileId(pub u32);

/// A half-open byte range `[start, end)` inside one file.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both `self` and `other` (same file assumed).
    pub fn cover(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// One loaded configuration file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name as the user gave it (used in messages, like HAProxy does).
    pub name: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<u32>,
    /// Whether the text holds a `\r` or NUL byte: only then can a line's content end before
    /// its line feed, and only then are the lines searched for them one by one.
    cuts: bool,
    /// Whether some `\r` is not followed by `\n`: an editor ends a line there, HAProxy does not
    /// (it reads the line up to that `\r` and skips the rest, up to the line feed).
    lone_cr: bool,
}

/// Whether a `\r` of `bytes` from `from` to `to` is not followed by `\n` (the byte after
/// `to` counts as following).
fn lone_cr_between(bytes: &[u8], from: usize, to: usize) -> bool {
    let to = to.min(bytes.len());
    memchr::memchr_iter(b'\r', &bytes[from.min(to)..to])
        .any(|i| bytes.get(from + i + 1) != Some(&b'\n'))
}

/// The byte offset of the start of each line of `text`. One pass over the text, 32 bytes at a
/// time ([`for_each_line_feed`]): memchr called once per line paid its set-up 20,000 times on
/// a 20,000-line file (1.6 million instructions against some 0.4 million). (Eight bytes at a
/// time as the zero bytes of a word, a search per line had cost more than memchr: 2.15
/// million instructions against 1.94.)
fn line_starts(text: &[u8]) -> Vec<u32> {
    // Sized exactly: memchr counts the line feeds 32 bytes at a time (some 80,000
    // instructions on a 600 kB file), where a guess of 32 bytes a line doubled the list on a
    // file of 30-byte lines (149 kB held for 80 kB of starts).
    let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', text).count() + 1);
    starts.push(0u32);
    for_each_line_feed(text, |i| starts.push(i as u32 + 1));
    starts
}

/// Calls `found` with the offset of each line feed of `text`, in order: 32 bytes compared at
/// once, the line feeds among them taken from the mask of their positions.
#[cfg(target_arch = "x86_64")]
fn for_each_line_feed(text: &[u8], mut found: impl FnMut(usize)) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut chunks = text.chunks_exact(32);
    let mut base = 0;
    for chunk in &mut chunks {
        // SAFETY: SSE2 is part of the x86_64 baseline, so every processor this code runs on
        // has these instructions; `chunk` is 32 readable bytes, and `_mm_loadu_si128` reads
        // 16 of them at `chunk`'s start and 16 at its middle, with no alignment required.
        let mut mask = unsafe {
            let feed = _mm_set1_epi8(b'\n' as i8);
            let low = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let high = _mm_loadu_si128(chunk[16..].as_ptr().cast::<__m128i>());
            let low = _mm_movemask_epi8(_mm_cmpeq_epi8(low, feed)) as u32 & 0xffff;
            let high = _mm_movemask_epi8(_mm_cmpeq_epi8(high, feed)) as u32 & 0xffff;
            low | high << 16
        };
        while mask != 0 {
            found(base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 32;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b'\n' {
            found(base + i);
        }
    }
}

/// [`for_each_line_feed`] elsewhere: memchr's search.
#[cfg(not(target_arch = "x86_64"))]
fn for_each_line_feed(text: &[u8], found: impl FnMut(usize)) {
    memchr::memchr_iter(b'\n', text).for_each(found);
}

/// A 1-based line and column (column counted in characters, like editors and HAProxy carets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = line_starts(text.as_bytes());
        let cuts = memchr::memchr2(b'\r', b'\0', text.as_bytes()).is_some();
        let lone_cr = cuts && lone_cr_between(text.as_bytes(), 0, text.len());
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            cuts,
            lone_cr,
        }
    }

    /// Whether some line may hold a `\r` or NUL byte (see [`crate::lexer::line_content`]):
    /// when not, a line's content is the whole line and no line needs a search for them.
    pub fn may_cut_lines(&self) -> bool {
        self.cuts
    }

    /// Whether some `\r` may stand alone (not before a `\n`): editors then count more lines
    /// than HAProxy, whose lines end at line feeds only.
    pub fn may_have_lone_cr(&self) -> bool {
        self.lone_cr
    }

    /// The part of `line` (a line of this file) the lexer reads: [`crate::lexer::line_content`],
    /// skipped when the file holds neither byte that cuts a line.
    pub(crate) fn content<'t>(&self, line: &'t str) -> &'t str {
        if self.cuts {
            crate::lexer::line_content(line)
        } else {
            line
        }
    }

    /// 0-based index of the line holding `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        let line = self.line_index(offset);
        let start = self.line_starts[line] as usize;
        let offset = offset.min(self.text.len());
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        LineCol {
            line: line as u32 + 1,
            col: col as u32 + 1,
        }
    }

    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// Replaces the bytes `range` of the text with `with` (an editor's edit), keeping the line
    /// index: only the replaced and the new text are searched for line feeds, and the lines
    /// after them move. `range` must lie on character boundaries (it panics otherwise, as
    /// [`String::replace_range`] does).
    pub fn replace(&mut self, range: std::ops::Range<usize>, with: &str) {
        let (start, end) = (range.start, range.end);
        self.text.replace_range(start..end, with);
        // The edit may have removed the only such bytes; keeping `true` then only costs the
        // searches.
        self.cuts |= memchr::memchr2(b'\r', b'\0', with.as_bytes()).is_some();
        // A `\r` left alone is in the new text or just before it (its `\n` removed).
        self.lone_cr |= self.cuts
            && lone_cr_between(
                self.text.as_bytes(),
                start.saturating_sub(1),
                start + with.len(),
            );
        let delta = with.len() as i64 - (end - start) as i64;
        // Lines that start inside the replaced bytes (after one of its line feeds) go; those
        // after it move by the change of length.
        let first_gone = self.line_starts.partition_point(|&s| s as usize <= start);
        let first_after = self.line_starts.partition_point(|&s| s as usize <= end);
        for s in &mut self.line_starts[first_after..] {
            *s = (i64::from(*s) + delta) as u32;
        }
        let added = memchr::memchr_iter(b'\n', with.as_bytes()).map(|i| (start + i + 1) as u32);
        self.line_starts.splice(first_gone..first_after, added);
        debug_assert_eq!(
            self.line_starts,
            SourceFile::new("", self.text.as_str()).line_starts,
            "line index after an edit"
        );
    }

    /// Byte range of 0-based line `line`, without its line terminator.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts[line] as usize;
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&e| e as usize);
        let bytes = self.text.as_bytes();
        if end > start && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    pub fn line_count(&self) -> usize {
        // A trailing newline does not open a new line.
        if self.text.ends_with('\n') {
            self.line_starts.len() - 1
        } else {
            self.line_starts.len()
        }
    }
}

/// Where a byte of interest first is in some bytes (see [`SourceFile::lines_holding`]).
pub(crate) type FindByte<'f> = &'f dyn Fn(&[u8]) -> Option<usize>;

/// A set of a file's lines (by 0-based index), one bit each.
pub(crate) struct LineSet {
    bits: Vec<u64>,
}

impl LineSet {
    pub(crate) fn contains(&self, line: usize) -> bool {
        self.bits
            .get(line / 64)
            .is_some_and(|word| word & (1 << (line % 64)) != 0)
    }
}

impl SourceFile {
    /// The lines that hold a byte `find` finds (`find(text)` answers the first one's offset):
    /// the whole text is searched at once, not line by line, and a line is searched no further
    /// after its first find.
    pub(crate) fn lines_holding(&self, finds: &[FindByte]) -> LineSet {
        let mut set = LineSet {
            bits: vec![0; self.line_starts.len() / 64 + 1],
        };
        let bytes = self.text.as_bytes();
        for find in finds {
            let mut at = 0;
            while let Some(found) = find(&bytes[at..]) {
                let line = self.line_index(at + found);
                set.bits[line / 64] |= 1 << (line % 64);
                match self.line_starts.get(line + 1) {
                    Some(&next) => at = next as usize,
                    None => break,
                }
            }
        }
        set
    }
}

/// Every file of one compilation, in load order.
#[derive(Clone, Debug, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

/// Why a `-f` argument could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // HAProxy's own wording, so scripts that grep for it keep working.
        write!(
            f,
            "Could not open configuration file {} : {}",
            self.path.display(),
            io_reason(&self.error)
        )
    }
}

/// Why a file operation failed, in the C library's words (`strerror`), as HAProxy prints them:
/// the standard library's text of an OS error without its " (os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

impl SourceDb {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.add_file(SourceFile::new(name, text))
    }

    /// Adds a file already read (its line index made).
    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// Loads a `-f` argument: a file, or a directory whose `*.cfg` files are loaded in sorted order
    /// (names starting with a dot are skipped, as HAProxy does).
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<FileId>, LoadError> {
        let mut ids = Vec::new();
        for (p, _) in Self::config_files(path)? {
            ids.push(self.load_file(&p)?);
        }
        Ok(ids)
    }

    /// The files [`SourceDb::load_path`] reads for `path`, in its order, each with its size in
    /// bytes: `path` itself, or a folder's `*.cfg` files (not hidden ones) by name.
    pub fn config_files(path: &Path) -> Result<Vec<(PathBuf, u64)>, LoadError> {
        let err = |error| LoadError {
            path: path.to_path_buf(),
            error,
        };
        let meta = std::fs::metadata(path).map_err(err)?;
        if !meta.is_dir() {
            return Ok(vec![(path.to_path_buf(), meta.len())]);
        }
        let mut files: Vec<(PathBuf, u64)> = std::fs::read_dir(path)
            .map_err(err)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                !name.starts_with('.') && name.find(".cfg").is_some_and(|i| i + 4 == name.len())
            })
            .filter_map(|p| {
                // Followed as `is_file` did: a link to a file counts, with the file's size.
                let meta = std::fs::metadata(&p).ok().filter(|m| m.is_file())?;
                Some((p, meta.len()))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Loads one file, as listed by [`SourceDb::config_files`].
    pub fn load_file(&mut self, path: &Path) -> Result<FileId, LoadError> {
        let bytes = std::fs::read(path).map_err(|error| LoadError {
            path: path.to_path_buf(),
            error,
        })?;
        // Configs are bytes to HAProxy: bytes that are not UTF-8 (a raw Latin-1 letter) are
        // carried as crate::bytestr keeps them, and so leave as the same bytes.
        let text = match String::from_utf8(bytes) {
            Ok(text) if !crate::bytestr::has_bytes(&text) => text,
            Ok(text) => crate::bytestr::from_bytes(text.as_bytes()).into_owned(),
            Err(e) => crate::bytestr::from_bytes(e.as_bytes()).into_owned(),
        };
        Ok(self.add(path.display().to_string(), text))
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn text(&self, span: Span) -> &str {
        self.file(span.file).text.get(span.range()).unwrap_or("")
    }

    pub fn line_col(&self, span: Span) -> LineCol {
        self.file(span.file).line_col(span.start as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder's files are its `*.cfg` files by name, hidden ones and others left out, each
    /// with its size; a file is itself.
    #[test]
    fn config_files_of_a_folder_and_of_a_file() {
        let dir = std::env::temp_dir().join(format!("hapee-config-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub.cfg")).expect("folder");
        for (name, text) in [
            ("b.cfg", "global\n"),
            ("a.cfg", "x"),
            (".h.cfg", "x"),
            ("c.cfg.bak", "x"),
        ] {
            std::fs::write(dir.join(name), text).expect("written");
        }
        let files = SourceDb::config_files(&dir).expect("listed");
        assert_eq!(
            files,
            vec![(dir.join("a.cfg"), 1), (dir.join("b.cfg"), 7)],
            "sorted, sized, no hidden file, other name or folder"
        );
        let one = SourceDb::config_files(&dir.join("b.cfg")).expect("a file");
        assert_eq!(one, vec![(dir.join("b.cfg"), 7)]);
        let mut db = SourceDb::new();
        assert_eq!(db.load_path(&dir).expect("loaded").len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file's bytes that are not UTF-8, and text spelling the characters that carry such
    /// bytes, both read back as the file's bytes.
    #[test]
    fn files_keep_their_bytes() {
        let path = std::env::temp_dir().join(format!("hapee-bytes-{}.cfg", std::process::id()));
        let bytes = b"x str(<\xE0>) <\xF4\x8F\xBE\x80> caf\xC3\xA9\n";
        std::fs::write(&path, bytes).expect("written");
        let mut db = SourceDb::new();
        let id = db.load_file(&path).expect("loaded");
        let _ = std::fs::remove_file(&path);
        let text = &db.file(id).text;
        assert_eq!(crate::bytestr::to_bytes(text).as_ref(), bytes);
        assert!(text.ends_with("caf\u{e9}\n"));
    }

    #[test]
    fn line_col_counts_from_one() {
        let f = SourceFile::new("a.cfg", "global\n  maxconn 10\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, col: 1 });
        assert_eq!(f.line_col(9), LineCol { line: 2, col: 3 });
        assert_eq!(f.line_count(), 2);
        assert_eq!(&f.text[f.line_range(1)], "  maxconn 10");
    }

    /// A `\r` not before a `\n` is found when the file is read and when an edit leaves one
    /// (new in the edit's text, or the `\n` after it removed); CRLF alone is not one.
    #[test]
    fn lone_carriage_returns_are_noticed() {
        assert!(!SourceFile::new("a", "global\r\n  maxconn 10\r\n").may_have_lone_cr());
        assert!(SourceFile::new("a", "global\r  maxconn 10\r\n").may_have_lone_cr());
        assert!(SourceFile::new("a", "global\r").may_have_lone_cr());
        let mut f = SourceFile::new("a", "global\r\n  maxconn 10\r\n");
        f.replace(7..8, "");
        assert!(f.may_have_lone_cr(), "the line feed after a \\r removed");
        let mut f = SourceFile::new("a", "global\r\n");
        f.replace(0..0, "x\ry");
        assert!(f.may_have_lone_cr(), "a lone \\r typed");
        let mut f = SourceFile::new("a", "global\r\n");
        f.replace(0..0, "# \r\n");
        assert!(!f.may_have_lone_cr());
    }

    /// Line starts are those a byte-by-byte search finds, with line feeds at the text's ends,
    /// in a row, on both sides of a 32-byte step and in the tail.
    #[test]
    fn line_starts_match_a_plain_search() {
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 100] {
            for step in [1, 2, 3, 7, 31, 32, 33] {
                for shift in 0..3 {
                    let text: String = (0..len)
                        .map(|i| if (i + shift) % step == 0 { '\n' } else { 'a' })
                        .collect();
                    let plain: Vec<u32> = std::iter::once(0)
                        .chain(
                            text.bytes()
                                .enumerate()
                                .filter(|b| b.1 == b'\n')
                                .map(|b| b.0 as u32 + 1),
                        )
                        .collect();
                    assert_eq!(line_starts(text.as_bytes()), plain, "{text:?}");
                }
            }
        }
    }

    /// The line index after edits that add, remove and replace line feeds, at the start, in
    /// the middle and at the end of the text, is the one of the text read afresh.
    #[test]
    fn line_index_follows_edits() {
        let mut f = SourceFile::new("a.cfg", "global\n  maxconn 10\n\ndefaults\n");
        let edits: [(std::ops::Range<usize>, &str); 7] = [
            (0..0, "# top\n"),
            (6..13, ""),
            (3..3, "\n\nx"),
            (0..5, "a\nb\nc"),
            (10..12, "é\n"),
            (0..0, ""),
            (0..0, "tail"),
        ];
        for (range, with) in edits {
            let at = range.start.min(f.text.len());
            let end = range.end.min(f.text.len()).max(at);
            f.replace(at..end, with);
            let end = f.text.len();
            f.replace(end..end, "\nend");
            assert_eq!(
                f.line_starts(),
                SourceFile::new("b.cfg", f.text.as_str()).line_starts(),
                "{:?}",
                f.text
            );
        }
    }
}
