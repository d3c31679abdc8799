//! BTF, the BPF Type Format: a parser of raw BTF blobs and the few queries
//! the loader needs (functions by name, struct members, type sizes).
//!
//! The format is the kernel's `include/uapi/linux/btf.h` and
//! `Documentation/bpf/btf.rst`: a header, a type section (each type a
//! `struct btf_type` followed by data whose size depends on its kind and
//! `vlen`) and a string section; type ids count from 1 in the order of the
//! type section, 0 is `void`. [`Btf::parse`] checks the header, the bounds
//! of the sections and of every type's data once; the queries then read
//! through bounds-checked accessors. Kinds newer than this parser are
//! skipped with the optional layout section when the blob has one, and
//! refused otherwise. Only little-endian, self-contained (not split) BTF is
//! supported: that of `/sys/kernel/btf/vmlinux` and of a clang object.

use std::fmt;
use std::io;

use super::{Error, Result};

pub(crate) const KIND_INT: u32 = 1;
pub(crate) const KIND_PTR: u32 = 2;
pub(crate) const KIND_ARRAY: u32 = 3;
pub(crate) const KIND_STRUCT: u32 = 4;
pub(crate) const KIND_UNION: u32 = 5;
pub(crate) const KIND_ENUM: u32 = 6;
pub(crate) const KIND_FWD: u32 = 7;
pub(crate) const KIND_TYPEDEF: u32 = 8;
pub(crate) const KIND_VOLATILE: u32 = 9;
pub(crate) const KIND_CONST: u32 = 10;
pub(crate) const KIND_RESTRICT: u32 = 11;
pub(crate) const KIND_FUNC: u32 = 12;
pub(crate) const KIND_FUNC_PROTO: u32 = 13;
pub(crate) const KIND_VAR: u32 = 14;
pub(crate) const KIND_DATASEC: u32 = 15;
pub(crate) const KIND_FLOAT: u32 = 16;
pub(crate) const KIND_DECL_TAG: u32 = 17;
pub(crate) const KIND_TYPE_TAG: u32 = 18;
pub(crate) const KIND_ENUM64: u32 = 19;

const BTF_MAGIC: u16 = 0xeb9f;
/// `struct btf_header` up to `str_len`: what every version has.
const HEADER_MIN_LEN: usize = 24;
/// With `layout_off` and `layout_len`.
const HEADER_LAYOUT_LEN: usize = 32;
/// `struct btf_type`.
const TYPE_LEN: usize = 12;
/// `BTF_MAX_TYPE`: the largest type id.
const MAX_TYPES: usize = 0x000f_ffff;
/// The longest chain of typedefs and modifiers, and the deepest nesting of
/// arrays and anonymous members, that the queries follow: a loop in a
/// malformed blob ends here.
pub(crate) const MAX_DEPTH: usize = 64;
/// The size of a pointer on the BPF target.
const PTR_SIZE: u32 = 8;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Type information in BTF: the kernel's (`/sys/kernel/btf/vmlinux`) or an
/// object's (`.BTF`).
pub struct Btf {
    /// The type section.
    types: Vec<u8>,
    /// The string section: starts and ends with a NUL.
    strings: Vec<u8>,
    /// Where each type starts in `types`: type id `i` spans
    /// `starts[i - 1]..starts[i]`; the last entry is `types.len()`.
    starts: Vec<u32>,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.type_count())
            .field("strings_len", &self.strings.len())
            .finish()
    }
}

/// One type: its `struct btf_type` and the kind-specific data after it.
#[derive(Clone, Copy)]
pub(crate) struct Type<'a> {
    pub(crate) id: u32,
    name_off: u32,
    info: u32,
    size_or_type: u32,
    extra: &'a [u8],
}

/// A `struct btf_member` of a struct or union.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub(crate) name_off: u32,
    pub(crate) type_id: u32,
    /// The raw `offset`: with the parent's kind flag, bitfield size in the
    /// top 8 bits.
    offset: u32,
}

