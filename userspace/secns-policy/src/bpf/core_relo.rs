//! CO-RE ("compile once, run everywhere") field offset relocations: read
//! from the object's `.BTF.ext`, resolved against the kernel's BTF.
//!
//! `.BTF.ext` (`struct btf_ext_header` in the kernel's
//! `tools/lib/bpf/libbpf_internal.h`) holds, after func_info and line_info,
//! a `core_relo` subsection: a record size, then per program section its
//! name and its `struct bpf_core_relo` records (instruction byte offset,
//! local type id, access string, kind). Only `BPF_CORE_FIELD_BYTE_OFFSET`
//! is supported: the offset of a field, given in the object's BTF by the
//! access string `0:m1:m2...` (an index into an array of the local type,
//! which must be 0, then member indices, or array indices for arrays).
//!
//! Resolution follows libbpf's `relo_core.c`: the local root struct is
//! matched by its name without a `___flavor` suffix against the kernel's
//! structs (or unions) of that name, the first candidate where every field
//! resolves winning; each field is matched by name, looking into anonymous
//! struct and union members; local anonymous members are skipped; the final
//! field's type must be compatible (both pointers, both integers or enums,
//! both structs or unions, arrays of compatible elements); bitfields are
//! refused.

use super::btf::{
    kind_name, rd32, Btf, KIND_ARRAY, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FWD, KIND_INT,
    KIND_PTR, MAX_DEPTH,
};
use super::sys::Insn;
use super::{Error, Result};

/// `BPF_CORE_FIELD_BYTE_OFFSET`.
const FIELD_BYTE_OFFSET: u32 = 0;
/// The longest access string (libbpf's `BPF_CORE_SPEC_MAX_LEN`).
const MAX_ACCESS_LEN: usize = 64;
const BTF_EXT_MAGIC: u16 = 0xeb9f;
/// `struct btf_ext_header` with `core_relo_off` and `core_relo_len`.
const EXT_HEADER_CORE_LEN: usize = 32;
const EXT_HEADER_MIN_LEN: usize = 24;
/// `struct bpf_core_relo`.
const CORE_RELO_LEN: usize = 16;

const BPF_CLASS_LDX: u8 = 0x01;
const BPF_CLASS_ST: u8 = 0x02;
const BPF_CLASS_STX: u8 = 0x03;
const BPF_CLASS_ALU: u8 = 0x04;
const BPF_CLASS_ALU64: u8 = 0x07;
/// The source bit of ALU instructions: set for a register (`BPF_X`).
const BPF_SRC_X: u8 = 0x08;

/// One CO-RE relocation record of `.BTF.ext`.
#[derive(Clone, Debug)]
pub(crate) struct CoreRelo {
    /// The program section it applies to.
    pub(crate) section: String,
    /// The byte offset of the instruction in the section.
    pub(crate) insn_off: u32,
    /// The local (object BTF) type id of the root.
    pub(crate) type_id: u32,
    pub(crate) access: String,
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::new(format!("malformed .BTF.ext: {what}"))
}

/// A human name of a CO-RE relocation kind.
fn relo_kind_name(kind: u32) -> &'static str {
    match kind {
        0 => "field byte offset",
        1 => "field byte size",
        2 => "field existence",
        3 => "field signedness",
        4 => "field left shift",
        5 => "field right shift",
        6 => "local type id",
        7 => "target type id",
        8 => "type existence",
        9 => "type size",
        10 => "enum value existence",
        11 => "enum value",
        12 => "type match",
        _ => "unknown",
    }
}

