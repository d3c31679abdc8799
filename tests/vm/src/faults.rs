//! Fault injection (the checker kernel: `CONFIG_FAILSLAB`,
//! `CONFIG_FAIL_PAGE_ALLOC`, `CONFIG_FAULT_INJECTION_DEBUG_FS`): every
//! allocation an operation makes fails in turn, through
//! `/proc/thread-self/fail-nth`, until the operation completes without a
//! fault. At every step the call must succeed or fail with `ENOMEM`, the
//! caller's effective and pending namespaces must be exactly as before (or
//! as after success), and the count must be back at its baseline once the
//! attempt's process is gone. kmemleak scans after all of it (`stress`).
//!
//! Each attempt runs in a process of its own, so that it starts from the
//! same state and may enter a namespace. After the fault is armed the
//! attempt makes no other system call (its buffers are made before), so
//! the n-th allocation is the operation's.

use crate::sys::{self, Info, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT};
use crate::tap::{check, Outcome, Test};
use std::ffi::CString;
use std::io::Write;
use std::os::unix::fs::FileExt;
use Failing::{Errno, MayDie};

pub const TESTS: &[Test] = &[
    Test {
        name: "fault injection: fail-nth is set up (failslab and fail_page_alloc, any allocation)",
        run: setup,
    },
    Test {
        name: "fault injection: INIT fails only with ENOMEM and leaves nothing",
        run: || every_fault("INIT", init, 1, Errno),
    },
    Test {
        name:
            "fault injection: two-phase UNSHARE fails only with ENOMEM, the namespace still pending",
        run: || every_fault("UNSHARE (pending)", unshare_pending, 1, Errno),
    },
    Test {
        name: "fault injection: one-shot UNSHARE fails only with ENOMEM and leaves nothing",
        run: || every_fault("UNSHARE (one-shot)", unshare_one_shot, 1, Errno),
    },
    Test {
        name: "fault injection: ABORT fails only with ENOMEM, the namespace still pending",
        run: || every_fault("ABORT", abort, 1, Errno),
    },
    Test {
        name: "fault injection: lsm_get_self_attr(LSM_ATTR_UNSHARE) fails only with ENOMEM",
        run: || every_fault("get", get, 1, Errno),
    },
    // A limit write may allocate nothing: then its one attempt is the
    // check that it completes.
    Test {
        name: "fault injection: a write to maxns fails only with ENOMEM, the limit old or new",
        run: || every_fault("write maxns", write_maxns, 0, Errno),
    },
    Test {
        name: "fault injection: fork of a task in a namespace with one pending",
        run: || every_fault("fork", fork_in_namespace, 1, Errno),
    },
    Test {
        name: "fault injection: execve of a task in a namespace with one pending: it fails, and keeps both, or goes through",
        run: || every_fault("execve", exec_in_namespace, 1, MayDie),
    },
];

const DEBUGFS: &str = "/sys/kernel/debug";

/// Every allocation may fail (not only atomic ones, not only pages of
/// order 1 and more), silently: a fault's stack trace would be a report
/// in the kernel log. No random failure: only fail-nth's.
fn setup() -> Outcome {
    for (file, value) in [
        ("failslab/ignore-gfp-wait", "N"),
        ("failslab/verbose", "0"),
        ("failslab/probability", "0"),
        ("fail_page_alloc/ignore-gfp-wait", "N"),
        ("fail_page_alloc/ignore-gfp-highmem", "N"),
        ("fail_page_alloc/min-order", "0"),
        ("fail_page_alloc/verbose", "0"),
        ("fail_page_alloc/probability", "0"),
    ] {
        std::fs::write(format!("{DEBUGFS}/{file}"), value).map_err(|e| {
            format!("{DEBUGFS}/{file}: {e} (is the kernel built with fault injection?)")
        })?;
    }
    let f = FailNth::open()?;
    check(f.left() == Some(0), || {
        "fail-nth does not read 0 when unarmed".into()
    })
}

/// The calling thread's `/proc/thread-self/fail-nth`.
struct FailNth(std::fs::File);

