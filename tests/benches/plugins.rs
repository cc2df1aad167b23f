//! Plugin throughput: ns per change through the host, batches of 1,024
//! customer changes of 10 columns (ids, names, email, phone, region, a
//! decimal, a timestamptz, a boolean, a double).
//!
//! Run with `cargo bench -p floe-tests --bench plugins` after building the
//! plugins. Prints numbers; asserts nothing about speed.
//!
//! The `mask` plugin is compared with the same masking compiled natively,
//! two ways: the plugin's own source (`plugins/mask/src/lib.rs`) built for
//! this machine and run through the guest SDK's batch loop on the same
//! batches, and a mask written against the host's batches directly, as a
//! built-in transform would be.

use std::hint::black_box;
use std::time::{Duration, Instant};

use floe::change::{Change, ChangeBatch, ChangeBatchBuilder, ColumnType, Which};
use floe::plugin::{StageSettings, TransformStage, bindings as host_wit};
use floe_guest::testing::Batch as GuestBatch;
use floe_guest::{Config, Transformer};
use floe_tests::{customer_changes, plugin_path, registry_with};
use sha2::{Digest, Sha256};

/// The `mask` plugin's source, compiled for this machine (its unit tests
/// come along unused: a bench is built with `cfg(test)`).
#[allow(dead_code, unused_imports)]
#[path = "../../plugins/mask/src/lib.rs"]
mod mask_plugin;

const BATCH: i64 = 1024;

/// The allocator of the `floe` binary, so the host's allocations cost here
/// what they cost in the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many rounds each measurement is split into.
const ROUNDS: u32 = 5;

