//! tonghop: gathers the periodic Excel reports of many units, checks them, consolidates them into
//! one workbook and mails it. See ARCHITECTURE.md for the map.

pub mod app;
pub mod blank_form;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod crashpoint;
pub mod daemon;
pub mod finding;
pub mod mail;
pub mod matching;
pub mod numbers;
pub mod period;
pub mod pipeline;
pub mod state;
pub mod template;
pub mod text;
pub mod wording;
