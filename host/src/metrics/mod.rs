//! What floe measures, in Prometheus' text format over HTTP.
//!
//! [`Metrics`] holds every series; the pipeline, the Kafka source and the
//! plugin stages update it. [`MetricsServer`] serves `/metrics` and
//! `/health` from its own thread.

mod health;
mod maintenance;
mod partial;
mod registry;
mod server;

pub use health::Health;
pub use maintenance::{MaintenanceMetrics, TableState};
pub use partial::PartialRowMetrics;
pub use registry::{Metrics, Totals};
pub use server::{MetricsServer, MetricsServerError};
