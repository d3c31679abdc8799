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
/* The longest name a denied file may have, with its NUL. */
#define SECNS_POLICY_NAME_MAX 64
/*
 * How far up the file system a file_open looks for a denied directory:
 * deeper components are not seen (a rule on a directory covers what is at
 * most this many levels below it).
 */
#define SECNS_POLICY_MAX_LEVELS 64

/*
 * The layout of the maps below. An engine attached by a secns-policy of
 * another layout cannot be upgraded in place: its rules would be misread.
 */
#define SECNS_POLICY_ABI 4

/*
 * struct secns_policy.filter: a Bloom filter (one hash) of the inodes that
 * have an inodes entry for these rules, so that file_open looks up only
 * the levels of a path that may be there. Bit
 * ((ino ^ rol64(dev, 32)) * SECNS_POLICY_FILTER_MUL) >> (64 - 10).
 */
#define SECNS_POLICY_FILTER_BITS 1024
#define SECNS_POLICY_FILTER_MUL 0x9e3779b97f4a7c15ULL

/* struct secns_policy.flags */
#define SECNS_POLICY_NO_NESTED 1	/* refuse task_secns_init below it */

/*
 * A denied file or directory, as the loader found it: the inode, and the
 * name in its directory, on one file system. Both are denied: the inode
 * wherever it is reached (hard links, bind mounts, other views), and
 * whatever the name comes to name (a file replaced by rename(2)). A
 * directory is denied with everything below it.
 */
struct secns_policy_file {
	__u64 dev;	/* the kernel's dev_t of the file system (s_dev) */
	__u64 ino;
	__u64 dir;	/* the directory's inode; 0: no name (a mount's root) */
	char name[SECNS_POLICY_NAME_MAX];	/* NUL-padded */
};

/*
 * inodes: (namespace, file system, inode) -> struct secns_policy_inode,
 * the index of the files of the namespace's rules that file_open looks
 * up, at most one lookup per level. The namespace is the one
 * whose rules apply (its policies entry lists the files, so that
 * secns_free deletes exactly these entries).
 */
struct secns_policy_inode_key {
	__u64 rules;
	__u64 dev;
	__u64 ino;
};
struct secns_policy_inode {
	__u32 flags;
	__u32 pad;
	/*
	 * For a directory with denied names, bit n: a denied name has n bytes.
	 * A name of another length is not read, nor looked up.
	 */
	__u64 name_lens;
};
_Static_assert(sizeof(struct secns_policy_inode) == 16, "src/engine.rs: INODE_SIZE");
#define SECNS_POLICY_DENIED 1	/* this inode, and what is below it */
#define SECNS_POLICY_NAMED 2	/* a name in this directory is denied */

/* names: (namespace, file system, directory, name) -> 1: denied names. */
struct secns_policy_name_key {
	__u64 rules;
	__u64 dev;
	__u64 dir;
	char name[SECNS_POLICY_NAME_MAX];
};

/*
 * policies: namespace id -> the rules that apply in it, its own and its
 * ancestors' (2968 bytes, one map update), for the namespaces that had
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
	/* The inodes of files[] and of their directories. */
	__u64 filter[SECNS_POLICY_FILTER_BITS / 64];
};
_Static_assert(sizeof(struct secns_policy) == 2968, "src/rules.rs: POLICY_SIZE");

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
	__u64 mnt_ns;	/* the inode number of the attacher's mount namespace */
};
_Static_assert(sizeof(struct secns_policy_engine) == 40, "src/rules.rs: ENGINE_SIZE");

/* guarded: a key is a kind and an id, the value 1. */
#define SECNS_POLICY_MOUNT 1	/* a mount's unique id (mnt_id_unique) */
#define SECNS_POLICY_MAP 2	/* a BPF map's id */

struct secns_policy_guarded {
	__u32 kind;
	__u32 pad;
	__u64 id;
};

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
	/*
	 * The task that created it, by its thread id in the initial pid
	 * namespace (a single-threaded process's pid): `load --pid` finds a
	 * pending namespace by its creator, which a runtime knows without
	 * trusting what runs in the container.
	 */
	__u32 creator;
	__u32 pad;
};
_Static_assert(sizeof(struct secns_policy_ns) == 32, "src/rules.rs: NS_SIZE");

#endif /* SECNS_POLICY_H */
