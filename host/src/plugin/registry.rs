//! The plugins of a directory: the version of each that serves now.
//!
//! A plugin is a `.wasm` component in the plugin directory; its name is the
//! file name without `.wasm`. [`PluginRegistry::rescan`] loads what is new or
//! changed: compile (or fetch from the cache), check against the contract,
//! and instantiate and `init` it with every configuration a stage uses it
//! with. Only a version that passes every step is published; a failure
//! leaves the previous version serving and is logged and recorded as a
//! [`ReloadEvent`]. Stages pick the published version up between batches.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use super::counters::PluginCounters;
use super::engine::PluginEngine;
use super::error::PluginError;
use super::sandbox::{Grants, Limits};
use super::version::{PluginId, PluginVersion};

/// What a rescan did about one plugin file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadEvent {
    /// A new version is published and will serve from the next batch on.
    Loaded(PluginId),
    /// A file could not become a plugin; the previous version (if any) keeps serving.
    Failed {
        /// The plugin name (the file name without `.wasm`).
        name: String,
        /// Why, in one line.
        reason: String,
    },
    /// The file is gone: no new stage can use the plugin; running stages keep their version.
    Removed {
        /// The plugin name.
        name: String,
    },
}

/// The configuration a stage runs a plugin with; a new version must accept
/// each one before it is published.
#[derive(Debug, Clone)]
struct Usage {
    config: Arc<BTreeMap<String, String>>,
    limits: Limits,
    grants: Grants,
}

/// What was last seen of a file, to skip unchanged ones cheaply.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    modified: Option<SystemTime>,
    len: u64,
    sha256: String,
}

#[derive(Default)]
struct State {
    current: HashMap<String, Arc<PluginVersion>>,
    seen: HashMap<PathBuf, Seen>,
    uses: HashMap<String, Vec<Usage>>,
    counters: HashMap<String, Arc<PluginCounters>>,
}

/// The plugins of one directory and the version of each that serves.
pub struct PluginRegistry {
    engine: PluginEngine,
    dir: PathBuf,
    /// When set, the registry serves this one file of `dir` and nothing else.
    only: Option<PathBuf>,
    state: RwLock<State>,
    /// Serialises rescans (the watcher thread and explicit calls).
    rescanning: Mutex<()>,
    events: Mutex<Vec<ReloadEvent>>,
}

