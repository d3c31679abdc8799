// SPDX-License-Identifier: GPL-2.0

//! The two phases of entering a security namespace, joining the namespace
//! of another task, and what `lsm_get_self_attr(LSM_ATTR_UNSHARE)` reports.
//!
//! The checks run in the order `Documentation/userspace-api/secns.rst`
//! gives; every failure leaves the caller as it was: no namespace counted,
//! nothing pending that was not pending before.

use crate::ffi::{own_pending, Info, UnshareArgs};
use crate::namespace::{self, Effective, Namespace};
use crate::Secns;
use kernel::bindings;
use kernel::capability::{capable, Capability};
use kernel::cred::{Credential, NewCredential};
use kernel::lsm::{blob, LsmCtx};
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::task::{PtraceMode, Task};

/// `SECNS_ABORT`: drop the pending namespace.
pub(crate) const ABORT: u64 = bindings::SECNS_ABORT as u64;

/// `SECNS_JOIN`: join the namespace of the task behind a pidfd.
pub(crate) const JOIN: u64 = bindings::SECNS_JOIN as u64;

/// What user space asks of either attribute: the optional
/// `struct secns_unshare_args`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// `SECNS_*` flags.
    pub(crate) flags: u64,
    /// With `SECNS_JOIN`, the pidfd of the task to join.
    pub(crate) pidfd: Option<i32>,
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl Request {
    /// A request with `flags` and no pidfd, as a version 0 payload makes.
    pub(crate) const fn flags(flags: u64) -> Self {
        Self { flags, pidfd: None }
    }
}

/// For the KUnit tests: puts the current task back in the namespace it was
/// in when this was made, with nothing pending, and waits until the count is
/// back to what it was then. It does that when dropped or, if the test ends
/// first (a failed assertion ends it without running destructors), when
/// KUnit cleans up after the test, so that a failed case leaves nothing
/// counted for the next one.
///
/// KUnit cleans up in a kernel thread of its own, in the initial namespace
/// with nothing pending: there is nothing to put back there. The test's
/// thread has ended; its credentials and its pending namespace, and with
/// them what it entered and created, go when it is freed, which the wait
/// covers.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) struct Restore {
    _cleanup: kernel::kunit::Cleanup,
}

