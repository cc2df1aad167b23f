//! Conversions between the change model's columnar batch
//! ([`floe_contract::columnar`], what a [`ChangeBatch`](crate::change::ChangeBatch)
//! holds) and the types wasmtime generates for the WIT contract: the one
//! place the plugin host meets the change model's wire form.

use floe_contract::columnar;

use super::bindings as wit;

floe_contract::column_type_conversions!(pub(crate));

/// A batch in the generated form, to hand to a plugin (a copy).
pub fn batch_to_wit(batch: &columnar::ChangeBatch) -> wit::ChangeBatch {
    let images = |images: &columnar::Images| wit::Images {
        present: images.present.clone(),
        columns: images
            .columns
            .iter()
            .map(|c| wit::Column {
                name: c.name.clone(),
                type_: column_type_to_wit(c.type_),
                presence: c.presence.clone(),
                offsets: c.offsets.clone(),
                data: c.data.clone(),
            })
            .collect(),
    };
    wit::ChangeBatch {
        ops: batch.ops.clone(),
        tables: batch.tables.clone(),
        table_keys: batch.table_keys.clone(),
        table_index: batch.table_index.clone(),
        event_time: batch.event_time.clone(),
        event_time_known: batch.event_time_known.clone(),
        before: images(&batch.before),
        after: images(&batch.after),
    }
}

/// A batch a plugin returned, in the change model's form (its buffers
/// moved, not copied; nothing checked yet: see
/// [`ChangeBatch::from_wire`](crate::change::ChangeBatch::from_wire)).
pub fn batch_from_wit(batch: wit::ChangeBatch) -> columnar::ChangeBatch {
    let images = |images: wit::Images| columnar::Images {
        present: images.present,
        columns: images
            .columns
            .into_iter()
            .map(|c| columnar::Column {
                name: c.name,
                type_: column_type_from_wit(&c.type_),
                presence: c.presence,
                offsets: c.offsets,
                data: c.data,
            })
            .collect(),
    };
    columnar::ChangeBatch {
        ops: batch.ops,
        tables: batch.tables,
        table_keys: batch.table_keys,
        table_index: batch.table_index,
        event_time: batch.event_time,
        event_time_known: batch.event_time_known,
        before: images(batch.before),
        after: images(batch.after),
    }
}
