//! Raw LSM syscalls, so that the kernel's own answer is what tests assert.

/// `LSM_ID_SECNS` from `include/uapi/linux/lsm.h`.
pub const LSM_ID_SECNS: u64 = 114;

// x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl); the libc
// crate does not have them for this architecture.
const SYS_LSM_LIST_MODULES: libc::c_long = 461;

/// `lsm_list_modules(2)`: the ids of the active LSMs, in order.
pub fn lsm_list_modules() -> Result<Vec<u64>, i32> {
    let mut ids = [0u64; 64];
    let mut size = u32::try_from(core::mem::size_of_val(&ids)).unwrap_or(u32::MAX);
    // SAFETY: `ids` is writable for `size` bytes and `size` is a valid u32
    // the kernel may update; flags must be 0.
    let ret = unsafe {
        libc::syscall(
            SYS_LSM_LIST_MODULES,
            ids.as_mut_ptr(),
            &mut size as *mut u32,
            0u32,
        )
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    let n = usize::try_from(ret).unwrap_or(0).min(ids.len());
    Ok(ids[..n].to_vec())
}
