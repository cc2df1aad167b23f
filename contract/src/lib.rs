//! # floe-contract: the change model host and plugins share
//!
//! The plain Rust side of the WIT contract `floe:plugin` (`wit/floe-plugin.wit`),
//! written once for the host (crate `floe`) and the guest SDK (crate
//! `floe-guest`): the kinds of change ([`Op`]), the column types
//! ([`ColumnType`]), values ([`Value`], [`OwnedValue`], [`Decimal`]) and
//! their cell encodings ([`cell`]), the columnar batch as plain types and its
//! validation ([`columnar`]), and the text forms of values ([`text`],
//! [`decimal`]). The generated bindings differ on each side (wasmtime's
//! `bindgen!`, `wit-bindgen`); [`column_type_conversions!`] writes the type
//! conversions for either.

#![warn(missing_docs)]

mod cast;
pub mod cell;
mod column_type;
pub mod columnar;
pub mod decimal;
mod error;
mod op;
pub mod text;
mod value;

pub use column_type::ColumnType;
pub use decimal::{Decimal, format_decimal, parse_decimal, parse_decimal_exact};
pub use error::Error;
pub use op::Op;
pub use value::{OwnedValue, Value};
