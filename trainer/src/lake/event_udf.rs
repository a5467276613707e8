//! `vitrine_event(line, erasures)`: compaction's per-line decision as a DataFusion function, so
//! the compaction plan ([`crate::lake::compact_plan`]) decides exactly what the hand-written
//! compaction decides wherever the plan runs, here or on a Ballista executor.
//!
//! For each raw NDJSON line it returns one struct: the event's columns in the events table's
//! layout ([`crate::lake::events_table`], all nullable here), plus `_kind` — `event`, `bad`
//! (not an event: `_error` says why), `erased` (names a person erased before the line's time:
//! `shared::gdpr::ErasureList`, passed as JSON in the second argument) or `blank` — and
//! `_shopper`, the dedup key's owner (`shared::Event::shopper`), `_raw` (a refused line as read,
//! for the quarantine) and `_tiebreak` (the line's hash, which orders copies received at the same
//! moment, so the plan need not carry every line through its shuffle).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, StringArray, StructArray, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Fields};
use datafusion::arrow::compute::{cast, take};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use shared::Event;
use shared::gdpr::ErasureList;

use crate::lake::events_table;

/// The function's SQL name.
pub const NAME: &str = "vitrine_event";
/// `_kind` of a line that is an event.
pub const EVENT: &str = "event";
/// `_kind` of a line that is not an event.
pub const BAD: &str = "bad";
/// `_kind` of a line of an erased person.
pub const ERASED: &str = "erased";
/// `_kind` of an empty line.
pub const BLANK: &str = "blank";

/// The function, ready to register.
pub fn udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(EventCheck {
        signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
    }))
}

/// The returned struct's fields.
pub fn fields() -> Fields {
    let schema = events_table::schema();
    let mut out: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    out.push(Field::new("_kind", DataType::Utf8, false));
    out.push(Field::new("_shopper", DataType::Utf8, true));
    out.push(Field::new("_error", DataType::Utf8, true));
    out.push(Field::new("_raw", DataType::Utf8, true));
    out.push(Field::new("_tiebreak", DataType::UInt64, false));
    Fields::from(out)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct EventCheck {
    signature: Signature,
}

impl ScalarUDFImpl for EventCheck {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [lines, erasures] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{NAME} takes (line, erasures)"
            )));
        };
        let erasures = match erasures {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(json))) if !json.is_empty() => {
                serde_json::from_str::<ErasureList>(json)
                    .map_err(|e| DataFusionError::Execution(format!("{NAME}: erasure list: {e}")))?
            }
            ColumnarValue::Scalar(ScalarValue::Utf8(_)) => ErasureList::default(),
            _ => {
                return Err(DataFusionError::Plan(format!(
                    "{NAME}: the erasure list must be a literal"
                )));
            }
        };
        let lines = cast(&lines.to_array(args.number_rows)?, &DataType::Utf8)?;
        let lines = lines
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal(format!("{NAME}: lines are not text")))?;
        Ok(ColumnarValue::Array(Arc::new(check(lines, &erasures)?)))
    }
}

/// The per-line decision over one batch of lines.
fn check(lines: &StringArray, erasures: &ErasureList) -> Result<StructArray> {
    let n = lines.len();
    let mut events = Vec::new();
    let mut at: Vec<Option<u32>> = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut shoppers: Vec<Option<String>> = Vec::with_capacity(n);
    let mut errors: Vec<Option<String>> = Vec::with_capacity(n);
    let mut raws: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut tiebreaks: Vec<u64> = Vec::with_capacity(n);
    for line in lines.iter() {
        let line = line.map(|l| l.strip_suffix('\r').unwrap_or(l));
        let (kind, shopper, error) = match line {
            None => (BLANK, None, None),
            Some(l) if l.trim().is_empty() => (BLANK, None, None),
            Some(l) if !erasures.is_empty() && erasures.covers_line(l) => (ERASED, None, None),
            Some(l) => match serde_json::from_str::<Event>(l) {
                Ok(e) => {
                    let shopper = e.shopper().to_owned();
                    events.push(e);
                    (EVENT, Some(shopper), None)
                }
                Err(e) => (BAD, None, Some(e.to_string())),
            },
        };
        at.push(
            (kind == EVENT)
                .then(|| u32::try_from(events.len() - 1))
                .transpose()
                .map_err(|e| DataFusionError::Execution(e.to_string()))?,
        );
        raws.push(if kind == BAD { line } else { None });
        tiebreaks.push(line.map_or(0, shared::hash::fnv1a));
        kinds.push(kind);
        shoppers.push(shopper);
        errors.push(error);
    }
    let batch = events_table::to_batch(&events)?;
    let index = UInt32Array::from(at);
    let mut columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), &index, None))
        .collect::<std::result::Result<_, _>>()?;
    columns.push(Arc::new(StringArray::from(kinds)));
    columns.push(Arc::new(StringArray::from(shoppers)));
    columns.push(Arc::new(StringArray::from(errors)));
    columns.push(Arc::new(StringArray::from(raws)));
    columns.push(Arc::new(UInt64Array::from(tiebreaks)));
    Ok(StructArray::try_new(fields(), columns, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use shared::gdpr::Erased;

    fn column<'a>(s: &'a StructArray, name: &str) -> Vec<Option<&'a str>> {
        s.column_by_name(name)
            .unwrap()
            .as_string::<i32>()
            .iter()
            .collect()
    }

    #[test]
    fn each_line_is_an_event_a_bad_line_an_erased_line_or_blank() {
        let lines = StringArray::from(vec![
            Some(
                r#"{"event_id":"e1","type":"view","user_id":"u1","session_id":"s","timestamp":5,"item_id":"i"}"#,
            ),
            Some("{broken"),
            Some(
                r#"{"event_id":"e2","type":"view","user_id":"gone","session_id":"s","timestamp":5,"item_id":"i"}"#,
            ),
            Some("  "),
            None,
            Some(
                r#"{"event_id":"e3","type":"view","anonymous_id":"a9","session_id":"s","timestamp":7,"item_id":"j"}"#,
            ),
        ]);
        let erasures = ErasureList::new(
            &[Erased {
                job_id: "j".into(),
                identities: vec!["gone".into()],
                erased_at: 100,
                whole_shop: false,
            }],
            &[],
        );
        let s = check(&lines, &erasures).unwrap();
        assert_eq!(
            column(&s, "_kind"),
            [EVENT, BAD, ERASED, BLANK, BLANK, EVENT].map(Some)
        );
        assert_eq!(
            column(&s, "event_id"),
            [Some("e1"), None, None, None, None, Some("e3")]
        );
        assert_eq!(
            column(&s, "_shopper"),
            [Some("u1"), None, None, None, None, Some("a9")]
        );
        assert!(column(&s, "_error")[1].is_some_and(|e| !e.is_empty()));
        assert_eq!(
            column(&s, "_raw"),
            [None, Some("{broken"), None, None, None, None]
        );
    }

    #[test]
    fn the_erasure_list_travels_as_json_and_back() {
        let erasures = ErasureList::new(
            &[Erased {
                job_id: "j".into(),
                identities: vec!["gone".into()],
                erased_at: 100,
                whole_shop: false,
            }],
            &[],
        );
        let json = serde_json::to_string(&erasures).unwrap();
        assert_eq!(
            serde_json::from_str::<ErasureList>(&json).unwrap(),
            erasures
        );
    }
}
