//! Command-line parsing and dispatch.

mod demo;
mod dlq;
mod plugin;
mod plugin_new;
mod run;
mod table;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// floe: Debezium change events into Apache Iceberg tables, exactly once,
/// with per-table logic in sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "floe", version, about)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). `FLOE_LOG` overrides, e.g. `FLOE_LOG=floe=debug`.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline: apply its source's change events to its Iceberg tables.
    Run(run::RunArgs),
    /// The whole pipeline on embedded parts: an in-process Kafka broker,
    /// change events, the example plugins, a SQLite catalog and a local warehouse.
    Demo(demo::DemoArgs),
    /// Check, test and inspect WebAssembly plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Inspect and maintain a pipeline's Iceberg tables.
    #[command(subcommand)]
    Table(table::TableCommand),
    /// Read a pipeline's dead-letter queue.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
}

/// Logs to stderr, at `info` unless `-v` or `FLOE_LOG` say otherwise
/// (`floe demo` prints its own progress and logs only warnings by default);
/// in colour only on a terminal, so a log file or journal gets plain text.
pub fn init_logging(cli: &Cli) {
    let quiet = matches!(cli.command, Command::Demo(_));
    let default = match cli.verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("FLOE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugin(command) => plugin::run(command),
        Command::Run(args) => run::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Table(command) => table::run(command),
        Command::Dlq(command) => dlq::run(command),
    }
}
