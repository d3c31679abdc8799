//! secns-policy's `deny-open` rules as an attacker inside the namespace and
//! an operator on the host meet them: a rule names a file (or a directory
//! and everything below it) by its inode and by its name in its directory,
//! and keeps meaning what was written when the host replaces the file by
//! rename, through hard links, bind mounts, `/proc/self/root`, another mount
//! namespace's view and overlayfs, never for another file system's, btrfs
//! subvolume's or snapshot's inode of the same number, and for descriptors
//! received with `SCM_RIGHTS`; and that a namespace with file rules makes no
//! btrfs snapshot or send stream, which would copy files without opening
//! them.
//!
//! Each case holds a namespace with the rule, changes things on the host
//! while it lives, and probes inside it with `secns join` (the probe prints
//! `ok` or `errno N`).

use crate::policy::{answer, errno, sh, sh_ok, text, write_policy, Held, POLICY, PROBE};
use crate::sys::{self, count};
use crate::tap::{check, Outcome, Test};
use libbpf_rs::{Link, MapHandle, MapType};
use std::io::{IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::process::{ExitCode, Output};
use std::time::Duration;

pub const TESTS: &[Test] = &[
    Test {
        name: "deny-open: a file the host replaces by rename after loading is still refused",
        run: replaced_by_rename,
    },
    Test {
        name: "deny-open: a directory refuses what is below it, through a bind mount, /proc/self/root, another mount namespace, and after the host replaces it",
        run: a_whole_tree,
    },
    Test {
        name: "deny-open: a hard link made before loading is refused; making one inside is refused",
        run: hard_links,
    },
    Test {
        name: "deny-open: a rule through overlayfs's merged view holds there, also after copy-up",
        run: overlay,
    },
    Test {
        name: "deny-open: the same inode number on another file system is not refused",
        run: same_inode_number,
    },
    Test {
        name: "deny-open: a refused file sent with SCM_RIGHTS is not installed (MSG_CTRUNC)",
        run: scm_rights,
    },
    Test {
        name: "secns-policy: the engine's maps and BPF LSM links sent with SCM_RIGHTS are not installed; another map is",
        run: scm_rights_bpf,
    },
    Test {
        name: "deny-open, secns-policy: a task holding a refused file, the engine's map or a BPF LSM link, or sharing its descriptor table, cannot enter or join the namespace",
        run: held_descriptors,
    },
    Test {
        name: "secns-policy: an io_uring instance, open or registered, or a mapping of a refused file, keeps a task out of a namespace with rules",
        run: rings_and_mappings,
    },
];

/// The cases on btrfs (/dev/vda, from tests/run-vm): not on the checker
/// kernel, which has no btrfs (tests/stress.config).
pub const BTRFS_TESTS: &[Test] = &[Test {
    name: "deny-open: on btrfs, a rule holds in its own subvolume however it is mounted, and not for the same inode numbers in other subvolumes and snapshots; inside, no snapshot, send or tree search",
    run: btrfs_subvolumes,
}];

const EACCES: i32 = libc::EACCES;

/// A namespace held with `toml` as its rules; its shell's pid.
fn hold(name: &str, toml: &str) -> Result<(Held, u32), String> {
    let held = Held::start(name, toml, "echo \"pid $$\"")?;
    let pid =
        answer(&held.lines, "pid").and_then(|p| p.parse().map_err(|e| format!("pid {p:?}: {e}")));
    match pid {
        Ok(pid) => Ok((held, pid)),
        Err(e) => {
            held.release()?;
            Err(e)
        }
    }
}

/// `command` run in the held namespace of `pid`, joined with `secns join`:
/// its stdout.
fn inside(pid: u32, command: &str) -> Result<String, String> {
    sh_ok(&format!("secns join --pid {pid} -- {command}")).map(|t| t.trim_end().to_string())
}

/// The probe `args` in the held namespace of `pid`.
fn probe(pid: u32, args: &str) -> Result<String, String> {
    inside(pid, &format!("{PROBE} {args}"))
}

/// Each `(probe args, expected answer)` in the held namespace of `pid`.
fn probes(pid: u32, cases: &[(&str, String)]) -> Outcome {
    for (args, want) in cases {
        let got = probe(pid, args)?;
        check(&got == want, || {
            format!("inside: {args}: {got:?}, expected {want:?}")
        })?;
    }
    Ok(())
}

fn run(script: &str) -> Outcome {
    sh_ok(&format!("set -e; {script}")).map(drop)
}

fn ino(path: &str) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| format!("{path}: {e}"))
}

/// The probe `args` run from the host (outside every namespace) prints
/// `want`; `what` it tried, for the message if not.
fn on_host(args: &str, want: &str, what: &str) -> Outcome {
    let got = sh_ok(&format!("{PROBE} {args}"))?;
    check(got.trim_end() == want, || {
        format!("{what}: {got:?}, expected {want:?}")
    })
}

/// Runs `case` with a namespace held under `toml`, then releases it and
/// checks the count went back.
fn with_held(name: &str, toml: &str, case: impl FnOnce(u32) -> Outcome) -> Outcome {
    let base = count()?;
    let (held, pid) = hold(name, toml)?;
    let result = case(pid);
    held.release()?;
    result?;
    sys::count_back_to(base, Duration::from_secs(5))
}

