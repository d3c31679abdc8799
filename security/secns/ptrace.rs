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
    let Some(scope) = reaches_everything(&tracer) else {
        return Ok(());
    };
    may_trace(scope, &child.cred()).map_err(|tracee| {
        if !mode.is_noaudit() {
            ffi::audit_ptrace(child, c"ptrace_access_check", scope, tracee);
        }
        EPERM
    })
}

/// The `ptrace_traceme` hook: may `parent` trace the current task? `EPERM`
/// if the current task is outside `parent`'s namespace and its descendants.
pub(crate) fn traceme(parent: &Task) -> Result {
    let tracer = parent.cred();
    let Some(scope) = reaches_everything(&tracer) else {
        return Ok(());
    };
    may_trace(scope, &Credential::current()).map_err(|tracee| {
        ffi::audit_ptrace(parent, c"ptrace_traceme", scope, tracee);
        EPERM
    })
}

/// The namespace of a tracer with credentials `tracer`, or `None` when it is
/// the initial namespace, which may trace every task: the hooks leave at
/// once. A namespace that is not known (credentials without one) is not
/// taken for the initial one: `Some(None)`, which may trace nothing.
fn reaches_everything(tracer: &Credential) -> Option<Option<&Namespace>> {
    match blob::cred::<Secns>(tracer).map(|e| &**e.namespace()) {
        Some(ns) if ns.depth() == 0 => None,
        scope => Some(scope),
    }
}

/// Whether a tracer in `scope` may trace a task with credentials `tracee`;
/// the tracee's namespace (`None` when not known) if not.
fn may_trace<'a>(
    scope: Option<&Namespace>,
    tracee: &'a Credential,
) -> Result<(), Option<&'a Namespace>> {
    let ns = blob::cred::<Secns>(tracee).map(|e| &**e.namespace());
    match (scope, ns) {
        (Some(scope), Some(ns)) if namespace::is_within(ns, scope) => Ok(()),
        _ => Err(ns),
    }
}
