//! Helpers of the in-VM tests. The LSM system calls and the uapi layouts
//! are the `secns` crate's (`secns::sys`, `secns::uapi`), called raw so
//! that the kernel's own answer is what tests assert.

pub use secns::sys::{lsm_get_self_attr, lsm_set_self_attr, lsm_set_self_attr_raw, RawCtx};
pub use secns::uapi::SecnsInfo as Info;
pub use secns::uapi::{
    LsmCtxHeader, SecnsUnshareArgs, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, LSM_ID_SECNS,
    SECNS_ABORT, SECNS_INFO_PENDING, SECNS_INFO_SIZE_VER0, SECNS_JOIN,
    SECNS_UNSHARE_ARGS_SIZE_VER0, SECNS_UNSHARE_ARGS_SIZE_VER1,
};

/// The size of `struct lsm_ctx` without its payload.
pub const LSM_CTX_HEADER: usize = core::mem::size_of::<LsmCtxHeader>();

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

/// Empties the calling thread's effective, permitted and inheritable sets
/// (and so its ambient set), as a runtime does before it runs the
/// workload, and checks with capget that they are empty. The bounding set
/// stays: this is for a process that does not execute a program again.
pub fn drop_all_caps() -> Result<(), String> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    capset(header, [CapData::default(); 2]).map_err(|e| format!("capset(0, 0, 0): errno {e}"))?;
    match caps() {
        Ok([0, 0, 0]) => Ok(()),
        Ok(sets) => Err(format!("capabilities left after capset: {sets:#x?}")),
        Err(e) => Err(format!("capget: errno {e}")),
    }
}

/// The calling thread's capability sets as capget(2) gives them (version 3:
/// two words), with the header capset(2) takes back.
fn capget() -> Result<(CapHeader, [CapData; 2]), i32> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: `header` and `data` are what capget(2) expects for version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } < 0 {
        return Err(errno());
    }
    Ok((header, data))
}

/// The calling thread's effective, permitted and inheritable sets, 64 bits
/// each (capget).
pub fn caps() -> Result<[u64; 3], i32> {
    let (_, data) = capget()?;
    let join = |lo: u32, hi: u32| u64::from(lo) | u64::from(hi) << 32;
    Ok([
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ])
}

/// Clears `cap` in the effective set, and with `all` in the permitted and
/// inheritable sets too (capget/capset).
fn clear_cap(cap: u32, all: bool) -> Result<(), i32> {
    let (header, mut data) = capget()?;
    let (word, mask) = ((cap / 32) as usize, !(1u32 << (cap % 32)));
    data[word].effective &= mask;
    if all {
        data[word].permitted &= mask;
        data[word].inheritable &= mask;
    }
    capset(header, data)
}

/// Sets the calling thread's capability sets (capset(2), version 3).
fn capset(mut header: CapHeader, data: [CapData; 2]) -> Result<(), i32> {
    // SAFETY: `header` and `data` are what capset(2) expects for version 3.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(errno());
    }
    Ok(())
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `lsm_set_self_attr(attr, ctx, size, 0)` with all of `ctx`; `Err(errno)`
/// on failure.
pub fn set_ctx(attr: u32, ctx: &RawCtx) -> Result<(), i32> {
    let bytes = ctx.as_bytes();
    lsm_set_self_attr(attr, bytes, bytes.len() as u32, 0).map(drop)
}

/// `lsm_set_self_attr(attr)` for secns with `struct secns_unshare_args`
/// holding `flags` (no payload for `None`).
pub fn secns_set(attr: u32, flags: Option<u64>) -> Result<(), i32> {
    let args = flags.map(|flags| SecnsUnshareArgs { flags });
    let payload: &[u8] = args.as_ref().map_or(&[], SecnsUnshareArgs::as_bytes);
    set_ctx(attr, &RawCtx::secns(payload))
}

/// The caller's `secns_info`: `lsm_get_self_attr(LSM_ATTR_UNSHARE)`, the
/// entry whose id is `LSM_ID_SECNS`.
pub fn secns_info() -> Result<Info, String> {
    let mut bytes = [0u8; 512];
    let (n, _) = lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut bytes, 0);
    let n = n.map_err(|e| format!("lsm_get_self_attr(LSM_ATTR_UNSHARE): errno {e}"))?;
    let mut at = 0usize;
    for _ in 0..n {
        let h = LsmCtxHeader::from_bytes(&bytes[at..]).unwrap_or_default();
        let (len, ctx_len) = (h.len as usize, h.ctx_len as usize);
        if h.id == LSM_ID_SECNS {
            if ctx_len != SECNS_INFO_SIZE_VER0 {
                return Err(format!(
                    "secns_info ctx_len {ctx_len}, expected {SECNS_INFO_SIZE_VER0}"
                ));
            }
            let payload = at + LSM_CTX_HEADER;
            return Info::from_bytes(&bytes[payload..payload + SECNS_INFO_SIZE_VER0])
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
