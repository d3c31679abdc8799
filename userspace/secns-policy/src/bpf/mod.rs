//! A small BPF loader for the one object this crate ships: pure Rust over the
//! raw `bpf(2)` system call.
//!
//! The policy programs call kfuncs (`extern ... __ksym` functions of the
//! kernel, resolved to vmlinux BTF type ids), which `aya` cannot relocate,
//! and libbpf needs C libraries the host build cannot link statically. So
//! this module parses the ELF object, relocates its programs and loads them
//! itself. It supports exactly what `bpf/policy.bpf.c` and the kfunc tests'
//! object (`tests/vm/bpf/kfuncs.bpf.c`) use, and refuses everything else
//! with an error that names it:
//!
//! - **Programs**: sections `lsm/<hook>`, each one function (the compiler
//!   inlines everything: no BPF-to-BPF calls), loaded as
//!   `BPF_PROG_TYPE_LSM` with `BPF_LSM_MAC` against `bpf_lsm_<hook>`; and
//!   sections `fentry/<function>`, loaded (never attached) as
//!   `BPF_PROG_TYPE_TRACING` with `BPF_TRACE_FENTRY`, for the tests of what
//!   the verifier refuses tracing programs. Refused: any other executable
//!   section with code (`.text` subprograms, `lsm.s/` sleepable programs,
//!   other program types), and calls to subprograms.
//! - **Maps**: BTF-defined ones (libbpf's `.maps` convention) with the
//!   attributes `type`, `map_flags`, `max_entries`, `key`/`key_size` and
//!   `value`/`value_size`. Refused: legacy `maps` sections and the other
//!   attributes (`pinning`, `values`, `numa_node`, `map_extra`, inner maps).
//!   [`Map`] refuses per-CPU map types (their values have one copy per CPU).
//! - **Relocations**: `R_BPF_64_64` on `ld_imm64` against a map (the map's
//!   fd, `BPF_PSEUDO_MAP_FD`) and `R_BPF_64_32` on `call` against an extern
//!   symbol (a kfunc of vmlinux, `BPF_PSEUDO_KFUNC_CALL`). Refused: global
//!   data (`.data`, `.rodata`, `.bss`), other relocation types, kfuncs of
//!   modules.
//! - **CO-RE**: `.BTF.ext` relocations of kind `BPF_CORE_FIELD_BYTE_OFFSET`
//!   only, on memory instructions (`off`) and ALU instructions with an
//!   immediate (`imm`). Struct flavors (`task_struct___v2`) and anonymous
//!   members are matched as libbpf does. Refused: other kinds (field
//!   existence, sizes, type and enum relocations) and bitfields.
//!
//! The object's own BTF is not loaded into the kernel: LSM programs without
//! global functions do not need it (no `func_info`), and the CO-RE
//! relocations are applied here.
//!
//! All the `unsafe` code is in `sys.rs`; the parsers ([`Btf::parse`],
//! [`Object::parse`]) check every offset and count, and return an [`Error`]
//! for a malformed input rather than panic.

mod btf;
mod core_relo;
mod elf;
mod map;
mod object;
mod sys;

#[cfg(test)]
mod testutil;

use std::fmt;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

pub use self::btf::Btf;
pub use self::map::{Map, MapInfo};
pub use self::object::{MapDef, Object};

/// [`Map::update`]: create the element or replace it.
pub const BPF_ANY: u64 = 0;
/// [`Map::update`]: create the element; fail with `EEXIST` if it exists.
pub const BPF_NOEXIST: u64 = 1;
/// [`Map::update`]: replace the element; fail with `ENOENT` if it does not
/// exist.
pub const BPF_EXIST: u64 = 2;

/// How many lines of the verifier log an error shows.
const LOG_TAIL_LINES: usize = 20;

/// An error of the loader: what was being done, and why it failed.
///
/// Its [`Display`](fmt::Display) is one sentence with the context (and the
/// operating-system error, when there is one), followed by the last lines of
/// the verifier log when the kernel refused a program.
///
/// [`Error::verifier_log`] has the whole log.
pub struct Error {
    message: String,
    errno: Option<i32>,
    cause: Option<io::Error>,
    log: Option<String>,
}

