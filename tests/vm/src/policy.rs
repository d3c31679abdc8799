//! secns-policy, the BPF LSM policy engine, end to end: each rule kind is
//! enforced in the namespace it was loaded for and in that namespace's
//! descendants, and nowhere else; the veto of nested namespaces reaches
//! UNSHARE_INIT with its errno; the rules leave the maps with the namespace;
//! and loading refuses namespaces it may not configure.
//!
//! The programs in the namespaces are `secns-vmtest --probe ...`, which
//! print what the kernel answered: `ok` or `errno N`.

use crate::sys::{self, count, LSM_ATTR_UNSHARE_INIT, SECNS_ABORT};
use crate::tap::{check, Outcome, Test};
use libbpf_rs::{Link, MapCore, MapFlags, MapHandle};
use secns_policy::rules::ABI;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, ExitCode, Output, Stdio};
use std::time::Duration;

pub const TESTS: &[Test] = &[
    Test {
        name: "secns-policy attach: the programs are attached and pinned, once",
        run: attach,
    },
    Test {
        name: "secns-policy: a refused capability is refused in the namespace and its children only",
        run: capabilities,
    },
    Test {
        name: "secns-policy: a refused file is refused in the namespace and its children only",
        run: files,
    },
    Test {
        name: "secns-policy: nested = false makes UNSHARE_INIT below it fail with its errno",
        run: nested,
    },
    Test {
        name: "secns-policy: scope = [\"signal\"] confines signals to the namespace and below, for its children too",
        run: signals,
    },
    Test {
        name: "secns-policy: a namespace's map entries go with it (secns_free), count back to baseline",
        run: dropped,
    },
    Test {
        name: "secns-policy load: refused for an unknown, entered or the initial namespace, and from inside one",
        run: load_errors,
    },
    Test {
        name: "secns-policy load: a second load replaces the rules of the pending namespace",
        run: replaced,
    },
    Test {
        name: "secns-policy load --pid: the pending namespace a process created, by the engine's record; refused for a process with none",
        run: load_by_pid,
    },
    Test {
        name: "secns-policy: root in a namespace cannot reach the engine's file system (any path, O_PATH, a bind mount), detach it, unmount or move it or a mount above it, nor take BPF objects by id",
        run: guarded,
    },
    Test {
        name: "secns-policy attach: another version replaces every program, adds its new one, keeps the rules",
        run: upgrade,
    },
    Test {
        name: "secns-policy attach, show: an engine of another layout is refused, not misread",
        run: other_layout,
    },
    Test {
        name: "secns-policy detach: refused while a namespace has rules; --force drops them; attach again works",
        run: detach,
    },
];

/// For a boot without `bpf` in `lsm=`.
pub const SECOND_BOOT_TESTS: &[Test] = &[Test {
    name: "secns-policy attach fails when bpf is not in lsm=, and says so",
    run: no_bpf_lsm,
}];

pub(crate) const POLICY: &str = "/bin/secns-policy";
pub(crate) const PROBE: &str = "/tests/secns-vmtest --probe";
/// The hooks `attach` attaches: the rules', then the guard's.
const HOOKS: [&str; 14] = [
    "capable",
    "task_kill",
    "file_receive",
    "task_secns_init",
    "task_secns_unshare",
    "secns_free",
    "bpf",
    "bpf_map",
    "inode_unlink",
    "inode_rename",
    "inode_create",
    "sb_umount",
    "move_mount",
    "sb_mount",
];
/// The hooks of file rules, attached by the first load of file rules.
const FILE_HOOKS: [&str; 4] = ["file_open", "inode_link", "file_ioctl", "file_ioctl_compat"];

/// Whether the engine's link on `hook` is pinned.
pub(crate) fn hooked(hook: &str) -> bool {
    std::path::Path::new(&format!("/sys/fs/bpf/secns-policy/link-{hook}")).exists()
}
/// `secns-vmtest --probe WHAT [PATH]`: try one operation, print the answer.
pub fn probe(args: &[String]) -> ExitCode {
    let answer = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["settime"] => settime(),
        ["open", path] => std::fs::File::open(path)
            .map(drop)
            .map_err(|e| e.raw_os_error().unwrap_or(0)),
        ["init"] => sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)
            .and_then(|()| sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT))),
        ["map-by-id"] => map_by_id(),
        ["obj-get-at", dir, name] => obj_get_at(dir, name),
        ["signal", pid] => signal(pid),
        ["link", from, to] => {
            std::fs::hard_link(from, to).map_err(|e| e.raw_os_error().unwrap_or(0))
        }
        ["recv-fd", socket] => return crate::policy_files::receive_fds(socket),
        ["join", pid] => pid
            .parse()
            .map_err(|_| libc::EINVAL)
            .and_then(|pid| secns::join_pid(pid).map_err(|e| e.errno())),
        ["join-shared", pid] => return join_shared(pid),
        ["btrfs-snapshot", v, from, dir, name] => {
            use crate::policy_files::{subvolume, Subvolume};
            match v {
                "1" => subvolume(dir, name, Subvolume::Snapshot(from)),
                _ => subvolume(dir, name, Subvolume::SnapshotV2(from, false)),
            }
        }
        ["btrfs-send", path] => crate::policy_files::send(path),
        ["btrfs-search", dir, ino, marker] => {
            match crate::policy_files::search(dir, ino, marker) {
                Ok(said) => println!("{said}"),
                Err(e) => println!("{}", errno(e)),
            }
            return ExitCode::SUCCESS;
        }
        ["join-ring", pid] => return crate::policy_files::join_ring(pid),
        ["join-mapped", pid, path] => return crate::policy_files::join_mapped(pid, path),
        ["stall-open", path] => crate::upgrade::stall_open(path),
        _ => {
            eprintln!(
                "usage: secns-vmtest --probe settime|init|map-by-id|open PATH|signal PID|\
                 link FROM TO|recv-fd SOCKET|obj-get-at DIR NAME|join PID|join-shared PID|\
                 join-ring PID|join-mapped PID PATH|btrfs-snapshot 1|2 FROM DIR NAME|\
                 btrfs-send PATH|btrfs-search DIR INO MARKER|stall-open PATH"
            );
            return ExitCode::from(2);
        }
    };
    match answer {
        Ok(()) => println!("ok"),
        Err(e) => println!("errno {e}"),
    }
    ExitCode::SUCCESS
}

