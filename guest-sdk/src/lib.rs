//! # floe-guest: write floe plugins in Rust
//!
//! floe runs per-table logic in sandboxed WebAssembly components that follow
//! the WIT contract `floe:plugin` (`wit/floe-plugin.wit`). Batches cross the
//! boundary in a flat, columnar form; this crate gives plugin authors a
//! per-change (transformers) or per-record (decoders) API on top, and does the
//! batch loop, the columnar decoding and encoding, and the exports.
//!
//! A transformer is a type that implements [`Transformer`], exported with
//! [`export_transformer!`]:
//!
//! ```
//! use floe_guest::{Change, Config, Error, Outcome, Transformer};
//!
//! /// Drops test accounts and tags the rest with a region.
//! struct Tag {
//!     region: String,
//! }
//!
//! impl Transformer for Tag {
//!     fn init(config: &Config) -> Result<Self, Error> {
//!         Ok(Tag { region: config.require("region")?.to_owned() })
//!     }
//!
//!     fn transform(&mut self, change: &mut Change<'_>) -> Outcome {
//!         let email = change.image().and_then(|row| row.get("email"));
//!         if email.and_then(|v| v.as_str()).is_some_and(|e| e.ends_with("@test.invalid")) {
//!             return Outcome::Drop;
//!         }
//!         if let Some(mut after) = change.after_mut() {
//!             after.set("region", self.region.as_str());
//!         }
//!         Outcome::Keep
//!     }
//! }
//!
//! floe_guest::export_transformer!(Tag);
//! # fn main() {}
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the crate is a
//! `cdylib`); the `.wasm` file is a component that floe loads from its plugin
//! directory. See the crate's README for the whole recipe, and
//! [`testing`] to run a plugin natively in unit tests.
//!
//! ## Values
//!
//! Reading a column never allocates: [`Value`] borrows strings and bytes from
//! the batch. A column that is not in an image reads as `None`; SQL NULL reads
//! as `Some(Value::Null)`. Writes take an [`OwnedValue`] (anything that
//! converts into one: `i64`, `&str`, `String`, …), whose variant gives the
//! column its Iceberg type.
//!
//! ## Cost
//!
//! A change that the transformer does not modify is passed back as `keep`
//! without copying anything. Setting values records only the cells set on
//! top of the original; when every modified change of a batch only set
//! values, the `replaced` batch is built column by column and the columns
//! nothing set are copied whole. Other edits (removed or renamed columns,
//! removed or added images) list the change's cells, still borrowed, and are
//! written cell by cell.
//!
//! ## Decoders
//!
//! A decoder implements [`Decoder`]: it gets one raw Kafka [`Record`] at a
//! time and writes 0..n changes into a [`ChangeBuilder`]. Export it with
//! [`export_decoder!`], or together with a transformer with
//! [`export_decoder_transformer!`].

#![warn(missing_docs)]

extern crate self as floe_guest;

mod columnar;
mod config;
mod decode;
mod host;
#[cfg(feature = "json")]
pub mod json;
mod replace;
mod transform;

pub mod testing;

#[doc(hidden)]
pub mod rt;

pub use config::{Config, split_list};
pub use decode::{ChangeBuilder, Decoder, Header, Headers, ImageWriter, NewChange, Record};
pub use floe_contract::{ColumnType, Decimal, Error, Op, OwnedValue, Value};
pub use host::{config_get, counter_add, log};
pub use transform::{Change, Field, Fields, Image, ImageMut, Outcome, Transformer};

/// Text forms of dates, times, timestamps, decimals and uuids: the parsers
/// behind [`ColumnType::parse_value`], for decoders that read text.
pub mod parse {
    pub use floe_contract::parse_decimal;
    pub use floe_contract::text::{
        civil_from_days, days_from_civil, parse_bool, parse_date, parse_time, parse_timestamp,
        parse_uuid,
    };
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// Bindings generated from `wit/floe-plugin.wit` by `wit-bindgen`.
///
/// The contract's worlds are assembled from three generated pieces, one per
/// exported interface, because the export macros of several worlds that all
/// export `lifecycle` would clash: a transformer is `lifecycle` + `transform`,
/// a decoder `lifecycle` + `decode`, and a decoder-transformer all three. The
/// component-type sections of the pieces a plugin exports merge into the
/// contract's world when `wasm-component-ld` makes the component.
#[doc(hidden)]
pub mod bindings {
    /// `export floe:plugin/decode` (and the shared `types`).
    pub mod decode_world {
        wit_bindgen::generate!({
            inline: "package floe-guest:sdk;
                world decode-only { export floe:plugin/decode@0.1.0; }",
            world: "floe-guest:sdk/decode-only",
            path: "../wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "floe_guest::bindings::decode_world",
            runtime_path: "floe_guest::__wit_bindgen::rt",
            generate_all,
        });
    }

    /// `import floe:plugin/host` and `export floe:plugin/lifecycle`.
    pub mod lifecycle_world {
        wit_bindgen::generate!({
            inline: "package floe-guest:sdk;
                world lifecycle-only {
                    import floe:plugin/host@0.1.0;
                    export floe:plugin/lifecycle@0.1.0;
                }",
            world: "floe-guest:sdk/lifecycle-only",
            path: "../wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "floe_guest::bindings::lifecycle_world",
            runtime_path: "floe_guest::__wit_bindgen::rt",
            generate_all,
        });
    }

