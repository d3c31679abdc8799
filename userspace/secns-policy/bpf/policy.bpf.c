// SPDX-License-Identifier: GPL-2.0-only
/*
 * secns-policy: rules per security namespace, for the BPF LSM.
 *
 * A namespace's rules live in the policies map under its id, and apply to
 * every task whose effective security namespace is that namespace or one of
 * its descendants. They are resolved before any hook runs, so that a hook
 * does a fixed number of lookups whatever the depth: the loader (secns-policy
 * load) writes a namespace's own rules together with its ancestors', while
 * the namespace is pending, in one map update; a namespace created below one
 * with rules records, in task_secns_init, which namespace's rules are its
 * own (secns_policy_ns.rules). Tasks of the initial namespace leave each
 * hook after one kfunc call. The kfuncs of a credential take the hook's own
 * credentials (the verifier refuses task->cred, which faccessat() may free
 * without a grace period); where a hook has none, the kfuncs of a task take
 * the current task. A namespace the kfuncs do not know (U64_MAX) is refused,
 * never taken for the host. secns_free drops a namespace's entries with it.
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
#include <linux/magic.h>
#include <linux/mount.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "policy.h"

/*
 * Defined, if empty, rather than declared: libbpf checks each kfunc's
 * prototype against the kernel's, and takes a forward declaration for
 * another kind of type than the kernel's struct.
 */
struct cred {
} __attribute__((preserve_access_index));
struct user_namespace;

