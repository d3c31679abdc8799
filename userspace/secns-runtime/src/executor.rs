//! The secns steps, run by the container's own processes through
//! libcontainer's `Executor`.
//!
//! libcontainer's init (and an `exec`'s process) sets up the namespaces,
//! the root file system, seccomp and the capabilities of the spec, then
//! calls [`Executor::validate`], reports ready (`create` returns), waits
//! for `start` and calls [`Executor::exec`]. So:
//!
//! - `validate()` of a container's init creates its pending security
//!   namespace (INIT, `CAP_MAC_ADMIN`, which the runtime added to the
//!   spec for this step); of an `exec`'s process joins the container's
//!   (JOIN, through a pidfd of the container's init that the runtime
//!   opened); then it drops the capabilities the runtime lent it from
//!   every set, so that the workload never holds them, and reports the
//!   outcome to the runtime through a pipe;
//! - `exec()` of the init enters the pending namespace (UNSHARE: no
//!   capability needed to enter one's own); `exec()` of both loads the
//!   container's seccomp filter (libcontainer 0.7 gives an `exec`'s
//!   process none), right before libcontainer's default executor executes
//!   the workload. If it cannot, the workload is not executed.
//!
//! The runtime takes the seccomp filter out of the spec it gives
//! libcontainer, which would load it before `validate()`: the secns steps'
//! own system calls (`lsm_set_self_attr`, `lsm_get_self_attr`) would then
//! have to pass the container's profile, which the default profiles of
//! Docker and containerd do not allow, and which a libseccomp older than
//! 2.6 cannot even name. Loaded last, as runc loads a filter with
//! `noNewPrivileges`, it judges the workload and nothing of the runtime's.

use crate::spec::Intended;
use caps::Capability;
use libcontainer::oci_spec::runtime::{LinuxSeccomp, Spec};
use libcontainer::seccomp::initialize_seccomp;
use libcontainer::workload::default::DefaultExecutor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// What a container process does about its security namespace.
#[derive(Clone, Debug)]
pub enum Step {
    /// A container's init: create the pending namespace at `validate()`,
    /// enter it at `exec()`.
    Init,
    /// A process of `exec`: join the namespace of the task `pidfd` refers
    /// to (the container's init) at `validate()`.
    Join {
        /// A pidfd of the container's init, opened by the runtime before
        /// libcontainer cloned this process.
        pidfd: RawFd,
    },
}

/// The container's seccomp filter, which the runtime took out of
/// libcontainer's hands (libcontainer would load an init's before the
/// secns steps, where it would judge their own system calls, and gives an
/// `exec`'s process none): loaded at `exec()`, after libcontainer's last
/// system call and right before the workload's.
#[derive(Clone, Debug)]
pub struct Seccomp {
    /// The filter.
    pub filter: LinuxSeccomp,
    /// Whether `CAP_SYS_ADMIN` was lent to load it (no `noNewPrivileges`):
    /// kept, with `CAP_SETPCAP`, until it is.
    pub lent_admin: bool,
}

/// libcontainer's default executor, with the secns steps around it.
///
/// Holds descriptor numbers, not descriptors: the value is cloned into the
/// container's processes (libcontainer clones without `CLONE_FILES`), where
/// the descriptors are open at the same numbers until the workload is
/// executed (they are close-on-exec).
#[derive(Clone)]
pub struct SecnsExecutor {
    step: Step,
    seccomp: Option<Seccomp>,
    intended: Intended,
    report: RawFd,
    /// The namespace `validate()` created (an init only).
    pending: Cell<u64>,
}

impl SecnsExecutor {
    /// `report` is the write end of the pipe the outcome is written to.
    pub fn new(step: Step, seccomp: Option<Seccomp>, intended: Intended, report: &OwnedFd) -> Self {
        Self {
            step,
            seccomp,
            intended,
            report: report.as_raw_fd(),
            pending: Cell::new(0),
        }
    }