    /// `export floe:plugin/transform`.
    pub mod transform_world {
        wit_bindgen::generate!({
            inline: "package floe-guest:sdk;
                world transform-only { export floe:plugin/transform@0.1.0; }",
            world: "floe-guest:sdk/transform-only",
            path: "../wit",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "floe_guest::bindings::transform_world",
            runtime_path: "floe_guest::__wit_bindgen::rt",
            with: {
                "floe:plugin/types@0.1.0": crate::bindings::decode_world::floe::plugin::types,
            },
            generate_all,
        });
    }
}

/// The generated WIT types, under short names.
#[doc(hidden)]
pub mod wit {
    pub use crate::bindings::decode_world::exports::floe::plugin::decode::{Decoded, RecordBatch};
    pub use crate::bindings::decode_world::floe::plugin::types::*;
    pub use crate::bindings::transform_world::exports::floe::plugin::transform::{
        Outcome, Transformed,
    };
}

/// Exports a [`Transformer`] as the plugin's `transform` (and `lifecycle`):
/// the component targets the `transformer` world.
///
/// ```ignore
/// floe_guest::export_transformer!(MyTransformer);
/// ```
#[macro_export]
macro_rules! export_transformer {
    ($ty:ty) => {
        const _: () = {
            static __FLOE_TRANSFORMER: $crate::rt::StateCell<$ty> = $crate::rt::StateCell::new();

            struct __FloeGuest;

            impl $crate::bindings::lifecycle_world::exports::floe::plugin::lifecycle::Guest
                for __FloeGuest
            {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    let config = $crate::rt::config(config);
                    $crate::rt::init(
                        &__FLOE_TRANSFORMER,
                        &config,
                        <$ty as $crate::Transformer>::init,
                    )
                }
            }

            impl $crate::bindings::transform_world::exports::floe::plugin::transform::Guest
                for __FloeGuest
            {
                fn transform(changes: $crate::wit::ChangeBatch) -> $crate::wit::Transformed {
                    $crate::rt::transform(&__FLOE_TRANSFORMER, changes)
                }
            }

            $crate::bindings::lifecycle_world::export!(
                __FloeGuest with_types_in $crate::bindings::lifecycle_world
            );
            $crate::bindings::transform_world::export!(
                __FloeGuest with_types_in $crate::bindings::transform_world
            );
        };
    };
}

/// Exports a [`Decoder`] as the plugin's `decode` (and `lifecycle`): the
/// component targets the `decoder` world.
///
/// ```ignore
/// floe_guest::export_decoder!(MyDecoder);
/// ```
#[macro_export]
macro_rules! export_decoder {
    ($ty:ty) => {
        const _: () = {
            static __FLOE_DECODER: $crate::rt::StateCell<$ty> = $crate::rt::StateCell::new();

            struct __FloeGuest;

            impl $crate::bindings::lifecycle_world::exports::floe::plugin::lifecycle::Guest
                for __FloeGuest
            {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    let config = $crate::rt::config(config);
                    $crate::rt::init(&__FLOE_DECODER, &config, <$ty as $crate::Decoder>::init)
                }
            }

            impl $crate::bindings::decode_world::exports::floe::plugin::decode::Guest
                for __FloeGuest
            {
                fn decode(records: $crate::wit::RecordBatch) -> $crate::wit::Decoded {
                    $crate::rt::decode(&__FLOE_DECODER, records)
                }
            }

            $crate::bindings::lifecycle_world::export!(
                __FloeGuest with_types_in $crate::bindings::lifecycle_world
            );
            $crate::bindings::decode_world::export!(
                __FloeGuest with_types_in $crate::bindings::decode_world
            );
        };
    };
}

/// Exports a [`Decoder`] and a [`Transformer`] from one component: the
/// `decoder-transformer` world. Each gets its own instance, both made by
/// `init` from the same configuration (pass one type twice if it implements
/// both traits).
///
/// ```ignore
/// floe_guest::export_decoder_transformer!(MyDecoder, MyTransformer);
/// ```
#[macro_export]
macro_rules! export_decoder_transformer {
    ($decoder:ty, $transformer:ty) => {
        const _: () = {
            static __FLOE_DECODER: $crate::rt::StateCell<$decoder> = $crate::rt::StateCell::new();
            static __FLOE_TRANSFORMER: $crate::rt::StateCell<$transformer> =
                $crate::rt::StateCell::new();

            struct __FloeGuest;

            impl $crate::bindings::lifecycle_world::exports::floe::plugin::lifecycle::Guest
                for __FloeGuest
            {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    let config = $crate::rt::config(config);
                    $crate::rt::init(&__FLOE_DECODER, &config, <$decoder as $crate::Decoder>::init)?;
                    $crate::rt::init(
                        &__FLOE_TRANSFORMER,
                        &config,
                        <$transformer as $crate::Transformer>::init,
                    )
                }
            }

            impl $crate::bindings::decode_world::exports::floe::plugin::decode::Guest
                for __FloeGuest
            {
                fn decode(records: $crate::wit::RecordBatch) -> $crate::wit::Decoded {
                    $crate::rt::decode(&__FLOE_DECODER, records)
                }
            }

            impl $crate::bindings::transform_world::exports::floe::plugin::transform::Guest
                for __FloeGuest
            {
                fn transform(changes: $crate::wit::ChangeBatch) -> $crate::wit::Transformed {
                    $crate::rt::transform(&__FLOE_TRANSFORMER, changes)
                }
            }

            $crate::bindings::lifecycle_world::export!(
                __FloeGuest with_types_in $crate::bindings::lifecycle_world
            );
            $crate::bindings::decode_world::export!(
                __FloeGuest with_types_in $crate::bindings::decode_world
            );
            $crate::bindings::transform_world::export!(
                __FloeGuest with_types_in $crate::bindings::transform_world
            );
        };
    };
}