/// A `struct btf_array`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Array {
    pub(crate) elem: u32,
    pub(crate) nelems: u32,
}

/// A `struct btf_var_secinfo` of a DATASEC.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VarSecinfo {
    pub(crate) type_id: u32,
}

/// A member found by name, possibly inside anonymous members.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FoundMember {
    pub(crate) member: Member,
    /// From the start of the struct searched.
    pub(crate) bit_offset: u32,
    pub(crate) bitfield: bool,
}

/// Reads a little-endian `u16` at `at`, if `b` holds it.
pub(crate) fn rd16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(s.try_into().ok()?))
}

/// Reads a little-endian `u32` at `at`, if `b` holds it.
pub(crate) fn rd32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

/// Reads a little-endian `u64` at `at`, if `b` holds it.
pub(crate) fn rd64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

fn malformed(what: impl fmt::Display) -> Error {
    Error::new(format!("malformed BTF: {what}"))
}

/// `len` bytes at `off` of `body`, a section of the blob called `what`.
fn section<'a>(body: &'a [u8], off: u32, len: u32, what: &str) -> Result<&'a [u8]> {
    let start = off as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| body.get(start..end))
        .ok_or_else(|| malformed(format!("the {what} section is out of bounds")))
}

/// The size of the data after a `struct btf_type` of `kind` with `vlen`;
/// `None` for a kind this parser does not know and `layout` does not
/// describe.
fn extra_len(kind: u32, vlen: usize, layout: &[u8]) -> Option<usize> {
    let (fixed, per_elem) = match kind {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => (4, 0),
        KIND_ARRAY => (12, 0),
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => (0, 12),
        KIND_ENUM | KIND_FUNC_PROTO => (0, 8),
        KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
        | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => (0, 0),
        _ => {
            // struct btf_layout { u8 info_sz; u8 elem_sz; u16 flags; },
            // one per kind.
            let at = (kind as usize).checked_mul(4)?;
            let entry = layout.get(at..at.checked_add(2)?)?;
            (usize::from(*entry.first()?), usize::from(*entry.get(1)?))
        }
    };
    vlen.checked_mul(per_elem)?.checked_add(fixed)
}

impl<'a> Type<'a> {
    pub(crate) fn kind(&self) -> u32 {
        (self.info >> 24) & 0x7f
    }

    pub(crate) fn kflag(&self) -> bool {
        self.info >> 31 != 0
    }

    /// `size` (INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64).
    pub(crate) fn size(&self) -> u32 {
        self.size_or_type
    }

    /// `type` (PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO, VAR, tags).
    pub(crate) fn target(&self) -> u32 {
        self.size_or_type
    }

    pub(crate) fn is_composite(&self) -> bool {
        matches!(self.kind(), KIND_STRUCT | KIND_UNION)
    }

    /// The members of a struct or union (none for other kinds).
    pub(crate) fn members(&self) -> impl Iterator<Item = Member> + 'a {
        let extra = if self.is_composite() { self.extra } else { &[] };
        extra.chunks_exact(12).filter_map(|c| {
            Some(Member {
                name_off: rd32(c, 0)?,
                type_id: rd32(c, 4)?,
                offset: rd32(c, 8)?,
            })
        })
    }

    /// Member `index` of a struct or union.
    pub(crate) fn member(&self, index: usize) -> Option<Member> {
        self.members().nth(index)
    }

    /// The bit offset of `m`, one of this struct's members.
    pub(crate) fn bit_offset(&self, m: &Member) -> u32 {
        if self.kflag() {
            m.offset & 0x00ff_ffff
        } else {
            m.offset
        }
    }

    /// The bitfield size of `m` (0: not a bitfield, as far as the member
    /// says).
    fn bitfield_size(&self, m: &Member) -> u32 {
        if self.kflag() {
            m.offset >> 24
        } else {
            0
        }
    }

    pub(crate) fn array(&self) -> Option<Array> {
        if self.kind() != KIND_ARRAY {
            return None;
        }
        Some(Array {
            elem: rd32(self.extra, 0)?,
            nelems: rd32(self.extra, 8)?,
        })
    }

    /// The encoding word of an INT.
    fn int_encoding(&self) -> Option<u32> {
        if self.kind() != KIND_INT {
            return None;
        }
        rd32(self.extra, 0)
    }

    /// The variables of a DATASEC (none for other kinds).
    pub(crate) fn secinfos(&self) -> impl Iterator<Item = VarSecinfo> + 'a {
        let extra = if self.kind() == KIND_DATASEC {
            self.extra
        } else {
            &[]
        };
        extra.chunks_exact(12).filter_map(|c| {
            Some(VarSecinfo {
                type_id: rd32(c, 0)?,
            })
        })
    }
}

