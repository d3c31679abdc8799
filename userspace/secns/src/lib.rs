//! Security namespaces for Linux (the `secns` LSM), for container runtimes
//! and tools.
//!
//! A security namespace gives a process and its descendants their own
//! security context, in which every stacked LSM may keep its own policy.
//! Entering one takes two steps so that policy can be loaded before anything
//! runs inside:
//!
//! 1. [`init`] creates a child of the caller's namespace, *pending*: the
//!    caller stays where it is, and [`init`] returns (and [`status`] shows)
//!    the pending id that LSM-specific interfaces use to configure it;
//! 2. [`unshare`] makes the pending namespace the caller's own; it is
//!    inherited by every process the caller creates afterwards and kept
//!    across `execve`.
//!
//! [`abort`] drops a pending namespace instead; so do `execve` and exit:
//! a pending namespace never outlives the program that made it, so enter it
//! before executing the workload. [`init`] needs `CAP_MAC_ADMIN`; entering
//! one's own pending namespace needs no capability (it was checked at
//! [`init`], and the namespace is private to the caller), so a runtime may
//! drop all its capabilities, or switch to the workload's user, between
//! [`init`] and [`unshare`]. An [`unshare`] with nothing pending creates
//! and enters a namespace at once and needs `CAP_MAC_ADMIN`. The caller
//! must be single-threaded for [`unshare`] and [`join`]: call them before
//! starting threads (or in a child right after `fork`).
//!
//! ```no_run
//! use std::os::unix::process::CommandExt;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     if !secns::is_supported() {
//!         return Err("this kernel has no security namespaces".into());
//!     }
//!     let pending = secns::init()?;
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
//!     // Capabilities may be dropped here: entering needs none.
//!     secns::unshare()?;
//!     assert_eq!(secns::status()?.id, pending);
//!     Err(std::process::Command::new("/sbin/init").exec().into())
//! }
//! ```
//!
//! A second process joins a running one's namespace with [`join`] (a
//! pidfd) or [`join_pid`], as `setns(2)` joins the other namespaces: this is
//! how a runtime executes a program in a running container. Joining needs
//! `CAP_MAC_ADMIN`, nothing pending, ptrace-read access to the target
//! process, and the target's namespace must be the caller's own or one of
//! its descendants: nobody joins upward or sideways.
//!
//! ```no_run
//! use std::os::unix::process::CommandExt;
//!
//! fn exec_in(container_pid: u32) -> Result<(), Box<dyn std::error::Error>> {
//!     secns::join_pid(container_pid)?;
//!     Err(std::process::Command::new("/bin/sh").exec().into())
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

use core::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use uapi::{
    LsmCtxHeader, SecnsInfo, UnshareRequest, UnshareRequestVer1, LSM_ATTR_UNSHARE,
    LSM_ATTR_UNSHARE_INIT, LSM_FLAG_SINGLE, LSM_ID_SECNS, SECNS_ABORT, SECNS_INFO_PENDING,
    SECNS_INFO_SIZE_VER0,
};

/// The caller's security namespaces.
///
/// More fields may come with later kernels: outside this crate a value is
/// made with `Info::from(`[`uapi::SecnsInfo`]`)` or from [`Info::default`] (the
/// initial namespace, nothing pending) field by field, and matched with
/// `..`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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

/// The buffer [`status`] starts with: one header and version 0 of
/// `secns_info`.
const STATUS_FIRST_SIZE: usize = size_of::<LsmCtxHeader>() + SECNS_INFO_SIZE_VER0;
/// The most [`status`] allocates for a later kernel's larger `secns_info`.
const STATUS_MAX_SIZE: usize = 64 * 1024;
/// How often [`status`] grows its buffer before giving up.
const STATUS_TRIES: usize = 4;

