// SPDX-License-Identifier: GPL-2.0

//! Security namespaces.
//!
//! C header: [`include/linux/secns.h`](srctree/include/linux/secns.h).
//!
//! A security namespace (`struct secns`) is created, reference counted and
//! freed by the one LSM that owns them, as a [`Node`]; every LSM borrows it
//! as a [`SecNs`] in the `task_secns_init`, `task_secns_unshare` and
//! `secns_free` hooks, and keeps its own state in the namespace's LSM blob.
//! The owner answers the C accessors `secns_of_cred()` and
//! `secns_pending()` through [`Accessors`] and
//! [`secns_accessors!`](crate::secns_accessors).

use crate::{
    bindings,
    cred::Credential,
    error::{to_result, Result},
    prelude::*,
    sync::{
        atomic::{Atomic, AtomicFlag, Relaxed},
        Arc,
    },
    task::Task,
    types::Opaque,
};

/// A security namespace, C `struct secns`, borrowed.
///
/// # Invariants
///
/// The wrapped `struct secns` is valid: `id`, `depth` and `parent` do not
/// change after creation, and `parent` is null or a valid namespace that
/// lives at least as long as this one. Until `security_secns_free()`, which
/// runs when nothing borrows the namespace any more, `security` is the LSM
/// blob allocated by `security_secns_alloc()`.
#[repr(transparent)]
pub struct SecNs(Opaque<bindings::secns>);

// SAFETY: the fields a `SecNs` gives access to never change after creation;
// each LSM synchronises the accesses to its own part of the blob.
unsafe impl Send for SecNs {}

// SAFETY: as for `Send`.
unsafe impl Sync for SecNs {}

impl SecNs {
    /// Borrows the namespace at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid namespace that lives at least for `'a`.
    pub unsafe fn from_ptr<'a>(ptr: *const bindings::secns) -> &'a Self {
        // SAFETY: `SecNs` is a transparent wrapper of `struct secns`, which
        // is valid for `'a` (safety requirements).
        unsafe { &*ptr.cast() }
    }

    /// The C pointer, for C functions that take a `struct secns *`.
    pub fn as_ptr(&self) -> *mut bindings::secns {
        self.0.get()
    }

    /// The namespace's id: unique, never reused; 0 for the initial namespace.
    pub fn id(&self) -> u64 {
        // SAFETY: valid, and `id` never changes (type invariants).
        unsafe { (*self.0.get()).id }
    }

    /// The namespace's depth: 0 for the initial namespace.
    pub fn depth(&self) -> u32 {
        // SAFETY: valid, and `depth` never changes (type invariants).
        unsafe { (*self.0.get()).depth }
    }

    /// The parent namespace; `None` for the initial namespace.
    pub fn parent(&self) -> Option<&SecNs> {
        // SAFETY: valid, and `parent` never changes (type invariants).
        let parent = unsafe { (*self.0.get()).parent };
        // SAFETY: a non-null parent is valid and outlives `self` (type
        // invariants).
        (!parent.is_null()).then(|| unsafe { Self::from_ptr(parent) })
    }
}

/// The id of the next non-initial namespace: ids are never reused.
static NEXT_ID: Atomic<u64> = Atomic::new(1);

/// Whether the initial namespace was made.
static INITIAL_MADE: AtomicFlag = AtomicFlag::new(false);

/// A security namespace owned by Rust code, with the owner's data `T`: the
/// LSM that creates the namespaces (there is one) uses it, other LSMs see a
/// [`SecNs`].
///
/// Made by [`Node::initial`] once and by [`Node::new_child`], which gives
/// each a new id, and shared in an [`Arc`]; freed when the last reference
/// goes, after `security_secns_free()` has told every LSM. A node keeps its
/// parent alive.
///
/// # Invariants
///
/// `ns` is valid as described for [`SecNs`]; its `parent` is the C namespace
/// of `parent`, and its blob is freed only by `drop`.
pub struct Node<T> {
    ns: SecNs,
    parent: Option<Arc<Node<T>>>,
    data: T,
}

