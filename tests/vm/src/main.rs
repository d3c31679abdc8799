//! secns tests that run inside the test VM, for what only Rust can test: the
//! `secns` crate and command end to end, the boots with other kernel
//! parameters, and the stress and fuzz runs. The syscall errno and behaviour
//! suite is the kselftest in tools/testing/selftests/secns.
//!
//! `make vmtest` builds this program statically, puts it into the initramfs
//! and runs it as part of the guest's test list; it prints TAP 13 and exits
//! non-zero when a test fails.
//!
//! - no argument: the crate and command tests, the audit records of the
//!   ptrace boundary, those of the BPF policy engine (`secns-policy`, its
//!   upgrade under a task held inside a hook) and of the kfuncs it uses,
//!   and the OCI runtime's (`secns-runtime`), for a normal boot;
//! - `second-boot`: the tests for a boot with `lockdown=integrity`, the
//!   secns boot parameters and no `bpf` in `lsm=` (see `tests/run-vm`);
//! - `lockdown-raise`: the tests that raise lockdown at run time, in a boot
//!   of their own (lockdown cannot be lowered again);
//! - `stress`: the stress, fuzz and fault-injection runs, and the policy
//!   engine's tests (its BPF programs under KASAN and kmemleak), for the
//!   checker kernel;
//! - `kcsan`: the concurrency runs, for the KCSAN kernel (no kmemleak, no
//!   fault injection there);
//! - `fuzz`: the long fuzz run of `make fuzz` (`FUZZ_CALLS`, `FUZZ_SECONDS`,
//!   `FUZZ_SEED` from the environment);
//! - `--pending-none`: exit 0 if the caller has no pending namespace (what
//!   a program finds after `execve`);
//! - `--exec-probe`: what an execve under fault injection finds (see
//!   `faults.rs`);
//! - `--info`: print the caller's `secns_info` (used by the tests to look at
//!   a freshly executed process);
//! - `--probe settime|init|map-by-id|open PATH|...`: try one operation
//!   and print `ok` or `errno N` (the policy engine's tests, in
//!   `policy.rs`);
//! - `--drop-cap-mac-admin PROGRAM ARGS...`: execute PROGRAM without
//!   CAP_MAC_ADMIN.

mod cli;
mod faults;
mod fuzz;
mod interleave;
mod kfuncs;
mod policy;
mod policy_files;
mod ptrace;
mod runtime;
mod stress;
mod sys;
mod tap;
mod unshare;
mod upgrade;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tests: Vec<_> = match args.first().map(String::as_str) {
        None => [
            cli::TESTS,
            ptrace::TESTS,
            policy::TESTS,
            upgrade::TESTS,
            policy_files::TESTS,
            policy_files::BTRFS_TESTS,
            kfuncs::TESTS,
            runtime::TESTS,
        ]
        .concat(),
        Some("--drop-cap-mac-admin") => return cli::drop_cap_and_exec(&args[1..]),
        Some("second-boot") => [unshare::SECOND_BOOT_TESTS, policy::SECOND_BOOT_TESTS].concat(),
        Some("lockdown-raise") => unshare::LOCKDOWN_RAISE_TESTS.to_vec(),
        Some("stress") => [
            stress::RUNS,
            interleave::TESTS,
            faults::TESTS,
            policy::TESTS,
            upgrade::TESTS,
            // Not BTRFS_TESTS: the checker kernel has no btrfs.
            policy_files::TESTS,
            kfuncs::TESTS,
            &[stress::SCAN],
        ]
        .concat(),
        Some("kcsan") => [&[stress::BASELINE], stress::CONCURRENT, interleave::TESTS].concat(),
        Some("fuzz") => vec![
            stress::CLEAR,
            tap::Test {
                name: "fuzz: FUZZ_CALLS calls (default 1000000), within FUZZ_SECONDS",
                run: || fuzz::run(1_000_000, 7200),
            },
            stress::SCAN,
        ],
        Some("--pending-none") => return fuzz::pending_none(),
        Some("--exec-probe") => return faults::exec_probe(),
        Some("--info") => return unshare::print_info(),
        Some("--probe") => return policy::probe(&args[1..]),
        Some(other) => {
            eprintln!("secns-vmtest: unknown argument {other:?}");
            return ExitCode::from(2);
        }
    };
    let failed = tap::run(&tests);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
