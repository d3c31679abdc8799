//! The `bpf(2)` system call, raw: the only `unsafe` code of the loader.
//!
//! Each command has its own `#[repr(C)]` variant of `union bpf_attr`
//! (`include/uapi/linux/bpf.h`), laid out field by field with explicit
//! padding so that a `Default` value is all zeroes, checked at compile time
//! against the kernel's offsets, and passed with its own size: the kernel
//! treats the bytes it knows beyond that size as zero, and checks that any
//! bytes it does not know are zero.
//!
//! The map element operations go through [`MapFd`], which knows the map's
//! key and value sizes (given when it created the map, or read from the
//! kernel) and checks every buffer against them, so that the kernel never
//! reads or writes past one.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Error, Result};

const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_int = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_int = 4;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_OBJ_PIN: libc::c_int = 6;
const BPF_OBJ_GET: libc::c_int = 7;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_int = 15;
const BPF_LINK_CREATE: libc::c_int = 28;

/// `BPF_PROG_TYPE_LSM`.
pub(crate) const BPF_PROG_TYPE_LSM: u32 = 29;
/// `BPF_LSM_MAC`, the attach type of LSM programs.
pub(crate) const BPF_LSM_MAC: u32 = 27;
/// `BPF_PROG_TYPE_TRACING`.
pub(crate) const BPF_PROG_TYPE_TRACING: u32 = 26;
/// `BPF_TRACE_FENTRY`, the attach type of `fentry` tracing programs.
pub(crate) const BPF_TRACE_FENTRY: u32 = 24;
/// `BPF_OBJ_NAME_LEN`: map and program names, with their NUL.
pub(crate) const BPF_OBJ_NAME_LEN: usize = 16;

/// `BPF_MAP_TYPE_PERCPU_HASH`, `_PERCPU_ARRAY`, `_LRU_PERCPU_HASH`,
/// `_PERCPU_CGROUP_STORAGE`: their values are one per possible CPU in
/// lookups and updates, which [`MapFd`] does not handle.
const PERCPU_MAP_TYPES: [u32; 4] = [5, 6, 10, 21];

/// The largest key or value [`MapFd`] accepts (the kernel's own limit is
/// `KMALLOC_MAX_SIZE`); it bounds the buffers allocated from sizes the
/// kernel reports.
const MAX_ELEM_SIZE: u32 = 1 << 24;

/// One BPF instruction, `struct bpf_insn`, as the kernel reads it on a
/// little-endian machine: `dst_reg` in the low nibble of `regs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Insn {
    pub(crate) code: u8,
    pub(crate) regs: u8,
    pub(crate) off: i16,
    pub(crate) imm: i32,
}

const _: () = assert!(size_of::<Insn>() == 8);

impl Insn {
    /// Decodes an instruction from 8 bytes of a program section.
    pub(crate) fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    pub(crate) fn src_reg(&self) -> u8 {
        self.regs >> 4
    }

    pub(crate) fn set_src_reg(&mut self, src: u8) {
        self.regs = (self.regs & 0x0f) | (src << 4);
    }
}

/// A variant of `union bpf_attr`: a `#[repr(C)]` struct without implicit
/// padding, whose `Default` is all zeroes.
///
/// # Safety
///
/// Implemented only for such structs, whose layout matches the kernel's for
/// the commands they are used with.
unsafe trait Attr: Default {}

/// `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; BPF_OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
    value_type_btf_obj_fd: i32,
    map_token_fd: i32,
}
const _: () = assert!(offset_of!(MapCreateAttr, map_name) == 28);
const _: () = assert!(offset_of!(MapCreateAttr, map_extra) == 64);
const _: () = assert!(size_of::<MapCreateAttr>() == 80);
// SAFETY: #[repr(C)], no implicit padding (checked above), all integers.
unsafe impl Attr for MapCreateAttr {}

