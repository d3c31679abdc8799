//! Writes the man pages of `secns` (secns.1 and one per subcommand) into
//! the directory given as the only argument.

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: secns-mangen DIR");
        return std::process::ExitCode::from(2);
    };
    match clap_mangen::generate_to(secns_cli::command(), &dir) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "secns-mangen: {}: {e}",
                std::path::Path::new(&dir).display()
            );
            std::process::ExitCode::FAILURE
        }
    }
}
