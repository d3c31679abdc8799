// SPDX-License-Identifier: GPL-2.0-only
/*
 * kfuncs for BPF LSM programs: the security namespace of a credential or a
 * task, and the pending namespace of the current task, so that a BPF policy
 * engine can keep its rules per namespace. A program gets the namespace
 * objects themselves (struct secns) as arguments of the task_secns_init,
 * task_secns_unshare and secns_free hooks.
 *
 * They never read freed memory:
 *
 * - bpf_secns_cred_*() take only credentials the verifier can prove live
 *   for the program: trusted pointers, such as a hook's arguments. They
 *   have no KF_RCU, so the verifier refuses an RCU pointer such as
 *   task->cred: a task's subjective credentials, which faccessat()
 *   overrides with credentials that are freed without a grace period.
 * - bpf_secns_task_*() take a trusted or RCU task and read its objective
 *   credentials (real_cred), which are always freed after an RCU grace
 *   period, under rcu_read_lock().
 *
 * Where the namespace is not known (the secns LSM is not active, or the
 * credentials are being set up or freed), they return U64_MAX, which is
 * never an id nor a depth: never 0, the initial namespace's, which a deny
 * rule would take for the host.
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
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/secns.h>

/**
 * secns_id() - The id of a namespace, as the kfuncs answer it
 * @ns: the namespace, kept alive by the caller; NULL if it is not known
 *
 * Return: @ns's id; U64_MAX if @ns is NULL.
 */
static u64 secns_id(const struct secns *ns)
{
	return ns ? ns->id : U64_MAX;
}

/**
 * secns_parent_id() - The id of a namespace's parent, as the kfuncs answer it
 * @ns: the namespace, kept alive by the caller; NULL if it is not known
 *
 * Return: the id of @ns's parent; 0 for the initial namespace, which has
 * none; U64_MAX if @ns is NULL.
 */
static u64 secns_parent_id(const struct secns *ns)
{
	if (!ns)
		return U64_MAX;
	return ns->parent ? ns->parent->id : 0;
}

/**
 * secns_depth() - The depth of a namespace, as the kfuncs answer it
 * @ns: the namespace, kept alive by the caller; NULL if it is not known
 *
 * Return: @ns's depth; U64_MAX if @ns is NULL.
 */
static u64 secns_depth(const struct secns *ns)
{
	return ns ? ns->depth : U64_MAX;
}

/**
 * secns_ancestor_id() - The id of an ancestor of a namespace, as the kfuncs
 *	answer it
 * @ns: the namespace, kept alive by the caller (and with it its ancestors);
 *	NULL if it is not known
 * @depth: the depth of the ancestor
 *
 * Return: the id of the namespace at @depth on the way from the initial
 * namespace to @ns; U64_MAX if @depth is deeper than @ns, or @ns is NULL.
 */
static u64 secns_ancestor_id(const struct secns *ns, u32 depth)
{
	if (!ns || depth > ns->depth)
		return U64_MAX;
	while (ns->depth > depth)
		ns = ns->parent;
	return ns->id;
}

/**
 * secns_of_arg() - The namespace of a kfunc's credentials argument
 * @cred: trusted credentials, or NULL: the verifier takes the pointer
 *	arguments of an LSM hook for non-NULL, but task_kill's cred, for one,
 *	is NULL unless the signal comes from an asynchronous USB request
 *
 * Return: secns_of_cred(@cred); NULL if @cred is NULL.
 */
static const struct secns *secns_of_arg(const struct cred *cred)
{
	return cred ? secns_of_cred(cred) : NULL;
}

/**
 * secns_of_task_rcu() - The namespace of a task's objective credentials
 * @task: the task, valid for the call
 *
 * Context: Under rcu_read_lock().
 * Return: the effective namespace of @task's real_cred, valid until
 * rcu_read_unlock(): real_cred is always freed after a grace period (unlike
 * the credentials faccessat() overrides ->cred with), and its namespace
 * lives at least as long as it. NULL if it is not known.
 */
static const struct secns *secns_of_task_rcu(struct task_struct *task)
{
	/* NULL only once the task is being freed (exit_creds()). */
	return secns_of_arg(__task_cred(task));
}

__bpf_kfunc_start_defs();

/**
 * bpf_secns_cred_id() - Get the id of the security namespace of credentials
 * @cred: the credentials, a trusted pointer (a hook argument)
 *
 * Return: the id of the effective security namespace of @cred; U64_MAX if
 * it is not known: the secns LSM is not active, @cred are being set up
 * (blank credentials, cred_alloc_blank()) or freed (cred_free), or @cred is
 * NULL (an LSM hook may pass NULL where its BTF does not say so).
 */
__bpf_kfunc u64 bpf_secns_cred_id(const struct cred *cred)
{
	return secns_id(secns_of_arg(cred));
}

/**
 * bpf_secns_cred_parent_id() - Get the id of the parent of a credential's
 *	security namespace
 * @cred: the credentials, a trusted pointer (a hook argument)
 *
 * Return: the id of the parent of @cred's security namespace; 0 for the
 * initial namespace, which has no parent (as struct secns_info reports);
 * U64_MAX if @cred's namespace is not known.
 */
__bpf_kfunc u64 bpf_secns_cred_parent_id(const struct cred *cred)
{
	return secns_parent_id(secns_of_arg(cred));
}

/**
 * bpf_secns_cred_depth() - Get the depth of a credential's security namespace
 * @cred: the credentials, a trusted pointer (a hook argument)
 *
 * Return: the depth of @cred's security namespace: 0 for the initial one,
 * the parent's depth plus one otherwise; U64_MAX if it is not known.
 */