/// `secns-vmtest --probe join-shared PID`: JOIN the namespace of PID while
/// a child made with `CLONE_FILES` shares the descriptor table, then again
/// after `unshare(CLONE_FILES)`; prints both answers.
fn join_shared(pid: &str) -> ExitCode {
    let Ok(pid) = pid.parse::<u32>() else {
        eprintln!("join-shared: {pid:?} is not a pid");
        return ExitCode::from(2);
    };
    let join = || crate::policy_files::join_answer(pid);
    let flags = (libc::CLONE_FILES | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: clone(2) without CLONE_VM and without a new stack is fork(2)
    // but for the shared descriptor table: the child runs on its own copy
    // of this single-threaded process and only waits to be killed.
    let child = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if child == 0 {
        loop {
            // SAFETY: pause has no preconditions.
            unsafe { libc::pause() };
        }
    }
    if child < 0 {
        println!("clone {}", errno(sys::errno()));
        return ExitCode::SUCCESS;
    }
    let shared = join();
    // SAFETY: takes a copy of the descriptor table, nothing else.
    let own = if unsafe { libc::unshare(libc::CLONE_FILES) } == 0 {
        join()
    } else {
        format!("unshare {}", errno(sys::errno()))
    };
    // SAFETY: the child made above, killed and reaped.
    unsafe {
        libc::kill(child as libc::pid_t, libc::SIGKILL);
        libc::waitpid(child as libc::pid_t, std::ptr::null_mut(), 0);
    }
    println!("shared {shared} own {own}");
    ExitCode::SUCCESS
}

/// Sets the clock to what it says: needs CAP_SYS_TIME, changes nothing.
fn settime() -> Result<(), i32> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the kernel to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) } != 0 {
        return Err(sys::errno());
    }
    // SAFETY: `now` is a valid timespec, read by the kernel.
    if unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &now) } != 0 {
        return Err(sys::errno());
    }
    Ok(())
}

/// `BPF_OBJ_GET` of `name` relative to an `O_PATH` descriptor of `dir`
/// (`BPF_F_PATH_FD`).
fn obj_get_at(dir: &str, name: &str) -> Result<(), i32> {
    const BPF_OBJ_GET: libc::c_long = 7;
    const BPF_F_PATH_FD: u32 = 1 << 14;
    let dir = std::ffi::CString::new(dir).map_err(|_| libc::EINVAL)?;
    let name = std::ffi::CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(dir.as_ptr(), libc::O_PATH | libc::O_DIRECTORY) };
    if fd < 0 {
        return Err(sys::errno());
    }
    // union bpf_attr for BPF_OBJ_GET: pathname, bpf_fd, file_flags, path_fd.
    let mut attr = [0u32; 6];
    let ptr = name.as_ptr() as u64;
    attr[0] = ptr as u32;
    attr[1] = (ptr >> 32) as u32;
    attr[3] = BPF_F_PATH_FD;
    attr[4] = fd as u32;
    // SAFETY: bpf(2) reads the 24 bytes of `attr`, whose size it is given,
    // and the NUL-terminated name it points to, alive across the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_OBJ_GET, attr.as_mut_ptr(), 24) };
    let err = sys::errno();
    // SAFETY: descriptors this function opened.
    unsafe {
        if rc >= 0 {
            libc::close(rc as i32);
        }
        libc::close(fd);
    }
    if rc < 0 {
        return Err(err);
    }
    Ok(())
}

/// Sends signal 0 to `pid`: only the permission checks, task_kill's among
/// them.
fn signal(pid: &str) -> Result<(), i32> {
    let pid: i32 = pid.parse().map_err(|_| libc::EINVAL)?;
    // SAFETY: signal 0 delivers nothing.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return Err(sys::errno());
    }
    Ok(())
}

