// SPDX-License-Identifier: GPL-2.0

#include <linux/lsm_hooks.h>

/*
 * rust_helper_lsm_hook_init_<hook>(), one per hook of lsm_hook_defs.h, fills
 * in a security_hook_list entry the way LSM_HOOK_INIT() does. Rust cannot do
 * it itself: the entry's static call slots are a member of
 * static_calls_table, whose type is __packed and __randomize_layout. The
 * hook parameter has the hook's C type, so Rust cannot register a function
 * of the wrong type. The assertion checks the definitions the helpers are
 * generated from: each hook's default return value has its return type.
 */
#ifdef CONFIG_SECURITY
#define LSM_HOOK(RET, DEFAULT, NAME, ...)				\
static_assert(__same_type(typeof(DEFAULT), RET));			\
__rust_helper void rust_helper_lsm_hook_init_##NAME(			\
	struct security_hook_list *hl, typeof(RET(*)(__VA_ARGS__)) hook) \
{									\
	*hl = (struct security_hook_list)LSM_HOOK_INIT(NAME, hook);	\
}

#include <linux/lsm_hook_defs.h>
#undef LSM_HOOK
#endif /* CONFIG_SECURITY */
