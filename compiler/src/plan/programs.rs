//! `program` sections: commands the master process runs beside its workers.

use crate::ir::Config;
use crate::registry::SectionKind;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct ProgramPlan {
    pub name: String,
    /// `command <path> [args…]`.
    pub command: Vec<String>,
    /// `option start-on-reload` (the default): a reload starts a new instance.
    pub start_on_reload: bool,
}

/// The program sections of a configuration that have a command.
pub fn lower(config: &Config) -> Vec<ProgramPlan> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Program)
        .filter_map(|s| {
            let mut p = ProgramPlan {
                name: s
                    .name
                    .as_ref()
                    .map_or(String::new(), |n| n.value.to_string()),
                command: Vec::new(),
                start_on_reload: true,
            };
            for d in &s.lines {
                match (d.keyword.as_str(), d.args.first().map(|a| a.as_str())) {
                    ("command", _) => p.command = d.args.iter().map(|a| a.to_string()).collect(),
                    ("option", Some("start-on-reload")) => {
                        p.start_on_reload = d.prefix.as_deref() != Some("no")
                    }
                    _ => {}
                }
            }
            (!p.command.is_empty()).then_some(p)
        })
        .collect()
}
