//! Business intelligence: the tables and figures analysts read.
//!
//! Owns the KPI tables under `tables/kpi/` ([`kpis`], as SQL through DataFusion in [`crate::lake::engine`] and
//! [`queries`]), customer segments and demand forecasts ([`ml`], [`segments`], [`forecast`]), the
//! dashboard's data ([`dashboard`]) and the windowed alert rules ([`alerts`]).
//!
//! Must not: change the events or products tables it reads, or see PII (it reads pseudonyms).

pub mod alerts;
pub mod dashboard;
pub mod forecast;
pub mod kpis;
pub mod ml;
pub mod output;
pub mod queries;
pub mod segments;
