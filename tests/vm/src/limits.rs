//! `/sys/kernel/security/secns/{maxns,maxnsdepth,count}`.

use crate::sys;
use crate::tap::{check, Outcome, Test};
use std::io::Write;

const DIR: &str = "/sys/kernel/security/secns";

pub const TESTS: &[Test] = &[
    Test {
        name: "limits files show the documented defaults",
        run: defaults,
    },
    Test {
        name: "maxns and maxnsdepth take a new value in range",
        run: set_in_range,
    },
    Test {
        name: "limits reject bad values with EINVAL",
        run: bad_values_einval,
    },
    Test {
        name: "count is read-only (EINVAL on write)",
        run: count_read_only,
    },
    Test {
        name: "writing a limit needs CAP_MAC_ADMIN (EPERM)",
        run: needs_cap_mac_admin,
    },
];

fn read(name: &str) -> Result<String, String> {
    std::fs::read_to_string(format!("{DIR}/{name}")).map_err(|e| format!("reading {name}: {e}"))
}

/// Writes `data` to the file `name` in one write(2); the errno on failure.
fn write(name: &str, data: &[u8]) -> Result<(), i32> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("{DIR}/{name}"))
        .map_err(|e| e.raw_os_error().unwrap_or(0))?;
    match f.write(data) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(0),
        Err(e) => Err(e.raw_os_error().unwrap_or(0)),
    }
}

fn expect(name: &str, want: &str) -> Outcome {
    let got = read(name)?;
    check(got == want, || {
        format!("{name} is {got:?}, expected {want:?}")
    })
}

fn defaults() -> Outcome {
    expect("maxns", "4096\n")?;
    expect("maxnsdepth", "32\n")?;
    expect("count", "0\n")
}

fn set_in_range() -> Outcome {
    for (name, value, default) in [("maxns", "100", "4096"), ("maxnsdepth", "5", "32")] {
        write(name, format!("{value}\n").as_bytes())
            .map_err(|e| format!("writing {value} to {name}: errno {e}"))?;
        expect(name, &format!("{value}\n"))?;
        write(name, default.as_bytes()).map_err(|e| format!("restoring {name}: errno {e}"))?;
        expect(name, &format!("{default}\n"))?;
    }
    Ok(())
}

fn bad_values_einval() -> Outcome {
    let long = [b'1'; 129];
    let cases: [(&str, &[u8]); 8] = [
        ("maxnsdepth", b"33"),
        ("maxnsdepth", b"-1"),
        ("maxns", b"2147483648"),
        ("maxns", b"abc"),
        ("maxns", b""),
        ("maxns", b"12 34"),
        ("maxns", b"\xff"),
        ("maxns", &long),
    ];
    for (name, value) in cases {
        let got = write(name, value);
        check(got == Err(libc::EINVAL), || {
            format!(
                "writing {:?} to {name}: {got:?}, expected EINVAL",
                String::from_utf8_lossy(value)
            )
        })?;
    }
    // Nothing changed.
    expect("maxns", "4096\n")?;
    expect("maxnsdepth", "32\n")
}

fn count_read_only() -> Outcome {
    let got = write("count", b"5");
    check(got == Err(libc::EINVAL), || {
        format!("writing count: {got:?}, expected EINVAL")
    })?;
    expect("count", "0\n")
}

fn needs_cap_mac_admin() -> Outcome {
    // Capabilities are per thread: drop CAP_MAC_ADMIN in a thread of our own.
    let got = std::thread::spawn(|| {
        sys::drop_effective_cap(sys::CAP_MAC_ADMIN).map_err(|e| format!("capset: errno {e}"))?;
        Ok::<_, String>(write("maxns", b"7"))
    })
    .join()
    .map_err(|_| "thread panicked".to_string())??;
    check(got == Err(libc::EPERM), || {
        format!("writing maxns: {got:?}, expected EPERM")
    })?;
    expect("maxns", "4096\n")
}
