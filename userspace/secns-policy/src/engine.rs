//! The policy engine on a running kernel: its BPF programs attached to the
//! LSM hooks and its maps, pinned in the BPF file system under [`PIN_DIR`]
//! so that they outlive the command that attached them, and the rules of
//! each namespace written into those maps.
//!
//! The programs guard the engine: outside the initial security namespace no
//! task reaches [`PIN_DIR`], unmounts the BPF file system it is on or takes
//! a BPF object by id, so rules are loaded, shown and detached from the
//! initial namespace only, and a namespace cannot loosen its own.

use crate::bpf;
use crate::rules::{self, Rules, Seen, Stamp};
use libbpf_rs::{MapCore, MapFlags, MapHandle, Object};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::os::fd::AsRawFd;
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
const INODES: &str = "inodes";
const NAMES: &str = "names";
const GUARDED: &str = "guarded";
/// `SECNS_POLICY_MOUNT` and `SECNS_POLICY_MAP`, the kinds of `guarded`.
const GUARDED_MOUNT: u32 = 1;
const GUARDED_MAP: u32 = 2;
const ENGINE: &str = "engine";
const VALUE_SIZES: [(&str, usize); 4] = [
    (POLICIES, rules::POLICY_SIZE),
    (INODES, INODE_SIZE),
    (NAMESPACES, rules::NS_SIZE),
    (ENGINE, rules::ENGINE_SIZE),
];
/// The hooks only file rules need (`file_receive` guards the engine too,
/// and is attached with the others). `attach` leaves them out and the first
/// `load` of rules with files attaches them, so that while no namespace has
/// file rules, opening a file costs the host nothing: a BPF program on
/// `file_open`, even one that returns at once, costs the BPF LSM's
/// trampoline and a call, about 5 % of an open and close (DESIGN.md §7).
/// Once attached they stay, until `detach`.
const FILE_HOOKS: [&str; 4] = ["file_open", "inode_link", "file_ioctl", "file_ioctl_compat"];
/// The size of `struct secns_policy_inode`, the value of `inodes`.
const INODE_SIZE: usize = 16;
/// The engine map's one key.
const ENGINE_KEY: [u8; 4] = [0; 4];
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

/// `what` failed with `e`, an error of libbpf; E2BIG is a full map.
fn full(what: String) -> impl FnOnce(libbpf_rs::Error) -> Error {
    move |e| {
        if e.kind() == libbpf_rs::ErrorKind::TooBig {
            Error(format!("{what}: {e}: the engine's maps are full"))
        } else {
            bpf_err(what)(e)
        }
    }
}

