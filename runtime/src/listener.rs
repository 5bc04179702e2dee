//! Listening sockets: one per listener address and thread group, which the group's threads of
//! the `bind … thread` set accept on (they then spread the connections, see `crate::spread`).

use crate::tls::live::LiveBind;
use hapee_compiler::address::{Port, Transport};
use hapee_compiler::plan::sockets::KeepAliveTiming;
use hapee_compiler::plan::ListenerPlan;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// How a listener's connections are served, the same on every thread.
pub struct Serving {
    pub frontend: usize,
    /// The listener's TLS, on `bind … ssl`.
    pub tls: Option<Arc<LiveBind>>,
    /// `proto h2`: HTTP/2 without ALPN (prior knowledge on a clear listener).
    pub h2: bool,
    /// `accept-proxy`: every connection starts with a PROXY protocol header.
    pub accept_proxy: bool,
    /// `accept-netscaler-cip <magic>`: every connection starts with a NetScaler Client IP
    /// insertion header with this magic number.
    pub netscaler_magic: Option<u32>,
    /// How logs name the listener: its `name`, else its rank in its frontend (from 1).
    pub name: String,
    /// On a UNIX socket, the listener's id (`id`, else its rank), which logs show for a
    /// client's port.
    pub unix_id: Option<u32>,
    /// `maxconn` on the `bind` line: the most connections its sockets serve at once (0: no
    /// limit of its own); beyond, new ones wait in the kernel's accept queue.
    pub maxconn: u64,
    /// Its rank among its frontend's listeners (from 0), where its [`ListenerRt`] is.
    pub rank: usize,
}

/// What every thread sees of one `bind` line.
pub struct ListenerRt {
    /// Its `id`, else its rank in its frontend (from 1), as HAProxy numbers listeners.
    pub id: u32,
    /// The connections it accepted that are still open (`dst_conn`).
    pub conns: std::sync::atomic::AtomicUsize,
    /// How `option socket-stats` rows name it: its `name`, else `sock-<id>`.
    pub stat_name: String,
    /// Whether its line gives it a `name` (then [`ListenerRt::stat_name`]).
    pub named: bool,
    /// Its address as the statistics show it (`addr`): `ip:port`, `[ip6]:port` or `unix`.
    pub addr: String,
    /// `maxconn` on its line (0: none).
    pub maxconn: u64,
    /// Its own counters, kept when its frontend has `option socket-stats`.
    pub counters: crate::api::counters::Counters,
    /// The most connections it had open at once (`smax`).
    pub peak_conns: crate::api::counters::Peak,
}

impl std::fmt::Debug for ListenerRt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerRt")
            .field("id", &self.id)
            .field("stat_name", &self.stat_name)
            .finish_non_exhaustive()
    }
}

impl ListenerRt {
    /// The listeners of frontend `fe`, in order, with counters for `threads` threads.
    pub fn of_frontend(
        plan: &hapee_compiler::plan::Plan,
        fe: usize,
        threads: usize,
    ) -> Vec<ListenerRt> {
        let lines: Vec<&ListenerPlan> =
            plan.listeners.iter().filter(|l| l.frontend == fe).collect();
        ids(lines.iter().copied())
            .into_iter()
            .zip(lines)
            .map(|(id, l)| ListenerRt {
                id,
                conns: Default::default(),
                named: l.option("name").is_some(),
                stat_name: l
                    .option("name")
                    .map_or_else(|| format!("sock-{id}"), str::to_string),
                addr: stat_addr(l),
                maxconn: l
                    .option("maxconn")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                counters: crate::api::counters::Counters::new(threads),
                peak_conns: Default::default(),
            })
            .collect()
    }
}

