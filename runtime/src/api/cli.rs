//! The Runtime API's command interpreter, without I/O: a session's state, HAProxy's splitting of
//! input into commands (`;` and newlines, backslash escapes) and words, the level checks, and
//! the `help` and unknown-command answers. The socket driver (`socket`) feeds it bytes and
//! writes back what it answers; tests call it directly.

use super::commands::COMMANDS;
use crate::state::Shared;
use hapee_compiler::plan::CliLevel;

/// Words of a command HAProxy compares when looking a command up.
const PREFIX_WORDS: usize = 5;
/// Fuzzy suggestions offered at most.
const MAX_MATCHES: usize = 5;

pub const PERMISSION_DENIED: &str = "Permission denied\n";

/// One client connection's state.
#[derive(Debug, Clone)]
pub struct Session {
    pub level: CliLevel,
    /// Interactive mode: a `> ` prompt after each answer, and the connection stays open.
    pub prompt: bool,
    /// `set anon on`: the key of this session's anonymized output.
    pub anon_key: Option<u32>,
    /// `quit` was asked: close after this answer.
    pub quit: bool,
    /// `set timeout cli`: this session's idle timeout, instead of `stats timeout`.
    pub timeout: Option<std::time::Duration>,
    /// The payload of the command running (the lines after its ` <<`), for its handler.
    pub payload: Option<String>,
    /// `show events <ring> -w`: after the answer, stream the ring's lines from this sequence
    /// number on until the client sends something.
    pub follow_events: Option<(String, u64)>,
    /// `expert-mode on` and `experimental-mode on`: this session's extra modes.
    pub expert: bool,
    pub experimental: bool,
}

impl Session {
    pub fn new(level: CliLevel) -> Session {
        Session {
            level,
            prompt: false,
            anon_key: None,
            quit: false,
            timeout: None,
            payload: None,
            follow_events: None,
            expert: false,
            experimental: false,
        }
    }

    /// `Err(Permission denied)` unless the session has `level`.
    pub fn need(&self, level: CliLevel) -> Result<(), String> {
        if self.level >= level {
            Ok(())
        } else {
            Err(PERMISSION_DENIED.to_string())
        }
    }
}

