// SPDX-License-Identifier: GPL-2.0

//! Security namespaces within the limits, and how they nest. The objects
//! themselves, the effective namespace of credentials and the pending
//! namespace of tasks are in [`crate::ffi`], below.

use crate::limits;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{Atomic, Relaxed};

pub(crate) use crate::ffi::{Effective, Namespace, Unapproved};

/// The id of the next non-initial namespace: ids are never reused.
static NEXT_ID: Atomic<u64> = Atomic::new(1);

/// Makes a child of `parent`, within the limits: `ENOSPC` beyond
/// `maxnsdepth` or at `maxns`, `ENOMEM` if an allocation fails. On failure
/// nothing is left behind (no count, no namespace seen by any LSM).
///
/// The LSMs have not approved it yet.
pub(crate) fn new_child(parent: &ARef<Namespace>) -> Result<Unapproved> {
    let depth = parent.depth().checked_add(1).ok_or(ENOSPC)?;
    let counted = limits::reserve(depth)?;
    Namespace::new_child(parent, NEXT_ID.fetch_add(1, Relaxed), counted)
}

/// Whether `ns` is `scope` or one of its descendants: what a task in `scope`
/// may trace and join. Walks up from `ns` to the depth of `scope`.
pub(crate) fn is_within(ns: &Namespace, scope: &Namespace) -> bool {
    let mut ns = ns;
    while ns.depth() > scope.depth() {
        match ns.parent() {
            Some(parent) => ns = &**parent,
            None => return false,
        }
    }
    core::ptr::eq(ns, scope)
}

/// The id of the parent of `ns`; 0 for the initial namespace.
pub(crate) fn parent_id(ns: &Namespace) -> u64 {
    ns.parent().map_or(0, |p| p.id())
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_namespace)]
mod tests {
    use super::*;
    use crate::ffi::{wait_for_frees, Held};
    use crate::limits::TestLimits;
    use crate::Secns;
    use kernel::cred::NewCredential;
    use kernel::lsm::blob;
    use kernel::sync::atomic::{Atomic, Relaxed};

    /// The initial namespace (KUnit cases run in kernel threads, there).
    fn root() -> Result<ARef<Namespace>> {
        let cred = kernel::cred::Credential::current();
        let ns = blob::cred::<Secns>(&cred)
            .ok_or(EINVAL)?
            .namespace()
            .clone();
        // An error, not `assert!`: before the first test case of the module,
        // that is still `core`'s, which panics.
        if ns.id() != 0 {
            return Err(EINVAL);
        }
        Ok(ns)
    }

