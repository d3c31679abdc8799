// SPDX-License-Identifier: GPL-2.0

//! Linux Security Modules written in Rust.
//!
//! C headers: [`include/linux/lsm_hooks.h`](srctree/include/linux/lsm_hooks.h),
//! [`include/linux/lsm_hook_defs.h`](srctree/include/linux/lsm_hook_defs.h).
//!
//! An LSM is a type that implements [`Lsm`]: its hooks are methods with safe
//! arguments and [`Result`] returns, and the state it keeps in each `struct
//! cred` and `struct task_struct` are Rust types ([`Lsm::CredBlob`],
//! [`Lsm::TaskBlob`]). [`define_lsm!`](crate::define_lsm) registers it once, the way C's
//! `DEFINE_LSM()` and `LSM_HOOK_INIT()` do: the `lsm_info` goes into
//! `.lsm_info.init`, the init function into `.init.text`, the hook list is
//! `__ro_after_init`, and the `extern "C"` adapters that turn the C
//! arguments into safe ones and the `Result` into an errno are generated from
//! the list of hook names (module [`hooks`]).
//!
//! The blob hooks (`cred_prepare`, `cred_transfer`, `cred_free`,
//! `task_alloc`, `task_free`) are registered automatically when the LSM has
//! a blob of that kind: each blob value is created by its trait's
//! constructor and dropped exactly once when the object is freed.
//!
//! # Examples
//!
//! ```ignore
//! use kernel::lsm::{self, CtxWriter, Lsm, LsmCtx};
//! use kernel::prelude::*;
//!
//! struct Example;
//!
//! impl Lsm for Example {
//!     type CredBlob = ();
//!     type TaskBlob = ();
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
//!     hooks: [getselfattr],
//! }
//! ```

use crate::{
    bindings,
    cred::Credential,
    error::Result,
    ffi::c_int,
    prelude::*,
    str::{as_char_ptr_in_const_context, CStr},
    sync::atomic::{Acquire, AtomicFlag, Release},
    types::Opaque,
};

pub mod blob;
pub mod ctx;
pub mod hooks;
pub mod secns;

pub use blob::{CredBlob, TaskBlob};
pub use ctx::{CtxWriter, LsmCtx};
pub use secns::SecNs;

