// SPDX-License-Identifier: GPL-2.0

//! Linux Security Modules written in Rust.
//!
//! C headers: [`include/linux/lsm_hooks.h`](srctree/include/linux/lsm_hooks.h),
//! [`include/linux/lsm_hook_defs.h`](srctree/include/linux/lsm_hook_defs.h).
//!
//! An LSM is a type that implements [`Lsm`] (a [`#[vtable]`](vtable) trait):
//! its hooks are methods with safe arguments and [`Result`] returns, and the
//! state it keeps in each `struct cred`, `struct task_struct` and security
//! namespace are Rust types ([`Lsm::CredBlob`], [`Lsm::TaskBlob`],
//! [`Lsm::SecNsBlob`]). [`define_lsm!`](crate::define_lsm) registers it once,
//! the way C's `DEFINE_LSM()` and `LSM_HOOK_INIT()` do: the `lsm_info` goes
//! into `.lsm_info.init`, the init function into `.init.text`, the hook list
//! is `__ro_after_init`. The hooks registered are exactly the methods the
//! implementation defines (`Lsm::HAS_*`), each through an `extern "C"`
//! adapter that turns the C arguments into safe ones and the `Result` into
//! an errno (`rust/kernel/lsm/hooks.rs`): a hook cannot be implemented and not
//! registered.
//!
//! The blob hooks (`cred_prepare`, `cred_transfer`, `cred_free`,
//! `task_alloc`, `task_free`, and `task_secns_init` and `secns_free` for the
//! namespace blob) are registered automatically when the LSM has a blob of
//! that kind: each blob value is created by its trait's constructor and
//! dropped exactly once when the object is freed.
//!
//! # Examples
//!
//! ```ignore
//! use kernel::lsm::{self, CtxWriter, Lsm, LsmCtx};
//! use kernel::prelude::*;
//!
//! struct Example;
//!
//! #[vtable]
//! impl Lsm for Example {
//!     type CredBlob = ();
//!     type TaskBlob = ();
//!     type SecNsBlob = ();
//!
//!     fn getselfattr(attr: u32, out: &mut CtxWriter<'_>) -> Result {
//!         match attr {
//!             kernel::bindings::LSM_ATTR_CURRENT => out.write(0, b"example\0"),
//!             _ => Err(EOPNOTSUPP),
//!         }
//!     }
//! }
//!
//! kernel::define_lsm! {
//!     Example,
//!     name: "example",
//!     id: 999,
//! }
//! ```

use crate::{
    bindings,
    capability::{Capability, UserNamespace},
    cred::Credential,
    error::Result,
    ffi::c_int,
    prelude::*,
    str::{as_char_ptr_in_const_context, CStr},
    sync::atomic::{Acquire, AtomicFlag, Release},
    task::{PtraceMode, Task},
    types::Opaque,
};

pub mod blob;
mod ctx;
mod hooks;
mod secns;

pub use blob::{CredBlob, SecNsBlob, TaskBlob};
pub use ctx::{CtxWriter, LsmCtx};
pub use secns::SecNs;

