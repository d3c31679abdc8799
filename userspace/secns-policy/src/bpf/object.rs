//! The BPF object: its programs, map definitions and license, parsed and
//! checked once ([`Object::parse`]); each program relocated against the
//! running kernel and loaded on demand ([`Object::load_lsm`],
//! [`Object::load_fentry`]).

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::btf::{kind_name, Btf, KIND_ARRAY, KIND_DATASEC, KIND_PTR, KIND_STRUCT, KIND_VAR};
use super::core_relo::{self, LocalField};
use super::elf::{Elf, Section, Symbol, SHF_EXECINSTR, SHN_UNDEF, SHT_REL, SHT_RELA, STT_FUNC};
use super::map::Map;
use super::sys::{self, Insn, ProgLoad};
use super::{Error, Result};

/// `R_BPF_64_64`: a 64-bit immediate load of an address (maps).
const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: a call (kfuncs).
const R_BPF_64_32: u32 = 10;

/// `BPF_LD | BPF_IMM | BPF_DW`: `ld_imm64`, two instructions.
const OP_LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
const OP_CALL: u8 = 0x85;
const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_PSEUDO_CALL: u8 = 1;
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// The verifier log buffer: first size, and the largest it grows to on
/// `ENOSPC`.
const LOG_SIZE_FIRST: usize = 1 << 20;
const LOG_SIZE_MAX: usize = 16 << 20;

/// A map as the object defines it (BTF-defined, in section `.maps`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    /// The map's name: its variable's.
    pub name: String,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// The size of a key in bytes.
    pub key_size: u32,
    /// The size of a value in bytes.
    pub value_size: u32,
    /// The most elements the map holds.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub flags: u32,
}

/// What an instruction needs from the loader.
#[derive(Clone, Debug)]
enum Reloc {
    /// An `ld_imm64` of the map called so.
    Map(String),
    /// A call of the kfunc called so.
    Kfunc(String),
    /// A field offset.
    Core(LocalField),
}

/// What a program is, from the prefix of its section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// `lsm/<hook>`: `BPF_PROG_TYPE_LSM` with `BPF_LSM_MAC`, against
    /// `bpf_lsm_<hook>`.
    Lsm,
    /// `fentry/<function>`: `BPF_PROG_TYPE_TRACING` with
    /// `BPF_TRACE_FENTRY`, against `<function>`. Loaded only, never
    /// attached: the tests check what the verifier lets tracing programs
    /// do.
    Fentry,
}

impl Kind {
    /// The section prefix.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Lsm => "lsm/",
            Kind::Fentry => "fentry/",
        }
    }

    /// What the section names after the prefix.
    fn target(self) -> &'static str {
        match self {
            Kind::Lsm => "LSM hook",
            Kind::Fentry => "function",
        }
    }
}

/// One `lsm/<hook>` or `fentry/<function>` program.
#[derive(Clone, Debug)]
struct Program {
    kind: Kind,
    /// The hook or the function.
    target: String,
    section: String,
    /// The ELF section index.
    index: usize,
    /// The function's name (`prog_name`).
    name: String,
    insns: Vec<Insn>,
    /// By instruction index.
    relocs: Vec<(usize, Reloc)>,
}

/// A parsed BPF object: `lsm/<hook>` (and `fentry/<function>`) programs,
/// BTF-defined maps and the license. See the [module documentation](super) for what it supports.
pub struct Object {
    maps: Vec<MapDef>,
    programs: Vec<Program>,
    license: CString,
    /// The object's `.BTF`, for the local side of CO-RE relocations.
    btf: Option<Btf>,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("maps", &self.maps)
            .field("programs", &self.programs().collect::<Vec<_>>())
            .field("license", &self.license)
            .finish()
    }
}

/// A program ready to load: relocated instructions and the BTF id of the
/// function it attaches to (`bpf_lsm_<hook>`, or the `fentry` target).
#[derive(Debug)]
pub(crate) struct Relocated<'a> {
    name: &'a str,
    section: &'a str,
    pub(crate) insns: Vec<Insn>,
    pub(crate) attach_btf_id: u32,
}

fn malformed(what: impl fmt::Display) -> Error {
    Error::new(format!("malformed BPF object: {what}"))
}

