/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The softirq and hardirq probes of accessors_kunit.c, which the Rust KUnit tests of
 * ffi.rs call too; and the kfuncs of bpf_kfuncs.c, which accessors_kunit.c
 * calls as C functions.
 */

#ifndef _SECURITY_SECNS_ACCESSORS_KUNIT_H
#define _SECURITY_SECNS_ACCESSORS_KUNIT_H

#include <linux/types.h>

struct cred;
struct secns;
struct task_struct;

int secns_kunit_accessors_in_hardirq(const struct secns **ns,
				     const struct secns **pending);
int secns_kunit_accessors_in_softirq(const struct secns **ns,
				     const struct secns **pending);

u64 bpf_secns_cred_id(const struct cred *cred);
u64 bpf_secns_cred_parent_id(const struct cred *cred);
u64 bpf_secns_cred_depth(const struct cred *cred);
u64 bpf_secns_cred_ancestor_id(const struct cred *cred, u32 depth);
u64 bpf_secns_task_id(struct task_struct *task);
u64 bpf_secns_task_parent_id(struct task_struct *task);
u64 bpf_secns_task_depth(struct task_struct *task);
u64 bpf_secns_task_ancestor_id(struct task_struct *task, u32 depth);
u64 bpf_secns_pending_id(void);

#endif /* _SECURITY_SECNS_ACCESSORS_KUNIT_H */
