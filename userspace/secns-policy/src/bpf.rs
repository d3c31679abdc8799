//! The BPF object, through libbpf (the `libbpf-rs` crate, with libbpf built
//! from its vendored sources and linked statically, as are libelf and zlib).
//!
//! libbpf does the work: the ELF object, its BTF-defined maps, the kfunc
//! calls (resolved against the kernel's BTF) and the CO-RE relocations. This
//! module adds what a command needs on top: an [`Error`] that says what was
//! being done, with the errno the kernel gave and the verifier's log when
//! the kernel refused a program.

use libbpf_rs::{Object, ObjectBuilder, OpenObject, PrintLevel};
use std::fmt;
use std::io;
use std::sync::Mutex;

/// How many lines of libbpf's log an error shows.
const LOG_TAIL_LINES: usize = 20;

/// An error of libbpf: what was being done, and why it failed.
///
/// Its [`Display`](fmt::Display) is one sentence, followed by the last lines
/// of libbpf's log (which has the verifier's) when a load failed.
#[derive(Debug)]
pub struct Error {
    what: String,
    source: libbpf_rs::Error,
    log: String,
}

impl Error {
    /// `source`, while doing `what`.
    pub fn new(what: impl Into<String>, source: libbpf_rs::Error) -> Self {
        Self {
            what: what.into(),
            source,
            log: String::new(),
        }
    }

    /// Whether the kernel (or libbpf) failed with `errno`.
    ///
    /// libbpf gives the errno as a negative return, which `libbpf-rs` turns
    /// into an `io::Error` from the raw error code, with no context added:
    /// so the two descriptions are equal exactly when the codes are.
    pub fn is_errno(&self, errno: i32) -> bool {
        self.source.to_string() == io::Error::from_raw_os_error(errno).to_string()
    }

    /// The error's kind, as `libbpf-rs` classifies it.
    pub fn kind(&self) -> libbpf_rs::ErrorKind {
        self.source.kind()
    }

    /// libbpf's log of the load that failed (the verifier's log is in it).
    pub fn log(&self) -> &str {
        &self.log
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)?;
        let lines: Vec<&str> = self.log.lines().collect();
        if !lines.is_empty() {
            let from = lines.len().saturating_sub(LOG_TAIL_LINES);
            write!(f, "\nlibbpf's log (its last {} lines):", lines.len() - from)?;
            for line in &lines[from..] {
                write!(f, "\n  {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The results of this module.
pub type Result<T> = std::result::Result<T, Error>;

/// Opens a BPF object from its bytes (nothing is loaded into the kernel).
pub fn open(object: &[u8], name: &str) -> Result<OpenObject> {
    ObjectBuilder::default()
        .name(name)
        .and_then(|b| b.open_memory(object))
        .map_err(|e| Error::new(format!("cannot open the BPF object {name}"), e))
}

/// What libbpf printed during [`load`].
static LOG: Mutex<String> = Mutex::new(String::new());

fn keep(_level: PrintLevel, msg: String) {
    if let Ok(mut log) = LOG.lock() {
        log.push_str(&msg);
    }
}

/// Loads an opened object into the kernel: its maps are created (or
/// reused), its programs relocated and verified. libbpf's messages are
/// kept, for the error, instead of printed.
pub fn load(open: OpenObject, name: &str) -> Result<Object> {
    if let Ok(mut log) = LOG.lock() {
        log.clear();
    }
    let before = libbpf_rs::set_print(Some((PrintLevel::Info, keep)));
    let loaded = open.load();
    libbpf_rs::set_print(before);
    let log = LOG
        .lock()
        .map(|mut log| std::mem::take(&mut *log))
        .unwrap_or_default();
    loaded.map_err(|e| Error {
        what: format!("cannot load the BPF object {name}"),
        source: e,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_errno_is_recognised_and_no_other() {
        let e = Error::new("x", libbpf_rs::Error::from_raw_os_error(libc::EACCES));
        assert!(e.is_errno(libc::EACCES));
        assert!(!e.is_errno(libc::EPERM));
        assert_eq!(e.kind(), libbpf_rs::ErrorKind::PermissionDenied);
    }

    #[test]
    fn the_error_shows_the_end_of_the_log() {
        let mut e = Error::new("load", libbpf_rs::Error::from_raw_os_error(libc::EINVAL));
        e.log = (0..30).map(|i| format!("line {i}\n")).collect();
        let shown = e.to_string();
        assert!(shown.starts_with("load: "), "{shown}");
        assert!(
            shown.contains("line 29") && shown.contains("line 10"),
            "{shown}"
        );
        assert!(!shown.contains("line 9\n"), "{shown}");
    }

    #[test]
    fn a_file_that_is_not_an_object_is_refused() {
        let e = open(b"not an ELF file", "junk").map(drop);
        assert!(e.is_err());
    }
}