/// Reads the secns entry of `lsm_get_self_attr(LSM_ATTR_UNSHARE, ...,
/// LSM_FLAG_SINGLE)` with `get`, growing the buffer to the size the kernel
/// asks for when it answers `E2BIG`: the bytes the kernel wrote, or the
/// errno.
fn read_entry(
    mut get: impl FnMut(&mut [u8]) -> (std::result::Result<u32, i32>, u32),
) -> std::result::Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; STATUS_FIRST_SIZE];
    let ask = LsmCtxHeader {
        id: LSM_ID_SECNS,
        ..LsmCtxHeader::default()
    };
    for _ in 0..STATUS_TRIES {
        // LSM_FLAG_SINGLE: the kernel reads the wanted LSM's id from the
        // first header (again after an E2BIG: the buffer is new).
        buf[..size_of::<LsmCtxHeader>()].copy_from_slice(ask.as_bytes());
        match get(&mut buf) {
            (Ok(_), size) => {
                buf.truncate(size as usize);
                return Ok(buf);
            }
            (Err(libc::E2BIG), need)
                if (need as usize) > buf.len() && (need as usize) <= STATUS_MAX_SIZE =>
            {
                buf.resize(need as usize, 0);
            }
            (Err(e), _) => return Err(e),
        }
    }
    Err(libc::E2BIG)
}

/// Decodes a secns `lsm_ctx` entry: version 0 of `secns_info` from a
/// payload of at least its size (a later kernel's longer payload is fine),
/// `None` for another LSM's entry or a short or truncated payload.
fn decode_entry(entry: &[u8]) -> Option<SecnsInfo> {
    let h = LsmCtxHeader::from_bytes(entry)?;
    if h.id != LSM_ID_SECNS {
        return None;
    }
    let start = size_of::<LsmCtxHeader>();
    let end = start.checked_add(usize::try_from(h.ctx_len).ok()?)?;
    SecnsInfo::from_bytes(entry.get(start..end)?)
}

/// The caller's namespace and pending namespace.
pub fn status() -> Result<Info> {
    let entry = read_entry(|buf| sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, buf, LSM_FLAG_SINGLE))
        .map_err(|e| Error::new(Op::Status, e))?;
    decode_entry(&entry)
        .map(Info::from)
        .ok_or(Error::new(Op::Status, libc::EIO))
}

/// `lsm_set_self_attr(attr)` with the whole `lsm_ctx` in `ctx`.
fn set_ctx(attr: u32, ctx: &[u8], op: Op) -> Result<()> {
    sys::lsm_set_self_attr(attr, ctx, ctx.len() as u32, 0)
        .map(drop)
        .map_err(|e| Error::new(op, e))
}

