//! The `secns` command: its command line (shared with `secns-mangen`, which
//! writes the man pages) and what each subcommand does.

use clap::{CommandFactory, Parser, Subcommand};
use serde::Serialize;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// Exit status when secns itself failed (as `env`, `chroot` and `nice` do).
pub const EXIT_FAILED: u8 = 125;
/// Exit status when PROGRAM was found but cannot be executed.
pub const EXIT_CANNOT_EXEC: u8 = 126;
/// Exit status when PROGRAM was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Security namespaces for Linux: look at them, run programs in new ones or
/// in those of other processes, set their limits.
///
/// A security namespace gives a process and its descendants their own
/// security context, in which every stacked LSM may keep its own policy.
#[derive(Debug, Parser)]
#[command(
    name = "secns",
    version,
    after_help = "Needs a kernel with CONFIG_SECURITY_SECNS and secns in its LSM list \
(see /sys/kernel/security/lsm). Creating and joining namespaces and changing the \
limits need CAP_MAC_ADMIN (entering a namespace one created needs none).\n\nExit \
status: 0 on success, 1 when an operation fails (the message names the errno and what \
it means), 2 for a usage error; `secns run` and `secns join` have their own (see \
`secns run --help`, `secns join --help`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Show this process's security namespace and pending namespace, the
    /// limits, the live count and the active LSMs.
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create a security namespace, set it up while it is pending, enter it
    /// and execute PROGRAM in it.
    ///
    /// 1. Creates a child of the current security namespace, pending
    ///    (LSM_ATTR_UNSHARE_INIT).
    ///
    /// 2. Runs each --setup command, in order, with `sh -c`. This is where a
    ///    runtime loads policy into the new namespace: the commands get its id
    ///    in SECNS_PENDING_ID and stay in the current namespace. If one fails,
    ///    the pending namespace is dropped and PROGRAM is not run.
    ///
    /// 3. Enters the namespace (LSM_ATTR_UNSHARE) and executes PROGRAM, which
    ///    runs in it with every process it creates.
    #[command(
        after_help = "Exit status: PROGRAM's own once it runs; 125 if a secns \
operation or a setup command failed (the message says which, with the errno and its \
meaning); 126 if PROGRAM cannot be executed; 127 if it is not found.\n\nExample:\n  \
secns run --setup 'load-policy --ns \"$SECNS_PENDING_ID\"' -- /sbin/init"
    )]
    Run {
        /// A shell command to run while the namespace is pending (repeatable).
        #[arg(long = "setup", value_name = "CMD")]
        setup: Vec<String>,
        /// The program to execute in the new namespace, and its arguments.
        #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
        program: Vec<OsString>,
    },
    /// Join the security namespace of process PID and execute PROGRAM in it,
    /// as nsenter(1) does for the other namespaces.
    ///
    /// Opens a pidfd of PID (pidfd_open), makes the security namespace PID is
    /// in this process's own (LSM_ATTR_UNSHARE with SECNS_JOIN) and executes
    /// PROGRAM, which runs in it with every process it creates. This is how a
    /// second program runs in a running container.
    ///
    /// Needs CAP_MAC_ADMIN and ptrace-read access to PID, and PID's security
    /// namespace must be the current one or one of its descendants: nobody
    /// joins upward or sideways.
    #[command(
        after_help = "Exit status: PROGRAM's own once it runs; 125 if opening a pidfd of \
PID or joining its namespace failed (the message says which, with the errno and its \
meaning); 126 if PROGRAM cannot be executed; 127 if it is not found.\n\nExample:\n  \
secns join --pid \"$(cat /run/container.pid)\" -- /bin/sh"
    )]
    Join {
        /// The process whose security namespace to join.
        #[arg(long, value_name = "PID", value_parser = clap::value_parser!(u32).range(1..=2147483647))]
        pid: u32,
        /// The program to execute in PID's namespace, and its arguments.
        #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
        program: Vec<OsString>,
    },
    /// Show the global limits and the live count; change them with the
    /// options (CAP_MAC_ADMIN needed).
    Limits {
        /// The most non-initial security namespaces alive at once
        /// (0 to 2147483647).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=2147483647))]
        maxns: Option<u32>,
        /// The deepest security namespace allowed; the initial one has
        /// depth 0 (0 to 32).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=32))]
        maxnsdepth: Option<u32>,
    },
}

/// The command line definition, for the man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

fn fail(e: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("secns: {e}");
    ExitCode::from(code)
}

