//! Product search over the model's catalog, in the isolate: text analysis ([`text`]: units,
//! stems, stopwords), synonym groups as concepts ([`synonyms`]), price intents read from the
//! words ([`intents`]), what a search asks ([`spec`]), the index ([`index`]), ranking with
//! relaxation, filters and disjunctive facets ([`rank`]), typo candidates by length and
//! character set (`fuzzy`), "did you mean" and completions
//! ([`suggest`]), the index's bytes in the artifact ([`codec`]), the HTTP parameters ([`query`])
//! and the answers ([`answer`]). Native and wasm32 alike.

pub mod answer;
pub mod codec;
mod fuzzy;
pub mod index;
pub mod intents;
pub mod query;
pub mod rank;
pub mod spec;
pub mod suggest;
pub mod synonyms;
pub mod text;

#[cfg(test)]
mod tests;
