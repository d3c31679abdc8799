//! Stress and fuzz runs, for the stress kernel (KASAN, UBSAN, kmemleak,
//! lockdep; `make stress`): random secns operations from several processes
//! racing limit changes, random syscall arguments, then a kmemleak scan.
//! What they assert is the kernel's answer and its bookkeeping; the
//! checkers' reports in the kernel log fail the run (tests/run-vm).

use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT};
use crate::sys::{read_secns_file as read_u64, write_limit, SECNS_INFO_PENDING};
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

/// The highest `maxnsdepth` during the random operations.
const DEPTH_CEILING: u32 = 4;

/// A secns operation of `lsm_set_self_attr(2)` whose request got past the
/// checks of its `lsm_ctx` and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `LSM_ATTR_UNSHARE_INIT`: create a pending namespace.
    Init,
    /// `LSM_ATTR_UNSHARE_INIT` with `SECNS_ABORT`: drop it.
    Abort,
    /// `LSM_ATTR_UNSHARE`: enter the pending namespace, or a new one.
    Unshare,
    /// `LSM_ATTR_UNSHARE` with `SECNS_JOIN` and this pidfd.
    Join(i32),
}

/// What the kernel may answer a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Success.
    Ok,
    /// Exactly this errno.
    Errno(i32),
    /// Success or `ENOSPC`: the call creates a namespace, and the count (or
    /// a limit) that it shares with the other processes of the run may be
    /// exhausted by them.
    OkOrLimit,
}

impl Answer {
    /// Whether `r` is this answer.
    pub fn allows(self, r: Result<(), i32>) -> bool {
        match (self, r) {
            (Answer::Ok | Answer::OkOrLimit, Ok(())) => true,
            (Answer::OkOrLimit, Err(e)) => e == libc::ENOSPC,
            (Answer::Errno(want), Err(e)) => e == want,
            (Answer::Errno(_), Ok(())) | (Answer::Ok, Err(_)) => false,
        }
    }
}

/// What a single-threaded process that holds CAP_MAC_ADMIN and no pidfd
/// knows of its own secns state, to predict the kernel's answer to each of
/// its calls (Documentation/userspace-api/secns.rst gives the order of the
/// checks). Other processes can change only what they share with it: the
/// count and the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Own {
    /// Whether it has a pending namespace.
    pub pending: bool,
    /// The depth of its namespace.
    pub depth: u32,
    /// The highest `maxnsdepth` any process may set meanwhile: a namespace
    /// deeper than that is refused whatever the others do.
    pub max_depth: u32,
}

impl Own {
    /// The calling process's state as the kernel reports it.
    pub fn now(max_depth: u32) -> Result<Self, String> {
        let i = sys::secns_info()?;
        Ok(Self {
            pending: i.pending_id != 0,
            depth: i.depth,
            max_depth,
        })
    }

    /// The answer to `op` in this state.
    pub fn predict(&self, op: Op) -> Answer {
        match op {
            Op::Abort if self.pending => Answer::Ok,
            Op::Abort => Answer::Errno(libc::ENOENT),
            Op::Init | Op::Join(_) if self.pending => Answer::Errno(libc::EBUSY),
            // Entering one's own pending namespace creates nothing: no limit.
            Op::Unshare if self.pending => Answer::Ok,
            Op::Init | Op::Unshare if self.depth >= self.max_depth => Answer::Errno(libc::ENOSPC),
            Op::Init | Op::Unshare => Answer::OkOrLimit,
            // Not a pidfd (the process holds none), negative or not.
            Op::Join(_) => Answer::Errno(libc::EBADF),
        }
    }

    /// Checks the kernel's answer `r` to `op` against the prediction, and
    /// follows the state when it succeeded (every failure leaves it as it
    /// was).
    pub fn judge(&mut self, op: Op, r: Result<(), i32>) -> Result<(), String> {
        let want = self.predict(op);
        check(want.allows(r), || {
            format!("{op:?} in {self:?}: {r:?}, expected {want:?}")
        })?;
        if r.is_ok() {
            match op {
                Op::Init => self.pending = true,
                Op::Abort => self.pending = false,
                // The pending namespace or a new one: a child either way.
                Op::Unshare | Op::Join(_) => {
                    self.depth += 1;
                    self.pending = false;
                }
            }
        }
        Ok(())
    }

    /// Checks that the kernel reports this state.
    pub fn verify(&self) -> Outcome {
        let i = sys::secns_info()?;
        let pending = i.flags & SECNS_INFO_PENDING != 0;
        check(
            pending == self.pending && (i.pending_id != 0) == pending && i.depth == self.depth,
            || {
                format!(
                    "secns_info says depth {}, pending {} (flags {:#x}); expected {self:?}",
                    i.depth, i.pending_id, i.flags
                )
            },
        )
    }
}

