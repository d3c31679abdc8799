// SPDX-License-Identifier: GPL-2.0

//! What secns shares with C, at the bottom of the LSM (it uses only
//! [`crate::limits`], and names [`crate::Secns`] for the blob of
//! credentials): the `struct secns` objects, the LSM framework's calls about
//! them, the effective namespace of credentials and the pending namespace
//! of tasks that C reads, the accessors of
//! `include/linux/secns.h`, the uapi payloads of
//! `include/uapi/linux/secns.h` as bytes, and the audit records of
//! `audit.c`.
//!
//! This is the only module of secns with `unsafe` code.

use crate::limits::Reservation;
use crate::Secns;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use kernel::bindings;
use kernel::cred::Credential;
use kernel::lsm::{blob, CredBlob, SecNs};
use kernel::prelude::*;
use kernel::security;
use kernel::sync::aref::{ARef, AlwaysRefCounted};
use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};
use kernel::sync::Refcount;
use kernel::task::{CurrentTask, Task};
use kernel::transmute::{AsBytes, FromBytes};
use kernel::types::{NotThreadSafe, Opaque};
use kernel::uapi;
use kernel::workqueue::{self, impl_has_work, new_work, Work, WorkItem};

/// A security namespace: the C `struct secns` that every LSM sees, and what
/// secns keeps with it. Shared as an [`ARef`].
///
/// It lives while a credential (its effective namespace), a task (its
/// pending namespace) or a child namespace refers to it. When the last
/// reference goes, possibly in an RCU callback, a work item frees it (or
/// [`Namespace::release`] does, in a system call): the LSMs' `secns_free`
/// hooks run in process context, and the namespace leaves the count once
/// its memory is freed.
///
/// # Invariants
///
/// - `ns` is a valid `struct secns`: `id`, `depth` and `parent` never
///   change; `parent` is the C namespace of `self.parent` (null without
///   one); `security` is the blob from `security_secns_alloc()`, freed only
///   by `security_secns_free()` in [`Namespace::run`].
/// - The object was allocated as a `Pin<KBox<Namespace>>` by
///   [`Namespace::alloc`] and does not move; `refs` counts the [`ARef`]s to
///   it, and it is handed back to a `Pin<KBox<_>>` only when `refs` reaches
///   zero.
#[pin_data]
#[repr(C)]
pub(crate) struct Namespace {
    /// First: a `*mut Namespace` is also the `struct secns *` that C's
    /// `task_struct::secns_pending` holds (see [`Pending`]).
    ns: Opaque<bindings::secns>,
    refs: Refcount,
    parent: Option<ARef<Namespace>>,
    /// The namespace's place in the count; `None` for the initial one.
    _counted: Option<Reservation>,
    #[pin]
    free_work: Work<Namespace>,
}

// SAFETY: the C fields never change after creation except each LSM's part
// of the blob, which that LSM synchronises; `refs` is atomic; the other
// fields are `Send` and `Sync`.
unsafe impl Send for Namespace {}

// SAFETY: as for `Send`.
unsafe impl Sync for Namespace {}

impl_has_work! {
    impl HasWork<Self> for Namespace { self.free_work }
}

/// A new namespace that the LSMs have not approved yet: until
/// [`Unapproved::approve`], nothing but its creator can see it.
pub(crate) struct Unapproved(ARef<Namespace>);