/// What a [`Restore`] puts back.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
struct Saved {
    /// The effective namespace.
    ns: ARef<Namespace>,
    /// The namespaces counted.
    count: u32,
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl Restore {
    /// Saves the current task's effective namespace and the count.
    pub(crate) fn save() -> Result<Self> {
        let saved = Saved {
            ns: effective()?,
            count: crate::limits::count(),
        };
        kernel::kunit::Cleanup::new(saved, Saved::restore).map(|c| Self { _cleanup: c })
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl Saved {
    fn restore(self) {
        let Self { ns, count } = self;
        if let Some(pending) = own_pending(kernel::current!()) {
            drop(pending.take());
        }
        let back = effective().is_ok_and(|now| core::ptr::eq::<Namespace>(&*now, &*ns));
        if !back {
            if let Ok(mut new) = NewCredential::prepare() {
                if let Some(e) = blob::cred_mut::<Secns>(&mut new) {
                    *e = Effective::new(ns);
                }
                let _ = new.commit();
            }
        }
        if crate::ffi::wait_for_count(count).is_err() {
            pr_warn!(
                "{} namespaces still counted after a KUnit test, {} before it\n",
                crate::limits::count(),
                count
            );
        }
    }
}

/// Reads the optional `struct secns_unshare_args` in `ctx`: `EINVAL` for
/// non-zero `lsm_ctx` flags, a payload shorter than version 0, a non-zero
/// `reserved`, a pidfd without `SECNS_JOIN`, or `SECNS_JOIN` with a payload
/// shorter than version 1; `E2BIG` for non-zero bytes beyond version 1.
pub(crate) fn request(ctx: &LsmCtx<'_>) -> Result<Request> {
    if ctx.flags() != 0 {
        return Err(EINVAL);
    }
    let args: UnshareArgs = ctx.read_struct(bindings::SECNS_UNSHARE_ARGS_SIZE_VER0 as usize)?;
    if args.reserved() != 0 {
        return Err(EINVAL);
    }
    let pidfd = if args.flags() & JOIN != 0 {
        if ctx.payload().len() < bindings::SECNS_UNSHARE_ARGS_SIZE_VER1 as usize {
            return Err(EINVAL);
        }
        Some(args.pidfd())
    } else if args.pidfd() != 0 {
        return Err(EINVAL);
    } else {
        None
    };
    Ok(Request {
        flags: args.flags(),
        pidfd,
    })
}

/// The effective namespace of the credentials `cred`.
fn effective_of(cred: &Credential) -> Result<ARef<Namespace>> {
    let effective = blob::cred::<Secns>(cred).ok_or(EOPNOTSUPP)?;
    Ok(effective.namespace().clone())
}

/// The effective namespace of the current task.
fn effective() -> Result<ARef<Namespace>> {
    effective_of(&Credential::current())
}

/// Creates a child of the current task's namespace, approved by every LSM:
/// `ENOSPC` beyond a limit, `ENOMEM`, or the refusal of an LSM. A refused
/// namespace is freed (and counted out). The caller has checked
/// `CAP_MAC_ADMIN`.
fn create() -> Result<ARef<Namespace>> {
    namespace::new_child(&effective()?)?.approve()
}

/// Makes `ns` the current task's effective namespace, once every LSM
/// approved: `ENOMEM` (for the new credentials), or the refusal of an LSM.
/// The caller's reference is released either way, in this system call: a
/// namespace made for a one-shot unshare that failed is freed before the
/// call returns.
fn enter(ns: ARef<Namespace>) -> Result {
    let ret = set_effective(&ns);
    Namespace::release(ns);
    ret
}

/// [`enter`], but for the reference.
fn set_effective(ns: &ARef<Namespace>) -> Result {
    // The credentials first, so that an LSM that approves is not overruled
    // by a failed allocation; dropped (aborted) on a veto.
    let mut new = NewCredential::prepare()?;
    ns.security_task_unshare()?;
    *blob::cred_mut::<Secns>(&mut new).ok_or(EOPNOTSUPP)? = Effective::new(ns.clone());
    new.commit()
}

/// `LSM_ATTR_UNSHARE_INIT`: creates a pending namespace, or with
/// `SECNS_ABORT` drops it.
///
/// `EINVAL` for unknown flags; with `SECNS_ABORT`, `ENOENT` if nothing is
/// pending. Otherwise, in this order: `EPERM` without `CAP_MAC_ADMIN`,
/// `EBUSY` if a namespace is pending already, `ENOSPC` beyond `maxnsdepth`
/// then at `maxns`, `ENOMEM`, then the refusal of an LSM.
pub(crate) fn init(req: Request) -> Result {
    let flags = req.flags;
    if flags & !ABORT != 0 {
        return Err(EINVAL);
    }
    let task = kernel::current!();
    let pending = own_pending(task).ok_or(EOPNOTSUPP)?;
    if flags & ABORT != 0 {
        // Dropping one's own pending namespace needs no capability.
        return pending.take().map(Namespace::release).ok_or(ENOENT);
    }
    // The only capability check of the call (the LSM framework's hooks
    // leave it to the owner of the namespaces).
    if !capable(Capability::MacAdmin) {
        return Err(EPERM);
    }
    // Only this task changes its pending namespace: no race until `replace`.
    if pending.is_some() {
        return Err(EBUSY);
    }
    let ns = create()?;
    drop(pending.replace(ns));
    Ok(())
}

/// `LSM_ATTR_UNSHARE`: makes the pending namespace the effective one, or
/// creates one and enters it when none is pending, or with `SECNS_JOIN`
/// joins the namespace of another task ([`join`]).
///
/// `EINVAL` for any other flag or when the caller has other threads (its
/// other threads would keep their credentials). Entering one's own pending
/// namespace needs no capability: `CAP_MAC_ADMIN` was checked when it was
/// created, only this task can enter it, and `execve` drops it, so a
/// runtime may drop its capabilities between the two phases. Without a
/// pending namespace: `EPERM` without `CAP_MAC_ADMIN`, then the errors of
/// [`init`]. Then `ENOMEM` (for the new credentials), or the refusal of an
/// LSM. On failure a pending namespace stays pending.
pub(crate) fn unshare(req: Request) -> Result {
    // SECNS_JOIN comes with its pidfd (`request` makes no other).
    let join_pidfd = match (req.flags, req.pidfd) {
        (0, None) => None,
        (JOIN, Some(pidfd)) => Some(pidfd),
        _ => return Err(EINVAL),
    };
    let task = kernel::current!();
    if !task.is_single_threaded() {
        return Err(EINVAL);
    }
    if let Some(pidfd) = join_pidfd {
        return join(pidfd);
    }
    let pending = own_pending(task).ok_or(EOPNOTSUPP)?;
    let ns = match pending.get() {
        Some(ns) => ns,
        // The only capability check of a one-shot unshare, for both phases.
        None if !capable(Capability::MacAdmin) => return Err(EPERM),
        None => create()?,
    };
    enter(ns)?;
    // The pending namespace, if there was one, is the one entered.
    if let Some(ns) = pending.take() {
        Namespace::release(ns);
    }
    Ok(())
}

/// `LSM_ATTR_UNSHARE` with `SECNS_JOIN`: makes the effective namespace of
/// the task behind `pidfd` the current task's own, as `setns(2)` joins the
/// other namespaces of a task (a runtime's `exec` into a running
/// container). The caller is single-threaded.
///
/// In this order: `EPERM` without `CAP_MAC_ADMIN`, `EBUSY` if a namespace
/// is pending (it would be left behind), `EBADF` if `pidfd` is not a pidfd
/// (negative values included),
/// `ESRCH` if its task has exited, `EPERM` without ptrace read access to it
/// or when its namespace is neither the caller's own nor one of its
/// descendants (nobody joins upward or sideways); then `ENOMEM`, or the
/// refusal of an LSM (`security_task_secns_unshare()`, as for entering).
fn join(pidfd: i32) -> Result {
    if !capable(Capability::MacAdmin) {
        return Err(EPERM);
    }
    if own_pending(kernel::current!()).ok_or(EOPNOTSUPP)?.is_some() {
        return Err(EBUSY);
    }
    // Only a pidfd: not the PIDFD_SELF_* values, which would join oneself.
    if pidfd < 0 {
        return Err(EBADF);
    }
    let target = Task::from_pidfd(pidfd)?;
    // A zombie's credentials stay, but it runs in no namespace any more.
    if target.is_exiting() {
        return Err(ESRCH);
    }
    if !target.ptrace_may_access(PtraceMode::READ_REALCREDS) {
        return Err(EPERM);
    }
    // The target may execve, enter a namespace or join one meanwhile: its
    // namespace only gets deeper, and the credentials checked below are the
    // ones whose namespace is entered, so no race lands the caller upward
    // or sideways.
    let ns = effective_of(&target.cred())?;
    let own = effective()?;
    if !namespace::is_within(&ns, &own) {
        return Err(EPERM);
    }
    enter(ns)
}

/// Drops the current task's pending namespace, if it has one (`execve`).
pub(crate) fn drop_pending() {
    // Most programs have nothing pending: a load, no write, on every exec.
    if let Some(pending) = own_pending(kernel::current!()).filter(|p| p.is_some()) {
        drop(pending.take());
    }
}

/// The `struct secns_info` of the current task.
pub(crate) fn info() -> Result<Info> {
    let cred = Credential::current();
    let ns = blob::cred::<Secns>(&cred).ok_or(EOPNOTSUPP)?.namespace();
    let task = kernel::current!();
    let pending = own_pending(task).ok_or(EOPNOTSUPP)?.id();
    Ok(Info::new(
        ns.id(),
        namespace::parent_id(ns),
        pending,
        ns.depth(),
    ))
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_unshare)]
mod tests {
    use super::*;
    use crate::ffi::{wait_for_frees, Held};
    use crate::limits::{self, TestLimits};
    use crate::test_lsm::{self, CountCaps, Veto, PROBE};
    use kernel::sync::atomic::Relaxed;

    /// [`super::init`] with `flags` (a version 0 payload).
    fn init(flags: u64) -> Result {
        super::init(Request::flags(flags))
    }

    /// [`super::unshare`] with `flags` (a version 0 payload).
    fn unshare(flags: u64) -> Result {
        super::unshare(Request::flags(flags))
    }

    /// What the current task's `secns_info` says.
    struct Now {
        id: u64,
        parent_id: u64,
        pending_id: u64,
        depth: u32,
        flags: u32,
    }

    fn info_now() -> Result<Now> {
        let info = info()?;
        let i = info.raw();
        Ok(Now {
            id: i.id,
            parent_id: i.parent_id,
            pending_id: i.pending_id,
            depth: i.depth,
            flags: i.flags,
        })
    }

    /// An `lsm_ctx` for secns with `flags` and `payload`.
    fn ctx_bytes(flags: u64, payload: &[u8]) -> Result<KVec<u8>> {
        let len = 32 + payload.len() as u64;
        let mut v = KVec::new();
        for word in [
            u64::from(bindings::LSM_ID_SECNS),
            flags,
            len,
            payload.len() as u64,
        ] {
            v.extend_from_slice(&word.to_ne_bytes(), GFP_KERNEL)?;
        }
        v.extend_from_slice(payload, GFP_KERNEL)?;
        Ok(v)
    }

    fn request_of(flags: u64, payload: &[u8]) -> Result<Request> {
        let bytes = ctx_bytes(flags, payload)?;
        request(&LsmCtx::parse(&bytes)?)
    }

    /// A version 1 payload.
    fn v1(flags: u64, pidfd: i32, reserved: u32) -> [u8; 16] {
        let mut p = [0u8; 16];
        p[..8].copy_from_slice(&flags.to_ne_bytes());
        p[8..12].copy_from_slice(&pidfd.to_ne_bytes());
        p[12..].copy_from_slice(&reserved.to_ne_bytes());
        p
    }

    #[test]
    fn payload_follows_the_extensible_struct_rules() -> Result {
        let flags = |f| Ok(Request::flags(f));
        // No payload: defaults.
        assert_eq!(request_of(0, &[]), flags(0));
        // Shorter than version 0.
        assert_eq!(request_of(0, &[1, 0, 0, 0]), Err(EINVAL));
        // Exactly version 0.
        assert_eq!(request_of(0, &ABORT.to_ne_bytes()), flags(ABORT));
        // Version 1, and longer with a zero tail.
        let mut long = [0u8; 24];
        long[..16].copy_from_slice(&v1(ABORT, 0, 0));
        assert_eq!(request_of(0, &long[..16]), flags(ABORT));
        assert_eq!(request_of(0, &long), flags(ABORT));
        // Longer, with a non-zero tail beyond version 1.
        long[20] = 1;
        assert_eq!(request_of(0, &long), Err(E2BIG));
        // lsm_ctx flags are not used.
        assert_eq!(request_of(1, &[]), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn version_1_carries_the_pidfd_of_join_only() -> Result {
        // SECNS_JOIN with its pidfd (fd 0 is a descriptor like any other).
        for fd in [0, 3, -1, i32::MAX] {
            let want = Ok(Request {
                flags: JOIN,
                pidfd: Some(fd),
            });
            assert_eq!(request_of(0, &v1(JOIN, fd, 0)), want);
        }
        // SECNS_JOIN needs version 1: no payload, or version 0 only.
        assert_eq!(request_of(0, &JOIN.to_ne_bytes()), Err(EINVAL));
        // A pidfd without SECNS_JOIN, and a non-zero reserved field.
        assert_eq!(request_of(0, &v1(0, 3, 0)), Err(EINVAL));
        assert_eq!(request_of(0, &v1(ABORT, -1, 0)), Err(EINVAL));
        assert_eq!(request_of(0, &v1(JOIN, 3, 1)), Err(EINVAL));
        assert_eq!(request_of(0, &v1(0, 0, 1 << 31)), Err(EINVAL));
        // SECNS_JOIN is for LSM_ATTR_UNSHARE only, and goes with no other flag.
        let join = |flags| Request {
            flags,
            pidfd: Some(0),
        };
        let _restore = Restore::save()?;
        assert_eq!(super::init(join(JOIN)), Err(EINVAL));
        assert_eq!(super::unshare(join(JOIN | ABORT)), Err(EINVAL));
        assert_eq!(info_now()?.flags, 0);
        Ok(())
    }

    #[test]
    fn init_makes_a_pending_child_and_abort_drops_it() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        init(0)?;
        let i = info_now()?;
        assert_eq!(i.id, 0);
        assert_eq!(i.depth, 0);
        assert_eq!(i.parent_id, 0);
        assert!(i.pending_id > 0);
        assert_eq!(i.flags, bindings::SECNS_INFO_PENDING);
        assert_eq!(limits::count(), base + 1);
        let task = kernel::current!();
        assert_eq!(own_pending(task).and_then(|p| p.id()), Some(i.pending_id));
        init(ABORT)?;
        // Freed by the call itself: out of the count when it returns.
        assert_eq!(limits::count(), base);
        let i = info_now()?;
        assert_eq!((i.pending_id, i.flags), (0, 0));
        assert!(own_pending(task).and_then(|p| p.id()).is_none());
        Ok(())
    }

    #[test]
    fn abort_without_pending_is_enoent() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        assert_eq!(init(ABORT), Err(ENOENT));
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn unknown_flags_are_einval() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        assert_eq!(init(2), Err(EINVAL));
        assert_eq!(init(ABORT | 1 << 63), Err(EINVAL));
        // SECNS_ABORT is for LSM_ATTR_UNSHARE_INIT only.
        assert_eq!(unshare(ABORT), Err(EINVAL));
        assert_eq!(unshare(1 << 2), Err(EINVAL));
        assert_eq!(unshare(1 << 63), Err(EINVAL));
        // SECNS_JOIN without its pidfd, which no payload makes.
        assert_eq!(unshare(JOIN), Err(EINVAL));
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        assert_eq!(info_now()?.flags, 0);
        Ok(())
    }

    #[test]
    fn a_second_init_is_ebusy_and_keeps_the_first() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        init(0)?;
        let first = info_now()?.pending_id;
        assert_eq!(init(0), Err(EBUSY));
        assert_eq!(info_now()?.pending_id, first);
        assert_eq!(limits::count(), base + 1);
        init(ABORT)?;
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn the_depth_limit_is_enospc() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        let _limits = TestLimits::set(limits::maxns(), 1)?;
        unshare(0)?;
        assert_eq!(info_now()?.depth, 1);
        assert_eq!(init(0), Err(ENOSPC));
        assert_eq!(unshare(0), Err(ENOSPC));
        assert_eq!(limits::count(), base + 1);
        assert_eq!(info_now()?.flags, 0);
        drop(_restore);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn the_count_limit_is_enospc() -> Result {
        let base = limits::count();
        let _restore = Restore::save()?;
        let _limits = TestLimits::set(base + 1, limits::maxnsdepth())?;
        init(0)?;
        init(ABORT)?;
        let _limits = TestLimits::set(base, limits::maxnsdepth())?;
        assert_eq!(init(0), Err(ENOSPC));
        assert_eq!(unshare(0), Err(ENOSPC));
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        assert_eq!(info_now()?.flags, 0);
        Ok(())
    }

    #[test]
    fn unshare_enters_the_pending_namespace() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let (inits, unshares) = (PROBE.inits.load(Relaxed), PROBE.unshares.load(Relaxed));
        init(0)?;
        let pending = info_now()?.pending_id;
        unshare(0)?;
        let i = info_now()?;
        assert_eq!((i.id, i.parent_id, i.depth), (pending, 0, 1));
        assert_eq!((i.pending_id, i.flags), (0, 0));
        assert_eq!(limits::count(), base + 1);
        // Each phase asked the stacked LSMs once.
        assert_eq!(PROBE.inits.load(Relaxed), inits + 1);
        assert_eq!(PROBE.unshares.load(Relaxed), unshares + 1);
        // The credentials are not held across the assertion: it would leave
        // them, and the namespace, behind if it failed.
        let id = blob::cred::<Secns>(&Credential::current()).map(|e| e.namespace().id());
        assert_eq!(id, Some(pending));
        // Nested: a child of the new namespace.
        unshare(0)?;
        let j = info_now()?;
        assert_eq!((j.parent_id, j.depth), (pending, 2));
        assert!(j.id > pending);
        assert_eq!(limits::count(), base + 2);
        drop(_restore);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn a_vetoed_init_frees_the_namespace_and_returns_the_veto() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let (inits, unshares) = (PROBE.inits.load(Relaxed), PROBE.unshares.load(Relaxed));
        let frees = PROBE.frees.load(Relaxed);
        let veto = Veto::init(ECONNREFUSED)?;
        // Each refused namespace is freed by the call that made it: the
        // LSMs told, and out of the count, when it returns.
        assert_eq!(init(0), Err(ECONNREFUSED));
        assert_eq!(PROBE.frees.load(Relaxed), frees + 1);
        assert_eq!(limits::count(), base);
        // A one-shot unshare whose first phase is refused stops there.
        assert_eq!(unshare(0), Err(ECONNREFUSED));
        assert_eq!(PROBE.frees.load(Relaxed), frees + 2);
        assert_eq!(limits::count(), base);
        drop(veto);
        assert_eq!(PROBE.inits.load(Relaxed), inits + 2);
        assert_eq!(PROBE.unshares.load(Relaxed), unshares);
        wait_for_frees()?;
        assert_eq!(PROBE.frees.load(Relaxed), frees + 2);
        assert_eq!(info_now()?.flags, 0);
        Ok(())
    }

    #[test]
    fn a_vetoed_unshare_keeps_the_pending_namespace() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        init(0)?;
        let pending = info_now()?.pending_id;
        let veto = Veto::unshare(EXDEV)?;
        assert_eq!(unshare(0), Err(EXDEV));
        let i = info_now()?;
        assert_eq!((i.id, i.pending_id), (0, pending));
        assert_eq!(limits::count(), base + 1);
        drop(veto);
        // The caller can retry.
        unshare(0)?;
        assert_eq!(info_now()?.id, pending);
        drop(_restore);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn a_vetoed_one_shot_unshare_leaves_nothing() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let (inits, frees) = (PROBE.inits.load(Relaxed), PROBE.frees.load(Relaxed));
        let _veto = Veto::unshare(EXDEV)?;
        assert_eq!(unshare(0), Err(EXDEV));
        // Both phases were asked, and the namespace approved by the first
        // one freed.
        assert_eq!(PROBE.inits.load(Relaxed), inits + 1);
        // Freed by the call itself.
        assert_eq!(PROBE.frees.load(Relaxed), frees + 1);
        assert_eq!(limits::count(), base);
        let i = info_now()?;
        assert_eq!((i.id, i.flags), (0, 0));
        Ok(())
    }

