//! Plugin throughput: ns per change through the host, batches of 1,024
//! customer changes of 10 columns (ids, names, email, phone, region, a
//! decimal, a timestamptz, a boolean, a double).
//!
//! Run with `cargo bench -p floe-tests --bench plugins` after building the
//! plugins. Prints numbers; asserts nothing about speed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use floe::change::{Change, ChangeBatch, ColumnType, Value};
use floe::plugin::{StageSettings, TransformStage};
use floe_tests::{customer_changes, plugin_path, registry_with};
use sha2::{Digest, Sha256};

const BATCH: i64 = 1024;

fn batches(count: i64) -> Vec<Vec<Change>> {
    (0..count)
        .map(|b| customer_changes(b * BATCH + 1..=(b + 1) * BATCH))
        .collect()
}

/// The allocator of the `floe` binary, so the host's allocations cost here
/// what they cost in the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs `apply` over `batches` repeatedly for at least `min` and returns ns
/// per change: the best of [`ROUNDS`] rounds, as this shared machine's
/// neighbours slow some rounds down by half. Making the input and dropping
/// the output are not timed: the pipeline has both whether or not a plugin runs.
fn measure<I: Clone + Rows, T>(min: Duration, batches: &[I], mut apply: impl FnMut(I) -> T) -> f64 {
    // Warm up: first calls compile lazily and fault memory in.
    for batch in batches.iter().take(2) {
        drop(black_box(apply(batch.clone())));
    }
    let round = min / ROUNDS;
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let mut changes = 0usize;
        let mut spent = Duration::ZERO;
        while spent < round {
            for batch in batches {
                let input = batch.clone();
                changes += input.rows();
                let started = Instant::now();
                let output = black_box(apply(input));
                spent += started.elapsed();
                drop(output);
            }
        }
        best = best.min(spent.as_nanos() as f64 / changes as f64);
    }
    best
}

/// A batch of changes, of either form.
trait Rows {
    fn rows(&self) -> usize;
}

impl Rows for Vec<Change> {
    fn rows(&self) -> usize {
        self.len()
    }
}

impl Rows for ChangeBatch {
    fn rows(&self) -> usize {
        self.len()
    }
}

/// How many rounds each measurement is split into.
const ROUNDS: u32 = 5;

/// Whether the measurement `name` was asked for (`FLOE_BENCH_ONLY`, a
/// comma-separated list of name prefixes; all when unset).
fn wanted(name: &str) -> bool {
    std::env::var("FLOE_BENCH_ONLY").map_or(true, |only| {
        only.split(',')
            .any(|prefix| name.starts_with(prefix.trim()))
    })
}

fn stage(plugin: &str, config: &[(&str, &str)]) -> (tempfile::TempDir, TransformStage) {
    let (dir, registry) = registry_with(&[(plugin, plugin_path(plugin))]);
    let settings = StageSettings {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    (
        dir,
        TransformStage::new(registry, plugin, settings).expect("stage"),
    )
}

/// The mask plugin's hashing, compiled natively: SHA-256 of salt ‖ encoded value, as hex.
fn mask_natively(changes: &mut [Change], columns: &[&str], salt: &str) {
    let mut bytes = Vec::new();
    for change in changes {
        for image in [change.before.as_mut(), change.after.as_mut()]
            .into_iter()
            .flatten()
        {
            for column in columns {
                let Some(value) = image.get(column) else {
                    continue;
                };
                bytes.clear();
                value.encode_into(&mut bytes);
                let mut hasher = Sha256::new();
                hasher.update(salt.as_bytes());
                hasher.update(&bytes);
                let hashed = hex::encode(hasher.finalize());
                image.set(*column, ColumnType::String, Some(Value::String(hashed)));
            }
        }
    }
}

fn main() {
    let min = Duration::from_secs(
        std::env::var("FLOE_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let data = batches(8);
    let columnar: Vec<ChangeBatch> = data
        .iter()
        .map(|b| ChangeBatch::from(b.as_slice()))
        .collect();
    let mask_config = [("columns", "email,phone"), ("salt", "s3cret")];
    println!(
        "plugin throughput, batches of {BATCH} changes x 10 columns (ns per change, lower is better)"
    );

    // Changes travel the pipeline as columnar batches (the contract's form),
    // built by the decoder; a plugin call hands one over as it is. For
    // scale: building such a batch from owned rows.
    if wanted("build") {
        let build = measure(min, &data, |batch| ChangeBatch::from(batch));
        println!(
            "  host only: rows into a batch     {build:>9.0} ns/change  (not part of a plugin call)"
        );
    }

    if wanted("pass") {
        let (_d, mut passthrough) = stage("passthrough", &[]);
        let pass = measure(min, &columnar, |batch| passthrough.apply(batch));
        println!("  pass-through, Rust plugin       {pass:>9.0} ns/change");
    }

    let native = measure(min, &data, |mut batch| {
        mask_natively(&mut batch, &["email", "phone"], "s3cret");
        batch
    });
    println!("  mask, native Rust (no Wasm)     {native:>9.0} ns/change");

    if wanted("mask") {
        let (_d, mut mask) = stage("mask", &mask_config);
        let rust = measure(min, &columnar, |batch| mask.apply(batch));
        println!(
            "  mask, Rust plugin               {rust:>9.0} ns/change  ({:.2}x native)",
            rust / native
        );
    }

    if wanted("redact") {
        let (_d, mut redact) = stage("mask", &[("columns", "email,phone"), ("mode", "redact")]);
        let redacting = measure(min, &columnar, |batch| redact.apply(batch));
        println!(
            "  mask mode=redact, Rust plugin   {redacting:>9.0} ns/change  (the replace path without hashing)"
        );
    }

    if wanted("python") {
        let (_d, mut mask_py) = stage("mask-py", &mask_config);
        let python = measure(min, &columnar[..2], |batch| mask_py.apply(batch));
        println!(
            "  mask, Python plugin             {python:>9.0} ns/change  ({:.1}x native)",
            python / native
        );
    }
}
