//! A fuzzer of the two attributes that reaches deep states: mostly
//! well-formed requests (so that calls get past the first checks and
//! namespaces are created, entered, nested and dropped), a share of them
//! with one field of the `lsm_ctx` or of the system call mutated, from
//! short-lived processes that also fork, execute programs, start threads,
//! are killed with SIGKILL halfway, and race a process that changes the
//! limits.
//!
//! `make fuzz` runs it on the stress kernel with `FUZZ_CALLS` calls
//! (default 1 000 000) within `FUZZ_SECONDS`; the stress suite of
//! `make check` runs a shorter one. Every call asked for must be made: a
//! run that its deadline stops early fails, saying how many of them ran.
//! It prints the seed and the share of calls the kernel accepted, fails
//! unless at least a third were, and ends with the count back at its
//! baseline (kmemleak's scan follows in the stress suite).

use crate::stress::{deeper_child, unshare_with_a_thread, Op, Own, Rng};
use crate::sys::{
    self, write_limit, LsmCtxHeader, RawCtx, SecnsUnshareArgs, LSM_ATTR_UNSHARE,
    LSM_ATTR_UNSHARE_INIT, LSM_CTX_HEADER, LSM_ID_SECNS, SECNS_ABORT, SECNS_JOIN,
    SECNS_UNSHARE_ARGS_SIZE_VER0, SECNS_UNSHARE_ARGS_SIZE_VER1,
};
use crate::tap::{check, Outcome};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The calls of one episode (one short-lived process) at most.
const EPISODE: u64 = 256;