impl Object {
    /// Parses an ELF BPF object and checks everything that does not depend
    /// on the running kernel: the programs and their relocations, the map
    /// definitions, the CO-RE relocations against the object's own BTF.
    pub fn parse(elf: &[u8]) -> Result<Object> {
        let elf = Elf::parse(elf)?;
        let symbols = elf.symbols()?;
        let license = license(&elf)?;
        if elf.section_named("maps").is_some() {
            return Err(Error::new(
                "legacy map definitions (section \"maps\") are not supported: define maps in \".maps\" with BTF",
            ));
        }
        let btf = match elf.section_named(".BTF") {
            Some(s) => Some(Btf::parse(elf.data(s)?).map_err(|e| e.context("the object's .BTF"))?),
            None => None,
        };
        let maps_section = elf.section_named(".maps");
        let maps = match (&btf, maps_section) {
            (Some(btf), _) => decode_maps(btf)?,
            (None, Some(_)) => {
                return Err(Error::new(
                    "the object has maps (section .maps) but no BTF (.BTF) to describe them",
                ))
            }
            (None, None) => Vec::new(),
        };

        let mut programs = Vec::new();
        for s in &elf.sections {
            if s.flags & SHF_EXECINSTR == 0 || s.size == 0 {
                continue;
            }
            let kind = [Kind::Lsm, Kind::Fentry]
                .into_iter()
                .find_map(|k| Some((k, s.name.strip_prefix(k.prefix())?)));
            match kind {
                Some((kind, target)) => {
                    programs.push(parse_program(&elf, s, kind, target, &symbols)?)
                }
                None if s.name == ".text" => {
                    return Err(Error::new(
                        "section .text has code: BPF-to-BPF calls are not supported (make the functions static __always_inline)",
                    ))
                }
                None => {
                    return Err(Error::new(format!(
                        "section {}: only LSM programs (sections lsm/<hook>) and fentry programs (fentry/<function>) are supported",
                        s.name
                    )))
                }
            }
        }
        let mut targets = HashSet::new();
        for p in &programs {
            if !targets.insert((p.kind, p.target.as_str())) {
                return Err(Error::new(format!(
                    "more than one program for {} {}",
                    p.kind.target(),
                    p.target
                )));
            }
        }

        let map_names: HashSet<&str> = maps.iter().map(|m| m.name.as_str()).collect();
        for rel in elf
            .sections
            .iter()
            .filter(|s| s.kind == SHT_REL || s.kind == SHT_RELA)
        {
            let Some(prog) = programs.iter_mut().find(|p| p.index == rel.info as usize) else {
                // Relocations of debug info and BTF: not needed.
                continue;
            };
            if rel.kind == SHT_RELA {
                return Err(Error::new(format!(
                    "section {}: RELA relocations are not supported",
                    rel.name
                )));
            }
            for r in elf.rels(rel)? {
                let index = insn_index(prog, r.offset)?;
                let symbol = symbols.get(r.symbol).ok_or_else(|| {
                    malformed(format!("a relocation of {} names no symbol", prog.section))
                })?;
                let reloc =
                    program_reloc(&elf, prog, index, r.kind, symbol, maps_section, &map_names)?;
                prog.relocs.push((index, reloc));
            }
        }

        if let Some(ext) = elf.section_named(".BTF.ext") {
            let btf = btf
                .as_ref()
                .ok_or_else(|| Error::new("the object has a .BTF.ext section but no .BTF"))?;
            let relos = core_relo::parse_btf_ext(elf.data(ext)?, btf)?;
            for relo in relos {
                let prog = programs
                    .iter_mut()
                    .find(|p| p.section == relo.section)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "a CO-RE relocation applies to section {}, which is not a program",
                            relo.section
                        ))
                    })?;
                let index = insn_index(prog, u64::from(relo.insn_off))?;
                let context = || {
                    format!(
                        "instruction {index} of section {} (CO-RE access {:?})",
                        prog.section, relo.access
                    )
                };
                let field = core_relo::local_field(btf, relo.type_id, &relo.access)
                    .map_err(|e| e.context(context()))?;
                let insn = prog.insns.get(index).ok_or_else(|| malformed(context()))?;
                core_relo::check_site(insn, field.offset).map_err(|e| e.context(context()))?;
                prog.relocs.push((index, Reloc::Core(field)));
            }
        }

        for prog in &mut programs {
            prog.relocs.sort_by_key(|(index, _)| *index);
            if let Some(index) = prog.relocs.windows(2).find_map(|w| match w {
                [(a, _), (b, _)] if a == b => Some(*a),
                _ => None,
            }) {
                return Err(malformed(format!(
                    "instruction {index} of section {} has more than one relocation",
                    prog.section
                )));
            }
            check_unrelocated(prog)?;
        }
        Ok(Object {
            maps,
            programs,
            license,
            btf,
        })
    }

    /// The maps the object defines.
    pub fn maps(&self) -> &[MapDef] {
        &self.maps
    }

    /// The LSM hooks the object has programs for (`"file_open"` for section
    /// `lsm/file_open`), in the object's order. `fentry` programs are not
    /// among them.
    pub fn programs(&self) -> impl Iterator<Item = &str> {
        self.programs
            .iter()
            .filter(|p| p.kind == Kind::Lsm)
            .map(|p| p.target.as_str())
    }

    /// The object's license.
    pub fn license(&self) -> &str {
        self.license.to_str().unwrap_or("")
    }

    /// Relocates and loads the program for LSM hook `hook` as
    /// `BPF_PROG_TYPE_LSM` (`BPF_LSM_MAC`, attached to `bpf_lsm_<hook>`):
    /// its maps are the ones of `maps` by name, its kfuncs and CO-RE
    /// relocations are resolved against `kernel`. When the kernel refuses
    /// it, the error has the last lines of the verifier log.
    pub fn load_lsm(
        &self,
        hook: &str,
        maps: &HashMap<String, &Map>,
        kernel: &Btf,
    ) -> Result<OwnedFd> {
        self.load(Kind::Lsm, hook, maps, kernel)
    }

    /// Relocates and loads the program of section `fentry/<function>` as
    /// `BPF_PROG_TYPE_TRACING` (`BPF_TRACE_FENTRY`, on `function`), as
    /// [`Object::load_lsm`] loads an LSM program. It is not attached.
    pub fn load_fentry(
        &self,
        function: &str,
        maps: &HashMap<String, &Map>,
        kernel: &Btf,
    ) -> Result<OwnedFd> {
        self.load(Kind::Fentry, function, maps, kernel)
    }

    /// Relocates and loads the program of `kind` for `target`.
    fn load(
        &self,
        kind: Kind,
        target: &str,
        maps: &HashMap<String, &Map>,
        kernel: &Btf,
    ) -> Result<OwnedFd> {
        let map_fd = |name: &str| maps.get(name).map(|m| m.as_fd().as_raw_fd());
        let prog = self.relocate_program(kind, target, &map_fd, kernel)?;
        let (prog_type, expected_attach_type) = match kind {
            Kind::Lsm => (sys::BPF_PROG_TYPE_LSM, sys::BPF_LSM_MAC),
            Kind::Fentry => (sys::BPF_PROG_TYPE_TRACING, sys::BPF_TRACE_FENTRY),
        };
        let request = ProgLoad {
            prog_type,
            expected_attach_type,
            attach_btf_id: prog.attach_btf_id,
            name: prog.name,
            insns: &prog.insns,
            license: &self.license,
        };
        let context = || {
            format!(
                "loading BPF program {} (section {}) for {} {target}",
                prog.name,
                prog.section,
                kind.target()
            )
        };
        let first = match sys::prog_load(&request, None) {
            Ok(fd) => return Ok(fd),
            Err(e) => e,
        };
        // Again, with the verifier log.
        let mut size = LOG_SIZE_FIRST;
        let log = loop {
            let mut buf = vec![0u8; size];
            match sys::prog_load(&request, Some(&mut buf)) {
                Ok(fd) => return Ok(fd),
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && size < LOG_SIZE_MAX => {
                    size *= 2;
                }
                // At the largest size, the kernel (since 6.4) keeps the end
                // of the log, which is the part wanted.
                Err(_) => break log_text(&buf),
            }
        };
        Err(Error::sys(context(), first).with_log(log))
    }

    /// The program for LSM hook `hook` with its relocations applied: maps
    /// from `map_fd`, kfuncs and CO-RE against `kernel`.
    #[cfg(test)]
    pub(crate) fn relocate<'a>(
        &'a self,
        hook: &str,
        map_fd: &dyn Fn(&str) -> Option<RawFd>,
        kernel: &Btf,
    ) -> Result<Relocated<'a>> {
        self.relocate_program(Kind::Lsm, hook, map_fd, kernel)
    }

    /// The program of `kind` for `target` with its relocations applied:
    /// maps from `map_fd`, kfuncs and CO-RE against `kernel`.
    fn relocate_program<'a>(
        &'a self,
        kind: Kind,
        target: &str,
        map_fd: &dyn Fn(&str) -> Option<RawFd>,
        kernel: &Btf,
    ) -> Result<Relocated<'a>> {
        let prog = self
            .programs
            .iter()
            .find(|p| p.kind == kind && p.target == target)
            .ok_or_else(|| {
                Error::new(format!(
                    "the BPF object has no program for {} {target}",
                    kind.target()
                ))
            })?;
        let mut insns = prog.insns.clone();
        // A kfunc is usually called more than once; a lookup scans the BTF.
        let mut kfunc_ids: HashMap<&str, u32> = HashMap::new();
        for (index, reloc) in &prog.relocs {
            let context = || format!("relocating instruction {index} of section {}", prog.section);
            let insn = insns.get_mut(*index).ok_or_else(|| malformed(context()))?;
            match reloc {
                Reloc::Map(name) => {
                    let fd = map_fd(name).ok_or_else(|| {
                        Error::new(format!(
                            "program {} uses map {name}, which was not given to load it",
                            prog.name
                        ))
                    })?;
                    insn.set_src_reg(BPF_PSEUDO_MAP_FD);
                    insn.imm = fd;
                    // The second half of the ld_imm64 (checked to exist).
                    if let Some(next) = insns.get_mut(index + 1) {
                        next.imm = 0;
                    }
                }
                Reloc::Kfunc(name) => {
                    let id = match kfunc_ids.get(name.as_str()) {
                        Some(&id) => Some(id),
                        None => kernel.func_id(name),
                    }
                    .ok_or_else(|| {
                        let hint = if name.starts_with("bpf_secns_") {
                            ": it needs CONFIG_SECURITY_SECNS and CONFIG_BPF_LSM"
                        } else {
                            ""
                        };
                        Error::new(format!("the kernel has no kfunc {name}{hint}"))
                    })?;
                    kfunc_ids.insert(name, id);
                    insn.set_src_reg(BPF_PSEUDO_KFUNC_CALL);
                    insn.off = 0;
                    insn.imm = i32::try_from(id).map_err(|_| {
                        Error::new(format!("kfunc {name}: BTF id {id} is too large"))
                    })?;
                }
                Reloc::Core(field) => {
                    let local = self
                        .btf
                        .as_ref()
                        .ok_or_else(|| malformed("CO-RE relocations without BTF"))?;
                    let offset = core_relo::kernel_offset(local, field, kernel)?;
                    core_relo::patch(insn, offset).map_err(|e| {
                        e.context(format!(
                            "{} (CO-RE relocation of {})",
                            context(),
                            field.path
                        ))
                    })?;
                }
            }
        }
        let attach_btf_id = match kind {
            Kind::Lsm => {
                let lsm_func = format!("bpf_lsm_{target}");
                kernel.func_id(&lsm_func).ok_or_else(|| {
                    Error::new(format!(
                        "the kernel has no BPF LSM hook {target} (no function {lsm_func} in its BTF): it needs CONFIG_BPF_LSM and a kernel with this hook"
                    ))
                })?
            }
            Kind::Fentry => kernel.func_id(target).ok_or_else(|| {
                Error::new(format!(
                    "the kernel has no function {target} in its BTF (fentry target)"
                ))
            })?,
        };
        Ok(Relocated {
            name: &prog.name,
            section: &prog.section,
            insns,
            attach_btf_id,
        })
    }
}