/// A human name of a kind, for messages.
pub(crate) fn kind_name(kind: u32) -> &'static str {
    match kind {
        KIND_INT => "int",
        KIND_PTR => "pointer",
        KIND_ARRAY => "array",
        KIND_STRUCT => "struct",
        KIND_UNION => "union",
        KIND_ENUM | KIND_ENUM64 => "enum",
        KIND_FWD => "forward declaration",
        KIND_TYPEDEF => "typedef",
        KIND_VOLATILE => "volatile",
        KIND_CONST => "const",
        KIND_RESTRICT => "restrict",
        KIND_FUNC => "function",
        KIND_FUNC_PROTO => "function prototype",
        KIND_VAR => "variable",
        KIND_DATASEC => "data section",
        KIND_FLOAT => "float",
        KIND_DECL_TAG => "declaration tag",
        KIND_TYPE_TAG => "type tag",
        _ => "unknown kind",
    }
}

impl Btf {
    /// Parses a raw BTF blob: header, type section and string section.
    ///
    /// Every type's data must lie within the type section, and the string
    /// section must start and end with a NUL; a blob that breaks these (or
    /// is big-endian, or has an unknown kind and no layout section) is an
    /// error.
    pub fn parse(raw: &[u8]) -> Result<Btf> {
        let magic = rd16(raw, 0).ok_or_else(|| malformed("too short for a header"))?;
        if magic == BTF_MAGIC.swap_bytes() {
            return Err(Error::new("big-endian BTF is not supported"));
        }
        if magic != BTF_MAGIC {
            return Err(malformed(format!("bad magic {magic:#06x}")));
        }
        let version = raw.get(2).copied().unwrap_or(0);
        if version != 1 {
            return Err(Error::new(format!(
                "BTF version {version} is not supported"
            )));
        }
        let field = |at| rd32(raw, at).ok_or_else(|| malformed("truncated header"));
        let hdr_len = field(4)? as usize;
        if hdr_len < HEADER_MIN_LEN {
            return Err(malformed(format!("header length {hdr_len} is too small")));
        }
        let body = raw
            .get(hdr_len..)
            .ok_or_else(|| malformed("truncated header"))?;
        let (type_off, type_len) = (field(8)?, field(12)?);
        let (str_off, str_len) = (field(16)?, field(20)?);
        if type_off % 4 != 0 || type_len % 4 != 0 {
            return Err(malformed("the type section is not 4-byte aligned"));
        }
        let types = section(body, type_off, type_len, "type")?;
        let strings = section(body, str_off, str_len, "string")?;
        if strings.first() != Some(&0) || strings.last() != Some(&0) {
            return Err(malformed(
                "the string section does not start and end with a NUL",
            ));
        }
        let layout = if hdr_len >= HEADER_LAYOUT_LEN {
            section(body, field(24)?, field(28)?, "layout")?
        } else {
            &[]
        };

        let mut starts = Vec::new();
        let mut pos = 0usize;
        while pos < types.len() {
            if starts.len() >= MAX_TYPES {
                return Err(malformed("too many types"));
            }
            let id = starts.len() + 1;
            let info =
                rd32(types, pos + 4).ok_or_else(|| malformed(format!("type {id} is truncated")))?;
            let kind = (info >> 24) & 0x7f;
            let vlen = (info & 0x00ff_ffff) as usize;
            let extra = extra_len(kind, vlen, layout)
                .ok_or_else(|| malformed(format!("type {id} has unknown kind {kind}")))?;
            let end = pos
                .checked_add(TYPE_LEN)
                .and_then(|p| p.checked_add(extra))
                .filter(|&end| end <= types.len())
                .ok_or_else(|| malformed(format!("type {id} is truncated")))?;
            starts.push(pos as u32);
            pos = end;
        }
        starts.push(types.len() as u32);
        Ok(Btf {
            types: types.to_vec(),
            strings: strings.to_vec(),
            starts,
        })
    }

