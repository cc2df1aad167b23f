//! `floe run`: the pipeline of a configuration file.

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::Args;
use floe::config::{PipelineConfig, SourceConfig};
use floe::metrics::{Metrics, MetricsServer};
use floe::pipeline::{Pipeline, StopSignal};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline's TOML configuration.
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// This process's name among the processes of the pipeline, over
    /// `[source] instance` (default: the host name). Each process of a
    /// pipeline on one host needs its own: it is the Kafka consumer group's
    /// static member id, `<pipeline>-<instance>`.
    #[arg(long, env = "FLOE_INSTANCE", value_name = "NAME")]
    instance: Option<String>,
}

/// Runs the pipeline. Configuration and start-up errors print one message and
/// exit 2 before anything is written; a file source runs to its end and exits
/// 0; a Kafka source streams until SIGTERM or SIGINT, commits what it has
/// buffered and exits 0.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    // First of all, so that a SIGTERM during start-up is a clean stop, not
    // the default (immediate) exit.
    let stop = StopSignal::on_termination()?;
    let mut config = match PipelineConfig::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("floe: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(name) = &args.instance
        && let Err(message) = config.set_instance(name)
    {
        eprintln!("floe: --instance (or FLOE_INSTANCE) `{name}`: {message}");
        return Ok(ExitCode::from(2));
    }
    let metrics = Arc::new(Metrics::new());
    let _server = match &config.metrics {
        Some(endpoint) => match MetricsServer::start(endpoint.listen, metrics.clone()) {
            Ok(server) => Some(server),
            Err(error) => {
                eprintln!("floe: {error}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let streaming = matches!(config.source, SourceConfig::Kafka { .. });
    let pipeline = match Pipeline::open_with_metrics(config, metrics.clone()) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            eprintln!("floe: {error}");
            return Ok(ExitCode::from(error.exit_code()));
        }
    };
    let result = if streaming {
        pipeline.run(&stop)
    } else {
        pipeline.run_to_end()
    };
    match result {
        Ok(summary) => {
            let guessed = match metrics.totals().guessed_times {
                0 => String::new(),
                n => format!(
                    ", {n} integer timestamps read in a guessed unit (see the warnings; set numeric_time_columns)"
                ),
            };
            let partial = match summary.partial_rows {
                0 => String::new(),
                n => format!(", {n} partial rows filled from the rows' current state"),
            };
            eprintln!(
                "floe: {} records read, {} skipped (no row change), {} to the dead-letter queue, {} snapshots committed{partial}{guessed}",
                summary.records, summary.skipped, summary.dead_letters, summary.snapshots
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("floe: {error}");
            Ok(ExitCode::from(error.exit_code()))
        }
    }
}
