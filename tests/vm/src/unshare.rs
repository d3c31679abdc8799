//! `LSM_ATTR_UNSHARE_INIT` and `LSM_ATTR_UNSHARE` from user space, with raw
//! syscalls. Each test that changes the caller's namespaces runs in a
//! forked child, and the parent checks that the count of namespaces is back
//! to its baseline once the child is gone.

use crate::sys::count;
use crate::sys::{
    self, Info, LsmCtxHeader, RawCtx, SecnsUnshareArgs, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT,
    LSM_CTX_HEADER, LSM_ID_SECNS, SECNS_ABORT, SECNS_UNSHARE_ARGS_SIZE_VER0,
};
use crate::tap::{check, Outcome, Test};
use std::io::Write;
use std::time::Duration;

pub const TESTS: &[Test] = &[
    Test {
        name: "UNSHARE_INIT makes a pending namespace, UNSHARE enters it at depth 1",
        run: two_phase,
    },
    Test {
        name: "UNSHARE without a pending namespace creates and enters one",
        run: one_shot,
    },
    Test {
        name: "effective namespace survives fork and exec, pending does not",
        run: inheritance,
    },
    Test {
        name: "execve drops the pending namespace of the task that calls it",
        run: exec_drops_pending,
    },
    Test {
        name: "second UNSHARE_INIT is EBUSY",
        run: second_init_ebusy,
    },
    Test {
        name: "SECNS_ABORT drops the pending namespace; ENOENT without one",
        run: abort,
    },
    Test {
        name: "unknown payload flags are EINVAL, SECNS_ABORT with UNSHARE too",
        run: unknown_flags,
    },
    Test {
        name: "payload: short is EINVAL, non-zero tail is E2BIG, zero tail is fine",
        run: payload_rules,
    },
    Test {
        name: "without CAP_MAC_ADMIN: EPERM (abort still allowed)",
        run: no_cap_eperm,
    },
    Test {
        name: "UNSHARE from a multi-threaded process is EINVAL",
        run: threads_einval,
    },
    Test {
        name: "maxns and maxnsdepth: ENOSPC at the exact boundary",
        run: limits_enospc,
    },
    Test {
        name: "lsm_get_self_attr(UNSHARE): size query, E2BIG, LSM_FLAG_SINGLE",
        run: get_sizes,
    },
    // The argument checks of lsm_set_self_attr(2), one per row of the table
    // in Documentation/userspace-api/secns.rst; none may leave anything.
    Test {
        name: "size 0 is EINVAL",
        run: || raw_err(8, |c| (c, 0, 0), libc::EINVAL),
    },
    Test {
        name: "size below the lsm_ctx header (31) is EINVAL",
        run: || raw_err(8, |c| (c, 31, 0), libc::EINVAL),
    },
    Test {
        name: "size above PAGE_SIZE is E2BIG",
        run: || raw_err(8, |c| (c, 4097, 0), libc::E2BIG),
    },
    Test {
        name: "NULL ctx is EFAULT",
        run: || raw_err(8, |_| (std::ptr::null(), 32, 0), libc::EFAULT),
    },
    Test {
        name: "unmapped ctx is EFAULT",
        run: || raw_err(8, |_| (unmapped(), 32, 0), libc::EFAULT),
    },
    Test {
        name: "non-zero syscall flags are EINVAL",
        run: || raw_err(8, |c| (c, 32, 1), libc::EINVAL),
    },
    Test {
        name: "lsm_ctx.len beyond size is EINVAL",
        run: || ctx_err(LSM_ID_SECNS, 48, 8, libc::EINVAL),
    },
    Test {
        name: "lsm_ctx.ctx_len beyond len is EINVAL",
        run: || ctx_err(LSM_ID_SECNS, 40, 16, libc::EINVAL),
    },
    Test {
        name: "lsm_ctx.ctx_len overflowing the header size is EINVAL",
        run: || ctx_err(LSM_ID_SECNS, 40, u64::MAX - 7, libc::EINVAL),
    },
    Test {
        name: "a wrong lsm_ctx.id is EOPNOTSUPP",
        run: || ctx_err(LSM_ID_SECNS + 1, 40, 8, libc::EOPNOTSUPP),
    },
    Test {
        name: "an unknown attribute is EOPNOTSUPP",
        run: || attr_err(108, libc::EOPNOTSUPP),
    },
    Test {
        name: "another LSM's attribute (LSM_ATTR_CURRENT) is EOPNOTSUPP for secns",
        run: || attr_err(100, libc::EOPNOTSUPP),
    },
    Test {
        name: "lsm_get_self_attr with a NULL size is EINVAL",
        run: get_null_size,
    },
];

