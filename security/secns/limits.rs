// SPDX-License-Identifier: GPL-2.0

//! The global limits on security namespaces and their securityfs files,
//! `/sys/kernel/security/secns/{maxns,maxnsdepth,count}`.

use kernel::capability::Capability;
use kernel::prelude::*;
use kernel::securityfs::{Dir, Opener, Value};
use kernel::sync::atomic::{Atomic, Relaxed};

/// The deepest a namespace may ever be (the initial namespace has depth 0):
/// the limit of nested pid and user namespaces.
pub(crate) const DEPTH_MAX: u32 = 32;

/// The largest value `maxns` accepts.
pub(crate) const MAXNS_MAX: u32 = i32::MAX as u32;

/// Default of `maxns`: how many non-initial namespaces may exist at once.
pub(crate) const DEFAULT_MAXNS: u32 = 4096;

/// Default of `maxnsdepth`.
pub(crate) const DEFAULT_MAXNSDEPTH: u32 = DEPTH_MAX;

/// A limit: its value, and the largest value it accepts. Its securityfs
/// file shows the value and takes a new one through a file opened with
/// `CAP_MAC_ADMIN`.
pub(crate) struct Limit {
    value: Atomic<u32>,
    max: u32,
}

impl Limit {
    const fn new(value: u32, max: u32) -> Self {
        Self {
            value: Atomic::new(value),
            max,
        }
    }

    fn get(&self) -> u32 {
        self.value.load(Relaxed)
    }

    fn set(&self, value: u32) {
        self.value.store(value, Relaxed);
    }
}

#[vtable]
impl Value for Limit {
    fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "{}", self.get())
    }

    fn store(&self, text: &str, opener: &Opener<'_>) -> Result {
        if !opener.capable(Capability::MacAdmin) {
            return Err(EPERM);
        }
        self.set(parse_limit(text, self.max)?);
        Ok(())
    }
}

/// Live non-initial namespaces may not exceed this.
static MAXNS: Limit = Limit::new(DEFAULT_MAXNS, MAXNS_MAX);

/// Namespaces deeper than this may not be made.
static MAXNSDEPTH: Limit = Limit::new(DEFAULT_MAXNSDEPTH, DEPTH_MAX);

/// The number of live non-initial namespaces (pending ones included).
static COUNT: Atomic<u32> = Atomic::new(0);

/// The read-only securityfs file of the count.
struct Count;

#[vtable]
impl Value for Count {
    fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "{}", count())
    }
}

/// Returns the current `maxns`.
pub(crate) fn maxns() -> u32 {
    MAXNS.get()
}

/// Returns the current `maxnsdepth`.
pub(crate) fn maxnsdepth() -> u32 {
    MAXNSDEPTH.get()
}

/// Returns the number of live non-initial namespaces.
pub(crate) fn count() -> u32 {
    COUNT.load(Relaxed)
}

/// One counted non-initial namespace: made by [`reserve`], released (the
/// count decremented) when dropped, so every failure path gives it back.
pub(crate) struct Reservation(());

impl Drop for Reservation {
    fn drop(&mut self) {
        COUNT.fetch_sub(1, Relaxed);
    }
}

/// Reserves room for one more namespace at `depth`: `ENOSPC` if `depth` is
/// beyond `maxnsdepth` or the count is at `maxns`. The count never exceeds
/// `maxns`, also under concurrency.
pub(crate) fn reserve(depth: u32) -> Result<Reservation> {
    if depth > maxnsdepth() {
        return Err(ENOSPC);
    }
    let mut count = COUNT.load(Relaxed);
    loop {
        if count >= maxns() {
            return Err(ENOSPC);
        }
        match COUNT.cmpxchg(count, count + 1, Relaxed) {
            Ok(_) => return Ok(Reservation(())),
            Err(now) => count = now,
        }
    }
}

