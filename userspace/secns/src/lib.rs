//! Security namespaces for Linux (the `secns` LSM), for container runtimes
//! and tools.
//!
//! A security namespace gives a process and its descendants their own
//! security context, in which every stacked LSM may keep its own policy.
//! Entering one takes two steps so that policy can be loaded before anything
//! runs inside:
//!
//! 1. [`init`] creates a child of the caller's namespace, *pending*: the
//!    caller stays where it is, and [`status`] shows the pending id that
//!    LSM-specific interfaces use to configure it;
//! 2. [`unshare`] makes the pending namespace the caller's own; it is
//!    inherited by every process the caller creates afterwards and kept
//!    across `execve`.
//!
//! [`abort`] drops a pending namespace instead. Both steps need
//! `CAP_MAC_ADMIN`, and the caller must be single-threaded for [`unshare`]:
//! call them before starting threads (or in a child right after `fork`).
//!
//! ```no_run
//! use std::os::unix::process::CommandExt;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     if !secns::is_supported() {
//!         return Err("this kernel has no security namespaces".into());
//!     }
//!     secns::init()?;
//!     let pending = secns::status()?.pending_id.ok_or("nothing pending")?;
//!     // Load policy into namespace `pending` here; a helper process gets
//!     // the id, it does not inherit the pending namespace.
//!     let ok = std::process::Command::new("/usr/libexec/load-policy")
//!         .env("SECNS_PENDING_ID", pending.to_string())
//!         .status()?
//!         .success();
//!     if !ok {
//!         secns::abort()?;
//!         return Err("loading the policy failed".into());
//!     }
//!     secns::unshare()?;
//!     assert_eq!(secns::status()?.id, pending);
//!     Err(std::process::Command::new("/sbin/init").exec().into())
//! }
//! ```
//!
//! Every operation returns an [`Error`] that keeps the kernel's errno and
//! says what it means for that operation. The raw system calls and the uapi
//! structs are in [`sys`] and [`uapi`].

mod error;
pub mod sys;
pub mod uapi;

pub use error::{Error, LimitHit, Op, Result};

use uapi::{
    SecnsInfo, UnshareRequest, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, LSM_FLAG_SINGLE,
    LSM_ID_SECNS, SECNS_ABORT, SECNS_INFO_PENDING,
};

/// The caller's security namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// The caller's namespace: 0 is the initial one.
    pub id: u64,
    /// Its parent's id; 0 for the initial namespace.
    pub parent_id: u64,
    /// The depth of the caller's namespace (initial: 0).
    pub depth: u32,
    /// The caller's pending namespace, if it has one.
    pub pending_id: Option<u64>,
}

impl From<SecnsInfo> for Info {
    fn from(i: SecnsInfo) -> Self {
        Self {
            id: i.id,
            parent_id: i.parent_id,
            depth: i.depth,
            pending_id: (i.flags & SECNS_INFO_PENDING != 0).then_some(i.pending_id),
        }
    }
}

/// Whether the running kernel has security namespaces: `lsm_list_modules(2)`
/// lists the secns LSM.
pub fn is_supported() -> bool {
    sys::lsm_list_modules().is_ok_and(|ids| ids.contains(&LSM_ID_SECNS))
}

/// The caller's namespace and pending namespace.
pub fn status() -> Result<Info> {
    let mut buf = [0u8; 64];
    buf[..8].copy_from_slice(&LSM_ID_SECNS.to_ne_bytes());
    let (r, _) = sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut buf, LSM_FLAG_SINGLE);
    r.map_err(|e| Error::new(Op::Status, e))?;
    let h = sys::header_at(&buf, 0).ok_or(Error::new(Op::Status, libc::EIO))?;
    if h.id != LSM_ID_SECNS || (h.ctx_len as usize) < uapi::SECNS_INFO_SIZE_VER0 {
        return Err(Error::new(Op::Status, libc::EIO));
    }
    SecnsInfo::from_bytes(&buf[32..])
        .map(Info::from)
        .ok_or(Error::new(Op::Status, libc::EIO))
}

fn set(attr: u32, flags: u64, op: Op) -> Result<()> {
    let req = UnshareRequest::new(flags);
    let bytes = sys::bytes_of(&req);
    sys::lsm_set_self_attr(attr, bytes, bytes.len() as u32, 0)
        .map(drop)
        .map_err(|e| Error::new(op, e))
}

/// Tells which limit an `ENOSPC` of the caller ran into.
fn which_limit() -> Option<LimitHit> {
    let limits = Limits::read().ok()?;
    let depth = status().ok()?.depth + 1;
    if depth > limits.maxnsdepth {
        Some(LimitHit::Depth {
            depth,
            maxnsdepth: limits.maxnsdepth,
        })
    } else if limits.count >= limits.maxns {
        Some(LimitHit::Count {
            count: limits.count,
            maxns: limits.maxns,
        })
    } else {
        // Freed meanwhile, or an LSM refused with ENOSPC: cannot tell.
        None
    }
}

fn explain(e: Error) -> Error {
    if e.errno() == libc::ENOSPC {
        e.with_limit(which_limit())
    } else {
        e
    }
}

