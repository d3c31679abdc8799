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
        return Err(errno());
    }
    let n = usize::try_from(ret).unwrap_or(0).min(ids.len());
    Ok(ids[..n].to_vec())
}

/// `CAP_MAC_ADMIN` from `include/uapi/linux/capability.h`.
pub const CAP_MAC_ADMIN: u32 = 33;

/// `_LINUX_CAPABILITY_VERSION_3`.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Removes `cap` from the calling thread's effective capabilities.
pub fn drop_effective_cap(cap: u32) -> Result<(), i32> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: `header` and `data` are what capget(2) expects for version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    let (word, bit) = ((cap / 32) as usize, cap % 32);
    data[word].effective &= !(1 << bit);
    // SAFETY: as above, for capset(2).
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(errno());
    }
    Ok(())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
