//! Heap used by each phase of `check` on one config: `cargo run --release -p hapee-compiler
//! --example phase_memory -- FILE [--consuming]`. A counting allocator records the live and
//! peak bytes. With `--consuming`, the file is parsed and the model built once, as `check -q`
//! does (the bodies' plain lines lexed by the build, their words freed as they are built), and
//! the figures stop there.

use hapee_compiler::ir::{self, CheckOptions};
use hapee_compiler::source::SourceDb;
use hapee_compiler::syntax::{self, ProcessEnv};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated by power-of-two size class, while `HIST_ON` is set.
static HIST: [AtomicUsize; 24] = [const { AtomicUsize::new(0) }; 24];
static HIST_N: [AtomicUsize; 24] = [const { AtomicUsize::new(0) }; 24];
static HIST_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

// SAFETY: every call forwards to the system allocator unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        COUNT.fetch_add(1, Ordering::Relaxed);
        if HIST_ON.load(Ordering::Relaxed) {
            let class = (usize::BITS - layout.size().leading_zeros()).min(23) as usize;
            HIST[class].fetch_add(layout.size(), Ordering::Relaxed);
            HIST_N[class].fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn report(phase: &str, since: Instant) {
    println!(
        "{phase:<17} live {:>7.1} MiB  peak {:>7.1} MiB  allocs {:>9}  {:>6.1} ms",
        LIVE.load(Ordering::Relaxed) as f64 / 1048576.0,
        PEAK.load(Ordering::Relaxed) as f64 / 1048576.0,
        COUNT.load(Ordering::Relaxed),
        since.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    use hapee_compiler::ir::{
        AclDecl, Bind, DirectiveLine, Proxy, RuleDecl, SampleRef, Server, UseBackend,
    };
    use std::mem::size_of;
    println!(
        "Word {} Line {} Proxy {} Server {} Bind {} AclDecl {} RuleDecl {} UseBackend {} DirectiveLine {} SampleRef {}",
        size_of::<hapee_compiler::syntax::Word>(),
        size_of::<hapee_compiler::syntax::Line>(),
        size_of::<Proxy>(),
        size_of::<Server>(),
        size_of::<Bind>(),
        size_of::<AclDecl>(),
        size_of::<RuleDecl>(),
        size_of::<UseBackend>(),
        size_of::<DirectiveLine>(),
        size_of::<SampleRef>()
    );
    let path = std::env::args().nth(1).expect("usage: phase_memory FILE");
    let t = Instant::now();
    let mut db = SourceDb::new();
    db.load_path(std::path::Path::new(&path))
        .expect("readable config");
    report("load", t);
    let t = Instant::now();
    // `--consuming` reads as `check -q` does: the proxy bodies' plain lines lexed by the build.
    let consuming = std::env::args().any(|a| a == "--consuming");
    let (mut tree, diags) = if consuming {
        syntax::parse_deferring(&db, &ProcessEnv)
    } else {
        syntax::parse(&db, &ProcessEnv)
    };
    report("parse", t);
    let options = CheckOptions {
        no_env: true,
        ..CheckOptions::default()
    };
    if consuming {
        let t = Instant::now();
        let (config, diags) =
            ir::build_consuming(&db, &mut tree, &ProcessEnv, &options, false, false);
        report("build (consuming)", t);
        println!(
            "{} diagnostics, {} proxies",
            diags.len(),
            config.proxies.len()
        );
        return;
    }
    let t = Instant::now();
    HIST_ON.store(true, Ordering::Relaxed);
    drop(ir::build(&db, &tree, &ProcessEnv, &options));
    report("build", t);
    let t = Instant::now();
    let (config, semantic) = ir::analyze(&db, &tree, &ProcessEnv, &options);
    report("analyze", t);
    HIST_ON.store(false, Ordering::Relaxed);
    for (class, bytes) in HIST.iter().enumerate() {
        let bytes = bytes.load(Ordering::Relaxed);
        if bytes > 0 {
            println!(
                "  < {:>8} B: {:>8} allocs {:>7.1} MiB",
                1usize << class,
                HIST_N[class].load(Ordering::Relaxed),
                bytes as f64 / 1048576.0
            );
        }
    }
    {
        use std::mem::size_of;
        let mb = |b: usize| b as f64 / 1048576.0;
        let spanned = size_of::<hapee_compiler::ir::Spanned<hapee_compiler::ir::Text>>();
        let (mut proxies, mut servers, mut server_opts, mut ubs, mut ub_cond, mut other) =
            (0, 0, 0, 0, 0, 0);
        for p in &config.proxies {
            proxies += size_of::<Proxy>();
            servers += p.servers.capacity() * size_of::<Server>();
            server_opts += p
                .servers
                .iter()
                .map(|s| s.options.capacity() * spanned)
                .sum::<usize>();
            ubs += p.use_backends.capacity() * size_of::<UseBackend>();
            ub_cond += p
                .use_backends
                .iter()
                .map(|u| u.condition.capacity() * spanned)
                .sum::<usize>();
            // A timeout list shared with a defaults section is counted in each proxy.
            other += p.timeouts.len() * 40
                + p.options.capacity() * 40
                + p.sample_refs.capacity() * size_of::<SampleRef>()
                + p.acls.capacity() * size_of::<AclDecl>()
                + p.rules.capacity() * size_of::<RuleDecl>()
                + p.directives.capacity() * size_of::<DirectiveLine>();
        }
        println!(
            "model: proxies {:.1} servers {:.1} server options {:.1} use_backend {:.1} conditions {:.1} other {:.1} MiB",
            mb(proxies), mb(servers), mb(server_opts), mb(ubs), mb(ub_cond), mb(other)
        );
    }
    let mut diagnostics = diags;
    diagnostics.extend(semantic);
    let compilation = hapee_compiler::check::Compilation {
        db,
        tree,
        config,
        diagnostics,
    };
    let t = Instant::now();
    let lints = hapee_compiler::lint::run(&compilation, &options);
    report("lint", t);
    println!(
        "{} diagnostics, {} lints, {} proxies",
        compilation.diagnostics.len(),
        lints.len(),
        compilation.config.proxies.len()
    );
}
