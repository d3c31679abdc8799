// SPDX-License-Identifier: GPL-2.0-only
/*
 * Security namespaces: registration with the LSM framework.
 *
 * The LSM's logic is in Rust (rust_secns.rs). This file holds only what
 * Rust cannot express safely: the hook list, whose entries have a
 * __randomize_layout type and point into the __packed static call table,
 * and the lsm_info that DEFINE_LSM places in .lsm_info.init. Each hook
 * passes the arguments the Rust side uses and nothing else.
 */

#include <linux/lsm_hooks.h>
#include <uapi/linux/lsm.h>

#include "secns.h"

static const struct lsm_id secns_lsmid = {
	.name = "secns",
	.id = LSM_ID_SECNS,
};

static int secns_getselfattr(unsigned int attr, struct lsm_ctx __user *ctx,
			     u32 *size, u32 flags)
{
	return secns_rust_getselfattr(attr);
}

static int secns_setselfattr(unsigned int attr, struct lsm_ctx *ctx,
			     u32 size, u32 flags)
{
	return secns_rust_setselfattr(attr);
}

static struct security_hook_list secns_hooks[] __ro_after_init = {
	LSM_HOOK_INIT(getselfattr, secns_getselfattr),
	LSM_HOOK_INIT(setselfattr, secns_setselfattr),
};

static int __init secns_init(void)
{
	security_add_hooks(secns_hooks, ARRAY_SIZE(secns_hooks), &secns_lsmid);
	return secns_rust_init();
}

DEFINE_LSM(secns) = {
	.id = &secns_lsmid,
	.init = secns_init,
};
