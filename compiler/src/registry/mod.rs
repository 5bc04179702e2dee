//! The keyword registry: one data row per HAProxy 2.7 keyword.
//!
//! Sections, global and proxy directives, bind and server options, rule actions, sample fetches
//! and converters. The parser, the checker, the language server, the anonymizer and the generated
//! docs all read these tables; nothing else hard-codes keyword knowledge.

use serde::Serialize;

mod actions;
pub mod arity;
mod binds;
pub mod capabilities;
pub mod ciphers;
mod directives;
mod first_word;
mod lookup;
pub mod openssl;
mod options;
mod samples;
mod sections;
mod servers;
mod suggest;
pub mod support;
mod usage;
mod values;
mod word_lists;
pub mod words;
mod x509;

pub use actions::ACTIONS;
pub use binds::BIND_OPTIONS;
pub use directives::{
    CHECK_OPTIONS, DIRECTIVES, NOT_IN_DEFAULTS, OPTION_SIDE_OF, REMOVED_MESSAGES, SIDE_HINTS,
    SIDE_OF,
};
pub use first_word::{first_word, pair_directive, FirstWord};
pub use lookup::*;
pub use options::OPTIONS;
pub use samples::{ACL_KEYWORDS, CONVERTERS, FETCHES};
pub use servers::SERVER_OPTIONS;
pub use suggest::{best_match, fingerprint_distance};
pub use usage::{usage_of, Usage, UsageArg, USAGES};
pub use values::{
    ValueDef, ACL_FLAGS, ACL_FLAGS_WITH_VALUE, ACL_INT_OPERATORS, BALANCE_ALGORITHMS,
    MATCH_METHODS, MODES, REDIRECT_CODES, REDIRECT_OPTIONS, REDIRECT_TYPES,
};
pub use words::{
    find_word, is_word_of, list_slot, option_choices, word_slot, KeywordWords, ListSlot, WordSlot,
    KEYWORD_WORDS,
};
pub use x509::{x509_error_code, x509_error_name, X509_ERRORS};

/// Lifecycle status of a keyword in HAProxy 2.7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Status {
    Stable,
    /// Needs `expose-experimental-directives` in `global`.
    Experimental,
    /// Still accepted; `replacement` says what to use instead.
    Deprecated {
        replacement: &'static str,
    },
    /// Rejected by HAProxy 2.7; `replacement` says what to use instead.
    Removed {
        since: &'static str,
        replacement: &'static str,
    },
}

/// The kinds of sections HAProxy 2.7 knows. Used as bit positions in [`Sections`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionKind {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Userlist,
    Peers,
    Mailers,
    NamespaceList,
    Resolvers,
    Ring,
    Cache,
    HttpErrors,
    LogForward,
    Program,
    FcgiApp,
}

impl SectionKind {
    pub const ALL: [SectionKind; 16] = [
        SectionKind::Global,
        SectionKind::Defaults,
        SectionKind::Frontend,
        SectionKind::Backend,
        SectionKind::Listen,
        SectionKind::Userlist,
        SectionKind::Peers,
        SectionKind::Mailers,
        SectionKind::NamespaceList,
        SectionKind::Resolvers,
        SectionKind::Ring,
        SectionKind::Cache,
        SectionKind::HttpErrors,
        SectionKind::LogForward,
        SectionKind::Program,
        SectionKind::FcgiApp,
    ];

