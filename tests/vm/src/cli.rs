//! The `secns` command end to end, as a runtime or an operator runs it,
//! and the `secns` crate's calls that a runtime makes (joining a running
//! namespace, entering its own after dropping its capabilities).

use crate::sys;
use crate::sys::count;
use crate::tap::{check, Outcome, Test};
use crate::unshare::in_child;
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::process::{Child, Command, Output, Stdio};

pub const TESTS: &[Test] = &[
    Test {
        name: "secns status shows the initial namespace, limits and LSMs",
        run: status,
    },
    Test {
        name: "secns run: setup sees the pending namespace, PROGRAM runs in it",
        run: run_two_phase,
    },
    Test {
        name: "secns run: a failing setup drops the namespace, exit 125",
        run: failing_setup,
    },
    Test {
        name: "secns run: PROGRAM not found is 127, not executable is 126",
        run: exec_errors,
    },
    Test {
        name: "secns run: a limit reached says which one, exit 125",
        run: limit_message,
    },
    Test {
        name: "secns limits sets and shows the limits; bad values fail with exit 1",
        run: limits,
    },
    Test {
        name: "the secns man pages are installed",
        run: man_pages,
    },
    Test {
        name: "the crate's two-phase example enters a new namespace",
        run: crate_example,
    },
    Test {
        name: "secns join: PROGRAM runs in PID's namespace, no namespace is created",
        run: join_runs_in_the_namespace,
    },
    Test {
        name: "secns join: no such pid is ESRCH, upward and sideways are EPERM, exit 125",
        run: join_refusals,
    },
    Test {
        name: "secns join without CAP_MAC_ADMIN: EPERM, exit 125, PROGRAM not run",
        run: join_without_cap,
    },
    Test {
        name: "crate join: joins a pidfd's namespace; EBADF, ESRCH, EBUSY, EPERM upward",
        run: crate_join,
    },
    Test {
        name: "crate: INIT, drop every capability, enter: own pending namespace entered",
        run: enter_without_caps,
    },
    Test {
        name: "crate: INIT, setresuid(1000) and no capability, enter: pending namespace entered",
        run: enter_as_another_user,
    },
    Test {
        name: "crate: without capabilities a one-shot enter and a join are EPERM",
        run: no_caps_no_one_shot,
    },
];

const SECNS: &str = "/bin/secns";

fn secns(args: &[&str]) -> Result<Output, String> {
    Command::new(SECNS)
        .args(args)
        .output()
        .map_err(|e| format!("running secns {args:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for the count to be `base` again.
fn back_to(base: u64) -> Outcome {
    sys::count_back_to(base, std::time::Duration::from_secs(5))
}

fn status() -> Outcome {
    let out = secns(&["status"])?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!("exit {}: {}", out.status, text(&out.stderr))
    })?;
    check(
        t.contains("namespace  0 (depth 0, parent 0)")
            && t.contains("pending    none")
            && t.contains("maxnsdepth 32")
            && t.contains("secns"),
        || format!("status output: {t:?}"),
    )?;
    let out = secns(&["status", "--json"])?;
    let j = text(&out.stdout);
    check(
        out.status.success()
            && j.starts_with(
                "{\"namespace\":{\"id\":0,\"parent_id\":0,\"depth\":0},\"pending_id\":null,",
            )
            && j.contains("\"lsms\":[\"capability\","),
        || format!("status --json: {j:?}"),
    )
}

fn run_two_phase() -> Outcome {
    let base = count()?;
    let out = secns(&[
        "run",
        "--setup",
        "/tests/secns-vmtest --info; echo \"pending=$SECNS_PENDING_ID\"",
        "--setup",
        "test \"$(cat /sys/kernel/security/secns/count)\" -gt 0",
        "--",
        "/tests/secns-vmtest",
        "--info",
    ])?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!("exit {}: {t:?} {:?}", out.status, text(&out.stderr))
    })?;
    let lines: Vec<&str> = t.lines().collect();
    // The setup command: still in the initial namespace, nothing pending of
    // its own (not inherited), the pending id in its environment.
    let [setup_info, pending, program_info] = lines[..] else {
        return Err(format!("output {t:?}"));
    };
    let id = pending.strip_prefix("pending=").unwrap_or("");
    check(
        setup_info == "0 0 0 0 0" && !id.is_empty() && id != "0",
        || format!("setup saw {setup_info:?}, {pending:?}"),
    )?;
    // PROGRAM: in the new namespace, depth 1, nothing pending.
    check(program_info == format!("{id} 0 0 1 0"), || {
        format!("PROGRAM saw {program_info:?}, expected namespace {id}")
    })?;
    back_to(base)
}

