// SPDX-License-Identifier: GPL-2.0

//! securityfs: an LSM's files under `/sys/kernel/security`.
//!
//! C header: [`include/linux/security.h`](srctree/include/linux/security.h).
//!
//! A file is a type that implements [`TextFile`]: its contents are text
//! made by [`TextFile::show`] on each read, and a write is parsed by
//! [`TextFile::store`] (size-checked, UTF-8, one trailing newline removed).
//! [`Dir`] and [`File`] remove what they created when dropped, so an error
//! half-way through setting up a directory leaves nothing behind; call
//! [`Dir::keep`] and [`File::keep`] for files that stay for good. A file
//! borrows its directory, so a directory cannot be removed before its files.
//!
//! The files' operations have no owning module: this is for built-in code
//! (LSMs are built in), not for loadable modules.
//!
//! # Examples
//!
//! ```ignore
//! use kernel::securityfs::{Dir, TextFile};
//! use kernel::prelude::*;
//!
//! struct Answer;
//!
//! impl TextFile for Answer {
//!     fn show(out: &mut dyn core::fmt::Write) -> Result {
//!         writeln!(out, "42").map_err(|_| EINVAL)
//!     }
//! }
//!
//! fn fs_init() -> Result {
//!     let dir = Dir::create(c"example", None)?;
//!     dir.file::<Answer>(c"answer", 0o444)?.keep();
//!     dir.keep();
//!     Ok(())
//! }
//! ```

use crate::{
    bindings,
    capability::{Capability, UserNamespace},
    error::{from_err_ptr, Result},
    ffi::{c_char, c_void},
    fs::LocalFile,
    prelude::*,
};
use core::{fmt, marker::PhantomData, ptr::NonNull};

/// The largest text a [`TextFile`] may show or be written, in bytes.
pub const TEXT_MAX: usize = 128;

/// A securityfs file whose contents are a short text.
pub trait TextFile: 'static {
    /// Whether the file can be written ([`TextFile::store`]).
    const WRITABLE: bool = false;

    /// Writes the file's contents (at most [`TEXT_MAX`] bytes) to `out`.
    fn show(out: &mut dyn fmt::Write) -> Result;

    /// Applies a write of `text` (at most [`TEXT_MAX`] bytes of UTF-8, one
    /// trailing newline removed). Input that does not parse is `EINVAL`.
    /// The file's mode and the opener's permissions were checked by the VFS;
    /// check any capability the write needs with `opener`.
    fn store(_text: &str, _opener: &Opener<'_>) -> Result {
        Err(EINVAL)
    }
}

/// The open file a write comes through, for checks against the credentials
/// it was opened with (not the writer's: a privileged writer must not be
/// tricked into writing through a descriptor an unprivileged task opened).
pub struct Opener<'a>(&'a LocalFile);

impl Opener<'_> {
    /// Whether the file was opened with `cap` in the initial user namespace
    /// (C `file_ns_capable()`).
    pub fn capable(&self, cap: Capability) -> bool {
        let ns = UserNamespace::initial().as_ptr();
        // SAFETY: the file is open for the duration of the write (`LocalFile`
        // invariant), and `ns` is the initial user namespace, which lives
        // forever. `file_ns_capable()` reads only the file's credentials,
        // which never change.
        unsafe { bindings::file_ns_capable(self.0.as_ptr(), ns, cap.as_raw()) }
    }
}

/// A directory under `/sys/kernel/security`, removed when dropped; it
/// borrows its parent directory (`'p`).
///
/// # Invariants
///
/// `self.0` is a dentry made by `securityfs_create_dir()` and not removed.
pub struct Dir<'p>(NonNull<bindings::dentry>, PhantomData<&'p Dir<'p>>);

/// A file in a [`Dir`] (which it borrows, `'d`), removed when dropped.
///
/// # Invariants
///
/// `self.0` is a dentry made by `securityfs_create_file()` and not removed.
pub struct File<'d>(NonNull<bindings::dentry>, PhantomData<&'d Dir<'d>>);

impl<'p> Dir<'p> {
    /// Creates the directory `name` in `parent` (the securityfs root if
    /// `None`).
    pub fn create(name: &CStr, parent: Option<&'p Dir<'_>>) -> Result<Self> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.0.as_ptr());
        // SAFETY: `name` is a valid C string; `parent` is NULL or a live
        // securityfs directory (type invariant).
        let dentry = unsafe { bindings::securityfs_create_dir(name.as_char_ptr(), parent) };
        let dentry = from_err_ptr(dentry)?;
        // INVARIANT: a successful `securityfs_create_dir` returns a dentry.
        NonNull::new(dentry)
            .map(|d| Self(d, PhantomData))
            .ok_or(ENOMEM)
    }

    /// Creates the file `name` with permissions `mode` (`0o777` at most:
    /// `EINVAL` for file-type or other bits), served by `T`.
    pub fn file<T: TextFile>(&self, name: &CStr, mode: u16) -> Result<File<'_>> {
        if mode & !0o777 != 0 {
            return Err(EINVAL);
        }
        // SAFETY: `name` is a valid C string, `self` a live securityfs
        // directory (type invariant) and the file operations are `'static`.
        let dentry = from_err_ptr(unsafe {
            bindings::securityfs_create_file(
                name.as_char_ptr(),
                mode,
                self.0.as_ptr(),
                core::ptr::null_mut(),
                Ops::<T>::build(),
            )
        })?;
        // INVARIANT: a successful `securityfs_create_file` returns a dentry.
        NonNull::new(dentry)
            .map(|d| File(d, PhantomData))
            .ok_or(ENOMEM)
    }

    /// Keeps the directory for as long as the system runs.
    pub fn keep(self) {
        core::mem::forget(self);
    }
}

