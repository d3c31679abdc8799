//! The secns kfuncs as a BPF LSM program gets them: `bpf/kfuncs.bpf.c`,
//! attached to `task_secns_init` and `task_secns_unshare` for this test's
//! child only, writes every kfunc's answer into a map, and the test compares
//! them with what `lsm_get_self_attr(LSM_ATTR_UNSHARE)` reports, two levels
//! down and on a one-shot `UNSHARE` at the third.

use crate::sys::{self, LSM_ATTR_UNSHARE, LSM_ATTR_UNSHARE_INIT};
use crate::tap::{check, Outcome, Test};
use crate::unshare::in_child;
use secns_policy::bpf::{self, Btf, Map, Object};
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

pub const TESTS: &[Test] = &[Test {
    name: "kfuncs: a BPF LSM program gets the ids, depth, ancestors and pending id secns reports",
    run: kfuncs,
}];

/// Built by harness/build-userspace, installed by tests/mkinitramfs.
const OBJECT: &str = "/usr/lib/secns-vmtest/kfuncs.bpf.o";

/// `struct kfunc_answers`.
#[derive(Debug, PartialEq, Eq)]
struct Answers {
    cred_id: u64,
    parent_id: u64,
    depth: u64,
    ancestor0: u64,
    ancestor1: u64,
    ancestor_self: u64,
    ancestor_beyond: u64,
    pending_id: u64,
    ns_id: u64,
}

/// `bpf_secns_cred_ancestor_id()` beyond the credential's depth.
const NONE: u64 = u64::MAX;

fn err(e: bpf::Error) -> String {
    e.to_string()
}

fn read(map: &Map, slot: u32) -> Result<Answers, String> {
    let v = map
        .lookup(&slot.to_ne_bytes(), 9 * 8)
        .map_err(err)?
        .ok_or_else(|| format!("no slot {slot}"))?;
    let f = |i: usize| -> u64 {
        v.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    Ok(Answers {
        cred_id: f(0),
        parent_id: f(1),
        depth: f(2),
        ancestor0: f(3),
        ancestor1: f(4),
        ancestor_self: f(5),
        ancestor_beyond: f(6),
        pending_id: f(7),
        ns_id: f(8),
    })
}

/// The program's answers for a caller in `(id, parent, depth)` asked about
/// namespace `ns` while `pending` is pending.
fn expected(at: (u64, u64, u64), pending: u64, ns: u64) -> Answers {
    let (id, parent, depth) = at;
    Answers {
        cred_id: id,
        parent_id: parent,
        depth,
        ancestor0: 0,
        ancestor1: match depth {
            0 => NONE,
            1 => id,
            _ => parent,
        },
        ancestor_self: id,
        ancestor_beyond: NONE,
        pending_id: pending,
        ns_id: ns,
    }
}

fn expect(map: &Map, what: &str, slot: u32, want: Answers) -> Outcome {
    let got = read(map, slot)?;
    check(got == want, || {
        format!("{what}: the kfuncs answered {got:?}, expected {want:?}")
    })
}

fn kfuncs() -> Outcome {
    let bytes = std::fs::read(OBJECT).map_err(|e| format!("{OBJECT}: {e}"))?;
    let obj = Object::parse(&bytes).map_err(err)?;
    let kernel = Btf::vmlinux().map_err(err)?;
    let mut maps = HashMap::new();
    for def in obj.maps() {
        maps.insert(def.name.clone(), Map::create(def).map_err(err)?);
    }
    let by_name: HashMap<String, &Map> = maps.iter().map(|(k, v)| (k.clone(), v)).collect();
    let map = |name: &str| by_name.get(name).copied().ok_or(format!("no map {name}"));
    let (target, at_init, at_unshare) = (map("target")?, map("at_init")?, map("at_unshare")?);
    // Attached while `links` lives.
    let mut links: Vec<OwnedFd> = Vec::new();
    for hook in obj.programs() {
        let prog = obj.load_lsm(hook, &by_name, &kernel).map_err(err)?;
        links.push(bpf::attach_lsm(prog.as_fd()).map_err(err)?);
    }
    in_child(|| {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() } as u32;
        target
            .update(&0u32.to_ne_bytes(), &me.to_ne_bytes(), bpf::BPF_ANY)
            .map_err(err)?;
        let set = |attr| sys::secns_set(attr, None).map_err(|e| format!("errno {e}"));
        // Two levels with explicit pending namespaces, then a one-shot.
        set(LSM_ATTR_UNSHARE_INIT)?;
        let p = sys::secns_info()?.pending_id;
        set(LSM_ATTR_UNSHARE)?;
        set(LSM_ATTR_UNSHARE_INIT)?;
        let q = sys::secns_info()?.pending_id;
        set(LSM_ATTR_UNSHARE)?;
        set(LSM_ATTR_UNSHARE)?;
        let info = sys::secns_info()?;
        let r = info.id;
        check(
            info.parent_id == q && info.depth == 3 && p != 0 && q != p,
            || format!("secns_info after three levels: {info:?} (p {p}, q {q})"),
        )?;
        let root = (0, 0, 0);
        let in_p = (p, 0, 1);
        let in_q = (q, p, 2);
        // The pending one is set after task_secns_init approves it.
        expect(at_init, "INIT of p", 1, expected(root, 0, p))?;
        expect(at_unshare, "UNSHARE into p", 1, expected(root, p, p))?;
        expect(at_init, "INIT of q", 2, expected(in_p, 0, q))?;
        expect(at_unshare, "UNSHARE into q", 2, expected(in_p, q, q))?;
        expect(
            at_init,
            "one-shot UNSHARE, its INIT",
            3,
            expected(in_q, 0, r),
        )?;
        expect(at_unshare, "one-shot UNSHARE", 3, expected(in_q, 0, r))
    })?;
    drop(links);
    Ok(())
}
