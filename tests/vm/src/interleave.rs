//! Interleavings that users create, for the checker kernel (`stress`): many
//! live namespaces at once, a task killed while its namespace is being set
//! up, a setuid program executed with a namespace pending, threads created
//! while their process enters a namespace, and the limits written by several
//! processes at once while namespaces are made.

use crate::stress::Rng;
use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT};
use crate::tap::{check, Outcome, Test};
use std::io::{Read, Write};
use std::time::Duration;

pub const TESTS: &[Test] = &[
    Test {
        name: "10 016 live namespaces held by 313 processes, counted, then all freed",
        run: ten_thousand,
    },
    Test {
        name: "kill -9 while the namespace is pending and being set up leaves nothing",
        run: killed_during_setup,
    },
    Test {
        name: "a setuid program executed with a namespace pending finds none, the count back",
        run: setuid_exec,
    },
    Test {
        name: "threads come and go while their process calls UNSHARE: it enters only alone",
        run: threads_racing_unshare,
    },
    Test {
        name: "4 processes write maxns and maxnsdepth while 4 make namespaces: never above the highest maxns",
        run: concurrent_limit_writes,
    },
];

/// Forks a child that runs `child` with the write end of a pipe and then
/// leaves with `_exit(0)` (unless `child` never returns); returns its pid
/// and the read end.
fn fork_reporting(
    child: impl FnOnce(&mut std::fs::File),
) -> Result<(libc::pid_t, std::fs::File), String> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: errno {}", sys::errno()));
    }
    let _ = std::io::stdout().flush();
    // SAFETY: single-threaded here; the child leaves with `_exit` or is killed.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: errno {}", sys::errno()));
    }
    if pid == 0 {
        // SAFETY: the write end is the child's; the read end is closed.
        let mut out = unsafe {
            libc::close(fds[0]);
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1])
        };
        child(&mut out);
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: the read end is ours; the write end is the child's.
    let input = unsafe {
        libc::close(fds[1]);
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0])
    };
    Ok((pid, input))
}

/// Forks a child running `f`, which reports on the pipe (one byte once it
/// is ready) and then waits to be killed; returns its pid and the read end.
fn holder(f: fn() -> Result<(), i32>) -> Result<(libc::pid_t, std::fs::File), String> {
    fork_reporting(|out| {
        let byte = if f().is_ok() { b'+' } else { b'-' };
        let _ = out.write_all(&[byte]);
        loop {
            // SAFETY: waits for the signal that ends the child.
            unsafe { libc::pause() };
        }
    })
}

/// Waits for the holder's report: whether its setup succeeded.
fn ready(input: &mut std::fs::File) -> bool {
    let mut b = [0u8];
    input.read_exact(&mut b).is_ok() && b[0] == b'+'
}

fn kill_all(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: our own children.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    for &pid in pids {
        let mut st = 0;
        // SAFETY: `st` is writable.
        unsafe { libc::waitpid(pid, &mut st, 0) };
    }
}

/// 31 levels deep, and one more pending at depth 32 (`maxnsdepth` 32):
/// 32 namespaces.
fn deepest() -> Result<(), i32> {
    for _ in 0..31 {
        sys::secns_set(LSM_ATTR_UNSHARE, None)?;
    }
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)
}