/// `what` failed with `e`, an error of libbpf.
fn bpf_err(what: impl Into<String>) -> impl FnOnce(libbpf_rs::Error) -> Error {
    move |e| Error(bpf::Error::new(what, e).to_string())
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

/// Whether `path` is a BPF file system.
fn is_bpffs(path: &Path) -> Result<bool> {
    let c = c_path(path)?;
    // SAFETY: an all-zero statfs is a valid value of a plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated string and `st` a statfs that lives
    // across the call.
    Ok(unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0 && st.f_type == BPF_FS_MAGIC)
}

/// Mounts a BPF file system of its own (a new instance) on `path`.
fn mount_bpf(path: &Path, source: &std::ffi::CStr, data: Option<&std::ffi::CStr>) -> Result<()> {
    let c = c_path(path)?;
    let fstype = c"bpf";
    // SAFETY: the strings are NUL-terminated and outlive the call; the
    // data, if any, is a NUL-terminated option string.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            c.as_ptr(),
            fstype.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data.map_or(std::ptr::null(), |d| d.as_ptr().cast()),
        )
    };
    if rc != 0 {
        return fail(format!(
            "cannot mount a BPF file system on {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Mounts the BPF file system on /sys/fs/bpf unless it is there.
fn mount_bpffs() -> Result<()> {
    if is_bpffs(Path::new(BPFFS))? {
        return Ok(());
    }
    mount_bpf(Path::new(BPFFS), c"bpf", None)
}

/// Whether [`PIN_DIR`] is the engine's own BPF file system: a mount of its
/// own, not a directory of /sys/fs/bpf.
fn own_mount() -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &str| std::fs::metadata(p).map(|m| m.dev());
    match (dev(PIN_DIR), dev(BPFFS)) {
        (Ok(pins), Ok(parent)) => Ok(pins != parent && is_bpffs(Path::new(PIN_DIR))?),
        (Err(e), _) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        (Err(e), _) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(unreachable(Path::new(PIN_DIR), e))
        }
        (Err(e), _) | (_, Err(e)) => fail(format!("cannot stat {PIN_DIR}: {e}")),
    }
}

/// Makes [`PIN_DIR`] the engine's own BPF file system, readable by root
/// only; the engine's programs keep every task outside the initial
/// namespace out of all of it.
fn make_own_mount() -> Result<()> {
    if own_mount()? {
        return Ok(());
    }
    match std::fs::read_dir(PIN_DIR) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return fail(format!(
                    "{PIN_DIR} holds an engine of another version, pinned in /sys/fs/bpf \
                     itself: `secns-policy detach --force` drops it with every rule"
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(PIN_DIR)
                .or_else(|e| fail(format!("cannot create {PIN_DIR}: {e}")))?;
        }
        Err(e) => return fail(format!("cannot read {PIN_DIR}: {e}")),
    }
    mount_bpf(Path::new(PIN_DIR), c"secns-policy", Some(c"mode=0700"))
}

/// The unique id of the mount `path` is on (`STATX_MNT_ID_UNIQUE`).
fn unique_mount_id(path: &Path) -> Result<u64> {
    const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
    let c = c_path(path)?;
    // SAFETY: an all-zero statx is a valid value of a plain C struct.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `stx` a statx, both alive across
    // the call.
    let rc = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, STATX_MNT_ID_UNIQUE, &mut stx) };
    if rc != 0 || stx.stx_mask & STATX_MNT_ID_UNIQUE == 0 {
        return fail(format!(
            "cannot read the unique mount id of {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(stx.stx_mnt_id)
}

/// The inode number of the caller's mount namespace.
fn mount_namespace() -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/mnt")
        .map(|m| m.ino())
        .or_else(|e| fail(format!("cannot stat /proc/self/ns/mnt: {e}")))
}

/// `struct secns_policy_guarded`.
fn guarded_key(kind: u32, id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&kind.to_ne_bytes());
    k.extend_from_slice(&0u32.to_ne_bytes());
    k.extend_from_slice(&id.to_ne_bytes());
    k
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

/// The hook of a program of the object: its section is `lsm/<hook>`.
fn hook_of(section: &std::ffi::OsStr) -> Option<&str> {
    section.to_str()?.strip_prefix("lsm/")
}

/// The build stamp of the embedded object: its FNV-1a hash. Attaching the
/// same object again changes nothing; another one replaces the programs.
fn build_stamp() -> u64 {
    OBJECT.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn check_built() -> Result<()> {
    if OBJECT.is_empty() {
        return fail(
            "this secns-policy was built without its BPF programs (build it with \
             SECNS_POLICY_BPF_OBJ naming the compiled bpf/policy.bpf.c)",
        );
    }
    Ok(())
}

/// The message for `path`, which the engine's programs keep the caller
/// from reaching.
fn unreachable(path: &Path, e: impl fmt::Display) -> Error {
    Error(format!(
        "cannot reach {}: {e}: the engine is reachable from the initial security \
         namespace only",
        path.display()
    ))
}

/// Whether `name` is pinned. An error other than its absence (the guard's
/// EACCES, for a caller outside the initial namespace) is an error.
fn pinned(name: &str) -> Result<bool> {
    let path = pin_path(name);
    match std::fs::symlink_metadata(&path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(unreachable(&path, e)),
        Err(e) => fail(format!("cannot reach {}: {e}", path.display())),
    }
}

/// Opens a pinned map, with the message a user needs when that fails.
fn open_pinned(name: &str) -> Result<MapHandle> {
    let path = pin_path(name);
    MapHandle::from_pinned_path(&path).map_err(|e| {
        if e.kind() == libbpf_rs::ErrorKind::PermissionDenied {
            unreachable(&path, e)
        } else {
            Error(format!("cannot open {}: {e}", path.display()))
        }
    })
}

/// What the pinned `engine` map says: `None` if there is no engine pinned,
/// `Some(None)` if the engine is of another layout.
fn pinned_stamp() -> Result<Option<Option<Stamp>>> {
    if !pinned(ENGINE)? {
        return Ok(None);
    }
    let map = open_pinned(ENGINE)?;
    let value = map
        .lookup(&ENGINE_KEY, MapFlags::ANY)
        .map_err(bpf_err("cannot read the engine's stamp"))?;
    Ok(Some(value.as_deref().and_then(Stamp::decode)))
}

/// What [`attach`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    /// The programs were attached now.
    Attached,
    /// They were already attached, from the same object.
    Already,
    /// Another object's programs were attached (another version of
    /// secns-policy, or an attach cut short): they were replaced, or
    /// attached where they were missing, and the maps with every rule
    /// were kept.
    Upgraded,
}

/// Loads and attaches the engine's programs and pins them with their maps.
/// Namespaces created from now on are known to the engine.
///
/// Idempotent: an engine attached from the same object is left as it is.
/// An engine attached by another version keeps its maps, and with them
/// every rule; its programs are replaced hook by hook, each pinned link
/// taking the new program in place (`BPF_LINK_UPDATE`, see
/// [`replace_prog`]). An engine whose maps have another layout is refused:
/// it must be detached first.
pub fn attach() -> Result<Attach> {
    check_built()?;
    preflight()?;
    mount_bpffs()?;
    let _lock = Lock::take()?;
    attach_locked()
}

/// The entries of the maps that hold one per namespace: `maxns`, as a
/// namespace leaves the count only after `secns_free` dropped its entries.
fn capacity() -> Result<u32> {
    let maxns: u32 = std::fs::read_to_string(MAXNS)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Error(format!("cannot read {MAXNS}")))?;
    Ok(maxns.clamp(1024, 1 << 20))
}