/// The NUL-terminated string of section `license`.
fn license(elf: &Elf<'_>) -> Result<CString> {
    let section = elf.section_named("license").ok_or_else(|| {
        Error::new(
            "the BPF object has no license (section \"license\"): kfuncs need a GPL-compatible one",
        )
    })?;
    let data = elf.data(section)?;
    let len = data
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed("the license is not NUL-terminated"))?;
    CString::new(data.get(..len).unwrap_or_default())
        .map_err(|_| malformed("the license is not NUL-terminated"))
}

/// Decodes the BTF-defined maps: the variables of DATASEC `.maps`.
fn decode_maps(btf: &Btf) -> Result<Vec<MapDef>> {
    let Some(datasec) = btf.named(".maps").find(|t| t.kind() == KIND_DATASEC) else {
        return Ok(Vec::new());
    };
    let mut maps: Vec<MapDef> = Vec::new();
    for info in datasec.secinfos() {
        let var = btf.ty(info.type_id)?;
        if var.kind() != KIND_VAR {
            return Err(malformed(format!(
                "DATASEC .maps lists type {}, a {}, not a variable",
                var.id,
                kind_name(var.kind())
            )));
        }
        let name = btf.name(&var)?;
        let def =
            decode_map(btf, name, var.target()).map_err(|e| e.context(format!("map {name}")))?;
        if maps.iter().any(|m| m.name == def.name) {
            return Err(Error::new(format!("two maps are called {name}")));
        }
        maps.push(def);
    }
    Ok(maps)
}