/// Takes the first BPF map there is by its id (`BPF_MAP_GET_FD_BY_ID`).
fn map_by_id() -> Result<(), i32> {
    const BPF_MAP_GET_NEXT_ID: libc::c_long = 12;
    const BPF_MAP_GET_FD_BY_ID: libc::c_long = 14;
    // union bpf_attr for both: start_id/map_id, next_id, open_flags.
    let mut attr = [0u32; 4];
    // SAFETY: bpf(2) reads and writes the 16 bytes of `attr`, whose size
    // it is given.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_GET_NEXT_ID, attr.as_mut_ptr(), 16) };
    if rc < 0 {
        return Err(sys::errno());
    }
    attr = [attr[1], 0, 0, 0];
    // SAFETY: as above.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_GET_FD_BY_ID, attr.as_mut_ptr(), 16) };
    if fd < 0 {
        return Err(sys::errno());
    }
    // SAFETY: `fd` is a descriptor bpf(2) just gave us.
    unsafe { libc::close(fd as i32) };
    Ok(())
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn sh(script: &str) -> Result<Output, String> {
    Command::new("/bin/sh")
        .args(["-c", script])
        .output()
        .map_err(|e| format!("sh -c {script:?}: {e}"))
}

/// Runs `script` and returns its stdout, failing on a non-zero exit.
pub(crate) fn sh_ok(script: &str) -> Result<String, String> {
    let out = sh(script)?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!(
            "{script:?}: exit {}: {t:?} {:?}",
            out.status,
            text(&out.stderr)
        )
    })?;
    Ok(t)
}

fn policy(args: &str) -> Result<Output, String> {
    sh(&format!("{POLICY} {args}"))
}

/// What a probe printed, on its own line after `label `.
pub(crate) fn answer<'a>(lines: &'a [String], label: &str) -> Result<&'a str, String> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(label)?.strip_prefix(' '))
        .ok_or_else(|| format!("no {label:?} line in {lines:?}"))
}

pub(crate) fn expect(lines: &[String], label: &str, want: &str) -> Outcome {
    let got = answer(lines, label)?;
    check(got == want, || {
        format!("{label}: {got:?}, expected {want:?}")
    })
}

pub(crate) fn errno(e: i32) -> String {
    format!("errno {e}")
}

pub(crate) fn write_policy(name: &str, toml: &str) -> Result<String, String> {
    let path = format!("/tmp/policy-{name}.toml");
    std::fs::write(&path, toml).map_err(|e| format!("{path}: {e}"))?;
    Ok(path)
}

/// A `secns run` whose namespace got a policy in its setup and whose
/// program ran `script`, then waits, holding the namespace, until released.
pub(crate) struct Held {
    child: Child,
    out: BufReader<ChildStdout>,
    fifo: String,
    /// What the program printed before it waited.
    pub(crate) lines: Vec<String>,
}

impl Held {
    /// `script` prints `id ID` first (the namespace's id) for [`Held::id`].
    pub(crate) fn start(name: &str, policy_toml: &str, script: &str) -> Result<Held, String> {
        let file = write_policy(name, policy_toml)?;
        let fifo = format!("/tmp/policy-{name}.fifo");
        let _ = std::fs::remove_file(&fifo);
        sh_ok(&format!("mkfifo {fifo}"))?;
        let program = format!(
            "echo \"id $(/tests/secns-vmtest --info | cut -d' ' -f1)\"; {script}; \
             echo ready; read x < {fifo}"
        );
        let mut child = Command::new("/bin/secns")
            .args([
                "run",
                "--setup",
                &format!("{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}"),
                "--",
                "/bin/sh",
                "-c",
                &program,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("secns run: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("no stdout".into());
        };
        let mut held = Held {
            child,
            out: BufReader::new(stdout),
            fifo,
            lines: Vec::new(),
        };
        loop {
            let mut line = String::new();
            let n = held.out.read_line(&mut line).map_err(|e| e.to_string())?;
            if n == 0 {
                let status = held.child.wait().map_err(|e| e.to_string())?;
                return Err(format!(
                    "secns run ended ({status}) before its program was ready: {:?}",
                    held.lines
                ));
            }
            let line = line.trim_end().to_string();
            if line == "ready" {
                return Ok(held);
            }
            held.lines.push(line);
        }
    }

    /// The pid of `secns run`, which created the namespace and, executing
    /// the program, entered it.
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn id(&self) -> Result<u64, String> {
        answer(&self.lines, "id")?
            .parse()
            .map_err(|e| format!("id: {e}"))
    }

    /// Lets the program end and waits for it.
    pub(crate) fn release(mut self) -> Outcome {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&self.fifo)
            .and_then(|mut f| f.write_all(b"go\n"))
            .map_err(|e| format!("{}: {e}", self.fifo))?;
        let status = self.child.wait().map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&self.fifo);
        check(status.success(), || format!("secns run: {status}"))
    }
}

pub(crate) fn back_to(base: u64) -> Outcome {
    sys::count_back_to(base, Duration::from_secs(5))
}

pub(crate) fn lines(t: &str) -> Vec<String> {
    t.lines().map(str::to_string).collect()
}

