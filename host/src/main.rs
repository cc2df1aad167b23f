//! The `floe` binary: the command line over the `floe` library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// The allocator of the `floe` process (see host/Cargo.toml for why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (the `-sys`
/// crate names the options around it, not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for a second before giving it back to the OS. Every
/// commit window frees what it buffered and the next one allocates as much
/// again; with mimalloc's default 10 ms the pages were returned and faulted
/// back in (zeroed) each time, which cost a third of a file run's CPU.
fn tune_allocator() {
    // SAFETY: sets a process-wide option before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
}

fn main() -> ExitCode {
    tune_allocator();
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
