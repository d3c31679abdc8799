//! Stress and fuzz runs, for the stress kernel (KASAN, UBSAN, kmemleak,
//! lockdep; `make stress`): random secns operations from several processes
//! racing limit changes, random syscall arguments, then a kmemleak scan.
//! What they assert is the kernel's answer and its bookkeeping; the
//! checkers' reports in the kernel log fail the run (tests/run-vm).

use crate::sys::{
    self, LsmCtxHeader, RawCtx, SecnsUnshareArgs, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT,
    LSM_CTX_HEADER, SECNS_ABORT, SECNS_UNSHARE_ARGS_SIZE_VER0,
};
use crate::sys::{read_secns_file as read_u64, write_limit};
use crate::tap::{check, Outcome, Test};
use std::io::Write;

pub const TESTS: &[Test] = &[
    Test {
        name: "kmemleak is on and its earlier reports are cleared",
        run: kmemleak_clear,
    },
    Test {
        name: "stress: 6 processes x 300 random operations racing limit changes",
        run: random_operations,
    },
    Test {
        name: "fuzz: 20000 random lsm_set_self_attr/lsm_get_self_attr calls",
        run: fuzz,
    },
    Test {
        name: "kmemleak finds no leak after the runs",
        run: kmemleak_scan,
    },
];

/// xorshift64*: reproducible randomness from a printed seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
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
type Job = (u64, fn(u64) -> Outcome);

/// Forks a child running `f(i)` for each `(i, f)` of `jobs`.
fn spawn(jobs: &[Job]) -> Result<Vec<libc::pid_t>, String> {
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
fn wait_all(pids: Vec<libc::pid_t>) -> u64 {
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

fn kmemleak_clear() -> Outcome {
    BASE.store(read_u64("count")?, std::sync::atomic::Ordering::Relaxed);
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
            4 => {
                // A child that goes one level deeper and exits.
                // SAFETY: single-threaded; the child leaves with `_exit`.
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
            5 => {
                // Two threads: UNSHARE must be refused.
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
                    other => {
                        return Err(format!("round {round}: UNSHARE with a thread: {other:?}"))
                    }
                }
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

/// One random call: `Ok(true)` if the kernel accepted it.
fn fuzz_one(rng: &mut Rng) -> Result<bool, String> {
    let attr = match rng.below(6) {
        0 => LSM_ATTR_UNSHARE,
        1 | 2 => LSM_ATTR_UNSHARE_INIT,
        3 => 100 + rng.below(10) as u32,
        4 => 0,
        _ => rng.next() as u32,
    };
    if rng.below(8) == 0 {
        // lsm_get_self_attr with a random buffer size and flags.
        let mut buf = [0u8; 256];
        let ask = LsmCtxHeader {
            id: if rng.below(2) == 0 {
                sys::LSM_ID_SECNS
            } else {
                rng.next()
            },
            ..LsmCtxHeader::default()
        };
        buf[..LSM_CTX_HEADER].copy_from_slice(ask.as_bytes());
        let mut size = rng.below(257) as u32; // at most `buf`'s 256 bytes
        let flags = [0, 0, sys::LSM_FLAG_SINGLE, rng.next() as u32][rng.below(4) as usize];
        let ptr = if rng.below(6) == 0 {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr()
        };
        // SAFETY: `ptr` is NULL or `buf`, which has room for `size` (at most
        // 256) bytes and is not used meanwhile; `size` is a valid `u32`.
        let r = unsafe { sys::lsm_get_self_attr_raw(attr, ptr, &mut size, flags) };
        return match r {
            Ok(_) => Ok(true),
            Err(libc::EINVAL | libc::E2BIG | libc::EOPNOTSUPP | libc::EFAULT) => Ok(false),
            Err(e) => Err(format!("get attr {attr} flags {flags}: errno {e}")),
        };
    }
    let id = [sys::LSM_ID_SECNS, sys::LSM_ID_SECNS, 0, rng.next()][rng.below(4) as usize];
    let payload_len = [0, 8, 8, 16, rng.below(64)][rng.below(5) as usize] as usize;
    let mut payload = vec![0u8; payload_len];
    for b in payload.iter_mut() {
        if rng.below(16) == 0 {
            *b = rng.next() as u8;
        }
    }
    if payload_len >= SECNS_UNSHARE_ARGS_SIZE_VER0 && rng.below(2) == 0 {
        let args = SecnsUnshareArgs {
            flags: rng.below(4),
        };
        payload[..SECNS_UNSHARE_ARGS_SIZE_VER0].copy_from_slice(args.as_bytes());
    }
    let honest = (LSM_CTX_HEADER + payload_len) as u64;
    let len = [honest, honest, rng.below(128), u64::MAX][rng.below(4) as usize];
    let ctx_len = [payload_len as u64, payload_len as u64, rng.next()][rng.below(3) as usize];
    let header = LsmCtxHeader {
        id,
        flags: [0, 0, 1][rng.below(3) as usize],
        len,
        ctx_len,
    };
    let ctx = RawCtx::new(header, &payload);
    // Within the buffer (`RawCtx` rounds it up to 8 bytes), or above
    // PAGE_SIZE (refused before any read).
    let buf_len = (LSM_CTX_HEADER + payload.len().div_ceil(8) * 8) as u64;
    let size = match rng.below(4) {
        0 | 1 => honest as u32,
        2 => rng.below(buf_len + 1) as u32,
        _ => 4097,
    };
    let flags = if rng.below(10) == 0 { 1 } else { 0 };
    match sys::lsm_set_self_attr_raw(attr, ctx.as_ptr(), size, flags) {
        Ok(_) => Ok(true),
        Err(
            libc::EINVAL
            | libc::E2BIG
            | libc::EOPNOTSUPP
            | libc::EBUSY
            | libc::ENOENT
            | libc::ENOSPC,
        ) => Ok(false),
        Err(e) => Err(format!(
            "set attr {attr} id {id} size {size} len {len} ctx_len {ctx_len}: errno {e}"
        )),
    }
}

fn fuzz() -> Outcome {
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    back_to(base)?;
    let fuzzer = |i: u64| -> Outcome {
        let mut rng = Rng::new(0xf022 + i);
        let mut accepted = 0;
        for n in 0..10_000 {
            if fuzz_one(&mut rng).map_err(|e| format!("call {n}: {e}"))? {
                accepted += 1;
            }
        }
        println!("# fuzzer {i}: 10000 calls, {accepted} accepted");
        Ok(())
    };
    let failed = wait_all(spawn(&[(0, fuzzer), (1, fuzzer)])?);
    check(failed == 0, || format!("{failed} fuzzer(s) failed"))?;
    back_to(base)
}