/// Runs the parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Cmd::Status { json } => status(json),
        Cmd::Run { setup, program } => run(&setup, &program),
        Cmd::Join { pid, program } => join(pid, &program),
        Cmd::Limits { maxns, maxnsdepth } => limits(maxns, maxnsdepth),
    }
}

/// What `secns status` shows. The namespaces come from the system call;
/// the limits and the LSM names come from securityfs, which may be
/// unavailable (not mounted): then they are shown as unavailable, and the
/// rest all the same.
#[derive(Debug, PartialEq, Eq)]
pub struct Status {
    pub info: secns::Info,
    pub limits: secns::Result<secns::Limits>,
    pub lsms: secns::Result<Vec<String>>,
}

/// The JSON form of [`Status`]: keys in this order, `null` for what is not
/// there.
#[derive(Serialize)]
struct JsonStatus<'a> {
    namespace: JsonNamespace,
    pending_id: Option<u64>,
    limits: Option<JsonLimits>,
    lsms: Option<&'a [String]>,
}

#[derive(Serialize)]
struct JsonNamespace {
    id: u64,
    parent_id: u64,
    depth: u32,
}

#[derive(Serialize)]
struct JsonLimits {
    maxns: u32,
    maxnsdepth: u32,
    count: u32,
}

impl Status {
    /// The text form.
    pub fn text(&self) -> String {
        let i = &self.info;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "namespace  {} (depth {}, parent {})",
            i.id, i.depth, i.parent_id
        );
        let _ = match i.pending_id {
            Some(p) => writeln!(s, "pending    {p}"),
            None => writeln!(s, "pending    none"),
        };
        let _ = match &self.limits {
            Ok(l) => writeln!(
                s,
                "limits     maxns {}, maxnsdepth {}\nlive       {}",
                l.maxns, l.maxnsdepth, l.count
            ),
            Err(e) => writeln!(s, "limits     unavailable: {e}\nlive       unavailable"),
        };
        let _ = match &self.lsms {
            Ok(lsms) => writeln!(s, "LSMs       {}", lsms.join(",")),
            Err(e) => writeln!(s, "LSMs       unavailable: {e}"),
        };
        s
    }

    /// The JSON form (one object, one line).
    pub fn json(&self) -> String {
        let i = &self.info;
        let view = JsonStatus {
            namespace: JsonNamespace {
                id: i.id,
                parent_id: i.parent_id,
                depth: i.depth,
            },
            pending_id: i.pending_id,
            limits: self.limits.as_ref().ok().map(|l| JsonLimits {
                maxns: l.maxns,
                maxnsdepth: l.maxnsdepth,
                count: l.count,
            }),
            lsms: self.lsms.as_deref().ok(),
        };
        serde_json::to_string(&view).expect("integers and strings always serialise")
    }
}

fn status(json: bool) -> ExitCode {
    let info = match secns::status() {
        Ok(info) => info,
        Err(e) => return fail(e, 1),
    };
    let st = Status {
        info,
        limits: secns::Limits::read(),
        lsms: secns::active_lsms(),
    };
    if json {
        // The text form says why something is unavailable; JSON has only
        // `null`, so the reason goes to stderr.
        for e in [st.limits.as_ref().err(), st.lsms.as_ref().err()]
            .into_iter()
            .flatten()
        {
            eprintln!("secns: {e}");
        }
        println!("{}", st.json());
    } else {
        print!("{}", st.text());
    }
    ExitCode::SUCCESS
}

fn limits(maxns: Option<u32>, maxnsdepth: Option<u32>) -> ExitCode {
    if let Some(n) = maxns {
        if let Err(e) = secns::Limits::set_maxns(n) {
            return fail(e, 1);
        }
    }
    if let Some(n) = maxnsdepth {
        if let Err(e) = secns::Limits::set_maxnsdepth(n) {
            return fail(e, 1);
        }
    }
    match secns::Limits::read() {
        Ok(l) => {
            println!("maxns       {}", l.maxns);
            println!("maxnsdepth  {}", l.maxnsdepth);
            println!("count       {}", l.count);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, 1),
    }
}

