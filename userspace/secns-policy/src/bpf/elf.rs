//! A minimal reader of relocatable ELF64 little-endian objects for EM_BPF:
//! section headers, the symbol table and `SHT_REL` relocations.
//!
//! Hand-written rather than the `object` crate: the loader needs these three
//! tables of one kind of file, about two hundred lines, and every offset and
//! count read here is checked against the file before it is used, so a
//! malformed object is an error, never a panic or an allocation larger than
//! the file.

use super::btf::{rd16, rd32, rd64};
use super::{Error, Result};

const EHDR_LEN: usize = 64;
const SHDR_LEN: usize = 64;
const SYM_LEN: usize = 24;
const REL_LEN: usize = 16;

const ET_REL: u16 = 1;
const EM_BPF: u16 = 247;

pub(crate) const SHT_NOBITS: u32 = 8;
pub(crate) const SHT_SYMTAB: u32 = 2;
pub(crate) const SHT_REL: u32 = 9;
pub(crate) const SHT_RELA: u32 = 4;
pub(crate) const SHF_EXECINSTR: u64 = 4;

pub(crate) const STT_FUNC: u8 = 2;
/// `SHN_UNDEF`: an undefined (extern) symbol.
pub(crate) const SHN_UNDEF: u16 = 0;

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::new(format!("malformed BPF object: {what}"))
}

/// A section header.
#[derive(Clone, Debug)]
pub(crate) struct Section {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) kind: u32,
    pub(crate) flags: u64,
    offset: u64,
    pub(crate) size: u64,
    pub(crate) link: u32,
    pub(crate) info: u32,
}

/// A symbol of the symbol table.
#[derive(Clone, Debug)]
pub(crate) struct Symbol {
    pub(crate) name: String,
    pub(crate) kind: u8,
    pub(crate) shndx: u16,
    pub(crate) value: u64,
}

/// An `Elf64_Rel`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rel {
    pub(crate) offset: u64,
    pub(crate) symbol: usize,
    pub(crate) kind: u32,
}

/// A parsed object: its section headers, over the file's bytes.
pub(crate) struct Elf<'a> {
    data: &'a [u8],
    pub(crate) sections: Vec<Section>,
}

impl std::fmt::Debug for Elf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elf")
            .field("len", &self.data.len())
            .field("sections", &self.sections)
            .finish()
    }
}

/// The NUL-terminated string at `off` of `table`.
fn string_at(table: &[u8], off: usize, what: &str) -> Result<String> {
    let tail = table
        .get(off..)
        .ok_or_else(|| malformed(format!("the name of {what} is out of bounds")))?;
    let len = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed(format!("the name of {what} is not terminated")))?;
    let bytes = tail.get(..len).unwrap_or_default();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| malformed(format!("the name of {what} is not UTF-8")))
}

