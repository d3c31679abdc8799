//! The three LSM system calls and `pidfd_open(2)`, raw: the only `unsafe`
//! code of the crate.
//!
//! Each returns the kernel's answer unchanged: the return value, or the
//! errno as `Err`. [`lsm_set_self_attr`], [`lsm_get_self_attr`] and
//! [`lsm_list_modules`] take Rust buffers and cannot pass the kernel a bad
//! pointer or a size beyond their buffer; [`pidfd_open`] returns an owned
//! descriptor.
//!
//! For tests of the kernel's argument checks, [`lsm_set_self_attr_raw`],
//! [`lsm_get_self_attr_raw`] and [`RawCtx`] pass whatever they are given:
//! any pointer, any size, any header fields. Nothing in this crate uses
//! them; they exist so that test programs need no syscall numbers or
//! layouts of their own.

use crate::uapi::{LsmCtxHeader, LSM_ID_SECNS};
use core::mem::size_of;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

// The numbers of the LSM syscalls in the common syscall table of Linux 6.8,
// which these architectures use; the `libc` crate does not define them yet.
// (Alpha, MIPS and x32 number them differently.)
#[cfg(not(any(
    all(target_arch = "x86_64", target_pointer_width = "64"),
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    target_arch = "powerpc64",
    target_arch = "s390x",
)))]
compile_error!("the LSM syscall numbers of this architecture are not known here");
const SYS_LSM_GET_SELF_ATTR: libc::c_long = 459;
const SYS_LSM_SET_SELF_ATTR: libc::c_long = 460;
const SYS_LSM_LIST_MODULES: libc::c_long = 461;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn ret(r: libc::c_long) -> Result<u32, i32> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(u32::try_from(r).unwrap_or(u32::MAX))
    }
}

/// `lsm_set_self_attr(attr, ctx, size, flags)`, with `ctx` the first `size`
/// bytes of `buf` (`size` may be smaller than `buf`, never larger: a larger
/// one is `EINVAL` without a system call).
pub fn lsm_set_self_attr(attr: u32, buf: &[u8], size: u32, flags: u32) -> Result<u32, i32> {
    if size as usize > buf.len() {
        return Err(libc::EINVAL);
    }
    lsm_set_self_attr_raw(attr, buf.as_ptr(), size, flags)
}

/// `lsm_set_self_attr(attr, ctx, size, flags)` with the arguments exactly
/// as given, for tests of the kernel's checks: `ctx` may be NULL, unmapped
/// or shorter than `size`.
///
/// The kernel only reads from `ctx` (at most `size` bytes, and nothing at
/// all when `size` is above `PAGE_SIZE`) and answers `EFAULT` for an
/// address it cannot read, so no pointer can harm the caller. Use
/// [`lsm_set_self_attr`] for everything else.
// Not `unsafe`: the kernel never writes through `ctx`, and reads through
// it only with its own checks (copy_from_user), so no argument can break
// the caller's memory.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn lsm_set_self_attr_raw(attr: u32, ctx: *const u8, size: u32, flags: u32) -> Result<u32, i32> {
    // SAFETY: the kernel reads at most `size` bytes from `ctx` with
    // copy_from_user (EFAULT for bad addresses) and writes nothing of ours.
    ret(unsafe { libc::syscall(SYS_LSM_SET_SELF_ATTR, attr, ctx, size, flags) })
}

/// `lsm_get_self_attr(attr, ctx, &size, flags)` into `buf`, `size` starting
/// at `buf.len()`: the number of entries and the size written (or, for
/// `E2BIG`, needed).
///
/// With `LSM_FLAG_SINGLE` the caller puts the wanted LSM id into the first
/// header of `buf` beforehand. An empty `buf` is a size query (NULL `ctx`).
pub fn lsm_get_self_attr(attr: u32, buf: &mut [u8], flags: u32) -> (Result<u32, i32>, u32) {
    // With a flag the kernel reads a whole `lsm_ctx` header from `buf`.
    if flags != 0 && buf.len() < size_of::<LsmCtxHeader>() {
        return (Err(libc::EINVAL), 0);
    }
    let mut size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    let ctx = if buf.is_empty() {
        std::ptr::null_mut()
    } else {
        buf.as_mut_ptr()
    };
    // SAFETY: `ctx` is NULL or readable and writable for `size` bytes, at
    // least a header when a flag is given; `size` is a valid `u32` the
    // kernel updates.
    let r = unsafe { lsm_get_self_attr_raw(attr, ctx, &mut size, flags) };
    (r, size)
}