    /// The running kernel's BTF, from `/sys/kernel/btf/vmlinux`.
    pub fn vmlinux() -> Result<Btf> {
        match std::fs::read(VMLINUX) {
            Ok(raw) => {
                Btf::parse(&raw).map_err(|e| e.context(format!("the kernel's BTF ({VMLINUX})")))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::new(format!(
                "the kernel has no BTF ({VMLINUX} is missing): it needs CONFIG_DEBUG_INFO_BTF"
            ))),
            Err(e) => Err(Error::io(format!("reading {VMLINUX}"), e)),
        }
    }

    /// The type id of the function (`BTF_KIND_FUNC`) called `name`.
    pub fn func_id(&self, name: &str) -> Option<u32> {
        self.named(name)
            .find(|t| t.kind() == KIND_FUNC)
            .map(|t| t.id)
    }

    /// The offset in bytes of `member` in the struct or union called
    /// `struct_name` (the first of that name that has such a member; a
    /// member of an anonymous struct or union member counts). `None` if
    /// there is none, or if the member is a bitfield.
    pub fn member_offset(&self, struct_name: &str, member: &str) -> Option<u32> {
        self.named(struct_name)
            .filter(Type::is_composite)
            .find_map(|t| match self.find_member(&t, member) {
                Ok(Some(found)) if !found.bitfield => Some(found.bit_offset / 8),
                _ => None,
            })
    }

    /// The number of types (the largest type id).
    pub(crate) fn type_count(&self) -> u32 {
        (self.starts.len().saturating_sub(1)) as u32
    }

