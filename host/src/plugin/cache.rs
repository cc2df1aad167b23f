//! Compiled components cached on disk, keyed by content and engine.
//!
//! Compiling a component is slow (an 18 MB Python plugin takes tens of
//! seconds); loading a compiled artifact takes milliseconds. An artifact's
//! file name is the SHA-256 of the component's bytes and the engine's
//! compatibility hash, so a new floe or other engine settings never load an
//! old artifact. Next to each artifact floe writes the SHA-256 of the artifact
//! itself; an artifact is deserialized only when that digest matches, so a
//! truncated or foreign file is recompiled, never loaded. The folder is
//! created private to the user (0700).

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::PluginError;

/// The on-disk cache of compiled components.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    engine_hash: String,
}

/// Where a component came from when it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Deserialized from a cached artifact.
    Hit,
    /// Compiled, and the artifact stored for next time.
    Compiled,
}

impl ArtifactCache {
    /// Opens (creating) the cache folder for `engine`.
    pub fn open(dir: PathBuf, engine: &Engine) -> Result<Self, PluginError> {
        let fail = |e: std::io::Error| PluginError::Cache {
            path: dir.clone(),
            message: e.to_string(),
        };
        fs::create_dir_all(&dir).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
        }
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(ArtifactCache {
            dir,
            engine_hash: format!("{:016x}", hasher.finish()),
        })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The component for `bytes` (whose SHA-256 is `sha256`), from the cache
    /// when floe compiled it before, else compiled now and stored.
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, CacheOutcome), PluginError> {
        let artifact = self
            .dir
            .join(format!("{sha256}-{}.cwasm", self.engine_hash));
        let digest_file = artifact.with_extension("cwasm.sha256");
        if let (Ok(compiled), Ok(expected)) =
            (fs::read(&artifact), fs::read_to_string(&digest_file))
        {
            if hex::encode(Sha256::digest(&compiled)) == expected.trim() {
                // SAFETY: the artifact is one floe serialized itself with an
                // engine of the same compatibility hash (part of the file
                // name), and its digest matches the one floe wrote beside it,
                // so it is not truncated or replaced by something else.
                if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
                    return Ok((component, CacheOutcome::Hit));
                }
            }
            tracing::warn!(artifact = %artifact.display(), "cached artifact does not match its digest; recompiling");
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| PluginError::Contract(format!("invalid component: {e:#}")))?;
        if let Err(e) = self.store(&component, &artifact, &digest_file) {
            tracing::warn!(artifact = %artifact.display(), error = %e, "could not cache the compiled component");
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn store(
        &self,
        component: &Component,
        artifact: &Path,
        digest_file: &Path,
    ) -> Result<(), String> {
        let compiled = component.serialize().map_err(|e| e.to_string())?;
        write_atomically(artifact, &compiled).map_err(|e| e.to_string())?;
        write_atomically(
            digest_file,
            hex::encode(Sha256::digest(&compiled)).as_bytes(),
        )
        .map_err(|e| e.to_string())
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}
