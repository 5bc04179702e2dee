//! Conditions whose ACLs use fetches that do not exist where the rule runs (W254): request
//! samples are gone by the time response rules run, response samples do not exist yet in
//! request rules, and so on. HAProxy evaluates such an ACL as never matching and `haproxy -c`
//! warns; the messages are its own (src/cfgparse.c, `warnif_cond_conflicts`).

use super::build::Builder;
use super::model::*;
use crate::diagnostic::{Diagnostic, Severity};
use crate::expr::condition::{self, CondTerm};
use crate::registry::capabilities::{fetch_places, place_name};
use crate::source::Span;

/// The kind of rule a condition belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// `http-request` rules and `redirect`.
    HttpRequest,
    /// `http-response` and `http-after-response` rules.
    HttpResponse,
    /// `use_backend`.
    UseBackend,
    /// `use-server`, `stick on` and `stick match`.
    UseServer,
    /// `stick store-response`.
    StickStore,
}

impl Place {
    /// HAProxy's check point bits for this place in a section with these sides.
    fn bits(self, frontend: bool, backend: bool) -> u32 {
        use crate::registry::capabilities::at::*;
        let side =
            |fe: u32, be: u32| (if frontend { fe } else { 0 }) | (if backend { be } else { 0 });
        match self {
            Place::HttpRequest => side(FE_HRQ_HDR, BE_HRQ_HDR),
            Place::HttpResponse => side(FE_HRS_HDR, BE_HRS_HDR),
            Place::UseBackend => FE_SET_BCK,
            Place::UseServer => BE_SET_SRV,
            Place::StickStore => BE_STO_RUL,
        }
    }
}

/// The keyword of an ACL criterion as HAProxy names it (no arguments, no converters), and
/// where its fetch works; `None` for a fetch outside HAProxy's table (Lua, unknown).
fn criterion(word: &str) -> Option<(&str, u32)> {
    let keyword = word.split(['(', ',']).next().unwrap_or(word);
    let fetch = crate::registry::acl_keyword(keyword).map_or(keyword, |k| k.fetch);
    Some((keyword, fetch_places(fetch)?))
}

/// One ACL of a condition: what the warning calls it, where it is, and its expressions.
struct Acl<'a> {
    name: Option<&'a str>,
    span: Span,
    /// Each expression's keyword and places.
    exprs: Vec<(&'a str, u32)>,
}

/// Warns when the condition `cond` of a rule at `place` in section `index` cannot match;
/// `parsed` is the condition as [`super::exprs::condition`] parsed it (`None` when it did not).
pub(super) fn check(
    b: &mut Builder,
    index: usize,
    cond: &[Spanned<Text>],
    parsed: Option<&condition::Condition>,
    place: Place,
) {
    // Only a warning comes of it.
    if !b.warnings {
        return;
    }
    let (Some(parsed), Some(first)) = (parsed, cond.first()) else {
        return;
    };
    let proxy = &b.config.proxies[index];
    let (frontend, backend) = match proxy.kind {
        ProxyKind::Frontend => (true, false),
        ProxyKind::Backend => (false, true),
        ProxyKind::Listen | ProxyKind::Defaults => (true, true),
    };
    let place = place.bits(frontend, backend);
    let mut acls = Vec::new();
    for term in parsed.alternatives.iter().flatten() {
        let acl = match term {
            CondTerm::Named(used) => {
                let exprs: Option<Vec<(&str, u32)>> = b
                    .in_proxy
                    .acl_decls
                    .get(used.name.as_str())
                    .into_iter()
                    .flat_map(super::build::AclPlaces::iter)
                    .map(|i| {
                        let a = &proxy.acls[i];
                        a.words.first().and_then(|w| criterion(&w.value))
                    })
                    .collect();
                Acl {
                    name: Some(&used.name),
                    span: used.span,
                    exprs: exprs.unwrap_or_default(),
                }
            }
            CondTerm::Anonymous(anon) => Acl {
                name: None,
                span: anon.span,
                exprs: anon
                    .words
                    .first()
                    .and_then(|w| criterion(&w.value))
                    .into_iter()
                    .collect(),
            },
        };
        // ACLs HAProxy predefines, or with a fetch outside the table, are not judged.
        if !acl.exprs.is_empty() {
            acls.push(acl);
        }
    }
    let where_name = place_name(place);
    // First an ACL that can never match, then one with a keyword that cannot.
    let never = acls
        .iter()
        .find(|a| a.exprs.iter().fold(0, |v, (_, p)| v | p) & place == 0);
    let message = match never {
        Some(Acl {
            name: Some(name), ..
        }) => format!("acl '{name}' will never match because it only involves keywords that are incompatible with '{where_name}'"),
        Some(Acl { name: None, exprs, .. }) => format!("anonymous acl will never match because it uses keyword '{}' which is incompatible with '{where_name}'", exprs[0].0),
        None => {
            let Some((acl, keyword)) = acls.iter().find_map(|a| {
                a.exprs
                    .iter()
                    .find(|(_, p)| p & place == 0)
                    .map(|(k, _)| (a, *k))
            }) else {
                return;
            };
            match acl.name {
                Some(name) => format!("acl '{name}' involves keywords '{keyword}' which is incompatible with '{where_name}'"),
                None => format!("anonymous acl involves keyword '{keyword}' which is incompatible with '{where_name}'"),
            }
        }
    };
    let span = never.map_or_else(
        || {
            acls.iter()
                .find(|a| a.exprs.iter().any(|(_, p)| p & place == 0))
                .map_or(first.span, |a| a.span)
        },
        |a| a.span,
    );
    b.push(
        Diagnostic::new("W254", message)
            .at(span)
            .severity(Severity::Warning),
    );
}
