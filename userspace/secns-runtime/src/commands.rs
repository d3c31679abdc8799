//! The OCI commands: libcontainer's, with the secns steps added.

use crate::executor::{Report, Seccomp, SecnsExecutor, Step, REPORT_SIZE};
use crate::policy;
use crate::spec::{self, Intended, ID_ANNOTATION};
use anyhow::{anyhow, bail, Context, Result};
use libcontainer::capabilities::CapabilityExt;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::oci_spec::runtime::{Capability as SpecCapability, Process, Spec};
use libcontainer::signal::Signal;
use libcontainer::syscall::syscall::SyscallType;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What every command knows: the state directory and the default policy.
pub struct Ctx {
    /// Where containers' states are kept (`--root`).
    pub root: PathBuf,
    /// The policy of containers without a `run.secns.policy` annotation.
    pub default_policy: Option<PathBuf>,
}

/// An OCI container id: not empty, no `/`, not `.` or `..` (libcontainer
/// checks this too, later; the runtime's own files are named after it
/// before).
fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." || id.contains('/') || id.contains('\0') {
        bail!("invalid container id {id:?}");
    }
    Ok(())
}

fn load(ctx: &Ctx, id: &str) -> Result<Container> {
    check_id(id)?;
    let dir = ctx.root.join(id);
    if !dir.exists() {
        bail!("container {id} does not exist");
    }
    let mut c = Container::load(dir).with_context(|| format!("cannot load container {id}"))?;
    c.refresh_status()
        .with_context(|| format!("cannot read the status of container {id}"))?;
    Ok(c)
}

/// A file or directory the runtime made for one call, removed when it is
/// dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0).or_else(|_| fs::remove_file(&self.0));
    }
}

/// The pipe a container process reports its secns step through (both ends
/// close-on-exec: the workload never has them).
fn report_pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2() writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error()).context("pipe2");
    }
    // SAFETY: pipe2() succeeded: both are new descriptors that nothing
    // else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The report a container process wrote before it reported ready (or
/// failed), if it wrote one. The read end is non-blocking: the write end
/// stays open in the container's init until it executes the workload.
fn read_report(read: &OwnedFd) -> Option<Report> {
    let mut b = [0u8; REPORT_SIZE];
    // SAFETY: `b` is valid for writes of its length; `read` is open.
    let n = unsafe { libc::read(read.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) };
    (n == REPORT_SIZE as isize).then(|| Report::decode(&b))
}

/// Why a container could not be made, from the process's report if it
/// sent one (the secns step's errno), else from libcontainer.
fn why(report: Option<Report>, e: impl Into<anyhow::Error>) -> anyhow::Error {
    match report.map(|r| (r, r.outcome())) {
        Some((r, Err(_))) => anyhow!("{r}"),
        _ => e.into(),
    }
}

/// The options of `create` and `run` that shape the init.
pub struct InitOpts<'a> {
    pub id: &'a str,
    pub bundle: &'a Path,
    pub pid_file: Option<&'a PathBuf>,
    pub console_socket: Option<&'a PathBuf>,
    pub preserve_fds: i32,
    pub no_pivot: bool,
    pub detach: bool,
}