    /// The keyword that opens the section.
    pub fn keyword(self) -> &'static str {
        match self {
            SectionKind::Global => "global",
            SectionKind::Defaults => "defaults",
            SectionKind::Frontend => "frontend",
            SectionKind::Backend => "backend",
            SectionKind::Listen => "listen",
            SectionKind::Userlist => "userlist",
            SectionKind::Peers => "peers",
            SectionKind::Mailers => "mailers",
            SectionKind::NamespaceList => "namespace_list",
            SectionKind::Resolvers => "resolvers",
            SectionKind::Ring => "ring",
            SectionKind::Cache => "cache",
            SectionKind::HttpErrors => "http-errors",
            SectionKind::LogForward => "log-forward",
            SectionKind::Program => "program",
            SectionKind::FcgiApp => "fcgi-app",
        }
    }

    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        // Called for every line: a match compiles to a length-then-bytes comparison.
        Some(match word {
            "global" => SectionKind::Global,
            "defaults" => SectionKind::Defaults,
            "frontend" => SectionKind::Frontend,
            "backend" => SectionKind::Backend,
            "listen" => SectionKind::Listen,
            "userlist" => SectionKind::Userlist,
            "peers" => SectionKind::Peers,
            "mailers" => SectionKind::Mailers,
            "namespace_list" => SectionKind::NamespaceList,
            "resolvers" => SectionKind::Resolvers,
            "ring" => SectionKind::Ring,
            "cache" => SectionKind::Cache,
            "http-errors" => SectionKind::HttpErrors,
            "log-forward" => SectionKind::LogForward,
            "program" => SectionKind::Program,
            "fcgi-app" => SectionKind::FcgiApp,
            _ => return None,
        })
    }

    /// Sections that are proxies (carry rules, servers or binds).
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            SectionKind::Defaults
                | SectionKind::Frontend
                | SectionKind::Backend
                | SectionKind::Listen
        )
    }
}

/// A set of [`SectionKind`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Sections(pub u32);

impl Sections {
    pub const NONE: Sections = Sections(0);
    pub const fn of(kind: SectionKind) -> Sections {
        Sections(1 << kind as u32)
    }
    pub const fn with(self, kind: SectionKind) -> Sections {
        Sections(self.0 | 1 << kind as u32)
    }
    pub const fn contains(self, kind: SectionKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }
    /// defaults, frontend, listen, backend.
    pub const PROXIES: Sections = Sections::of(SectionKind::Defaults)
        .with(SectionKind::Frontend)
        .with(SectionKind::Listen)
        .with(SectionKind::Backend);
    /// Sections with a frontend side: defaults, frontend, listen.
    pub const FRONT: Sections = Sections::of(SectionKind::Defaults)
        .with(SectionKind::Frontend)
        .with(SectionKind::Listen);
    /// Sections with a backend side: defaults, listen, backend.
    pub const BACK: Sections = Sections::of(SectionKind::Defaults)
        .with(SectionKind::Listen)
        .with(SectionKind::Backend);
}

/// The sample types of HAProxy's sample engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleType {
    Any,
    Bool,
    Sint,
    Addr,
    Ipv4,
    Ipv6,
    Str,
    Bin,
    Meth,
}

impl SampleType {
    /// Whether a sample of type `self` can feed an input expecting `to` (HAProxy's cast matrix).
    pub fn casts_to(self, to: SampleType) -> bool {
        use SampleType::*;
        match (self, to) {
            (_, Any) | (Any, _) => true,
            (a, b) if a == b => true,
            (Bool, Sint) | (Sint, Bool) => true,
            (Bool | Sint, Str | Bin) => true,
            (Sint, Addr | Ipv4 | Ipv6) => true,
            (Ipv4, Addr | Ipv6 | Sint | Str | Bin) => true,
            (Ipv6, Addr | Ipv4 | Str | Bin) => true,
            (Addr, Ipv4 | Ipv6 | Str | Bin) => true,
            (Str, Bool | Sint | Addr | Ipv4 | Ipv6 | Bin | Meth) => true,
            (Bin, Str) => true,
            (Meth, Str | Bin) => true,
            _ => false,
        }
    }
}

/// Types of the arguments of fetches and converters (HAProxy's `ARGT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgType {
    Sint,
    Str,
    /// A backend name (defaults to the current proxy where HAProxy allows it).
    Backend,
    Frontend,
    /// A stick-table name.
    Table,
    /// `backend/server` or a server of the current backend.
    Server,
    Userlist,
    /// A regular expression.
    Regex,
    /// A variable name `scope.name`.
    Var,
    Ipv4,
    Ipv6,
    Msk4,
    Msk6,
    /// A duration with a unit (`10s`).
    Time,
    /// A size with a unit (`16k`).
    Size,
    /// A protocol buffer field number path (`1.2.3`).
    PbufFieldNum,
    /// A map file (map converters).
    Map,
}

