//! The pipeline, in order: intake -> read -> validate -> select -> consolidate -> render -> deliver.

pub mod consolidate;
pub mod deliver;
pub mod identify;
pub mod intake;
pub mod read;
pub mod render;
pub mod validate;