impl FailNth {
    fn open() -> Result<Self, String> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/proc/thread-self/fail-nth")
            .map(Self)
            .map_err(|e| format!("/proc/thread-self/fail-nth: {e}"))
    }

    /// Makes the `n`-th allocation of this thread from now on fail.
    fn arm(&self, text: &[u8]) -> bool {
        self.0.write_at(text, 0).is_ok()
    }

    /// What is left before the fault: `Some(0)` once it was injected.
    fn left(&self) -> Option<u32> {
        let mut buf = [0u8; 16];
        let n = self.0.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }

    fn disarm(&self) {
        let _ = self.0.write_at(b"0", 0);
    }
}

/// What an attempt found.
enum Attempt {
    /// The operation completed without a fault: the loop is over.
    Completed,
    /// A fault was injected and everything was as it must be.
    Faulted,
}

/// One attempt with the `n`-th allocation failing, in a child process.
type AttemptFn = fn(&str, u32) -> Result<Attempt, String>;

/// Exit codes of an attempt's process.
const COMPLETED: i32 = 0;
const FAULTED: i32 = 3;

/// How an operation under a fault may end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failing {
    /// With an errno, in the attempt's process: a system call that fails
    /// returns, and nothing else runs while the fault is armed.
    Errno,
    /// Also by a signal: execve, and only execve. A fault after its point
    /// of no return (the old program's memory is gone) cannot be returned
    /// to the program that called it, so the kernel kills the process with
    /// SIGSEGV (force_fatal_sig() in bprm_execve()). And a fault that
    /// execve did not use up stays armed in the new program (fail-nth is
    /// the task's), where a system call of its start-up may take it: the
    /// static glibc stops a program whose start-up allocation failed with
    /// `hlt` (SIGSEGV), the Rust runtime (panic = "abort") with abort()
    /// (SIGABRT). Every other operation is one system call, made with no
    /// other between arming and disarming the fault, which returns.
    MayDie,
}

/// The signals that an attempt of `failing` may die of.
fn may_die_of(failing: Failing, sig: i32) -> bool {
    failing == Failing::MayDie && [libc::SIGSEGV, libc::SIGABRT].contains(&sig)
}

/// Runs `attempt` with fail-nth at 1, 2, 3, ... until an attempt completes
/// without a fault (after at least `min` faults); after each one, the count
/// must be back at its baseline. Only an operation that `MayDie` may kill
/// the attempt's process with a signal (see [`Failing`]), and then only the
/// count is left to check; every other operation must return.
fn every_fault(what: &str, attempt: AttemptFn, min: u32, failing: Failing) -> Outcome {
    let base = sys::count()?;
    for n in 1..=5000u32 {
        let _ = std::io::stdout().flush();
        // SAFETY: single-threaded here; the child leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: errno {}", sys::errno()));
        }
        if pid == 0 {
            let code = match attempt(what, n) {
                Ok(Attempt::Completed) => COMPLETED,
                Ok(Attempt::Faulted) => FAULTED,
                Err(e) => {
                    println!("#   {what}, allocation {n} failing: {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child.
            unsafe { libc::_exit(code) }
        }
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        sys::count_back_to(base, std::time::Duration::from_secs(10))
            .map_err(|e| format!("{what}, allocation {n} failing: {e}"))?;
        match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
            (true, COMPLETED) => {
                println!(
                    "# fault injection: {what}: {} allocations failed in turn",
                    n - 1
                );
                return check(n > min, || {
                    format!("{what}: only {} allocations failed", n - 1)
                });
            }
            (true, FAULTED) => {}
            (false, _)
                if libc::WIFSIGNALED(status) && may_die_of(failing, libc::WTERMSIG(status)) => {}
            (false, _) if libc::WIFSIGNALED(status) => {
                return Err(format!(
                    "{what}, allocation {n} failing: the attempt died of signal {}",
                    libc::WTERMSIG(status)
                ))
            }
            _ => {
                return Err(format!(
                    "{what}, allocation {n} failing: attempt status {status:#x}"
                ))
            }
        }
    }
    Err(format!("{what}: still faulting after 5000 allocations"))
}

/// The caller's `secns_info` as (id, pending id, depth).
fn now() -> Result<(u64, u64, u32), String> {
    let i: Info = sys::secns_info()?;
    Ok((i.id, i.pending_id, i.depth))
}

/// Arms the `n`-th fault, runs `op`, disarms; the result and whether the
/// fault was injected.
fn with_fault<T>(n: u32, op: impl FnOnce() -> T) -> Result<(T, bool), String> {
    let f = FailNth::open()?;
    let text = n.to_string().into_bytes();
    if !f.arm(&text) {
        return Err("cannot arm fail-nth".into());
    }
    let r = op();
    let injected = f.left() == Some(0);
    f.disarm();
    Ok((r, injected))
}

/// The secns `lsm_ctx` with `flags` (none: no payload), made before a fault
/// is armed.
fn ctx(flags: Option<u64>) -> Vec<u8> {
    let args = flags.map(|flags| sys::SecnsUnshareArgs { flags });
    let payload: &[u8] = args.as_ref().map_or(&[], sys::SecnsUnshareArgs::as_bytes);
    sys::RawCtx::secns(payload).as_bytes().to_vec()
}

fn set(attr: u32, ctx: &[u8]) -> Result<u32, i32> {
    sys::lsm_set_self_attr(attr, ctx, ctx.len() as u32, 0)
}

/// The outcome of a system call under a fault: success, or `ENOMEM` only
/// when the fault was injected.
fn judge<T>(r: &Result<T, i32>, injected: bool) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(libc::ENOMEM) if injected => Ok(()),
        Err(e) => Err(format!("errno {e} (injected: {injected})")),
    }
}