/// `BPF_MAP_LOOKUP_ELEM`, `_UPDATE_ELEM`, `_DELETE_ELEM`, `_GET_NEXT_KEY`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// `value`, or `next_key` for `BPF_MAP_GET_NEXT_KEY`.
    value: u64,
    flags: u64,
}
const _: () = assert!(offset_of!(MapElemAttr, key) == 8);
const _: () = assert!(size_of::<MapElemAttr>() == 32);
// SAFETY: #[repr(C)], padding explicit, all integers.
unsafe impl Attr for MapElemAttr {}

/// `BPF_PROG_LOAD`, up to `log_true_size`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; BPF_OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    log_true_size: u32,
}
const _: () = assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
const _: () = assert!(offset_of!(ProgLoadAttr, expected_attach_type) == 68);
const _: () = assert!(offset_of!(ProgLoadAttr, attach_btf_id) == 108);
const _: () = assert!(offset_of!(ProgLoadAttr, fd_array) == 120);
const _: () = assert!(size_of::<ProgLoadAttr>() == 144);
// SAFETY: #[repr(C)], no implicit padding (checked above), all integers.
unsafe impl Attr for ProgLoadAttr {}

/// `BPF_OBJ_PIN`, `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
    path_fd: i32,
    _pad: u32,
}
const _: () = assert!(size_of::<ObjAttr>() == 24);
// SAFETY: #[repr(C)], padding explicit, all integers.
unsafe impl Attr for ObjAttr {}

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}
const _: () = assert!(size_of::<InfoAttr>() == 16);
// SAFETY: #[repr(C)], no padding, all integers.
unsafe impl Attr for InfoAttr {}

/// `BPF_LINK_CREATE`, with `target_btf_id` (0: the program's own).
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    target_btf_id: u32,
    _pad: u32,
}
const _: () = assert!(size_of::<LinkCreateAttr>() == 24);
// SAFETY: #[repr(C)], padding explicit, all integers.
unsafe impl Attr for LinkCreateAttr {}

/// `struct bpf_map_info`, up to `map_extra`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MapInfoRaw {
    pub(crate) map_type: u32,
    pub(crate) id: u32,
    pub(crate) key_size: u32,
    pub(crate) value_size: u32,
    pub(crate) max_entries: u32,
    pub(crate) map_flags: u32,
    pub(crate) name: [u8; BPF_OBJ_NAME_LEN],
    pub(crate) ifindex: u32,
    pub(crate) btf_vmlinux_value_type_id: u32,
    pub(crate) netns_dev: u64,
    pub(crate) netns_ino: u64,
    pub(crate) btf_id: u32,
    pub(crate) btf_key_type_id: u32,
    pub(crate) btf_value_type_id: u32,
    pub(crate) btf_vmlinux_id: u32,
    pub(crate) map_extra: u64,
}
const _: () = assert!(offset_of!(MapInfoRaw, netns_dev) == 48);
const _: () = assert!(offset_of!(MapInfoRaw, map_extra) == 80);
const _: () = assert!(size_of::<MapInfoRaw>() == 88);

/// Calls `bpf(cmd, attr, sizeof(*attr))`; returns its non-negative result.
///
/// # Safety
///
/// Every pointer in `attr` must be valid for the reads and writes that
/// `cmd` does through it, with the lengths given in `attr` or implied by
/// the object (a map's key and value sizes), for the duration of the call.
unsafe fn sys_bpf<A: Attr>(cmd: libc::c_int, attr: &mut A) -> io::Result<libc::c_long> {
    let attr_ptr: *mut A = attr;
    // SAFETY: `attr` is a live, fully initialized `A` (see `Attr`) of
    // `size_of::<A>()` bytes, which the kernel reads and may write back
    // (output fields); the pointers inside are valid as the caller promises.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr_ptr, size_of::<A>()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Calls a `bpf(2)` command that returns a new file descriptor.
///
/// # Safety
///
/// As for [`sys_bpf`].
unsafe fn sys_bpf_fd<A: Attr>(cmd: libc::c_int, attr: &mut A) -> io::Result<OwnedFd> {
    // SAFETY: the caller keeps the promises of sys_bpf.
    let ret = unsafe { sys_bpf(cmd, attr) }?;
    let fd = RawFd::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: on success these commands return a new file descriptor that
    // nothing else owns: we take ownership of it, once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    // A valid fd is non-negative.
    fd.as_raw_fd() as u32
}

/// The C string of `path`, for `BPF_OBJ_PIN` and `BPF_OBJ_GET`.
pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(format!("the path {} contains a NUL byte", path.display())))
}

