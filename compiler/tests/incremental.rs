//! An incremental compilation ([`Session`]) equals a compilation from scratch: the same
//! syntax tree, model and diagnostics, after every edit of a random series on the corpus
//! configurations and on a large generated one.

use hapee_compiler::check::{compile, Compilation};
use hapee_compiler::incremental::Session;
use hapee_compiler::ir::CheckOptions;
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::MapEnv;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[path = "support/routing.rs"]
mod routing;
use routing::routing_config;

const OPTIONS: CheckOptions = CheckOptions {
    no_env: true,
    master_worker: false,
    lints: true,
    resolve_dontfail: false,
};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn configs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            configs(&p, out);
        } else if p.extension().is_some_and(|e| e == "cfg") {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<(String, String)> {
    let mut files = Vec::new();
    configs(
        &hapee_compiler::testkit::corpus_dir().join("regtests-2.7"),
        &mut files,
    );
    configs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata"),
        &mut files,
    );
    files.sort();
    assert!(files.len() > 200, "corpus and fixtures found");
    files
        .iter()
        .map(|f| {
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned();
            (f.display().to_string(), text)
        })
        .collect()
}

/// A char boundary at or before `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One random edit of `text`, drawing replacement lines from `pool`.
fn edit(text: &mut String, rng: &mut Rng, pool: &[&str]) {
    let at = boundary(text, rng.below(text.len() + 1));
    match rng.below(6) {
        // Replace a whole line with a line from elsewhere.
        0 => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = pool[rng.below(pool.len())];
            text.replace_range(start..end, line);
        }
        // Type a character.
        1 => {
            const TYPED: [&str; 10] = ["a", " ", "\n", "#", "\"", "$", "{", "1", "\t", "é"];
            text.insert_str(at, TYPED[rng.below(TYPED.len())]);
        }
        // Delete a few bytes.
        2 => {
            let end = boundary(text, at + rng.below(40));
            text.replace_range(at..end, "");
        }
        // Insert a line from elsewhere.
        3 => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let line = format!("{}\n", pool[rng.below(pool.len())]);
            text.insert_str(start, &line);
        }
        // Delete a whole line.
        4 => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            text.replace_range(start..end, "");
        }
        // Change a word's length (a server's weight, a name).
        _ => {
            let end = boundary(text, at + rng.below(4));
            text.replace_range(at..end, &"x".repeat(rng.below(6)));
        }
    }
}

fn db_of(files: &[(String, String)]) -> SourceDb {
    let mut db = SourceDb::new();
    for (name, text) in files {
        db.add(name.as_str(), text.as_str());
    }
    db
}

/// The session's compilation equals one from scratch.
fn assert_same(incremental: &Compilation, files: &[(String, String)], what: &str) {
    assert_same_with(incremental, files, what, &OPTIONS);
}

