//! secns-policy's upgrade while a task is inside a hook, and the kernel's
//! `BPF_LINK_UPDATE` of an LSM link that it is built on.
//!
//! `attach` of another version gives each pinned link the new program in
//! place. The kernel must not let a task that entered the hook before run
//! neither program: a detached program is patched out of every trampoline
//! image still in use, a replaced one must not be. The test holds a task
//! there for real. `bpf/stall.bpf.c`, a sleepable program on `file_open`
//! attached after the engine's (so it runs first), makes the probe
//! `stall-open` fault on a page that a userfaultfd keeps missing; the
//! engine's program, which refuses the file to the probe's namespace, has
//! yet to run. The upgrade ends while the task is held, in the same links,
//! and the open, once let go, is still refused.

use crate::policy::{
    attach_says, errno, hooked, links, relinked, sh_ok, text, write_policy, NEXT, POLICY,
};
use crate::sys::{self, count};
use crate::tap::{check, Outcome, Test};
use libbpf_rs::libbpf_sys as sys_bpf;
use libbpf_rs::{Link, Object};
use secns_policy::bpf;
use secns_policy::engine::PIN_DIR;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

pub const TESTS: &[Test] = &[
    Test {
        name: "BPF_LINK_UPDATE of an LSM link: the program of the same hook only, BPF_F_REPLACE checked, not one linked already",
        run: link_update,
    },
    Test {
        name: "secns-policy attach: an upgrade replaces each program in its link while a task is inside the hook, and the task still runs the old one",
        run: upgrade_under_a_task,
    },
];

/// Built by harness/build-userspace, installed by tests/mkinitramfs.
const STALL_OBJECT: &str = "/usr/lib/secns-vmtest/stall.bpf.o";
/// Where the stall program reads (`STALL_ADDR` in bpf/stall.bpf.c).
const STALL_ADDR: usize = 0x5ec0_0000_0000;
/// The name the stall program looks for.
const STALL_NAME: &std::ffi::CStr = c"secns-stall";
const PAGE: usize = 4096;
/// The file the namespace's rules refuse.
const SECRET: &str = "/tmp/upgrade-secret";

// <linux/userfaultfd.h>
const UFFD_API: u64 = 0xaa;
/// `_IOWR(0xaa, 0x3f, struct uffdio_api)`: 24 bytes.
const UFFDIO_API: libc::c_ulong = 0xc018_aa3f;
/// `_IOWR(0xaa, 0x00, struct uffdio_register)`: 32 bytes.
const UFFDIO_REGISTER: libc::c_ulong = 0xc020_aa00;
/// `_IOWR(0xaa, 0x04, struct uffdio_zeropage)`: 32 bytes.
const UFFDIO_ZEROPAGE: libc::c_ulong = 0xc020_aa04;
const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
/// `struct uffd_msg`.
const UFFD_MSG_SIZE: usize = 32;

/// `ioctl(fd, request, words)`, for the userfaultfd structures (all of
/// them `__u64` words).
fn uffd_ioctl(fd: &OwnedFd, request: libc::c_ulong, words: &mut [u64]) -> Result<(), i32> {
    // SAFETY: `words` is a live, writable buffer of the size `request`
    // encodes (the callers pass the structure's words), which the kernel
    // reads and writes back only within the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, words.as_mut_ptr()) };
    if rc < 0 {
        Err(sys::errno())
    } else {
        Ok(())
    }
}