impl Namespace {
    /// Allocates a namespace and its LSM blob: `ENOMEM` if either fails,
    /// and then nothing is left behind (`counted` is given back).
    fn alloc(
        id: u64,
        parent: Option<ARef<Namespace>>,
        counted: Option<Reservation>,
    ) -> Result<ARef<Self>> {
        let (depth, parent_ptr) = match &parent {
            Some(p) => (p.depth().checked_add(1).ok_or(EOVERFLOW)?, p.ns.get()),
            None => (0, ptr::null_mut()),
        };
        let raw = bindings::secns {
            id,
            depth,
            parent: parent_ptr,
            security: ptr::null_mut(),
        };
        let boxed = KBox::pin_init(
            try_pin_init!(Self {
                ns: Opaque::new(raw),
                refs: Refcount::new(1),
                parent,
                _counted: counted,
                free_work <- new_work!("secns_free"),
            }? Error),
            GFP_KERNEL_ACCOUNT,
        )?;
        // SAFETY: `ns` is valid, has no blob, and nothing else refers to it
        // yet. On failure it has no blob and the box is dropped without
        // asking any LSM; on success `security::secns_free()` runs in
        // `WorkItem::run`, before the box is freed.
        unsafe { security::secns_alloc(boxed.ns.get()) }?;
        // SAFETY: the namespace is not moved out of the box: from here on
        // the box is only reached through the reference count, and given
        // back as a pinned box in `dec_ref`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(boxed) });
        // SAFETY: `raw` comes from `KBox::into_raw`, so it is not null.
        let raw = unsafe { NonNull::new_unchecked(raw) };
        // INVARIANT: `refs` is 1, owned by the new `ARef`; the blob is set.
        // SAFETY: as above.
        Ok(unsafe { ARef::from_raw(raw) })
    }

    /// Makes the initial namespace: id 0, depth 0, no parent, not counted.
    /// Once, at boot, before any LSM later in the order has started: no
    /// LSM is asked about it.
    pub(crate) fn initial() -> Result<ARef<Self>> {
        Self::alloc(0, None, None)
    }

    /// Makes a child of `parent` with `id`, counted by `counted`: `ENOMEM`
    /// if an allocation fails. The LSMs have not been asked yet.
    pub(crate) fn new_child(
        parent: &ARef<Namespace>,
        id: u64,
        counted: Reservation,
    ) -> Result<Unapproved> {
        Self::alloc(id, Some(parent.clone()), Some(counted)).map(Unapproved)
    }

    /// The namespace, as the LSM hooks see it.
    pub(crate) fn secns(&self) -> &SecNs {
        // SAFETY: `ns` is valid while `self` lives (type invariants).
        unsafe { SecNs::from_ptr(self.ns.get()) }
    }

    /// The namespace's id: unique, never reused; 0 for the initial one.
    pub(crate) fn id(&self) -> u64 {
        self.secns().id()
    }

    /// The namespace's depth: 0 for the initial namespace.
    pub(crate) fn depth(&self) -> u32 {
        self.secns().depth()
    }

    /// The parent namespace; `None` for the initial one.
    pub(crate) fn parent(&self) -> Option<&ARef<Namespace>> {
        self.parent.as_ref()
    }

    /// Asks the LSMs whether the current task may enter this namespace, C
    /// `security_task_secns_unshare()`: the error of the first LSM that
    /// refuses. The caller has checked `CAP_MAC_ADMIN`, or this is the
    /// task's own pending namespace (checked when it was created).
    pub(crate) fn security_task_unshare(&self) -> Result {
        security::task_secns_unshare(&Credential::current(), self.secns())
    }
}

impl Unapproved {
    /// Asks the LSMs whether the current task may create this namespace,
    /// C `security_task_secns_init()`, in which each LSM may set up its
    /// state for it: the error of the first LSM that refuses (and the
    /// namespace is freed). The caller has checked `CAP_MAC_ADMIN`.
    pub(crate) fn approve(self) -> Result<ARef<Namespace>> {
        // SAFETY: the blob was allocated in `Namespace::alloc`; the LSMs are
        // asked once (this consumes the only `Unapproved`), while nothing
        // else can see the namespace.
        match unsafe { security::task_secns_init(&Credential::current(), self.0.secns()) } {
            Ok(()) => Ok(self.0),
            Err(e) => {
                Namespace::release(self.0);
                Err(e)
            }
        }
    }
}

impl Namespace {
    /// Takes the last reference to `obj` back as the pinned box it was
    /// allocated as, or `None` if references are left.
    ///
    /// # Safety
    ///
    /// The caller owns a reference to `obj`, which it gives up.
    unsafe fn last_ref(obj: NonNull<Self>) -> Option<Pin<KBox<Self>>> {
        // SAFETY: the caller owns a reference, so `obj` is valid.
        if !unsafe { obj.as_ref() }.refs.dec_and_test() {
            return None;
        }
        // SAFETY: that was the last reference; the object was allocated as
        // a pinned box that has not moved (type invariants), and nothing
        // else can reach it any more.
        Some(unsafe { Pin::new_unchecked(KBox::from_raw(obj.as_ptr())) })
    }

