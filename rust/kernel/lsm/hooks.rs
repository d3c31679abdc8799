// SPDX-License-Identifier: GPL-2.0

//! The LSM hooks a Rust LSM can implement.
//!
//! For each hook there is a function of the same name that fills in a
//! `security_hook_list` entry with the hook's adapter for the LSM `L`: an
//! `extern "C"` function that turns the C arguments into safe ones, calls
//! `L`'s method (or, for the blob hooks, the blob traits) and turns the
//! result into the C return value. [`super::init`] registers the ones `L`
//! needs. The entry is filled in by a C helper
//! generated from `lsm_hook_defs.h` (`rust/helpers/lsm.c`), whose parameter
//! type is the hook's C prototype: an adapter of the wrong type does not
//! compile.

use super::{
    blob, ret, secns::SecNs, Binprm, CredBlob, CtxWriter, LsmCtx, Registration, SecNsBlob, TaskBlob,
};
use crate::{
    bindings,
    capability::{Capability, UserNamespace},
    cred::Credential,
    ffi::{c_int, c_uint},
    task::{PtraceMode, Task},
};

macro_rules! hook {
    ($(#[$doc:meta])* $vis:vis $name:ident => $helper:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// `hl` is valid for writes.
        $vis unsafe fn $name<L: Registration>(hl: *mut bindings::security_hook_list) {
            // SAFETY: `hl` is valid for writes (safety requirements); the
            // adapter has the hook's C type, which the helper's parameter
            // type enforces.
            unsafe { bindings::$helper(hl, Some(adapters::$name::<L>)) }
        }
    };
}

hook! {
    /// `getselfattr`: [`super::Lsm::getselfattr`].
    pub(crate) getselfattr => lsm_hook_init_getselfattr
}
hook! {
    /// `setselfattr`: [`super::Lsm::setselfattr`].
    pub(crate) setselfattr => lsm_hook_init_setselfattr
}
hook! {
    /// `capable`: [`super::Lsm::capable`].
    pub(crate) capable => lsm_hook_init_capable
}
hook! {
    /// `ptrace_access_check`: [`super::Lsm::ptrace_access_check`].
    pub(crate) ptrace_access_check => lsm_hook_init_ptrace_access_check
}
hook! {
    /// `ptrace_traceme`: [`super::Lsm::ptrace_traceme`].
    pub(crate) ptrace_traceme => lsm_hook_init_ptrace_traceme
}
hook! {
    /// `bprm_committing_creds`: [`super::Lsm::bprm_committing_creds`].
    pub(crate) bprm_committing_creds => lsm_hook_init_bprm_committing_creds
}
hook! {
    /// `task_secns_init`: [`super::SecNsBlob::init`], then
    /// [`super::Lsm::task_secns_init`].
    pub(crate) task_secns_init => lsm_hook_init_task_secns_init
}
hook! {
    /// `task_secns_unshare`: [`super::Lsm::task_secns_unshare`].
    pub(crate) task_secns_unshare => lsm_hook_init_task_secns_unshare
}
hook! {
    /// `secns_free`: [`super::Lsm::secns_free`], then drops the namespace
    /// blob.
    pub(crate) secns_free => lsm_hook_init_secns_free
}
hook! {
    /// `cred_prepare`: [`super::CredBlob::prepare`] (registered automatically).
    pub(crate) cred_prepare => lsm_hook_init_cred_prepare
}
hook! {
    /// `cred_transfer`: [`super::CredBlob::transfer`] (registered automatically).
    pub(crate) cred_transfer => lsm_hook_init_cred_transfer
}
hook! {
    /// `cred_free`: drops the credential blob (registered automatically).
    pub(crate) cred_free => lsm_hook_init_cred_free
}
hook! {
    /// `task_alloc`: [`super::TaskBlob::alloc`] (registered automatically).
    pub(crate) task_alloc => lsm_hook_init_task_alloc
}
hook! {
    /// `task_free`: [`super::Lsm::task_free`], then drops the task blob
    /// (registered automatically for a task blob).
    pub(crate) task_free => lsm_hook_init_task_free
}

/// The adapters. Their safety requirements are what the LSM framework
/// guarantees for each hook (see `security/security.c`).
mod adapters {
    use super::*;

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn getselfattr<L: Registration>(
        attr: c_uint,
        uctx: *mut bindings::lsm_ctx,
        size: *mut u32,
        _flags: u32,
    ) -> c_int {
        // SAFETY: `security_getselfattr()` passes a user pointer to `*size`
        // bytes (or NULL for a size query) and a valid `size`, for the call.
        let mut out = unsafe { CtxWriter::from_raw(uctx, size, L::lsm_id()) };
        match L::getselfattr(attr, &mut out) {
            Ok(()) => out.finish(),
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn setselfattr<L: Registration>(
        attr: c_uint,
        ctx: *mut bindings::lsm_ctx,
        size: u32,
        _flags: u32,
    ) -> c_int {
        // SAFETY: `security_setselfattr()` passes its kernel copy of `size`
        // bytes from user space, freed only after the hook returns.
        match unsafe { LsmCtx::from_raw(ctx, size) } {
            Ok(ctx) => ret(L::setselfattr(attr, &ctx)),
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn capable<L: Registration>(
        cred: *const bindings::cred,
        ns: *mut bindings::user_namespace,
        cap: c_int,
        opts: c_uint,
    ) -> c_int {
        // SAFETY: `security_capable()` passes valid credentials and a valid
        // user namespace, both alive for the call.
        let (cred, ns) = unsafe { (Credential::from_ptr(cred), UserNamespace::from_ptr(ns)) };
        match Capability::from_raw(cap) {
            Some(cap) => ret(L::capable(cred, ns, cap, opts)),
            // No capability the kernel knows: commoncap refuses it too.
            None => crate::error::code::EPERM.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn ptrace_access_check<L: Registration>(
        child: *mut bindings::task_struct,
        mode: c_uint,
    ) -> c_int {
        // SAFETY: `security_ptrace_access_check()` passes a task its caller holds a reference
        // to (and whose task lock it holds) for the call. CAST: `Task` is a transparent wrapper
        // of `struct task_struct`.
        let child = unsafe { &*child.cast::<Task>() };
        ret(L::ptrace_access_check(child, PtraceMode::from_raw(mode)))
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn ptrace_traceme<L: Registration>(
        parent: *mut bindings::task_struct,
    ) -> c_int {
        // SAFETY: `security_ptrace_traceme()` passes the current task's parent, which
        // `ptrace_traceme()` keeps alive under `tasklist_lock` for the call. CAST: as above.
        let parent = unsafe { &*parent.cast::<Task>() };
        ret(L::ptrace_traceme(parent))
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn bprm_committing_creds<L: Registration>(
        bprm: *const bindings::linux_binprm,
    ) {
        // SAFETY: `security_bprm_committing_creds()` passes the `execve`'s
        // valid `linux_binprm`, alive for the call.
        L::bprm_committing_creds(unsafe { Binprm::from_ptr(bprm) });
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn task_secns_init<L: Registration>(
        cred: *const bindings::cred,
        ns: *mut bindings::secns,
    ) -> c_int {
        // SAFETY: `security_task_secns_init()` passes valid credentials and
        // a valid namespace, both alive for the call.
        let (cred, secns) = unsafe { (Credential::from_ptr(cred), SecNs::from_ptr(ns)) };
        // SAFETY: the namespace is being created: its owner asks the LSMs
        // once, before anything else can see it (`include/linux/secns.h`),
        // so `L`'s slot in its blob is ours alone.
        let slot = unsafe { blob::secns_slot::<L>(ns).map(|mut p| p.as_mut()) };
        if slot.is_some() {
            match L::SecNsBlob::init(cred, secns) {
                Ok(value) => blob::set(slot, value),
                Err(e) => return e.to_errno(),
            }
        }
        if L::HAS_TASK_SECNS_INIT {
            ret(L::task_secns_init(cred, secns))
        } else {
            0
        }
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn task_secns_unshare<L: Registration>(
        cred: *const bindings::cred,
        ns: *const bindings::secns,
    ) -> c_int {
        // SAFETY: as for `task_secns_init`.
        let (cred, ns) = unsafe { (Credential::from_ptr(cred), SecNs::from_ptr(ns)) };
        ret(L::task_secns_unshare(cred, ns))
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn secns_free<L: Registration>(ns: *mut bindings::secns) {
        if L::HAS_SECNS_FREE {
            // SAFETY: `security_secns_free()` passes a valid namespace,
            // alive for the call.
            L::secns_free(unsafe { SecNs::from_ptr(ns) });
        }
        // SAFETY: the namespace's last reference is gone (or it was never
        // shared): nothing else uses the blob, which the LSM framework frees
        // after this hook.
        blob::clear(unsafe { blob::secns_slot::<L>(ns).map(|mut p| p.as_mut()) });
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn cred_prepare<L: Registration>(
        new: *mut bindings::cred,
        old: *const bindings::cred,
        _gfp: bindings::gfp_t,
    ) -> c_int {
        // SAFETY: both are live credentials with blobs allocated by the LSM
        // framework; `new` is not shared yet and differs from `old`, which
        // only the blob hooks change (not now), so a shared reference to the
        // old slot and an exclusive one to the new slot are sound.
        let (old, new) = unsafe {
            (
                blob::hook_cred_slot::<L>(old).map(|p| p.as_ref()),
                blob::hook_cred_slot::<L>(new).map(|mut p| p.as_mut()),
            )
        };
        ret(blob::copy(old, new, L::CredBlob::prepare))
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn cred_transfer<L: Registration>(
        new: *mut bindings::cred,
        old: *const bindings::cred,
    ) {
        // SAFETY: as for `cred_prepare` (`new` are blank credentials).
        let (old, new) = unsafe {
            (
                blob::hook_cred_slot::<L>(old).map(|p| p.as_ref()),
                blob::hook_cred_slot::<L>(new).map(|mut p| p.as_mut()),
            )
        };
        let _ = blob::copy(old, new, |v| {
            L::CredBlob::transfer(v).ok_or(crate::error::code::ENOMEM)
        });
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn cred_free<L: Registration>(cred: *mut bindings::cred) {
        // SAFETY: the credentials' last reference is gone: nothing else uses
        // the blob, which the LSM framework frees after this hook.
        blob::clear(unsafe { blob::hook_cred_slot::<L>(cred).map(|mut p| p.as_mut()) });
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn task_alloc<L: Registration>(
        task: *mut bindings::task_struct,
        clone_flags: u64,
    ) -> c_int {
        // SAFETY: `task` is being created: it is valid and not yet visible
        // to anything else, so the slot is ours alone.
        let slot = unsafe { blob::hook_task_slot::<L>(task).map(|mut p| p.as_mut()) };
        // SAFETY: the slot is in the task's blob, which stays where it is
        // until `task_free`.
        ret(unsafe { blob::fill(slot, L::TaskBlob::alloc(clone_flags)) })
    }

    /// # Safety
    ///
    /// Called by the LSM framework as this hook.
    pub(super) unsafe extern "C" fn task_free<L: Registration>(task: *mut bindings::task_struct) {
        if L::HAS_TASK_FREE {
            // SAFETY: `security_task_free()` passes a task whose last
            // reference is gone (or whose creation failed), valid for the
            // call. CAST: `Task` is a transparent wrapper of `struct
            // task_struct`.
            L::task_free(unsafe { &*task.cast::<Task>() });
        }
        // SAFETY: the task's last reference is gone (or its creation
        // failed): nothing else uses the blob.
        blob::clear(unsafe { blob::hook_task_slot::<L>(task).map(|mut p| p.as_mut()) });
    }
}