/// A Linux Security Module.
///
/// Every hook has a default that behaves as if the LSM did not implement it;
/// only the hooks the implementation defines are registered (it must be
/// marked `#[vtable]`, which records them in `HAS_*` constants).
#[vtable]
pub trait Lsm: Sized + 'static {
    /// The LSM's state in each `struct cred`; `()` for none.
    type CredBlob: CredBlob;
    /// The LSM's state in each `struct task_struct`; `()` for none.
    type TaskBlob: TaskBlob;
    /// The LSM's state in each security namespace; `()` for none.
    type SecNsBlob: SecNsBlob;

    /// Initialises the LSM at boot, after its hooks and blobs are set up.
    ///
    /// An error is reported by the LSM framework (which then carries on).
    fn init() -> Result {
        Ok(())
    }

    /// Runs at `fs_initcall` time, when securityfs can be used.
    fn fs_init() -> Result {
        Ok(())
    }

    /// The `LSM_ATTR_*` attributes [`Lsm::getselfattr`] reports. The LSM
    /// framework asks for these only; empty (the default) means "ask for
    /// every attribute".
    const SELF_ATTRS: &'static [u32] = &[];

    /// The `getselfattr` hook: `lsm_get_self_attr(2)` asking for `attr`.
    ///
    /// Write the LSM's answer with `out`; `EOPNOTSUPP` means "nothing to
    /// report" and keeps the syscall working for the other LSMs.
    fn getselfattr(_attr: u32, _out: &mut CtxWriter<'_>) -> Result {
        Err(EOPNOTSUPP)
    }

    /// The `setselfattr` hook: `lsm_set_self_attr(2)` addressed to this LSM
    /// (`ctx.id()` is this LSM's id).
    fn setselfattr(_attr: u32, _ctx: &LsmCtx<'_>) -> Result {
        Err(EOPNOTSUPP)
    }

    /// The `capable` hook: may credentials `cred` use capability `cap` in
    /// the user namespace `ns`? `opts` are the C `CAP_OPT_*` flags. An error
    /// refuses. Called in any context, very often: must not sleep, and
    /// should be cheap. (A number that is no capability the kernel knows is
    /// refused with `EPERM` before this is called.)
    fn capable(_cred: &Credential, _ns: &UserNamespace, _cap: Capability, _opts: u32) -> Result {
        Ok(())
    }

    /// The `ptrace_access_check` hook: may the current task access `child` in `mode`
    /// (`PTRACE_ATTACH`, `/proc/PID/mem`, `pidfd_getfd()`, `process_vm_readv()` and every
    /// other `ptrace_may_access()`)? An error refuses. Called once the uid, capability and
    /// dumpable checks passed, with `child`'s task lock held: must not sleep, nor call
    /// [`Task::ptrace_may_access`] for `child`. A refusal of a [`PtraceMode::is_noaudit`]
    /// access is not logged.
    fn ptrace_access_check(_child: &Task, _mode: PtraceMode) -> Result {
        Ok(())
    }

    /// The `ptrace_traceme` hook: may `parent` trace the current task, which asks for it
    /// with `PTRACE_TRACEME`? An error refuses. Called with `tasklist_lock` held for
    /// writing and interrupts off: must not sleep.
    fn ptrace_traceme(_parent: &Task) -> Result {
        Ok(())
    }

    /// The `bprm_committing_creds` hook: the current task is past the point
    /// of no return of `execve(2)` and about to run `bprm`'s program with
    /// its new credentials.
    fn bprm_committing_creds(_bprm: &Binprm) {}

    /// The `task_free` hook: `task` is being freed (its last reference is
    /// gone, or its creation failed), before its [`Lsm::TaskBlob`] value is
    /// dropped. Any context, an RCU callback included: must not sleep.
    fn task_free(_task: &Task) {}

    /// The `task_secns_init` hook: may a task with credentials `cred`
    /// create the security namespace `ns`? An error refuses it, and reaches
    /// the caller; the LSM may set up its state for `ns`. The LSM's
    /// [`Lsm::SecNsBlob`] value for `ns` is made before this is called.
    fn task_secns_init(_cred: &Credential, _ns: &SecNs) -> Result {
        Ok(())
    }

    /// The `task_secns_unshare` hook: may a task with credentials `cred`
    /// enter the security namespace `ns`? An error refuses it.
    fn task_secns_unshare(_cred: &Credential, _ns: &SecNs) -> Result {
        Ok(())
    }

    /// The `secns_free` hook: `ns` is being freed, also when it was refused
    /// or this LSM never saw it. Runs in process context and may sleep; the
    /// LSM's [`Lsm::SecNsBlob`] value for `ns` is dropped after it.
    fn secns_free(_ns: &SecNs) {}
}

