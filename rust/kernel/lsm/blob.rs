// SPDX-License-Identifier: GPL-2.0

//! Typed LSM blobs: an LSM's own state in each credential, task and security
//! namespace.
//!
//! The LSM framework gives every `struct cred`, `struct task_struct` and
//! `struct secns` one zeroed allocation (`->security`) in which each LSM owns
//! a part at an offset fixed at boot. Here an LSM's part holds a `Slot`: a flag saying
//! whether the value is there, and the value. The flag is needed because the
//! framework calls the free hooks of every LSM when one LSM's alloc hook
//! fails, also for LSMs whose alloc hook never ran.
//!
//! # Invariants of a slot
//!
//! While `live` is false, `value` is uninitialised; while it is true,
//! `value` is initialised and owned by the slot, and is dropped when the
//! object is freed (`cred_free`, `task_free`, `secns_free`).

use super::{secns::SecNs, Registration};
use crate::{
    bindings,
    cred::{Credential, NewCredential},
    error::{Error, Result},
    prelude::PinInit,
    task::Task,
};
use core::{mem::MaybeUninit, ptr::NonNull};

/// An LSM's state in each `struct cred`.
///
/// Values are created by [`CredBlob::initial`] for the boot credentials and
/// [`CredBlob::prepare`] for every copy, and dropped when the credentials are
/// freed. Credentials are freed from an RCU callback: `Drop` must not sleep.
pub trait CredBlob: Sized + Send + Sync {
    /// The value for the credentials of the boot task, when the LSM starts.
    fn initial() -> Result<Self>;

    /// The value for new credentials copied from credentials holding `old`
    /// (C `prepare_creds()`); an error fails the copy. Called in task
    /// context; allocations here should be accounted (`GFP_KERNEL_ACCOUNT`),
    /// like the credentials themselves.
    fn prepare(old: &Self) -> Result<Self>;

    /// The value for blank credentials that take over credentials holding
    /// `old` (the `cred_transfer` hook, which cannot fail; `None` leaves the
    /// new credentials without a value).
    fn transfer(old: &Self) -> Option<Self> {
        Self::prepare(old).ok()
    }
}

/// An LSM's state in each `struct task_struct`.
///
/// Values are initialised in place by [`TaskBlob::initial`] for the boot
/// task and [`TaskBlob::alloc`] for every new task, so they may hold locks
/// and other pinned types: a value never moves until it is dropped, when the
/// task is freed. That can happen in interrupt context or from an RCU
/// callback: `Drop` must not sleep (and must not take a lock that the value
/// also takes in process context; nothing else can use the value then).
pub trait TaskBlob: Sized + Send + Sync {
    /// The value for the boot task, when the LSM starts.
    fn initial() -> impl PinInit<Self, Error>;

    /// The value for a task being created with `clone_flags` (as given to
    /// `clone`); an error fails the task's creation. The task itself is not
    /// given: it is half-built (no pid yet) and may be freed without regard
    /// to references if its creation fails later.
    fn alloc(clone_flags: u64) -> impl PinInit<Self, Error>;
}

/// An LSM's state in each security namespace.
///
/// A value is made by [`SecNsBlob::init`] when a namespace is created, just
/// before the LSM's `task_secns_init` hook is asked about it (not when an
/// LSM before it in the order refused it), and dropped in `secns_free`,
/// after the LSM's own `secns_free` hook, in process context. The initial
/// namespace has no value: it exists before the LSMs start.
pub trait SecNsBlob: Sized + Send + Sync {
    /// The value for the new namespace `ns`, which a task with credentials
    /// `cred` is creating; an error refuses the namespace, as a refusal of
    /// the `task_secns_init` hook does.
    fn init(cred: &Credential, ns: &SecNs) -> Result<Self>;
}

impl SecNsBlob for () {
    fn init(_cred: &Credential, _ns: &SecNs) -> Result<Self> {
        Ok(())
    }
}

impl CredBlob for () {
    fn initial() -> Result<Self> {
        Ok(())
    }

    fn prepare(_old: &Self) -> Result<Self> {
        Ok(())
    }
}

impl TaskBlob for () {
    fn initial() -> impl PinInit<Self, Error> {
        Ok(())
    }

    fn alloc(_clone_flags: u64) -> impl PinInit<Self, Error> {
        Ok(())
    }
}

/// An LSM's part of a blob (see the module documentation).
#[repr(C)]
pub(crate) struct Slot<T> {
    live: bool,
    value: MaybeUninit<T>,
}

/// Whether `T` needs no blob at all.
pub(crate) const fn is_empty<T>() -> bool {
    core::mem::size_of::<T>() == 0 && !core::mem::needs_drop::<T>()
}

