//! The secns kfuncs as BPF programs get them, from `bpf/kfuncs.bpf.c`:
//!
//! - its programs on `task_secns_init` and `task_secns_unshare`, for this
//!   test's child only, write every kfunc's answer (for the hook's
//!   credentials, and for the current task) into a map, and the test
//!   compares them with what `lsm_get_self_attr(LSM_ATTR_UNSHARE)` reports,
//!   two levels down and on a one-shot `UNSHARE` at the third;
//! - its program on `task_kill` asks the task kfuncs about the target of
//!   `kill(2)`, its real parent and the sender, while the target calls
//!   `faccessat(2)` with fsuid != uid in a loop: credentials that the
//!   kernel frees at once, without an RCU grace period (`make stress` runs
//!   it under KASAN, whose reports fail the run);
//! - the verifier must refuse, with the errno and the reason the kernel
//!   gives, the programs that pass a task's `->cred` or `->real_cred` (RCU
//!   pointers) to a kfunc of credentials, and a tracing (`fentry`) program
//!   that calls a secns kfunc, while the same tracing program without the
//!   call loads.

use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT};
use crate::tap::{check, Outcome, Test};
use crate::unshare::in_child;
use libbpf_rs::{Link, MapCore, MapFlags, MapHandle, Object};
use secns_policy::bpf;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test {
        name: "kfuncs: a BPF LSM program gets the ids, depth, ancestors and pending id secns reports",
        run: kfuncs,
    },
    Test {
        name: "kfuncs: a task's ->cred and ->real_cred (RCU pointers) are refused at load with the verifier's errno",
        run: untrusted_credentials_are_refused,
    },
    Test {
        name: "kfuncs: a tracing program that calls one is refused at load with the verifier's errno",
        run: tracing_programs_are_refused,
    },
    Test {
        name: "kfuncs: the task kfuncs on task_kill's target, raced 20000 times against its faccessat() with fsuid != uid",
        run: task_kill_races_faccessat,
    },
];

/// Built by harness/build-userspace, installed by tests/mkinitramfs.
const OBJECT: &str = "/usr/lib/secns-vmtest/kfuncs.bpf.o";

/// What the kfuncs answer for an ancestor beyond the namespace (and for a
/// namespace they do not know).
const NONE: u64 = u64::MAX;

/// `kill(2)` calls of the race.
const RACE_KILLS: u64 = 20_000;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The object loaded with some of its programs (by section name): a
/// program that the verifier refuses fails the whole load.
struct Setup {
    obj: Object,
}

impl Setup {
    fn with(sections: &[&str]) -> bpf::Result<Self> {
        let bytes = std::fs::read(OBJECT).map_err(|e| {
            bpf::Error::new(format!("cannot read {OBJECT}"), libbpf_rs::Error::from(e))
        })?;
        let mut open = bpf::open(&bytes, "kfuncs")?;
        for mut prog in open.progs_mut() {
            let section = prog.section().to_string_lossy().into_owned();
            prog.set_autoload(sections.contains(&section.as_str()));
        }
        Ok(Self {
            obj: bpf::load(open, "kfuncs")?,
        })
    }

    fn map(&self, name: &str) -> Result<MapHandle, String> {
        let map = self
            .obj
            .maps()
            .find(|m| m.name() == name)
            .ok_or(format!("no map {name}"))?;
        MapHandle::try_from(&map).map_err(err)
    }

    /// Attaches the program of `section` while the link lives.
    fn attach(&self, section: &str) -> Result<Link, String> {
        let prog = self
            .obj
            .progs_mut()
            .find(|p| p.section() == section)
            .ok_or(format!("no program in {section}"))?;
        prog.attach_lsm().map_err(err)
    }
}

fn update(map: &MapHandle, value: &[u8]) -> Outcome {
    map.update(&0u32.to_ne_bytes(), value, MapFlags::ANY)
        .map_err(err)
}

/// The `u64` fields of a map value, in order.
fn read_u64s(map: &MapHandle, slot: u32, count: usize) -> Result<Vec<u64>, String> {
    let v = map
        .lookup(&slot.to_ne_bytes(), MapFlags::ANY)
        .map_err(err)?
        .ok_or_else(|| format!("no slot {slot}"))?;
    check(v.len() == count * 8, || {
        format!("slot {slot}: {} bytes, expected {}", v.len(), count * 8)
    })?;
    Ok(v.chunks_exact(8)
        .map(|b| b.try_into().map_or(0, u64::from_ne_bytes))
        .collect())
}

