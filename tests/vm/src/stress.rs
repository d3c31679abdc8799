//! Stress and fuzz runs, for the stress kernel (KASAN, UBSAN, kmemleak,
//! lockdep; `make stress`): random secns operations from several processes
//! racing limit changes, random syscall arguments, then a kmemleak scan.
//! What they assert is the kernel's answer and its bookkeeping; the
//! checkers' reports in the kernel log fail the run (tests/run-vm).

use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT};
use crate::sys::{read_secns_file as read_u64, write_limit};
use crate::tap::{check, Outcome, Test};
use std::io::Write;

/// The runs; `faults::TESTS` come after them, and [`SCAN`] last.
pub const RUNS: &[Test] = &[CLEAR, CONCURRENT[0], CONCURRENT[1]];

/// kmemleak on, and the count before the runs recorded.
pub const CLEAR: Test = Test {
    name: "kmemleak is on and its earlier reports are cleared",
    run: kmemleak_clear,
};

/// The count before the runs, for a kernel without kmemleak (KCSAN).
pub const BASELINE: Test = Test {
    name: "the count before the runs is read",
    run: record_base,
};

/// The runs of several processes at once (also the KCSAN kernel's).
pub const CONCURRENT: &[Test] = &[
    Test {
        name: "stress: 6 processes x 300 random operations racing limit changes",
        run: random_operations,
    },
    // All 20 000 calls must be made within the deadline, or the case
    // fails. They took 28 to 29 s on the checker kernel under TCG (about
    // 700 calls a second; the long run of make fuzz, sharing the cores
    // with a kernel build, made 315 a second): 600 s leaves room for a
    // machine ten times slower than that, and fits in the boot's
    // VM_TIMEOUT (900 s, harness/stress; the KCSAN boot's too) with the
    // rest of the suite (about 90 s).
    Test {
        name: "fuzz: 20000 calls, mostly well-formed, one field mutated, from forking, exec'ing, killed processes",
        run: || crate::fuzz::run(20_000, 600),
    },
];

/// The kmemleak scan after everything.
pub const SCAN: Test = Test {
    name: "kmemleak finds no leak after the runs",
    run: kmemleak_scan,
};

/// xorshift64*: reproducible randomness from a printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// Waits (up to 10 s: the checkers make everything slow) for the count to
/// be `base`.
fn back_to(base: u64) -> Outcome {
    sys::count_back_to(base, std::time::Duration::from_secs(10))
}

/// A process to fork: its number and what it runs.
pub type Job = (u64, fn(u64) -> Outcome);

/// Forks a child running `f(i)` for each `(i, f)` of `jobs`.
pub fn spawn(jobs: &[Job]) -> Result<Vec<libc::pid_t>, String> {
    let _ = std::io::stdout().flush();
    let mut pids = Vec::new();
    for &(i, f) in jobs {
        // SAFETY: single-threaded here; the child leaves with `_exit`.
        match unsafe { libc::fork() } {
            -1 => return Err(format!("fork: errno {}", sys::errno())),
            0 => {
                let code = match f(i) {
                    Ok(()) => 0,
                    Err(e) => {
                        println!("#   worker {i}: {e}");
                        1
                    }
                };
                let _ = std::io::stdout().flush();
                // SAFETY: ends the child.
                unsafe { libc::_exit(code) }
            }
            pid => pids.push(pid),
        }
    }
    Ok(pids)
}

/// Waits for `pids`; returns how many failed.
pub fn wait_all(pids: Vec<libc::pid_t>) -> u64 {
    let mut failed = 0;
    for pid in pids {
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            failed += 1;
        }
    }
    failed
}

