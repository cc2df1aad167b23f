//! `floe plugin new`: writes a plugin folder that builds with one command
//! (`bash build.sh`) and tests itself with `floe plugin test` (`bash
//! test.sh`): a commented example, a README, sample input and the contract.
//!
//! The JavaScript and Python SDKs and the WIT file are built into the floe
//! binary and copied into the folder, so those plugins need nothing else of
//! floe's. A Rust plugin depends on the Rust SDK by path, in the floe
//! checkout found from the binary's location (or `--sdk-root`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// The contract, copied into every plugin folder.
const WIT: &str = include_str!("../../../../wit/floe-plugin.wit");

/// The JavaScript SDK's modules, copied into `floe-guest/`.
const JS_SDK: &[(&str, &str)] = &[
    (
        "index.js",
        include_str!("../../../../guest-sdk/js/src/index.js"),
    ),
    (
        "build.js",
        include_str!("../../../../guest-sdk/js/src/build.js"),
    ),
    (
        "change.js",
        include_str!("../../../../guest-sdk/js/src/change.js"),
    ),
    (
        "codec.js",
        include_str!("../../../../guest-sdk/js/src/codec.js"),
    ),
    (
        "config.js",
        include_str!("../../../../guest-sdk/js/src/config.js"),
    ),
    (
        "record.js",
        include_str!("../../../../guest-sdk/js/src/record.js"),
    ),
    (
        "run.js",
        include_str!("../../../../guest-sdk/js/src/run.js"),
    ),
    (
        "text.js",
        include_str!("../../../../guest-sdk/js/src/text.js"),
    ),
    (
        "types.js",
        include_str!("../../../../guest-sdk/js/src/types.js"),
    ),
];

/// The Python SDK's modules, copied into `floe_guest/`.
const PYTHON_SDK: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../../../guest-sdk/python/floe_guest/__init__.py"),
    ),
    (
        "_core.py",
        include_str!("../../../../guest-sdk/python/floe_guest/_core.py"),
    ),
    (
        "_wit.py",
        include_str!("../../../../guest-sdk/python/floe_guest/_wit.py"),
    ),
    (
        "codec.py",
        include_str!("../../../../guest-sdk/python/floe_guest/codec.py"),
    ),
    (
        "log.py",
        include_str!("../../../../guest-sdk/python/floe_guest/log.py"),
    ),
];

/// The language a plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust, built for wasm32-wasip2 with cargo.
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with ComponentizeJS.
    Js,
}

/// The WIT world a plugin targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum World {
    /// Transforms changes: map, mask, filter, route or reject.
    Transformer,
    /// Decodes raw records into changes.
    Decoder,
}

impl World {
    fn name(self) -> &'static str {
        match self {
            World::Transformer => "transformer",
            World::Decoder => "decoder",
        }
    }
}

/// `floe plugin new NAME --lang rust|python|js --world transformer|decoder`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name (letters, digits, `-` and `_`): its folder, its
    /// `.wasm` file and the name pipelines use.
    name: String,
    /// The language of the plugin.
    #[arg(long, value_enum)]
    lang: Lang,
    /// The world it targets.
    #[arg(long, value_enum, default_value = "transformer")]
    world: World,
    /// The folder to create the plugin folder in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The floe checkout whose Rust SDK (`guest-sdk/`) a Rust plugin depends
    /// on; found from the `floe` binary's location when absent.
    #[arg(long, env = "FLOE_SDK_ROOT")]
    sdk_root: Option<PathBuf>,
}

/// Writes the plugin folder and says how to build and test it.
pub fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        bail!("`{name}` is not a plugin name: use a letter, then letters, digits, `-` and `_`");
    }
    if args.lang == Lang::Python && args.world == World::Decoder {
        bail!(
            "the Python SDK has the transformer world only: use --lang rust or --lang js for a decoder"
        );
    }
    let folder = args.dir.join(name);
    if folder.exists()
        && std::fs::read_dir(&folder)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", folder.display());
    }
    let sdk_root = match args.lang {
        Lang::Rust => Some(rust_sdk_root(args.sdk_root)?),
        _ => None,
    };
    let files = files(name, args.lang, args.world, sdk_root.as_deref());
    for (path, text) in &files {
        let path = folder.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created {} ({} {}, {} files)\n  build: bash {}/build.sh\n  test:  bash {}/test.sh",
        folder.display(),
        lang_name(args.lang),
        args.world.name(),
        files.len(),
        folder.display(),
        folder.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "Rust",
        Lang::Python => "Python",
        Lang::Js => "JavaScript",
    }
}