/// `struct kfunc_answers`.
#[derive(Debug, PartialEq, Eq)]
struct Answers {
    cred_id: u64,
    parent_id: u64,
    depth: u64,
    ancestor0: u64,
    ancestor1: u64,
    ancestor_self: u64,
    ancestor_beyond: u64,
    pending_id: u64,
    ns_id: u64,
    task_id: u64,
    task_parent_id: u64,
    task_depth: u64,
    task_ancestor1: u64,
    task_ancestor_beyond: u64,
}

fn read(map: &MapHandle, slot: u32) -> Result<Answers, String> {
    let f = read_u64s(map, slot, 14)?;
    let f = |i: usize| f.get(i).copied().unwrap_or(0);
    Ok(Answers {
        cred_id: f(0),
        parent_id: f(1),
        depth: f(2),
        ancestor0: f(3),
        ancestor1: f(4),
        ancestor_self: f(5),
        ancestor_beyond: f(6),
        pending_id: f(7),
        ns_id: f(8),
        task_id: f(9),
        task_parent_id: f(10),
        task_depth: f(11),
        task_ancestor1: f(12),
        task_ancestor_beyond: f(13),
    })
}

/// The program's answers for a caller in `(id, parent, depth)` asked about
/// namespace `ns` while `pending` is pending: the current task's
/// (objective) credentials are the hook's, so the task kfuncs answer the
/// same.
fn expected(at: (u64, u64, u64), pending: u64, ns: u64) -> Answers {
    let (id, parent, depth) = at;
    let ancestor1 = match depth {
        0 => NONE,
        1 => id,
        _ => parent,
    };
    Answers {
        cred_id: id,
        parent_id: parent,
        depth,
        ancestor0: 0,
        ancestor1,
        ancestor_self: id,
        ancestor_beyond: NONE,
        pending_id: pending,
        ns_id: ns,
        task_id: id,
        task_parent_id: parent,
        task_depth: depth,
        task_ancestor1: ancestor1,
        task_ancestor_beyond: NONE,
    }
}

fn expect(map: &MapHandle, what: &str, slot: u32, want: Answers) -> Outcome {
    let got = read(map, slot)?;
    check(got == want, || {
        format!("{what}: the kfuncs answered {got:?}, expected {want:?}")
    })
}

/// Closes a forked child's copies of the descriptors of `links` (the
/// parent's keep the programs attached): with secns-policy attached, a task
/// that holds a BPF LSM link does not enter a namespace, where it could
/// detach the program.
fn let_go(links: &[Link]) {
    for link in links {
        // SAFETY: the child's own copy of the descriptor, which nothing in
        // the child uses again: the child leaves with _exit, without
        // dropping `link`.
        unsafe { libc::close(link.as_fd().as_raw_fd()) };
    }
}

fn kfuncs() -> Outcome {
    let s = Setup::with(&["lsm/task_secns_init", "lsm/task_secns_unshare"]).map_err(err)?;
    let (target, at_init, at_unshare) = (s.map("target")?, s.map("at_init")?, s.map("at_unshare")?);
    // Attached while they live.
    let _links = [
        s.attach("lsm/task_secns_init")?,
        s.attach("lsm/task_secns_unshare")?,
    ];
    in_child(|| {
        let_go(&_links);
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() } as u32;
        update(&target, &me.to_ne_bytes())?;
        let set = |attr| sys::secns_set(attr, None).map_err(|e| format!("errno {e}"));
        // Two levels with explicit pending namespaces, then a one-shot.
        set(LSM_ATTR_UNSHARE_INIT)?;
        let p = sys::secns_info()?.pending_id;
        set(LSM_ATTR_UNSHARE)?;
        set(LSM_ATTR_UNSHARE_INIT)?;
        let q = sys::secns_info()?.pending_id;
        set(LSM_ATTR_UNSHARE)?;
        set(LSM_ATTR_UNSHARE)?;
        let info = sys::secns_info()?;
        let r = info.id;
        check(
            info.parent_id == q && info.depth == 3 && p != 0 && q != p,
            || format!("secns_info after three levels: {info:?} (p {p}, q {q})"),
        )?;
        let root = (0, 0, 0);
        let in_p = (p, 0, 1);
        let in_q = (q, p, 2);
        // The pending one is set after task_secns_init approves it.
        let (at_init, at_unshare) = (&at_init, &at_unshare);
        expect(at_init, "INIT of p", 1, expected(root, 0, p))?;
        expect(at_unshare, "UNSHARE into p", 1, expected(root, p, p))?;
        expect(at_init, "INIT of q", 2, expected(in_p, 0, q))?;
        expect(at_unshare, "UNSHARE into q", 2, expected(in_p, q, q))?;
        expect(
            at_init,
            "one-shot UNSHARE, its INIT",
            3,
            expected(in_q, 0, r),
        )?;
        expect(at_unshare, "one-shot UNSHARE", 3, expected(in_q, 0, r))
    })
}

