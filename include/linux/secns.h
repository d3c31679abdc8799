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
struct task_struct;

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
 * @cred: the credentials, which the caller holds (a reference, or RCU for
 *	another task's __task_cred())
 *
 * Context: Any context. Takes no lock.
 * Return: the security namespace of @cred, valid as long as @cred is; NULL
 * if the secns LSM is not enabled, or for blank credentials
 * (cred_alloc_blank()) that were not given one.
 */
struct secns *secns_of_cred(const struct cred *cred);

/**
 * secns_pending() - Get the pending security namespace of the current task
 * @task: the task, which must be current: only a task itself creates,
 *	enters or drops its pending namespace, so only it can rely on the
 *	result
 *
 * Context: Any context (process, softirq or hardirq) on behalf of current.
 * Takes no lock: the pending namespace is read with one atomic load.
 * Return: the namespace @task created with LSM_ATTR_UNSHARE_INIT and has not
 * entered or dropped yet. In process context it is valid until @task
 * enters, aborts or drops it (execve, exit); in interrupt context, until the
 * interrupt returns. NULL if there is none (and, with a warning, if @task is
 * not current).
 */
struct secns *secns_pending(struct task_struct *task);
#else
static inline struct secns *secns_of_cred(const struct cred *cred)
{
	return NULL;
}

static inline struct secns *secns_pending(struct task_struct *task)
{
	return NULL;
}
#endif

#endif /* _LINUX_SECNS_H */
