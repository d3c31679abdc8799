/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * secns-policy: what the BPF programs (policy.bpf.c) and the loader
 * (src/rules.rs, which mirrors these layouts) share through the maps.
 */
#ifndef SECNS_POLICY_H
#define SECNS_POLICY_H

/* The deepest namespace (secns's hard maximum of maxnsdepth). */
#define SECNS_POLICY_MAX_DEPTH 32
/* The files one namespace may refuse to open. */
#define SECNS_POLICY_MAX_FILES 16

/* struct secns_policy.flags */
#define SECNS_POLICY_NO_NESTED 1	/* refuse task_secns_init below it */

struct secns_policy_file {
	__u64 dev;	/* the kernel's dev_t of the file system (s_dev) */
	__u64 ino;
};

/* policies: namespace id -> its rules (280 bytes, one map update). */
struct secns_policy {
	__u64 deny_caps;	/* bit n: capability n is refused */
	__u32 flags;
	__s32 nested_errno;	/* positive; the errno of a refused nested one */
	__u32 nr_files;
	__u32 pad;
	struct secns_policy_file files[SECNS_POLICY_MAX_FILES];
};
_Static_assert(sizeof(struct secns_policy) == 280, "src/rules.rs: POLICY_SIZE");

/*
 * engine: one entry, written when the engine is attached: the directory
 * its maps and links are pinned in, which only the initial namespace may
 * reach.
 */
struct secns_policy_engine {
	__u64 pin_dev;	/* the kernel's dev_t of the BPF file system */
	__u64 pin_ino;	/* the directory's inode number */
};
_Static_assert(sizeof(struct secns_policy_engine) == 16, "src/rules.rs: ENGINE_SIZE");

/* struct secns_policy_ns.state */
#define SECNS_POLICY_PENDING 0
#define SECNS_POLICY_ENTERED 1

/* namespaces: namespace id -> what the engine saw of it. */
struct secns_policy_ns {
	__u64 parent;
	__u32 depth;
	__u32 state;
};
_Static_assert(sizeof(struct secns_policy_ns) == 16, "src/rules.rs: NS_SIZE");

#endif /* SECNS_POLICY_H */