fn run(setup: &[String], program: &[OsString]) -> ExitCode {
    let Some((prog, args)) = program.split_first() else {
        return fail("no PROGRAM given", 2);
    };
    // On failure nothing is left pending (init drops what it created).
    let pending = match secns::init() {
        Ok(id) => id,
        Err(e) => return fail(e, EXIT_FAILED),
    };
    for (n, cmd) in setup.iter().enumerate() {
        let status = Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .env("SECNS_PENDING_ID", pending.to_string())
            .status();
        let why = match status {
            Ok(s) if s.success() => continue,
            Ok(s) => format!("{s}"),
            Err(e) => format!("could not run /bin/sh: {e}"),
        };
        return abort_and_fail(format!(
            "setup command {} ({cmd:?}) failed ({why}); PROGRAM not run",
            n + 1
        ));
    }
    if let Err(e) = secns::unshare() {
        return abort_and_fail(e);
    }
    exec(prog, args)
}

fn join(pid: u32, program: &[OsString]) -> ExitCode {
    let Some((prog, args)) = program.split_first() else {
        return fail("no PROGRAM given", 2);
    };
    // join_pid closes its pidfd again (which is close-on-exec anyway).
    if let Err(e) = secns::join_pid(pid) {
        return fail(format!("pid {pid}: {e}"), EXIT_FAILED);
    }
    exec(prog, args)
}

/// Executes `prog` with `args`, without `SECNS_PENDING_ID` (which only
/// means something to `--setup` commands); returns only on failure.
fn exec(prog: &OsString, args: &[OsString]) -> ExitCode {
    let err = Command::new(prog)
        .args(args)
        .env_remove("SECNS_PENDING_ID")
        .exec();
    let code = match err.kind() {
        std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_EXEC,
    };
    fail(
        format!("cannot execute {}: {err}", prog.to_string_lossy()),
        code,
    )
}

