//! The application layer: every face (the CLI, the daemon, the control API) calls these and
//! nothing else. A run, a check, the status, the history, a resend, a supplement, the scan and
//! the reminders are decided here, once. A command that changes state is a typed [`Command`];
//! [`execute`] is the one place it is carried out, in the CLI's process or in the daemon's.

pub mod check;
pub mod command;
pub mod error;
pub mod exit;
pub mod explain;
pub mod form;
pub mod jobs;
pub mod mail_state;
pub mod operator;
pub mod run;
pub mod schedule;

pub use command::{Answer, AppError, Command, ErrorKind, RunReport};

use crate::clock::Clock;
use crate::config::Settings;
use crate::pipeline::Progress;
use run::{RunRequest, Trigger};

/// Carry out a command asked by a person (from the CLI, or through the daemon's control API).
pub fn execute(
    settings: &Settings,
    clock: &dyn Clock,
    command: &Command,
    progress: Progress<'_>,
) -> Result<Answer, AppError> {
    match *command {
        Command::Run {
            period,
            resend,
            supplement,
        } => {
            let req = RunRequest {
                period,
                trigger: Trigger::Manual,
                dry_run: false,
                resend,
                supplement,
            };
            run(settings, clock, &req, progress).map(Answer::Run)
        }
    }
}

/// One run ([`run::run_once`]) reported as every face reports it: the outcome with its mail's
/// state read back from the store, or the failure typed.
pub fn run(
    settings: &Settings,
    clock: &dyn Clock,
    req: &RunRequest,
    progress: Progress<'_>,
) -> Result<RunReport, AppError> {
    match run::run_once(settings, req, clock, progress) {
        Ok(o) => {
            let lines = operator::run_mail_lines(settings, o.run_id, &o.mail.message_id);
            Ok(RunReport::of(&o, &settings.form, lines))
        }
        Err(e) => Err(AppError::from(&e)),
    }
}