/// `name` truncated to what `BPF_OBJ_NAME_LEN` holds with its NUL.
pub(crate) fn obj_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    for (o, b) in out
        .iter_mut()
        .zip(name.bytes().take_while(|&b| b != 0))
        .take(BPF_OBJ_NAME_LEN - 1)
    {
        *o = b;
    }
    out
}

/// `BPF_OBJ_PIN`.
pub(crate) fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> io::Result<()> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: fd_u32(fd),
        ..Default::default()
    };
    // SAFETY: `pathname` points to a NUL-terminated string that outlives the
    // call; the kernel only reads it.
    unsafe { sys_bpf(BPF_OBJ_PIN, &mut attr) }.map(|_| ())
}

/// `BPF_OBJ_GET`, read-write.
pub(crate) fn obj_get(path: &CStr) -> io::Result<OwnedFd> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: as in obj_pin; the result is a new fd.
    unsafe { sys_bpf_fd(BPF_OBJ_GET, &mut attr) }
}

/// `BPF_LINK_CREATE` for a program with an attach BTF id (LSM, tracing).
pub(crate) fn link_create(prog: BorrowedFd<'_>, attach_type: u32) -> io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: fd_u32(prog),
        attach_type,
        ..Default::default()
    };
    // SAFETY: no pointers; the result is a new fd.
    unsafe { sys_bpf_fd(BPF_LINK_CREATE, &mut attr) }
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a map. On another kind of BPF object the
/// kernel fills in its own kind of info: the caller makes sure `fd` is a
/// map to make sense of the result.
pub(crate) fn map_info(fd: BorrowedFd<'_>) -> io::Result<MapInfoRaw> {
    let mut info = MapInfoRaw::default();
    let info_ptr: *mut MapInfoRaw = &mut info;
    let mut attr = InfoAttr {
        bpf_fd: fd_u32(fd),
        info_len: size_of::<MapInfoRaw>() as u32,
        info: info_ptr as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes (the kernel writes at
    // most that many) and outlives the call; any bit pattern is a valid
    // MapInfoRaw (integers only).
    unsafe { sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(info)
}

/// What `BPF_PROG_LOAD` loads.
pub(crate) struct ProgLoad<'a> {
    pub(crate) prog_type: u32,
    pub(crate) expected_attach_type: u32,
    pub(crate) attach_btf_id: u32,
    pub(crate) name: &'a str,
    pub(crate) insns: &'a [Insn],
    pub(crate) license: &'a CStr,
}

/// `BPF_PROG_LOAD`, with the verifier log in `log` (log level 1) if given.
/// Retried a few times on `EAGAIN`, as libbpf does.
pub(crate) fn prog_load(p: &ProgLoad<'_>, log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    let insn_cnt =
        u32::try_from(p.insns.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let (log_level, log_size, log_buf) = match log {
        Some(buf) => {
            // The kernel wants log_size < UINT_MAX >> 2; callers stay far
            // below.
            let size = u32::try_from(buf.len())
                .ok()
                .filter(|&s| s < u32::MAX >> 2)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
            (1, size, buf.as_mut_ptr() as u64)
        }
        None => (0, 0, 0),
    };
    let mut attempts = 0;
    loop {
        let mut attr = ProgLoadAttr {
            prog_type: p.prog_type,
            insn_cnt,
            insns: p.insns.as_ptr() as u64,
            license: p.license.as_ptr() as u64,
            log_level,
            log_size,
            log_buf,
            prog_name: obj_name(p.name),
            expected_attach_type: p.expected_attach_type,
            attach_btf_id: p.attach_btf_id,
            ..Default::default()
        };
        // SAFETY: `insns` points to `insn_cnt` instructions (struct bpf_insn
        // layout, checked above) and `license` to a NUL-terminated string,
        // both read-only for the kernel and alive for the call; `log_buf`,
        // when not 0, is a buffer of `log_size` bytes we borrow mutably for
        // the call, which the kernel writes at most `log_size` bytes into.
        match unsafe { sys_bpf_fd(BPF_PROG_LOAD, &mut attr) } {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && attempts < 5 => attempts += 1,
            result => return result,
        }
    }
}

/// A map's file descriptor, with the key and value sizes that the kernel
/// reads from and writes to the buffers of element operations.
///
/// The sizes are the map's own (given at creation, or read from the
/// kernel), and per-CPU maps are refused, so the length checks of the
/// element operations keep the kernel within the buffers.
#[derive(Debug)]
pub(crate) struct MapFd {
    fd: OwnedFd,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Refuses sizes the element operations do not handle.
fn check_map_kind(map_type: u32, key_size: u32, value_size: u32) -> io::Result<()> {
    if PERCPU_MAP_TYPES.contains(&map_type) {
        return Err(invalid(format!(
            "per-CPU maps (type {map_type}) are not supported"
        )));
    }
    if key_size > MAX_ELEM_SIZE || value_size > MAX_ELEM_SIZE {
        return Err(invalid(format!(
            "keys of {key_size} bytes or values of {value_size} bytes are too large"
        )));
    }
    Ok(())
}

impl MapFd {
    /// `BPF_MAP_CREATE`.
    pub(crate) fn create(
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        flags: u32,
        name: &str,
    ) -> io::Result<MapFd> {
        check_map_kind(map_type, key_size, value_size)?;
        let mut attr = MapCreateAttr {
            map_type,
            key_size,
            value_size,
            max_entries,
            map_flags: flags,
            map_name: obj_name(name),
            ..Default::default()
        };
        // SAFETY: no pointers; the result is a new fd.
        let fd = unsafe { sys_bpf_fd(BPF_MAP_CREATE, &mut attr) }?;
        Ok(MapFd {
            fd,
            key_size,
            value_size,
            max_entries,
        })
    }

    /// A map from its file descriptor, with its sizes from the kernel.
    /// `fd` must be a map's (the caller checks): the kernel refuses element
    /// operations on other objects anyway.
    pub(crate) fn from_fd(fd: OwnedFd) -> io::Result<(MapFd, MapInfoRaw)> {
        let info = map_info(fd.as_fd())?;
        check_map_kind(info.map_type, info.key_size, info.value_size)?;
        Ok((
            MapFd {
                fd,
                key_size: info.key_size,
                value_size: info.value_size,
                max_entries: info.max_entries,
            },
            info,
        ))
    }

    pub(crate) fn key_size(&self) -> usize {
        self.key_size as usize
    }

    pub(crate) fn value_size(&self) -> usize {
        self.value_size as usize
    }

    fn check_key(&self, key: &[u8]) -> io::Result<()> {
        if key.len() != self.key_size() {
            return Err(invalid(format!(
                "the key has {} bytes, the map's keys have {}",
                key.len(),
                self.key_size
            )));
        }
        Ok(())
    }

    fn check_value(&self, len: usize) -> io::Result<()> {
        if len != self.value_size() {
            return Err(invalid(format!(
                "the value has {len} bytes, the map's values have {}",
                self.value_size
            )));
        }
        Ok(())
    }

    fn elem_attr(&self, key: *const u8, value: *const u8, flags: u64) -> MapElemAttr {
        MapElemAttr {
            map_fd: fd_u32(self.fd.as_fd()),
            key: key as u64,
            value: value as u64,
            flags,
            ..Default::default()
        }
    }

    /// `BPF_MAP_LOOKUP_ELEM`: the value, or `None` (`ENOENT`).
    pub(crate) fn lookup(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.value_size()];
        let mut attr = self.elem_attr(key.as_ptr(), value.as_mut_ptr(), 0);
        // SAFETY: the kernel reads key_size bytes from `key` and writes
        // value_size bytes to `value` (flags 0, not a per-CPU map: see
        // MapFd), which have exactly these lengths and outlive the call.
        match unsafe { sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) } {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `BPF_MAP_UPDATE_ELEM` with `flags` `BPF_ANY`, `BPF_NOEXIST` or
    /// `BPF_EXIST` (others, which may change what the kernel reads, are
    /// refused).
    pub(crate) fn update(&self, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
        self.check_key(key)?;
        self.check_value(value.len())?;
        if flags > 2 {
            return Err(invalid(format!(
                "update flags {flags:#x} are not supported"
            )));
        }
        let mut attr = self.elem_attr(key.as_ptr(), value.as_ptr(), flags);
        // SAFETY: the kernel only reads key_size bytes from `key` and
        // value_size bytes from `value` (flags without BPF_F_CPU, not a
        // per-CPU map), which have exactly these lengths and outlive the
        // call.
        unsafe { sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr) }.map(|_| ())
    }

    /// `BPF_MAP_DELETE_ELEM`: whether there was an element (`ENOENT`: no).
    pub(crate) fn delete(&self, key: &[u8]) -> io::Result<bool> {
        self.check_key(key)?;
        let mut attr = self.elem_attr(key.as_ptr(), std::ptr::null(), 0);
        // SAFETY: the kernel only reads key_size bytes from `key`, which has
        // exactly this length and outlives the call.
        match unsafe { sys_bpf(BPF_MAP_DELETE_ELEM, &mut attr) } {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first one for
    /// `None`), or `None` at the end.
    pub(crate) fn next_key(&self, key: Option<&[u8]>) -> io::Result<Option<Vec<u8>>> {
        if let Some(key) = key {
            self.check_key(key)?;
        }
        let mut next = vec![0u8; self.key_size()];
        let key_ptr = key.map_or(std::ptr::null(), <[u8]>::as_ptr);
        let mut attr = self.elem_attr(key_ptr, next.as_mut_ptr(), 0);
        // SAFETY: the kernel reads key_size bytes from `key` (when not NULL)
        // and writes key_size bytes to `next`, which have exactly these
        // lengths and outlive the call.
        match unsafe { sys_bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) } {
            Ok(_) => Ok(Some(next)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn max_entries(&self) -> u32 {
        self.max_entries
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_truncated() {
        assert_eq!(&obj_name("policies")[..9], b"policies\0");
        let long = obj_name("secns_policy_capable");
        assert_eq!(&long[..15], b"secns_policy_ca");
        assert_eq!(long[15], 0);
    }

    #[test]
    fn insn_encoding() {
        let mut i = Insn::from_bytes([0x18, 0x01, 0xff, 0xff, 1, 0, 0, 0]);
        assert_eq!((i.code, i.off, i.imm, i.src_reg()), (0x18, -1, 1, 0));
        i.set_src_reg(2);
        assert_eq!(i.regs, 0x21);
        assert_eq!(i.src_reg(), 2);
    }

    #[test]
    fn map_kinds() {
        assert!(check_map_kind(1, 8, 16).is_ok());
        assert!(check_map_kind(5, 8, 16).is_err());
        assert!(check_map_kind(1, 8, u32::MAX).is_err());
    }
}
