//! The policy engine on a running kernel: its BPF programs attached to the
//! LSM hooks and its maps, pinned in the BPF file system under [`PIN_DIR`]
//! so that they outlive the command that attached them, and the rules of
//! each namespace written into those maps.
//!
//! The programs guard the engine: outside the initial security namespace no
//! task reaches [`PIN_DIR`], unmounts the BPF file system it is on or takes
//! a BPF object by id, so rules are loaded, shown and detached from the
//! initial namespace only, and a namespace cannot loosen its own.

use crate::bpf::{self, Btf, Map, Object};
use crate::rules::{self, Rules, Seen};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};

/// Where the engine's maps and links are pinned.
pub const PIN_DIR: &str = "/sys/fs/bpf/secns-policy";
/// Where the BPF file system is mounted.
const BPFFS: &str = "/sys/fs/bpf";
/// `BPF_FS_MAGIC`.
const BPF_FS_MAGIC: libc::c_long = 0xcafe_4a11;
/// The active LSMs.
const LSM_FILE: &str = "/sys/kernel/security/lsm";
/// The kernel's BTF.
const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The compiled programs (bpf/policy.bpf.c), embedded by build.rs.
const OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/policy.bpf.o"));

/// The maps, by their names in the object, and the size of their values.
const POLICIES: &str = "policies";
const NAMESPACES: &str = "namespaces";
const ENGINE: &str = "engine";
const VALUE_SIZES: [(&str, usize); 3] = [
    (POLICIES, rules::POLICY_SIZE),
    (NAMESPACES, rules::NS_SIZE),
    (ENGINE, rules::ENGINE_SIZE),
];
/// The secns limit the maps are sized from.
const MAXNS: &str = "/sys/kernel/security/secns/maxns";

