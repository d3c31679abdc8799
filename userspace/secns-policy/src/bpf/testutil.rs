//! Builders of synthetic BTF blobs, `.BTF.ext` sections and ELF objects for
//! the unit tests.

use super::btf::{
    KIND_ARRAY, KIND_CONST, KIND_DATASEC, KIND_FUNC, KIND_FUNC_PROTO, KIND_FWD, KIND_INT, KIND_PTR,
    KIND_STRUCT, KIND_TYPEDEF, KIND_UNION, KIND_VAR, KIND_VOLATILE,
};

/// Builds a raw BTF blob type by type; each method returns the new type's id.
pub(crate) struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    count: u32,
}

fn info(kind: u32, vlen: usize, kflag: bool) -> u32 {
    (kind << 24) | vlen as u32 | if kflag { 1 << 31 } else { 0 }
}

impl BtfBuilder {
    pub(crate) fn new() -> BtfBuilder {
        BtfBuilder {
            types: Vec::new(),
            strings: vec![0],
            count: 0,
        }
    }

    /// The offset of `s` in the string section (added if new).
    pub(crate) fn str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let mut needle = s.as_bytes().to_vec();
        needle.push(0);
        if let Some(pos) = self
            .strings
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
        {
            if pos > 0 && self.strings[pos - 1] == 0 {
                return pos as u32;
            }
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(&needle);
        off
    }

    /// Appends a type from its raw words and data.
    pub(crate) fn raw_type(
        &mut self,
        name_off: u32,
        info: u32,
        size_or_type: u32,
        extra: &[u8],
    ) -> u32 {
        for w in [name_off, info, size_or_type] {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.types.extend_from_slice(extra);
        self.count += 1;
        self.count
    }

    fn named(&mut self, name: &str, info: u32, size_or_type: u32, extra: &[u8]) -> u32 {
        let off = self.str(name);
        self.raw_type(off, info, size_or_type, extra)
    }

    pub(crate) fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let enc = (u32::from(signed) << 24) | (size * 8);
        self.named(name, info(KIND_INT, 0, false), size, &enc.to_le_bytes())
    }

    pub(crate) fn fwd_struct(&mut self, name: &str) -> u32 {
        self.named(name, info(KIND_FWD, 0, false), 0, &[])
    }

    pub(crate) fn ptr(&mut self, to: u32) -> u32 {
        self.raw_type(0, info(KIND_PTR, 0, false), to, &[])
    }

    pub(crate) fn const_(&mut self, of: u32) -> u32 {
        self.raw_type(0, info(KIND_CONST, 0, false), of, &[])
    }

    pub(crate) fn volatile(&mut self, of: u32) -> u32 {
        self.raw_type(0, info(KIND_VOLATILE, 0, false), of, &[])
    }

    pub(crate) fn typedef(&mut self, name: &str, of: u32) -> u32 {
        self.named(name, info(KIND_TYPEDEF, 0, false), of, &[])
    }

