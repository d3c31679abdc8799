// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the secns kfuncs answer a BPF LSM program, for tests/vm/src/kfuncs.rs:
 * for the test's own process only, each task_secns_init and
 * task_secns_unshare call writes every kfunc's answer into the slot of the
 * new namespace's depth, and the test compares them with secns_info.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct cred;

struct secns {
	__u64 id;
	unsigned int depth;
} __attribute__((preserve_access_index));

extern __u64 bpf_secns_cred_id(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_parent_id(const struct cred *cred) __ksym;
extern __u32 bpf_secns_cred_depth(const struct cred *cred) __ksym;
extern __u64 bpf_secns_cred_ancestor_id(const struct cred *cred,
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