    /// Type `id` (not 0, `void`).
    pub(crate) fn ty(&self, id: u32) -> Result<Type<'_>> {
        let missing = || malformed(format!("type id {id} does not exist"));
        let index = (id as usize).checked_sub(1).ok_or_else(missing)?;
        let start = *self.starts.get(index).ok_or_else(missing)? as usize;
        let end = *self.starts.get(index + 1).ok_or_else(missing)? as usize;
        let bytes = self.types.get(start..end).ok_or_else(missing)?;
        let word = |at| rd32(bytes, at).ok_or_else(missing);
        Ok(Type {
            id,
            name_off: word(0)?,
            info: word(4)?,
            size_or_type: word(8)?,
            extra: bytes.get(TYPE_LEN..).unwrap_or(&[]),
        })
    }

    /// The types called `name`, in id order.
    pub(crate) fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Type<'a>> + 'a {
        (1..=self.type_count())
            .filter_map(|id| self.ty(id).ok())
            .filter(move |t| self.name_bytes(t.name_off) == Some(name.as_bytes()))
    }

    /// The name of `t` as bytes, if its offset is valid.
    pub(crate) fn raw_name(&self, t: &Type<'_>) -> Option<&[u8]> {
        self.name_bytes(t.name_off)
    }

    /// The string at `off` of the string section, without its NUL.
    fn name_bytes(&self, off: u32) -> Option<&[u8]> {
        let tail = self.strings.get(off as usize..)?;
        let len = tail.iter().position(|&b| b == 0)?;
        tail.get(..len)
    }

    /// The string at `off` of the string section.
    pub(crate) fn str_at(&self, off: u32) -> Result<&str> {
        let bytes = self
            .name_bytes(off)
            .ok_or_else(|| malformed(format!("string offset {off} is out of bounds")))?;
        std::str::from_utf8(bytes)
            .map_err(|_| malformed(format!("the string at offset {off} is not UTF-8")))
    }

    /// The name of `t` ("" if anonymous).
    pub(crate) fn name(&self, t: &Type<'_>) -> Result<&str> {
        self.str_at(t.name_off)
    }

    /// Type `id` with typedefs and modifiers (const, volatile, restrict,
    /// type tags) skipped.
    pub(crate) fn skip_mods(&self, id: u32) -> Result<Type<'_>> {
        let mut id = id;
        for _ in 0..MAX_DEPTH {
            if id == 0 {
                return Err(Error::new("a type refers to void where a type is needed"));
            }
            let t = self.ty(id)?;
            match t.kind() {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.target();
                }
                _ => return Ok(t),
            }
        }
        Err(malformed(format!(
            "type id {id} is behind too many typedefs or modifiers"
        )))
    }

    /// The size in bytes of type `id`.
    pub(crate) fn type_size(&self, id: u32) -> Result<u32> {
        self.type_size_at(id, 0)
    }

    fn type_size_at(&self, id: u32, depth: usize) -> Result<u32> {
        if depth >= MAX_DEPTH {
            return Err(malformed(format!("type id {id} is nested too deeply")));
        }
        let t = self.skip_mods(id)?;
        match t.kind() {
            KIND_INT | KIND_ENUM | KIND_ENUM64 | KIND_STRUCT | KIND_UNION | KIND_FLOAT
            | KIND_DATASEC => Ok(t.size()),
            KIND_PTR => Ok(PTR_SIZE),
            KIND_ARRAY => {
                let a = t
                    .array()
                    .ok_or_else(|| malformed(format!("array {} is truncated", t.id)))?;
                let elem = self.type_size_at(a.elem, depth + 1)?;
                elem.checked_mul(a.nelems)
                    .ok_or_else(|| malformed(format!("array {} is too large", t.id)))
            }
            kind => Err(Error::new(format!(
                "type id {} ({}) has no size",
                t.id,
                kind_name(kind)
            ))),
        }
    }

    /// Whether member `m` of `parent` is a bitfield: by its encoding in the
    /// member (kind flag) or in its INT type (older encoding), or because it
    /// does not start on a byte.
    pub(crate) fn is_bitfield(&self, parent: &Type<'_>, m: &Member) -> bool {
        if parent.bitfield_size(m) != 0 || parent.bit_offset(m) % 8 != 0 {
            return true;
        }
        match self.skip_mods(m.type_id).ok().and_then(|t| {
            let enc = t.int_encoding()?;
            Some((enc, t.size()))
        }) {
            Some((enc, size)) => {
                let bits = enc & 0xff;
                let offset = (enc >> 16) & 0xff;
                offset != 0 || u64::from(bits) != u64::from(size) * 8
            }
            None => false,
        }
    }

    /// The member called `name` of the struct or union `t`, looking into
    /// its anonymous struct and union members too (as C does).
    pub(crate) fn find_member(&self, t: &Type<'_>, name: &str) -> Result<Option<FoundMember>> {
        self.find_member_at(t, name, 0)
    }

    fn find_member_at(
        &self,
        t: &Type<'_>,
        name: &str,
        depth: usize,
    ) -> Result<Option<FoundMember>> {
        if depth >= MAX_DEPTH {
            return Err(malformed(format!(
                "struct {} has anonymous members nested too deeply",
                t.id
            )));
        }
        for m in t.members() {
            let mname = self
                .name_bytes(m.name_off)
                .ok_or_else(|| malformed(format!("a member of type {} has no name", t.id)))?;
            if mname == name.as_bytes() {
                return Ok(Some(FoundMember {
                    member: m,
                    bit_offset: t.bit_offset(&m),
                    bitfield: self.is_bitfield(t, &m),
                }));
            }
            if mname.is_empty() {
                let inner = self.skip_mods(m.type_id)?;
                if inner.is_composite() {
                    if let Some(found) = self.find_member_at(&inner, name, depth + 1)? {
                        let bit_offset = t
                            .bit_offset(&m)
                            .checked_add(found.bit_offset)
                            .ok_or_else(|| malformed(format!("struct {} is too large", t.id)))?;
                        return Ok(Some(FoundMember {
                            bit_offset,
                            ..found
                        }));
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::testutil::BtfBuilder;

    /// struct task_struct { int pad; const struct cred *cred; }, a FUNC, a
    /// typedef, an anonymous union member and a bitfield.
    fn sample() -> (Vec<u8>, u32) {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let uint = b.int("unsigned int", 4, false);
        let cred = b.fwd_struct("cred");
        let ccred = b.const_(cred);
        let pcred = b.ptr(ccred);
        let task = b.struct_("task_struct", 16, &[("pad", int, 0), ("cred", pcred, 64)]);
        b.typedef("task_t", task);
        let anon = b.union_("", 8, &[("i_ino", uint, 0), ("i_ino64", uint, 0)]);
        b.struct_bitfields(
            "inode",
            24,
            &[
                ("i_mode", uint, 0, 0),
                ("i_flags", uint, 32, 3),
                ("", anon, 64, 0),
            ],
        );
        let proto = b.func_proto(int, &[("cred", pcred)]);
        let func = b.func("bpf_secns_cred_depth", proto);
        (b.build(), func)
    }

    #[test]
    fn parse_and_query() {
        let (raw, func) = sample();
        let btf = Btf::parse(&raw).unwrap();
        assert_eq!(btf.func_id("bpf_secns_cred_depth"), Some(func));
        assert_eq!(btf.func_id("task_struct"), None, "not a FUNC");
        assert_eq!(btf.func_id("nope"), None);
        assert_eq!(btf.member_offset("task_struct", "cred"), Some(8));
        assert_eq!(btf.member_offset("task_struct", "pad"), Some(0));
        assert_eq!(btf.member_offset("task_struct", "mm"), None);
        assert_eq!(btf.member_offset("cred", "x"), None);
        // Through the anonymous union.
        assert_eq!(btf.member_offset("inode", "i_ino64"), Some(8));
        // A bitfield has no byte offset.
        assert_eq!(btf.member_offset("inode", "i_flags"), None);
        assert_eq!(btf.member_offset("inode", "i_mode"), Some(0));
    }

    #[test]
    fn sizes_and_modifiers() {
        let mut b = BtfBuilder::new();
        let u64_ = b.int("unsigned long long", 8, false);
        let td = b.typedef("__u64", u64_);
        let v = b.volatile(td);
        let arr = b.array(v, u64_, 16);
        let arr2 = b.array(arr, u64_, 3);
        let s = b.struct_("s", 24, &[("a", td, 0)]);
        let p = b.ptr(s);
        let raw = b.build();
        let btf = Btf::parse(&raw).unwrap();
        assert_eq!(btf.type_size(v).unwrap(), 8);
        assert_eq!(btf.type_size(arr).unwrap(), 128);
        assert_eq!(btf.type_size(arr2).unwrap(), 384);
        assert_eq!(btf.type_size(s).unwrap(), 24);
        assert_eq!(btf.type_size(p).unwrap(), 8);
        assert_eq!(btf.skip_mods(v).unwrap().id, u64_);
        assert!(btf.type_size(0).is_err(), "void has no size");
        assert!(btf.ty(0).is_err());
        assert!(btf.ty(btf.type_count() + 1).is_err());
    }

    #[test]
    fn typedef_loop_is_an_error() {
        let mut b = BtfBuilder::new();
        // Type 1 is a typedef of type 2, a typedef of type 1.
        b.typedef("a", 2);
        b.typedef("b", 1);
        let raw = b.build();
        let btf = Btf::parse(&raw).unwrap();
        assert!(btf.skip_mods(1).is_err());
        assert!(btf.type_size(1).is_err());
    }

    #[test]
    fn anonymous_member_loop_is_an_error() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        // Type 2 holds an anonymous member of its own type.
        b.struct_("loop", 4, &[("", 2, 0), ("x", int, 0)]);
        let raw = b.build();
        let btf = Btf::parse(&raw).unwrap();
        assert_eq!(btf.member_offset("loop", "y"), None);
        let t = btf.ty(2).unwrap();
        assert!(btf.find_member(&t, "y").is_err());
    }

    #[test]
    fn bad_headers() {
        let (raw, _) = sample();
        assert!(Btf::parse(&[]).is_err());
        let mut bad = raw.clone();
        bad[0] = 0;
        assert!(Btf::parse(&bad).unwrap_err().to_string().contains("magic"));
        let mut be = raw.clone();
        be.swap(0, 1);
        assert!(Btf::parse(&be)
            .unwrap_err()
            .to_string()
            .contains("big-endian"));
        let mut v2 = raw.clone();
        v2[2] = 2;
        assert!(Btf::parse(&v2).unwrap_err().to_string().contains("version"));
        // The string section out of bounds.
        let mut big = raw.clone();
        big[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Btf::parse(&big).is_err());
        // A header length beyond the blob.
        let mut hdr = raw.clone();
        hdr[4..8].copy_from_slice(&0x1000u32.to_le_bytes());
        assert!(Btf::parse(&hdr).is_err());
    }

    #[test]
    fn truncated_blobs_are_errors() {
        let (raw, _) = sample();
        for len in 0..raw.len() {
            assert!(Btf::parse(&raw[..len]).is_err(), "truncated at {len}");
        }
    }

    #[test]
    fn type_section_cut_mid_type_is_an_error() {
        let (mut raw, _) = sample();
        // Shrink type_len by 4: the last type loses its tail.
        let type_len = rd32(&raw, 12).unwrap();
        raw[12..16].copy_from_slice(&(type_len - 4).to_le_bytes());
        let err = Btf::parse(&raw).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn unknown_kind_needs_a_layout() {
        let mut b = BtfBuilder::new();
        b.int("int", 4, true);
        b.raw_type(0, 30 << 24 | 2, 0, &[0; 8]);
        b.int("long", 8, true);
        let raw = b.build();
        let err = Btf::parse(&raw).unwrap_err().to_string();
        assert!(err.contains("unknown kind 30"), "{err}");

        // With a layout section saying kind 30 has 4 bytes per element.
        let mut layout = vec![0u8; 4 * 31];
        layout[30 * 4 + 1] = 4;
        let raw = b.build_with_layout(&layout);
        let btf = Btf::parse(&raw).unwrap();
        assert_eq!(btf.type_count(), 3);
        assert_eq!(btf.type_size(3).unwrap(), 8);
    }

    #[test]
    fn corrupted_blobs_never_panic() {
        let (raw, _) = sample();
        for i in 0..raw.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut bad = raw.clone();
                bad[i] = v;
                if let Ok(btf) = Btf::parse(&bad) {
                    // Queries on whatever parsed must not panic either.
                    let _ = btf.func_id("bpf_secns_cred_depth");
                    let _ = btf.member_offset("task_struct", "cred");
                    let _ = btf.member_offset("inode", "i_ino64");
                    for id in 0..=btf.type_count() + 1 {
                        let _ = btf.type_size(id);
                        if let Ok(t) = btf.ty(id) {
                            let _ = btf.name(&t);
                            let _ = btf.find_member(&t, "cred");
                        }
                    }
                }
            }
        }
    }
}