/// Argument list of a fetch or converter: the types in order and how many are mandatory.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ArgSpec {
    pub types: &'static [ArgType],
    pub mandatory: u8,
}

impl ArgSpec {
    pub const NONE: ArgSpec = ArgSpec {
        types: &[],
        mandatory: 0,
    };
}

/// Where a sample fetch can be used (a summary of HAProxy's `SMP_USE_*` bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FetchScope {
    /// Available everywhere (constants, environment, internal state).
    Internal,
    /// Layer 4 on the client side: available from `tcp-request connection` on.
    L4Client,
    /// Layer 5 (TLS/session) on the client side: from `tcp-request session` on.
    L5Client,
    /// Request contents: `tcp-request content`, `http-request` and later.
    L6Request,
    /// HTTP request: `http-request` and later.
    L7Request,
    /// Response contents: `tcp-response content`, `http-response`.
    L6Response,
    /// HTTP response: `http-response`, `http-after-response`.
    L7Response,
    /// Server side connection (backend).
    L4Server,
    /// Only in logs (and `http-after-response`).
    Log,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct FetchDef {
    pub name: &'static str,
    pub args: ArgSpec,
    pub output: SampleType,
    pub scope: FetchScope,
    pub doc: &'static str,
    pub status: Status,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct ConverterDef {
    pub name: &'static str,
    pub args: ArgSpec,
    pub input: SampleType,
    pub output: SampleType,
    pub doc: &'static str,
    pub status: Status,
}

/// A section directive (first words of a line).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DirectiveDef {
    /// One word (`maxconn`) or two for the keywords HAProxy documents as pairs (`timeout client`).
    pub name: &'static str,
    pub sections: Sections,
    /// Accepts the `no` prefix.
    pub negatable: bool,
    /// In a defaults section, only a named one may hold it.
    pub named_defaults_only: bool,
    pub status: Status,
    pub doc: &'static str,
}

/// An `option <name>` of proxy sections.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OptionDef {
    pub name: &'static str,
    pub sections: Sections,
    pub negatable: bool,
    pub status: Status,
    pub doc: &'static str,
}

/// An option of `bind` lines and `stats socket`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BindOptionDef {
    pub name: &'static str,
    /// How many words after the option name are its value.
    pub values: u8,
    pub status: Status,
    pub doc: &'static str,
}

/// An option of `server`, `default-server` and `server-template` lines.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ServerOptionDef {
    pub name: &'static str,
    /// Value words after the name (`source` also takes optional `usesrc`/`interface` pairs).
    pub values: u8,
    /// Also valid on `default-server` lines.
    pub default_server: bool,
    pub doc: &'static str,
}

/// Which rule list a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleSet {
    HttpRequest,
    HttpResponse,
    HttpAfterResponse,
    TcpRequestConnection,
    TcpRequestSession,
    TcpRequestContent,
    TcpResponseContent,
    HttpCheck,
    TcpCheck,
}

impl RuleSet {
    pub fn keyword(self) -> &'static str {
        match self {
            RuleSet::HttpRequest => "http-request",
            RuleSet::HttpResponse => "http-response",
            RuleSet::HttpAfterResponse => "http-after-response",
            RuleSet::TcpRequestConnection => "tcp-request connection",
            RuleSet::TcpRequestSession => "tcp-request session",
            RuleSet::TcpRequestContent => "tcp-request content",
            RuleSet::TcpResponseContent => "tcp-response content",
            RuleSet::HttpCheck => "http-check",
            RuleSet::TcpCheck => "tcp-check",
        }
    }
}

/// A rule action.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ActionDef {
    pub set: RuleSet,
    pub name: &'static str,
    /// Matches as a prefix (`track-sc0`, `set-var(txn.x)`, `sc-inc-gpc0(1)`).
    pub prefix: bool,
    /// Stops rule evaluation when it applies (allow, deny, return, redirect…).
    pub is_final: bool,
    pub status: Status,
    pub doc: &'static str,
}

/// An ACL keyword that is a fetch with a predefined match method (`path_beg` = `path` + `-m beg`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AclKeywordDef {
    pub name: &'static str,
    pub fetch: &'static str,
    pub method: &'static str,
}