/// One map definition: the struct of `__uint()` and `__type()` members.
fn decode_map(btf: &Btf, name: &str, type_id: u32) -> Result<MapDef> {
    if name.is_empty() {
        return Err(malformed("a map has no name"));
    }
    let def = btf.skip_mods(type_id)?;
    if def.kind() != KIND_STRUCT {
        return Err(Error::new(format!(
            "its definition is a {}, not a struct",
            kind_name(def.kind())
        )));
    }
    let mut map_type = None;
    let (mut key_size, mut value_size) = (None, None);
    let (mut key_type, mut value_type) = (None, None);
    let (mut max_entries, mut flags) = (0, 0);
    for m in def.members() {
        let attr = btf.str_at(m.name_off)?;
        let attr_err = |e: Error| e.context(format!("attribute {attr}"));
        match attr {
            "type" => map_type = Some(map_uint(btf, m.type_id).map_err(attr_err)?),
            "max_entries" => max_entries = map_uint(btf, m.type_id).map_err(attr_err)?,
            "map_flags" => flags = map_uint(btf, m.type_id).map_err(attr_err)?,
            "key_size" => key_size = Some(map_uint(btf, m.type_id).map_err(attr_err)?),
            "value_size" => value_size = Some(map_uint(btf, m.type_id).map_err(attr_err)?),
            "key" => key_type = Some(map_type_size(btf, m.type_id).map_err(attr_err)?),
            "value" => value_type = Some(map_type_size(btf, m.type_id).map_err(attr_err)?),
            other => {
                return Err(Error::new(format!(
                    "attribute {other:?} is not supported (only type, map_flags, max_entries, key, value, key_size, value_size)"
                )))
            }
        }
    }
    let map_type = map_type.ok_or_else(|| Error::new("the definition has no type"))?;
    let size = |what: &str, explicit: Option<u32>, typed: Option<u32>| match (explicit, typed) {
        (Some(a), Some(b)) if a != b => Err(Error::new(format!(
            "{what}_size is {a} but {what} has {b} bytes"
        ))),
        (a, b) => Ok(a.or(b).unwrap_or(0)),
    };
    Ok(MapDef {
        name: name.to_string(),
        map_type,
        key_size: size("key", key_size, key_type)?,
        value_size: size("value", value_size, value_type)?,
        max_entries,
        flags,
    })
}

/// `__uint(name, value)`: `int (*name)[value]`.
fn map_uint(btf: &Btf, type_id: u32) -> Result<u32> {
    let ptr = btf.skip_mods(type_id)?;
    if ptr.kind() != KIND_PTR {
        return Err(Error::new(format!(
            "is a {}, not __uint()'s pointer to an array",
            kind_name(ptr.kind())
        )));
    }
    let arr = btf.skip_mods(ptr.target())?;
    if arr.kind() != KIND_ARRAY {
        return Err(Error::new(format!(
            "points to a {}, not __uint()'s array",
            kind_name(arr.kind())
        )));
    }
    arr.array()
        .map(|a| a.nelems)
        .ok_or_else(|| malformed(format!("array {} is truncated", arr.id)))
}

/// `__type(name, T)`: a pointer to `T`; the size of `T`.
fn map_type_size(btf: &Btf, type_id: u32) -> Result<u32> {
    let ptr = btf.skip_mods(type_id)?;
    if ptr.kind() != KIND_PTR {
        return Err(Error::new(format!(
            "is a {}, not __type()'s pointer",
            kind_name(ptr.kind())
        )));
    }
    btf.type_size(ptr.target())
}

