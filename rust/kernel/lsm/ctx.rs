// SPDX-License-Identifier: GPL-2.0

//! The `struct lsm_ctx` payloads of `lsm_set_self_attr(2)` and
//! `lsm_get_self_attr(2)`.
//!
//! C header: [`include/uapi/linux/lsm.h`](srctree/include/uapi/linux/lsm.h).

use crate::{
    bindings,
    error::{code::*, Result},
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, mem::size_of};

/// The size of the `struct lsm_ctx` header, before the payload.
const HEADER_SIZE: usize = size_of::<bindings::lsm_ctx>();

/// A checked view of the kernel's copy of a `struct lsm_ctx` that user space
/// passed to `lsm_set_self_attr(2)`.
///
/// # Invariants
///
/// `payload` is the `ctx_len` bytes after the header, and
/// `HEADER_SIZE + payload.len() <= len <= ` the size of the copy, where
/// `len` is the header's total length (checked by [`LsmCtx::parse`], not
/// kept).
#[derive(Debug)]
pub struct LsmCtx<'a> {
    id: u64,
    flags: u64,
    payload: &'a [u8],
}

fn u64_at(bytes: &[u8], offset: usize) -> Result<u64> {
    let field = bytes.get(offset..offset + 8).ok_or(EINVAL)?;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(field);
    Ok(u64::from_ne_bytes(raw))
}

impl<'a> LsmCtx<'a> {
    /// Parses `bytes`, a whole `struct lsm_ctx` as user space gave it.
    ///
    /// `EINVAL` unless the header fits, `len` fits in `bytes`, and the
    /// header plus `ctx_len` fit in `len` (without overflow): the checks of
    /// `security_setselfattr()`, repeated so that no hook depends on them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let id = u64_at(bytes, 0)?;
        let flags = u64_at(bytes, 8)?;
        let len = u64_at(bytes, 16)?;
        let ctx_len = u64_at(bytes, 24)?;
        let end = usize::try_from(ctx_len)
            .ok()
            .and_then(|n| n.checked_add(HEADER_SIZE))
            .ok_or(EINVAL)?;
        if len > bytes.len() as u64 || end as u64 > len {
            return Err(EINVAL);
        }
        let payload = bytes.get(HEADER_SIZE..end).ok_or(EINVAL)?;
        // INVARIANT: checked above.
        Ok(Self { id, flags, payload })
    }

    /// Makes the view of the copy the `setselfattr` hook gets.
    ///
    /// # Safety
    ///
    /// `ctx` points to `size` readable bytes that stay valid and unchanged for
    /// `'a`.
    pub(crate) unsafe fn from_raw(ctx: *const bindings::lsm_ctx, size: u32) -> Result<Self> {
        // SAFETY: `ctx` is valid for reads of `size` bytes for `'a` (safety
        // requirements); `u8` has no alignment or validity requirement.
        let bytes = unsafe { core::slice::from_raw_parts(ctx.cast::<u8>(), size as usize) };
        Self::parse(bytes)
    }

    /// The LSM id (`LSM_ID_*`) the context is addressed to.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The context's flags (their meaning is the LSM's).
    pub fn flags(&self) -> u64 {
        self.flags
    }

    /// The payload (`ctx`, `ctx_len` bytes).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Reads the payload as an extensible argument structure `T`, with the
    /// rules of `copy_struct_from_user()` (`clone3`, `openat2`) plus a
    /// minimum size:
    ///
    /// - an empty payload gives all-zero `T` (the defaults);
    /// - a payload shorter than `min_size` (the first version's size) is
    ///   `EINVAL`;
    /// - a payload shorter than `T` is zero-extended (an older user space);
    /// - a payload longer than `T` is accepted only if the extra bytes are
    ///   zero (a newer user space asking for nothing new), else `E2BIG`.
    pub fn read_struct<T: FromBytes + AsBytes>(&self, min_size: usize) -> Result<T> {
        // SAFETY: `T: FromBytes`, so all-zero bytes are a valid `T`.
        let mut value: T = unsafe { core::mem::zeroed() };
        let payload = self.payload;
        if payload.is_empty() {
            return Ok(value);
        }
        if payload.len() < min_size {
            return Err(EINVAL);
        }
        let size = size_of::<T>();
        let (known, extra) = payload.split_at(payload.len().min(size));
        if extra.iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
        value
            .as_bytes_mut()
            .get_mut(..known.len())
            .ok_or(EINVAL)?
            .copy_from_slice(known);
        Ok(value)
    }
}