    #[test]
    fn children_are_counted_while_they_live() -> Result {
        let base = limits::count();
        let root = root()?;
        let a = Held::new(new_child(&root)?.approve()?)?;
        let b = Held::new(new_child(&a.aref())?.approve()?)?;
        assert_eq!(limits::count(), base + 2);
        assert_eq!(a.depth(), 1);
        assert_eq!(b.depth(), 2);
        assert_eq!(parent_id(&b), a.id());
        assert!(b.id() > a.id());
        drop(a);
        // `b` keeps its parent alive.
        wait_for_frees()?;
        assert_eq!(limits::count(), base + 2);
        drop(b);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn is_within_is_self_or_descendant_only() -> Result {
        let root = Held::new(root()?)?;
        let a = Held::new(new_child(&root.aref())?.approve()?)?;
        let a1 = Held::new(new_child(&a.aref())?.approve()?)?;
        let a11 = Held::new(new_child(&a1.aref())?.approve()?)?;
        let b = Held::new(new_child(&root.aref())?.approve()?)?;
        // Self and every descendant, from every ancestor.
        for (ns, scope) in [(&a, &a), (&a1, &a), (&a11, &a), (&a11, &a1), (&a, &root)] {
            assert!(is_within(ns, scope));
        }
        assert!(is_within(&root, &root));
        // Never upward or sideways, at any depth.
        for (ns, scope) in [
            (&root, &a),
            (&a, &a1),
            (&a1, &a11),
            (&b, &a),
            (&a1, &b),
            (&a11, &b),
        ] {
            assert!(!is_within(ns, scope));
        }
        drop((a, a1, a11, b));
        wait_for_frees()
    }

    #[test]
    fn exactly_maxns_namespaces_fit() -> Result {
        let base = limits::count();
        let _limits = TestLimits::set(base + 3, limits::DEPTH_MAX)?;
        let root = root()?;
        let mut kept = KVec::new();
        for _ in 0..3 {
            kept.push(new_child(&root)?.held()?, GFP_KERNEL)?;
        }
        assert!(matches!(new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        // Lowering the limit below the count refuses new ones, keeps the rest.
        let _lowered = TestLimits::set(base + 1, limits::DEPTH_MAX)?;
        assert!(matches!(new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        drop(kept);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn maxns_bounds_the_namespaces_still_being_freed() -> Result {
        use kernel::time::{delay::fsleep, Delta};
        const ROOM: u32 = 4;
        if !crate::test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let _limits = TestLimits::set(base + ROOM, limits::DEPTH_MAX)?;
        let root = root()?;
        // Every `secns_free` sleeps: namespaces are dropped much faster than
        // the work items free them. They must stay counted until freed, so
        // that creation stops at `maxns` instead of piling up a backlog.
        let _sleepy = crate::test_lsm::SleepInFree::arm()?;
        let (mut made, mut refused, mut most) = (0u32, 0u32, 0u32);
        for _ in 0..100_000 {
            if made == 64 {
                break;
            }
            match new_child(&root) {
                Ok(ns) => {
                    made += 1;
                    // The last reference, dropped as a credential's would
                    // be: the namespace is freed from a work item.
                    drop(ns.approve()?);
                }
                Err(e) if e == ENOSPC => {
                    refused += 1;
                    fsleep(Delta::from_micros(100));
                }
                Err(e) => return Err(e),
            }
            most = most.max(crate::ffi::freeing());
        }
        wait_for_frees()?;
        assert_eq!(made, 64);
        assert!(refused > 0);
        assert!(most <= ROOM);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn depth_maxnsdepth_fits_and_deeper_fails() -> Result {
        let base = limits::count();
        let _limits = TestLimits::set(limits::maxns(), 2)?;
        let root = root()?;
        let one = Held::new(new_child(&root)?.approve()?)?;
        let two = Held::new(new_child(&one.aref())?.approve()?)?;
        assert_eq!(two.depth(), 2);
        assert!(matches!(new_child(&two.aref()), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 2);
        drop(two);
        drop(one);
        wait_for_frees()?;
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn a_namespace_in_credentials_is_released_when_they_are_freed() -> Result {
        if !crate::test_lsm::needed() {
            return Ok(());
        }
        let base = limits::count();
        let mut new = NewCredential::prepare()?;
        let root = blob::cred_new::<Secns>(&new)
            .ok_or(EINVAL)?
            .namespace()
            .clone();
        let child = new_child(&root)?.approve()?;
        // Only the new credentials refer to it. They cannot be given to
        // KUnit (they may only be dropped by this task): no assertion until
        // they are gone.
        *blob::cred_mut::<Secns>(&mut new).ok_or(EINVAL)? = Effective::new(child);
        let counted = limits::count();
        // Aborting the credentials frees them (after an RCU grace period),
        // and the `cred_free` hook drops the blob exactly once; the
        // namespace goes with it, and every LSM hears of it once, in
        // process context (the hook sleeps, which would be a bug in the
        // RCU callback that frees the credentials).
        let frees = crate::test_lsm::PROBE.frees.load(Relaxed);
        let _sleepy = crate::test_lsm::SleepInFree::arm()?;
        drop(new);
        wait_for_frees()?;
        assert_eq!(counted, base + 1);
        assert_eq!(limits::count(), base);
        assert_eq!(crate::test_lsm::PROBE.frees.load(Relaxed), frees + 1);
        assert_eq!(crate::test_lsm::PROBE.slept_in_free.load(Relaxed), 1);
        Ok(())
    }

    #[test]
    fn concurrent_creation_never_exceeds_maxns_and_ends_at_baseline() -> Result {
        use kernel::sync::Completion;
        use kernel::workqueue;

        const WORKERS: u32 = 4;
        const ROUNDS: u32 = 2000;
        static LEFT: Atomic<u32> = Atomic::new(0);
        static MADE: Atomic<u32> = Atomic::new(0);
        static REFUSED: Atomic<u32> = Atomic::new(0);
        static WRONG: Atomic<u32> = Atomic::new(0);

        let base = limits::count();
        let max = base + 3;
        let _limits = TestLimits::set(max, limits::DEPTH_MAX)?;
        let root = root()?;
        let done = kernel::sync::Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        LEFT.store(WORKERS, Relaxed);
        for started in 0..WORKERS {
            let (root, finished) = (root.clone(), done.clone());
            let work = move || {
                let mut held = KVec::new();
                for round in 0..ROUNDS {
                    match new_child(&root) {
                        Ok(ns) => {
                            MADE.fetch_add(1, Relaxed);
                            if held.push(ns, GFP_KERNEL).is_err() {
                                WRONG.fetch_add(1, Relaxed);
                            }
                        }
                        Err(e) if e == ENOSPC => {
                            REFUSED.fetch_add(1, Relaxed);
                        }
                        Err(_) => {
                            WRONG.fetch_add(1, Relaxed);
                        }
                    }
                    if limits::count() > max {
                        WRONG.fetch_add(1, Relaxed);
                    }
                    // Up to four held: alone, a worker reaches the limit too.
                    if round % 4 == 3 {
                        held.clear();
                    }
                }
                drop(held);
                if LEFT.fetch_sub(1, Relaxed) == 1 {
                    finished.complete_all();
                }
            };
            if let Err(e) = workqueue::system_long().try_spawn(GFP_KERNEL, work) {
                // The workers that did not start will not count down.
                if LEFT.fetch_sub(WORKERS - started, Relaxed) == WORKERS - started {
                    done.complete_all();
                }
                done.wait_for_completion();
                return Err(e.into());
            }
        }
        done.wait_for_completion();
        wait_for_frees()?;
        assert_eq!(WRONG.load(Relaxed), 0);
        assert!(MADE.load(Relaxed) >= 3);
        assert!(REFUSED.load(Relaxed) > 0);
        assert_eq!(limits::count(), base);
        Ok(())
    }
}
