/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The audit records of secns, written from Rust (ffi.rs).
 */

#ifndef _SECURITY_SECNS_AUDIT_H
#define _SECURITY_SECNS_AUDIT_H

#include <linux/types.h>

struct task_struct;

void secns_audit_ptrace(struct task_struct *other, const char *op,
			u64 tracer_ns, u64 tracee_ns);

#endif /* _SECURITY_SECNS_AUDIT_H */