/// Writes this LSM's `struct lsm_ctx` for `lsm_get_self_attr(2)`, in the
/// `getselfattr` hook.
///
/// Built on `lsm_fill_user_ctx()`: with no user buffer (a size query) only
/// the size is computed; a buffer too small gives `E2BIG` and the size needed;
/// each context is padded to 8 bytes.
///
/// # Invariants
///
/// `uctx` is NULL or a user pointer to `*size` writable bytes, and `size`
/// is valid for reads and writes, for `'a`.
pub struct CtxWriter<'a> {
    uctx: *mut bindings::lsm_ctx,
    size: *mut u32,
    id: u64,
    entries: i32,
    _p: PhantomData<&'a mut u32>,
}

impl CtxWriter<'_> {
    /// Makes the writer for the `getselfattr` hook's arguments, for the LSM
    /// with number `id`.
    ///
    /// # Safety
    ///
    /// `uctx` is NULL or a user pointer to `*size` bytes, and `size` points to
    /// a `u32` valid for reads and writes for `'a`.
    pub(crate) unsafe fn from_raw(uctx: *mut bindings::lsm_ctx, size: *mut u32, id: u64) -> Self {
        // INVARIANT: the safety requirements.
        Self {
            uctx,
            size,
            id,
            entries: 0,
            _p: PhantomData,
        }
    }

    /// Writes this LSM's context: `value` as the payload, with `flags`. At
    /// most one per call of the hook (`EINVAL` otherwise).
    pub fn write(&mut self, flags: u64, value: &[u8]) -> Result {
        if self.entries != 0 {
            return Err(EINVAL);
        }
        // SAFETY: `uctx` and `size` are valid (type invariant);
        // `lsm_fill_user_ctx` only reads `value.len()` bytes of `value`
        // (the pointer is not `const` in C).
        let ret = unsafe {
            bindings::lsm_fill_user_ctx(
                self.uctx,
                self.size,
                value.as_ptr().cast_mut().cast(),
                value.len(),
                self.id,
                flags,
            )
        };
        if ret != 0 {
            return Err(crate::error::Error::from_errno(ret));
        }
        self.entries = 1;
        Ok(())
    }

    /// The hook's return value: the number of contexts written; the size used
    /// is 0 if none was.
    pub(crate) fn finish(self) -> i32 {
        if self.entries == 0 {
            // SAFETY: `size` is valid for writes (type invariant).
            unsafe { *self.size = 0 };
        }
        self.entries
    }
}

