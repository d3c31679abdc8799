//! secns-policy: rules per security namespace, enforced by BPF LSM programs.
//!
//! The first consumer of security namespaces outside the secns LSM itself.
//! Its BPF programs (`bpf/policy.bpf.c`) keep each namespace's rules in BPF
//! maps keyed by its id and enforce them on the `capable`, `file_open`,
//! `file_receive`, `inode_link`, `file_ioctl`, `file_ioctl_compat` (btrfs
//! snapshots and sends) and `task_kill` hooks; `task_secns_init`,
//! `task_secns_unshare` and `secns_free` follow the namespaces; and `bpf`,
//! `bpf_map`, `inode_unlink`, `inode_rename`, `inode_create`, `sb_umount`,
//! `move_mount` and `sb_mount` guard the engine itself (`file_receive` as
//! well: no namespace receives a descriptor of the engine's maps or of a
//! BPF LSM link). `file_open`, `inode_link` and the two ioctl hooks are
//! attached by the first load of rules with files, not before:
//! until then, opening a file runs none of the engine's programs. The
//! rules of a namespace apply to it
//! and to its descendants, resolved when they are loaded, so that a hook's
//! lookups do not grow with the namespace's depth. A runtime loads them
//! while the namespace is pending, in one line:
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