/// Creates a pending security namespace, a child of the caller's
/// (`LSM_ATTR_UNSHARE_INIT`).
pub fn init() -> Result<()> {
    set(LSM_ATTR_UNSHARE_INIT, 0, Op::Init).map_err(explain)
}

/// Enters the pending security namespace, or creates one and enters it
/// when none is pending (`LSM_ATTR_UNSHARE`).
pub fn unshare() -> Result<()> {
    set(LSM_ATTR_UNSHARE, 0, Op::Unshare).map_err(explain)
}

/// Drops the caller's pending security namespace (`SECNS_ABORT`); needs no
/// capability.
pub fn abort() -> Result<()> {
    set(LSM_ATTR_UNSHARE_INIT, SECNS_ABORT, Op::Abort)
}

/// The names of the active LSMs, in order (`/sys/kernel/security/lsm`).
pub fn active_lsms() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("/sys/kernel/security/lsm")
        .map_err(|e| Error::new(Op::ListModules, e.raw_os_error().unwrap_or(libc::EIO)))?;
    Ok(text
        .trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// The global limits and the live count, in
/// `/sys/kernel/security/secns/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most non-initial namespaces alive at once.
    pub maxns: u32,
    /// The deepest namespace allowed (initial: 0).
    pub maxnsdepth: u32,
    /// Live non-initial namespaces, pending ones included.
    pub count: u32,
}

const LIMITS_DIR: &str = "/sys/kernel/security/secns";

fn io_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

fn read_number(name: &str) -> Result<u32> {
    let text = std::fs::read_to_string(format!("{LIMITS_DIR}/{name}"))
        .map_err(|e| Error::new(Op::ReadLimits, io_errno(&e)))?;
    text.trim()
        .parse()
        .map_err(|_| Error::new(Op::ReadLimits, libc::EIO))
}

fn write_number(name: &str, value: u32, op: Op) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("{LIMITS_DIR}/{name}"))
        .map_err(|e| Error::new(op, io_errno(&e)))?;
    f.write_all(format!("{value}\n").as_bytes())
        .map_err(|e| Error::new(op, io_errno(&e)))
}

impl Limits {
    /// Reads the limits and the count.
    pub fn read() -> Result<Self> {
        Ok(Self {
            maxns: read_number("maxns")?,
            maxnsdepth: read_number("maxnsdepth")?,
            count: read_number("count")?,
        })
    }

    /// Sets `maxns` (needs `CAP_MAC_ADMIN`; 0 to 2147483647).
    pub fn set_maxns(value: u32) -> Result<()> {
        write_number("maxns", value, Op::SetMaxns)
    }

    /// Sets `maxnsdepth` (needs `CAP_MAC_ADMIN`; 0 to 32).
    pub fn set_maxnsdepth(value: u32) -> Result<()> {
        write_number("maxnsdepth", value, Op::SetMaxnsdepth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_reports_pending_only_with_the_flag() {
        let raw = SecnsInfo {
            id: 3,
            parent_id: 1,
            pending_id: 9,
            depth: 2,
            flags: SECNS_INFO_PENDING,
        };
        assert_eq!(Info::from(raw).pending_id, Some(9));
        let none = SecnsInfo {
            flags: 0,
            pending_id: 0,
            ..raw
        };
        assert_eq!(Info::from(none).pending_id, None);
        assert_eq!((Info::from(none).id, Info::from(none).depth), (3, 2));
    }

    #[test]
    fn requests_are_encoded_as_the_kernel_reads_them() {
        let req = UnshareRequest::new(SECNS_ABORT);
        let b = sys::bytes_of(&req);
        assert_eq!(b.len(), 40);
        assert_eq!(b[0..8], LSM_ID_SECNS.to_ne_bytes());
        assert_eq!(b[8..16], 0u64.to_ne_bytes());
        assert_eq!(b[16..24], 40u64.to_ne_bytes());
        assert_eq!(b[24..32], 8u64.to_ne_bytes());
        assert_eq!(b[32..40], SECNS_ABORT.to_ne_bytes());
    }

    #[test]
    fn secns_info_decodes_native_order_and_refuses_short_input() {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&5u64.to_ne_bytes());
        b[16..24].copy_from_slice(&6u64.to_ne_bytes());
        b[24..28].copy_from_slice(&1u32.to_ne_bytes());
        b[28..32].copy_from_slice(&SECNS_INFO_PENDING.to_ne_bytes());
        let i = SecnsInfo::from_bytes(&b).expect("32 bytes decode");
        assert_eq!((i.id, i.pending_id, i.depth, i.flags), (5, 6, 1, 1));
        assert!(SecnsInfo::from_bytes(&b[..31]).is_none());
    }

    /// On a kernel without secns (like the build host), every operation says
    /// so and nothing else happens.
    #[test]
    fn without_secns_everything_reports_not_supported() {
        if is_supported() {
            return; // The in-VM tests cover a kernel with secns.
        }
        for r in [init(), unshare(), abort()] {
            let e = r.expect_err("no secns, no namespace");
            assert!(e.is_not_supported(), "{e}");
        }
        assert!(status().expect_err("no secns").is_not_supported());
    }
}
