//! The audit records of the ptrace boundary: what a refusal logs, and that
//! an access ptrace(2) makes without auditing logs nothing. The errnos of
//! the boundary are the kselftest's (tools/testing/selftests/secns).
//!
//! Without auditd the kernel prints each record ("audit: type=1400 ..."),
//! so the tests read them from the kernel log.

use crate::sys::{self, LSM_ATTR_UNSHARE};
use crate::tap::{check, Outcome, Test};
use crate::unshare::in_child;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test {
        name: "ptrace boundary: a refused PTRACE_ATTACH is audited (lsm=secns, both ids, the tracee), a NOAUDIT probe is not",
        run: attach_is_audited,
    },
    Test {
        name: "ptrace boundary: a refused PTRACE_TRACEME is audited (lsm=secns, both ids, the parent)",
        run: traceme_is_audited,
    },
];

/// A process in the initial namespace that waits to be killed.
struct Outside(Child);

impl Outside {
    fn start() -> Result<Self, String> {
        Command::new("/bin/sleep")
            .arg("600")
            .spawn()
            .map(Self)
            .map_err(|e| format!("starting sleep: {e}"))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The kernel log lines that contain every one of `parts`.
fn log_lines(parts: &[&str]) -> Result<Vec<String>, String> {
    Ok(sys::kernel_log()?
        .lines()
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .map(str::to_string)
        .collect())
}

/// Waits up to two seconds for a kernel log line with every one of `parts`
/// (kauditd prints records asynchronously).
fn wait_for_log(parts: &[&str]) -> Outcome {
    let start = Instant::now();
    loop {
        if !log_lines(parts)?.is_empty() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(2) {
            return Err(format!("no kernel log line with all of {parts:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Enters a new namespace (one-shot) and returns its id.
fn enter() -> Result<u64, String> {
    sys::secns_set(LSM_ATTR_UNSHARE, None).map_err(|e| format!("UNSHARE: errno {e}"))?;
    Ok(sys::secns_info()?.id)
}

fn attach_is_audited() -> Outcome {
    let outside = Outside::start()?;
    let pid = outside.pid();
    in_child(|| {
        let id = enter()?;
        let opid = format!("opid={pid} ");
        // /proc/PID/stat asks ptrace_may_access() with PTRACE_MODE_NOAUDIT
        // (to hide some fields): refused, and not logged.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
        std::thread::sleep(Duration::from_millis(300));
        let quiet = log_lines(&["lsm=secns", &opid])?;
        check(quiet.is_empty(), || {
            format!("a NOAUDIT probe was logged: {quiet:?}")
        })?;
        // SAFETY: plain system call; a success is undone below.
        let r = unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid as libc::pid_t, 0, 0) };
        let errno = sys::errno();
        if r == 0 {
            // SAFETY: detaches the tracee attached just now.
            unsafe { libc::ptrace(libc::PTRACE_DETACH, pid as libc::pid_t, 0, 0) };
        }
        check(r == -1 && errno == libc::EPERM, || {
            format!("PTRACE_ATTACH of a task outside: {r}, errno {errno}, expected EPERM")
        })?;
        let record = format!(
            "lsm=secns action=denied op=ptrace_access_check tracer_secns={id} tracee_secns=0 "
        );
        wait_for_log(&["type=1400", &record, &opid, "ocomm=\"sleep\""])
    })
}

fn traceme_is_audited() -> Outcome {
    in_child(|| {
        // A child that stays in the initial namespace, below a parent that
        // enters one: its parent may no longer trace it.
        let (mut go, mut result) = ([0i32; 2], [0i32; 2]);
        // SAFETY: each array has room for two descriptors.
        if unsafe { libc::pipe(go.as_mut_ptr()) != 0 || libc::pipe(result.as_mut_ptr()) != 0 } {
            return Err(format!("pipe: errno {}", sys::errno()));
        }
        // SAFETY: the test program is single-threaded; the child leaves
        // with `_exit`.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let mut byte = 0u8;
            // SAFETY: reads one byte, runs PTRACE_TRACEME, writes its errno
            // (0 for a success) and leaves.
            unsafe {
                libc::read(go[0], (&mut byte as *mut u8).cast(), 1);
                let r = libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
                let e: i32 = if r == 0 { 0 } else { sys::errno() };
                libc::write(result[1], (&e as *const i32).cast(), 4);
                libc::_exit(0);
            }
        }
        if child < 0 {
            return Err(format!("fork: errno {}", sys::errno()));
        }
        let entered = enter();
        let mut errno = -1i32;
        // SAFETY: the go byte, then the child's 4-byte answer; then reaps it.
        unsafe {
            libc::write(go[1], [1u8].as_ptr().cast(), 1);
            libc::read(result[0], (&mut errno as *mut i32).cast(), 4);
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        let id = entered?;
        check(errno == libc::EPERM, || {
            format!("PTRACE_TRACEME below a parent inside: errno {errno}, expected EPERM")
        })?;
        let record =
            format!("lsm=secns action=denied op=ptrace_traceme tracer_secns={id} tracee_secns=0 ");
        let opid = format!("opid={} ", std::process::id());
        wait_for_log(&["type=1400", &record, &opid])
    })
}