    #[test]
    fn a_veto_refuses_the_task_that_armed_it_only() -> Result {
        use kernel::sync::atomic::Atomic;
        use kernel::sync::{Arc, Completion};
        use kernel::workqueue;

        /// What a worker's namespace got: 0 if approved, else the errno.
        static WORKER: Atomic<i32> = Atomic::new(1);

        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let _veto = Veto::init(EACCES)?;
        assert_eq!(init(0), Err(EACCES));
        // Another task, a worker, creating a namespace meanwhile is asked the
        // same and approved.
        let root = effective()?;
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let finished = done.clone();
        WORKER.store(1, Relaxed);
        workqueue::system().try_spawn(GFP_KERNEL, move || {
            let res = namespace::new_child(&root).and_then(|ns| ns.approve());
            WORKER.store(res.map_or_else(|e| e.to_errno(), |_| 0), Relaxed);
            finished.complete_all();
        })?;
        done.wait_for_completion();
        wait_for_frees()?;
        assert_eq!(WORKER.load(Relaxed), 0);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn cap_mac_admin_is_checked_once_per_call() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let caps = CountCaps::arm()?;
        init(0)?;
        assert_eq!(caps.count(), 1);
        // Entering one's own pending namespace needs none.
        unshare(0)?;
        assert_eq!(caps.count(), 1);
        // One-shot: both phases, one check.
        unshare(0)?;
        assert_eq!(caps.count(), 2);
        init(0)?;
        // Dropping one's own pending namespace needs none.
        init(ABORT)?;
        assert_eq!(caps.count(), 3);
        drop(caps);
        drop(_restore);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn each_lsm_keeps_its_state_in_the_namespace_blob() -> Result {
        if !test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _restore = Restore::save()?;
        let drops = PROBE.ns_drops.load(Relaxed);
        init(0)?;
        let task = kernel::current!();
        let ns = Held::new(own_pending(task).and_then(|p| p.get()).ok_or(ENOENT)?)?;
        // The LSM made its value when it was asked, with what it saw then.
        let state = blob::secns::<test_lsm::SecnsTest>(ns.secns()).ok_or(ENOENT)?;
        assert_eq!((state.id, state.depth), (ns.id(), 1));
        // The initial namespace has no value.
        let root_has_one = {
            let cred = Credential::current();
            let root = blob::cred::<Secns>(&cred).ok_or(EINVAL)?.namespace();
            blob::secns::<test_lsm::SecnsTest>(root.secns()).is_some()
        };
        assert!(!root_has_one);
        drop(ns);
        init(ABORT)?;
        wait_for_frees()?;
        // Dropped exactly once, when the namespace was freed.
        assert_eq!(PROBE.ns_drops.load(Relaxed), drops + 1);
        // One that the LSM itself refuses: its value was made before it
        // was asked, and is dropped all the same.
        let veto = Veto::init(EACCES)?;
        assert_eq!(init(0), Err(EACCES));
        drop(veto);
        wait_for_frees()?;
        assert_eq!(PROBE.ns_drops.load(Relaxed), drops + 2);
        assert_eq!(limits::count(), base);
        Ok(())
    }
}