/// Why the engine could not do something: one sentence for the user.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<bpf::Error> for Error {
    fn from(e: bpf::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<rules::PolicyError> for Error {
    fn from(e: rules::PolicyError) -> Self {
        Error(e.to_string())
    }
}

/// The result of the engine's operations.
pub type Result<T> = std::result::Result<T, Error>;

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

/// Checks the list of active LSMs (the content of `/sys/kernel/security/lsm`)
/// for what the engine needs: secns and the BPF LSM.
pub fn check_lsms(list: &str) -> Result<()> {
    let active: Vec<&str> = list.trim().split(',').collect();
    if !active.contains(&"secns") {
        return fail(format!(
            "the secns LSM is not active (active LSMs: {}): the kernel needs \
             CONFIG_SECURITY_SECNS and secns in lsm=",
            list.trim()
        ));
    }
    if !active.contains(&"bpf") {
        return fail(format!(
            "the BPF LSM is not active (active LSMs: {}): the kernel needs \
             CONFIG_BPF_LSM and bpf in lsm= (or CONFIG_LSM); without it the \
             programs would load but never run",
            list.trim()
        ));
    }
    Ok(())
}

/// Checks that the running kernel can run the engine.
pub fn preflight() -> Result<()> {
    let list = std::fs::read_to_string(LSM_FILE).or_else(|e| {
        fail(format!(
            "cannot read {LSM_FILE} ({e}): the kernel needs CONFIG_SECURITY and \
             securityfs mounted on /sys/kernel/security"
        ))
    })?;
    check_lsms(&list)?;
    if !Path::new(VMLINUX_BTF).exists() {
        return fail(format!(
            "the kernel has no BTF ({VMLINUX_BTF}): it needs CONFIG_DEBUG_INFO_BTF"
        ));
    }
    Ok(())
}

/// Mounts the BPF file system on /sys/fs/bpf unless it is there.
fn mount_bpffs() -> Result<()> {
    let path = c_path(Path::new(BPFFS))?;
    // SAFETY: an all-zero statfs is a valid value of a plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `st` a statfs that
    // lives across the call.
    if unsafe { libc::statfs(path.as_ptr(), &mut st) } == 0 && st.f_type == BPF_FS_MAGIC {
        return Ok(());
    }
    let fstype = c"bpf";
    // SAFETY: all three strings are NUL-terminated and outlive the call; no
    // mount data.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            path.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return fail(format!(
            "cannot mount the BPF file system on {BPFFS}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn c_path(p: &Path) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .or_else(|_| fail(format!("{} has a NUL byte", p.display())))
}

/// An exclusive lock on the BPF file system's root, so that two commands do
/// not attach the engine twice or interleave their changes.
struct Lock {
    _dir: File,
}

impl Lock {
    fn take() -> Result<Lock> {
        let dir = File::open(BPFFS).or_else(|e| fail(format!("cannot open {BPFFS}: {e}")))?;
        // SAFETY: flock on a descriptor we own; no memory is involved.
        if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return fail(format!(
                "cannot lock {BPFFS}: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Lock { _dir: dir })
    }
}

fn pin_path(name: &str) -> PathBuf {
    Path::new(PIN_DIR).join(name)
}

fn link_name(hook: &str) -> String {
    format!("link-{hook}")
}

/// The engine's programs and maps in the object.
fn object() -> Result<Object> {
    if OBJECT.is_empty() {
        return fail(
            "this secns-policy was built without its BPF programs (build it with \
             SECNS_POLICY_BPF_OBJ naming the compiled bpf/policy.bpf.c)",
        );
    }
    Ok(Object::parse(OBJECT)?)
}

/// Whether every program of the engine is attached (pinned).
pub fn attached() -> Result<bool> {
    let obj = object()?;
    let mut names: Vec<String> = obj.maps().iter().map(|m| m.name.clone()).collect();
    names.extend(obj.programs().map(link_name));
    Ok(names.iter().all(|n| pin_path(n).exists()))
}

/// What [`attach`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// The programs were attached now.
    Attached,
    /// They were already attached.
    Already,
}

/// Loads and attaches the engine's programs and pins them with their maps.
/// Namespaces created from now on are known to the engine.
pub fn attach() -> Result<Attach> {
    preflight()?;
    mount_bpffs()?;
    let _lock = Lock::take()?;
    attach_locked()
}

/// The entries of the maps that hold one per namespace: twice `maxns`, as
/// namespaces leave the count before `secns_free` drops their entries.
fn capacity() -> Result<u32> {
    let maxns: u32 = std::fs::read_to_string(MAXNS)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Error(format!("cannot read {MAXNS}")))?;
    Ok(maxns.saturating_mul(2).clamp(1024, 1 << 20))
}

fn attach_locked() -> Result<Attach> {
    if attached()? {
        return Ok(Attach::Already);
    }
    // What a failed attach may have left.
    remove_pins()?;
    let obj = object()?;
    for (name, size) in VALUE_SIZES {
        let def = obj.maps().iter().find(|m| m.name == name);
        if def.map(|d| d.value_size) != u32::try_from(size).ok() {
            return fail(format!(
                "the BPF object's map {name} does not hold what the loader writes \
                 ({size} bytes): bpf/policy.h and src/rules.rs disagree"
            ));
        }
    }
    let kernel = Btf::vmlinux()?;
    let entries = capacity()?;
    let mut maps = HashMap::new();
    for def in obj.maps() {
        let mut def = def.clone();
        if def.name == POLICIES || def.name == NAMESPACES {
            def.max_entries = entries;
        }
        maps.insert(def.name.clone(), Map::create(&def)?);
    }
    let by_name: HashMap<String, &Map> = maps.iter().map(|(k, v)| (k.clone(), v)).collect();
    let mut links = Vec::new();
    for hook in obj.programs() {
        let prog = obj.load_lsm(hook, &by_name, &kernel)?;
        let link = bpf::attach_lsm(prog.as_fd())?;
        links.push((hook.to_string(), link));
    }
    std::fs::create_dir_all(PIN_DIR).or_else(|e| fail(format!("cannot create {PIN_DIR}: {e}")))?;
    let pinned = (|| -> Result<()> {
        // From here on, only the initial namespace reaches the directory.
        let dir = rules::file_id(Path::new(PIN_DIR))?;
        let Some(engine) = maps.get(ENGINE) else {
            return fail("the BPF object has no engine map");
        };
        engine.update(&0u32.to_ne_bytes(), &rules::engine_value(dir), bpf::BPF_ANY)?;
        for (name, map) in &maps {
            map.pin(&pin_path(name))?;
        }
        for (hook, link) in &links {
            bpf::pin(link.as_fd(), &pin_path(&link_name(hook)))?;
        }
        Ok(())
    })();
    if let Err(e) = pinned {
        remove_pins()?;
        return Err(e);
    }
    Ok(Attach::Attached)
}

/// Removes the pins (the programs detach when their links' last reference
/// goes, the maps are freed with their last user).
fn remove_pins() -> Result<()> {
    let dir = match std::fs::read_dir(PIN_DIR) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return fail(format!("cannot read {PIN_DIR}: {e}")),
    };
    for entry in dir {
        let path = entry
            .or_else(|e| fail(format!("cannot read {PIN_DIR}: {e}")))?
            .path();
        std::fs::remove_file(&path)
            .or_else(|e| fail(format!("cannot remove {}: {e}", path.display())))?;
    }
    std::fs::remove_dir(PIN_DIR).or_else(|e| fail(format!("cannot remove {PIN_DIR}: {e}")))
}

