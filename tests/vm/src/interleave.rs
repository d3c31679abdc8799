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

/// One round, in a process of its own: INIT, then threads that each make
/// a thread and end unjoined, while the process calls `UNSHARE` until it
/// succeeds. Returns how many calls were refused first.
fn race_round(threads: u64) -> Result<u64, String> {
    use std::sync::atomic::Ordering::SeqCst;
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None).map_err(|e| format!("INIT: errno {e}"))?;
    let pending = sys::secns_info()?.pending_id;
    for _ in 0..threads {
        std::thread::spawn(|| {
            std::thread::spawn(stray_check);
            stray_check();
        });
    }
    let mut refused = 0;
    loop {
        match sys::secns_set(LSM_ATTR_UNSHARE, None) {
            Ok(()) => break,
            Err(libc::EINVAL) if refused < 100_000 => refused += 1,
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
    Ok(refused)
}

/// Forks a process per round, so each round starts at the same depth.
fn racer(seed: u64) -> Outcome {
    let mut rng = Rng::new(seed);
    let (mut refused, mut raced) = (0, 0);
    for round in 0..60 {
        let threads = 1 + rng.below(3);
        let (pid, mut input) = fork_reporting(|out| {
            let msg = match race_round(threads) {
                Ok(n) => format!("+{n}"),
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
        match msg.strip_prefix('+').map(str::parse::<u64>) {
            Some(Ok(n)) => {
                refused += n;
                raced += u64::from(n > 0);
            }
            _ => return Err(msg.trim_start_matches('-').to_string()),
        }
    }
    println!("#   racer {seed}: {raced} of 60 rounds raced, {refused} UNSHAREs refused");
    Ok(())
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
        sys::write_limit("maxnsdepth", 1 + rng.below(4)).map_err(|_| libc::EIO)?;
    }
    Ok(())
}

fn maker(seed: u64) -> Result<(), i32> {
    let mut rng = Rng::new(seed);
    for _ in 0..300 {
        let r = match rng.below(3) {
            0 => crate::stress::deeper_child(),
            1 => sys::secns_set(LSM_ATTR_UNSHARE_INIT, None),
            _ => sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(sys::SECNS_ABORT)),
        };
        match r {
            Ok(()) | Err(libc::ENOSPC | libc::EBUSY | libc::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn concurrent_limit_writes() -> Outcome {
    let base = crate::stress::settled_base()?;
    BASE.store(base, std::sync::atomic::Ordering::Relaxed);
    let _maxns = sys::Limit::save("maxns")?;
    let _depth = sys::Limit::save("maxnsdepth")?;
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
                    limit_writer(0x77 + i)
                } else {
                    maker(0x99 + i)
                };
                // SAFETY: ends the child.
                unsafe { libc::_exit(i32::from(r.is_err())) }
            }
            pid => pids.push(pid),
        }
    }
    let mut highest = 0;
    for _ in 0..500 {
        highest = highest.max(sys::count()?);
    }
    let failed = crate::stress::wait_all(pids);
    check(failed == 0, || {
        format!("{failed} of the 8 processes failed")
    })?;
    check(highest <= base + SPAN, || {
        format!("count {highest} above the highest maxns {}", base + SPAN)
    })?;
    let maxns = sys::read_secns_file("maxns")?;
    check((base..=base + SPAN).contains(&maxns), || {
        format!("maxns {maxns} is none of the values written")
    })?;
    sys::count_back_to(base, Duration::from_secs(10))
}
