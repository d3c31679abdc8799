//! The crate's uapi against this repository's kernel side: the constants
//! of `include/uapi/linux/secns.h` and those the patches add to
//! `include/uapi/linux/lsm.h`, and the layout of every struct of
//! `secns.h` (C rules: natural alignment, `__aligned_u64` aligned to 8).

use secns::uapi::*;
use std::collections::HashMap;
use std::mem::{offset_of, size_of};

fn repo_file(path: &str) -> String {
    let p = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn header(name: &str) -> String {
    repo_file(&format!("include/uapi/linux/{name}"))
}

/// The lines the patches add to `include/uapi/linux/lsm.h`.
fn lsm_h_additions() -> String {
    let mut out = String::new();
    for patch in repo_file("patches/series").lines() {
        let text = repo_file(&format!("patches/{patch}"));
        let mut in_lsm_h = false;
        for line in text.lines() {
            if let Some(file) = line.strip_prefix("+++ b/") {
                in_lsm_h = file == "include/uapi/linux/lsm.h";
            } else if in_lsm_h && line.starts_with('+') {
                out.push_str(&line[1..]);
                out.push('\n');
            }
        }
    }
    out
}

/// `#define NAME VALUE` with VALUE a number or `(1ULL << n)`/`(1U << n)`.
fn defines(text: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("#define") {
            continue;
        }
        let (Some(name), rest) = (w.next(), w.collect::<Vec<_>>().join(" ")) else {
            continue;
        };
        let v = rest.trim_matches(|c| c == '(' || c == ')');
        let value = if let Some((l, r)) = v.split_once("<<") {
            let base: u64 = l
                .trim()
                .trim_end_matches(['U', 'L'])
                .parse()
                .ok()
                .unwrap_or(0);
            r.trim().parse::<u32>().ok().map(|s| base << s)
        } else if let Some(hex) = v.strip_prefix("0x") {
            u64::from_str_radix(hex, 16).ok()
        } else {
            v.parse().ok()
        };
        if let Some(value) = value {
            out.insert(name.to_string(), value);
        }
    }
    out
}

/// The fields of `struct NAME { ... };`: (type, name) in order.
fn fields(text: &str, name: &str) -> Vec<(String, String)> {
    let start = text
        .find(&format!("struct {name} {{"))
        .unwrap_or_else(|| panic!("struct {name} not found"));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap_or(0) + 1..body.find("};").unwrap_or(0)];
    body.lines()
        .map(str::trim)
        .filter(|l| l.ends_with(';'))
        .map(|l| {
            let l = l.trim_end_matches(';');
            let (ty, field) = l.rsplit_once(' ').unwrap_or(("", l));
            (ty.trim().to_string(), field.trim().to_string())
        })
        .collect()
}

/// C offsets and size of a struct of fixed-width integer fields.
fn c_layout(fields: &[(String, String)]) -> (Vec<(String, usize)>, usize) {
    let (mut off, mut max_align, mut out) = (0usize, 1usize, Vec::new());
    for (ty, name) in fields {
        let (size, align) = match ty.as_str() {
            "__aligned_u64" => (8, 8),
            "__u64" | "__s64" => (8, 8),
            "__u32" | "__s32" => (4, 4),
            "__u16" => (2, 2),
            "__u8" => (1, 1),
            other => panic!("type {other} of {name} not handled"),
        };
        off = off.next_multiple_of(align);
        out.push((name.clone(), off));
        off += size;
        max_align = max_align.max(align);
    }
    (out, off.next_multiple_of(max_align))
}