fn failing_setup() -> Outcome {
    let base = count()?;
    let _ = std::fs::remove_file("/tmp/program-ran");
    let out = secns(&[
        "run",
        "--setup",
        "true",
        "--setup",
        "exit 3",
        "--",
        "/bin/touch",
        "/tmp/program-ran",
    ])?;
    let e = text(&out.stderr);
    check(out.status.code() == Some(125), || {
        format!("exit {}", out.status)
    })?;
    check(
        e.contains("setup command 2 (\"exit 3\") failed")
            && e.contains("the pending namespace was dropped"),
        || format!("stderr {e:?}"),
    )?;
    check(!std::path::Path::new("/tmp/program-ran").exists(), || {
        "PROGRAM ran after a failed setup".into()
    })?;
    back_to(base)
}

fn exec_errors() -> Outcome {
    let base = count()?;
    let out = secns(&["run", "--", "/no/such/program"])?;
    check(out.status.code() == Some(127), || {
        format!("not found: exit {}", out.status)
    })?;
    let out = secns(&["run", "--", "/proc/self/status"])?;
    check(out.status.code() == Some(126), || {
        format!("not executable: exit {}", out.status)
    })?;
    back_to(base)
}

fn limit_message() -> Outcome {
    let _restore = sys::Limit::save("maxnsdepth")?;
    let out = secns(&["limits", "--maxnsdepth", "0"])?;
    check(out.status.success(), || {
        format!("limits: exit {}", out.status)
    })?;
    let out = secns(&["run", "--", "/bin/true"])?;
    let e = text(&out.stderr);
    check(out.status.code() == Some(125), || {
        format!("exit {}", out.status)
    })?;
    check(
        e.contains("limit reached: the namespace would have depth 1, above maxnsdepth 0 (ENOSPC)"),
        || format!("stderr {e:?}"),
    )
}

fn limits() -> Outcome {
    let _a = sys::Limit::save("maxns")?;
    let _b = sys::Limit::save("maxnsdepth")?;
    let out = secns(&["limits", "--maxns", "77", "--maxnsdepth", "5"])?;
    let t = text(&out.stdout);
    check(
        out.status.success() && t.contains("maxns       77") && t.contains("maxnsdepth  5"),
        || format!("exit {}: {t:?}", out.status),
    )?;
    // Out of range: refused by the command before anything is written.
    let out = secns(&["limits", "--maxns", "9", "--maxnsdepth", "33"])?;
    check(out.status.code() == Some(2), || {
        format!("maxnsdepth 33: exit {}", out.status)
    })?;
    let maxns = std::fs::read_to_string("/sys/kernel/security/secns/maxns");
    check(maxns.is_ok_and(|s| s.trim() == "77"), || {
        "maxns changed by a refused command".into()
    })?;
    // Without CAP_MAC_ADMIN, in a child that drops it first.
    let out = Command::new("/bin/sh")
        .args([
            "-c",
            "exec /tests/secns-vmtest --drop-cap-mac-admin /bin/secns limits --maxns 5",
        ])
        .output()
        .map_err(|e| format!("sh: {e}"))?;
    let e = text(&out.stderr);
    check(
        out.status.code() == Some(1)
            && e.contains("CAP_MAC_ADMIN in the initial user namespace is needed"),
        || format!("without CAP_MAC_ADMIN: exit {}, {e:?}", out.status),
    )
}

fn man_pages() -> Outcome {
    for page in [
        "secns.1",
        "secns-run.1",
        "secns-join.1",
        "secns-status.1",
        "secns-limits.1",
    ] {
        let path = format!("/usr/share/man/man1/{page}");
        let t = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        check(t.starts_with(".ie") || t.contains(".TH"), || {
            format!("{path} is not roff")
        })?;
    }
    Ok(())
}

/// `secns-vmtest --drop-cap-mac-admin PROGRAM ARGS...`: drops
/// CAP_MAC_ADMIN from every set, then executes PROGRAM.
pub fn drop_cap_and_exec(args: &[String]) -> std::process::ExitCode {
    use std::os::unix::process::CommandExt;
    if let Err(e) = sys::drop_cap_everywhere(sys::CAP_MAC_ADMIN) {
        eprintln!("capset: errno {e}");
        return std::process::ExitCode::FAILURE;
    }
    let Some((prog, rest)) = args.split_first() else {
        return std::process::ExitCode::from(2);
    };
    let e = Command::new(prog).args(rest).exec();
    eprintln!("{prog}: {e}");
    std::process::ExitCode::FAILURE
}

