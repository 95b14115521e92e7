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
            if let Some(p) = period {
                crate::config::collection::kind_accepted(settings, p).map_err(|why| {
                    AppError::new(ErrorKind::BadInput, format!("Kỳ {}: {why}.", p.key()))
                })?;
            }
            let req = RunRequest {
                period,
                trigger: Trigger::Manual,
                dry_run: false,
                resend,
                supplement,
            };
            run(settings, clock, &req, progress).map(Answer::Run)
        }
        Command::Resend {
            target,
            force,
            refused,
        } => operator::resend(settings, target, force, refused, clock, &|| {})
            .map(Answer::Resent)
            .map_err(|e| AppError::from(&e)),
        Command::CheckInbox { period } => {
            let period =
                period.unwrap_or_else(|| crate::config::collection::current(settings, clock.now()));
            crate::config::collection::kind_accepted(settings, period).map_err(|why| {
                AppError::new(ErrorKind::BadInput, format!("Kỳ {}: {why}.", period.key()))
            })?;
            let c = jobs::check_inbox(settings, clock, period, progress)
                .map_err(|e| AppError::from(&e))?;
            Ok(Answer::Checked {
                period,
                files: c.consolidation.files.len() + c.elsewhere.len(),
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A command from the control API is checked as the command line checks `--period`.
    #[test]
    fn a_quarter_under_a_monthly_configuration_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::embedded().unwrap();
        settings.data = dir.path().join("data");
        settings.inbox = dir.path().join("no-inbox");
        let command = Command::Run {
            period: Some(crate::period::Period::quarter(2026, 4)),
            resend: false,
            supplement: false,
        };
        let e = execute(&settings, &crate::clock::SystemClock, &command, &|_, _| {}).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadInput);
        assert_eq!(e.exit_code(), exit::BAD_CONFIG);
        assert!(
            e.message.contains(
                "cấu hình này báo cáo theo tháng (period = \"month\"), không nhận kỳ Quý IV/2026"
            ),
            "{}",
            e.message
        );
        assert!(!settings.data.exists(), "nothing recorded");
    }
}