/// Detaches the engine: every rule goes with its maps.
pub fn detach() -> Result<bool> {
    mount_bpffs()?;
    let _lock = Lock::take()?;
    let was = Path::new(PIN_DIR).exists();
    remove_pins()?;
    Ok(was)
}

/// The engine's maps, opened from their pins.
pub struct Engine {
    policies: Map,
    namespaces: Map,
    _lock: Lock,
}

impl Engine {
    /// Opens the maps of the attached engine, holding the engine's lock
    /// until dropped.
    pub fn open() -> Result<Engine> {
        if std::fs::symlink_metadata(PIN_DIR).is_err_and(|e| e.raw_os_error() == Some(libc::ENOENT))
        {
            return fail(format!(
                "the policy engine is not attached ({PIN_DIR} does not exist): run \
                 `secns-policy attach` first (namespaces created before it are not known to it)"
            ));
        }
        let lock = Lock::take()?;
        let open = |name: &str| -> Result<Map> {
            Map::open_pinned(&pin_path(name)).map_err(|e| {
                if e.errno() == Some(libc::EACCES) {
                    Error(format!(
                        "{e}: the engine is reachable from the initial security namespace only"
                    ))
                } else {
                    e.into()
                }
            })
        };
        Ok(Engine {
            policies: open(POLICIES)?,
            namespaces: open(NAMESPACES)?,
            _lock: lock,
        })
    }

    /// What the engine saw of namespace `id`, if it knows it.
    pub fn seen(&self, id: u64) -> Result<Option<Seen>> {
        Ok(self
            .namespaces
            .lookup(&rules::id_bytes(id), rules::NS_SIZE)?
            .as_deref()
            .and_then(Seen::decode))
    }

    /// The rules of namespace `id`, if it has some.
    pub fn rules(&self, id: u64) -> Result<Option<Rules>> {
        Ok(self
            .policies
            .lookup(&rules::id_bytes(id), rules::POLICY_SIZE)?
            .as_deref()
            .and_then(Rules::decode))
    }

    /// Checks that namespace `ns` may get rules from a caller in namespace
    /// `caller`: the engine saw it created, no task has entered it yet, and
    /// it is the caller's namespace's descendant.
    fn check_pending_below(&self, ns: u64, caller: u64) -> Result<()> {
        if ns == 0 {
            return fail("namespace 0 is the initial namespace: its rules are the host's own");
        }
        let Some(seen) = self.seen(ns)? else {
            return fail(format!(
                "namespace {ns} is not known to the policy engine: there is no such \
                 namespace, or it was created before the engine was attached"
            ));
        };
        if seen.entered {
            return fail(format!(
                "namespace {ns} is not pending: a task has entered it already, and \
                 rules are loaded while a namespace is pending"
            ));
        }
        let mut up = seen;
        for _ in 0..=rules::MAX_DEPTH {
            if up.parent == caller {
                return Ok(());
            }
            if up.parent == 0 {
                break;
            }
            match self.seen(up.parent)? {
                Some(s) => up = s,
                None => {
                    return fail(format!(
                        "namespace {ns} may not be in the caller's tree: its ancestor {} was \
                         created before the policy engine was attached",
                        up.parent
                    ))
                }
            }
        }
        fail(format!(
            "namespace {ns} is not in the caller's tree: the caller is in namespace \
             {caller}, which is not its ancestor"
        ))
    }

