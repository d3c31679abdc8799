// SPDX-License-Identifier: GPL-2.0

//! POSIX capabilities.
//!
//! C header: [`include/linux/capability.h`](srctree/include/linux/capability.h).

use crate::bindings;
use crate::ffi::c_int;
use crate::types::Opaque;

macro_rules! capabilities {
    ($($(#[$doc:meta])* $name:ident = $c:ident,)*) => {
        /// A capability, as in `capabilities(7)`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Capability {
            $($(#[$doc])* $name = bindings::$c,)*
        }

        impl Capability {
            /// The capability numbered `cap` (a C `CAP_*` value); `None` for a number the
            /// kernel does not know.
            pub fn from_raw(cap: c_int) -> Option<Self> {
                match u32::try_from(cap).ok()? {
                    $(bindings::$c => Some(Self::$name),)*
                    _ => None,
                }
            }
        }

        #[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
        impl Capability {
            /// Every capability, for the KUnit tests.
            const ALL: &'static [Self] = &[$(Self::$name,)*];
        }
    };
}

capabilities! {
    /// `CAP_CHOWN`
    Chown = CAP_CHOWN,
    /// `CAP_DAC_OVERRIDE`
    DacOverride = CAP_DAC_OVERRIDE,
    /// `CAP_DAC_READ_SEARCH`
    DacReadSearch = CAP_DAC_READ_SEARCH,
    /// `CAP_FOWNER`
    Fowner = CAP_FOWNER,
    /// `CAP_FSETID`
    Fsetid = CAP_FSETID,
    /// `CAP_KILL`
    Kill = CAP_KILL,
    /// `CAP_SETGID`
    Setgid = CAP_SETGID,
    /// `CAP_SETUID`
    Setuid = CAP_SETUID,
    /// `CAP_SETPCAP`
    Setpcap = CAP_SETPCAP,
    /// `CAP_LINUX_IMMUTABLE`
    LinuxImmutable = CAP_LINUX_IMMUTABLE,
    /// `CAP_NET_BIND_SERVICE`
    NetBindService = CAP_NET_BIND_SERVICE,
    /// `CAP_NET_BROADCAST`
    NetBroadcast = CAP_NET_BROADCAST,
    /// `CAP_NET_ADMIN`
    NetAdmin = CAP_NET_ADMIN,
    /// `CAP_NET_RAW`
    NetRaw = CAP_NET_RAW,
    /// `CAP_IPC_LOCK`
    IpcLock = CAP_IPC_LOCK,
    /// `CAP_IPC_OWNER`
    IpcOwner = CAP_IPC_OWNER,
    /// `CAP_SYS_MODULE`
    SysModule = CAP_SYS_MODULE,
    /// `CAP_SYS_RAWIO`
    SysRawio = CAP_SYS_RAWIO,
    /// `CAP_SYS_CHROOT`
    SysChroot = CAP_SYS_CHROOT,
    /// `CAP_SYS_PTRACE`
    SysPtrace = CAP_SYS_PTRACE,
    /// `CAP_SYS_PACCT`
    SysPacct = CAP_SYS_PACCT,
    /// `CAP_SYS_ADMIN`
    SysAdmin = CAP_SYS_ADMIN,
    /// `CAP_SYS_BOOT`
    SysBoot = CAP_SYS_BOOT,
    /// `CAP_SYS_NICE`
    SysNice = CAP_SYS_NICE,
    /// `CAP_SYS_RESOURCE`
    SysResource = CAP_SYS_RESOURCE,
    /// `CAP_SYS_TIME`
    SysTime = CAP_SYS_TIME,
    /// `CAP_SYS_TTY_CONFIG`
    SysTtyConfig = CAP_SYS_TTY_CONFIG,
    /// `CAP_MKNOD`
    Mknod = CAP_MKNOD,
    /// `CAP_LEASE`
    Lease = CAP_LEASE,
    /// `CAP_AUDIT_WRITE`
    AuditWrite = CAP_AUDIT_WRITE,
    /// `CAP_AUDIT_CONTROL`
    AuditControl = CAP_AUDIT_CONTROL,
    /// `CAP_SETFCAP`
    Setfcap = CAP_SETFCAP,
    /// `CAP_MAC_OVERRIDE`
    MacOverride = CAP_MAC_OVERRIDE,
    /// `CAP_MAC_ADMIN`
    MacAdmin = CAP_MAC_ADMIN,
    /// `CAP_SYSLOG`
    Syslog = CAP_SYSLOG,
    /// `CAP_WAKE_ALARM`
    WakeAlarm = CAP_WAKE_ALARM,
    /// `CAP_BLOCK_SUSPEND`
    BlockSuspend = CAP_BLOCK_SUSPEND,
    /// `CAP_AUDIT_READ`
    AuditRead = CAP_AUDIT_READ,
    /// `CAP_PERFMON`
    Perfmon = CAP_PERFMON,
    /// `CAP_BPF`
    Bpf = CAP_BPF,
    /// `CAP_CHECKPOINT_RESTORE`
    CheckpointRestore = CAP_CHECKPOINT_RESTORE,
}

impl Capability {
    /// The capability's number, as the C functions take it.
    pub fn as_raw(self) -> c_int {
        // CAST: the numbers are below 64.
        self as c_int
    }
}

/// Returns whether the current task has `cap` in the initial user namespace.
///
/// Like the C `capable()`, a successful check marks the task as having used a
/// privilege (`PF_SUPERPRIV`) and may be audited: call it only when the
/// operation needs the capability.
///
/// # Examples
///
/// ```
/// use kernel::capability::{capable, Capability};
/// use kernel::error::code::EPERM;
///
/// fn set_policy() -> kernel::error::Result {
///     if !capable(Capability::MacAdmin) {
///         return Err(EPERM);
///     }
///     Ok(())
/// }
/// ```
pub fn capable(cap: Capability) -> bool {
    // SAFETY: `capable` only reads the current task's credentials; any
    // capability number is valid input.
    unsafe { bindings::capable(cap.as_raw()) }
}

/// A user namespace (C `struct user_namespace`), borrowed.
///
/// # Invariants
///
/// Instances are only made from references to live user namespaces, which
/// live at least as long as the reference.
#[repr(transparent)]
pub struct UserNamespace(Opaque<bindings::user_namespace>);

impl UserNamespace {
    /// The initial user namespace.
    pub fn initial() -> &'static Self {
        let ns = &raw const bindings::init_user_ns;
        // SAFETY: `init_user_ns` is a static that lives forever;
        // `UserNamespace` is a transparent wrapper.
        unsafe { &*ns.cast::<Self>() }
    }

    /// Borrows the user namespace at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live user namespace that lives at least for `'a`.
    #[cfg(CONFIG_SECURITY)]
    pub(crate) unsafe fn from_ptr<'a>(ptr: *const bindings::user_namespace) -> &'a Self {
        // SAFETY: `UserNamespace` is a transparent wrapper, and the
        // namespace lives for `'a` (safety requirements).
        unsafe { &*ptr.cast() }
    }

    /// Returns a raw pointer to the namespace.
    pub fn as_ptr(&self) -> *mut bindings::user_namespace {
        self.0.get()
    }
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_capability)]
mod tests {
    use super::*;
    use crate::error::{code::ENOMEM, Result};
    use crate::task::Task;

    /// The bit of `cap` in a `kernel_cap_t`; none for a number beyond the 64 bits.
    fn bit(cap: Capability) -> u64 {
        u32::try_from(cap.as_raw())
            .ok()
            .and_then(|n| 1u64.checked_shl(n))
            .unwrap_or(0)
    }

    /// The effective capabilities of the current task, as the kernel keeps them.
    fn effective() -> u64 {
        // SAFETY: only the current task replaces its credentials, and they stay valid while it
        // runs; their capabilities never change.
        unsafe { (*(*Task::current_raw()).cred).cap_effective.val }
    }

    /// Gives the current task the effective capabilities `set`, with new credentials (C
    /// `prepare_creds()` and `commit_creds()`).
    fn commit_effective(set: u64) -> Result {
        // SAFETY: `prepare_creds()` may be called in task context.
        let new = unsafe { bindings::prepare_creds() };
        if new.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `new` is a copy of the current task's credentials that this task owns and
        // nothing else refers to yet; `commit_creds()`, which cannot fail, takes it over.
        unsafe {
            (*new).cap_effective.val = set;
            bindings::commit_creds(new);
        }
        Ok(())
    }

    #[test]
    fn the_capabilities_are_the_kernels_full_set() {
        // KUnit runs each case in a kernel thread of its own, with the initial credentials:
        // every capability the kernel knows is effective (CAP_FULL_SET).
        let full = effective();
        let mut seen = 0u64;
        for &cap in Capability::ALL {
            // A capability the kernel knows, and not another name for one seen already.
            assert!((bit(cap) & full) != 0);
            assert_eq!(bit(cap) & seen, 0);
            seen |= bit(cap);
        }
        // And none is missing.
        assert_eq!(seen, full);
    }

    #[test]
    fn capable_checks_that_one_capability_of_the_current_task() -> Result {
        let full = effective();
        for &cap in Capability::ALL {
            assert!(capable(cap));
        }
        // Each capability in turn dropped from the effective set (new credentials committed to
        // this case's thread, which ends with the case): only that check fails.
        for &dropped in Capability::ALL {
            commit_effective(full & !bit(dropped))?;
            for &cap in Capability::ALL {
                assert_eq!(capable(cap), cap != dropped);
            }
        }
        Ok(())
    }

    #[test]
    fn from_raw_gives_back_every_capability_and_nothing_else() {
        for &cap in Capability::ALL {
            assert_eq!(Capability::from_raw(cap.as_raw()), Some(cap));
        }
        // One past the last capability the kernel knows, and the extremes.
        let past = c_int::try_from(bindings::CAP_LAST_CAP + 1).unwrap_or(c_int::MAX);
        for raw in [past, -1, c_int::MIN, c_int::MAX] {
            assert_eq!(Capability::from_raw(raw), None);
        }
    }

    #[test]
    fn the_initial_user_namespace_is_the_one_of_kernel_threads() {
        // SAFETY: `current_user_ns()` only reads the current task's own credentials.
        let ns = unsafe { bindings::current_user_ns() };
        assert!(core::ptr::eq(ns, UserNamespace::initial().as_ptr()));
    }
}