/// The names of the pinned links, `link-<hook>`.
fn pinned_links() -> Result<Vec<String>> {
    pinned_starting("link-")
}

/// The names of the pins that start with `prefix`.
fn pinned_starting(prefix: &str) -> Result<Vec<String>> {
    let dir = match std::fs::read_dir(PIN_DIR) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return fail(format!("cannot read {PIN_DIR}: {e}")),
    };
    let mut names = Vec::new();
    for entry in dir {
        let entry = entry.or_else(|e| fail(format!("cannot read {PIN_DIR}: {e}")))?;
        if let Some(name) = entry.file_name().to_str() {
            if name.starts_with(prefix) {
                names.push(name.to_string());
            }
        }
    }
    Ok(names)
}

fn attach_locked() -> Result<Attach> {
    let build = build_stamp();
    let before = pinned_stamp()?;
    refuse_leftovers()?;
    let mut open = bpf::open(OBJECT, "secns-policy")?;
    let hooks: Vec<String> = open
        .progs()
        .filter_map(|p| hook_of(p.section()).map(str::to_string))
        .collect();
    match before {
        Some(None) => {
            return fail(format!(
                "the engine attached in {PIN_DIR} keeps its rules in another layout than \
                 this secns-policy (layout {}): it cannot be upgraded in place; \
                 `secns-policy detach --force` drops it with every rule",
                rules::ABI
            ))
        }
        Some(Some(stamp)) if stamp.abi != rules::ABI => {
            return fail(format!(
                "the engine attached in {PIN_DIR} keeps its rules in layout {}, this \
                 secns-policy in layout {}: it cannot be upgraded in place; \
                 `secns-policy detach --force` drops it with every rule",
                stamp.abi,
                rules::ABI
            ))
        }
        Some(Some(stamp))
            if stamp.build == build
                && [POLICIES, NAMESPACES, INODES, NAMES, GUARDED, ENGINE]
                    .iter()
                    .all(|m| pin_path(m).exists())
                && hooks
                    .iter()
                    .filter(|h| !FILE_HOOKS.contains(&h.as_str()))
                    .all(|h| pin_path(&link_name(h)).exists()) =>
        {
            return Ok(Attach::Already)
        }
        _ => {}
    }
    let entries = capacity()?;
    for mut map in open.maps_mut() {
        let name = map.name().to_string_lossy().into_owned();
        if let Some((_, size)) = VALUE_SIZES.iter().find(|(n, _)| *n == name) {
            if usize::try_from(map.value_size()).ok() != Some(*size) {
                return fail(format!(
                    "the BPF object's map {name} does not hold what the loader writes \
                     ({size} bytes): bpf/policy.h and src/rules.rs disagree"
                ));
            }
        }
        let pin = pin_path(&name);
        if pin.exists() {
            // The rules stay where they are: the new programs use the
            // pinned maps (libbpf takes their definition from them).
            map.reuse_pinned_map(&pin)
                .map_err(bpf_err(format!("cannot reuse {}", pin.display())))?;
        } else if let Some(n) = [(POLICIES, 1), (NAMESPACES, 1), (INODES, 16), (NAMES, 8)]
            .iter()
            .find_map(|(m, per_ns)| (*m == name).then_some(per_ns))
        {
            // inodes and names: room for 16 and 8 per namespace (32 and
            // 64 for one namespace with the most files).
            let max = entries.saturating_mul(*n).min(1 << 20);
            map.set_max_entries(max)
                .map_err(bpf_err(format!("cannot size the map {name}")))?;
        }
    }
    let mut obj = bpf::load(open, "secns-policy")?;
    make_own_mount()?;
    let done = install(&mut obj, &hooks, build);
    match (done, before) {
        (Ok(()), None) => Ok(Attach::Attached),
        (Ok(()), Some(_)) => Ok(Attach::Upgraded),
        (Err(e), None) => {
            // Nothing of value was there: leave nothing half attached.
            remove_pins()?;
            Err(e)
        }
        // Never drop maps that hold rules: the next attach completes it.
        (Err(e), Some(_)) => Err(e),
    }
}