fn replaced_by_rename() -> Outcome {
    run(
        "rm -rf /tmp/dn-rename; mkdir /tmp/dn-rename; echo secret > /tmp/dn-rename/shadow; \
         echo public > /tmp/dn-rename/public",
    )?;
    let toml = "deny-open = [\"/tmp/dn-rename/shadow\"]\n";
    with_held("rename", toml, |pid| {
        probes(pid, &[("open /tmp/dn-rename/shadow", errno(EACCES))])?;
        // As passwd(1), editors and package managers do.
        let before = ino("/tmp/dn-rename/shadow")?;
        run("echo new > /tmp/dn-rename/shadow.new && \
             mv /tmp/dn-rename/shadow.new /tmp/dn-rename/shadow")?;
        let after = ino("/tmp/dn-rename/shadow")?;
        check(before != after, || {
            format!("the replacement has the same inode {after}: nothing was tested")
        })?;
        probes(
            pid,
            &[
                ("open /tmp/dn-rename/shadow", errno(EACCES)),
                ("open /tmp/dn-rename/public", "ok".into()),
            ],
        )
    })
}

fn a_whole_tree() -> Outcome {
    run(
        "for m in /tmp/dn-view /tmp/dn-tree/secret.old/a; do umount $m 2>/dev/null || true; done; \
         rm -rf /tmp/dn-tree /tmp/dn-view /tmp/dn-mnt; \
         mkdir -p /tmp/dn-tree/secret/a/b /tmp/dn-view /tmp/dn-mnt; \
         echo x > /tmp/dn-tree/secret/a/b/file; echo p > /tmp/dn-tree/public",
    )?;
    let toml = "deny-open = [\"/tmp/dn-tree/secret\"]\n";
    with_held("tree", toml, |pid| {
        run("mount --bind /tmp/dn-tree/secret/a /tmp/dn-view")?;
        let result = (|| {
            probes(
                pid,
                &[
                    ("open /tmp/dn-tree/secret/a/b/file", errno(EACCES)),
                    ("open /tmp/dn-tree/secret/a", errno(EACCES)),
                    ("open /tmp/dn-view/b/file", errno(EACCES)),
                    (
                        "open /proc/self/root/tmp/dn-tree/secret/a/b/file",
                        errno(EACCES),
                    ),
                    ("open /tmp/dn-tree/public", "ok".into()),
                ],
            )?;
            // A mount namespace of its own, with its own bind mount.
            let own = inside(
                pid,
                &format!(
                    "unshare -m sh -c 'mount --bind /tmp/dn-tree/secret/a/b /tmp/dn-mnt && \
                     {PROBE} open /tmp/dn-mnt/file'"
                ),
            )?;
            check(own == errno(EACCES), || {
                format!("another mount namespace's view: {own:?}")
            })?;
            // The host replaces the whole directory: the old tree keeps its
            // inodes, the new one has the name.
            run("mv /tmp/dn-tree/secret /tmp/dn-tree/secret.old && \
                 mkdir -p /tmp/dn-tree/secret/c && echo y > /tmp/dn-tree/secret/c/new")?;
            probes(
                pid,
                &[
                    ("open /tmp/dn-tree/secret/c/new", errno(EACCES)),
                    ("open /tmp/dn-tree/secret.old/a/b/file", errno(EACCES)),
                    ("open /tmp/dn-tree/public", "ok".into()),
                ],
            )
        })();
        run("umount /tmp/dn-view")?;
        result
    })
}

fn hard_links() -> Outcome {
    run(
        "rm -rf /tmp/dn-link; mkdir /tmp/dn-link; echo s > /tmp/dn-link/shadow; \
         ln /tmp/dn-link/shadow /tmp/dn-link/before; echo p > /tmp/dn-link/public",
    )?;
    let toml = "deny-open = [\"/tmp/dn-link/shadow\"]\n";
    with_held("links", toml, |pid| {
        probes(
            pid,
            &[
                ("open /tmp/dn-link/before", errno(EACCES)),
                ("link /tmp/dn-link/shadow /tmp/dn-link/mine", errno(EACCES)),
                ("link /tmp/dn-link/public /tmp/dn-link/public2", "ok".into()),
            ],
        )?;
        check(!std::path::Path::new("/tmp/dn-link/mine").exists(), || {
            "the refused link exists".into()
        })?;
        // The host replaces the file: a link to the new one is refused too.
        run("echo n > /tmp/dn-link/new && mv /tmp/dn-link/new /tmp/dn-link/shadow")?;
        probes(
            pid,
            &[("link /tmp/dn-link/shadow /tmp/dn-link/mine", errno(EACCES))],
        )
    })
}

fn overlay() -> Outcome {
    run(
        "umount /tmp/dn-ovl/merged 2>/dev/null || true; rm -rf /tmp/dn-ovl; \
         mkdir -p /tmp/dn-ovl/lower /tmp/dn-ovl/upper /tmp/dn-ovl/work /tmp/dn-ovl/merged; \
         echo s > /tmp/dn-ovl/lower/secret; echo p > /tmp/dn-ovl/lower/public; \
         mount -t overlay overlay -o lowerdir=/tmp/dn-ovl/lower,upperdir=/tmp/dn-ovl/upper,\
workdir=/tmp/dn-ovl/work /tmp/dn-ovl/merged",
    )?;
    let toml = "deny-open = [\"/tmp/dn-ovl/merged/secret\"]\n";
    let result = with_held("overlay", toml, |pid| {
        probes(
            pid,
            &[
                ("open /tmp/dn-ovl/merged/secret", errno(EACCES)),
                ("open /tmp/dn-ovl/merged/public", "ok".into()),
            ],
        )?;
        // A write on the host copies the file up to the upper layer.
        run("echo changed >> /tmp/dn-ovl/merged/secret && test -f /tmp/dn-ovl/upper/secret")?;
        probes(pid, &[("open /tmp/dn-ovl/merged/secret", errno(EACCES))])
    });
    run("umount /tmp/dn-ovl/merged")?;
    result
}

