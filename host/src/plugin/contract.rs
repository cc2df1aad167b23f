//! Checking a file against the plugin contract: is it a component, of which
//! world, of which contract version, importing only what floe offers.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::bindings::{
    CONTRACT, CONTRACT_VERSION, DECODE_EXPORT, LIFECYCLE_EXPORT, TRANSFORM_EXPORT,
};
use super::error::PluginError;

/// The interfaces a plugin exports, which say the worlds it targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exports {
    /// It exports `decode`: usable as a table's decoder.
    pub decoder: bool,
    /// It exports `transform`: usable in a table's transform chain.
    pub transformer: bool,
}

impl Exports {
    /// The world names of the contract the plugin satisfies.
    pub fn worlds(&self) -> Vec<&'static str> {
        let mut worlds = Vec::new();
        if self.decoder {
            worlds.push("decoder");
        }
        if self.transformer {
            worlds.push("transformer");
        }
        if self.decoder && self.transformer {
            worlds.push("decoder-transformer");
        }
        worlds
    }
}

/// Refuses anything that is not a WebAssembly component, before compiling.
pub fn check_is_component(bytes: &[u8]) -> Result<(), PluginError> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(())
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Err(PluginError::Contract(
            "a core WebAssembly module, not a component: build it for wasm32-wasip2 (or wrap it with `wasm-tools component new`)"
                .into(),
        ))
    } else if bytes.len() >= 8 && bytes.starts_with(b"\0asm") {
        Err(PluginError::Contract(
            "a WebAssembly binary of an unknown version or layer".into(),
        ))
    } else {
        Err(PluginError::Contract("not a WebAssembly file".into()))
    }
}

/// The names of a component's imports.
pub fn import_names(component: &Component, engine: &Engine) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The names of a component's exports.
pub fn export_names(component: &Component, engine: &Engine) -> Vec<String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Finds which of the contract's worlds a component targets, or says why none.
pub fn check_exports(component: &Component, engine: &Engine) -> Result<Exports, PluginError> {
    let exports = export_names(component, engine);
    let ours: Vec<&String> = exports
        .iter()
        .filter(|name| name.starts_with("floe:plugin/"))
        .collect();
    if ours.is_empty() {
        let listed = if exports.is_empty() {
            "nothing".to_string()
        } else {
            exports.join(", ")
        };
        return Err(PluginError::Contract(format!(
            "a component of another world: it exports {listed}, not floe:plugin/decode or floe:plugin/transform"
        )));
    }
    if let Some(other) = ours
        .iter()
        .find(|name| !name.ends_with(&format!("@{CONTRACT_VERSION}")))
    {
        let version = other.rsplit_once('@').map_or("no version", |(_, v)| v);
        return Err(PluginError::Contract(format!(
            "built against contract version {version} ({other}); this floe speaks {CONTRACT}"
        )));
    }
    let has = |name: &str| exports.iter().any(|e| e == name);
    let found = Exports {
        decoder: has(DECODE_EXPORT),
        transformer: has(TRANSFORM_EXPORT),
    };
    if !found.decoder && !found.transformer {
        return Err(PluginError::Contract(format!(
            "exports neither {DECODE_EXPORT} nor {TRANSFORM_EXPORT} (it exports {})",
            exports.join(", ")
        )));
    }
    if !has(LIFECYCLE_EXPORT) {
        return Err(PluginError::Contract(format!(
            "does not export {LIFECYCLE_EXPORT}"
        )));
    }
    Ok(found)
}

/// Explains a failure to link a component's imports in floe's terms.
pub fn describe_link_error(
    component: &Component,
    engine: &Engine,
    error: &wasmtime::Error,
) -> PluginError {
    let foreign: Vec<String> = import_names(component, engine)
        .into_iter()
        .filter(|name| !name.starts_with("floe:plugin/") && !name.starts_with("wasi:"))
        .collect();
    if foreign.is_empty() {
        PluginError::Contract(format!("imports something floe does not offer: {error:#}"))
    } else {
        PluginError::Contract(format!(
            "forbidden import {}: floe offers plugins only floe:plugin/host and sandboxed WASI",
            foreign.join(", ")
        ))
    }
}