/// Pins the loaded object's maps where they are not pinned yet, attaches
/// its programs (into the pinned links, and pinning the others but those
/// of [`FILE_HOOKS`]), detaches the links of hooks it has no program for,
/// and stamps the engine.
fn install(obj: &mut Object, hooks: &[String], build: u64) -> Result<()> {
    // From here on, only the initial namespace reaches the directory.
    let dir = rules::file_id(Path::new(PIN_DIR))?;
    for mut map in obj.maps_mut() {
        let name = map.name().to_string_lossy().into_owned();
        let pin = pin_path(&name);
        if !pin.exists() {
            map.pin(&pin)
                .map_err(bpf_err(format!("cannot pin {}", pin.display())))?;
        }
    }
    // Once some namespace has file rules, every file hook is attached, the
    // ones this version adds too.
    let files = FILE_HOOKS.iter().any(|h| pin_path(&link_name(h)).exists());
    for mut prog in obj.progs_mut() {
        let Some(hook) = hook_of(prog.section()).map(str::to_string) else {
            continue;
        };
        let pin = pin_path(&link_name(&hook));
        if pin.exists() {
            replace_prog(&prog, &hook, &pin)?;
        } else if files || !FILE_HOOKS.contains(&hook.as_str()) {
            attach_and_pin(&mut prog, &hook, &pin)?;
        }
        // (Else a file hook waits for the first file rules.)
    }
    for name in pinned_links()? {
        if !hooks.iter().any(|h| link_name(h) == name) {
            let pin = pin_path(&name);
            std::fs::remove_file(&pin)
                .or_else(|e| fail(format!("cannot remove {}: {e}", pin.display())))?;
        }
    }
    guard(obj)?;
    let stamp = Stamp {
        dir,
        abi: rules::ABI,
        build,
        mnt_ns: mount_namespace()?,
    };
    let Some(engine) = obj.maps().find(|m| m.name() == ENGINE) else {
        return fail("the BPF object has no engine map");
    };
    engine
        .update(&ENGINE_KEY, &stamp.encode(), MapFlags::ANY)
        .map_err(bpf_err("cannot write the engine's stamp"))
}

