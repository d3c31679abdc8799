//! What the runtime changes in a container's spec: the capabilities the
//! secns step needs, added for it and dropped again right after it.

use caps::{CapSet, Capability};
use libcontainer::oci_spec::runtime::{
    Capabilities, Capability as SpecCapability, LinuxCapabilities, LinuxSeccomp,
    LinuxSeccompAction, Process,
};

/// The annotation naming the container's policy: a secns-policy file on
/// the host.
pub const POLICY_ANNOTATION: &str = "run.secns.policy";
/// The annotation `state` reports the container's security namespace in.
pub const ID_ANNOTATION: &str = "run.secns.id";

/// The capability sets, as bits, in the order capabilities are dropped
/// from them: the bounding set while `CAP_SETPCAP` is still effective,
/// the permitted set after the effective one.
const SETS: [(CapSet, u8); 5] = [
    (CapSet::Ambient, 1),
    (CapSet::Bounding, 2),
    (CapSet::Inheritable, 4),
    (CapSet::Effective, 8),
    (CapSet::Permitted, 16),
];
const ALL: u8 = 31;
const BEP: u8 = 2 | 8 | 16;

/// The capabilities the runtime lends a container process for its secns
/// step, in the order they are dropped again (`CAP_SETPCAP` last:
/// dropping the others from the bounding set needs it): `CAP_MAC_ADMIN`
/// for INIT and JOIN, `CAP_SYS_PTRACE` for JOIN (its ptrace-read check of
/// the container's init, which an `exec` as another user, or with fewer
/// capabilities than the init, would not pass), `CAP_SYS_ADMIN` to load the
/// container's seccomp filter into an `exec`'s process without
/// `noNewPrivileges`, `CAP_SETPCAP` to drop them from the bounding set.
const RUNTIME_CAPS: [(SpecCapability, Capability); 4] = [
    (SpecCapability::MacAdmin, Capability::CAP_MAC_ADMIN),
    (SpecCapability::SysPtrace, Capability::CAP_SYS_PTRACE),
    (SpecCapability::SysAdmin, Capability::CAP_SYS_ADMIN),
    (SpecCapability::Setpcap, Capability::CAP_SETPCAP),
];

/// What the INIT of a container's init needs.
pub const INIT_NEEDS: &[SpecCapability] = &[SpecCapability::MacAdmin];
/// What a container's init needs when it is to load the container's
/// seccomp filter without `noNewPrivileges` (after UNSHARE).
pub const INIT_SECCOMP_NEEDS: &[SpecCapability] =
    &[SpecCapability::MacAdmin, SpecCapability::SysAdmin];
/// What the JOIN of an `exec`'s process needs.
pub const JOIN_NEEDS: &[SpecCapability] = &[SpecCapability::MacAdmin, SpecCapability::SysPtrace];
/// What the JOIN of an `exec`'s process needs when it then loads the
/// container's seccomp filter without `noNewPrivileges`.
pub const JOIN_SECCOMP_NEEDS: &[SpecCapability] = &[
    SpecCapability::MacAdmin,
    SpecCapability::SysPtrace,
    SpecCapability::SysAdmin,
];

/// The sets in which a process's spec grants each of the capabilities
/// the runtime adds for its secns step (`RUNTIME_CAPS`): after that step
/// the process drops them from every other set, so that its sets are the
/// spec's again and the workload never holds what the runtime added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intended {
    bits: [u8; RUNTIME_CAPS.len()],
}

impl Intended {
    /// What `caps` grants; `None` (no `capabilities` object, for which
    /// libcontainer drops nothing) grants everything.
    pub fn of(caps: Option<&LinuxCapabilities>) -> Self {
        let Some(c) = caps else {
            return Self {
                bits: [ALL; RUNTIME_CAPS.len()],
            };
        };
        let sets = [
            c.ambient(),
            c.bounding(),
            c.inheritable(),
            c.effective(),
            c.permitted(),
        ];
        Self {
            bits: RUNTIME_CAPS.map(|(cap, _)| {
                sets.iter()
                    .zip(SETS)
                    .filter(|(s, _)| s.as_ref().is_some_and(|s| s.contains(&cap)))
                    .fold(0, |acc, (_, (_, bit))| acc | bit)
            }),
        }
    }

    /// Also grants `cap` in the bounding, effective and permitted sets
    /// (and the ambient one if `ambient`), as libcontainer does with an
    /// `exec --cap`.
    pub fn with(mut self, cap: SpecCapability, ambient: bool) -> Self {
        let bits = BEP | if ambient { 1 } else { 0 };
        for (i, (c, _)) in RUNTIME_CAPS.iter().enumerate() {
            if *c == cap {
                self.bits[i] |= bits;
            }
        }
        self
    }

