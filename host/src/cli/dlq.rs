//! `floe dlq`: the dead letters of a pipeline, by table, stage and reason.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use floe::config::PipelineConfig;
use floe::dlq::{StoredLetter, read_dead_letters};

/// What `floe dlq` does.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Counts of dead letters by table, stage and reason, with the range of
    /// positions each covers.
    List(DlqArgs),
    /// The dead letters themselves: position, table, stage, reason, key and
    /// value.
    Show(ShowArgs),
}

/// Which dead letters.
#[derive(Debug, Args)]
pub struct DlqArgs {
    /// The pipeline's TOML configuration (its `[dlq] path`).
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// Only this table's (`namespace.name`).
    #[arg(long)]
    table: Option<String>,
    /// Only those rejected at this stage: `decode`, `transform` or `write`.
    #[arg(long)]
    stage: Option<String>,
}

/// `floe dlq show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    which: DlqArgs,
    /// At most this many letters (0: all).
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// Runs a `floe dlq` command: exit 0, or 2 with one message when the
/// configuration or a DLQ file cannot be read.
pub fn run(command: DlqCommand) -> anyhow::Result<ExitCode> {
    let (which, limit) = match &command {
        DlqCommand::List(which) => (which, None),
        DlqCommand::Show(args) => (&args.which, Some(args.limit)),
    };
    let letters = match load(which) {
        Ok(letters) => letters,
        Err(message) => {
            eprintln!("floe: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    match limit {
        None => print!("{}", list(&letters)),
        Some(limit) => {
            let shown = if limit == 0 {
                letters.len()
            } else {
                limit.min(letters.len())
            };
            for letter in &letters[..shown] {
                println!("{}", show(letter));
            }
            if shown < letters.len() {
                println!("… {} more (--limit 0 shows all)", letters.len() - shown);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load(which: &DlqArgs) -> Result<Vec<StoredLetter>, String> {
    let config = PipelineConfig::load(&which.config).map_err(|e| e.to_string())?;
    let mut letters = read_dead_letters(&config.dlq.path).map_err(|e| e.to_string())?;
    letters.retain(|l| {
        which.table.as_ref().is_none_or(|t| *t == l.table)
            && which.stage.as_ref().is_none_or(|s| *s == l.stage)
    });
    Ok(letters)
}

/// One line per (table, stage, reason): the count and the positions.
fn list(letters: &[StoredLetter]) -> String {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&StoredLetter>> = BTreeMap::new();
    for letter in letters {
        groups
            .entry((&letter.table, &letter.stage, &letter.reason))
            .or_default()
            .push(letter);
    }
    let mut out = format!("{} dead letters\n", letters.len());
    for ((table, stage, reason), group) in groups {
        let first = group[0];
        let last = group[group.len() - 1];
        let range = if group.len() == 1 {
            format!("{}/{}@{}", first.topic, first.partition, first.offset)
        } else {
            format!(
                "{}/{}@{} … {}/{}@{}",
                first.topic, first.partition, first.offset, last.topic, last.partition, last.offset
            )
        };
        out.push_str(&format!(
            "{count:>8}  {table}  {stage}  {reason}  [{range}]\n",
            count = group.len(),
            reason = clip(reason, 160),
        ));
    }
    out
}

/// A letter as a few lines of text.
fn show(letter: &StoredLetter) -> String {
    let text = |bytes: &Option<Vec<u8>>| match bytes {
        None => "null".to_string(),
        Some(bytes) => clip(&String::from_utf8_lossy(bytes), 400),
    };
    format!(
        "{}/{}@{}  table {}  stage {}\n  reason: {}\n  key:    {}\n  value:  {}",
        letter.topic,
        letter.partition,
        letter.offset,
        letter.table,
        letter.stage,
        letter.reason,
        text(&letter.key),
        text(&letter.value),
    )
}

/// `text` cut to `max` characters, ending in … when cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
