//! The container's policy: a secns-policy file, named by the annotation
//! `run.secns.policy` or by `--default-policy`, loaded into the
//! container's pending namespace by secns-policy's engine.

use crate::spec::POLICY_ANNOTATION;
use anyhow::{anyhow, bail, Context, Result};
use secns_policy::engine::{self, Engine};
use secns_policy::rules::{PolicyFile, Rules};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A policy, read and resolved on the host before the container exists.
pub struct Policy {
    /// The file, as named.
    pub path: PathBuf,
    rules: Rules,
}

/// The policy the container asks for (its annotation, else the runtime's
/// default), read and resolved, with the engine checked to be attached:
/// everything that can be checked before a container exists.
pub fn requested(
    annotations: Option<&HashMap<String, String>>,
    default: Option<&Path>,
) -> Result<Option<Policy>> {
    let (path, source) = match annotations.and_then(|a| a.get(POLICY_ANNOTATION)) {
        Some(p) => (PathBuf::from(p), format!("annotation {POLICY_ANNOTATION}")),
        None => match default {
            Some(p) => (p.to_path_buf(), "--default-policy".to_string()),
            None => return Ok(None),
        },
    };
    if !path.is_absolute() {
        bail!(
            "the policy of {source} must be an absolute path on the host, not {}",
            path.display()
        );
    }
    let fail = |e: &dyn std::fmt::Display| {
        anyhow!("cannot load the policy {} ({source}): {e}", path.display())
    };
    engine::preflight().map_err(|e| fail(&e))?;
    let rules = PolicyFile::read(&path)
        .and_then(|f| f.resolve())
        .map_err(|e| fail(&e))?;
    drop(Engine::open().map_err(|e| fail(&e))?);
    Ok(Some(Policy { path, rules }))
}

impl Policy {
    /// Loads the rules into `id`, which the container's init (`pid`, as
    /// the initial pid namespace sees it) created and has not entered.
    ///
    /// The engine's own record of which task created which namespace must
    /// name `id` too: the id the init reported is checked against what
    /// the kernel's hook saw, not trusted.
    pub fn load(&self, pid: u32, id: u64) -> Result<()> {
        let what = || format!("cannot load the policy {}", self.path.display());
        let engine = Engine::open().with_context(what)?;
        let recorded = engine.pending_of(pid).with_context(what)?;
        if recorded != id {
            bail!(
                "{}: the container's init reported security namespace {id}, the policy \
                 engine recorded {recorded} for it",
                what()
            );
        }
        engine.load(id, &self.rules).with_context(what)
    }
}