    /// Drops `this` in process context, where the caller may sleep: if it
    /// is the last reference, the namespace is freed (and leaves the count)
    /// before this returns, so that a namespace a system call made and
    /// dropped again is gone when the call returns. Might sleep.
    pub(crate) fn release(this: ARef<Self>) {
        kernel::task::might_sleep();
        // SAFETY: `ARef::into_raw` gives up the reference `this` owned.
        if let Some(boxed) = unsafe { Self::last_ref(ARef::into_raw(this)) } {
            #[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
            FREEING.fetch_add(1, Relaxed);
            <Self as WorkItem>::run(boxed);
        }
    }
}

// SAFETY: the object stays valid while `refs` is positive: `dec_ref` frees
// it (through the work item) only when the last reference is gone.
unsafe impl AlwaysRefCounted for Namespace {
    fn inc_ref(&self) {
        self.refs.inc();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns a reference, which it gives up.
        if let Some(boxed) = unsafe { Self::last_ref(obj) } {
            #[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
            FREEING.fetch_add(1, Relaxed);
            // This may be an RCU callback: free it where LSMs may sleep.
            workqueue::system_dfl().enqueue(boxed);
        }
    }
}

impl WorkItem for Namespace {
    type Pointer = Pin<KBox<Self>>;

    /// Frees the namespace: the LSMs' `secns_free` hooks (which may sleep),
    /// then its memory, and only then its place in the count, so that
    /// `maxns` bounds the memory of namespaces whatever the hooks cost.
    fn run(mut this: Pin<KBox<Self>>) {
        // SAFETY: the last reference is gone, so no LSM uses the namespace
        // any more; its blob came from `security_secns_alloc()` (type
        // invariants). `this.parent` outlives the call: it is dropped with
        // the box, after it.
        unsafe { security::secns_free(this.ns.get()) };
        let counted = this.as_mut().project()._counted.take();
        // The reference to the parent goes now, then the count.
        drop(this);
        drop(counted);
        #[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
        FREEING.fetch_sub(1, Relaxed);
    }
}

/// The namespaces whose free work is queued or running, for the KUnit tests
/// to wait for (kernels without them do not keep it).
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
static FREEING: Atomic<u32> = Atomic::new(0);

/// How many namespaces are being freed: their last reference is gone, their
/// memory not yet.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) fn freeing() -> u32 {
    FREEING.load(Relaxed)
}

/// Waits until every namespace whose last reference is gone has been freed,
/// credentials freed after an RCU grace period included; `ETIMEDOUT` after
/// about ten seconds.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) fn wait_for_frees() -> Result {
    use kernel::sync::rcu::rcu_barrier;
    use kernel::time::{delay::fsleep, Delta};
    for _ in 0..10_000 {
        rcu_barrier();
        if FREEING.load(Relaxed) == 0 {
            return Ok(());
        }
        fsleep(Delta::from_millis(1));
    }
    Err(ETIMEDOUT)
}

/// Waits until at most `count` namespaces are counted, then as
/// [`wait_for_frees`]; `ETIMEDOUT` after about ten seconds. The namespaces
/// of a task that has exited leave the count when the task is freed, which
/// may come a while after it ended.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) fn wait_for_count(count: u32) -> Result {
    use kernel::sync::rcu::rcu_barrier;
    use kernel::time::{delay::fsleep, Delta};
    for _ in 0..10_000 {
        // A namespace leaves the count once it is freed; the frees of
        // others may still be queued.
        if crate::limits::count() <= count {
            return wait_for_frees();
        }
        rcu_barrier();
        fsleep(Delta::from_millis(1));
    }
    Err(ETIMEDOUT)
}