/// Both limits set for a KUnit test, and put back when dropped or, if the
/// test fails first, when KUnit cleans up after it.
#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
pub(crate) struct TestLimits {
    _cleanup: kernel::kunit::Cleanup,
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
impl TestLimits {
    /// Sets `maxns` and `maxnsdepth`, remembering the values they replace.
    pub(crate) fn set(maxns: u32, maxnsdepth: u32) -> Result<Self> {
        let saved = (MAXNS.get(), MAXNSDEPTH.get());
        MAXNS.set(maxns);
        MAXNSDEPTH.set(maxnsdepth);
        kernel::kunit::Cleanup::new(saved, |(maxns, maxnsdepth)| {
            MAXNS.set(maxns);
            MAXNSDEPTH.set(maxnsdepth);
        })
        .map(|c| Self { _cleanup: c })
    }
}

/// Applies the boot parameters `secns.maxns=` and `secns.maxnsdepth=`; a
/// value out of range is reported and the default kept.
pub(crate) fn set_from_boot(maxns: u32, maxnsdepth: u32) {
    if maxns <= MAXNS_MAX {
        MAXNS.set(maxns);
    } else {
        pr_warn!("maxns={maxns} is above {MAXNS_MAX}, using {DEFAULT_MAXNS}\n");
    }
    if maxnsdepth <= DEPTH_MAX {
        MAXNSDEPTH.set(maxnsdepth);
    } else {
        pr_warn!("maxnsdepth={maxnsdepth} is above {DEPTH_MAX}, using {DEFAULT_MAXNSDEPTH}\n");
    }
}

/// Parses a limit written to securityfs: a decimal number in `0..=max`.
pub(crate) fn parse_limit(text: &str, max: u32) -> Result<u32> {
    let text = text.trim_ascii();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EINVAL);
    }
    match text.parse::<u32>() {
        Ok(v) if v <= max => Ok(v),
        _ => Err(EINVAL),
    }
}

/// Creates `/sys/kernel/security/secns/` and its files; on error nothing
/// is left behind.
pub(crate) fn securityfs_init() -> Result {
    let dir = Dir::create(c"secns", None)?;
    let maxns = dir.file(c"maxns", &MAXNS)?;
    let maxnsdepth = dir.file(c"maxnsdepth", &MAXNSDEPTH)?;
    let count = dir.file(c"count", &Count)?;
    maxns.keep();
    maxnsdepth.keep();
    count.keep();
    dir.keep();
    Ok(())
}

#[cfg(CONFIG_SECURITY_SECNS_KUNIT_TEST)]
#[kunit_tests(secns_limits)]
mod tests {
    use super::*;

    #[test]
    fn parse_limit_takes_decimal_numbers_in_range() {
        assert_eq!(parse_limit("0", 32), Ok(0));
        assert_eq!(parse_limit("32", 32), Ok(32));
        assert_eq!(parse_limit(" 7 ", 32), Ok(7));
        assert_eq!(parse_limit("2147483647", MAXNS_MAX), Ok(MAXNS_MAX));
    }

    #[test]
    fn parse_limit_rejects_anything_else() {
        for bad in [
            "",
            " ",
            "33",
            "-1",
            "+1",
            "1x",
            "0x10",
            "1 2",
            "99999999999",
        ] {
            assert_eq!(parse_limit(bad, 32), Err(EINVAL));
        }
        assert_eq!(parse_limit("2147483648", MAXNS_MAX), Err(EINVAL));
    }

    #[test]
    fn boot_values_out_of_range_leave_the_limits_alone() -> Result {
        let _saved = TestLimits::set(DEFAULT_MAXNS, DEFAULT_MAXNSDEPTH)?;
        set_from_boot(MAXNS_MAX + 1, DEPTH_MAX + 1);
        assert_eq!((maxns(), maxnsdepth()), (DEFAULT_MAXNS, DEFAULT_MAXNSDEPTH));
        set_from_boot(MAXNS_MAX, DEPTH_MAX);
        assert_eq!((maxns(), maxnsdepth()), (MAXNS_MAX, DEPTH_MAX));
        set_from_boot(7, 0);
        assert_eq!((maxns(), maxnsdepth()), (7, 0));
        Ok(())
    }
}
