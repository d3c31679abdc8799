//! secns-runtime, the OCI runtime, end to end: real bundles (a busybox
//! root file system and a config.json from `secns-runtime spec`), the
//! lifecycle a container engine drives (create, state, start, exec, kill,
//! delete), and what each promises: the container's root cannot set the
//! clock or open the file its policy denies, a process started with `exec`
//! is under the same rules, a second container has its own namespace and
//! rules, the workload never holds the CAP_MAC_ADMIN the runtime added,
//! and after `delete` nothing is left. `create` refuses what it cannot do
//! with a message that says why, and leaves nothing behind.
//!
//! The containers' programs print what the kernel answered (`secns-vmtest
//! --probe`, copied into each root file system): `ok` or `errno N`.
//!
//! The VM's root is its initramfs, which pivot_root(2) cannot leave, so
//! the containers are made with `--no-pivot` (as containerd's `NoPivotRoot`
//! option does for diskless hosts); everything else is what a node runs.

use crate::policy::{answer, errno, expect, lines, sh, sh_ok};
use crate::sys::{self, count};
use crate::tap::{check, Outcome, Test};
use std::path::Path;
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test {
        name: "secns-runtime create: the init waits with a pending namespace that has the container's policy, its id in state's annotations, CAP_MAC_ADMIN already dropped",
        run: create,
    },
    Test {
        name: "secns-runtime start: the workload runs in that namespace; its root cannot set the clock or open the denied file, nor create a namespace",
        run: start,
    },
    Test {
        name: "secns-runtime exec: a second process joins the container's namespace and is under the same rules (command line and --process file)",
        run: exec,
    },
    Test {
        name: "secns-runtime: a second container has its own namespace and its own rules; one without a policy is not restricted; run waits and deletes",
        run: second,
    },
    Test {
        name: "secns-runtime kill, delete: the namespaces, their rules and the count go back; no state, cgroup or runtime file is left",
        run: delete,
    },
    Test {
        name: "secns-runtime create: a missing policy, a bad one, a detached engine, maxns reached: refused with a message that says why, nothing left; seccomp profiles (refusing by default, without the LSM calls; without noNewPrivileges) judge the workload and exec, not the secns steps",
        run: refused,
    },
];

const RUNTIME: &str = "/bin/secns-runtime";
const POLICY: &str = "/bin/secns-policy";
/// The runtime's state directory in these tests.
const ROOT: &str = "/tmp/secns-runtime";
/// The policy of container `web`: no clock, no `/etc/secret`.
const WEB_POLICY: &str = "/tmp/rt-web.toml";
/// Capabilities, as bits of /proc's Cap* lines: the one the specs grant,
/// and those the runtime lends for its steps.
const CAP_SYS_TIME: u32 = 25;
const LENT: [u32; 4] = [33, 19, 21, 8];

/// What each container's program prints, then it sleeps as the
/// container's init for `exec` to join it.
const PROBES: &str = "echo \"info $(secns-vmtest --info)\"; \
    echo \"clock $(secns-vmtest --probe settime)\"; \
    echo \"secret $(secns-vmtest --probe open /etc/secret)\"; \
    echo \"public $(secns-vmtest --probe open /etc/public)\"; \
    echo \"init $(secns-vmtest --probe init)\"; \
    grep ^Cap /proc/self/status";

fn runtime(args: &str) -> Result<std::process::Output, String> {
    sh(&format!("{RUNTIME} --root {ROOT} {args}"))
}

fn runtime_ok(args: &str) -> Result<String, String> {
    sh_ok(&format!("{RUNTIME} --root {ROOT} {args}"))
}

/// Mounts cgroup v2 where libcontainer looks for it, as a node has it,
/// and makes this program the reaper of the containers' inits: as a
/// container engine's shim is, so that an init that exits is reaped (a
/// zombie keeps its namespace).
fn host() -> Outcome {
    if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        sh_ok("mount -t cgroup2 cgroup2 /sys/fs/cgroup")?;
    }
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes an integer argument.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    check(r == 0, || {
        format!("PR_SET_CHILD_SUBREAPER: errno {}", sys::errno())
    })
}

