// SPDX-License-Identifier: GPL-2.0

//! The security namespace as a boundary for ptrace.
//!
//! A task may trace another one, or read its memory (`PTRACE_ATTACH`,
//! `PTRACE_SEIZE`, `/proc/PID/mem`, `pidfd_getfd()`, `process_vm_readv()`,
//! every `ptrace_may_access()`), and a tracer may be given a task with
//! `PTRACE_TRACEME`, only when the tracee's effective namespace is the
//! tracer's own or one of its descendants. Otherwise any LSM's policy for a
//! namespace would be void: root inside could make a task outside do what
//! the namespace may not. This is the rule Landlock applies to its domains
//! (`security/landlock/task.c`). Pending namespaces do not count: only the
//! effective one of each side.

use crate::namespace::{self, Namespace};
use crate::{ffi, Secns};
use kernel::cred::Credential;
use kernel::lsm::blob;
use kernel::prelude::*;
use kernel::task::{PtraceMode, Task};

/// The `ptrace_access_check` hook: may the current task access `child`?
/// `EPERM` if `child` is outside the current task's namespace and its
/// descendants; audited unless `mode` says not to.
pub(crate) fn access_check(child: &Task, mode: PtraceMode) -> Result {
    let tracer = Credential::current();
    may_trace(&tracer, &child.cred()).map_err(|denied| {
        if !mode.is_noaudit() {
            denied.audit(child, c"ptrace_access_check");
        }
        EPERM
    })
}

/// The `ptrace_traceme` hook: may `parent` trace the current task? `EPERM`
/// if the current task is outside `parent`'s namespace and its descendants.
pub(crate) fn traceme(parent: &Task) -> Result {
    let tracee = Credential::current();
    may_trace(&parent.cred(), &tracee).map_err(|denied| {
        denied.audit(parent, c"ptrace_traceme");
        EPERM
    })
}

/// A refused access: the namespaces of both sides, when they are known.
struct Denied<'a> {
    tracer: Option<&'a Namespace>,
    tracee: Option<&'a Namespace>,
}

impl Denied<'_> {
    /// Writes the audit record, with `other` the task on the other side.
    fn audit(&self, other: &Task, op: &CStr) {
        // A namespace that is not known (blank credentials) is refused, and
        // logged as the initial one would be misleading: only known ones are.
        if let (Some(tracer), Some(tracee)) = (self.tracer, self.tracee) {
            ffi::audit_ptrace(other, op, tracer, tracee);
        }
    }
}

/// Whether a task with credentials `tracer` may trace one with `tracee`.
///
/// A tracer in the initial namespace leaves at once. A namespace that is not
/// known (credentials without one) is refused, never taken for the initial
/// one.
fn may_trace<'a>(tracer: &'a Credential, tracee: &'a Credential) -> Result<(), Denied<'a>> {
    let scope = blob::cred::<Secns>(tracer).map(|e| &**e.namespace());
    if scope.is_some_and(|s| s.depth() == 0) {
        return Ok(());
    }
    let ns = blob::cred::<Secns>(tracee).map(|e| &**e.namespace());
    match (scope, ns) {
        (Some(scope), Some(ns)) if namespace::is_within(ns, scope) => Ok(()),
        (tracer, tracee) => Err(Denied { tracer, tracee }),
    }
}
