// SPDX-License-Identifier: GPL-2.0-only
/*
 * The secns kfuncs as BPF programs get them, for tests/vm/src/kfuncs.rs:
 *
 * - for the test's own process only, each task_secns_init and
 *   task_secns_unshare call writes every kfunc's answer, for the hook's
 *   credentials and for the current task, into the slot of the new
 *   namespace's depth, and the test compares them with secns_info;
 * - task_kill, for the target task the test names, writes what the task
 *   kfuncs answer for it, its real parent (an RCU pointer) and the sender,
 *   and counts the calls whose answer is not the id the test expects (the
 *   race with faccessat()'s short-lived credentials);
 * - the refused_* programs must not load: they pass a task's ->cred or
 *   ->real_cred, RCU pointers, to a kfunc that takes only trusted
 *   credentials;
 * - fentry/security_task_getsid must not load either: tracing programs may
 *   call no secns kfunc. fentry/security_task_getpgid, which calls none,
 *   shows that a tracing program loads otherwise.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * Defined, if empty, rather than declared: libbpf checks each kfunc's
 * prototype against the kernel's, and takes a forward declaration for
 * another kind of type than the kernel's struct.
 */
struct cred {
} __attribute__((preserve_access_index));
struct kernel_siginfo;
struct file;

struct secns {
	__u64 id;
	unsigned int depth;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
	const struct cred *real_cred;
	const struct cred *cred;
} __attribute__((preserve_access_index));

extern __u64 bpf_secns_cred_id(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_parent_id(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_depth(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_ancestor_id(const struct cred *cred,
					__u32 depth) __ksym;
extern __u64 bpf_secns_task_id(struct task_struct *task) __ksym;
extern __u64 bpf_secns_task_parent_id(struct task_struct *task) __ksym;
extern __u64 bpf_secns_task_depth(struct task_struct *task) __ksym;
extern __u64 bpf_secns_task_ancestor_id(struct task_struct *task,
					__u32 depth) __ksym;
extern __u64 bpf_secns_pending_id(void) __ksym;

/* tests/vm/src/kfuncs.rs reads these, in this order. */
struct kfunc_answers {
	__u64 cred_id;
	__u64 parent_id;
	__u64 depth;
	__u64 ancestor0;
	__u64 ancestor1;
	__u64 ancestor_self;
	__u64 ancestor_beyond;
	__u64 pending_id;
	__u64 ns_id;
	/* The task kfuncs, for the current task. */
	__u64 task_id;
	__u64 task_parent_id;
	__u64 task_depth;
	__u64 task_ancestor1;
	__u64 task_ancestor_beyond;
};

/* What task_kill watches: written by the test. */
struct kill_target {
	__u32 tgid;
	__u32 pad;
	__u64 expect_id;
};

/* What task_kill saw of its target (the last call's answers). */
struct kill_answers {
	__u64 calls;
	__u64 mismatches;
	__u64 task_id;
	__u64 task_parent_id;
	__u64 task_depth;
	__u64 task_ancestor0;
	__u64 task_ancestor_self;
	__u64 task_ancestor_beyond;
	__u64 real_parent_id;
	__u64 sender_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct kfunc_answers);
} at_init SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct kfunc_answers);
} at_unshare SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kill_target);
} kill_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kill_answers);
} at_kill SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __always_inline int mine(void)
{
	__u32 zero = 0;
	__u32 *tgid = bpf_map_lookup_elem(&target, &zero);

	return tgid && *tgid == bpf_get_current_pid_tgid() >> 32;
}