/// Reaps every exited child.
fn reap() {
    let mut status = 0;
    // SAFETY: `status` is valid for writes.
    while unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } > 0 {}
}

/// A bundle in `/tmp/rt-NAME`: a busybox root file system with the probe
/// program, `/etc/secret` and `/etc/public`, and the config.json of
/// `secns-runtime spec` (with `--policy` if given), changed to run
/// `script` with CAP_SYS_TIME granted.
fn bundle(name: &str, policy: Option<&str>, script: &str) -> Result<String, String> {
    let dir = format!("/tmp/rt-{name}");
    let root = format!("{dir}/rootfs");
    sh_ok(&format!(
        "rm -rf {dir} && mkdir -p {root}/bin {root}/etc {root}/proc {root}/sys {root}/dev {root}/tmp && \
         cp /bin/busybox /tests/secns-vmtest {root}/bin/ && \
         for a in sh echo grep sleep cat; do ln -s busybox {root}/bin/$a; done && \
         echo secret > {root}/etc/secret && echo public > {root}/etc/public"
    ))?;
    let policy = policy.map_or(String::new(), |p| format!(" --policy {p}"));
    runtime_ok(&format!("spec --bundle {dir}{policy}"))?;
    let path = format!("{dir}/config.json");
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut spec: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let process = &mut spec["process"];
    process["args"] = serde_json::json!(["/bin/sh", "-c", script]);
    process["terminal"] = false.into();
    for set in ["bounding", "effective", "permitted"] {
        let Some(caps) = process["capabilities"][set].as_array_mut() else {
            return Err(format!("spec has no {set} capabilities: {json}"));
        };
        caps.push("CAP_SYS_TIME".into());
    }
    std::fs::write(&path, spec.to_string()).map_err(|e| format!("{path}: {e}"))?;
    Ok(dir)
}

/// Changes the bundle's config.json with `f`.
fn edit_spec(dir: &str, f: impl FnOnce(&mut serde_json::Value)) -> Outcome {
    let path = format!("{dir}/config.json");
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut spec: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    f(&mut spec);
    std::fs::write(&path, spec.to_string()).map_err(|e| format!("{path}: {e}"))
}

/// Gives the bundle's config.json the seccomp profile `profile`.
fn set_seccomp(dir: &str, profile: serde_json::Value) -> Outcome {
    edit_spec(dir, |spec| spec["linux"]["seccomp"] = profile)
}

/// The container's output so far (its stdout and stderr, which `create`
/// passed on to its init, go to `DIR/out`).
fn output(dir: &str) -> String {
    std::fs::read_to_string(format!("{dir}/out")).unwrap_or_default()
}

