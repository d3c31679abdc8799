//! The policy file and the rules it becomes in the BPF maps.
//!
//! A policy file is TOML; every key is optional:
//!
//! ```toml
//! # Capabilities refused to every task of the namespace and of its
//! # descendants, root included (names as in capabilities(7)).
//! deny-capabilities = ["CAP_SYS_TIME", "CAP_NET_RAW"]
//! # Files no task there may open, and directories with everything below
//! # them (at most 16, and 32 with those of the ancestors).
//! deny-open = ["/etc/shadow", "/root"]
//! # Whether tasks there may create nested security namespaces, and the
//! # errno LSM_ATTR_UNSHARE_INIT returns when they may not.
//! nested = false
//! nested-errno = "EPERM"
//! # What tasks there may reach only inside the namespace: "signal" (a
//! # signal to a task outside it, signal 0 included, fails with EPERM).
//! scope = ["signal"]
//! ```
//!
//! # What `deny-open` means
//!
//! A path is resolved when the policy is loaded, in the loader's view
//! (symbolic links followed), to two things on one file system, and both
//! are refused:
//!
//! - **the inode**, wherever it is reached: through a hard link, a bind
//!   mount, `/proc/self/root`, or another mount namespace's view of the same
//!   file system;
//! - **its name in its directory** (the directory's inode and the name),
//!   whatever the name comes to name: a file the host replaces by
//!   `rename(2)`, as `passwd(1)`, editors and package managers do, is still
//!   refused.
//!
//! A directory refuses everything below it (`file_open` walks up the file
//! system's own tree, at most 64 levels). The same inode number on another
//! file system is another file, and so is it in another btrfs subvolume or
//! snapshot (each numbers its inodes on its own; a subvolume's root is
//! denied by its inode, like a mount's root). A namespace with file rules
//! makes no btrfs snapshot, send stream or tree search (`EACCES`): each
//! would copy or read files without opening them. Through overlayfs, a path in the merged
//! view names the merged file, before and after copy-up (its lower and
//! upper files, reached through their own paths, are other files). The
//! rules also refuse a denied file received as a descriptor (`SCM_RIGHTS`,
//! `pidfd_getfd(2)`), and a new hard link to it made inside the namespace.
//!
//! Nothing comes in with a task: rules are loaded only while the namespace
//! is pending, and a task cannot enter it (`UNSHARE` or `JOIN`) while it
//! holds a descriptor of a denied file or a memory mapping of one
//! (`EACCES`), or an io_uring instance, open or registered (`EPERM`: one
//! set up outside acts with the credentials, files and threads registered
//! there), or while another task shares its descriptor table (`EPERM`).
//!
//! Not covered: names longer than 63 bytes (refused at load), and the
//! block device under a file system (a namespace that may open its node
//! reads every file on it: runtimes keep containers from devices). Failing
//! closed: an inode number reused after the denied file was deleted for
//! good makes the new file refused.
//!
//! The layouts below mirror `bpf/policy.h`, which the BPF programs use.

use serde::Deserialize;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The deepest namespace (`SECNS_POLICY_MAX_DEPTH`).
pub const MAX_DEPTH: u32 = 32;
/// The files a policy file may refuse to open.
pub const MAX_OWN_FILES: usize = 16;
/// `SECNS_POLICY_NAME_MAX`: a denied name's bytes, with the NUL.
pub const NAME_MAX: usize = 64;
/// The size of `struct secns_policy_file`.
const FILE_SIZE: usize = 24 + NAME_MAX;
/// `SECNS_POLICY_DENIED` and `SECNS_POLICY_NAMED`, the flags of `inodes`.
pub const DENIED: u32 = 1;
/// See [`DENIED`].
pub const NAMED: u32 = 2;
/// The files a namespace refuses to open, its own and its ancestors'
/// (`SECNS_POLICY_MAX_FILES`).
pub const MAX_FILES: usize = 32;
/// `SECNS_POLICY_ABI`: the layout of the maps.
pub const ABI: u32 = 4;
/// `SECNS_POLICY_NO_NESTED`: refuse nested namespaces.
const NO_NESTED: u32 = 1;
/// `SECNS_POLICY_ENTERED`: a task has entered the namespace.
const ENTERED: u32 = 1;

