//! `secns-bench`: the half of `make bench` that runs inside the VM.
//!
//! `bench/run` boots the benchmark kernel with and without secns in `lsm=`
//! under QEMU's `-icount`, where the guest's clock counts instructions,
//! and this program times the same operations in each boot. It prints
//! lines that `bench/report` reads from the console (the host stamps each
//! line with its own clock for the wall-clock column):
//!
//! - `bench-info KEY VALUE`: what was booted (release, `lsm=`, clocksource);
//! - `bench-begin NAME ITERS` and `bench-end NAME` around the rounds of an
//!   operation, then `bench-round NAME ROUND NS` for each round: NS guest
//!   nanoseconds (instructions) for ITERS operations (printed after the
//!   rounds, so that no console output runs inside a timed window);
//! - `bench-mem WITH ROUND BYTES`: the slab growth when each of
//!   [`MEM_TASKS`] waiting threads creates a pending namespace (WITH = `ns`)
//!   or does nothing (`none`, the noise);
//! - `bench-skip NAME WHY`, `bench-error NAME WHY`, and `bench-done` last.
//!
//! Every operation is checked: a benchmark of a call that fails measures
//! the failure, so an unexpected answer is an error, not a number.

use secns::sys::pidfd_open;
use secns::sys::{lsm_get_self_attr, lsm_set_self_attr_raw, RawCtx};
use secns::uapi::{
    SecnsUnshareArgs, SecnsUnshareArgsVer1, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT,
    SECNS_JOIN,
};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};

/// Rounds per operation; `bench/report` takes the median.
const ROUNDS: usize = 11;
/// Tasks holding a namespace each, for the memory measurement.
const MEM_TASKS: u64 = 2000;
/// The live namespaces held by other processes for INIT+ABORT.
const LIVE: [u64; 4] = [0, 2500, 5000, 10_000];
/// The depths of the namespace INIT+ABORT creates.
const DEPTHS: [u32; 7] = [1, 2, 8, 16, 24, 31, 32];
/// The deepest namespace (`maxnsdepth` at most).
const DEPTH_MAX: u32 = 32;
/// INIT+ABORT calls per round: a namespace is freed after an RCU grace
/// period, by a work item, so a round must span many grace periods (about
/// 60 ms of guest time) for its share of that work to be the same from one
/// round to the next.
const INIT_ABORT_ITERS: u64 = 10_000;
/// The program `fork_exec` executes.
const EXIT0: &str = "/bin/bench-exit0";
/// `lsm_list_modules(2)` on the architectures of `secns::sys`.
const SYS_LSM_LIST_MODULES: libc::c_long = 461;
const SECNS_DIR: &str = "/sys/kernel/security/secns";

/// The standard attributes of `lsm_get_self_attr(2)` (`include/uapi/linux/lsm.h`).
const ATTRS: [(&str, u32); 6] = [
    ("current", 100),
    ("exec", 101),
    ("fscreate", 102),
    ("keycreate", 103),
    ("prev", 104),
    ("sockcreate", 105),
];

type Outcome = Result<(), String>;

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Prints a line and waits until the console has sent it, so that no
/// console work is left to run during the next timed round.
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
    // SAFETY: plain system call on standard output (a no-op if not a tty).
    unsafe { libc::tcdrain(1) };
}

/// The guest's monotonic clock: instructions under `-icount shift=0`.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Times `op`: a warm-up, then [`ROUNDS`] rounds of `iters` calls.
fn bench(name: &str, iters: u64, mut op: impl FnMut() -> Outcome) {
    let run = |op: &mut dyn FnMut() -> Outcome, n: u64| (0..n).try_for_each(|_| op());
    if let Err(e) = run(&mut op, iters / 10 + 1) {
        say(format_args!("bench-error {name} {e}"));
        return;
    }
    say(format_args!("bench-begin {name} {iters}"));
    let mut rounds = [0u64; ROUNDS];
    for ns in &mut rounds {
        let start = now_ns();
        if let Err(e) = run(&mut op, iters) {
            say(format_args!("bench-error {name} {e}"));
            return;
        }
        *ns = now_ns() - start;
    }
    say(format_args!("bench-end {name}"));
    for (round, ns) in rounds.iter().enumerate() {
        say(format_args!("bench-round {name} {round} {ns}"));
    }
}