impl<'a> Elf<'a> {
    /// Parses the ELF header and the section headers.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Elf<'a>> {
        if data.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(Error::new("not a BPF object: no ELF magic"));
        }
        if data.get(4) != Some(&2) {
            return Err(Error::new("not a BPF object: not 64-bit ELF"));
        }
        if data.get(5) != Some(&1) {
            return Err(Error::new(
                "big-endian BPF objects are not supported (build with -target bpfel or bpf on a little-endian host)",
            ));
        }
        if cfg!(target_endian = "big") {
            return Err(Error::new("this loader supports little-endian hosts only"));
        }
        let header = data
            .get(..EHDR_LEN)
            .ok_or_else(|| malformed("truncated ELF header"))?;
        let h16 = |at| rd16(header, at).ok_or_else(|| malformed("truncated ELF header"));
        if h16(16)? != ET_REL {
            return Err(Error::new(
                "not a BPF object file: not a relocatable ELF file",
            ));
        }
        let machine = h16(18)?;
        if machine != EM_BPF {
            return Err(Error::new(format!(
                "not a BPF object: ELF machine {machine}, not EM_BPF"
            )));
        }
        let shoff = rd64(header, 40).ok_or_else(|| malformed("truncated ELF header"))?;
        let shentsize = h16(58)? as usize;
        let shnum = h16(60)? as usize;
        let shstrndx = h16(62)? as usize;
        if shnum == 0 {
            return Err(malformed(
                "no section headers (or more than this loader supports)",
            ));
        }
        if shentsize != SHDR_LEN {
            return Err(malformed(format!("section header size {shentsize}")));
        }
        let table = usize::try_from(shoff)
            .ok()
            .and_then(|start| data.get(start..start.checked_add(shnum * SHDR_LEN)?))
            .ok_or_else(|| malformed("the section headers are out of bounds"))?;

        let mut raw = Vec::with_capacity(shnum);
        for (index, h) in table.chunks_exact(SHDR_LEN).enumerate() {
            let bad = || malformed(format!("section header {index} is truncated"));
            raw.push((
                index,
                rd32(h, 0).ok_or_else(bad)?,
                Section {
                    index,
                    name: String::new(),
                    kind: rd32(h, 4).ok_or_else(bad)?,
                    flags: rd64(h, 8).ok_or_else(bad)?,
                    offset: rd64(h, 24).ok_or_else(bad)?,
                    size: rd64(h, 32).ok_or_else(bad)?,
                    link: rd32(h, 40).ok_or_else(bad)?,
                    info: rd32(h, 44).ok_or_else(bad)?,
                },
            ));
        }
        let mut elf = Elf {
            data,
            sections: Vec::with_capacity(shnum),
        };
        let shstrtab = raw
            .get(shstrndx)
            .map(|(_, _, s)| s.clone())
            .ok_or_else(|| malformed("no section name table"))?;
        let names = elf.data(&shstrtab)?;
        for (index, name_off, mut section) in raw {
            section.name = string_at(names, name_off as usize, &format!("section {index}"))?;
            elf.sections.push(section);
        }
        Ok(elf)
    }

    /// The contents of `section` (empty for `SHT_NOBITS`).
    pub(crate) fn data(&self, section: &Section) -> Result<&'a [u8]> {
        if section.kind == SHT_NOBITS {
            return Ok(&[]);
        }
        let data = self.data;
        usize::try_from(section.offset)
            .ok()
            .zip(usize::try_from(section.size).ok())
            .and_then(|(start, size)| data.get(start..start.checked_add(size)?))
            .ok_or_else(|| {
                malformed(format!(
                    "the contents of section {} are out of bounds",
                    section.index
                ))
            })
    }

    /// The section called `name`.
    pub(crate) fn section_named(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Section `index`.
    pub(crate) fn section(&self, index: usize) -> Result<&Section> {
        self.sections
            .get(index)
            .ok_or_else(|| malformed(format!("section index {index} is out of range")))
    }

    /// The symbol table (the only `SHT_SYMTAB`), symbol 0 included.
    pub(crate) fn symbols(&self) -> Result<Vec<Symbol>> {
        let mut tables = self.sections.iter().filter(|s| s.kind == SHT_SYMTAB);
        let symtab = tables
            .next()
            .ok_or_else(|| Error::new("the BPF object has no symbol table"))?;
        if tables.next().is_some() {
            return Err(malformed("more than one symbol table"));
        }
        let strtab = self.data(self.section(symtab.link as usize)?)?;
        let data = self.data(symtab)?;
        if data.len() % SYM_LEN != 0 {
            return Err(malformed("the symbol table size is not a multiple of 24"));
        }
        let mut symbols = Vec::with_capacity(data.len() / SYM_LEN);
        for (i, s) in data.chunks_exact(SYM_LEN).enumerate() {
            let bad = || malformed(format!("symbol {i} is truncated"));
            let name_off = rd32(s, 0).ok_or_else(bad)?;
            let shndx = rd16(s, 6).ok_or_else(bad)?;
            symbols.push(Symbol {
                name: string_at(strtab, name_off as usize, &format!("symbol {i}"))?,
                kind: s.get(4).copied().unwrap_or(0) & 0xf,
                shndx,
                value: rd64(s, 8).ok_or_else(bad)?,
            });
        }
        Ok(symbols)
    }

    /// The relocations of `SHT_REL` section `rel`.
    pub(crate) fn rels(&self, rel: &Section) -> Result<Vec<Rel>> {
        let data = self.data(rel)?;
        if data.len() % REL_LEN != 0 {
            return Err(malformed(format!(
                "relocation section {} has a size that is not a multiple of 16",
                rel.name
            )));
        }
        data.chunks_exact(REL_LEN)
            .map(|r| {
                let bad = || malformed(format!("a relocation of {} is truncated", rel.name));
                let info = rd64(r, 8).ok_or_else(bad)?;
                Ok(Rel {
                    offset: rd64(r, 0).ok_or_else(bad)?,
                    symbol: (info >> 32) as usize,
                    kind: (info & 0xffff_ffff) as u32,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::testutil::{ElfBuilder, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, STT_FUNC};

    fn sample() -> Vec<u8> {
        let mut b = ElfBuilder::new();
        let prog = b.section(
            "lsm/x",
            SHT_PROGBITS,
            SHF_ALLOC | SHF_EXECINSTR,
            vec![0x95, 0, 0, 0, 0, 0, 0, 0],
        );
        let f = b.symbol("f", STT_FUNC, prog, 0, 8);
        b.rel(prog, vec![(0, f, 10)]);
        b.build()
    }

    #[test]
    fn reads_sections_symbols_and_relocations() {
        let raw = sample();
        let elf = Elf::parse(&raw).unwrap();
        let prog = elf.section_named("lsm/x").unwrap();
        assert_eq!(prog.index, 1);
        assert_eq!(elf.data(prog).unwrap(), &[0x95, 0, 0, 0, 0, 0, 0, 0]);
        let syms = elf.symbols().unwrap();
        assert_eq!(syms.len(), 2);
        assert_eq!(syms[1].name, "f");
        assert_eq!(syms[1].kind, STT_FUNC);
        assert_eq!(syms[1].shndx, 1);
        let rel = elf.section_named(".rellsm/x").unwrap();
        assert_eq!(rel.info, 1);
        let rels = elf.rels(rel).unwrap();
        assert_eq!(rels.len(), 1);
        assert_eq!((rels[0].offset, rels[0].symbol, rels[0].kind), (0, 1, 10));
    }

    #[test]
    fn refuses_other_files() {
        assert!(Elf::parse(b"").is_err());
        assert!(Elf::parse(b"\x7fELF").is_err());
        let mut raw = sample();
        raw[18] = 62; // EM_X86_64
        assert!(Elf::parse(&raw).unwrap_err().to_string().contains("EM_BPF"));
        let mut raw = sample();
        raw[5] = 2;
        assert!(Elf::parse(&raw)
            .unwrap_err()
            .to_string()
            .contains("big-endian"));
        let mut raw = sample();
        raw[16] = 2; // ET_EXEC
        assert!(Elf::parse(&raw).is_err());
    }

    #[test]
    fn truncated_and_corrupted_objects_never_panic() {
        let raw = sample();
        for len in 0..raw.len() {
            if let Ok(elf) = Elf::parse(&raw[..len]) {
                let _ = elf.symbols();
                for s in &elf.sections {
                    let _ = elf.data(s);
                    let _ = elf.rels(s);
                }
            }
        }
        for i in 0..raw.len() {
            for v in [0u8, 0x41, 0xff] {
                let mut bad = raw.clone();
                bad[i] = v;
                if let Ok(elf) = Elf::parse(&bad) {
                    let _ = elf.symbols();
                    for s in &elf.sections {
                        let _ = elf.data(s);
                        let _ = elf.rels(s);
                    }
                }
            }
        }
    }
}
