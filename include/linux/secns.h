/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Security namespaces, for the LSMs that take part in them.
 *
 * The secns LSM (security/secns/) creates, reference counts and frees
 * security namespaces; other LSMs borrow them in the task_secns_init,
 * task_secns_unshare and secns_free hooks and through the accessors below
 * (defined in Rust, in security/secns/ffi.rs), and keep their own state for
 * each namespace in its blob (lbs_secns).
 *
 * The owner asks the LSMs about a new namespace (task_secns_init) once,
 * before anything else can see it, and calls secns_free in process context
 * once its last reference is gone.
 */

#ifndef _LINUX_SECNS_H
#define _LINUX_SECNS_H

#include <linux/types.h>
#include <uapi/linux/secns.h>

struct cred;

/**
 * struct secns - a security namespace
 * @id: unique, never reused; 0 for the initial namespace
 * @depth: 0 for the initial namespace, the parent's depth plus one otherwise
 * @parent: the parent namespace, NULL for the initial one; it lives at least
 *	as long as this one
 * @security: the LSM blob, with each LSM's part at its lbs_secns offset
 *
 * Read-only for everyone but the LSM that owns it, except each LSM's own part
 * of @security.  The initial namespace is made when the secns LSM starts,
 * before LSMs later in the order have started, and is never passed to
 * task_secns_init: its blob parts stay zeroed.
 */
struct secns {
	u64 id;
	unsigned int depth;
	struct secns *parent;
	void *security;
};

#ifdef CONFIG_SECURITY_SECNS
/**
 * secns_of_cred() - Get the security namespace of credentials
 * @cred: the credentials, which must stay live for as long as the caller
 *	uses the result: the caller holds a reference to them, they are
 *	current_cred() (or a hook's argument), or they are another task's
 *	objective credentials, __task_cred(), read under rcu_read_lock()
 *
 * Another task's subjective credentials (its ->cred) are no such
 * credentials: while that task overrides them (faccessat() does), they may
 * be freed at once, without an RCU grace period, when it reverts them.
 *
 * Context: Any context (process, softirq or hardirq). Takes no lock.
 * Return: the effective security namespace of @cred, valid as long as @cred
 * is (for RCU-protected credentials, until rcu_read_unlock()); NULL if it is
 * not known: the secns LSM is not active, or @cred are being set up or torn
 * down (blank credentials from cred_alloc_blank() not given one, or
 * credentials whose cred_free hook ran). NULL is never the initial
 * namespace: a caller must not treat it as one.
 */
const struct secns *secns_of_cred(const struct cred *cred);

/**
 * secns_current_pending() - Get the pending security namespace of the
 *	current task
 *
 * Only the current task creates, enters or drops its pending namespace, so
 * only it can rely on the result: there is no such accessor for another
 * task.
 *
 * Context: Any context (process, softirq or hardirq) on behalf of current;
 * in interrupt context, current is the interrupted task. Takes no lock: the
 * pending namespace is read with one atomic load.
 * Return: the namespace the current task created with
 * LSM_ATTR_UNSHARE_INIT and has not entered or dropped yet. In process
 * context it is valid until the task enters or drops it, which only the
 * task itself does (lsm_set_self_attr(), execve()); in interrupt context,
 * until the interrupt returns. NULL if there is none, or if the secns LSM is
 * not active.
 */
const struct secns *secns_current_pending(void);
#else
static inline const struct secns *secns_of_cred(const struct cred *cred)
{
	return NULL;
}

static inline const struct secns *secns_current_pending(void)
{
	return NULL;
}
#endif

#endif /* _LINUX_SECNS_H */