fn same_inode_number() -> Outcome {
    // tmpfs numbers the inodes of each instance on its own: the same steps
    // on two instances give the same numbers.
    run(
        "for d in /tmp/dn-fs1 /tmp/dn-fs2; do umount $d 2>/dev/null || true; \
         mkdir -p $d && mount -t tmpfs tmpfs $d && echo x > $d/f; done",
    )?;
    let (one, two) = (ino("/tmp/dn-fs1/f")?, ino("/tmp/dn-fs2/f")?);
    let result = (|| {
        check(one == two, || {
            format!("the two files have inodes {one} and {two}: nothing would be tested")
        })?;
        with_held("samefs", "deny-open = [\"/tmp/dn-fs1/f\"]\n", |pid| {
            probes(
                pid,
                &[
                    ("open /tmp/dn-fs1/f", errno(EACCES)),
                    ("open /tmp/dn-fs2/f", "ok".into()),
                ],
            )
        })
    })();
    run("umount /tmp/dn-fs1 && umount /tmp/dn-fs2")?;
    result
}

/// `struct btrfs_ioctl_vol_args` (include/uapi/linux/btrfs.h).
#[repr(C)]
struct VolArgs {
    fd: i64,
    name: [u8; 4088],
}

/// `struct btrfs_ioctl_vol_args_v2`.
#[repr(C)]
struct VolArgsV2 {
    fd: i64,
    transid: u64,
    flags: u64,
    unused: [u64; 4],
    name: [u8; 4040],
}

/// `struct btrfs_ioctl_send_args`.
#[repr(C)]
struct SendArgs {
    send_fd: i64,
    clone_sources_count: u64,
    clone_sources: *mut u64,
    parent_root: u64,
    flags: u64,
    version: u32,
    reserved: [u8; 28],
}

/// `struct btrfs_ioctl_search_key`.
#[repr(C)]
#[derive(Default)]
struct SearchKey {
    tree_id: u64,
    min_objectid: u64,
    max_objectid: u64,
    min_offset: u64,
    max_offset: u64,
    min_transid: u64,
    max_transid: u64,
    min_type: u32,
    max_type: u32,
    nr_items: u32,
    unused: u32,
    unused1: [u64; 4],
}

/// `struct btrfs_ioctl_search_args`: the key, then the items found.
#[repr(C)]
struct SearchArgs {
    key: SearchKey,
    buf: [u8; 3992],
}

/// The btrfs ioctls the tests make: `_IOW(0x94, nr, struct)`, and
/// `_IOWR(0x94, 17, struct btrfs_ioctl_search_args)`.
const BTRFS_IOC_SNAP_CREATE: libc::c_ulong = 0x5000_9401;
const BTRFS_IOC_SUBVOL_CREATE: libc::c_ulong = 0x5000_940e;
const BTRFS_IOC_SNAP_CREATE_V2: libc::c_ulong = 0x5000_9417;
const BTRFS_IOC_SEND: libc::c_ulong = 0x4048_9426;
const BTRFS_IOC_TREE_SEARCH: libc::c_ulong = 0xd000_9411;
/// `BTRFS_EXTENT_DATA_KEY`: a file's extents, a small file's data inline.
const BTRFS_EXTENT_DATA_KEY: u32 = 108;
const BTRFS_SUBVOL_RDONLY: u64 = 1 << 1;

