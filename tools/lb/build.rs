//! Link options of the `hapee-lb` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=hot.ld");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        // The binary's static tables hold about 42,000 pointers (keyword names, vtables,
        // panic locations), each a relative relocation (24 bytes, 1 MiB in all) that the
        // loader reads at every start. Packed (DT_RELR, glibc 2.36) they take a few KiB: the
        // peak resident set of `check` on a three-line file went from 10.0 to 8.5 MiB. A
        // linker or C library without the feature ignores the option.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        // The request path's functions side by side at the start of the text, where the
        // compiler's order spreads them over 12 MB (hot.ld, made by bench/cg_order.py). A
        // profile-guided build orders its functions from its own profile instead.
        let pgo = std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("profile-"));
        if std::env::var("PROFILE").as_deref() == Ok("release") && !pgo {
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
            println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/hot.ld");
        }
    }
}
