//! The sandbox of one plugin instance: limits, grants, and the host imports.
//!
//! By default an instance sees no files, no network, no environment, a
//! clock stopped at the epoch and a seeded random generator; a table's
//! configuration can grant each. Its memory is capped and every call has a
//! deadline, counted in epoch ticks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

use super::bindings::floe::plugin::host;
use super::counters::PluginCounters;

/// Resource limits of one plugin instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The most linear memory the instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// How long one call (a batch, or `init`) may run.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(2),
        }
    }
}

/// Capabilities a table's configuration grants a plugin; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Read the real wall and monotonic clocks (else: stopped at the epoch).
    pub clocks: bool,
    /// Real randomness (else: a generator with a fixed seed).
    pub random: bool,
    /// Environment variables passed through from floe's own environment.
    pub env: Vec<String>,
    /// Host folders the plugin may read, each visible at the same path.
    pub read_dirs: Vec<PathBuf>,
    /// Outgoing TCP and UDP connections and name lookups.
    pub network: bool,
}

/// What one store holds: the WASI context, the limits and the plugin's own
/// configuration and counters.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryCap,
    plugin: Arc<str>,
    config: Arc<BTreeMap<String, String>>,
    counters: Arc<PluginCounters>,
    stderr: GuestStderr,
}

impl HostState {
    /// The state of a fresh instance of `plugin` (`name@version`).
    pub fn new(
        plugin: Arc<str>,
        config: Arc<BTreeMap<String, String>>,
        limits: &Limits,
        grants: &Grants,
        counters: Arc<PluginCounters>,
    ) -> Result<Self, String> {
        let stderr = GuestStderr::default();
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone());
        if !grants.clocks {
            wasi.wall_clock(StoppedClock).monotonic_clock(StoppedClock);
        }
        if !grants.random {
            wasi.secure_random(rand::rngs::StdRng::seed_from_u64(0x666c_6f65))
                .insecure_random(rand::rngs::StdRng::seed_from_u64(0x666c_6f65))
                .insecure_random_seed(0x666c_6f65);
        }
        for name in &grants.env {
            if let Ok(value) = std::env::var(name) {
                wasi.env(name, value);
            }
        }
        for dir in &grants.read_dirs {
            let guest_path = dir.to_string_lossy().into_owned();
            wasi.preopened_dir(dir, guest_path, FsPerms::ReadOnly)
                .map_err(|e| format!("granting {}: {e}", dir.display()))?;
        }
        if grants.network {
            wasi.inherit_network().allow_ip_name_lookup(true);
        } else {
            wasi.allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false);
        }
        let limits = MemoryCap {
            limit: limits.memory_bytes,
        };
        Ok(HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits,
            plugin,
            config,
            counters,
            stderr,
        })
    }

    /// The store limiter, for [`wasmtime::Store::limiter`].
    pub fn limiter(&mut self) -> &mut MemoryCap {
        &mut self.limits
    }

    /// The last lines the guest wrote to stderr (a Rust panic message, a
    /// Python traceback), emptied by the call.
    pub fn take_stderr(&self) -> String {
        self.stderr.take()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The longest log line a plugin may write; longer ones are cut.
const MAX_LOG_LINE: usize = 4096;

impl host::Host for HostState {
    fn log(&mut self, level: host::Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let plugin = &*self.plugin;
        match level {
            host::Level::Trace => tracing::trace!(plugin, "{message}"),
            host::Level::Debug => tracing::debug!(plugin, "{message}"),
            host::Level::Info => tracing::info!(plugin, "{message}"),
            host::Level::Warn => tracing::warn!(plugin, "{message}"),
            host::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn counter_add(&mut self, name: String, delta: u64) {
        self.counters.add(&name, delta);
    }
}

/// A clock that always reads zero: what a plugin sees without the clock grant.
struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The most of a guest's stderr kept: its tail goes into trap reasons.
const STDERR_TAIL: usize = 4096;

/// A guest's stderr: keeps the last [`STDERR_TAIL`] bytes, never refuses a write.
#[derive(Clone, Default)]
struct GuestStderr {
    tail: Arc<Mutex<Vec<u8>>>,
}

impl GuestStderr {
    fn append(&self, bytes: &[u8]) {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.extend_from_slice(bytes);
        if tail.len() > STDERR_TAIL {
            let excess = tail.len() - STDERR_TAIL;
            tail.drain(..excess);
        }
    }

    fn take(&self) -> String {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&tail).trim().to_string();
        tail.clear();
        text
    }
}

impl IsTerminal for GuestStderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for GuestStderr {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestStderr {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for GuestStderr {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A guest asked for more linear memory than its [`Limits::memory_bytes`]:
/// the call traps with this error, which the host recognises by its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("growing its memory to {desired} bytes, over its limit of {limit}")]
pub struct MemoryLimitExceeded {
    /// The size the guest asked for, in bytes.
    pub desired: usize,
    /// Its limit, in bytes.
    pub limit: usize,
}

/// Caps an instance's linear memory: a `memory.grow` past the cap traps
/// with [`MemoryLimitExceeded`] (instead of returning -1, which most guest
/// allocators turn into an abort with a less clear message).
#[derive(Debug)]
pub struct MemoryCap {
    limit: usize,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                desired,
                limit: self.limit,
            }));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}
