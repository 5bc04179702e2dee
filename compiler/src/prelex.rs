//! Plain lines of large files, lexed ahead on the other cores while the parser reads the file in
//! order.
//!
//! A plain line (no quotes, escapes or comments) lexes the same whatever the environment, the
//! section or the lines before it, so it can be lexed out of order. The file is cut into chunks:
//! helper threads take them from the front, the parser takes each in turn and, rather than wait
//! for one still being lexed, lexes chunks from the back itself. Every core stays busy and the
//! parser never lexes a chunk twice. The words are those of the in-order lexer, line for line
//! (tested in `syntax`).

use crate::source::{FileId, SourceFile};
use crate::syntax::Word;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Lines per chunk.
pub(crate) const CHUNK_LINES: usize = 4096;

/// Files of fewer chunks (32,768 lines) are lexed in order only: a helper thread's start, its
/// allocator pages and the words it allocates (freed later by the parser's thread, which cannot
/// reuse them) cost more than it saves on them.
pub(crate) const MIN_CHUNKS_AHEAD: usize = 8;

/// The words of each line of a chunk; `None` for lines that are not plain.
type Chunk = Vec<Option<thin_vec::ThinVec<Word>>>;

struct State {
    /// Chunks before `front` were taken from the front, chunks from `back` on from the back.
    front: usize,
    back: usize,
    done: Vec<Option<Chunk>>,
    /// Helpers still running: a chunk taken by a helper that is gone is lexed again here.
    helpers: usize,
}

/// What the parser and the helpers share.
pub(crate) struct Shared<'a> {
    file: FileId,
    source: &'a SourceFile,
    state: Mutex<State>,
    ready: Condvar,
}

impl<'a> Shared<'a> {
    pub fn new(file: FileId, source: &'a SourceFile) -> Self {
        let chunks = source.line_count().div_ceil(CHUNK_LINES);
        Shared {
            file,
            source,
            state: Mutex::new(State {
                front: 0,
                back: chunks,
                done: (0..chunks).map(|_| None).collect(),
                helpers: 0,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the helpers when the file is large enough and the machine has cores to spare.
    pub fn start<'s>(&'s self, scope: &'s std::thread::Scope<'s, '_>) -> PlainLines<'s, 'a> {
        let wanted = {
            let mut state = self.lock();
            // The core count is read only for a large file: finding it reads the cgroup's
            // files, which costs a small file's check more than its lexing.
            state.helpers = if state.back < MIN_CHUNKS_AHEAD {
                0
            } else {
                (crate::cores() - 1).min(state.back / 2)
            };
            state.helpers
        };
        let mut started = 0;
        for _ in 0..wanted {
            // A thread the system refuses is one helper less: the parser lexes its share.
            match std::thread::Builder::new().spawn_scoped(scope, || self.help()) {
                Ok(_) => started += 1,
                Err(_) => self.lock().helpers -= 1,
            }
        }
        PlainLines {
            shared: self,
            enabled: started > 0,
            current: None,
        }
    }

    fn lex(&self, chunk: usize) -> Chunk {
        let first = chunk * CHUNK_LINES;
        let last = (first + CHUNK_LINES).min(self.source.line_count());
        (first..last)
            .map(|index| {
                let range = self.source.line_range(index);
                let text = self.source.content(&self.source.text[range.clone()]);
                crate::lexer::plain_words(text, self.file, range.start)
            })
            .collect()
    }

    /// A helper: takes chunks from the front until none is left.
    fn help(&self) {
        /// Counts the helper out even if it panics, so that the parser does not wait for it.
        struct Leaving<'g, 'a>(&'g Shared<'a>);
        impl Drop for Leaving<'_, '_> {
            fn drop(&mut self) {
                self.0.lock().helpers -= 1;
                self.0.ready.notify_all();
            }
        }
        let _leaving = Leaving(self);
        loop {
            let chunk = {
                let mut state = self.lock();
                if state.front >= state.back {
                    return;
                }
                state.front += 1;
                state.front - 1
            };
            let words = self.lex(chunk);
            self.lock().done[chunk] = Some(words);
            self.ready.notify_all();
        }
    }

    /// The parser's way to a chunk: done already, or its own to lex, or lexed from the back
    /// while a helper finishes it.
    fn obtain(&self, chunk: usize) -> Chunk {
        let mut state = self.lock();
        loop {
            if let Some(words) = state.done[chunk].take() {
                return words;
            }
            // Not taken yet, or taken by a helper that is gone.
            if chunk >= state.front || state.helpers == 0 {
                state.front = state.front.max(chunk + 1);
                drop(state);
                return self.lex(chunk);
            }
            if state.back > state.front {
                state.back -= 1;
                let from_back = state.back;
                drop(state);
                let words = self.lex(from_back);
                state = self.lock();
                state.done[from_back] = Some(words);
                continue;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The parser's side: the words of plain lines, asked for in line order.
pub(crate) struct PlainLines<'s, 'a> {
    shared: &'s Shared<'a>,
    enabled: bool,
    current: Option<(usize, Chunk)>,
}

impl PlainLines<'_, '_> {
    /// The words of line `index` if it is plain and was lexed ahead; `None` means "lex it".
    pub fn take(&mut self, index: usize) -> Option<thin_vec::ThinVec<Word>> {
        if !self.enabled {
            return None;
        }
        let chunk = index / CHUNK_LINES;
        if self.current.as_ref().map(|(c, _)| *c) != Some(chunk) {
            self.current = Some((chunk, self.shared.obtain(chunk)));
        }
        let (_, words) = self.current.as_mut()?;
        words.get_mut(index % CHUNK_LINES)?.take()
    }

    /// The parser is done (or stopped early): helpers take no more chunks.
    pub fn finish(self) {
        let mut state = self.shared.lock();
        state.back = state.front;
    }
}
