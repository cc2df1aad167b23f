//! The health the `/health` endpoint reports.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

/// Whether the pipeline is doing its job, for `/health`.
///
/// Healthy while the pipeline loop is running and its last commit attempt
/// did not fail; the report also says how long ago it last committed.
pub struct Health {
    started: Instant,
    running: AtomicBool,
    last_commit_ms: AtomicI64,
    failing: Mutex<Option<String>>,
}

impl Health {
    pub(super) fn new() -> Self {
        Health {
            started: Instant::now(),
            running: AtomicBool::new(false),
            last_commit_ms: AtomicI64::new(-1),
            failing: Mutex::new(None),
        }
    }

    /// The pipeline loop started (`true`) or stopped (`false`).
    pub fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Relaxed);
    }

    /// A commit attempt failed with `reason`; the pipeline retries it.
    pub fn failing(&self, reason: String) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }

    pub(super) fn committed(&self) {
        let ms = self.started.elapsed().as_millis() as i64;
        self.last_commit_ms.store(ms, Ordering::Relaxed);
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `(healthy, JSON report)`.
    pub fn report(&self) -> (bool, String) {
        let running = self.running.load(Ordering::Relaxed);
        let failing = self
            .failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let last = self.last_commit_ms.load(Ordering::Relaxed);
        let since_commit =
            (last >= 0).then(|| (self.started.elapsed().as_millis() as i64 - last) as f64 / 1000.0);
        let healthy = running && failing.is_none();
        let status = if healthy { "ok" } else { "unhealthy" };
        let report = serde_json::json!({
            "status": status,
            "running": running,
            "seconds_since_commit": since_commit,
            "error": failing,
        });
        (healthy, report.to_string())
    }
}