/// `create`: the container's init, created by libcontainer, creates its
/// pending security namespace and waits; the runtime loads the policy into
/// it and records its id in the state's annotations.
pub fn create(ctx: &Ctx, o: &InitOpts<'_>) -> Result<Container> {
    check_id(o.id)?;
    let fail = || format!("cannot create container {}", o.id);
    if !secns::is_supported() {
        bail!(
            "{}: this kernel has no security namespaces (it needs CONFIG_SECURITY_SECNS, \
             and secns in its LSM list, /sys/kernel/security/lsm)",
            fail()
        );
    }
    let bundle = fs::canonicalize(o.bundle)
        .with_context(|| format!("{}: bundle {}", fail(), o.bundle.display()))?;
    let mut spec = Spec::load(bundle.join("config.json"))
        .with_context(|| format!("{}: {}/config.json", fail(), bundle.display()))?;
    // The executor loads the container's seccomp filter after UNSHARE,
    // right before the workload; libcontainer gets a spec without it.
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().clone());
    if seccomp.as_ref().is_some_and(spec::seccomp_notifies) {
        bail!(
            "{}: its seccomp profile hands system calls to a listener \
             (SCMP_ACT_NOTIFY), which secns-runtime does not serve",
            fail()
        );
    }
    if let Some(mut linux) = spec.linux().clone() {
        linux.set_seccomp(None);
        spec.set_linux(Some(linux));
    }
    let policy = policy::requested(spec.annotations().as_ref(), ctx.default_policy.as_deref())
        .with_context(fail)?;
    let mut process = spec
        .process()
        .clone()
        .ok_or_else(|| anyhow!("{}: config.json has no process", fail()))?;
    // Loading a filter without noNewPrivileges needs CAP_SYS_ADMIN.
    let needs = if seccomp.is_some() && process.no_new_privileges() != Some(true) {
        spec::INIT_SECCOMP_NEEDS
    } else {
        spec::INIT_NEEDS
    };
    let intended = spec::grant(&mut process, needs);
    spec.set_process(Some(process));
    if let Some(mut root) = spec.root().clone() {
        if root.path().is_relative() {
            root.set_path(bundle.join(root.path()));
            spec.set_root(Some(root));
        }
    }

    // libcontainer reads the spec from a bundle: give it the one with the
    // capabilities added, in a directory of the runtime's own, removed
    // when the container is made. Relative paths still mean the user's
    // bundle: the runtime works from there, as runc does.
    fs::create_dir_all(&ctx.root).with_context(|| format!("{}: {}", fail(), ctx.root.display()))?;
    let shadow = Scratch(ctx.root.join(format!("{}.secns-bundle", o.id)));
    // One left by a runtime that was killed during a create of this id.
    let _ = fs::remove_dir_all(&shadow.0);
    fs::create_dir(&shadow.0).with_context(|| format!("{}: {}", fail(), shadow.0.display()))?;
    spec.save(shadow.0.join("config.json")).with_context(fail)?;
    // The paths the caller gave stay relative to where it is.
    let pid_file = o.pid_file.map(std::path::absolute).transpose()?;
    let console_socket = o.console_socket.map(std::path::absolute).transpose()?;
    std::env::set_current_dir(&bundle).with_context(fail)?;

    let (read, write) = report_pipe().with_context(fail)?;
    let seccomp = seccomp.map(|filter| Seccomp {
        filter,
        lent_admin: intended.lent(needs).contains(&SpecCapability::SysAdmin),
    });
    let executor = SecnsExecutor::new(Step::Init, seccomp, intended, &write);
    let built = ContainerBuilder::new(o.id.to_string(), SyscallType::default())
        .with_executor(executor)
        .with_root_path(&ctx.root)
        .and_then(|b| b.with_pid_file(pid_file.as_ref()))
        .map(|b| {
            b.with_console_socket(console_socket.as_ref())
                .with_preserved_fds(o.preserve_fds)
        })
        .and_then(|b| b.validate_id())
        .and_then(|b| {
            b.as_init(&shadow.0)
                .with_systemd(false)
                .with_detach(o.detach)
                .with_no_pivot(o.no_pivot)
                .build()
        });
    drop(write);
    drop(shadow);
    let report = read_report(&read);
    let mut container = built.map_err(|e| why(report, e).context(fail()))?;

    let outcome = report
        .ok_or_else(|| anyhow!("the container's init reported no security namespace"))
        .and_then(|r| r.outcome().map_err(|e| anyhow!(e)));
    let loaded = outcome.and_then(|ns| {
        container.state.bundle = bundle.clone();
        container
            .state
            .annotations
            .get_or_insert_with(Default::default)
            .insert(ID_ANNOTATION.to_string(), ns.to_string());
        container.save()?;
        if let Some(policy) = &policy {
            let pid = container
                .pid()
                .ok_or_else(|| anyhow!("the container has no init pid"))?;
            policy.load(pid.as_raw() as u32, ns)?;
        }
        Ok(())
    });
    if let Err(e) = loaded {
        discard(&mut container, pid_file.as_ref());
        return Err(e.context(fail()));
    }
    Ok(container)
}

/// Removes a container that `create` could not finish: its init is
/// killed, so its pending namespace goes with it, and the state and the
/// pid file are removed.
fn discard(container: &mut Container, pid_file: Option<&PathBuf>) {
    let _ = container.delete(true);
    if let Some(p) = pid_file {
        let _ = fs::remove_file(p);
    }
}