/// Run in a boot of their own, with `lockdown=integrity secns.maxns=7
/// secns.maxnsdepth=99` on the kernel command line.
pub const SECOND_BOOT_TESTS: &[Test] = &[
    Test {
        name: "under lockdown=integrity UNSHARE_INIT and UNSHARE are EPERM",
        run: lockdown_eperm,
    },
    Test {
        name: "secns.maxns= sets maxns at boot, an out-of-range secns.maxnsdepth= is ignored",
        run: boot_parameters,
    },
];

/// Run in a boot of their own, which they lock down at run time.
pub const LOCKDOWN_RAISE_TESTS: &[Test] = &[Test {
    name: "lockdown raised at run time: a pending namespace cannot be entered (lockdown's EPERM)",
    run: lockdown_raised,
}];

/// Waits until the count is `base` again.
fn back_to(base: u64) -> Outcome {
    sys::count_back_to(base, Duration::from_secs(5))
}

/// Runs `f` in a forked child; fails with what the child printed.
fn in_child(f: impl FnOnce() -> Outcome) -> Outcome {
    let base = count()?;
    let _ = std::io::stdout().flush();
    // SAFETY: the test program is single-threaded here; the child runs `f`
    // and leaves with `_exit`.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: errno {}", sys::errno())),
        0 => {
            let code = match f() {
                Ok(()) => 0,
                Err(e) => {
                    println!("#   child: {e}");
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: leaving the child without running the parent's atexit
            // handlers.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: `status` is writable.
            if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
                return Err(format!("waitpid: errno {}", sys::errno()));
            }
            check(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                || format!("child failed (status {status:#x})"),
            )?;
            back_to(base)
        }
    }
}

fn expect_err(what: &str, got: Result<(), i32>, errno: i32) -> Outcome {
    match got {
        Err(e) if e == errno => Ok(()),
        Err(e) => Err(format!("{what}: errno {e}, expected {errno}")),
        Ok(()) => Err(format!("{what}: succeeded, expected errno {errno}")),
    }
}

fn ok(what: &str, got: Result<(), i32>) -> Outcome {
    got.map_err(|e| format!("{what}: errno {e}"))
}

fn init() -> Result<(), i32> {
    sys::secns_set(LSM_ATTR_UNSHARE_INIT, None)
}

fn unshare() -> Result<(), i32> {
    sys::secns_set(LSM_ATTR_UNSHARE, None)
}

fn two_phase() -> Outcome {
    in_child(|| {
        let before = sys::secns_info()?;
        check(
            before
                == Info {
                    id: 0,
                    parent_id: 0,
                    pending_id: 0,
                    depth: 0,
                    flags: 0,
                },
            || format!("initial info {before:?}"),
        )?;
        let base = count()?;
        ok("UNSHARE_INIT", init())?;
        let pending = sys::secns_info()?;
        check(
            pending.id == 0 && pending.pending_id > 0 && pending.flags == sys::SECNS_INFO_PENDING,
            || format!("after UNSHARE_INIT: {pending:?}"),
        )?;
        check(count()? == base + 1, || {
            "pending namespace not counted".into()
        })?;
        ok("UNSHARE", unshare())?;
        let now = sys::secns_info()?;
        let want = Info {
            id: pending.pending_id,
            parent_id: 0,
            pending_id: 0,
            depth: 1,
            flags: 0,
        };
        check(now == want, || {
            format!("after UNSHARE: {now:?}, expected {want:?}")
        })?;
        check(count()? == base + 1, || "count changed by UNSHARE".into())
    })
}

