// SPDX-License-Identifier: GPL-2.0

//! Security namespaces (secns).
//!
//! A Linux Security Module that gives groups of processes their own security
//! namespace, in which every stacked LSM may keep its own policy. A task
//! creates one with `lsm_set_self_attr(LSM_ATTR_UNSHARE_INIT)`, which stays
//! pending while an orchestrator configures it, and enters it with
//! `LSM_ATTR_UNSHARE`; every LSM may refuse either step. A second process
//! joins a running namespace with `LSM_ATTR_UNSHARE` and `SECNS_JOIN`, and
//! the namespace is a boundary for ptrace. It is registered with the Rust
//! LSM abstractions ([`kernel::lsm`]).

use kernel::bindings;
use kernel::lsm::{Binprm, CtxWriter, Lsm, LsmCtx};
use kernel::prelude::*;
use kernel::task::{PtraceMode, Task};
use kernel::transmute::AsBytes;

mod attr;
mod ffi;
mod limits;
mod namespace;
mod ptrace;
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
mod test_lsm;
mod unshare;

use attr::Attr;
use namespace::Effective;

module! {
    type: SecnsParams,
    name: "secns",
    authors: ["secns developers"],
    description: "Security namespaces",
    license: "GPL",
    params: {
        maxns: u32 {
            default: 4096,
            description: "Most non-initial security namespaces alive at once",
        },
        maxnsdepth: u32 {
            default: 32,
            description: "Deepest security namespace (the initial one has depth 0, at most 32)",
        },
    },
}

/// Holds nothing: the module exists for its boot parameters, which the LSM
/// reads when it starts (before any initcall).
struct SecnsParams;

impl kernel::Module for SecnsParams {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}

/// The secns LSM.
struct Secns;

#[vtable]
impl Lsm for Secns {
    type CredBlob = Effective;
    /// The pending namespace is `task_struct::secns_pending`, not a task
    /// blob (`ffi::Pending`): no allocation per `fork()`.
    type TaskBlob = ();
    type SecNsBlob = ();

    fn init() -> Result {
        limits::set_from_boot(
            module_parameters::maxns.value(),
            module_parameters::maxnsdepth.value(),
        );
        pr_info!(
            "security namespaces initialised (maxns {}, maxnsdepth {})\n",
            limits::maxns(),
            limits::maxnsdepth()
        );
        Ok(())
    }

    fn fs_init() -> Result {
        limits::securityfs_init()
    }

    /// The framework asks secns for the one attribute it reports; every
    /// other `lsm_get_self_attr(2)` costs nothing more with secns.
    const SELF_ATTRS: &'static [u32] = &[bindings::LSM_ATTR_UNSHARE];

    fn getselfattr(attr: u32, out: &mut CtxWriter<'_>) -> Result {
        getselfattr(Attr::from_raw(attr), out)
    }

    fn setselfattr(attr: u32, ctx: &LsmCtx<'_>) -> Result {
        setselfattr(Attr::from_raw(attr), ctx)
    }

    /// The namespace is a boundary for ptrace ([`ptrace`]).
    fn ptrace_access_check(child: &Task, mode: PtraceMode) -> Result {
        ptrace::access_check(child, mode)
    }

    /// The same boundary for `PTRACE_TRACEME`, where `parent` is the tracer.
    fn ptrace_traceme(parent: &Task) -> Result {
        ptrace::traceme(parent)
    }

    /// `execve(2)` drops the pending namespace: a program never inherits a
    /// namespace that someone else configured (a set-user-ID program least
    /// of all).
    fn bprm_committing_creds(_bprm: &Binprm) {
        unshare::drop_pending();
    }

    /// Drops the pending namespace of a task being freed (a zombie that
    /// nobody reaps keeps it).
    fn task_free(task: &Task) {
        ffi::task_free(task);
    }
}

kernel::define_lsm! {
    Secns,
    name: "secns",
    id: bindings::LSM_ID_SECNS as u64,
}

/// `lsm_get_self_attr(2)`: `LSM_ATTR_UNSHARE` reports the caller's
/// namespaces; every other attribute gets `EOPNOTSUPP`, which the LSM
/// framework takes as "nothing to report", so the syscall keeps working for
/// the other LSMs.
fn getselfattr(attr: Option<Attr>, out: &mut CtxWriter<'_>) -> Result {
    out.write(0, self_attr(attr)?.as_bytes())
}

/// The value of `attr` for the current task, as `lsm_get_self_attr(2)`
/// returns it.
fn self_attr(attr: Option<Attr>) -> Result<ffi::Info> {
    match attr {
        Some(Attr::Unshare) => unshare::info(),
        _ => Err(EOPNOTSUPP),
    }
}