/// `start`: the init enters its namespace and executes the workload.
pub fn start(ctx: &Ctx, id: &str) -> Result<()> {
    load(ctx, id)?
        .start()
        .with_context(|| format!("cannot start container {id}"))
}

/// `state`: the OCI state, with the security namespace's id in its
/// annotations (`run.secns.id`).
pub fn state(ctx: &Ctx, id: &str) -> Result<()> {
    let c = load(ctx, id)?;
    println!("{}", serde_json::to_string_pretty(&c.state)?);
    Ok(())
}

/// `kill`.
pub fn kill(ctx: &Ctx, id: &str, signal: &str, all: bool) -> Result<()> {
    let signal = Signal::try_from(signal).map_err(|e| anyhow!("{e}"))?;
    load(ctx, id)?
        .kill(signal, all)
        .with_context(|| format!("cannot signal container {id}"))
}

/// `delete`: libcontainer's; the namespace goes with the container's last
/// process, and secns-policy drops its rules then.
pub fn delete(ctx: &Ctx, id: &str, force: bool) -> Result<()> {
    check_id(id)?;
    if force && !ctx.root.join(id).exists() {
        return Ok(());
    }
    load(ctx, id)?
        .delete(force)
        .with_context(|| format!("cannot delete container {id}"))
}

/// `pause` and `resume`.
pub fn pause(ctx: &Ctx, id: &str, pause: bool) -> Result<()> {
    let mut c = load(ctx, id)?;
    if pause { c.pause() } else { c.resume() }
        .with_context(|| format!("cannot pause or resume container {id}"))
}

/// `list`.
pub fn list(ctx: &Ctx, format: &str, quiet: bool) -> Result<()> {
    let mut states = Vec::new();
    if let Ok(dir) = fs::read_dir(&ctx.root) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("state.json").exists() {
                if let Ok(c) = load(ctx, &name) {
                    states.push(c.state);
                }
            }
        }
    }
    states.sort_by(|a, b| a.id.cmp(&b.id));
    match (format, quiet) {
        (_, true) => states.iter().for_each(|s| println!("{}", s.id)),
        ("json", _) => println!("{}", serde_json::to_string_pretty(&states)?),
        ("table", _) => {
            println!(
                "{:<20} {:>8} {:<8} {:>10}  BUNDLE",
                "ID", "PID", "STATUS", "SECNS"
            );
            for s in &states {
                let ns = s.annotations.as_ref().and_then(|a| a.get(ID_ANNOTATION));
                println!(
                    "{:<20} {:>8} {:<8} {:>10}  {}",
                    s.id,
                    s.pid.unwrap_or(0),
                    s.status.to_string(),
                    ns.map_or("-", String::as_str),
                    s.bundle.display()
                );
            }
        }
        (f, _) => bail!("unknown format {f:?} (table or json)"),
    }
    Ok(())
}