/// The result of the loader's operations.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with nothing but a message.
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            errno: None,
            cause: None,
            log: None,
        }
    }

    /// A failed `bpf(2)` call: `context` says what it was doing.
    pub(crate) fn sys(context: impl Into<String>, err: io::Error) -> Error {
        Error {
            message: context.into(),
            errno: err.raw_os_error(),
            cause: Some(err),
            log: None,
        }
    }

    /// A failed I/O operation that is not `bpf(2)` (reading a file).
    pub(crate) fn io(context: impl Into<String>, err: io::Error) -> Error {
        Error {
            message: context.into(),
            errno: None,
            cause: Some(err),
            log: None,
        }
    }

    /// Puts `context` (what was being done) in front of the message.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Adds the verifier log to the error.
    pub(crate) fn with_log(mut self, log: String) -> Error {
        if !log.is_empty() {
            self.log = Some(log);
        }
        self
    }

    /// The errno of the `bpf(2)` call that failed, when the error is one.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    /// The verifier log, when the kernel refused a program and gave one
    /// (the end of it, if it was longer than the loader's largest buffer).
    pub fn verifier_log(&self) -> Option<&str> {
        self.log.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        if let Some(log) = &self.log {
            // The end, where the verifier says what it refused.
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines.get(lines.len().saturating_sub(LOG_TAIL_LINES)..);
            let tail = tail.unwrap_or_default().join("\n");
            write!(f, "\nverifier log (last lines):\n{tail}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("message", &self.message)
            .field("errno", &self.errno)
            .field("cause", &self.cause)
            .field("log", &self.log)
            .finish()
    }
}

/// The cause is part of the [`Display`](fmt::Display) text already, so it is
/// not repeated as a `source()`.
impl std::error::Error for Error {}

/// Attaches a loaded LSM program (`BPF_LINK_CREATE` with `BPF_LSM_MAC`).
///
/// The program stays attached as long as the returned link is open or
/// pinned ([`pin`]).
pub fn attach_lsm(prog: BorrowedFd<'_>) -> Result<OwnedFd> {
    sys::link_create(prog, sys::BPF_LSM_MAC)
        .map_err(|e| Error::sys("attaching a BPF LSM program (BPF_LINK_CREATE)", e))
}

/// Pins a BPF object (program, map or link) at `path` in a BPF file system
/// (`BPF_OBJ_PIN`).
pub fn pin(fd: BorrowedFd<'_>, path: &Path) -> Result<()> {
    let cpath = sys::path_cstring(path)?;
    sys::obj_pin(fd, &cpath)
        .map_err(|e| Error::sys(format!("pinning a BPF object at {}", path.display()), e))
}

/// Opens the BPF object pinned at `path` (`BPF_OBJ_GET`).
pub fn open_pinned(path: &Path) -> Result<OwnedFd> {
    let cpath = sys::path_cstring(path)?;
    sys::obj_get(&cpath).map_err(|e| {
        Error::sys(
            format!("opening the BPF object pinned at {}", path.display()),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_and_errno() {
        let e = Error::sys(
            "creating BPF map policies",
            io::Error::from_raw_os_error(libc::EPERM),
        );
        assert_eq!(e.errno(), Some(libc::EPERM));
        let text = e.to_string();
        assert!(text.starts_with("creating BPF map policies: "), "{text}");
        assert!(e.verifier_log().is_none());

        let e = Error::new("the object has no license").with_log("R1 invalid mem access".into());
        assert_eq!(e.errno(), None);
        assert_eq!(
            e.to_string(),
            "the object has no license\nverifier log (last lines):\nR1 invalid mem access"
        );

        let e = Error::io("reading x", io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.errno(), None);

        // The whole log, but only its end shown.
        let log: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
        let e = Error::new("refused").with_log(log.join("\n"));
        assert_eq!(e.verifier_log(), Some(log.join("\n").as_str()));
        let text = e.to_string();
        assert!(
            text.ends_with(&log[10..].join("\n")) && !text.contains("line 9\n"),
            "{text}"
        );
    }

    #[test]
    fn paths_with_nul_are_refused() {
        let err = open_pinned(Path::new("/sys/fs/bpf/a\0b")).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }
}