/// The floe checkout holding `guest-sdk/Cargo.toml`: `given`, else the
/// nearest ancestor of the running binary that has one.
fn rust_sdk_root(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let has_sdk = |dir: &Path| dir.join("guest-sdk/Cargo.toml").is_file();
    if let Some(root) = given {
        let root = std::fs::canonicalize(&root)
            .with_context(|| format!("--sdk-root {}", root.display()))?;
        if !has_sdk(&root) {
            bail!(
                "--sdk-root {}: no guest-sdk/Cargo.toml there",
                root.display()
            );
        }
        return Ok(root);
    }
    // The binary's path as run, then with links resolved (a `target` folder
    // may be a link out of the checkout).
    let exe = std::env::current_exe().context("locating the floe binary")?;
    let resolved = std::fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    exe.ancestors()
        .chain(resolved.ancestors())
        .find(|dir| has_sdk(dir))
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "a Rust plugin builds against floe's Rust SDK, and no floe checkout holds {}: pass --sdk-root <floe checkout> (or set FLOE_SDK_ROOT)",
                exe.display()
            )
        })
}

/// Every file of the folder, as (relative path, text).
fn files(name: &str, lang: Lang, world: World, sdk_root: Option<&Path>) -> Vec<(String, String)> {
    let crate_name = name.replace('_', "-");
    let fill = |text: &str| {
        let mut text = text
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{crate_file}}", &crate_name.replace('-', "_"))
            .replace("{{world}}", world.name())
            .replace("{{lang_name}}", lang_name(lang));
        if let Some(root) = sdk_root {
            text = text.replace("{{sdk}}", &root.display().to_string());
        }
        text
    };
    let (sample, expect, what, snippet) = match world {
        World::Transformer => (
            "{\"op\": \"insert\", \"table\": \"demo.people\", \"key\": [\"id\"], \"after\": {\"id\": 1, \"name\": \"alice\"}}\n",
            "\"name\":\"ALICE\"",
            "As generated, it upper-cases the string column named by the config key `column` (default `name`) in the after image of every change.",
            format!(
                "[[tables]]\ntopic = \"shop.public.people\"\ntable = \"demo.people\"\ntransforms = [{{ plugin = \"{name}\", config = {{ column = \"name\" }} }}]"
            ),
        ),
        World::Decoder => (
            "{\"value\": {\"id\": 1, \"name\": \"alice\"}}\n{\"value\": {\"id\": 1, \"deleted\": true}}\n",
            "\"name\":\"alice\"",
            "As generated, it reads each record value as a JSON object such as `{\"id\": 1, \"name\": \"alice\"}` and makes an insert into the table of the config key `table` (default `demo.people`), keyed by `id`; `{\"id\": 1, \"deleted\": true}` is a delete.",
            format!(
                "[[tables]]\ntopics = [\"people\"]\ntable = \"demo.people\"\nkey = [\"id\"]\ndecoder = {{ plugin = \"{name}\", config = {{ table = \"demo.people\" }} }}"
            ),
        ),
    };
    let sdk_doc = match lang {
        Lang::Rust => "guest-sdk/README.md in the floe repository",
        Lang::Python => "guest-sdk/python/README.md in the floe repository",
        Lang::Js => "guest-sdk/js/README.md in the floe repository",
    };
    let mut out = vec![
        (
            "README.md".to_string(),
            fill(include_str!("README.md.tmpl"))
                .replace("{{what}}", what)
                .replace("{{snippet}}", &snippet)
                .replace("{{sdk_doc}}", sdk_doc),
        ),
        (
            "test.sh".to_string(),
            fill(include_str!("test.sh")).replace("{{expect}}", expect),
        ),
        ("sample.json".to_string(), sample.to_string()),
        ("wit/floe-plugin.wit".to_string(), WIT.to_string()),
    ];
    match lang {
        Lang::Rust => {
            let (source, extra) = match world {
                World::Transformer => (include_str!("rust_transformer.rs"), ""),
                World::Decoder => (include_str!("rust_decoder.rs"), "serde_json = \"1\"\n"),
            };
            out.push((
                "Cargo.toml".into(),
                fill(include_str!("Cargo.toml.tmpl")).replace("{{extra}}", extra),
            ));
            out.push(("src/lib.rs".into(), fill(source)));
            out.push(("build.sh".into(), fill(include_str!("build-rust.sh"))));
            out.push((".gitignore".into(), "target/\n*.wasm\n".into()));
        }
        Lang::Python => {
            out.push(("app.py".into(), fill(include_str!("python_transformer.py"))));
            out.push(("build.sh".into(), fill(include_str!("build-python.sh"))));
            for (file, text) in PYTHON_SDK {
                out.push((format!("floe_guest/{file}"), text.to_string()));
            }
            out.push((".gitignore".into(), "__pycache__/\n*.wasm\n".into()));
        }
        Lang::Js => {
            let source = match world {
                World::Transformer => include_str!("js_transformer.js"),
                World::Decoder => include_str!("js_decoder.js"),
            };
            out.push(("app.js".into(), fill(source)));
            out.push((
                "package.json".into(),
                fill(include_str!("package.json.tmpl")),
            ));
            out.push(("build.sh".into(), fill(include_str!("build-js.sh"))));
            for (file, text) in JS_SDK {
                out.push((format!("floe-guest/{file}"), text.to_string()));
            }
            out.push((".gitignore".into(), "node_modules/\n*.wasm\n".into()));
        }
    }
    out
}
