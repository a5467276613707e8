//! Product search over the model's catalog, in the isolate: text handling ([`text`]), synonyms
//! ([`synonyms`]), what a search asks ([`spec`]), the index with filters and disjunctive facets
//! ([`index`]), its bytes in the artifact ([`codec`]), the HTTP parameters ([`query`]) and the
//! answers ([`answer`]). Native and wasm32 alike.

pub mod answer;
pub mod codec;
pub mod index;
pub mod query;
pub mod spec;
pub mod synonyms;
pub mod text;