/// `exec`: a process of libcontainer's, which joins the namespace of the
/// container's init through a pidfd the runtime opened, before it drops
/// the capabilities the runtime added. Returns its exit status unless
/// detached.
pub fn exec(ctx: &Ctx, a: liboci_cli::Exec) -> Result<i32> {
    let id = a.container_id.as_str();
    let fail = || format!("cannot exec in container {id}");
    let c = load(ctx, id)?;
    if c.status() != ContainerStatus::Running {
        bail!("{}: it is {}, not running", fail(), c.status());
    }
    let pid = c
        .pid()
        .ok_or_else(|| anyhow!("{}: it has no init pid", fail()))?;
    let pidfd = secns::sys::pidfd_open(pid.as_raw())
        .map_err(|e| anyhow!("{}: pidfd_open({pid}): {}", fail(), errno(e)))?;
    // The pid was read from the state before the pidfd was opened: make
    // sure it is still the container's init, not a reused pid.
    let again = load(ctx, id)?;
    if again.status() != ContainerStatus::Running || again.pid() != Some(pid) {
        bail!("{}: its init exited", fail());
    }

    // libcontainer 0.7 gives an exec's process no seccomp filter: the
    // executor loads the container's right before the workload. A profile that
    // notifies a listener cannot be served there.
    let container_spec = Spec::load(c.bundle().join("config.json")).with_context(fail)?;
    let seccomp = container_spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().clone());
    if seccomp.as_ref().is_some_and(spec::seccomp_notifies) {
        bail!(
            "{}: its seccomp profile hands system calls to a listener \
             (SCMP_ACT_NOTIFY), which secns-runtime does not serve",
            fail()
        );
    }
    let spec_nnp = container_spec
        .process()
        .as_ref()
        .and_then(|p| p.no_new_privileges())
        .unwrap_or(false);
    let needs = |nnp: bool| {
        if seccomp.is_some() && !nnp {
            spec::JOIN_SECCOMP_NEEDS
        } else {
            spec::JOIN_NEEDS
        }
    };

    // The process is lent CAP_MAC_ADMIN and CAP_SYS_PTRACE (and
    // CAP_SYS_ADMIN to load the filter without noNewPrivileges, and
    // CAP_SETPCAP) for the join, as the init was for INIT: in its process
    // file, or through libcontainer's --cap.
    let mut caps = a.cap.clone();
    let (process, intended, lent_for, _scratch) = match &a.process {
        Some(path) => {
            let text = fs::read_to_string(path)
                .with_context(|| format!("{}: {}", fail(), path.display()))?;
            let mut p: Process = serde_json::from_str(&text)
                .with_context(|| format!("{}: {}", fail(), path.display()))?;
            let nnp = p.no_new_privileges().unwrap_or(false);
            let intended = spec::grant(&mut p, needs(nnp));
            let copy = ctx
                .root
                .join(format!("{id}.secns-exec-{}.json", std::process::id()));
            fs::write(&copy, serde_json::to_vec(&p)?).with_context(fail)?;
            (
                Some(copy.clone()),
                intended,
                needs(nnp),
                Some(Scratch(copy)),
            )
        }
        None => {
            let base = container_spec
                .process()
                .as_ref()
                .and_then(|p| p.capabilities().clone());
            let ambient = base.as_ref().is_some_and(|b| b.inheritable().is_some());
            let mut intended = Intended::of(Some(&base.unwrap_or_default()));
            for cap in &a.cap {
                let cap = caps::Capability::from_str(cap).map_err(|e| anyhow!("{e}"))?;
                intended = intended.with(SpecCapability::from_cap(cap), ambient);
            }
            let nnp = a.no_new_privs || spec_nnp;
            caps.extend(
                intended
                    .lent(needs(nnp))
                    .iter()
                    .map(|c| c.to_cap().to_string()),
            );
            (None, intended, needs(nnp), None)
        }
    };

    let (read, write) = report_pipe().with_context(fail)?;
    let step = Step::Join {
        pidfd: pidfd.as_raw_fd(),
    };
    let seccomp = seccomp.map(|filter| Seccomp {
        filter,
        lent_admin: intended.lent(lent_for).contains(&SpecCapability::SysAdmin),
    });
    let executor = SecnsExecutor::new(step, seccomp, intended, &write);
    let built = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(executor)
        .with_root_path(&ctx.root)
        .and_then(|b| b.with_pid_file(a.pid_file.as_ref()))
        .map(|b| {
            b.with_console_socket(a.console_socket.as_ref())
                .with_preserved_fds(a.preserve_fds)
        })
        .and_then(|b| b.validate_id())
        .and_then(|b| {
            b.as_tenant()
                .with_detach(a.detach)
                .with_cwd(a.cwd.as_ref())
                .with_env(a.env.clone().into_iter().collect())
                .with_process(process.as_ref())
                .with_no_new_privs(a.no_new_privs)
                .with_container_args(a.command.clone())
                .with_additional_gids(a.additional_gids.clone())
                .with_user(a.user.map(|(u, _)| u))
                .with_group(a.user.and_then(|(_, g)| g))
                .with_capabilities(caps)
                .with_ignore_paused(a.ignore_paused)
                .with_sub_cgroup(a.cgroup.clone())
                .with_apparmor(a.apparmor.clone())
                .with_process_label(a.process_label.clone())
                .build()
        });
    drop(write);
    drop(pidfd);
    let report = read_report(&read);
    let pid = built.map_err(|e| why(report, e).context(fail()))?;
    match report.map(|r| r.outcome()) {
        Some(Ok(_)) => {}
        other => {
            // The process did not report joining: it must not run.
            // SAFETY: kill() takes any pid and signal number.
            unsafe { libc::kill(pid.as_raw(), libc::SIGKILL) };
            wait(pid.as_raw());
            let why = match other {
                Some(Err(e)) => e,
                _ => "the process reported no security namespace".into(),
            };
            bail!("{}: {why}", fail());
        }
    }
    if a.detach {
        return Ok(0);
    }
    Ok(wait(pid.as_raw()))
}