/// The CO-RE relocations of a `.BTF.ext` section, whose strings are in
/// `btf` (the object's `.BTF`). Kinds other than field byte offsets are an
/// error.
pub(crate) fn parse_btf_ext(ext: &[u8], btf: &Btf) -> Result<Vec<CoreRelo>> {
    let magic = super::btf::rd16(ext, 0).ok_or_else(|| malformed("too short for a header"))?;
    if magic != BTF_EXT_MAGIC {
        return Err(malformed(format!("bad magic {magic:#06x}")));
    }
    if ext.get(2) != Some(&1) {
        return Err(Error::new(".BTF.ext version is not supported"));
    }
    let hdr_len = rd32(ext, 4).ok_or_else(|| malformed("truncated header"))? as usize;
    if hdr_len < EXT_HEADER_MIN_LEN || hdr_len > ext.len() {
        return Err(malformed(format!("header length {hdr_len}")));
    }
    if hdr_len < EXT_HEADER_CORE_LEN {
        // An older header: no CO-RE relocations.
        return Ok(Vec::new());
    }
    let off = rd32(ext, 24).ok_or_else(|| malformed("truncated header"))? as usize;
    let len = rd32(ext, 28).ok_or_else(|| malformed("truncated header"))? as usize;
    if len == 0 {
        return Ok(Vec::new());
    }
    let sub = hdr_len
        .checked_add(off)
        .and_then(|start| ext.get(start..start.checked_add(len)?))
        .ok_or_else(|| malformed("the core_relo subsection is out of bounds"))?;
    let rec_size =
        rd32(sub, 0).ok_or_else(|| malformed("the core_relo subsection is truncated"))? as usize;
    if rec_size < CORE_RELO_LEN || rec_size % 4 != 0 {
        return Err(malformed(format!("core_relo record size {rec_size}")));
    }

    let mut relos = Vec::new();
    let mut pos = 4usize;
    while pos < sub.len() {
        let bad = || malformed("the core_relo subsection is truncated");
        let name_off = rd32(sub, pos).ok_or_else(bad)?;
        let count = rd32(sub, pos + 4).ok_or_else(bad)? as usize;
        let section = btf
            .str_at(name_off)
            .map_err(|e| e.context("a .BTF.ext section name"))?
            .to_string();
        let start = pos + 8;
        let records = count
            .checked_mul(rec_size)
            .and_then(|n| sub.get(start..start.checked_add(n)?))
            .ok_or_else(bad)?;
        for rec in records.chunks_exact(rec_size) {
            let insn_off = rd32(rec, 0).ok_or_else(bad)?;
            let type_id = rd32(rec, 4).ok_or_else(bad)?;
            let access_off = rd32(rec, 8).ok_or_else(bad)?;
            let kind = rd32(rec, 12).ok_or_else(bad)?;
            if kind != FIELD_BYTE_OFFSET {
                return Err(Error::new(format!(
                    "section {section}: CO-RE relocations of kind {} ({kind}) are not supported, only field byte offsets",
                    relo_kind_name(kind)
                )));
            }
            let access = btf
                .str_at(access_off)
                .map_err(|e| e.context("a CO-RE access string"))?
                .to_string();
            relos.push(CoreRelo {
                section: section.clone(),
                insn_off,
                type_id,
                access,
            });
        }
        pos = start + records.len();
    }
    Ok(relos)
}

/// Parses an access string like `0:1:2`.
pub(crate) fn parse_access(access: &str) -> Result<Vec<u32>> {
    let bad = || Error::new(format!("malformed CO-RE access string {access:?}"));
    let parts: Vec<&str> = access.split(':').collect();
    if parts.len() > MAX_ACCESS_LEN {
        return Err(bad());
    }
    parts
        .iter()
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse::<u32>().map_err(|_| bad())
        })
        .collect()
}

/// One step of a field access.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    /// A named member.
    Member(String),
    /// An anonymous struct or union member: C reaches its fields as the
    /// parent's.
    Anon,
    /// An array element.
    Index(u32),
}

/// A field as the object sees it: the resolved access string.
#[derive(Clone, Debug)]
pub(crate) struct LocalField {
    /// The root struct's name (flavor included) and kind.
    root_name: String,
    root_kind: u32,
    steps: Vec<Step>,
    /// The local type id of the field.
    field_type: u32,
    /// The field's offset in the object's layout, in bytes.
    pub(crate) offset: u32,
    /// `struct::field`, for messages.
    pub(crate) path: String,
}

/// `bits` plus the bit offset of element `index` of an array of elements
/// of `size` bytes; `None` on overflow.
fn add_element(bits: u64, index: u32, size: u32) -> Option<u64> {
    u64::from(index)
        .checked_mul(u64::from(size))?
        .checked_mul(8)?
        .checked_add(bits)
}

