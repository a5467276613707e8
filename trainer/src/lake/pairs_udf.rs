//! `vitrine_pairs(items, window)`: the pairs of one ordered group of items (a session) that
//! co-visitation counts, as a DataFusion function, so a plan counts them with one aggregation
//! instead of self-joins: each item once at its first position, then every pair at most
//! `window` positions apart in both directions, plus one `(item, NULL)` row per distinct item
//! (its group count). `crate::model::co_view_plan` is its caller; `crate::model::covisit` is the
//! same rule in process.

use std::sync::Arc;

use arrow_array::Array;
use arrow_array::builder::{ListBuilder, StringBuilder, StructBuilder};
use arrow_array::cast::AsArray;
use arrow_schema::{DataType, Field, Fields};
use datafusion::arrow::compute::cast;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function's SQL name.
pub const NAME: &str = "vitrine_pairs";

/// The function, ready to register.
pub fn udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(Pairs {
        signature: Signature::any(2, Volatility::Immutable),
    }))
}

fn pair_fields() -> Fields {
    Fields::from(vec![
        Field::new("a", DataType::Utf8, false),
        Field::new("b", DataType::Utf8, true),
    ])
}

fn item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(pair_fields()), true))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Pairs {
    signature: Signature,
}

impl ScalarUDFImpl for Pairs {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(item_field()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [items, window] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{NAME} takes (items, window)"
            )));
        };
        let window = match window {
            ColumnarValue::Scalar(w) => match w.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(w)) if w >= 1 => usize::try_from(w).unwrap_or(1),
                _ => {
                    return Err(DataFusionError::Plan(format!(
                        "{NAME}: the window must be a positive literal"
                    )));
                }
            },
            ColumnarValue::Array(_) => {
                return Err(DataFusionError::Plan(format!(
                    "{NAME}: the window must be a literal"
                )));
            }
        };
        let items = items.to_array(args.number_rows)?;
        let lists = items
            .as_list_opt::<i32>()
            .ok_or_else(|| DataFusionError::Plan(format!("{NAME}: items must be a list")))?;
        let mut out =
            ListBuilder::new(StructBuilder::from_fields(pair_fields(), 0)).with_field(item_field());
        for row in 0..lists.len() {
            let values = if lists.is_valid(row) {
                Some(cast(&lists.value(row), &DataType::Utf8)?)
            } else {
                None
            };
            let mut seen = std::collections::HashSet::new();
            let group: Vec<&str> = values
                .iter()
                .flat_map(|v| v.as_string::<i32>().iter().flatten())
                .filter(|v| seen.insert(*v))
                .collect();
            let pairs = out.values();
            let mut push = |a: &str, b: Option<&str>| {
                if let Some(f) = pairs.field_builder::<StringBuilder>(0) {
                    f.append_value(a);
                }
                if let Some(f) = pairs.field_builder::<StringBuilder>(1) {
                    f.append_option(b);
                }
                pairs.append(true);
            };
            for (p, &a) in group.iter().enumerate() {
                push(a, None);
                for &b in group.iter().skip(p + 1).take(window) {
                    push(a, Some(b));
                    push(b, Some(a));
                }
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The pairs as `(a, b)` tuples, for tests.
#[cfg(test)]
fn rows(list: &arrow_array::ListArray, row: usize) -> Vec<(String, Option<String>)> {
    let v = list.value(row);
    let s = v.as_struct();
    let (a, b) = (
        s.column(0).as_string::<i32>(),
        s.column(1).as_string::<i32>(),
    );
    (0..s.len())
        .map(|i| {
            (
                a.value(i).to_owned(),
                b.is_valid(i).then(|| b.value(i).to_owned()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::ListBuilder;
    use datafusion::config::ConfigOptions;

    #[test]
    fn first_positions_then_pairs_within_the_window_both_ways() {
        let mut b = ListBuilder::new(StringBuilder::new());
        for group in [vec!["x", "y", "x", "z"], vec![]] {
            for i in group {
                b.values().append_value(i);
            }
            b.append(true);
        }
        let list = b.finish();
        let args = ScalarFunctionArgs {
            args: vec![
                ColumnarValue::Array(Arc::new(list)),
                ColumnarValue::Scalar(ScalarValue::Int64(Some(1))),
            ],
            arg_fields: vec![],
            number_rows: 2,
            return_field: Arc::new(Field::new("pairs", DataType::List(item_field()), true)),
            config_options: Arc::new(ConfigOptions::default()),
        };
        let ColumnarValue::Array(out) = udf().invoke_with_args(args).unwrap() else {
            panic!("an array")
        };
        let out = out.as_list::<i32>();
        let s = |a: &str, b: Option<&str>| (a.to_owned(), b.map(str::to_owned));
        // x y z after dedup; window 1: (x,y), (y,z) both ways; one marker per item
        assert_eq!(
            rows(out, 0),
            vec![
                s("x", None),
                s("x", Some("y")),
                s("y", Some("x")),
                s("y", None),
                s("y", Some("z")),
                s("z", Some("y")),
                s("z", None),
            ]
        );
        assert!(rows(out, 1).is_empty());
    }
}