/// The size to request in `lsm_blob_sizes` for a blob of type `T`.
pub(crate) const fn size_of<T>() -> u32 {
    if is_empty::<T>() {
        return 0;
    }
    // The LSM framework aligns each part to `sizeof(void *)`.
    assert!(core::mem::align_of::<Slot<T>>() <= core::mem::size_of::<*const u8>());
    let size = core::mem::size_of::<Slot<T>>();
    assert!(size <= u32::MAX as usize);
    size as u32
}

impl<T> Slot<T> {
    /// Where the slot at `offset` in the blob `security` is, if there is one
    /// (`offset` is `None` until the LSM framework has set it).
    ///
    /// To be dereferenced, `security` must be the blob of a live object and
    /// `offset` the offset the LSM framework gave to a part of size
    /// `size_of::<T>()`: the blob is then long and aligned enough, and holds
    /// a slot or zeroes (a valid empty slot: `live` is false).
    #[inline(always)]
    fn at(security: *mut core::ffi::c_void, offset: Option<usize>) -> Option<NonNull<Self>> {
        let offset = offset?;
        if is_empty::<T>() {
            return None;
        }
        NonNull::new(security.cast::<u8>().wrapping_add(offset).cast::<Self>())
            .filter(|_| !security.is_null())
    }

    fn get(&self) -> Option<&T> {
        // SAFETY: `value` is initialised while `live` (slot invariant).
        self.live.then(|| unsafe { self.value.assume_init_ref() })
    }

    fn get_mut(&mut self) -> Option<&mut T> {
        if self.live {
            // SAFETY: `value` is initialised while `live` (slot invariant).
            Some(unsafe { self.value.assume_init_mut() })
        } else {
            None
        }
    }

    fn set(&mut self, value: T) {
        self.clear();
        self.value.write(value);
        // INVARIANT: `value` was just initialised.
        self.live = true;
    }

    /// Initialises the value in place; on error the slot is left empty.
    ///
    /// # Safety
    ///
    /// The slot does not move until it is cleared (it is in a blob).
    unsafe fn pin_set(&mut self, init: impl PinInit<T, Error>) -> Result {
        self.clear();
        // SAFETY: `value` is valid for writes and, being empty, holds nothing
        // to drop; it does not move until cleared (safety requirements). On
        // error `init` has left nothing behind, and `live` stays false so
        // `value` is not touched.
        unsafe { pin_init::raw_try_init(self.value.as_mut_ptr(), init)? };
        // INVARIANT: `value` was just initialised.
        self.live = true;
        Ok(())
    }

    fn clear(&mut self) {
        if self.live {
            // INVARIANT: `value` is dropped exactly once, then not live.
            self.live = false;
            // SAFETY: `value` was initialised (slot invariant).
            unsafe { self.value.assume_init_drop() };
        }
    }
}

/// Where the slot of `L` in the blob of `cred` is (see [`Slot::at`]).
///
/// # Safety
///
/// `cred` points to live credentials.
pub(crate) unsafe fn cred_slot<L: Registration>(
    cred: *const bindings::cred,
) -> Option<NonNull<Slot<L::CredBlob>>> {
    // SAFETY: `cred` is valid (safety requirements).
    Slot::at(unsafe { (*cred).security }, L::blob_sizes().cred_offset())
}

/// As [`cred_slot`], from one of `L`'s hooks: the offset is read without
/// checking that it is ready (see [`super::BlobSizes::hooked`]).
///
/// # Safety
///
/// `cred` points to live credentials; called from one of `L`'s hooks.
#[inline(always)]
pub(crate) unsafe fn hook_cred_slot<L: Registration>(
    cred: *const bindings::cred,
) -> Option<NonNull<Slot<L::CredBlob>>> {
    // SAFETY: `cred` is valid and this is one of `L`'s hooks (safety
    // requirements).
    let (security, sizes) = unsafe { ((*cred).security, L::blob_sizes().hooked()) };
    Slot::at(security, Some(sizes.lbs_cred as usize))
}

/// As [`task_slot`], from one of `L`'s hooks (see [`hook_cred_slot`]).
///
/// # Safety
///
/// `task` points to a live task; called from one of `L`'s hooks.
#[inline(always)]
pub(crate) unsafe fn hook_task_slot<L: Registration>(
    task: *const bindings::task_struct,
) -> Option<NonNull<Slot<L::TaskBlob>>> {
    // SAFETY: `task` is valid and this is one of `L`'s hooks (safety
    // requirements).
    let (security, sizes) = unsafe { ((*task).security, L::blob_sizes().hooked()) };
    Slot::at(security, Some(sizes.lbs_task as usize))
}

/// Where the slot of `L` in the blob of `task` is (see [`Slot::at`]).
///
/// # Safety
///
/// `task` points to a live task.
pub(crate) unsafe fn task_slot<L: Registration>(
    task: *const bindings::task_struct,
) -> Option<NonNull<Slot<L::TaskBlob>>> {
    // SAFETY: `task` is valid (safety requirements).
    Slot::at(unsafe { (*task).security }, L::blob_sizes().task_offset())
}

