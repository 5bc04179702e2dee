//! The global server state file, as HAProxy opens it once the configuration is checked and
//! before it resolves server names (`haproxy -c` included): a file it cannot open, or whose
//! first line is not a version it knows, is only warned about.

use crate::diagnostic::{Diagnostic, HaproxyForm};
use crate::ir::Config;
use std::io::BufRead;

/// The versions of the file's format HAProxy 2.7 reads.
const VERSIONS: std::ops::RangeInclusive<i64> = 1..=1;

pub fn check(config: &Config) -> Vec<Diagnostic> {
    let global = &config.global.directives;
    let Some(path) = crate::plan::server_state::global_file(global) else {
        return Vec::new();
    };
    let message = match std::fs::File::open(&path) {
        Err(e) => format!(
            "config: Can't open global server state file '{path}': {}",
            crate::source::io_reason(&e)
        ),
        Ok(file) if version(&file).is_none() => {
            format!("config: Can't get version of the global server state file '{path}'.")
        }
        Ok(_) => return Vec::new(),
    };
    let line = global
        .iter()
        .rev()
        .find(|d| d.keyword == "server-state-file" && d.prefix.is_none());
    let mut d = Diagnostic::new("W405", message)
        .form(HaproxyForm::Bare)
        .label("servers start without a saved state")
        .help("create the file (for example with 'show servers state' on the stats socket), or remove the setting");
    if let Some(line) = line {
        d = d.at(line.span);
    }
    vec![d]
}

/// The version on the file's first line: a number alone on a line HAProxy knows.
fn version(file: &std::fs::File) -> Option<i64> {
    let mut first = String::new();
    std::io::BufReader::new(file).read_line(&mut first).ok()?;
    let v = first.strip_suffix('\n')?.parse::<i64>().ok()?;
    VERSIONS.contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_version_alone_on_the_first_line_is_read() {
        let dir = std::env::temp_dir().join(format!("hapee-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (text, known) in [
            ("1\n# be_id ...\n", true),
            ("2\n", false),
            ("1", false),
            ("", false),
            ("x\n", false),
        ] {
            let path = dir.join("state");
            std::fs::write(&path, text).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            assert_eq!(version(&file).is_some(), known, "{text:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