fn one_shot() -> Outcome {
    in_child(|| {
        ok("UNSHARE", unshare())?;
        let a = sys::secns_info()?;
        check(a.depth == 1 && a.id > 0 && a.parent_id == 0, || {
            format!("{a:?}")
        })?;
        ok("nested UNSHARE", unshare())?;
        let b = sys::secns_info()?;
        check(b.depth == 2 && b.parent_id == a.id && b.id > a.id, || {
            format!("{b:?} after {a:?}")
        })
    })
}

/// `secns-vmtest --info` prints the caller's `secns_info` like this.
pub fn print_info() -> std::process::ExitCode {
    match sys::secns_info() {
        Ok(i) => {
            println!(
                "{} {} {} {} {}",
                i.id, i.parent_id, i.pending_id, i.depth, i.flags
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn inheritance() -> Outcome {
    in_child(|| {
        ok("UNSHARE", unshare())?;
        ok("UNSHARE_INIT", init())?;
        let me = sys::secns_info()?;
        // A new process (fork, then execve of this program) reports its own.
        let out = std::process::Command::new("/proc/self/exe")
            .arg("--info")
            .output()
            .map_err(|e| format!("running --info: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let want = format!("{} 0 0 1 0", me.id);
        check(out.status.success() && text.trim() == want, || {
            format!(
                "child reports {:?}, expected {want:?} (parent {me:?})",
                text.trim()
            )
        })?;
        // The parent still has its pending namespace.
        check(sys::secns_info()?.pending_id == me.pending_id, || {
            "pending lost".into()
        })
    })
}

fn exec_drops_pending() -> Outcome {
    use std::ffi::CString;
    use std::io::Read;
    use std::os::fd::FromRawFd;
    in_child(|| {
        let base = count()?;
        let me = sys::secns_info()?;
        let exe = CString::new("/proc/self/exe").map_err(|e| e.to_string())?;
        let arg = CString::new("--info").map_err(|e| e.to_string())?;
        let argv = [exe.as_ptr(), arg.as_ptr(), std::ptr::null()];
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: errno {}", sys::errno()));
        }
        // SAFETY: single-threaded; the child only makes system calls and
        // leaves with `execv` or `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // The task that creates the pending namespace is the one that
            // executes the program: the program must not find it.
            // SAFETY: `fds[1]` is open; `argv` is null-terminated.
            let code = unsafe {
                libc::dup2(fds[1], 1);
                match init() {
                    Ok(()) => {
                        libc::execv(exe.as_ptr(), argv.as_ptr());
                        126
                    }
                    Err(e) => e,
                }
            };
            // SAFETY: leaving the child without running atexit handlers.
            unsafe { libc::_exit(code) }
        }
        // SAFETY: the write end is ours to close; the read end becomes the
        // `File`'s.
        let mut out = unsafe {
            libc::close(fds[1]);
            std::fs::File::from_raw_fd(fds[0])
        };
        let mut text = String::new();
        let read = out.read_to_string(&mut text);
        let mut status = 0;
        // SAFETY: `status` is writable.
        if pid < 0 || unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
            return Err(format!("fork or waitpid: errno {}", sys::errno()));
        }
        read.map_err(|e| format!("reading the program's output: {e}"))?;
        check(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            || format!("UNSHARE_INIT then execve: exit status {status:#x}"),
        )?;
        let want = format!("{} {} 0 {} 0", me.id, me.parent_id, me.depth);
        check(text.trim() == want, || {
            format!(
                "after execve the program reports {:?}, expected {want:?} (no pending namespace)",
                text.trim()
            )
        })?;
        back_to(base)
    })
}

fn lockdown_raised() -> Outcome {
    const LOCKDOWN: &str = "/sys/kernel/security/lockdown";
    let mode = std::fs::read_to_string(LOCKDOWN).map_err(|e| format!("lockdown: {e}"))?;
    check(mode.contains("[none]"), || {
        format!("booted locked down already: {mode:?}")
    })?;
    in_child(|| {
        let base = count()?;
        ok("UNSHARE_INIT before lockdown", init())?;
        let pending = sys::secns_info()?.pending_id;
        std::fs::write(LOCKDOWN, "integrity").map_err(|e| format!("raising lockdown: {e}"))?;
        expect_err("UNSHARE after lockdown was raised", unshare(), libc::EPERM)?;
        // With CAP_MAC_ADMIN, the EPERM is lockdown's: it says so.
        let line = "Lockdown: secns-vmtest: use of security namespaces is restricted";
        check(sys::kernel_log()?.contains(line), || {
            format!("no {line:?} in the kernel log")
        })?;
        // A refused UNSHARE keeps the namespace pending; it can be dropped.
        check(sys::secns_info()?.pending_id == pending, || {
            "the pending namespace changed".into()
        })?;
        ok(
            "ABORT",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
        )?;
        expect_err("UNSHARE_INIT under lockdown", init(), libc::EPERM)?;
        back_to(base)
    })
}

fn second_init_ebusy() -> Outcome {
    in_child(|| {
        ok("UNSHARE_INIT", init())?;
        let first = sys::secns_info()?.pending_id;
        let base = count()?;
        expect_err("second UNSHARE_INIT", init(), libc::EBUSY)?;
        check(sys::secns_info()?.pending_id == first, || {
            "pending changed".into()
        })?;
        check(count()? == base, || "count changed".into())
    })
}

fn abort() -> Outcome {
    in_child(|| {
        let base = count()?;
        expect_err(
            "ABORT without pending",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
            libc::ENOENT,
        )?;
        ok("UNSHARE_INIT", init())?;
        ok(
            "ABORT",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
        )?;
        let i = sys::secns_info()?;
        check(i.pending_id == 0 && i.flags == 0, || {
            format!("after ABORT: {i:?}")
        })?;
        back_to(base)
    })
}

fn unknown_flags() -> Outcome {
    in_child(|| {
        let base = count()?;
        expect_err(
            "INIT flag 2",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(2)),
            libc::EINVAL,
        )?;
        expect_err(
            "INIT flag 1<<63",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(1 << 63)),
            libc::EINVAL,
        )?;
        expect_err(
            "UNSHARE with SECNS_ABORT",
            sys::secns_set(LSM_ATTR_UNSHARE, Some(SECNS_ABORT)),
            libc::EINVAL,
        )?;
        // lsm_ctx.flags are not used either.
        let ctx = RawCtx::new(
            LsmCtxHeader {
                flags: 1,
                ..LsmCtxHeader::new(LSM_ID_SECNS, 0)
            },
            &[],
        );
        expect_err(
            "lsm_ctx.flags 1",
            sys::set_ctx(LSM_ATTR_UNSHARE_INIT, &ctx),
            libc::EINVAL,
        )?;
        check(count()? == base && sys::secns_info()?.flags == 0, || {
            "state changed".into()
        })
    })
}

fn payload_rules() -> Outcome {
    in_child(|| {
        let set = |payload: &[u8]| sys::set_ctx(LSM_ATTR_UNSHARE_INIT, &RawCtx::secns(payload));
        expect_err("4-byte payload", set(&[0; 4]), libc::EINVAL)?;
        // A 24-byte struct whose byte 20, beyond version 0, is not zero.
        let mut long = [0u8; 24];
        long[SECNS_UNSHARE_ARGS_SIZE_VER0 + 12] = 1;
        expect_err("non-zero tail", set(&long), libc::E2BIG)?;
        // ctx_len 0, exactly 8 bytes and a longer zero tail all mean "no flags".
        for len in [0usize, 8, 24] {
            ok(&format!("{len}-byte payload"), set(&vec![0u8; len]))?;
            ok(
                "ABORT",
                sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
            )?;
        }
        // SECNS_ABORT in a longer, zero-tailed struct is still understood.
        let mut abort = SecnsUnshareArgs { flags: SECNS_ABORT }.as_bytes().to_vec();
        abort.resize(16, 0);
        expect_err(
            "ABORT (16 bytes) with nothing pending",
            set(&abort),
            libc::ENOENT,
        )
    })
}

fn no_cap_eperm() -> Outcome {
    in_child(|| {
        ok("UNSHARE_INIT", init())?;
        sys::drop_effective_cap(sys::CAP_MAC_ADMIN).map_err(|e| format!("capset: errno {e}"))?;
        expect_err("UNSHARE_INIT without CAP_MAC_ADMIN", init(), libc::EPERM)?;
        expect_err("UNSHARE without CAP_MAC_ADMIN", unshare(), libc::EPERM)?;
        ok(
            "ABORT without CAP_MAC_ADMIN",
            sys::secns_set(LSM_ATTR_UNSHARE_INIT, Some(SECNS_ABORT)),
        )
    })
}

fn threads_einval() -> Outcome {
    in_child(|| {
        let base = count()?;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let _ = rx.recv();
        });
        let res = unshare();
        drop(tx);
        let _ = t.join();
        sys::wait_single_threaded();
        expect_err("UNSHARE with two threads", res, libc::EINVAL)?;
        check(count()? == base && sys::secns_info()?.depth == 0, || {
            "state changed".into()
        })?;
        // Single-threaded again: it works.
        ok("UNSHARE after the thread ended", unshare())
    })
}

