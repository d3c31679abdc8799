//! `secns-runtime`: an OCI runtime that puts every container in its own
//! security namespace.
//!
//! The runtime is youki's: containers are made, started, signalled and
//! deleted by its `libcontainer` crate, and the command line is its
//! `liboci-cli` crate's, runc's, so containerd, CRI-O and podman run it
//! as they run runc, crun or youki. What this program adds is the secns
//! steps (DESIGN §9):
//!
//! - `create`: the container's init creates its pending security
//!   namespace while it still holds `CAP_MAC_ADMIN` (added to the spec for
//!   this step and dropped right after it, [`spec`]), and the runtime loads
//!   the container's policy into it ([`policy`]) and reports its id in the
//!   state's annotations (`run.secns.id`);
//! - `start`: the init enters the namespace right before it executes the
//!   workload, with its capabilities already dropped;
//! - `exec`: the new process joins the namespace of the container's init
//!   through a pidfd;
//! - `kill`, `delete`: libcontainer's; the namespace, its rules and the
//!   count go with the container's last process.
//!
//! [`executor`] runs the steps inside the container's processes, through
//! libcontainer's `Executor` trait; [`commands`] the commands.

mod commands;
mod executor;
mod policy;
mod spec;

use clap::{Args, Parser, Subcommand};
use commands::{Ctx, InitOpts};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// An OCI runtime (youki's libcontainer) that puts every container in its
/// own security namespace, with the secns-policy rules its annotation
/// run.secns.policy names.
#[derive(Debug, Parser)]
#[command(
    name = "secns-runtime",
    version,
    after_help = "Needs a kernel with CONFIG_SECURITY_SECNS and secns in its LSM list, \
cgroup v2, and root (CAP_MAC_ADMIN in the initial user namespace). A policy needs \
secns-policy attached (`secns-policy attach`). Exit status: that of the container's \
process for exec and run, else 0 on success and 1 when the command fails (the \
message says why)."
)]
struct Cli {
    #[command(flatten)]
    global: liboci_cli::GlobalOpts,
    /// The policy file (secns-policy's TOML) of the containers whose
    /// config.json names none in the annotation run.secns.policy.
    #[arg(long, value_name = "FILE")]
    default_policy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Standard(liboci_cli::StandardCmd),
    /// Run a process in a running container, in its security namespace.
    Exec(liboci_cli::Exec),
    /// List the containers, with their security namespaces.
    List(liboci_cli::List),
    /// Freeze a container's processes.
    Pause(liboci_cli::Pause),
    /// Thaw a container's processes.
    Resume(liboci_cli::Resume),
    /// Create and start a container.
    Run(liboci_cli::Run),
    /// Write a config.json to start a bundle from.
    Spec(SpecArgs),
}

#[derive(Debug, Args)]
struct SpecArgs {
    #[command(flatten)]
    base: liboci_cli::Spec,
    /// Name this policy file in the annotation run.secns.policy.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// Where containers' states are kept unless `--root` says otherwise.
const DEFAULT_ROOT: &str = "/run/secns-runtime";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = cli.global.log.clone();
    let json = cli.global.log_format.as_deref() == Some("json");
    match run(cli) {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(255)),
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("secns-runtime: {msg}");
            if let Some(path) = log {
                log_error(&path, json, &msg);
            }
            ExitCode::FAILURE
        }
    }
}

/// Appends the error to the `--log` file, where containerd's shim reads a
/// runtime's errors from (one JSON object per line with `--log-format
/// json`, as runc writes them).
fn log_error(path: &std::path::Path, json: bool, msg: &str) {
    let line = if json {
        serde_json::json!({ "level": "error", "msg": msg }).to_string()
    } else {
        format!("level=error msg={msg:?}")
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    if cli.global.systemd_cgroup {
        anyhow::bail!("this build of secns-runtime has no systemd cgroup driver");
    }
    let root = std::path::absolute(cli.global.root.unwrap_or(DEFAULT_ROOT.into()))?;
    let ctx = Ctx {
        root,
        default_policy: cli.default_policy,
    };
    use liboci_cli::StandardCmd as S;
    match cli.command {
        Command::Standard(S::Create(a)) => {
            let o = InitOpts {
                id: &a.container_id,
                bundle: &a.bundle,
                pid_file: a.pid_file.as_ref(),
                console_socket: a.console_socket.as_ref(),
                preserve_fds: a.preserve_fds,
                no_pivot: a.no_pivot,
                detach: true,
            };
            commands::create(&ctx, &o)?;
        }
        Command::Standard(S::Start(a)) => commands::start(&ctx, &a.container_id)?,
        Command::Standard(S::State(a)) => commands::state(&ctx, &a.container_id)?,
        Command::Standard(S::Kill(a)) => commands::kill(&ctx, &a.container_id, &a.signal, a.all)?,
        Command::Standard(S::Delete(a)) => commands::delete(&ctx, &a.container_id, a.force)?,
        Command::Exec(a) => return commands::exec(&ctx, a),
        Command::List(a) => commands::list(&ctx, &a.format, a.quiet)?,
        Command::Pause(a) => commands::pause(&ctx, &a.container_id, true)?,
        Command::Resume(a) => commands::pause(&ctx, &a.container_id, false)?,
        Command::Run(a) => return commands::run(&ctx, &a),
        Command::Spec(a) => commands::spec(
            a.base.bundle.as_deref(),
            a.base.rootless,
            a.policy.as_deref(),
        )?,
    }
    Ok(0)
}