/// Cuts the next command off `input`: up to an unescaped `;` or a newline (a `\r` before the
/// newline dropped). Answers the command and the bytes consumed, or `None` while no full
/// command has arrived.
pub fn next_command(input: &str) -> Option<(&str, usize)> {
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b';' => return Some((&input[..i], i + 1)),
            b'\n' => {
                let line = &input[..i];
                let line = line.strip_suffix('\r').unwrap_or(line);
                if ends_with_payload_mark(line) {
                    // The payload runs to the first empty line.
                    let end = input[i..].find("\n\n")? + i;
                    return Some((&input[..end], end + 2));
                }
                return Some((line, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether a command line ends with HAProxy's payload mark: a last word `<<`.
fn ends_with_payload_mark(line: &str) -> bool {
    line.strip_suffix("<<")
        .is_some_and(|before| before.is_empty() || before.ends_with([' ', '\t']))
}

/// A command cut off its payload: the command line without its ` <<`, and the payload lines.
fn split_payload(command: &str) -> (&str, Option<&str>) {
    let (line, payload) = match command.split_once('\n') {
        Some((line, payload)) => (line.strip_suffix('\r').unwrap_or(line), payload),
        None => (command, ""),
    };
    match line.strip_suffix("<<") {
        Some(before) if ends_with_payload_mark(line) => (before, Some(payload)),
        _ => (command, None),
    }
}

/// Splits a command into words on spaces and tabs; a backslash keeps the next character
/// (`\\` is a backslash, `\;` a semicolon, `\ ` a space inside a word).
pub fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Runs one command line and answers its output (without the separator that follows every
/// answer: see [`answer_separator`]).
pub fn execute(shared: &Shared, session: &mut Session, command: &str) -> String {
    let (command, payload) = split_payload(command);
    session.payload = payload.map(str::to_string);
    let answer = execute_line(shared, session, command);
    session.payload = None;
    answer
}

fn execute_line(shared: &Shared, session: &mut Session, command: &str) -> String {
    let args = words(command);
    let found = COMMANDS
        .iter()
        .filter(|c| c.words.len() <= args.len() && c.words.iter().zip(&args).all(|(w, a)| *w == a))
        .max_by_key(|c| c.words.len());
    match found {
        Some(c) if session.level >= c.level => match (c.run)(shared, session, &args) {
            Ok(text) | Err(text) => text,
        },
        Some(_) => PERMISSION_DENIED.to_string(),
        None => match args.first().map(String::as_str) {
            Some("help") => usage(session, &args[1..], true),
            Some("prompt") => {
                session.prompt = !session.prompt;
                String::new()
            }
            Some("quit") => {
                session.quit = true;
                String::new()
            }
            _ => crate::script::cli_command(&args).unwrap_or_else(|| usage(session, &args, false)),
        },
    }
}

/// `expert-mode [on|off]` and `experimental-mode [on|off]`: without a word, whether the mode
/// is on; `on` turns it on, any other word off.
pub fn mode_switch(_: &Shared, s: &mut Session, args: &[String]) -> Result<String, String> {
    let name = args[0].as_str();
    let flag = if name == "expert-mode" {
        &mut s.expert
    } else {
        &mut s.experimental
    };
    match args.get(1).map(String::as_str) {
        None | Some("") => Ok(format!("{name} is {}\n", if *flag { "ON" } else { "OFF" })),
        Some(word) => {
            *flag = word == "on";
            Ok(String::new())
        }
    }
}

/// What follows every answer: an empty line, or in interactive mode an empty line and the
/// `> ` prompt.
pub fn answer_separator(session: &Session) -> &'static str {
    if session.prompt {
        "\n> "
    } else {
        "\n"
    }
}

/// Runs everything in `input` as a non-interactive client sending it at once would see it.
pub fn run_script(shared: &Shared, session: &mut Session, input: &str) -> String {
    let mut out = String::new();
    let mut rest = input;
    while let Some((command, used)) = next_command(rest) {
        out.push_str(&execute(shared, session, command));
        rest = &rest[used..];
        if session.quit {
            break;
        }
        out.push_str(answer_separator(session));
    }
    out
}

/// HAProxy's word fingerprint: letter-pair counts, for fuzzy command suggestions.
fn fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |c: u8| match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a' + 1) as usize,
        b'0'..=b'9' => 27,
        _ => 28,
    };
    let mut from = 28;
    for c in word.bytes() {
        let to = class(c);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (i32::from(*x) - i32::from(*y)).abs())
        .sum()
}

/// The answer to `help [words]` and to an unknown command: the matching commands (or fuzzy
/// suggestions), then the three commands always available. `help` is a command of its own.
pub fn usage(_session: &Session, args: &[String], is_help: bool) -> String {
    usage_among(COMMANDS, args, is_help)
}

/// [`usage`] over any command table (the master CLI has its own, without handlers).
pub fn usage_among<Run>(
    table: &[super::commands::Command<Run>],
    args: &[String],
    is_help: bool,
) -> String {
    type Entry<Run> = super::commands::Command<Run>;
    let words = |c: &Entry<Run>| c.words;
    let arg = |i: usize| args.get(i).map(String::as_str).filter(|a| !a.is_empty());
    // The number of leading words some command matches exactly.
    let mut length = 0;
    for c in table {
        for idx in 0..PREFIX_WORDS {
            match (words(c).get(idx), arg(idx)) {
                (Some(w), Some(a)) if *w == a => length = length.max(idx + 1),
                _ => break,
            }
        }
    }
    let mut out = String::new();
    if is_help {
        out.push_str("The following commands are valid at this level:\n");
    } else {
        out.push_str("Unknown command: '");
        out.push_str(arg(0).unwrap_or(""));
        out.push('\'');
        if length == 0 && arg(0).is_none() {
            out.push_str(". Please enter one of the following commands only:\n");
        } else {
            out.push_str(", but maybe one of the following ones is a better match:\n");
        }
    }
    let prefix_matches =
        |c: &Entry<Run>| (0..length).all(|i| words(c).get(i).is_some_and(|w| Some(*w) == arg(i)));
    let mut matches: Vec<(&Entry<Run>, i32)> = Vec::new();
    if arg(length).is_some() {
        // A command without a usage line is never listed (the expert modes).
        for c in table
            .iter()
            .filter(|c| !c.usage.is_empty() && prefix_matches(c))
        {
            let mut typed = [0u8; 1024];
            let mut listed = [0u8; 1024];
            let mut total = 0;
            for a in (length..PREFIX_WORDS).map_while(arg) {
                fingerprint(&mut typed, a);
                total += a.len() as i32;
            }
            for w in words(c).iter().skip(length).take(PREFIX_WORDS - length) {
                fingerprint(&mut listed, w);
                total += w.len() as i32;
            }
            let dist = distance(&typed, &listed);
            if dist < 5 * total / 2 {
                matches.push((c, dist));
            }
        }
        matches.sort_by_key(|m| m.1);
        matches.truncate(MAX_MATCHES);
        if let Some(best) = matches.first().map(|m| m.1) {
            matches.retain(|m| m.1 <= 5 * best / 2);
        }
    }
    let mut entries: Vec<&Entry<Run>> = if matches.is_empty() {
        table
            .iter()
            .filter(|c| !c.usage.is_empty() && prefix_matches(c))
            .collect()
    } else {
        matches.into_iter().map(|m| m.0).collect()
    };
    entries.sort_by(|a, b| a.usage.cmp(b.usage));
    entries.dedup_by(|a, b| a.usage == b.usage);
    for c in entries {
        out.push_str(&format!("  {:<40}: {}\n", c.usage, c.help));
    }
    out.push_str("  help [<command>]                        : list matching or all commands\n");
    out.push_str(
        "  prompt                                  : toggle interactive mode with prompt\n",
    );
    out.push_str("  quit                                    : disconnect\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_cut_on_semicolons_and_newlines() {
        assert_eq!(
            next_command("show info;show stat\n"),
            Some(("show info", 10))
        );
        assert_eq!(next_command("show stat\r\n"), Some(("show stat", 11)));
        assert_eq!(
            next_command("set map m a\\;b x\n"),
            Some(("set map m a\\;b x", 17))
        );
        assert_eq!(next_command("show info"), None);
    }

    #[test]
    fn a_payload_runs_to_the_first_empty_line() {
        let input = "set ssl cert a.pem <<\nline 1\nline 2\n\nshow info\n";
        let (cmd, used) = next_command(input).unwrap();
        assert_eq!(cmd, "set ssl cert a.pem <<\nline 1\nline 2");
        assert_eq!(&input[used..], "show info\n");
        assert_eq!(
            split_payload(cmd),
            ("set ssl cert a.pem ", Some("line 1\nline 2"))
        );
        assert_eq!(next_command("set ssl cert a.pem <<\nline 1\n"), None);
        assert_eq!(split_payload("show info"), ("show info", None));
        assert_eq!(split_payload("set map m a<<"), ("set map m a<<", None));
    }

    #[test]
    fn words_honour_backslashes() {
        assert_eq!(words("  show   stat  "), vec!["show", "stat"]);
        assert_eq!(
            words("add map m a\\ b c\\;d"),
            vec!["add", "map", "m", "a b", "c;d"]
        );
        assert_eq!(words("a\\\\b"), vec!["a\\b"]);
    }

    #[test]
    fn fuzzy_suggestions_rank_close_words_first() {
        let s = Session::new(CliLevel::Admin);
        let out = usage(&s, &words("show infoo"), false);
        assert!(
            out.starts_with(
                "Unknown command: 'show', but maybe one of the following ones is a better match:\n"
            ),
            "{out}"
        );
        assert!(out.contains("  show info"), "{out}");
        assert!(!out.contains("  set server"), "{out}");
        assert!(out.ends_with("  quit                                    : disconnect\n"));
    }

    #[test]
    fn empty_line_lists_everything() {
        let s = Session::new(CliLevel::User);
        let out = usage(&s, &[], false);
        assert!(out.starts_with(
            "Unknown command: ''. Please enter one of the following commands only:\n"
        ));
        assert!(out.contains("  show stat"));
        assert!(out.contains("  set server"));
    }
}
