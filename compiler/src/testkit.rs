//! Helpers shared by the test suites of every crate (corpus location, one-call compilation).
//! Not part of the stable API.

use crate::check::{compile, Compilation};
use crate::ir::CheckOptions;
use crate::source::SourceDb;
use crate::syntax::MapEnv;
use std::path::{Path, PathBuf};

/// `shared/corpus` beside the repository (where CI puts it), else `/work/shared/corpus`.
pub fn corpus_dir() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if beside.exists() {
        beside
    } else {
        PathBuf::from("/work/shared/corpus")
    }
}

/// One statement as the plan sees it, from its words separated by spaces (a leading `no` is
/// its prefix), for unit tests of the plan's lowering.
pub fn directive_line(text: &str) -> crate::ir::DirectiveLine {
    let mut words = text.split_whitespace();
    let mut first = words.next().unwrap_or_default();
    let prefix = (first == "no").then(|| {
        first = words.next().unwrap_or_default();
        "no".into()
    });
    crate::ir::DirectiveLine {
        prefix,
        keyword: first.into(),
        args: words.map(Into::into).collect(),
        span: crate::Span::default(),
    }
}

/// Compiles one in-memory file with an empty environment and no machine checks.
pub fn compile_text(name: &str, text: &str, lints: bool) -> Compilation {
    let mut db = SourceDb::new();
    db.add(name, text);
    compile(
        db,
        &MapEnv::default(),
        &CheckOptions {
            no_env: true,
            master_worker: false,
            lints,
            resolve_dontfail: false,
        },
    )
}

/// The rows of a corpus index (`index.tsv`, tab-separated with a header line), each as a map
/// from column name to value.
pub fn read_index(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("corpus index {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The line number in `[file.cfg:N]` of an HAProxy alert, if it names one.
pub fn alert_line(alert: &str) -> Option<u32> {
    let start = alert.find(".cfg:")? + 5;
    let digits: String = alert[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Agreement with HAProxy's `-c` verdicts over a corpus: where HAProxy accepted a
/// configuration the checker must report no error; where it rejected it, an error, on the line
/// of HAProxy's first alert when that alert names one.
#[derive(Debug, Default)]
pub struct Parity {
    pub valid: usize,
    pub valid_agreed: usize,
    pub invalid: usize,
    pub caught: usize,
    pub same_line: usize,
    /// One line per disagreement, for the test's failure message.
    pub misses: Vec<String>,
}

impl Parity {
    /// Judges one configuration. `exit` and `first_alert` are HAProxy's answer (rows whose
    /// exit is neither `0` nor `1` are skipped); `errors` are the checker's errors as (line, text),
    /// line 0 when an error names none.
    pub fn judge(&mut self, cfg: &str, exit: &str, first_alert: &str, errors: &[(u32, String)]) {
        let describe = || {
            errors
                .iter()
                .map(|(line, text)| format!("{cfg}:{line} {text}"))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        match exit {
            "0" => {
                self.valid += 1;
                if errors.is_empty() {
                    self.valid_agreed += 1;
                } else {
                    self.misses.push(format!(
                        "accepted by HAProxy, rejected here: {}",
                        describe()
                    ));
                }
            }
            "1" => {
                self.invalid += 1;
                if errors.is_empty() {
                    self.misses.push(format!(
                        "{cfg}: rejected by HAProxy ({first_alert}), accepted here"
                    ));
                    return;
                }
                self.caught += 1;
                match alert_line(first_alert) {
                    Some(line) if !errors.iter().any(|(l, _)| *l == line) => {
                        self.misses.push(format!(
                        "{cfg}: HAProxy's first alert is on line {line} ({first_alert}), ours: {}",
                        describe()
                    ))
                    }
                    _ => self.same_line += 1,
                }
            }
            _ => {}
        }
    }

    /// The three figures, as the parity tests print them.
    pub fn summary(&self) -> String {
        format!(
            "valid agreed {}/{}, invalid caught {}/{}, on HAProxy's first-alert line {}/{}",
            self.valid_agreed, self.valid, self.caught, self.invalid, self.same_line, self.invalid
        )
    }
}
