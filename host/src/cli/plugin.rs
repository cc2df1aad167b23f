//! `floe plugin check` and `floe plugin test`.

use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use clap::{Args, Subcommand};
use floe::change::json::{change_from_json, change_to_json};
use floe::change::{Change, Position};
use floe::plugin::{
    DecodeStage, Limits, PluginCounters, PluginEngine, PluginRegistry, PluginVersion,
    StageSettings, TransformStage, bindings,
};
use floe::source::{Header, RawRecord};
use serde_json::{Value as Json, json};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate components against the floe:plugin contract: print each one's
    /// world(s), contract version and imports; exit 1 if any is not a plugin.
    Check {
        /// Component files (`.wasm`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run one plugin over JSON input and print the results as JSON lines.
    ///
    /// A decoder reads Kafka records: `{"key": …, "value": …}` (JSON key and
    /// value, sent as their JSON text; `key_base64`/`value_base64` for raw
    /// bytes; optional `topic`, `partition`, `offset`, `timestamp`,
    /// `headers`), or a bare JSON value as the record value. A transformer
    /// reads changes in floe's JSON form (see the README). Input is JSON
    /// lines or concatenated JSON documents.
    Test(TestArgs),
    /// Create a plugin folder that builds with one command: source with a
    /// commented example, a README, sample input and a test that runs the
    /// plugin with `floe plugin test`.
    New(super::plugin_new::NewArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The plugin component.
    file: PathBuf,
    /// A configuration entry for the plugin, `KEY=VALUE`; repeatable.
    #[arg(long = "config", short = 'c', value_parser = parse_key_value)]
    config: Vec<(String, String)>,
    /// Input file; standard input when absent or `-`.
    #[arg(long, short = 'i')]
    input: Option<PathBuf>,
    /// The topic given to records and changes without one.
    #[arg(long, default_value = "test")]
    topic: String,
    /// The plugin's memory cap, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mib: usize,
    /// The plugin's deadline per batch, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    deadline_ms: u64,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

pub fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::Check { files } => check(&files),
        PluginCommand::Test(args) => test(args),
        PluginCommand::New(args) => super::plugin_new::new(args),
    }
}

fn engine() -> anyhow::Result<PluginEngine> {
    PluginEngine::new(PluginEngine::default_cache_dir()).context("starting the plugin engine")
}

