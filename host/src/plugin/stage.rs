//! What the decoder and transformer stages share: one plugin, one
//! configuration, one live instance, swapped to a new version between batches.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::PluginError;
use super::instance::{CallFailure, Instance};
use super::registry::PluginRegistry;
use super::sandbox::{Grants, Limits};
use super::version::PluginVersion;

/// Which export a stage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Decoder,
    Transformer,
}

/// How a stage runs a plugin: its configuration, limits and grants.
#[derive(Debug, Clone, Default)]
pub struct StageSettings {
    /// The plugin's own configuration (the key/values of the table's config).
    pub config: BTreeMap<String, String>,
    /// Memory and time limits per instance.
    pub limits: Limits,
    /// Capabilities granted beyond the default sandbox.
    pub grants: Grants,
}

pub(super) struct PluginStage {
    registry: Arc<PluginRegistry>,
    name: String,
    config: Arc<BTreeMap<String, String>>,
    limits: Limits,
    grants: Grants,
    version: Arc<PluginVersion>,
    instance: Option<Instance>,
}

impl PluginStage {
    /// A stage running the current version of `name`, instantiated and
    /// configured now so that a bad configuration fails at start-up.
    pub(super) fn new(
        registry: Arc<PluginRegistry>,
        name: &str,
        role: Role,
        settings: StageSettings,
    ) -> Result<Self, PluginError> {
        let version = registry.get(name).ok_or_else(|| PluginError::NotFound {
            name: name.to_string(),
            dir: registry.dir().to_path_buf(),
        })?;
        let exports = version.exports();
        let (fits, wanted) = match role {
            Role::Decoder => (exports.decoder, "decoder"),
            Role::Transformer => (exports.transformer, "transformer"),
        };
        if !fits {
            return Err(PluginError::WrongKind {
                name: name.to_string(),
                wanted,
                has: exports.worlds().join(", "),
            });
        }
        let config = Arc::new(settings.config);
        let instance = version.instantiate(&config, &settings.limits, &settings.grants)?;
        registry.register_use(
            name,
            config.clone(),
            settings.limits.clone(),
            settings.grants.clone(),
        );
        Ok(PluginStage {
            registry,
            name: name.to_string(),
            config,
            limits: settings.limits,
            grants: settings.grants,
            version,
            instance: Some(instance),
        })
    }

    /// Switches to the published version if it changed. Called only between
    /// batches, so every batch runs entirely on one version.
    pub(super) fn begin_batch(&mut self) {
        if let Some(latest) = self.registry.get(&self.name)
            && latest.id() != self.version.id()
        {
            tracing::info!(from = %self.version.id(), to = %latest.id(), "plugin version swapped");
            self.version = latest;
            self.instance = None;
        }
    }

    /// The version serving the current batch.
    pub(super) fn version(&self) -> &Arc<PluginVersion> {
        &self.version
    }

    /// Runs `call` on the live instance (creating one if needed); a failed
    /// call discards the instance.
    pub(super) fn call<R>(
        &mut self,
        call: impl FnOnce(&mut Instance) -> Result<R, CallFailure>,
    ) -> Result<R, CallFailure> {
        if self.instance.is_none() {
            let fresh = self
                .version
                .instantiate(&self.config, &self.limits, &self.grants)
                .map_err(|e| CallFailure(format!("could not start a fresh instance: {e}")))?;
            self.instance = Some(fresh);
        }
        let instance = self
            .instance
            .as_mut()
            .expect("an instance was just ensured");
        let result = call(instance);
        if result.is_err() {
            self.instance = None;
        }
        result
    }

    /// Discards the live instance (after a result it cannot use).
    pub(super) fn discard(&mut self) {
        self.instance = None;
    }
}