/// The program of an `execve(2)` being loaded, C `struct linux_binprm`,
/// borrowed.
///
/// # Invariants
///
/// Made only from a pointer the LSM framework passes to a hook, valid for
/// the hook's call.
#[repr(transparent)]
pub struct Binprm(Opaque<bindings::linux_binprm>);

impl Binprm {
    /// Borrows the `struct linux_binprm` at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` is valid for `'a`.
    pub(crate) unsafe fn from_ptr<'a>(ptr: *const bindings::linux_binprm) -> &'a Self {
        // SAFETY: `Binprm` is a transparent wrapper, and the pointee is
        // valid for `'a` (safety requirements).
        unsafe { &*ptr.cast() }
    }
}

/// What [`define_lsm!`](crate::define_lsm) adds to an [`Lsm`]: where its registration lives.
///
/// # Safety
///
/// Implemented only by [`define_lsm!`](crate::define_lsm): [`Registration::blob_sizes`] returns
/// the [`BlobSizes`] that the LSM's `lsm_info` points to.
#[doc(hidden)]
pub unsafe trait Registration: Lsm {
    /// The blob sizes (offsets once the LSM framework has initialised).
    fn blob_sizes() -> &'static BlobSizes;

    /// The LSM's number.
    fn lsm_id() -> u64;
}

/// An LSM's name and number, C `struct lsm_id`.
#[repr(transparent)]
pub struct LsmId(bindings::lsm_id);

// SAFETY: the contents (a pointer to a `'static` C string and a number) are
// never written after construction.
unsafe impl Sync for LsmId {}

impl LsmId {
    /// Makes the id of the LSM called `name`, with number `id` (an
    /// `LSM_ID_*` value of `include/uapi/linux/lsm.h`), which reports the
    /// `LSM_ATTR_*` attributes `attrs` (empty: it does not say).
    ///
    /// An attribute without a bit in C's `struct lsm_id.attrs` (bit 63 is
    /// `LSM_ATTRS_NONE`, no attribute's) fails the build: left out, it could
    /// turn the list into 0, "every attribute".
    #[inline(always)]
    pub const fn new(name: &'static CStr, id: u64, attrs: &[u32]) -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < attrs.len() {
            // C's `LSM_ATTR_BIT()`.
            let n = attrs[i].wrapping_sub(bindings::LSM_ATTR_CURRENT);
            crate::build_assert::build_assert!(
                n < u64::BITS - 1,
                "an LSM_ATTR_* value without a bit"
            );
            bits |= 1 << n;
            i += 1;
        }
        Self(bindings::lsm_id {
            name: as_char_ptr_in_const_context(name),
            id,
            attrs: bits,
        })
    }

    fn as_ptr(&self) -> *const bindings::lsm_id {
        &self.0
    }

    /// The LSM number.
    pub fn id(&self) -> u64 {
        self.0.id
    }
}

/// An LSM's blob sizes, C `struct lsm_blob_sizes`, and whether they are
/// offsets yet.
///
/// The LSM framework turns the sizes into offsets during boot, for enabled
/// LSMs only; [`init`] then marks them ready. Until then (and forever for an
/// LSM left out of `CONFIG_LSM` or `lsm=`) no blob may be accessed.
#[doc(hidden)]
pub struct BlobSizes {
    sizes: Opaque<bindings::lsm_blob_sizes>,
    ready: AtomicFlag,
    running: AtomicFlag,
}

// SAFETY: the LSM framework writes the sizes once, during boot and before
// `ready` is set; afterwards they are only read.
unsafe impl Sync for BlobSizes {}

