//! Raw LSM syscalls, so that the kernel's own answer is what tests assert.

pub use secns::uapi::SecnsInfo as Info;
pub use secns::uapi::{
    LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, LSM_FLAG_SINGLE, LSM_ID_SECNS, SECNS_ABORT,
    SECNS_INFO_PENDING,
};

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

/// Removes `cap` from the calling thread's effective, permitted and
/// inheritable sets and from its bounding set, so that a program it
/// executes (as root) does not get it back.
pub fn drop_cap_everywhere(cap: u32) -> Result<(), i32> {
    // SAFETY: PR_CAPBSET_DROP takes a capability number.
    if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0) } < 0 {
        return Err(errno());
    }
    clear_cap(cap, true)
}

/// Removes `cap` from the calling thread's effective capabilities.
pub fn drop_effective_cap(cap: u32) -> Result<(), i32> {
    clear_cap(cap, false)
}

/// Clears `cap` in the effective set, and with `all` in the permitted and
/// inheritable sets too (capget/capset).
fn clear_cap(cap: u32, all: bool) -> Result<(), i32> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: `header` and `data` are what capget(2) expects for version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    let (word, mask) = ((cap / 32) as usize, !(1u32 << (cap % 32)));
    data[word].effective &= mask;
    if all {
        data[word].permitted &= mask;
        data[word].inheritable &= mask;
    }
    // SAFETY: as above, for capset(2).
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(errno());
    }
    Ok(())
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The size of `struct lsm_ctx` without its payload.
pub const LSM_CTX_HEADER: usize = 32;

const SYS_LSM_GET_SELF_ATTR: libc::c_long = 459;
const SYS_LSM_SET_SELF_ATTR: libc::c_long = 460;

/// An `lsm_ctx` in 8-byte aligned memory: `id`, `flags`, `len`, `ctx_len`
/// as given, then `payload`.
pub struct Ctx(Vec<u64>);

impl Ctx {
    /// A well-formed context for `id` with `payload`.
    pub fn new(id: u64, payload: &[u8]) -> Self {
        let len = (LSM_CTX_HEADER + payload.len()) as u64;
        Self::raw(id, 0, len, payload.len() as u64, payload)
    }

    /// A context with every header field chosen by the caller.
    pub fn raw(id: u64, flags: u64, len: u64, ctx_len: u64, payload: &[u8]) -> Self {
        let mut words = vec![id, flags, len, ctx_len];
        words.resize(4 + payload.len().div_ceil(8), 0);
        let mut ctx = Self(words);
        ctx.bytes_mut()[LSM_CTX_HEADER..LSM_CTX_HEADER + payload.len()].copy_from_slice(payload);
        ctx
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let n = self.0.len() * 8;
        // SAFETY: the `u64`s are `n` initialised bytes, borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<u8>(), n) }
    }

    /// The header plus the payload, as `size` for the syscall.
    pub fn size(&self, payload_len: usize) -> u32 {
        (LSM_CTX_HEADER + payload_len) as u32
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr().cast()
    }
}