/// Forks a child that runs `child` and `_exit`s with what it returns;
/// waits for it and fails unless it exited 0.
fn fork_wait(child: impl FnOnce() -> i32) -> Outcome {
    // SAFETY: the benchmark is single-threaded when it forks (its threads
    // were joined); the child leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: errno {}", errno()));
    }
    if pid == 0 {
        let code = child();
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) }
    }
    let mut status = 0;
    // SAFETY: `status` is writable.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err(format!("waitpid: errno {}", errno()));
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(format!("child status {status:#x}"))
    }
}

/// An `lsm_ctx` for secns: `flags` as payload, or none.
struct Ctx(RawCtx);

impl Ctx {
    fn new(flags: Option<u64>) -> Self {
        let args = flags.map(|flags| SecnsUnshareArgs { flags });
        Ctx(RawCtx::secns(
            args.as_ref().map_or(&[], SecnsUnshareArgs::as_bytes),
        ))
    }

    /// `SECNS_JOIN` of the task behind `pidfd` (a version 1 payload).
    fn join(pidfd: i32) -> Self {
        let args = SecnsUnshareArgsVer1 {
            flags: SECNS_JOIN,
            pidfd,
            reserved: 0,
        };
        Ctx(RawCtx::secns(args.as_bytes()))
    }

    fn set(&self, attr: u32) -> Result<(), i32> {
        let len = u32::try_from(self.0.as_bytes().len()).unwrap_or(u32::MAX);
        lsm_set_self_attr_raw(attr, self.0.as_ptr(), len, 0).map(drop)
    }
}

fn read_file(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("({e})"))
}

fn read_u64(name: &str) -> Result<u64, String> {
    let s = read_file(&format!("{SECNS_DIR}/{name}"));
    s.parse().map_err(|_| format!("{name}: {s}"))
}

fn write_limit(name: &str, value: u64) -> Outcome {
    std::fs::write(format!("{SECNS_DIR}/{name}"), value.to_string())
        .map_err(|e| format!("write {name}: {e}"))
}

/// Waits (up to 60 s: freeing follows an RCU grace period and a work
/// item) for the count to be `n`.
fn count_reaches(n: u64) -> Outcome {
    for _ in 0..6000 {
        if read_u64("count")? == n {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(format!("count {} never {n}", read_u64("count")?))
}

fn process_and_attribute_benchmarks(secns: bool) {
    bench("getppid", 20_000, || {
        // SAFETY: no arguments.
        unsafe { libc::getppid() };
        Ok(())
    });
    bench("fork_exit", 300, || fork_wait(|| 0));
    let path = CString::new(EXIT0).unwrap_or_default();
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    bench("fork_exec", 200, || {
        fork_wait(|| {
            // SAFETY: `path`, `argv` and `envp` are NUL-terminated and
            // outlive the call; it returns only on failure.
            unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            127
        })
    });
    bench("thread", 300, || {
        std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| ())
            .map_err(|e| format!("spawn: {e}"))?
            .join()
            .map_err(|_| "join".to_string())
    });
    let mut buf = [0u8; 512];
    for (name, attr) in ATTRS {
        // Nothing in this kernel has these attributes: every LSM that is
        // asked answers EOPNOTSUPP, and the call must say so.
        bench(
            &format!("get_{name}"),
            20_000,
            || match lsm_get_self_attr(attr, &mut buf, 0).0 {
                Err(libc::EOPNOTSUPP) => Ok(()),
                other => Err(format!("lsm_get_self_attr({attr}): {other:?}")),
            },
        );
    }
    let mut ids = [0u64; 32];
    bench("list_modules", 20_000, || {
        let mut size = std::mem::size_of_val(&ids) as u32;
        // SAFETY: `ids` is writable for `size` bytes, `size` is writable.
        let n = unsafe { libc::syscall(SYS_LSM_LIST_MODULES, ids.as_mut_ptr(), &mut size, 0u32) };
        if n > 0 {
            Ok(())
        } else {
            Err(format!("lsm_list_modules: errno {}", errno()))
        }
    });
    // The baseline of the two below, measured next to them.
    bench("child_nothing", 300, || fork_wait(|| 0));
    bench("child_userns", 300, || {
        fork_wait(|| {
            // SAFETY: plain system call.
            i32::from(unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0)
        })
    });
    // Credentials changed without secns's attributes: setuid(0) as root
    // prepares and commits new ones.
    bench("child_setuid", 300, || {
        // SAFETY: plain system call; the benchmark runs as root.
        fork_wait(|| i32::from(unsafe { libc::setuid(0) } != 0))
    });
    if !secns {
        for name in [
            "get_unshare",
            "child_unshare",
            "child_init",
            "unshare_call",
            "join_call",
        ] {
            say(format_args!("bench-skip {name} secns is not in lsm="));
        }
        return;
    }
    bench("get_unshare", 20_000, || {
        match lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut buf, 0).0 {
            Ok(1) => Ok(()),
            other => Err(format!("lsm_get_self_attr(UNSHARE): {other:?}")),
        }
    });
    let (unshare, init) = (Ctx::new(None), Ctx::new(None));
    bench("child_unshare", 300, || {
        fork_wait(|| i32::from(unshare.set(LSM_ATTR_UNSHARE).is_err()))
    });
    // Where the time of a one-shot UNSHARE in a child goes: creating a
    // namespace that the exiting child drops (and `child_setuid` above:
    // new credentials).
    bench("child_init", 300, || {
        fork_wait(|| i32::from(init.set(LSM_ATTR_UNSHARE_INIT).is_err()))
    });
    calls("unshare_call", &unshare);
    join_calls();
}