/// `SECNS_POLICY_FILTER_BITS`: the bits of `struct secns_policy.filter`.
const FILTER_BITS: usize = 1024;
/// `SECNS_POLICY_FILTER_MUL`.
const FILTER_MUL: u64 = 0x9e37_79b9_7f4a_7c15;
/// The size of `struct secns_policy`.
pub const POLICY_SIZE: usize = 24 + FILE_SIZE * MAX_FILES + FILTER_BITS / 8;

/// The bit of `struct secns_policy.filter` for inode `ino` on file system
/// `dev`, as `listed()` in bpf/policy.bpf.c computes it.
pub fn filter_bit(dev: u64, ino: u64) -> usize {
    let h = (ino ^ dev.rotate_left(32)).wrapping_mul(FILTER_MUL);
    // The top ten bits: below FILTER_BITS.
    usize::try_from(h >> 54).unwrap_or(0)
}
/// The size of `struct secns_policy_ns`.
pub const NS_SIZE: usize = 32;
/// The size of `struct secns_policy_engine`.
pub const ENGINE_SIZE: usize = 40;

/// The capabilities by number (`include/uapi/linux/capability.h`).
const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The errnos a refused nested namespace may get, by name.
const ERRNOS: [(&str, i32); 7] = [
    ("EPERM", libc::EPERM),
    ("EACCES", libc::EACCES),
    ("ENOSPC", libc::ENOSPC),
    ("EBUSY", libc::EBUSY),
    ("EINVAL", libc::EINVAL),
    ("EAGAIN", libc::EAGAIN),
    ("EUSERS", libc::EUSERS),
];

/// A policy file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    /// Capability names (`CAP_SYS_TIME` or `sys_time`).
    #[serde(default)]
    pub deny_capabilities: Vec<String>,
    /// Paths of files that may not be opened.
    #[serde(default)]
    pub deny_open: Vec<PathBuf>,
    /// Whether nested namespaces may be created (default: yes).
    pub nested: Option<bool>,
    /// The errno of a refused nested namespace: a name or a number.
    pub nested_errno: Option<Errno>,
    /// What is confined to the namespace: `"signal"`.
    #[serde(default)]
    pub scope: Vec<String>,
}

/// An errno in a policy file: `"EPERM"` or `1`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Errno {
    /// By name.
    Name(String),
    /// By number.
    Number(i64),
}

/// A file, as the kernel names it: the file system's `dev_t` (the kernel's
/// encoding, `MKDEV()`) and the inode number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FileId {
    /// The kernel's `s_dev` of the file system.
    pub dev: u64,
    /// The inode number.
    pub ino: u64,
}

/// A denied file or directory (`struct secns_policy_file`): its inode, and
/// its name in its directory on the same file system. Both are denied: the
/// inode wherever it is reached, and what the name comes to name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeniedFile {
    /// The kernel's `s_dev` of the file system.
    pub dev: u64,
    /// The inode number.
    pub ino: u64,
    /// Its directory's inode number; 0 when it has no name there (the root
    /// of a mount).
    pub dir: u64,
    /// Its name in that directory.
    #[serde(serialize_with = "lossy")]
    pub name: Vec<u8>,
}

fn lossy<S: serde::Serializer>(name: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(name))
}

impl DeniedFile {
    /// What `path` names now: the file it resolves to (symbolic links
    /// followed), and its name in its directory.
    pub fn resolve(path: &Path) -> Result<DeniedFile, PolicyError> {
        let real =
            std::fs::canonicalize(path).or_else(|e| err(format!("{}: {e}", path.display())))?;
        let id = file_id(&real)?;
        let mut file = DeniedFile {
            dev: id.dev,
            ino: id.ino,
            dir: 0,
            name: Vec::new(),
        };
        if let (Some(parent), Some(name)) = (real.parent(), real.file_name()) {
            let up = file_id(parent)?;
            // A mount point is named in another file system: its inode is
            // what is denied.
            if up.dev == id.dev {
                use std::os::unix::ffi::OsStrExt;
                if name.len() >= NAME_MAX {
                    return err(format!(
                        "{}: a name of {} bytes; a denied name has at most {}",
                        path.display(),
                        name.len(),
                        NAME_MAX - 1
                    ));
                }
                file.dir = up.ino;
                file.name = name.as_bytes().to_vec();
            }
        }
        Ok(file)
    }