impl<T: Send + Sync> Node<T> {
    /// Makes the initial namespace: id 0, depth 0, no parent. Only once:
    /// `EEXIST` afterwards.
    pub fn initial(data: T) -> Result<Arc<Self>> {
        if INITIAL_MADE.xchg(true, Relaxed) {
            return Err(EEXIST);
        }
        Self::new(0, None, data)
    }

    /// Makes a child of `parent` with a new id: `ENOMEM` if an allocation
    /// fails, `EOVERFLOW` if the parent is as deep as can be. Nothing is
    /// left behind on failure (an id may be skipped).
    ///
    /// The LSMs have not been asked yet: see [`Node::security_task_init`].
    pub fn new_child(parent: &Arc<Self>, data: T) -> Result<Arc<Self>> {
        Self::new(NEXT_ID.fetch_add(1, Relaxed), Some(parent.clone()), data)
    }

    fn new(id: u64, parent: Option<Arc<Self>>, data: T) -> Result<Arc<Self>> {
        let (depth, parent_ptr) = match &parent {
            Some(p) => (p.ns.depth().checked_add(1).ok_or(EOVERFLOW)?, p.ns.as_ptr()),
            None => (0, core::ptr::null_mut()),
        };
        let mut raw = bindings::secns {
            id,
            depth,
            parent: parent_ptr,
            security: core::ptr::null_mut(),
        };
        // SAFETY: `raw` is valid for the call.
        to_result(unsafe { bindings::security_secns_alloc(&mut raw) })?;
        // From here on `drop` frees the blob, also if the allocation of the
        // node fails (the value is dropped then).
        Ok(Arc::new(
            // INVARIANT: `raw` holds `parent`'s namespace, which the node
            // keeps alive, and the blob just allocated.
            Self {
                ns: SecNs(Opaque::new(raw)),
                parent,
                data,
            },
            GFP_KERNEL_ACCOUNT,
        )?)
    }

    /// Asks the LSMs whether the current task may create this namespace,
    /// C `security_task_secns_init()`: `EPERM` without `CAP_MAC_ADMIN` in
    /// the initial user namespace, or the error of the first LSM that
    /// refuses. Each LSM may set up its state for the namespace.
    pub fn security_task_init(&self) -> Result {
        let cred = Credential::current();
        // SAFETY: both pointers are valid for the call.
        to_result(unsafe { bindings::security_task_secns_init(cred.as_ptr(), self.ns.as_ptr()) })
    }

    /// Asks the LSMs whether the current task may enter this namespace, C
    /// `security_task_secns_unshare()`: `EPERM` without `CAP_MAC_ADMIN` in
    /// the initial user namespace, or the error of the first LSM that
    /// refuses.
    pub fn security_task_unshare(&self) -> Result {
        let cred = Credential::current();
        // SAFETY: both pointers are valid for the call.
        to_result(unsafe { bindings::security_task_secns_unshare(cred.as_ptr(), self.ns.as_ptr()) })
    }
}

impl<T> Node<T> {
    /// The namespace, as the LSM hooks see it.
    pub fn secns(&self) -> &SecNs {
        &self.ns
    }

    /// The namespace's id.
    pub fn id(&self) -> u64 {
        self.ns.id()
    }

    /// The namespace's depth.
    pub fn depth(&self) -> u32 {
        self.ns.depth()
    }

    /// The parent namespace; `None` for a root.
    pub fn parent(&self) -> Option<&Arc<Self>> {
        self.parent.as_ref()
    }

    /// The owner's data.
    pub fn data(&self) -> &T {
        &self.data
    }
}

impl<T> Drop for Node<T> {
    fn drop(&mut self) {
        // SAFETY: the namespace is valid and its last reference is gone, so
        // no LSM uses it any more; its blob was allocated by
        // `security_secns_alloc()` (type invariants). The parent is dropped
        // after this, so it outlives the hooks.
        unsafe { bindings::security_secns_free(self.ns.as_ptr()) };
    }
}

