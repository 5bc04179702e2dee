//! Types of the configuration model. Every value remembers the span it came from.

use crate::registry::SectionKind;
use crate::source::Span;
use crate::syntax::Word;
use serde::Serialize;
pub use thin_vec::ThinVec;

/// Short text stored inline (most names and words fit in 24 bytes), so the model allocates little.
pub type Text = compact_str::CompactString;

/// Pushes onto one of a proxy's lists, which most proxies keep short: the first item gets room
/// for itself only (an empty list otherwise takes room for four), then the room doubles. Large
/// configurations keep thousands of such lists.
pub fn push_short<T>(list: &mut ThinVec<T>, item: T) {
    if list.capacity() == 0 {
        list.reserve_exact(1);
    }
    list.push(item);
}

/// A list a proxy usually takes whole from its defaults section (its timeouts): shared with the
/// defaults section until one of them adds to it, when the one adding gets its own copy.
/// Thousands of proxies under one defaults section then hold one list, not a copy each.
#[derive(Clone)]
pub struct SharedList<T>(Option<std::sync::Arc<ThinVec<T>>>);

impl<T> SharedList<T> {
    pub fn new() -> Self {
        SharedList(None)
    }
}

impl<T> Default for SharedList<T> {
    fn default() -> Self {
        SharedList::new()
    }
}

impl<T: Clone> SharedList<T> {
    /// Adds `item` (see [`push_short`]), copying the list first if another proxy holds it.
    pub fn push(&mut self, item: T) {
        let list = self.0.get_or_insert_with(Default::default);
        push_short(std::sync::Arc::make_mut(list), item);
    }

    /// The items, to change in place (copied first if another proxy holds them).
    pub fn items_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Some(list) => std::sync::Arc::make_mut(list).as_mut_slice(),
            None => &mut [],
        }
    }
}