/// Where the slot of `L` in the blob of the security namespace `ns` is (see
/// [`Slot::at`]).
///
/// # Safety
///
/// `ns` points to a live security namespace.
pub(crate) unsafe fn secns_slot<L: Registration>(
    ns: *const bindings::secns,
) -> Option<NonNull<Slot<L::SecNsBlob>>> {
    // SAFETY: `ns` is valid (safety requirements).
    Slot::at(unsafe { (*ns).security }, L::blob_sizes().secns_offset())
}

/// Sets the value of a slot to `value`, dropping the one it had (the
/// `task_secns_init` hook).
pub(crate) fn set<T>(slot: Option<&mut Slot<T>>, value: T) {
    if let Some(slot) = slot {
        slot.set(value);
    }
}

/// Creates a new value from `old`'s into `new`'s slot (the `cred_prepare`
/// and `cred_transfer` hooks); `make` errors are returned.
pub(crate) fn copy<T>(
    old: Option<&Slot<T>>,
    new: Option<&mut Slot<T>>,
    make: impl FnOnce(&T) -> Result<T>,
) -> Result {
    if let (Some(old), Some(new)) = (old, new) {
        if let Some(value) = old.get() {
            let value = make(value)?;
            new.set(value);
        }
    }
    Ok(())
}

/// Initialises the value of a slot in a blob (the `task_alloc` hook).
///
/// # Safety
///
/// The slot is part of a blob: it does not move until it is cleared.
pub(crate) unsafe fn fill<T>(slot: Option<&mut Slot<T>>, init: impl PinInit<T, Error>) -> Result {
    match slot {
        // SAFETY: the slot does not move (safety requirements).
        Some(slot) => unsafe { slot.pin_set(init) },
        None => Ok(()),
    }
}

/// Drops the value of a slot (the free hooks).
pub(crate) fn clear<T>(slot: Option<&mut Slot<T>>) {
    if let Some(slot) = slot {
        slot.clear();
    }
}

/// Gives the boot task's credentials and task their values.
///
/// # Safety
///
/// Called once, at boot, from the LSM's init, when the current task and
/// credentials are the only ones and have zeroed blobs.
pub(crate) unsafe fn init_current<L: Registration>() -> Result {
    let task = Task::current_raw();
    // SAFETY: the boot task is alive; its blob was allocated by the LSM
    // framework with `L`'s part, and nothing else uses it now.
    if let Some(mut slot) = unsafe { task_slot::<L>(task) } {
        // SAFETY: as above; the slot is in the blob, which does not move.
        unsafe { slot.as_mut().pin_set(L::TaskBlob::initial())? };
    }
    // SAFETY: as above, for the boot task's credentials (`real_cred` and
    // `cred` are the same object at this point).
    if let Some(mut slot) = unsafe { cred_slot::<L>((*task).cred) } {
        // SAFETY: as above.
        unsafe { slot.as_mut() }.set(L::CredBlob::initial()?);
    }
    Ok(())
}

/// Returns the value of the LSM `L` in the credentials `cred`.
///
/// `None` only for blank credentials that were never given one (see
/// [`CredBlob::transfer`]) or when `L` has no credential blob.
pub fn cred<L: Registration>(cred: &Credential) -> Option<&L::CredBlob> {
    // SAFETY: `cred` is live while borrowed.
    let slot = unsafe { cred_slot::<L>(cred.as_ptr()) }?;
    // SAFETY: the blob was allocated by the LSM framework with `L`'s part
    // (every cred after boot); the slot only changes in the blob hooks, which
    // run before credentials are shared or after their last reference is
    // gone, so it does not change while `cred` is borrowed.
    unsafe { slot.as_ref() }.get()
}

/// Returns the value of the LSM `L` in the new credentials `cred`.
pub fn cred_new<'a, L: Registration>(cred: &'a NewCredential) -> Option<&'a L::CredBlob> {
    // SAFETY: `cred` is live while borrowed.
    let slot = unsafe { cred_slot::<L>(cred.as_ptr()) }?;
    // SAFETY: new credentials are referenced by `cred` alone, and the shared
    // borrow of `cred` excludes `cred_mut` while the result lives.
    unsafe { slot.as_ref() }.get()
}

/// Returns the value of the LSM `L` in the new credentials `cred`, for
/// changing before they are committed.
pub fn cred_mut<L: Registration>(cred: &mut NewCredential) -> Option<&mut L::CredBlob> {
    // SAFETY: `cred` is live while borrowed.
    let mut slot = unsafe { cred_slot::<L>(cred.as_ptr()) }?;
    // SAFETY: as in `cred()`; in addition new credentials are not shared
    // until committed and `cred` is borrowed mutably, so this is the only
    // reference to the slot.
    unsafe { slot.as_mut() }.get_mut()
}

