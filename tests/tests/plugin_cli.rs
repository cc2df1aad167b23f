//! `floe plugin check` and `floe plugin test`, run as a user runs them.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use floe::plugin::{CacheOutcome, PluginCounters, PluginEngine, PluginVersion};
use floe_tests::{floe_bin, plugin_path, test_guest_path, workspace_root};
use serde_json::Value as Json;

fn floe(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(floe_bin())
        .args(args)
        .env(
            "FLOE_CACHE_DIR",
            workspace_root().join("target/floe-test-cache"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run floe");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_accepts_every_example_and_prints_world_contract_and_imports() {
    for (name, world) in [
        ("mask", "transformer"),
        ("filter", "transformer"),
        ("reshape", "transformer"),
        ("route", "transformer"),
        ("passthrough", "transformer"),
        ("mask-py", "transformer"),
        ("mask-js", "transformer"),
        ("maxwell", "decoder"),
        ("canal-js", "decoder"),
    ] {
        let path = plugin_path(name);
        let output = floe(&["plugin", "check", path.to_str().unwrap()], None);
        let text = stdout(&output);
        assert!(
            output.status.success(),
            "{name}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.contains(": ok"), "{text}");
        assert!(
            text.contains(&format!("world:    {world}")),
            "{name}: {text}"
        );
        assert!(text.contains("contract: floe:plugin@0.1.0"), "{text}");
        let imports = text
            .lines()
            .find(|l| l.trim_start().starts_with("imports:"))
            .expect("an imports line");
        assert!(
            imports.contains("floe:plugin/types@0.1.0"),
            "imports are listed: {text}"
        );
        assert!(!imports.contains("acme:"), "{text}");
    }
}

#[test]
fn check_rejects_what_is_not_a_plugin_with_a_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"PK\x03\x04 definitely a zip file").unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        (garbage, "not a WebAssembly file"),
        (core, "core WebAssembly module, not a component"),
        (test_guest_path("wrong-world"), "another world"),
        (test_guest_path("future-version"), "contract version 0.2.0"),
        (
            test_guest_path("forbidden-import"),
            "forbidden import acme:secrets/vault",
        ),
    ];
    for (path, reason) in cases {
        let output = floe(&["plugin", "check", path.to_str().unwrap()], None);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{}: {text}", path.display());
        assert_eq!(text.lines().count(), 1, "one line: {text}");
        assert!(
            text.contains(reason),
            "{}: wanted `{reason}` in `{text}`",
            path.display()
        );
    }
    // One bad file among good ones still fails the whole check, and each is reported.
    let output = floe(
        &[
            "plugin",
            "check",
            plugin_path("mask").to_str().unwrap(),
            test_guest_path("wrong-world").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("mask.wasm: ok"));
}

#[test]
fn plugin_test_runs_a_transformer_over_json_lines() {
    let input = concat!(
        r#"{"op":"update","table":"inventory.customers","key":["id"],"before":{"id":1004,"email":"annek@noanswer.org"},"after":{"id":1004,"email":"anne@example.com"}}"#,
        "\n",
        r#"{"op":"delete","table":"inventory.customers","key":["id"],"before":{"id":1005,"email":null}}"#,
        "\n"
    );
    let path = plugin_path("mask");
    let output = floe(
        &[
            "plugin",
            "test",
            path.to_str().unwrap(),
            "--config",
            "columns=email",
            "--config",
            "mode=redact",
        ],
        Some(input),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Json> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "replace");
    assert_eq!(lines[0]["change"]["after"]["email"], "***");
    assert_eq!(lines[0]["change"]["before"]["email"], "***");
    assert_eq!(
        lines[1]["outcome"], "keep",
        "a null stays null: nothing to replace"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 changes"));
}

#[test]
fn plugin_test_runs_a_decoder_over_kafka_records() {
    let input = r#"{"key": {"database":"shop","table":"orders","pk.id":1}, "value": {"database":"shop","table":"orders","type":"insert","ts":1,"data":{"id":1,"sku":"A-1"},"primary_key_columns":["id"]}}
{"key": null, "value": "not maxwell"}"#;
    let path = plugin_path("maxwell");
    let output = floe(&["plugin", "test", path.to_str().unwrap()], Some(input));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Json> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["changes"][0]["after"]["sku"], "A-1");
    assert_eq!(lines[0]["changes"][0]["op"], "insert");
    assert!(
        lines[1]["rejected"].as_str().unwrap().contains("maxwell"),
        "{}",
        lines[1]
    );
}

#[test]
fn plugin_test_reports_a_refused_config_and_exits_non_zero() {
    let path = plugin_path("mask");
    let output = floe(
        &[
            "plugin",
            "test",
            path.to_str().unwrap(),
            "--config",
            "mode=hash",
        ],
        Some(""),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused its configuration"));
}

#[test]
fn a_compiled_component_is_loaded_from_the_cache_the_second_time() {
    let cache = tempfile::tempdir().unwrap();
    let engine = PluginEngine::new(cache.path()).unwrap();
    let bytes = std::fs::read(plugin_path("mask-py")).unwrap();
    let started = Instant::now();
    let first =
        PluginVersion::load(&engine, "mask-py", &bytes, PluginCounters::default().into()).unwrap();
    let compile = started.elapsed();
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let engine = PluginEngine::new(cache.path()).unwrap();
    let started = Instant::now();
    let second =
        PluginVersion::load(&engine, "mask-py", &bytes, PluginCounters::default().into()).unwrap();
    let load = started.elapsed();
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);
    println!(
        "mask-py ({} MB): compiled in {compile:?}, loaded from cache in {load:?}",
        bytes.len() / 1_000_000
    );

    // A corrupted artifact is recompiled, never deserialized.
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            let mut compiled = std::fs::read(&path).unwrap();
            let middle = compiled.len() / 2;
            compiled[middle] ^= 0xff;
            std::fs::write(&path, compiled).unwrap();
        }
    }
    let engine = PluginEngine::new(cache.path()).unwrap();
    let third =
        PluginVersion::load(&engine, "mask-py", &bytes, PluginCounters::default().into()).unwrap();
    assert_eq!(third.cache_outcome(), CacheOutcome::Compiled);
}