    fn secns_step(&self) -> Result<u64, Report> {
        match &self.step {
            Step::Init => secns::init().map_err(|e| Report::failed(Op::Init, e.errno())),
            &Step::Join { pidfd } => {
                // SAFETY: the runtime opened `pidfd` before the clone that
                // made this process, and nothing here closes it before the
                // join: it is open for the duration of this borrow.
                let fd = unsafe { BorrowedFd::borrow_raw(pidfd) };
                let joined = secns::join(fd).map_err(|e| Report::failed(Op::Join, e.errno()));
                // SAFETY: as above; this process owns its copy of the
                // descriptor and uses the number no more after this.
                drop(unsafe { OwnedFd::from_raw_fd(pidfd) });
                joined?;
                secns::status()
                    .map(|info| info.id)
                    .map_err(|e| Report::failed(Op::Join, e.errno()))
            }
        }
    }

    fn tell(&self, report: Report) {
        // SAFETY: the runtime keeps the pipe's write end open until the
        // container is created, and this process has its own copy, open
        // until the workload is executed.
        let fd = unsafe { BorrowedFd::borrow_raw(self.report) };
        // The runtime reads exactly one record; a failure to write leaves
        // it without one, which it reports as such.
        let _ = write_all(fd, &report.encode());
    }
}

impl Executor for SecnsExecutor {
    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        // A process that loads a filter without noNewPrivileges at exec()
        // keeps CAP_SYS_ADMIN (and CAP_SETPCAP, to drop it from the
        // bounding set) until then; it runs the runtime's code only.
        let keep: &[Capability] = match &self.seccomp {
            Some(Seccomp {
                lent_admin: true, ..
            }) => &[Capability::CAP_SYS_ADMIN, Capability::CAP_SETPCAP],
            _ => &[],
        };
        let outcome = self.secns_step().and_then(|id| {
            drop_added(self.intended, keep).map_err(|e| {
                Report::failed(Op::DropCapabilities, e.raw_os_error().unwrap_or(libc::EIO))
            })?;
            Ok(id)
        });
        match outcome {
            Ok(id) => {
                self.pending.set(id);
                self.tell(Report::ok(id));
            }
            Err(r) => {
                self.tell(r);
                return Err(ExecutorValidationError::ArgValidationError(r.to_string()));
            }
        }
        DefaultExecutor {}.validate(spec)
    }

    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        // The workload is not executed if any of this fails; say why on
        // the process's stderr, the only place left to say it.
        let fail = |what: String| {
            eprintln!("secns-runtime: {what}");
            ExecutorError::Other(what)
        };
        if let Step::Init = &self.step {
            secns::unshare().map_err(|e| fail(e.to_string()))?;
            match secns::status() {
                Ok(info) if info.id == self.pending.get() && info.pending_id.is_none() => {}
                Ok(info) => {
                    return Err(fail(format!(
                        "entered security namespace {}, not {}",
                        info.id,
                        self.pending.get()
                    )))
                }
                Err(e) => return Err(fail(e.to_string())),
            }
        }
        if let Some(seccomp) = &self.seccomp {
            load_seccomp(&seccomp.filter)
                .map_err(|e| fail(Report::failed(Op::Seccomp, e).to_string()))?;
            drop_added(self.intended, &[])
                .map_err(|e| fail(format!("dropping the capabilities lent: {e}")))?;
        }
        DefaultExecutor {}.exec(spec)
    }
}

/// Drops the capabilities the runtime lends (but those in `keep`) from
/// every set the spec does not grant them in (see [`Intended::drops`]),
/// and checks that they are gone: the process's sets are the spec's again.
fn drop_added(intended: Intended, keep: &[Capability]) -> io::Result<()> {
    let err = |e: caps::errors::CapsError| io::Error::other(e.to_string());
    let mut drops = intended.drops();
    for (_, caps) in &mut drops {
        caps.retain(|c| !keep.contains(c));
    }
    for (set, caps) in &drops {
        for &cap in caps {
            // Dropping from the bounding set needs CAP_SETPCAP even for a
            // capability that is not there: drop what is there only.
            if caps::has_cap(None, *set, cap).map_err(err)? {
                caps::drop(None, *set, cap).map_err(err)?;
            }
        }
    }
    for (set, caps) in &drops {
        for &cap in caps {
            if caps::has_cap(None, *set, cap).map_err(err)? {
                return Err(io::Error::from_raw_os_error(libc::EPERM));
            }
        }
    }
    Ok(())
}