/// `SECNS_JOIN` alone, as [`calls`] times the one-shot `UNSHARE`: a child
/// joins the namespace of a process one level down [`DEPTH_MAX`] times
/// (the first join moves it there, the others join its own namespace,
/// through every check all the same).
fn join_calls() {
    let target = match holder(1) {
        Ok(pid) => pid,
        Err(e) => {
            say(format_args!("bench-error join_call {e}"));
            return;
        }
    };
    match pidfd_open(target) {
        Ok(pidfd) => calls("join_call", &Ctx::join(pidfd.as_raw_fd())),
        Err(e) => say(format_args!("bench-error join_call pidfd_open: errno {e}")),
    }
    kill_all(&[target]);
}

/// `LSM_ATTR_UNSHARE` with `ctx` alone: a child makes [`DEPTH_MAX`] calls
/// (for the one-shot `UNSHARE`, each one level deeper) and times each; one
/// round per child.
fn calls(name: &str, unshare: &Ctx) {
    let n = u64::from(DEPTH_MAX);
    say(format_args!("bench-begin {name} {n}"));
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        say(format_args!("bench-error {name} pipe: errno {}", errno()));
        return;
    }
    let mut rounds = [0u64; ROUNDS];
    for ns in &mut rounds {
        let r = fork_wait(|| {
            let mut total = 0u64;
            for _ in 0..n {
                let start = now_ns();
                if unshare.set(LSM_ATTR_UNSHARE).is_err() {
                    return 1;
                }
                total += now_ns() - start;
            }
            // SAFETY: writes the 8 bytes of `total` to the pipe.
            let w = unsafe { libc::write(fds[1], (&total as *const u64).cast(), 8) };
            i32::from(w != 8)
        });
        // SAFETY: reads the 8 bytes the child wrote.
        let got = r.is_ok() && unsafe { libc::read(fds[0], (ns as *mut u64).cast(), 8) } == 8;
        if !got {
            say(format_args!("bench-error {name} {r:?}"));
            break;
        }
    }
    // SAFETY: both ends are ours.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    if rounds.contains(&0) {
        return;
    }
    say(format_args!("bench-end {name}"));
    for (round, ns) in rounds.iter().enumerate() {
        say(format_args!("bench-round {name} {round} {ns}"));
    }
}