/// Gives the link pinned at `pin` the program `prog` (`BPF_LINK_UPDATE`).
///
/// The link keeps its place on the hook, and no hook call runs neither
/// program: the kernel swaps the program under the hook's trampoline lock,
/// and a task that entered the hook before runs the old one, which the old
/// trampoline image holds until no task can be in it.
fn replace_prog(prog: &libbpf_rs::Program<'_>, hook: &str, pin: &Path) -> Result<()> {
    let mut link = libbpf_rs::Link::open(pin)
        .map_err(bpf_err(format!("cannot open the link {}", pin.display())))?;
    link.update_prog(prog).map_err(bpf_err(format!(
        "cannot replace the program of lsm/{hook} in its link (BPF_LINK_UPDATE; a \
         kernel without \"bpf: let BPF_LINK_UPDATE replace the prog of a tracing or \
         LSM link\" refuses it with EINVAL)"
    )))
}

/// Refuses to upgrade over the links an earlier secns-policy left next to
/// the pinned ones when a task was inside a hook during its upgrade
/// (`old-link-<hook>`, `new-link-<hook>`): only that version knows when
/// they may go.
fn refuse_leftovers() -> Result<()> {
    let mut left = pinned_starting("old-link-")?;
    left.extend(pinned_starting("new-link-")?);
    if left.is_empty() {
        return Ok(());
    }
    left.sort();
    fail(format!(
        "{} in {PIN_DIR} were left by an earlier secns-policy's upgrade, a task being \
         inside a hook: attach with that version once the task has left, or \
         `secns-policy detach --force` drops the engine with every rule",
        left.join(", ")
    ))
}

/// Attaches `prog` to `lsm/hook` and pins its link at `pin`.
fn attach_and_pin(prog: &mut libbpf_rs::ProgramMut<'_>, hook: &str, pin: &Path) -> Result<()> {
    let mut link = prog
        .attach_lsm()
        .map_err(bpf_err(format!("cannot attach the program of lsm/{hook}")))?;
    link.pin(pin)
        .map_err(bpf_err(format!("cannot pin {}", pin.display())))
}

/// Attaches the programs of [`FILE_HOOKS`] that are not attached yet, with
/// the pinned maps. Called under the engine's lock, before the first rules
/// with files are written: a namespace never has file rules that no
/// program enforces.
fn attach_file_hooks(stamp: &Stamp) -> Result<()> {
    if FILE_HOOKS.iter().all(|h| pin_path(&link_name(h)).exists()) {
        return Ok(());
    }
    if stamp.build != build_stamp() {
        return fail(
            "the engine was attached by another secns-policy, and these rules need \
             its file hooks: `secns-policy attach` with this one upgrades it first",
        );
    }
    let mut open = bpf::open(OBJECT, "secns-policy")?;
    for mut map in open.maps_mut() {
        let pin = pin_path(&map.name().to_string_lossy());
        map.reuse_pinned_map(&pin)
            .map_err(bpf_err(format!("cannot reuse {}", pin.display())))?;
    }
    let obj = bpf::load(open, "secns-policy")?;
    for mut prog in obj.progs_mut() {
        let Some(hook) = hook_of(prog.section()).map(str::to_string) else {
            continue;
        };
        let pin = pin_path(&link_name(&hook));
        if FILE_HOOKS.contains(&hook.as_str()) && !pin.exists() {
            attach_and_pin(&mut prog, &hook, &pin)?;
        }
    }
    Ok(())
}