fn check(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let engine = engine()?;
    let mut failed = false;
    for file in files {
        match check_one(&engine, file) {
            Ok(version) => {
                let exports = version.exports();
                println!("{}: ok", file.display());
                println!("  world:    {}", exports.worlds().join(", "));
                println!("  contract: {}", bindings::CONTRACT);
                println!("  sha256:   {}", version.id().sha256);
                println!("  imports:  {}", version.imports().join(", "));
            }
            Err(reason) => {
                failed = true;
                println!("{}: {reason}", file.display());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_one(engine: &PluginEngine, file: &Path) -> Result<PluginVersion, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let version = PluginVersion::load(engine, &name, &bytes, Arc::new(PluginCounters::default()))
        .map_err(|e| e.to_string())?;
    version.verify().map_err(|e| e.to_string())?;
    Ok(version)
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let engine = engine()?;
    let (registry, name) = PluginRegistry::open_file(engine, &args.file)
        .with_context(|| format!("{}", args.file.display()))?;
    let version = registry.get(&name).context("plugin vanished")?;
    let settings = StageSettings {
        config: args.config.iter().cloned().collect::<BTreeMap<_, _>>(),
        limits: Limits {
            memory_bytes: args.memory_mib << 20,
            deadline: Duration::from_millis(args.deadline_ms),
        },
        grants: Default::default(),
    };
    let documents = read_documents(args.input.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if version.exports().decoder {
        let records = documents
            .iter()
            .enumerate()
            .map(|(line, doc)| record_from_json(doc, &args.topic, line as i64))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut stage = DecodeStage::new(registry, &name, settings)?;
        let output = stage.apply(&records);
        let decoded = output.changes.to_changes();
        for (index, record) in records.iter().enumerate() {
            let line = match output.rejected.iter().find(|r| r.index == index) {
                Some(rejected) => json!({"offset": record.offset, "rejected": rejected.reason}),
                None => {
                    let changes: Vec<Json> = decoded
                        .iter()
                        .filter(|c| c.position == record.position())
                        .map(change_to_json)
                        .collect();
                    json!({"offset": record.offset, "changes": changes})
                }
            };
            writeln!(out, "{line}")?;
        }
        eprintln!(
            "{} records: {} changes, {} rejected, by {}",
            records.len(),
            output.changes.len(),
            output.rejected.len(),
            output.plugin
        );
    } else {
        let changes = documents
            .iter()
            .enumerate()
            .map(|(line, doc)| {
                change_from_json(doc, Position::new(args.topic.as_str(), 0, line as i64))
                    .with_context(|| format!("input document {line}"))
            })
            .collect::<anyhow::Result<Vec<Change>>>()?;
        let mut stage = TransformStage::new(registry, &name, settings)?;
        let output = stage.apply(changes.as_slice());
        let transformed = output.changes.to_changes();
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        for change in &changes {
            let (outcome, line) = describe_outcome(change, &output, &transformed);
            *tally.entry(outcome).or_default() += 1;
            writeln!(out, "{line}")?;
        }
        let summary: Vec<String> = tally.iter().map(|(k, v)| format!("{v} {k}")).collect();
        eprintln!(
            "{} changes: {}, by {}",
            changes.len(),
            summary.join(", "),
            output.plugin
        );
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What became of one input change, as a JSON line.
fn describe_outcome(
    input: &Change,
    output: &floe::plugin::TransformOutput,
    transformed: &[Change],
) -> (&'static str, Json) {
    let offset = input.position.offset;
    if let Some(rejected) = output
        .rejected
        .iter()
        .find(|r| r.change.position == input.position)
    {
        return (
            "rejected",
            json!({"offset": offset, "outcome": "reject", "reason": rejected.reason}),
        );
    }
    match transformed.iter().find(|c| c.position == input.position) {
        None => ("dropped", json!({"offset": offset, "outcome": "drop"})),
        Some(out) if out == input => ("kept", json!({"offset": offset, "outcome": "keep"})),
        Some(out)
            if Change {
                table: input.table.clone(),
                ..out.clone()
            } == *input =>
        {
            (
                "routed",
                json!({"offset": offset, "outcome": "route", "table": out.table}),
            )
        }
        Some(out) => (
            "replaced",
            json!({"offset": offset, "outcome": "replace", "change": change_to_json(out)}),
        ),
    }
}

/// Reads JSON lines or concatenated JSON documents.
fn read_documents(input: Option<&Path>) -> anyhow::Result<Vec<Json>> {
    let mut text = String::new();
    match input {
        None => std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?,
        Some(p) if p == Path::new("-") => std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?,
        Some(path) => std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("reading {}", path.display()))?,
    };
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Json>()
        .enumerate()
        .map(|(i, doc)| doc.with_context(|| format!("input document {i} is not JSON")))
        .collect()
}

const RECORD_FIELDS: [&str; 9] = [
    "key",
    "value",
    "key_base64",
    "value_base64",
    "topic",
    "partition",
    "offset",
    "timestamp",
    "headers",
];

/// A Kafka record from its JSON description (see `floe plugin test --help`).
fn record_from_json(doc: &Json, topic: &str, line: i64) -> anyhow::Result<RawRecord> {
    let is_record = doc.as_object().is_some_and(|o| {
        (o.contains_key("value") || o.contains_key("value_base64"))
            && o.keys().all(|k| RECORD_FIELDS.contains(&k.as_str()))
    });
    if !is_record {
        return Ok(RawRecord {
            topic: topic.into(),
            partition: 0,
            offset: line,
            timestamp: None,
            key: None,
            value: Some(doc.to_string().into_bytes()),
            headers: Vec::new(),
        });
    }
    let bytes = |json_field: &str, b64_field: &str| -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(encoded) = doc.get(b64_field).and_then(Json::as_str) {
            return Ok(Some(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .with_context(|| format!("`{b64_field}` is not base64"))?,
            ));
        }
        Ok(match doc.get(json_field) {
            None | Some(Json::Null) => None,
            Some(value) => Some(value.to_string().into_bytes()),
        })
    };
    let headers = match doc.get("headers") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Object(map)) => map
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: match value {
                    Json::Null => None,
                    Json::String(s) => Some(s.clone().into_bytes()),
                    other => Some(other.to_string().into_bytes()),
                },
            })
            .collect(),
        Some(_) => bail!("`headers` must be an object of name to value"),
    };
    Ok(RawRecord {
        topic: doc
            .get("topic")
            .and_then(Json::as_str)
            .unwrap_or(topic)
            .into(),
        partition: doc.get("partition").and_then(Json::as_i64).unwrap_or(0) as i32,
        offset: doc.get("offset").and_then(Json::as_i64).unwrap_or(line),
        timestamp: doc.get("timestamp").and_then(Json::as_i64),
        key: bytes("key", "key_base64")?,
        value: bytes("value", "value_base64")?,
        headers,
    })
}
