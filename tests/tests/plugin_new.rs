//! `floe plugin new`, as a plugin author meets it: one command creates the
//! folder, one (`bash build.sh`) builds it, and the folder's own test (`bash
//! test.sh`, which runs `floe plugin test` on its sample) passes; `floe plugin
//! check` accepts the component. For Rust, Python and JavaScript.
//!
//! The build tools are those `scripts/test.sh` installs: the wasm32-wasip2
//! target, componentize-py in `.venv`, ComponentizeJS in
//! `guest-sdk/js/node_modules`.

use std::path::Path;
use std::process::{Command, Output};

use floe_tests::{floe_bin, workspace_root};

fn run(command: &mut Command) -> Output {
    let root = workspace_root();
    command
        .env("FLOE", floe_bin())
        .env("FLOE_CACHE_DIR", root.join("target/floe-test-cache"))
        .env("FLOE_SDK_ROOT", &root)
        // Rust plugins share one target folder across runs of this test.
        .env("CARGO_TARGET_DIR", root.join("target/plugin-new"))
        .env("COMPONENTIZE_PY", root.join(".venv/bin/componentize-py"))
        .env(
            "COMPONENTIZE_JS",
            root.join("guest-sdk/js/node_modules/.bin/componentize-js"),
        )
        .output()
        .expect("run")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Creates, builds, tests and checks one plugin; returns the test's output.
fn create_build_test(dir: &Path, name: &str, lang: &str, world: &str) -> String {
    let created = run(Command::new(floe_bin())
        .current_dir(dir)
        .args(["plugin", "new", name, "--lang", lang, "--world", world]));
    assert!(
        created.status.success(),
        "{lang} {world}: {}",
        text(&created)
    );
    let folder = dir.join(name);
    for file in [
        "README.md",
        "build.sh",
        "test.sh",
        "sample.json",
        "wit/floe-plugin.wit",
    ] {
        assert!(folder.join(file).is_file(), "{lang} {world}: no {file}");
    }
    let built = run(Command::new("bash").arg(folder.join("build.sh")));
    assert!(
        built.status.success(),
        "{lang} {world}: build: {}",
        text(&built)
    );
    let wasm = folder.join(format!("{name}.wasm"));
    assert!(
        wasm.is_file(),
        "{lang} {world}: build.sh made no {}",
        wasm.display()
    );

    let checked = run(Command::new(floe_bin())
        .args(["plugin", "check"])
        .arg(&wasm));
    let checked_text = text(&checked);
    assert!(checked.status.success(), "{lang} {world}: {checked_text}");
    assert!(
        checked_text.contains(&format!("world:    {world}")),
        "{lang} {world}: {checked_text}"
    );
    let tested = run(Command::new("bash").arg(folder.join("test.sh")));
    let tested_text = text(&tested);
    assert!(
        tested.status.success(),
        "{lang} {world}: test: {tested_text}"
    );
    assert!(tested_text.contains("test: ok"), "{tested_text}");
    tested_text
}

#[test]
fn new_transformers_build_and_pass_their_test_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["rust", "python", "js"] {
        let out = create_build_test(dir.path(), &format!("upper-{lang}"), lang, "transformer");
        // The generated example upper-cases `name`: the sample's "alice" became "ALICE".
        assert!(out.contains("\"name\":\"ALICE\""), "{lang}: {out}");
        assert!(out.contains("\"outcome\":\"replace\""), "{lang}: {out}");
    }
}

#[test]
fn new_decoders_build_and_pass_their_test() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["rust", "js"] {
        let out = create_build_test(dir.path(), &format!("rows_{lang}"), lang, "decoder");
        assert!(
            out.contains("2 records: 2 changes, 0 rejected"),
            "{lang}: {out}"
        );
        assert!(out.contains("\"op\":\"delete\""), "{lang}: {out}");
    }
}

#[test]
fn new_refuses_what_it_cannot_make() {
    let dir = tempfile::tempdir().unwrap();
    let new = |args: &[&str]| {
        run(Command::new(floe_bin())
            .current_dir(dir.path())
            .args(["plugin", "new"])
            .args(args))
    };
    let python_decoder = new(&["p", "--lang", "python", "--world", "decoder"]);
    assert_eq!(python_decoder.status.code(), Some(2));
    assert!(text(&python_decoder).contains("transformer world only"));
    let bad_name = new(&["../up", "--lang", "js"]);
    assert_eq!(bad_name.status.code(), Some(2));
    assert!(text(&bad_name).contains("is not a plugin name"));
    assert!(new(&["twice", "--lang", "js"]).status.success());
    let again = new(&["twice", "--lang", "js"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("already exists"));
}