fn outcome(injected: bool) -> Attempt {
    if injected {
        Attempt::Faulted
    } else {
        Attempt::Completed
    }
}

fn init(_: &str, n: u32) -> Result<Attempt, String> {
    let base = sys::count()?;
    let c = ctx(None);
    let (r, injected) = with_fault(n, || set(LSM_ATTR_UNSHARE_INIT, &c))?;
    judge(&r, injected)?;
    let (id, pending, _) = now()?;
    let count = sys::count()?;
    match r {
        Ok(_) => check(id == 0 && pending > 0 && count == base + 1, || {
            format!("after INIT: id {id}, pending {pending}, count {count} (base {base})")
        })?,
        Err(_) => check(id == 0 && pending == 0 && count == base, || {
            format!("after a failed INIT: id {id}, pending {pending}, count {count} (base {base})")
        })?,
    }
    Ok(outcome(injected))
}

fn unshare_pending(_: &str, n: u32) -> Result<Attempt, String> {
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
    let (_, pending, _) = now()?;
    let c = ctx(None);
    let (r, injected) = with_fault(n, || set(LSM_ATTR_UNSHARE, &c))?;
    judge(&r, injected)?;
    let after = now()?;
    let want = if r.is_ok() {
        (pending, 0, 1)
    } else {
        (0, pending, 0)
    };
    check(after == want, || {
        format!("(id, pending, depth) {after:?}, expected {want:?}")
    })?;
    Ok(outcome(injected))
}

fn unshare_one_shot(_: &str, n: u32) -> Result<Attempt, String> {
    let c = ctx(None);
    let (r, injected) = with_fault(n, || set(LSM_ATTR_UNSHARE, &c))?;
    judge(&r, injected)?;
    let (id, pending, depth) = now()?;
    let ok = if r.is_ok() {
        id > 0 && pending == 0 && depth == 1
    } else {
        id == 0 && pending == 0 && depth == 0
    };
    check(ok, || {
        format!("id {id}, pending {pending}, depth {depth} after {r:?}")
    })?;
    Ok(outcome(injected))
}

fn abort(_: &str, n: u32) -> Result<Attempt, String> {
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
    let (_, pending, _) = now()?;
    let c = ctx(Some(SECNS_ABORT));
    let (r, injected) = with_fault(n, || set(LSM_ATTR_UNSHARE_INIT, &c))?;
    judge(&r, injected)?;
    let after = now()?;
    let want = if r.is_ok() {
        (0, 0, 0)
    } else {
        (0, pending, 0)
    };
    check(after == want, || {
        format!("(id, pending, depth) {after:?}, expected {want:?}")
    })?;
    Ok(outcome(injected))
}

