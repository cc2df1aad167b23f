//! Shared helpers for floe end-to-end tests.
