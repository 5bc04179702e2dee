//! Reference documentation generated from the code table and the keyword registry, so the docs
//! cannot drift from the code (`hapee-lb docs --write docs/`; a test fails when they are stale).

use crate::codes::{Origin, RULES};
use crate::registry::support;
use crate::registry::{self, SectionKind, Status};
use std::fmt::Write as _;

fn status(s: Status) -> String {
    match s {
        Status::Stable => "stable".into(),
        Status::Experimental => "experimental".into(),
        Status::Deprecated { replacement } => format!("deprecated (use {replacement})"),
        Status::Removed {
            since,
            replacement: "",
        } => format!("removed in {since}"),
        Status::Removed { since, replacement } => format!("removed in {since} (use {replacement})"),
    }
}

/// `docs/diagnostics.md`: every code with its rule, severity, origin and explanation.
pub fn diagnostics_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\nGenerated from `compiler/src/codes.rs` by `hapee-lb docs --write docs/`; do not edit.\n\n\
         Codes: `E` errors and `W` warnings that HAProxy 2.7 reports too (same verdict, same wording), `L` lints of hapee's own,\n\
         `U` features the runtime does not support yet. `hapee-lb explain CODE` prints one entry.\n\n\
         | code | name | severity | origin | summary |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        let origin = match r.origin {
            Origin::Haproxy => "HAProxy",
            Origin::Lint => "lint",
            Origin::Runtime => "runtime",
        };
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {:?} | {origin} | {} |",
            r.code,
            r.code.to_lowercase(),
            r.name,
            r.severity,
            r.summary
        );
    }
    for r in RULES {
        let _ = write!(
            out,
            "\n## {}\n\n`{}`: {}\n\n{}\n",
            r.code, r.name, r.summary, r.explanation
        );
    }
    out
}

/// `docs/keywords.md`: every keyword of the registry with where it goes, its status and doc.
pub fn keywords_markdown() -> String {
    let mut out = String::from("# Keywords\n\nGenerated from the keyword registry (`compiler/src/registry/`) by `hapee-lb docs --write docs/`; do not edit.\n");
    let _ = writeln!(out, "\n{} entries in all.\n\n## Section directives\n\n| keyword | sections | status | runtime | doc |\n|---|---|---|---|---|", registry::row_count());
    for d in registry::DIRECTIVES {
        let sections: Vec<&str> = SectionKind::ALL
            .iter()
            .filter(|k| d.sections.contains(**k))
            .map(|k| k.keyword())
            .collect();
        let first = d.name.split(' ').next().unwrap_or(d.name);
        let runtime = SectionKind::ALL
            .iter()
            .filter(|k| d.sections.contains(**k))
            .any(|k| support::section_keywords(k.keyword()).contains(&first));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            d.name,
            sections.join(", "),
            status(d.status),
            yes(runtime),
            d.doc
        );
    }
    out.push_str("\n## Options (`option <name>`)\n\n| option | status | runtime | doc |\n|---|---|---|---|\n");
    for o in registry::OPTIONS {
        let runtime = yes(support::OPTIONS.contains(&o.name));
        let _ = writeln!(
            out,
            "| `{}` | {} | {runtime} | {} |",
            o.name,
            status(o.status),
            o.doc
        );
    }
    out.push_str("\n## Bind options\n\n| option | values | status | doc |\n|---|---|---|---|\n");
    for b in registry::BIND_OPTIONS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            b.name,
            b.values,
            status(b.status),
            b.doc
        );
    }
    out.push_str(
        "\n## Server options\n\n| option | values | default-server | doc |\n|---|---|---|---|\n",
    );
    for s in registry::SERVER_OPTIONS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            s.name,
            s.values,
            if s.default_server { "yes" } else { "no" },
            s.doc
        );
    }
    out.push_str("\n## Rule actions\n\n| rule set | action | final | status | runtime | doc |\n|---|---|---|---|---|---|\n");
    for a in registry::ACTIONS {
        let name = if a.prefix {
            format!("{}…", a.name)
        } else {
            a.name.to_string()
        };
        let _ = writeln!(
            out,
            "| {} | `{name}` | {} | {} | {} | {} |",
            a.set.keyword(),
            if a.is_final { "yes" } else { "" },
            status(a.status),
            yes(support::action_supported(a.name)),
            a.doc
        );
    }
    out.push_str(
        "\n## Sample fetches\n\n| fetch | arguments | output | runtime | doc |\n|---|---|---|---|---|\n",
    );
    for f in registry::FETCHES {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:?} | {} | {} |",
            f.name,
            args(&f.args),
            f.output,
            yes(support::FETCHES.contains(&f.name)),
            f.doc
        );
    }
    out.push_str("\n## Converters\n\n| converter | arguments | input | output | runtime | doc |\n|---|---|---|---|---|---|\n");
    for c in registry::CONVERTERS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:?} | {:?} | {} | {} |",
            c.name,
            args(&c.args),
            c.input,
            c.output,
            yes(support::CONVERTERS.contains(&c.name)),
            c.doc
        );
    }
    out.push_str("\n## ACL keywords\n\n| keyword | fetch | match |\n|---|---|---|\n");
    for a in registry::ACL_KEYWORDS {
        let _ = writeln!(out, "| `{}` | `{}` | {} |", a.name, a.fetch, a.method);
    }
    out
}

/// The runtime-support column.
fn yes(supported: bool) -> &'static str {
    if supported {
        "yes"
    } else {
        ""
    }
}

fn args(spec: &registry::ArgSpec) -> String {
    if spec.types.is_empty() {
        return String::new();
    }
    spec.types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i < spec.mandatory as usize {
                format!("{t:?}")
            } else {
                format!("[{t:?}]")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
        .to_lowercase()
}
