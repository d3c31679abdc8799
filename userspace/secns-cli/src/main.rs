//! `secns`: see `secns --help` and secns(1).

use clap::Parser;

fn main() -> std::process::ExitCode {
    secns_cli::main(secns_cli::Cli::parse())
}