    fn encode(&self, v: &mut Vec<u8>) {
        v.extend_from_slice(&self.dev.to_ne_bytes());
        v.extend_from_slice(&self.ino.to_ne_bytes());
        v.extend_from_slice(&self.dir.to_ne_bytes());
        v.extend_from_slice(&name_bytes(&self.name));
    }

    fn decode(b: &[u8]) -> Option<DeniedFile> {
        let name = b.get(24..FILE_SIZE)?;
        let len = name.iter().position(|c| *c == 0).unwrap_or(name.len());
        Some(DeniedFile {
            dev: u64_at(b, 0)?,
            ino: u64_at(b, 8)?,
            dir: u64_at(b, 16)?,
            name: name.get(..len)?.to_vec(),
        })
    }

    /// Its key in `inodes` (`struct secns_policy_inode_key`) for the rules
    /// of namespace `rules`, and that of its directory, if it is named.
    pub fn inode_keys(&self, rules: u64) -> (Vec<u8>, Option<Vec<u8>>) {
        let key = |ino: u64| {
            let mut k = Vec::with_capacity(24);
            k.extend_from_slice(&rules.to_ne_bytes());
            k.extend_from_slice(&self.dev.to_ne_bytes());
            k.extend_from_slice(&ino.to_ne_bytes());
            k
        };
        (key(self.ino), (self.dir != 0).then(|| key(self.dir)))
    }

    /// Its key in `names` (`struct secns_policy_name_key`), if it is named.
    pub fn name_key(&self, rules: u64) -> Option<Vec<u8>> {
        if self.dir == 0 {
            return None;
        }
        let mut k = Vec::with_capacity(24 + NAME_MAX);
        k.extend_from_slice(&rules.to_ne_bytes());
        k.extend_from_slice(&self.dev.to_ne_bytes());
        k.extend_from_slice(&self.dir.to_ne_bytes());
        k.extend_from_slice(&name_bytes(&self.name));
        Some(k)
    }
}

/// A name, NUL-padded to [`NAME_MAX`] bytes.
fn name_bytes(name: &[u8]) -> [u8; NAME_MAX] {
    let mut b = [0; NAME_MAX];
    for (d, s) in b.iter_mut().zip(name.iter().take(NAME_MAX - 1)) {
        *d = *s;
    }
    b
}

/// The rules of one namespace, as the BPF programs read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Bit n refuses capability n.
    pub deny_caps: u64,
    /// Files that may not be opened.
    pub files: Vec<DeniedFile>,
    /// Nested namespaces are refused.
    pub no_nested: bool,
    /// Their errno (positive).
    pub nested_errno: i32,
    /// Signals are confined to the namespace at this depth and below it (0:
    /// not confined). [`PolicyFile::resolve`] sets [`SIGNAL_HERE`]; the
    /// engine puts the namespace's depth in its place when it loads them.
    pub signal_scope: u32,
}

/// [`Rules::signal_scope`] of a policy file that confines signals, before
/// the engine knows the namespace's depth.
pub const SIGNAL_HERE: u32 = u32::MAX;

