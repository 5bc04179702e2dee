//! Lint levels from the command line, `.hapee.toml` and inline `# hapee: allow(CODE)` comments.

use crate::codes::{self, Origin};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceDb;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

/// The per-project settings file.
const CONFIG_FILE: &str = ".hapee.toml";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

/// Per-code levels; codes not listed keep their default severity.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    levels: FxHashMap<&'static str, Level>,
    /// The `.hapee.toml` read, with the entries of its lists that name no rule (L023).
    settings: Option<Box<SettingsSource>>,
}

/// A `.hapee.toml` read, and the entries of its lists that name no rule: they are skipped, and
/// reported (L023).
#[derive(Clone, Debug)]
struct SettingsSource {
    /// Where the file is (empty until [`LintConfig::discover`] names it).
    path: PathBuf,
    text: String,
    /// Each such entry's place in `text`, the quotes excluded.
    entries: Vec<std::ops::Range<usize>>,
}

/// `.hapee.toml`, as far as hapee reads it.
#[derive(serde::Deserialize)]
struct SettingsText {
    #[serde(default)]
    lints: Option<LintsTable>,
}

/// Its `[lints]` table: a key other than these three is refused, not skipped.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LintsTable {
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
    #[serde(default)]
    warn: Vec<toml::Spanned<String>>,
    #[serde(default)]
    deny: Vec<toml::Spanned<String>>,
}

impl LintConfig {
    /// Sets the level of a code or rule name; unknown codes are an error for the caller.
    pub fn set(&mut self, code_or_name: &str, level: Level) -> Result<(), String> {
        let rule = codes::rule(code_or_name)
            .ok_or_else(|| format!("unknown lint code '{code_or_name}'"))?;
        if level == Level::Allow && !may_allow(rule) {
            return Err(format!(
                "'{}' is an error HAProxy makes too; it cannot be allowed",
                rule.code
            ));
        }
        self.levels.insert(rule.code, level);
        Ok(())
    }

    /// Reads `[lints]` with `allow`, `warn` and `deny` lists from a `.hapee.toml` text. An
    /// entry that names no rule is skipped and kept for [`LintConfig::settings_diagnostics`];
    /// an error HAProxy makes, allowed, refuses the file.
    pub fn from_toml(text: &str) -> Result<LintConfig, String> {
        let read: SettingsText =
            toml::from_str(text).map_err(|e| format!("invalid .hapee.toml: {e}"))?;
        let mut cfg = LintConfig::default();
        let mut unknown = Vec::new();
        if let Some(lints) = read.lints {
            for (list, level) in [
                (lints.allow, Level::Allow),
                (lints.warn, Level::Warn),
                (lints.deny, Level::Deny),
            ] {
                for code in list {
                    if codes::rule(code.get_ref()).is_none() {
                        // The span covers the quotes: the code is inside them.
                        let span = code.span();
                        unknown
                            .push(span.start + 1..span.end.saturating_sub(1).max(span.start + 1));
                        continue;
                    }
                    cfg.set(code.get_ref(), level)?;
                }
            }
        }
        cfg.settings = Some(Box::new(SettingsSource {
            path: PathBuf::new(),
            text: if unknown.is_empty() {
                String::new()
            } else {
                text.to_string()
            },
            entries: unknown,
        }));
        Ok(cfg)
    }

    /// L023 for the entries of the `.hapee.toml` read that name no rule, placed in that file,
    /// which is added to `db` for them (nothing is added without such an entry). The levels
    /// are not applied: [`LintConfig::apply`] does that.
    pub fn settings_diagnostics(&self, db: &mut SourceDb) -> Vec<Diagnostic> {
        let Some(u) = self.settings.as_ref().filter(|u| !u.entries.is_empty()) else {
            return Vec::new();
        };
        // Named as the configuration files are, relative to the working directory when under it.
        let cwd = std::env::current_dir().and_then(|d| d.canonicalize()).ok();
        let shown = (cwd.as_deref())
            .and_then(|d| u.path.strip_prefix(d).ok())
            .unwrap_or(&u.path);
        let id = db.add(shown.display().to_string(), u.text.clone());
        (u.entries.iter())
            .filter_map(|r| {
                let span = crate::source::Span::new(id, r.start, r.end);
                super::settings::finding(&u.text[r.clone()], span, "this settings file")
            })
            .collect()
    }

