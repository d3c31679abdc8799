//! secns tests that run inside the test VM.
//!
//! `make vmtest` builds this program statically, puts it into the initramfs
//! and runs it as part of the guest's test list; it prints TAP 13 and exits
//! non-zero when a test fails.

mod limits;
mod registration;
mod sys;
mod tap;

use std::process::ExitCode;

fn main() -> ExitCode {
    let tests: Vec<_> = [registration::TESTS, limits::TESTS].concat();
    let failed = tap::run(&tests);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
