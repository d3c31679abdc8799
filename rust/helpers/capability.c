// SPDX-License-Identifier: GPL-2.0

#include <linux/capability.h>

/* Without CONFIG_MULTIUSER, capable() is a static inline that says yes. */
#ifndef CONFIG_MULTIUSER
__rust_helper bool rust_helper_capable(int cap)
{
	return capable(cap);
}
#endif
