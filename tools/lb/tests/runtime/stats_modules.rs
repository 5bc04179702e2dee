//! `stats show-modules`: the stats page's "Extra modules" columns, compared with Debian's
//! haproxy on the same configuration (the modules it lists, in which rows, with which counters).

use crate::harness::{both, curl, DEFAULTS};

/// The top-level cells of one table row (`<td>` inside the tips' nested tables are skipped).
fn cells(row: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, None, 0);
    while i < row.len() {
        let rest = &row[i..];
        if rest.starts_with("<table") {
            depth += 1;
        } else if rest.starts_with("</table>") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && rest.starts_with("<td") {
            start = rest.find('>').map(|e| i + e + 1);
        } else if depth == 0 && rest.starts_with("</td>") {
            if let Some(s) = start.take() {
                out.push(&row[s..i]);
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// A module cell: its module's name and its counters' descriptions and values (empty for a
/// cell of a module that does not apply to the row).
fn module(cell: &str) -> (String, Fields) {
    let Some(rest) = cell.strip_prefix("<u>") else {
        return (String::new(), Vec::new());
    };
    let name = rest.split('<').next().unwrap_or("").to_string();
    let fields = rest
        .split("<tr><th>")
        .skip(1)
        .map(|f| {
            let (desc, rest) = f.split_once("</th><td>").unwrap_or((f, ""));
            let value = rest.split("</td>").next().unwrap_or("");
            (desc.to_string(), value.to_string())
        })
        .collect();
    (name, fields)
}

/// A module cell's counters: description and value.
type Fields = Vec<(String, String)>;
/// What the page shows of the modules: per proxy table, the module headings, then for each
/// row its kind and its last `headings` cells read as module cells.
type Shown = Vec<(Vec<String>, Vec<(String, Vec<(String, Fields)>)>)>;

fn shown(html: &str) -> Shown {
    let mut tables = Vec::new();
    for table in html.split("<th>Thrtle</th>").skip(1) {
        let head = table.split("</tr>").next().unwrap_or("");
        let headings: Vec<String> = head
            .split("<th>")
            .skip(1)
            .map(|h| h.trim_end_matches("</th>").trim().to_string())
            .collect();
        let mut rows = Vec::new();
        // Up to the next table's title rows, which are skipped.
        for row in table.split("<tr class=").skip(1) {
            if row.starts_with("\"titre\"") {
                break;
            }
            let cells = cells(row);
            let label = cells.first().copied().unwrap_or("");
            let kind = if label.contains("Frontend") {
                "frontend"
            } else if label.contains("Backend") {
                "backend"
            } else {
                "server"
            };
            let tail = cells.len().saturating_sub(headings.len());
            let modules = cells[tail..].iter().map(|c| module(c)).collect();
            rows.push((kind.to_string(), modules));
        }
        tables.push((headings, rows));
    }
    tables
}

#[test]
fn stats_show_modules_lists_the_modules_as_haproxy_does() {
    let config = |port: u16| {
        format!(
            "{DEFAULTS}
frontend stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /stats
    stats show-modules

backend app
    server s1 127.0.0.1:9
"
        )
    };
    let drive = |port: u16| {
        let url = format!("http://127.0.0.1:{port}/stats");
        // One HTTP/2 client connection (prior knowledge), for the h2 module's count.
        assert_eq!(curl(&["--http2-prior-knowledge", &url]).0, 200);
        let (code, html) = curl(&[&url]);
        assert_eq!(code, 200, "{html}");
        let (_, csv) = curl(&[&format!("{url};csv")]);
        (
            shown(&html),
            html,
            csv.lines().next().unwrap_or("").to_string(),
        )
    };
    let ((mine, html, csv_head), theirs) = both(config, drive);
    assert!(html.contains("<th colspan=3>Extra modules</th>"), "{html}");
    let names = |s: &Shown| -> Vec<Vec<String>> { s.iter().map(|t| t.0.clone()).collect() };
    assert_eq!(names(&mine), vec![vec!["ssl", "h2", "h1"]; 2], "{html}");
    // The frontend counts its client connections by protocol; the stats page's own
    // connections are among them.
    let count = |s: &Shown, module: &str| -> u64 {
        let frontend = &s[0]
            .1
            .iter()
            .find(|r| r.0 == "frontend")
            .expect("a frontend row")
            .1;
        let (_, fields) = frontend.iter().find(|m| m.0 == module).expect("the module");
        fields
            .iter()
            .find(|f| f.0 == "Total number of connections")
            .and_then(|f| f.1.replace(|c: char| !c.is_ascii_digit(), "").parse().ok())
            .unwrap_or(0)
    };
    assert!(count(&mine, "h1") >= 1 && count(&mine, "h2") >= 1, "{html}");
    // The page's CSV export keeps its columns: the option only changes the HTML page, in
    // hapee as in HAProxy (whose CSV lists its modules' fields with or without it).
    assert!(
        csv_head.ends_with(",agg_server_check_status,-,"),
        "{csv_head}"
    );
    if let Some((theirs, their_html, _)) = theirs {
        assert_eq!(names(&theirs), names(&mine), "{their_html}");
        // The same counts of what hapee counts: the prior-knowledge HTTP/2 connection came
        // as HTTP/1 on both sides, and is counted by both modules.
        for m in ["h1", "h2"] {
            assert_eq!(
                count(&theirs, m),
                count(&mine, m),
                "{m}: {their_html}\n{html}"
            );
        }
        // The same modules in the same rows, with the same counters: only the values differ
        // (hapee leaves blank what it does not count).
        let descs = |s: &Shown| -> Shown {
            let mut s = s.clone();
            let modules = s
                .iter_mut()
                .flat_map(|t| t.1.iter_mut())
                .flat_map(|r| r.1.iter_mut());
            modules
                .flat_map(|m| m.1.iter_mut())
                .for_each(|f| f.1.clear());
            s
        };
        assert_eq!(descs(&mine), descs(&theirs), "{html}\n{their_html}");
    }
}
