//! `LSM_ATTR_UNSHARE_INIT` and `LSM_ATTR_UNSHARE` from user space, with raw
//! syscalls. Each test that changes the caller's namespaces runs in a
//! forked child, and the parent checks that the count of namespaces is back
//! to its baseline once the child is gone.

use crate::sys::count;
use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT};
use crate::tap::{check, Outcome, Test};
use std::io::Write;
use std::time::Duration;

/// Run in a boot of their own, with `lockdown=integrity secns.maxns=7
/// secns.maxnsdepth=99` on the kernel command line.
pub const SECOND_BOOT_TESTS: &[Test] = &[
    Test {
        name: "under lockdown=integrity UNSHARE_INIT and UNSHARE are EPERM",
        run: lockdown_eperm,
    },
    Test {
        name: "secns.maxns= sets maxns at boot, an out-of-range secns.maxnsdepth= is ignored",
        run: boot_parameters,
    },
];

/// Run in a boot of their own, which they lock down at run time.
pub const LOCKDOWN_RAISE_TESTS: &[Test] = &[Test {
    name: "lockdown raised at run time: a pending namespace cannot be entered (lockdown's EPERM)",
    run: lockdown_raised,
}];

/// Waits until the count is `base` again.
fn back_to(base: u64) -> Outcome {
    sys::count_back_to(base, Duration::from_secs(5))
}

/// Runs `f` in a forked child; fails with what the child printed.
pub fn in_child(f: impl FnOnce() -> Outcome) -> Outcome {
    let base = count()?;
    let _ = std::io::stdout().flush();
    // SAFETY: the test program is single-threaded here; the child runs `f`
    // and leaves with `_exit`.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: errno {}", sys::errno())),
        0 => {
            let code = match f() {
                Ok(()) => 0,
                Err(e) => {
                    println!("#   child: {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: leaving the child without running the parent's atexit
            // handlers.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: `status` is writable.
            if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
                return Err(format!("waitpid: errno {}", sys::errno()));
            }
            check(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                || format!("child failed (status {status:#x})"),
            )?;
            back_to(base)
        }
    }
}

fn expect_err(what: &str, got: Result<(), i32>, errno: i32) -> Outcome {
    match got {
        Err(e) if e == errno => Ok(()),
        Err(e) => Err(format!("{what}: errno {e}, expected {errno}")),
        Ok(()) => Err(format!("{what}: succeeded, expected errno {errno}")),
    }
}

fn ok(what: &str, got: Result<(), i32>) -> Outcome {
    got.map_err(|e| format!("{what}: errno {e}"))
}

fn init() -> Result<(), i32> {
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)
}

fn unshare() -> Result<(), i32> {
    sys::secns_set(LSM_ATTR_UNSHARE, None)
}

/// `secns-vmtest --info` prints the caller's `secns_info` like this.
pub fn print_info() -> std::process::ExitCode {
    match sys::secns_info() {
        Ok(i) => {
            println!(
                "{} {} {} {} {}",
                i.id, i.parent_id, i.pending_id, i.depth, i.flags
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn lockdown_raised() -> Outcome {
    const LOCKDOWN: &str = "/sys/kernel/security/lockdown";
    let mode = std::fs::read_to_string(LOCKDOWN).map_err(|e| format!("lockdown: {e}"))?;
    check(mode.contains("[none]"), || {
        format!("booted locked down already: {mode:?}")
    })?;
    in_child(|| {
        let base = count()?;
        ok("UNSHARE_INIT before lockdown", init())?;
        let pending = sys::secns_info()?.pending_id;
        std::fs::write(LOCKDOWN, "integrity").map_err(|e| format!("raising lockdown: {e}"))?;
        expect_err("UNSHARE after lockdown was raised", unshare(), libc::EPERM)?;
        // With CAP_MAC_ADMIN, the EPERM is lockdown's: it says so.
        let line = "Lockdown: secns-vmtest: use of security namespaces is restricted";
        check(sys::kernel_log()?.contains(line), || {
            format!("no {line:?} in the kernel log")
        })?;
        // A refused UNSHARE keeps the namespace pending; it can be dropped.
        check(sys::secns_info()?.pending_id == pending, || {
            "the pending namespace changed".into()
        })?;
        ok(
            "ABORT",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
        )?;
        expect_err("UNSHARE_INIT under lockdown", init(), libc::EPERM)?;
        back_to(base)
    })
}

fn lockdown_eperm() -> Outcome {
    let mode = std::fs::read_to_string("/sys/kernel/security/lockdown")
        .map_err(|e| format!("lockdown: {e}"))?;
    check(mode.contains("[integrity]"), || {
        format!("not locked down: {mode:?}")
    })?;
    in_child(|| {
        let base = count()?;
        expect_err("UNSHARE_INIT under lockdown", init(), libc::EPERM)?;
        expect_err("UNSHARE under lockdown", unshare(), libc::EPERM)?;
        check(count()? == base && sys::secns_info()?.flags == 0, || {
            "state changed".into()
        })
    })
}

fn boot_parameters() -> Outcome {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/sys/kernel/security/secns/{name}"))
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("{name}: {e}"))
    };
    let (maxns, depth) = (read("maxns")?, read("maxnsdepth")?);
    check(maxns == "7" && depth == "32", || {
        format!("maxns {maxns}, maxnsdepth {depth}; expected 7 and the default 32")
    })
}
