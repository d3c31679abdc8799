//! The `secns` command end to end, as a runtime or an operator runs it.

use crate::sys;
use crate::sys::count;
use crate::tap::{check, Outcome, Test};
use std::process::{Command, Output};

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
    for page in ["secns.1", "secns-run.1", "secns-status.1", "secns-limits.1"] {
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
