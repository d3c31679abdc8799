//! The uapi of security namespaces: `include/uapi/linux/lsm.h` (the ids and
//! attributes, the `lsm_ctx` header) and `include/uapi/linux/secns.h` (the
//! payloads).
//!
//! The `#[repr(C)]` structs here are the only Rust definition of these
//! layouts in user space: everything else (the safe API, the raw calls of
//! [`crate::sys`], the in-VM tests) encodes and decodes through them, with
//! `core::mem::offset_of!` rather than offsets written by hand. Their sizes
//! and offsets are checked at compile time below, by the unit tests of this
//! module, and against the kernel headers by `tests/uapi.rs`.
//!
//! The structs are exhaustive, one Rust definition per version of the
//! kernel's extensible structs: [`SecnsUnshareArgs`] is version 0 of
//! `struct secns_unshare_args` (`flags` only, what every request but
//! `SECNS_JOIN` sends) and [`SecnsUnshareArgsVer1`] is version 1 (with the
//! pidfd of `SECNS_JOIN`); [`SecnsInfo`] is version 0 of `struct
//! secns_info`, and readers accept (and ignore) bytes beyond it, as
//! [`SecnsInfo::from_bytes`] does.

use core::mem::{offset_of, size_of};

/// `LSM_ID_SECNS`: the secns LSM's id in `lsm_ctx.id` and
/// `lsm_list_modules(2)`.
pub const LSM_ID_SECNS: u64 = 114;
/// `LSM_ATTR_UNSHARE`: enter the pending security namespace (or a new one);
/// reading it returns [`SecnsInfo`].
pub const LSM_ATTR_UNSHARE: u32 = 106;
/// `LSM_ATTR_UNSHARE_INIT`: create a pending security namespace.
pub const LSM_ATTR_UNSHARE_INIT: u32 = 107;
/// `LSM_FLAG_SINGLE`: `lsm_get_self_attr(2)` asks one LSM only.
pub const LSM_FLAG_SINGLE: u32 = 0x0001;

/// `SECNS_ABORT`: with `LSM_ATTR_UNSHARE_INIT`, drop the pending namespace.
pub const SECNS_ABORT: u64 = 1 << 0;
/// `SECNS_JOIN`: with `LSM_ATTR_UNSHARE` and a version 1 payload
/// ([`SecnsUnshareArgsVer1`]), join the effective namespace of the task
/// that its `pidfd` refers to.
pub const SECNS_JOIN: u64 = 1 << 1;
/// `SECNS_INFO_PENDING`: [`SecnsInfo::flags`] when a namespace is pending.
pub const SECNS_INFO_PENDING: u32 = 1 << 0;
/// `SECNS_UNSHARE_ARGS_SIZE_VER0`: the size of version 0 of
/// [`SecnsUnshareArgs`].
pub const SECNS_UNSHARE_ARGS_SIZE_VER0: usize = 8;
/// `SECNS_UNSHARE_ARGS_SIZE_VER1`: the size of version 1,
/// [`SecnsUnshareArgsVer1`].
pub const SECNS_UNSHARE_ARGS_SIZE_VER1: usize = 16;
/// `SECNS_INFO_SIZE_VER0`: the size of version 0 of [`SecnsInfo`]; a later
/// kernel may append fields, so a payload may be longer.
pub const SECNS_INFO_SIZE_VER0: usize = 32;

/// `struct lsm_ctx` without its flexible `ctx[]`: the header of every
/// entry that `lsm_get_self_attr(2)` returns and `lsm_set_self_attr(2)`
/// takes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LsmCtxHeader {
    /// `LSM_ID_*` of the LSM the entry is for.
    pub id: u64,
    /// LSM-specific flags.
    pub flags: u64,
    /// Length of the whole entry, header, payload and padding.
    pub len: u64,
    /// Length of the payload.
    pub ctx_len: u64,
}

/// Version 0 of `struct secns_unshare_args` (`flags` only): the optional
/// payload of both attributes, enough for everything but `SECNS_JOIN`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecnsUnshareArgs {
    /// `SECNS_*` flags.
    pub flags: u64,
}