impl BlobSizes {
    /// The blob sizes that the LSM `L` needs.
    pub const fn new<L: Lsm>() -> Self {
        // SAFETY: all-zero is a valid `lsm_blob_sizes` (no blobs).
        let mut sizes: bindings::lsm_blob_sizes = unsafe { core::mem::zeroed() };
        sizes.lbs_cred = blob::size_of::<L::CredBlob>();
        sizes.lbs_task = blob::size_of::<L::TaskBlob>();
        sizes.lbs_secns = blob::size_of::<L::SecNsBlob>();
        Self {
            sizes: Opaque::new(sizes),
            ready: AtomicFlag::new(false),
            running: AtomicFlag::new(false),
        }
    }

    /// The offsets, once the LSM framework has computed them.
    #[inline]
    fn offsets(&self) -> Option<&bindings::lsm_blob_sizes> {
        if !self.ready.load(Acquire) {
            return None;
        }
        // SAFETY: once `ready` is set the LSM framework no longer writes the
        // sizes (type invariant), so they can be shared.
        Some(unsafe { &*self.sizes.get() })
    }

    /// The offsets, for a hook of this LSM. The LSM framework computed them
    /// before [`init`] registered the hooks, and never writes them again, so
    /// a hook needs neither `ready` nor a call: one load of the offset.
    ///
    /// # Safety
    ///
    /// Called from one of this LSM's hooks.
    #[inline(always)]
    pub(crate) unsafe fn hooked(&self) -> &bindings::lsm_blob_sizes {
        // SAFETY: the hooks are registered after `ready` was set (safety
        // requirements), when the framework no longer writes the sizes.
        unsafe { &*self.sizes.get() }
    }

    /// The offset of this LSM's part of the cred blob, once there is one.
    #[inline]
    pub(crate) fn cred_offset(&self) -> Option<usize> {
        self.offsets().map(|o| o.lbs_cred as usize)
    }

    /// The offset of this LSM's part of the task blob, once there is one.
    #[inline]
    pub(crate) fn task_offset(&self) -> Option<usize> {
        self.offsets().map(|o| o.lbs_task as usize)
    }

    /// The offset of this LSM's part of the security namespace blob, once
    /// there is one.
    #[inline]
    pub(crate) fn secns_offset(&self) -> Option<usize> {
        self.offsets().map(|o| o.lbs_secns as usize)
    }
}

/// An LSM's registration record, C `struct lsm_info`.
///
/// The LSM framework writes to it during boot (`lsm_enabled_set()`), hence
/// the [`Opaque`].
#[repr(transparent)]
#[doc(hidden)]
pub struct LsmInfo(Opaque<bindings::lsm_info>);

// `DEFINE_LSM()` aligns to `sizeof(unsigned long)`; the framework walks the
// section as an array, so the Rust static must be aligned the same.
const _: () =
    assert!(core::mem::align_of::<LsmInfo>() == core::mem::size_of::<crate::ffi::c_ulong>());

// SAFETY: used by the LSM framework during boot only, single-threaded; it
// holds pointers to `'static` objects that are themselves `Sync`.
unsafe impl Sync for LsmInfo {}

impl LsmInfo {
    /// The record for the LSM with `id` and `blobs`, initialised by `init`
    /// and, at `fs_initcall` time, `fs_init`.
    pub const fn new(
        id: &'static LsmId,
        blobs: &'static BlobSizes,
        init: unsafe extern "C" fn() -> c_int,
        fs_init: unsafe extern "C" fn() -> c_int,
    ) -> Self {
        // SAFETY: all-zero is a valid `lsm_info` (no callbacks, default order).
        let mut info: bindings::lsm_info = unsafe { core::mem::zeroed() };
        info.id = &id.0;
        info.blobs = blobs.sizes.get();
        info.init = Some(init);
        info.initcall_fs = Some(fs_init);
        Self(Opaque::new(info))
    }
}

/// A function that fills in one `security_hook_list` entry (see `hooks.rs`).
type HookInit = unsafe fn(*mut bindings::security_hook_list);

/// The number of hooks a Rust LSM can have.
const HOOKS: usize = 14;