    /// Gives namespace `ns` the rules `new`, replacing those it had: one
    /// map update, under the engine's lock.
    pub fn load(&self, ns: u64, new: &Rules) -> Result<()> {
        let caller = secns::status()
            .or_else(|e| fail(format!("cannot read the caller's security namespace: {e}")))?
            .id;
        self.check_pending_below(ns, caller)?;
        self.policies
            .update(&rules::id_bytes(ns), &new.encode(), bpf::BPF_ANY)
            .map_err(|e| {
                if e.errno() == Some(libc::E2BIG) {
                    Error(format!("{e}: the engine's map of rules is full"))
                } else {
                    e.into()
                }
            })?;
        // secns_free drops the namespace from `namespaces` before its rules:
        // if it ran since the check, the rules may have come after it.
        match self.seen(ns)? {
            None => {
                self.policies.delete(&rules::id_bytes(ns))?;
                fail(format!(
                    "namespace {ns} went away while its rules were being loaded"
                ))
            }
            Some(s) if s.entered => fail(format!(
                "namespace {ns} was entered while its rules were being loaded: they \
                 apply from now on, not to what ran before"
            )),
            Some(_) => Ok(()),
        }
    }

    /// Everything the maps hold, by namespace.
    pub fn dump(&self) -> Result<Dump> {
        let mut namespaces: BTreeMap<u64, NsView> = BTreeMap::new();
        let ns_keys = self.namespaces.keys(8)?;
        let policy_keys = self.policies.keys(8)?;
        for key in &ns_keys {
            let Some(id) = rules::id_of(key) else {
                continue;
            };
            let seen = self.seen(id)?;
            namespaces.entry(id).or_insert_with(|| NsView::new(id)).seen = seen;
        }
        for key in &policy_keys {
            let Some(id) = rules::id_of(key) else {
                continue;
            };
            let r = self.rules(id)?;
            namespaces
                .entry(id)
                .or_insert_with(|| NsView::new(id))
                .rules = r;
        }
        Ok(Dump {
            namespaces: namespaces.into_values().collect(),
            entries: Entries {
                namespaces: ns_keys.len(),
                policies: policy_keys.len(),
            },
        })
    }
}

/// One namespace in the maps.
#[derive(Debug)]
pub struct NsView {
    /// Its id.
    pub id: u64,
    /// What the engine saw of it (None: rules without a namespace, which
    /// only a concurrent free leaves for an instant).
    pub seen: Option<Seen>,
    /// Its rules.
    pub rules: Option<Rules>,
}

impl NsView {
    fn new(id: u64) -> Self {
        NsView {
            id,
            seen: None,
            rules: None,
        }
    }
}

/// The entries of each map.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Entries {
    /// In `namespaces`.
    pub namespaces: usize,
    /// In `policies`.
    pub policies: usize,
}

/// The maps' content.
#[derive(Debug)]
pub struct Dump {
    /// By namespace id.
    pub namespaces: Vec<NsView>,
    /// The map sizes.
    pub entries: Entries,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lsm_list_must_have_secns_and_bpf() {
        assert!(check_lsms("capability,landlock,lockdown,secns,yama,bpf\n").is_ok());
        let e = check_lsms("capability,landlock,lockdown,secns,yama").map_err(|e| e.to_string());
        assert!(
            matches!(&e, Err(m) if m.contains("BPF LSM is not active")),
            "{e:?}"
        );
        let e = check_lsms("capability,bpf").map_err(|e| e.to_string());
        assert!(
            matches!(&e, Err(m) if m.contains("secns LSM is not active")),
            "{e:?}"
        );
        // A name that only contains "bpf" is not bpf.
        assert!(check_lsms("secns,notbpf").is_err());
    }
}
