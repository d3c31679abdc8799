// SPDX-License-Identifier: GPL-2.0

//! The `LSM_ATTR_*` attributes of `lsm_get_self_attr(2)` and
//! `lsm_set_self_attr(2)`.

use kernel::bindings;

/// An attribute value from user space that the uapi defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    /// `LSM_ATTR_CURRENT`
    Current,
    /// `LSM_ATTR_EXEC`
    Exec,
    /// `LSM_ATTR_FSCREATE`
    FsCreate,
    /// `LSM_ATTR_KEYCREATE`
    KeyCreate,
    /// `LSM_ATTR_PREV`
    Prev,
    /// `LSM_ATTR_SOCKCREATE`
    SockCreate,
    /// `LSM_ATTR_UNSHARE`: enter the pending namespace (or a new one).
    Unshare,
    /// `LSM_ATTR_UNSHARE_INIT`: create a pending namespace.
    UnshareInit,
}

impl Attr {
    /// Decodes `raw`; `None` for a value the uapi does not define.
    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            bindings::LSM_ATTR_CURRENT => Self::Current,
            bindings::LSM_ATTR_EXEC => Self::Exec,
            bindings::LSM_ATTR_FSCREATE => Self::FsCreate,
            bindings::LSM_ATTR_KEYCREATE => Self::KeyCreate,
            bindings::LSM_ATTR_PREV => Self::Prev,
            bindings::LSM_ATTR_SOCKCREATE => Self::SockCreate,
            bindings::LSM_ATTR_UNSHARE => Self::Unshare,
            bindings::LSM_ATTR_UNSHARE_INIT => Self::UnshareInit,
            _ => return None,
        })
    }
}
