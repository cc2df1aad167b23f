//! How a running pipeline is asked to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks a running pipeline to stop: it commits what it has buffered and
/// returns. SIGTERM and SIGINT raise it ([`StopSignal::on_termination`]).
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal nothing has raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal that SIGTERM and SIGINT raise.
    pub fn on_termination() -> std::io::Result<Self> {
        let signal = Self::new();
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, signal.0.clone())?;
        }
        Ok(signal)
    }

    /// Asks the pipeline to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