/// Version 1 of `struct secns_unshare_args`: version 0 and the pidfd of
/// `SECNS_JOIN`, which needs this version (`EINVAL` with a shorter
/// payload).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecnsUnshareArgsVer1 {
    /// `SECNS_*` flags.
    pub flags: u64,
    /// With `SECNS_JOIN`, a pidfd of the task whose namespace the caller
    /// joins; must be 0 otherwise (`EINVAL`).
    pub pidfd: i32,
    /// Must be 0 (`EINVAL` otherwise).
    pub reserved: u32,
}

/// `struct secns_info`: what `lsm_get_self_attr(LSM_ATTR_UNSHARE)` returns.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecnsInfo {
    /// The caller's security namespace; 0 is the initial one.
    pub id: u64,
    /// Its parent's id; 0 for the initial namespace.
    pub parent_id: u64,
    /// The caller's pending namespace, 0 if there is none.
    pub pending_id: u64,
    /// The depth of the caller's namespace; the initial one has depth 0.
    pub depth: u32,
    /// `SECNS_INFO_*` flags.
    pub flags: u32,
}

/// An `lsm_ctx` for secns holding `args`, as `lsm_set_self_attr(2)` takes
/// it (the header followed by the payload, no padding needed).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnshareRequest {
    /// The header: `id` [`LSM_ID_SECNS`], lengths of the whole.
    pub header: LsmCtxHeader,
    /// The payload.
    pub args: SecnsUnshareArgs,
}

/// An `lsm_ctx` for secns holding a version 1 payload, as `SECNS_JOIN`
/// needs it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnshareRequestVer1 {
    /// The header: `id` [`LSM_ID_SECNS`], lengths of the whole.
    pub header: LsmCtxHeader,
    /// The payload.
    pub args: SecnsUnshareArgsVer1,
}

// The layouts of DESIGN §3 and the uapi headers, checked when compiling.
const _: () = {
    assert!(size_of::<LsmCtxHeader>() == 32);
    assert!(size_of::<SecnsUnshareArgs>() == SECNS_UNSHARE_ARGS_SIZE_VER0);
    assert!(size_of::<SecnsUnshareArgsVer1>() == SECNS_UNSHARE_ARGS_SIZE_VER1);
    assert!(offset_of!(SecnsUnshareArgsVer1, flags) == offset_of!(SecnsUnshareArgs, flags));
    assert!(size_of::<SecnsInfo>() == SECNS_INFO_SIZE_VER0);
    assert!(offset_of!(UnshareRequest, args) == size_of::<LsmCtxHeader>());
    assert!(size_of::<UnshareRequest>() == 40);
    assert!(offset_of!(UnshareRequestVer1, args) == size_of::<LsmCtxHeader>());
    assert!(size_of::<UnshareRequestVer1>() == 48);
};

/// The `u64` at `offset` in `b`, native byte order.
fn u64_at(b: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        b.get(offset..offset + size_of::<u64>())?.try_into().ok()?,
    ))
}

/// The `u32` at `offset` in `b`, native byte order.
fn u32_at(b: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(offset..offset + size_of::<u32>())?.try_into().ok()?,
    ))
}

impl LsmCtxHeader {
    /// A header for `id` with `ctx_len` payload bytes right after it
    /// (`len` is the header and the payload; `flags` 0).
    pub fn new(id: u64, ctx_len: usize) -> Self {
        Self {
            id,
            flags: 0,
            len: (size_of::<Self>() + ctx_len) as u64,
            ctx_len: ctx_len as u64,
        }
    }

    /// Decodes the header at the start of `b` (native byte order); `None`
    /// if `b` is shorter than a header.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self {
            id: u64_at(b, offset_of!(Self, id))?,
            flags: u64_at(b, offset_of!(Self, flags))?,
            len: u64_at(b, offset_of!(Self, len))?,
            ctx_len: u64_at(b, offset_of!(Self, ctx_len))?,
        })
    }

    /// The header as the kernel reads it.
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

impl SecnsUnshareArgs {
    /// The payload as the kernel reads it.
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

impl SecnsUnshareArgsVer1 {
    /// The payload as the kernel reads it.
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

impl UnshareRequest {
    /// A request with payload flags `flags` (version 0 of the payload).
    pub fn new(flags: u64) -> Self {
        Self {
            header: LsmCtxHeader::new(LSM_ID_SECNS, size_of::<SecnsUnshareArgs>()),
            args: SecnsUnshareArgs { flags },
        }
    }