/// INIT then ABORT, `iters` times, in a child `depth - 1` levels down.
fn init_abort(name: &str, depth: u32, iters: u64) {
    let (unshare, init, abort) = (Ctx::new(None), Ctx::new(None), Ctx::new(Some(SECNS_ABORT)));
    let r = fork_wait(|| {
        for level in 1..depth {
            if let Err(e) = unshare.set(LSM_ATTR_UNSHARE) {
                say(format_args!(
                    "bench-error {name} UNSHARE to depth {level}: errno {e}"
                ));
                return 1;
            }
        }
        bench(name, iters, || {
            init.set(LSM_ATTR_UNSHARE_INIT)
                .and_then(|()| abort.set(LSM_ATTR_UNSHARE_INIT))
                .map_err(|e| format!("INIT+ABORT: errno {e}"))
        });
        0
    });
    if let Err(e) = r {
        say(format_args!("bench-error {name} {e}"));
    }
}

/// A process holding `n` (at most [`DEPTH_MAX`]) namespaces: it enters
/// one inside the other, then waits to be killed.
fn holder(n: u32) -> Result<libc::pid_t, String> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: errno {}", errno()));
    }
    let unshare = Ctx::new(None);
    // SAFETY: single-threaded here; the child never returns.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let ok = (0..n).all(|_| unshare.set(LSM_ATTR_UNSHARE).is_ok());
        // SAFETY: the write end is the child's; it waits to be killed.
        unsafe {
            libc::write(fds[1], [u8::from(ok)].as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut byte = 0u8;
    // SAFETY: the write end is the child's: closed here, the read returns
    // (0 bytes) if the child dies without writing.
    let got = unsafe {
        libc::close(fds[1]);
        let got = if pid > 0 {
            libc::read(fds[0], (&mut byte as *mut u8).cast(), 1)
        } else {
            -1
        };
        libc::close(fds[0]);
        got
    };
    if pid < 0 {
        return Err(format!("fork: errno {}", errno()));
    }
    if got != 1 || byte != 1 {
        kill_all(&[pid]);
        return Err(format!("holder of {n} namespaces failed"));
    }
    Ok(pid)
}

fn kill_all(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: our own children.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

fn namespace_benchmarks() -> Outcome {
    // Nothing else makes namespaces in this guest: once the children of
    // the benchmarks before are freed, the count is 0.
    count_reaches(0)?;
    for depth in DEPTHS {
        init_abort(
            &format!("init_abort_depth_{depth}"),
            depth,
            INIT_ABORT_ITERS,
        );
    }
    count_reaches(0)?;
    let maxns = read_u64("maxns")?;
    write_limit("maxns", LIVE[LIVE.len() - 1] + 100)?;
    let mut holders = Vec::new();
    let mut held = 0;
    let mut result = Ok(());
    'live: for live in LIVE {
        while held < live {
            let n = (live - held).min(u64::from(DEPTH_MAX)) as u32;
            match holder(n) {
                Ok(pid) => holders.push(pid),
                Err(e) => {
                    result = Err(e);
                    break 'live;
                }
            }
            held += u64::from(n);
        }
        if let Err(e) = count_reaches(live) {
            result = Err(format!("{live} held: {e}"));
            break;
        }
        init_abort(&format!("init_abort_live_{live}"), 1, INIT_ABORT_ITERS);
    }
    // Both at once: the deepest allowed parent with the most live ones.
    if result.is_ok() {
        init_abort("init_abort_deep_and_live", DEPTH_MAX - 1, INIT_ABORT_ITERS);
    }
    kill_all(&holders);
    let restored = write_limit("maxns", maxns);
    result.and(restored).and(count_reaches(0))
}

/// The bytes of the slab objects in use, every cache's active objects
/// times its object size (`/proc/slabinfo`): what the objects themselves
/// take, not the pages the caches hold (`Slab:` in `/proc/meminfo`, which
/// moves by whole slabs and with what other caches keep free).
fn slab_object_bytes() -> Result<u64, String> {
    let info = std::fs::read_to_string("/proc/slabinfo").map_err(|e| format!("slabinfo: {e}"))?;
    let mut total = 0u64;
    // "name <active_objs> <num_objs> <objsize> ...", after two header lines.
    for line in info.lines().skip(2) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(active), Some(size)) = (f.get(1), f.get(3)) else {
            return Err(format!("slabinfo: {line:?}"));
        };
        let (active, size): (u64, u64) = match (active.parse(), size.parse()) {
            (Ok(a), Ok(s)) => (a, s),
            _ => return Err(format!("slabinfo: {line:?}")),
        };
        total += active * size;
    }
    Ok(total)
}