/// Loads the container's seccomp filter with libcontainer's own code (the
/// errno of a failure).
fn load_seccomp(seccomp: &LinuxSeccomp) -> Result<(), i32> {
    // The runtime refused profiles with SCMP_ACT_NOTIFY, whose listener
    // nobody would receive here.
    match initialize_seccomp(seccomp) {
        Ok(None) => Ok(()),
        Ok(Some(fd)) => {
            // SAFETY: a descriptor libseccomp just made and handed over.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Err(libc::EINVAL)
        }
        Err(_) => Err(libc::EINVAL),
    }
}

fn write_all(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<()> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes, and `fd` is
    // an open descriptor for the duration of the call.
    let n = unsafe { libc::write(fd.as_fd().as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else if n as usize != buf.len() {
        Err(io::Error::from_raw_os_error(libc::EIO))
    } else {
        Ok(())
    }
}

/// The step a [`Report`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `LSM_ATTR_UNSHARE_INIT` in the container's init.
    Init = 1,
    /// `LSM_ATTR_UNSHARE` with `SECNS_JOIN` in an `exec`'s process.
    Join = 2,
    /// Dropping the capabilities the runtime added.
    DropCapabilities = 3,
    /// Loading the container's seccomp filter into an `exec`'s process.
    Seccomp = 4,
}

/// What a container process tells the runtime about its secns step: the
/// namespace it created or joined, or the step that failed and its errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// 0, or the step that failed.
    op: u32,
    /// 0, or the errno of the failed step.
    errno: i32,
    /// The namespace, when nothing failed.
    id: u64,
}

/// The size of an encoded [`Report`].
pub const REPORT_SIZE: usize = 16;

impl Report {
    fn ok(id: u64) -> Self {
        Self {
            op: 0,
            errno: 0,
            id,
        }
    }

    fn failed(op: Op, errno: i32) -> Self {
        Self {
            op: op as u32,
            errno,
            id: 0,
        }
    }

    fn encode(&self) -> [u8; REPORT_SIZE] {
        let mut b = [0u8; REPORT_SIZE];
        b[..4].copy_from_slice(&self.op.to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..].copy_from_slice(&self.id.to_ne_bytes());
        b
    }

    /// Decodes what [`Report::encode`] wrote.
    pub fn decode(b: &[u8; REPORT_SIZE]) -> Self {
        let word = |r: std::ops::Range<usize>| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[r]);
            w
        };
        let mut id = [0u8; 8];
        id.copy_from_slice(&b[8..]);
        Self {
            op: u32::from_ne_bytes(word(0..4)),
            errno: i32::from_ne_bytes(word(4..8)),
            id: u64::from_ne_bytes(id),
        }
    }

    /// The namespace, or what failed.
    pub fn outcome(&self) -> Result<u64, String> {
        if self.op == 0 {
            Ok(self.id)
        } else {
            Err(self.to_string())
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            0 => return write!(f, "security namespace {}", self.id),
            1 => secns::Op::Init,
            2 => secns::Op::Join,
            4 => {
                return write!(
                    f,
                    "loading the container's seccomp filter into the process failed: {}",
                    io::Error::from_raw_os_error(self.errno)
                )
            }
            _ => {
                return write!(
                    f,
                    "dropping the capabilities the runtime lent (CAP_MAC_ADMIN) failed: {}",
                    io::Error::from_raw_os_error(self.errno)
                )
            }
        };
        write!(f, "{}", secns::Error::new(op, self.errno))
    }
}
