//! tonghop: gathers the periodic Excel reports of many units, checks them, consolidates them into
//! one workbook and mails it. See ARCHITECTURE.md for the map.

pub mod archive;
pub mod blank_form;
pub mod cli;
pub mod config;
pub mod crashpoint;
pub mod daemon;
pub mod exit;
pub mod explain;
pub mod finding;
pub mod legacy;
pub mod lock;
pub mod matching;
pub mod numbers;
pub mod operator;
pub mod outbox;
pub mod period;
pub mod pipeline;
pub mod store;
pub mod template;
pub mod text;
