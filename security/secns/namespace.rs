// SPDX-License-Identifier: GPL-2.0

//! Security namespace objects, the effective namespace of credentials and
//! the pending namespace of tasks.

use crate::limits::{self, Reservation};
use kernel::lsm::secns::Node;
use kernel::lsm::{CredBlob, TaskBlob};
use kernel::prelude::*;
use kernel::sync::{new_spinlock_irq, Arc, SpinLockIrq};

/// A security namespace: the C `struct secns` that every LSM sees, with
/// secns's own data.
///
/// Reference counted: it lives while a credential (its effective namespace),
/// a task (its pending namespace) or a child namespace refers to it.
pub(crate) type Namespace = Node<Counted>;

/// The namespace's place in the count; `None` for the initial namespace.
pub(crate) struct Counted {
    _reservation: Option<Reservation>,
}

/// Makes the initial namespace: id 0, depth 0, not counted. Once, at boot.
fn initial() -> Result<Arc<Namespace>> {
    Node::initial(Counted { _reservation: None })
}

/// Makes a child of `parent`, within the limits: `ENOSPC` beyond
/// `maxnsdepth` or at `maxns`, `ENOMEM` if an allocation fails. On failure
/// nothing is left behind (no count, no namespace seen by any LSM).
///
/// The LSMs have not approved it yet.
pub(crate) fn new_child(parent: &Arc<Namespace>) -> Result<Arc<Namespace>> {
    let depth = parent.depth().checked_add(1).ok_or(ENOSPC)?;
    let counted = limits::reserve(depth)?;
    Node::new_child(
        parent,
        Counted {
            _reservation: Some(counted),
        },
    )
}

/// The id of the parent of `ns`; 0 for the initial namespace.
pub(crate) fn parent_id(ns: &Namespace) -> u64 {
    ns.parent().map_or(0, |p| p.id())
}

/// The LSM blob of credentials: their effective security namespace.
///
/// Inherited by every copy of the credentials (so by `fork` and across
/// `execve`) and released when the credentials are freed.
pub(crate) struct Effective(Arc<Namespace>);

impl Effective {
    /// Makes the blob value for effective namespace `ns`.
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self(ns)
    }

    /// The effective namespace.
    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.0
    }
}

impl CredBlob for Effective {
    fn initial() -> Result<Self> {
        Ok(Self(initial()?))
    }

    fn prepare(old: &Self) -> Result<Self> {
        Ok(Self(old.0.clone()))
    }
}

/// The LSM blob of tasks: the namespace a task created with
/// `LSM_ATTR_UNSHARE_INIT` and has not entered or dropped yet.
///
/// Only the task itself changes it, in process context; the lock keeps
/// C's `secns_pending()` race-free, from any context (it disables
/// interrupts). No namespace is dropped under it. New tasks start without
/// one: a pending namespace is not inherited.
#[pin_data]
pub(crate) struct Pending {
    #[pin]
    ns: SpinLockIrq<Option<Arc<Namespace>>>,
}

impl Pending {
    fn empty() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ns <- new_spinlock_irq!(None, "secns_pending"),
        })
    }

    /// The pending namespace, if there is one.
    pub(crate) fn get(&self) -> Option<Arc<Namespace>> {
        self.ns.lock().clone()
    }

    /// Removes the pending namespace and returns it, to be dropped by the
    /// caller outside the lock.
    pub(crate) fn take(&self) -> Option<Arc<Namespace>> {
        self.ns.lock().take()
    }

    /// Makes `ns` the pending namespace; returns the one it replaces.
    pub(crate) fn replace(&self, ns: Arc<Namespace>) -> Option<Arc<Namespace>> {
        self.ns.lock().replace(ns)
    }
}

impl TaskBlob for Pending {
    fn initial() -> impl PinInit<Self, Error> {
        Self::empty()
    }

    fn alloc(_clone_flags: u64) -> impl PinInit<Self, Error> {
        Self::empty()
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_namespace)]
mod tests {
    use super::*;
    use crate::limits::TestLimits;
    use crate::Secns;
    use kernel::cred::NewCredential;
    use kernel::lsm::blob;
    use kernel::sync::atomic::{Atomic, Relaxed};
    use kernel::sync::rcu::rcu_barrier;

    /// The initial namespace (KUnit cases run in kernel threads, there).
    fn root() -> Result<Arc<Namespace>> {
        let cred = kernel::cred::Credential::current();
        let ns = blob::cred::<Secns>(&cred)
            .ok_or(EINVAL)?
            .namespace()
            .clone();
        assert_eq!(ns.id(), 0);
        Ok(ns)
    }

    #[test]
    fn children_are_counted_while_they_live() -> Result {
        let base = limits::count();
        let root = root()?;
        let a = new_child(&root)?;
        let b = new_child(&a)?;
        assert_eq!(limits::count(), base + 2);
        assert_eq!(a.depth(), 1);
        assert_eq!(b.depth(), 2);
        assert_eq!(parent_id(&b), a.id());
        assert!(b.id() > a.id());
        drop(a);
        // `b` keeps its parent alive.
        assert_eq!(limits::count(), base + 2);
        drop(b);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn exactly_maxns_namespaces_fit() -> Result {
        let base = limits::count();
        let _limits = TestLimits::set(base + 3, limits::DEPTH_MAX);
        let root = root()?;
        let mut kept = KVec::new();
        for _ in 0..3 {
            kept.push(new_child(&root)?, GFP_KERNEL)?;
        }
        assert!(matches!(new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        // Lowering the limit below the count refuses new ones, keeps the rest.
        let _lowered = TestLimits::set(base + 1, limits::DEPTH_MAX);
        assert!(matches!(new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        drop(kept);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn depth_maxnsdepth_fits_and_deeper_fails() -> Result {
        let base = limits::count();
        let _limits = TestLimits::set(limits::maxns(), 2);
        let root = root()?;
        let one = new_child(&root)?;
        let two = new_child(&one)?;
        assert_eq!(two.depth(), 2);
        assert!(matches!(new_child(&two), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 2);
        drop(two);
        drop(one);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn a_namespace_in_credentials_is_released_when_they_are_freed() -> Result {
        let base = limits::count();
        let mut new = NewCredential::prepare()?;
        let root = blob::cred_new::<Secns>(&new)
            .ok_or(EINVAL)?
            .namespace()
            .clone();
        let child = new_child(&root)?;
        // Only the new credentials refer to it.
        *blob::cred_mut::<Secns>(&mut new).ok_or(EINVAL)? = Effective::new(child);
        assert_eq!(limits::count(), base + 1);
        // Aborting the credentials frees them (after an RCU grace period),
        // and the `cred_free` hook drops the blob exactly once; the
        // namespace goes with it, and every LSM hears of it once.
        let frees = crate::test_lsm::SECOND.frees.load(Relaxed);
        drop(new);
        rcu_barrier();
        assert_eq!(limits::count(), base);
        assert_eq!(crate::test_lsm::SECOND.frees.load(Relaxed), frees + 1);
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
        let _limits = TestLimits::set(max, limits::DEPTH_MAX);
        let root = root()?;
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
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
        assert_eq!(WRONG.load(Relaxed), 0);
        assert!(MADE.load(Relaxed) >= 3);
        assert!(REFUSED.load(Relaxed) > 0);
        assert_eq!(limits::count(), base);
        Ok(())
    }
}