    /// The capabilities to lend for a step that `needs` them: those the
    /// spec does not grant in all of the bounding, effective and permitted
    /// sets, and `CAP_SETPCAP` when any of them is to be dropped from the
    /// bounding set again.
    pub fn lent(&self, needs: &[SpecCapability]) -> Vec<SpecCapability> {
        let mut add: Vec<SpecCapability> = RUNTIME_CAPS
            .iter()
            .zip(self.bits)
            .filter(|((cap, _), bits)| needs.contains(cap) && bits & BEP != BEP)
            .map(|((cap, _), _)| *cap)
            .collect();
        let bounding = RUNTIME_CAPS
            .iter()
            .zip(self.bits)
            .any(|((cap, _), bits)| add.contains(cap) && bits & 2 == 0);
        let setpcap = self.bits[RUNTIME_CAPS.len() - 1];
        if bounding && setpcap & BEP != BEP && !add.contains(&SpecCapability::Setpcap) {
            add.push(SpecCapability::Setpcap);
        }
        add
    }

    /// For each set, in the order to drop from them, the runtime's
    /// capabilities that the spec does not grant there.
    pub fn drops(&self) -> Vec<(CapSet, Vec<Capability>)> {
        SETS.iter()
            .map(|&(set, bit)| {
                let caps = RUNTIME_CAPS
                    .iter()
                    .zip(self.bits)
                    .filter(|(_, bits)| bits & bit == 0)
                    .map(|((_, cap), _)| *cap)
                    .collect();
                (set, caps)
            })
            .collect()
    }
}

/// Adds `cap` to `set` (created empty if the spec has none).
fn add(set: &Option<Capabilities>, cap: SpecCapability) -> Option<Capabilities> {
    let mut set = set.clone().unwrap_or_default();
    set.insert(cap);
    Some(set)
}

/// Lends `process` the capabilities its secns step `needs` in its
/// bounding, effective and permitted sets (see [`Intended::lent`]);
/// returns what its spec grants.
///
/// A process without a `capabilities` object keeps every capability
/// (libcontainer drops none), so nothing is added to it.
pub fn grant(process: &mut Process, needs: &[SpecCapability]) -> Intended {
    let intended = Intended::of(process.capabilities().as_ref());
    let Some(mut c) = process.capabilities().clone() else {
        return intended;
    };
    for cap in intended.lent(needs) {
        c.set_bounding(add(c.bounding(), cap));
        c.set_effective(add(c.effective(), cap));
        c.set_permitted(add(c.permitted(), cap));
    }
    process.set_capabilities(Some(c));
    intended
}

