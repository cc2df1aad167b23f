//! One loaded version of a plugin: compiled, checked, ready to instantiate.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::bindings::exports::floe::plugin::{decode, lifecycle, transform};
use super::cache::CacheOutcome;
use super::contract::{self, Exports};
use super::counters::PluginCounters;
use super::engine::{EPOCH_TICK, PluginEngine};
use super::error::PluginError;
use super::instance::Instance;
use super::sandbox::{Grants, HostState, Limits};

/// A plugin's name and the SHA-256 of the component that ran: what a
/// snapshot records as the version that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId {
    /// The plugin's name: its file name without `.wasm`.
    pub name: String,
    /// Lower-case hex SHA-256 of the component file.
    pub sha256: String,
}

impl std::fmt::Display for PluginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}",
            self.name,
            &self.sha256[..12.min(self.sha256.len())]
        )
    }
}

/// A compiled component that passed the contract check.
pub struct PluginVersion {
    id: PluginId,
    exports: Exports,
    imports: Vec<String>,
    cache: CacheOutcome,
    pre: InstancePre<HostState>,
    lifecycle: lifecycle::GuestIndices,
    decode: Option<decode::GuestIndices>,
    transform: Option<transform::GuestIndices>,
    counters: Arc<PluginCounters>,
}

impl std::fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginVersion")
            .field("id", &self.id)
            .field("exports", &self.exports)
            .finish_non_exhaustive()
    }
}

impl PluginVersion {
    /// Compiles (or loads from the cache) and checks the component `bytes`
    /// as plugin `name`. Counters are shared across versions of one plugin.
    pub fn load(
        engine: &PluginEngine,
        name: &str,
        bytes: &[u8],
        counters: Arc<PluginCounters>,
    ) -> Result<Self, PluginError> {
        contract::check_is_component(bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let (component, cache) = engine.cache().load(engine.engine(), bytes, &sha256)?;
        let exports = contract::check_exports(&component, engine.engine())?;
        let imports = contract::import_names(&component, engine.engine());
        let pre = engine
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| contract::describe_link_error(&component, engine.engine(), &e))?;
        let mismatch = |e: wasmtime::Error| {
            PluginError::Contract(format!(
                "exports do not match {}: {e:#}",
                super::bindings::CONTRACT
            ))
        };
        let lifecycle = lifecycle::GuestIndices::new(&pre).map_err(mismatch)?;
        let decode = if exports.decoder {
            Some(decode::GuestIndices::new(&pre).map_err(mismatch)?)
        } else {
            None
        };
        let transform = if exports.transformer {
            Some(transform::GuestIndices::new(&pre).map_err(mismatch)?)
        } else {
            None
        };
        Ok(PluginVersion {
            id: PluginId {
                name: name.to_string(),
                sha256,
            },
            exports,
            imports,
            cache,
            pre,
            lifecycle,
            decode,
            transform,
            counters,
        })
    }

    /// The plugin's name and version.
    pub fn id(&self) -> &PluginId {
        &self.id
    }

    /// Which worlds the plugin targets.
    pub fn exports(&self) -> Exports {
        self.exports
    }

    /// The names of the component's imports.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// Whether the compiled code came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// The counters the plugin keeps through `counter-add`.
    pub fn counters(&self) -> &Arc<PluginCounters> {
        &self.counters
    }

    /// Instantiates the plugin in a fresh sandbox, type-checks its exports
    /// and calls `init` with `config`.
    pub fn instantiate(
        &self,
        config: &Arc<BTreeMap<String, String>>,
        limits: &Limits,
        grants: &Grants,
    ) -> Result<Instance, PluginError> {
        let (mut instance, lifecycle) = self.start(config, limits, grants)?;
        let entries: Vec<(String, String)> =
            config.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let plugin = instance.plugin().to_string();
        match instance.call(|store| lifecycle.call_init(store, &entries)) {
            Ok(Ok(())) => Ok(instance),
            Ok(Err(message)) => Err(PluginError::ConfigRefused { plugin, message }),
            Err(failure) => Err(PluginError::Instantiate {
                plugin,
                message: format!("init failed: {failure}"),
            }),
        }
    }

    /// Instantiates the plugin and type-checks every export against the
    /// contract, without calling `init`: what `floe plugin check` proves.
    pub fn verify(&self) -> Result<(), PluginError> {
        self.start(&Arc::default(), &Limits::default(), &Grants::default())
            .map(drop)
    }

    fn start(
        &self,
        config: &Arc<BTreeMap<String, String>>,
        limits: &Limits,
        grants: &Grants,
    ) -> Result<(Instance, lifecycle::Guest), PluginError> {
        let plugin: Arc<str> = self.id.to_string().into();
        let fail = |message: String| PluginError::Instantiate {
            plugin: plugin.to_string(),
            message,
        };
        let state = HostState::new(
            plugin.clone(),
            config.clone(),
            limits,
            grants,
            self.counters.clone(),
        )
        .map_err(fail)?;
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| state.limiter());
        let ticks = deadline_ticks(limits);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| fail(format!("{e:#}")))?;
        let mismatch = |e: wasmtime::Error| {
            PluginError::Contract(format!(
                "exports do not match {}: {e:#}",
                super::bindings::CONTRACT
            ))
        };
        let lifecycle = self
            .lifecycle
            .load(&mut store, &instance)
            .map_err(mismatch)?;
        let decode = self
            .decode
            .as_ref()
            .map(|d| d.load(&mut store, &instance))
            .transpose()
            .map_err(mismatch)?;
        let transform = self
            .transform
            .as_ref()
            .map(|t| t.load(&mut store, &instance))
            .transpose()
            .map_err(mismatch)?;
        Ok((
            Instance::new(store, plugin, limits.deadline, ticks, decode, transform),
            lifecycle,
        ))
    }
}

fn deadline_ticks(limits: &Limits) -> u64 {
    (limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}