/// `lsm_get_self_attr(attr, ctx, size, flags)` with the arguments exactly
/// as given, for tests of the kernel's checks (a NULL `size`, a NULL `ctx`
/// with a non-zero `*size`, any flags): the kernel's return value (the
/// number of entries) or its errno. Use [`lsm_get_self_attr`] for
/// everything else.
///
/// # Safety
///
/// The kernel writes through both pointers: `size` must be NULL or valid
/// for reading and writing a `u32`, and `ctx` must be NULL, or an address
/// the kernel cannot write to (it then answers `EFAULT`), or valid for
/// reading and writing `*size` bytes that nothing else uses meanwhile.
pub unsafe fn lsm_get_self_attr_raw(
    attr: u32,
    ctx: *mut u8,
    size: *mut u32,
    flags: u32,
) -> Result<u32, i32> {
    // SAFETY: the caller keeps the promises above.
    ret(unsafe { libc::syscall(SYS_LSM_GET_SELF_ATTR, attr, ctx, size, flags) })
}

/// `lsm_list_modules(2)`: the ids of the active LSMs, in order.
pub fn lsm_list_modules() -> Result<Vec<u64>, i32> {
    let mut ids = vec![0u64; 64];
    let mut size = u32::try_from(ids.len() * size_of::<u64>()).unwrap_or(u32::MAX);
    // SAFETY: `ids` is writable for `size` bytes; `size` is a valid `u32`
    // the kernel updates; flags must be 0.
    let n = ret(unsafe { libc::syscall(SYS_LSM_LIST_MODULES, ids.as_mut_ptr(), &mut size, 0u32) })?;
    ids.truncate(n as usize);
    Ok(ids)
}

/// `pidfd_open(pid, 0)`: a pidfd of process `pid` (close-on-exec, as
/// the kernel makes every pidfd).
pub fn pidfd_open(pid: libc::pid_t) -> Result<OwnedFd, i32> {
    // SAFETY: pidfd_open(2) takes two integers and touches no memory of
    // ours.
    let fd = ret(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) })?;
    let fd = RawFd::try_from(fd).map_err(|_| libc::EBADF)?;
    // SAFETY: the kernel just opened `fd` for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An `lsm_ctx` for `lsm_set_self_attr(2)` in 8-byte aligned memory: a
/// header with whatever fields the caller chooses (they need not agree with
/// each other or with the payload, to test the kernel's checks), followed
/// by the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawCtx {
    words: Vec<u64>,
    len: usize,
}

impl RawCtx {
    /// `header`, then `payload`, whatever the header says.
    pub fn new(header: LsmCtxHeader, payload: &[u8]) -> Self {
        let at = size_of::<LsmCtxHeader>();
        let len = at + payload.len();
        let mut ctx = Self {
            words: vec![0; len.div_ceil(size_of::<u64>())],
            len,
        };
        let bytes = ctx.bytes_mut();
        bytes[..at].copy_from_slice(header.as_bytes());
        bytes[at..len].copy_from_slice(payload);
        ctx
    }

    /// A well-formed secns context holding `payload` (any length): `id`
    /// [`LSM_ID_SECNS`], `len` the header and the payload, `ctx_len` the
    /// payload.
    pub fn secns(payload: &[u8]) -> Self {
        Self::new(LsmCtxHeader::new(LSM_ID_SECNS, payload.len()), payload)
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let n = self.words.len() * size_of::<u64>();
        // SAFETY: the `u64`s are `n` initialised bytes, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast::<u8>(), n) }
    }

    /// The header and the payload: the `size` to pass for all of it.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the `u64`s are at least `len` initialised bytes, borrowed
        // for the result's lifetime.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }

    /// The start of the context, for [`lsm_set_self_attr_raw`]; readable
    /// for [`Self::as_bytes`]'s length rounded up to a multiple of 8 (the
    /// padding is zero).
    pub fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }
}

/// A `#[repr(C)]` uapi struct made of integers, without padding.
///
/// # Safety
///
/// Every byte of a value is initialised (no padding); the layout tests
/// check the sizes against the kernel headers.
pub(crate) unsafe trait NoPadding: Copy {}

// SAFETY: four `u64`.
unsafe impl NoPadding for crate::uapi::LsmCtxHeader {}
// SAFETY: one `u64`.
unsafe impl NoPadding for crate::uapi::SecnsUnshareArgs {}
// SAFETY: one `u64`, one `i32` and one `u32` (16 bytes, checked in uapi.rs).
unsafe impl NoPadding for crate::uapi::SecnsUnshareArgsVer1 {}
// SAFETY: three `u64` and two `u32` (32 bytes, checked in uapi.rs).
unsafe impl NoPadding for crate::uapi::SecnsInfo {}
// SAFETY: a header (32 bytes) and one `u64`.
unsafe impl NoPadding for crate::uapi::UnshareRequest {}
// SAFETY: a header (32 bytes) and a version 1 payload (16 bytes, no
// padding; 48 in all, checked in uapi.rs).
unsafe impl NoPadding for crate::uapi::UnshareRequestVer1 {}

/// Views a uapi value as its bytes.
pub(crate) fn bytes_of<T: NoPadding>(v: &T) -> &[u8] {
    // SAFETY: `v` is `size_of::<T>()` initialised bytes (`NoPadding`),
    // borrowed for the result's lifetime.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uapi::SecnsUnshareArgs;
    use core::mem::offset_of;

    #[test]
    fn raw_contexts_hold_the_given_header_and_payload() {
        let h = LsmCtxHeader {
            id: 1,
            flags: 2,
            len: 3,
            ctx_len: 4,
        };
        let ctx = RawCtx::new(h, &[7; 5]);
        assert_eq!(ctx.as_bytes().len(), 37);
        assert_eq!(LsmCtxHeader::from_bytes(ctx.as_bytes()), Some(h));
        assert_eq!(ctx.as_bytes()[32..], [7; 5]);
        assert_eq!(ctx.as_ptr() as usize % 8, 0);

        let args = SecnsUnshareArgs { flags: 1 };
        let ctx = RawCtx::secns(args.as_bytes());
        assert_eq!(
            ctx.as_bytes(),
            crate::uapi::UnshareRequest::new(1).as_bytes()
        );
        let empty = RawCtx::secns(&[]);
        assert_eq!(
            LsmCtxHeader::from_bytes(empty.as_bytes()),
            Some(LsmCtxHeader::new(LSM_ID_SECNS, 0))
        );
        assert_eq!(
            empty.as_bytes()[offset_of!(LsmCtxHeader, len)..][..8],
            32u64.to_ne_bytes()
        );
    }

    #[test]
    fn pidfd_open_gives_an_owned_close_on_exec_pidfd() {
        use std::os::fd::AsRawFd;
        let pid = libc::pid_t::try_from(std::process::id()).expect("a pid_t");
        let fd = match pidfd_open(pid) {
            Ok(fd) => fd,
            // A kernel before 5.3: nothing more to look at.
            Err(libc::ENOSYS) => return,
            Err(e) => panic!("pidfd_open(self): errno {e}"),
        };
        // SAFETY: F_GETFD on a descriptor we own.
        let fd_flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(fd_flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        assert_eq!(pidfd_open(0).map(drop), Err(libc::EINVAL));
        assert_eq!(pidfd_open(-1).map(drop), Err(libc::EINVAL));
    }

    #[test]
    fn a_size_beyond_the_buffer_is_refused_before_the_kernel() {
        let ctx = RawCtx::secns(&[]);
        assert_eq!(
            lsm_set_self_attr(0, ctx.as_bytes(), 33, 0),
            Err(libc::EINVAL)
        );
        let mut small = [0u8; 31];
        assert_eq!(lsm_get_self_attr(0, &mut small, 1).0, Err(libc::EINVAL));
    }
}