/// Whether a seccomp profile hands system calls to a listener
/// (`SCMP_ACT_NOTIFY`). The runtime loads a container's filter itself
/// (see `executor.rs`), where nobody would receive the listener.
pub fn seccomp_notifies(seccomp: &LinuxSeccomp) -> bool {
    let notify = |a: LinuxSeccompAction| a == LinuxSeccompAction::ScmpActNotify;
    notify(seccomp.default_action())
        || seccomp
            .syscalls()
            .iter()
            .flatten()
            .any(|r| notify(r.action()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(caps: &[SpecCapability]) -> Process {
        let set: Capabilities = caps.iter().copied().collect();
        let mut c = LinuxCapabilities::default();
        c.set_bounding(Some(set.clone()));
        c.set_effective(Some(set.clone()));
        c.set_permitted(Some(set.clone()));
        c.set_inheritable(Some(set.clone()));
        c.set_ambient(Some(set));
        let mut p = Process::default();
        p.set_capabilities(Some(c));
        p
    }

    /// Whether `p` has `cap` in its ambient, bounding, inheritable,
    /// effective and permitted sets.
    fn has(p: &Process, cap: SpecCapability) -> [bool; 5] {
        let c = p.capabilities().clone().unwrap_or_default();
        [
            c.ambient(),
            c.bounding(),
            c.inheritable(),
            c.effective(),
            c.permitted(),
        ]
        .map(|s| s.as_ref().is_some_and(|s| s.contains(&cap)))
    }

    const MAC: Capability = Capability::CAP_MAC_ADMIN;
    const PTRACE: Capability = Capability::CAP_SYS_PTRACE;
    const ADMIN: Capability = Capability::CAP_SYS_ADMIN;
    const SETPCAP: Capability = Capability::CAP_SETPCAP;

    #[test]
    fn an_init_gets_mac_admin_and_setpcap_and_drops_them_from_every_set() {
        let mut p = process(&[SpecCapability::Kill]);
        let intended = grant(&mut p, INIT_NEEDS);
        let bep = [false, true, false, true, true];
        assert_eq!(has(&p, SpecCapability::MacAdmin), bep);
        assert_eq!(has(&p, SpecCapability::Setpcap), bep);
        assert_eq!(has(&p, SpecCapability::SysPtrace), [false; 5]);
        assert_eq!(has(&p, SpecCapability::Kill), [true; 5]);
        let drops = intended.drops();
        let sets: Vec<String> = drops.iter().map(|d| format!("{:?}", d.0)).collect();
        assert_eq!(
            sets,
            [
                "Ambient",
                "Bounding",
                "Inheritable",
                "Effective",
                "Permitted"
            ]
        );
        assert!(drops
            .iter()
            .all(|(_, c)| c == &vec![MAC, PTRACE, ADMIN, SETPCAP]));
    }

    #[test]
    fn a_join_also_gets_sys_ptrace() {
        let mut p = process(&[SpecCapability::Kill]);
        let intended = grant(&mut p, JOIN_NEEDS);
        let bep = [false, true, false, true, true];
        assert_eq!(has(&p, SpecCapability::MacAdmin), bep);
        assert_eq!(has(&p, SpecCapability::SysPtrace), bep);
        assert_eq!(has(&p, SpecCapability::Setpcap), bep);
        assert!(intended
            .drops()
            .iter()
            .all(|(_, c)| c == &vec![MAC, PTRACE, ADMIN, SETPCAP]));
    }

    #[test]
    fn what_the_spec_grants_is_kept() {
        let mut p = process(&[SpecCapability::Setpcap]);
        let drops = grant(&mut p, INIT_NEEDS).drops();
        assert!(drops.iter().all(|(_, c)| c == &vec![MAC, PTRACE, ADMIN]));
        let mut p = process(&[SpecCapability::MacAdmin]);
        let drops = grant(&mut p, INIT_NEEDS).drops();
        assert!(drops
            .iter()
            .all(|(_, c)| c == &vec![PTRACE, ADMIN, SETPCAP]));
        assert!(!has(&p, SpecCapability::Setpcap)[1], "SETPCAP not needed");
    }

    #[test]
    fn mac_admin_granted_in_the_bounding_set_only_is_dropped_elsewhere() {
        let mut p = process(&[]);
        let mut c = p.capabilities().clone().unwrap_or_default();
        c.set_bounding(Some([SpecCapability::MacAdmin].into_iter().collect()));
        p.set_capabilities(Some(c));
        let drops = grant(&mut p, INIT_NEEDS).drops();
        assert_eq!(drops[1].1, vec![PTRACE, ADMIN, SETPCAP]);
        assert_eq!(drops[3].1, vec![MAC, PTRACE, ADMIN, SETPCAP]);
        assert!(!has(&p, SpecCapability::Setpcap)[1]);
    }

    #[test]
    fn a_process_without_capabilities_keeps_all_and_gets_nothing() {
        let mut p = Process::default();
        p.set_capabilities(None);
        assert!(grant(&mut p, JOIN_NEEDS)
            .drops()
            .iter()
            .all(|(_, c)| c.is_empty()));
        assert!(p.capabilities().is_none());
    }

    #[test]
    fn the_names_given_to_exec_cap_are_libcontainer_s() {
        use libcontainer::capabilities::CapabilityExt;
        use std::str::FromStr;
        let names: Vec<String> = [SpecCapability::SysPtrace, SpecCapability::Setpcap]
            .iter()
            .map(|c| c.to_cap().to_string())
            .collect();
        assert_eq!(names, ["CAP_SYS_PTRACE", "CAP_SETPCAP"]);
        for n in names {
            assert!(Capability::from_str(&n).is_ok());
        }
    }

    #[test]
    fn an_exec_cap_is_granted_as_libcontainer_grants_it() {
        let i =
            Intended::of(Some(&LinuxCapabilities::default())).with(SpecCapability::MacAdmin, false);
        assert_eq!(
            i.lent(JOIN_NEEDS),
            vec![SpecCapability::SysPtrace, SpecCapability::Setpcap]
        );
        let drops = i.drops();
        assert_eq!(drops[0].1, vec![MAC, PTRACE, ADMIN, SETPCAP]);
        assert_eq!(drops[1].1, vec![PTRACE, ADMIN, SETPCAP]);
        assert_eq!(drops[2].1, vec![MAC, PTRACE, ADMIN, SETPCAP]);
    }

    fn seccomp(json: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_profile_with_a_listener_is_told_apart() {
        let allow = seccomp(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW"}));
        assert!(!seccomp_notifies(&allow));
        let deny = seccomp(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]
        }));
        assert!(!seccomp_notifies(&deny));
        let notify = seccomp(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]
        }));
        assert!(seccomp_notifies(&notify));
    }
}
