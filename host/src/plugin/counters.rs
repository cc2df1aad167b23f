//! Counters a plugin maintains through the `counter-add` host import.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The named counters of one plugin, shared by all its instances and versions.
#[derive(Debug, Default)]
pub struct PluginCounters {
    values: Mutex<BTreeMap<String, u64>>,
}

/// The most distinct counter names one plugin may create.
const MAX_COUNTERS: usize = 256;

impl PluginCounters {
    /// Adds `delta` to counter `name`; names past [`MAX_COUNTERS`] are ignored.
    pub fn add(&self, name: &str, delta: u64) {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = values.get_mut(name) {
            *value = value.saturating_add(delta);
        } else if values.len() < MAX_COUNTERS {
            values.insert(name.to_string(), delta);
        }
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