fn ten_thousand() -> Outcome {
    const HOLDERS: u64 = 313;
    const EACH: u64 = 32;
    let base = crate::stress::settled_base()?;
    let _maxns = sys::Limit::save("maxns")?;
    let _depth = sys::Limit::save("maxnsdepth")?;
    sys::write_limit("maxns", base + HOLDERS * EACH)?;
    sys::write_limit("maxnsdepth", 32)?;
    let mut pids = Vec::new();
    let mut failed = 0;
    let mut err = None;
    for _ in 0..HOLDERS {
        match holder(deepest) {
            Ok((pid, mut input)) => {
                pids.push(pid);
                if !ready(&mut input) {
                    failed += 1;
                }
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let held = sys::count();
    kill_all(&pids);
    // 10 000 frees under the checkers take a while.
    let back = sys::count_back_to(base, Duration::from_secs(120));
    if let Some(e) = err {
        return Err(e);
    }
    check(failed == 0, || {
        format!("{failed} holders could not make their {EACH}")
    })?;
    let held = held?;
    check(held == base + HOLDERS * EACH, || {
        format!("count {held} with {HOLDERS} x {EACH} held, base {base}")
    })?;
    println!("# {} live namespaces held at once", held - base);
    back
}

/// A namespace made pending, then the task "configures" it until killed.
fn pending_then_wait() -> Result<(), i32> {
    sys::secns_set(LSM_ATTR_UNSHARE, None)?;
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)
}

fn killed_during_setup() -> Outcome {
    let base = crate::stress::settled_base()?;
    for round in 0..50 {
        let (pid, mut input) = holder(pending_then_wait)?;
        // Half are killed before they report, half after.
        if round % 2 == 1 && !ready(&mut input) {
            kill_all(&[pid]);
            return Err(format!("round {round}: setup failed"));
        }
        kill_all(&[pid]);
    }
    sys::count_back_to(base, Duration::from_secs(20))
}

fn setuid_exec() -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    let base = crate::stress::settled_base()?;
    let prog = "/tmp/secns-vmtest-setuid";
    std::fs::copy("/tests/secns-vmtest", prog).map_err(|e| format!("{prog}: {e}"))?;
    std::fs::set_permissions(prog, std::fs::Permissions::from_mode(0o4755))
        .map_err(|e| format!("chmod {prog}: {e}"))?;
    let c = |s: &str| std::ffi::CString::new(s).unwrap_or_default();
    let (path, arg) = (c(prog), c("--pending-none"));
    let _ = std::io::stdout().flush();
    // SAFETY: single-threaded here; the child leaves with exec or `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = (|| {
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
            // An unprivileged user executes the setuid-root program.
            // SAFETY: plain system calls.
            if unsafe { libc::setresgid(1000, 1000, 1000) } != 0
                || unsafe { libc::setresuid(1000, 1000, 1000) } != 0
            {
                return Err(format!("setresuid: errno {}", sys::errno()));
            }
            let argv = [path.as_ptr(), arg.as_ptr(), std::ptr::null()];
            let envp = [std::ptr::null()];
            // SAFETY: NULL-terminated arrays of valid C strings.
            unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            Err(format!("execve: errno {}", sys::errno()))
        })()
        .map_or_else(
            |e| {
                println!("#   {e}");
                let _ = std::io::stdout().flush();
                100
            },
            |()| 0,
        );
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) }
    }
    let mut st = 0;
    // SAFETY: `st` is writable.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    let _ = std::fs::remove_file(prog);
    check(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, || {
        format!("the setuid program found a pending namespace or failed (status {st:#x})")
    })?;
    sys::count_back_to(base, Duration::from_secs(10))
}

/// The namespace the racing process entered, 0 before it did.
static ENTERED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Threads found in their old namespace after their process entered a new one.
static STRAYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Racing threads that have started (counted first thing), and those that
/// have ended (counted after their last call, just before they return:
/// until they exit, they are still in the thread group).
static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static ENDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// The `UNSHARE` calls the racing process has begun.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Run by every racing thread as it ends: if its process has entered a
/// namespace and this thread is still in the old one, then the thread (or
/// the thread that made it) lived through a successful `UNSHARE`.
fn stray_check() {
    use std::sync::atomic::Ordering::SeqCst;
    let Ok(mine) = sys::secns_info() else {
        STRAYS.fetch_add(1, SeqCst);
        return;
    };
    let entered = ENTERED.load(SeqCst);
    if entered != 0 && mine.id != entered {
        STRAYS.fetch_add(1, SeqCst);
    }
}

/// A racing thread: it lets its process begin two `UNSHARE` calls after it
/// started (waiting 2 ms at most, so a round never depends on it), then
/// makes a thread and ends unjoined while the calls go on.
fn racing_thread() {
    use std::sync::atomic::Ordering::SeqCst;
    STARTED.fetch_add(1, SeqCst);
    let calls = CALLS.load(SeqCst);
    let start = std::time::Instant::now();
    while CALLS.load(SeqCst) < calls + 2 && start.elapsed() < Duration::from_millis(2) {
        std::thread::yield_now();
    }
    std::thread::spawn(|| {
        STARTED.fetch_add(1, SeqCst);
        stray_check();
        ENDED.fetch_add(1, SeqCst);
    });
    stray_check();
    ENDED.fetch_add(1, SeqCst);
}