fn limits_enospc() -> Outcome {
    in_child(|| {
        // Depth: exactly maxnsdepth deep succeeds, one more does not.
        {
            let _depth = sys::Limit::set("maxnsdepth", 2)?;
            ok("UNSHARE to depth 1", unshare())?;
            ok("UNSHARE to depth 2", unshare())?;
            let base = count()?;
            expect_err("UNSHARE_INIT at depth 3", init(), libc::ENOSPC)?;
            expect_err("UNSHARE to depth 3", unshare(), libc::ENOSPC)?;
            check(count()? == base && sys::secns_info()?.depth == 2, || {
                "state changed".into()
            })?;
        }
        // Count: exactly maxns live namespaces, then ENOSPC.
        let base = count()?;
        let _maxns = sys::Limit::set("maxns", base + 1)?;
        ok("UNSHARE_INIT up to maxns", init())?;
        ok("UNSHARE", unshare())?;
        expect_err("UNSHARE_INIT beyond maxns", init(), libc::ENOSPC)?;
        expect_err("UNSHARE beyond maxns", unshare(), libc::ENOSPC)?;
        check(count()? == base + 1, || {
            format!("count {} (maxns {})", count().unwrap_or(0), base + 1)
        })
    })
}

fn get_sizes() -> Outcome {
    // Size query: NULL buffer and size 0 give E2BIG and the size needed.
    let (r, size) = sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut [], 0);
    check(r == Err(libc::E2BIG) && size == 64, || {
        format!("size query: {r:?}, size {size}")
    })?;
    // Too small a buffer: E2BIG, size updated.
    let mut buf = [0u8; 64];
    let (r, size) = sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut buf[..40], 0);
    check(r == Err(libc::E2BIG) && size == 64, || {
        format!("40-byte buffer: {r:?}, size {size}")
    })?;
    // LSM_FLAG_SINGLE with secns's id: exactly one entry of 64 bytes.
    let mut buf = [0u8; 128];
    let ask = LsmCtxHeader {
        id: LSM_ID_SECNS,
        ..LsmCtxHeader::default()
    };
    buf[..LSM_CTX_HEADER].copy_from_slice(ask.as_bytes());
    let (r, size) = sys::lsm_get_self_attr(LSM_ATTR_UNSHARE, &mut buf, sys::LSM_FLAG_SINGLE);
    let header = LsmCtxHeader::from_bytes(&buf).unwrap_or_default();
    check(
        r == Ok(1)
            && size == 64
            && header.id == LSM_ID_SECNS
            && header.len == 64
            && header.ctx_len == 32,
        || format!("LSM_FLAG_SINGLE: {r:?}, size {size}, header {header:?}"),
    )?;
    // secns answers no other attribute.
    let (r, _) = sys::lsm_get_self_attr(LSM_ATTR_UNSHARE_INIT, &mut buf, sys::LSM_FLAG_SINGLE);
    check(r == Err(libc::EOPNOTSUPP), || {
        format!("UNSHARE_INIT: {r:?}")
    })
}

