//! Bad input never panics: every corpus config is mutated many ways (truncated lines, dropped
//! quotes, swapped and duplicated words, stray bytes) and each result must be diagnostics only.
//! Also: a config with many errors reports every one of them, each with a span.

use hapee_compiler::check::compile;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use hapee_compiler::Severity;
use std::path::PathBuf;

fn corpus_configs() -> Vec<PathBuf> {
    let root = hapee_compiler::testkit::corpus_dir().join("regtests-2.7");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "cfg") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        return String::new();
    }
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(lines.len());
        let line = lines[i].clone();
        lines[i] = match rng.below(8) {
            0 => line
                .chars()
                .take(rng.below(line.chars().count() + 1))
                .collect(),
            1 => line.replacen('"', "", 1),
            2 => {
                let mut words: Vec<&str> = line.split_whitespace().collect();
                if words.len() > 1 {
                    let (a, b) = (rng.below(words.len()), rng.below(words.len()));
                    words.swap(a, b);
                }
                words.join(" ")
            }
            3 => format!("{line} {line}"),
            4 => format!("{line} \"${{X[*]}}\" '\\x4 {{ ! || }}"),
            5 => line.replace(' ', "\t\t"),
            6 => {
                let mut s = line;
                let at = rng.below(s.len() + 1);
                if s.is_char_boundary(at) {
                    s.insert_str(
                        at,
                        ["#", "\\", "'", "$", "%[", "(", ",", "\0"][rng.below(8)],
                    );
                }
                s
            }
            _ => String::new(),
        };
    }
    if rng.below(3) == 0 {
        let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
        lines.swap(a, b);
    }
    let mut out = lines.join("\n");
    if rng.below(4) != 0 {
        out.push('\n');
    }
    out
}

#[test]
fn mutated_corpus_configs_never_panic() {
    let configs = corpus_configs();
    assert!(configs.len() > 200, "corpus not found");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let env = MapEnv(std::iter::once(("X".to_string(), "a b".to_string())).collect());
    for path in &configs {
        let text = std::fs::read_to_string(path).expect("readable");
        for _ in 0..8 {
            let mutated = mutate(&text, &mut rng);
            let mut db = SourceDb::new();
            db.add("m.cfg", mutated.clone());
            let result = std::panic::catch_unwind(|| {
                compile(
                    db,
                    &env,
                    &CheckOptions {
                        no_env: true,
                        master_worker: false,
                        lints: false,
                        resolve_dontfail: false,
                    },
                )
            });
            assert!(
                result.is_ok(),
                "panic on a mutation of {}:\n{mutated}",
                path.display()
            );
        }
    }
}

#[test]
fn many_errors_are_all_reported_with_spans() {
    let text = "\
defaults
    mode http
    timeout client 5x
    timeout server 5s 6s
    timeout serveur 5s

frontend fe
    bind 127.0.0.1:80 process 1
    bind-process 1
    use_backend nowhere

backend be
    server s1 127.0.0.1:1
    server s1 127.0.0.1:2
";
    let c = hapee_compiler::testkit::compile_text("many.cfg", text, false);
    let errors: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let lines: Vec<u32> = errors
        .iter()
        .map(|d| c.db.line_col(d.span.expect("every error has a span")).line)
        .collect();
    for expected in [3, 4, 5, 8, 9, 10, 14] {
        assert!(
            lines.contains(&expected),
            "no error reported on line {expected}; got lines {lines:?}"
        );
    }
}

/// Long quoted strings (closed, running to the line's end, full of escapes) are read like short
/// ones; they once overflowed the stack, a character at a time.
#[test]
fn long_quoted_strings_are_words_like_short_ones() {
    let long = "é".repeat(100_000);
    let escapes = "\\\"".repeat(50_000);
    for (line, word) in [
        (format!("\"{long}\""), long.clone()),
        (format!("'{long}'"), long.clone()),
        (format!("\"{escapes}\""), "\"".repeat(50_000)),
        (format!("\"x\\\"{long}\" y"), format!("x\"{long}")),
    ] {
        let text = format!("global\n    description {line}\n");
        let c = hapee_compiler::testkit::compile_text("long.cfg", &text, false);
        let words = &c.tree.files[0].lines[1].words;
        // Compared without printing them: they are long.
        assert!(words[1].value.as_str() == word, "{}", &line[..20]);
    }
    for open in ["\"", "'"] {
        let text = format!("global\n    description {open}{long}\n");
        let c = hapee_compiler::testkit::compile_text("open.cfg", &text, false);
        assert!(
            c.diagnostics.iter().any(|d| d.severity == Severity::Error),
            "an unclosed {open} is an error"
        );
    }
}
