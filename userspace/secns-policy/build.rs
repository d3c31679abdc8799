//! Embeds the compiled BPF object (bpf/policy.bpf.c, built with clang for
//! the BPF target) named by SECNS_POLICY_BPF_OBJ. Without it the crate still
//! builds, for `cargo test` and `cargo clippy`, and the command says that it
//! has no programs to attach.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SECNS_POLICY_BPF_OBJ");
    let Some(out) = std::env::var_os("OUT_DIR") else {
        panic!("cargo did not set OUT_DIR");
    };
    let dest = PathBuf::from(out).join("policy.bpf.o");
    let result = match std::env::var_os("SECNS_POLICY_BPF_OBJ") {
        Some(obj) => {
            println!("cargo:rerun-if-changed={}", PathBuf::from(&obj).display());
            std::fs::copy(&obj, &dest).map(|_| ())
        }
        None => std::fs::write(&dest, b""),
    };
    if let Err(e) = result {
        panic!("cannot write {}: {e}", dest.display());
    }
}