    pub(crate) fn array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        let mut extra = Vec::new();
        for w in [elem, index, nelems] {
            extra.extend_from_slice(&w.to_le_bytes());
        }
        self.raw_type(0, info(KIND_ARRAY, 0, false), 0, &extra)
    }

    fn composite(
        &mut self,
        kind: u32,
        name: &str,
        size: u32,
        members: &[(&str, u32, u32, u32)],
        kflag: bool,
    ) -> u32 {
        let mut extra = Vec::new();
        for &(mname, ty, bit_off, bitfield) in members {
            let off = self.str(mname);
            extra.extend_from_slice(&off.to_le_bytes());
            extra.extend_from_slice(&ty.to_le_bytes());
            extra.extend_from_slice(&((bitfield << 24) | bit_off).to_le_bytes());
        }
        self.named(name, info(kind, members.len(), kflag), size, &extra)
    }

    /// A struct; members are (name, type, bit offset).
    pub(crate) fn struct_(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let members: Vec<_> = members.iter().map(|&(n, t, o)| (n, t, o, 0)).collect();
        self.composite(KIND_STRUCT, name, size, &members, false)
    }

    /// A union; members are (name, type, bit offset).
    pub(crate) fn union_(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let members: Vec<_> = members.iter().map(|&(n, t, o)| (n, t, o, 0)).collect();
        self.composite(KIND_UNION, name, size, &members, false)
    }

    /// A struct with the kind flag; members are (name, type, bit offset,
    /// bitfield size).
    pub(crate) fn struct_bitfields(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, u32, u32, u32)],
    ) -> u32 {
        self.composite(KIND_STRUCT, name, size, members, true)
    }

    pub(crate) fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for &(pname, ty) in params {
            let off = self.str(pname);
            extra.extend_from_slice(&off.to_le_bytes());
            extra.extend_from_slice(&ty.to_le_bytes());
        }
        self.raw_type(0, info(KIND_FUNC_PROTO, params.len(), false), ret, &extra)
    }

    pub(crate) fn func(&mut self, name: &str, proto: u32) -> u32 {
        self.named(name, info(KIND_FUNC, 0, false) | 1, proto, &[])
    }

    pub(crate) fn var(&mut self, name: &str, ty: u32) -> u32 {
        self.named(name, info(KIND_VAR, 0, false), ty, &1u32.to_le_bytes())
    }

    /// A DATASEC; vars are (var type id, offset, size).
    pub(crate) fn datasec(&mut self, name: &str, size: u32, vars: &[(u32, u32, u32)]) -> u32 {
        let mut extra = Vec::new();
        for &(v, off, sz) in vars {
            for w in [v, off, sz] {
                extra.extend_from_slice(&w.to_le_bytes());
            }
        }
        self.named(name, info(KIND_DATASEC, vars.len(), false), size, &extra)
    }

    /// `__uint(name, value)` of a BTF-defined map: `int (*name)[value]`.
    pub(crate) fn map_uint(&mut self, int: u32, value: u32) -> u32 {
        let arr = self.array(int, int, value);
        self.ptr(arr)
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        self.build_with_layout(&[])
    }

    /// The blob, with a layout section (and the longer header) if `layout`
    /// is not empty.
    pub(crate) fn build_with_layout(&self, layout: &[u8]) -> Vec<u8> {
        let hdr_len: u32 = if layout.is_empty() { 24 } else { 32 };
        let type_len = self.types.len() as u32;
        let str_len = self.strings.len() as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.push(1);
        out.push(0);
        for w in [hdr_len, 0, type_len, type_len, str_len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        if !layout.is_empty() {
            let layout_off = (type_len + str_len + 3) & !3;
            out.extend_from_slice(&layout_off.to_le_bytes());
            out.extend_from_slice(&(layout.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        if !layout.is_empty() {
            while (out.len() - hdr_len as usize) % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(layout);
        }
        out
    }
}

/// One CO-RE relocation for [`btf_ext`]: (instruction byte offset, local
/// type id, access string offset, kind).
pub(crate) type CoreRecord = (u32, u32, u32, u32);

/// A `.BTF.ext` section with no func/line info and these CO-RE relocations,
/// grouped by section name offset (in the `.BTF` strings).
pub(crate) fn btf_ext(sections: &[(u32, Vec<CoreRecord>)]) -> Vec<u8> {
    let mut relo = Vec::new();
    relo.extend_from_slice(&16u32.to_le_bytes());
    for (name_off, records) in sections {
        relo.extend_from_slice(&name_off.to_le_bytes());
        relo.extend_from_slice(&(records.len() as u32).to_le_bytes());
        for &(insn, ty, access, kind) in records {
            for w in [insn, ty, access, kind] {
                relo.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
    // func_info and line_info: a record size each, no sections.
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.push(1);
    out.push(0);
    let relo_len = relo.len() as u32;
    for w in [32u32, 0, 4, 4, 4, 8, relo_len] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&relo);
    out
}

pub(crate) const SHT_PROGBITS: u32 = 1;
pub(crate) const SHT_SYMTAB: u32 = 2;
pub(crate) const SHT_STRTAB: u32 = 3;
pub(crate) const SHT_REL: u32 = 9;
pub(crate) const SHF_WRITE: u64 = 1;
pub(crate) const SHF_ALLOC: u64 = 2;
pub(crate) const SHF_EXECINSTR: u64 = 4;

/// A symbol for [`ElfBuilder`].
pub(crate) struct Sym {
    pub(crate) name: String,
    /// `st_info`: binding << 4 | type.
    pub(crate) info: u8,
    pub(crate) shndx: u16,
    pub(crate) value: u64,
    pub(crate) size: u64,
}

struct Sec {
    name: String,
    kind: u32,
    flags: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
    entsize: u64,
}

/// A relocation for [`ElfBuilder::rel`]: (byte offset, symbol index, type).
pub(crate) type ElfRel = (u64, usize, u32);

/// Builds a relocatable ELF64 little-endian object for EM_BPF.
pub(crate) struct ElfBuilder {
    sections: Vec<Sec>,
    symbols: Vec<Sym>,
    rels: Vec<(usize, Vec<ElfRel>)>,
}

pub(crate) const STT_OBJECT: u8 = 1;
pub(crate) const STT_FUNC: u8 = 2;
pub(crate) const STB_GLOBAL: u8 = 1;

impl ElfBuilder {
    pub(crate) fn new() -> ElfBuilder {
        ElfBuilder {
            sections: Vec::new(),
            symbols: Vec::new(),
            rels: Vec::new(),
        }
    }

    /// Adds a section; returns its index (sections count from 1: 0 is the
    /// null section).
    pub(crate) fn section(&mut self, name: &str, kind: u32, flags: u64, data: Vec<u8>) -> usize {
        self.sections.push(Sec {
            name: name.into(),
            kind,
            flags,
            data,
            link: 0,
            info: 0,
            entsize: 0,
        });
        self.sections.len()
    }

    /// Adds a symbol; returns its index (from 1: 0 is the null symbol).
    pub(crate) fn symbol(
        &mut self,
        name: &str,
        kind: u8,
        shndx: usize,
        value: u64,
        size: u64,
    ) -> usize {
        self.symbols.push(Sym {
            name: name.into(),
            info: (STB_GLOBAL << 4) | kind,
            shndx: shndx as u16,
            value,
            size,
        });
        self.symbols.len()
    }

    /// Relocations (offset, symbol index, type) for section `target`.
    pub(crate) fn rel(&mut self, target: usize, rels: Vec<ElfRel>) {
        self.rels.push((target, rels));
    }

    pub(crate) fn build(mut self) -> Vec<u8> {
        // The symbol string table and the symbol table.
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for s in &self.symbols {
            let off = strtab.len() as u32;
            strtab.extend_from_slice(s.name.as_bytes());
            strtab.push(0);
            symtab.extend_from_slice(&off.to_le_bytes());
            symtab.push(s.info);
            symtab.push(0);
            symtab.extend_from_slice(&s.shndx.to_le_bytes());
            symtab.extend_from_slice(&s.value.to_le_bytes());
            symtab.extend_from_slice(&s.size.to_le_bytes());
        }
        let strtab_idx = self.section(".strtab", SHT_STRTAB, 0, strtab);
        let symtab_idx = self.section(".symtab", SHT_SYMTAB, 0, symtab);
        if let Some(s) = self.sections.get_mut(symtab_idx - 1) {
            s.link = strtab_idx as u32;
            s.entsize = 24;
        }
        for (target, rels) in std::mem::take(&mut self.rels) {
            let mut data = Vec::new();
            for (off, sym, kind) in rels {
                data.extend_from_slice(&off.to_le_bytes());
                data.extend_from_slice(&(((sym as u64) << 32) | u64::from(kind)).to_le_bytes());
            }
            let name = format!(".rel{}", self.sections[target - 1].name);
            let idx = self.section(&name, SHT_REL, 0, data);
            let s = &mut self.sections[idx - 1];
            s.link = symtab_idx as u32;
            s.info = target as u32;
            s.entsize = 16;
        }
        let mut shstrtab = vec![0u8];
        let mut name_offs = Vec::new();
        for s in &self.sections {
            name_offs.push(shstrtab.len() as u32);
            shstrtab.extend_from_slice(s.name.as_bytes());
            shstrtab.push(0);
        }
        let shstr_name = shstrtab.len() as u32;
        shstrtab.extend_from_slice(b".shstrtab\0");

        let mut out = vec![0u8; 64];
        let mut offsets = Vec::new();
        for s in &self.sections {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            offsets.push(out.len() as u64);
            out.extend_from_slice(&s.data);
        }
        let shstr_off = out.len() as u64;
        out.extend_from_slice(&shstrtab);
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let shoff = out.len() as u64;
        let shnum = self.sections.len() + 2;
        // The null section header.
        out.extend_from_slice(&[0u8; 64]);
        let header = |out: &mut Vec<u8>,
                      name: u32,
                      kind: u32,
                      flags: u64,
                      off: u64,
                      size: u64,
                      link: u32,
                      info: u32,
                      entsize: u64| {
            out.extend_from_slice(&name.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&info.to_le_bytes());
            out.extend_from_slice(&8u64.to_le_bytes());
            out.extend_from_slice(&entsize.to_le_bytes());
        };
        for (i, s) in self.sections.iter().enumerate() {
            header(
                &mut out,
                name_offs[i],
                s.kind,
                s.flags,
                offsets[i],
                s.data.len() as u64,
                s.link,
                s.info,
                s.entsize,
            );
        }
        header(
            &mut out,
            shstr_name,
            SHT_STRTAB,
            0,
            shstr_off,
            shstrtab.len() as u64,
            0,
            0,
            0,
        );

        // The ELF header.
        out[0..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // ELFCLASS64
        out[5] = 1; // ELFDATA2LSB
        out[6] = 1; // EV_CURRENT
        out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
        out[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[40..48].copy_from_slice(&shoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        out[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        out[60..62].copy_from_slice(&(shnum as u16).to_le_bytes());
        out[62..64].copy_from_slice(&((shnum - 1) as u16).to_le_bytes());
        out
    }
}

/// Encodes one instruction.
pub(crate) fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | (dst & 0xf);
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}