fn lockdown_eperm() -> Outcome {
    let mode = std::fs::read_to_string("/sys/kernel/security/lockdown")
        .map_err(|e| format!("lockdown: {e}"))?;
    check(mode.contains("[integrity]"), || {
        format!("not locked down: {mode:?}")
    })?;
    in_child(|| {
        let base = count()?;
        expect_err("UNSHARE_INIT under lockdown", init(), libc::EPERM)?;
        expect_err("UNSHARE under lockdown", unshare(), libc::EPERM)?;
        check(count()? == base && sys::secns_info()?.flags == 0, || {
            "state changed".into()
        })
    })
}

fn boot_parameters() -> Outcome {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/sys/kernel/security/secns/{name}"))
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("{name}: {e}"))
    };
    let (maxns, depth) = (read("maxns")?, read("maxnsdepth")?);
    check(maxns == "7" && depth == "32", || {
        format!("maxns {maxns}, maxnsdepth {depth}; expected 7 and the default 32")
    })
}

/// Calls `lsm_set_self_attr(LSM_ATTR_UNSHARE_INIT)` with the arguments `f`
/// makes from a well-formed request of `payload` bytes, in a child, and
/// expects `errno` and no change.
fn raw_err(payload: usize, f: fn(*const u8) -> (*const u8, u32, u32), errno: i32) -> Outcome {
    in_child(|| {
        let ctx = RawCtx::secns(&vec![0; payload]);
        let (ptr, size, flags) = f(ctx.as_ptr());
        let base = count()?;
        let r = sys::lsm_set_self_attr_raw(LSM_ATTR_UNSHARE_INIT, ptr, size, flags).map(drop);
        expect_err("lsm_set_self_attr", r, errno)?;
        unchanged(base)
    })
}

