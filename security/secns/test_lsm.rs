// SPDX-License-Identifier: GPL-2.0

//! Two LSMs for the KUnit tests (`CONFIG_SECURITY_SECNS_KUNIT_TEST` only),
//! stacked after secns: `secns_test_first` and `secns_test_second`, in that
//! order in `CONFIG_LSM`. Each counts the calls of the three security
//! namespace hooks and refuses a phase with a given errno while a test has
//! armed it with [`Veto`].

use kernel::cred::Credential;
use kernel::lsm::{Lsm, SecNs};
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

/// What one test LSM saw, and what it refuses.
pub(crate) struct Probe {
    /// Calls of `task_secns_init`.
    pub(crate) inits: Atomic<u32>,
    /// Calls of `task_secns_unshare`.
    pub(crate) unshares: Atomic<u32>,
    /// Calls of `secns_free`.
    pub(crate) frees: Atomic<u32>,
    /// The errno `task_secns_init` returns; 0 approves.
    veto_init: Atomic<i32>,
    /// The errno `task_secns_unshare` returns; 0 approves.
    veto_unshare: Atomic<i32>,
}

impl Probe {
    const fn new() -> Self {
        Self {
            inits: Atomic::new(0),
            unshares: Atomic::new(0),
            frees: Atomic::new(0),
            veto_init: Atomic::new(0),
            veto_unshare: Atomic::new(0),
        }
    }

    fn answer(veto: &Atomic<i32>) -> Result {
        match veto.load(Relaxed) {
            0 => Ok(()),
            errno => Err(Error::from_errno(errno)),
        }
    }
}

/// The first test LSM.
pub(crate) static FIRST: Probe = Probe::new();
/// The second test LSM, stacked after the first.
pub(crate) static SECOND: Probe = Probe::new();

/// Makes `probe` refuse one phase with `err` until dropped.
pub(crate) struct Veto(&'static Atomic<i32>);

impl Veto {
    /// Refuses `task_secns_init`.
    pub(crate) fn init(probe: &'static Probe, err: Error) -> Self {
        probe.veto_init.store(err.to_errno(), Relaxed);
        Self(&probe.veto_init)
    }

    /// Refuses `task_secns_unshare`.
    pub(crate) fn unshare(probe: &'static Probe, err: Error) -> Self {
        probe.veto_unshare.store(err.to_errno(), Relaxed);
        Self(&probe.veto_unshare)
    }
}

impl Drop for Veto {
    fn drop(&mut self) {
        self.0.store(0, Relaxed);
    }
}

macro_rules! test_lsm {
    ($ty:ident, $probe:ident, $name:literal, $id:expr) => {
        struct $ty;

        impl Lsm for $ty {
            type CredBlob = ();
            type TaskBlob = ();

            fn task_secns_init(_cred: &Credential, _ns: &SecNs) -> Result {
                $probe.inits.fetch_add(1, Relaxed);
                Probe::answer(&$probe.veto_init)
            }

            fn task_secns_unshare(_cred: &Credential, _ns: &SecNs) -> Result {
                $probe.unshares.fetch_add(1, Relaxed);
                Probe::answer(&$probe.veto_unshare)
            }

            fn secns_free(_ns: &SecNs) {
                $probe.frees.fetch_add(1, Relaxed);
            }
        }

        kernel::define_lsm! {
            $ty,
            name: $name,
            id: $id,
            hooks: [task_secns_init, task_secns_unshare, secns_free],
        }
    };
}

// Ids far from the uapi's LSM_ID_* values; these LSMs never reach user
// space outside test kernels.
test_lsm!(First, FIRST, "secns_test_first", 0xfff0);
test_lsm!(Second, SECOND, "secns_test_second", 0xfff1);