/// What the run does: from the environment, with defaults.
struct Config {
    calls: u64,
    seconds: u64,
    seed: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

impl Config {
    fn from_env(calls: u64, seconds: u64) -> Self {
        let seed = env_u64("FUZZ_SEED").unwrap_or_else(|| {
            // Reproducible from the printed seed; different run to run.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            t ^ (u64::from(std::process::id()) << 32)
        });
        Self {
            calls: env_u64("FUZZ_CALLS").unwrap_or(calls),
            seconds: env_u64("FUZZ_SECONDS").unwrap_or(seconds),
            seed,
        }
    }
}

/// What one episode did.
#[derive(Default, Clone, Copy)]
struct Tally {
    calls: u64,
    accepted: u64,
}

/// The deepest a namespace may be, whatever `maxnsdepth` says (the limit
/// changer sets it anywhere up to this).
const DEPTH_MAX: u32 = 32;

/// The page size of the VM's kernel: `lsm_set_self_attr(2)` refuses a
/// larger `size` (`E2BIG`) before it reads anything.
const PAGE_SIZE: u32 = 4096;

/// What the kernel makes of `lsm_set_self_attr(attr, ctx, size, sys_flags)`,
/// where `copied` is the `size` bytes it copies from `ctx` (`None` if they
/// are not all ours, which [`set`] never asks): the errno of the first
/// check of the request that fails, in the order that
/// Documentation/userspace-api/secns.rst gives, or the operation that the
/// request asks for, whose answer depends on the caller's state.
fn checked(attr: u32, copied: Option<&[u8]>, size: u32, sys_flags: u32) -> Result<Op, i32> {
    // The checks of lsm_set_self_attr(2) itself.
    if sys_flags != 0 || (size as usize) < LSM_CTX_HEADER {
        return Err(libc::EINVAL);
    }
    if size > PAGE_SIZE {
        return Err(libc::E2BIG);
    }
    let c = copied.ok_or(libc::EFAULT)?;
    let h = LsmCtxHeader::from_bytes(c).ok_or(libc::EINVAL)?;
    let need = (LSM_CTX_HEADER as u64).checked_add(h.ctx_len);
    if u64::from(size) < h.len || need.is_none_or(|need| h.len < need) {
        return Err(libc::EINVAL);
    }
    // Addressed to secns, and one of its two attributes.
    if h.id != LSM_ID_SECNS || ![LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT].contains(&attr) {
        return Err(libc::EOPNOTSUPP);
    }
    if h.flags != 0 {
        return Err(libc::EINVAL);
    }
    // The payload: struct secns_unshare_args, extensible.
    let p = c
        .get(LSM_CTX_HEADER..LSM_CTX_HEADER + h.ctx_len as usize)
        .ok_or(libc::EINVAL)?;
    if !p.is_empty() && p.len() < SECNS_UNSHARE_ARGS_SIZE_VER0 {
        return Err(libc::EINVAL);
    }
    if p.iter().skip(SECNS_UNSHARE_ARGS_SIZE_VER1).any(|&b| b != 0) {
        return Err(libc::E2BIG);
    }
    // Version 1, zero-extended: flags, pidfd, reserved.
    let mut v1 = [0u8; SECNS_UNSHARE_ARGS_SIZE_VER1];
    let known = p.len().min(v1.len());
    v1[..known].copy_from_slice(&p[..known]);
    let flags = u64::from_ne_bytes(v1[..8].try_into().unwrap_or_default());
    let pidfd = i32::from_ne_bytes(v1[8..12].try_into().unwrap_or_default());
    let reserved = u32::from_ne_bytes(v1[12..].try_into().unwrap_or_default());
    let join = flags & SECNS_JOIN != 0;
    if reserved != 0 || (join && p.len() < SECNS_UNSHARE_ARGS_SIZE_VER1) || (!join && pidfd != 0) {
        return Err(libc::EINVAL);
    }
    // Then the flags each attribute takes.
    match (attr, flags) {
        (LSM_ATTR_UNSHARE_INIT, 0) => Ok(Op::Init),
        (LSM_ATTR_UNSHARE_INIT, SECNS_ABORT) => Ok(Op::Abort),
        (LSM_ATTR_UNSHARE, 0) => Ok(Op::Unshare),
        (LSM_ATTR_UNSHARE, SECNS_JOIN) => Ok(Op::Join(pidfd)),
        _ => Err(libc::EINVAL),
    }
}

/// Checks the answer `r` to a request that [`checked`] found to be `want`,
/// for a process in state `own`, and follows the state.
fn judge(own: &mut Own, r: Result<(), i32>, want: Result<Op, i32>) -> Result<(), String> {
    match want {
        Ok(op) => own.judge(op, r),
        Err(e) => check(r == Err(e), || {
            format!("{r:?}, expected errno {e} for this request")
        }),
    }
}

/// A well-formed set request for `attr` with the optional `flags` payload.
fn request(flags: Option<u64>) -> (LsmCtxHeader, Vec<u8>) {
    let payload = flags.map_or_else(Vec::new, |f| {
        SecnsUnshareArgs { flags: f }.as_bytes().to_vec()
    });
    (LsmCtxHeader::new(sys::LSM_ID_SECNS, payload.len()), payload)
}

/// `lsm_set_self_attr(attr)` of a well-formed request, with one field
/// mutated when `mutate`: the kernel's answer, and what [`checked`] makes
/// of the request.
fn set(
    rng: &mut Rng,
    attr: u32,
    flags: Option<u64>,
    mutate: bool,
) -> (Result<(), i32>, Result<Op, i32>) {
    let (mut h, mut payload) = request(flags);
    let mut attr = attr;
    let mut size = (LSM_CTX_HEADER + payload.len()) as u32;
    let mut sys_flags = 0;
    if mutate {
        match rng.below(9) {
            0 => h.id = [0, sys::LSM_ID_SECNS + 1, rng.next()][rng.below(3) as usize],
            1 => h.flags = 1 << rng.below(64),
            2 => h.len = [0, h.len - 1, h.len + 8, rng.next()][rng.below(4) as usize],
            3 => h.ctx_len = [1, 7, 9, h.ctx_len + 8, rng.next()][rng.below(5) as usize],
            4 => size = [0, 31, size + 8, 4097, rng.below(64) as u32][rng.below(5) as usize],
            5 => sys_flags = 1 << rng.below(32),
            6 => attr = [100, 105, 108, 0, rng.next() as u32][rng.below(5) as usize],
            7 => {
                // A longer struct: a zero tail is fine; a non-zero byte in
                // version 1's pidfd or reserved (bytes 8 to 15, no
                // SECNS_JOIN here) is EINVAL, one beyond them E2BIG.
                payload.resize(8 + 8 * (1 + rng.below(3)) as usize, 0);
                if rng.below(2) == 0 {
                    let at = 8 + rng.below(payload.len() as u64 - 8) as usize;
                    payload[at] = 1 + rng.below(255) as u8;
                }
                h.len = (LSM_CTX_HEADER + payload.len()) as u64;
                h.ctx_len = payload.len() as u64;
                size = h.len as u32;
            }
            _ => {
                // Any one flag in a version 0 payload: SECNS_JOIN is
                // EINVAL there (it needs version 1, and UNSHARE).
                payload = SecnsUnshareArgs {
                    flags: 1 << rng.below(64),
                }
                .as_bytes()
                .to_vec();
                h.len = (LSM_CTX_HEADER + payload.len()) as u64;
                h.ctx_len = payload.len() as u64;
                size = h.len as u32;
            }
        }
    }
    let ctx = RawCtx::new(h, &payload);
    // Never more than the buffer holds: RawCtx rounds it up to 8 bytes, and
    // sizes above PAGE_SIZE are refused before anything is read.
    let size = if size as usize > ctx.as_bytes().len() && size <= 4096 {
        ctx.as_bytes().len() as u32
    } else {
        size
    };
    let want = checked(attr, ctx.as_bytes().get(..size as usize), size, sys_flags);
    let r = sys::lsm_set_self_attr_raw(attr, ctx.as_ptr(), size, sys_flags).map(drop);
    (r, want)
}

/// One episode, in a process of its own: up to `EPISODE` calls; may end
/// with `execve` of this program (which must find no pending namespace).
/// Each answer is the one predicted from the request and the episode's own
/// state; only a namespace it creates may be refused for a limit that the
/// other processes share (ENOSPC).
fn episode(rng: &mut Rng, out: &mut std::fs::File) -> Result<(), String> {
    let mut t = Tally::default();
    let mut own = Own::now(DEPTH_MAX)?;
    for _ in 0..EPISODE {
        let mutate = rng.below(5) == 0;
        let ((r, want), what) = match rng.below(20) {
            0..=5 => (set(rng, LSM_ATTR_UNSHARE_INIT, None, mutate), "INIT"),
            6..=8 => (set(rng, LSM_ATTR_UNSHARE, None, mutate), "UNSHARE"),
            9..=11 => (
                set(rng, LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT), mutate),
                "ABORT",
            ),
            12..=15 => {
                t.calls += 1;
                t.accepted += 1;
                own.verify().map_err(|e| format!("GET: {e}"))?;
                continue;
            }
            16 => {
                t.calls += 1;
                unshare_with_a_thread()?;
                own.verify()
                    .map_err(|e| format!("after UNSHARE with a thread: {e}"))?;
                continue;
            }
            17 => {
                deeper_child(&own)?;
                continue;
            }
            18 if rng.below(8) == 0 => {
                // Report, then execute a program: the pending namespace
                // (if any) goes with the old program.
                let _ = out.write_all(&[t.calls.to_ne_bytes(), t.accepted.to_ne_bytes()].concat());
                let exe = std::ffi::CString::new("/proc/self/exe").unwrap_or_default();
                let arg = std::ffi::CString::new("--pending-none").unwrap_or_default();
                let argv = [exe.as_ptr(), arg.as_ptr(), std::ptr::null()];
                // SAFETY: null-terminated argv of valid C strings.
                unsafe { libc::execv(exe.as_ptr(), argv.as_ptr()) };
                return Err(format!("execv: errno {}", sys::errno()));
            }
            _ => (
                set(rng, LSM_ATTR_UNSHARE_INIT, Some(0), mutate),
                "INIT(args)",
            ),
        };
        t.calls += 1;
        if r.is_ok() {
            t.accepted += 1;
        }
        judge(&mut own, r, want).map_err(|e| format!("{what} (mutated: {mutate}): {e}"))?;
    }
    out.write_all(&[t.calls.to_ne_bytes(), t.accepted.to_ne_bytes()].concat())
        .map_err(|e| e.to_string())
}