/// How [`subvolume`] makes one.
#[derive(Clone, Copy)]
pub(crate) enum Subvolume<'a> {
    /// A new, empty subvolume (`BTRFS_IOC_SUBVOL_CREATE`).
    New,
    /// A snapshot of the subvolume at this path (`BTRFS_IOC_SNAP_CREATE`).
    Snapshot(&'a str),
    /// A snapshot made with `BTRFS_IOC_SNAP_CREATE_V2`, read-only if asked.
    SnapshotV2(&'a str, bool),
}

/// Makes subvolume `name` in the btrfs directory `dir`, as `how` says:
/// `Err(errno)` of the `ioctl`, or of an `open`.
pub(crate) fn subvolume(dir: &str, name: &str, how: Subvolume<'_>) -> Result<(), i32> {
    let open = |p: &str| std::fs::File::open(p).map_err(|e| e.raw_os_error().unwrap_or(0));
    let parent = open(dir)?;
    let (from, request, flags) = match how {
        Subvolume::New => (None, BTRFS_IOC_SUBVOL_CREATE, 0),
        Subvolume::Snapshot(from) => (Some(from), BTRFS_IOC_SNAP_CREATE, 0),
        Subvolume::SnapshotV2(from, ro) => (
            Some(from),
            BTRFS_IOC_SNAP_CREATE_V2,
            if ro { BTRFS_SUBVOL_RDONLY } else { 0 },
        ),
    };
    let source = from.map(open).transpose()?;
    let fd = source.as_ref().map_or(0, |f| i64::from(f.as_raw_fd()));
    let ret = if request == BTRFS_IOC_SNAP_CREATE_V2 {
        let mut args = VolArgsV2 {
            fd,
            transid: 0,
            flags,
            unused: [0; 4],
            name: [0; 4040],
        };
        name_into(&mut args.name, name)?;
        // SAFETY: `args` is a `struct btrfs_ioctl_vol_args_v2` with a
        // NUL-terminated name, alive across the call.
        unsafe { libc::ioctl(parent.as_raw_fd(), request, &mut args) }
    } else {
        let mut args = VolArgs {
            fd,
            name: [0; 4088],
        };
        name_into(&mut args.name, name)?;
        // SAFETY: `args` is a `struct btrfs_ioctl_vol_args` with a
        // NUL-terminated name, alive across the call.
        unsafe { libc::ioctl(parent.as_raw_fd(), request, &mut args) }
    };
    if ret != 0 {
        return Err(sys::errno());
    }
    Ok(())
}

/// `name` into the zeroed `field`, leaving a NUL after it.
fn name_into(field: &mut [u8], name: &str) -> Result<(), i32> {
    let room = field.len();
    field
        .get_mut(..name.len())
        .filter(|_| name.len() < room)
        .ok_or(libc::ENAMETOOLONG)?
        .copy_from_slice(name.as_bytes());
    Ok(())
}

/// `BTRFS_IOC_SEND` of the read-only subvolume at `path` to a new file in
/// /tmp (btrfs writes with kernel_write(), which /dev/null does not take):
/// `Err(errno)`.
pub(crate) fn send(path: &str) -> Result<(), i32> {
    let errno_of = |e: std::io::Error| e.raw_os_error().unwrap_or(0);
    let subvol = std::fs::File::open(path).map_err(errno_of)?;
    let stream = "/tmp/dn-btrfs.send";
    let _ = std::fs::remove_file(stream);
    let null = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(stream)
        .map_err(errno_of)?;
    let _ = std::fs::remove_file(stream);
    let mut args = SendArgs {
        send_fd: i64::from(null.as_raw_fd()),
        clone_sources_count: 0,
        clone_sources: std::ptr::null_mut(),
        parent_root: 0,
        flags: 0,
        version: 0,
        reserved: [0; 28],
    };
    // SAFETY: `args` is a `struct btrfs_ioctl_send_args` with no clone
    // sources, alive across the call.
    if unsafe { libc::ioctl(subvol.as_raw_fd(), BTRFS_IOC_SEND, &mut args) } != 0 {
        return Err(sys::errno());
    }
    Ok(())
}

/// `BTRFS_IOC_TREE_SEARCH` in the tree of the subvolume of `dir` for the
/// extents of inode `ino`: `found` or `missing` as `marker` is in what it
/// returns or not (a small file's data is inline in its extent item), or
/// `Err(errno)`.
pub(crate) fn search(dir: &str, ino: &str, marker: &str) -> Result<&'static str, i32> {
    let ino: u64 = ino.parse().map_err(|_| libc::EINVAL)?;
    let dir = std::fs::File::open(dir).map_err(|e| e.raw_os_error().unwrap_or(0))?;
    let mut args = SearchArgs {
        key: SearchKey {
            min_objectid: ino,
            max_objectid: ino,
            max_offset: u64::MAX,
            max_transid: u64::MAX,
            min_type: BTRFS_EXTENT_DATA_KEY,
            max_type: BTRFS_EXTENT_DATA_KEY,
            nr_items: 16,
            ..SearchKey::default()
        },
        buf: [0; 3992],
    };
    // SAFETY: `args` is a `struct btrfs_ioctl_search_args`, alive across
    // the call, which fills its buffer within it.
    if unsafe { libc::ioctl(dir.as_raw_fd(), BTRFS_IOC_TREE_SEARCH, &mut args) } != 0 {
        return Err(sys::errno());
    }
    let found = args
        .buf
        .windows(marker.len())
        .any(|w| w == marker.as_bytes());
    Ok(if found { "found" } else { "missing" })
}