/// Waits up to 60 s for the container's output to have a line `line`.
fn wait_for(dir: &str, line: &str) -> Result<Vec<String>, String> {
    let start = Instant::now();
    loop {
        let out = lines(&output(dir));
        if out.iter().any(|l| l == line) {
            return Ok(out);
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("no {line:?} from the container: {out:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `secns-runtime create`, its init's output to `DIR/out`.
fn create_container(id: &str, dir: &str) -> Result<std::process::Output, String> {
    runtime(&format!(
        "create --no-pivot --bundle {dir} {id} >{dir}/out 2>&1"
    ))
}

/// The state of container `id`, as JSON.
fn state(id: &str) -> Result<serde_json::Value, String> {
    let t = runtime_ok(&format!("state {id}"))?;
    serde_json::from_str(&t).map_err(|e| format!("state {id}: {e}: {t:?}"))
}

/// The namespace `state` reports for container `id`.
fn ns_of(id: &str) -> Result<u64, String> {
    let s = state(id)?;
    s["annotations"]["run.secns.id"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no run.secns.id in the state of {id}: {s}"))
}

/// What the engine shows of namespace `ns` (`null` if it knows none).
fn shown(ns: u64) -> Result<serde_json::Value, String> {
    let t = sh_ok(&format!("{POLICY} show --json --ns {ns}"))?;
    let v: serde_json::Value = serde_json::from_str(&t).map_err(|e| format!("{e}: {t:?}"))?;
    Ok(v["namespaces"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["id"] == ns).cloned())
        .unwrap_or(serde_json::Value::Null))
}

/// The `info` line of a container's probes (`secns-vmtest --info`: id,
/// parent, pending, depth, flags), checked to name namespace `ns`.
fn in_namespace<'a>(out: &'a [String], ns: u64, whose: &str) -> Result<&'a str, String> {
    let info = answer(out, "info")?;
    check(info.split(' ').next() == Some(&ns.to_string()), || {
        format!("{whose} is in {info:?}, not namespace {ns}")
    })?;
    Ok(info)
}

/// The capability sets in /proc's `Cap*` lines that have `bit`.
fn sets_with(status: &[String], bit: u32) -> Vec<String> {
    status
        .iter()
        .filter_map(|l| {
            let (name, hex) = l.split_once(':')?;
            let caps = u64::from_str_radix(hex.trim(), 16).ok()?;
            (name.starts_with("Cap") && caps & (1 << bit) != 0).then(|| name.to_string())
        })
        .collect()
}

/// No set in `status` has CAP_MAC_ADMIN, CAP_SYS_PTRACE, CAP_SYS_ADMIN or
/// CAP_SETPCAP (what the runtime lends), and `CapEff` has CAP_SYS_TIME
/// (the spec's).
fn spec_caps_only(status: &[String], whose: &str) -> Outcome {
    let caps: Vec<&String> = status.iter().filter(|l| l.starts_with("Cap")).collect();
    check(caps.len() == 5, || {
        format!("{whose}: no Cap lines in {status:?}")
    })?;
    for bit in LENT {
        let sets = sets_with(status, bit);
        check(sets.is_empty(), || {
            format!("{whose} holds capability {bit} in {sets:?}: {caps:?}")
        })?;
    }
    let sets = sets_with(status, CAP_SYS_TIME);
    check(sets.iter().any(|s| s == "CapEff"), || {
        format!("{whose} lacks the spec's CAP_SYS_TIME: {caps:?}")
    })
}

fn create() -> Outcome {
    host()?;
    let _ = sh(&format!("{RUNTIME} --root {ROOT} delete --force web"));
    std::fs::write(
        WEB_POLICY,
        "deny-capabilities = [\"CAP_SYS_TIME\"]\ndeny-open = [\"/tmp/rt-web/rootfs/etc/secret\"]\n",
    )
    .map_err(|e| e.to_string())?;
    let dir = bundle(
        "web",
        Some(WEB_POLICY),
        &format!("{PROBES}; echo ready; exec sleep 1000"),
    )?;
    let base = count()?;
    let out = create_container("web", &dir)?;
    check(out.status.success(), || {
        format!("create: {}: {:?}", out.status, output(&dir))
    })?;
    let s = state("web")?;
    check(s["status"] == "created", || format!("state: {s}"))?;
    check(s["bundle"] == dir.as_str(), || {
        format!("state's bundle is not the user's {dir}: {s}")
    })?;
    check(s["annotations"]["run.secns.policy"] == WEB_POLICY, || {
        format!("state: {s}")
    })?;
    let ns = ns_of("web")?;
    check(count()? == base + 1, || {
        "the count did not grow by one".into()
    })?;
    let seen = shown(ns)?;
    check(
        seen["state"] == "pending"
            && seen["rules"]["deny-capabilities"][0] == "CAP_SYS_TIME"
            && seen["rules"]["deny-open"].as_array().map(Vec::len) == Some(1),
        || format!("namespace {ns} in the engine: {seen}"),
    )?;
    let pid = s["pid"].as_u64().ok_or_else(|| format!("no pid: {s}"))?;
    check(seen["creator"] == pid, || {
        format!(
            "the engine says {} created {ns}, not the init {pid}",
            seen["creator"]
        )
    })?;
    // The init has not executed the workload yet, and holds no more
    // than its spec gives it.
    let status = lines(&sh_ok(&format!("grep ^Cap /proc/{pid}/status"))?);
    spec_caps_only(&status, "the waiting init")?;
    check(!output(&dir).contains("ready"), || {
        format!("the workload ran before start: {:?}", output(&dir))
    })
}

fn start() -> Outcome {
    let ns = ns_of("web")?;
    runtime_ok("start web")?;
    let out = wait_for("/tmp/rt-web", "ready")?;
    let info = in_namespace(&out, ns, "the workload")?;
    check(info.split(' ').nth(2) == Some("0"), || {
        format!("the workload has a pending namespace: {info:?}")
    })?;
    expect(&out, "clock", &errno(libc::EPERM))?;
    expect(&out, "secret", &errno(libc::EACCES))?;
    expect(&out, "public", "ok")?;
    expect(&out, "init", &errno(libc::EPERM))?;
    spec_caps_only(&out, "the workload")?;
    let s = state("web")?;
    check(s["status"] == "running", || format!("state: {s}"))?;
    let seen = shown(ns)?;
    check(seen["state"] == "entered", || {
        format!("namespace {ns} in the engine: {seen}")
    })
}

fn exec() -> Outcome {
    let ns = ns_of("web")?;
    let base = count()?;
    let t = runtime_ok(&format!(
        "exec web /bin/sh -c '{}'",
        PROBES.replace('\'', "")
    ))?;
    let out = lines(&t);
    in_namespace(&out, ns, "exec's process")?;
    expect(&out, "clock", &errno(libc::EPERM))?;
    expect(&out, "secret", &errno(libc::EACCES))?;
    expect(&out, "public", "ok")?;
    expect(&out, "init", &errno(libc::EPERM))?;
    spec_caps_only(&out, "exec's process")?;
    // containerd's shim passes the process as a file (--process), here
    // with fewer capabilities than the init has.
    let file = "/tmp/rt-web/process.json";
    let process = serde_json::json!({
        "args": ["/bin/secns-vmtest", "--probe", "open", "/etc/secret"],
        "cwd": "/",
        "env": ["PATH=/bin"],
        "user": {"uid": 0, "gid": 0},
        "capabilities": {
            "bounding": ["CAP_SYS_TIME", "CAP_KILL"],
            "effective": ["CAP_SYS_TIME", "CAP_KILL"],
            "permitted": ["CAP_SYS_TIME", "CAP_KILL"]
        },
        "noNewPrivileges": true
    });
    std::fs::write(file, process.to_string()).map_err(|e| e.to_string())?;
    let t = runtime_ok(&format!("exec --process {file} web"))?;
    check(t.trim() == errno(libc::EACCES), || {
        format!("exec --process: {t:?}, expected {}", errno(libc::EACCES))
    })?;
    // As another user than the init's: joining needs no ptrace access of
    // the process's own (the runtime lends it CAP_SYS_PTRACE for the join).
    let t = runtime_ok("exec --user 1000:1000 web /bin/sh -c \
        'echo \"info $(secns-vmtest --info)\"; echo \"secret $(secns-vmtest --probe open /etc/secret)\"'")?;
    let out = lines(&t);
    in_namespace(&out, ns, "exec --user's process")?;
    expect(&out, "secret", &errno(libc::EACCES))?;
    // The exit status is the process's.
    let out = runtime("exec web /bin/sh -c 'exit 7'")?;
    check(out.status.code() == Some(7), || {
        format!("exec's exit status: {}", out.status)
    })?;
    // No namespace was made for them.
    check(count()? == base, || "exec changed the count".into())
}

fn second() -> Outcome {
    let web = ns_of("web")?;
    let policy = "/tmp/rt-db.toml";
    std::fs::write(policy, "deny-open = [\"/tmp/rt-db/rootfs/etc/public\"]\n")
        .map_err(|e| e.to_string())?;
    let script = format!("{PROBES}; echo ready; exec sleep 1000");
    let dir = bundle("db", Some(policy), &script)?;
    let out = create_container("db", &dir)?;
    check(out.status.success(), || {
        format!("create db: {}: {:?}", out.status, output(&dir))
    })?;
    let db = ns_of("db")?;
    check(db != web, || format!("db and web share namespace {db}"))?;
    runtime_ok("start db")?;
    let out = wait_for(&dir, "ready")?;
    in_namespace(&out, db, "db's workload")?;
    // Its own rules: the clock is allowed, its public file is not.
    expect(&out, "clock", "ok")?;
    expect(&out, "secret", "ok")?;
    expect(&out, "public", &errno(libc::EACCES))?;
    // Without a policy: a namespace of its own, nothing refused.
    let dir = bundle("plain", None, &format!("{PROBES}; echo ready"))?;
    let out = create_container("plain", &dir)?;
    check(out.status.success(), || {
        format!("create plain: {}: {:?}", out.status, output(&dir))
    })?;
    let plain = ns_of("plain")?;
    check(plain != web && plain != db, || {
        format!("plain shares namespace {plain}")
    })?;
    check(
        shown(plain)?.get("rules").is_none_or(|r| r.is_null()),
        || format!("plain has rules: {}", shown(plain).unwrap_or_default()),
    )?;
    runtime_ok("start plain")?;
    let out = wait_for(&dir, "ready")?;
    expect(&out, "clock", "ok")?;
    expect(&out, "secret", "ok")?;
    expect(&out, "init", &errno(libc::EPERM))?;
    // run: create, start, wait, delete, with the workload's exit status.
    let once = "/tmp/rt-once.toml";
    std::fs::write(once, "deny-open = [\"/tmp/rt-once/rootfs/etc/public\"]\n")
        .map_err(|e| e.to_string())?;
    let dir = bundle("once", Some(once), &format!("{PROBES}; exit 3"))?;
    let out = runtime(&format!(
        "run --no-pivot --bundle {dir} once >{dir}/out 2>&1"
    ))?;
    check(out.status.code() == Some(3), || {
        format!(
            "run: {}, expected exit status 3: {:?}",
            out.status,
            output(&dir)
        )
    })?;
    let out = lines(&output(&dir));
    let info = answer(&out, "info")?;
    check(
        !["0", &web.to_string(), &db.to_string(), &plain.to_string()]
            .contains(&info.split(' ').next().unwrap_or("0")),
        || format!("run's workload is in {info:?}"),
    )?;
    expect(&out, "public", &errno(libc::EACCES))?;
    let gone = runtime("state once")?;
    check(!gone.status.success(), || "run left container once".into())
}

/// Waits up to 10 s for `cond`.
fn eventually(what: &str, mut cond: impl FnMut() -> Result<bool, String>) -> Outcome {
    let start = Instant::now();
    loop {
        reap();
        if cond()? {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("after 10 s: {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Nothing of the runtime's is left: no container in `list`, no file in
/// its state directory, no cgroup of a container.
fn nothing_left() -> Outcome {
    let t = runtime_ok("list --quiet")?;
    check(t.trim().is_empty(), || format!("list: {t:?}"))?;
    let left: Vec<String> = std::fs::read_dir(ROOT)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    check(left.is_empty(), || format!("{ROOT} still has {left:?}"))?;
    let cgroups = sh_ok("find /sys/fs/cgroup -mindepth 1 -type d")?;
    check(cgroups.trim().is_empty(), || {
        format!("cgroups left: {cgroups:?}")
    })
}

fn delete() -> Outcome {
    let ids = ["web", "db", "plain"];
    let mut namespaces = Vec::new();
    for id in ids {
        namespaces.push(ns_of(id)?);
    }
    let live = count()?;
    runtime_ok("kill web KILL")?;
    runtime_ok("kill db KILL")?;
    eventually("web and db stopped", || {
        Ok(state("web")?["status"] == "stopped" && state("db")?["status"] == "stopped")
    })?;
    // plain's workload ended by itself.
    eventually("plain stopped", || {
        Ok(state("plain")?["status"] == "stopped")
    })?;
    for id in ids {
        runtime_ok(&format!("delete {id}"))?;
    }
    let out = runtime("state web")?;
    check(!out.status.success(), || "web still has a state".into())?;
    eventually("the count back by three", || Ok(count()? + 3 == live))?;
    for ns in namespaces {
        eventually(&format!("namespace {ns} out of the engine's maps"), || {
            Ok(shown(ns)?.is_null())
        })?;
    }
    nothing_left()
}

/// What busybox's sh, sleep and the probe program call: the allowlist of
/// the strict container's seccomp profile, which has no `lsm_*` call.
const ALLOWED: &[&str] = &[
    "read",
    "write",
    "open",
    "openat",
    "close",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "poll",
    "ppoll",
    "lseek",
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "ioctl",
    "pread64",
    "readv",
    "writev",
    "access",
    "faccessat",
    "faccessat2",
    "pipe",
    "pipe2",
    "mremap",
    "madvise",
    "dup",
    "dup2",
    "dup3",
    "nanosleep",
    "clock_nanosleep",
    "getpid",
    "getppid",
    "gettid",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tgkill",
    "uname",
    "fcntl",
    "getcwd",
    "chdir",
    "readlink",
    "readlinkat",
    "getuid",
    "getgid",
    "geteuid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setpgid",
    "getpgid",
    "getpgrp",
    "setsid",
    "prctl",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "futex",
    "getrandom",
    "sigaltstack",
    "sched_getaffinity",
    "sched_yield",
    "prlimit64",
    "getrlimit",
    "clock_gettime",
    "gettimeofday",
    "capget",
    "capset",
    "umask",
    "getdents64",
    "sysinfo",
    "restart_syscall",
];

/// A container with a profile that refuses by default (ENOSYS) and a
/// policy: it is created, started and joined, and its workload meets both
/// the profile (no clock, no LSM system call) and the policy (no
/// `/etc/secret`).
fn strict() -> Outcome {
    let policy = "/tmp/rt-strict.toml";
    std::fs::write(
        policy,
        "deny-open = [\"/tmp/rt-strict/rootfs/etc/secret\"]\n",
    )
    .map_err(|e| e.to_string())?;
    let script = "echo \"clock $(secns-vmtest --probe settime)\"; \
        echo \"secret $(secns-vmtest --probe open /etc/secret)\"; \
        echo \"public $(secns-vmtest --probe open /etc/public)\"; \
        echo \"init $(secns-vmtest --probe init)\"; echo ready; exec sleep 1000";
    let dir = bundle("strict", Some(policy), script)?;
    set_seccomp(
        &dir,
        serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": libc::ENOSYS,
            "syscalls": [{"names": ALLOWED, "action": "SCMP_ACT_ALLOW"}]
        }),
    )?;
    let out = create_container("strict", &dir)?;
    check(out.status.success(), || {
        format!("create strict: {}: {:?}", out.status, output(&dir))
    })?;
    let ns = ns_of("strict")?;
    runtime_ok("start strict")?;
    let out = wait_for(&dir, "ready")?;
    expect(&out, "clock", &errno(libc::ENOSYS))?;
    expect(&out, "init", &errno(libc::ENOSYS))?;
    expect(&out, "secret", &errno(libc::EACCES))?;
    expect(&out, "public", "ok")?;
    let seen = shown(ns)?;
    check(seen["state"] == "entered", || {
        format!("strict's namespace {ns} in the engine: {seen}")
    })?;
    let t = runtime_ok("exec strict /bin/secns-vmtest --probe open /etc/secret")?;
    check(t.trim() == errno(libc::EACCES), || {
        format!("exec in strict: {t:?}")
    })?;
    let t = runtime_ok("exec strict /bin/secns-vmtest --probe settime")?;
    check(t.trim() == errno(libc::ENOSYS), || {
        format!("exec in strict, the clock: {t:?}")
    })?;
    runtime_ok("kill strict KILL")?;
    eventually("strict stopped", || {
        Ok(state("strict")?["status"] == "stopped")
    })?;
    runtime_ok("delete strict").map(drop)
}

/// `create` of a container named `id` fails (exit 1) with `says` in its
/// message, and leaves nothing behind.
fn create_fails(id: &str, dir: &str, says: &str) -> Outcome {
    let base = count()?;
    let out = create_container(id, dir)?;
    let err = output(dir);
    check(out.status.code() == Some(1) && err.contains(says), || {
        format!("create {id}: {}: {err:?}, expected {says:?}", out.status)
    })?;
    check(
        err.contains(&format!("cannot create container {id}")),
        || format!("create {id}: the message does not name it: {err:?}"),
    )?;
    eventually("the count back", || Ok(count()? == base))?;
    nothing_left()
}

fn refused() -> Outcome {
    let base = count()?;
    let script = format!("{PROBES}; echo ready");
    let dir = bundle("bad", Some("/tmp/rt-no-such-policy.toml"), &script)?;
    create_fails("bad", &dir, "/tmp/rt-no-such-policy.toml")?;
    let bad = "/tmp/rt-bad.toml";
    std::fs::write(bad, "deny-capabilities = [\"CAP_NO_SUCH\"]\n").map_err(|e| e.to_string())?;
    let dir = bundle("bad", Some(bad), &script)?;
    create_fails("bad", &dir, "CAP_NO_SUCH")?;
    let dir = bundle("bad", Some("rt-web.toml"), &script)?;
    create_fails("bad", &dir, "must be an absolute path")?;

    // A profile that refuses what it does not list, and does not list the
    // LSM system calls (as Docker's and containerd's do not): the secns
    // steps are not judged by it, the workload is.
    strict()?;
    // One that allows them: the container's filter applies, and the
    // secns steps went through it. Without noNewPrivileges, so that the
    // init loads it before its capabilities are dropped, and exec's
    // process is lent CAP_SYS_ADMIN to load it.
    let dir = bundle(
        "filtered",
        None,
        &format!("{PROBES}; echo ready; exec sleep 1000"),
    )?;
    set_seccomp(
        &dir,
        serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["clock_settime"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS}
        ]}),
    )?;
    edit_spec(&dir, |spec| {
        spec["process"]["noNewPrivileges"] = false.into()
    })?;
    let out = create_container("filtered", &dir)?;
    check(out.status.success(), || {
        format!("create filtered: {}: {:?}", out.status, output(&dir))
    })?;
    let ns = ns_of("filtered")?;
    runtime_ok("start filtered")?;
    let out = wait_for(&dir, "ready")?;
    in_namespace(&out, ns, "filtered's workload")?;
    expect(&out, "clock", &errno(libc::ENOSYS))?;
    spec_caps_only(&out, "filtered's workload")?;
    // exec's process is under the container's filter too (libcontainer
    // 0.7 gives it none: the runtime loads it after the join).
    let t = runtime_ok(&format!("exec filtered /bin/sh -c '{PROBES}'"))?;
    let out = lines(&t);
    expect(&out, "clock", &errno(libc::ENOSYS))?;
    in_namespace(&out, ns, "filtered's exec")?;
    spec_caps_only(&out, "filtered's exec")?;
    runtime_ok("kill filtered KILL")?;
    eventually("filtered stopped", || {
        Ok(state("filtered")?["status"] == "stopped")
    })?;
    runtime_ok("delete filtered")?;

    // maxns reached: the init's INIT fails, and says which limit.
    let dir = bundle("full", None, &script)?;
    {
        let _limit = sys::Limit::save("maxns")?;
        sys::write_limit("maxns", count()?)?;
        create_fails("full", &dir, "ENOSPC")?;
    }

    // The engine detached: a policy is refused, before anything is made.
    let dir = bundle("bad", Some(WEB_POLICY), &script)?;
    sh_ok(&format!("{POLICY} detach"))?;
    let detached = create_fails("bad", &dir, "not attached");
    sh_ok(&format!("{POLICY} attach"))?;
    detached?;
    // And with it attached again, the same bundle works.
    let out = create_container("bad", &dir)?;
    check(out.status.success(), || {
        format!("create after attach: {}: {:?}", out.status, output(&dir))
    })?;
    runtime_ok("delete --force bad")?;
    // Every init killed here is reaped and its namespace freed before
    // this program ends: the tests after it count namespaces.
    eventually("the count back where it was", || Ok(count()? == base))?;
    nothing_left()
}