/// Writes what the engine guards: the unique ids of the mount it is pinned
/// in and of every mount above it (unmounting any of them would free the
/// engine's file system with every pin), and the ids of its maps.
fn guard(obj: &Object) -> Result<()> {
    let Some(guarded) = obj.maps().find(|m| m.name() == GUARDED) else {
        return fail("the BPF object has no guarded map");
    };
    let mut keys = Vec::new();
    for dir in Path::new(PIN_DIR).ancestors() {
        let key = guarded_key(GUARDED_MOUNT, unique_mount_id(dir)?);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for map in obj.maps() {
        let id = map
            .info()
            .map_err(bpf_err(format!(
                "cannot read the id of the map {:?}",
                map.name()
            )))?
            .info
            .id;
        keys.push(guarded_key(GUARDED_MAP, id.into()));
    }
    for key in keys {
        guarded
            .update(&key, &1u32.to_ne_bytes(), MapFlags::ANY)
            .map_err(bpf_err("cannot write the map of guarded objects"))?;
    }
    Ok(())
}

/// Removes the pins (the programs detach when their links' last reference
/// goes, the maps are freed with their last user).
fn remove_pins() -> Result<()> {
    let mounted = own_mount()?;
    // The kernel releases a link from a work item after its last reference
    // goes, so programs leave their hooks one by one, a little after their
    // pins: task_secns_init goes first, alone, lest it record namespaces
    // for a secns_free that is gone already (its map would fill up and
    // refuse every namespace with ENOSPC).
    let first = pin_path(&link_name("task_secns_init"));
    let first_id: Vec<u32> = link_id(&first).into_iter().collect();
    match std::fs::remove_file(&first) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return fail(format!("cannot remove {}: {e}", first.display())),
    }
    wait_released(&first_id)?;
    let ids: Vec<u32> = pinned_links()?
        .iter()
        .filter_map(|name| link_id(&pin_path(name)))
        .collect();
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
    if mounted {
        let c = c_path(Path::new(PIN_DIR))?;
        // SAFETY: a NUL-terminated path; nothing else is involved.
        if unsafe { libc::umount2(c.as_ptr(), 0) } != 0 {
            return fail(format!(
                "cannot unmount {PIN_DIR}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    std::fs::remove_dir(PIN_DIR).or_else(|e| fail(format!("cannot remove {PIN_DIR}: {e}")))?;
    wait_released(&ids)
}

/// The id of the link pinned at `pin`, if there is one.
fn link_id(pin: &Path) -> Option<u32> {
    libbpf_rs::Link::open(pin)
        .and_then(|l| l.info())
        .ok()
        .map(|info| info.id)
}

/// Waits (up to 10 s) until none of the links `ids` exists any more.
fn wait_released(ids: &[u32]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for _ in 0..1000 {
        if !libbpf_rs::query::LinkInfoIter::default().any(|l| ids.contains(&l.id)) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    fail("the engine's programs were still attached 10 s after their pins were removed")
}

/// What [`detach`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detach {
    /// The engine was detached.
    Detached,
    /// There was no engine attached.
    NotAttached,
}

/// Detaches the engine. Rules go with it: while some namespace has rules,
/// this is refused unless `force` is set.
pub fn detach(force: bool) -> Result<Detach> {
    mount_bpffs()?;
    let _lock = Lock::take()?;
    if !Path::new(PIN_DIR).exists() {
        return Ok(Detach::NotAttached);
    }
    if !force && pinned(POLICIES)? {
        let with_rules = open_pinned(POLICIES)?.keys().count();
        if with_rules > 0 {
            return fail(format!(
                "{with_rules} namespace(s) have rules, which detaching would drop while \
                 their tasks run: `secns-policy detach --force` does it anyway"
            ));
        }
    }
    remove_pins()?;
    Ok(Detach::Detached)
}

/// The engine's maps, opened from their pins.
pub struct Engine {
    policies: MapHandle,
    namespaces: MapHandle,
    inodes: MapHandle,
    names: MapHandle,
    stamp: Stamp,
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
        let stamp = match pinned_stamp()? {
            Some(Some(stamp)) if stamp.abi == rules::ABI => stamp,
            _ => {
                return fail(format!(
                    "the engine attached in {PIN_DIR} is not one this secns-policy can \
                     read (another layout, or an attach cut short): `secns-policy attach` \
                     upgrades or completes it"
                ))
            }
        };
        Ok(Engine {
            policies: open_pinned(POLICIES)?,
            namespaces: open_pinned(NAMESPACES)?,
            inodes: open_pinned(INODES)?,
            names: open_pinned(NAMES)?,
            stamp,
            _lock: lock,
        })
    }

    /// What the engine saw of namespace `id`, if it knows it.
    pub fn seen(&self, id: u64) -> Result<Option<Seen>> {
        Ok(self
            .namespaces
            .lookup(&rules::id_bytes(id), MapFlags::ANY)
            .map_err(bpf_err(format!("cannot look namespace {id} up")))?
            .as_deref()
            .and_then(Seen::decode))
    }

    /// The rules that apply in namespace `id` (its own and its ancestors'),
    /// if it had rules loaded.
    pub fn rules(&self, id: u64) -> Result<Option<Rules>> {
        Ok(self
            .policies
            .lookup(&rules::id_bytes(id), MapFlags::ANY)
            .map_err(bpf_err(format!("cannot look the rules of {id} up")))?
            .as_deref()
            .and_then(Rules::decode))
    }

    /// Checks that namespace `ns` may get rules from a caller in namespace
    /// `caller`: the engine saw it created, no task has entered it yet, and
    /// it is the caller's namespace's descendant.
    fn check_pending_below(&self, ns: u64, caller: u64) -> Result<Seen> {
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
                return Ok(seen);
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

    /// The pending namespace that the task `pid` (a thread id in the
    /// initial pid namespace) created, as the engine recorded it.
    pub fn pending_of(&self, pid: u32) -> Result<u64> {
        let mut found = None;
        for key in self.namespaces.keys() {
            let Some(id) = rules::id_of(&key) else {
                continue;
            };
            if let Some(seen) = self.seen(id)? {
                if seen.creator == pid && !seen.entered {
                    // A task has one pending namespace at a time; one
                    // being freed may linger an instant: the newest wins.
                    found = found.max(Some(id));
                }
            }
        }
        found.ok_or_else(|| {
            Error(format!(
                "process {pid} has no pending security namespace that the policy engine \
                 knows: it created none since `secns-policy attach`, entered it already, or \
                 is not a process of the initial pid namespace's view"
            ))
        })
    }

    /// Gives namespace `ns` the rules `new`, replacing those it had, with
    /// those of its nearest ancestor with rules added: one map update,
    /// under the engine's lock.
    pub fn load(&self, ns: u64, new: &Rules) -> Result<()> {
        let caller = secns::status()
            .or_else(|e| fail(format!("cannot read the caller's security namespace: {e}")))?
            .id;
        let seen = self.check_pending_below(ns, caller)?;
        let all = match seen.rules_from {
            0 => new.with_inherited(seen.depth, &Rules::default())?,
            from => match self.rules(from)? {
                Some(inherited) => new.with_inherited(seen.depth, &inherited)?,
                None => {
                    return fail(format!(
                        "namespace {ns} takes the rules of namespace {from}, which has none"
                    ))
                }
            },
        };
        if !all.files.is_empty() {
            attach_file_hooks(&self.stamp)?;
        }
        if let Some(old) = self.rules(ns)? {
            self.unindex(ns, &old);
        }
        let written = self.index(ns, &all).and_then(|()| {
            self.policies
                .update(&rules::id_bytes(ns), &all.encode(), MapFlags::ANY)
                .map_err(full(format!("cannot write the rules of namespace {ns}")))
        });
        if let Err(e) = written {
            self.drop_rules(ns, &all);
            return Err(e);
        }
        // secns_free drops the namespace from `namespaces` before its rules:
        // if it ran since the check, the rules may have come after it.
        match self.seen(ns)? {
            None => {
                self.drop_rules(ns, &all);
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

    /// Writes the entries of `inodes` and `names` that file_open looks up
    /// for the files of `rules`, which apply in namespace `ns`.
    fn index(&self, ns: u64, rules: &Rules) -> Result<()> {
        for f in &rules.files {
            let (object, dir) = f.inode_keys(ns);
            self.mark(&object, rules::DENIED, 0)?;
            if let (Some(dir), Some(name)) = (dir, f.name_key(ns)) {
                self.mark(&dir, rules::NAMED, 1 << (f.name.len() % 64))?;
                self.names
                    .update(&name, &1u32.to_ne_bytes(), MapFlags::ANY)
                    .map_err(full(format!("cannot deny the name of namespace {ns}")))?;
            }
        }
        Ok(())
    }

    /// Adds `flag` and the name lengths `lens` to the `inodes` entry
    /// `key` (`struct secns_policy_inode`).
    fn mark(&self, key: &[u8], flag: u32, lens: u64) -> Result<()> {
        let had = self
            .inodes
            .lookup(key, MapFlags::ANY)
            .map_err(bpf_err("cannot read the map of denied inodes"))?
            .and_then(|v| {
                let flags = u32::from_ne_bytes(v.get(..4)?.try_into().ok()?);
                let lens = u64::from_ne_bytes(v.get(8..16)?.try_into().ok()?);
                Some((flags, lens))
            })
            .unwrap_or((0, 0));
        let mut value = [0u8; INODE_SIZE];
        value[..4].copy_from_slice(&(had.0 | flag).to_ne_bytes());
        value[8..].copy_from_slice(&(had.1 | lens).to_ne_bytes());
        self.inodes
            .update(key, &value, MapFlags::ANY)
            .map_err(full("cannot write the map of denied inodes".to_string()))
    }

    /// Removes what [`Engine::index`] wrote (what is not there is skipped:
    /// files may share a directory).
    fn unindex(&self, ns: u64, rules: &Rules) {
        for f in &rules.files {
            let (object, dir) = f.inode_keys(ns);
            let _ = self.inodes.delete(&object);
            if let Some(dir) = dir {
                let _ = self.inodes.delete(&dir);
            }
            if let Some(name) = f.name_key(ns) {
                let _ = self.names.delete(&name);
            }
        }
    }

    /// Removes namespace `ns`'s rules and their entries, as secns_free does.
    fn drop_rules(&self, ns: u64, rules: &Rules) {
        self.unindex(ns, rules);
        let _ = self.policies.delete(&rules::id_bytes(ns));
    }

    /// Everything the maps hold, by namespace.
    pub fn dump(&self) -> Result<Dump> {
        let mut namespaces: BTreeMap<u64, NsView> = BTreeMap::new();
        let ns_keys: Vec<Vec<u8>> = self.namespaces.keys().collect();
        let policy_keys: Vec<Vec<u8>> = self.policies.keys().collect();
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
            stamp: self.stamp,
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
    /// What attached the engine.
    pub stamp: Stamp,
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