fn btrfs_subvolumes() -> Outcome {
    // tests/run-vm gives each boot an empty btrfs file system on /dev/vda.
    const TOP: &str = "/tmp/dn-btrfs";
    run(&format!(
        "for m in {TOP}-a {TOP}; do umount $m 2>/dev/null || true; done; \
         mkdir -p {TOP} {TOP}-a && mount -t btrfs /dev/vda {TOP}"
    ))?;
    fn host(name: &str, how: Subvolume<'_>) -> Outcome {
        subvolume(TOP, name, how).map_err(|e| format!("{TOP}/{name}: subvolume: errno {e}"))
    }
    let result = (|| {
        // A new subvolume numbers its inodes from the same first number:
        // the same steps in each give the same numbers.
        for s in ["a", "b", "c"] {
            host(s, Subvolume::New)?;
            run(&format!(
                "cd {TOP}/{s} && mkdir d && echo x > d/f && echo y > g"
            ))?;
        }
        host("snap", Subvolume::Snapshot(&format!("{TOP}/a")))?;
        run(&format!("mount -t btrfs -o subvol=a /dev/vda {TOP}-a"))?;
        for f in ["d", "d/f", "g"] {
            let (a, b) = (ino(&format!("{TOP}/a/{f}"))?, ino(&format!("{TOP}/b/{f}"))?);
            check(a == b, || {
                format!("a/{f} and b/{f} have inodes {a} and {b}: nothing would be tested")
            })?;
        }
        let (a, c) = (ino(&format!("{TOP}/a"))?, ino(&format!("{TOP}/c"))?);
        check(a == c, || {
            format!("subvolumes a and c have root inodes {a} and {c}: nothing would be tested")
        })?;
        // A small file's data is inline in the tree, once written back.
        const MARKER: &str = "secns-inline-marker";
        run(&format!("echo {MARKER} > {TOP}/a/d/m && sync"))?;
        let m = ino(&format!("{TOP}/a/d/m"))?;
        let toml = format!("deny-open = [\"{TOP}/a/d\", \"{TOP}/a/g\", \"{TOP}/c\"]\n");
        with_held("btrfs", &toml, |pid| {
            let refused = |p: &str| (format!("open {p}"), errno(EACCES));
            let allowed = |p: &str| (format!("open {p}"), "ok".to_string());
            let cases = [
                refused(&format!("{TOP}/a/d/f")),
                refused(&format!("{TOP}/a/g")),
                refused(&format!("{TOP}/c/d/f")),
                // The same subvolume, mounted on its own.
                refused(&format!("{TOP}-a/d/f")),
                refused(&format!("{TOP}-a/g")),
                allowed(&format!("{TOP}/b/d/f")),
                allowed(&format!("{TOP}/b/g")),
                allowed(&format!("{TOP}/b")),
                allowed(&format!("{TOP}/snap/d/f")),
                allowed(&format!("{TOP}/snap/g")),
            ];
            let cases: Vec<_> = cases.iter().map(|(a, w)| (a.as_str(), w.clone())).collect();
            probes(pid, &cases)?;
            // The host replaces a/g by rename: the name is still refused, in
            // a only.
            run(&format!(
                "echo z > {TOP}/a/g.new && mv {TOP}/a/g.new {TOP}/a/g"
            ))?;
            let cases = [
                refused(&format!("{TOP}/a/g")),
                allowed(&format!("{TOP}/b/g")),
            ];
            let cases: Vec<_> = cases.iter().map(|(a, w)| (a.as_str(), w.clone())).collect();
            probes(pid, &cases)?;
            // A snapshot's files are new files, a send stream has a
            // subvolume's files without opening them, and a tree search
            // reads a small file's data: inside, none of them, in any
            // subvolume. The host still can.
            host("ro", Subvolume::SnapshotV2(&format!("{TOP}/a"), true))?;
            on_host(
                &format!("btrfs-send {TOP}/ro"),
                "ok",
                "the host's send of a read-only snapshot",
            )?;
            let search = format!("btrfs-search {TOP}/a {m} {MARKER}");
            on_host(&search, "found", "the host's search for a/d/m's data")?;
            let cases = [
                (format!("btrfs-snapshot 1 {TOP}/b {TOP} in1"), errno(EACCES)),
                (format!("btrfs-snapshot 2 {TOP}/b {TOP} in2"), errno(EACCES)),
                (format!("btrfs-send {TOP}/ro"), errno(EACCES)),
                (search, errno(EACCES)),
            ];
            let cases: Vec<_> = cases.iter().map(|(a, w)| (a.as_str(), w.clone())).collect();
            probes(pid, &cases)
        })
    })();
    run(&format!("umount {TOP}-a 2>/dev/null || true; umount {TOP}"))?;
    result
}

fn scm_rights() -> Outcome {
    run(
        "rm -rf /tmp/dn-scm; mkdir /tmp/dn-scm; echo secret > /tmp/dn-scm/shadow; \
         echo public > /tmp/dn-scm/public",
    )?;
    let socket = "/tmp/dn-scm/sock";
    // To whoever connects, the public file, then the refused one, in one
    // message.
    let sender = Sender::serve(
        socket,
        vec![vec![
            open_fd("/tmp/dn-scm/public")?,
            open_fd("/tmp/dn-scm/shadow")?,
        ]],
    )?;
    let toml = "deny-open = [\"/tmp/dn-scm/shadow\"]\n";
    let result = with_held("scm", toml, |pid| {
        let got = probe(pid, &format!("recv-fd {socket}"))?;
        check(got == "fds 1 truncated true first public", || {
            format!("received: {got:?}, expected the public file only, and MSG_CTRUNC")
        })
    });
    sender.finish(result)
}

/// A host task sends three messages, each a public file and a BPF object:
/// one of the engine's maps, the link of one of its programs (which would
/// detach it), taken from its pin, and a map of its own. Inside a namespace
/// (whose rules name no file), only the public file of the first two
/// messages is installed, and the whole third message is.
fn scm_rights_bpf() -> Outcome {
    run("rm -rf /tmp/dn-scmb; mkdir /tmp/dn-scmb; echo public > /tmp/dn-scmb/public")?;
    let socket = "/tmp/dn-scmb/sock";
    let (map, link, own) = bpf_objects("scmb")?;
    let mut messages = Vec::new();
    for object in [map, link, own] {
        messages.push(vec![open_fd("/tmp/dn-scmb/public")?, object]);
    }
    let sender = Sender::serve(socket, messages)?;
    let toml = "deny-capabilities = [\"CAP_SYS_TIME\"]\n";
    let result = with_held("scmb", toml, |pid| {
        for what in [
            "the engine's policies map",
            "the engine's link on capable, from its pin",
        ] {
            let got = probe(pid, &format!("recv-fd {socket}"))?;
            check(got == "fds 1 truncated true first public", || {
                format!(
                    "received with {what}: {got:?}, expected the public file only, and MSG_CTRUNC"
                )
            })?;
        }
        let other = probe(pid, &format!("recv-fd {socket}"))?;
        check(other == "fds 2 truncated false first public", || {
            format!("received with a map of the host's own: {other:?}, expected both")
        })
    });
    sender.finish(result)
}

