//! Link options of the `hapee-lb` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=hot.ld");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    println!("cargo:rerun-if-env-changed=HAPEE_HOT_LD");
    println!("cargo:rerun-if-env-changed=HAPEE_PIE");
    println!("cargo:rerun-if-env-changed=HAPEE_EMIT_RELOCS");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        // The binary's static tables hold about 42,000 pointers (keyword names, vtables,
        // panic locations), each a relative relocation (24 bytes, 1 MiB in all) that the
        // loader reads at every start. Packed (DT_RELR, glibc 2.36) they take a few KiB: the
        // peak resident set of `check` on a three-line file went from 10.0 to 8.5 MiB. A
        // linker or C library without the feature ignores the option.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        // `HAPEE_PIE=0`: a fixed-address executable. The loader then writes none of those
        // pointers, so the 0.6 MiB of tables stay clean pages of the file, read only where
        // used, instead of private copies made at every start (and about 150 page faults).
        // The price is the binary's own address randomisation (the libraries, heap and stacks
        // keep theirs), which a server exposed to the network should keep: off by default.
        if std::env::var("HAPEE_PIE").as_deref() == Ok("0") {
            println!("cargo:rustc-link-arg-bins=-no-pie");
        }
        // `HAPEE_EMIT_RELOCS=1`: the linker keeps the relocations it applied, which a
        // post-link optimizer needs to move functions and their blocks (bench/bolt_build.sh).
        // Set here rather than in RUSTFLAGS, whose change would rebuild every crate.
        if std::env::var("HAPEE_EMIT_RELOCS").as_deref() == Ok("1") {
            println!("cargo:rustc-link-arg-bins=-Wl,--emit-relocs");
        }
        // The request path's functions side by side at the start of the text, where the
        // compiler's order spreads them over 12 MB (hot.ld, made by bench/cg_order.py). A
        // profile-guided build orders its functions from its own profile instead. Only with
        // rustc's own lld: GNU ld would make the script's `.text` a second section of that name.
        let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
        if std::env::var("PROFILE").as_deref() == Ok("release")
            && !flags.contains("profile-")
            // `HAPEE_HOT_LD=0`: the compiler's own order, to measure what the script buys.
            && std::env::var("HAPEE_HOT_LD").as_deref() != Ok("0")
            && links_with_rust_lld(&target, &flags)
        {
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
            println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/hot.ld");
        }
    }
}

/// Whether rustc links with its bundled lld: the default for x86_64 Linux since Rust 1.90,
/// unless a linker of the user's choice is configured.
fn links_with_rust_lld(target: &str, rustflags: &str) -> bool {
    let chosen = std::env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some()
        || rustflags.contains("linker");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let release = text
                .lines()
                .find_map(|l| l.strip_prefix("release: "))?
                .to_string();
            release.split('.').nth(1)?.parse::<u32>().ok()
        });
    target == "x86_64-unknown-linux-gnu" && !chosen && minor.is_some_and(|m| m >= 90)
}