#[test]
fn constants_match_the_kernel_headers() {
    let lsm = defines(&lsm_h_additions());
    let secns = defines(&header("secns.h"));
    assert_eq!(lsm["LSM_ID_SECNS"], LSM_ID_SECNS);
    assert_eq!(lsm["LSM_ATTR_UNSHARE"], u64::from(LSM_ATTR_UNSHARE));
    assert_eq!(
        lsm["LSM_ATTR_UNSHARE_INIT"],
        u64::from(LSM_ATTR_UNSHARE_INIT)
    );
    // Every value secns.h defines, and no other: a constant added to the
    // header must be added to the crate (and to this table).
    let crate_values: HashMap<String, u64> = [
        ("SECNS_ABORT", SECNS_ABORT),
        ("SECNS_JOIN", SECNS_JOIN),
        ("SECNS_INFO_PENDING", u64::from(SECNS_INFO_PENDING)),
        (
            "SECNS_UNSHARE_ARGS_SIZE_VER0",
            SECNS_UNSHARE_ARGS_SIZE_VER0 as u64,
        ),
        (
            "SECNS_UNSHARE_ARGS_SIZE_VER1",
            SECNS_UNSHARE_ARGS_SIZE_VER1 as u64,
        ),
        ("SECNS_INFO_SIZE_VER0", SECNS_INFO_SIZE_VER0 as u64),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect();
    assert_eq!(secns, crate_values);
}

/// The fields of `struct secns_unshare_args` with their C offsets, and
/// its C size: the latest version the header defines.
fn kernel_unshare_args() -> (Vec<(String, usize)>, usize) {
    c_layout(&fields(&header("secns.h"), "secns_unshare_args"))
}

#[test]
fn secns_unshare_args_ver1_has_the_kernel_layout() {
    let (offsets, size) = kernel_unshare_args();
    let rust = [
        ("flags", offset_of!(SecnsUnshareArgsVer1, flags)),
        ("pidfd", offset_of!(SecnsUnshareArgsVer1, pidfd)),
        ("reserved", offset_of!(SecnsUnshareArgsVer1, reserved)),
    ]
    .map(|(n, o)| (n.to_string(), o));
    assert_eq!(offsets, rust);
    assert_eq!(size, size_of::<SecnsUnshareArgsVer1>());
    assert_eq!(size, SECNS_UNSHARE_ARGS_SIZE_VER1);
    // The types too: the pidfd is a signed int, reserved unsigned.
    let types: Vec<String> = fields(&header("secns.h"), "secns_unshare_args")
        .into_iter()
        .map(|(ty, _)| ty)
        .collect();
    assert_eq!(types, ["__aligned_u64", "__s32", "__u32"]);
    // ... and the Rust ones are those (a type mismatch does not compile).
    let v1 = SecnsUnshareArgsVer1::default();
    let (_, _, _): (u64, i32, u32) = (v1.flags, v1.pidfd, v1.reserved);
}

#[test]
fn secns_unshare_args_ver0_is_the_start_of_the_kernel_struct() {
    // Version 0: the kernel's fields that end within its size.
    let (offsets, _) = kernel_unshare_args();
    let ver0: Vec<_> = offsets
        .into_iter()
        .filter(|(_, off)| *off < SECNS_UNSHARE_ARGS_SIZE_VER0)
        .collect();
    assert_eq!(
        ver0,
        [("flags".to_string(), offset_of!(SecnsUnshareArgs, flags))]
    );
    assert_eq!(size_of::<SecnsUnshareArgs>(), SECNS_UNSHARE_ARGS_SIZE_VER0);
    assert_eq!(
        offset_of!(SecnsUnshareArgs, flags),
        offset_of!(SecnsUnshareArgsVer1, flags)
    );
}

#[test]
fn secns_info_has_the_kernel_layout() {
    let (offsets, size) = c_layout(&fields(&header("secns.h"), "secns_info"));
    let rust = [
        ("id", offset_of!(SecnsInfo, id)),
        ("parent_id", offset_of!(SecnsInfo, parent_id)),
        ("pending_id", offset_of!(SecnsInfo, pending_id)),
        ("depth", offset_of!(SecnsInfo, depth)),
        ("flags", offset_of!(SecnsInfo, flags)),
    ]
    .map(|(n, o)| (n.to_string(), o));
    assert_eq!(offsets, rust);
    assert_eq!(size, size_of::<SecnsInfo>());
    assert_eq!(size, SECNS_INFO_SIZE_VER0);
}

#[test]
fn an_lsm_ctx_header_is_four_u64() {
    // `struct lsm_ctx` of include/uapi/linux/lsm.h, without its flexible ctx[].
    let (offsets, size) =
        c_layout(&["id", "flags", "len", "ctx_len"].map(|f| ("__u64".to_string(), f.to_string())));
    let rust = [
        ("id", offset_of!(LsmCtxHeader, id)),
        ("flags", offset_of!(LsmCtxHeader, flags)),
        ("len", offset_of!(LsmCtxHeader, len)),
        ("ctx_len", offset_of!(LsmCtxHeader, ctx_len)),
    ]
    .map(|(n, o)| (n.to_string(), o));
    assert_eq!(offsets, rust);
    assert_eq!(size, size_of::<LsmCtxHeader>());
    assert_eq!(size_of::<LsmCtxHeader>(), 32);
    assert_eq!(offset_of!(UnshareRequest, args), size_of::<LsmCtxHeader>());
    assert_eq!(size_of::<UnshareRequest>(), 40);
    assert_eq!(
        offset_of!(UnshareRequestVer1, args),
        size_of::<LsmCtxHeader>()
    );
    assert_eq!(size_of::<UnshareRequestVer1>(), 48);
}