/// A descriptor of `path`, opened for reading.
fn open_fd(path: &str) -> Result<OwnedFd, String> {
    std::fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| format!("{path}: {e}"))
}

/// Descriptors of the engine's policies map, of its link on `capable`
/// (taken from its pin), and of a map of the host's own named `name`.
fn bpf_objects(name: &str) -> Result<(OwnedFd, OwnedFd, OwnedFd), String> {
    let map = MapHandle::from_pinned_path("/sys/fs/bpf/secns-policy/policies")
        .map_err(|e| format!("the engine's policies map: {e}"))?;
    let link = Link::open("/sys/fs/bpf/secns-policy/link-capable")
        .map_err(|e| format!("the engine's capable link: {e}"))?;
    let opts = libbpf_rs::libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_rs::libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    let own = MapHandle::create(MapType::Array, Some(name), 4, 4, 1, &opts)
        .map_err(|e| format!("a map of the host's own: {e}"))?;
    let owned = |fd: BorrowedFd<'_>| fd.try_clone_to_owned().map_err(|e| e.to_string());
    Ok((
        owned(map.as_fd())?,
        owned(link.as_fd())?,
        owned(own.as_fd())?,
    ))
}

/// A host thread that sends messages over a Unix socket, one to each
/// task that connects.
struct Sender {
    socket: String,
    thread: std::thread::JoinHandle<Result<(), String>>,
}

