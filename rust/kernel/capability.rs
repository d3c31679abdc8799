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

    #[test]
    fn capability_numbers_are_the_uapi_ones() {
        assert_eq!(Capability::Chown.as_raw(), 0);
        assert_eq!(Capability::MacAdmin.as_raw(), 33);
        assert_eq!(Capability::CheckpointRestore.as_raw(), 40);
    }

    #[test]
    fn kunit_threads_have_every_capability() {
        // KUnit runs tests in kernel threads, with the initial credentials.
        assert!(capable(Capability::MacAdmin));
        assert!(capable(Capability::SysAdmin));
    }
}
