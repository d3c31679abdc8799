// SPDX-License-Identifier: GPL-2.0

//! securityfs: an LSM's files under `/sys/kernel/security`.
//!
//! C header: [`include/linux/security.h`](srctree/include/linux/security.h).
//!
//! A file shows a value, as debugfs files do (`kernel::debugfs`): the value
//! implements [`Value`], whose [`Value::show`] makes the file's text on each
//! read, and whose [`Value::store`], if implemented, takes a write (at most
//! [`TEXT_MAX`] bytes of UTF-8, one trailing newline removed): the file is
//! writable exactly when the value implements `store`. The value is
//! `'static`: built-in code keeps it in a `static`.
//!
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
//! use kernel::prelude::*;
//! use kernel::securityfs::{Dir, Opener, Value};
//! use kernel::sync::atomic::{Atomic, Relaxed};
//!
//! /// A number that a task with `CAP_MAC_ADMIN` may change.
//! struct Setting(Atomic<u32>);
//!
//! #[vtable]
//! impl Value for Setting {
//!     fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
//!         writeln!(f, "{}", self.0.load(Relaxed))
//!     }
//!
//!     fn store(&self, text: &str, opener: &Opener<'_>) -> Result {
//!         if !opener.capable(kernel::capability::Capability::MacAdmin) {
//!             return Err(EPERM);
//!         }
//!         self.0.store(text.trim().parse().map_err(|_| EINVAL)?, Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! /// A number that is only shown.
//! struct Events(Atomic<u64>);
//!
//! #[vtable]
//! impl Value for Events {
//!     fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
//!         writeln!(f, "{}", self.0.load(Relaxed))
//!     }
//! }
//!
//! static SETTING: Setting = Setting(Atomic::new(42));
//! static EVENTS: Events = Events(Atomic::new(0));
//!
//! fn fs_init() -> Result {
//!     let dir = Dir::create(c"example", None)?;
//!     dir.file(c"setting", &SETTING)?.keep(); // 0644
//!     dir.file(c"events", &EVENTS)?.keep(); // 0444
//!     dir.keep();
//!     Ok(())
//! }
//! ```

use crate::{
    bindings,
    capability::{Capability, UserNamespace},
    error::{from_err_ptr, Result, VTABLE_DEFAULT_ERROR},
    ffi::{c_char, c_void},
    prelude::*,
};
use core::{fmt, marker::PhantomData, ptr::NonNull};

/// The largest text a [`Value`] may show or be written, in bytes.
pub const TEXT_MAX: usize = 128;