/// `name` without a libbpf flavor suffix (`task_struct___v2` →
/// `task_struct`).
fn essential(name: &[u8]) -> &[u8] {
    name.windows(3)
        .position(|w| w == b"___")
        .and_then(|i| name.get(..i))
        .unwrap_or(name)
}

/// Resolves the access string `access` on local type `type_id` of `btf`.
pub(crate) fn local_field(btf: &Btf, type_id: u32, access: &str) -> Result<LocalField> {
    let indices = parse_access(access)?;
    let root = btf.skip_mods(type_id)?;
    let mut root_name = btf.name(&root)?;
    if root_name.is_empty() {
        // An anonymous struct behind a typedef: the typedef's name.
        root_name = btf.name(&btf.ty(type_id)?)?;
    }
    if !root.is_composite() {
        return Err(Error::new(format!(
            "CO-RE access {access:?} on {} {root_name}: only struct and union fields are supported",
            kind_name(root.kind())
        )));
    }
    if root_name.is_empty() {
        return Err(Error::new(format!(
            "CO-RE access {access:?} on an anonymous struct: it cannot be matched with the kernel's"
        )));
    }
    let (first, rest) = match indices.split_first() {
        Some((first, rest)) if !rest.is_empty() => (*first, rest),
        _ => {
            return Err(Error::new(format!(
                "CO-RE access {access:?} on struct {root_name} names no field"
            )))
        }
    };
    if first != 0 {
        return Err(Error::new(format!(
            "CO-RE access {access:?} on struct {root_name}: indexing an array of structs is not supported"
        )));
    }

    let mut path = root_name.to_string();
    let mut steps = Vec::new();
    let mut bits: u64 = 0;
    let mut cur = type_id;
    for &index in rest {
        let t = btf.skip_mods(cur)?;
        if t.is_composite() {
            let m = t.member(index as usize).ok_or_else(|| {
                Error::new(format!(
                    "CO-RE access {access:?}: {path} has no member #{index}"
                ))
            })?;
            let name = btf.str_at(m.name_off)?;
            if btf.is_bitfield(&t, &m) {
                return Err(Error::new(format!(
                    "CO-RE relocation of {path}::{name}: bitfields are not supported"
                )));
            }
            bits = bits
                .checked_add(u64::from(t.bit_offset(&m)))
                .ok_or_else(|| {
                    Error::new(format!("CO-RE relocation of {path}: offset too large"))
                })?;
            if name.is_empty() {
                steps.push(Step::Anon);
            } else {
                path = format!("{path}::{name}");
                steps.push(Step::Member(name.to_string()));
            }
            cur = m.type_id;
        } else if let Some(a) = t.array() {
            if index >= a.nelems && a.nelems != 0 {
                return Err(Error::new(format!(
                    "CO-RE access {access:?}: index {index} is beyond {path}'s {} elements",
                    a.nelems
                )));
            }
            let size = btf.type_size(a.elem)?;
            bits = add_element(bits, index, size).ok_or_else(|| {
                Error::new(format!("CO-RE relocation of {path}: offset too large"))
            })?;
            path = format!("{path}[{index}]");
            steps.push(Step::Index(index));
            cur = a.elem;
        } else {
            return Err(Error::new(format!(
                "CO-RE access {access:?}: {path} is a {}, it has no members",
                kind_name(t.kind())
            )));
        }
    }
    if steps.last() == Some(&Step::Anon) {
        return Err(Error::new(format!(
            "CO-RE access {access:?} ends at an anonymous member of {path}: not supported"
        )));
    }
    let offset = u32::try_from(bits / 8)
        .map_err(|_| Error::new(format!("CO-RE relocation of {path}: offset too large")))?;
    Ok(LocalField {
        root_name: root_name.to_string(),
        root_kind: root.kind(),
        steps,
        field_type: cur,
        offset,
        path,
    })
}