__bpf_kfunc u64 bpf_secns_cred_depth(const struct cred *cred)
{
	return secns_depth(secns_of_arg(cred));
}

/**
 * bpf_secns_cred_ancestor_id() - Get the id of an ancestor of a credential's
 *	security namespace
 * @cred: the credentials, a trusted pointer (a hook argument)
 * @depth: the depth of the ancestor, from 0 (the initial namespace) to
 *	bpf_secns_cred_depth(@cred) (the namespace itself)
 *
 * A program that keeps rules per namespace and applies them to descendants
 * walks @depth from bpf_secns_cred_depth(@cred) down to 1; the walk is
 * bounded by the maxnsdepth limit (at most 32).
 *
 * Return: the id of the namespace at @depth on the way from the initial
 * namespace to @cred's; U64_MAX if @depth is deeper than @cred's namespace,
 * or if that namespace is not known.
 */
__bpf_kfunc u64 bpf_secns_cred_ancestor_id(const struct cred *cred, u32 depth)
{
	return secns_ancestor_id(secns_of_arg(cred), depth);
}

/**
 * bpf_secns_task_id() - Get the id of a task's security namespace
 * @task: the task, a trusted or RCU pointer (a hook argument,
 *	bpf_get_current_task_btf(), or task->real_parent under RCU)
 *
 * The namespace of @task's objective credentials (real_cred), which other
 * tasks act on: the one that matters for ptrace and signals. The subjective
 * credentials a task overrides them with for a while (faccessat(), for
 * instance) normally share it; a hook that must judge them takes them as an
 * argument, for bpf_secns_cred_id().
 *
 * Return: the id of @task's effective security namespace; U64_MAX if it is
 * not known (the secns LSM is not active).
 */
__bpf_kfunc u64 bpf_secns_task_id(struct task_struct *task)
{
	u64 id;

	rcu_read_lock();
	id = secns_id(secns_of_task_rcu(task));
	rcu_read_unlock();
	return id;
}

/**
 * bpf_secns_task_parent_id() - Get the id of the parent of a task's security
 *	namespace
 * @task: the task, a trusted or RCU pointer
 *
 * Return: the id of the parent of @task's security namespace (see
 * bpf_secns_task_id()); 0 for the initial namespace; U64_MAX if @task's
 * namespace is not known.
 */
__bpf_kfunc u64 bpf_secns_task_parent_id(struct task_struct *task)
{
	u64 id;

	rcu_read_lock();
	id = secns_parent_id(secns_of_task_rcu(task));
	rcu_read_unlock();
	return id;
}

/**
 * bpf_secns_task_depth() - Get the depth of a task's security namespace
 * @task: the task, a trusted or RCU pointer
 *
 * Return: the depth of @task's security namespace (see bpf_secns_task_id());
 * U64_MAX if it is not known.
 */
__bpf_kfunc u64 bpf_secns_task_depth(struct task_struct *task)
{
	u64 depth;

	rcu_read_lock();
	depth = secns_depth(secns_of_task_rcu(task));
	rcu_read_unlock();
	return depth;
}

/**
 * bpf_secns_task_ancestor_id() - Get the id of an ancestor of a task's
 *	security namespace
 * @task: the task, a trusted or RCU pointer
 * @depth: the depth of the ancestor, from 0 (the initial namespace) to
 *	bpf_secns_task_depth(@task) (the namespace itself)
 *
 * As bpf_secns_cred_ancestor_id(), for @task's objective credentials. A
 * walk over several depths may see the task enter a namespace in between:
 * a program that must see one namespace takes the credentials of the hook.
 *
 * Return: the id of the namespace at @depth on the way from the initial
 * namespace to @task's; U64_MAX if @depth is deeper than @task's namespace,
 * or if that namespace is not known.
 */
__bpf_kfunc u64 bpf_secns_task_ancestor_id(struct task_struct *task, u32 depth)
{
	u64 id;

	rcu_read_lock();
	id = secns_ancestor_id(secns_of_task_rcu(task), depth);
	rcu_read_unlock();
	return id;
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
 * none (the initial namespace is never pending), which is also the answer
 * when the secns LSM is not active.
 */
__bpf_kfunc u64 bpf_secns_pending_id(void)
{
	const struct secns *ns = secns_current_pending();

	return ns ? ns->id : 0;
}

__bpf_kfunc_end_defs();

/*
 * No flags: kfunc arguments must be trusted by default (the verifier's
 * check_kfunc_args()), which refuses RCU pointers such as task->cred.
 * KF_RCU lets the task kfuncs take a task under RCU as well: task_structs
 * are freed after a grace period, and so is their real_cred.
 */
BTF_KFUNCS_START(bpf_secns_kfunc_ids)
BTF_ID_FLAGS(func, bpf_secns_cred_id)
BTF_ID_FLAGS(func, bpf_secns_cred_parent_id)
BTF_ID_FLAGS(func, bpf_secns_cred_depth)
BTF_ID_FLAGS(func, bpf_secns_cred_ancestor_id)
BTF_ID_FLAGS(func, bpf_secns_task_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_task_parent_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_task_depth, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_task_ancestor_id, KF_RCU)
BTF_ID_FLAGS(func, bpf_secns_pending_id)
BTF_KFUNCS_END(bpf_secns_kfunc_ids)

/*
 * Tracing programs share the LSM programs' kfunc hook (BTF_KFUNC_HOOK_TRACING):
 * admit LSM ones only. A tracing program may run where the credentials it
 * could reach are changing, and in any context.
 */
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