    /// The `.hapee.toml` these levels were read from, if any (the file of
    /// [`LintConfig::settings_diagnostics`]).
    pub fn settings_path(&self) -> Option<&Path> {
        (self.settings.as_ref())
            .map(|u| u.path.as_path())
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The levels of `.hapee.toml` as `hapee-lb check` and the language server both find it
    /// (see [`settings_file`]): near the first configuration file or folder, else in
    /// `fallback` (check's working directory, the editor's workspace root); the defaults
    /// without one.
    pub fn discover(fallback: &Path, first_file: Option<&Path>) -> Result<LintConfig, String> {
        let found = first_file.and_then(settings_file).or_else(|| {
            let p = fallback.join(CONFIG_FILE);
            p.is_file().then_some(p)
        });
        match found {
            Some(p) => {
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                let mut cfg =
                    LintConfig::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))?;
                if let Some(u) = &mut cfg.settings {
                    u.path = p;
                }
                Ok(cfg)
            }
            None => Ok(LintConfig::default()),
        }
    }

    /// Whether some code is raised to an error (then a warning may decide the verdict).
    pub fn denies_any(&self) -> bool {
        self.levels.values().any(|l| *l == Level::Deny)
    }

    /// Applies the levels and inline `# hapee: allow(CODE)` comments; allowed diagnostics go.
    pub fn apply(&self, db: &SourceDb, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        // Most configurations have no such comment: one search per file spares a line lookup
        // per diagnostic.
        let commented: Vec<bool> = db
            .files()
            .map(|(_, f)| memchr::memmem::find(f.text.as_bytes(), INLINE_MARK.as_bytes()).is_some())
            .collect();
        // Nothing to change: the list is handed back as it is, not moved item by item.
        if self.levels.is_empty() && !commented.contains(&true) {
            return diags;
        }
        diags
            .into_iter()
            .filter_map(|mut d| {
                if let Some(span) = d.span.filter(|s| commented[s.file.0 as usize]) {
                    let f = db.file(span.file);
                    let line = f.line_index(span.start as usize);
                    // A comment in what HAProxy skips (after a lone `\r`) allows nothing.
                    let text = crate::lexer::line_content(&f.text[f.line_range(line)]);
                    if allows_inline(text, d.code) && codes::rule(d.code).is_none_or(may_allow) {
                        return None;
                    }
                }
                match self.levels.get(d.code) {
                    Some(Level::Allow) => None,
                    Some(Level::Warn) => {
                        d.severity = Severity::Warning;
                        Some(d)
                    }
                    Some(Level::Deny) => {
                        d.severity = Severity::Error;
                        Some(d)
                    }
                    None => Some(d),
                }
            })
            .collect()
    }
}