/// What went wrong in a policy file.
#[derive(Debug)]
pub struct PolicyError(String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn err<T>(msg: String) -> Result<T, PolicyError> {
    Err(PolicyError(msg))
}

/// The number of the capability `name` (`CAP_SYS_TIME`, `cap_sys_time` or
/// `sys_time`).
pub fn capability(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    CAPABILITIES
        .iter()
        .position(|c| *c == full)
        .and_then(|n| u32::try_from(n).ok())
}

/// The name of capability `n`.
pub fn capability_name(n: u32) -> String {
    usize::try_from(n)
        .ok()
        .and_then(|n| CAPABILITIES.get(n))
        .map_or_else(|| format!("capability {n}"), |c| (*c).to_string())
}

/// The name of errno `n`, if it is one of those a policy may name.
pub fn errno_name(n: i32) -> String {
    ERRNOS
        .iter()
        .find(|(_, v)| *v == n)
        .map_or_else(|| n.to_string(), |(name, _)| (*name).to_string())
}

/// The kernel's encoding of a device number (`MKDEV()`: 12 bits of major,
/// 20 of minor), which is what `super_block::s_dev` holds.
pub fn kernel_dev(major: u32, minor: u32) -> u64 {
    (u64::from(major) << 20) | u64::from(minor)
}

/// The file system device (`major:minor`) and type of mount `mnt_id` in
/// the lines of `/proc/self/mountinfo`: the device is the super block's
/// `s_dev`, which `stat(2)` does not always give (btrfs subvolumes and
/// overlayfs report another one).
pub fn mount_dev(mountinfo: &str, mnt_id: u64) -> Option<(u32, u32, &str)> {
    mountinfo.lines().find_map(|line| {
        let mut fields = line.split(' ');
        if fields.next()?.parse::<u64>().ok()? != mnt_id {
            return None;
        }
        let (major, minor) = fields.nth(1)?.split_once(':')?;
        // The optional fields end with a lone "-"; the type follows it.
        let fstype = fields.skip_while(|f| *f != "-").nth(1)?;
        Some((major.parse().ok()?, minor.parse().ok()?, fstype))
    })
}

/// A file as the kernel's `file_open` hook sees it: the device that numbers
/// its inode and the inode number. That device is the `s_dev` of its file
/// system, but on btrfs, where each subvolume numbers its inodes on its own,
/// the subvolume's (what `stat(2)` gives, and `inode_dev()` in
/// bpf/policy.bpf.c reads).
pub fn file_id(path: &Path) -> Result<FileId, PolicyError> {
    let meta = std::fs::metadata(path).or_else(|e| err(format!("{}: {e}", path.display())))?;
    let mnt_id = mount_id(path)?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .or_else(|e| err(format!("/proc/self/mountinfo: {e}")))?;
    let Some((major, minor, fstype)) = mount_dev(&mountinfo, mnt_id) else {
        return err(format!(
            "{}: its mount ({mnt_id}) is not in /proc/self/mountinfo",
            path.display()
        ));
    };
    let dev = if fstype == "btrfs" {
        kernel_dev(libc::major(meta.dev()), libc::minor(meta.dev()))
    } else {
        kernel_dev(major, minor)
    };
    Ok(FileId {
        dev,
        ino: meta.ino(),
    })
}

/// The id of the mount `path` is on (`statx(2)`, `STATX_MNT_ID`).
fn mount_id(path: &Path) -> Result<u64, PolicyError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .or_else(|_| err(format!("{}: a NUL byte in the path", path.display())))?;
    // SAFETY: an all-zero statx is a valid value of a plain C struct.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `stx` a statx, both alive across
    // the call.
    let rc = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, libc::STATX_MNT_ID, &mut stx) };
    if rc != 0 {
        return err(format!(
            "{}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    if stx.stx_mask & libc::STATX_MNT_ID == 0 {
        return err(format!("{}: the kernel gave no mount id", path.display()));
    }
    Ok(stx.stx_mnt_id)
}

impl PolicyFile {
    /// Parses the TOML text of a policy file.
    pub fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
        toml::from_str(text).or_else(|e| err(format!("{e}")))
    }

    /// Reads and parses a policy file.
    pub fn read(path: &Path) -> Result<PolicyFile, PolicyError> {
        let text = std::fs::read_to_string(path)
            .or_else(|e| err(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).or_else(|e| err(format!("{}: {e}", path.display())))
    }

    /// The rules it gives: names checked, files resolved to their device
    /// and inode now.
    pub fn resolve(&self) -> Result<Rules, PolicyError> {
        let mut rules = Rules::default();
        for name in &self.deny_capabilities {
            let Some(n) = capability(name) else {
                return err(format!(
                    "deny-capabilities: unknown capability {name:?} (see capabilities(7))"
                ));
            };
            rules.deny_caps |= 1 << n;
        }
        for path in &self.deny_open {
            let file = DeniedFile::resolve(path).or_else(|e| err(format!("deny-open: {e}")))?;
            if !rules.files.contains(&file) {
                rules.files.push(file);
            }
        }
        if rules.files.len() > MAX_OWN_FILES {
            return err(format!(
                "deny-open: {} files, at most {MAX_OWN_FILES}",
                rules.files.len()
            ));
        }
        rules.no_nested = self.nested == Some(false);
        rules.nested_errno = match &self.nested_errno {
            None => libc::EPERM,
            Some(Errno::Name(name)) => {
                let upper = name.to_ascii_uppercase();
                match ERRNOS.iter().find(|(n, _)| *n == upper) {
                    Some((_, v)) => *v,
                    None => {
                        let names: Vec<_> = ERRNOS.iter().map(|(n, _)| *n).collect();
                        return err(format!(
                            "nested-errno: unknown errno {name:?} (a number, or one of {})",
                            names.join(", ")
                        ));
                    }
                }
            }
            Some(Errno::Number(n)) => match i32::try_from(*n) {
                Ok(v) if (1..4096).contains(&v) => v,
                _ => return err(format!("nested-errno: {n} is not an errno (1 to 4095)")),
            },
        };
        if self.nested_errno.is_some() && !rules.no_nested {
            return err("nested-errno without nested = false".to_string());
        }
        for s in &self.scope {
            match s.as_str() {
                "signal" => rules.signal_scope = SIGNAL_HERE,
                other => {
                    return err(format!(
                        "scope: unknown scope {other:?} (known: \"signal\")"
                    ))
                }
            }
        }
        Ok(rules)
    }
}

impl Rules {
    /// `struct secns_policy`, as the map holds it.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(POLICY_SIZE);
        v.extend_from_slice(&self.deny_caps.to_ne_bytes());
        v.extend_from_slice(&(if self.no_nested { NO_NESTED } else { 0 }).to_ne_bytes());
        v.extend_from_slice(&self.nested_errno.to_ne_bytes());
        let n = u32::try_from(self.files.len().min(MAX_FILES)).unwrap_or(0);
        v.extend_from_slice(&n.to_ne_bytes());
        v.extend_from_slice(&self.signal_scope.to_ne_bytes());
        let blank = DeniedFile {
            dev: 0,
            ino: 0,
            dir: 0,
            name: Vec::new(),
        };
        for i in 0..MAX_FILES {
            self.files.get(i).unwrap_or(&blank).encode(&mut v);
        }
        v.extend(self.filter().iter().flat_map(|w| w.to_ne_bytes()));
        v
    }

    /// `struct secns_policy.filter`: the bits of every inode that
    /// [`DeniedFile::inode_keys`] gives an `inodes` entry.
    pub fn filter(&self) -> [u64; FILTER_BITS / 64] {
        let mut words = [0u64; FILTER_BITS / 64];
        for f in self.files.iter().take(MAX_FILES) {
            for ino in [Some(f.ino), (f.dir != 0).then_some(f.dir)]
                .into_iter()
                .flatten()
            {
                let bit = filter_bit(f.dev, ino);
                if let Some(w) = words.get_mut(bit / 64) {
                    *w |= 1 << (bit % 64);
                }
            }
        }
        words
    }

    /// Reads back a `struct secns_policy`.
    pub fn decode(b: &[u8]) -> Option<Rules> {
        if b.len() != POLICY_SIZE {
            return None;
        }
        let flags = u32_at(b, 8)?;
        let nr = usize::try_from(u32_at(b, 16)?).ok()?.min(MAX_FILES);
        let files = (0..nr)
            .map(|i| DeniedFile::decode(b.get(24 + FILE_SIZE * i..24 + FILE_SIZE * (i + 1))?))
            .collect::<Option<Vec<_>>>()?;
        Some(Rules {
            deny_caps: u64_at(b, 0)?,
            files,
            no_nested: flags & NO_NESTED != 0,
            nested_errno: i32::from_ne_bytes(b.get(12..16)?.try_into().ok()?),
            signal_scope: u32_at(b, 20)?,
        })
    }

    /// These rules, with those of an ancestor (`inherited`) added: what
    /// applies in a namespace. Nested namespaces are refused if either
    /// refuses them, with the nearer one's errno.
    ///
    /// `depth` is the namespace's: a scope it asks for confines to it, else
    /// the inherited one stays.
    pub fn with_inherited(&self, depth: u32, inherited: &Rules) -> Result<Rules, PolicyError> {
        let mut all = self.clone();
        all.signal_scope = match self.signal_scope {
            0 => inherited.signal_scope,
            _ => depth,
        };
        all.deny_caps |= inherited.deny_caps;
        for f in &inherited.files {
            if !all.files.contains(f) {
                all.files.push(f.clone());
            }
        }
        if all.files.len() > MAX_FILES {
            return err(format!(
                "deny-open: {} files with those of the ancestors, at most {MAX_FILES}",
                all.files.len()
            ));
        }
        if !self.no_nested && inherited.no_nested {
            all.no_nested = true;
            all.nested_errno = inherited.nested_errno;
        }
        Ok(all)
    }

    /// The names of the refused capabilities.
    pub fn capability_names(&self) -> Vec<String> {
        (0..64)
            .filter(|n| self.deny_caps & (1 << n) != 0)
            .map(capability_name)
            .collect()
    }
}

