//! What `hapee-lb route` cannot know offline, said beside its answer: stick tables start empty
//! (no earlier request, no peer's entries), so a counter, a tracked entry or a table lookup that
//! a rule of the request's frontend or backend reads sees this request alone, where the
//! running proxy would see the traffic before it.

use hapee_compiler::check::Compilation;
use hapee_compiler::ir::Proxy;
use hapee_compiler::registry;
use hapee_compiler::Span;

/// The stick-table fetch or converter named in `word` (`sc_http_req_rate(0)`,
/// `sc0_conn_cur`, `src_get_gpc0`, `table_cnt`, `…,table_http_req_rate(t)`, `in_table(t)`).
pub fn table_read(word: &str) -> Option<&str> {
    word.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .find(|name| reads_table(name))
}

fn reads_table(name: &str) -> bool {
    // `sc_…` and `scN_…`: the tracked entry's counters.
    let numbered = name.strip_prefix("sc").and_then(|r| {
        let (n, _) = r.split_once('_')?;
        n.bytes().all(|b| b.is_ascii_digit()).then_some(())
    });
    if numbered.is_some() {
        return registry::fetch(name).is_some();
    }
    // `src_…`: the client address's entry, for the counters `sc_…` reads too (not
    // `src_port`, `src_is_local`).
    if let Some(counter) = name.strip_prefix("src_") {
        return registry::fetch(&format!("sc_{counter}")).is_some();
    }
    (name.starts_with("table_") || name == "in_table")
        && (registry::fetch(name).is_some() || registry::converter(name).is_some())
}

/// The table reads of the proxies named (the request's frontend and backend), each with its
/// place: ACL declarations, rules (their arguments and conditions) and `use_backend` lines.
pub fn table_reads(c: &Compilation, proxies: &[&str]) -> Vec<(Span, String)> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for name in proxies {
        let Some(p) = (c.config.proxies.iter())
            .find(|p| p.name.as_ref().is_some_and(|n| n.value.as_str() == *name))
        else {
            continue;
        };
        if seen.contains(&(p as *const Proxy)) {
            continue;
        }
        seen.push(p as *const Proxy);
        let words = (p.acls.iter().flat_map(|a| a.words.iter()))
            .chain(
                (p.rules.iter().chain(&p.redirects))
                    .flat_map(|r| r.args.iter().chain(&r.condition)),
            )
            .chain(
                (p.use_backends.iter())
                    .flat_map(|u| std::iter::once(&u.target).chain(&u.condition)),
            );
        for w in words {
            if let Some(read) = table_read(w.value.as_str()) {
                out.push((w.span, read.to_string()));
            }
        }
    }
    out.sort_by_key(|(s, _)| (s.file.0, s.start));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reads_are_told_from_other_fetches() {
        assert_eq!(table_read("sc_http_req_rate(0)"), Some("sc_http_req_rate"));
        assert_eq!(table_read("sc0_conn_cur"), Some("sc0_conn_cur"));
        assert_eq!(table_read("src_get_gpc0(t)"), Some("src_get_gpc0"));
        assert_eq!(
            table_read("req.hdr(x),table_http_req_rate(t)"),
            Some("table_http_req_rate")
        );
        assert_eq!(table_read("%[src,in_table(t)]"), Some("in_table"));
        assert_eq!(table_read("src_port"), None);
        assert_eq!(table_read("src_is_local"), None);
        assert_eq!(table_read("req.hdr(host)"), None);
    }
}