/// `lsm_set_self_attr(2)` with raw arguments; `Err(errno)` on failure.
pub fn set_self_attr_raw(attr: u32, ctx: *const u8, size: u32, flags: u32) -> Result<(), i32> {
    // SAFETY: the kernel reads at most `size` bytes from `ctx`, and checks
    // the pointer itself (tests pass bad ones on purpose).
    let ret = unsafe { libc::syscall(SYS_LSM_SET_SELF_ATTR, attr, ctx, size, flags) };
    if ret < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// `lsm_set_self_attr(attr)` for secns with `struct secns_unshare_args`
/// holding `flags` (no payload for `None`).
pub fn secns_set(attr: u32, flags: Option<u64>) -> Result<(), i32> {
    let payload = flags.map(u64::to_ne_bytes);
    let payload: &[u8] = payload.as_ref().map_or(&[], |p| p);
    let ctx = Ctx::new(LSM_ID_SECNS, payload);
    set_self_attr_raw(attr, ctx.as_ptr(), ctx.size(payload.len()), 0)
}

/// `lsm_get_self_attr(2)` with raw arguments: the syscall's return value,
/// or `Err(errno)`; `size` is updated by the kernel.
pub fn get_self_attr_raw(attr: u32, buf: *mut u8, size: &mut u32, flags: u32) -> Result<i64, i32> {
    // SAFETY: `buf` is null or writable for `*size` bytes; `size` is valid.
    let ret = unsafe { libc::syscall(SYS_LSM_GET_SELF_ATTR, attr, buf, size as *mut u32, flags) };
    if ret < 0 {
        Err(errno())
    } else {
        Ok(ret)
    }
}

/// The caller's `secns_info`: `lsm_get_self_attr(LSM_ATTR_UNSHARE)`, the
/// entry whose id is `LSM_ID_SECNS`.
pub fn secns_info() -> Result<Info, String> {
    let mut buf = [0u64; 64];
    let mut size = 512u32;
    let n = get_self_attr_raw(LSM_ATTR_UNSHARE, buf.as_mut_ptr().cast(), &mut size, 0)
        .map_err(|e| format!("lsm_get_self_attr(LSM_ATTR_UNSHARE): errno {e}"))?;
    // SAFETY: the `u64`s are 512 initialised bytes.
    let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), 512) };
    let mut at = 0usize;
    for _ in 0..n {
        let word =
            |i: usize| u64::from_ne_bytes(bytes[at + i..at + i + 8].try_into().unwrap_or_default());
        let (id, len, ctx_len) = (word(0), word(16) as usize, word(24) as usize);
        if id == LSM_ID_SECNS {
            if ctx_len != 32 {
                return Err(format!("secns_info ctx_len {ctx_len}, expected 32"));
            }
            return Info::from_bytes(&bytes[at + LSM_CTX_HEADER..at + LSM_CTX_HEADER + 32])
                .ok_or_else(|| "short secns_info".into());
        }
        at += len;
        if at + LSM_CTX_HEADER > bytes.len() {
            break;
        }
    }
    Err(format!("no secns entry among {n}"))
}

/// Waits until the calling process has one thread left: a joined thread
/// can still be in the thread group for a moment after `join` returns
/// (it is released after it woke the joiner), and until then the kernel
/// counts the process as multi-threaded.
pub fn wait_single_threaded() {
    for _ in 0..1000 {
        match std::fs::read_dir("/proc/self/task").map(Iterator::count) {
            Ok(n) if n > 1 => std::thread::sleep(std::time::Duration::from_millis(1)),
            _ => return,
        }
    }
}

/// The secns files in securityfs.
const SECNS_DIR: &str = "/sys/kernel/security/secns";

/// Reads the number in `/sys/kernel/security/secns/NAME`.
pub fn read_secns_file(name: &str) -> Result<u64, String> {
    let s = std::fs::read_to_string(format!("{SECNS_DIR}/{name}"))
        .map_err(|e| format!("{name}: {e}"))?;
    s.trim().parse().map_err(|e| format!("{name} {s:?}: {e}"))
}

/// Writes `value` to the limit `/sys/kernel/security/secns/NAME`.
pub fn write_limit(name: &str, value: u64) -> Result<(), String> {
    std::fs::write(format!("{SECNS_DIR}/{name}"), format!("{value}\n"))
        .map_err(|e| format!("{name}={value}: {e}"))
}

/// The number of live security namespaces.
pub fn count() -> Result<u64, String> {
    read_secns_file("count")
}

/// Waits up to `limit` for the count to be `base` again (credentials are
/// freed after an RCU grace period, not at the instant a process is reaped).
pub fn count_back_to(base: u64, limit: std::time::Duration) -> Result<(), String> {
    let start = std::time::Instant::now();
    loop {
        let now = count()?;
        if now == base {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(format!("count is {now}, baseline {base}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A limit file put back to its old content when dropped.
pub struct Limit(&'static str, String);

impl Limit {
    /// Remembers the limit `name`.
    pub fn save(name: &'static str) -> Result<Self, String> {
        let old = std::fs::read_to_string(format!("{SECNS_DIR}/{name}"))
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(Self(name, old))
    }

    /// Remembers the limit `name`, then sets it to `value`.
    pub fn set(name: &'static str, value: u64) -> Result<Self, String> {
        let saved = Self::save(name)?;
        write_limit(name, value)?;
        Ok(saved)
    }
}

impl Drop for Limit {
    fn drop(&mut self) {
        let _ = std::fs::write(format!("{SECNS_DIR}/{}", self.0), &self.1);
    }
}

/// The kernel log so far, as `/dev/kmsg` gives it (one record a line,
/// "LEVEL,SEQ,TIME,FLAGS;TEXT").
pub fn kernel_log() -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .map_err(|e| format!("/dev/kmsg: {e}"))?;
    let mut log = String::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => log.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            // A record overwritten while reading: go on with the next.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(e) => return Err(format!("/dev/kmsg: {e}")),
        }
    }
    Ok(log)
}