/// `secns-vmtest --probe stall-open PATH`: opens PATH named
/// [`STALL_NAME`], with a missing page at [`STALL_ADDR`] that a thread
/// resolves once the stall program faulted on it (it prints `stalled`) and
/// a line came on stdin.
pub fn stall_open(path: &str) -> Result<(), i32> {
    // SAFETY: a new anonymous private mapping; MAP_FIXED_NOREPLACE fails
    // rather than replace anything mapped at that address.
    let addr = unsafe {
        libc::mmap(
            STALL_ADDR as *mut libc::c_void,
            PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if addr != STALL_ADDR as *mut libc::c_void {
        return Err(if addr == libc::MAP_FAILED {
            sys::errno()
        } else {
            libc::EEXIST
        });
    }
    // SAFETY: userfaultfd(2) takes flags only.
    let fd = unsafe { libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | libc::O_NONBLOCK) };
    let fd = i32::try_from(fd).map_err(|_| libc::EINVAL)?;
    if fd < 0 {
        return Err(sys::errno());
    }
    // SAFETY: a new descriptor that nothing else owns.
    let uffd = unsafe { OwnedFd::from_raw_fd(fd) };
    uffd_ioctl(&uffd, UFFDIO_API, &mut [UFFD_API, 0, 0])?;
    let page = [STALL_ADDR as u64, PAGE as u64];
    uffd_ioctl(
        &uffd,
        UFFDIO_REGISTER,
        &mut [page[0], page[1], UFFDIO_REGISTER_MODE_MISSING, 0],
    )?;
    let resolver = std::thread::spawn(move || -> Result<(), i32> {
        // The fault comes at once (or the open ended without one).
        let mut pfd = libc::pollfd {
            fd: uffd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 30_000) } != 1 {
            return Err(libc::ETIMEDOUT);
        }
        let mut msg = [0u8; UFFD_MSG_SIZE];
        // SAFETY: reads at most the buffer's length into it.
        let n = unsafe { libc::read(uffd.as_raw_fd(), msg.as_mut_ptr().cast(), msg.len()) };
        if usize::try_from(n) != Ok(msg.len()) {
            return Err(sys::errno());
        }
        println!("stalled");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        uffd_ioctl(&uffd, UFFDIO_ZEROPAGE, &mut [page[0], page[1], 0, 0])
    });
    // Named after the thread started: the name is this thread's alone.
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of up to 16 bytes.
    if unsafe { libc::prctl(libc::PR_SET_NAME, STALL_NAME.as_ptr()) } != 0 {
        return Err(sys::errno());
    }
    let opened = std::fs::File::open(path)
        .map(drop)
        .map_err(|e| e.raw_os_error().unwrap_or(0));
    match resolver.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("stall-open: the fault was not resolved: errno {e}"),
        Err(_) => eprintln!("stall-open: the resolving thread panicked"),
    }
    opened
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The stall object, loaded.
fn stall_object() -> Result<Object, String> {
    let bytes = std::fs::read(STALL_OBJECT).map_err(|e| format!("{STALL_OBJECT}: {e}"))?;
    bpf::load(bpf::open(&bytes, "stall").map_err(err)?, "stall").map_err(err)
}

/// The program `name` of `obj`.
fn prog<'o>(obj: &'o Object, name: &str) -> Result<libbpf_rs::ProgramMut<'o>, String> {
    obj.progs_mut()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("no program {name} in {STALL_OBJECT}"))
}

/// The kernel's id of a program.
fn prog_id(prog: &libbpf_rs::ProgramMut<'_>) -> Result<u32, String> {
    libbpf_rs::ProgramHandle::try_from(prog)
        .map(|h| h.id())
        .map_err(err)
}

/// `BPF_LINK_UPDATE` of `link` to `new`, with `BPF_F_REPLACE` and `old`
/// when given: the kernel's answer.
fn update(link: &Link, new: &impl AsFd, old: Option<&dyn AsFd>) -> Result<(), i32> {
    let mut opts = sys_bpf::bpf_link_update_opts {
        sz: std::mem::size_of::<sys_bpf::bpf_link_update_opts>() as _,
        ..Default::default()
    };
    if let Some(old) = old {
        opts.flags = sys_bpf::BPF_F_REPLACE;
        opts.old_prog_fd = old.as_fd().as_raw_fd() as _;
    }
    // SAFETY: two live descriptors and an options structure of the size
    // it says, which libbpf only reads within the call.
    let rc = unsafe {
        sys_bpf::bpf_link_update(link.as_fd().as_raw_fd(), new.as_fd().as_raw_fd(), &opts)
    };
    if rc < 0 {
        Err(-rc)
    } else {
        Ok(())
    }
}

/// The program a link runs, by id.
fn runs(link: &Link) -> Result<u32, String> {
    link.info().map(|i| i.prog_id).map_err(err)
}

/// Expects `got` to be `want` (`Ok` or an errno), for `what`.
fn answer(what: &str, got: Result<(), i32>, want: Result<(), i32>) -> Outcome {
    let show = |r: Result<(), i32>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => errno(e),
    };
    check(got == want, || {
        format!("{what}: {:?}, expected {:?}", show(got), show(want))
    })
}

