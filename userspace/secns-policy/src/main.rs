//! `secns-policy`: rules per security namespace with the BPF LSM.

use clap::{Parser, Subcommand};
use secns_policy::engine::{self, Attach, Detach, Engine};
use secns_policy::rules::{self, PolicyFile};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Rules per security namespace, enforced by BPF LSM programs: refused
/// capabilities, files that may not be opened, no nested namespaces,
/// signals confined to the namespace.
///
/// The rules of a namespace apply to every task in it and in its
/// descendants. They are loaded while the namespace is pending, typically
/// as a setup command of `secns run`:
///
///   secns run --setup 'secns-policy load --ns "$SECNS_PENDING_ID" policy.toml' -- PROGRAM
#[derive(Debug, Parser)]
#[command(
    name = "secns-policy",
    version,
    after_help = "Needs a kernel with CONFIG_SECURITY_SECNS, CONFIG_BPF_LSM and \
CONFIG_DEBUG_INFO_BTF, with secns and bpf in its LSM list (/sys/kernel/security/lsm). \
attach needs CAP_BPF, CAP_PERFMON and CAP_MAC_ADMIN (or root); the engine is then \
pinned in /sys/fs/bpf/secns-policy, which its programs keep every task outside the \
initial security namespace from reaching: load, show and detach work from the \
initial namespace only, as root.\n\nExit status: 0 on success, 1 when an operation \
fails (the message says why), 2 for a usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Attach the engine's BPF programs (once per boot, before the
    /// namespaces it is to know are created).
    ///
    /// Running it again changes nothing. Run by another version of
    /// secns-policy, it upgrades the engine in place: each hook's link
    /// takes the new program (BPF_LINK_UPDATE; a task inside the hook
    /// finishes with the old one, no call runs neither), and the maps, with
    /// every rule, are kept.
    Attach,
    /// Give a pending namespace the rules of a policy file, replacing those
    /// it had.
    ///
    /// The namespace must have been created after `attach`, must still be
    /// pending, and must be a descendant of the caller's namespace. It is
    /// named by its id, or by the process that created it: a runtime knows
    /// the pid of a container's init, and the engine recorded which task
    /// created which namespace, so nothing the container says is trusted.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ns", "pid"])))]
    Load {
        /// The namespace's id (SECNS_PENDING_ID in a `secns run` setup
        /// command).
        #[arg(long = "ns", value_name = "ID")]
        ns: Option<u64>,
        /// The pending namespace of this process: the one it created with
        /// LSM_ATTR_UNSHARE_INIT and has not entered (its pid as the
        /// initial pid namespace sees it; for a thread, its thread id).
        #[arg(long = "pid", value_name = "PID")]
        pid: Option<u32>,
        /// The policy file (TOML: deny-capabilities, deny-open, nested,
        /// nested-errno, scope).
        policy: PathBuf,
    },
    /// Show the namespaces the engine knows and their rules.
    Show {
        /// Only this namespace.
        #[arg(long = "ns", value_name = "ID")]
        ns: Option<u64>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Detach the programs and drop every rule.
    ///
    /// Refused while any namespace has rules, unless --force is given.
    Detach {
        /// Detach even though namespaces have rules, which are dropped.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("secns-policy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Cmd) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        Cmd::Attach => match engine::attach()? {
            Attach::Attached => println!("attached: {}", engine::PIN_DIR),
            Attach::Already => println!("already attached: {}", engine::PIN_DIR),
            Attach::Upgraded => println!(
                "upgraded: {} (programs replaced, rules kept)",
                engine::PIN_DIR
            ),
        },
        Cmd::Load { ns, pid, policy } => {
            engine::preflight()?;
            let rules = PolicyFile::read(&policy)?.resolve()?;
            let engine = Engine::open()?;
            let ns = match (ns, pid) {
                (Some(ns), _) => ns,
                (None, Some(pid)) => engine.pending_of(pid)?,
                (None, None) => return Err("load needs --ns or --pid".into()),
            };
            engine.load(ns, &rules)?;
            println!("namespace {ns}: {}", describe(&rules));
        }
        Cmd::Show { ns, json } => show(ns, json)?,
        Cmd::Detach { force } => match engine::detach(force)? {
            Detach::Detached => println!("detached"),
            Detach::NotAttached => println!("not attached"),
        },
    }
    Ok(())
}

fn describe(r: &rules::Rules) -> String {
    let mut parts = Vec::new();
    let caps = r.capability_names();
    if !caps.is_empty() {
        parts.push(format!("deny {}", caps.join(" ")));
    }
    if !r.files.is_empty() {
        parts.push(format!("deny-open {} file(s)", r.files.len()));
    }
    if r.no_nested {
        parts.push(format!(
            "no nested namespaces ({})",
            rules::errno_name(r.nested_errno)
        ));
    }
    match r.signal_scope {
        0 => {}
        rules::SIGNAL_HERE => parts.push("signals confined to it".to_string()),
        depth => parts.push(format!("signals confined to depth {depth} and below")),
    }
    if parts.is_empty() {
        "no rules".to_string()
    } else {
        parts.join(", ")
    }
}

fn show(only: Option<u64>, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    let dump = Engine::open()?.dump()?;
    let chosen: Vec<_> = dump
        .namespaces
        .iter()
        .filter(|n| only.is_none_or(|id| n.id == id))
        .collect();
    if json {
        let list: Vec<_> = chosen
            .iter()
            .map(|n| {
                json!({
                    "id": n.id,
                    "parent": n.seen.map(|s| s.parent),
                    "depth": n.seen.map(|s| s.depth),
                    "rules-from": n.seen.map(|s| s.rules_from),
                    "creator": n.seen.map(|s| s.creator),
                    "state": match n.seen {
                        None => "unknown",
                        Some(s) if s.entered => "entered",
                        Some(_) => "pending",
                    },
                    "rules": n.rules.as_ref().map(|r| json!({
                        "deny-capabilities": r.capability_names(),
                        "deny-open": r.files,
                        "nested": !r.no_nested,
                        "nested-errno": r.no_nested.then_some(r.nested_errno),
                        "signal-scope": (r.signal_scope != 0).then_some(r.signal_scope),
                    })),
                })
            })
            .collect();
        let out = json!({
            "engine": { "layout": dump.stamp.abi, "build": format!("{:016x}", dump.stamp.build) },
            "namespaces": list,
            "entries": dump.entries,
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "engine: layout {}, build {:016x}",
        dump.stamp.abi, dump.stamp.build
    );
    println!(
        "{:>6} {:>6} {:>5} {:<8} rules (with those of the ancestors)",
        "ns", "parent", "depth", "state"
    );
    for n in chosen {
        let (parent, depth, state) = match n.seen {
            Some(s) => (
                s.parent.to_string(),
                s.depth.to_string(),
                if s.entered { "entered" } else { "pending" },
            ),
            None => ("-".into(), "-".into(), "unknown"),
        };
        let rules = match (&n.rules, n.seen.map_or(0, |s| s.rules_from)) {
            (Some(r), _) => describe(r),
            (None, 0) => "-".to_string(),
            (None, from) => format!("those of {from}"),
        };
        println!("{:>6} {parent:>6} {depth:>5} {state:<8} {rules}", n.id);
    }
    let e = dump.entries;
    println!(
        "map entries: {} namespaces, {} policies",
        e.namespaces, e.policies
    );
    Ok(())
}
