//! The `floe` binary: the command line over the `floe` library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(&args);
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("floe: {error:#}");
            ExitCode::from(2)
        }
    }
}