/// A reference to a namespace that the running KUnit test holds: dropped
/// when this is dropped or, if the test ends first, when KUnit cleans up
/// after it. A failed assertion ends a test without running destructors: a
/// reference in a plain variable would keep its namespace counted for good.
///
/// # Invariants
///
/// `_cleanup` owns a reference to `ns`, which it drops only when `self` is
/// dropped, or after the test, and everything that could reach `self` with
/// it, has ended.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) struct Held {
    ns: NonNull<Namespace>,
    _cleanup: kernel::kunit::Cleanup,
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl Held {
    /// Gives `ns` to the running test; on error it has been dropped.
    pub(crate) fn new(ns: ARef<Namespace>) -> Result<Self> {
        let ptr = NonNull::from(&*ns);
        let cleanup = kernel::kunit::Cleanup::new(ns, drop::<ARef<Namespace>>)?;
        // INVARIANT: the cleanup owns the reference to `ptr`.
        Ok(Self {
            ns: ptr,
            _cleanup: cleanup,
        })
    }

    /// Another reference to the namespace, for the functions that take one.
    pub(crate) fn aref(&self) -> ARef<Namespace> {
        ARef::from(&**self)
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl core::ops::Deref for Held {
    type Target = Namespace;

    fn deref(&self) -> &Namespace {
        // SAFETY: the reference that the cleanup owns keeps the namespace
        // alive while `self` lives (type invariants).
        unsafe { self.ns.as_ref() }
    }
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl Unapproved {
    /// Gives the namespace, still unapproved, to the running test.
    pub(crate) fn held(self) -> Result<Held> {
        Held::new(self.0)
    }
}

/// The LSM blob of credentials: their effective security namespace.
///
/// Inherited by every copy of the credentials (so by `fork` and across
/// `execve`) and released when the credentials are freed.
pub(crate) struct Effective(ARef<Namespace>);

impl Effective {
    /// Makes the blob value for effective namespace `ns`.
    pub(crate) fn new(ns: ARef<Namespace>) -> Self {
        Self(ns)
    }

    /// The effective namespace.
    pub(crate) fn namespace(&self) -> &ARef<Namespace> {
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

/// The pending namespace of a task: the namespace it created with
/// `LSM_ATTR_UNSHARE_INIT` and has not entered or dropped yet.
///
/// It is C's `task_struct::secns_pending`, not an LSM task blob: a blob
/// would cost every `fork()` a `kzalloc()` and every task free a `kfree()`
/// (about 190 instructions, over a third of what secns added to a fork) for a
/// pointer that is almost always null. `dup_task_struct()` clears it, so a
/// pending namespace is not inherited; [`task_free`] drops it.
///
/// Only the task itself changes it (through [`OwnPending`]); C's
/// `secns_current_pending()` reads it without a lock.
///
/// # Invariants
///
/// `ns` is null or owns one reference to a namespace (from
/// [`ARef::into_raw`]); the address of a [`Namespace`] is that of its
/// `struct secns` (`repr(C)`, `ns` first).
#[repr(transparent)]
pub(crate) struct Pending {
    ns: Atomic<*mut Namespace>,
}

const _: () = {
    assert!(core::mem::offset_of!(Namespace, ns) == 0);
    assert!(core::mem::size_of::<Pending>() == core::mem::size_of::<*mut bindings::secns>());
    assert!(core::mem::align_of::<Pending>() == core::mem::align_of::<*mut bindings::secns>());
};

impl Pending {
    /// The pending namespace of `task`.
    fn of(task: &Task) -> &Pending {
        // SAFETY: `task` is valid while borrowed; its `secns_pending` is a
        // pointer-sized, pointer-aligned field that C only reads or clears
        // (in `dup_task_struct()`, before the task exists) and secns
        // accesses atomically. CAST: `Pending` is a transparent wrapper of
        // an atomic pointer, with the same size and alignment (checked
        // above), and a `*mut Namespace` is a `struct secns *` (type
        // invariants).
        unsafe { &*ptr::addr_of!((*task.as_ptr()).secns_pending).cast::<Pending>() }
    }
}

/// The `task_free` hook: drops the pending namespace of a task being freed.
pub(crate) fn task_free(task: &Task) {
    let raw = Pending::of(task).ns.load(Relaxed);
    if let Some(raw) = NonNull::new(raw) {
        // SAFETY: the field owned this reference (type invariants), and the
        // task is gone: nothing else uses the field.
        drop(unsafe { ARef::from_raw(raw) });
    }
}

/// The pending namespace of the current task, for the task itself: the only
/// way to change a [`Pending`]. It is not [`Send`]: like the [`CurrentTask`]
/// it comes from, it stays with the task, so that no other thread (a work
/// item, say) changes the slot while the task reads it.
pub(crate) struct OwnPending<'a>(&'a Pending, NotThreadSafe);

/// The current task's [`OwnPending`]. (Always there now that it is a field
/// of the task; the `Option` stays for the callers.)
pub(crate) fn own_pending(task: &CurrentTask) -> Option<OwnPending<'_>> {
    Some(OwnPending(Pending::of(task), NotThreadSafe))
}

impl OwnPending<'_> {
    /// The pending namespace, if there is one.
    pub(crate) fn get(&self) -> Option<ARef<Namespace>> {
        let raw = self.0.ns.load(Acquire);
        // SAFETY: a non-null pointer holds a reference (type invariants)
        // that only this task, which is running this, could drop.
        (!raw.is_null()).then(|| ARef::from(unsafe { &*raw }))
    }

    /// Whether a namespace is pending.
    pub(crate) fn is_some(&self) -> bool {
        !self.0.ns.load(Relaxed).is_null()
    }

    /// The id of the pending namespace, if there is one.
    pub(crate) fn id(&self) -> Option<u64> {
        let raw = self.0.ns.load(Acquire);
        // SAFETY: as in `get`.
        (!raw.is_null()).then(|| unsafe { &*raw }.id())
    }

    /// Makes `ns` the pending namespace; returns the one it replaces.
    pub(crate) fn replace(&self, ns: ARef<Namespace>) -> Option<ARef<Namespace>> {
        let old = self.0.ns.xchg(ARef::into_raw(ns).as_ptr(), Release);
        // SAFETY: the old pointer's reference now belongs to the caller
        // (type invariants).
        NonNull::new(old).map(|raw| unsafe { ARef::from_raw(raw) })
    }

    /// Removes the pending namespace and returns it.
    pub(crate) fn take(&self) -> Option<ARef<Namespace>> {
        let old = self.0.ns.xchg(ptr::null_mut(), Release);
        // SAFETY: as in `replace`.
        NonNull::new(old).map(|raw| unsafe { ARef::from_raw(raw) })
    }
}

/// `struct secns_info`, what `lsm_get_self_attr(LSM_ATTR_UNSHARE)` reports.
#[repr(transparent)]
pub(crate) struct Info(uapi::secns_info);

impl Info {
    /// The report for namespace `id` (child of `parent_id`, at `depth`),
    /// with `pending_id` pending.
    pub(crate) fn new(id: u64, parent_id: u64, pending_id: Option<u64>, depth: u32) -> Self {
        Self(uapi::secns_info {
            id,
            parent_id,
            pending_id: pending_id.unwrap_or(0),
            depth,
            flags: if pending_id.is_some() {
                uapi::SECNS_INFO_PENDING
            } else {
                0
            },
        })
    }

    /// The uapi struct.
    #[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
    pub(crate) fn raw(&self) -> &uapi::secns_info {
        &self.0
    }
}

// SAFETY: `secns_info` is a `repr(C)` struct of integers without padding
// (its size is the sum of its fields', checked below), so all its bytes are
// initialised.
unsafe impl AsBytes for Info {}

/// `struct secns_unshare_args`, the payload of both attributes.
#[repr(transparent)]
pub(crate) struct UnshareArgs(uapi::secns_unshare_args);

impl UnshareArgs {
    /// `SECNS_*` flags.
    pub(crate) fn flags(&self) -> u64 {
        self.0.flags
    }

    /// The pidfd of `SECNS_JOIN` (version 1).
    pub(crate) fn pidfd(&self) -> i32 {
        self.0.pidfd
    }

    /// The reserved field (version 1), which must be zero.
    pub(crate) fn reserved(&self) -> u32 {
        self.0.reserved
    }
}

// SAFETY: a `repr(C)` struct of integers: any bytes are a valid value.
unsafe impl FromBytes for UnshareArgs {}

// SAFETY: a `repr(C)` struct of integers without padding (checked below).
unsafe impl AsBytes for UnshareArgs {}

// The uapi layout, as `include/uapi/linux/secns.h` documents it: the sizes
// of version 0, no padding, every field where user space expects it.
const _: () = {
    use core::mem::{offset_of, size_of};
    use uapi::{secns_info as I, secns_unshare_args as A};
    assert!(size_of::<I>() == uapi::SECNS_INFO_SIZE_VER0 as usize);
    assert!(size_of::<I>() == 3 * size_of::<u64>() + 2 * size_of::<u32>());
    assert!(offset_of!(I, id) == 0);
    assert!(offset_of!(I, parent_id) == 8);
    assert!(offset_of!(I, pending_id) == 16);
    assert!(offset_of!(I, depth) == 24);
    assert!(offset_of!(I, flags) == 28);
    assert!(size_of::<A>() == uapi::SECNS_UNSHARE_ARGS_SIZE_VER1 as usize);
    assert!(size_of::<A>() == size_of::<u64>() + 2 * size_of::<u32>());
    assert!(offset_of!(A, flags) == 0);
    assert!(offset_of!(A, pidfd) == uapi::SECNS_UNSHARE_ARGS_SIZE_VER0 as usize);
    assert!(offset_of!(A, reserved) == 12);
};

#[expect(
    improper_ctypes,
    reason = "only a pointer to struct task_struct crosses, which C dereferences"
)]
extern "C" {
    /// `audit.c`.
    fn secns_audit_ptrace(
        other: *mut bindings::task_struct,
        op: *const kernel::ffi::c_char,
        tracer_ns: u64,
        tracee_ns: u64,
    );
}