fn get(_: &str, n: u32) -> Result<Attempt, String> {
    let before = now()?;
    let mut buf = vec![0u8; 512];
    let (r, injected) = with_fault(n, || {
        sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut buf, 0).0
    })?;
    judge(&r, injected)?;
    let after = now()?;
    check(after == before, || format!("{before:?} became {after:?}"))?;
    Ok(outcome(injected))
}

fn write_maxns(_: &str, n: u32) -> Result<Attempt, String> {
    let path = "/sys/kernel/security/secns/maxns";
    let old: u64 = sys::read_secns_file("maxns")?;
    let new = old - 1;
    let text = format!("{new}\n").into_bytes();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{path}: {e}"))?;
    let (r, injected) = with_fault(n, || {
        file.write_at(&text, 0)
            .map_err(|e| e.raw_os_error().unwrap_or(0))
    })?;
    judge(&r, injected)?;
    let now = sys::read_secns_file("maxns")?;
    let _ = sys::write_limit("maxns", old);
    let want = if r.is_ok() { new } else { old };
    check(now == want, || {
        format!("maxns {now} after {r:?}, expected {want}")
    })?;
    Ok(outcome(injected))
}

/// Enters a namespace and makes a child of it pending.
fn in_a_namespace_with_one_pending() -> Result<(u64, u64), String> {
    sys::secns_set(LSM_ATTR_UNSHARE, None).map_err(|e| format!("UNSHARE: errno {e}"))?;
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
    let (id, pending, _) = now()?;
    Ok((id, pending))
}

fn fork_in_namespace(_: &str, n: u32) -> Result<Attempt, String> {
    let (id, pending) = in_a_namespace_with_one_pending()?;
    let (pid, injected) = with_fault(n, || {
        // SAFETY: single-threaded; the child leaves with `_exit` at once.
        match unsafe { libc::fork() } {
            0 => unsafe { libc::_exit(0) },
            -1 => Err(sys::errno()),
            pid => Ok(pid),
        }
    })?;
    judge(&pid, injected)?;
    if let Ok(pid) = pid {
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    let after = now()?;
    check(after == (id, pending, 1), || {
        format!("(id, pending, depth) {after:?} after fork")
    })?;
    Ok(outcome(injected))
}

/// The program an execve attempt runs: `secns-vmtest --exec-probe` exits 0
/// when it has no pending namespace and its fail-nth was not used up (the
/// execve completed without a fault), 3 when it has none and the fault was
/// injected but execve went through, and 1 with a pending namespace.
pub fn exec_probe() -> std::process::ExitCode {
    let injected = FailNth::open().ok().and_then(|f| f.left()) == Some(0);
    match now() {
        Ok((_, 0, _)) if !injected => std::process::ExitCode::from(COMPLETED as u8),
        Ok((_, 0, _)) => std::process::ExitCode::from(FAULTED as u8),
        _ => std::process::ExitCode::FAILURE,
    }
}

fn exec_in_namespace(_: &str, n: u32) -> Result<Attempt, String> {
    let (id, pending) = in_a_namespace_with_one_pending()?;
    let prog = CString::new("/tests/secns-vmtest").map_err(|e| e.to_string())?;
    let arg = CString::new("--exec-probe").map_err(|e| e.to_string())?;
    let argv = [prog.as_ptr(), arg.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    let f = FailNth::open()?;
    let text = n.to_string().into_bytes();
    if !f.arm(&text) {
        return Err("cannot arm fail-nth".into());
    }
    // SAFETY: NULL-terminated arrays of valid C strings.
    unsafe { libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let e = sys::errno();
    let injected = f.left() == Some(0);
    f.disarm();
    // Only a fault before the point of no return comes back here. execve
    // turns some failed allocations into other errors (E2BIG for an
    // argument page, ENOEXEC when the binary cannot be read): any error
    // goes with an injected fault, none without one.
    check(injected, || {
        format!("execve failed without a fault: errno {e}")
    })?;
    let after = now()?;
    check(after == (id, pending, 1), || {
        format!("(id, pending, depth) {after:?} after a failed execve")
    })?;
    Ok(Attempt::Faulted)
}
