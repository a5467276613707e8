//! Product search over the model's catalog, in the isolate: text handling ([`text`]) and the
//! index with filters and disjunctive facets ([`index`]). Native and wasm32 alike.

pub mod index;
pub mod query;
pub mod text;
