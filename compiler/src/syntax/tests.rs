use super::*;

/// A large file whose reading stops early (too many fatal errors) leaves the chunks lexed
/// ahead unused: parsing must end all the same.
#[test]
fn large_file_stopping_early_ends() {
    let mut text = String::from("global\n");
    for _ in 0..MAX_FATAL_ERRORS + 5 {
        text.push_str("    x \"unterminated\n");
    }
    for i in 0..crate::prelex::MIN_CHUNKS_AHEAD * crate::prelex::CHUNK_LINES {
        text.push_str(&format!("    maxconn {i}\n"));
    }
    let mut db = SourceDb::new();
    db.add("big.cfg", text);
    let (tree, diags) = parse(&db, &MapEnv::default());
    assert!(diags.iter().any(|d| d.code == "E007"));
    assert!(tree.files[0].lines.iter().rev().take(10).all(|l| !l.active));
}

/// `parse_deferring` leaves out the words of the plain lines of frontend, backend and
/// listen bodies only: not those of lines with quotes or comments, of headers, of the
/// global and defaults sections, or of a masked `.if` branch.
#[test]
fn deferred_parse_leaves_out_plain_proxy_body_words_only() {
    let text = "global\n    maxconn 100\ndefaults\n    mode http\nfrontend f\n    bind :80\n    http-request set-header X \"a b\"\n    timeout client 5s # note\n.if defined(NOPE)\n    maxconn 3\n.endif\nbackend b\n    server s 10.0.0.1:80 check\n";
    let mut db = SourceDb::new();
    db.add("t.cfg", text);
    let env = MapEnv::default();
    let (whole, _) = parse(&db, &env);
    let (deferred, _) = parse_deferring(&db, &env);
    let left_out: Vec<usize> = deferred.files[0]
        .lines
        .iter()
        .zip(&whole.files[0].lines)
        .enumerate()
        .filter(|(_, (d, w))| d.words.is_empty() && !w.words.is_empty())
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(left_out, vec![6, 13]);
}

/// Large files lex their plain lines on several threads: the words must be those of the
/// in-order lexer, line for line, including around quotes, comments and `.if` blocks.
#[test]
fn prelexed_large_files_match_small_ones() {
    let block = "global\n    maxconn 100\n    setenv X \"quoted value\" # note\n.if defined(NOPE)\n    nbthread 3\n.endif\nfrontend \"f\"\n\tbind\t:80   \n    http-request set-var(txn.s) str(\".SECTION\")\n    use_backend b if { hdr(host) -i x.example }\n\n# comment\nbackend b\n    server s 10.0.0.1:80 check\n";
    let reps = 2 * crate::prelex::CHUNK_LINES;
    let mut db = SourceDb::new();
    db.add("small.cfg", block);
    let mut big = SourceDb::new();
    big.add("big.cfg", block.repeat(reps));
    let env = MapEnv::default();
    let (small, _) = parse(&db, &env);
    let (large, _) = parse(&big, &env);
    let per_block = small.files[0].lines.len();
    assert_eq!(large.files[0].lines.len(), per_block * reps);
    let values = |l: &Line| {
        l.words
            .iter()
            .map(|w| w.value.to_string())
            .collect::<Vec<_>>()
    };
    for (i, line) in large.files[0].lines.iter().enumerate() {
        let want = &small.files[0].lines[i % per_block];
        let shift = (i / per_block * block.len()) as u32;
        assert_eq!(values(line), values(want), "line {}", i + 1);
        assert_eq!(line.kind, want.kind, "line {}", i + 1);
        assert_eq!(line.active, want.active, "line {}", i + 1);
        for (a, b) in line.words.iter().zip(want.words.iter()) {
            assert_eq!(
                (a.span.start, a.span.end),
                (b.span.start + shift, b.span.end + shift)
            );
        }
    }
    assert_eq!(large.sections.len(), small.sections.len() * reps);
}