/// A listener's address as the statistics show it.
fn stat_addr(l: &ListenerPlan) -> String {
    let port = match l.address.port {
        Port::Range { low, .. } => low,
        _ => 0,
    };
    match l.address.ip {
        _ if is_unix(l) => "unix".to_string(),
        Some(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        Some(IpAddr::V4(ip)) => format!("{ip}:{port}"),
        None if l.address.family == hapee_compiler::address::Family::Inet6 => {
            format!("[::]:{port}")
        }
        None => format!("0.0.0.0:{port}"),
    }
}

/// The ids of one frontend's listeners, as HAProxy numbers them: a listener's `id`, else the
/// first id no other listener has, counting from one more than the previous listener's rank
/// or automatic id.
fn ids<'a>(listeners: impl Iterator<Item = &'a ListenerPlan>) -> Vec<u32> {
    let given: Vec<Option<u32>> = listeners
        .map(|l| l.option("id").and_then(|id| id.parse().ok()))
        .collect();
    let mut used: std::collections::BTreeSet<u32> = given.iter().flatten().copied().collect();
    let mut next = 1u32;
    let mut out = Vec::with_capacity(given.len());
    for id in given {
        let id = match id {
            Some(id) => {
                next += 1;
                id
            }
            None => {
                let free = (next..).find(|n| !used.contains(n)).unwrap_or(next);
                used.insert(free);
                next = free + 1;
                free
            }
        };
        out.push(id);
    }
    out
}

impl Serving {
    pub fn of(l: &ListenerPlan) -> Result<Serving, String> {
        let tls = match &l.tls_settings {
            Some(t) => {
                let mut warnings = Vec::new();
                let built = LiveBind::build(t, &mut warnings)
                    .map_err(|e| format!("bind '{}{}': {e}", l.address.prefix, l.address.host))?;
                for w in warnings {
                    eprintln!(
                        "[WARNING]  ({}) : bind '{}{}': {w}",
                        std::process::id(),
                        l.address.prefix,
                        l.address.host
                    );
                }
                Some(built)
            }
            None => None,
        };
        Ok(Serving {
            frontend: l.frontend,
            tls,
            h2: l.proto.as_deref() == Some("h2"),
            accept_proxy: l.has_option("accept-proxy"),
            // HAProxy reads the number with atol and keeps its low 32 bits.
            netscaler_magic: l
                .option("accept-netscaler-cip")
                .map(|m| hapee_compiler::ir::values::atol(m) as u32)
                .filter(|m| *m != 0),
            name: l.option("name").unwrap_or_default().to_string(),
            unix_id: None,
            maxconn: l
                .option("maxconn")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            rank: 0,
        })
    }

    /// Its connections still open, on every thread (`dst_conn`, and what `maxconn` bounds).
    pub fn conns<'a>(&self, shared: &'a crate::Shared) -> &'a std::sync::atomic::AtomicUsize {
        &shared.frontends[self.frontend].listeners[self.rank].conns
    }

    /// Whether its `maxconn` lets it take one more connection.
    pub fn has_room(&self, shared: &crate::Shared) -> bool {
        self.maxconn == 0
            || (self
                .conns(shared)
                .load(std::sync::atomic::Ordering::Relaxed) as u64)
                < self.maxconn
    }
}

/// A listening socket of one thread, and how its connections are served.
pub struct Bound {
    pub serving: Arc<Serving>,
    pub socket: ListenSocket,
    /// The listener's threads in this thread's group, which share the socket and among which
    /// its connections are spread (see `crate::spread`).
    pub group: Arc<[usize]>,
}

/// A listening socket: TCP (one per address and thread group, SO_REUSEPORT so that groups
/// and a replacing process can bind the same address), or a UNIX stream socket (a path or an
/// abstract name), which every serving thread shares. Each thread holds its own copy.
pub enum ListenSocket {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl std::os::fd::AsRawFd for ListenSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            ListenSocket::Tcp(l) => l.as_raw_fd(),
            ListenSocket::Unix(l) => l.as_raw_fd(),
        }
    }
}