/// Drops the pending namespace (if any) and fails with `e`.
fn abort_and_fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("secns: {e}");
    match secns::abort() {
        Ok(()) => eprintln!("secns: the pending namespace was dropped"),
        Err(a) if a.errno() == libc::ENOENT => {}
        Err(a) => eprintln!("secns: {a}"),
    }
    ExitCode::from(EXIT_FAILED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn run_takes_setups_and_a_program_after_the_separator() {
        let cli = parse(&[
            "secns", "run", "--setup", "a b", "--setup", "c", "--", "prog", "-x", "--y",
        ])
        .expect("valid");
        let Cmd::Run { setup, program } = cli.command else {
            panic!("not run")
        };
        assert_eq!(setup, ["a b", "c"]);
        assert_eq!(program, ["prog", "-x", "--y"]);
    }

    #[test]
    fn run_needs_a_program() {
        let e = parse(&["secns", "run", "--setup", "x"]).expect_err("no program");
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let e = parse(&["secns", "run", "prog"]).expect_err("program without --");
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn join_takes_a_pid_and_a_program_after_the_separator() {
        let cli =
            parse(&["secns", "join", "--pid", "42", "--", "prog", "-x", "--y"]).expect("valid");
        let Cmd::Join { pid, program } = cli.command else {
            panic!("not join")
        };
        assert_eq!(pid, 42);
        assert_eq!(program, ["prog", "-x", "--y"]);
    }

    #[test]
    fn join_needs_a_valid_pid_and_a_program() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| parse(args).expect_err("refused").kind();
        assert_eq!(
            kind(&["secns", "join", "--", "prog"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["secns", "join", "--pid", "1"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["secns", "join", "--pid", "1", "prog"]),
            ErrorKind::UnknownArgument
        );
        // A pid_t above 0: pidfd_open(2) takes nothing else.
        for bad in ["0", "-1", "2147483648", "x", ""] {
            let pid = format!("--pid={bad}");
            assert_eq!(
                kind(&["secns", "join", &pid, "--", "prog"]),
                ErrorKind::ValueValidation,
                "--pid {bad:?}"
            );
        }
        assert!(parse(&["secns", "join", "--pid", "2147483647", "--", "p"]).is_ok());
    }

    #[test]
    fn the_man_pages_cover_every_subcommand() {
        let dir = std::env::temp_dir().join(format!("secns-mangen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        clap_mangen::generate_to(command(), &dir).expect("man pages");
        let page = |name: &str| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        for name in [
            "secns.1",
            "secns-status.1",
            "secns-run.1",
            "secns-join.1",
            "secns-limits.1",
        ] {
            assert!(page(name).contains(".TH"), "{name} is not roff");
        }
        let join = page("secns-join.1");
        assert!(
            join.contains("SECNS_JOIN") && join.contains("\\-\\-pid"),
            "{join}"
        );
        let main = page("secns.1");
        assert!(main.contains("secns\\-join(1)"), "{main}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn limits_take_numbers_in_u32() {
        let cli = parse(&["secns", "limits", "--maxns", "7"]).expect("valid");
        assert!(matches!(
            cli.command,
            Cmd::Limits {
                maxns: Some(7),
                maxnsdepth: None
            }
        ));
        assert!(parse(&["secns", "limits", "--maxnsdepth", "-1"]).is_err());
        // Out of range before anything is written.
        assert!(parse(&["secns", "limits", "--maxns", "1", "--maxnsdepth", "33"]).is_err());
        assert!(parse(&["secns", "limits", "--maxns", "2147483648"]).is_err());
        assert!(parse(&["secns", "limits", "--maxns", "x"]).is_err());
    }

    fn info(id: u64, parent_id: u64, depth: u32, pending_id: Option<u64>) -> secns::Info {
        let mut i = secns::Info::default();
        i.id = id;
        i.parent_id = parent_id;
        i.depth = depth;
        i.pending_id = pending_id;
        i
    }

    fn limits(maxns: u32, maxnsdepth: u32, count: u32) -> secns::Limits {
        let mut l = secns::Limits::default();
        l.maxns = maxns;
        l.maxnsdepth = maxnsdepth;
        l.count = count;
        l
    }

    fn parse_json(s: &str) -> serde_json::Value {
        assert!(!s.contains('\n'), "one line: {s:?}");
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn status_has_text_and_json_forms() {
        let st = Status {
            info: info(7, 3, 2, Some(9)),
            limits: Ok(limits(4096, 32, 4)),
            lsms: Ok(vec!["capability".into(), "sec\"ns".into()]),
        };
        // Byte for byte what scripts (and the in-VM tests) have seen so far.
        assert_eq!(
            st.json(),
            "{\"namespace\":{\"id\":7,\"parent_id\":3,\"depth\":2},\"pending_id\":9,\
             \"limits\":{\"maxns\":4096,\"maxnsdepth\":32,\"count\":4},\
             \"lsms\":[\"capability\",\"sec\\\"ns\"]}"
        );
        assert_eq!(
            parse_json(&st.json()),
            serde_json::json!({
                "namespace": {"id": 7, "parent_id": 3, "depth": 2},
                "pending_id": 9,
                "limits": {"maxns": 4096, "maxnsdepth": 32, "count": 4},
                "lsms": ["capability", "sec\"ns"],
            })
        );
        let text = st.text();
        assert!(text.contains("namespace  7 (depth 2, parent 3)"));
        assert!(text.contains("pending    9"));
        assert!(text.contains("limits     maxns 4096, maxnsdepth 32\n"));
        assert!(text.contains("live       4\n"));
        assert!(text.contains("LSMs       capability,sec\"ns\n"));
        let mut none = st;
        none.info.pending_id = None;
        assert_eq!(
            parse_json(&none.json())["pending_id"],
            serde_json::Value::Null
        );
        assert!(none.json().contains("\"pending_id\":null"));
        assert!(none.text().contains("pending    none"));
    }

    #[test]
    fn status_without_securityfs_shows_the_namespaces() {
        // securityfs not mounted: the limits and the LSM list are missing.
        let st = Status {
            info: info(5, 1, 2, Some(6)),
            limits: Err(secns::Error::new(secns::Op::ReadLimits, libc::ENOENT)),
            lsms: Err(secns::Error::new(secns::Op::ListModules, libc::ENOENT)),
        };
        let text = st.text();
        assert!(
            text.contains("namespace  5 (depth 2, parent 1)\n"),
            "{text}"
        );
        assert!(text.contains("pending    6\n"), "{text}");
        assert!(
            text.contains(
                "limits     unavailable: reading the secns limits failed: securityfs or the \
                 secns files are missing"
            ),
            "{text}"
        );
        assert!(text.contains("live       unavailable\n"), "{text}");
        assert!(text.contains("LSMs       unavailable: "), "{text}");
        assert_eq!(
            parse_json(&st.json()),
            serde_json::json!({
                "namespace": {"id": 5, "parent_id": 1, "depth": 2},
                "pending_id": 6,
                "limits": null,
                "lsms": null,
            })
        );
        // Only the limits missing: the LSMs are still listed.
        let st = Status {
            lsms: Ok(vec!["secns".into()]),
            ..st
        };
        let j = parse_json(&st.json());
        assert_eq!(j["limits"], serde_json::Value::Null);
        assert_eq!(j["lsms"], serde_json::json!(["secns"]));
        assert!(st.text().contains("LSMs       secns\n"));
    }
}