/// The offset in bytes of `field` in the kernel's layout.
pub(crate) fn kernel_offset(local: &Btf, field: &LocalField, kernel: &Btf) -> Result<u32> {
    let wanted = essential(field.root_name.as_bytes());
    let kind = kind_name(field.root_kind);
    let mut candidates: Vec<u32> = Vec::new();
    for id in 1..=kernel.type_count() {
        let Ok(t) = kernel.ty(id) else { continue };
        match kernel.raw_name(&t) {
            Some(name) if !name.is_empty() && essential(name) == wanted => {}
            _ => continue,
        }
        match kernel.skip_mods(id) {
            Ok(r) if r.kind() == field.root_kind && !candidates.contains(&r.id) => {
                candidates.push(r.id)
            }
            _ => {}
        }
    }
    let wanted = String::from_utf8_lossy(wanted);
    if candidates.is_empty() {
        return Err(Error::new(format!(
            "the running kernel has no {kind} {wanted} (CO-RE relocation of {})",
            field.path
        )));
    }
    let mut first_error = None;
    for id in candidates {
        match match_candidate(local, field, kernel, id, &wanted) {
            Ok(offset) => return Ok(offset),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Error::new("no CO-RE candidate")))
}

fn match_candidate(
    local: &Btf,
    field: &LocalField,
    kernel: &Btf,
    root: u32,
    root_name: &str,
) -> Result<u32> {
    let relo = || format!("CO-RE relocation of {}", field.path);
    let mut path = root_name.to_string();
    let mut bits: u64 = 0;
    let mut cur = root;
    for step in &field.steps {
        match step {
            Step::Anon => {}
            Step::Member(name) => {
                let t = kernel.skip_mods(cur)?;
                if !t.is_composite() {
                    return Err(Error::new(format!(
                        "the running kernel's {path} is a {}, not a struct or union ({})",
                        kind_name(t.kind()),
                        relo()
                    )));
                }
                let found = kernel.find_member(&t, name)?.ok_or_else(|| {
                    Error::new(format!(
                        "the running kernel's {path} has no field {name} ({})",
                        relo()
                    ))
                })?;
                path = format!("{path}::{name}");
                if found.bitfield {
                    return Err(Error::new(format!(
                        "the running kernel's {path} is a bitfield ({}): not supported",
                        relo()
                    )));
                }
                bits = bits
                    .checked_add(u64::from(found.bit_offset))
                    .ok_or_else(|| Error::new(format!("{}: the offset is too large", relo())))?;
                cur = found.member.type_id;
            }
            Step::Index(index) => {
                let t = kernel.skip_mods(cur)?;
                let a = t.array().ok_or_else(|| {
                    Error::new(format!(
                        "the running kernel's {path} is not an array ({})",
                        relo()
                    ))
                })?;
                if *index >= a.nelems && a.nelems != 0 {
                    return Err(Error::new(format!(
                        "the running kernel's {path} has only {} elements ({})",
                        a.nelems,
                        relo()
                    )));
                }
                bits = add_element(bits, *index, kernel.type_size(a.elem)?)
                    .ok_or_else(|| Error::new(format!("{}: the offset is too large", relo())))?;
                path = format!("{path}[{index}]");
                cur = a.elem;
            }
        }
    }
    if !fields_compatible(local, field.field_type, kernel, cur)? {
        return Err(Error::new(format!(
            "the running kernel's {path} has a type incompatible with the program's ({})",
            relo()
        )));
    }
    u32::try_from(bits / 8).map_err(|_| Error::new(format!("{}: the offset is too large", relo())))
}