/// The hooks of `L`, each with whether `L` needs it: the ones it implements
/// and the ones its blobs need.
fn hook_table<L: Registration>() -> [(bool, HookInit); HOOKS] {
    let cred = !blob::is_empty::<L::CredBlob>();
    let task = !blob::is_empty::<L::TaskBlob>();
    let secns = !blob::is_empty::<L::SecNsBlob>();
    [
        (L::HAS_GETSELFATTR, hooks::getselfattr::<L> as HookInit),
        (L::HAS_SETSELFATTR, hooks::setselfattr::<L> as HookInit),
        (L::HAS_CAPABLE, hooks::capable::<L> as HookInit),
        (
            L::HAS_PTRACE_ACCESS_CHECK,
            hooks::ptrace_access_check::<L> as HookInit,
        ),
        (
            L::HAS_PTRACE_TRACEME,
            hooks::ptrace_traceme::<L> as HookInit,
        ),
        (
            L::HAS_BPRM_COMMITTING_CREDS,
            hooks::bprm_committing_creds::<L> as HookInit,
        ),
        (
            L::HAS_TASK_SECNS_INIT || secns,
            hooks::task_secns_init::<L> as HookInit,
        ),
        (
            L::HAS_TASK_SECNS_UNSHARE,
            hooks::task_secns_unshare::<L> as HookInit,
        ),
        (
            L::HAS_SECNS_FREE || secns,
            hooks::secns_free::<L> as HookInit,
        ),
        (cred, hooks::cred_prepare::<L> as HookInit),
        (cred, hooks::cred_transfer::<L> as HookInit),
        (cred, hooks::cred_free::<L> as HookInit),
        (task, hooks::task_alloc::<L> as HookInit),
        (task || L::HAS_TASK_FREE, hooks::task_free::<L> as HookInit),
    ]
}

/// The hook list of one LSM, filled in at boot and `__ro_after_init`.
#[repr(transparent)]
#[doc(hidden)]
pub struct HookList(Opaque<[bindings::security_hook_list; HOOKS]>);

// SAFETY: written once during boot by `init`, before any other CPU or task
// can see it; read-only afterwards (and write-protected with the kernel's
// read-only-after-init data).
unsafe impl Sync for HookList {}

impl HookList {
    /// An empty list.
    pub const fn new() -> Self {
        Self(Opaque::zeroed())
    }
}

impl Default for HookList {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers the LSM `L`: called by the `init` function of [`define_lsm!`](crate::define_lsm).
///
/// # Safety
///
/// Called once, by the LSM framework at boot (single-threaded, before any of
/// `L`'s hooks can run), with the `'static` hook list of `L`.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn init<L: Registration>(list: &'static HookList, id: &'static LsmId) -> c_int {
    // The LSM is enabled (the framework calls `init` for enabled LSMs only)
    // and its blob sizes are offsets now.
    L::blob_sizes().ready.store(true, Release);
    // SAFETY: boot, before any hook runs (safety requirements).
    if let Err(e) = unsafe { blob::init_current::<L>() } {
        return e.to_errno();
    }
    if let Err(e) = L::init() {
        return e.to_errno();
    }

    // Only an LSM that initialised gets its hooks.
    let entries = list.0.get().cast::<bindings::security_hook_list>();
    let mut n = 0;
    for (_, hook) in hook_table::<L>().into_iter().filter(|(needed, _)| *needed) {
        // SAFETY: at most `HOOKS` entries are filled in, so entry `n` is
        // within the list; nothing else accesses the list during boot
        // (safety requirements).
        unsafe { hook(entries.add(n)) };
        n += 1;
    }
    // SAFETY: `entries[..n]` are filled in and, like `id`, live forever;
    // `security_add_hooks` runs at boot as required. `n <= HOOKS` fits a
    // c_int.
    unsafe { bindings::security_add_hooks(entries, n as c_int, id.as_ptr()) };
    L::blob_sizes().running.store(true, Release);
    0
}