impl Sender {
    /// Binds `socket` and sends each of `messages` (one byte, with the
    /// descriptors as `SCM_RIGHTS`) to whoever connects next.
    fn serve(socket: &str, messages: Vec<Vec<OwnedFd>>) -> Result<Self, String> {
        let listener = UnixListener::bind(socket).map_err(|e| format!("{socket}: {e}"))?;
        let thread = std::thread::spawn(move || -> Result<(), String> {
            for fds in messages {
                let (stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
                let raw: Vec<i32> = fds.iter().map(AsRawFd::as_raw_fd).collect();
                send_fds(stream.as_raw_fd(), &raw)?;
            }
            Ok(())
        });
        Ok(Sender {
            socket: socket.to_string(),
            thread,
        })
    }

    /// `result`, then whether every message went out. A probe that failed
    /// before it connected leaves the sender waiting: it is let go.
    fn finish(self, result: Outcome) -> Outcome {
        while result.is_err() && !self.thread.is_finished() {
            let _ = std::os::unix::net::UnixStream::connect(&self.socket);
            std::thread::sleep(Duration::from_millis(50));
        }
        let sent = self
            .thread
            .join()
            .map_err(|_| "the sender panicked".to_string())?;
        result?;
        sent
    }
}

/// The probe `join PID` run from the host with a copy of `fd` that it
/// inherits, as descriptor `at` or above: what JOIN answered.
fn join_holding(pid: u32, fd: i32, at: i32) -> Result<String, String> {
    let out = sh_holding(fd, at, &format!("{PROBE} join {pid}"))?;
    Ok(text(&out.stdout).trim_end().to_string())
}

/// The shell `command`, run from the host with a copy of `fd` that it
/// inherits, as descriptor `at` or above.
fn sh_holding(fd: i32, at: i32, command: &str) -> Result<Output, String> {
    // SAFETY: F_DUPFD duplicates a descriptor the caller holds open; the
    // copy is not close-on-exec, so the command inherits it.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD, at) };
    if copy < 0 {
        return Err(format!("F_DUPFD {fd}: errno {}", sys::errno()));
    }
    let out = sh(command);
    // SAFETY: the copy made above, used by nobody else.
    unsafe { libc::close(copy) };
    out
}

fn held_descriptors() -> Outcome {
    run(
        "rm -rf /tmp/dn-held; mkdir -p /tmp/dn-held/dir; echo secret > /tmp/dn-held/shadow; \
         echo below > /tmp/dn-held/dir/f; echo public > /tmp/dn-held/public",
    )?;
    let toml = "deny-open = [\"/tmp/dn-held/shadow\", \"/tmp/dn-held/dir\"]\n";
    let open = |path: &str| std::fs::File::open(path).map_err(|e| format!("{path}: {e}"));
    let (shadow, below, public) = (
        open("/tmp/dn-held/shadow")?,
        open("/tmp/dn-held/dir/f")?,
        open("/tmp/dn-held/public")?,
    );
    let (map, link, own) = bpf_objects("held")?;
    let eperm = errno(libc::EPERM);
    let eacces = errno(EACCES);
    with_held("held", toml, |pid| {
        let cases = [
            ("the refused file", shadow.as_raw_fd(), 3, &eacces),
            (
                "the refused file, as descriptor 900",
                shadow.as_raw_fd(),
                900,
                &eacces,
            ),
            (
                "a file below the refused directory",
                below.as_raw_fd(),
                3,
                &eacces,
            ),
            ("the engine's policies map", map.as_raw_fd(), 3, &eperm),
            ("the engine's link on capable", link.as_raw_fd(), 3, &eperm),
        ];
        for (what, fd, at, want) in cases {
            let got = join_holding(pid, fd, at)?;
            check(&got == want, || {
                format!("JOIN holding {what}: {got:?}, expected {want:?}")
            })?;
        }
        // What the namespace may have does not stop anyone.
        for (what, fd) in [
            ("a public file", public.as_raw_fd()),
            ("a map of the host's own", own.as_raw_fd()),
        ] {
            let got = join_holding(pid, fd, 3)?;
            check(got == "ok", || {
                format!("JOIN holding {what}: {got:?}, expected ok")
            })?;
        }
        // A table another task shares could get a descriptor after the
        // check: refused until the task has a table of its own.
        on_host(
            &format!("join-shared {pid}"),
            &format!("shared {eperm} own ok"),
            "JOIN with a shared descriptor table, then without",
        )?;
        // UNSHARE into a pending namespace with the rule: refused with the
        // file open, and the namespace dropped; entered without it.
        let file = write_policy("held-unshare", toml)?;
        let unshare = |redirect: &str| {
            sh(&format!(
                "{redirect} /bin/secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}' \
                 -- {PROBE} open /tmp/dn-held/public"
            ))
        };
        // The program prints ok; before it, the loader says what it loaded.
        let ran = |out: &Output| text(&out.stdout).lines().last() == Some("ok");
        let refused = unshare("exec 3</tmp/dn-held/shadow;")?;
        let said = text(&refused.stderr);
        check(
            !refused.status.success() && said.contains("(EACCES)") && !ran(&refused),
            || {
                format!(
                    "UNSHARE holding the refused file: {}, stdout {:?}, stderr {said:?}; \
                     expected a failure with EACCES",
                    refused.status,
                    text(&refused.stdout)
                )
            },
        )?;
        let entered = unshare("exec 3</tmp/dn-held/public;")?;
        check(entered.status.success() && ran(&entered), || {
            format!("UNSHARE holding a public file: {entered:?}, expected ok")
        })
    })
}

/// An io_uring instance set up outside carries in what the namespace's
/// rules do not see (the credentials and files registered with it, an
/// SQPOLL thread outside), and a mapping outlives the descriptor it was
/// made with: a task holding either cannot enter or join a namespace with
/// rules. A namespace without rules takes a ring. (No ring is received:
/// SCM_RIGHTS refuses io_uring files, and pidfd_getfd() stops at the ptrace
/// boundary.)
fn rings_and_mappings() -> Outcome {
    run(
        "rm -rf /tmp/dn-ring; mkdir /tmp/dn-ring; echo secret > /tmp/dn-ring/shadow; \
         echo public > /tmp/dn-ring/public",
    )?;
    let ring = io_uring().map_err(|e| format!("io_uring_setup: errno {e}"))?;
    let toml = "deny-open = [\"/tmp/dn-ring/shadow\"]\n";
    let eperm = errno(libc::EPERM);
    with_held("ring", toml, |pid| {
        let got = join_holding(pid, ring.as_raw_fd(), 3)?;
        check(got == eperm, || {
            format!("JOIN holding an io_uring instance: {got:?}, expected {eperm:?}")
        })?;
        on_host(
            &format!("join-ring {pid}"),
            &format!("registered {eperm} unregistered ok"),
            "JOIN with a registered io_uring instance, then without",
        )?;
        on_host(
            &format!("join-mapped {pid} /tmp/dn-ring/shadow"),
            &format!("mapped {} unmapped ok", errno(EACCES)),
            "JOIN with the refused file mapped, then without",
        )
    })?;
    let out = sh_holding(
        ring.as_raw_fd(),
        3,
        &format!("/bin/secns run -- {PROBE} open /tmp/dn-ring/public"),
    )?;
    check(
        out.status.success() && text(&out.stdout).trim_end() == "ok",
        || {
            format!("UNSHARE into a namespace without rules, holding an io_uring instance: {out:?}, expected ok")
        },
    )
}

/// A new io_uring instance, or the errno of `io_uring_setup(2)`.
fn io_uring() -> Result<OwnedFd, i32> {
    // struct io_uring_params: 120 bytes, all zero but what the kernel
    // writes back.
    let mut params = [0u64; 15];
    // SAFETY: io_uring_setup(2) writes at most sizeof(struct
    // io_uring_params) bytes to `params`.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr()) };
    if fd < 0 {
        return Err(sys::errno());
    }
    // SAFETY: a new descriptor, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `io_uring_register(2)`; its answer, or `-errno`.
fn io_uring_register(fd: u32, opcode: u32, offset: u32, data: u64) -> i64 {
    // struct io_uring_rsrc_update: offset, resv, data.
    let mut update = [u64::from(offset), data];
    // SAFETY: the kernel reads and writes one io_uring_rsrc_update (16
    // bytes) at `update`.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_io_uring_register,
            fd,
            opcode,
            update.as_mut_ptr(),
            1u32,
        )
    };
    if ret < 0 {
        -i64::from(sys::errno())
    } else {
        i64::from(update[0] as u32)
    }
}

const IORING_REGISTER_RING_FDS: u32 = 20;
const IORING_UNREGISTER_RING_FDS: u32 = 21;
const IORING_REGISTER_USE_REGISTERED_RING: u32 = 1 << 31;