/// A Linux Security Module.
///
/// Every hook has a default that behaves as if the LSM did not implement it;
/// only the hooks named in [`define_lsm!`](crate::define_lsm) are registered.
pub trait Lsm: Sized + 'static {
    /// The LSM's state in each `struct cred`; `()` for none.
    type CredBlob: CredBlob;
    /// The LSM's state in each `struct task_struct`; `()` for none.
    type TaskBlob: TaskBlob;

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

    /// The `task_secns_init` hook: may a task with credentials `cred`
    /// create the security namespace `ns`? An error refuses it, and reaches
    /// the caller; the LSM may set up its state for `ns`.
    fn task_secns_init(_cred: &Credential, _ns: &SecNs) -> Result {
        Ok(())
    }

    /// The `task_secns_unshare` hook: may a task with credentials `cred`
    /// enter the security namespace `ns`? An error refuses it.
    fn task_secns_unshare(_cred: &Credential, _ns: &SecNs) -> Result {
        Ok(())
    }

    /// The `secns_free` hook: `ns` is being freed, also when it was refused
    /// or this LSM never saw it. Can run in any context: must not sleep.
    fn secns_free(_ns: &SecNs) {}
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
    /// `LSM_ID_*` value of `include/uapi/linux/lsm.h`).
    pub const fn new(name: &'static CStr, id: u64) -> Self {
        Self(bindings::lsm_id {
            name: as_char_ptr_in_const_context(name),
            id,
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
        Self {
            sizes: Opaque::new(sizes),
            ready: AtomicFlag::new(false),
            running: AtomicFlag::new(false),
        }
    }

    /// The offsets, once the LSM framework has computed them.
    fn offsets(&self) -> Option<&bindings::lsm_blob_sizes> {
        if !self.ready.load(Acquire) {
            return None;
        }
        // SAFETY: once `ready` is set the LSM framework no longer writes the
        // sizes (type invariant), so they can be shared.
        Some(unsafe { &*self.sizes.get() })
    }

    /// The offset of this LSM's part of the cred blob, once there is one.
    pub(crate) fn cred_offset(&self) -> Option<usize> {
        self.offsets().map(|o| o.lbs_cred as usize)
    }

    /// The offset of this LSM's part of the task blob, once there is one.
    pub(crate) fn task_offset(&self) -> Option<usize> {
        self.offsets().map(|o| o.lbs_task as usize)
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

/// A function that fills in one `security_hook_list` entry (see [`hooks`]).
#[doc(hidden)]
pub type HookInit = unsafe fn(*mut bindings::security_hook_list);

/// The hook list of one LSM, filled in at boot and `__ro_after_init`.
///
/// `N` bounds the number of hooks: those named in [`define_lsm!`](crate::define_lsm) plus the
/// blob hooks.
#[repr(transparent)]
#[doc(hidden)]
pub struct HookList<const N: usize>(Opaque<[bindings::security_hook_list; N]>);

// SAFETY: written once during boot by `init`, before any other CPU or task
// can see it; read-only afterwards (and write-protected with the kernel's
// read-only-after-init data).
unsafe impl<const N: usize> Sync for HookList<N> {}

impl<const N: usize> HookList<N> {
    /// An empty list.
    pub const fn new() -> Self {
        Self(Opaque::zeroed())
    }
}

impl<const N: usize> Default for HookList<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The number of blob hooks [`init`] may add to the named ones.
#[doc(hidden)]
pub const BLOB_HOOKS: usize = 5;

/// Registers the LSM `L`: called by the `init` function of [`define_lsm!`](crate::define_lsm).
///
/// # Safety
///
/// Called once, by the LSM framework at boot (single-threaded, before any of
/// `L`'s hooks can run), with the `'static` hook list of `L`, which
/// `named.len() + BLOB_HOOKS` entries fit in.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn init<L: Registration, const N: usize>(
    list: &'static HookList<N>,
    named: &[HookInit],
    id: &'static LsmId,
) -> c_int {
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
    let blob_hooks = blob::hooks::<L>();
    let mut n = 0;
    for hook in Iterator::chain(named.iter(), blob_hooks.iter().flatten()) {
        if n == N {
            return EINVAL.to_errno();
        }
        // SAFETY: `n < N`, so the entry is within the list; nothing else
        // accesses the list during boot (safety requirements).
        unsafe { hook(entries.add(n)) };
        n += 1;
    }
    // SAFETY: `entries[..n]` are filled in and, like `id`, live forever;
    // `security_add_hooks` runs at boot as required. `n <= N` fits a c_int
    // (`N` is a small compile-time constant).
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
///     hooks: [getselfattr, setselfattr],
/// }
/// ```
///
/// Every name in `hooks` is a function of [`hooks`] and a method of
/// [`Lsm`]. The blob hooks are added when the LSM has blobs.
#[macro_export]
macro_rules! define_lsm {
    (
        $lsm:ty,
        name: $name:literal,
        id: $id:expr,
        hooks: [$($hook:ident),* $(,)?] $(,)?
    ) => {
        const _: () = {
            const __LSM_NAMED: &[$crate::lsm::HookInit] =
                &[$($crate::lsm::hooks::$hook::<$lsm>),*];
            static __LSM_ID: $crate::lsm::LsmId =
                $crate::lsm::LsmId::new($crate::c_str!($name), $id);
            #[link_section = ".data..ro_after_init"]
            static __LSM_BLOBS: $crate::lsm::BlobSizes = $crate::lsm::BlobSizes::new::<$lsm>();
            const __LSM_N: usize = __LSM_NAMED.len() + $crate::lsm::BLOB_HOOKS;
            #[link_section = ".data..ro_after_init"]
            static __LSM_HOOKS: $crate::lsm::HookList<__LSM_N> = $crate::lsm::HookList::new();

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
                // any hook runs; the list has room for the named and the
                // blob hooks.
                unsafe { $crate::lsm::init::<$lsm, __LSM_N>(&__LSM_HOOKS, __LSM_NAMED, &__LSM_ID) }
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
pub(crate) fn ret(res: Result) -> c_int {
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