/// The function of section `s`, `lsm/<hook>` or `fentry/<function>` (of
/// `kind`, for `target`), decoded.
fn parse_program(
    elf: &Elf<'_>,
    s: &Section,
    kind: Kind,
    target: &str,
    symbols: &[Symbol],
) -> Result<Program> {
    if target.is_empty()
        || !target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::new(format!(
            "section {}: {target:?} is not a {} name",
            s.name,
            kind.target()
        )));
    }
    let data = elf.data(s)?;
    if data.len() % 8 != 0 {
        return Err(malformed(format!(
            "section {} is not a whole number of instructions",
            s.name
        )));
    }
    let insns = data
        .chunks_exact(8)
        .map(|c| {
            <[u8; 8]>::try_from(c)
                .map(Insn::from_bytes)
                .map_err(|_| malformed("an instruction is truncated"))
        })
        .collect::<Result<Vec<_>>>()?;
    let funcs: Vec<&Symbol> = symbols
        .iter()
        .filter(|sym| sym.kind == STT_FUNC && usize::from(sym.shndx) == s.index)
        .collect();
    let func = match funcs.as_slice() {
        [] => {
            return Err(malformed(format!(
                "section {} has no function symbol",
                s.name
            )))
        }
        [f] if f.value == 0 && !f.name.is_empty() => f,
        [_] => return Err(malformed(format!("the function of section {} is not at its start", s.name))),
        more => {
            return Err(Error::new(format!(
                "section {} holds {} functions: BPF-to-BPF calls are not supported (make the functions static __always_inline)",
                s.name,
                more.len()
            )))
        }
    };
    Ok(Program {
        kind,
        target: target.to_string(),
        section: s.name.clone(),
        index: s.index,
        name: func.name.clone(),
        insns,
        relocs: Vec::new(),
    })
}

/// The instruction at byte `offset` of `prog`.
fn insn_index(prog: &Program, offset: u64) -> Result<usize> {
    usize::try_from(offset / 8)
        .ok()
        .filter(|&i| offset % 8 == 0 && i < prog.insns.len())
        .ok_or_else(|| {
            malformed(format!(
                "a relocation at byte {offset} of section {} is not on an instruction",
                prog.section
            ))
        })
}

/// What an ELF relocation of type `kind` against `symbol` at instruction
/// `index` of `prog` asks for.
fn program_reloc(
    elf: &Elf<'_>,
    prog: &Program,
    index: usize,
    kind: u32,
    symbol: &Symbol,
    maps_section: Option<&Section>,
    map_names: &HashSet<&str>,
) -> Result<Reloc> {
    let at = || format!("instruction {index} of section {}", prog.section);
    let code = prog.insns.get(index).map_or(0, |i| i.code);
    match kind {
        R_BPF_64_64 => {
            if code != OP_LD_IMM64 || index + 1 >= prog.insns.len() {
                return Err(malformed(format!(
                    "{}: a 64-bit relocation on an instruction that is not ld_imm64",
                    at()
                )));
            }
            let in_maps = maps_section.is_some_and(|m| m.index == usize::from(symbol.shndx));
            if !in_maps {
                let section = elf
                    .section(usize::from(symbol.shndx))
                    .map_or("?", |s| s.name.as_str());
                return Err(Error::new(format!(
                    "{} refers to {:?} in section {section}: global variables and other data are not supported, only maps",
                    at(),
                    symbol.name
                )));
            }
            if !map_names.contains(symbol.name.as_str()) {
                return Err(Error::new(format!(
                    "{} refers to {:?} in .maps, which the object's BTF does not define as a map",
                    at(),
                    symbol.name
                )));
            }
            Ok(Reloc::Map(symbol.name.clone()))
        }
        R_BPF_64_32 => {
            if code != OP_CALL {
                return Err(malformed(format!(
                    "{}: a call relocation on an instruction that is not a call",
                    at()
                )));
            }
            if symbol.shndx != SHN_UNDEF || symbol.name.is_empty() {
                return Err(Error::new(format!(
                    "{} calls {:?}, a function of the object: BPF-to-BPF calls are not supported (make it static __always_inline)",
                    at(),
                    symbol.name
                )));
            }
            Ok(Reloc::Kfunc(symbol.name.clone()))
        }
        other => Err(Error::new(format!(
            "{}: relocation type {other} is not supported",
            at()
        ))),
    }
}

