//! One error type for every operation: the errno, and what it means for the
//! operation that failed.

use std::fmt;

/// What was being done when an [`Error`] happened: the kind of error.
///
/// More operations may come: a `match` outside this crate needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// [`crate::init`]: `LSM_ATTR_UNSHARE_INIT`.
    Init,
    /// [`crate::unshare`]: `LSM_ATTR_UNSHARE`.
    Unshare,
    /// [`crate::abort`]: `LSM_ATTR_UNSHARE_INIT` with `SECNS_ABORT`.
    Abort,
    /// [`crate::join`]: `LSM_ATTR_UNSHARE` with `SECNS_JOIN`.
    Join,
    /// [`crate::join_pid`]: `pidfd_open(2)` of the process to join.
    OpenPidfd,
    /// [`crate::status`]: `lsm_get_self_attr(LSM_ATTR_UNSHARE)`.
    Status,
    /// [`crate::active_lsms`]: `lsm_list_modules(2)` or the LSM list in
    /// securityfs.
    ListModules,
    /// [`crate::Limits::read`].
    ReadLimits,
    /// [`crate::Limits::set_maxns`].
    SetMaxns,
    /// [`crate::Limits::set_maxnsdepth`].
    SetMaxnsdepth,
}

impl Op {
    fn what(self) -> &'static str {
        match self {
            Op::Init => "creating a security namespace (LSM_ATTR_UNSHARE_INIT)",
            Op::Unshare => "entering a security namespace (LSM_ATTR_UNSHARE)",
            Op::Abort => "dropping the pending security namespace (SECNS_ABORT)",
            Op::Join => "joining a security namespace (LSM_ATTR_UNSHARE, SECNS_JOIN)",
            Op::OpenPidfd => "opening a pidfd of the process (pidfd_open)",
            Op::Status => "reading the security namespaces (LSM_ATTR_UNSHARE)",
            Op::ListModules => "listing the active LSMs",
            Op::ReadLimits => "reading the secns limits",
            Op::SetMaxns => "setting maxns",
            Op::SetMaxnsdepth => "setting maxnsdepth",
        }
    }
}

/// Which limit an `ENOSPC` ran into, as far as the limits at the time of
/// the error tell.
///
/// More limits may come: a `match` outside this crate needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitHit {
    /// The new namespace would be deeper than `maxnsdepth`.
    Depth {
        /// The depth it would have had.
        depth: u32,
        /// `maxnsdepth`.
        maxnsdepth: u32,
    },
    /// `maxns` namespaces exist already.
    Count {
        /// Live namespaces.
        count: u32,
        /// `maxns`.
        maxns: u32,
    },
}

/// An operation of this crate failed with `errno`.
///
/// Its fields are private (read them with [`Error::op`], [`Error::errno`]
/// and [`Error::limit`]), so it can grow without breaking callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    op: Op,
    errno: i32,
    limit: Option<LimitHit>,
}

