// SPDX-License-Identifier: GPL-2.0-only
/*
 * secns-policy: rules per security namespace, for the BPF LSM.
 *
 * A namespace's rules live in the policies map under its id, and apply to
 * every task whose effective security namespace is that namespace or one of
 * its descendants: each hook walks from the task's namespace up to depth 1
 * with the secns kfuncs (at most SECNS_POLICY_MAX_DEPTH steps) and looks up
 * each ancestor's rules. The kfuncs of a credential take the hook's own
 * credentials (the verifier refuses task->cred, which faccessat() may free
 * without a grace period); where a hook has none, the kfuncs of a task take
 * the current task. A namespace the kfuncs do not know (U64_MAX) is refused,
 * never taken for the host. The loader (secns-policy load) writes them while
 * the namespace is pending, in one map update; secns_free drops them with
 * the namespace.
 *
 * The engine guards itself: no task outside the initial namespace reaches
 * its pinned maps and links, takes a BPF object by id, or unmounts the BPF
 * file system they are pinned in.
 *
 * Built with clang -target bpf, with CO-RE: the structures below are the
 * fields the programs read, relocated to the running kernel's layout at load
 * time.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "policy.h"

struct cred;
struct user_namespace;

struct secns {
	__u64 id;
	unsigned int depth;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct super_block *mnt_sb;
} __attribute__((preserve_access_index));

struct task_struct;

/* security/secns/bpf_kfuncs.c; U64_MAX where the namespace is not known. */
extern __u64 bpf_secns_cred_id(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_depth(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_ancestor_id(const struct cred *cred,
					__u32 depth) __ksym;
extern __u64 bpf_secns_task_depth(struct task_struct *task) __ksym;
extern __u64 bpf_secns_task_ancestor_id(struct task_struct *task,
					__u32 depth) __ksym;

/* What the kfuncs answer where the namespace is not known. */
#define SECNS_UNKNOWN (~0ULL)

/* max_entries of policies and namespaces: the loader sizes them from maxns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct secns_policy);
} policies SEC(".maps");

/* Preallocated: task_secns_init must not fail for want of memory. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct secns_policy_ns);
} namespaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct secns_policy_engine);
} engine SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

/*
 * The rules of the namespace at @depth on @cred's way up, or NULL. Called
 * for @depth from the namespace's own down to 1: the initial namespace
 * (depth 0) has no rules.
 */
static __always_inline struct secns_policy *
policy_at(const struct cred *cred, __u32 depth)
{
	__u64 id = bpf_secns_cred_ancestor_id(cred, depth);

	return bpf_map_lookup_elem(&policies, &id);
}

/* The same, on @task's way up. */
static __always_inline struct secns_policy *
task_policy_at(struct task_struct *task, __u32 depth)
{
	__u64 id = bpf_secns_task_ancestor_id(task, depth);

	return bpf_map_lookup_elem(&policies, &id);
}

/*
 * The depth of the current task's namespace: 0 only for the initial one,
 * SECNS_UNKNOWN (not 0) if it is not known.
 */
static __always_inline __u64 current_depth(void)
{
	return bpf_secns_task_depth(bpf_get_current_task_btf());
}

/* Whether @dev is the file system the engine is pinned in. */
static __always_inline struct secns_policy_engine *pinned_on(__u64 dev)
{
	__u32 zero = 0;
	struct secns_policy_engine *e = bpf_map_lookup_elem(&engine, &zero);

	return e && e->pin_ino && e->pin_dev == dev ? e : NULL;
}

SEC("lsm/capable")
int BPF_PROG(secns_policy_capable, const struct cred *cred,
	     struct user_namespace *ns, int cap, unsigned int opts, int ret)
{
	__u64 depth;
	__u32 i;

	if (ret || cap < 0 || cap > 63)
		return ret;
	depth = bpf_secns_cred_depth(cred);
	if (depth == SECNS_UNKNOWN)
		return -EPERM;
	for (i = 0; i < SECNS_POLICY_MAX_DEPTH && i < depth; i++) {
		struct secns_policy *p = policy_at(cred, depth - i);

		if (p && (p->deny_caps & (1ULL << cap)))
			return -EPERM;
	}
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(secns_policy_file_open, struct file *file, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *inode;
	__u64 depth, dev, ino;
	__u32 i, j;

	if (ret)
		return ret;
	depth = bpf_secns_task_depth(task);
	if (!depth)
		return 0;
	if (depth == SECNS_UNKNOWN)
		return -EACCES;
	inode = file->f_inode;
	if (!inode)
		return 0;
	dev = inode->i_sb->s_dev;
	ino = inode->i_ino;
	for (i = 0; i < SECNS_POLICY_MAX_DEPTH && i < depth; i++) {
		struct secns_policy *p = task_policy_at(task, depth - i);

		if (!p)
			continue;
		for (j = 0; j < SECNS_POLICY_MAX_FILES && j < p->nr_files; j++) {
			if (p->files[j].ino == ino && p->files[j].dev == dev)
				return -EACCES;
		}
	}
	return 0;
}

/*
 * @cred asks for @ns, a child of its namespace: refused if a namespace on the
 * way up refuses nested ones; otherwise remembered as pending, which is what
 * the loader checks before it writes rules for it. A namespace the engine
 * cannot remember could not get rules: refused too (ENOSPC, as a limit).
 */
SEC("lsm/task_secns_init")
int BPF_PROG(secns_policy_init, const struct cred *cred, struct secns *ns,
	     int ret)
{
	struct secns_policy_ns seen = {};
	__u64 depth, id;
	__u32 i;

	if (ret)
		return ret;
	depth = bpf_secns_cred_depth(cred);
	if (depth == SECNS_UNKNOWN)
		return -EPERM;
	for (i = 0; i < SECNS_POLICY_MAX_DEPTH && i < depth; i++) {
		struct secns_policy *p = policy_at(cred, depth - i);

		if (p && (p->flags & SECNS_POLICY_NO_NESTED)) {
			/*
			 * The loader writes an errno from 1 to 4095; the mask
			 * shows the verifier that r0 stays in [-4095, 0].
			 */
			long err = p->nested_errno & 4095;

			return err ? -err : -EPERM;
		}
	}
	id = ns->id;
	seen.parent = bpf_secns_cred_id(cred);
	seen.depth = ns->depth;
	seen.state = SECNS_POLICY_PENDING;
	if (bpf_map_update_elem(&namespaces, &id, &seen, BPF_NOEXIST))
		return -ENOSPC;
	return 0;
}

/*
 * An approval here is the namespace being entered, unless an LSM after bpf
 * in lsm= refuses it: then it stays pending but is marked entered, and
 * loading rules into it is refused (which fails closed).
 */
SEC("lsm/task_secns_unshare")
int BPF_PROG(secns_policy_unshare, const struct cred *cred,
	     const struct secns *ns, int ret)
{
	struct secns_policy_ns *seen;
	__u64 id;

	if (ret)
		return ret;
	id = ns->id;
	seen = bpf_map_lookup_elem(&namespaces, &id);
	if (seen)
		seen->state = SECNS_POLICY_ENTERED;
	return 0;
}

/*
 * The namespace is gone: drop what the maps hold for it. namespaces first:
 * the loader writes the rules, then checks that the namespace is still
 * there, so rules written after this cannot stay.
 */
SEC("lsm/secns_free")
int BPF_PROG(secns_policy_free, struct secns *ns)
{
	__u64 id = ns->id;

	bpf_map_delete_elem(&namespaces, &id);
	bpf_map_delete_elem(&policies, &id);
	return 0;
}

/* Only the initial namespace reaches the directory the engine is pinned in. */
SEC("lsm/inode_permission")
int BPF_PROG(secns_policy_inode_permission, struct inode *inode, int mask,
	     int ret)
{
	struct secns_policy_engine *e;

	if (ret)
		return ret;
	e = pinned_on(inode->i_sb->s_dev);
	if (!e || inode->i_ino != e->pin_ino)
		return 0;
	return current_depth() ? -EACCES : 0;
}

/* ... nor unmounts the BPF file system they are pinned in ... */
SEC("lsm/sb_umount")
int BPF_PROG(secns_policy_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	if (!pinned_on(mnt->mnt_sb->s_dev))
		return 0;
	return current_depth() ? -EPERM : 0;
}

/* ... nor takes a BPF program, map or link by its id. */
SEC("lsm/bpf")
int BPF_PROG(secns_policy_bpf, int cmd, union bpf_attr *attr,
	     unsigned int size, _Bool kernel, int ret)
{
	if (ret || kernel)
		return ret;
	if (cmd != BPF_PROG_GET_FD_BY_ID && cmd != BPF_MAP_GET_FD_BY_ID &&
	    cmd != BPF_LINK_GET_FD_BY_ID)
		return 0;
	return current_depth() ? -EPERM : 0;
}