/// What the engine's one `engine` entry says (`struct secns_policy_engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The directory the engine is pinned in, which only the initial
    /// namespace reaches.
    pub dir: FileId,
    /// The layout of the maps ([`ABI`]).
    pub abi: u32,
    /// A hash of the BPF object whose programs are attached.
    pub build: u64,
    /// The inode number of the mount namespace that attached it.
    pub mnt_ns: u64,
}

impl Stamp {
    /// `struct secns_policy_engine`.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(ENGINE_SIZE);
        v.extend_from_slice(&self.dir.dev.to_ne_bytes());
        v.extend_from_slice(&self.dir.ino.to_ne_bytes());
        v.extend_from_slice(&self.abi.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&self.build.to_ne_bytes());
        v.extend_from_slice(&self.mnt_ns.to_ne_bytes());
        v
    }

    /// Reads a `struct secns_policy_engine`; `None` if it has another size
    /// (an engine of another layout).
    pub fn decode(b: &[u8]) -> Option<Stamp> {
        if b.len() != ENGINE_SIZE {
            return None;
        }
        Some(Stamp {
            dir: FileId {
                dev: u64_at(b, 0)?,
                ino: u64_at(b, 8)?,
            },
            abi: u32_at(b, 16)?,
            build: u64_at(b, 24)?,
            mnt_ns: u64_at(b, 32)?,
        })
    }
}