/// The result of the operations of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `op` with `errno`.
    pub fn new(op: Op, errno: i32) -> Self {
        Self {
            op,
            errno,
            limit: None,
        }
    }

    pub(crate) fn with_limit(mut self, limit: Option<LimitHit>) -> Self {
        self.limit = limit;
        self
    }

    /// The operation that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The errno the kernel returned.
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// For `ENOSPC`: the limit that was reached, when it could be told.
    pub fn limit(&self) -> Option<LimitHit> {
        self.limit
    }

    /// Whether the kernel has no security namespaces (no secns LSM, or no
    /// LSM syscalls at all).
    pub fn is_not_supported(&self) -> bool {
        self.errno == libc::EOPNOTSUPP || self.errno == libc::ENOSYS
    }

    /// What the errno means for this operation.
    pub fn meaning(&self) -> String {
        let e = self.errno;
        let s = match (self.op, e) {
            (Op::OpenPidfd, libc::ENOSYS) => {
                "this kernel has no pidfd_open(2) (Linux 5.3 or later needed)"
            }
            (Op::OpenPidfd, libc::ESRCH) => "there is no process with this pid",
            (Op::OpenPidfd, libc::EINVAL) => {
                "not the pid of a process (it must be above 0, and a process's, not one of its \
                 other threads')"
            }
            (_, libc::ENOSYS) => "this kernel has no LSM system calls (Linux 6.8 or later needed)",
            (Op::SetMaxns | Op::SetMaxnsdepth, libc::EPERM) => {
                "CAP_MAC_ADMIN in the initial user namespace is needed to change the limits"
            }
            (Op::ReadLimits | Op::SetMaxns | Op::SetMaxnsdepth, libc::EACCES) => {
                "the file permissions of /sys/kernel/security/secns do not allow it"
            }
            (Op::SetMaxns | Op::SetMaxnsdepth, libc::EINVAL) => {
                "the value is out of range (maxns: 0 to 2147483647, maxnsdepth: 0 to 32)"
            }
            (Op::ReadLimits | Op::SetMaxns | Op::SetMaxnsdepth | Op::ListModules, libc::ENOENT) => {
                "securityfs or the secns files are missing (kernel without secns, or \
                 /sys/kernel/security not mounted)"
            }
            (_, libc::EOPNOTSUPP) => {
                "this kernel has no security namespaces (secns is not built in or not in lsm=)"
            }
            (Op::Init, libc::EPERM) => {
                "the caller lacks CAP_MAC_ADMIN in the initial user namespace, or an LSM \
                 (for example lockdown) refused the namespace"
            }
            (Op::Unshare, libc::EPERM) => {
                "the caller lacks CAP_MAC_ADMIN in the initial user namespace (needed when no \
                 namespace is pending: entering one's own pending namespace needs none), or an \
                 LSM (for example lockdown) refused the namespace"
            }
            (Op::Join, libc::EPERM) => {
                "the caller lacks CAP_MAC_ADMIN in the initial user namespace, may not read the \
                 process with ptrace (PTRACE_MODE_READ), or the process's namespace is neither \
                 the caller's own nor one of its descendants (nobody joins upward or sideways); \
                 or an LSM (for example lockdown) refused"
            }
            (Op::Join, libc::EBUSY) => {
                "the caller has a pending security namespace: enter it (unshare) or drop it \
                 (abort) before joining another"
            }
            (Op::Join, libc::EBADF) => "the file descriptor is not a pidfd",
            (Op::Join, libc::ESRCH) => "the process has exited",
            (Op::Join, libc::EINVAL) => {
                "the process has more than one thread (only a single-threaded process can \
                 change its security namespace), or this kernel cannot join (no SECNS_JOIN)"
            }
            (Op::Init | Op::Unshare, libc::ENOSPC) => {
                return match self.limit {
                    Some(LimitHit::Depth { depth, maxnsdepth }) => format!(
                        "limit reached: the namespace would have depth {depth}, above \
                         maxnsdepth {maxnsdepth}"
                    ),
                    Some(LimitHit::Count { count, maxns }) => format!(
                        "limit reached: {count} security namespaces exist, maxns is {maxns}"
                    ),
                    None => "limit reached: maxns or maxnsdepth (see /sys/kernel/security/secns)"
                        .to_string(),
                };
            }
            (Op::Init, libc::EBUSY) => {
                "a security namespace is already pending: enter it (unshare) or drop it (abort)"
            }
            (Op::Unshare, libc::EINVAL) => {
                "the process has more than one thread (only a single-threaded process can \
                 change its security namespace)"
            }
            (Op::Abort, libc::ENOENT) => "no security namespace is pending",
            (_, libc::E2BIG) => "the kernel does not know part of the request (newer uapi?)",
            (_, libc::ENOMEM) => "out of memory",
            // secns itself returns none of the others: a stacked LSM refused.
            (Op::Init | Op::Unshare | Op::Join, _) => {
                return format!(
                    "a stacked LSM refused the namespace: {}",
                    std::io::Error::from_raw_os_error(e)
                )
            }
            _ => return std::io::Error::from_raw_os_error(e).to_string(),
        };
        s.to_string()
    }
}