fn link_update() -> Outcome {
    let a = stall_object()?;
    let b = stall_object()?;
    let (pass, stall, other) = (
        prog(&a, "pass")?,
        prog(&a, "stall")?,
        prog(&a, "other_hook")?,
    );
    let pass_b = prog(&b, "pass")?;
    let link = pass.attach_lsm().map_err(err)?;
    let _link_b = pass_b.attach_lsm().map_err(err)?;
    let (id_pass, id_stall) = (prog_id(&pass)?, prog_id(&stall)?);
    check(runs(&link)? == id_pass, || {
        "the link does not run its program".into()
    })?;
    answer(
        "a program of another hook",
        update(&link, &other, None),
        Err(libc::EINVAL),
    )?;
    answer(
        "a program another link has on the hook",
        update(&link, &pass_b, None),
        Err(libc::EBUSY),
    )?;
    answer(
        "BPF_F_REPLACE naming another program",
        update(&link, &stall, Some(&stall)),
        Err(libc::EPERM),
    )?;
    check(runs(&link)? == id_pass, || {
        "a refused update changed the link's program".into()
    })?;
    answer(
        "BPF_F_REPLACE naming the link's program",
        update(&link, &stall, Some(&pass)),
        Ok(()),
    )?;
    check(runs(&link)? == id_stall, || {
        format!(
            "after the update the link runs {}, not {id_stall}",
            runs(&link).unwrap_or(0)
        )
    })?;
    answer("the program it has", update(&link, &stall, None), Ok(()))?;
    // Back to the first: a program replaced in a link can be linked again.
    answer(
        "the first program again",
        update(&link, &pass, None),
        Ok(()),
    )?;
    check(runs(&link)? == id_pass, || {
        "not back to the first program".into()
    })
}

fn upgrade_under_a_task() -> Outcome {
    let base = count()?;
    std::fs::write(SECRET, "secret\n").map_err(err)?;
    let policy = write_policy("upgrade-stall", &format!("deny-open = [\"{SECRET}\"]\n"))?;
    // The engine with its file hooks, which the first file rules attach.
    sh_ok(&format!(
        "{POLICY} attach && secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" \
         {policy}' -- true"
    ))?;
    check(hooked("file_open"), || "no file_open link".to_string())?;
    let obj = stall_object()?;
    held_upgrade(&obj, &policy, NEXT)?;
    held_upgrade(&obj, &policy, POLICY)?;
    attach_says(&format!("{POLICY} attach"), "already attached")?;
    // Links an earlier version left next to the pinned ones are its own.
    let left = format!("{PIN_DIR}/old-link-file_open");
    let mut stray = prog(&obj, "pass")?.attach_lsm().map_err(err)?;
    stray.pin(&left).map_err(err)?;
    let refused = crate::policy::sh(&format!("{POLICY} attach"));
    std::fs::remove_file(&left).map_err(|e| format!("{left}: {e}"))?;
    let refused = refused?;
    check(
        !refused.status.success() && text(&refused.stderr).contains("old-link-file_open"),
        || format!("{POLICY} attach with {left}: {refused:?}"),
    )?;
    drop(stray);
    sys::count_back_to(base, Duration::from_secs(5))
}

/// Upgrades the engine with `to attach` while the probe is held inside
/// `file_open`, opening the file its namespace's rules refuse: the attach
/// ends while the probe is held, every link stays and takes a new program,
/// and the probe, let go, still runs the old one.
fn held_upgrade(obj: &Object, policy: &str, to: &str) -> Outcome {
    // Attached after the engine's program, so run before it.
    let _link = prog(obj, "stall")?.attach_lsm().map_err(err)?;
    let mut probe = Command::new("/bin/secns")
        .args([
            "run",
            "--setup",
            &format!("{POLICY} load --ns \"$SECNS_PENDING_ID\" {policy} >/dev/null"),
            "--",
            "/tests/secns-vmtest",
            "--probe",
            "stall-open",
            SECRET,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("secns run: {e}"))?;
    let (Some(mut stdin), Some(stdout)) = (probe.stdin.take(), probe.stdout.take()) else {
        return Err("no pipes to the probe".into());
    };
    let mut out = BufReader::new(stdout);
    let mut line = String::new();
    out.read_line(&mut line).map_err(err)?;
    if line.trim_end() != "stalled" {
        let _ = probe.kill();
        let status = probe.wait().map_err(err)?;
        return Err(format!("the probe did not stall: {line:?}, {status}"));
    }
    let before = links();
    let attached = Command::new(to).arg("attach").output();
    let after = links();
    // A namespace created meanwhile meets the new task_secns_init.
    let created = sh_ok("secns run -- true");
    stdin.write_all(b"go\n").map_err(err)?;
    line.clear();
    out.read_line(&mut line).map_err(err)?;
    let status = probe.wait().map_err(err)?;
    let (attached, before, after) = (attached.map_err(err)?, before?, after?);
    created?;
    let said = text(&attached.stdout);
    check(
        attached.status.success() && said.starts_with("upgraded:"),
        || {
            format!(
                "{to} attach while a task is inside file_open: {}: {said:?} {:?}",
                attached.status,
                text(&attached.stderr)
            )
        },
    )?;
    relinked(&before, &after, Some("task_getsid"))?;
    check(
        line.trim_end() == errno(libc::EACCES) && status.success(),
        || {
            format!(
                "the held open, once let go: {line:?} ({status}), expected {:?}",
                errno(libc::EACCES)
            )
        },
    )
}