impl ListenSocket {
    /// The socket on the calling thread's event loop.
    pub fn into_tokio(self) -> std::io::Result<Accepting> {
        match &self {
            ListenSocket::Tcp(l) => l.set_nonblocking(true)?,
            ListenSocket::Unix(l) => l.set_nonblocking(true)?,
        }
        // SAFETY: the socket owns its descriptor (a std listener) and the `AsyncFd` owns the
        // socket, so the descriptor stays open and the same until the `AsyncFd` is dropped or
        // gives the socket back (`into_inner`); nothing swaps the socket (no `get_mut`).
        let local = self.own_address();
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(self, tokio::io::Interest::READABLE)
        }
        .map_err(|e| e.into_parts().1)?;
        Ok(Accepting { fd, local })
    }

    /// The address every connection accepted here has as its own: the socket's, when it is
    /// bound to one IP address (a wildcard one takes connections to any of the host's).
    fn own_address(&self) -> Option<SocketAddr> {
        match self {
            ListenSocket::Tcp(l) => l.local_addr().ok().filter(|a| !a.ip().is_unspecified()),
            ListenSocket::Unix(_) => None,
        }
    }

    /// A pending connection, non-blocking and not yet on any event loop (the thread that
    /// serves it registers it), and its source.
    fn accept_now(&self) -> std::io::Result<(std::net::TcpStream, SocketAddr)> {
        match self {
            ListenSocket::Tcp(l) => {
                // Non-blocking from the start: one system call per connection, not two.
                let (socket, client) =
                    socket2::SockRef::from(l).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)?;
                let client = client
                    .as_socket()
                    .ok_or_else(|| std::io::Error::other("accepted a non-IP peer"))?;
                let stream: std::net::TcpStream = socket.into();
                crate::sockopt::size_client_buffers(std::os::fd::AsRawFd::as_raw_fd(&stream));
                Ok((stream, client))
            }
            ListenSocket::Unix(l) => {
                let (stream, _) = l.accept()?;
                stream.set_nonblocking(true)?;
                crate::sockopt::size_client_buffers(std::os::fd::AsRawFd::as_raw_fd(&stream));
                Ok((unix_as_tcp(stream), UNIX_PEER))
            }
        }
    }
}

/// A listening socket a worker accepts on.
pub struct Accepting {
    fd: tokio::io::unix::AsyncFd<ListenSocket>,
    /// [`ListenSocket::own_address`], read once.
    local: Option<SocketAddr>,
}

/// The address a connection over a UNIX socket is given as its source and destination: such
/// a peer has no IP address or port.
pub const UNIX_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// A connected UNIX stream socket as the stream type the proxy reads and writes: both are
/// stream sockets, and only the address calls, which the proxy does not make for these
/// connections (or whose failure it handles), tell them apart.
fn unix_as_tcp(s: std::os::unix::net::UnixStream) -> std::net::TcpStream {
    std::net::TcpStream::from(std::os::fd::OwnedFd::from(s))
}

/// [`unix_as_tcp`], on the calling thread's event loop.
pub fn unix_as_stream(s: std::os::unix::net::UnixStream) -> std::io::Result<tokio::net::TcpStream> {
    s.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(unix_as_tcp(s))
}