/// An address with nothing mapped (a page mapped and unmapped again).
fn unmapped() -> *const u8 {
    // SAFETY: a fresh anonymous mapping, unmapped right away; only its
    // address is used.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p != libc::MAP_FAILED {
            libc::munmap(p, 4096);
        }
        p.cast()
    }
}

/// Nothing pending, nothing counted beyond `base`.
fn unchanged(base: u64) -> Outcome {
    let i = sys::secns_info()?;
    check(count()? == base && i.flags == 0 && i.depth == 0, || {
        format!("state changed: {i:?}")
    })
}

/// `lsm_set_self_attr(LSM_ATTR_UNSHARE_INIT)` with a 40-byte buffer whose
/// header says `id`, `len`, `ctx_len`: expects `errno`.
fn ctx_err(id: u64, len: u64, ctx_len: u64, errno: i32) -> Outcome {
    in_child(|| {
        let ctx = RawCtx::new(
            LsmCtxHeader {
                id,
                flags: 0,
                len,
                ctx_len,
            },
            &[0; 8],
        );
        let base = count()?;
        // All 40 bytes, whatever the header says.
        let r = sys::set_ctx(LSM_ATTR_UNSHARE_INIT, &ctx);
        expect_err("lsm_set_self_attr", r, errno)?;
        unchanged(base)
    })
}

/// A well-formed secns request for attribute `attr`: expects `errno`.
fn attr_err(attr: u32, errno: i32) -> Outcome {
    in_child(|| {
        let base = count()?;
        expect_err("lsm_set_self_attr", sys::secns_set(attr, None), errno)?;
        unchanged(base)
    })
}

fn get_null_size() -> Outcome {
    // SAFETY: a NULL `size` (and a NULL `ctx`) is what is tested: NULL is no
    // memory of this process, so the kernel cannot write to any through it.
    let r = unsafe {
        sys::lsm_get_self_attr_raw(
            LSM_ATTR_UNSHARE,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    check(r == Err(libc::EINVAL), || format!("returned {r:?}"))
}
