//! The three LSM system calls, raw: the only `unsafe` code of the crate.
//!
//! Each returns the kernel's answer unchanged: the return value, or the
//! errno as `Err`.

use crate::uapi::LsmCtxHeader;

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
/// bytes of `buf` (`size` may be smaller than `buf`, never larger).
pub fn lsm_set_self_attr(attr: u32, buf: &[u8], size: u32, flags: u32) -> Result<u32, i32> {
    if size as usize > buf.len() {
        return Err(libc::EINVAL);
    }
    // SAFETY: the kernel reads at most `size` bytes from `buf`, which has
    // that many.
    ret(unsafe { libc::syscall(SYS_LSM_SET_SELF_ATTR, attr, buf.as_ptr(), size, flags) })
}

/// `lsm_get_self_attr(attr, ctx, &size, flags)` into `buf`, `size` starting
/// at `buf.len()`: the number of entries and the size written (or, for
/// `E2BIG`, needed).
///
/// With `LSM_FLAG_SINGLE` the caller puts the wanted LSM id into the first
/// header of `buf` beforehand. An empty `buf` is a size query (NULL `ctx`).
pub fn lsm_get_self_attr(attr: u32, buf: &mut [u8], flags: u32) -> (Result<u32, i32>, u32) {
    // With a flag the kernel reads a whole `lsm_ctx` header from `buf`.
    if flags != 0 && buf.len() < core::mem::size_of::<LsmCtxHeader>() {
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
    let r = ret(unsafe { libc::syscall(SYS_LSM_GET_SELF_ATTR, attr, ctx, &mut size, flags) });
    (r, size)
}

/// `lsm_list_modules(2)`: the ids of the active LSMs, in order.
pub fn lsm_list_modules() -> Result<Vec<u64>, i32> {
    let mut ids = vec![0u64; 64];
    let mut size = u32::try_from(ids.len() * 8).unwrap_or(u32::MAX);
    // SAFETY: `ids` is writable for `size` bytes; `size` is a valid `u32`
    // the kernel updates; flags must be 0.
    let n = ret(unsafe { libc::syscall(SYS_LSM_LIST_MODULES, ids.as_mut_ptr(), &mut size, 0u32) })?;
    ids.truncate(n as usize);
    Ok(ids)
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
// SAFETY: a header (32 bytes) and one `u64`.
unsafe impl NoPadding for crate::uapi::UnshareRequest {}

/// Views a uapi value as its bytes.
pub(crate) fn bytes_of<T: NoPadding>(v: &T) -> &[u8] {
    // SAFETY: `v` is `size_of::<T>()` initialised bytes (`NoPadding`),
    // borrowed for the result's lifetime.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Reads the `lsm_ctx` header at `at` in `buf`, if it fits.
pub(crate) fn header_at(buf: &[u8], at: usize) -> Option<LsmCtxHeader> {
    let word = |i: usize| -> Option<u64> {
        Some(u64::from_ne_bytes(
            buf.get(at + i..at + i + 8)?.try_into().ok()?,
        ))
    };
    Some(LsmCtxHeader {
        id: word(0)?,
        flags: word(8)?,
        len: word(16)?,
        ctx_len: word(24)?,
    })
}