impl Accepting {
    /// The address of every connection accepted here, when the socket has one IP address:
    /// no system call per connection is needed to learn it.
    pub fn local(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The next connection (not on any event loop yet) and its source. Several threads may
    /// wait on the same socket: the ones that find nothing wait again.
    pub async fn accept(&self) -> std::io::Result<(std::net::TcpStream, SocketAddr)> {
        loop {
            let mut ready = self.fd.readable().await?;
            match ready.try_io(|socket| socket.get_ref().accept_now()) {
                Ok(accepted) => return accepted,
                Err(_would_block) => continue,
            }
        }
    }

    /// The same socket registered anew on the calling thread's event loop. A paused socket
    /// (SIGTTOU) stops listening and the event loop then keeps it as hung up for good, so
    /// it is registered afresh once it listens again.
    pub fn renew(self) -> std::io::Result<Accepting> {
        self.fd.into_inner().into_tokio()
    }

    /// The connections already queued on the socket, taken without waiting (before it
    /// closes, so that they are served rather than reset).
    pub fn drain(self) -> Vec<(std::net::TcpStream, SocketAddr)> {
        let socket = self.fd.into_inner();
        std::iter::from_fn(|| socket.accept_now().ok()).collect()
    }
}

/// Whether `l` listens on a UNIX stream socket (`/path`, `unix@path`, `abns@name`).
pub fn is_unix(l: &ListenerPlan) -> bool {
    use hapee_compiler::address::Family;
    l.address.transport == Transport::Stream
        && matches!(l.address.family, Family::Unix | Family::Abstract)
}

/// Binds a UNIX listener with its bind options `mode`, `user`/`uid`, `group`/`gid` applied.
pub fn bind_unix_listener(l: &ListenerPlan) -> Result<std::os::unix::net::UnixListener, String> {
    use hapee_compiler::address::Family;
    let path = l.address.host.as_str();
    if l.address.family == Family::Abstract {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(path.as_bytes())
            .map_err(|e| e.to_string())?;
        return std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| e.to_string());
    }
    let mode = match l.option("mode") {
        Some(m) => Some(u32::from_str_radix(m, 8).map_err(|_| format!("invalid mode '{m}'"))?),
        None => None,
    };
    bind_unix(
        path,
        mode,
        l.option("user").or(l.option("uid")),
        l.option("group").or(l.option("gid")),
    )
}

/// Binds a UNIX stream socket at `path` as HAProxy does: under a temporary name beside it
/// (`<path>.<pid>.tmp`), given its mode and owner there, then renamed over `path`. The rename
/// is atomic, so a socket another process still listens on (the previous process during a
/// reload, or one left behind) is replaced without a moment when the path is missing or when
/// the new socket has the wrong permissions. A path that exists and is no socket is refused
/// rather than replaced.
pub fn bind_unix(
    path: &str,
    mode: Option<u32>,
    user: Option<&str>,
    group: Option<&str>,
) -> Result<std::os::unix::net::UnixListener, String> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(format!("'{path}' exists and is not a UNIX socket"));
        }
    }
    let temporary = format!("{path}.{}.tmp", std::process::id());
    let _ = std::fs::remove_file(&temporary);
    let l = std::os::unix::net::UnixListener::bind(&temporary).map_err(|e| e.to_string())?;
    let prepared = (|| {
        if let Some(mode) = mode {
            std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot change mode: {e}"))?;
        }
        let uid = user.map(lookup_user).transpose()?;
        let gid = group.map(lookup_group).transpose()?;
        if uid.is_some() || gid.is_some() {
            nix::unistd::chown(temporary.as_str(), uid, gid)
                .map_err(|e| format!("cannot change owner: {e}"))?;
        }
        std::fs::rename(&temporary, path).map_err(|e| format!("cannot rename socket: {e}"))
    })();
    if let Err(e) = prepared {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(l)
}

fn lookup_user(u: &str) -> Result<nix::unistd::Uid, String> {
    if let Ok(n) = u.parse() {
        return Ok(nix::unistd::Uid::from_raw(n));
    }
    match nix::unistd::User::from_name(u) {
        Ok(Some(user)) => Ok(user.uid),
        _ => Err(format!("unknown user '{u}'")),
    }
}

fn lookup_group(g: &str) -> Result<nix::unistd::Gid, String> {
    if let Ok(n) = g.parse() {
        return Ok(nix::unistd::Gid::from_raw(n));
    }
    match nix::unistd::Group::from_name(g) {
        Ok(Some(group)) => Ok(group.gid),
        _ => Err(format!("unknown group '{g}'")),
    }
}