fn attach() -> Outcome {
    let out = policy("attach")?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!("attach: {}: {t:?} {:?}", out.status, text(&out.stderr))
    })?;
    for hook in HOOKS {
        check(hooked(hook), || {
            format!("link-{hook} is missing after {t:?}")
        })?;
    }
    if t.starts_with("attached") {
        // No file rules yet: opening a file runs none of the engine's
        // programs. The first load of file rules attaches them, before
        // its rules are written.
        for hook in FILE_HOOKS {
            check(!hooked(hook), || format!("link-{hook} after {t:?}"))?;
        }
        let file = write_policy(
            "attach-files",
            "deny-open = [\"/tmp/policy-attach-files.toml\"]\n",
        )?;
        let base = count()?;
        let t = sh_ok(&format!(
            "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}' \
             -- sh -c 'cat {file} >/dev/null 2>&1; echo \"cat $?\"'"
        ))?;
        expect(&lines(&t), "cat", "1")?;
        back_to(base)?;
        for hook in FILE_HOOKS {
            check(hooked(hook), || {
                format!("link-{hook} is missing after a load of file rules")
            })?;
        }
    }
    let again = policy("attach")?;
    let t = text(&again.stdout);
    check(
        again.status.success() && t.starts_with("already attached"),
        || format!("second attach: {}: {t:?}", again.status),
    )
}

/// Runs the same probe in the held namespace and (with `descendants`) in a
/// child and a grandchild of it, then in a sibling and at the root while it
/// is held: refused with `refused` inside, `ok` outside.
fn inside_and_out(
    name: &str,
    toml: &str,
    probe_args: &str,
    refused: i32,
    descendants: bool,
) -> Outcome {
    let base = count()?;
    let mut script = format!("echo \"self $({PROBE} {probe_args})\"");
    if descendants {
        script += &format!(
            "; echo \"child $(secns run -- {PROBE} {probe_args})\"; \
             echo \"grandchild $(secns run -- secns run -- {PROBE} {probe_args})\""
        );
    }
    let held = Held::start(name, toml, &script)?;
    let sibling = sh_ok(&format!(
        "echo \"sibling $(secns run -- {PROBE} {probe_args})\""
    ));
    let root = sh_ok(&format!("echo \"root $({PROBE} {probe_args})\""));
    let lines_in = held.lines.clone();
    held.release()?;
    let inside: &[&str] = if descendants {
        &["self", "child", "grandchild"]
    } else {
        &["self"]
    };
    for label in inside {
        expect(&lines_in, label, &errno(refused))?;
    }
    expect(&lines(&sibling?), "sibling", "ok")?;
    expect(&lines(&root?), "root", "ok")?;
    back_to(base)
}

fn capabilities() -> Outcome {
    inside_and_out(
        "caps",
        "deny-capabilities = [\"CAP_SYS_TIME\"]\n",
        "settime",
        libc::EPERM,
        true,
    )
}

fn files() -> Outcome {
    std::fs::write("/tmp/policy-secret", "secret\n").map_err(|e| e.to_string())?;
    std::fs::write("/tmp/policy-public", "public\n").map_err(|e| e.to_string())?;
    inside_and_out(
        "files",
        "deny-open = [\"/tmp/policy-secret\"]\n",
        "open /tmp/policy-secret",
        libc::EACCES,
        true,
    )?;
    // Another file (same file system, other inode) stays open to them.
    let base = count()?;
    let t = sh_ok(&format!(
        "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" /tmp/policy-files.toml' \
         -- sh -c 'echo \"public $({PROBE} open /tmp/policy-public)\"'"
    ))?;
    expect(&lines(&t), "public", "ok")?;
    back_to(base)
}

fn nested() -> Outcome {
    inside_and_out(
        "nested",
        "nested = false\nnested-errno = \"EUSERS\"\n",
        "init",
        libc::EUSERS,
        false,
    )?;
    // secns run reports the refusal of its UNSHARE_INIT with the errno.
    let base = count()?;
    let t = sh(&format!(
        "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" /tmp/policy-nested.toml' \
         -- secns run -- true"
    ))?;
    let err = text(&t.stderr);
    check(
        t.status.code() == Some(125) && err.contains(&format!("(errno {})", libc::EUSERS)),
        || format!("nested secns run: {}: {err:?}", t.status),
    )?;
    back_to(base)
}

fn signals() -> Outcome {
    let base = count()?;
    let mut outside = Command::new("/bin/sleep")
        .arg("60")
        .spawn()
        .map_err(|e| format!("sleep: {e}"))?;
    let pid = outside.id();
    let script = format!(
        "echo \"pid $$\"; \
         echo \"outside $({PROBE} signal {pid})\"; \
         echo \"own-shell $({PROBE} signal $$)\"; \
         sleep 60 & inner=$!; echo \"own-child $({PROBE} signal $inner)\"; kill $inner; \
         echo \"nested-to-shell $(secns run -- {PROBE} signal $$)\"; \
         echo \"nested-outside $(secns run -- {PROBE} signal {pid})\""
    );
    let held = Held::start("signals", "scope = [\"signal\"]\n", &script);
    let result = held.and_then(|held| {
        let shell = answer(&held.lines, "pid").map(str::to_string);
        let from_root = shell.and_then(|p| sh_ok(&format!("echo \"in $({PROBE} signal {p})\"")));
        let sibling = sh_ok(&format!(
            "echo \"sibling $(secns run -- {PROBE} signal {pid})\""
        ));
        let l = held.lines.clone();
        held.release()?;
        expect(&l, "outside", &errno(libc::EPERM))?;
        expect(&l, "own-shell", "ok")?;
        expect(&l, "own-child", "ok")?;
        expect(&l, "nested-to-shell", "ok")?;
        expect(&l, "nested-outside", &errno(libc::EPERM))?;
        // Not confined: the host into the namespace, and a namespace
        // without the scope.
        expect(&lines(&from_root?), "in", "ok")?;
        expect(&lines(&sibling?), "sibling", "ok")
    });
    let _ = outside.kill();
    let _ = outside.wait();
    result?;
    back_to(base)
}