fn assert_same_with(
    incremental: &Compilation,
    files: &[(String, String)],
    what: &str,
    options: &CheckOptions,
) {
    let fresh = compile(db_of(files), &MapEnv::default(), options);
    let tree = |c: &Compilation| format!("{:?}", c.tree);
    let config = |c: &Compilation| format!("{:?}", c.config);
    if fresh.diagnostics != incremental.diagnostics {
        let only = |a: &[hapee_compiler::Diagnostic], b: &[hapee_compiler::Diagnostic]| {
            a.iter()
                .filter(|d| !b.contains(d))
                .cloned()
                .collect::<Vec<_>>()
        };
        panic!(
            "{what}: diagnostics differ\nonly fresh: {:#?}\nonly incremental: {:#?}\ntext: {:?}",
            only(&fresh.diagnostics, &incremental.diagnostics),
            only(&incremental.diagnostics, &fresh.diagnostics),
            files.iter().map(|f| &f.1).collect::<Vec<_>>()
        );
    }
    let (fresh_tree, incremental_tree) = (tree(&fresh), tree(incremental));
    if fresh_tree != incremental_tree {
        let at = fresh_tree
            .bytes()
            .zip(incremental_tree.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(fresh_tree.len().min(incremental_tree.len()));
        let around =
            |t: &str| t[at.saturating_sub(300).min(t.len())..(at + 200).min(t.len())].to_string();
        panic!(
            "{what}: trees differ\nfresh: …{}…\nincremental: …{}…\ntext: {:?}",
            around(&fresh_tree),
            around(&incremental_tree),
            files.iter().map(|f| &f.1).collect::<Vec<_>>()
        );
    }
    assert!(
        config(&fresh) == config(incremental),
        "{what}: models differ"
    );
}

/// Runs `edits` random edits on the files, compiling each state with the session and from
/// scratch. Every third compilation keeps a second reference to the previous result, so
/// that the session copies from it instead of taking it over.
fn series(files: &mut [(String, String)], edits: usize, rng: &mut Rng, pool: &[&str]) {
    let mut session = Session::new();
    let env = MapEnv::default();
    let mut kept: Option<Arc<Compilation>> = None;
    for step in 0..=edits {
        if step > 0 {
            let f = rng.below(files.len());
            edit(&mut files[f].1, rng, pool);
        }
        let c = session.compile(db_of(files), &env, &OPTIONS, |_| {});
        let what = format!("{} after {step} edits", files[0].0);
        assert_same(&c, files, &what);
        kept = (step % 3 == 1).then_some(c);
    }
    drop(kept);
}

#[test]
fn random_edits_of_corpus_configurations_compile_as_from_scratch() {
    let corpus = corpus();
    let pool: Vec<&str> = corpus.iter().flat_map(|(_, t)| t.lines()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for pair in corpus.chunks(2) {
        // Each file alone, then the two as one workspace (`-f a -f b`).
        for (name, text) in pair {
            series(&mut [(name.clone(), text.clone())], 5, &mut rng, &pool);
        }
        series(&mut pair.to_vec(), 3, &mut rng, &pool);
    }
}

#[test]
fn random_edits_of_the_whole_corpus_as_one_file_compile_as_from_scratch() {
    let corpus = corpus();
    let pool: Vec<&str> = corpus.iter().flat_map(|(_, t)| t.lines()).collect();
    let all: String = corpus.iter().map(|(_, t)| format!("{t}\n")).collect();
    let mut rng = Rng(42);
    series(&mut [("all.cfg".into(), all)], 12, &mut rng, &pool);
}

/// The language server's benchmark shape (bench/lsp.sh): one frontend routing by named
/// ACLs to backends with `option httpchk` and two servers each, large enough that the first
/// build shares the bodies among threads.
#[test]
fn edits_of_a_large_routing_configuration_compile_as_from_scratch() {
    let n = 1500;
    let mut files = vec![("acl.cfg".to_string(), routing_config(n))];
    let env = MapEnv::default();
    let mut session = Session::new();
    let c = session.compile(db_of(&files), &env, &OPTIONS, |_| {});
    assert_same(&c, &files, "acl.cfg");
    drop(c);
    // The benchmark's edits: the frontend's default backend, a server line in the middle.
    let edits: [(&str, &str); 4] = [
        ("    default_backend be_0\n", "    default_backend be_12\n"),
        (
            "    server s1 10.3.0.2:8080 check\n",
            "    server s1 10.3.0.2:8080 check weight 7\n",
        ),
        ("backend be_900\n", "backend be_900\n    balance nowhere\n"),
        ("    maxconn 10000\n", "    maxconn 100\n"),
    ];
    for (from, to) in edits {
        let text = &mut files[0].1;
        let at = text.find(from).expect("edited line present");
        text.replace_range(at..at + from.len(), to);
        let c = session.compile(db_of(&files), &env, &OPTIONS, |_| {});
        assert_same(&c, &files, to);
        // Each edit changes or adds one line: only that line is parsed again.
        assert_eq!(session.reparsed(), Some(1), "{to}");
        // An edit inside one backend or the frontend leaves the lint findings of the other
        // proxies as they were (after `balance nowhere`, an error, no lint runs: the next edit
        // has no findings to take).
        if to.contains("default_backend") || to.contains("weight") {
            assert!(
                session.lints_taken() >= n - 1,
                "{to}: lint findings of {} proxies taken",
                session.lints_taken()
            );
        }
    }
    let pool: Vec<String> = files[0].1.lines().map(str::to_string).collect();
    let pool: Vec<&str> = pool.iter().map(String::as_str).collect();
    series(&mut files, 6, &mut Rng(7), &pool);
}

/// Typing in one place, as an editor sends it: a run of edits at and just after one spot of
/// the text (characters typed, a line inserted after it, a word changed), with the session
/// compiling after each one. A body the first edit changed keeps its state before the edited
/// statement, and the next edits resume its build there.
fn typing_at(files: &mut [(String, String)], at: usize, rng: &mut Rng, pool: &[&str]) -> usize {
    let env = MapEnv::default();
    let mut session = Session::new();
    let c = session.compile(db_of(files), &env, &OPTIONS, |_| {});
    assert_same(&c, files, &files[0].0.clone());
    drop(c);
    let mut resumed = 0;
    let mut cursor = boundary(&files[0].1, at);
    for step in 0..6 {
        let text = &mut files[0].1;
        let end_of_line = text[cursor..].find('\n').map_or(text.len(), |i| cursor + i);
        match rng.below(4) {
            0 => {
                const TYPED: [&str; 6] = ["a", " ", "1", "x", "#", "\n"];
                let typed = TYPED[rng.below(TYPED.len())];
                text.insert_str(cursor, typed);
                cursor += typed.len();
            }
            1 => {
                let line = format!("\n{}", pool[rng.below(pool.len())]);
                text.insert_str(end_of_line, &line);
                cursor = end_of_line + 1;
            }
            2 => {
                let end = boundary(text, cursor + 3).min(end_of_line.max(cursor));
                text.replace_range(cursor..end, "");
            }
            _ => text.insert_str(end_of_line, " weight 7"),
        }
        cursor = boundary(&files[0].1, cursor);
        let c = session.compile(db_of(files), &env, &OPTIONS, |_| {});
        assert_same(&c, files, &format!("{} typing, step {step}", files[0].0));
        resumed += session.resumed();
    }
    resumed
}

#[test]
fn typing_in_one_place_resumes_body_builds_and_compiles_as_from_scratch() {
    let corpus = corpus();
    let pool: Vec<&str> = corpus.iter().flat_map(|(_, t)| t.lines()).collect();
    let mut rng = Rng(0x51ed_270b_1f3c_4a9d);
    let mut resumed = 0;
    for (name, text) in &corpus {
        // Typing in the last third of the file: most often inside a proxy body, after some
        // of its statements.
        let at = text.len() * 2 / 3 + rng.below(text.len() / 3 + 1);
        let mut files = [(name.clone(), text.clone())];
        resumed += typing_at(&mut files, at, &mut rng, &pool);
    }
    // The whole corpus as one file: many proxies with every kind of statement and error.
    let all: String = corpus.iter().map(|(_, t)| format!("{t}\n")).collect();
    for _ in 0..4 {
        let at = rng.below(all.len());
        let mut files = [("all.cfg".to_string(), all.clone())];
        resumed += typing_at(&mut files, at, &mut rng, &pool);
    }
    assert!(
        resumed > 1_000,
        "typing resumed body builds ({resumed} statements not built again)"
    );
}

/// A configuration that loads Lua scripts, checked with its files (`lua.<name>` samples are
/// judged against what the script registers): every edit builds the model whole, once, and
/// the result is the compilation from scratch.
#[test]
fn edits_of_a_configuration_loading_lua_compile_as_from_scratch() {
    let dir = std::env::temp_dir().join(format!("hapee-incremental-lua-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("fetches.lua");
    std::fs::write(
        &script,
        "core.register_fetches(\"known\", function(txn) return \"x\" end)\n",
    )
    .expect("script written");
    let options = CheckOptions {
        no_env: false,
        ..OPTIONS
    };
    let text = format!(
        "global\n    lua-load {}\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\nfrontend www\n    bind 127.0.0.1:18080\n    http-request set-var(txn.a) lua.known\n    http-request set-var(txn.b) lua.unknown\n    default_backend be\n\nbackend be\n    server s1 127.0.0.1:8080\n",
        script.display()
    );
    let mut files = vec![("lua.cfg".to_string(), text)];
    let env = MapEnv::default();
    let mut session = Session::new();
    let edits = [
        ("lua.unknown\n", "lua.unknown2\n"),
        ("default_backend be\n", "default_backend be \n"),
        ("lua.known\n", "lua.known \n"),
    ];
    let c = session.compile(db_of(&files), &env, &options, |_| {});
    assert_same_with(&c, &files, "lua.cfg", &options);
    assert!(
        c.diagnostics
            .iter()
            .any(|d| d.message.contains("lua.unknown")),
        "the unregistered fetch is reported: {:#?}",
        c.diagnostics
    );
    drop(c);
    for (from, to) in edits {
        let text = &mut files[0].1;
        let at = text.find(from).expect("edited text present");
        text.replace_range(at..at + from.len(), to);
        let c = session.compile(db_of(&files), &env, &options, |_| {});
        assert_same_with(&c, &files, to, &options);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// One random edit of the kinds that change how the lines after it parse: a quote opened or
/// closed, a line added or removed, a section header written, changed or removed, `.if`
/// blocks opened and closed, a statement before any section, a line feed added or removed
/// at the end, `${.LINE}` expansions.
fn structural_edit(text: &mut String, rng: &mut Rng) {
    const LINES: [&str; 16] = [
        "backend be_new",
        "frontend fe_new",
        "listen li_new",
        "defaults",
        ".if defined(HAPEE_UNSET)",
        ".else",
        ".endif",
        "    server s9 10.9.9.9:80 check",
        "    acl host_x hdr(host) -i \"x.example.com",
        "    http-request set-header X-Line ${.LINE}",
        "    use_backend be_1 if host_1",
        "    option httpchk GET /health",
        "    balance nowhere",
        "",
        "# a comment",
        "maxconn 10",
    ];
    let at = boundary(text, rng.below(text.len() + 1));
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    match rng.below(7) {
        0 | 1 => {
            const TYPED: [&str; 8] = ["\"", "'", "\n", "#", "\\", " ", "x", "{"];
            text.insert_str(at, TYPED[rng.below(TYPED.len())]);
        }
        2 => {
            let line = LINES[rng.below(LINES.len())];
            text.insert_str(start, &format!("{line}\n"));
        }
        3 => {
            let line = LINES[rng.below(LINES.len())];
            text.replace_range(start..end, line);
        }
        4 => {
            let end = (end + 1).min(text.len());
            text.replace_range(start..end, "");
        }
        5 => {
            if text.ends_with('\n') {
                text.pop();
            } else {
                text.push('\n');
            }
        }
        _ => {
            let end = boundary(text, at + rng.below(12));
            text.replace_range(at..end, "");
        }
    }
}

/// Random edits that change how the lines after them parse (quotes, added and removed lines,
/// section headers, `.if` blocks, the final line feed) leave the session's compilation equal
/// to one from scratch, whether it parsed only the edited lines or every line; most edits
/// parse only the edited lines.
#[test]
fn random_structural_edits_compile_as_from_scratch() {
    let env = MapEnv::default();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut steps, mut spliced, mut reparsed) = (0, 0, 0);
    for round in 0..6 {
        let mut files = vec![(format!("routing-{round}.cfg"), routing_config(12))];
        let mut session = Session::new();
        let mut kept = None;
        for step in 0..40 {
            if step > 0 {
                structural_edit(&mut files[0].1, &mut rng);
            }
            let c = session.compile(db_of(&files), &env, &OPTIONS, |_| {});
            assert_same(&c, &files, &format!("round {round}, step {step}"));
            if let Some(lines) = session.reparsed() {
                spliced += 1;
                reparsed += lines;
            }
            steps += 1;
            // Now and then the previous compilation is still shared: the session copies it.
            kept = (step % 5 == 2).then_some(c);
        }
        drop(kept);
    }
    assert!(
        spliced * 3 > steps,
        "most edits parse only their lines ({spliced} of {steps})"
    );
    assert!(
        reparsed < spliced * 3,
        "a splice parses a few lines ({reparsed} for {spliced} splices)"
    );
}

/// A `setenv` line changes what later `"${VAR}"` words expand to: adding, editing and removing
/// one gives the compilation from scratch each time (the lines after it are not reused).
#[test]
fn setenv_edits_compile_as_from_scratch() {
    let with = |line: &str| {
        format!(
            "global\n{line}defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend f\n    bind :8080\n    default_backend \"${{NAME}}\"\nbackend be1\n    server s 127.0.0.1:80\n"
        )
    };
    let mut session = Session::new();
    let env = MapEnv::default();
    for line in [
        "",
        "    setenv NAME be1\n",
        "    setenv NAME be2\n",
        "",
        "    presetenv NAME be1\n",
        "",
    ] {
        let files = vec![("setenv.cfg".to_string(), with(line))];
        let c = session.compile(db_of(&files), &env, &OPTIONS, |_| {});
        assert_same(&c, &files, &format!("with {line:?}"));
    }
}