#[cfg(CONFIG_RUST_SECURITY_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_lsm_ctx)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// A `struct lsm_ctx` with `payload`, `len` and `ctx_len` as given.
    fn ctx(id: u64, len: u64, ctx_len: u64, payload: &[u8]) -> Result<KVec<u8>> {
        let mut v = KVec::new();
        for field in [id, 0x5a, len, ctx_len] {
            v.extend_from_slice(&field.to_ne_bytes(), GFP_KERNEL)?;
        }
        v.extend_from_slice(payload, GFP_KERNEL)?;
        Ok(v)
    }

    #[test]
    fn parse_reads_the_header_and_payload() -> Result {
        let b = ctx(114, 40, 8, &[1, 2, 3, 4, 5, 6, 7, 8])?;
        let c = LsmCtx::parse(&b)?;
        assert_eq!(c.id(), 114);
        assert_eq!(c.flags(), 0x5a);
        assert_eq!(c.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        Ok(())
    }

    #[test]
    fn parse_accepts_an_empty_payload_and_slack() -> Result {
        let b = ctx(114, 32, 0, &[0; 16])?;
        assert!(LsmCtx::parse(&b)?.payload().is_empty());
        Ok(())
    }

    #[test]
    fn parse_rejects_a_short_header() -> Result {
        let b = ctx(114, 32, 0, &[])?;
        for n in [0, 1, 8, 24, 31] {
            assert!(matches!(LsmCtx::parse(b.get(..n).ok_or(EINVAL)?), Err(e) if e == EINVAL));
        }
        Ok(())
    }

    #[test]
    fn parse_rejects_len_beyond_the_copy() -> Result {
        let b = ctx(114, 41, 8, &[0; 8])?;
        assert!(matches!(LsmCtx::parse(&b), Err(e) if e == EINVAL));
        Ok(())
    }

    #[test]
    fn parse_rejects_ctx_len_beyond_len() -> Result {
        let b = ctx(114, 36, 8, &[0; 8])?;
        assert!(matches!(LsmCtx::parse(&b), Err(e) if e == EINVAL));
        Ok(())
    }

    #[test]
    fn parse_rejects_ctx_len_overflow() -> Result {
        for ctx_len in [u64::MAX, u64::MAX - 31, u64::MAX / 2] {
            let b = ctx(114, 40, ctx_len, &[0; 8])?;
            assert!(matches!(LsmCtx::parse(&b), Err(e) if e == EINVAL));
        }
        Ok(())
    }

    fn read(payload: &[u8]) -> Result<[u64; 2]> {
        let len = payload.len() as u64;
        let b = ctx(114, HEADER_SIZE as u64 + len, len, payload)?;
        LsmCtx::parse(&b)?.read_struct::<[u64; 2]>(8)
    }

    #[test]
    fn read_struct_follows_the_extensible_struct_rules() {
        let mut p = [0u8; 24];
        p[0] = 1;
        p[8] = 2;
        // Empty: defaults.
        assert_eq!(read(&[]), Ok([0, 0]));
        // Below the first version's size.
        assert_eq!(read(&p[..7]), Err(EINVAL));
        // Older user space: zero-extended.
        assert_eq!(read(&p[..8]), Ok([1, 0]));
        // Exact.
        assert_eq!(read(&p[..16]), Ok([1, 2]));
        // Newer user space, zero tail: accepted.
        assert_eq!(read(&p), Ok([1, 2]));
        // Newer user space asking for something unknown.
        p[23] = 1;
        assert_eq!(read(&p), Err(E2BIG));
    }

    #[test]
    fn writer_answers_a_size_query_with_the_aligned_size() -> Result {
        let mut size = 1000u32;
        // SAFETY: NULL (a size query) and a valid size.
        let mut w = unsafe { CtxWriter::from_raw(core::ptr::null_mut(), &mut size, 114) };
        w.write(0, b"12345")?;
        assert_eq!(w.finish(), 1);
        // 32 header bytes and 5 payload bytes, padded to 8.
        assert_eq!(size, 40);
        Ok(())
    }

    #[test]
    fn writer_reports_e2big_and_the_size_needed() {
        let mut size = 39u32;
        // SAFETY: NULL (a size query) and a valid size.
        let mut w = unsafe { CtxWriter::from_raw(core::ptr::null_mut(), &mut size, 114) };
        assert_eq!(w.write(0, b"12345"), Err(E2BIG));
        assert_eq!(size, 40);
    }

    #[test]
    fn writer_writes_one_context_and_reports_none_as_size_0() {
        let mut size = 1000u32;
        // SAFETY: NULL (a size query) and a valid size.
        let w = unsafe { CtxWriter::from_raw(core::ptr::null_mut(), &mut size, 114) };
        assert_eq!(w.finish(), 0);
        assert_eq!(size, 0);
        let mut size = 1000u32;
        // SAFETY: as above.
        let mut w = unsafe { CtxWriter::from_raw(core::ptr::null_mut(), &mut size, 114) };
        assert_eq!(w.write(0, b""), Ok(()));
        assert_eq!(w.write(0, b""), Err(EINVAL));
        assert_eq!(w.finish(), 1);
    }
}