/// `secns-vmtest --pending-none`: exit 0 if the caller has no pending
/// namespace (what a freshly executed program must find).
pub fn pending_none() -> std::process::ExitCode {
    match sys::secns_info() {
        Ok(i) if i.pending_id == 0 && i.flags == 0 => std::process::ExitCode::SUCCESS,
        _ => std::process::ExitCode::FAILURE,
    }
}

/// One worker: episodes until `calls` or the deadline; returns the tally.
fn worker(seed: u64, calls: u64, deadline: Instant) -> Result<(Tally, u64, u64), String> {
    let mut rng = Rng::new(seed);
    let (mut total, mut episodes, mut killed) = (Tally::default(), 0, 0);
    while total.calls < calls && Instant::now() < deadline {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: errno {}", sys::errno()));
        }
        let child_seed = rng.next();
        let kill = rng.below(16) == 0;
        let _ = std::io::stdout().flush();
        // SAFETY: single-threaded; the child leaves with `_exit` or exec.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: the read end is not ours; the write end becomes the
            // `File`'s.
            let mut out = unsafe {
                libc::close(fds[0]);
                <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1])
            };
            let code = match episode(&mut Rng::new(child_seed), &mut out) {
                Ok(()) => 0,
                Err(e) => {
                    println!("#   episode (seed {child_seed}): {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child.
            unsafe { libc::_exit(code) }
        }
        // SAFETY: the write end is the child's; the read end becomes ours.
        let mut input = unsafe {
            libc::close(fds[1]);
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0])
        };
        if pid < 0 {
            return Err(format!("fork: errno {}", sys::errno()));
        }
        if kill {
            // kill -9 halfway: in the middle of a setup, with whatever
            // the episode holds.
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let mut report = Vec::new();
        let _ = input.read_to_end(&mut report);
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        episodes += 1;
        let killed_here = libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL;
        if killed_here {
            killed += 1;
        } else if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            return Err(format!("episode (seed {child_seed}): status {status:#x}"));
        }
        if let (Some(c), Some(a)) = (report.get(0..8), report.get(8..16)) {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or_default());
            total.calls += word(c);
            total.accepted += word(a);
        }
    }
    Ok((total, episodes, killed))
}

