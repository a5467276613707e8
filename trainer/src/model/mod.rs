//! Model building: the lake's tables in, a `shared::ModelData` out.
//!
//! Owns the training input ([`interactions`], [`csr`]), the models ([`ials`] embeddings with
//! cold-start vectors in [`embed`], [`covisit`] co-visitation (its co-view counts also as a
//! plan on the lake's engine, [`co_view_plan`]), the [`ivf`] candidate index,
//! [`repurchase`] statistics for buy-again, the session model's lists [`session_lists`] and
//! learned weights [`session_weights`]), the search index the artifact carries ([`search_index`],
//! taught by the shop's searches in [`search_learning`]) and their assembly ([`train`]).
//!
//! Must not: evaluate, gate or publish (the evaluation and publish stages do), or write to the
//! lake. Given the same tables and seed it builds the same model.

pub mod artifact;
pub mod co_view_plan;
pub mod covisit;
pub mod csr;
pub mod embed;
pub mod ials;
pub mod interactions;
pub mod ivf;
pub mod repurchase;
pub mod search_index;
pub mod search_learning;
pub mod session_lists;
pub mod session_weights;
pub mod train;