    /// The whole `lsm_ctx`, as `lsm_set_self_attr(2)` reads it.
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

impl UnshareRequestVer1 {
    /// A request with a version 1 payload: `flags` and `pidfd`, `reserved`
    /// 0.
    pub fn new(flags: u64, pidfd: i32) -> Self {
        Self {
            header: LsmCtxHeader::new(LSM_ID_SECNS, size_of::<SecnsUnshareArgsVer1>()),
            args: SecnsUnshareArgsVer1 {
                flags,
                pidfd,
                reserved: 0,
            },
        }
    }

    /// A `SECNS_JOIN` request for `pidfd`.
    pub fn join(pidfd: i32) -> Self {
        Self::new(SECNS_JOIN, pidfd)
    }

    /// The whole `lsm_ctx`, as `lsm_set_self_attr(2)` reads it.
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

impl SecnsInfo {
    /// Decodes the payload of a `secns_info` entry (native byte order):
    /// the fields of version 0 from its first [`SECNS_INFO_SIZE_VER0`]
    /// bytes, ignoring any bytes a later kernel appends; `None` if it is
    /// shorter than version 0.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < SECNS_INFO_SIZE_VER0 {
            return None;
        }
        Some(Self {
            id: u64_at(b, offset_of!(Self, id))?,
            parent_id: u64_at(b, offset_of!(Self, parent_id))?,
            pending_id: u64_at(b, offset_of!(Self, pending_id))?,
            depth: u32_at(b, offset_of!(Self, depth))?,
            flags: u32_at(b, offset_of!(Self, flags))?,
        })
    }

