// SPDX-License-Identifier: GPL-2.0

//! Security namespace objects, and the effective namespace of credentials.

use crate::limits::{self, Reservation};
use kernel::lsm::CredBlob;
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::Arc;

/// The id of the next namespace: ids are never reused.
static NEXT_ID: Atomic<u64> = Atomic::new(1);

/// A security namespace.
///
/// Reference counted: it lives while a credential (its effective namespace),
/// a task (its pending namespace) or a child namespace refers to it.
pub(crate) struct Namespace {
    /// Unique and never reused; 0 for the initial namespace.
    id: u64,
    /// 0 for the initial namespace, the parent's depth plus one otherwise.
    depth: u32,
    /// `None` only for the initial namespace.
    parent: Option<Arc<Namespace>>,
    /// The namespace's place in the count; `None` for the initial one.
    _counted: Option<Reservation>,
}

// The accessors serve the KUnit tests until the unshare attributes use them.
#[cfg_attr(not(CONFIG_SECURITY_SECNS_KUNIT_TEST), allow(dead_code))]
impl Namespace {
    /// Makes the initial namespace.
    pub(crate) fn initial() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                id: 0,
                depth: 0,
                parent: None,
                _counted: None,
            },
            GFP_KERNEL,
        )?)
    }

    /// Makes a child of `parent`, within the limits: `ENOSPC` beyond
    /// `maxnsdepth` or at `maxns`, `ENOMEM` if allocation fails. On failure
    /// nothing is left behind (no count, no id seen by anyone).
    pub(crate) fn new_child(parent: &Arc<Self>) -> Result<Arc<Self>> {
        let depth = parent.depth.checked_add(1).ok_or(ENOSPC)?;
        let counted = limits::reserve(depth)?;
        Ok(Arc::new(
            Self {
                id: NEXT_ID.fetch_add(1, Relaxed),
                depth,
                parent: Some(parent.clone()),
                _counted: Some(counted),
            },
            GFP_KERNEL,
        )?)
    }

    /// The namespace's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The namespace's depth.
    pub(crate) fn depth(&self) -> u32 {
        self.depth
    }

    /// The parent's id; 0 for the initial namespace.
    pub(crate) fn parent_id(&self) -> u64 {
        self.parent.as_ref().map_or(0, |p| p.id)
    }
}

/// The LSM blob of credentials: their effective security namespace.
///
/// Inherited by every copy of the credentials (so by `fork` and across
/// `execve`) and released when the credentials are freed.
pub(crate) struct Effective(Arc<Namespace>);

#[cfg_attr(not(CONFIG_SECURITY_SECNS_KUNIT_TEST), allow(dead_code))]
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
        Ok(Self(Namespace::initial()?))
    }

    fn prepare(old: &Self) -> Result<Self> {
        Ok(Self(old.0.clone()))
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_namespace)]
mod tests {
    use super::*;
    use crate::Secns;
    use kernel::cred::NewCredential;
    use kernel::lsm::blob;
    use kernel::sync::rcu::rcu_barrier;

    /// Restores the limits when a test ends, however it ends.
    struct Limits(u32, u32);

    impl Limits {
        fn save() -> Self {
            Self(limits::maxns(), limits::maxnsdepth())
        }
    }

    impl Drop for Limits {
        fn drop(&mut self) {
            limits::set_for_test(self.0, self.1);
        }
    }

    #[test]
    fn children_are_counted_while_they_live() -> Result {
        let base = limits::count();
        let root = Namespace::initial()?;
        let a = Namespace::new_child(&root)?;
        let b = Namespace::new_child(&a)?;
        assert_eq!(limits::count(), base + 2);
        assert_eq!(a.depth(), 1);
        assert_eq!(b.depth(), 2);
        assert_eq!(b.parent_id(), a.id());
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
        let _restore = Limits::save();
        let base = limits::count();
        limits::set_for_test(base + 3, limits::DEPTH_MAX);
        let root = Namespace::initial()?;
        let mut kept = KVec::new();
        for _ in 0..3 {
            kept.push(Namespace::new_child(&root)?, GFP_KERNEL)?;
        }
        assert!(matches!(Namespace::new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        // Lowering the limit below the count refuses new ones, keeps the rest.
        limits::set_for_test(base + 1, limits::DEPTH_MAX);
        assert!(matches!(Namespace::new_child(&root), Err(e) if e == ENOSPC));
        assert_eq!(limits::count(), base + 3);
        drop(kept);
        assert_eq!(limits::count(), base);
        Ok(())
    }

    #[test]
    fn depth_maxnsdepth_fits_and_deeper_fails() -> Result {
        let _restore = Limits::save();
        let base = limits::count();
        limits::set_for_test(limits::maxns(), 2);
        let root = Namespace::initial()?;
        let one = Namespace::new_child(&root)?;
        let two = Namespace::new_child(&one)?;
        assert_eq!(two.depth(), 2);
        assert!(matches!(Namespace::new_child(&two), Err(e) if e == ENOSPC));
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
        let child = Namespace::new_child(&root)?;
        // Only the new credentials refer to it.
        *blob::cred_mut::<Secns>(&mut new).ok_or(EINVAL)? = Effective::new(child);
        assert_eq!(limits::count(), base + 1);
        // Aborting the credentials frees them (after an RCU grace period),
        // and the `cred_free` hook drops the blob exactly once.
        drop(new);
        rcu_barrier();
        assert_eq!(limits::count(), base);
        Ok(())
    }
}