/// Runs [`Lsm::fs_init`]: the `initcall_fs` callback of
/// [`define_lsm!`](crate::define_lsm). The LSM framework calls it for every
/// LSM it ordered, so it does nothing for an LSM whose init failed.
#[doc(hidden)]
pub fn fs_init<L: Registration>() -> c_int {
    if !L::blob_sizes().running.load(Acquire) {
        return 0;
    }
    ret(L::fs_init())
}

/// Registers a Rust LSM with the LSM framework.
///
/// ```ignore
/// kernel::define_lsm! {
///     MyLsm,                       // the type implementing `Lsm`
///     name: "mylsm",               // as in `CONFIG_LSM` and `lsm=`
///     id: bindings::LSM_ID_MYLSM,  // `LSM_ID_*` from uapi/linux/lsm.h
/// }
/// ```
///
/// The hooks registered are the methods of [`Lsm`] that `MyLsm` implements,
/// and the blob hooks its blobs need.
#[macro_export]
macro_rules! define_lsm {
    (
        $lsm:ty,
        name: $name:literal,
        id: $id:expr $(,)?
    ) => {
        const _: () = {
            static __LSM_ID: $crate::lsm::LsmId = $crate::lsm::LsmId::new(
                $crate::c_str!($name),
                $id,
                <$lsm as $crate::lsm::Lsm>::SELF_ATTRS,
            );
            #[link_section = ".data..ro_after_init"]
            static __LSM_BLOBS: $crate::lsm::BlobSizes = $crate::lsm::BlobSizes::new::<$lsm>();
            #[link_section = ".data..ro_after_init"]
            static __LSM_HOOKS: $crate::lsm::HookList = $crate::lsm::HookList::new();

            // SAFETY: `__LSM_BLOBS` is the blob sizes of `__LSM_INFO` below.
            unsafe impl $crate::lsm::Registration for $lsm {
                fn blob_sizes() -> &'static $crate::lsm::BlobSizes {
                    &__LSM_BLOBS
                }

                fn lsm_id() -> u64 {
                    __LSM_ID.id()
                }
            }

            /// # Safety
            ///
            /// Called once, by the LSM framework, at boot.
            #[link_section = ".init.text"]
            unsafe extern "C" fn __lsm_init() -> $crate::ffi::c_int {
                // SAFETY: the LSM framework calls this once at boot, before
                // any hook runs.
                unsafe { $crate::lsm::init::<$lsm>(&__LSM_HOOKS, &__LSM_ID) }
            }

            /// # Safety
            ///
            /// Called once, by the LSM framework, at `fs_initcall` time.
            #[link_section = ".init.text"]
            unsafe extern "C" fn __lsm_fs_init() -> $crate::ffi::c_int {
                $crate::lsm::fs_init::<$lsm>()
            }

            #[used]
            #[link_section = ".lsm_info.init"]
            static __LSM_INFO: $crate::lsm::LsmInfo =
                $crate::lsm::LsmInfo::new(&__LSM_ID, &__LSM_BLOBS, __lsm_init, __lsm_fs_init);
        };
    };
}

/// Turns a hook's result into the C return value.
#[inline]
pub(crate) fn ret(res: Result) -> c_int {
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_lsm_id)]
mod tests {
    use super::*;

    const FIRST: u32 = bindings::LSM_ATTR_CURRENT;
    // Made at build time, as `define_lsm!` makes them (FIRST + 62 has the
    // last bit: bit 63 is C's LSM_ATTRS_NONE).
    const SOME: LsmId = LsmId::new(c"t", 1, &[FIRST, FIRST + 6, FIRST + 62]);
    const NONE: LsmId = LsmId::new(c"t", 1, &[]);

    #[test]
    fn attrs_has_one_bit_per_listed_attribute() {
        assert_eq!(SOME.0.attrs, 1 | 1 << 6 | 1 << 62);
        assert_eq!(NONE.0.attrs, 0);
    }
}