static __always_inline void answer(void *map, const struct cred *cred,
				   const struct secns *ns)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct kfunc_answers a = {};
	__u32 slot = ns->depth & 7;

	a.cred_id = bpf_secns_cred_id(cred);
	a.parent_id = bpf_secns_cred_parent_id(cred);
	a.depth = bpf_secns_cred_depth(cred);
	a.ancestor0 = bpf_secns_cred_ancestor_id(cred, 0);
	a.ancestor1 = bpf_secns_cred_ancestor_id(cred, 1);
	a.ancestor_self = bpf_secns_cred_ancestor_id(cred, a.depth);
	a.ancestor_beyond = bpf_secns_cred_ancestor_id(cred, a.depth + 1);
	a.pending_id = bpf_secns_pending_id();
	a.ns_id = ns->id;
	a.task_id = bpf_secns_task_id(task);
	a.task_parent_id = bpf_secns_task_parent_id(task);
	a.task_depth = bpf_secns_task_depth(task);
	a.task_ancestor1 = bpf_secns_task_ancestor_id(task, 1);
	a.task_ancestor_beyond = bpf_secns_task_ancestor_id(task,
							    a.task_depth + 1);
	bpf_map_update_elem(map, &slot, &a, BPF_ANY);
}

SEC("lsm/task_secns_init")
int BPF_PROG(kfuncs_init, const struct cred *cred, struct secns *ns, int ret)
{
	if (ret)
		return ret;
	if (mine())
		answer(&at_init, cred, ns);
	return 0;
}

SEC("lsm/task_secns_unshare")
int BPF_PROG(kfuncs_unshare, const struct cred *cred, const struct secns *ns,
	     int ret)
{
	if (ret)
		return ret;
	if (mine())
		answer(&at_unshare, cred, ns);
	return 0;
}

SEC("lsm/task_kill")
int BPF_PROG(kfuncs_task_kill, struct task_struct *p,
	     struct kernel_siginfo *info, int sig, const struct cred *cred,
	     int ret)
{
	__u32 zero = 0;
	struct kill_target *t = bpf_map_lookup_elem(&kill_target, &zero);
	struct kill_answers *a = bpf_map_lookup_elem(&at_kill, &zero);
	__u64 depth;

	if (ret || !t || !a || !t->tgid || p->tgid != t->tgid)
		return ret;
	a->task_id = bpf_secns_task_id(p);
	a->task_parent_id = bpf_secns_task_parent_id(p);
	depth = bpf_secns_task_depth(p);
	a->task_depth = depth;
	a->task_ancestor0 = bpf_secns_task_ancestor_id(p, 0);
	a->task_ancestor_self = bpf_secns_task_ancestor_id(p, depth);
	a->task_ancestor_beyond = bpf_secns_task_ancestor_id(p, depth + 1);
	/* An RCU pointer, which the task kfuncs (KF_RCU) take. */
	a->real_parent_id = bpf_secns_task_id(p->real_parent);
	a->sender_id = bpf_secns_task_id(bpf_get_current_task_btf());
	if (a->task_id != t->expect_id)
		__sync_fetch_and_add(&a->mismatches, 1);
	__sync_fetch_and_add(&a->calls, 1);
	return 0;
}

/* The current task's subjective credentials: refused at load. */
SEC("lsm/file_open")
int BPF_PROG(refused_current_cred, struct file *file, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *cred = task->cred;

	if (ret || !cred)
		return ret;
	return bpf_secns_cred_id(cred) == 1 ? -1 : 0;
}

/* Another task's subjective credentials: refused at load. */
SEC("lsm/task_getsid")
int BPF_PROG(refused_task_cred, struct task_struct *p, int ret)
{
	const struct cred *cred = p->cred;

	if (ret || !cred)
		return ret;
	return bpf_secns_cred_id(cred) == 1 ? -1 : 0;
}

/*
 * Another task's objective credentials, an RCU pointer too: refused at
 * load (bpf_secns_task_id() reads them under RCU itself).
 */
SEC("lsm/task_getpgid")
int BPF_PROG(refused_task_real_cred, struct task_struct *p, int ret)
{
	const struct cred *cred = p->real_cred;

	if (ret || !cred)
		return ret;
	return bpf_secns_cred_id(cred) == 1 ? -1 : 0;
}

/* A tracing program calling a secns kfunc: refused at load. */
SEC("fentry/security_task_getsid")
int BPF_PROG(tracing_calls_kfunc, struct task_struct *p)
{
	bpf_secns_pending_id();
	return 0;
}

/* The same program without the kfunc: loads. */
SEC("fentry/security_task_getpgid")
int BPF_PROG(tracing_without_kfunc, struct task_struct *p)
{
	return 0;
}
