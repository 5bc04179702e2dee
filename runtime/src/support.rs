//! What the runtime implements lives in the compiler's registry, the one table of keywords;
//! what its compilers accept, [`Compilers`] answers for `hapee_compiler::refusals`.

pub use hapee_compiler::registry::support::*;

use hapee_compiler::plan;

/// The runtime's own compilers, as the compiler's refusal walk asks them: the code that runs
/// at start decides what `check` reports.
pub struct Compilers;

impl hapee_compiler::refusals::RuntimeCompilers for Compilers {
    type Acls = crate::acl::AclSet;

    fn source(&self, words: &[String]) -> Result<(), String> {
        crate::upstream::dial::source_of(words).map(drop)
    }

    fn log_target(&self, target: &plan::LogTarget) -> Result<(), String> {
        crate::log::Sink::open(target, "")
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn builtin_rings(&self) -> &'static [&'static str] {
        &[crate::rings::BUF0]
    }

    fn server_tls(&self, tls: &plan::tls::ServerTls) -> Result<(), String> {
        crate::tls::client::ServerTlsConfig::build(tls, &mut Vec::new()).map(drop)
    }

    fn fcgi_app(&self, app: &plan::fcgi::FcgiAppPlan) -> Result<(), String> {
        crate::upstream::fcgi::App::compile(app).map(drop)
    }

    fn acls(&self, acls: &[plan::Acl]) -> Result<Self::Acls, String> {
        crate::acl::AclSet::compile(acls).map_err(|e| e.0)
    }

    fn rule(&self, rule: &plan::Rule, acls: &Self::Acls) -> Result<(), String> {
        crate::rules::compile(std::slice::from_ref(rule), acls, None)
            .map(drop)
            .map_err(|e| e.0)
    }

    fn condition(&self, words: &[String], acls: &Self::Acls) -> Result<(), String> {
        crate::acl::Condition::compile(words, acls)
            .map(drop)
            .map_err(|e| e.0)
    }

    fn log_format(&self, text: &str) -> Result<(), String> {
        crate::logfmt::Format::parse(text)
            .map(drop)
            .map_err(|e| e.0)
    }

    fn sample(&self, text: &str) -> Result<(), String> {
        crate::sample::Expr::parse(text).map(drop).map_err(|e| e.0)
    }
}
