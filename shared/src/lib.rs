//! Vitrine's shared core: everything the edge (wasm32) and the trainer (native) must agree on.
//!
//! The event schema and its validation, the lake's key layout, the binary model artifact, the
//! scoring code and the HTTP-facing decisions (routes, parameters, error table) live here so they
//! are unit-tested natively and run identically inside the worker. Nothing in this crate does I/O,
//! reads a clock or spawns threads: callers pass `now_ms` and bytes in, and get values out.

pub mod ab;
pub mod access;
pub mod alerts;
pub mod api;
pub mod artifact;
pub mod assets;
pub mod batch;
pub mod buy_again;
pub mod carried;
pub mod error;
pub mod event;
pub mod factors;
pub mod filter;
pub mod gdpr;
pub mod half;
pub mod hash;
pub mod identity;
pub mod ingest;
pub mod ivf;
pub mod lake;
pub mod lists;
pub mod manifest;
pub mod model_slot;
pub mod personal;
pub mod privacy;
pub mod recommend;
pub mod route;
pub mod rules;
pub mod search;
pub mod session;
pub mod session_model;
pub mod shape;
pub mod sources;
pub mod time;

pub use artifact::{ArtifactError, Model, ModelData};
pub use error::{ApiError, Code};
pub use event::{Event, EventType, PurchaseLine, ValidationError, ValidationPolicy};
pub use manifest::Manifest;
