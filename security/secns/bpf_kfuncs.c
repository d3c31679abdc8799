// SPDX-License-Identifier: GPL-2.0-only
/*
 * kfuncs for BPF LSM programs: the security namespace of a credential and
 * the pending namespace of the current task, so that a BPF policy engine can
 * keep its rules per namespace. A program gets the namespace objects
 * themselves (struct secns) as arguments of the task_secns_init,
 * task_secns_unshare and secns_free hooks.
 *
 * They are C because BTF, which the verifier needs to call them, is not
 * generated for Rust code; they only call the accessors of <linux/secns.h>.
 * See Documentation/admin-guide/LSM/secns.rst, "BPF LSM programs".
 */

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cred.h>
#include <linux/init.h>
#include <linux/limits.h>
#include <linux/sched.h>
#include <linux/secns.h>

__bpf_kfunc_start_defs();

/**
 * bpf_secns_cred_id() - Get the id of the security namespace of credentials
 * @cred: the credentials (a hook argument, or the current task's under RCU)
 *
 * Return: the id of the effective security namespace of @cred; 0, the
 * initial namespace's, if @cred has none: the secns LSM is not active, or
 * @cred are blank credentials (cred_alloc_blank()) not given one yet. A
 * policy that must tell those apart from the initial namespace cannot use
 * this.
 */
__bpf_kfunc u64 bpf_secns_cred_id(const struct cred *cred)
{
	const struct secns *ns = secns_of_cred(cred);

	return ns ? ns->id : 0;
}

/**
 * bpf_secns_cred_parent_id() - Get the id of the parent of a credential's
 *	security namespace
 * @cred: the credentials (a hook argument, or the current task's under RCU)
 *
 * Return: the id of the parent of @cred's security namespace; 0 for the
 * initial namespace (which has no parent) and its children.
 */
__bpf_kfunc u64 bpf_secns_cred_parent_id(const struct cred *cred)
{
	const struct secns *ns = secns_of_cred(cred);

	return ns && ns->parent ? ns->parent->id : 0;
}

/**
 * bpf_secns_cred_depth() - Get the depth of a credential's security namespace
 * @cred: the credentials (a hook argument, or the current task's under RCU)
 *
 * Return: the depth of @cred's security namespace: 0 for the initial one
 * (and if @cred has none), the parent's depth plus one otherwise.
 */
__bpf_kfunc u32 bpf_secns_cred_depth(const struct cred *cred)
{
	const struct secns *ns = secns_of_cred(cred);

	return ns ? ns->depth : 0;
}

/**
 * bpf_secns_cred_ancestor_id() - Get the id of an ancestor of a credential's
 *	security namespace
 * @cred: the credentials (a hook argument, or the current task's under RCU)
 * @depth: the depth of the ancestor, from 0 (the initial namespace) to
 *	bpf_secns_cred_depth(@cred) (the namespace itself)
 *
 * A program that keeps rules per namespace and applies them to descendants
 * walks @depth from bpf_secns_cred_depth(@cred) down to 1; the walk is
 * bounded by the maxnsdepth limit (at most 32).
 *
 * Return: the id of the namespace at @depth on the way from the initial
 * namespace to @cred's; U64_MAX, which is never an id, if @depth is deeper
 * than @cred's namespace.
 */
__bpf_kfunc u64 bpf_secns_cred_ancestor_id(const struct cred *cred, u32 depth)
{
	const struct secns *ns = secns_of_cred(cred);

	if (!ns)
		return depth ? U64_MAX : 0;
	if (depth > ns->depth)
		return U64_MAX;
	while (ns->depth > depth)
		ns = ns->parent;
	return ns->id;
}

/**
 * bpf_secns_pending_id() - Get the id of the current task's pending security
 *	namespace
 *
 * Meaningful in process context only: from a hook that runs in interrupt
 * context (socket_sock_rcv_skb, for instance) it gives the pending namespace
 * of whichever task was interrupted.
 *
 * Return: the id of the namespace the current task created with
 * LSM_ATTR_UNSHARE_INIT and has not entered or dropped yet; 0 if there is
 * none (the initial namespace is never pending).
 */
__bpf_kfunc u64 bpf_secns_pending_id(void)
{
	const struct secns *ns = secns_pending(current);

	return ns ? ns->id : 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bpf_secns_kfunc_ids)
BTF_ID_FLAGS(func, bpf_secns_cred_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_cred_parent_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_cred_depth, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_cred_ancestor_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_pending_id)
BTF_KFUNCS_END(bpf_secns_kfunc_ids)

/* Tracing programs share the LSM programs' kfunc hook: admit LSM ones only. */
static int bpf_secns_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&bpf_secns_kfunc_ids, kfunc_id))
		return 0;
	return prog->type == BPF_PROG_TYPE_LSM ? 0 : -EACCES;
}

static const struct btf_kfunc_id_set bpf_secns_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_secns_kfunc_ids,
	.filter = bpf_secns_kfunc_filter,
};

static int __init bpf_secns_kfuncs_init(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_LSM,
					 &bpf_secns_kfunc_set);
}
late_initcall(bpf_secns_kfuncs_init);
