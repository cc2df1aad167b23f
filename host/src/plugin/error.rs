//! What can go wrong with a plugin, outside of the records it refuses.

use std::path::PathBuf;

/// An error loading, checking, instantiating or configuring a plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The wasmtime engine could not be set up.
    #[error("plugin engine: {0}")]
    Engine(String),
    /// A plugin file could not be read.
    #[error("reading {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file breaks the plugin contract (not a component, another world,
    /// another version, an import floe does not offer, …).
    #[error("{0}")]
    Contract(String),
    /// The compiled-artifact cache failed.
    #[error("component cache {path}: {message}")]
    Cache {
        /// The cache folder or file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Instantiating the component failed.
    #[error("instantiating {plugin}: {message}")]
    Instantiate {
        /// `name@version` of the plugin.
        plugin: String,
        /// Why.
        message: String,
    },
    /// The plugin's `init` refused its configuration.
    #[error("{plugin} refused its configuration: {message}")]
    ConfigRefused {
        /// `name@version` of the plugin.
        plugin: String,
        /// The plugin's own message.
        message: String,
    },
    /// No plugin of that name is loaded.
    #[error("no plugin named `{name}` in {dir}")]
    NotFound {
        /// The plugin name asked for.
        name: String,
        /// The plugin directory.
        dir: PathBuf,
    },
    /// The plugin is of the wrong kind for where it is used.
    #[error("plugin `{name}` is not a {wanted} (it exports: {has})")]
    WrongKind {
        /// The plugin name.
        name: String,
        /// `decoder` or `transformer`.
        wanted: &'static str,
        /// What it is instead.
        has: String,
    },
}