/// Writes the audit record of a ptrace access that the namespace boundary
/// refused: `op` is the hook, `other` the task on the other side (the
/// tracee, or the tracer of `PTRACE_TRACEME`), and the namespaces of both
/// sides, `U64_MAX` for one that is not known. Any context.
pub(crate) fn audit_ptrace(
    other: &Task,
    op: &CStr,
    tracer: Option<&Namespace>,
    tracee: Option<&Namespace>,
) {
    let id = |ns: Option<&Namespace>| ns.map_or(u64::MAX, Namespace::id);
    // SAFETY: `other` is a valid task and `op` a NUL-terminated string, both
    // for the call; `secns_audit_ptrace()` keeps neither.
    unsafe { secns_audit_ptrace(other.as_ptr(), op.as_char_ptr(), id(tracer), id(tracee)) };
}

/// C `secns_of_cred()` (`include/linux/secns.h`): NULL where the namespace
/// is not known (blank credentials, or ones whose `cred_free` hook ran).
///
/// # Safety
///
/// `cred` is valid for the call.
#[export]
unsafe extern "C" fn secns_of_cred(cred: *const bindings::cred) -> *const bindings::secns {
    // SAFETY: `cred` is valid for the call (safety requirements); what C
    // gets back lives as long as `cred`, whose blob holds a reference.
    let cred = unsafe { Credential::from_ptr(cred) };
    blob::cred::<Secns>(cred).map_or(ptr::null(), |e: &Effective| {
        e.namespace().ns.get().cast_const()
    })
}

