// SPDX-License-Identifier: GPL-2.0

//! The one LSM of the KUnit tests (`CONFIG_SECURITY_SECNS_KUNIT_TEST`
//! only): `secns_test`, stacked after secns in the `CONFIG_LSM` of
//! `security/secns/.kunitconfig`. It counts the calls of the three security
//! namespace hooks, whichever task makes them; refuses a phase with a given
//! errno to the task of a test that armed it with [`Veto`]; keeps
//! per-namespace state in the namespace blob ([`NsState`]); counts the
//! `CAP_MAC_ADMIN` checks of the task of a test ([`CountCaps`]); and sleeps
//! in every `secns_free` while a test asks it to ([`SleepInFree`]), to
//! prove that the hook runs where it may sleep.
//!
//! The calls of every other task it counts and approves. A kernel built
//! with the tests but without `secns_test` in `lsm=` skips the cases that
//! need it ([`needed`]).

use kernel::capability::{Capability, UserNamespace};
use kernel::cred::Credential;
use kernel::kunit::Cleanup;
use kernel::lsm::{Lsm, SecNs, SecNsBlob};
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::task::Task;
use kernel::time::{delay::fsleep, Delta};

/// What the test LSM saw (of every task), and what it refuses.
pub(crate) struct Probe {
    /// Calls of `task_secns_init`.
    pub(crate) inits: Atomic<u32>,
    /// Calls of `task_secns_unshare`.
    pub(crate) unshares: Atomic<u32>,
    /// Calls of `secns_free`.
    pub(crate) frees: Atomic<u32>,
    /// Namespace blob values dropped.
    pub(crate) ns_drops: Atomic<u32>,
    /// `secns_free` calls that slept.
    pub(crate) slept_in_free: Atomic<u32>,
    /// What `task_secns_init` answers.
    veto_init: VetoSlot,
    /// What `task_secns_unshare` answers.
    veto_unshare: VetoSlot,
}

/// A phase that a test may make `secns_test` refuse to its own task.
struct VetoSlot {
    /// The errno the phase returns to `task`; 0 approves.
    errno: Atomic<i32>,
    /// The task refused (its `task_struct`).
    task: Atomic<usize>,
}

impl VetoSlot {
    const fn new() -> Self {
        Self {
            errno: Atomic::new(0),
            task: Atomic::new(0),
        }
    }

    /// The answer of the phase to the current task: the errno of the veto
    /// if the current task armed it, approval otherwise.
    fn answer(&self) -> Result {
        if self.task.load(Relaxed) != Task::current_raw() as usize {
            return Ok(());
        }
        match self.errno.load(Relaxed) {
            0 => Ok(()),
            errno => Err(Error::from_errno(errno)),
        }
    }
}

impl Probe {
    const fn new() -> Self {
        Self {
            inits: Atomic::new(0),
            unshares: Atomic::new(0),
            frees: Atomic::new(0),
            ns_drops: Atomic::new(0),
            slept_in_free: Atomic::new(0),
            veto_init: VetoSlot::new(),
            veto_unshare: VetoSlot::new(),
        }
    }
}

/// What `secns_test` saw.
pub(crate) static PROBE: Probe = Probe::new();

/// Whether `secns_test` is active (the framework called its `init`).
static ACTIVE: Atomic<bool> = Atomic::new(false);

/// Whether `secns_test` is active: listed in `lsm=` (or `CONFIG_LSM`).
pub(crate) fn active() -> bool {
    ACTIVE.load(Relaxed)
}

/// Makes `secns_test` refuse one phase with `err` to the current task (the
/// test's) until dropped (or the test ends: see [`Cleanup`]); it approves
/// the calls of every other task.
pub(crate) struct Veto {
    _cleanup: Cleanup,
}

impl Veto {
    fn arm(veto: &'static VetoSlot, err: Error) -> Result<Self> {
        veto.task.store(Task::current_raw() as usize, Relaxed);
        veto.errno.store(err.to_errno(), Relaxed);
        Cleanup::new(veto, |veto| veto.errno.store(0, Relaxed)).map(|c| Self { _cleanup: c })
    }

    /// Refuses `task_secns_init`.
    pub(crate) fn init(err: Error) -> Result<Self> {
        Self::arm(&PROBE.veto_init, err)
    }