/// Returns the value of the LSM `L` in `task`.
///
/// `None` only when `L` has no task blob.
pub fn task<L: Registration>(task: &Task) -> Option<&L::TaskBlob> {
    // SAFETY: `task` is alive while borrowed.
    let slot = unsafe { task_slot::<L>(task.as_ptr()) }?;
    // SAFETY: the blob was allocated by the LSM framework with `L`'s part;
    // the slot only changes in `task_alloc` (before the task is visible) and
    // `task_free` (after its last reference is gone).
    unsafe { slot.as_ref() }.get()
}

/// Returns the value of the LSM `L` in the security namespace `ns`.
///
/// `None` for the initial namespace, for a namespace that an LSM before `L`
/// refused, and when `L` has no namespace blob.
pub fn secns<'a, L: Registration>(ns: &'a SecNs) -> Option<&'a L::SecNsBlob> {
    // SAFETY: `ns` is live while borrowed.
    let slot = unsafe { secns_slot::<L>(ns.as_ptr()) }?;
    // SAFETY: the blob was allocated by the LSM framework with `L`'s part;
    // the slot only changes in `task_secns_init` (before the namespace is
    // shared, so before anything can borrow it) and `secns_free` (after its
    // last reference is gone).
    unsafe { slot.as_ref() }.get()
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_lsm_blob)]
mod tests {
    use super::*;
    use crate::error::code::ENOMEM;
    use crate::sync::atomic::{Atomic, Relaxed};

    static DROPS: Atomic<u32> = Atomic::new(0);

    struct Counted(u32);

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
        }
    }

    fn empty() -> Slot<Counted> {
        // A zeroed blob, as the LSM framework allocates it.
        // SAFETY: all-zero is an empty slot (`live` false, `value` unused).
        unsafe { core::mem::zeroed() }
    }

    #[test]
    fn a_zeroed_slot_is_empty_and_clearing_it_drops_nothing() {
        let before = DROPS.load(Relaxed);
        let mut s = empty();
        assert!(s.get().is_none());
        clear(Some(&mut s));
        assert_eq!(DROPS.load(Relaxed), before);
    }

    #[test]
    fn each_value_is_dropped_exactly_once() -> Result {
        let before = DROPS.load(Relaxed);
        let mut s = empty();
        // SAFETY: `s` is not moved until cleared below.
        unsafe { fill(Some(&mut s), Ok(Counted(7)))? };
        assert!(matches!(s.get(), Some(Counted(7))));
        // Replacing drops the old value.
        s.set(Counted(8));
        assert_eq!(DROPS.load(Relaxed), before + 1);
        clear(Some(&mut s));
        assert_eq!(DROPS.load(Relaxed), before + 2);
        // A second free finds the slot empty.
        clear(Some(&mut s));
        assert_eq!(DROPS.load(Relaxed), before + 2);
        Ok(())
    }

    #[test]
    fn a_failed_initialiser_leaves_the_slot_empty() {
        let before = DROPS.load(Relaxed);
        let mut s = empty();
        // SAFETY: `s` is not moved until cleared below.
        let res = unsafe { fill(Some(&mut s), Err::<Counted, _>(ENOMEM)) };
        assert_eq!(res, Err(ENOMEM));
        assert!(s.get().is_none());
        clear(Some(&mut s));
        assert_eq!(DROPS.load(Relaxed), before);
    }

    #[test]
    fn copy_prepares_from_a_live_slot_only() {
        let mut old = empty();
        let mut new = empty();
        // From an empty slot: nothing to prepare, nothing set.
        assert_eq!(
            copy(Some(&old), Some(&mut new), |c| Ok(Counted(c.0 + 1))),
            Ok(())
        );
        assert!(new.get().is_none());
        old.set(Counted(1));
        assert_eq!(
            copy(Some(&old), Some(&mut new), |c| Ok(Counted(c.0 + 1))),
            Ok(())
        );
        assert!(matches!(new.get(), Some(Counted(2))));
        clear(Some(&mut new));
        clear(Some(&mut old));
    }

    #[test]
    fn a_failed_prepare_leaves_the_new_slot_empty() {
        let mut old = empty();
        let mut new = empty();
        old.set(Counted(1));
        assert_eq!(
            copy(Some(&old), Some(&mut new), |_| Err(ENOMEM)),
            Err(ENOMEM)
        );
        assert!(new.get().is_none());
        clear(Some(&mut old));
    }

    #[test]
    fn empty_types_need_no_blob() {
        assert_eq!(size_of::<()>(), 0);
        assert!(size_of::<Counted>() >= 8);
    }
}