/// The socket addresses a listener binds (a port range gives several).
pub fn addresses(l: &ListenerPlan) -> Result<Vec<SocketAddr>, String> {
    if l.address.transport != Transport::Stream {
        return Err(format!(
            "bind '{}{}': only plain TCP listeners are supported by this runtime yet",
            l.address.prefix, l.address.host
        ));
    }
    socket_addresses(l)
}

/// The socket addresses of a listener, whatever its transport.
pub fn socket_addresses(l: &ListenerPlan) -> Result<Vec<SocketAddr>, String> {
    let ip = match l.address.ip {
        Some(ip) => ip,
        None if l.address.host.is_empty() || l.address.host == "*" => {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
        None if l.address.host == "::" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        None => {
            use std::net::ToSocketAddrs;
            (l.address.host.as_str(), 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip())
                .ok_or_else(|| format!("cannot resolve '{}'", l.address.host))?
        }
    };
    match l.address.port {
        Port::Range { low, high } => Ok((low..=high).map(|p| SocketAddr::new(ip, p)).collect()),
        _ => Err(format!("bind '{}': a port is required", l.address.host)),
    }
}

/// `option nolinger`: closing the socket resets the connection (SO_LINGER 0) instead of
/// leaving unsent data to drain in the kernel.
pub fn reset_on_close(tcp: &tokio::net::TcpStream) {
    let _ = socket2::SockRef::from(tcp).set_linger(Some(std::time::Duration::ZERO));
}

/// `option clitcpka`/`srvtcpka`/`tcpka`: the kernel probes the idle connection (SO_KEEPALIVE,
/// with the timings `clitcpka-*`/`srvtcpka-*` set, the system's for the others), so that a
/// peer gone silently is found out.
pub fn keep_alive(tcp: &tokio::net::TcpStream, timing: &KeepAliveTiming) {
    let sock = socket2::SockRef::from(tcp);
    let _ = sock.set_keepalive(true);
    if timing.is_unset() {
        return;
    }
    let mut params = socket2::TcpKeepalive::new();
    if let Some(n) = timing.count {
        params = params.with_retries(n);
    }
    if let Some(s) = timing.idle_secs {
        params = params.with_time(std::time::Duration::from_secs(s.into()));
    }
    if let Some(s) = timing.interval_secs {
        params = params.with_interval(std::time::Duration::from_secs(s.into()));
    }
    let _ = sock.set_tcp_keepalive(&params);
}

/// The accept queue's length when a `bind` line sets no `backlog`.
pub const DEFAULT_BACKLOG: i32 = 1024;

/// What must be set on a listening socket before it is bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BindFlags {
    /// On an IPv6 address, whether it takes IPv6 connections only (`v6only`) or IPv4 ones
    /// too (`v4v6`); `None` keeps the system's default (`net.ipv6.bindv6only`, usually both),
    /// as HAProxy does.
    pub v6only: Option<bool>,
    /// `transparent`: the address may be one this host does not own (IP_TRANSPARENT), for
    /// traffic a firewall diverts to it.
    pub transparent: bool,
    /// The global `noreuseport`: no SO_REUSEPORT, so that no other socket (another
    /// process's) may bind the address while this one listens.
    pub no_reuse_port: bool,
    /// `namespace <name>`: the network namespace the socket is made in.
    pub netns: Option<crate::netns::Netns>,
}

impl BindFlags {
    pub fn of(l: &ListenerPlan, global: &hapee_compiler::plan::GlobalPlan) -> BindFlags {
        // `v6only` wins over `v4v6` when a line has both, as in HAProxy.
        let v6only = if l.has_option("v6only") {
            Some(true)
        } else if l.has_option("v4v6") {
            Some(false)
        } else {
            None
        };
        BindFlags {
            v6only,
            transparent: l.has_option("transparent"),
            no_reuse_port: global.process.noreuseport,
            // `check` refuses a namespace that cannot be opened.
            netns: l
                .option("namespace")
                .and_then(|n| crate::netns::open(n).ok()),
        }
    }
}

