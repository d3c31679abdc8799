/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hardirq probe of accessors_kunit.c, which the Rust KUnit tests of
 * ffi.rs call too.
 */

#ifndef _SECURITY_SECNS_ACCESSORS_KUNIT_H
#define _SECURITY_SECNS_ACCESSORS_KUNIT_H

struct secns;

int secns_kunit_accessors_in_hardirq(struct secns **ns, struct secns **pending);

#endif /* _SECURITY_SECNS_ACCESSORS_KUNIT_H */