/// Refuses instructions that need a relocation the object does not give:
/// calls of subprograms (and kfunc calls without a symbol), `ld_imm64` of
/// maps or data by other means.
fn check_unrelocated(prog: &Program) -> Result<()> {
    let relocated: HashSet<usize> = prog.relocs.iter().map(|(i, _)| *i).collect();
    let mut skip_next = false;
    for (index, insn) in prog.insns.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            // The second half of an ld_imm64.
            continue;
        }
        let at = || format!("instruction {index} of section {}", prog.section);
        match insn.code {
            OP_CALL if insn.src_reg() == BPF_PSEUDO_CALL && !relocated.contains(&index) => {
                return Err(Error::new(format!(
                    "{} calls a subprogram: BPF-to-BPF calls are not supported (make the functions static __always_inline)",
                    at()
                )))
            }
            OP_CALL if insn.src_reg() == BPF_PSEUDO_KFUNC_CALL && !relocated.contains(&index) => {
                return Err(malformed(format!("{} calls a kfunc without a symbol", at())))
            }
            OP_LD_IMM64 => {
                if insn.src_reg() != 0 && !relocated.contains(&index) {
                    return Err(Error::new(format!(
                        "{} loads a map or data without a relocation: not supported",
                        at()
                    )));
                }
                if index + 1 >= prog.insns.len() {
                    return Err(malformed(format!("{}: ld_imm64 is cut short", at())));
                }
                skip_next = true;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The verifier log in `buf` (NUL-terminated), without its blank lines.
fn log_text(buf: &[u8]) -> String {
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default());
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::testutil::{
        btf_ext, insn, BtfBuilder, ElfBuilder, SHF_ALLOC, SHF_EXECINSTR as X, SHF_WRITE,
        SHT_PROGBITS, STT_FUNC as FUNC, STT_OBJECT,
    };

    /// The pieces of a synthetic object, to vary them per test.
    struct Parts {
        btf: BtfBuilder,
        core: Vec<(u32, u32, u32, u32)>,
        code: Vec<[u8; 8]>,
        /// Relocations: (instruction index, symbol name, type).
        rels: Vec<(u64, &'static str, u32)>,
        license: Vec<u8>,
        file_id: u32,
        /// The program's section.
        section: &'static str,
    }

    /// An object like policy.bpf.o: maps `policies` (hash, u64 ->
    /// struct pol of 24 bytes) and `files`; program lsm/file_open that
    /// reads file->f_inode (CO-RE), looks up `policies` and calls kfunc
    /// bpf_secns_cred_depth.
    fn parts() -> Parts {
        parts_in("lsm/file_open")
    }

    /// [`parts`], with the program in `section`.
    fn parts_in(section: &'static str) -> Parts {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let u64_ = b.int("unsigned long long", 8, false);
        let u64t = b.typedef("__u64", u64_);
        let pol = b.struct_(
            "pol",
            24,
            &[("a", u64t, 0), ("b", u64t, 64), ("c", u64t, 128)],
        );
        let ptype = b.map_uint(int, 1);
        let pflags = b.map_uint(int, 1);
        let pmax = b.map_uint(int, 4096);
        let pkey = b.ptr(u64t);
        let pval = b.ptr(pol);
        let def1 = b.struct_(
            "",
            40,
            &[
                ("type", ptype, 0),
                ("map_flags", pflags, 64),
                ("max_entries", pmax, 128),
                ("key", pkey, 192),
                ("value", pval, 256),
            ],
        );
        let v1 = b.var("policies", def1);
        let pks = b.map_uint(int, 24);
        let pvs = b.map_uint(int, 4);
        let def2 = b.struct_(
            "",
            32,
            &[
                ("type", ptype, 0),
                ("max_entries", pmax, 64),
                ("key_size", pks, 128),
                ("value_size", pvs, 192),
            ],
        );
        let v2 = b.var("files", def2);
        b.datasec(".maps", 72, &[(v1, 0, 40), (v2, 40, 32)]);
        let inode = b.fwd_struct("inode");
        let pinode = b.ptr(inode);
        let file = b.struct_("file", 8, &[("f_inode", pinode, 0)]);
        let sec = b.str(section);
        let acc = b.str("0:0");
        let code = vec![
            insn(0x79, 6, 1, 0, 0),  // r6 = *(u64 *)(r1 + 0): file
            insn(0x79, 6, 6, 0, 0),  // r6 = file->f_inode (CO-RE)
            insn(0x85, 0, 1, 0, -1), // call bpf_secns_cred_depth
            insn(0x18, 1, 0, 0, 0),  // r1 = &policies ll
            insn(0, 0, 0, 0, 0),
            insn(0x85, 0, 0, 0, 1), // call bpf_map_lookup_elem
            insn(0xb7, 0, 0, 0, 0), // r0 = 0
            insn(0x95, 0, 0, 0, 0), // exit
        ];
        Parts {
            btf: b,
            core: vec![(8, file, acc, 0)],
            code,
            rels: vec![(2, "bpf_secns_cred_depth", 10), (3, "policies", 1)],
            license: b"GPL\0".to_vec(),
            file_id: sec,
            section,
        }
    }

    fn build(p: &Parts) -> Vec<u8> {
        let mut e = ElfBuilder::new();
        let code: Vec<u8> = p.code.iter().flatten().copied().collect();
        let size = code.len() as u64;
        let prog = e.section(p.section, SHT_PROGBITS, SHF_ALLOC | X, code);
        let text = e.section(".text", SHT_PROGBITS, SHF_ALLOC | X, Vec::new());
        e.section(
            "license",
            SHT_PROGBITS,
            SHF_ALLOC | SHF_WRITE,
            p.license.clone(),
        );
        let maps = e.section(".maps", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, vec![0; 72]);
        e.section(".BTF", SHT_PROGBITS, 0, p.btf.build());
        e.section(
            ".BTF.ext",
            SHT_PROGBITS,
            0,
            btf_ext(&[(p.file_id, p.core.clone())]),
        );
        e.symbol("secns_policy_file_open", FUNC, prog, 0, size);
        let mut syms = HashMap::new();
        syms.insert("policies", e.symbol("policies", STT_OBJECT, maps, 0, 40));
        syms.insert("files", e.symbol("files", STT_OBJECT, maps, 40, 32));
        syms.insert(
            "bpf_secns_cred_depth",
            e.symbol("bpf_secns_cred_depth", 0, 0, 0, 0),
        );
        syms.insert("local_fn", e.symbol("local_fn", FUNC, text, 0, 0));
        let rels = p
            .rels
            .iter()
            .map(|&(i, name, kind)| (i * 8, syms[name], kind))
            .collect();
        e.rel(prog, rels);
        e.build()
    }

    /// The kernel: kfunc, hook function, struct file with f_inode at 32.
    fn kernel() -> Btf {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let proto = b.func_proto(int, &[]);
        b.func("bpf_lsm_capable", proto);
        b.func("bpf_lsm_file_open", proto);
        b.func("bpf_secns_cred_depth", proto);
        let inode = b.struct_("inode", 8, &[("i_ino", int, 0)]);
        let pinode = b.ptr(inode);
        b.struct_("file", 64, &[("f_mode", int, 0), ("f_inode", pinode, 256)]);
        Btf::parse(&b.build()).unwrap()
    }

    #[test]
    fn parses_maps_programs_and_license() {
        let obj = Object::parse(&build(&parts())).unwrap();
        assert_eq!(obj.programs().collect::<Vec<_>>(), ["file_open"]);
        assert_eq!(obj.license(), "GPL");
        assert_eq!(
            obj.maps(),
            [
                MapDef {
                    name: "policies".into(),
                    map_type: 1,
                    key_size: 8,
                    value_size: 24,
                    max_entries: 4096,
                    flags: 1,
                },
                MapDef {
                    name: "files".into(),
                    map_type: 1,
                    key_size: 24,
                    value_size: 4,
                    max_entries: 4096,
                    flags: 0,
                },
            ]
        );
    }

    #[test]
    fn relocates_maps_kfuncs_and_fields() {
        let obj = Object::parse(&build(&parts())).unwrap();
        let kernel = kernel();
        let fds = |name: &str| (name == "policies").then_some(42);
        let r = obj.relocate("file_open", &fds, &kernel).unwrap();
        assert_eq!(
            r.attach_btf_id,
            kernel.func_id("bpf_lsm_file_open").unwrap()
        );
        assert_eq!(r.name, "secns_policy_file_open");
        // CO-RE: f_inode at 32 in the kernel.
        assert_eq!(r.insns[1].off, 32);
        assert_eq!(r.insns[0].off, 0, "not relocated");
        // kfunc.
        assert_eq!(r.insns[2].src_reg(), BPF_PSEUDO_KFUNC_CALL);
        assert_eq!(
            r.insns[2].imm as u32,
            kernel.func_id("bpf_secns_cred_depth").unwrap()
        );
        assert_eq!(r.insns[2].off, 0);
        // Map.
        assert_eq!(r.insns[3].src_reg(), BPF_PSEUDO_MAP_FD);
        assert_eq!(r.insns[3].regs & 0xf, 1, "dst_reg kept");
        assert_eq!(r.insns[3].imm, 42);
        assert_eq!(r.insns[4].imm, 0);
        // A helper call is left alone.
        assert_eq!(r.insns[5], Insn::from_bytes(insn(0x85, 0, 0, 0, 1)));
    }

    #[test]
    fn relocation_errors() {
        let obj = Object::parse(&build(&parts())).unwrap();
        let kernel = kernel();
        let fds = |name: &str| (name == "policies").then_some(42);
        let none = |_: &str| None;
        let err = obj
            .relocate("file_open", &none, &kernel)
            .unwrap_err()
            .to_string();
        assert!(err.contains("map policies"), "{err}");
        let err = obj
            .relocate("capable", &fds, &kernel)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no program for LSM hook capable"), "{err}");

        // A kernel without the kfunc, the hook or the field.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let proto = b.func_proto(int, &[]);
        b.func("bpf_lsm_file_open", proto);
        let inode = b.struct_("inode", 8, &[("i_ino", int, 0)]);
        let pinode = b.ptr(inode);
        b.struct_("file", 64, &[("f_inode", pinode, 256)]);
        let no_kfunc = Btf::parse(&b.build()).unwrap();
        let err = obj
            .relocate("file_open", &fds, &no_kfunc)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no kfunc bpf_secns_cred_depth")
                && err.contains("CONFIG_SECURITY_SECNS")
                && err.contains("CONFIG_BPF_LSM"),
            "{err}"
        );

        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let proto = b.func_proto(int, &[]);
        b.func("bpf_secns_cred_depth", proto);
        let pint = b.ptr(int);
        b.struct_("file", 64, &[("f_inode", pint, 256)]);
        let no_hook = Btf::parse(&b.build()).unwrap();
        let err = obj
            .relocate("file_open", &fds, &no_hook)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bpf_lsm_file_open"), "{err}");

        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let proto = b.func_proto(int, &[]);
        b.func("bpf_lsm_file_open", proto);
        b.func("bpf_secns_cred_depth", proto);
        b.struct_("file", 64, &[("f_path", int, 0)]);
        let no_field = Btf::parse(&b.build()).unwrap();
        let err = obj
            .relocate("file_open", &fds, &no_field)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("struct file") || err.contains("file has no field f_inode"),
            "{err}"
        );
        assert!(err.contains("f_inode"), "{err}");
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        // A call of a function of the object.
        let mut p = parts();
        p.rels[0].1 = "local_fn";
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("BPF-to-BPF"), "{err}");

        // A pseudo call without a relocation.
        let mut p = parts();
        p.rels.remove(0);
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("BPF-to-BPF"), "{err}");

        // A map relocation on something else than ld_imm64.
        let mut p = parts();
        p.rels[1].0 = 6;
        assert!(Object::parse(&build(&p)).is_err());

        // An unsupported relocation type.
        let mut p = parts();
        p.rels[1].2 = 2;
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("relocation type 2"), "{err}");

        // A CO-RE relocation whose instruction does not hold the local
        // offset, or is not patchable.
        let mut p = parts();
        p.core[0].0 = 0;
        p.code[0] = insn(0x79, 6, 1, 4, 0);
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("instruction 0"), "{err}");
        let mut p = parts();
        p.core[0].0 = 56; // the exit
        assert!(Object::parse(&build(&p)).is_err());

        // Two relocations on one instruction.
        let mut p = parts();
        p.core.push(p.core[0]);
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("more than one relocation"), "{err}");

        // Another CO-RE relocation kind.
        let mut p = parts();
        p.core[0].3 = 2;
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("field existence"), "{err}");

        // An unknown map attribute.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let pin = b.map_uint(int, 1);
        let def = b.struct_("", 16, &[("type", pin, 0), ("pinning", pin, 64)]);
        let v = b.var("pinned", def);
        b.datasec(".maps", 16, &[(v, 0, 16)]);
        let err = decode_maps(&Btf::parse(&b.build()).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("pinned") && err.contains("pinning"), "{err}");

        // No license, or one without its NUL.
        let mut p = parts();
        p.license = b"GPL".to_vec();
        assert!(Object::parse(&build(&p)).is_err());
    }

    #[test]
    fn map_definition_errors() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let u64_ = b.int("long", 8, true);
        let t = b.map_uint(int, 1);
        let ks = b.map_uint(int, 4);
        let k = b.ptr(u64_);
        let def = b.struct_(
            "",
            24,
            &[("type", t, 0), ("key_size", ks, 64), ("key", k, 128)],
        );
        let v = b.var("m", def);
        b.datasec(".maps", 24, &[(v, 0, 24)]);
        let err = decode_maps(&Btf::parse(&b.build()).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("map m") && err.contains("key_size"), "{err}");

        // `type` as a plain int, not __uint().
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let def = b.struct_("", 4, &[("type", int, 0)]);
        let v = b.var("m", def);
        b.datasec(".maps", 4, &[(v, 0, 4)]);
        assert!(decode_maps(&Btf::parse(&b.build()).unwrap()).is_err());

        // No type.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let m = b.map_uint(int, 1);
        let def = b.struct_("", 8, &[("max_entries", m, 0)]);
        let v = b.var("m", def);
        b.datasec(".maps", 8, &[(v, 0, 8)]);
        assert!(decode_maps(&Btf::parse(&b.build()).unwrap()).is_err());
    }

    #[test]
    fn truncated_and_corrupted_objects_never_panic() {
        let raw = build(&parts());
        let kernel = kernel();
        let fds = |_: &str| Some(3);
        for len in 0..raw.len() {
            assert!(Object::parse(&raw[..len]).is_err(), "truncated at {len}");
        }
        for i in 0..raw.len() {
            for v in [0u8, 0x55, 0xff] {
                let mut bad = raw.clone();
                bad[i] = v;
                if let Ok(obj) = Object::parse(&bad) {
                    for hook in obj.programs().map(str::to_string).collect::<Vec<_>>() {
                        let _ = obj.relocate(&hook, &fds, &kernel);
                    }
                }
            }
        }
    }

    #[test]
    fn verifier_log_text() {
        let mut log = String::new();
        for i in 0..30 {
            log.push_str(&format!("line {i}\n\n"));
        }
        let mut buf = log.into_bytes();
        buf.extend_from_slice(&[0, b'x', b'y']);
        let text = log_text(&buf);
        assert!(text.starts_with("line 0\nline 1\n"), "{text}");
        assert!(text.ends_with("line 29"), "{text}");
        assert_eq!(log_text(b"\0"), "");
    }

    #[test]
    fn fentry_programs() {
        let p = parts_in("fentry/security_file_open");
        let obj = Object::parse(&build(&p)).unwrap();
        // Not an LSM program: the engine does not attach it.
        assert_eq!(obj.programs().count(), 0);
        let fds = |name: &str| (name == "policies").then_some(42);
        let mut k = BtfBuilder::new();
        let int = k.int("int", 4, true);
        let proto = k.func_proto(int, &[]);
        k.func("bpf_secns_cred_depth", proto);
        let target = k.func("security_file_open", proto);
        let inode = k.struct_("inode", 8, &[("i_ino", int, 0)]);
        let pinode = k.ptr(inode);
        k.struct_("file", 64, &[("f_inode", pinode, 256)]);
        let kernel = Btf::parse(&k.build()).unwrap();
        let r = obj
            .relocate_program(Kind::Fentry, "security_file_open", &fds, &kernel)
            .unwrap();
        assert_eq!(r.attach_btf_id, target);
        assert_eq!(r.insns[2].src_reg(), BPF_PSEUDO_KFUNC_CALL);
        let err = obj
            .relocate("security_file_open", &fds, &kernel)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no program for LSM hook"), "{err}");
        let err = obj
            .relocate_program(Kind::Fentry, "security_file_open", &fds, &self::kernel())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no function security_file_open"), "{err}");

        let p = parts_in("kprobe/security_file_open");
        let err = Object::parse(&build(&p)).unwrap_err().to_string();
        assert!(err.contains("fentry/<function>"), "{err}");
    }
}