/// What the LSM owning the security namespaces tells C code, through
/// [`secns_accessors!`](crate::secns_accessors).
pub trait Accessors {
    /// The owner's data in each [`Node`].
    type Data: Send + Sync;

    /// The security namespace of `cred`, C `secns_of_cred()`.
    fn of_cred(cred: &Credential) -> Option<&SecNs>;

    /// The pending namespace of `task`, C `secns_pending()`; called for the
    /// current task only, in any context (also interrupts).
    fn pending(task: &Task) -> Option<Arc<Node<Self::Data>>>;
}

/// C `secns_of_cred()` with the accessors of `A`.
///
/// # Safety
///
/// `cred` is valid for the call.
#[doc(hidden)]
pub unsafe fn of_cred<A: Accessors>(cred: *const bindings::cred) -> *mut bindings::secns {
    // SAFETY: `cred` is valid for the call (safety requirements); what C gets
    // back lives as long as `cred`, as `include/linux/secns.h` documents.
    let cred = unsafe { Credential::from_ptr(cred) };
    A::of_cred(cred).map_or(core::ptr::null_mut(), SecNs::as_ptr)
}

/// C `secns_pending()` with the accessors of `A`: NULL, with a warning,
/// for a task other than the current one.
///
/// # Safety
///
/// `task` is valid for the call.
#[doc(hidden)]
pub unsafe fn pending<A: Accessors>(task: *mut bindings::task_struct) -> *mut bindings::secns {
    // Only the current task keeps its pending namespace alive for the
    // caller: it enters or drops it only itself, not during the call.
    if crate::warn_on!(task != Task::current_raw()) {
        return core::ptr::null_mut();
    }
    // SAFETY: `Task` is a transparent wrapper of `struct task_struct`, which
    // is valid for the call (safety requirements).
    let task = unsafe { &*task.cast::<Task>() };
    // The reference taken by `pending` is dropped before C gets the pointer;
    // the current task keeps the namespace alive (see above).
    A::pending(task).map_or(core::ptr::null_mut(), |ns| ns.secns().as_ptr())
}

/// Defines the C accessors of `include/linux/secns.h` with the
/// [`Accessors`] of the given type. Only the LSM owning the security
/// namespaces uses it, once.
#[macro_export]
macro_rules! secns_accessors {
    ($owner:ty) => {
        const _: () = {
            /// C `secns_of_cred()`.
            ///
            /// # Safety
            ///
            /// `cred` is valid for the call (`include/linux/secns.h`).
            #[no_mangle]
            unsafe extern "C" fn secns_of_cred(
                cred: *const $crate::bindings::cred,
            ) -> *mut $crate::bindings::secns {
                // SAFETY: as required by the C caller.
                unsafe { $crate::lsm::secns::of_cred::<$owner>(cred) }
            }

            /// C `secns_pending()`.
            ///
            /// # Safety
            ///
            /// `task` is valid for the call (`include/linux/secns.h`).
            #[no_mangle]
            unsafe extern "C" fn secns_pending(
                task: *mut $crate::bindings::task_struct,
            ) -> *mut $crate::bindings::secns {
                // SAFETY: as required by the C caller.
                unsafe { $crate::lsm::secns::pending::<$owner>(task) }
            }
        };
    };
}

#[macros::kunit_tests(rust_kernel_lsm_secns)]
mod tests {
    use super::*;

    #[cfg(CONFIG_SECURITY_SECNS)]
    #[test]
    fn the_c_accessors_see_the_current_task() {
        let cred = Credential::current();
        // SAFETY: `cred` is valid for the call.
        let ns = unsafe { bindings::secns_of_cred(cred.as_ptr()) };
        assert!(!ns.is_null());
        // SAFETY: the namespace of `cred` lives at least as long as `cred`.
        let ns = unsafe { SecNs::from_ptr(ns) };
        // KUnit cases run in kernel threads, in the initial namespace.
        assert_eq!((ns.id(), ns.depth()), (0, 0));
        assert!(ns.parent().is_none());
        // SAFETY: the current task is valid, and is current.
        assert!(unsafe { bindings::secns_pending(Task::current_raw()) }.is_null());
    }
}