/// What a round saw: the calls refused, and those of them made while a
/// racing thread was certainly alive.
struct Raced {
    refused: u64,
    overlapped: u64,
}

/// One round, in a process of its own: INIT, then threads that each make
/// a thread and end unjoined, while the process calls `UNSHARE` until it
/// succeeds.
fn race_round(threads: u64) -> Result<Raced, String> {
    use std::sync::atomic::Ordering::SeqCst;
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
    let pending = sys::secns_info()?.pending_id;
    for _ in 0..threads {
        std::thread::spawn(racing_thread);
    }
    let (mut refused, mut overlapped) = (0, 0);
    loop {
        CALLS.fetch_add(1, SeqCst);
        let started = STARTED.load(SeqCst);
        let r = sys::secns_set(LSM_ATTR_UNSHARE, None);
        let ended = ENDED.load(SeqCst);
        // More threads had started before the call than had ended after
        // it: one of those that had started was alive throughout the call,
        // which the kernel must refuse.
        let alive = started > ended;
        match r {
            Ok(()) if alive => {
                return Err(format!(
                    "UNSHARE succeeded with a racing thread alive ({started} started before the call, {ended} ended after it)"
                ))
            }
            Ok(()) => break,
            Err(libc::EINVAL) if refused < 100_000 => {
                refused += 1;
                overlapped += u64::from(alive);
            }
            Err(e) => return Err(format!("UNSHARE after {refused} refusals: errno {e}")),
        }
        if refused % 64 == 0 {
            let now = sys::secns_info()?.pending_id;
            check(now == pending, || {
                format!("pending {now} after a refused UNSHARE, was {pending}")
            })?;
        }
        std::thread::yield_now();
    }
    let info = sys::secns_info()?;
    ENTERED.store(info.id, SeqCst);
    check(info.id == pending && info.pending_id == 0, || {
        format!(
            "entered {} (pending {}), expected {pending}",
            info.id, info.pending_id
        )
    })?;
    // A thread made now is made in the new namespace.
    std::thread::spawn(stray_check)
        .join()
        .map_err(|_| "a thread panicked".to_string())?;
    sys::wait_single_threaded();
    let strays = STRAYS.load(SeqCst);
    check(strays == 0, || {
        format!("{strays} threads in the old namespace after UNSHARE succeeded")
    })?;
    Ok(Raced {
        refused,
        overlapped,
    })
}

/// Forks a process per round, so each round starts at the same depth.
/// Fails unless some round made a call while one of its threads was
/// certainly alive: then the race did not happen.
fn racer(seed: u64) -> Outcome {
    const ROUNDS: u64 = 60;
    let mut rng = Rng::new(seed);
    let (mut refused, mut raced, mut overlapped) = (0, 0, 0);
    for round in 0..ROUNDS {
        let threads = 1 + rng.below(3);
        let (pid, mut input) = fork_reporting(|out| {
            let msg = match race_round(threads) {
                Ok(r) => format!("+{} {}", r.refused, r.overlapped),
                Err(e) => format!("-round {round}: {e}"),
            };
            let _ = out.write_all(msg.as_bytes());
        })?;
        let mut msg = String::new();
        let read = input.read_to_string(&mut msg);
        let failed = crate::stress::wait_all(vec![pid]);
        if read.is_err() || failed != 0 {
            return Err(format!("round {round}: the child died"));
        }
        let counts = msg.strip_prefix('+').and_then(|m| {
            let (r, o) = m.split_once(' ')?;
            Some((r.parse::<u64>().ok()?, o.parse::<u64>().ok()?))
        });
        match counts {
            Some((r, o)) => {
                refused += r;
                raced += u64::from(r > 0);
                overlapped += u64::from(o > 0);
            }
            None => return Err(msg.trim_start_matches('-').to_string()),
        }
    }
    println!(
        "#   racer {seed}: {raced} of {ROUNDS} rounds had UNSHAREs refused ({refused} in all), {overlapped} a call made while a thread was certainly alive"
    );
    check(overlapped > 0, || {
        format!("in none of the {ROUNDS} rounds was UNSHARE called while a racing thread was certainly alive")
    })
}