/// The engine's map entries for namespace `id` and the total of each map,
/// from `secns-policy show --json`.
fn entries(id: u64) -> Result<(Option<serde_json::Value>, serde_json::Value), String> {
    let out = policy("show --json")?;
    let t = text(&out.stdout);
    check(out.status.success(), || {
        format!("show: {}: {t:?} {:?}", out.status, text(&out.stderr))
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&t).map_err(|e| format!("show --json: {e}: {t:?}"))?;
    let ns = v["namespaces"]
        .as_array()
        .and_then(|l| l.iter().find(|n| n["id"] == id))
        .cloned();
    Ok((ns, v["entries"].clone()))
}

fn dropped() -> Outcome {
    let base = count()?;
    let held = Held::start(
        "dropped",
        "deny-capabilities = [\"CAP_SYS_TIME\"]\n\
         deny-open = [\"/tmp/policy-secret\", \"/tmp/policy-public\"]\nnested = false\n",
        "secns status --json > /dev/null",
    )?;
    let id = held.id()?;
    let (live, during) = entries(id)?;
    held.release()?;
    let live = live.ok_or_else(|| format!("namespace {id} not in the maps while alive"))?;
    check(
        live["state"] == "entered"
            && live["rules"]["deny-open"].as_array().map(Vec::len) == Some(2)
            && live["rules"]["deny-capabilities"][0] == "CAP_SYS_TIME"
            && live["rules"]["nested"] == false
            && during["policies"].as_u64() >= Some(1),
        || format!("while alive: {live}, entries {during}"),
    )?;
    back_to(base)?;
    // secns_free runs from a work item, after the count went down: then no
    // map has an entry for the namespace (its view gathers both).
    let start = std::time::Instant::now();
    loop {
        let (gone, after) = entries(id)?;
        if gone.is_none() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(5) {
            return Err(format!(
                "namespace {id} still in the maps 5 s after its count went: {gone:?}; entries {after}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `secns-policy load` fails (exit 1) and says `says`.
fn load_fails(script: &str, says: &str) -> Outcome {
    let out = sh(script)?;
    let err = text(&out.stderr);
    check(out.status.code() == Some(1) && err.contains(says), || {
        format!("{script:?}: {}: {err:?}, expected {says:?}", out.status)
    })
}

fn load_errors() -> Outcome {
    let base = count()?;
    let file = write_policy("errors", "deny-capabilities = [\"CAP_SYS_TIME\"]\n")?;
    load_fails(
        &format!("{POLICY} load --ns 999999999 {file}"),
        "namespace 999999999 is not known",
    )?;
    load_fails(&format!("{POLICY} load --ns 0 {file}"), "initial namespace")?;
    // A namespace a task has entered, loaded from the initial namespace.
    let held = Held::start("errors-entered", "", "true")?;
    let entered = held.id()?;
    let got = load_fails(
        &format!("{POLICY} load --ns {entered} {file}"),
        &format!("namespace {entered} is not pending"),
    );
    held.release()?;
    got?;
    // From inside a namespace, even for a pending namespace below it, the
    // engine cannot be reached at all.
    let inner = sh(&format!(
        "secns run -- secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}' -- true"
    ))?;
    let err = text(&inner.stderr);
    check(
        inner.status.code() == Some(125)
            && err.contains("reachable from the initial security namespace only"),
        || format!("load from inside: {}: {err:?}", inner.status),
    )?;
    // A bad policy file is refused, naming the mistake.
    let bad = write_policy("bad", "deny-capabilities = [\"CAP_NOPE\"]\n")?;
    load_fails(
        &format!("{POLICY} load --ns 999999999 {bad}"),
        "unknown capability",
    )?;
    back_to(base)
}

/// `load --pid PID` finds the namespace by the task that created it, as the
/// engine recorded it in `task_secns_init` (what a runtime needs: it knows
/// the pid of a container's init, and trusts nothing the container says).
fn load_by_pid() -> Outcome {
    let base = count()?;
    let file = write_policy("by-pid", "deny-capabilities = [\"CAP_SYS_TIME\"]\n")?;
    // The setup command's parent is `secns run`, which made the namespace.
    let t = sh_ok(&format!(
        "secns run --setup 'echo \"id $SECNS_PENDING_ID creator $PPID\"; \
         {POLICY} show --ns \"$SECNS_PENDING_ID\" --json; \
         {POLICY} load --pid \"$PPID\" {file}' \
         -- sh -c 'echo \"settime $({PROBE} settime)\"'"
    ))?;
    let l = lines(&t);
    expect(&l, "settime", &errno(libc::EPERM))?;
    let id: Vec<&str> = answer(&l, "id")?.split(' ').collect();
    let shown = l
        .iter()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| format!("no JSON from show in {l:?}"))?;
    let shown: serde_json::Value =
        serde_json::from_str(shown).map_err(|e| format!("show --json: {e}: {shown}"))?;
    let ns = &shown["namespaces"][0];
    check(
        id.len() == 3
            && ns["id"]
                .as_u64()
                .is_some_and(|n| Some(n) == id[0].parse().ok())
            && ns["creator"]
                .as_u64()
                .is_some_and(|n| Some(n) == id[2].parse().ok())
            && ns["state"] == "pending",
        || format!("show of the pending namespace: {ns}; setup said {id:?}"),
    )?;
    // The loader's answer names the namespace it found.
    let said = l.iter().find(|line| line.starts_with("namespace "));
    check(
        said.is_some_and(|s| s.starts_with(&format!("namespace {}: deny CAP_SYS_TIME", id[0]))),
        || format!("load --pid said {said:?} for namespace {}", id[0]),
    )?;
    // A process with no pending namespace: this shell.
    load_fails(
        &format!("{POLICY} load --pid $$ {file}"),
        "has no pending security namespace that the policy engine knows",
    )?;
    // One that entered the namespace it created has none pending either.
    let held = Held::start("by-pid-entered", "", "true")?;
    let pid = held.pid();
    let got = load_fails(
        &format!("{POLICY} load --pid {pid} {file}"),
        &format!("process {pid} has no pending security namespace"),
    );
    held.release()?;
    got?;
    // --ns and --pid name the namespace in two ways: only one is allowed.
    let both = sh(&format!("{POLICY} load --ns 1 --pid 1 {file}"))?;
    check(both.status.code() == Some(2), || {
        format!("load --ns --pid: {}: {:?}", both.status, text(&both.stderr))
    })?;
    back_to(base)
}

fn replaced() -> Outcome {
    let base = count()?;
    let first = write_policy(
        "first",
        "deny-capabilities = [\"CAP_SYS_TIME\"]\ndeny-open = [\"/tmp/policy-secret\"]\n",
    )?;
    let second = write_policy("second", "deny-open = [\"/tmp/policy-public\"]\n")?;
    std::fs::write("/tmp/policy-secret", "secret\n").map_err(|e| e.to_string())?;
    std::fs::write("/tmp/policy-public", "public\n").map_err(|e| e.to_string())?;
    let t = sh_ok(&format!(
        "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {first}' \
         --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {second}' -- sh -c '\
         echo \"settime $({PROBE} settime)\"; \
         echo \"secret $({PROBE} open /tmp/policy-secret)\"; \
         echo \"public $({PROBE} open /tmp/policy-public)\"'"
    ))?;
    let l = lines(&t);
    expect(&l, "settime", "ok")?;
    expect(&l, "secret", "ok")?;
    expect(&l, "public", &errno(libc::EACCES))?;
    back_to(base)
}

/// What root in a namespace gets when it tries to reach the engine: each
/// command's exit status and what its stderr must contain. The engine's
/// programs refuse taking a pinned object (EPERM, which `secns-policy`
/// explains), removing or renaming a pin (EACCES) and the unmount (EPERM).
const GUARDED: [(&str, &str, &str, &str); 5] = [
    (
        "show",
        "/bin/secns-policy show",
        "1",
        "secns-policy: cannot reach /sys/fs/bpf/secns-policy/engine: Operation not permitted \
         (os error 1): the engine is reachable from the initial security namespace only",
    ),
    (
        "rm",
        "rm -f /sys/fs/bpf/secns-policy/link-capable",
        "1",
        "/sys/fs/bpf/secns-policy/link-capable': Permission denied",
    ),
    (
        "mv",
        "mv /sys/fs/bpf/secns-policy/link-capable /sys/fs/bpf/secns-policy/moved",
        "1",
        "Permission denied",
    ),
    (
        "detach",
        "/bin/secns-policy detach",
        "1",
        "secns-policy: cannot reach /sys/fs/bpf/secns-policy/policies: Operation not permitted \
         (os error 1): the engine is reachable from the initial security namespace only",
    ),
    (
        "umount",
        "umount /sys/fs/bpf",
        "1",
        "umount: can't unmount /sys/fs/bpf: Operation not permitted",
    ),
];

fn guarded() -> Outcome {
    let base = count()?;
    let err_file = |label: &str| format!("/tmp/policy-guarded-{label}.err");
    let mut script = String::new();
    for (label, command, _, _) in GUARDED {
        let err = err_file(label);
        let _ = std::fs::remove_file(&err);
        script += &format!("{command} >/dev/null 2>{err}; echo \"{label} $?\"; ");
    }
    script += &format!(
        "echo \"by-id $({PROBE} map-by-id)\"; echo \"settime $({PROBE} settime)\"; \
         echo \"opath $({PROBE} obj-get-at /sys/fs/bpf/secns-policy link-capable)\"; \
         mkdir -p /tmp/guard-bind /tmp/guard-move; \
         mount --bind /sys/fs/bpf/secns-policy /tmp/guard-bind 2>/dev/null; \
         echo \"bind-get $({PROBE} obj-get-at /tmp/guard-bind link-capable)\"; \
         mv /sys/fs/bpf/secns-policy /sys/fs/bpf/moved 2>/dev/null && echo \"rename done\" || echo \"rename refused\"; \
         umount -l /sys 2>/dev/null && echo \"umount-sys done\" || echo \"umount-sys refused\"; \
         umount -l /sys/fs/bpf 2>/dev/null && echo \"umount-bpffs done\" || echo \"umount-bpffs refused\"; \
         mount --move /sys/fs/bpf /tmp/guard-move 2>/dev/null && echo \"move done\" || echo \"move refused\""
    );
    let before = links()?;
    let held = Held::start(
        "guarded",
        "deny-capabilities = [\"CAP_SYS_TIME\"]\n",
        &script,
    )?;
    let l = held.lines.clone();
    held.release()?;
    let after = links();
    for (label, command, status, message) in GUARDED {
        let err = err_file(label);
        let said = std::fs::read_to_string(&err).map_err(|e| format!("{err}: {e}"));
        let _ = std::fs::remove_file(&err);
        let said = said?;
        let got = answer(&l, label)?;
        check(got == status && said.contains(message), || {
            format!(
                "{command:?} inside: exit {got}, stderr {said:?}; expected exit {status}, stderr {message:?}"
            )
        })?;
    }
    // The host unmounts the bind mount root made inside, if it was made.
    let _ = sh("umount /tmp/guard-bind 2>/dev/null");
    expect(&l, "by-id", &errno(libc::EPERM))?;
    expect(&l, "opath", &errno(libc::EPERM))?;
    expect(&l, "bind-get", &errno(libc::EPERM))?;
    for label in ["rename", "umount-sys", "umount-bpffs", "move"] {
        expect(&l, label, "refused")?;
    }
    // Everything is still there, the same links with the same programs,
    // and still enforced.
    expect(&l, "settime", &errno(libc::EPERM))?;
    let after = after?;
    check(after == before && before.len() >= HOOKS.len(), || {
        format!("links before {before:?}, after {after:?}")
    })?;
    // The initial namespace still can take a map by id.
    let root = sh_ok(&format!("echo \"by-id $({PROBE} map-by-id)\""))?;
    expect(&lines(&root), "by-id", "ok")?;
    back_to(base)
}

/// The newer secns-policy of the upgrade test (harness/build-userspace):
/// the same command, with one program more, on `task_getsid`.
pub(crate) const NEXT: &str = "/usr/lib/secns-vmtest/secns-policy-next";

/// The pinned links: hook -> (link id, program id).
pub(crate) fn links() -> Result<BTreeMap<String, (u32, u32)>, String> {
    let dir = "/sys/fs/bpf/secns-policy";
    let mut links = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))? {
        let path = entry.map_err(|e| format!("{dir}: {e}"))?.path();
        let Some(hook) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("link-"))
        else {
            continue;
        };
        let info = Link::open(&path)
            .and_then(|l| l.info())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        links.insert(hook.to_string(), (info.id, info.prog_id));
    }
    Ok(links)
}

/// Every link of `before` took a new program in place (`BPF_LINK_UPDATE`):
/// it is in `after` with the same link id and another program id. Only the
/// hook `may_go` (one the upgrade drops) may be gone.
pub(crate) fn relinked(
    before: &BTreeMap<String, (u32, u32)>,
    after: &BTreeMap<String, (u32, u32)>,
    may_go: Option<&str>,
) -> Outcome {
    for (hook, (link, prog)) in before {
        let now = after.get(hook);
        check(
            now.is_some_and(|(l, p)| l == link && p != prog)
                || (now.is_none() && may_go == Some(hook.as_str())),
            || format!("link-{hook}: before {:?}, after {now:?}", (link, prog)),
        )?;
    }
    Ok(())
}

/// `command` (a secns-policy's attach) succeeds and prints `says` first.
pub(crate) fn attach_says(command: &str, says: &str) -> Outcome {
    let out = sh(command)?;
    let t = text(&out.stdout);
    check(out.status.success() && t.starts_with(says), || {
        format!(
            "{command}: {}: {t:?} {:?}, expected {says:?}",
            out.status,
            text(&out.stderr)
        )
    })
}

/// The rules refuse the clock in a new namespace loaded with `file`.
fn clock_refused(file: &str) -> Outcome {
    let t = sh_ok(&format!(
        "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}' \
         -- sh -c 'echo \"settime $({PROBE} settime)\"'"
    ))?;
    expect(&lines(&t), "settime", &errno(libc::EPERM))
}

fn upgrade() -> Outcome {
    let base = count()?;
    let toml = "deny-capabilities = [\"CAP_SYS_TIME\"]\n";
    let file = write_policy("upgrade-more", toml)?;
    let held = Held::start("upgrade", toml, "true")?;
    let id = held.id()?;
    let result = (|| {
        let before = links()?;
        check(!before.contains_key("task_getsid"), || {
            format!("a task_getsid link before the upgrade: {before:?}")
        })?;
        attach_says(&format!("{NEXT} attach"), "upgraded")?;
        let after = links()?;
        relinked(&before, &after, None)?;
        check(
            after.contains_key("task_getsid") && after.len() == before.len() + 1,
            || format!("after the upgrade: {after:?}; before {before:?}"),
        )?;
        // The rules were kept: the held namespace's, and loading more.
        let (ns, _) = entries(id)?;
        check(
            ns.as_ref()
                .is_some_and(|n| n["rules"]["deny-capabilities"][0] == "CAP_SYS_TIME"),
            || format!("namespace {id} after the upgrade: {ns:?}"),
        )?;
        clock_refused(&file)?;
        attach_says(&format!("{NEXT} attach"), "already attached")?;
        // Back to this version: its programs, and no task_getsid link.
        attach_says(&format!("{POLICY} attach"), "upgraded")?;
        let back = links()?;
        check(
            !back.contains_key("task_getsid")
                && back.len() == before.len()
                && before
                    .iter()
                    .all(|(h, (l, _))| back.get(h).is_some_and(|b| b.0 == *l)),
            || format!("after going back: {back:?}; before {before:?}"),
        )?;
        clock_refused(&file)
    })();
    held.release()?;
    result?;
    back_to(base)
}

/// The engine map's stamp, rewritten by `f`.
fn restamp(f: impl FnOnce(&mut Vec<u8>)) -> Outcome {
    let map = MapHandle::from_pinned_path("/sys/fs/bpf/secns-policy/engine")
        .map_err(|e| format!("engine map: {e}"))?;
    let key = 0u32.to_ne_bytes();
    let mut v = map
        .lookup(&key, MapFlags::ANY)
        .map_err(|e| format!("engine map: {e}"))?
        .ok_or("the engine map is empty")?;
    f(&mut v);
    map.update(&key, &v, MapFlags::ANY)
        .map_err(|e| format!("engine map: {e}"))
}

fn other_layout() -> Outcome {
    // struct secns_policy_engine: abi at byte 16.
    restamp(|v| {
        if let Some(abi) = v.get_mut(16) {
            *abi = abi.wrapping_add(1);
        }
    })?;
    let attach = sh(&format!("{POLICY} attach"));
    let show = sh(&format!("{POLICY} show"));
    restamp(|v| {
        if let Some(abi) = v.get_mut(16) {
            *abi = abi.wrapping_sub(1);
        }
    })?;
    let (attach, show) = (attach?, show?);
    let err = text(&attach.stderr);
    check(
        attach.status.code() == Some(1)
            && err.contains(&format!(
                "keeps its rules in layout {}, this secns-policy in layout {ABI}",
                ABI + 1
            ))
            && err.contains("detach --force"),
        || format!("attach over layout {}: {}: {err:?}", ABI + 1, attach.status),
    )?;
    let err = text(&show.stderr);
    check(
        show.status.code() == Some(1) && err.contains("is not one this secns-policy can read"),
        || format!("show over layout {}: {}: {err:?}", ABI + 1, show.status),
    )?;
    attach_says(&format!("{POLICY} attach"), "already attached")
}

fn detach() -> Outcome {
    let base = count()?;
    let file = write_policy("detach", "deny-capabilities = [\"CAP_SYS_TIME\"]\n")?;
    // While a namespace has rules, detach is refused and changes nothing.
    let held = Held::start("detach", "deny-capabilities = [\"CAP_SYS_TIME\"]\n", "true")?;
    let before = links();
    let refused = policy("detach");
    let kept = links();
    let forced = policy("detach --force");
    held.release()?;
    let (before, refused, kept, forced) = (before?, refused?, kept?, forced?);
    let err = text(&refused.stderr);
    check(
        refused.status.code() == Some(1)
            && err.contains("1 namespace(s) have rules")
            && err.contains("--force"),
        || format!("detach with rules: {}: {err:?}", refused.status),
    )?;
    check(kept == before && kept.len() >= HOOKS.len(), || {
        format!("links after the refused detach: {kept:?}, before {before:?}")
    })?;
    check(
        forced.status.success() && text(&forced.stdout).trim() == "detached",
        || {
            format!(
                "detach --force: {}: {:?}",
                forced.status,
                text(&forced.stderr)
            )
        },
    )?;
    check(
        !std::path::Path::new("/sys/fs/bpf/secns-policy").exists(),
        || "/sys/fs/bpf/secns-policy is still there".into(),
    )?;
    let again = policy("detach")?;
    check(
        again.status.success() && text(&again.stdout).trim() == "not attached",
        || format!("detach again: {}: {:?}", again.status, text(&again.stdout)),
    )?;
    // No programs: the clock can be set in a namespace, and load says why
    // it cannot load.
    let t = sh(&format!(
        "secns run --setup '{POLICY} load --ns \"$SECNS_PENDING_ID\" {file}' -- true"
    ))?;
    check(
        t.status.code() == Some(125) && text(&t.stderr).contains("is not attached"),
        || format!("load after detach: {}: {:?}", t.status, text(&t.stderr)),
    )?;
    let t = sh_ok(&format!("echo \"settime $(secns run -- {PROBE} settime)\""))?;
    expect(&lines(&t), "settime", "ok")?;
    // Attached again, the rules work again; without rules, detach works.
    attach()?;
    clock_refused(&file)?;
    back_to(base)?;
    let t = policy("detach")?;
    check(
        t.status.success() && text(&t.stdout).trim() == "detached",
        || format!("detach without rules: {}: {:?}", t.status, text(&t.stderr)),
    )?;
    attach()
}

fn no_bpf_lsm() -> Outcome {
    let lsms = std::fs::read_to_string("/sys/kernel/security/lsm").map_err(|e| e.to_string())?;
    check(!lsms.split(',').any(|l| l.trim() == "bpf"), || {
        format!("booted with bpf in the LSM list: {lsms:?}")
    })?;
    let out = policy("attach")?;
    let err = text(&out.stderr);
    check(
        out.status.code() == Some(1) && err.contains("the BPF LSM is not active"),
        || format!("attach: {}: {err:?}", out.status),
    )?;
    check(
        !std::path::Path::new("/sys/fs/bpf/secns-policy").exists(),
        || "attach left /sys/fs/bpf/secns-policy behind".into(),
    )
}