fn crate_example() -> Outcome {
    let base = count()?;
    let out = Command::new("/bin/two-phase")
        .args(["/tests/secns-vmtest", "--info"])
        .output()
        .map_err(|e| format!("two-phase: {e}"))?;
    let t = text(&out.stdout);
    let lines: Vec<&str> = t.lines().collect();
    let [pending, configuring, entered, info] = lines[..] else {
        return Err(format!("output {t:?} {:?}", text(&out.stderr)));
    };
    let id = pending.strip_prefix("pending namespace ").unwrap_or("?");
    check(
        out.status.success()
            && configuring == format!("configuring {id}")
            && entered == format!("entered namespace {id} at depth 1")
            && info == format!("{id} 0 0 1 0"),
        || format!("output {t:?}"),
    )?;
    back_to(base)
}

/// A process in a security namespace of its own (`secns run`), alive until
/// [`Target::release`] or until dropped (then killed).
struct Target {
    child: Child,
    /// What `secns-vmtest --info` printed in its namespace:
    /// "ID PARENT_ID PENDING_ID DEPTH FLAGS".
    info: String,
}

impl Target {
    /// Starts `secns run -- sh`, whose shell prints its namespace (a child
    /// of the caller's) and then waits for the end of its stdin, with the
    /// same pid as the `secns run` started.
    fn start() -> Result<Self, String> {
        let mut child = Command::new(SECNS)
            .args([
                "run",
                "--",
                "/bin/sh",
                "-c",
                "/tests/secns-vmtest --info && exec cat >/dev/null",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("secns run: {e}"))?;
        let mut info = String::new();
        let read = match child.stdout.take() {
            Some(out) => BufReader::new(out).read_line(&mut info),
            None => Ok(0),
        };
        let mut t = Target {
            child,
            info: info.trim_end().to_string(),
        };
        if !matches!(read, Ok(n) if n > 0) {
            let status = t.child.wait().map_err(|e| e.to_string())?;
            return Err(format!("the target ended ({status}) before it was ready"));
        }
        check(t.field(0)? != 0 && t.field(2)? == 0, || {
            format!("the target is not in a namespace of its own: {:?}", t.info)
        })?;
        Ok(t)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Field `n` of [`Target::info`].
    fn field(&self, n: usize) -> Result<u64, String> {
        self.info
            .split(' ')
            .nth(n)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("field {n} of {:?}", self.info))
    }

    /// Ends its stdin and waits for it to exit.
    fn release(mut self) -> Outcome {
        drop(self.child.stdin.take());
        let status = self.child.wait().map_err(|e| e.to_string())?;
        check(status.success(), || format!("target: {status}"))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn join_runs_in_the_namespace() -> Outcome {
    let base = count()?;
    let target = Target::start()?;
    let pid = target.pid().to_string();
    let with_target = count()?;
    check(with_target == base + 1, || {
        format!("count {with_target} with the target, baseline {base}")
    })?;

    // The joined program is where the target is: the same id, parent and
    // depth, nothing pending.
    let out = secns(&["join", "--pid", &pid, "--", "/tests/secns-vmtest", "--info"])?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!("join: exit {}: {t:?} {:?}", out.status, text(&out.stderr))
    })?;
    check(t.trim_end() == target.info, || {
        format!("joined program: {t:?}, target: {:?}", target.info)
    })?;

    // secns status in it: the same, and the count read from inside the
    // namespace is unchanged: the join created no namespace.
    let out = secns(&["join", "--pid", &pid, "--", SECNS, "status", "--json"])?;
    let j = text(&out.stdout);
    check(out.status.success(), || {
        format!(
            "join status: exit {}: {j:?} {:?}",
            out.status,
            text(&out.stderr)
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&j).map_err(|e| format!("status --json {j:?}: {e}"))?;
    let (id, parent, depth) = (target.field(0)?, target.field(1)?, target.field(3)?);
    check(
        v["namespace"]["id"] == id
            && v["namespace"]["parent_id"] == parent
            && v["namespace"]["depth"] == depth
            && v["pending_id"].is_null(),
        || format!("joined secns status {j:?}, target {:?}", target.info),
    )?;
    check(v["limits"]["count"] == with_target, || {
        format!(
            "count {} in the joined program, {with_target} before",
            v["limits"]["count"]
        )
    })?;
    let now = count()?;
    check(now == with_target, || {
        format!("count {now} after the joins, {with_target} before")
    })?;
    target.release()?;
    back_to(base)
}

/// `secns-vmtest --info` after a refused join must not have run: the
/// output is empty, the exit status 125, and stderr has `want`.
fn refused(what: &str, out: &Output, want: &[&str]) -> Outcome {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    check(
        out.status.code() == Some(125) && o.is_empty() && want.iter().all(|w| e.contains(w)),
        || {
            format!(
                "{what}: exit {}, stdout {o:?}, stderr {e:?}, expected {want:?}",
                out.status
            )
        },
    )
}

const JOIN_FAILED: &str = "joining a security namespace (LSM_ATTR_UNSHARE, SECNS_JOIN) failed";

fn join_refusals() -> Outcome {
    let base = count()?;
    // pid_max is above every pid.
    let pid_max =
        std::fs::read_to_string("/proc/sys/kernel/pid_max").map_err(|e| format!("pid_max: {e}"))?;
    let pid_max = pid_max.trim();
    let out = secns(&[
        "join",
        "--pid",
        pid_max,
        "--",
        "/tests/secns-vmtest",
        "--info",
    ])?;
    refused(
        "no such pid",
        &out,
        &[
            &format!("secns: pid {pid_max}: opening a pidfd of the process (pidfd_open) failed"),
            "there is no process with this pid (ESRCH)",
        ],
    )?;

    // Upward: from a namespace into the initial one, where this program is.
    let me = sys::secns_info()?;
    check(me.id == 0, || {
        format!("the tests run in namespace {}", me.id)
    })?;
    let my_pid = std::process::id().to_string();
    let out = secns(&[
        "run",
        "--",
        SECNS,
        "join",
        "--pid",
        &my_pid,
        "--",
        "/tests/secns-vmtest",
        "--info",
    ])?;
    refused(
        "upward",
        &out,
        &[JOIN_FAILED, "upward or sideways", "(EPERM)"],
    )?;

    // Sideways: from one child of the initial namespace into another.
    let target = Target::start()?;
    let pid = target.pid().to_string();
    let out = secns(&[
        "run",
        "--",
        SECNS,
        "join",
        "--pid",
        &pid,
        "--",
        "/tests/secns-vmtest",
        "--info",
    ])?;
    refused("sideways", &out, &[JOIN_FAILED, "(EPERM)"])?;
    // Downward from the same place works: the refusals were the kernel's.
    let out = secns(&["join", "--pid", &pid, "--", "/tests/secns-vmtest", "--info"])?;
    check(
        out.status.success() && text(&out.stdout).trim_end() == target.info,
        || format!("downward: exit {}, {:?}", out.status, text(&out.stdout)),
    )?;
    target.release()?;
    back_to(base)
}

fn join_without_cap() -> Outcome {
    let base = count()?;
    let target = Target::start()?;
    let pid = target.pid().to_string();
    let out = Command::new("/tests/secns-vmtest")
        .args([
            "--drop-cap-mac-admin",
            SECNS,
            "join",
            "--pid",
            &pid,
            "--",
            "/tests/secns-vmtest",
            "--info",
        ])
        .output()
        .map_err(|e| format!("secns-vmtest --drop-cap-mac-admin: {e}"))?;
    refused(
        "without CAP_MAC_ADMIN",
        &out,
        &[JOIN_FAILED, "lacks CAP_MAC_ADMIN", "(EPERM)"],
    )?;
    target.release()?;
    back_to(base)
}

/// Fails unless `r` is `Op::Join`'s `errno`.
fn join_errno(what: &str, r: secns::Result<()>, errno: i32) -> Outcome {
    match r {
        Err(e) if e.op() == secns::Op::Join && e.errno() == errno => Ok(()),
        Err(e) => Err(format!("{what}: {e}, expected errno {errno}")),
        Ok(()) => Err(format!("{what}: joined, expected errno {errno}")),
    }
}

fn pidfd(pid: u32) -> Result<std::os::fd::OwnedFd, String> {
    let p = libc::pid_t::try_from(pid).map_err(|e| e.to_string())?;
    secns::sys::pidfd_open(p).map_err(|e| format!("pidfd_open({pid}): errno {e}"))
}

fn crate_join() -> Outcome {
    let base = count()?;
    let target = Target::start()?;
    let (id, parent, depth) = (target.field(0)?, target.field(1)?, target.field(3)?);
    let fd = pidfd(target.pid())?;
    in_child(|| {
        // Not a pidfd.
        let null = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
        join_errno("/dev/null", secns::join(null.as_fd()), libc::EBADF)?;
        // A pidfd of a process that is gone (reaped).
        let mut gone = Command::new("/bin/sleep")
            .arg("1000")
            .spawn()
            .map_err(|e| format!("sleep: {e}"))?;
        let gone_fd = pidfd(gone.id())?;
        let _ = gone.kill();
        let _ = gone.wait();
        join_errno("exited process", secns::join(gone_fd.as_fd()), libc::ESRCH)?;
        check(secns::status().map_err(|e| e.to_string())?.id == 0, || {
            "a refused join changed the namespace".into()
        })?;

        // The target's namespace, a child of ours.
        secns::join(fd.as_fd()).map_err(|e| format!("join: {e}"))?;
        let i = secns::status().map_err(|e| e.to_string())?;
        check(
            (i.id, i.parent_id, u64::from(i.depth), i.pending_id) == (id, parent, depth, None),
            || format!("after join: {i:?}, target {:?}", target.info),
        )?;
        // Our own namespace again: allowed, nothing changes.
        secns::join(fd.as_fd()).map_err(|e| format!("join of our own namespace: {e}"))?;
        check(secns::status().map_err(|e| e.to_string())?.id == id, || {
            "joining our own namespace changed it".into()
        })?;
        // Back up to the parent (in the initial namespace): refused.
        // SAFETY: getppid cannot fail.
        let ppid = unsafe { libc::getppid() };
        let parent_fd = pidfd(u32::try_from(ppid).map_err(|e| e.to_string())?)?;
        join_errno("upward", secns::join(parent_fd.as_fd()), libc::EPERM)?;
        // With a pending namespace: EBUSY, before anything else.
        let pending = secns::init().map_err(|e| format!("init: {e}"))?;
        join_errno(
            "with a pending namespace",
            secns::join(fd.as_fd()),
            libc::EBUSY,
        )?;
        let i = secns::status().map_err(|e| e.to_string())?;
        check(i.id == id && i.pending_id == Some(pending), || {
            format!("after the refused joins: {i:?}")
        })?;
        secns::abort().map_err(|e| format!("abort: {e}"))
    })?;
    drop(fd);
    target.release()?;
    back_to(base)
}

/// INIT, then `lose_caps` (which takes every capability away), then enter:
/// the caller is in exactly the namespace that was pending.
fn enter_after(lose_caps: impl FnOnce() -> Outcome) -> Outcome {
    in_child(|| {
        let pending = secns::init().map_err(|e| format!("init: {e}"))?;
        lose_caps()?;
        secns::unshare().map_err(|e| format!("entering without capabilities: {e}"))?;
        let i = secns::status().map_err(|e| e.to_string())?;
        check(
            (i.id, i.parent_id, i.depth, i.pending_id) == (pending, 0, 1, None),
            || format!("after entering pending namespace {pending}: {i:?}"),
        )?;
        // Nothing is pending now: a one-shot enter needs CAP_MAC_ADMIN.
        match secns::unshare() {
            Err(e) if e.errno() == libc::EPERM => {}
            other => return Err(format!("one-shot enter without capabilities: {other:?}")),
        }
        check(
            secns::status().map_err(|e| e.to_string())?.id == pending,
            || "a refused enter changed the namespace".into(),
        )
    })
}

fn enter_without_caps() -> Outcome {
    enter_after(sys::drop_all_caps)
}

fn enter_as_another_user() -> Outcome {
    enter_after(|| {
        // SAFETY: setresuid takes three integers.
        if unsafe { libc::setresuid(1000, 1000, 1000) } != 0 {
            return Err(format!("setresuid(1000): errno {}", sys::errno()));
        }
        // Leaving uid 0 took the permitted and effective sets.
        let sets = sys::caps().map_err(|e| format!("capget: errno {e}"))?;
        check(sets[0] == 0 && sets[1] == 0, || {
            format!("capabilities after setresuid(1000): {sets:#x?}")
        })?;
        sys::drop_all_caps()
    })
}

fn no_caps_no_one_shot() -> Outcome {
    in_child(|| {
        // SAFETY: getppid cannot fail.
        let ppid = unsafe { libc::getppid() };
        // Our parent is in our namespace: with CAP_MAC_ADMIN the join
        // would be allowed (see crate_join).
        let parent_fd = pidfd(u32::try_from(ppid).map_err(|e| e.to_string())?)?;
        sys::drop_all_caps()?;
        match secns::unshare() {
            Err(e) if e.errno() == libc::EPERM => {}
            other => return Err(format!("one-shot enter without capabilities: {other:?}")),
        }
        match secns::init() {
            Err(e) if e.errno() == libc::EPERM => {}
            other => return Err(format!("init without capabilities: {other:?}")),
        }
        join_errno(
            "join without capabilities",
            secns::join(parent_fd.as_fd()),
            libc::EPERM,
        )?;
        let i = secns::status().map_err(|e| e.to_string())?;
        check(i.id == 0 && i.pending_id.is_none(), || {
            format!("refused calls changed the namespaces: {i:?}")
        })
    })
}