/// C `secns_current_pending()` (`include/linux/secns.h`).
///
/// # Safety
///
/// None: it may be called from any context. (Unsafe only because
/// `#[export]` needs it to be.)
#[export]
unsafe extern "C" fn secns_current_pending() -> *const bindings::secns {
    // SAFETY: the current task is valid while it runs this, and `Task` is
    // a transparent wrapper of `struct task_struct`. In interrupt context it
    // is the interrupted task, which stays valid until the interrupt
    // returns.
    let task = unsafe { &*Task::current_raw().cast::<Task>() };
    // Null while secns is not running: nothing sets it then.
    let raw = Pending::of(task).ns.load(Acquire);
    if raw.is_null() {
        return ptr::null();
    }
    // SAFETY: the pending reference keeps the namespace alive until the
    // current task drops it, which it does not do while this runs, nor
    // while an interrupt of it runs (type invariants of `Pending`).
    unsafe { &*raw }.ns.get().cast_const()
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_ffi)]
mod tests {
    use super::*;
    use crate::unshare::{Request, Restore, ABORT};

    fn init(flags: u64) -> Result {
        crate::unshare::init(Request::flags(flags))
    }

    /// `secns_of_cred(current_cred())`, as C sees it.
    fn c_of_current_cred() -> Option<&'static SecNs> {
        let cred = Credential::current();
        // SAFETY: `cred` is valid for the call.
        let ns = unsafe { bindings::secns_of_cred(cred.as_ptr()) };
        // SAFETY: the KUnit thread's credentials (and with them their
        // namespace, the initial one, which is never freed) stay.
        (!ns.is_null()).then(|| unsafe { SecNs::from_ptr(ns) })
    }

    /// `secns_current_pending()`, as C sees it: its id.
    fn c_pending_id() -> Option<u64> {
        // SAFETY: it may be called from any context.
        let ns = unsafe { bindings::secns_current_pending() };
        // SAFETY: the pending namespace lives until this task drops it.
        (!ns.is_null()).then(|| unsafe { SecNs::from_ptr(ns) }.id())
    }

    #[test]
    fn the_c_accessors_see_the_current_task() -> Result {
        // KUnit cases run in kernel threads, in the initial namespace.
        let ns = c_of_current_cred().ok_or(ENOENT)?;
        assert_eq!((ns.id(), ns.depth()), (0, 0));
        assert!(ns.parent().is_none());
        assert_eq!(c_pending_id(), None);
        let _restore = Restore::save()?;
        init(0)?;
        let pending = own_pending(kernel::current!()).and_then(|p| p.id());
        assert!(pending.is_some());
        assert_eq!(c_pending_id(), pending);
        init(ABORT)?;
        assert_eq!(c_pending_id(), None);
        wait_for_frees()
    }

    extern "C" {
        /// `accessors_kunit.c`: what `secns_of_cred()` and
        /// `secns_current_pending()` answer in hardirq context, in an
        /// interrupt of the current task, for its credentials and itself; 0
        /// if they ran there.
        fn secns_kunit_accessors_in_hardirq(
            ns: *mut *const bindings::secns,
            pending: *mut *const bindings::secns,
        ) -> c_int;

        /// The same in softirq context.
        fn secns_kunit_accessors_in_softirq(
            ns: *mut *const bindings::secns,
            pending: *mut *const bindings::secns,
        ) -> c_int;
    }

    #[test]
    fn the_c_accessors_answer_in_softirq_and_hardirq_context() -> Result {
        let _restore = Restore::save()?;
        init(0)?;
        // What they answer in process context.
        let cred = Credential::current();
        // SAFETY: `cred` is valid for the call.
        let want_ns = unsafe { bindings::secns_of_cred(cred.as_ptr()) };
        drop(cred);
        // SAFETY: it may be called from any context.
        let want_pending = unsafe { bindings::secns_current_pending() };
        for probe in [
            secns_kunit_accessors_in_softirq,
            secns_kunit_accessors_in_hardirq,
        ] {
            let mut ns: *const bindings::secns = ptr::null();
            let mut pending: *const bindings::secns = ptr::null();
            // SAFETY: both pointers are valid for writes.
            let ret = unsafe { probe(&mut ns, &mut pending) };
            assert_eq!(ret, 0);
            assert!(!want_ns.is_null() && ns == want_ns);
            // The pending namespace, in an interrupt of its task.
            assert!(!want_pending.is_null() && pending == want_pending);
        }
        init(ABORT)?;
        wait_for_frees()
    }
}