/// The symbolic name of the errnos this crate explains.
fn errno_name(e: i32) -> Option<&'static str> {
    Some(match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::E2BIG => "E2BIG",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.op.what(), self.meaning())?;
        match errno_name(self.errno) {
            Some(name) => write!(f, " ({name})"),
            None => write!(f, " (errno {})", self.errno),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_the_errno_means_for_the_operation() {
        let e = Error::new(Op::Init, libc::EPERM);
        assert_eq!(
            e.to_string(),
            "creating a security namespace (LSM_ATTR_UNSHARE_INIT) failed: the caller lacks \
             CAP_MAC_ADMIN in the initial user namespace, or an LSM (for example lockdown) \
             refused the namespace (EPERM)"
        );
        let e = Error::new(Op::Unshare, libc::EINVAL);
        assert!(e.to_string().contains("more than one thread"));
        let e = Error::new(Op::Abort, libc::ENOENT);
        assert!(e
            .to_string()
            .ends_with("no security namespace is pending (ENOENT)"));
        let e = Error::new(Op::Init, libc::EOPNOTSUPP);
        assert!(e.is_not_supported());
        assert!(e.to_string().contains("no security namespaces"));
        let e = Error::new(Op::SetMaxns, libc::EINVAL);
        assert!(e.to_string().contains("out of range"));
        let e = Error::new(Op::Unshare, libc::EACCES);
        assert!(e
            .to_string()
            .contains("a stacked LSM refused the namespace"));
        let e = Error::new(Op::Status, 9999);
        assert!(e.to_string().ends_with("(errno 9999)"));
    }

    #[test]
    fn entering_a_pending_namespace_is_not_said_to_need_a_capability() {
        let e = Error::new(Op::Unshare, libc::EPERM).to_string();
        assert!(
            e.contains("needed when no namespace is pending")
                && e.contains("entering one's own pending namespace needs none"),
            "{e}"
        );
    }

    #[test]
    fn join_errors_say_what_went_wrong() {
        let join = |errno| Error::new(Op::Join, errno).to_string();
        let e = join(libc::EPERM);
        assert!(
            e.starts_with("joining a security namespace (LSM_ATTR_UNSHARE, SECNS_JOIN) failed: ")
                && e.contains("CAP_MAC_ADMIN")
                && e.contains("ptrace")
                && e.contains("nobody joins upward or sideways")
                && e.ends_with("(EPERM)"),
            "{e}"
        );
        assert!(join(libc::EBUSY).contains("pending security namespace"));
        assert!(join(libc::EBUSY).ends_with("(EBUSY)"));
        assert!(join(libc::EBADF).ends_with("not a pidfd (EBADF)"));
        assert!(join(libc::ESRCH).ends_with("the process has exited (ESRCH)"));
        assert!(join(libc::EINVAL).contains("more than one thread"));
        assert!(join(libc::E2BIG).contains("does not know part of the request"));
        assert!(join(libc::EACCES).contains("a stacked LSM refused"));
        assert!(Error::new(Op::Join, libc::EOPNOTSUPP).is_not_supported());

        let open = |errno| Error::new(Op::OpenPidfd, errno).to_string();
        assert_eq!(
            open(libc::ESRCH),
            "opening a pidfd of the process (pidfd_open) failed: there is no process with this \
             pid (ESRCH)"
        );
        assert!(open(libc::EINVAL).contains("not the pid of a process"));
        assert!(open(libc::ENOSYS).contains("no pidfd_open(2)"));
        assert!(open(libc::EMFILE).ends_with(&format!("(errno {})", libc::EMFILE)));
    }

    #[test]
    fn enospc_names_the_limit() {
        let depth = Error::new(Op::Init, libc::ENOSPC).with_limit(Some(LimitHit::Depth {
            depth: 3,
            maxnsdepth: 2,
        }));
        assert!(depth.to_string().contains("depth 3, above maxnsdepth 2"));
        let count = Error::new(Op::Unshare, libc::ENOSPC)
            .with_limit(Some(LimitHit::Count { count: 7, maxns: 7 }));
        assert!(count
            .to_string()
            .contains("7 security namespaces exist, maxns is 7"));
        let unknown = Error::new(Op::Init, libc::ENOSPC);
        assert!(unknown.to_string().contains("maxns or maxnsdepth"));
        assert_eq!(unknown.errno(), libc::ENOSPC);
    }
}