/// Runs `apply` over `batches` repeatedly for at least `min` and returns ns
/// per change: the best of [`ROUNDS`] rounds, as this shared machine's
/// neighbours slow some rounds down by half. Making the input and dropping
/// the output are not timed: the pipeline has both whether or not a plugin runs.
fn measure<I: Clone, T>(
    min: Duration,
    batches: &[I],
    rows: impl Fn(&I) -> usize,
    mut apply: impl FnMut(I) -> T,
) -> f64 {
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
                changes += rows(&input);
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

/// A host batch as the guest SDK receives it: the same buffers, in the
/// guest's generated types.
fn guest_batch(batch: &ChangeBatch) -> GuestBatch {
    use floe_guest::wit;
    let wire = &floe::plugin::batch_to_wit(batch.wire());
    let images = |images: &host_wit::Images| wit::Images {
        present: images.present.clone(),
        columns: images
            .columns
            .iter()
            .map(|c| wit::Column {
                name: c.name.clone(),
                type_: match c.type_ {
                    host_wit::ColumnType::Boolean => wit::ColumnType::Boolean,
                    host_wit::ColumnType::Int => wit::ColumnType::Int,
                    host_wit::ColumnType::Long => wit::ColumnType::Long,
                    host_wit::ColumnType::Float => wit::ColumnType::Float,
                    host_wit::ColumnType::Double => wit::ColumnType::Double,
                    host_wit::ColumnType::Decimal(d) => {
                        wit::ColumnType::Decimal(wit::DecimalType {
                            precision: d.precision,
                            scale: d.scale,
                        })
                    }
                    host_wit::ColumnType::Date => wit::ColumnType::Date,
                    host_wit::ColumnType::Time => wit::ColumnType::Time,
                    host_wit::ColumnType::Timestamp => wit::ColumnType::Timestamp,
                    host_wit::ColumnType::Timestamptz => wit::ColumnType::Timestamptz,
                    host_wit::ColumnType::String => wit::ColumnType::String,
                    host_wit::ColumnType::Uuid => wit::ColumnType::Uuid,
                    host_wit::ColumnType::Binary => wit::ColumnType::Binary,
                },
                presence: c.presence.clone(),
                offsets: c.offsets.clone(),
                data: c.data.clone(),
            })
            .collect(),
    };
    GuestBatch::from_wire(wit::ChangeBatch {
        ops: wire.ops.clone(),
        tables: wire.tables.clone(),
        table_keys: wire.table_keys.clone(),
        table_index: wire.table_index.clone(),
        event_time: wire.event_time.clone(),
        event_time_known: wire.event_time_known.clone(),
        before: images(&wire.before),
        after: images(&wire.after),
    })
}

/// Masking written against the host's batches, as a built-in transform would
/// be: every cell copied into a new batch, the masked ones as the hex of
/// SHA-256(salt ‖ cell bytes).
fn mask_built_in(batch: &ChangeBatch, columns: &[&str], salt: &[u8]) -> ChangeBatch {
    let mut out = ChangeBatchBuilder::with_capacity(batch.len());
    for row in 0..batch.len() {
        out.begin(
            batch.op(row),
            batch.table(row),
            batch.key_columns(row),
            &batch.position(row),
            batch.event_time(row),
        );
        for which in [Which::Before, Which::After] {
            let Some(image) = batch.images(which).row(row) else {
                continue;
            };
            let target = out.image(which);
            target.mark_present();
            for cell in image.cells() {
                match cell.bytes {
                    Some(bytes) if columns.contains(&cell.name) => {
                        let mut hasher = Sha256::new();
                        hasher.update(salt);
                        hasher.update(bytes);
                        let hex = hex::encode(hasher.finalize());
                        target.set_encoded(cell.name, ColumnType::String, Some(hex.as_bytes()));
                    }
                    _ => {
                        target.set_encoded(cell.name, cell.ty, cell.bytes);
                    }
                }
            }
        }
    }
    out.finish()
}

fn main() {
    let min = Duration::from_secs(
        std::env::var("FLOE_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let rows: Vec<Vec<Change>> = (0..8)
        .map(|b| customer_changes(b * BATCH + 1..=(b + 1) * BATCH))
        .collect();
    let batches: Vec<ChangeBatch> = rows
        .iter()
        .map(|b| ChangeBatch::from(b.as_slice()))
        .collect();
    let guest_batches: Vec<GuestBatch> = batches.iter().map(guest_batch).collect();
    let mask_config = [("columns", "email,phone"), ("salt", "s3cret")];
    let redact_config = [("columns", "email,phone"), ("mode", "redact")];
    let config = |pairs: &[(&str, &str)]| Config::from_pairs(pairs.iter().copied());
    let len = |b: &ChangeBatch| b.len();
    let guest_len = |b: &GuestBatch| b.len();
    println!(
        "plugin throughput, batches of {BATCH} changes x 10 columns (ns per change, lower is better)"
    );

    // Changes travel the pipeline as columnar batches (the contract's form),
    // built by the decoder; a plugin call hands one over as it is. For
    // scale: building such a batch from owned rows.
    if wanted("build") {
        let build = measure(min, &rows, Vec::len, ChangeBatch::from);
        println!(
            "  host only: rows into a batch         {build:>7.0} ns/change  (not part of a plugin call)"
        );
    }

    if wanted("pass") {
        let (_d, mut passthrough) = stage("passthrough", &[]);
        let pass = measure(min, &batches, len, |batch| passthrough.apply(batch));
        println!("  pass-through, Rust plugin            {pass:>7.0} ns/change");
    }

    if wanted("mask") {
        let mut native = mask_plugin::Mask::init(&config(&mask_config)).expect("config");
        let same_code = measure(min, &guest_batches, guest_len, |batch| {
            floe_guest::testing::run_batch(&mut native, &batch)
        });
        println!(
            "  mask, its source compiled natively   {same_code:>7.0} ns/change  (through the guest SDK)"
        );
        let built_in = measure(min, &batches, len, |batch| {
            mask_built_in(&batch, &["email", "phone"], b"s3cret")
        });
        println!(
            "  mask, built-in over host batches     {built_in:>7.0} ns/change  (SHA-256 in hardware: SHA-NI)"
        );
        let (_d, mut mask) = stage("mask", &mask_config);
        let rust = measure(min, &batches, len, |batch| mask.apply(batch));
        println!(
            "  mask, Rust plugin                    {rust:>7.0} ns/change  ({:.2}x the same source natively, {:.2}x built-in)",
            rust / same_code,
            rust / built_in
        );
    }

    if wanted("redact") {
        let mut native = mask_plugin::Mask::init(&config(&redact_config)).expect("config");
        let same_code = measure(min, &guest_batches, guest_len, |batch| {
            floe_guest::testing::run_batch(&mut native, &batch)
        });
        let (_d, mut redact) = stage("mask", &redact_config);
        let redacting = measure(min, &batches, len, |batch| redact.apply(batch));
        println!(
            "  mask mode=redact, Rust plugin        {redacting:>7.0} ns/change  ({:.2}x its source natively, {same_code:.0} ns)",
            redacting / same_code
        );
    }

    if wanted("python") {
        let (_d, mut mask_py) = stage("mask-py", &mask_config);
        let python = measure(min, &batches[..2], len, |batch| mask_py.apply(batch));
        println!("  mask, Python plugin                  {python:>7.0} ns/change");
    }

    if wanted("js") {
        let (_d, mut mask_js) = stage("mask-js", &mask_config);
        let js = measure(min, &batches[..2], len, |batch| mask_js.apply(batch));
        println!("  mask, JavaScript plugin              {js:>7.0} ns/change");
    }
}
