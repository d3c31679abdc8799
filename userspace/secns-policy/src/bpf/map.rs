//! BPF maps: created from an object's definitions or opened where they are
//! pinned, and read and written by key.

use std::collections::HashSet;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use super::object::MapDef;
use super::sys::{self, MapFd};
use super::{Error, Result};

/// A BPF map; owns its file descriptor.
///
/// Per-CPU map types are refused: their values have one copy per CPU.
pub struct Map {
    fd: MapFd,
    /// The map's name (or where it was pinned), for messages.
    label: String,
}

/// What the kernel says of a map ([`Map::info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapInfo {
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

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("label", &self.label)
            .field("fd", &self.fd.as_fd().as_raw_fd())
            .field("key_size", &self.fd.key_size())
            .field("value_size", &self.fd.value_size())
            .finish()
    }
}

impl Map {
    /// Creates a map as `def` says (`BPF_MAP_CREATE`), named `def.name`
    /// truncated to 15 bytes.
    pub fn create(def: &MapDef) -> Result<Map> {
        let fd = MapFd::create(
            def.map_type,
            def.key_size,
            def.value_size,
            def.max_entries,
            def.flags,
            &def.name,
        )
        .map_err(|e| Error::sys(format!("creating BPF map {}", def.name), e))?;
        Ok(Map {
            fd,
            label: def.name.clone(),
        })
    }

    /// Opens the map pinned at `path` (`BPF_OBJ_GET`).
    pub fn open_pinned(path: &Path) -> Result<Map> {
        let label = path.display().to_string();
        let fd = super::open_pinned(path)?;
        // The kernel names the file of a map fd "anon_inode:bpf-map"; a
        // pinned program or link would be misread as a map below.
        let link = Path::new("/proc/self/fd").join(fd.as_raw_fd().to_string());
        if let Ok(target) = std::fs::read_link(&link) {
            if target.as_os_str() != "anon_inode:bpf-map" {
                return Err(Error::new(format!(
                    "the BPF object pinned at {label} is not a map"
                )));
            }
        }
        let (fd, _) = MapFd::from_fd(fd)
            .map_err(|e| Error::sys(format!("opening the BPF map pinned at {label}"), e))?;
        Ok(Map { fd, label })
    }

    /// Pins the map at `path` in a BPF file system (`BPF_OBJ_PIN`).
    pub fn pin(&self, path: &Path) -> Result<()> {
        super::pin(self.fd.as_fd(), path).map_err(|e| e.context(format!("map {}", self.label)))
    }

    /// The map's type, sizes and flags, from the kernel
    /// (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn info(&self) -> Result<MapInfo> {
        let info = sys::map_info(self.fd.as_fd())
            .map_err(|e| Error::sys(format!("reading the info of BPF map {}", self.label), e))?;
        Ok(MapInfo {
            map_type: info.map_type,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            flags: info.map_flags,
        })
    }

    fn check_value_size(&self, value_size: usize) -> Result<()> {
        if value_size != self.fd.value_size() {
            return Err(Error::new(format!(
                "BPF map {} has values of {} bytes, not {value_size}",
                self.label,
                self.fd.value_size()
            )));
        }
        Ok(())
    }

    /// The value under `key`, of `value_size` bytes (the map's value size),
    /// or `None` if there is none.
    pub fn lookup(&self, key: &[u8], value_size: usize) -> Result<Option<Vec<u8>>> {
        self.check_value_size(value_size)?;
        self.fd
            .lookup(key)
            .map_err(|e| Error::sys(format!("looking up a key in BPF map {}", self.label), e))
    }

    /// Sets the value under `key`; `flags` is [`BPF_ANY`](super::BPF_ANY),
    /// [`BPF_NOEXIST`](super::BPF_NOEXIST) or [`BPF_EXIST`](super::BPF_EXIST).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.fd
            .update(key, value, flags)
            .map_err(|e| Error::sys(format!("updating BPF map {}", self.label), e))
    }

    /// Deletes the element under `key`; `false` if there was none.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.fd
            .delete(key)
            .map_err(|e| Error::sys(format!("deleting from BPF map {}", self.label), e))
    }

    /// All the keys (of `key_size` bytes, the map's key size), in the
    /// kernel's order (`BPF_MAP_GET_NEXT_KEY` from the start).
    ///
    /// If elements are deleted meanwhile, the kernel may start over: keys
    /// seen twice are listed once, and a map that keeps changing for longer
    /// than twice its size of steps is an error.
    pub fn keys(&self, key_size: usize) -> Result<Vec<Vec<u8>>> {
        if key_size != self.fd.key_size() {
            return Err(Error::new(format!(
                "BPF map {} has keys of {} bytes, not {key_size}",
                self.label,
                self.fd.key_size()
            )));
        }
        let context = || format!("listing the keys of BPF map {}", self.label);
        let limit = u64::from(self.fd.max_entries()) * 2 + 16;
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        let mut steps = 0u64;
        let mut next = self
            .fd
            .next_key(None)
            .map_err(|e| Error::sys(context(), e))?;
        while let Some(key) = next {
            steps += 1;
            if steps > limit {
                return Err(Error::new(format!("{}: the map kept changing", context())));
            }
            next = self
                .fd
                .next_key(Some(&key))
                .map_err(|e| Error::sys(context(), e))?;
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
