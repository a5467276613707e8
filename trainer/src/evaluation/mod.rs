//! Evaluation: how good a model is, measured against baselines on the same cases.
//!
//! Owns the offline protocols on public benchmark data ([`benchmarks`], read by [`sequences`]),
//! the time-split holdout on the lake ([`holdout`], and next click within held-out sessions in
//! [`session_holdout`]), the ranking metrics ([`metrics`]), the
//! quality gate ([`gate`]), the `tables/model_evaluations` table ([`evaluations_table`]) and the
//! search relevance cases ([`search_cases`], [`search_judged`]) and next-click evaluation on
//! session benchmark files ([`next_click`]); both build the model through [`vitrine_model`].
//!
//! Must not: publish, or change a model it scores. Every constant tuned here is tuned on a
//! validation split, never on the cases it reports.

pub mod benchmarks;
pub mod evaluations_table;
pub mod gate;
pub mod holdout;
pub mod metrics;
pub mod next_click;
pub mod search_cases;
pub mod search_judged;
pub mod sequences;
pub mod session_holdout;
pub mod vitrine_model;