impl File<'_> {
    /// Keeps the file for as long as the system runs.
    pub fn keep(self) {
        core::mem::forget(self);
    }
}

impl Drop for Dir<'_> {
    fn drop(&mut self) {
        // SAFETY: the dentry is ours and not removed yet (type invariant).
        unsafe { bindings::securityfs_remove(self.0.as_ptr()) };
    }
}

impl Drop for File<'_> {
    fn drop(&mut self) {
        // SAFETY: the dentry is ours and not removed yet (type invariant).
        unsafe { bindings::securityfs_remove(self.0.as_ptr()) };
    }
}

/// A text buffer of [`TEXT_MAX`] bytes; writing past its end is an error.
struct Text {
    buf: [u8; TEXT_MAX],
    len: usize,
}

impl Text {
    fn new() -> Self {
        Self {
            buf: [0; TEXT_MAX],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Removes one trailing newline from `bytes` and checks they are UTF-8.
fn parse_input(bytes: &[u8]) -> Result<&str> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    core::str::from_utf8(bytes).map_err(|_| EINVAL)
}

struct Ops<T>(PhantomData<T>);

impl<T: TextFile> Ops<T> {
    /// # Safety
    ///
    /// Called by the VFS as a `read` file operation.
    unsafe extern "C" fn read(
        _file: *mut bindings::file,
        ubuf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        let mut text = Text::new();
        if let Err(e) = T::show(&mut text) {
            return e.to_errno() as isize;
        }
        let bytes = text.as_bytes();
        // SAFETY: `ubuf` is a user buffer of `count` bytes and `ppos` a valid
        // position (VFS); `bytes` is valid for reads of its length.
        unsafe {
            bindings::simple_read_from_buffer(
                ubuf.cast(),
                count,
                ppos,
                bytes.as_ptr().cast(),
                bytes.len(),
            )
        }
    }

    /// # Safety
    ///
    /// Called by the VFS as a `write` file operation.
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        ubuf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: `ppos` is a valid position (VFS).
        if unsafe { *ppos } != 0 || count > TEXT_MAX {
            return EINVAL.to_errno() as isize;
        }
        let mut buf = [0u8; TEXT_MAX];
        // SAFETY: `buf` is valid for writes of `TEXT_MAX` bytes, `ubuf` is a
        // user buffer of `count` bytes and `ppos` a valid position (VFS).
        let n = unsafe {
            bindings::simple_write_to_buffer(
                buf.as_mut_ptr().cast::<c_void>(),
                TEXT_MAX,
                ppos,
                ubuf.cast(),
                count,
            )
        };
        let Ok(len) = usize::try_from(n) else {
            return n;
        };
        // A partial copy (a fault part-way) must not be taken for the text.
        if len != count {
            return EFAULT.to_errno() as isize;
        }
        // SAFETY: the VFS passes the open file, whose reference it holds
        // during the write; a `fdget_pos()` of the write system call that
        // did not take `f_pos_lock` is on this thread.
        let opener = Opener(unsafe { LocalFile::from_raw_file(file) });
        match buf
            .get(..len)
            .ok_or(EINVAL)
            .and_then(parse_input)
            .and_then(|text| T::store(text, &opener))
        {
            Ok(()) => count as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    const VTABLE: bindings::file_operations = bindings::file_operations {
        read: Some(Self::read),
        write: if T::WRITABLE { Some(Self::write) } else { None },
        llseek: Some(bindings::default_llseek),
        ..pin_init::zeroed()
    };

    const fn build() -> &'static bindings::file_operations {
        &Self::VTABLE
    }
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_securityfs)]
mod tests {
    use super::*;
    use core::fmt::Write;

    struct Answer;

    impl TextFile for Answer {
        fn show(out: &mut dyn fmt::Write) -> Result {
            writeln!(out, "42").map_err(|_| EINVAL)
        }
    }

    #[test]
    fn dropping_removes_what_was_created() -> Result {
        let dir = Dir::create(c"rust_kunit_securityfs", None)?;
        let file = dir.file::<Answer>(c"answer", 0o444)?;
        // While they exist, the names are taken.
        assert!(matches!(dir.file::<Answer>(c"answer", 0o444), Err(e) if e == EEXIST));
        assert!(matches!(Dir::create(c"rust_kunit_securityfs", None), Err(e) if e == EEXIST));
        drop(file);
        drop(dir);
        // Once dropped, they can be made again.
        let dir = Dir::create(c"rust_kunit_securityfs", None)?;
        dir.file::<Answer>(c"answer", 0o444)?;
        // Only permission bits.
        for mode in [0o1000, 0o40644, 0o120777] {
            assert!(matches!(dir.file::<Answer>(c"bad", mode), Err(e) if e == EINVAL));
        }
        Ok(())
    }

    #[test]
    fn text_holds_up_to_text_max_bytes() {
        let mut t = Text::new();
        assert!(write!(t, "{}", 12345).is_ok());
        assert_eq!(t.as_bytes(), b"12345");
        let mut full = Text::new();
        for _ in 0..TEXT_MAX {
            assert!(full.write_str("x").is_ok());
        }
        assert!(full.write_str("x").is_err());
        assert_eq!(full.as_bytes().len(), TEXT_MAX);
    }

    #[test]
    fn input_loses_one_newline_and_must_be_utf8() {
        assert_eq!(parse_input(b"42\n"), Ok("42"));
        assert_eq!(parse_input(b"42"), Ok("42"));
        assert_eq!(parse_input(b"42\n\n"), Ok("42\n"));
        assert_eq!(parse_input(&[0xff, b'1']), Err(EINVAL));
    }
}