/// `lsm_set_self_attr(attr)` with a version 0 payload holding `flags`.
fn set(attr: u32, flags: u64, op: Op) -> Result<()> {
    set_ctx(attr, UnshareRequest::new(flags).as_bytes(), op)
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
///
/// Returns the id of the new pending namespace, as [`status`] reports it
/// right after the call. Should that read fail, the namespace is dropped
/// again and the error returned: nothing is left pending on failure.
pub fn init() -> Result<u64> {
    set(LSM_ATTR_UNSHARE_INIT, 0, Op::Init).map_err(explain)?;
    match status() {
        Ok(Info {
            pending_id: Some(id),
            ..
        }) => Ok(id),
        other => {
            let _ = abort();
            Err(other.err().unwrap_or(Error::new(Op::Status, libc::EIO)))
        }
    }
}

/// Enters the pending security namespace, or creates one and enters it
/// when none is pending (`LSM_ATTR_UNSHARE`).
///
/// Entering one's own pending namespace needs no capability; creating
/// and entering one at once (nothing pending) needs `CAP_MAC_ADMIN`.
pub fn unshare() -> Result<()> {
    set(LSM_ATTR_UNSHARE, 0, Op::Unshare).map_err(explain)
}

/// Joins the security namespace of the process that `pidfd` refers to:
/// its effective namespace becomes the caller's (`LSM_ATTR_UNSHARE` with
/// `SECNS_JOIN`), as `setns(2)` does for the other namespaces.
///
/// Needs a single-threaded caller with `CAP_MAC_ADMIN` and nothing
/// pending, ptrace-read access to the process, and its namespace must be
/// the caller's own or one of its descendants; every stacked LSM may
/// refuse. The pidfd comes from `pidfd_open(2)` ([`sys::pidfd_open`]) or
/// `clone3(2)` with `CLONE_PIDFD`; see [`join_pid`] for a pid.
pub fn join(pidfd: BorrowedFd<'_>) -> Result<()> {
    let req = UnshareRequestVer1::join(pidfd.as_raw_fd());
    set_ctx(LSM_ATTR_UNSHARE, req.as_bytes(), Op::Join)
}

/// Joins the security namespace of process `pid` (see [`join`]) through a
/// pidfd it opens (`pidfd_open(2)`, an [`Op::OpenPidfd`] error if that
/// fails) and closes again.
///
/// Prefer [`join`] with a pidfd kept from when the process was created
/// where there is one: a pid may be reused once its process is gone.
pub fn join_pid(pid: u32) -> Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| Error::new(Op::OpenPidfd, libc::EINVAL))?;
    let pidfd = sys::pidfd_open(pid).map_err(|e| Error::new(Op::OpenPidfd, e))?;
    join(pidfd.as_fd())
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
///
/// More fields may come: outside this crate a value is made from
/// [`Limits::default`] (all 0) field by field, and matched with `..`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    use core::mem::offset_of;

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
        assert_eq!(Info::from(SecnsInfo::default()), Info::default());
    }

    /// An `lsm_ctx` entry of `id` whose `ctx_len` says `ctx_len`, followed
    /// by `payload`.
    fn entry(id: u64, ctx_len: usize, payload: &[u8]) -> Vec<u8> {
        let mut e = LsmCtxHeader::new(id, ctx_len).as_bytes().to_vec();
        e.extend_from_slice(payload);
        e
    }

    const INFO: SecnsInfo = SecnsInfo {
        id: 5,
        parent_id: 2,
        pending_id: 6,
        depth: 3,
        flags: SECNS_INFO_PENDING,
    };

    #[test]
    fn an_entry_decodes_version_0_and_ignores_appended_fields() {
        let v0 = entry(LSM_ID_SECNS, 32, INFO.as_bytes());
        assert_eq!(decode_entry(&v0), Some(INFO));
        // A later kernel's 48-byte secns_info.
        let mut later = INFO.as_bytes().to_vec();
        later.extend_from_slice(&[0xff; 16]);
        assert_eq!(decode_entry(&entry(LSM_ID_SECNS, 48, &later)), Some(INFO));
        // Padding after the payload is not part of it.
        let mut padded = v0.clone();
        padded.extend_from_slice(&[0xff; 8]);
        assert_eq!(decode_entry(&padded), Some(INFO));
    }

    #[test]
    fn short_truncated_or_foreign_entries_are_refused() {
        // A payload shorter than version 0, even with bytes after it.
        assert_eq!(
            decode_entry(&entry(LSM_ID_SECNS, 24, INFO.as_bytes())),
            None
        );
        assert_eq!(decode_entry(&entry(LSM_ID_SECNS, 0, &[])), None);
        // ctx_len beyond what the kernel wrote.
        assert_eq!(
            decode_entry(&entry(LSM_ID_SECNS, 40, INFO.as_bytes())),
            None
        );
        let mut huge = LsmCtxHeader::new(LSM_ID_SECNS, 32);
        huge.ctx_len = u64::MAX;
        let mut e = huge.as_bytes().to_vec();
        e.extend_from_slice(INFO.as_bytes());
        assert_eq!(decode_entry(&e), None);
        // Another LSM's entry, or no whole header.
        assert_eq!(
            decode_entry(&entry(LSM_ID_SECNS + 1, 32, INFO.as_bytes())),
            None
        );
        assert_eq!(
            decode_entry(&entry(LSM_ID_SECNS, 32, INFO.as_bytes())[..31]),
            None
        );
    }

    /// A kernel whose secns entry is `entry`: answers `E2BIG` and the size
    /// needed to a smaller buffer, as lsm_get_self_attr(2) does.
    fn kernel(
        entry: Vec<u8>,
        calls: &mut Vec<usize>,
    ) -> impl FnMut(&mut [u8]) -> (std::result::Result<u32, i32>, u32) + '_ {
        move |buf: &mut [u8]| {
            calls.push(buf.len());
            let asked = LsmCtxHeader::from_bytes(buf).map(|h| h.id);
            assert_eq!(asked, Some(LSM_ID_SECNS), "LSM_FLAG_SINGLE needs the id");
            if buf.len() < entry.len() {
                return (Err(libc::E2BIG), entry.len() as u32);
            }
            buf[..entry.len()].copy_from_slice(&entry);
            (Ok(1), entry.len() as u32)
        }
    }

    #[test]
    fn status_grows_its_buffer_for_a_larger_secns_info() {
        let mut later = INFO.as_bytes().to_vec();
        later.extend_from_slice(&[0; 40]);
        let e = entry(LSM_ID_SECNS, later.len(), &later);
        let mut calls = Vec::new();
        let got = read_entry(kernel(e.clone(), &mut calls)).expect("read");
        assert_eq!(got, e);
        assert_eq!(calls, [64, 104]);
        assert_eq!(decode_entry(&got), Some(INFO));

        // Version 0: one call, only the bytes written are kept.
        let v0 = entry(LSM_ID_SECNS, 32, INFO.as_bytes());
        let mut calls = Vec::new();
        assert_eq!(read_entry(kernel(v0.clone(), &mut calls)), Ok(v0));
        assert_eq!(calls, [64]);
    }

    #[test]
    fn status_gives_up_on_an_e2big_without_a_larger_size() {
        let mut calls = 0;
        let r = read_entry(|buf| {
            calls += 1;
            (Err(libc::E2BIG), buf.len() as u32)
        });
        assert_eq!((r, calls), (Err(libc::E2BIG), 1));
        // A kernel that keeps asking for more: a bounded number of tries.
        let mut calls = 0;
        let r = read_entry(|buf| {
            calls += 1;
            (Err(libc::E2BIG), buf.len() as u32 + 8)
        });
        assert_eq!((r, calls), (Err(libc::E2BIG), STATUS_TRIES));
        // Absurd sizes are not allocated.
        let r = read_entry(|_| (Err(libc::E2BIG), u32::MAX));
        assert_eq!(r, Err(libc::E2BIG));
        // Other errors come back as they are.
        assert_eq!(
            read_entry(|_| (Err(libc::EOPNOTSUPP), 0)),
            Err(libc::EOPNOTSUPP)
        );
    }

    #[test]
    fn secns_info_decodes_native_order_and_refuses_short_input() {
        let mut b = [0u8; 32];
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(offset_of!(SecnsInfo, id), &5u64.to_ne_bytes());
        put(offset_of!(SecnsInfo, pending_id), &6u64.to_ne_bytes());
        put(offset_of!(SecnsInfo, depth), &1u32.to_ne_bytes());
        put(
            offset_of!(SecnsInfo, flags),
            &SECNS_INFO_PENDING.to_ne_bytes(),
        );
        let i = SecnsInfo::from_bytes(&b).expect("32 bytes decode");
        assert_eq!((i.id, i.pending_id, i.depth, i.flags), (5, 6, 1, 1));
        assert!(SecnsInfo::from_bytes(&b[..31]).is_none());
    }

    /// Every operation agrees with `is_supported()`: on a kernel without
    /// secns (like the build host) each says so and nothing else happens; on
    /// one with secns (the VM) `status()` answers and `abort()` without a
    /// pending namespace is refused for that reason, not as unsupported.
    #[test]
    fn every_operation_agrees_with_is_supported() {
        if is_supported() {
            status().expect("secns is supported");
            let e = abort().expect_err("nothing is pending");
            assert!(!e.is_not_supported(), "{e}");
            assert_eq!(e.errno(), libc::ENOENT, "{e}");
            return;
        }
        let e = init().expect_err("no secns, no namespace");
        assert!(e.is_not_supported(), "{e}");
        for r in [unshare(), abort(), join_pid(std::process::id())] {
            let e = r.expect_err("no secns, no namespace");
            assert!(e.is_not_supported(), "{e}");
        }
        assert!(status().expect_err("no secns").is_not_supported());
    }
}