/// A non-blocking listening socket with SO_REUSEADDR and SO_REUSEPORT.
pub fn bind(addr: SocketAddr, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    bind_with(addr, backlog, BindFlags::default())
}

/// [`bind`] with a listener's own [`BindFlags`].
pub fn bind_with(
    addr: SocketAddr,
    backlog: i32,
    flags: BindFlags,
) -> std::io::Result<std::net::TcpListener> {
    let s = prepared_socket(addr, Type::STREAM, Protocol::TCP, flags)?;
    s.listen(backlog)?;
    Ok(s.into())
}

/// A non-blocking socket bound to `addr` with SO_REUSEADDR and SO_REUSEPORT, so that each
/// serving thread binds its own.
pub fn reuseport_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> std::io::Result<Socket> {
    prepared_socket(addr, ty, proto, BindFlags::default())
}

fn prepared_socket(
    addr: SocketAddr,
    ty: Type,
    proto: Protocol,
    flags: BindFlags,
) -> std::io::Result<Socket> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let s = crate::netns::within(flags.netns, || Socket::new(domain, ty, Some(proto)))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(!flags.no_reuse_port)?;
    if let (true, Some(only)) = (addr.is_ipv6(), flags.v6only) {
        s.set_only_v6(only)?;
    }
    if flags.transparent {
        let done = if addr.is_ipv4() {
            s.set_ip_transparent(true)
        } else {
            crate::sockopt::set_int(
                std::os::fd::AsRawFd::as_raw_fd(&s),
                libc::SOL_IPV6,
                libc::IPV6_TRANSPARENT,
                1,
            )
        };
        // As in HAProxy, the listener still binds (an address of this host works anyway).
        if let Err(e) = done {
            eprintln!(
                "[WARNING]  ({}) : bind {addr}: cannot make listening socket transparent ({e})",
                std::process::id()
            );
        }
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s)
}

/// The threads (0-based, global) serving listener `l`, in thread order, one set per socket
/// of each address: one set per thread group that has any, which `shards <n>` splits into
/// `n` (at most one per thread; `by-thread`: one per thread).
pub fn thread_sets(l: &ListenerPlan, threads: usize, thread_group_of: &[u32]) -> Vec<Vec<usize>> {
    let groups = group_sets(l, threads, thread_group_of);
    let shards = match l.option("shards") {
        Some("by-thread") => usize::MAX,
        Some(n) => n.parse().unwrap_or(1),
        None => 1,
    };
    groups
        .into_iter()
        .flat_map(|set| split_in_shards(set, shards))
        .collect()
}

/// `threads` in `shards` sets of consecutive threads, as even as can be (HAProxy spreads
/// them so), never more sets than threads.
fn split_in_shards(threads: Vec<usize>, shards: usize) -> Vec<Vec<usize>> {
    let todo = threads.len();
    let shards = shards.clamp(1, todo.max(1));
    if shards == 1 {
        return vec![threads];
    }
    // Shard `s` takes the threads `i` with `i * shards / todo == s`.
    let mut out = vec![Vec::new(); shards];
    for (i, t) in threads.into_iter().enumerate() {
        out[i * shards / todo].push(t);
    }
    out
}

/// The threads serving listener `l`, one set per thread group that has any.
fn group_sets(l: &ListenerPlan, threads: usize, thread_group_of: &[u32]) -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let mut groups: Vec<u32> = Vec::new();
    for t in (0..threads).filter(|&t| served_by(l, t, thread_group_of)) {
        let group = thread_group_of.get(t).copied().unwrap_or(1);
        match groups.iter().position(|&g| g == group) {
            Some(i) => sets[i].push(t),
            None => {
                groups.push(group);
                sets.push(vec![t]);
            }
        }
    }
    sets
}

