//! Hot reload under a continuous stream of batches: a plugin replaced 20
//! times, with good versions, a truncated file and a component of the wrong
//! world. No change is lost or processed twice, every batch is processed by
//! exactly one version, and a broken version never serves.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use floe::change::{Change, Value};
use floe::plugin::{HotReload, PluginRegistry, ReloadEvent, StageSettings, TransformStage};
use floe_tests::{customer_changes, engine, id_of, plugin_path, test_guest_path};
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

enum Step {
    /// A valid version, written to a temporary file and renamed over the plugin.
    Rename(&'static str),
    /// A valid version, written in place over the plugin (readers may see it half-written).
    Overwrite(&'static str),
    /// A version that must never serve.
    Broken(&'static str, Vec<u8>),
}

#[test]
fn twenty_replacements_under_load_lose_nothing_and_never_serve_a_broken_version() {
    let passthrough = fs::read(plugin_path("passthrough")).unwrap();
    let reshape = fs::read(plugin_path("reshape")).unwrap();
    let wrong_world = fs::read(test_guest_path("wrong-world")).unwrap();
    let versions: BTreeMap<&str, Vec<u8>> = [
        ("passthrough", passthrough.clone()),
        ("reshape", reshape.clone()),
    ]
    .into();
    let (sha_pass, sha_reshape) = (sha(&passthrough), sha(&reshape));

    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.wasm");
    fs::write(&live, &passthrough).unwrap();
    let registry = PluginRegistry::open(engine(), dir.path()).unwrap();
    let _watch = HotReload::start(registry.clone()).unwrap();
    let settings = StageSettings {
        config: [("add".to_string(), "stamp=reshaped".to_string())].into(),
        ..Default::default()
    };
    let mut stage = TransformStage::new(registry.clone(), "live", settings).unwrap();

    // The stream: batches of 64 consecutive ids, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let last_served = Arc::new(Mutex::new(String::new()));
    let batches = Arc::new(AtomicUsize::new(0));
    let stream = {
        let (stop, last_served, batches) = (stop.clone(), last_served.clone(), batches.clone());
        let (sha_pass, sha_reshape) = (sha_pass.clone(), sha_reshape.clone());
        thread::spawn(move || {
            let mut next_id = 1i64;
            let mut seen = Vec::new();
            let mut per_version: BTreeMap<String, usize> = BTreeMap::new();
            while !stop.load(Ordering::SeqCst) {
                let input = customer_changes(next_id..next_id + 64);
                next_id += 64;
                let output = stage.apply(input.clone());
                let changes = output.changes.to_changes();
                assert!(
                    output.rejected.is_empty(),
                    "rejected: {:?}",
                    output.rejected.first().map(|r| &r.reason)
                );
                assert_eq!(
                    changes.iter().map(id_of).collect::<Vec<_>>(),
                    input.iter().map(id_of).collect::<Vec<_>>()
                );
                let sha = output.plugin.sha256.clone();
                let stamped = |c: &Change| {
                    c.after
                        .as_ref()
                        .is_some_and(|a| a.get("stamp") == Some(&Value::String("reshaped".into())))
                };
                let with_after: Vec<&Change> =
                    changes.iter().filter(|c| c.after.is_some()).collect();
                if sha == sha_reshape {
                    assert!(
                        with_after.iter().all(|c| stamped(c)),
                        "a reshape batch has an unstamped change"
                    );
                } else {
                    assert_eq!(
                        sha, sha_pass,
                        "a version other than the two good ones served"
                    );
                    assert!(
                        !with_after.iter().any(|c| stamped(c)),
                        "a passthrough batch has a stamped change"
                    );
                }
                seen.extend(changes.iter().map(id_of));
                *per_version.entry(sha.clone()).or_default() += 1;
                *last_served.lock().unwrap() = sha;
                batches.fetch_add(1, Ordering::SeqCst);
            }
            (next_id - 1, seen, per_version)
        })
    };

    let wait = |what: &str, limit: Duration, done: &dyn Fn() -> bool| -> Duration {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < limit, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(10));
        }
        started.elapsed()
    };

    let truncated = reshape[..reshape.len() / 2].to_vec();
    let steps = vec![
        Step::Rename("reshape"),
        Step::Rename("passthrough"),
        Step::Broken("truncated", truncated.clone()),
        Step::Overwrite("reshape"),
        Step::Broken("wrong world", wrong_world.clone()),
        Step::Rename("passthrough"),
        Step::Overwrite("reshape"),
        Step::Broken("garbage", b"this is not wasm".to_vec()),
        Step::Rename("passthrough"),
        Step::Rename("reshape"),
        Step::Broken("truncated", truncated),
        Step::Overwrite("passthrough"),
        Step::Rename("reshape"),
        Step::Broken("wrong world", wrong_world),
        Step::Overwrite("passthrough"),
        Step::Rename("reshape"),
        Step::Rename("passthrough"),
        Step::Overwrite("reshape"),
        Step::Broken("empty", Vec::new()),
        Step::Rename("passthrough"),
    ];
    assert_eq!(steps.len(), 20);
    let mut latencies = Vec::new();
    let mut serving = sha_pass.clone();
    for (i, step) in steps.into_iter().enumerate() {
        let failures_before = count_failures(&registry);
        match step {
            Step::Rename(name) | Step::Overwrite(name) => {
                let bytes = &versions[name];
                if matches!(step, Step::Rename(_)) {
                    replace_by_rename(&live, bytes);
                } else {
                    fs::write(&live, bytes).unwrap();
                }
                let expected = sha(bytes);
                let took = wait(
                    &format!("step {i}: {name} to load"),
                    Duration::from_secs(10),
                    &|| {
                        registry
                            .get("live")
                            .is_some_and(|v| v.id().sha256 == expected)
                    },
                );
                latencies.push(took);
                let served_from = batches.load(Ordering::SeqCst);
                wait(
                    &format!("step {i}: {name} to serve"),
                    Duration::from_secs(10),
                    &|| {
                        batches.load(Ordering::SeqCst) > served_from + 1
                            && *last_served.lock().unwrap() == expected
                    },
                );
                serving = expected;
            }
            Step::Broken(what, bytes) => {
                replace_by_rename(&live, &bytes);
                wait(
                    &format!("step {i}: the {what} file to be refused"),
                    Duration::from_secs(10),
                    &|| count_failures(&registry) > failures_before,
                );
                let served_from = batches.load(Ordering::SeqCst);
                wait(
                    "batches after a refused version",
                    Duration::from_secs(10),
                    &|| batches.load(Ordering::SeqCst) > served_from + 2,
                );
                assert_eq!(
                    registry.get("live").unwrap().id().sha256,
                    serving,
                    "step {i}: a {what} file replaced the serving version"
                );
                assert_eq!(*last_served.lock().unwrap(), serving);
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (last_id, seen, per_version) = stream.join().expect("the stream thread panicked");
    assert_eq!(
        seen,
        (1..=last_id).collect::<Vec<_>>(),
        "every change exactly once, in order"
    );
    assert_eq!(
        per_version.len(),
        2,
        "both versions served: {per_version:?}"
    );
    latencies.sort();
    println!(
        "{} batches, {} changes; reload latency: median {:?}, max {:?}",
        per_version.values().sum::<usize>(),
        seen.len(),
        latencies[latencies.len() / 2],
        latencies.last().unwrap()
    );
    assert!(
        *latencies.last().unwrap() < Duration::from_secs(3),
        "a reload took {:?}",
        latencies.last().unwrap()
    );
}

fn count_failures(registry: &PluginRegistry) -> usize {
    registry
        .events()
        .iter()
        .filter(|e| matches!(e, ReloadEvent::Failed { .. }))
        .count()
}

fn replace_by_rename(target: &Path, bytes: &[u8]) {
    let tmp = target.with_extension("tmp");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, target).unwrap();
}

#[test]
fn a_removed_plugin_keeps_serving_running_stages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.wasm");
    fs::copy(plugin_path("passthrough"), &file).unwrap();
    let registry = PluginRegistry::open(engine(), dir.path()).unwrap();
    let mut stage = TransformStage::new(registry.clone(), "p", StageSettings::default()).unwrap();
    fs::remove_file(&file).unwrap();
    let events = registry.rescan();
    assert_eq!(events, vec![ReloadEvent::Removed { name: "p".into() }]);
    assert!(registry.get("p").is_none());
    assert_eq!(stage.apply(customer_changes(1..=3)).changes.len(), 3);
    assert!(TransformStage::new(registry, "p", StageSettings::default()).is_err());
}
