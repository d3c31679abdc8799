//! secns-policy: rules per security namespace, enforced by BPF LSM programs.
//!
//! The first consumer of security namespaces outside the secns LSM itself.
//! Its BPF programs (`bpf/policy.bpf.c`) attach to the `capable`,
//! `file_open`, `task_secns_init`, `task_secns_unshare` and `secns_free`
//! hooks (and guard the engine on `inode_permission`, `sb_umount` and
//! `bpf`) and keep each namespace's rules in BPF maps keyed by its id; the
//! rules of a namespace apply to it and to its descendants, resolved when
//! they are loaded, so that each hook does a fixed number of lookups. A
//! runtime loads them while the namespace is pending, in one line:
//!
//! ```text
//! secns run --setup 'secns-policy load --ns "$SECNS_PENDING_ID" policy.toml' -- PROGRAM
//! ```
//!
//! - [`rules`]: the policy file and the rules it becomes;
//! - [`engine`]: attaching the programs, loading and showing rules;
//! - [`bpf`]: the BPF object through libbpf (`libbpf-rs`, linked
//!   statically), with errors that keep the verifier's log.

pub mod bpf;
pub mod engine;
pub mod rules;
