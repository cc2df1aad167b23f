//! What the `floe run` tests over a file share: a pipeline configuration
//! over a test catalog, the events file, running the binary; the readers
//! are [`floe_tests::reader`]'s.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use floe_tests::config::PipelineToml;
use floe_tests::floe_bin;
#[allow(unused_imports)] // Each test binary uses some of them.
pub use floe_tests::reader::{assert_reads, dead_letters, dlq_columns, read_oracle, sorted};

use crate::iceberg_common::TestCatalog;

/// Writes `<dir>/pipeline.toml`: a file source `events.jsonl` standing for
/// `topic`, one table `table` keyed by `id`, commits every `max_records`,
/// the DLQ in `<dir>/dlq`; `table_extra` adds keys to the `[[tables]]` entry.
pub fn write_config(
    dir: &Path,
    catalog: &TestCatalog,
    topic: &str,
    table: &str,
    max_records: usize,
    table_extra: &str,
) -> PathBuf {
    PipelineToml::file("test-cdc", topic, table, max_records)
        .catalog(&catalog.config)
        .table_keys(table_extra)
        .write(dir)
}

/// Writes the lines of `<dir>/events.jsonl`.
pub fn write_events(dir: &Path, lines: &[String]) {
    std::fs::write(dir.join("events.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// `floe run --config <config>`, quiet but for warnings, stderr captured.
pub fn floe_run(config: &Path) -> Command {
    let mut command = Command::new(floe_bin());
    command
        .args(["run", "--config"])
        .arg(config)
        .env("FLOE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Runs `floe run` to the end of its file, asserting it succeeds; returns its stderr.
pub fn run_to_end(config: &Path) -> String {
    let output = floe_run(config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "floe run failed: {stderr}");
    stderr
}
