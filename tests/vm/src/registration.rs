//! The secns LSM is registered and active.

use crate::sys::{self, LSM_ID_SECNS};
use crate::tap::{check, Outcome, Test};

pub const TESTS: &[Test] = &[
    Test {
        name: "lsm_list_modules(2) reports LSM_ID_SECNS (114)",
        run: list_modules_reports_secns,
    },
    Test {
        name: "/sys/kernel/security/lsm lists secns",
        run: securityfs_lists_secns,
    },
];

fn list_modules_reports_secns() -> Outcome {
    let ids = sys::lsm_list_modules().map_err(|e| format!("lsm_list_modules failed: errno {e}"))?;
    check(ids.contains(&LSM_ID_SECNS), || {
        format!("ids {ids:?} do not contain {LSM_ID_SECNS}")
    })
}

fn securityfs_lists_secns() -> Outcome {
    let lsms = std::fs::read_to_string("/sys/kernel/security/lsm")
        .map_err(|e| format!("reading /sys/kernel/security/lsm: {e}"))?;
    check(lsms.trim_end().split(',').any(|l| l == "secns"), || {
        format!("active LSMs are '{}'", lsms.trim_end())
    })
}
