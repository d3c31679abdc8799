// SPDX-License-Identifier: GPL-2.0

//! Preparing and committing new credentials for the current task.

use crate::{
    bindings,
    error::code::{EBUSY, ENOMEM},
    error::Result,
    task::Task,
};
use core::ptr::NonNull;

/// A set of new credentials for the current task, not yet in effect.
///
/// Made by [`NewCredential::prepare`] (a copy of the current task's
/// credentials, C `prepare_creds()`); put into effect by
/// [`NewCredential::commit`] (C `commit_creds()`), which consumes it. Dropping
/// it without committing aborts it (C `abort_creds()`). It is not [`Send`]:
/// credentials prepared by a task may only be committed by that task. It
/// gives no `&Credential`: nothing may take a reference to credentials that
/// are not in effect yet (an LSM reads its blob with
/// [`crate::lsm::blob::cred_new`]).
///
/// # Invariants
///
/// `self.0` points to credentials returned by `prepare_creds()` that this
/// object owns: not yet committed or aborted, and referenced by nothing else.
pub struct NewCredential(NonNull<bindings::cred>);

impl NewCredential {
    /// Copies the current task's credentials. May sleep.
    ///
    /// Every LSM's `cred_prepare` hook runs, so this fails with the error of a
    /// hook that refuses, or `ENOMEM`; and with `EBUSY` while the task runs
    /// with overridden credentials (C `override_creds()`), which could not be
    /// committed.
    pub fn prepare() -> Result<Self> {
        if overridden() {
            return Err(EBUSY);
        }
        // SAFETY: `prepare_creds` may be called from task context.
        let new = unsafe { bindings::prepare_creds() };
        // INVARIANT: a non-NULL result is new credentials that we own.
        NonNull::new(new).map(Self).ok_or(ENOMEM)
    }

    /// Puts the new credentials into effect for the current task; `EBUSY`,
    /// and they are aborted, if the task has overridden its credentials since
    /// they were prepared (C `commit_creds()` would BUG).
    pub fn commit(self) -> Result {
        if overridden() {
            return Err(EBUSY);
        }
        let cred = self.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: by the type invariant `cred` came from `prepare_creds()` in
        // this task (the type is not `Send`) and is owned by us; ownership
        // passes to `commit_creds`, which cannot fail (it always returns 0).
        unsafe { bindings::commit_creds(cred) };
        Ok(())
    }

    /// Returns a raw pointer to the new credentials.
    ///
    /// They stay valid and unshared for as long as `self` lives.
    #[cfg(CONFIG_SECURITY)]
    pub(crate) fn as_ptr(&self) -> *mut bindings::cred {
        self.0.as_ptr()
    }
}

/// Whether the current task runs with overridden credentials (C
/// `override_creds()`): its subjective credentials are not its objective ones.
fn overridden() -> bool {
    let task = Task::current_raw();
    // SAFETY: the current task is alive and only it changes its own
    // credential pointers, so reading them here does not race.
    unsafe { (*task).cred != (*task).real_cred }
}

impl Drop for NewCredential {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the credentials are ours, neither
        // committed nor aborted yet.
        unsafe { bindings::abort_creds(self.0.as_ptr()) };
    }
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_cred_new)]
mod tests {
    use super::*;
    use crate::task::Task;

    /// The current task's subjective credentials.
    fn current_cred() -> *const bindings::cred {
        // SAFETY: the current task is alive, and only it changes its own
        // credential pointers.
        unsafe { (*Task::current_raw()).cred }
    }

    #[test]
    fn dropping_new_credentials_aborts_them() -> Result {
        let before = current_cred();
        let new = NewCredential::prepare()?;
        assert!(new.as_ptr().cast_const() != before);
        drop(new);
        assert!(current_cred() == before);
        Ok(())
    }

    #[test]
    fn committing_new_credentials_puts_them_into_effect() -> Result {
        let new = NewCredential::prepare()?;
        let ptr = new.as_ptr().cast_const();
        new.commit()?;
        assert!(current_cred() == ptr);
        Ok(())
    }

    #[test]
    fn committing_while_credentials_are_overridden_is_ebusy() -> Result {
        let new = NewCredential::prepare()?;
        let other = NewCredential::prepare()?;
        let task = Task::current_raw();
        // What `override_creds()` (a static inline) does: the subjective
        // credentials of this task become `other`, which `other` keeps alive
        // until the original pointer is back, two statements below.
        // SAFETY: only the current task changes its own credential pointers.
        let saved =
            unsafe { core::ptr::replace(&raw mut (*task).cred, other.as_ptr().cast_const()) };
        let committed = new.commit();
        // SAFETY: as above; `saved` was the pointer before.
        unsafe { (*task).cred = saved };
        drop(other);
        assert_eq!(committed, Err(EBUSY));
        assert!(current_cred() == saved);
        Ok(())
    }
}