fn threads_racing_unshare() -> Outcome {
    let base = crate::stress::settled_base()?;
    let racers: [crate::stress::Job; 2] = [(0x3e, racer), (0x3f, racer)];
    let failed = crate::stress::spawn(&racers).map(crate::stress::wait_all)?;
    check(failed == 0, || format!("{failed} of the 2 racers failed"))?;
    sys::count_back_to(base, Duration::from_secs(20))
}

/// The highest `maxns` the writers may set, above the base count.
const SPAN: u64 = 6;

/// The count before the concurrent writes (set before the processes fork).
static BASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn limit_writer(seed: u64) -> Result<(), i32> {
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    let mut rng = Rng::new(seed);
    for _ in 0..300 {
        sys::write_limit("maxns", base + rng.below(SPAN + 1)).map_err(|_| libc::EIO)?;
        sys::write_limit("maxnsdepth", 1 + rng.below(u64::from(DEPTH_SPAN)))
            .map_err(|_| libc::EIO)?;
    }
    Ok(())
}

/// The highest `maxnsdepth` the writers may set (they set 1 to this).
const DEPTH_SPAN: u32 = 4;

/// Random INIT, ABORT and deeper children, each answer predicted from the
/// maker's own state: only a namespace it creates may be refused by the
/// limits the writers change (ENOSPC).
fn maker(seed: u64) -> Outcome {
    use crate::stress::Op;
    let mut rng = Rng::new(seed);
    let mut own = crate::stress::Own::now(DEPTH_SPAN)?;
    for round in 0..300 {
        let (op, r) = match rng.below(3) {
            0 => {
                crate::stress::deeper_child(&own).map_err(|e| format!("round {round}: {e}"))?;
                continue;
            }
            1 => (Op::Init, sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)),
            _ => (
                Op::Abort,
                sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(sys::SECNS_ABORT)),
            ),
        };
        own.judge(op, r)
            .map_err(|e| format!("round {round}: {e}"))?;
        own.verify().map_err(|e| format!("round {round}: {e}"))?;
    }
    Ok(())
}

fn concurrent_limit_writes() -> Outcome {
    let base = crate::stress::settled_base()?;
    BASE.store(base, std::sync::atomic::Ordering::Relaxed);
    let _maxns = sys::Limit::save("maxns")?;
    let _depth = sys::Limit::save("maxnsdepth")?;
    // The highest values the writers write, before any process starts:
    // no namespace is ever made beyond them.
    sys::write_limit("maxns", base + SPAN)?;
    sys::write_limit("maxnsdepth", u64::from(DEPTH_SPAN))?;
    let mut pids = Vec::new();
    for i in 0..8u64 {
        let _ = std::io::stdout().flush();
        // SAFETY: single-threaded here; the child leaves with `_exit`.
        match unsafe { libc::fork() } {
            -1 => {
                kill_all(&pids);
                return Err(format!("fork: errno {}", sys::errno()));
            }
            0 => {
                let r = if i < 4 {
                    limit_writer(0x77 + i).map_err(|e| format!("errno {e}"))
                } else {
                    maker(0x99 + i)
                };
                if let Err(e) = &r {
                    println!("#   process {i}: {e}");
                    let _ = std::io::stdout().flush();
                }
                // SAFETY: ends the child.
                unsafe { libc::_exit(i32::from(r.is_err())) }
            }
            pid => pids.push(pid),
        }
    }
    // The count is watched until the last of them is reaped.
    let w = crate::stress::watch_count(pids)?;
    println!(
        "# {} reads of the count while the processes ran, highest {} (maxns at most {})",
        w.samples,
        w.highest,
        base + SPAN
    );
    check(w.failed == 0, || {
        format!("{} of the 8 processes failed", w.failed)
    })?;
    check(w.highest <= base + SPAN, || {
        format!(
            "count {} above the highest maxns {}",
            w.highest,
            base + SPAN
        )
    })?;
    let maxns = sys::read_secns_file("maxns")?;
    check((base..=base + SPAN).contains(&maxns), || {
        format!("maxns {maxns} is none of the values written")
    })?;
    sys::count_back_to(base, Duration::from_secs(10))
}