/// Waits for the child `pid`: its exit status, or 128 + the signal that
/// killed it (as a shell reports it).
pub fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is valid for writes.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 255;
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

fn errno(e: i32) -> std::io::Error {
    std::io::Error::from_raw_os_error(e)
}

/// `spec`: libcontainer's default config.json (oci-spec's), with the
/// policy annotation if one is given.
pub fn spec(bundle: Option<&Path>, rootless: bool, policy: Option<&Path>) -> Result<()> {
    if rootless {
        bail!(
            "rootless containers cannot have security namespaces: creating one needs \
             CAP_MAC_ADMIN in the initial user namespace"
        );
    }
    let path = bundle.unwrap_or(Path::new(".")).join("config.json");
    if path.exists() {
        bail!("{} exists already", path.display());
    }
    let mut spec = Spec::default();
    if let Some(p) = policy {
        let mut a = spec.annotations().clone().unwrap_or_default();
        a.insert(spec::POLICY_ANNOTATION.into(), p.display().to_string());
        spec.set_annotations(Some(a));
    }
    // Pretty, as runc writes it: it is there to be edited.
    let text = serde_json::to_string_pretty(&spec)? + "\n";
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `run`: `create` and `start`; unless detached, waits for the init and
/// deletes the container, with the init's exit status.
pub fn run(ctx: &Ctx, a: &liboci_cli::Run) -> Result<i32> {
    let o = InitOpts {
        id: &a.container_id,
        bundle: &a.bundle,
        pid_file: a.pid_file.as_ref(),
        console_socket: a.console_socket.as_ref(),
        preserve_fds: a.preserve_fds,
        no_pivot: a.no_pivot,
        detach: a.detach,
    };
    let mut c = create(ctx, &o)?;
    let pid = c.pid().map(|p| p.as_raw());
    c.start()
        .with_context(|| format!("cannot start container {}", a.container_id))?;
    if a.detach {
        return Ok(0);
    }
    let status = pid.map_or(0, wait);
    if !a.keep {
        delete(ctx, &a.container_id, true)?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts<'a>(id: &'a str, bundle: &'a Path) -> InitOpts<'a> {
        InitOpts {
            id,
            bundle,
            pid_file: None,
            console_socket: None,
            preserve_fds: 0,
            no_pivot: false,
            detach: true,
        }
    }

    fn ctx(root: &Path) -> Ctx {
        Ctx {
            root: root.to_path_buf(),
            default_policy: None,
        }
    }

    /// On a kernel without secns (the build host's, usually), `create`
    /// says so before it looks at anything; on one with secns, it goes on
    /// to the bundle. Nothing is made either way.
    #[test]
    fn create_on_a_kernel_without_secns_says_so_and_makes_nothing() {
        let root = std::env::temp_dir().join(format!("secns-runtime-test-{}", std::process::id()));
        let bundle = root.join("no-such-bundle");
        let e = create(&ctx(&root), &opts("c1", &bundle))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        if secns::is_supported() {
            assert!(e.contains("no-such-bundle"), "{e}");
        } else {
            assert!(
                e.contains("cannot create container c1: this kernel has no security namespaces"),
                "{e}"
            );
        }
        assert!(!root.exists(), "create made {}", root.display());
    }

    #[test]
    fn invalid_ids_are_refused_before_any_file_is_named_after_them() {
        let root = std::env::temp_dir().join(format!("secns-runtime-ids-{}", std::process::id()));
        for id in ["", ".", "..", "a/b", "../x", "a\0b"] {
            let e = create(&ctx(&root), &opts(id, Path::new(".")))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with("invalid container id"), "{id:?}: {e}");
        }
        assert!(!root.exists());
    }
}