/// `lsm_set_self_attr(2)` addressed to secns: the two unshare attributes;
/// `EOPNOTSUPP` for every other one.
fn setselfattr(attr: Option<Attr>, ctx: &LsmCtx<'_>) -> Result {
    match attr {
        Some(Attr::UnshareInit) => unshare::init(unshare::request(ctx)?),
        Some(Attr::Unshare) => unshare::unshare(unshare::request(ctx)?),
        _ => Err(EOPNOTSUPP),
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_hooks)]
mod tests {
    use super::*;
    use kernel::cred::NewCredential;
    use kernel::lsm::blob;

    #[test]
    fn credentials_start_in_the_initial_namespace() -> Result {
        let new = NewCredential::prepare()?;
        let ns = blob::cred_new::<Secns>(&new).ok_or(EINVAL)?.namespace();
        assert_eq!(ns.id(), 0);
        assert_eq!(ns.depth(), 0);
        assert_eq!(namespace::parent_id(ns), 0);
        Ok(())
    }

    #[test]
    fn copies_of_credentials_share_the_effective_namespace() -> Result {
        let a = NewCredential::prepare()?;
        let b = NewCredential::prepare()?;
        let ns_a = blob::cred_new::<Secns>(&a).ok_or(EINVAL)?.namespace();
        let ns_b = blob::cred_new::<Secns>(&b).ok_or(EINVAL)?.namespace();
        assert!(core::ptr::eq::<namespace::Namespace>(&**ns_a, &**ns_b));
        // Committed credentials carry it on.
        let ns = ns_a.clone();
        a.commit()?;
        let c = NewCredential::prepare()?;
        assert!(core::ptr::eq::<namespace::Namespace>(
            &**blob::cred_new::<Secns>(&c).ok_or(EINVAL)?.namespace(),
            &*ns
        ));
        Ok(())
    }

    /// Every `LSM_ATTR_*` that is not secns's, the gaps and the extremes.
    const OTHER_ATTRS: [u32; 10] = [0, 99, 100, 101, 102, 103, 104, 105, 108, u32::MAX];

    #[test]
    fn getselfattr_answers_unshare_only() {
        for attr in Iterator::chain(OTHER_ATTRS.into_iter(), [bindings::LSM_ATTR_UNSHARE_INIT]) {
            assert!(matches!(
                self_attr(Attr::from_raw(attr)),
                Err(e) if e == EOPNOTSUPP
            ));
        }
        assert!(self_attr(Attr::from_raw(bindings::LSM_ATTR_UNSHARE)).is_ok());
    }

    #[test]
    fn setselfattr_declines_every_other_attribute() -> Result {
        // An empty secns `lsm_ctx`.
        let mut bytes = KVec::new();
        for word in [u64::from(bindings::LSM_ID_SECNS), 0, 32, 0] {
            bytes.extend_from_slice(&word.to_ne_bytes(), GFP_KERNEL)?;
        }
        let ctx = LsmCtx::parse(&bytes)?;
        for attr in OTHER_ATTRS {
            assert_eq!(setselfattr(Attr::from_raw(attr), &ctx), Err(EOPNOTSUPP));
        }
        Ok(())
    }

    #[test]
    fn attr_from_raw_knows_the_uapi_values() {
        assert!(Attr::from_raw(0).is_none());
        assert!(matches!(Attr::from_raw(100), Some(Attr::Current)));
        assert!(matches!(Attr::from_raw(105), Some(Attr::SockCreate)));
        assert!(matches!(Attr::from_raw(106), Some(Attr::Unshare)));
        assert!(matches!(Attr::from_raw(107), Some(Attr::UnshareInit)));
        assert!(Attr::from_raw(108).is_none());
    }

    #[test]
    fn secns_info_carries_each_value_in_its_uapi_field() {
        let info = ffi::Info::new(
            0x0102_0304_0506_0708,
            0x1112_1314_1516_1718,
            Some(0x2122_2324_2526_2728),
            0x3132_3334,
        );
        let i = info.raw();
        assert_eq!(i.id, 0x0102_0304_0506_0708);
        assert_eq!(i.parent_id, 0x1112_1314_1516_1718);
        assert_eq!(i.pending_id, 0x2122_2324_2526_2728);
        assert_eq!(i.depth, 0x3132_3334);
        assert_eq!(i.flags, bindings::SECNS_INFO_PENDING);
        assert_eq!(info.as_bytes().len(), 32);
        let none = ffi::Info::new(1, 0, None, 1);
        assert_eq!((none.raw().pending_id, none.raw().flags), (0, 0));
    }
}
