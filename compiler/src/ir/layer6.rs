//! Conditions of an HTTP proxy's rules that read a connection's raw bytes (layer 6 fetches such
//! as `req.len`, `req.payload` or `res.len`): HAProxy ignores those samples in HTTP mode and
//! warns once the configuration is read, rule by rule (`warnif_tcp_http_cond`).

use super::build::location;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::expr::condition::{self, CondTerm};
use crate::source::{SourceDb, Span};
use std::collections::HashSet;

/// HAProxy's own ACLs whose fetch reads the request's raw bytes.
pub(super) const LAYER6_PREDEFINED: [&str; 2] = ["REQ_CONTENT", "RDP_COOKIE"];

/// Whether `name` is one of HAProxy's own ACLs whose fetch reads the HTTP request: all but
/// the constant ones, the client's address, the end of the inspect delay and the two reading
/// raw bytes.
pub(super) fn http_predefined(name: &str) -> bool {
    super::exprs::BUILTIN_ACLS.contains(&name)
        && !matches!(name, "TRUE" | "FALSE" | "LOCALHOST" | "WAIT_END")
        && !LAYER6_PREDEFINED.contains(&name)
}

pub(super) fn check(db: &SourceDb, p: &Proxy, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.effective_mode() != Mode::Http {
        return;
    }
    let acls = AclNames::of(p, crate::registry::capabilities::reads_layer6);
    let predefined = |name: &str| LAYER6_PREDEFINED.contains(&name);
    let reads_layer6 = |cond: &[Spanned<Text>]| acls.condition_reads(cond, &predefined);
    let mut warn = |span: Span| {
        out.push(
            Diagnostic::new(
                "W284",
                format!(
                    "Proxy '{}': L6 sample fetches ignored on HTTP proxies (declared at {}).",
                    p.name_str(),
                    location(db, span)
                ),
            )
            .severity(Severity::Warning)
            .form(HaproxyForm::Bare)
            .at(span)
            .label("reads the connection's raw bytes, which an HTTP proxy does not keep")
            .help("read the HTTP message instead (req.body, req.hdr(), …), or use this rule in a 'mode tcp' proxy"),
        );
    };
    // HAProxy's order: the switching rules (dynamic ones aside), then each rule list.
    for rule in p.use_backends.iter().filter(|u| !u.dynamic) {
        if reads_layer6(&rule.condition) {
            warn(rule.span);
        }
    }
    // `use-server` rules naming a server (not a string to evaluate), then `stick on` and
    // `stick match` and `stick store-request` rules (not `store-response`).
    let own = p.directives.iter().filter(|d| {
        d.prefix.is_none() && (d.span.file, d.span.start) > (p.header.file, p.header.start)
    });
    let use_servers = own
        .clone()
        .filter(|d| d.keyword == "use-server" && d.args.first().is_some_and(|t| !t.contains("%[")));
    let sticks = own
        .filter(|d| d.keyword == "stick" && d.args.first().is_some_and(|w| w != "store-response"));
    for line in use_servers.chain(sticks) {
        let cond = line.args.iter().position(|w| w == "if" || w == "unless");
        let words: Vec<Spanned<Text>> = cond
            .map_or(&[][..], |at| &line.args[at..])
            .iter()
            .map(|w| Spanned::new(w.clone(), line.span))
            .collect();
        if reads_layer6(&words) {
            warn(line.span);
        }
    }
    const LISTS: [RuleSet; 7] = [
        RuleSet::TcpRequestConnection,
        RuleSet::TcpRequestSession,
        RuleSet::TcpRequestContent,
        RuleSet::TcpResponseContent,
        RuleSet::HttpRequest,
        RuleSet::HttpResponse,
        RuleSet::HttpAfterResponse,
    ];
    for set in LISTS {
        for rule in p.rules.iter().filter(|r| r.set == set) {
            if reads_layer6(&rule.condition) {
                warn(rule.span);
            }
        }
    }
}

/// A proxy's ACL names, read once: a proxy of thousands of rules each naming its own ACL
/// would otherwise walk every declaration for every rule.
pub(super) struct AclNames<'a> {
    declared: HashSet<&'a str>,
    /// Names with at least one declaration whose fetch passes the test.
    matching: HashSet<&'a str>,
    /// The test, on a fetch's name.
    reads: fn(&str) -> bool,
}

impl<'a> AclNames<'a> {
    /// The names of `p`'s ACLs, and those whose fetch passes `reads`.
    pub(super) fn of(p: &'a Proxy, reads: fn(&str) -> bool) -> Self {
        let mut names = AclNames {
            declared: HashSet::with_capacity(p.acls.len()),
            matching: HashSet::new(),
            reads,
        };
        for a in &p.acls {
            let name = a.name.value.as_str();
            names.declared.insert(name);
            if a.words.first().is_some_and(|w| names.criterion(&w.value)) {
                names.matching.insert(name);
            }
        }
        names
    }

    /// Whether an ACL criterion (a keyword with its arguments and converters) fetches what
    /// the test looks for.
    fn criterion(&self, word: &str) -> bool {
        let keyword = word.split(['(', ',']).next().unwrap_or(word);
        let fetch = crate::registry::acl_keyword(keyword).map_or(keyword, |k| k.fetch);
        (self.reads)(fetch)
    }

    /// Whether any ACL of the condition, negated or not, passes the test; `predefined` tells
    /// HAProxy's own ACLs that do (unless the proxy declares one of the same name).
    pub(super) fn condition_reads(
        &self,
        cond: &[Spanned<Text>],
        predefined: &dyn Fn(&str) -> bool,
    ) -> bool {
        // Only a word naming a matching ACL, one of HAProxy's, or an anonymous ACL can make it
        // true: most conditions are answered without being parsed.
        let may = cond.iter().any(|w| {
            let name = w.value.trim_start_matches('!');
            name.starts_with('{')
                || self.matching.contains(name)
                || (predefined(name) && !self.declared.contains(name))
        });
        if !may {
            return false;
        }
        let words: Vec<(Span, &str)> = cond.iter().map(|w| (w.span, w.value.as_str())).collect();
        let Ok(parsed) = condition::parse_parts(&words) else {
            return false;
        };
        parsed.alternatives.iter().flatten().any(|term| match term {
            CondTerm::Named(used) => {
                let name = used.name.as_str();
                if self.declared.contains(name) {
                    self.matching.contains(name)
                } else {
                    predefined(name)
                }
            }
            CondTerm::Anonymous(anon) => {
                anon.words.first().is_some_and(|w| self.criterion(&w.value))
            }
        })
    }
}