/// The `.hapee.toml` that applies to a configuration whose first `-f` argument is `first`: in
/// its folder (a `-f` folder itself, else the file's folder), then in each parent up to the
/// repository root (the first folder holding `.git`), or up to the file system's root outside
/// a repository.
pub fn settings_file(first: &Path) -> Option<PathBuf> {
    let folder = if first.is_dir() {
        first
    } else {
        first.parent()?
    };
    // `-f haproxy.cfg` has the empty path as its folder: the working directory.
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    // Absolute, so that the parents of a relative folder are walked too.
    let folder = folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf());
    for dir in folder.ancestors() {
        let p = dir.join(CONFIG_FILE);
        if p.is_file() {
            return Some(p);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// What starts an inline lint comment: `hapee: allow(…)`, with or without the spaces.
pub(super) const INLINE_MARK: &str = "hapee:";

/// Whether a code may be silenced: an error HAProxy makes too never is (the configuration
/// would still fail to start), whether by `.hapee.toml`, the command line or a comment.
pub(super) fn may_allow(rule: &codes::Rule) -> bool {
    rule.origin == Origin::Lint || rule.severity != Severity::Error
}

/// The code lists of the `# hapee: allow(L001, L002)` comments in `line` (spaces around
/// `allow` optional): where each list starts in `line`, and the list up to its `)` (or to the
/// line's end when it is not closed).
pub fn allow_lists(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.match_indices(INLINE_MARK)
        .filter_map(move |(pos, mark)| {
            let after = &line[pos + mark.len()..];
            let rest = after.trim_start().strip_prefix("allow")?;
            let list = rest.trim_start().strip_prefix('(')?;
            let start = line.len() - list.len();
            Some((start, list.split(')').next().unwrap_or("")))
        })
}

/// Whether a `# hapee: allow(…)` comment of the line names `code` (or its name).
fn allows_inline(line: &str, code: &str) -> bool {
    allow_lists(line).any(|(_, list)| {
        list.split(',').any(|c| {
            c.trim().eq_ignore_ascii_case(code)
                || codes::rule(c.trim()).is_some_and(|r| r.code == code)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_allow_comments() {
        assert!(allows_inline(
            "    backend old # hapee: allow(L001)",
            "L001"
        ));
        assert!(allows_inline(
            "x # hapee: allow(L002, unused-backend)",
            "L001"
        ));
        assert!(!allows_inline("x # hapee: allow(L002)", "L001"));
        // Spaces around `allow` are the writer's choice.
        assert!(allows_inline("x #hapee:allow(L001)", "L001"));
        assert!(allows_inline("x # hapee:  allow (L001)", "L001"));
        assert!(!allows_inline("x # hapee: deny(L001)", "L001"));
        assert!(allows_inline(
            "x # hapee: allow(L002) # hapee: allow(L001)",
            "L001"
        ));
    }

    #[test]
    fn toml_levels() {
        let cfg = LintConfig::from_toml("[lints]\nallow = [\"L001\"]\ndeny = [\"unused-acl\"]\n")
            .unwrap();
        assert_eq!(cfg.levels.get("L001"), Some(&Level::Allow));
        assert_eq!(cfg.levels.get("L002"), Some(&Level::Deny));
        assert!(LintConfig::from_toml("[lints]\nallow = [\"E301\"]\n").is_err());
        // A key other than allow/warn/deny is refused, with its place.
        let e = LintConfig::from_toml("[lints]\nalow = [\"L001\"]\n").unwrap_err();
        assert!(e.contains("alow") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn toml_entries_naming_no_rule_are_skipped_and_reported() {
        let text = "[lints]\nallow = [\"L001\", \"L02\"]\ndeny = [\"unused-backnd\"]\n";
        let cfg = LintConfig::from_toml(text).unwrap();
        assert_eq!(cfg.levels.get("L001"), Some(&Level::Allow));
        let mut db = SourceDb::new();
        let found = cfg.settings_diagnostics(&mut db);
        let words: Vec<(&str, &str)> = found
            .iter()
            .map(|d| {
                let fix = &d.fix.as_ref().unwrap().edits[0].replacement;
                (db.text(d.span.unwrap()), fix.as_str())
            })
            .collect();
        assert_eq!(
            words,
            [("L02", "L002"), ("unused-backnd", "unused-backend")]
        );
        assert_eq!(db.line_col(found[0].span.unwrap()).line, 2);
    }

    #[test]
    fn a_comment_never_silences_an_error_haproxy_makes() {
        let rule = |c| codes::rule(c).unwrap();
        assert!(may_allow(rule("L001")));
        assert!(!may_allow(rule("E301")));
    }
}