/// Whether a field of local type `local_id` may be read as one of kernel
/// type `kernel_id` (libbpf's `bpf_core_fields_are_compat`).
fn fields_compatible(local: &Btf, local_id: u32, kernel: &Btf, kernel_id: u32) -> Result<bool> {
    let (mut lid, mut kid) = (local_id, kernel_id);
    for _ in 0..MAX_DEPTH {
        let l = local.skip_mods(lid)?;
        let k = kernel.skip_mods(kid)?;
        if l.is_composite() && k.is_composite() {
            return Ok(true);
        }
        let enum_like = |kind| kind == KIND_ENUM || kind == KIND_ENUM64;
        if enum_like(l.kind()) && enum_like(k.kind()) {
            return Ok(true);
        }
        if l.kind() != k.kind() {
            return Ok(false);
        }
        match l.kind() {
            KIND_PTR | KIND_FLOAT | KIND_INT => return Ok(true),
            KIND_FWD => {
                return Ok(
                    essential(local.name(&l)?.as_bytes()) == essential(kernel.name(&k)?.as_bytes())
                )
            }
            KIND_ARRAY => match (l.array(), k.array()) {
                (Some(la), Some(ka)) => {
                    lid = la.elem;
                    kid = ka.elem;
                }
                _ => return Ok(false),
            },
            _ => return Ok(false),
        }
    }
    Err(Error::new("CO-RE: array types are nested too deeply"))
}

/// Checks that `insn` can take a field offset, and holds `local` (the
/// offset in the object's layout) where it will go, as libbpf does.
pub(crate) fn check_site(insn: &Insn, local: u32) -> Result<()> {
    let current = match insn_slot(insn)? {
        Slot::Off => i64::from(insn.off),
        Slot::Imm => i64::from(insn.imm),
    };
    if current != i64::from(local) {
        return Err(Error::new(format!(
            "the instruction holds {current}, not the field's offset {local}"
        )));
    }
    Ok(())
}

/// Puts the field offset `offset` into `insn`.
pub(crate) fn patch(insn: &mut Insn, offset: u32) -> Result<()> {
    match insn_slot(insn)? {
        Slot::Off => {
            insn.off = i16::try_from(offset).map_err(|_| {
                Error::new(format!(
                    "the offset {offset} does not fit the instruction's 16-bit offset"
                ))
            })?;
        }
        Slot::Imm => {
            insn.imm = i32::try_from(offset).map_err(|_| {
                Error::new(format!(
                    "the offset {offset} does not fit a 32-bit immediate"
                ))
            })?;
        }
    }
    Ok(())
}

enum Slot {
    Off,
    Imm,
}