impl<T> std::ops::Deref for SharedList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], |list| list)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for SharedList<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Serialize> Serialize for SharedList<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl Spanned<Text> {
    pub fn from_word(w: &Word) -> Self {
        Spanned {
            value: w.value.clone(),
            span: w.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Tcp,
    Http,
    Spop,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
            Mode::Spop => "spop",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyKind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn from_section(kind: SectionKind) -> Option<ProxyKind> {
        match kind {
            SectionKind::Defaults => Some(ProxyKind::Defaults),
            SectionKind::Frontend => Some(ProxyKind::Frontend),
            SectionKind::Backend => Some(ProxyKind::Backend),
            SectionKind::Listen => Some(ProxyKind::Listen),
            _ => None,
        }
    }

    /// Whether it accepts connections (HAProxy's `PR_CAP_FE`).
    pub fn has_frontend(self) -> bool {
        matches!(
            self,
            ProxyKind::Frontend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }

    /// Whether it forwards to servers (HAProxy's `PR_CAP_BE`).
    pub fn has_backend(self) -> bool {
        matches!(
            self,
            ProxyKind::Backend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }

    /// The word HAProxy uses in messages (`proxy_type_str`).
    pub fn type_str(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "proxy",
        }
    }

    pub fn section_keyword(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
}

/// A set of thread numbers (1-based bits), as written on a `bind … thread` argument.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThreadSpec {
    /// 0 for an absolute set, else the 1-based thread group.
    pub group: u32,
    /// Bit `n-1` set for thread `n` (relative to the group when `group != 0`).
    pub mask: u64,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bind {
    /// The address word as written (`:80`, `quic4@:443`, `/run/x.sock`).
    pub address: Spanned<Text>,
    /// The whole line.
    pub span: Span,
    /// Every option word after the address, in order (flags and their values).
    pub options: ThinVec<Spanned<Text>>,
    pub thread: Option<ThreadSpec>,
    pub ssl: bool,
    pub name: Option<String>,
}

impl Bind {
    /// Whether one of its addresses is a QUIC one (`quic4@`, `quic6@`), which brings its own
    /// multiplexer and turns TLS on.
    pub fn is_quic(&self) -> bool {
        self.address
            .value
            .split(',')
            .any(|a| a.starts_with("quic4@") || a.starts_with("quic6@"))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Server {
    pub name: Spanned<Text>,
    pub address: Option<Spanned<Text>>,
    pub span: Span,
    pub options: ThinVec<Spanned<Text>>,
    pub check: bool,
    pub backup: bool,
    pub disabled: bool,
    pub weight: Option<u32>,
    pub maxconn: Option<u32>,
    /// `server-template` prefix lines produce servers named `<prefix><n>`.
    pub template: Option<(u32, u32)>,
    /// Whether the address as written is an IP literal that gives a check no port, found when
    /// the line was read (`None` when it was not: an address with a `$` is read again).
    #[serde(skip)]
    pub(crate) lacks_port: Option<bool>,
    /// Which of the words the checks look for are among `options` (bits of [`ServerWords`]),
    /// found in one pass when the line was read: most servers have none, and each check
    /// would otherwise compare every option of every server.
    #[serde(skip)]
    pub(crate) words: ServerWords,
}

/// The most servers one `server-template` line stands for in the plan (and for `track`).
pub const TEMPLATE_SERVERS_MAX: u32 = 4096;

impl Server {
    /// The names of the servers the line stands for: its own, or a template's prefix with
    /// each number of its range, at most `max` of them.
    pub fn names(&self, max: u32) -> Vec<String> {
        match self.template {
            Some((low, high)) => (low..=high.min(low.saturating_add(max.saturating_sub(1))))
                .map(|n| format!("{}{n}", self.name.value))
                .collect(),
            None => vec![self.name.value.to_string()],
        }
    }
}

/// A set of the option words checks look for on server lines (see [`Server::words`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServerWords(u16);

impl ServerWords {
    pub const PORT: ServerWords = ServerWords(1);
    pub const ADDR: ServerWords = ServerWords(1 << 1);
    pub const ID: ServerWords = ServerWords(1 << 2);
    pub const RESOLVERS: ServerWords = ServerWords(1 << 3);
    pub const SSL: ServerWords = ServerWords(1 << 4);
    pub const CHECK_SSL: ServerWords = ServerWords(1 << 5);
    pub const FCGI: ServerWords = ServerWords(1 << 6);
    pub const PROTO: ServerWords = ServerWords(1 << 7);
    pub const TRACK: ServerWords = ServerWords(1 << 8);

    /// The words of `options` that are in the set.
    pub fn of<'a>(options: impl IntoIterator<Item = &'a str>) -> ServerWords {
        let mut set = 0;
        for word in options {
            set |= match word {
                "port" => Self::PORT.0,
                "addr" => Self::ADDR.0,
                "id" => Self::ID.0,
                "resolvers" => Self::RESOLVERS.0,
                "ssl" => Self::SSL.0,
                "check-ssl" => Self::CHECK_SSL.0,
                "fcgi" => Self::FCGI.0,
                "proto" => Self::PROTO.0,
                "track" => Self::TRACK.0,
                _ => 0,
            };
        }
        ServerWords(set)
    }

    /// Whether any of `words` is in the set.
    pub fn any(self, words: ServerWords) -> bool {
        self.0 & words.0 != 0
    }
}

impl std::ops::BitOr for ServerWords {
    type Output = ServerWords;
    fn bitor(self, other: ServerWords) -> ServerWords {
        ServerWords(self.0 | other.0)
    }
}

/// One statement as written (keyword, arguments, prefix), kept so that the plan can lower the
/// directives the typed model does not break out itself (`log`, `capture`, `http-check`, …).
#[derive(Clone, Debug, Serialize)]
pub struct DirectiveLine {
    /// `no` or `default` prefix, if any.
    pub prefix: Option<Text>,
    pub keyword: Text,
    pub args: Vec<Text>,
    pub span: Span,
}

/// An `acl` line.
#[derive(Clone, Debug, Serialize)]
pub struct AclDecl {
    pub name: Spanned<Text>,
    pub span: Span,
    /// The criterion and the rest of the words, as written.
    pub words: ThinVec<Spanned<Text>>,
}

pub use crate::registry::RuleSet;

/// One rule line: `http-request set-header X y if cond`.
#[derive(Clone, Debug, Serialize)]
pub struct RuleDecl {
    pub set: RuleSet,
    pub action: Spanned<Text>,
    /// Arguments after the action, up to the condition.
    pub args: ThinVec<Spanned<Text>>,
    /// `if`/`unless` and what follows.
    pub condition: ThinVec<Spanned<Text>>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct UseBackend {
    pub target: Spanned<Text>,
    /// True when the target is a log-format expression (`%[…]`) resolved at run time.
    pub dynamic: bool,
    pub condition: ThinVec<Spanned<Text>>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct StickTableDecl {
    pub key_type: String,
    pub span: Span,
    pub stores: Vec<String>,
    /// The peers section named by `peers <name>`.
    pub peers: Option<Spanned<Text>>,
}

/// A reference to a stick table by a `track-sc*`/`sc_*` rule (resolved by the checks).
#[derive(Clone, Debug, Serialize)]
pub struct TableRef {
    /// Explicit table name, or `None` for the proxy's own table.
    pub table: Option<Spanned<Text>>,
    /// The keyword that refers to it (`track-sc0`, `sc_http_req_rate`…).
    pub by: String,
    pub span: Span,
}

/// Where an expression's object reference appears, for HAProxy's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefContext {
    Acl,
    HttpRequest,
    HttpResponse,
    TcpRequestConnection,
    TcpRequestSession,
    TcpRequestContent,
    TcpResponseContent,
    Tracking,
    LogFormat,
    UniqueId,
    Redirect,
    UseBackend,
    Capture,
    Server,
}

impl RefContext {
    /// Whether the context is a rule's (HTTP or TCP) arguments.
    pub fn is_rule(self) -> bool {
        matches!(
            self,
            RefContext::HttpRequest
                | RefContext::HttpResponse
                | RefContext::TcpRequestConnection
                | RefContext::TcpRequestSession
                | RefContext::TcpRequestContent
                | RefContext::TcpResponseContent
        )
    }

    /// HAProxy's "where" phrase (`smp_resolve_args`).
    pub fn where_text(self) -> &'static str {
        match self {
            RefContext::Acl => "in",
            RefContext::HttpRequest => "in http-request expression in",
            RefContext::HttpResponse => "in http-response response in",
            RefContext::TcpRequestConnection => "in tcp-request connection expression in",
            RefContext::TcpRequestSession => "in tcp-request session expression in",
            RefContext::TcpRequestContent => "in tcp-request content expression in",
            RefContext::TcpResponseContent => "in tcp-response content expression in",
            RefContext::Tracking => "in tracking rule in",
            RefContext::LogFormat => "in log-format string in",
            RefContext::UniqueId => "in unique-id-format string in",
            RefContext::Redirect => "in redirect format string in",
            RefContext::UseBackend => "in use_backend expression in",
            RefContext::Capture => "in capture rule in",
            RefContext::Server => "in server directive in",
        }
    }
}

/// An object named in an expression (server, backend, table, userlist…), resolved after parsing.
#[derive(Clone, Debug, Serialize)]
pub struct SampleRef {
    pub reference: crate::expr::sample::ObjectRef,
    pub span: Span,
    pub context: RefContext,
}

/// A frontend, backend, listen or defaults section.
///
/// Rarely used parts are boxed and lists are thin vectors: configurations with tens of thousands
/// of proxies keep each one small.
#[derive(Clone, Debug, Serialize)]
pub struct Proxy {
    pub kind: ProxyKind,
    /// `None` only for anonymous defaults.
    pub name: Option<Spanned<Text>>,
    /// The section header line.
    pub header: Span,
    /// Index (in `Config::proxies`) of the defaults section this one inherits from.
    pub defaults: Option<usize>,
    /// The `from <name>` word, when given.
    pub from: Option<Box<Spanned<Text>>>,
    pub mode: Option<Spanned<Mode>>,
    pub disabled: bool,
    pub binds: ThinVec<Bind>,
    pub servers: ThinVec<Server>,
    pub acls: ThinVec<AclDecl>,
    pub rules: ThinVec<RuleDecl>,
    /// `redirect` directives in order (as `redirect` rules of the `http-request` set): they run
    /// after all of the proxy's `http-request` rules, wherever they are written.
    pub redirects: ThinVec<RuleDecl>,
    pub use_backends: ThinVec<UseBackend>,
    /// Boxed: most proxies have none, and inline it was 40 bytes of each.
    pub default_backend: Option<Box<Spanned<Text>>>,
    /// `timeout <name>` values in milliseconds (shared with the defaults section until set here).
    pub timeouts: SharedList<(Text, Spanned<u32>)>,
    /// `option x` / `no option x` with the last setting winning.
    pub options: ThinVec<(Text, Spanned<bool>)>,
    pub balance: Option<Spanned<Text>>,
    pub stick_table: Option<Box<StickTableDecl>>,
    pub table_refs: ThinVec<TableRef>,
    pub has_log: bool,
    /// Whether `tcp-request inspect-delay` (its own or its defaults section's) holds the
    /// content rules for a while: without it, they see what has arrived when they run.
    pub tcp_request_delay: bool,
    pub log_format: Option<Box<Spanned<Text>>>,
    pub maxconn: Option<Spanned<u32>>,
    pub retries: Option<Spanned<u32>>,
    pub retry_on: Option<Box<Spanned<Text>>>,
    pub http_reuse: Option<Box<Spanned<Text>>>,
    pub use_servers: ThinVec<(Spanned<Text>, Span)>,
    pub services: ThinVec<Spanned<Text>>,
    pub filters: ThinVec<Spanned<Text>>,
    /// Cache names given to `filter cache`, `cache-use` and `cache-store`, in order.
    pub caches: ThinVec<Spanned<Text>>,
    /// Objects named in expressions, resolved by the post-parse checks.
    pub sample_refs: ThinVec<SampleRef>,
    /// `errorfiles <http-errors section>` references.
    pub errorfiles: ThinVec<Spanned<Text>>,
    /// Every statement, those inherited from the defaults section first.
    pub directives: ThinVec<DirectiveLine>,
    /// The rules written so far, to warn about their order.
    #[serde(skip)]
    pub(crate) rule_order: super::order::RuleOrder,
}

impl Proxy {
    pub fn new(kind: ProxyKind, name: Option<Spanned<Text>>, header: Span) -> Self {
        Proxy {
            kind,
            name,
            header,
            defaults: None,
            from: None,
            mode: None,
            disabled: false,
            binds: ThinVec::new(),
            servers: ThinVec::new(),
            acls: ThinVec::new(),
            rules: ThinVec::new(),
            redirects: ThinVec::new(),
            use_backends: ThinVec::new(),
            default_backend: None,
            timeouts: SharedList::new(),
            options: ThinVec::new(),
            balance: None,
            stick_table: None,
            table_refs: ThinVec::new(),
            has_log: false,
            tcp_request_delay: false,
            log_format: None,
            maxconn: None,
            retries: None,
            retry_on: None,
            http_reuse: None,
            use_servers: ThinVec::new(),
            services: ThinVec::new(),
            filters: ThinVec::new(),
            caches: ThinVec::new(),
            sample_refs: ThinVec::new(),
            errorfiles: ThinVec::new(),
            directives: ThinVec::new(),
            rule_order: Default::default(),
        }
    }

    pub fn name_str(&self) -> &str {
        self.name.as_ref().map_or("", |n| n.value.as_str())
    }

    /// The statements written in the section itself, after those it inherited from its
    /// defaults section (which come before its header).
    pub fn own_directives(&self) -> impl Iterator<Item = &DirectiveLine> + Clone {
        let header = (self.header.file, self.header.start);
        self.directives
            .iter()
            .filter(move |d| (d.span.file, d.span.start) > header)
    }

    pub fn effective_mode(&self) -> Mode {
        self.mode.as_ref().map_or(Mode::Tcp, |m| m.value)
    }

    pub fn timeout(&self, name: &str) -> Option<u32> {
        self.timeouts
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.value)
    }

    pub fn option(&self, name: &str) -> Option<bool> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.value)
    }

    /// The proxy's `default-server` lines (without a `no`/`default` prefix), in order: their
    /// options come before each server's own.
    pub fn default_server_lines(&self) -> impl Iterator<Item = &DirectiveLine> {
        self.directives
            .iter()
            .filter(|d| d.keyword == "default-server" && d.prefix.is_none())
    }

    /// The proxy's last `keyword` line without a `no`/`default` prefix: the one that holds
    /// (its defaults section's lines come first).
    pub fn last_line(&self, keyword: &str) -> Option<&DirectiveLine> {
        self.directives
            .iter()
            .rfind(|d| d.prefix.is_none() && d.keyword == keyword)
    }

    /// The words of the proxy's `default-server` lines, in order.
    pub fn default_server_words(&self) -> impl Iterator<Item = &str> {
        self.default_server_lines()
            .flat_map(|d| d.args.iter().map(|a| a.as_str()))
    }

    /// A server's option words as HAProxy reads them once its line is read: those of the
    /// `default-server` lines before it (its defaults section's, then its proxy's), then its
    /// own. A `default-server` line after a server does not change it.
    /// The options a `default-server` line does not take (`id`…) are left out, as HAProxy
    /// skips them.
    pub fn server_words<'a>(&'a self, s: &'a Server) -> Vec<&'a str> {
        let at = (s.span.file.0, s.span.start);
        let mut words = Vec::new();
        for d in self
            .default_server_lines()
            .filter(|d| (d.span.file.0, d.span.start) < at)
        {
            let mut i = 0;
            while let Some(w) = d.args.get(i) {
                let def = crate::registry::server_option(w);
                let n = 1 + def.map_or(0, |o| usize::from(o.values));
                if def.is_none_or(|o| o.default_server) {
                    words.extend(
                        d.args[i..(i + n).min(d.args.len())]
                            .iter()
                            .map(|a| a.as_str()),
                    );
                }
                i += n;
            }
        }
        words.extend(s.options.iter().map(|o| o.value.as_str()));
        words
    }

    pub fn has_rules(&self, sets: &[RuleSet]) -> bool {
        self.rules.iter().any(|r| sets.contains(&r.set))
    }
}

/// A `thread-group <n> [ranges]` line.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadGroupDecl {
    pub group: u32,
    /// Thread numbers assigned (1-based, inclusive ranges); empty = automatic.
    pub threads: Vec<(u32, u32)>,
    pub span: Span,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Global {
    /// This process's name in peers sections as HAProxy knows it when it reads them: the
    /// environment's `HAPROXY_LOCALPEER` (which HAProxy sets from `-L` or the host name), or
    /// a global `localpeer` read before any peers section. `None`: unknown.
    pub local_peer: Option<String>,
    /// `ssl-load-extra-del-ext`: the key of `site.crt` is looked up as `site.key`.
    pub ssl_load_extra_del_ext: bool,
    /// `default-path`: the directory relative file paths start from (`None`: the working
    /// directory), from the last such line.
    pub default_path: Option<String>,
    pub nbthread: Option<Spanned<u32>>,
    pub thread_groups: Option<Spanned<u32>>,
    pub thread_group_decls: Vec<ThreadGroupDecl>,
    /// `cpu-map` lines, in order (a later line overrides an earlier one for the same threads).
    pub cpu_maps: Vec<CpuMap>,
    pub maxconn: Option<Spanned<u32>>,
    pub expose_experimental: bool,
    /// `tune.stick-counters`, when the configuration sets it (3 counters otherwise).
    pub stick_counters: Option<u32>,
    /// The first `quiet` line: HAProxy prints nothing more while it starts once it read it.
    pub quiet: Option<Span>,
    pub master_worker: bool,
    pub has_log: bool,
    pub stats_sockets: Vec<Spanned<Text>>,
    pub lua_loads: Vec<(Spanned<Text>, Vec<String>)>,
    pub bufsize: Option<u32>,
    /// `user <name>` (false) and `group <name>` (true) lines, looked up on the machine.
    pub accounts: Vec<(bool, Spanned<Text>)>,
    /// The first `chroot` directory (HAProxy ignores later ones).
    pub chroot: Option<Spanned<Text>>,
    /// `user <name>` (false) and `group <name>` (true) options, per `stats socket` line.
    pub socket_accounts: Vec<Vec<(bool, Spanned<Text>)>>,
    /// Every statement of the global sections.
    pub directives: Vec<DirectiveLine>,
}

/// One `cpu-map [auto:]<groups>[/<threads>] <cpus>...` line.
#[derive(Clone, Debug, Serialize)]
pub struct CpuMap {
    /// `auto:`: the groups (or threads) take the CPUs one each, in order.
    pub auto: bool,
    /// Thread groups, bit 0 for group 1.
    pub groups: u64,
    /// Threads within each group, bit 0 for the first; 0 when the line maps whole groups.
    pub threads: u64,
    /// The CPU numbers, ascending.
    pub cpus: Vec<u32>,
    pub span: Span,
}

/// Any named non-proxy section (userlist, peers, resolvers, ring, cache, http-errors, …).
#[derive(Clone, Debug, Serialize)]
pub struct NamedSection {
    pub kind: SectionKind,
    pub name: Option<Spanned<Text>>,
    pub header: Span,
    /// Names declared inside (users and groups of a userlist, peers of a peers section, …).
    pub members: Vec<Spanned<Text>>,
    /// Peers sections may carry `bind` lines and their own `table` lines.
    pub has_bind: bool,
    /// The statements of a peers, resolvers, program, http-errors or userlist section, for the
    /// plan (empty for others).
    pub lines: Vec<DirectiveLine>,
}

/// What a file named in the configuration must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// `crt` on bind/server lines: a PEM certificate with its key (or a directory of them).
    Certificate,
    /// `crt-list`: a list of certificates with per-line options.
    CertificateList,
    /// `ca-file`, `ca-verify-file`, `ca-sign-file`: PEM CA certificates (`@system-ca` allowed).
    CaFile,
    /// `crl-file`: PEM certificate revocation lists.
    CrlFile,
    /// `key`: a PEM private key (server lines).
    PrivateKey,
    /// `errorfile <code> <file>`: a complete raw HTTP response.
    ErrorFile,
    /// `http-error status <code> errorfile <file>`: read as a reply, must open.
    ReplyFile,
    /// `lua-load`, `lua-load-per-thread`: a Lua 5.4 script that must compile.
    LuaScript,
    /// ACL `-f <file>` patterns, `map*()` converters files.
    PatternFile,
    /// `ssl-dh-param-file`: Diffie-Hellman parameters, a file that must exist.
    DhParams,
    /// `tls-ticket-keys`: base64 session ticket keys (plan/ticket_keys.rs).
    TicketKeys,
    /// `namespace <name>`: a network namespace, `/var/run/netns/<name>`.
    Namespace,
    /// The last global `h1-case-adjust-file`: header name pairs, read once parsing is done.
    CaseAdjustFile,
    /// `issuers-chain-path`: a directory of issuer certificates, scanned as the line is read.
    IssuersDir,
}

impl FileKind {
    /// The kind of file a certificate-related bind or server option names, if it names one.
    pub fn of_tls_option(option: &str) -> Option<FileKind> {
        match option {
            "crt" => Some(FileKind::Certificate),
            "crt-list" => Some(FileKind::CertificateList),
            "ca-file" | "ca-verify-file" | "ca-sign-file" => Some(FileKind::CaFile),
            "crl-file" => Some(FileKind::CrlFile),
            _ => None,
        }
    }
}

/// A host name used as an ACL address pattern, and the ACL it belongs to.
#[derive(Clone, Debug, Serialize)]
pub struct AclHost {
    pub acl: Text,
    /// The pattern as written (a mask may follow the name).
    pub pattern: Spanned<Text>,
    /// Named by a line whose error stops HAProxy (see [`crate::diagnostic::Diagnostic::haproxy_aborts`]).
    pub aborts: bool,
}

/// A file the configuration depends on, with where it was named.
#[derive(Clone, Debug, Serialize)]
pub struct FileRef {
    pub kind: FileKind,
    pub path: Spanned<Text>,
    /// The keyword that named it (`crt`, `ca-file`, `errorfile 503`, `lua-load`…).
    pub keyword: String,
    /// `crt-base` / `ca-base` in effect for this reference, if any.
    pub base: Option<String>,
    /// The words HAProxy puts around the file's error when they are not `'<keyword>' : `
    /// (pattern files of ACLs and conditions): prefix and suffix.
    pub wording: Option<(String, String)>,
    /// Read by HAProxy once the whole configuration is parsed (dynamic `use_backend` rules):
    /// reported with the whole-configuration findings, location included in the wording.
    pub after_parse: bool,
    /// Named by a line whose error stops HAProxy (see [`crate::diagnostic::Diagnostic::haproxy_aborts`]).
    pub aborts: bool,
    /// A CA or CRL file of a `server` or `default-server` line: how HAProxy names the server in
    /// its message context (`'server b/s' : `, nothing for `default-server`). The context goes
    /// with the first alert of the line only, the store's own; the option's error after it is
    /// printed without a place.
    pub server_context: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {
    /// Files referenced anywhere, in order, for the environment checks.
    pub files: Vec<FileRef>,
    /// `nameserver <name> <address>` lines of resolvers sections: HAProxy resolves a host
    /// name there while it reads the line.
    pub nameservers: Vec<(Spanned<Text>, Spanned<Text>)>,
    /// The `peer`/`server` lines of peers sections, each with whether HAProxy 2.7 leaves its
    /// message context set after it (a remote peer without an address: see
    /// [`crate::render::stale_contexts`]).
    pub peer_lines: Vec<(Span, bool)>,
    /// `mailer <name> <address>` lines of mailers sections, resolved as the line is read too.
    pub mailers: Vec<(Spanned<Text>, Spanned<Text>)>,
    /// Host names written as address patterns of ACLs: HAProxy resolves them while it reads
    /// the line (environment checks).
    pub acl_hosts: Vec<AclHost>,
    /// Name indexes, filled once the model is built (lookups stay O(1) on huge configs).
    #[serde(skip)]
    pub index: NameIndex,
    pub global: Global,
    /// Every proxy including defaults sections, in declaration order.
    pub proxies: Vec<Proxy>,
    pub sections: Vec<NamedSection>,
    /// The SPOE files read ([`crate::spoe`]): not configuration files of their own.
    pub spoe_files: Vec<crate::source::FileId>,
    /// The SPOE engines the files of `filter spoe` lines declare ([`crate::spoe`]).
    pub spoe_engines: Vec<crate::spoe::SpoeEngine>,
    /// What the global section's `setenv` family did to the environment.
    #[serde(skip)]
    pub env_changes: crate::env_changes::EnvChanges,
}

/// Name → index maps over [`Config::proxies`] and stick tables.
#[derive(Clone, Debug, Default)]
pub struct NameIndex {
    // Names are inline strings: no allocation per proxy.
    backends: rustc_hash::FxHashMap<Text, usize>,
    frontends: rustc_hash::FxHashMap<Text, usize>,
    tables: rustc_hash::FxHashSet<Text>,
}

impl Config {
    /// The process environment as the global section's `setenv`, `presetenv`, `unsetenv`
    /// and `resetenv` lines leave it: HAProxy parses addresses after those lines ran, so
    /// `setenv PORT 8080` then `bind :${PORT}` listens on 8080.
    pub fn environment(&self) -> crate::env_changes::Changed<'_> {
        crate::env_changes::Changed {
            base: &crate::syntax::ProcessEnv,
            changes: &self.env_changes,
        }
    }

