//! The application layer: every face (the CLI, the daemon, the control API) calls these and
//! nothing else. A run, a check, the status, the history, a resend, a supplement, the scan and
//! the reminders are decided here, once.

pub mod exit;
pub mod explain;
pub mod jobs;
pub mod operator;
pub mod run;
