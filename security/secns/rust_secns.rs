// SPDX-License-Identifier: GPL-2.0

//! Security namespaces (secns).
//!
//! A Linux Security Module that gives groups of processes their own security
//! namespace, in which every stacked LSM may keep its own policy. This crate
//! holds the LSM's logic; `lsm.c` registers it with the LSM framework and
//! forwards each hook to the matching `secns_rust_*` function here.

use kernel::error::code::EOPNOTSUPP;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;

mod attr;

use attr::Attr;

/// The prefix of this LSM's kernel log messages.
const __LOG_PREFIX: &[u8] = b"secns\0";

/// Initialises the LSM: called once at boot by `secns_init()` in `lsm.c`,
/// after the hooks are registered.
#[no_mangle]
pub extern "C" fn secns_rust_init() -> c_int {
    pr_info!("security namespaces initialised\n");
    0
}

/// The `getselfattr` hook: `lsm_get_self_attr(2)` asking for `attr`.
///
/// secns answers none of the attributes yet, so every attribute gets
/// `-EOPNOTSUPP`, which the LSM framework takes as "this LSM has nothing
/// to report" and the syscall keeps working for the other LSMs.
#[no_mangle]
pub extern "C" fn secns_rust_getselfattr(attr: c_uint) -> c_int {
    to_errno(getselfattr(Attr::from_raw(attr)))
}

/// The `setselfattr` hook: `lsm_set_self_attr(2)` addressed to secns.
#[no_mangle]
pub extern "C" fn secns_rust_setselfattr(attr: c_uint) -> c_int {
    to_errno(setselfattr(Attr::from_raw(attr)))
}

fn getselfattr(attr: Option<Attr>) -> Result {
    match attr {
        // The attributes of the other LSMs are theirs to answer.
        Some(_) | None => Err(EOPNOTSUPP),
    }
}

fn setselfattr(attr: Option<Attr>) -> Result {
    match attr {
        Some(_) | None => Err(EOPNOTSUPP),
    }
}

fn to_errno(res: Result) -> c_int {
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_hooks)]
mod tests {
    use super::*;

    /// Every `LSM_ATTR_*` known today, the gaps around them and the extremes.
    const ATTRS: [c_uint; 9] = [0, 99, 100, 101, 102, 103, 104, 105, c_uint::MAX];

    #[test]
    fn getselfattr_declines_every_attribute() {
        for attr in ATTRS {
            assert_eq!(secns_rust_getselfattr(attr), EOPNOTSUPP.to_errno());
        }
    }

    #[test]
    fn setselfattr_declines_every_attribute() {
        for attr in ATTRS {
            assert_eq!(secns_rust_setselfattr(attr), EOPNOTSUPP.to_errno());
        }
    }

    #[test]
    fn attr_from_raw_knows_the_uapi_values() {
        assert!(Attr::from_raw(0).is_none());
        assert!(matches!(Attr::from_raw(100), Some(Attr::Current)));
        assert!(matches!(Attr::from_raw(105), Some(Attr::SockCreate)));
        assert!(Attr::from_raw(106).is_none());
    }
}