fn worker(i: u64) -> Outcome {
    let mut rng = Rng::new(0x5ec0_0000 + i);
    let mut own = Own::now(DEPTH_CEILING)?;
    let (mut ok, mut refused) = (0, 0);
    for round in 0..300 {
        let what = rng.below(8);
        let call = match what {
            0 | 1 => Some((Op::Init, sys::secns_set(LSM_ATTR_UNSHARE_INIT, None))),
            2 => Some((
                Op::Abort,
                sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
            )),
            3 if rng.below(4) == 0 => Some((Op::Unshare, sys::secns_set(LSM_ATTR_UNSHARE, None))),
            4 => {
                deeper_child(&own).map_err(|e| format!("round {round}: {e}"))?;
                None
            }
            5 => {
                unshare_with_a_thread().map_err(|e| format!("round {round}: {e}"))?;
                // The refused call left everything as it was.
                own.verify().map_err(|e| format!("round {round}: {e}"))?;
                None
            }
            _ => {
                own.verify().map_err(|e| format!("round {round}: {e}"))?;
                None
            }
        };
        if let Some((op, r)) = call {
            own.judge(op, r)
                .map_err(|e| format!("round {round}: operation {what}: {e}"))?;
            if r.is_ok() {
                ok += 1;
            } else {
                refused += 1;
            }
        }
    }
    own.verify()?;
    println!("# worker {i}: {ok} succeeded, {refused} refused, each as its state predicted");
    Ok(())
}

