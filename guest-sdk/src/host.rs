//! What the host offers: logging, the plugin's configuration, counters.
//!
//! Compiled for another target than wasm32 (native unit tests), logging goes
//! to stderr, counters are ignored and `config_get` returns `None`.

#[cfg(target_arch = "wasm32")]
use crate::bindings::lifecycle_world::floe::plugin::host as wit_host;

/// Logging to floe's log, tagged with the plugin's name and version.
///
/// ```
/// floe_guest::log::info!("masked {} columns", 3);
/// floe_guest::log::log(floe_guest::log::Level::Warn, "odd record");
/// ```
pub mod log {
    /// Severity of a log line.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Level {
        /// Very detailed tracing.
        Trace,
        /// Debugging detail.
        Debug,
        /// Normal operation.
        Info,
        /// Something odd, handled.
        Warn,
        /// Something failed.
        Error,
    }

    /// Writes `message` to floe's log at `level`.
    pub fn log(level: Level, message: &str) {
        #[cfg(target_arch = "wasm32")]
        {
            use super::wit_host::Level as L;
            let level = match level {
                Level::Trace => L::Trace,
                Level::Debug => L::Debug,
                Level::Info => L::Info,
                Level::Warn => L::Warn,
                Level::Error => L::Error,
            };
            super::wit_host::log(level, message);
        }
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!("[{level:?}] {message}");
    }

    /// Logs a `format!`-style message at debug level.
    pub use crate::__floe_log_debug as debug;
    /// Logs a `format!`-style message at error level.
    pub use crate::__floe_log_error as error;
    /// Logs a `format!`-style message at info level.
    pub use crate::__floe_log_info as info;
    /// Logs a `format!`-style message at trace level.
    pub use crate::__floe_log_trace as trace;
    /// Logs a `format!`-style message at warn level.
    pub use crate::__floe_log_warn as warn;
}

/// Logs a `format!`-style message at trace level; use it as `floe_guest::log::trace!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __floe_log_trace {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Trace, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at debug level; use it as `floe_guest::log::debug!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __floe_log_debug {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at info level; use it as `floe_guest::log::info!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __floe_log_info {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at warn level; use it as `floe_guest::log::warn!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __floe_log_warn {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Warn, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at error level; use it as `floe_guest::log::error!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __floe_log_error {
    ($($arg:tt)+) => {
        $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+))
    };
}

/// Adds `delta` to the plugin-defined counter `name`, exported by floe as a
/// metric (e.g. `masked_values`).
pub fn counter_add(name: &str, delta: u64) {
    #[cfg(target_arch = "wasm32")]
    wit_host::counter_add(name, delta);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, delta);
}

/// Asks the host for one key of this plugin's configuration (the same values
/// `init` received in its [`Config`](crate::Config)).
pub fn config_get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    return wit_host::config_get(key);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}
