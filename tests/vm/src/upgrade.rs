//! secns-policy's upgrade while a task is inside a hook.
//!
//! An LSM link cannot change its program, so `attach` of another version
//! attaches the new program next to the old one and then detaches the old
//! one. The kernel patches a detached program out of every trampoline image
//! still in use, and an image built before the new program came does not
//! have it: a task inside such an image would run neither. The test holds
//! a task there for real. `bpf/stall.bpf.c`, a sleepable program on
//! `file_open` attached after the engine's (so it runs first), makes the
//! probe `stall-open` fault on a page that a userfaultfd keeps missing; the
//! engine's program, which refuses the file to the probe's namespace, has
//! yet to run. Then:
//!
//! - let go while `attach` waits, the open is refused, the upgrade ends
//!   with the old program detached, and a namespace created while both
//!   programs were on `task_secns_init` was not refused;
//! - held past the wait, the open is still refused, `attach` says the old
//!   program of `file_open` stays, and the next `attach` detaches it;
//! - with no trampoline image in `/proc/kallsyms` (`bpf_jit_kallsyms` 0),
//!   the upgrade is refused before it changes anything.

use crate::policy::{
    attach_says, errno, hooked, links, sh, sh_ok, text, write_policy, NEXT, POLICY,
};
use crate::sys::{self, count};
use crate::tap::{check, Outcome, Test};
use libbpf_rs::Object;
use secns_policy::bpf;
use secns_policy::engine::PIN_DIR;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[Test {
    name: "secns-policy attach: an upgrade never detaches a program that a task inside the hook has yet to run; held past the wait, the old program stays until the next attach",
    run: upgrade_under_a_task,
}];

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
    // Where the images are not listed, an upgrade is refused, untouched.
    let before = links()?;
    sh_ok("echo 0 > /proc/sys/net/core/bpf_jit_kallsyms")?;
    let refused = sh(&format!("{NEXT} attach"));
    sh_ok("echo 1 > /proc/sys/net/core/bpf_jit_kallsyms")?;
    let refused = refused?;
    check(
        !refused.status.success() && text(&refused.stderr).contains("bpf_jit_kallsyms"),
        || format!("{NEXT} attach without kallsyms: {refused:?}"),
    )?;
    let after = links()?;
    check(after == before, || {
        format!("links before {before:?}, after {after:?}")
    })?;
    let bytes = std::fs::read(STALL_OBJECT).map_err(|e| format!("{STALL_OBJECT}: {e}"))?;
    let obj = bpf::load(bpf::open(&bytes, "stall").map_err(err)?, "stall").map_err(err)?;
    let old = format!("{PIN_DIR}/old-link-file_open");
    held_upgrade(&obj, &policy, NEXT, false)?;
    check(!Path::new(&old).exists(), || {
        format!("{old} after an upgrade that was let go")
    })?;
    held_upgrade(&obj, &policy, POLICY, true)?;
    check(Path::new(&old).exists(), || {
        format!("no {old} after an upgrade held past its wait")
    })?;
    attach_says(&format!("{POLICY} attach"), "already attached")?;
    check(!Path::new(&old).exists(), || {
        format!("{old} after the next attach")
    })?;
    sys::count_back_to(base, Duration::from_secs(5))
}

/// Upgrades the engine with `to attach` while the probe is held inside
/// `file_open`, opening the file its namespace's rules refuse; lets it go
/// while `attach` waits, or once `attach` returned (`past`).
fn held_upgrade(obj: &Object, policy: &str, to: &str, past: bool) -> Outcome {
    let prog = obj
        .progs_mut()
        .find(|p| p.section() == "lsm.s/file_open")
        .ok_or("no lsm.s/file_open program")?;
    // Attached after the engine's program, so run before it.
    let _link = prog.attach_lsm().map_err(err)?;
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
    let mut attach = Command::new(to)
        .arg("attach")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{to} attach: {e}"))?;
    let new = format!("{PIN_DIR}/new-link-file_open");
    if !past {
        let start = Instant::now();
        while !Path::new(&new).exists()
            && attach.try_wait().map_err(err)?.is_none()
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        if Path::new(&new).exists() {
            // Both versions' task_secns_init run on this one.
            sh_ok("secns run -- true")?;
        }
        stdin.write_all(b"go\n").map_err(err)?;
    }
    let attached = attach.wait_with_output().map_err(err)?;
    if past {
        stdin.write_all(b"go\n").map_err(err)?;
    }
    line.clear();
    out.read_line(&mut line).map_err(err)?;
    let status = probe.wait().map_err(err)?;
    let said = text(&attached.stdout);
    check(
        attached.status.success() && said.starts_with("upgraded:"),
        || {
            format!(
                "{to} attach: {}: {said:?} {:?}",
                attached.status,
                text(&attached.stderr)
            )
        },
    )?;
    let kept = said.contains("stay attached") && said.contains("file_open");
    check(kept == past, || {
        format!(
            "{to} attach, let go {}: {said:?}",
            if past { "after it" } else { "while it waited" }
        )
    })?;
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
