// SPDX-License-Identifier: GPL-2.0

//! Security namespaces.
//!
//! C header: [`include/linux/secns.h`](srctree/include/linux/secns.h).
//!
//! A security namespace (`struct secns`) is created, reference counted and
//! freed by the one LSM that owns them (`security/secns`); every LSM borrows
//! it as a [`SecNs`] in the `task_secns_init`, `task_secns_unshare` and
//! `secns_free` hooks, and keeps its own state in the namespace's LSM blob
//! ([`Lsm::SecNsBlob`](super::Lsm::SecNsBlob)).

use crate::{bindings, types::Opaque};

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