/// What the engine saw of a namespace (`struct secns_policy_ns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The parent's id.
    pub parent: u64,
    /// The namespace whose rules it took when it was created: its nearest
    /// ancestor with rules, or 0.
    pub rules_from: u64,
    /// Its depth.
    pub depth: u32,
    /// Whether a task has entered it (else it is still pending).
    pub entered: bool,
    /// The thread id, in the initial pid namespace, of the task that
    /// created it.
    pub creator: u32,
}

impl Seen {
    /// Reads a `struct secns_policy_ns`.
    pub fn decode(b: &[u8]) -> Option<Seen> {
        if b.len() != NS_SIZE {
            return None;
        }
        Some(Seen {
            parent: u64_at(b, 0)?,
            rules_from: u64_at(b, 8)?,
            depth: u32_at(b, 16)?,
            entered: u32_at(b, 20)? == ENTERED,
            creator: u32_at(b, 24)?,
        })
    }
}

/// A map key or value of 8 bytes: a namespace id.
pub fn id_bytes(id: u64) -> [u8; 8] {
    id.to_ne_bytes()
}

/// The namespace id in a key of 8 bytes.
pub fn id_of(key: &[u8]) -> Option<u64> {
    u64_at(key, 0)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_by_any_name() {
        assert_eq!(capability("CAP_SYS_TIME"), Some(25));
        assert_eq!(capability("sys_time"), Some(25));
        assert_eq!(capability("cap_net_raw"), Some(13));
        assert_eq!(capability("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(capability("CAP_NOPE"), None);
        assert_eq!(capability_name(33), "CAP_MAC_ADMIN");
    }

    #[test]
    fn a_full_policy_resolves() {
        let p = PolicyFile::parse(
            "deny-capabilities = [\"CAP_SYS_TIME\", \"net_raw\"]\n\
             deny-open = [\"/\"]\nnested = false\nnested-errno = \"EACCES\"\n\
             scope = [\"signal\"]\n",
        )
        .map_err(|e| e.to_string())
        .and_then(|p| p.resolve().map_err(|e| e.to_string()));
        let rules = match p {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(rules.deny_caps, (1 << 25) | (1 << 13));
        // "/" is named nowhere: its inode is what is denied.
        assert_eq!(rules.files.len(), 1);
        assert_eq!((rules.files[0].dir, rules.files[0].name.len()), (0, 0));
        assert!(rules.no_nested);
        assert_eq!(rules.nested_errno, libc::EACCES);
        assert_eq!(rules.signal_scope, SIGNAL_HERE);
        assert_eq!(Rules::decode(&rules.encode()), Some(rules));
    }

    #[test]
    fn mistakes_are_refused_with_their_key() {
        for (text, says) in [
            ("deny-capabilities = [\"CAP_NOPE\"]", "unknown capability"),
            ("deny-open = [\"/no/such/file\"]", "/no/such/file"),
            ("nested = false\nnested-errno = \"ENOPE\"", "unknown errno"),
            ("nested = false\nnested-errno = 0", "not an errno"),
            ("nested-errno = \"EPERM\"", "without nested = false"),
            ("deny-open = 3", "deny-open"),
            ("allow = true", "unknown field"),
            ("scope = [\"abstract-unix-socket\"]", "unknown scope"),
        ] {
            let got = PolicyFile::parse(text).and_then(|p| p.resolve().map(|_| ()));
            match got {
                Ok(()) => panic!("{text:?} was accepted"),
                Err(e) => assert!(e.to_string().contains(says), "{text:?}: {e}"),
            }
        }
    }

    #[test]
    fn an_empty_policy_refuses_nothing() {
        let rules = PolicyFile::default().resolve().map_err(|e| e.to_string());
        assert_eq!(
            rules,
            Ok(Rules {
                nested_errno: libc::EPERM,
                ..Rules::default()
            })
        );
    }

    #[test]
    fn layouts_match_policy_h() {
        assert_eq!(Rules::default().encode().len(), POLICY_SIZE);
        assert_eq!(POLICY_SIZE, 2968);
        let stamp = Stamp {
            dir: FileId { dev: 1, ino: 2 },
            abi: ABI,
            build: 7,
            mnt_ns: 4026531841,
        };
        assert_eq!(stamp.encode().len(), ENGINE_SIZE);
        assert_eq!(Stamp::decode(&stamp.encode()), Some(stamp));
        assert_eq!(Stamp::decode(&stamp.encode()[..16]), None);
        let mut ns = Vec::new();
        ns.extend_from_slice(&5u64.to_ne_bytes());
        ns.extend_from_slice(&4u64.to_ne_bytes());
        ns.extend_from_slice(&3u32.to_ne_bytes());
        ns.extend_from_slice(&1u32.to_ne_bytes());
        ns.extend_from_slice(&4242u32.to_ne_bytes());
        ns.extend_from_slice(&0u32.to_ne_bytes());
        assert_eq!(
            Seen::decode(&ns),
            Some(Seen {
                parent: 5,
                rules_from: 4,
                depth: 3,
                entered: true,
                creator: 4242,
            })
        );
        assert_eq!(Seen::decode(&ns[..31]), None);
    }

    #[test]
    fn the_filter_has_the_bits_of_every_indexed_inode_and_only_those() {
        let rules = Rules {
            files: vec![
                DeniedFile {
                    dev: 0x800001,
                    ino: 12,
                    dir: 2,
                    name: b"shadow".to_vec(),
                },
                DeniedFile {
                    dev: 0x2a,
                    ino: 1,
                    dir: 0,
                    name: Vec::new(),
                },
            ],
            ..Rules::default()
        };
        let filter = rules.filter();
        let set = |bit: usize| filter[bit / 64] >> (bit % 64) & 1 == 1;
        let bits = [
            filter_bit(0x800001, 12),
            filter_bit(0x800001, 2),
            filter_bit(0x2a, 1),
        ];
        assert!(bits.iter().all(|b| set(*b)));
        let ones: u32 = filter.iter().map(|w| w.count_ones()).sum();
        let mut distinct = bits.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(usize::try_from(ones).ok(), Some(distinct.len()));
        // The encoded value ends with it; no files, no bits.
        let v = rules.encode();
        assert_eq!(
            v[POLICY_SIZE - 128..POLICY_SIZE - 120],
            filter[0].to_ne_bytes()
        );
        assert_eq!(Rules::default().filter(), [0; 16]);
        // A dev moved to the high half: another inode on another device
        // rarely shares a bit (10 bits, one hash).
        assert_ne!(filter_bit(1, 2), filter_bit(2, 1));
    }

    #[test]
    fn inherited_rules_are_added_and_the_nearer_errno_wins() {
        let f = |ino| DeniedFile {
            dev: 9,
            ino,
            dir: 2,
            name: format!("f{ino}").into_bytes(),
        };
        let parent = Rules {
            deny_caps: 1 << 25,
            files: vec![f(1), f(2)],
            no_nested: true,
            nested_errno: libc::EUSERS,
            signal_scope: 1,
        };
        let own = Rules {
            deny_caps: 1 << 13,
            files: vec![f(2), f(3)],
            no_nested: false,
            nested_errno: libc::EPERM,
            signal_scope: 0,
        };
        let all = own.with_inherited(2, &parent).map_err(|e| e.to_string());
        assert_eq!(
            all,
            Ok(Rules {
                deny_caps: (1 << 25) | (1 << 13),
                files: vec![f(2), f(3), f(1)],
                no_nested: true,
                nested_errno: libc::EUSERS,
                signal_scope: 1,
            })
        );
        // Its own scope and errno are nearer than the parent's.
        let strict = Rules {
            no_nested: true,
            nested_errno: libc::EACCES,
            signal_scope: SIGNAL_HERE,
            ..own.clone()
        };
        let all = strict
            .with_inherited(2, &parent)
            .map(|r| (r.nested_errno, r.signal_scope));
        assert_eq!(all.ok(), Some((libc::EACCES, 2)));
        // With nothing inherited, a scope asked for is the namespace's.
        let alone = strict.with_inherited(5, &Rules::default());
        assert_eq!(alone.ok().map(|r| r.signal_scope), Some(5));
        let many = Rules {
            files: (100..117).map(f).collect(),
            ..Rules::default()
        };
        let full = Rules {
            files: (200..216).map(f).collect(),
            ..Rules::default()
        };
        let e = many.with_inherited(2, &full).map_err(|e| e.to_string());
        assert!(matches!(&e, Err(m) if m.contains("33 files")), "{e:?}");
    }

    #[test]
    fn a_denied_file_is_its_inode_and_its_name() {
        let dir = std::env::temp_dir().join(format!("secns-policy-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("secret");
        let _ = std::fs::write(&file, "x");
        let link = dir.join("link");
        let _ = std::fs::remove_file(&link);
        let _ = std::os::unix::fs::symlink(&file, &link);
        let got = DeniedFile::resolve(&link).map_err(|e| e.to_string());
        let meta = |p: &Path| std::fs::metadata(p).map(|m| m.ino()).unwrap_or(0);
        let (ino, dir_ino) = (meta(&file), meta(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        // The link is followed: the file and its own name are denied.
        let Ok(f) = got else { panic!("{got:?}") };
        assert_eq!((f.ino, f.dir, &f.name[..]), (ino, dir_ino, &b"secret"[..]));
        let keys = f.inode_keys(7);
        assert_eq!(keys.0.len(), 24);
        assert_eq!(
            keys.1.as_ref().map(|k| k[16..].to_vec()),
            Some(dir_ino.to_ne_bytes().to_vec())
        );
        let name = f.name_key(7).unwrap_or_default();
        assert_eq!(name.len(), 24 + NAME_MAX);
        assert_eq!(&name[24..30], b"secret");
        assert!(name[30..].iter().all(|b| *b == 0));
        let long = std::env::temp_dir().join("n".repeat(NAME_MAX));
        let _ = std::fs::write(&long, "x");
        let e = DeniedFile::resolve(&long).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(&long);
        assert!(
            matches!(&e, Err(m) if m.contains("a name of 64 bytes; a denied name has at most 63")),
            "{e:?}"
        );
    }

    #[test]
    fn device_numbers_in_the_kernels_encoding() {
        assert_eq!(kernel_dev(8, 1), (8 << 20) | 1);
        assert_eq!(kernel_dev(259, 300), (259 << 20) | 300);
    }

    #[test]
    fn the_device_of_a_mount_comes_from_mountinfo() {
        let info = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    29 1 0:33 / /home rw shared:1 - btrfs /dev/sda2 rw\n\
                    290 29 0:60 /x /home/x rw - btrfs /dev/sda2 rw\n";
        assert_eq!(mount_dev(info, 22), Some((0, 21, "proc")));
        assert_eq!(mount_dev(info, 29), Some((0, 33, "btrfs")));
        assert_eq!(mount_dev(info, 290), Some((0, 60, "btrfs")));
        assert_eq!(mount_dev(info, 2), None);
        assert_eq!(mount_dev("garbage\n29 1 x\n", 29), None);
        assert_eq!(mount_dev("29 1 0:33 / /home rw\n", 29), None);
    }

    #[test]
    fn a_file_is_named_by_its_mounts_device() {
        let got = file_id(Path::new("/")).map_err(|e| e.to_string());
        let Ok(id) = got else {
            panic!("{got:?}");
        };
        assert_eq!(id.ino, std::fs::metadata("/").map(|m| m.ino()).unwrap_or(0));
        assert_ne!(id.dev, 0);
    }
}
