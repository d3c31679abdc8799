/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Security namespaces: the functions that the Rust side (rust_secns.rs)
 * exports to the C registration shim (lsm.c).
 */
#ifndef _SECURITY_SECNS_SECNS_H
#define _SECURITY_SECNS_SECNS_H

#include <linux/init.h>

int __init secns_rust_init(void);
int secns_rust_getselfattr(unsigned int attr);
int secns_rust_setselfattr(unsigned int attr);

#endif /* _SECURITY_SECNS_SECNS_H */
