/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * secns-policy: what the BPF programs (policy.bpf.c) and the loader
 * (src/rules.rs, which mirrors these layouts) share through the maps.
 */
#ifndef SECNS_POLICY_H
#define SECNS_POLICY_H

/* The deepest namespace (secns's hard maximum of maxnsdepth). */
#define SECNS_POLICY_MAX_DEPTH 32
/*
 * The files a namespace refuses to open, its own and its ancestors' (a
 * policy file names at most 16 of its own).
 */
#define SECNS_POLICY_MAX_FILES 32

/*
 * The layout of the maps below. An engine attached by a secns-policy of
 * another layout cannot be upgraded in place: its rules would be misread.
 */
#define SECNS_POLICY_ABI 2

/* struct secns_policy.flags */
#define SECNS_POLICY_NO_NESTED 1	/* refuse task_secns_init below it */

struct secns_policy_file {
	__u64 dev;	/* the kernel's dev_t of the file system (s_dev) */
	__u64 ino;
};

/*
 * policies: namespace id -> the rules that apply in it, its own and its
 * ancestors' (536 bytes, one map update), for the namespaces that had
 * rules loaded. A namespace without rules of its own takes those of its
 * nearest ancestor with rules (secns_policy_ns.rules).
 */
struct secns_policy {
	__u64 deny_caps;	/* bit n: capability n is refused */
	__u32 flags;
	__s32 nested_errno;	/* positive; the errno of a refused nested one */
	__u32 nr_files;
	/*
	 * Signals (scope "signal"): if not 0, the depth of the namespace that
	 * confines them, the deepest of this one and its ancestors that asked
	 * for it: a task here may signal only tasks in that namespace and its
	 * descendants, as LANDLOCK_SCOPE_SIGNAL does for Landlock domains.
	 */
	__u32 signal_scope;
	struct secns_policy_file files[SECNS_POLICY_MAX_FILES];
};
_Static_assert(sizeof(struct secns_policy) == 536, "src/rules.rs: POLICY_SIZE");

/*
 * engine: one entry, written when the engine is attached or upgraded: the
 * directory its maps and links are pinned in, which only the initial
 * namespace may reach, and what attached it.
 */
struct secns_policy_engine {
	__u64 pin_dev;	/* the kernel's dev_t of the BPF file system */
	__u64 pin_ino;	/* the directory's inode number */
	__u32 abi;	/* SECNS_POLICY_ABI */
	__u32 pad;
	__u64 build;	/* a hash of the BPF object of the programs attached */
};
_Static_assert(sizeof(struct secns_policy_engine) == 32, "src/rules.rs: ENGINE_SIZE");

/* struct secns_policy_ns.state */
#define SECNS_POLICY_PENDING 0
#define SECNS_POLICY_ENTERED 1

/* namespaces: namespace id -> what the engine saw of it. */
struct secns_policy_ns {
	__u64 parent;
	/*
	 * The nearest ancestor with rules when it was created (0: none):
	 * its rules apply here until rules of its own are loaded. They
	 * cannot change after that: rules are loaded while a namespace is
	 * pending, before it can have children.
	 */
	__u64 rules;
	__u32 depth;
	__u32 state;
};
_Static_assert(sizeof(struct secns_policy_ns) == 24, "src/rules.rs: NS_SIZE");

#endif /* SECNS_POLICY_H */