/// Blocks until `fd` has a byte to read or is closed.
fn wait_gate(fd: i32) {
    let mut byte = 0u8;
    // SAFETY: reads at most one byte into `byte`.
    unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
}

/// Waits until `n` threads have checked in at `counter`.
fn wait_count(counter: &AtomicU64, n: u64) {
    while counter.load(Ordering::SeqCst) < n {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// One round in a child: [`MEM_TASKS`] threads start and wait; the slab is
/// read; each thread then creates a pending namespace (`with`) or does
/// nothing, and waits again; the slab is read again. The child prints the
/// growth.
fn memory_round(with: bool, round: usize) -> Outcome {
    count_reaches(0)?;
    // Let the work items and RCU callbacks of the frees before settle.
    std::thread::sleep(std::time::Duration::from_millis(500));
    fork_wait(|| {
        static STARTED: AtomicU64 = AtomicU64::new(0);
        static DONE: AtomicU64 = AtomicU64::new(0);
        static FAILED: AtomicU64 = AtomicU64::new(0);
        let (mut go, mut end) = ([0; 2], [0; 2]);
        // SAFETY: each array has room for two descriptors.
        if unsafe { libc::pipe(go.as_mut_ptr()) | libc::pipe(end.as_mut_ptr()) } != 0 {
            return 1;
        }
        let mut threads = Vec::new();
        for _ in 0..MEM_TASKS {
            let (go, end) = (go[0], end[0]);
            let t = std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn(move || {
                    STARTED.fetch_add(1, Ordering::SeqCst);
                    wait_gate(go);
                    if with && Ctx::new(None).set(LSM_ATTR_UNSHARE_INIT).is_err() {
                        FAILED.fetch_add(1, Ordering::SeqCst);
                    }
                    DONE.fetch_add(1, Ordering::SeqCst);
                    wait_gate(end);
                });
            match t {
                Ok(t) => threads.push(t),
                Err(_) => {
                    FAILED.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
        }
        let n = threads.len() as u64;
        wait_count(&STARTED, n);
        let before = slab_object_bytes();
        // SAFETY: closing the write end opens the first gate for all.
        unsafe { libc::close(go[1]) };
        wait_count(&DONE, n);
        let after = slab_object_bytes();
        let counted = read_u64("count").unwrap_or(0);
        // SAFETY: closing the write end opens the second gate for all.
        unsafe { libc::close(end[1]) };
        threads.into_iter().for_each(|t| drop(t.join()));
        let expected = if with { MEM_TASKS } else { 0 };
        let failed = FAILED.load(Ordering::SeqCst);
        if failed != 0 || counted != expected {
            say(format_args!(
                "bench-error memory {failed} threads failed, {counted} namespaces counted"
            ));
            return 1;
        }
        let (before, after) = match (before, after) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                say(format_args!("bench-error memory {e}"));
                return 1;
            }
        };
        let which = if with { "ns" } else { "none" };
        let growth = after as i64 - before as i64;
        say(format_args!("bench-mem {which} {round} {growth}"));
        0
    })
}

fn memory_benchmark() -> Outcome {
    say(format_args!("bench-info mem_tasks {MEM_TASKS}"));
    for round in 0..5 {
        memory_round(false, round)?;
        memory_round(true, round)?;
    }
    Ok(())
}

/// Waits (up to 10 s) for the TSC to replace the early TSC as clocksource:
/// the kernel switches after refining its calibration, a second or so
/// after boot.
fn clocksource() -> String {
    let path = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
    for _ in 0..100 {
        if read_file(path) == "tsc" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    read_file(path)
}

/// The file `engine_*` benchmarks open and stat: six path components.
const ENGINE_FILE: &str = "/tmp/eb/a/b/c/f";
/// The secns-policy command.
const POLICY: &str = "/bin/secns-policy";
/// The depths at which the engine's hooks are timed inside namespaces, each
/// level with rules of its own.
const ENGINE_DEPTHS: [u32; 2] = [1, 16];

/// `secns-policy ARGS`, which must succeed.
fn policy(args: &[&str]) -> Outcome {
    let out = std::process::Command::new(POLICY)
        .args(args)
        .output()
        .map_err(|e| format!("{POLICY}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "secns-policy {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The policy engine's hooks (`file_open`, `inode_permission`, `capable`
/// and the others) on an open and close, a `stat` of a six-component path
/// and a fork+execve, each named `engine_OP_SUFFIX`.
fn engine_ops(suffix: &str) {
    let file = CString::new(ENGINE_FILE).unwrap_or_default();
    bench(&format!("engine_open_{suffix}"), 5000, || {
        // SAFETY: a NUL-terminated path; the descriptor is closed at once.
        let fd = unsafe { libc::open(file.as_ptr(), libc::O_RDONLY) };
        if fd < 0 {
            return Err(format!("open {ENGINE_FILE}: errno {}", errno()));
        }
        // SAFETY: the descriptor just opened.
        unsafe { libc::close(fd) };
        Ok(())
    });
    bench(&format!("engine_stat_{suffix}"), 5000, || {
        // SAFETY: an all-zero stat is a valid value of a plain C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated path and a writable stat.
        if unsafe { libc::stat(file.as_ptr(), &mut st) } != 0 {
            return Err(format!("stat {ENGINE_FILE}: errno {}", errno()));
        }
        Ok(())
    });
    let path = CString::new(EXIT0).unwrap_or_default();
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    bench(&format!("engine_exec_{suffix}"), 200, || {
        fork_wait(|| {
            // SAFETY: `path`, `argv` and `envp` are NUL-terminated and
            // outlive the call; it returns only on failure.
            unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
            127
        })
    });
}

/// A child that goes down [`ENGINE_DEPTHS`]'s deepest level, one pending
/// namespace at a time: it sends each pending id up `up`, waits for this
/// process to load the level's rules (a byte on `down`: 0 when loaded),
/// enters, and times [`engine_ops`] at each depth of [`ENGINE_DEPTHS`].
fn engine_chain(up: [i32; 2], down: [i32; 2]) -> i32 {
    // SAFETY: the ends this child does not use.
    unsafe {
        libc::close(up[0]);
        libc::close(down[1]);
    }
    let deepest = ENGINE_DEPTHS.iter().copied().max().unwrap_or(1);
    for level in 1..=deepest {
        let id = match secns::init() {
            Ok(id) => id,
            Err(e) => {
                say(format_args!(
                    "bench-error engine INIT at level {level}: {e}"
                ));
                return 1;
            }
        };
        let bytes = id.to_ne_bytes();
        let mut ack = [1u8];
        // SAFETY: `bytes` and `ack` are valid for their lengths.
        let ok = unsafe {
            libc::write(up[1], bytes.as_ptr().cast(), 8) == 8
                && libc::read(down[0], ack.as_mut_ptr().cast(), 1) == 1
        };
        if !ok || ack[0] != 0 {
            return 1;
        }
        if let Err(e) = secns::unshare() {
            say(format_args!(
                "bench-error engine UNSHARE at level {level}: {e}"
            ));
            return 1;
        }
        if ENGINE_DEPTHS.contains(&level) {
            engine_ops(&format!("ns{level}"));
        }
    }
    0
}

/// Loads each level's rules for [`engine_chain`]'s child.
fn engine_loader(up: i32, down: i32) -> Outcome {
    let deepest = ENGINE_DEPTHS.iter().copied().max().unwrap_or(1);
    for level in 1..=deepest {
        let mut bytes = [0u8; 8];
        // SAFETY: `bytes` is writable for 8 bytes.
        if unsafe { libc::read(up, bytes.as_mut_ptr().cast(), 8) } != 8 {
            return Err(format!("the chain stopped before level {level}"));
        }
        let id = u64::from_ne_bytes(bytes).to_string();
        let file = format!("/tmp/eb-policy-{level}.toml");
        let loaded = std::fs::write(
            &file,
            format!("deny-capabilities = [\"CAP_SYS_TIME\"]\ndeny-open = [\"/tmp/eb-denied-{level}\"]\n"),
        )
        .map_err(|e| format!("{file}: {e}"))
        .and_then(|()| policy(&["load", "--ns", &id, &file]));
        let ack = [u8::from(loaded.is_err())];
        // SAFETY: `ack` is valid for one byte.
        unsafe { libc::write(down, ack.as_ptr().cast(), 1) };
        loaded?;
    }
    Ok(())
}

/// The policy engine's cost (DESIGN section 7), in one boot: for this task
/// (the initial namespace) detached, attached with no rules, and with the
/// file hooks attached (after namespaces had file rules); for a task in a
/// namespace, detached, and attached with rules at every level, at depths
/// 1 and 16.
fn engine_benchmarks() -> Outcome {
    std::fs::create_dir_all("/tmp/eb/a/b/c").map_err(|e| format!("/tmp/eb: {e}"))?;
    std::fs::write(ENGINE_FILE, "x").map_err(|e| format!("{ENGINE_FILE}: {e}"))?;
    for level in 1..=16 {
        let f = format!("/tmp/eb-denied-{level}");
        std::fs::write(&f, "x").map_err(|e| format!("{f}: {e}"))?;
    }
    policy(&["detach", "--force"])?;
    engine_ops("host_off");
    let one_shot = Ctx::new(None);
    fork_wait(|| {
        if one_shot.set(LSM_ATTR_UNSHARE).is_err() {
            return 1;
        }
        engine_ops("ns_off");
        0
    })?;
    policy(&["attach"])?;
    engine_ops("host_on");
    let (mut up, mut down) = ([0; 2], [0; 2]);
    // SAFETY: each array has room for two descriptors.
    if unsafe { libc::pipe(up.as_mut_ptr()) != 0 || libc::pipe(down.as_mut_ptr()) != 0 } {
        return Err(format!("pipe: errno {}", errno()));
    }
    let _ = std::io::stdout().flush();
    // SAFETY: single-threaded here; the child leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: errno {}", errno()));
    }
    if pid == 0 {
        let code = engine_chain(up, down);
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) }
    }
    // SAFETY: the ends the child uses.
    unsafe {
        libc::close(up[1]);
        libc::close(down[0]);
    }
    let loaded = engine_loader(up[0], down[1]);
    // SAFETY: the ends this process used.
    unsafe {
        libc::close(up[0]);
        libc::close(down[1]);
    }
    let mut status = 0;
    // SAFETY: `status` is writable.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    loaded?;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("the chain's child: status {status:#x}"));
    }
    // The file hooks, attached by the chain's first file rules, stay: what
    // the host pays once some namespace had file rules.
    engine_ops("host_files");
    policy(&["detach", "--force"])
}

fn main() {
    let lsms = read_file("/sys/kernel/security/lsm");
    let secns = lsms.split(',').any(|l| l == "secns");
    say(format_args!(
        "bench-info release {}",
        read_file("/proc/sys/kernel/osrelease")
    ));
    say(format_args!("bench-info lsm {lsms}"));
    say(format_args!("bench-info secns {secns}"));
    say(format_args!("bench-info clocksource {}", clocksource()));
    say(format_args!("bench-info rounds {ROUNDS}"));
    process_and_attribute_benchmarks(secns);
    if secns {
        let engine = if lsms.split(',').any(|l| l == "bpf") {
            engine_benchmarks()
        } else {
            Err("the BPF LSM is not in lsm=".into())
        };
        for (what, r) in [
            ("namespaces", namespace_benchmarks()),
            ("memory", memory_benchmark()),
            ("engine", engine),
        ] {
            if let Err(e) = r {
                say(format_args!("bench-error {what} {e}"));
            }
        }
    }
    say(format_args!("bench-done"));
}