/// Where a field offset goes in `insn`.
fn insn_slot(insn: &Insn) -> Result<Slot> {
    match insn.code & 0x07 {
        BPF_CLASS_LDX | BPF_CLASS_ST | BPF_CLASS_STX => Ok(Slot::Off),
        BPF_CLASS_ALU | BPF_CLASS_ALU64 if insn.code & BPF_SRC_X == 0 => Ok(Slot::Imm),
        _ => Err(Error::new(format!(
            "instruction opcode {:#04x} cannot take a CO-RE field offset (only loads, stores and ALU with an immediate)",
            insn.code
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::testutil::{btf_ext, BtfBuilder};

    /// The object's view: struct file { struct inode *f_inode; } and
    /// struct inode { unsigned long i_ino; struct super_block *i_sb; },
    /// struct arr { int pad; u32 v[4]; }. Returns (blob, file, inode, arr).
    fn local() -> (Vec<u8>, u32, u32, u32) {
        let mut b = BtfBuilder::new();
        let ulong = b.int("unsigned long", 8, false);
        let u32_ = b.int("unsigned int", 4, false);
        let sb = b.struct_("super_block", 4, &[("s_dev", u32_, 0)]);
        let psb = b.ptr(sb);
        let inode = b.struct_("inode", 16, &[("i_ino", ulong, 0), ("i_sb", psb, 64)]);
        let pinode = b.ptr(inode);
        let file = b.struct_("file", 8, &[("f_inode", pinode, 0)]);
        let arr4 = b.array(u32_, u32_, 4);
        let arr = b.struct_("arr___local", 20, &[("pad", u32_, 0), ("v", arr4, 32)]);
        (b.build(), file, inode, arr)
    }

    /// The kernel's view: other offsets, more fields, i_sb inside an
    /// anonymous union, a decoy struct inode without i_ino first.
    fn kernel() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let ulong = b.int("unsigned long", 8, false);
        let u32_ = b.int("unsigned int", 4, false);
        let dev_t = b.typedef("dev_t", u32_);
        let sb = b.struct_(
            "super_block",
            64,
            &[("s_list", ulong, 0), ("s_dev", dev_t, 128)],
        );
        let psb = b.ptr(sb);
        // A struct inode without i_ino, and whose i_sb is no pointer: not
        // the right candidate for either field.
        b.struct_("inode", 8, &[("i_sb", u32_, 0)]);
        let anon = b.union_("", 8, &[("i_sb", psb, 0), ("i_sb_alias", psb, 0)]);
        let inode = b.struct_(
            "inode",
            96,
            &[("i_mode", u32_, 0), ("i_ino", ulong, 320), ("", anon, 512)],
        );
        let cinode = b.const_(inode);
        let pinode = b.ptr(cinode);
        b.struct_(
            "file",
            200,
            &[("f_mode", u32_, 0), ("f_inode", pinode, 1280)],
        );
        let arr8 = b.array(u32_, u32_, 8);
        b.struct_("arr", 64, &[("x", ulong, 0), ("v", arr8, 128)]);
        b.build()
    }

    fn resolve(lb: &Btf, kb: &Btf, ty: u32, access: &str) -> Result<(u32, u32)> {
        let f = local_field(lb, ty, access)?;
        Ok((f.offset, kernel_offset(lb, &f, kb)?))
    }

    #[test]
    fn offsets_follow_the_kernel_layout() {
        let (raw, file, inode, arr) = local();
        let lb = Btf::parse(&raw).unwrap();
        let kb = Btf::parse(&kernel()).unwrap();
        // file::f_inode: 0 locally, 160 in the kernel.
        assert_eq!(resolve(&lb, &kb, file, "0:0").unwrap(), (0, 160));
        // inode::i_ino: the first struct inode of the kernel has none.
        assert_eq!(resolve(&lb, &kb, inode, "0:0").unwrap(), (0, 40));
        // inode::i_sb: inside an anonymous union in the kernel.
        assert_eq!(resolve(&lb, &kb, inode, "0:1").unwrap(), (8, 64));
        // A flavored local struct, and an array element.
        assert_eq!(resolve(&lb, &kb, arr, "0:1:2").unwrap(), (12, 24));
        let f = local_field(&lb, inode, "0:1").unwrap();
        assert_eq!(f.path, "inode::i_sb");
    }

    #[test]
    fn resolution_errors_name_the_field() {
        let (raw, file, _, _) = local();
        let lb = Btf::parse(&raw).unwrap();
        // A kernel whose struct file has no f_inode.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        b.struct_("file", 4, &[("f_mode", int, 0)]);
        let kb = Btf::parse(&b.build()).unwrap();
        let err = resolve(&lb, &kb, file, "0:0").unwrap_err().to_string();
        assert!(
            err.contains("struct file") || err.contains("file has no field f_inode"),
            "{err}"
        );
        assert!(err.contains("f_inode"), "{err}");

        // A kernel without struct file at all.
        let mut b = BtfBuilder::new();
        b.int("int", 4, true);
        let kb = Btf::parse(&b.build()).unwrap();
        let err = resolve(&lb, &kb, file, "0:0").unwrap_err().to_string();
        assert!(err.contains("no struct file"), "{err}");

        // A kernel whose f_inode is an integer, not a pointer.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        b.struct_("file", 4, &[("f_inode", int, 0)]);
        let kb = Btf::parse(&b.build()).unwrap();
        let err = resolve(&lb, &kb, file, "0:0").unwrap_err().to_string();
        assert!(err.contains("incompatible"), "{err}");

        // A kernel whose field is a bitfield.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let p = b.ptr(int);
        b.struct_bitfields("file", 8, &[("f_inode", p, 3, 5)]);
        let kb = Btf::parse(&b.build()).unwrap();
        let err = resolve(&lb, &kb, file, "0:0").unwrap_err().to_string();
        assert!(err.contains("bitfield"), "{err}");
    }

    #[test]
    fn bad_access_strings() {
        let (raw, file, inode, _) = local();
        let lb = Btf::parse(&raw).unwrap();
        assert!(local_field(&lb, file, "0").is_err(), "no field");
        assert!(local_field(&lb, file, "1:0").is_err(), "array of structs");
        assert!(local_field(&lb, file, "0:5").is_err(), "no member 5");
        assert!(
            local_field(&lb, file, "0:0:1").is_err(),
            "a pointer has no members"
        );
        assert!(local_field(&lb, inode, "").is_err());
        assert!(local_field(&lb, inode, "0:x").is_err());
        assert!(local_field(&lb, inode, "0::1").is_err());
        assert!(local_field(&lb, inode, "0:99999999999").is_err());
        assert!(local_field(&lb, 1, "0:0").is_err(), "an int has no fields");
        assert!(local_field(&lb, 999, "0:0").is_err(), "no such type");
        assert_eq!(parse_access("0:1:2").unwrap(), vec![0, 1, 2]);
        let long = vec!["0"; 65].join(":");
        assert!(parse_access(&long).is_err());
    }

    #[test]
    fn local_bitfields_are_refused() {
        let mut b = BtfBuilder::new();
        let u32_ = b.int("unsigned int", 4, false);
        let s = b.struct_bitfields("s", 4, &[("a", u32_, 0, 3), ("b", u32_, 3, 29)]);
        let lb = Btf::parse(&b.build()).unwrap();
        let err = local_field(&lb, s, "0:1").unwrap_err().to_string();
        assert!(err.contains("s::b") && err.contains("bitfield"), "{err}");
    }

    #[test]
    fn essential_names() {
        assert_eq!(essential(b"task_struct___v2"), b"task_struct");
        assert_eq!(essential(b"task_struct"), b"task_struct");
        assert_eq!(essential(b"a__b"), b"a__b");
    }

    #[test]
    fn patching() {
        // r1 = *(u64 *)(r2 + 8)
        let mut ldx = Insn::from_bytes([0x79, 0x21, 8, 0, 0, 0, 0, 0]);
        check_site(&ldx, 8).unwrap();
        assert!(check_site(&ldx, 0).is_err());
        patch(&mut ldx, 160).unwrap();
        assert_eq!(ldx.off, 160);
        assert!(patch(&mut ldx, 40000).is_err(), "beyond i16");
        // r1 += 8 (ALU64 | ADD | K)
        let mut add = Insn::from_bytes([0x07, 0x01, 0, 0, 8, 0, 0, 0]);
        check_site(&add, 8).unwrap();
        patch(&mut add, 40000).unwrap();
        assert_eq!(add.imm, 40000);
        // r1 += r2 (BPF_X): no immediate.
        let addx = Insn::from_bytes([0x0f, 0x21, 0, 0, 0, 0, 0, 0]);
        assert!(check_site(&addx, 0).is_err());
        // A call.
        let call = Insn::from_bytes([0x85, 0, 0, 0, 1, 0, 0, 0]);
        assert!(check_site(&call, 1).is_err());
    }

    #[test]
    fn btf_ext_records() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        b.struct_("s", 4, &[("a", int, 0)]);
        let sec = b.str("lsm/x");
        let acc = b.str("0:0");
        let btf = Btf::parse(&b.build()).unwrap();
        let ext = btf_ext(&[(sec, vec![(8, 2, acc, 0), (16, 2, acc, 0)])]);
        let relos = parse_btf_ext(&ext, &btf).unwrap();
        assert_eq!(relos.len(), 2);
        assert_eq!(relos[1].section, "lsm/x");
        assert_eq!(relos[1].insn_off, 16);
        assert_eq!(relos[1].type_id, 2);
        assert_eq!(relos[1].access, "0:0");

        let other = btf_ext(&[(sec, vec![(8, 2, acc, 2)])]);
        let err = parse_btf_ext(&other, &btf).unwrap_err().to_string();
        assert!(err.contains("field existence"), "{err}");

        for len in 0..ext.len() {
            let _ = parse_btf_ext(&ext[..len], &btf);
        }
        for i in 0..ext.len() {
            let mut bad = ext.clone();
            bad[i] = 0xff;
            let _ = parse_btf_ext(&bad, &btf);
        }
        // A record count far beyond the data.
        let mut huge = ext.clone();
        let count_at = 32 + 8 + 4 + 4;
        huge[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_btf_ext(&huge, &btf).is_err());
    }
}