/// Whether thread `t` (0-based, global) serves listener `l`.
pub fn served_by(l: &ListenerPlan, t: usize, thread_group_of: &[u32]) -> bool {
    let group = thread_group_of.get(t).copied().unwrap_or(1);
    if group != l.thread_group {
        return false;
    }
    let local = thread_group_of[..t].iter().filter(|&&g| g == group).count();
    local < 64 && l.thread_mask & (1u64 << local) != 0
}

/// The rank of bind line `l` among its frontend's (its entry in `FrontendRt::listeners`).
pub fn rank_in_frontend(plan: &hapee_compiler::plan::Plan, l: &ListenerPlan) -> usize {
    plan.listeners
        .iter()
        .filter(|o| o.frontend == l.frontend)
        .position(|o| std::ptr::eq(o, l))
        .unwrap_or(0)
}

/// A client connection counted open in the process, its frontend and (for a TCP one) its
/// listener (`%ac`, `%fc`, `CurrConns`, `dst_conn`), counted when it was accepted and let go
/// when the last of its holders ends: its connection's task, or a tunnel its last request
/// opened, which HAProxy logs while the connection still counts.
pub struct OpenConn {
    shared: Arc<crate::Shared>,
    frontend: usize,
    listener: Option<usize>,
}

impl OpenConn {
    /// Takes over the counts of a connection already counted open in `frontend` (and in its
    /// listener of rank `listener`).
    pub fn counted(shared: Arc<crate::Shared>, frontend: usize, listener: Option<usize>) -> Self {
        OpenConn {
            shared,
            frontend,
            listener,
        }
    }

    /// Counts a connection accepted now (a QUIC one, whose handshake is done) open in
    /// `frontend` and its listener of rank `listener`, and in the totals of accepted ones.
    pub fn accepted(shared: Arc<crate::Shared>, frontend: usize, listener: usize) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        shared.active.fetch_add(1, Relaxed);
        let fe = &shared.frontends[frontend];
        fe.active.fetch_add(1, Relaxed);
        if let Some(l) = fe.listeners.get(listener) {
            l.conns.fetch_add(1, Relaxed);
        }
        crate::api::count_accept(&shared, frontend, listener);
        OpenConn::counted(shared, frontend, Some(listener))
    }
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        let fe = &self.shared.frontends[self.frontend];
        fe.active.fetch_sub(1, Relaxed);
        if let Some(l) = self.listener.and_then(|i| fe.listeners.get(i)) {
            l.conns.fetch_sub(1, Relaxed);
        }
        self.shared.active.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::split_in_shards;

    #[test]
    fn shards_take_consecutive_threads_as_evenly_as_haproxy() {
        assert_eq!(
            split_in_shards(vec![0, 1, 2, 3], 3),
            [vec![0, 1], vec![2], vec![3]]
        );
        assert_eq!(
            split_in_shards(vec![4, 5, 6, 7], 2),
            [vec![4, 5], vec![6, 7]]
        );
        assert_eq!(split_in_shards(vec![0, 1], usize::MAX).len(), 2);
        assert_eq!(split_in_shards(vec![0, 1, 2], 1), [vec![0, 1, 2]]);
        assert_eq!(split_in_shards(vec![], 4), [Vec::<usize>::new()]);
    }

    /// A path another listener still holds is taken over (the rename replaces it), the new
    /// socket gets its mode before it appears, and a path that is no socket is left alone.
    #[test]
    fn a_unix_socket_still_listened_on_is_replaced_atomically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hapee-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("admin.sock");
        let path = path.to_str().unwrap();
        let first = super::bind_unix(path, None, None, None).unwrap();
        let second = super::bind_unix(path, Some(0o600), None, None).unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        second.set_nonblocking(true).unwrap();
        let _client = std::os::unix::net::UnixStream::connect(path).unwrap();
        assert!(
            second.accept().is_ok(),
            "the new socket answers at the path"
        );
        drop(first);
        let file = dir.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = super::bind_unix(file.to_str().unwrap(), None, None, None).unwrap_err();
        assert!(err.contains("is not a UNIX socket"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
