//! `passthrough`: keeps every change. The cost of a transform through the SDK
//! with no work in it; the benchmark's baseline.

use floe_guest::{Change, Config, Error, Outcome, Transformer};

/// Keeps every change.
pub struct Passthrough;

impl Transformer for Passthrough {
    fn init(_config: &Config) -> Result<Self, Error> {
        Ok(Passthrough)
    }

    fn transform(&mut self, _change: &mut Change<'_>) -> Outcome {
        Outcome::Keep
    }
}

floe_guest::export_transformer!(Passthrough);

#[cfg(test)]
mod tests {
    use super::*;
    use floe_guest::testing::{self, TestOutcome};
    use floe_guest::{ChangeBuilder, Op};

    #[test]
    fn keeps_everything() {
        let mut b = ChangeBuilder::new();
        b.change(Op::Insert, "t").after().set("id", 1i64);
        b.change(Op::Delete, "t").before().set("id", 1i64);
        let out = testing::transform(&mut Passthrough, &b.finish());
        assert_eq!(out, vec![TestOutcome::Keep, TestOutcome::Keep]);
    }
}
