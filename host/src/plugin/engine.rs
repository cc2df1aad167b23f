//! The one wasmtime [`Engine`] of a process, its epoch ticker and its linker.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel, ProfilingStrategy};

use super::bindings;
use super::cache::ArtifactCache;
use super::error::PluginError;
use super::sandbox::HostState;

/// How often the epoch advances: the granularity of batch deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Everything plugins share: the engine, the linker with the host imports,
/// and the compiled-artifact cache.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    engine: Engine,
    linker: Linker<HostState>,
    cache: ArtifactCache,
}

impl PluginEngine {
    /// Creates the engine, caching compiled components under `cache_dir`.
    ///
    /// A background thread advances the engine's epoch every [`EPOCH_TICK`]
    /// for as long as the engine lives; deadlines are counted in ticks.
    pub fn new(cache_dir: impl Into<std::path::PathBuf>) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed)
            .parallel_compilation(true);
        if std::env::var_os("FLOE_WASM_PERFMAP").is_some() {
            // For profiling plugins: `perf` names guest functions from
            // /tmp/perf-<pid>.map instead of showing bare JIT addresses.
            config.profiler(ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Engine(e.to_string()))?;
        bindings::floe::plugin::host::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |state| state,
        )
        .map_err(|e| PluginError::Engine(e.to_string()))?;
        let cache = ArtifactCache::open(cache_dir.into(), &engine)?;
        start_epoch_ticker(&engine)
            .map_err(|e| PluginError::Engine(format!("starting the epoch thread: {e}")))?;
        Ok(PluginEngine {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                cache,
            }),
        })
    }

    /// The default cache location: `$FLOE_CACHE_DIR`, else `$XDG_CACHE_HOME/floe`,
    /// else `~/.cache/floe`, else a `floe-cache` folder in the temp directory.
    pub fn default_cache_dir() -> std::path::PathBuf {
        if let Some(dir) = std::env::var_os("FLOE_CACHE_DIR") {
            return dir.into();
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return std::path::PathBuf::from(dir).join("floe");
        }
        if let Some(home) = std::env::var_os("HOME") {
            return std::path::PathBuf::from(home).join(".cache").join("floe");
        }
        std::env::temp_dir().join("floe-cache")
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The linker holding WASI (sandboxed per store) and floe's host imports.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// The compiled-artifact cache.
    pub fn cache(&self) -> &ArtifactCache {
        &self.inner.cache
    }
}

fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    thread::Builder::new()
        .name("floe-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
}