/// What a securityfs file shows, and takes when written.
///
/// The file is writable exactly when `store` is implemented (`HAS_STORE`):
/// its mode is `0o644`, else `0o444`.
#[vtable]
pub trait Value: Sync + 'static {
    /// Writes the file's text (at most [`TEXT_MAX`] bytes) to `f`.
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Applies a write of `text` (at most [`TEXT_MAX`] bytes of UTF-8, one
    /// trailing newline removed); input that does not parse is `EINVAL`.
    /// The file's mode and the opener's permissions were checked by the VFS;
    /// check any capability the write needs with `opener`.
    fn store(&self, _text: &str, _opener: &Opener<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The open file a write comes through, for checks against the credentials
/// it was opened with (not the writer's: a privileged writer must not be
/// tricked into writing through a descriptor an unprivileged task opened).
///
/// # Invariants
///
/// `self.0` is a file that stays open for `'a`. Only its credentials, which
/// never change, are read: nothing is assumed about which thread or which
/// path (`write(2)`, io_uring, `kernel_write()`) the write comes from.
pub struct Opener<'a>(NonNull<bindings::file>, PhantomData<&'a bindings::file>);

impl Opener<'_> {
    /// Whether the file was opened with `cap` in the initial user namespace
    /// (C `file_ns_capable()`).
    pub fn capable(&self, cap: Capability) -> bool {
        let ns = UserNamespace::initial().as_ptr();
        // SAFETY: the file is open (type invariants), and `ns` is the
        // initial user namespace, which lives forever. `file_ns_capable()`
        // reads only the file's credentials, which never change.
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

    /// Creates the file `name`, which shows `value` and, if it implements
    /// [`Value::store`], takes writes: mode `0o644`, else `0o444`.
    pub fn file<T: Value>(&self, name: &CStr, value: &'static T) -> Result<File<'_>> {
        let mode = if T::HAS_STORE { 0o644 } else { 0o444 };
        // SAFETY: `name` is a valid C string, `self` a live securityfs
        // directory (type invariant), the file operations are `'static`, and
        // so is `value`, which they find in the inode's `i_private`.
        let dentry = from_err_ptr(unsafe {
            bindings::securityfs_create_file(
                name.as_char_ptr(),
                mode,
                self.0.as_ptr(),
                core::ptr::from_ref(value).cast_mut().cast(),
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

/// Shows a [`Value`] with `{}`.
struct Show<'a, T>(&'a T);

impl<T: Value> fmt::Display for Show<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show(f)
    }
}

struct Ops<T>(PhantomData<T>);

impl<T: Value> Ops<T> {
    /// The value of the file `file`.
    ///
    /// # Safety
    ///
    /// `file` is an open file made by [`Dir::file`] with a `T`.
    unsafe fn value<'a>(file: *mut bindings::file) -> &'a T {
        // SAFETY: an open file has a valid inode, whose `i_private` is the
        // `&'static T` that `Dir::file` gave `securityfs_create_file()`
        // (safety requirements).
        unsafe { &*(*(*file).f_inode).i_private.cast::<T>() }
    }

    /// # Safety
    ///
    /// Called by the VFS as the `read` file operation of a file made by
    /// [`Dir::file`] with a `T`.
    unsafe extern "C" fn read(
        file: *mut bindings::file,
        ubuf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: the VFS calls this with the open file (safety requirements).
        let value = unsafe { Self::value(file) };
        let mut text = Text::new();
        if fmt::write(&mut text, format_args!("{}", Show(value))).is_err() {
            return EINVAL.to_errno() as isize;
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
    /// Called by the VFS as the `write` file operation of a file made by
    /// [`Dir::file`] with a `T`.
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
        // SAFETY: the VFS calls this with the open file (safety requirements).
        let value = unsafe { Self::value(file) };
        let Some(file) = NonNull::new(file) else {
            return EINVAL.to_errno() as isize;
        };
        // INVARIANT: whoever writes (the write system call, io_uring,
        // `kernel_write()`) holds a reference to the file for the call.
        let opener = Opener(file, PhantomData);
        match buf
            .get(..len)
            .ok_or(EINVAL)
            .and_then(parse_input)
            .and_then(|text| value.store(text, &opener))
        {
            Ok(()) => count as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    const VTABLE: bindings::file_operations = bindings::file_operations {
        read: Some(Self::read),
        write: if T::HAS_STORE {
            Some(Self::write)
        } else {
            None
        },
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

    use crate::sync::atomic::{Atomic, Relaxed};

    /// A value that is only shown.
    struct Answer(u32);

    #[vtable]
    impl Value for Answer {
        fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(f, "{}", self.0)
        }
    }

    static ANSWER: Answer = Answer(42);

    #[test]
    fn dropping_removes_what_was_created() -> Result {
        let dir = Dir::create(c"rust_kunit_securityfs", None)?;
        let file = dir.file(c"answer", &ANSWER)?;
        // While they exist, the names are taken.
        assert!(matches!(dir.file(c"answer", &ANSWER), Err(e) if e == EEXIST));
        assert!(matches!(Dir::create(c"rust_kunit_securityfs", None), Err(e) if e == EEXIST));
        drop(file);
        drop(dir);
        // Once dropped, they can be made again.
        let dir = Dir::create(c"rust_kunit_securityfs", None)?;
        dir.file(c"answer", &ANSWER)?;
        Ok(())
    }

    /// A value that takes writes.
    struct Settable(Atomic<u32>);

    #[vtable]
    impl Value for Settable {
        fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(f, "{}", self.0.load(Relaxed))
        }

        fn store(&self, text: &str, _opener: &Opener<'_>) -> Result {
            self.0.store(text.parse().map_err(|_| EINVAL)?, Relaxed);
            Ok(())
        }
    }

    static SETTABLE: Settable = Settable(Atomic::new(0));

    /// The permission bits of `file`.
    fn mode(file: &File<'_>) -> u32 {
        // SAFETY: the dentry is live (type invariant), and the dentry of a
        // securityfs file has an inode.
        u32::from(unsafe { (*(*file.0.as_ptr()).d_inode).i_mode }) & 0o777
    }

    #[test]
    fn only_a_value_with_store_is_writable() -> Result {
        let dir = Dir::create(c"rust_kunit_securityfs_modes", None)?;
        let ro = dir.file(c"ro", &ANSWER)?;
        let rw = dir.file(c"rw", &SETTABLE)?;
        assert_eq!(mode(&ro), 0o444);
        assert_eq!(mode(&rw), 0o644);
        assert!(Ops::<Answer>::build().write.is_none());
        assert!(Ops::<Settable>::build().write.is_some());
        Ok(())
    }

    #[test]
    fn a_value_is_shown_as_its_text() {
        let mut t = Text::new();
        assert!(write!(t, "{}", Show(&ANSWER)).is_ok());
        assert_eq!(t.as_bytes(), b"42\n");
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