/// `result`, a load, must have failed in `bpf(2)` with the errno and the
/// message of the verifier's check that refuses it (kernel/bpf/verifier.c):
/// `errno`, and `reason` in the log.
fn refused(what: &str, result: bpf::Result<Setup>, errno: i32, reason: &str) -> Outcome {
    let e = match result {
        Ok(_) => return Err(format!("{what}: loaded; the verifier should refuse it")),
        Err(e) => e,
    };
    let errno_ok = e.is_errno(errno);
    println!("# {what}: refused ({errno_ok}: errno {errno})");
    check(errno_ok && e.log().contains(reason), || {
        format!("{what}: expected errno {errno} and {reason:?} in the verifier log, got {e}")
    })
}

fn untrusted_credentials_are_refused() -> Outcome {
    // check_kfunc_args(): without KF_RCU, an argument must be trusted.
    let reason = "R1 must be referenced or trusted";
    refused(
        "bpf_secns_cred_id(bpf_get_current_task_btf()->cred)",
        Setup::with(&["lsm/file_open"]),
        libc::EINVAL,
        reason,
    )?;
    refused(
        "bpf_secns_cred_id(p->cred)",
        Setup::with(&["lsm/task_getsid"]),
        libc::EINVAL,
        reason,
    )?;
    refused(
        "bpf_secns_cred_id(p->real_cred)",
        Setup::with(&["lsm/task_getpgid"]),
        libc::EINVAL,
        reason,
    )?;
    // The task kfuncs (KF_RCU) take the RCU pointer p->real_parent.
    Setup::with(&["lsm/task_kill"]).map(drop).map_err(|e| {
        format!("the task_kill program, which passes p->real_parent to bpf_secns_task_id(): {e}")
    })
}

fn tracing_programs_are_refused() -> Outcome {
    // A tracing program loads here...
    Setup::with(&["fentry/security_task_getpgid"])
        .map(drop)
        .map_err(|e| format!("fentry/security_task_getpgid, which calls no kfunc: {e}"))?;
    // ... but not with a call of a secns kfunc: the kfunc set's filter
    // refuses it, and check_kfunc_call() passes on its EACCES.
    refused(
        "fentry/security_task_getsid calling bpf_secns_pending_id()",
        Setup::with(&["fentry/security_task_getsid"]),
        libc::EACCES,
        "calling kernel function bpf_secns_pending_id is not allowed",
    )
}

/// A page shared with the target: how many `faccessat()` calls it made, and
/// the id of its namespace.
struct Shared {
    ptr: *mut AtomicU64,
}

impl Shared {
    fn new() -> Result<Self, String> {
        // SAFETY: a new anonymous shared mapping, at an address the kernel
        // chooses; nothing else is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!("mmap: errno {}", sys::errno()));
        }
        Ok(Self { ptr: ptr.cast() })
    }

    /// Slot 0: the calls; 1: the namespace id, 0 until known; 2: an errno
    /// of the target's setup.
    fn slot(&self, i: usize) -> &AtomicU64 {
        let i = i.min(2);
        // SAFETY: slot `i` is within the mapping, a zeroed page aligned for
        // `AtomicU64` that lives as long as `self`; atomics make the
        // sharing between processes sound.
        unsafe { &*self.ptr.add(i) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the mapping of `new`, not used after this.
        unsafe { libc::munmap(self.ptr.cast(), 4096) };
    }
}

/// The target of the race: enters a namespace of its own, makes its fsuid
/// differ from its uid, then calls `faccessat()` until it is killed, which
/// overrides its credentials with ones freed at the end of each call.
fn race_target(shared: &Shared) -> ! {
    // Step `step` of the setup failed: say so, with the errno, and leave.
    let fail = |step: u64| -> ! {
        shared
            .slot(2)
            .store(step << 16 | u64::from(sys::errno() as u16), SeqCst);
        // SAFETY: leaving the forked target without the parent's atexit
        // handlers.
        unsafe { libc::_exit(1) }
    };
    // SAFETY: asks for SIGKILL when the parent dies; no memory involved.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
        fail(1);
    }
    if sys::secns_set(LSM_ATTR_UNSHARE, None).is_err() {
        fail(2);
    }
    let Ok(info) = sys::secns_info() else { fail(3) };
    // SAFETY: setfsuid changes the caller's fsuid only, and returns the
    // previous one: the second call tells whether the first took effect.
    let fsuid = unsafe {
        libc::setfsuid(1);
        libc::setfsuid(1)
    };
    // SAFETY: getuid has no preconditions.
    if fsuid != 1 || unsafe { libc::getuid() } != 0 {
        fail(4);
    }
    shared.slot(1).store(info.id, SeqCst);
    let root = c"/";
    loop {
        // SAFETY: a NUL-terminated path; no flags, so not AT_EACCESS: the
        // kernel overrides the credentials (access_override_creds()).
        unsafe { libc::faccessat(libc::AT_FDCWD, root.as_ptr(), libc::F_OK, 0) };
        shared.slot(0).fetch_add(1, SeqCst);
    }
}