    /// Builds the name indexes; call after the proxies and sections are complete.
    pub fn reindex(&mut self) {
        let mut index = NameIndex::default();
        index.backends.reserve(self.proxies.len());
        index.frontends.reserve(self.proxies.len().min(1024));
        for (i, p) in self
            .proxies
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind != ProxyKind::Defaults)
        {
            if p.kind.has_backend() {
                index.backends.entry(Text::from(p.name_str())).or_insert(i);
            }
            if p.kind.has_frontend() {
                index.frontends.entry(Text::from(p.name_str())).or_insert(i);
            }
            if p.stick_table.is_some() {
                index.tables.insert(Text::from(p.name_str()));
            }
        }
        for s in self
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Peers)
        {
            for m in &s.members {
                if let Some(t) = m.value.strip_prefix("table:") {
                    index.tables.insert(Text::from(t));
                }
            }
        }
        self.index = index;
    }

    /// Non-defaults proxies with a backend side, by name.
    pub fn backend(&self, name: &str) -> Option<(usize, &Proxy)> {
        self.index
            .backends
            .get(name)
            .map(|&i| (i, &self.proxies[i]))
    }

    pub fn frontend(&self, name: &str) -> Option<(usize, &Proxy)> {
        self.index
            .frontends
            .get(name)
            .map(|&i| (i, &self.proxies[i]))
    }

    pub fn section(&self, kind: SectionKind, name: &str) -> Option<&NamedSection> {
        self.sections
            .iter()
            .find(|s| s.kind == kind && s.name.as_ref().is_some_and(|n| n.value == name))
    }

    /// A stick table by name: a proxy with a `stick-table`, or a `table` in a peers section.
    pub fn has_table(&self, name: &str) -> bool {
        self.index.tables.contains(name)
    }
}