    /// The payload as the kernel writes it (version 0).
    pub fn as_bytes(&self) -> &[u8] {
        crate::sys::bytes_of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::align_of;

    /// Sizes and offsets as `include/uapi/linux/secns.h` defines them (and
    /// DESIGN §3 describes them): `__aligned_u64` fields at multiples of 8,
    /// the `__u32`s packed after them, no padding; `struct lsm_ctx` of
    /// `include/uapi/linux/lsm.h` is four `__u64` before `ctx[]`.
    #[test]
    fn layouts_are_those_of_the_uapi_headers() {
        // struct secns_info, SECNS_INFO_SIZE_VER0 32.
        assert_eq!(SECNS_INFO_SIZE_VER0, 32);
        assert_eq!(size_of::<SecnsInfo>(), 32);
        assert_eq!(align_of::<SecnsInfo>(), 8);
        assert_eq!(offset_of!(SecnsInfo, id), 0);
        assert_eq!(offset_of!(SecnsInfo, parent_id), 8);
        assert_eq!(offset_of!(SecnsInfo, pending_id), 16);
        assert_eq!(offset_of!(SecnsInfo, depth), 24);
        assert_eq!(offset_of!(SecnsInfo, flags), 28);

        // struct secns_unshare_args, SECNS_UNSHARE_ARGS_SIZE_VER0 8.
        assert_eq!(SECNS_UNSHARE_ARGS_SIZE_VER0, 8);
        assert_eq!(size_of::<SecnsUnshareArgs>(), 8);
        assert_eq!(align_of::<SecnsUnshareArgs>(), 8);
        assert_eq!(offset_of!(SecnsUnshareArgs, flags), 0);

        // Version 1, SECNS_UNSHARE_ARGS_SIZE_VER1 16: version 0, then the
        // __s32 pidfd and the __u32 reserved.
        assert_eq!(SECNS_UNSHARE_ARGS_SIZE_VER1, 16);
        assert_eq!(size_of::<SecnsUnshareArgsVer1>(), 16);
        assert_eq!(align_of::<SecnsUnshareArgsVer1>(), 8);
        assert_eq!(offset_of!(SecnsUnshareArgsVer1, flags), 0);
        assert_eq!(offset_of!(SecnsUnshareArgsVer1, pidfd), 8);
        assert_eq!(offset_of!(SecnsUnshareArgsVer1, reserved), 12);

        // struct lsm_ctx without ctx[].
        assert_eq!(size_of::<LsmCtxHeader>(), 32);
        assert_eq!(offset_of!(LsmCtxHeader, id), 0);
        assert_eq!(offset_of!(LsmCtxHeader, flags), 8);
        assert_eq!(offset_of!(LsmCtxHeader, len), 16);
        assert_eq!(offset_of!(LsmCtxHeader, ctx_len), 24);

        // A request: the header, then the payload right after it.
        assert_eq!(size_of::<UnshareRequest>(), 40);
        assert_eq!(offset_of!(UnshareRequest, header), 0);
        assert_eq!(offset_of!(UnshareRequest, args), 32);
        assert_eq!(size_of::<UnshareRequestVer1>(), 48);
        assert_eq!(offset_of!(UnshareRequestVer1, header), 0);
        assert_eq!(offset_of!(UnshareRequestVer1, args), 32);
    }

    #[test]
    fn values_round_trip_through_their_bytes() {
        let h = LsmCtxHeader {
            id: LSM_ID_SECNS,
            flags: 2,
            len: 72,
            ctx_len: 40,
        };
        assert_eq!(LsmCtxHeader::from_bytes(h.as_bytes()), Some(h));
        assert_eq!(LsmCtxHeader::from_bytes(&h.as_bytes()[..31]), None);
        let i = SecnsInfo {
            id: 1,
            parent_id: 2,
            pending_id: 3,
            depth: 4,
            flags: SECNS_INFO_PENDING,
        };
        assert_eq!(SecnsInfo::from_bytes(i.as_bytes()), Some(i));
    }

    #[test]
    fn secns_info_ignores_appended_fields_and_refuses_short_input() {
        let i = SecnsInfo {
            id: 5,
            parent_id: 4,
            pending_id: 6,
            depth: 1,
            flags: SECNS_INFO_PENDING,
        };
        // A later kernel's struct: version 0, then fields this crate does
        // not know.
        let mut longer = i.as_bytes().to_vec();
        longer.extend_from_slice(&[0xa5; 24]);
        assert_eq!(SecnsInfo::from_bytes(&longer), Some(i));
        for short in 0..SECNS_INFO_SIZE_VER0 {
            assert_eq!(SecnsInfo::from_bytes(&longer[..short]), None, "{short}");
        }
    }

    #[test]
    fn requests_are_encoded_as_the_kernel_reads_them() {
        let req = UnshareRequest::new(SECNS_ABORT);
        let b = req.as_bytes();
        assert_eq!(b.len(), 40);
        let h = LsmCtxHeader::from_bytes(b).expect("a header");
        assert_eq!(
            h,
            LsmCtxHeader {
                id: LSM_ID_SECNS,
                flags: 0,
                len: 40,
                ctx_len: 8,
            }
        );
        let at = offset_of!(UnshareRequest, args) + offset_of!(SecnsUnshareArgs, flags);
        assert_eq!(b[at..at + 8], SECNS_ABORT.to_ne_bytes());
        assert_eq!(b[offset_of!(LsmCtxHeader, len)..][..8], 40u64.to_ne_bytes());
    }

    #[test]
    fn join_requests_carry_a_version_1_payload() {
        let req = UnshareRequestVer1::join(-7);
        let b = req.as_bytes();
        assert_eq!(b.len(), 48);
        assert_eq!(
            LsmCtxHeader::from_bytes(b),
            Some(LsmCtxHeader {
                id: LSM_ID_SECNS,
                flags: 0,
                len: 48,
                ctx_len: 16,
            })
        );
        let args = offset_of!(UnshareRequestVer1, args);
        let at = args + offset_of!(SecnsUnshareArgsVer1, flags);
        assert_eq!(b[at..at + 8], SECNS_JOIN.to_ne_bytes());
        let at = args + offset_of!(SecnsUnshareArgsVer1, pidfd);
        assert_eq!(b[at..at + 4], (-7i32).to_ne_bytes());
        let at = args + offset_of!(SecnsUnshareArgsVer1, reserved);
        assert_eq!(b[at..at + 4], [0; 4]);
        // Version 0 is the start of version 1: the same flags, same place.
        let v0 = UnshareRequest::new(SECNS_ABORT);
        let v1 = UnshareRequestVer1::new(SECNS_ABORT, 0);
        assert_eq!(v0.as_bytes()[32..], v1.as_bytes()[32..40]);
        assert_eq!(v1.as_bytes()[40..], [0; 8]);
    }
}
