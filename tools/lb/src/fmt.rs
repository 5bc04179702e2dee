//! `hapee-lb fmt [--check] [--diff] [--stdout] FILE…`: rewrite configurations in the canonical
//! layout (see `hapee_compiler::fmt`).

use hapee_compiler::fmt::format_file;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::{parse, ProcessEnv};
use std::path::PathBuf;

#[derive(Default)]
pub struct FmtArgs {
    pub check: bool,
    pub diff: bool,
    pub stdout: bool,
    pub files: Vec<PathBuf>,
}

pub fn parse_args(args: &[String]) -> Result<FmtArgs, String> {
    let mut out = FmtArgs::default();
    for a in args {
        match a.as_str() {
            "--check" => out.check = true,
            "--diff" => out.diff = true,
            "--stdout" => out.stdout = true,
            _ if a.starts_with('-') => return Err(format!("unknown fmt option '{a}'")),
            _ => out.files.push(PathBuf::from(a)),
        }
    }
    if out.files.is_empty() {
        return Err("fmt needs at least one file".into());
    }
    Ok(out)
}

/// Exit code: 0 done (or nothing to change with --check), 1 files would change, 2 errors.
pub fn run(args: &FmtArgs) -> u8 {
    let mut changed = false;
    for path in &args.files {
        let mut db = SourceDb::new();
        if let Err(e) = db.load_path(path) {
            eprintln!("hapee-lb fmt: {e}");
            return 2;
        }
        let (tree, _) = parse(&db, &ProcessEnv);
        for file in &tree.files {
            let source = db.file(file.file);
            let formatted = format_file(&db, file);
            let differs = formatted != source.text;
            changed |= differs;
            // The one change that is not layout: HAProxy refuses a file whose last line has no
            // line feed (E009), and the formatted file has one. Said, since the verdict changes.
            if !source.text.is_empty() && !source.text.ends_with('\n') && !args.check {
                eprintln!(
                    "hapee-lb fmt: {}: the last line gets the line feed it lacked, without which \
                     HAProxy refuses the file (E009)",
                    source.name
                );
            }
            if args.diff {
                let d = similar::TextDiff::from_lines(&source.text, &formatted);
                say_raw!(
                    "{}",
                    d.unified_diff()
                        .header(&source.name, &format!("{} (formatted)", source.name))
                );
            } else if args.stdout {
                say_raw!("{formatted}");
            } else if args.check {
                if differs {
                    say!("{} would be reformatted", source.name);
                }
            } else if differs {
                // The bytes the file held that are not UTF-8 go back as they were read.
                let bytes = hapee_compiler::bytestr::to_bytes(&formatted);
                if let Err(e) = std::fs::write(&source.name, bytes) {
                    eprintln!("hapee-lb fmt: cannot write {}: {e}", source.name);
                    return 2;
                }
            }
        }
    }
    u8::from(args.check && changed)
}