fn task_kill_races_faccessat() -> Outcome {
    let s = Setup::with(&["lsm/task_kill"]).map_err(err)?;
    let (kill_target, at_kill) = (s.map("kill_target")?, s.map("at_kill")?);
    let link = s.attach("lsm/task_kill")?;
    in_child(|| {
        let_go(std::slice::from_ref(&link));
        // The sender (this child) two levels down, the target three.
        sys::secns_set(LSM_ATTR_UNSHARE, None).map_err(|e| format!("UNSHARE: errno {e}"))?;
        sys::secns_set(LSM_ATTR_UNSHARE, None).map_err(|e| format!("UNSHARE: errno {e}"))?;
        let me = sys::secns_info()?;
        check(me.depth == 2, || {
            format!("secns_info after two levels: {me:?}")
        })?;
        let shared = Shared::new()?;
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: this child is single-threaded; the target never returns.
        let pid = match unsafe { libc::fork() } {
            -1 => return Err(format!("fork: errno {}", sys::errno())),
            0 => race_target(&shared),
            pid => pid,
        };
        let result = race(&shared, pid, me, &kill_target, &at_kill);
        // SAFETY: `pid` is our child, reaped right after.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let mut status = 0;
        // SAFETY: `status` is writable.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        result
    })
}

/// The race itself, with the target `pid` running: `me` is the sender's
/// namespace.
fn race(
    shared: &Shared,
    pid: i32,
    me: sys::Info,
    kill_target: &MapHandle,
    at_kill: &MapHandle,
) -> Outcome {
    let started = Instant::now();
    while shared.slot(0).load(SeqCst) == 0 {
        let setup = shared.slot(2).load(SeqCst);
        check(setup == 0, || {
            format!(
                "the target's setup step {} failed: errno {}",
                setup >> 16,
                setup & 0xffff
            )
        })?;
        check(started.elapsed() < Duration::from_secs(30), || {
            "the target made no faccessat() call within 30 s".into()
        })?;
        std::thread::sleep(Duration::from_millis(1));
    }
    let target_ns = shared.slot(1).load(SeqCst);
    let mut t = (pid as u32).to_ne_bytes().to_vec();
    t.extend_from_slice(&0u32.to_ne_bytes());
    t.extend_from_slice(&target_ns.to_ne_bytes());
    update(at_kill, &[0; 80])?;
    update(kill_target, &t)?;
    let before = shared.slot(0).load(SeqCst);
    for i in 0..RACE_KILLS {
        // SAFETY: signal 0 only checks, through security_task_kill().
        let ret = unsafe { libc::kill(pid, 0) };
        check(ret == 0, || {
            format!("kill({pid}, 0) #{i}: errno {}", sys::errno())
        })?;
    }
    let during = shared.slot(0).load(SeqCst) - before;
    let a = read_u64s(at_kill, 0, 10)?;
    update(kill_target, &[0; 16])?;
    println!(
        "# race: {} task_kill calls, {during} faccessat() calls of the target meanwhile",
        a[0]
    );
    let got = (a[0], a[1]);
    check(got == (RACE_KILLS, 0), || {
        format!("task_kill ran {} times, {} of them with an id other than {target_ns}; expected {RACE_KILLS} and 0", a[0], a[1])
    })?;
    check(during > 0, || {
        "the target made no faccessat() call during the kill() calls: nothing raced".into()
    })?;
    // The last call's answers: the target three levels down, its real
    // parent and the sender (this child) two.
    let want = [target_ns, me.id, 3, 0, target_ns, NONE, me.id, me.id];
    check(a[2..] == want, || {
        format!(
            "the task kfuncs answered [id, parent, depth, ancestor 0, ancestor 3, ancestor 4, real parent's id, sender's id] = {:?}, expected {want:?}",
            &a[2..]
        )
    })
}