/// The count before the runs: every run ends with the count back there.
static BASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The count before the runs, once the count is back there (a run ends
/// with its last namespaces freed after an RCU grace period).
pub fn settled_base() -> Result<u64, String> {
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    back_to(base)?;
    Ok(base)
}

fn record_base() -> Outcome {
    BASE.store(read_u64("count")?, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

fn kmemleak_clear() -> Outcome {
    record_base()?;
    if !std::path::Path::new(KMEMLEAK).exists() {
        std::fs::create_dir_all("/sys/kernel/debug").map_err(|e| e.to_string())?;
        let c = |s: &str| std::ffi::CString::new(s).unwrap_or_default();
        let (src, dst, fs) = (c("debugfs"), c("/sys/kernel/debug"), c("debugfs"));
        // SAFETY: valid C strings; mounting debugfs.
        if unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) } != 0
        {
            return Err(format!("mounting debugfs: errno {}", sys::errno()));
        }
    }
    std::fs::write(KMEMLEAK, "clear").map_err(|e| format!("{KMEMLEAK}: {e}"))
}

fn kmemleak_scan() -> Outcome {
    // kmemleak leaves alone objects younger than 5 s (MSECS_MIN_AGE): let
    // the last ones freed by the runs age first. Then two scans: it reports
    // an object only when it was seen unreferenced twice.
    std::thread::sleep(std::time::Duration::from_secs(6));
    for _ in 0..2 {
        std::fs::write(KMEMLEAK, "scan").map_err(|e| format!("scan: {e}"))?;
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let report = std::fs::read_to_string(KMEMLEAK).map_err(|e| format!("{KMEMLEAK}: {e}"))?;
    for line in report.lines().take(40) {
        println!("# kmemleak: {line}");
    }
    check(report.trim().is_empty(), || {
        "kmemleak reported objects (above)".into()
    })
}

/// The errnos a random operation may get; anything else is a bug.
fn expected(e: i32) -> bool {
    [libc::EBUSY, libc::ENOENT, libc::ENOSPC].contains(&e)
}

fn worker(i: u64) -> Outcome {
    let mut rng = Rng::new(0x5ec0_0000 + i);
    let (mut ok, mut refused) = (0, 0);
    for round in 0..300 {
        let what = rng.below(8);
        let r = match what {
            0 | 1 => sys::secns_set(LSM_ATTR_UNSHARE_INIT, None),
            2 => sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
            3 if rng.below(4) == 0 => sys::secns_set(LSM_ATTR_UNSHARE, None),
            4 => deeper_child(),
            5 => {
                unshare_with_a_thread().map_err(|e| format!("round {round}: {e}"))?;
                Ok(())
            }
            _ => sys::secns_info().map(drop).map_err(|_| libc::EIO),
        };
        match r {
            Ok(()) => ok += 1,
            Err(e) if expected(e) => refused += 1,
            Err(e) => return Err(format!("round {round}: operation {what}: errno {e}")),
        }
    }
    println!("# worker {i}: {ok} succeeded, {refused} refused (EBUSY/ENOENT/ENOSPC)");
    Ok(())
}

/// Forks a child that goes one level deeper, creates a pending namespace
/// and exits with it (its task drops it); the errno if `fork` fails.
pub fn deeper_child() -> Result<(), i32> {
    // SAFETY: single-threaded here; the child leaves with `_exit`.
    match unsafe { libc::fork() } {
        0 => {
            let _ = sys::secns_set(LSM_ATTR_UNSHARE, None);
            let _ = sys::secns_set(LSM_ATTR_UNSHARE_INIT, None);
            // SAFETY: ends the child.
            unsafe { libc::_exit(0) }
        }
        pid if pid > 0 => {
            let mut st = 0;
            // SAFETY: `st` is writable.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            Ok(())
        }
        _ => Err(sys::errno()),
    }
}

/// UNSHARE with a second thread alive: it must be refused with EINVAL.
pub fn unshare_with_a_thread() -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let _ = rx.recv();
    });
    let r = sys::secns_set(LSM_ATTR_UNSHARE, None);
    drop(tx);
    let _ = t.join();
    sys::wait_single_threaded();
    match r {
        Err(libc::EINVAL) => Ok(()),
        other => Err(format!("UNSHARE with a thread: {other:?}")),
    }
}

fn limit_changer(_: u64) -> Outcome {
    let ceiling = CEILING.load(std::sync::atomic::Ordering::Relaxed);
    let mut rng = Rng::new(0x1111);
    for _ in 0..200 {
        write_limit("maxns", ceiling - rng.below(7))?;
        write_limit("maxnsdepth", 1 + rng.below(4))?;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}

/// The highest `maxns` during the random operations.
static CEILING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Checks, while everything runs, that the count stays at or below the
/// highest `maxns` set (it may stay above a lowered one, never above that).
fn watcher(_: u64) -> Outcome {
    let ceiling = CEILING.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..2000 {
        let c = read_u64("count")?;
        if c > ceiling {
            return Err(format!("count {c} above {ceiling}"));
        }
    }
    Ok(())
}

fn random_operations() -> Outcome {
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    back_to(base)?;
    let (maxns, depth) = (read_u64("maxns")?, read_u64("maxnsdepth")?);
    write_limit("maxns", base + 8)?;
    write_limit("maxnsdepth", 4)?;
    CEILING.store(base + 8, std::sync::atomic::Ordering::Relaxed);
    let mut jobs: Vec<Job> = vec![(0, limit_changer), (0, watcher)];
    jobs.extend((0..6).map(|i| (i, worker as fn(u64) -> Outcome)));
    let failed = spawn(&jobs).map(wait_all);
    let restored = write_limit("maxns", maxns).and(write_limit("maxnsdepth", depth));
    let failed = failed?;
    check(failed == 0, || format!("{failed} of the processes failed"))?;
    restored?;
    back_to(base)
}
