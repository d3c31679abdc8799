//! The uapi of security namespaces: `include/uapi/linux/lsm.h` (the ids and
//! attributes) and `include/uapi/linux/secns.h` (the payloads).
//!
//! The values and layouts are checked against the kernel headers by this
//! crate's tests (`tests/uapi.rs`).

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
/// `SECNS_INFO_PENDING`: [`SecnsInfo::flags`] when a namespace is pending.
pub const SECNS_INFO_PENDING: u32 = 1 << 0;
/// `SECNS_UNSHARE_ARGS_SIZE_VER0`: the size of version 0 of
/// [`SecnsUnshareArgs`].
pub const SECNS_UNSHARE_ARGS_SIZE_VER0: usize = 8;
/// `SECNS_INFO_SIZE_VER0`: the size of [`SecnsInfo`].
pub const SECNS_INFO_SIZE_VER0: usize = 32;

/// `struct lsm_ctx` without its flexible `ctx[]`.
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

/// `struct secns_unshare_args`: the optional payload of both attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecnsUnshareArgs {
    /// `SECNS_*` flags.
    pub flags: u64,
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

impl UnshareRequest {
    /// A request with payload flags `flags`.
    pub fn new(flags: u64) -> Self {
        Self {
            header: LsmCtxHeader {
                id: LSM_ID_SECNS,
                flags: 0,
                len: core::mem::size_of::<Self>() as u64,
                ctx_len: core::mem::size_of::<SecnsUnshareArgs>() as u64,
            },
            args: SecnsUnshareArgs { flags },
        }
    }
}

impl SecnsInfo {
    /// Decodes the payload of a `secns_info` entry (native byte order);
    /// `None` if it is shorter than version 0.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let u64_at = |i: usize| Some(u64::from_ne_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let u32_at = |i: usize| Some(u32::from_ne_bytes(b.get(i..i + 4)?.try_into().ok()?));
        Some(Self {
            id: u64_at(0)?,
            parent_id: u64_at(8)?,
            pending_id: u64_at(16)?,
            depth: u32_at(24)?,
            flags: u32_at(28)?,
        })
    }
}