/// Forks a child that goes one level deeper (a one-shot UNSHARE), creates a
/// pending namespace there and exits with it (its task drops it). The child
/// starts at the depth of `own`, its parent, with nothing pending (a pending
/// namespace is not inherited), and checks that and each answer against its
/// own state; `Err` if `fork` fails or the child did not exit 0.
pub fn deeper_child(own: &Own) -> Outcome {
    let _ = std::io::stdout().flush();
    // SAFETY: single-threaded here; the child leaves with `_exit`.
    match unsafe { libc::fork() } {
        0 => {
            let code = match one_level_deeper(own) {
                Ok(()) => 0,
                Err(e) => {
                    println!("#   deeper child: {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child.
            unsafe { libc::_exit(code) }
        }
        pid if pid > 0 => {
            let mut st = 0;
            // SAFETY: `st` is writable.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            check(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, || {
                format!("the deeper child failed (status {st:#x})")
            })
        }
        _ => Err(format!("fork: errno {}", sys::errno())),
    }
}

/// What [`deeper_child`]'s child does.
fn one_level_deeper(parent: &Own) -> Outcome {
    let mut own = Own {
        pending: false,
        ..*parent
    };
    own.verify()?;
    own.judge(Op::Unshare, sys::secns_set(LSM_ATTR_UNSHARE, None))?;
    own.judge(Op::Init, sys::secns_set(LSM_ATTR_UNSHARE_INIT, None))?;
    own.verify()
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
        write_limit("maxnsdepth", 1 + rng.below(u64::from(DEPTH_CEILING)))?;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}

/// The highest `maxns` during the random operations.
static CEILING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What [`watch_count`] saw.
pub struct Watched {
    /// The processes that did not exit 0.
    pub failed: u64,
    /// The reads of the count.
    pub samples: u64,
    /// The highest count read.
    pub highest: u64,
}

/// Reads the count again and again for as long as any of `pids` runs, and
/// reaps them; then the highest count seen, the number of reads and how
/// many of the processes failed.
pub fn watch_count(mut pids: Vec<libc::pid_t>) -> Result<Watched, String> {
    let mut w = Watched {
        failed: 0,
        samples: 0,
        highest: 0,
    };
    let mut err = None;
    while !pids.is_empty() {
        if err.is_none() {
            match read_u64("count") {
                Ok(c) => {
                    w.samples += 1;
                    w.highest = w.highest.max(c);
                }
                Err(e) => err = Some(e),
            }
        }
        // After a failed read, only wait for the processes.
        let flags = if err.is_none() { libc::WNOHANG } else { 0 };
        pids.retain(|&pid| {
            let mut st = 0;
            // SAFETY: `st` is writable.
            match unsafe { libc::waitpid(pid, &mut st, flags) } {
                0 => true,
                r => {
                    if r != pid || !(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0) {
                        w.failed += 1;
                    }
                    false
                }
            }
        });
        std::thread::yield_now();
    }
    err.map_or(Ok(w), Err)
}

fn random_operations() -> Outcome {
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    back_to(base)?;
    let (maxns, depth) = (read_u64("maxns")?, read_u64("maxnsdepth")?);
    write_limit("maxns", base + 8)?;
    write_limit("maxnsdepth", u64::from(DEPTH_CEILING))?;
    CEILING.store(base + 8, std::sync::atomic::Ordering::Relaxed);
    let mut jobs: Vec<Job> = vec![(0, limit_changer)];
    jobs.extend((0..6).map(|i| (i, worker as fn(u64) -> Outcome)));
    // The count is watched until the last of them is reaped.
    let watched = spawn(&jobs).and_then(watch_count);
    let restored = write_limit("maxns", maxns).and(write_limit("maxnsdepth", depth));
    let w = watched?;
    let ceiling = base + 8;
    println!(
        "# watcher: {} reads of the count while the processes ran, highest {} (maxns at most {ceiling})",
        w.samples, w.highest
    );
    check(w.failed == 0, || {
        format!("{} of the processes failed", w.failed)
    })?;
    // It may stay above a lowered maxns, never above the highest one.
    check(w.highest <= ceiling, || {
        format!("count {} above {ceiling}", w.highest)
    })?;
    restored?;
    back_to(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: Own = Own {
        pending: false,
        depth: 1,
        max_depth: 4,
    };
    const PENDING: Own = Own {
        pending: true,
        ..FREE
    };
    const DEEPEST: Own = Own { depth: 4, ..FREE };

    #[test]
    fn nothing_pending() {
        assert_eq!(FREE.predict(Op::Init), Answer::OkOrLimit);
        assert_eq!(FREE.predict(Op::Unshare), Answer::OkOrLimit);
        assert_eq!(FREE.predict(Op::Abort), Answer::Errno(libc::ENOENT));
        assert_eq!(FREE.predict(Op::Join(3)), Answer::Errno(libc::EBADF));
        assert_eq!(FREE.predict(Op::Join(-1)), Answer::Errno(libc::EBADF));
    }

    #[test]
    fn pending_comes_before_the_limits() {
        for own in [
            PENDING,
            Own {
                depth: 4,
                ..PENDING
            },
        ] {
            assert_eq!(own.predict(Op::Init), Answer::Errno(libc::EBUSY));
            assert_eq!(own.predict(Op::Join(3)), Answer::Errno(libc::EBUSY));
            assert_eq!(own.predict(Op::Abort), Answer::Ok);
            // Entering creates nothing: no limit applies.
            assert_eq!(own.predict(Op::Unshare), Answer::Ok);
        }
    }

    #[test]
    fn beyond_the_highest_maxnsdepth_is_enospc() {
        assert_eq!(DEEPEST.predict(Op::Init), Answer::Errno(libc::ENOSPC));
        assert_eq!(DEEPEST.predict(Op::Unshare), Answer::Errno(libc::ENOSPC));
        let below = Own { depth: 3, ..FREE };
        assert_eq!(below.predict(Op::Unshare), Answer::OkOrLimit);
    }

    #[test]
    fn answers_allow_only_themselves() {
        assert!(Answer::Ok.allows(Ok(())));
        assert!(!Answer::Ok.allows(Err(libc::ENOSPC)));
        assert!(Answer::OkOrLimit.allows(Ok(())));
        assert!(Answer::OkOrLimit.allows(Err(libc::ENOSPC)));
        assert!(!Answer::OkOrLimit.allows(Err(libc::EBUSY)));
        assert!(Answer::Errno(libc::EBUSY).allows(Err(libc::EBUSY)));
        assert!(!Answer::Errno(libc::EBUSY).allows(Err(libc::ENOSPC)));
        assert!(!Answer::Errno(libc::EBUSY).allows(Ok(())));
    }

    #[test]
    fn judge_follows_successes_only() {
        let mut own = FREE;
        own.judge(Op::Init, Ok(())).unwrap();
        assert_eq!(own, PENDING);
        assert!(own.judge(Op::Init, Err(libc::ENOSPC)).is_err());
        own.judge(Op::Init, Err(libc::EBUSY)).unwrap();
        own.judge(Op::Unshare, Ok(())).unwrap();
        assert_eq!(own, Own { depth: 2, ..FREE });
        own.judge(Op::Unshare, Err(libc::ENOSPC)).unwrap();
        assert_eq!(own, Own { depth: 2, ..FREE });
        assert!(own.judge(Op::Abort, Ok(())).is_err());
        own.judge(Op::Abort, Err(libc::ENOENT)).unwrap();
        assert_eq!(own, Own { depth: 2, ..FREE });
    }
}