/// Changes `maxns` and `maxnsdepth` until `deadline` or until killed.
fn limit_changer(seed: u64, base: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    loop {
        write_limit("maxns", base + 16 + rng.below(64))?;
        write_limit("maxnsdepth", 4 + rng.below(29))?;
        std::thread::sleep(Duration::from_millis(2 + rng.below(10)));
    }
}

/// The calls of each of the two workers: together, all of them.
fn shares(calls: u64) -> [u64; 2] {
    [calls - calls / 2, calls / 2]
}

/// Fails unless the `made` calls are at least the `asked` ones. A worker
/// stops short of its share only at the deadline, after `seconds`: a run
/// cut short fails, whatever it found until then.
fn all_calls_made(made: u64, asked: u64, seconds: u64) -> Outcome {
    check(made >= asked, || {
        format!("the deadline ({seconds} s) stopped the run after {made} of the {asked} calls asked for")
    })
}

/// Runs the fuzzer with `calls` calls (or the environment's `FUZZ_CALLS`)
/// on two workers within `seconds` (or `FUZZ_SECONDS`); fails if the
/// deadline stops it before every call was made.
pub fn run(calls: u64, seconds: u64) -> Outcome {
    let cfg = Config::from_env(calls, seconds);
    let base = sys::count()?;
    let (maxns, depth) = (
        sys::read_secns_file("maxns")?,
        sys::read_secns_file("maxnsdepth")?,
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(cfg.seconds);
    let _ = std::io::stdout().flush();
    // The limit changer, in a process of its own.
    // SAFETY: single-threaded; the child ends with `_exit`.
    let changer = unsafe { libc::fork() };
    if changer == 0 {
        let code = i32::from(limit_changer(cfg.seed ^ 0x11, base).is_err());
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) }
    }
    let mut workers = Vec::new();
    for (w, quota) in (0..2u64).zip(shares(cfg.calls)) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: errno {}", sys::errno()));
        }
        let _ = std::io::stdout().flush();
        // SAFETY: single-threaded; the child ends with `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let r = worker(cfg.seed.wrapping_add(w), quota, deadline);
            let code = match r {
                Ok((t, e, k)) => {
                    let words = [t.calls, t.accepted, e, k].map(u64::to_ne_bytes).concat();
                    // SAFETY: `fds[1]` is open and `words` readable.
                    unsafe { libc::write(fds[1], words.as_ptr().cast(), words.len()) };
                    0
                }
                Err(e) => {
                    println!("#   fuzz worker {w}: {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child.
            unsafe { libc::_exit(code) }
        }
        // SAFETY: the write end is the child's.
        unsafe { libc::close(fds[1]) };
        workers.push((pid, fds[0]));
    }
    let (mut total, mut episodes, mut killed, mut failed) = (Tally::default(), 0, 0, 0);
    for (pid, fd) in workers {
        // SAFETY: `fd` is the read end, ours.
        let mut input = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let mut report = Vec::new();
        let _ = input.read_to_end(&mut report);
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) || report.len() != 32 {
            failed += 1;
            continue;
        }
        let word =
            |i: usize| u64::from_ne_bytes(report[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        total.calls += word(0);
        total.accepted += word(1);
        episodes += word(2);
        killed += word(3);
    }
    // SAFETY: our own child.
    unsafe { libc::kill(changer, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: `status` is writable.
    unsafe { libc::waitpid(changer, &mut status, 0) };
    let restored = write_limit("maxns", maxns).and(write_limit("maxnsdepth", depth));
    let secs = start.elapsed().as_secs_f64();
    let share = total.accepted as f64 * 100.0 / total.calls.max(1) as f64;
    println!(
        "# fuzz: seed {}, {} of {} calls, {} accepted ({share:.1} %), {episodes} episodes ({killed} killed), {secs:.0} s of {} s",
        cfg.seed, total.calls, cfg.calls, total.accepted, cfg.seconds
    );
    check(failed == 0, || {
        format!("{failed} fuzz worker(s) failed (above)")
    })?;
    restored?;
    all_calls_made(total.calls, cfg.calls, cfg.seconds)?;
    check(total.accepted * 3 >= total.calls, || {
        format!("only {share:.1} % of the calls were accepted")
    })?;
    sys::count_back_to(base, Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_cut_short_by_its_deadline_fails() {
        assert_eq!(all_calls_made(1_000_000, 1_000_000, 3600), Ok(()));
        assert_eq!(all_calls_made(1_000_175, 1_000_000, 3600), Ok(()));
        let why = all_calls_made(1000, 1_000_000, 3600).unwrap_err();
        assert!(why.contains("after 1000 of the 1000000 calls"), "{why}");
        assert!(all_calls_made(19_999, 20_000, 600).is_err());
    }

    #[test]
    fn the_workers_share_every_call() {
        for calls in [0, 1, 2, 3, 20_000, 20_001, 1_000_000] {
            assert_eq!(shares(calls).iter().sum::<u64>(), calls);
        }
    }
}

#[cfg(test)]
mod prediction_tests {
    use super::*;
    use crate::sys::SECNS_INFO_SIZE_VER0;

    const INIT: u32 = LSM_ATTR_UNSHARE_INIT;
    const UNSHARE: u32 = LSM_ATTR_UNSHARE;

    /// A version 1 payload.
    fn v1(flags: u64, pidfd: i32, reserved: u32) -> Vec<u8> {
        [
            &flags.to_ne_bytes()[..],
            &pidfd.to_ne_bytes(),
            &reserved.to_ne_bytes(),
        ]
        .concat()
    }

    /// `checked` of `header` and `payload`, all of it passed.
    fn raw(attr: u32, header: LsmCtxHeader, payload: &[u8]) -> Result<Op, i32> {
        let ctx = RawCtx::new(header, payload);
        let b = ctx.as_bytes();
        checked(attr, Some(b), b.len() as u32, 0)
    }

    /// `checked` of a well-formed secns context holding `payload`.
    fn ask(attr: u32, payload: &[u8]) -> Result<Op, i32> {
        raw(
            attr,
            LsmCtxHeader::new(LSM_ID_SECNS, payload.len()),
            payload,
        )
    }

    #[test]
    fn well_formed_requests_are_their_operations() {
        assert_eq!(ask(INIT, &[]), Ok(Op::Init));
        assert_eq!(ask(INIT, &0u64.to_ne_bytes()), Ok(Op::Init));
        assert_eq!(ask(INIT, &SECNS_ABORT.to_ne_bytes()), Ok(Op::Abort));
        assert_eq!(ask(INIT, &v1(SECNS_ABORT, 0, 0)), Ok(Op::Abort));
        assert_eq!(ask(UNSHARE, &[]), Ok(Op::Unshare));
        assert_eq!(ask(UNSHARE, &v1(0, 0, 0)), Ok(Op::Unshare));
        assert_eq!(ask(UNSHARE, &v1(SECNS_JOIN, 5, 0)), Ok(Op::Join(5)));
        assert_eq!(ask(UNSHARE, &v1(SECNS_JOIN, -1, 0)), Ok(Op::Join(-1)));
        // A longer struct with a zero tail.
        let mut long = v1(SECNS_ABORT, 0, 0);
        long.resize(SECNS_INFO_SIZE_VER0, 0);
        assert_eq!(ask(INIT, &long), Ok(Op::Abort));
    }

    #[test]
    fn the_payload_follows_its_rules() {
        // Shorter than version 0.
        assert_eq!(ask(INIT, &[0; 1]), Err(libc::EINVAL));
        assert_eq!(ask(INIT, &[0; 7]), Err(libc::EINVAL));
        // A non-zero byte beyond version 1, even with other faults.
        let mut long = v1(0, 3, 1);
        long.resize(24, 0);
        long[20] = 1;
        assert_eq!(ask(INIT, &long), Err(libc::E2BIG));
        // reserved, a pidfd without SECNS_JOIN, SECNS_JOIN in version 0.
        assert_eq!(ask(UNSHARE, &v1(SECNS_JOIN, 3, 1)), Err(libc::EINVAL));
        assert_eq!(ask(UNSHARE, &v1(0, 3, 0)), Err(libc::EINVAL));
        assert_eq!(ask(INIT, &v1(SECNS_ABORT, -1, 0)), Err(libc::EINVAL));
        assert_eq!(ask(UNSHARE, &SECNS_JOIN.to_ne_bytes()), Err(libc::EINVAL));
        // Each attribute's flags.
        assert_eq!(ask(INIT, &v1(SECNS_JOIN, 3, 0)), Err(libc::EINVAL));
        assert_eq!(ask(UNSHARE, &SECNS_ABORT.to_ne_bytes()), Err(libc::EINVAL));
        assert_eq!(ask(INIT, &(1u64 << 2).to_ne_bytes()), Err(libc::EINVAL));
        assert_eq!(ask(UNSHARE, &(1u64 << 63).to_ne_bytes()), Err(libc::EINVAL));
        let both = SECNS_JOIN | SECNS_ABORT;
        assert_eq!(ask(UNSHARE, &v1(both, 3, 0)), Err(libc::EINVAL));
    }

    #[test]
    fn the_system_call_and_the_header_come_first() {
        let payload = v1(0, 0, 0);
        let ok = LsmCtxHeader::new(LSM_ID_SECNS, payload.len());
        let ctx = RawCtx::new(ok, &payload);
        let b = ctx.as_bytes();
        let whole = b.len() as u32;
        assert_eq!(checked(INIT, Some(b), whole, 1), Err(libc::EINVAL));
        assert_eq!(checked(INIT, Some(&b[..31]), 31, 0), Err(libc::EINVAL));
        assert_eq!(checked(INIT, None, 4097, 0), Err(libc::E2BIG));
        // size below len.
        assert_eq!(checked(INIT, Some(&b[..40]), 40, 0), Err(libc::EINVAL));
        // len below the header and ctx_len, and ctx_len overflowing.
        for ctx_len in [17, u64::MAX - 16, u64::MAX] {
            let h = LsmCtxHeader { ctx_len, ..ok };
            assert_eq!(raw(INIT, h, &payload), Err(libc::EINVAL));
        }
        let h = LsmCtxHeader { len: 47, ..ok };
        assert_eq!(raw(INIT, h, &payload), Err(libc::EINVAL));
        // Then the LSM and the attribute, before the context's flags.
        let bad_flags = LsmCtxHeader { flags: 1, ..ok };
        for id in [0, LSM_ID_SECNS + 1, u64::MAX] {
            let h = LsmCtxHeader { id, ..bad_flags };
            assert_eq!(raw(INIT, h, &payload), Err(libc::EOPNOTSUPP));
        }
        for attr in [0, 100, 105, 108, u32::MAX] {
            assert_eq!(raw(attr, bad_flags, &payload), Err(libc::EOPNOTSUPP));
        }
        assert_eq!(raw(INIT, bad_flags, &payload), Err(libc::EINVAL));
        // A shorter ctx_len within len: the payload is what ctx_len says.
        let h = LsmCtxHeader { ctx_len: 8, ..ok };
        assert_eq!(raw(INIT, h, &payload), Ok(Op::Init));
        let h = LsmCtxHeader { ctx_len: 1, ..ok };
        assert_eq!(raw(INIT, h, &payload), Err(libc::EINVAL));
    }
}
