// SPDX-License-Identifier: GPL-2.0

//! Security namespaces (secns).
//!
//! A Linux Security Module that gives groups of processes their own security
//! namespace, in which every stacked LSM may keep its own policy. It is
//! registered with the Rust LSM abstractions ([`kernel::lsm`]).

use kernel::bindings;
use kernel::lsm::{CtxWriter, Lsm, LsmCtx};
use kernel::prelude::*;

mod attr;
mod limits;
mod namespace;

use attr::Attr;
use namespace::Effective;

/// The prefix of this LSM's kernel log messages.
const __LOG_PREFIX: &[u8] = b"secns\0";

/// The secns LSM.
struct Secns;

impl Lsm for Secns {
    type CredBlob = Effective;
    type TaskBlob = ();

    fn init() -> Result {
        pr_info!("security namespaces initialised\n");
        Ok(())
    }

    fn fs_init() -> Result {
        limits::securityfs_init()
    }

    fn getselfattr(attr: u32, _out: &mut CtxWriter<'_>) -> Result {
        getselfattr(Attr::from_raw(attr))
    }

    fn setselfattr(attr: u32, _ctx: &LsmCtx<'_>) -> Result {
        setselfattr(Attr::from_raw(attr))
    }
}

kernel::define_lsm! {
    Secns,
    name: "secns",
    id: bindings::LSM_ID_SECNS as u64,
    hooks: [getselfattr, setselfattr],
}

/// `lsm_get_self_attr(2)`: secns answers none of the attributes yet, so every
/// attribute gets `EOPNOTSUPP`, which the LSM framework takes as "nothing to
/// report" and the syscall keeps working for the other LSMs.
fn getselfattr(attr: Option<Attr>) -> Result {
    match attr {
        Some(_) | None => Err(EOPNOTSUPP),
    }
}

/// `lsm_set_self_attr(2)` addressed to secns: no attribute is settable yet.
fn setselfattr(attr: Option<Attr>) -> Result {
    match attr {
        Some(_) | None => Err(EOPNOTSUPP),
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_hooks)]
mod tests {
    use super::*;
    use kernel::cred::NewCredential;
    use kernel::lsm::blob;
    use kernel::sync::Arc;

    #[test]
    fn credentials_start_in_the_initial_namespace() -> Result {
        let new = NewCredential::prepare()?;
        let ns = blob::cred_new::<Secns>(&new).ok_or(EINVAL)?.namespace();
        assert_eq!(ns.id(), 0);
        assert_eq!(ns.depth(), 0);
        assert_eq!(ns.parent_id(), 0);
        Ok(())
    }

    #[test]
    fn copies_of_credentials_share_the_effective_namespace() -> Result {
        let a = NewCredential::prepare()?;
        let b = NewCredential::prepare()?;
        let ns_a = blob::cred_new::<Secns>(&a).ok_or(EINVAL)?.namespace();
        let ns_b = blob::cred_new::<Secns>(&b).ok_or(EINVAL)?.namespace();
        assert!(Arc::ptr_eq(ns_a, ns_b));
        // Committed credentials carry it on.
        let ns = ns_a.clone();
        a.commit();
        let c = NewCredential::prepare()?;
        assert!(Arc::ptr_eq(
            blob::cred_new::<Secns>(&c).ok_or(EINVAL)?.namespace(),
            &ns
        ));
        Ok(())
    }

    /// Every `LSM_ATTR_*` known today, the gaps around them and the extremes.
    const ATTRS: [u32; 9] = [0, 99, 100, 101, 102, 103, 104, 105, u32::MAX];

    #[test]
    fn getselfattr_declines_every_attribute() {
        for attr in ATTRS {
            assert_eq!(getselfattr(Attr::from_raw(attr)), Err(EOPNOTSUPP));
        }
    }

    #[test]
    fn setselfattr_declines_every_attribute() {
        for attr in ATTRS {
            assert_eq!(setselfattr(Attr::from_raw(attr)), Err(EOPNOTSUPP));
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