struct secns {
	__u64 id;
	unsigned int depth;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct qstr {
	union {
		struct {
			__u32 hash;
			__u32 len;
		};
		__u64 hash_len;
	};
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	struct super_block *d_sb;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct super_block *mnt_sb;
} __attribute__((preserve_access_index));

struct mount {
	struct vfsmount mnt;
	__u64 mnt_id_unique;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

/* Flavors of struct bpf_map, bpf_prog, bpf_link: the names are libbpf's. */
struct bpf_map___secns {
	__u32 id;
} __attribute__((preserve_access_index));

struct bpf_prog___secns {
	enum bpf_attach_type expected_attach_type;
} __attribute__((preserve_access_index));

struct bpf_link___secns {
	struct bpf_prog___secns *prog;
} __attribute__((preserve_access_index));

/*
 * btrfs numbers the inodes of each subvolume on its own, and names a
 * subvolume's files by its root's anonymous device (what stat(2) gives),
 * not by the super block's s_dev, which all subvolumes share. Flavors,
 * relocated only where the kernel has btrfs (bpf_core_type_exists).
 */
struct btrfs_root___secns {
	__u32 anon_dev;
} __attribute__((preserve_access_index));

struct btrfs_inode___secns {
	struct btrfs_root___secns *root;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct {
		int counter;
	} count;
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

/* include/linux/io_uring_types.h; absent without CONFIG_IO_URING. */
#define IO_RINGFD_REG_MAX 16
struct io_uring_task {
	struct file *registered_rings[IO_RINGFD_REG_MAX];
} __attribute__((preserve_access_index));

struct task_struct {
	struct nsproxy *nsproxy;
	struct files_struct *files;
	struct io_uring_task *io_uring;
} __attribute__((preserve_access_index));

struct vm_area_struct {
	struct file *vm_file;
} __attribute__((preserve_access_index));

/* kernel/bpf/task_iter.c: the memory mappings of a task, one at a time. */
struct bpf_iter_task_vma {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it,
				 struct task_struct *task, __u64 addr) __ksym;
extern struct vm_area_struct *
bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym;

struct kernel_siginfo;

/* security/secns/bpf_kfuncs.c; U64_MAX where the namespace is not known. */
extern __u64 bpf_secns_cred_id(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_ancestor_id(const struct cred *cred,
					__u32 depth) __ksym;
extern __u64 bpf_secns_task_id(struct task_struct *task) __ksym;
extern __u64 bpf_secns_task_ancestor_id(struct task_struct *task,
					__u32 depth) __ksym;
/* kernel/bpf/helpers.c: @obj as a read-only pointer of the kernel's type. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

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

/* The loader sizes both from maxns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct secns_policy_inode_key);
	__type(value, struct secns_policy_inode);
} inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32768);
	__type(key, struct secns_policy_name_key);
	__type(value, __u32);
} names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct secns_policy_engine);
} engine SEC(".maps");

/*
 * guarded: what no task outside the initial namespace may touch, written
 * when the engine is attached: the unique ids of the mount the engine is
 * pinned in and of every mount above it (SECNS_POLICY_MOUNT), and the ids
 * of the engine's maps (SECNS_POLICY_MAP).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct secns_policy_guarded);
	__type(value, __u32);
} guarded SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

/*
 * The rules that apply in namespace @id (not 0, not SECNS_UNKNOWN), or NULL:
 * its own, else those of the ancestor it took them from when it was created.
 * At most three lookups, whatever the depth.
 */
static __always_inline struct secns_policy *rules_of(__u64 id, __u64 *from)
{
	struct secns_policy *p = bpf_map_lookup_elem(&policies, &id);
	struct secns_policy_ns *seen;

	*from = id;
	if (p)
		return p;
	seen = bpf_map_lookup_elem(&namespaces, &id);
	if (!seen || !seen->rules)
		return NULL;
	*from = seen->rules;
	return bpf_map_lookup_elem(&policies, from);
}

/*
 * The current task's namespace: 0 only for the initial one, SECNS_UNKNOWN
 * (not 0) if it is not known.
 */
static __always_inline __u64 current_ns(void)
{
	return bpf_secns_task_id(bpf_get_current_task_btf());
}

/* The inodes entry of @ino, in the files of @nk's namespace and device. */
static __always_inline struct secns_policy_inode *
inode_entry(struct secns_policy_name_key *nk, __u64 ino)
{
	struct secns_policy_inode_key k = {
		.rules = nk->rules,
		.dev = nk->dev,
		.ino = ino,
	};

	return bpf_map_lookup_elem(&inodes, &k);
}

/*
 * The inodes entry of @ino for @p (whose files are indexed under
 * @nk->rules), looked up only if @p's filter says it may be there.
 */
static __always_inline struct secns_policy_inode *
listed(const struct secns_policy *p, struct secns_policy_name_key *nk,
       __u64 ino)
{
	__u64 dev = nk->dev;
	__u64 h = (ino ^ ((dev << 32) | (dev >> 32))) * SECNS_POLICY_FILTER_MUL;
	__u32 bit = h >> 54;

	if (!((p->filter[bit / 64] >> (bit % 64)) & 1))
		return NULL;
	return inode_entry(nk, ino);
}

/*
 * The device that numbers @inode's inode number, as the loader names it:
 * the super block's s_dev, or on btrfs (@btrfs) the anonymous device of the
 * subvolume that holds @inode. 0 where that cannot be read, which denied()
 * refuses: failing closed.
 */
static __always_inline __u64 inode_dev(struct inode *inode, __u64 s_dev,
				       int btrfs)
{
	struct btrfs_inode___secns *bi;
	__u32 dev = 0;

	if (!btrfs)
		return s_dev;
	bi = (void *)inode -
	     bpf_core_field_offset(struct btrfs_inode___secns, vfs_inode);
	if (BPF_CORE_READ_INTO(&dev, bi, root, anon_dev))
		return 0;
	return dev;
}

/*
 * Whether the rules @p of namespace @rules deny @d: from @d up to the root
 * of its file system, an inode denied, or a name denied in its directory.
 * The walk follows the file system's own tree, whatever mount or view @d
 * was reached through, across btrfs subvolumes too (each level is named by
 * its own subvolume's device). At most one lookup per level, and only where
 * the filter lets one through; a name is read only in a directory that has
 * denied names of its length.
 */
static __always_inline int denied(const struct secns_policy *p, __u64 rules,
				  struct dentry *d)
{
	struct secns_policy_name_key nk = {};
	struct secns_policy_inode *e;
	struct super_block *sb;
	struct dentry *parent;
	struct inode *inode;
	__u32 flags, up;
	__u64 s_dev;
	int btrfs, level;

	if (!d)
		return 0;
	inode = d->d_inode;
	sb = d->d_sb;
	if (!inode || !sb)
		return 0;
	s_dev = sb->s_dev;
	btrfs = bpf_core_type_exists(struct btrfs_inode___secns) &&
		sb->s_magic == BTRFS_SUPER_MAGIC;
	nk.rules = rules;
	nk.dev = inode_dev(inode, s_dev, btrfs);
	if (!nk.dev)
		return 1;
	e = listed(p, &nk, inode->i_ino);
	flags = e ? e->flags : 0;
	for (level = 0; level < SECNS_POLICY_MAX_LEVELS; level++) {
		if (flags & SECNS_POLICY_DENIED)
			return 1;
		parent = d->d_parent;
		if (!parent || parent == d)
			return 0;
		inode = parent->d_inode;
		if (!inode)
			return 0;
		nk.dir = inode->i_ino;
		nk.dev = inode_dev(inode, s_dev, btrfs);
		if (!nk.dev)
			return 1;
		e = listed(p, &nk, nk.dir);
		up = e ? e->flags : 0;
		if (e && (up & SECNS_POLICY_NAMED) &&
		    ((e->name_lens >> (d->d_name.len & 63)) & 1)) {
			__builtin_memset(nk.name, 0, sizeof(nk.name));
			if (bpf_probe_read_kernel_str(nk.name, sizeof(nk.name),
						      d->d_name.name) > 0 &&
			    bpf_map_lookup_elem(&names, &nk))
				return 1;
		}
		d = parent;
		flags = up;
	}
	return 0;
}

/*
 * The rules with files that apply to the current task: 1, with them in @p
 * and the namespace they are indexed under in @from; 0 where there are
 * none (the initial namespace among them); -EACCES for a namespace the
 * kfuncs do not know.
 */
static __always_inline int file_rules(struct secns_policy **p, __u64 *from)
{
	__u64 id = current_ns();

	if (!id)
		return 0;
	if (id == SECNS_UNKNOWN)
		return -EACCES;
	*p = rules_of(id, from);
	return *p && (*p)->nr_files ? 1 : 0;
}

/* Whether the current task's rules deny @d: 0 or -EACCES. */
static __always_inline int check_file(struct dentry *d)
{
	struct secns_policy *p = NULL;
	__u64 from = 0;
	int ret = file_rules(&p, &from);

	if (ret <= 0 || !p)
		return ret;
	return denied(p, from, d) ? -EACCES : 0;
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
	struct secns_policy *p;
	__u64 id, from;

	if (ret || cap < 0 || cap > 63)
		return ret;
	id = bpf_secns_cred_id(cred);
	if (!id)
		return 0;
	if (id == SECNS_UNKNOWN)
		return -EPERM;
	p = rules_of(id, &from);
	if (p && (p->deny_caps & (1ULL << cap)))
		return -EPERM;
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(secns_policy_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return check_file(file->f_path.dentry);
}

/* A denied file gets no new name that the namespace's rules do not know. */
SEC("lsm/inode_link")
int BPF_PROG(secns_policy_inode_link, struct dentry *old_dentry,
	     struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	return check_file(old_dentry);
}

/*
 * Whether @cmd on @file is a btrfs ioctl that copies, streams or reads a
 * subvolume's files without opening them (include/uapi/linux/btrfs.h, type
 * 0x94): a snapshot (BTRFS_IOC_SNAP_CREATE 1, BTRFS_IOC_SNAP_CREATE_V2 23),
 * whose files are new files, named by the new subvolume's device; a send
 * stream (BTRFS_IOC_SEND 38, and its 32-bit form); or a tree search
 * (BTRFS_IOC_TREE_SEARCH and _V2, 17), whose items hold a small file's
 * data inline.
 */
static __always_inline int btrfs_copy(struct file *file, unsigned int cmd)
{
	struct inode *inode = file->f_inode;
	struct super_block *sb;
	__u32 nr = cmd & 0xff;

	if (((cmd >> 8) & 0xff) != 0x94 ||
	    (nr != 1 && nr != 17 && nr != 23 && nr != 38))
		return 0;
	sb = inode ? inode->i_sb : NULL;
	return sb && sb->s_magic == BTRFS_SUPER_MAGIC;
}

/*
 * ... and no namespace with file rules copies them some other way: -EACCES
 * for a btrfs snapshot, send or tree search there, as for an open the
 * rules refuse.
 */
static __always_inline int copy_check(struct file *file, unsigned int cmd)
{
	struct secns_policy *p = NULL;
	__u64 from = 0;

	if (!btrfs_copy(file, cmd))
		return 0;
	return file_rules(&p, &from) ? -EACCES : 0;
}

SEC("lsm/file_ioctl")
int BPF_PROG(secns_policy_file_ioctl, struct file *file, unsigned int cmd,
	     unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return copy_check(file, cmd);
}

SEC("lsm/file_ioctl_compat")
int BPF_PROG(secns_policy_file_ioctl_compat, struct file *file,
	     unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return copy_check(file, cmd);
}

/*
 * Signals confined to a namespace (scope "signal"): the sender (@cred when
 * the signal is sent on behalf of another task's credentials, as for async
 * I/O, else the current task) may signal @p only if @p is in the confining
 * namespace or below it. Signal 0, which only probes, is confined too.
 */
SEC("lsm/task_kill")
int BPF_PROG(secns_policy_task_kill, struct task_struct *p,
	     struct kernel_siginfo *info, int sig, const struct cred *cred,
	     int ret)
{
	struct task_struct *current = bpf_get_current_task_btf();
	struct secns_policy *pol;
	__u64 id, from, scope, on_behalf = 0;
	__u32 depth;

	if (ret)
		return ret;
	/*
	 * @cred is NULL for a signal from the current task, but the verifier
	 * takes a hook's pointer for non-NULL and may drop a test of it: read
	 * the argument as a number instead.
	 */
	bpf_probe_read_kernel(&on_behalf, sizeof(on_behalf), &ctx[3]);
	id = on_behalf ? bpf_secns_cred_id(cred) : bpf_secns_task_id(current);
	if (!id)
		return 0;
	if (id == SECNS_UNKNOWN)
		return -EPERM;
	pol = rules_of(id, &from);
	if (!pol || !pol->signal_scope)
		return 0;
	depth = pol->signal_scope;
	scope = on_behalf ? bpf_secns_cred_ancestor_id(cred, depth) :
			    bpf_secns_task_ancestor_id(current, depth);
	if (scope == SECNS_UNKNOWN ||
	    bpf_secns_task_ancestor_id(p, depth) != scope)
		return -EPERM;
	return 0;
}

/*
 * @cred asks for @ns, a child of its namespace: refused if the rules there
 * refuse nested ones; otherwise remembered as pending, which is what the
 * loader checks before it writes rules for it, with the namespace whose
 * rules it takes. A namespace the engine cannot remember could not get
 * rules: refused too (ENOSPC, as a limit).
 */
SEC("lsm/task_secns_init")
int BPF_PROG(secns_policy_init, const struct cred *cred, struct secns *ns,
	     int ret)
{
	struct secns_policy_ns seen = {};
	struct secns_policy_ns *up;
	struct secns_policy *p;
	__u64 parent, id;
	long err;

	if (ret)
		return ret;
	parent = bpf_secns_cred_id(cred);
	if (parent == SECNS_UNKNOWN)
		return -EPERM;
	if (parent) {
		p = bpf_map_lookup_elem(&policies, &parent);
		if (p) {
			seen.rules = parent;
		} else {
			up = bpf_map_lookup_elem(&namespaces, &parent);
			if (up) {
				seen.rules = up->rules;
				if (seen.rules)
					p = bpf_map_lookup_elem(&policies, &seen.rules);
			}
		}
		if (p && (p->flags & SECNS_POLICY_NO_NESTED)) {
			/*
			 * The loader writes an errno from 1 to 4095; the mask
			 * shows the verifier that r0 stays in [-4095, 0].
			 */
			err = p->nested_errno & 4095;
			return err ? -err : -EPERM;
		}
	}
	id = ns->id;
	seen.parent = parent;
	seen.depth = ns->depth;
	seen.state = SECNS_POLICY_PENDING;
	seen.creator = (__u32)bpf_get_current_pid_tgid();
	/*
	 * Ids are never reused: the entry is there already only if another
	 * version of this program ran first on this call, during an upgrade.
	 */
	err = bpf_map_update_elem(&namespaces, &id, &seen, BPF_NOEXIST);
	if (err && err != -EEXIST)
		return -ENOSPC;
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
	struct secns_policy_inode_key ik = {};
	struct secns_policy_name_key nk = {};
	struct secns_policy *p;
	__u64 id = ns->id;
	__u32 j;

	bpf_map_delete_elem(&namespaces, &id);
	p = bpf_map_lookup_elem(&policies, &id);
	if (!p)
		return 0;
	ik.rules = id;
	nk.rules = id;
	for (j = 0; j < SECNS_POLICY_MAX_FILES && j < p->nr_files; j++) {
		ik.dev = p->files[j].dev;
		ik.ino = p->files[j].ino;
		bpf_map_delete_elem(&inodes, &ik);
		if (!p->files[j].dir)
			continue;
		ik.ino = p->files[j].dir;
		bpf_map_delete_elem(&inodes, &ik);
		nk.dev = p->files[j].dev;
		nk.dir = p->files[j].dir;
		__builtin_memcpy(nk.name, p->files[j].name, sizeof(nk.name));
		bpf_map_delete_elem(&names, &nk);
	}
	bpf_map_delete_elem(&policies, &id);
	return 0;
}

/* Whether @key is guarded. */
static __always_inline int is_guarded(__u32 kind, __u64 id)
{
	struct secns_policy_guarded key = { .kind = kind, .id = id };

	return bpf_map_lookup_elem(&guarded, &key) != NULL;
}

/*
 * The unique id of @mnt (struct mount's, which never comes back): @mnt is
 * the mnt member of a struct mount.
 */
static __always_inline __u64 mount_id(struct vfsmount *mnt)
{
	long delta = bpf_core_field_offset(struct mount, mnt_id_unique) -
		     bpf_core_field_offset(struct mount, mnt);
	__u64 id = 0;

	if (!mnt)
		return 0;
	bpf_probe_read_kernel(&id, sizeof(id), (void *)mnt + delta);
	return id;
}

/*
 * Only the initial namespace takes a BPF object from a pin (BPF_OBJ_GET,
 * whatever path, bind mount or O_PATH descriptor leads to it) or by its id:
 * the path of a BPF_OBJ_GET is not known here, so tasks outside the initial
 * namespace take no pinned object at all while the engine is attached. This
 * costs nothing to path walks, unlike a check in inode_permission.
 */
SEC("lsm/bpf")
int BPF_PROG(secns_policy_bpf, int cmd, union bpf_attr *attr,
	     unsigned int size, _Bool kernel, int ret)
{
	if (ret || kernel)
		return ret;
	if (cmd != BPF_OBJ_GET && cmd != BPF_PROG_GET_FD_BY_ID &&
	    cmd != BPF_MAP_GET_FD_BY_ID && cmd != BPF_LINK_GET_FD_BY_ID)
		return 0;
	return current_ns() ? -EPERM : 0;
}

/* ... nor gets a descriptor of one of its maps, whichever way ... */
SEC("lsm/bpf_map")
int BPF_PROG(secns_policy_bpf_map, struct bpf_map___secns *map,
	     unsigned int fmode, int ret)
{
	if (ret || !current_ns())
		return ret;
	return is_guarded(SECNS_POLICY_MAP, map->id) ? -EPERM : 0;
}

/* Eight bytes as a little-endian word. */
#define LE64(a, b, c, d, e, f, g, h)                                          \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 |            \
	 (__u64)(h) << 56)

/*
 * The name of @file's dentry in @name (zero-padded, NUL included), if @file
 * is on an anonymous inode and its name has @len (< 15) bytes; else 0. Such
 * names are short and kept in the dentry (DNAME_INLINE_LEN), so the 16
 * bytes read are all in it.
 */
static __always_inline int anon_name(struct file *file, __u32 len,
				     __u64 name[2])
{
	struct inode *inode = file->f_inode;
	struct dentry *d = file->f_path.dentry;
	struct super_block *sb;

	if (!inode || !d)
		return 0;
	sb = inode->i_sb;
	if (!sb || sb->s_magic != ANON_INODE_FS_MAGIC || d->d_name.len != len)
		return 0;
	if (bpf_probe_read_kernel(name, 2 * sizeof(__u64), d->d_name.name))
		return 0;
	/* Keep the name and its NUL (at most 15 bytes): len is a constant. */
	if (len < 7) {
		name[0] &= (1ULL << (8 * (len + 1))) - 1;
		name[1] = 0;
	} else if (len == 7) {
		name[1] = 0;
	} else {
		name[1] &= (1ULL << (8 * (len - 7))) - 1;
	}
	return 1;
}

/*
 * Whether @file is a descriptor the guard keeps from the namespaces: one of
 * the engine's maps, or the link of any BPF LSM program, which detaches the
 * program without any capability (BPF_LINK_DETACH, or closing the last
 * reference of a link that is not pinned). kernel/bpf/syscall.c makes their
 * files on anonymous inodes, named "bpf-map", and "bpf_link" when a link is
 * made but "bpf-link" when it is taken from a pin or by its id.
 */
static __always_inline int guarded_object(struct file *file)
{
	__u64 name[2];

	if (anon_name(file, 7, name) &&
	    name[0] == LE64('b', 'p', 'f', '-', 'm', 'a', 'p', 0))
		return is_guarded(SECNS_POLICY_MAP,
				  BPF_CORE_READ((struct bpf_map___secns *)
						file->private_data, id));
	if (anon_name(file, 8, name) &&
	    (name[0] == LE64('b', 'p', 'f', '_', 'l', 'i', 'n', 'k') ||
	     name[0] == LE64('b', 'p', 'f', '-', 'l', 'i', 'n', 'k')))
		return BPF_CORE_READ((struct bpf_link___secns *)
				     file->private_data, prog,
				     expected_attach_type) == BPF_LSM_MAC;
	return 0;
}

/*
 * Whether @file is an io_uring instance (io_uring/io_uring.c names its file
 * "[io_uring]"). One set up outside a namespace acts there with what the
 * namespace's rules do not see: the credentials registered with it
 * (IORING_REGISTER_PERSONALITY), which capable() judges; the files
 * registered with it; and with IORING_SETUP_SQPOLL, a thread of the task
 * that set it up, whose opens are judged as that task's. None is received
 * (SCM_RIGHTS refuses io_uring files, and pidfd_getfd() stops at secns's
 * ptrace boundary); a task entering a namespace holds none (held_one()).
 */
static __always_inline int is_io_uring(struct file *file)
{
	__u64 name[2];

	return anon_name(file, 10, name) &&
	       name[0] == LE64('[', 'i', 'o', '_', 'u', 'r', 'i', 'n') &&
	       name[1] == LE64('g', ']', 0, 0, 0, 0, 0, 0);
}

/*
 * ... nor receives one of them (SCM_RIGHTS, pidfd_getfd()). A denied file
 * does not reach the namespace as a descriptor either.
 */
SEC("lsm/file_receive")
int BPF_PROG(secns_policy_file_receive, struct file *file, int ret)
{
	if (ret || !current_ns())
		return ret;
	if (guarded_object(file))
		return -EPERM;
	return check_file(file->f_path.dentry);
}

/* What held_one() looks at, and what it found. */
struct held {
	struct file **fd;	/* the entering task's descriptor array */
	__u64 rules;		/* whose rules apply in the namespace, or 0 */
	long err;
};

/*
 * Descriptor @i of the task entering a namespace: -EPERM (in @ctx) for one
 * the guard keeps from the namespaces, or for an io_uring instance where
 * the namespace has rules; -EACCES for a file its rules deny, as for a
 * received one. Nobody else changes the table meanwhile: the task is
 * single-threaded (secns makes sure) and shares it with no other task
 * (checked before). The file is read, never held, under the RCU read lock
 * the BPF LSM runs this in.
 */
static long held_one(__u64 i, void *ctx)
{
	struct held *h = ctx;
	struct secns_policy *p;
	struct file *file;
	void *f = NULL;

	if (bpf_probe_read_kernel(&f, sizeof(f), &h->fd[i]) || !f)
		return 0;
	file = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	if (guarded_object(file)) {
		h->err = -EPERM;
		return 1;
	}
	if (!h->rules)
		return 0;
	if (is_io_uring(file)) {
		h->err = -EPERM;
		return 1;
	}
	p = bpf_map_lookup_elem(&policies, &h->rules);
	if (p && p->nr_files && denied(p, h->rules, file->f_path.dentry)) {
		h->err = -EACCES;
		return 1;
	}
	return 0;
}

/*
 * What else a task entering a namespace with rules @rules would take in,
 * besides its descriptors: -EPERM for an io_uring instance registered with
 * the task (IORING_REGISTER_RING_FDS, usable with no descriptor), -EACCES
 * for a memory mapping of a file the rules deny (its descriptor may be
 * closed, the mapping stays), or why the mappings could not be read:
 * -ENOMEM, -EOPNOTSUPP (a kernel without CONFIG_PER_VMA_LOCK), else -EBUSY.
 * Nobody adds either meanwhile: the task is single-threaded, and a process
 * that shares its memory without being a thread of it (CLONE_VM) can map a
 * file into it at any time, as it can read the file and pass on what it
 * read: it is outside, and trusted as much.
 */
static __always_inline int taken_in(struct task_struct *task, __u64 rules)
{
	struct file *rings[IO_RINGFD_REG_MAX] = {};
	struct vm_area_struct *vma;
	struct bpf_iter_task_vma it;
	struct io_uring_task *tctx;
	struct secns_policy *p;
	struct file *file;
	int i, err = 0;

	if (bpf_core_field_exists(task->io_uring)) {
		tctx = task->io_uring;
		if (tctx && bpf_core_read(rings, sizeof(rings),
					  &tctx->registered_rings))
			return -EPERM;
		for (i = 0; i < IO_RINGFD_REG_MAX; i++)
			if (rings[i])
				return -EPERM;
	}
	p = bpf_map_lookup_elem(&policies, &rules);
	if (!p || !p->nr_files)
		return 0;
	err = bpf_iter_task_vma_new(&it, task, 0);
	if (err) {
		bpf_iter_task_vma_destroy(&it);
		/* Constants: the verifier knows them to be errnos. */
		if (err == -ENOMEM)
			return -ENOMEM;
		if (err == -EOPNOTSUPP)
			return -EOPNOTSUPP;
		return -EBUSY;
	}
	while ((vma = bpf_iter_task_vma_next(&it))) {
		file = vma->vm_file;
		if (file && denied(p, rules, file->f_path.dentry)) {
			err = -EACCES;
			break;
		}
	}
	bpf_iter_task_vma_destroy(&it);
	return err;
}

/*
 * An approval here is the namespace being entered (UNSHARE or JOIN), unless
 * an LSM after bpf in lsm= refuses it: then it stays pending but is marked
 * entered, and loading rules into it is refused (which fails closed).
 *
 * A task does not take into the namespace what it could not get there:
 * the descriptors it holds are checked as file_receive checks received
 * ones, and one of them refuses the entry with the same errno; so does a
 * table shared with another task (EPERM), a registered io_uring instance
 * or a mapping of a denied file (taken_in()). Rules are
 * loaded only into a pending namespace, so this sees every descriptor
 * that enters it with a task.
 */
SEC("lsm/task_secns_unshare")
int BPF_PROG(secns_policy_unshare, const struct cred *cred,
	     const struct secns *ns, int ret)
{
	struct task_struct *current = bpf_get_current_task_btf();
	struct secns_policy_ns *seen;
	struct fdtable *fdt;
	struct held h = {};
	__u64 id, from;
	__u32 max;
	long n;

	if (ret)
		return ret;
	id = ns->id;
	if (rules_of(id, &from))
		h.rules = from;
	/*
	 * A task outside that shares the table (CLONE_FILES) could put a
	 * descriptor in it after the walk: refused, unless the task takes a
	 * table of its own first (unshare(CLONE_FILES)).
	 */
	if (BPF_CORE_READ(current, files, count.counter) != 1)
		return -EPERM;
	fdt = BPF_CORE_READ(current, files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	h.fd = BPF_CORE_READ(fdt, fd);
	/* More than bpf_loop() walks (1 << 23) cannot be checked: refused. */
	n = bpf_loop(max, held_one, &h, 0);
	if (n < 0)
		return -EMFILE;
	if (h.err)
		return h.err;
	if (h.rules) {
		ret = taken_in(current, h.rules);
		if (ret)
			return ret;
	}
	seen = bpf_map_lookup_elem(&namespaces, &id);
	if (seen)
		seen->state = SECNS_POLICY_ENTERED;
	return 0;
}

/* Whether @dir is in the engine's BPF file system. */
static __always_inline int engine_dir(struct inode *dir)
{
	struct super_block *sb = dir->i_sb;

	return sb && pinned_on(sb->s_dev);
}

/* ... removes a pin ... */
SEC("lsm/inode_unlink")
int BPF_PROG(secns_policy_inode_unlink, struct inode *dir,
	     struct dentry *dentry, int ret)
{
	if (ret || !engine_dir(dir))
		return ret;
	return current_ns() ? -EACCES : 0;
}

/* ... renames one, or puts something in their place ... */
SEC("lsm/inode_rename")
int BPF_PROG(secns_policy_inode_rename, struct inode *old_dir,
	     struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret || (!engine_dir(old_dir) && !engine_dir(new_dir)))
		return ret;
	return current_ns() ? -EACCES : 0;
}

SEC("lsm/inode_create")
int BPF_PROG(secns_policy_inode_create, struct inode *dir,
	     struct dentry *dentry, unsigned short mode, int ret)
{
	if (ret || !engine_dir(dir))
		return ret;
	return current_ns() ? -EACCES : 0;
}

/*
 * ... nor unmounts the engine's BPF file system or any mount above it,
 * which would free it with every pin (a lazy unmount of /sys, say) ...
 */
SEC("lsm/sb_umount")
int BPF_PROG(secns_policy_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret || !current_ns())
		return ret;
	if (pinned_on(mnt->mnt_sb->s_dev) ||
	    is_guarded(SECNS_POLICY_MOUNT, mount_id(mnt)))
		return -EPERM;
	return 0;
}

/* ... moves one of those mounts elsewhere, to unmount it there ... */
SEC("lsm/move_mount")
int BPF_PROG(secns_policy_move_mount, const struct path *from_path,
	     const struct path *to_path, int ret)
{
	struct vfsmount *mnt;

	if (ret || !current_ns())
		return ret;
	mnt = from_path->mnt;
	return mnt && is_guarded(SECNS_POLICY_MOUNT, mount_id(mnt)) ? -EPERM :
								       0;
}

/*
 * ... or with mount(2)'s MS_MOVE, whose source is a path name, in the
 * engine's mount namespace: refused there altogether.
 */
SEC("lsm/sb_mount")
int BPF_PROG(secns_policy_sb_mount, const char *dev_name,
	     const struct path *path, const char *type, unsigned long flags,
	     void *data, int ret)
{
	struct task_struct *current = bpf_get_current_task_btf();
	struct secns_policy_engine *e;
	__u32 zero = 0;

	if (ret || !(flags & MS_MOVE) || !current_ns())
		return ret;
	e = bpf_map_lookup_elem(&engine, &zero);
	if (!e || !e->mnt_ns)
		return 0;
	return BPF_CORE_READ(current, nsproxy, mnt_ns, ns.inum) == e->mnt_ns ?
		       -EPERM : 0;
}

#ifdef SECNS_POLICY_NEXT
/*
 * Built only into the "next" secns-policy of the VM tests, which stands for
 * a newer version of the engine with one program more: attaching it over
 * this one must replace every program in place, add this one and keep the
 * maps (tests/vm/src/policy.rs).
 */
SEC("lsm/task_getsid")
int BPF_PROG(secns_policy_next_getsid, struct task_struct *p, int ret)
{
	return ret;
}
#endif
