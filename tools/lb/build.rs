//! Link options of the `hapee-lb` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        // The binary's static tables hold about 42,000 pointers (keyword names, vtables,
        // panic locations), each a relative relocation that the loader reads at every start:
        // 1 MiB of the resident set of a `check` that parses a small file. Packed (DT_RELR,
        // glibc 2.36), they take a few KiB. A linker or C library without the feature ignores
        // the option and keeps the plain table.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
