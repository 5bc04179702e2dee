//! Conditions of an HTTP proxy's rules that read a connection's raw bytes (layer 6 fetches such
//! as `req.len`, `req.payload` or `res.len`): HAProxy ignores those samples in HTTP mode and
//! warns once the configuration is read, rule by rule (`warnif_tcp_http_cond`).

use super::build::location;
use super::model::*;
use crate::diagnostic::{Diagnostic, HaproxyForm, Severity};
use crate::expr::condition::{self, CondTerm};
use crate::registry::capabilities;
use crate::source::{SourceDb, Span};
use rustc_hash::FxHashMap;
use std::cell::{OnceCell, RefCell};

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

pub(super) fn check(db: &SourceDb, p: &Proxy, acls: &AclNames, out: &mut Vec<Diagnostic>) {
    if p.disabled || p.effective_mode() != Mode::Http {
        return;
    }
    let predefined = |name: &str| LAYER6_PREDEFINED.contains(&name);
    let reads_layer6 =
        |cond: &[Spanned<Text>]| acls.condition_reads(cond, capabilities::LAYER6, &predefined);
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
    let own = p.own_directives().filter(|d| d.prefix.is_none());
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

/// A proxy's ACL names with what their fetches read, gathered at the first question and then
/// shared by every check of the proxy that asks (W284, W414, W256): a proxy of thousands of
/// rules each naming its own ACL would otherwise walk every declaration for every rule, and
/// each check would gather them again.
pub(super) struct AclNames<'a> {
    proxy: &'a Proxy,
    /// Each declared name with the sources its declarations' fetches read (bits of
    /// `capabilities::fetch_sources`, none for a fetch not in the table), or'ed together.
    sources: OnceCell<FxHashMap<&'a str, u32>>,
    /// The last anonymous ACL's criterion asked about and its sources: a proxy's inline ACLs
    /// mostly repeat one criterion (`{ hdr(host) -i … }` on each switching rule).
    last_criterion: RefCell<(Text, u32)>,
}

impl<'a> AclNames<'a> {
    /// `p`'s ACL names, read when first asked about.
    pub(super) fn new(p: &'a Proxy) -> Self {
        AclNames {
            proxy: p,
            sources: OnceCell::new(),
            last_criterion: RefCell::new((Text::default(), 0)),
        }
    }

    fn sources(&self) -> &FxHashMap<&'a str, u32> {
        self.sources.get_or_init(|| {
            let mut map = FxHashMap::default();
            map.reserve(self.proxy.acls.len());
            // Large configurations repeat one criterion over many ACLs (`hdr(host)`…).
            let mut last: Option<(&str, u32)> = None;
            for a in &self.proxy.acls {
                let criterion = a.words.first().map_or("", |w| w.value.as_str());
                let read = match last {
                    Some((text, read)) if text == criterion => read,
                    _ => criterion_sources(criterion),
                };
                last = Some((criterion, read));
                *map.entry(a.name.value.as_str()).or_insert(0) |= read;
            }
            map
        })
    }

    /// Whether any ACL of the condition, negated or not, reads one of the sources `what`
    /// (bits of `capabilities::fetch_sources`); `predefined` tells HAProxy's own ACLs that do
    /// (unless the proxy declares one of the same name).
    pub(super) fn condition_reads(
        &self,
        cond: &[Spanned<Text>],
        what: u32,
        predefined: &dyn Fn(&str) -> bool,
    ) -> bool {
        let sources = self.sources();
        let named = |name: &str| match sources.get(name) {
            Some(read) => read & what != 0,
            None => predefined(name),
        };
        // Only a word naming a matching ACL, one of HAProxy's, or an anonymous ACL whose
        // criterion matches (the word after its `{`) can make it true: most conditions are
        // answered without being parsed.
        let may = cond.iter().enumerate().any(|(k, w)| {
            let name = w.value.trim_start_matches('!');
            if name == "{" {
                return cond.get(k + 1).is_some_and(|next| {
                    next.value.starts_with(['!', '{'])
                        || self.criterion_sources(&next.value) & what != 0
                });
            }
            name.starts_with('{') || named(name)
        });
        if !may {
            return false;
        }
        let words: Vec<(Span, &str)> = cond.iter().map(|w| (w.span, w.value.as_str())).collect();
        let Ok(parsed) = condition::parse_parts(&words) else {
            return false;
        };
        parsed.alternatives.iter().flatten().any(|term| match term {
            CondTerm::Named(used) => named(used.name.as_str()),
            CondTerm::Anonymous(anon) => anon
                .words
                .first()
                .is_some_and(|w| self.criterion_sources(&w.value) & what != 0),
        })
    }

    /// [`criterion_sources`], kept for the last criterion asked about.
    fn criterion_sources(&self, word: &str) -> u32 {
        let mut last = self.last_criterion.borrow_mut();
        if last.0 != word || last.0.is_empty() {
            *last = (Text::from(word), criterion_sources(word));
        }
        last.1
    }
}

/// The sources an ACL criterion (a keyword with its arguments and converters) fetches from;
/// none for a fetch not in the table.
fn criterion_sources(word: &str) -> u32 {
    let keyword = word.split(['(', ',']).next().unwrap_or(word);
    let fetch = crate::registry::acl_keyword(keyword).map_or(keyword, |k| k.fetch);
    capabilities::fetch_sources(fetch).unwrap_or(0)
}
