//! `floe table`: inspect and maintain the tables of a pipeline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use floe::commit::catalog::{self, Catalog};
use floe::config::PipelineConfig;
use floe::maintain::Maintainer;
use floe::table::status::table_status;

/// What `floe table` does.
#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Snapshots, data and delete files, small files, delete ratio,
    /// manifests, metadata size, and floe's offsets and plugin versions.
    Status(StatusArgs),
    /// Expires the snapshots the table's policy says are due and deletes
    /// orphan files (older than `floe.orphans.min-age-ms`), now: the same
    /// code the pipeline runs between commits, safe while it runs.
    Expire(ExpireArgs),
    /// Rewrites small data files and files with many deleted rows, per
    /// partition, within the table's budget, now: the same code the
    /// pipeline runs between commits, safe while it runs (a lost
    /// compare-and-swap is planned again against the table as it is).
    Compact(ExpireArgs),
}

/// `floe table expire` and `floe table compact`.
#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// The pipeline's TOML configuration (its catalog and tables).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// One table (`namespace.name`); all the pipeline's tables when absent.
    table: Option<String>,
}

/// Lost compare-and-swaps `floe table compact` plans again after: the
/// pipeline commits every second or so, and a plan is short.
const COMPACT_ATTEMPTS: usize = 20;

/// `floe table status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The pipeline's TOML configuration (its catalog and tables).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// One table (`namespace.name`); all the pipeline's tables when absent.
    table: Option<String>,
    /// Print JSON, one object per table, instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `floe table` command: exit 0, or 2 with one message when the
/// configuration, the catalog or a table cannot be read (or, for `expire`,
/// maintained).
pub fn run(command: TableCommand) -> anyhow::Result<ExitCode> {
    let (config_path, table, json) = match &command {
        TableCommand::Status(args) => (&args.config, &args.table, args.json),
        TableCommand::Expire(args) | TableCommand::Compact(args) => {
            (&args.config, &args.table, false)
        }
    };
    let config = match PipelineConfig::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("floe: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let maintenance = |name: &str| {
        config
            .tables
            .iter()
            .find(|t| t.table == name)
            .map(|t| t.maintenance.to_properties())
            .unwrap_or_default()
    };
    let names: Vec<String> = match table {
        Some(table) => vec![table.clone()],
        None => config.tables.iter().map(|t| t.table.clone()).collect(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result: Result<Vec<String>, String> = runtime.block_on(async {
        let catalog = Catalog::open(&config.catalog)
            .await
            .map_err(|e| format!("catalog {}: {e}", catalog::redact(&config.catalog.uri)))?;
        let mut out = Vec::new();
        for name in &names {
            let ident = catalog::parse_table_ident(name)
                .ok_or_else(|| format!("table {name}: not `namespace.name`"))?;
            let loaded = catalog
                .load_table(&ident)
                .await
                .map_err(|e| format!("table {name}: {e}"))?;
            let line = match &command {
                TableCommand::Status(_) => {
                    let status = table_status(catalog.file_io(), name, &loaded, &config.pipeline)
                        .await
                        .map_err(|e| format!("table {name}: {e}"))?;
                    if json {
                        serde_json::to_string(&status).map_err(|e| e.to_string())?
                    } else {
                        status.to_text()
                    }
                }
                TableCommand::Expire(_) => {
                    let done = Maintainer::new(catalog.clone(), config.pipeline.clone())
                        .with_defaults(maintenance(name))
                        .run_now(&loaded)
                        .await
                        .map_err(|e| format!("table {name}: {e}"))?;
                    let orphans = match done.orphans_deleted {
                        Some(n) => format!("{n} orphan files deleted"),
                        None => {
                            "orphan files not swept (the table is not on a local folder)".into()
                        }
                    };
                    format!("{name}: {} snapshots expired, {orphans}", done.expired)
                }
                TableCommand::Compact(_) => {
                    let done = Maintainer::new(catalog.clone(), config.pipeline.clone())
                        .with_defaults(maintenance(name))
                        .compact_now(&loaded, COMPACT_ATTEMPTS)
                        .await
                        .map_err(|e| format!("table {name}: {e}"))?;
                    match done {
                        Some(c) => format!(
                            "{name}: compacted {} data files and {} delete files into {} data files ({} rows)",
                            c.data_files_removed,
                            c.delete_files_removed,
                            c.data_files_added,
                            c.rows_written
                        ),
                        None => format!("{name}: nothing to compact"),
                    }
                }
            };
            out.push(line);
        }
        Ok(out)
    });
    match result {
        Ok(out) => {
            let separator = if json { "\n" } else { "\n\n" };
            println!("{}", out.join(separator));
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("floe: {message}");
            Ok(ExitCode::from(2))
        }
    }
}