impl PluginRegistry {
    /// Opens `dir` and loads every plugin in it. Files that fail to load are
    /// reported in [`PluginRegistry::events`], not as an error.
    pub fn open(engine: PluginEngine, dir: impl Into<PathBuf>) -> Result<Arc<Self>, PluginError> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(PluginError::Read {
                path: dir,
                message: "not a directory".into(),
            });
        }
        Ok(Self::start(engine, dir, None))
    }

    /// A registry serving the one plugin file `path` (named after it), as
    /// `floe plugin test` does. Fails if the file does not load.
    pub fn open_file(
        engine: PluginEngine,
        path: &Path,
    ) -> Result<(Arc<Self>, String), PluginError> {
        if !path.is_file() {
            return Err(PluginError::Read {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let registry = Self::start(engine, dir, Some(path.to_path_buf()));
        let name = plugin_name(path);
        if registry.get(&name).is_none() {
            let reason = registry
                .events()
                .into_iter()
                .find_map(|e| match e {
                    ReloadEvent::Failed { reason, .. } => Some(reason),
                    _ => None,
                })
                .unwrap_or_else(|| "not loaded".into());
            return Err(PluginError::Contract(reason));
        }
        Ok((registry, name))
    }

    fn start(engine: PluginEngine, dir: PathBuf, only: Option<PathBuf>) -> Arc<Self> {
        let registry = Arc::new(PluginRegistry {
            engine,
            dir,
            only,
            state: RwLock::new(State::default()),
            rescanning: Mutex::new(()),
            events: Mutex::new(Vec::new()),
        });
        registry.rescan();
        registry
    }

    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The engine plugins run on.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// The version of `name` that serves now.
    pub fn get(&self, name: &str) -> Option<Arc<PluginVersion>> {
        self.read().current.get(name).cloned()
    }

    /// The names of the plugins that serve now, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read().current.keys().cloned().collect();
        names.sort();
        names
    }

    /// Every reload event so far, oldest first.
    pub fn events(&self) -> Vec<ReloadEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records that a stage runs `name` with this configuration: later
    /// versions must accept it before they are published.
    pub(super) fn register_use(
        &self,
        name: &str,
        config: Arc<BTreeMap<String, String>>,
        limits: Limits,
        grants: Grants,
    ) {
        self.write()
            .uses
            .entry(name.to_string())
            .or_default()
            .push(Usage {
                config,
                limits,
                grants,
            });
    }

    /// Loads new and changed plugin files, and forgets removed ones.
    /// Returns what it did.
    pub fn rescan(&self) -> Vec<ReloadEvent> {
        let _one_at_a_time = self.rescanning.lock().unwrap_or_else(|e| e.into_inner());
        let mut events = Vec::new();
        let listed = match &self.only {
            Some(file) => Ok(if file.is_file() {
                vec![file.clone()]
            } else {
                Vec::new()
            }),
            None => wasm_files(&self.dir),
        };
        let files = match listed {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot list the plugin directory");
                return events;
            }
        };
        let removed: Vec<PathBuf> = self
            .read()
            .seen
            .keys()
            .filter(|p| !files.contains(p))
            .cloned()
            .collect();
        for path in removed {
            let name = plugin_name(&path);
            let mut state = self.write();
            state.seen.remove(&path);
            if state.current.remove(&name).is_some() {
                tracing::info!(plugin = %name, "plugin file removed; running stages keep their version");
                events.push(ReloadEvent::Removed { name });
            }
        }
        for path in files {
            if let Some(event) = self.load_if_changed(&path) {
                events.push(event);
            }
        }
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(events.iter().cloned());
        events
    }

    fn load_if_changed(&self, path: &Path) -> Option<ReloadEvent> {
        let name = plugin_name(path);
        let meta = fs::metadata(path).ok()?;
        let (modified, len) = (meta.modified().ok(), meta.len());
        let previous = self.read().seen.get(path).cloned();
        if previous
            .as_ref()
            .is_some_and(|s| s.modified == modified && s.len == len)
        {
            return None;
        }
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => return Some(self.fail(&name, format!("reading {}: {e}", path.display()))),
        };
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        self.write().seen.insert(
            path.to_path_buf(),
            Seen {
                modified,
                len,
                sha256: sha256.clone(),
            },
        );
        if previous.is_some_and(|s| s.sha256 == sha256) {
            return None;
        }
        if self.get(&name).is_some_and(|v| v.id().sha256 == sha256) {
            return None;
        }
        let counters = self
            .write()
            .counters
            .entry(name.clone())
            .or_default()
            .clone();
        let started = std::time::Instant::now();
        let version = match PluginVersion::load(&self.engine, &name, &bytes, counters) {
            Ok(version) => version,
            Err(e) => return Some(self.fail(&name, e.to_string())),
        };
        let uses = self.read().uses.get(&name).cloned().unwrap_or_default();
        for usage in &uses {
            if let Err(e) = version.instantiate(&usage.config, &usage.limits, &usage.grants) {
                return Some(self.fail(&name, e.to_string()));
            }
        }
        let id = version.id().clone();
        tracing::info!(plugin = %id, worlds = ?version.exports().worlds(), cache = ?version.cache_outcome(), took = ?started.elapsed(), "plugin loaded");
        self.write().current.insert(name, Arc::new(version));
        Some(ReloadEvent::Loaded(id))
    }

    fn fail(&self, name: &str, reason: String) -> ReloadEvent {
        let serving = self.get(name).map(|v| v.id().to_string());
        tracing::warn!(plugin = %name, %reason, still_serving = ?serving, "plugin not loaded");
        ReloadEvent::Failed {
            name: name.to_string(),
            reason,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The plugin name of a file: its name without `.wasm`.
fn plugin_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The `.wasm` files directly in `dir`, sorted.
fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
