//! Hot reload: a watcher on the plugin directory that rescans it on change.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use super::error::PluginError;
use super::registry::PluginRegistry;

/// Quiet time after the last file event before a rescan: lets a copy finish.
const SETTLE: Duration = Duration::from_millis(150);
/// A rescan also runs this often, in case a file system drops events; it
/// costs a `stat` per unchanged file.
const FALLBACK_RESCAN: Duration = Duration::from_millis(750);

/// Watches a registry's directory and reloads changed plugins in the
/// background. Stops when dropped.
pub struct HotReload {
    watcher: Option<notify::RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl HotReload {
    /// Starts watching `registry`'s directory.
    pub fn start(registry: Arc<PluginRegistry>) -> Result<Self, PluginError> {
        let (tx, rx) = mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok() {
                    let _ = tx.send(());
                }
            })
            .map_err(|e| PluginError::Read {
                path: registry.dir().to_path_buf(),
                message: format!("watching: {e}"),
            })?;
        watcher
            .watch(registry.dir(), RecursiveMode::NonRecursive)
            .map_err(|e| PluginError::Read {
                path: registry.dir().to_path_buf(),
                message: format!("watching: {e}"),
            })?;
        let thread = std::thread::Builder::new()
            .name("floe-plugin-reload".into())
            .spawn(move || watch_loop(&registry, &rx))
            .map_err(|e| PluginError::Engine(format!("starting the reload thread: {e}")))?;
        Ok(HotReload {
            watcher: Some(watcher),
            thread: Some(thread),
        })
    }
}

fn watch_loop(registry: &PluginRegistry, events: &mpsc::Receiver<()>) {
    loop {
        match events.recv_timeout(FALLBACK_RESCAN) {
            Ok(()) => {
                // Wait for the directory to settle, then rescan once.
                loop {
                    match events.recv_timeout(SETTLE) {
                        Ok(()) => continue,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                registry.rescan();
            }
            Err(RecvTimeoutError::Timeout) => {
                registry.rescan();
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Drop for HotReload {
    fn drop(&mut self) {
        // Dropping the watcher drops the sender; the loop then ends.
        drop(self.watcher.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