    /// Refuses `task_secns_unshare`.
    pub(crate) fn unshare(err: Error) -> Result<Self> {
        Self::arm(&PROBE.veto_unshare, err)
    }
}

/// The task whose `CAP_MAC_ADMIN` checks are counted (0: none).
static CAPS_OF: Atomic<usize> = Atomic::new(0);
/// The `CAP_MAC_ADMIN` checks of that task.
static CAPS: Atomic<u32> = Atomic::new(0);

/// Counts the `CAP_MAC_ADMIN` checks of the current task until dropped (or
/// the test ends).
pub(crate) struct CountCaps {
    _cleanup: Cleanup,
}

impl CountCaps {
    /// Starts counting from 0.
    pub(crate) fn arm() -> Result<Self> {
        CAPS.store(0, Relaxed);
        CAPS_OF.store(Task::current_raw() as usize, Relaxed);
        Cleanup::new((), |()| CAPS_OF.store(0, Relaxed)).map(|c| Self { _cleanup: c })
    }

    /// The checks so far.
    pub(crate) fn count(&self) -> u32 {
        CAPS.load(Relaxed)
    }
}

/// Whether `secns_free` sleeps.
static SLEEP_IN_FREE: Atomic<bool> = Atomic::new(false);

/// Makes `secns_free` sleep, whichever namespace it frees (frees run on a
/// workqueue, not in the test's task), until dropped (or the test ends): in
/// a context that cannot sleep, that is a kernel BUG report.
pub(crate) struct SleepInFree {
    _cleanup: Cleanup,
}

impl SleepInFree {
    /// Starts sleeping, and counting, from 0.
    pub(crate) fn arm() -> Result<Self> {
        PROBE.slept_in_free.store(0, Relaxed);
        SLEEP_IN_FREE.store(true, Relaxed);
        Cleanup::new((), |()| SLEEP_IN_FREE.store(false, Relaxed)).map(|c| Self { _cleanup: c })
    }
}

/// What `secns_test` keeps in each namespace: what it saw when asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NsState {
    /// The namespace's id.
    pub(crate) id: u64,
    /// The namespace's depth.
    pub(crate) depth: u32,
}

impl SecNsBlob for NsState {
    fn init(_cred: &Credential, ns: &SecNs) -> Result<Self> {
        Ok(Self {
            id: ns.id(),
            depth: ns.depth(),
        })
    }
}

impl Drop for NsState {
    fn drop(&mut self) {
        PROBE.ns_drops.fetch_add(1, Relaxed);
    }
}

/// The test LSM.
pub(crate) struct SecnsTest;

#[vtable]
impl Lsm for SecnsTest {
    type CredBlob = ();
    type TaskBlob = ();
    type SecNsBlob = NsState;

    fn init() -> Result {
        ACTIVE.store(true, Relaxed);
        Ok(())
    }

    fn capable(_cred: &Credential, _ns: &UserNamespace, cap: Capability, _opts: u32) -> Result {
        if cap == Capability::MacAdmin && CAPS_OF.load(Relaxed) == Task::current_raw() as usize {
            CAPS.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    fn task_secns_init(_cred: &Credential, _ns: &SecNs) -> Result {
        PROBE.inits.fetch_add(1, Relaxed);
        PROBE.veto_init.answer()
    }

    fn task_secns_unshare(_cred: &Credential, _ns: &SecNs) -> Result {
        PROBE.unshares.fetch_add(1, Relaxed);
        PROBE.veto_unshare.answer()
    }

    fn secns_free(_ns: &SecNs) {
        PROBE.frees.fetch_add(1, Relaxed);
        if SLEEP_IN_FREE.load(Relaxed) {
            kernel::task::might_sleep();
            fsleep(Delta::from_millis(1));
            PROBE.slept_in_free.fetch_add(1, Relaxed);
        }
    }
}

// An id far from the uapi's LSM_ID_* values; this LSM never reaches user
// space outside test kernels.
kernel::define_lsm! {
    SecnsTest,
    name: "secns_test",
    id: 0xfff0,
}

/// Whether a test that needs `secns_test` can run; if it cannot, marks the
/// running KUnit test skipped, and the test returns at once.
pub(crate) fn needed() -> bool {
    if !active() {
        kernel::kunit::mark_skipped(c"secns_test is not in lsm=");
    }
    active()
}