/// `secns-vmtest --probe join-ring PID`: sets up an io_uring instance,
/// registers it with this task and closes its descriptor, JOINs the
/// namespace of PID; unregisters it and JOINs again. Prints both answers.
pub fn join_ring(pid: &str) -> ExitCode {
    let Ok(pid) = pid.parse::<u32>() else {
        eprintln!("join-ring: {pid:?} is not a pid");
        return ExitCode::from(2);
    };
    let ring = match io_uring() {
        Ok(ring) => ring,
        Err(e) => {
            println!("io_uring_setup {}", errno(e));
            return ExitCode::SUCCESS;
        }
    };
    let index = io_uring_register(
        ring.as_raw_fd() as u32,
        IORING_REGISTER_RING_FDS,
        u32::MAX,
        ring.as_raw_fd() as u64,
    );
    drop(ring);
    if index < 0 {
        println!("register {}", errno(-index as i32));
        return ExitCode::SUCCESS;
    }
    let registered = join_answer(pid);
    let gone = io_uring_register(
        index as u32,
        IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING,
        index as u32,
        0,
    );
    let unregistered = if gone < 0 {
        format!("unregister {}", errno(-gone as i32))
    } else {
        join_answer(pid)
    };
    println!("registered {registered} unregistered {unregistered}");
    ExitCode::SUCCESS
}

/// `secns-vmtest --probe join-mapped PID PATH`: maps PATH and closes it,
/// JOINs the namespace of PID; unmaps it and JOINs again. Prints both
/// answers.
pub fn join_mapped(pid: &str, path: &str) -> ExitCode {
    let Ok(pid) = pid.parse::<u32>() else {
        eprintln!("join-mapped: {pid:?} is not a pid");
        return ExitCode::from(2);
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            println!("open {e}");
            return ExitCode::SUCCESS;
        }
    };
    // SAFETY: a new read-only private mapping of one page of `file`,
    // touched by nothing but the munmap below.
    let at = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    drop(file);
    if at == libc::MAP_FAILED {
        println!("mmap {}", errno(sys::errno()));
        return ExitCode::SUCCESS;
    }
    let mapped = join_answer(pid);
    // SAFETY: the mapping made above, used by nobody.
    let unmapped = if unsafe { libc::munmap(at, 4096) } == 0 {
        join_answer(pid)
    } else {
        format!("munmap {}", errno(sys::errno()))
    };
    println!("mapped {mapped} unmapped {unmapped}");
    ExitCode::SUCCESS
}

/// JOIN the namespace of `pid`: `ok` or `errno N`.
pub(crate) fn join_answer(pid: u32) -> String {
    match secns::join_pid(pid) {
        Ok(()) => "ok".to_string(),
        Err(e) => errno(e.errno()),
    }
}

/// `sendmsg(2)` of one byte with `fds` as `SCM_RIGHTS`.
fn send_fds(socket: i32, fds: &[i32]) -> Result<(), String> {
    let data = [b'x'];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: 1,
    };
    let fd_bytes = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_bytes as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: an all-zero msghdr is a valid value of a plain C struct.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: the control buffer is `space` bytes, enough for one header
    // with `fd_bytes` of data, so CMSG_FIRSTHDR is in it and CMSG_DATA has
    // room for the descriptors.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err("no room for the control message".into());
        }
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(fd_bytes as u32) as usize;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast(), fds.len());
    }
    // SAFETY: `msg` points to live buffers for the duration of the call.
    if unsafe { libc::sendmsg(socket, &msg, 0) } != 1 {
        return Err(format!("sendmsg: errno {}", sys::errno()));
    }
    Ok(())
}

/// `secns-vmtest --probe recv-fd SOCKET`: connects to SOCKET, receives one
/// message with up to 4 descriptors, and prints how many were installed,
/// whether the kernel truncated the control data, and the first line of
/// the first file.
pub fn receive_fds(socket: &str) -> ExitCode {
    match receive(socket) {
        Ok(line) => println!("{line}"),
        Err(e) => println!("error {e}"),
    }
    let _ = std::io::stdout().flush();
    ExitCode::SUCCESS
}

fn receive(socket: &str) -> Result<String, String> {
    let stream =
        std::os::unix::net::UnixStream::connect(socket).map_err(|e| format!("{socket}: {e}"))?;
    let mut data = [0u8; 1];
    let mut bufs = [IoSliceMut::new(&mut data)];
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(4 * 4) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: an all-zero msghdr is a valid value of a plain C struct.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = bufs.as_mut_ptr().cast();
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: `msg` points to live buffers for the duration of the call.
    if unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) } < 0 {
        return Err(format!("recvmsg: errno {}", sys::errno()));
    }
    let mut fds = Vec::new();
    // SAFETY: the kernel filled `control` up to msg_controllen; the CMSG
    // macros walk only within it, and CMSG_DATA of an SCM_RIGHTS header has
    // (cmsg_len - CMSG_LEN(0)) / 4 descriptors.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let n = ((*cmsg).cmsg_len - libc::CMSG_LEN(0) as usize) / 4;
                let p: *const i32 = libc::CMSG_DATA(cmsg).cast();
                for i in 0..n {
                    fds.push(std::ptr::read_unaligned(p.add(i)));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
    let first = match fds.first() {
        Some(fd) => std::fs::read_to_string(format!("/proc/self/fd/{fd}"))
            .map(|t| t.lines().next().unwrap_or("").to_string())
            .unwrap_or_else(|e| format!("unreadable ({e})")),
        None => "none".into(),
    };
    for fd in &fds {
        // SAFETY: each was installed for this process by recvmsg.
        unsafe { libc::close(*fd) };
    }
    Ok(format!(
        "fds {} truncated {truncated} first {first}",
        fds.len()
    ))
}
