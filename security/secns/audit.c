// SPDX-License-Identifier: GPL-2.0
/*
 * The audit record of a ptrace access that the security namespace boundary
 * refused (ptrace.rs), in the form of the other LSMs' denials: an AVC
 * record with "lsm=secns action=denied", the hook, both namespaces and the
 * other task.
 */

#include <linux/audit.h>
#include <linux/lsm_audit.h>
#include <linux/sched.h>

#include "audit.h"

struct secns_ptrace_audit {
	struct common_audit_data ad;
	const char *op;
	u64 tracer_ns;
	u64 tracee_ns;
};

static void secns_ptrace_audit_pre(struct audit_buffer *ab, void *data)
{
	struct secns_ptrace_audit *a =
		container_of(data, struct secns_ptrace_audit, ad);

	audit_log_format(ab, "lsm=secns action=denied op=%s tracer_secns=%llu tracee_secns=%llu",
			 a->op, a->tracer_ns, a->tracee_ns);
}

/**
 * secns_audit_ptrace() - Log a ptrace access refused by the namespace boundary
 * @other: the task on the other side: the tracee for ptrace_access_check,
 *	the tracer for ptrace_traceme
 * @op: the hook that refused, "ptrace_access_check" or "ptrace_traceme"
 * @tracer_ns: the id of the tracer's security namespace, U64_MAX if not known
 * @tracee_ns: the id of the tracee's security namespace, U64_MAX if not known
 *
 * Context: Any context, locks held (the hooks run under the tracee's task
 * lock, or tasklist_lock with interrupts off): allocates with GFP_ATOMIC.
 * Without CONFIG_AUDIT it does nothing.
 */
void secns_audit_ptrace(struct task_struct *other, const char *op,
			u64 tracer_ns, u64 tracee_ns)
{
	struct secns_ptrace_audit a = {
		.ad = {
			.type = LSM_AUDIT_DATA_TASK,
			.u.tsk = other,
		},
		.op = op,
		.tracer_ns = tracer_ns,
		.tracee_ns = tracee_ns,
	};

	common_lsm_audit(&a.ad, secns_ptrace_audit_pre, NULL);
}
