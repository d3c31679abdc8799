/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Security namespaces: the payloads of lsm_set_self_attr(2) and
 * lsm_get_self_attr(2) for LSM_ATTR_UNSHARE and LSM_ATTR_UNSHARE_INIT, in
 * the ctx[] of a struct lsm_ctx whose id is LSM_ID_SECNS.
 *
 * See Documentation/userspace-api/secns.rst.
 */

#ifndef _UAPI_LINUX_SECNS_H
#define _UAPI_LINUX_SECNS_H

#include <linux/types.h>

/**
 * struct secns_unshare_args - arguments of LSM_ATTR_UNSHARE(_INIT)
 * @flags: SECNS_* flags
 * @pidfd: with SECNS_JOIN, a pidfd of the task whose security namespace
 *	the caller joins; must be 0 otherwise (version 1)
 * @reserved: must be 0 (version 1)
 *
 * Optional: a ctx_len of 0 means all defaults.  The struct is extensible
 * like the ones of clone3(2) and openat2(2): a ctx_len below
 * SECNS_UNSHARE_ARGS_SIZE_VER0 is refused with EINVAL, and bytes beyond
 * the size the kernel knows must be zero (E2BIG otherwise).  Version 0
 * (@flags only) stays valid for everything but SECNS_JOIN, which needs
 * version 1 (EINVAL with a shorter payload).
 */
struct secns_unshare_args {
	__aligned_u64 flags;
	__s32 pidfd;
	__u32 reserved;
};

#define SECNS_UNSHARE_ARGS_SIZE_VER0	8
#define SECNS_UNSHARE_ARGS_SIZE_VER1	16

/*
 * With LSM_ATTR_UNSHARE_INIT only: drop the caller's pending security
 * namespace instead of creating one (ENOENT if there is none).
 */
#define SECNS_ABORT			(1ULL << 0)

/*
 * With LSM_ATTR_UNSHARE only: join the effective security namespace of the
 * task that @pidfd refers to, which must be the caller's namespace or a
 * descendant of it (a version 1 payload).
 */
#define SECNS_JOIN			(1ULL << 1)

/**
 * struct secns_info - what lsm_get_self_attr(LSM_ATTR_UNSHARE) reports
 * @id: the caller's security namespace; 0 is the initial one
 * @parent_id: its parent's id; 0 for the initial namespace
 * @pending_id: the caller's pending namespace, 0 if there is none
 * @depth: the caller's namespace depth; 0 for the initial namespace
 * @flags: SECNS_INFO_* flags
 *
 * Ids are unique and never reused while the system runs.
 */
struct secns_info {
	__aligned_u64 id;
	__aligned_u64 parent_id;
	__aligned_u64 pending_id;
	__u32 depth;
	__u32 flags;
};

#define SECNS_INFO_SIZE_VER0		32

/* The caller has a pending security namespace (@pending_id). */
#define SECNS_INFO_PENDING		(1U << 0)

#endif /* _UAPI_LINUX_SECNS_H */
