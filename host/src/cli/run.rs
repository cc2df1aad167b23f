//! `floe run`: the pipeline of a configuration file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use floe::config::PipelineConfig;
use floe::pipeline::{Pipeline, PipelineError};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline's TOML configuration.
    #[arg(long, short = 'c')]
    config: PathBuf,
}

/// Runs the pipeline. Configuration and start-up errors print one message and
/// exit 2 before anything is written; a file source runs to its end and exits 0.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = match PipelineConfig::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("floe: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let pipeline = match Pipeline::open(config) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            eprintln!("floe: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    match pipeline.run_to_end() {
        Ok(summary) => {
            eprintln!(
                "floe: {} records read, {} skipped (no row change), {} to the dead-letter queue, {} snapshots committed",
                summary.records, summary.skipped, summary.dead_letters, summary.snapshots
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(PipelineError::Setup(message)) => {
            eprintln!("floe: {message}");
            Ok(ExitCode::from(2))
        }
        Err(PipelineError::Run(message)) => {
            eprintln!("floe: {message}");
            Ok(ExitCode::from(1))
        }
    }
}
