//! The two-phase flow with the `secns` crate: create a pending namespace,
//! configure it, enter it, run a program in it.
//!
//! `two-phase PROGRAM [ARGS]...` (needs CAP_MAC_ADMIN).

use std::os::unix::process::CommandExt;
use std::process::Command;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let program: Vec<String> = std::env::args().skip(1).collect();
    let (prog, args) = program
        .split_first()
        .ok_or("usage: two-phase PROGRAM [ARGS]...")?;
    if !secns::is_supported() {
        return Err("this kernel has no security namespaces".into());
    }

    // Phase one: a child of our namespace, pending.
    let pending = secns::init()?;
    println!("pending namespace {pending}");

    // Configure it: a helper process gets the id (it does not inherit the
    // pending namespace). Drop the namespace if that fails.
    let configured = Command::new("/bin/sh")
        .args(["-c", "echo \"configuring $SECNS_PENDING_ID\""])
        .env("SECNS_PENDING_ID", pending.to_string())
        .status()?
        .success();
    if !configured {
        secns::abort()?;
        return Err("configuration failed".into());
    }

    // Phase two: enter it, then run the program in it.
    secns::unshare()?;
    let now = secns::status()?;
    println!("entered namespace {} at depth {}", now.id, now.depth);
    Err(Command::new(prog).args(args).exec().into())
}
