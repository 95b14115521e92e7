//! The typed boundary every face uses: a [`Command`] that changes state, its [`Answer`], and
//! [`AppError`], which decides the exit code (and the HTTP status of the control API). The CLI
//! calls [`crate::app::execute`] itself, or sends the same `Command` to the daemon and gets the
//! same `Answer` or `AppError` back as JSON: nobody recognises an error by its text or probes a
//! JSON key.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::app::exit;
use crate::app::run::{RunError, RunOutcome};
use crate::finding::Severity;
use crate::period::Period;
use crate::pipeline::consolidate::FileOutcome;
use crate::pipeline::summary::MailRecord;

/// A command that changes state. Read-only questions (status, history, check) are plain calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Make (or, with `resend`, make and send again) the period's report; with `supplement`,
    /// the supplementary report of what changed since it was sent. `period: None` is the one
    /// the period rule gives now ([`crate::config::collection::current`]).
    Run {
        period: Option<Period>,
        #[serde(default)]
        resend: bool,
        #[serde(default)]
        supplement: bool,
    },
    /// Send a run's report (or one mail) again ([`crate::app::operator::resend`]).
    Resend {
        target: crate::app::operator::ResendTarget,
        #[serde(default)]
        force: bool,
        /// Only to the recipients the server refused for good.
        #[serde(default)]
        refused: bool,
    },
    /// Read and check the inbox files of `period` (`None`: the current one) and record each
    /// file's check in the store, as the daemon's scan does; nothing is sent.
    CheckInbox { period: Option<Period> },
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
// One answer per command: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    Run(RunReport),
    /// What a resend did: the mail after the attempt, and the other mails attempted with it.
    Resent(crate::app::operator::ResendOutcome),
    /// The inbox was checked: how many files were read and recorded.
    Checked {
        period: Period,
        files: usize,
    },
}

/// A run as every face reports it: what `tonghop run` prints and `tonghop trigger` prints from
/// the daemon's answer are made from this one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `None` for a dry run (nothing recorded).
    pub run_id: Option<i64>,
    pub period: Period,
    /// Units whose report was accepted, of `roster`.
    pub reported: usize,
    pub roster: usize,
    /// Unit names by their status label ("Nộp muộn", "Bị từ chối", "Chưa nộp"), in roster order.
    pub units_by_status: Vec<(String, Vec<String>)>,
    /// Title of the first value column, and the total of each indicator by its code.
    pub totals_title: String,
    pub totals: Vec<(String, u64)>,
    pub files: FileCounts,
    pub errors: usize,
    pub warnings: usize,
    /// Files still being copied: not read this time.
    pub copying: usize,
    /// Some unit's file was rejected or some file could not be attributed.
    pub rejected: bool,
    pub workbook: PathBuf,
    pub summary: PathBuf,
    /// "bổ sung lần N".
    pub supplement: Option<u32>,
    pub mail: MailRecord,
    /// The mail's state as the store words it (the words of `status` and `history`), read back
    /// after the run; `None` when nothing was recorded (a dry run).
    pub mail_lines: Option<Vec<String>>,
}

/// How many files ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub accepted: usize,
    pub superseded: usize,
    pub other_period: usize,
    pub rejected: usize,
    pub unidentified: usize,
    pub ignored: usize,
}

impl RunReport {
    /// The report of a finished run. `mail_lines` is what the store says of its mail.
    pub fn of(
        o: &RunOutcome,
        form: &crate::config::Form,
        mail_lines: Option<Vec<String>>,
    ) -> RunReport {
        let c = &o.consolidation;
        let units_by_status = ["Nộp muộn", "Bị từ chối", "Chưa nộp"]
            .into_iter()
            .map(|label| {
                let names = c
                    .units
                    .iter()
                    .filter(|u| u.status_label() == label)
                    .map(|u| u.name.clone())
                    .collect();
                (label.to_owned(), names)
            })
            .collect();
        let totals = form
            .indicators
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.code.clone(), c.totals.get(i, 0)))
            .collect();
        let count = |x: FileOutcome| c.files.iter().filter(|f| f.outcome == x).count();
        let (errors, warnings) =
            c.messages
                .iter()
                .fold((0, 0), |(e, w), m| match m.finding.severity {
                    Severity::Error => (e + 1, w),
                    Severity::Warning => (e, w + 1),
                    Severity::Info => (e, w),
                });
        RunReport {
            run_id: o.run_id,
            period: c.period,
            reported: c.accepted_count(),
            roster: c.units.len(),
            units_by_status,
            totals_title: form.indicators.values[0].title.clone(),
            totals,
            files: FileCounts {
                accepted: count(FileOutcome::Accepted),
                superseded: count(FileOutcome::Superseded),
                other_period: count(FileOutcome::OtherPeriod),
                rejected: count(FileOutcome::Rejected),
                unidentified: count(FileOutcome::Unidentified),
                ignored: count(FileOutcome::Ignored),
            },
            errors,
            warnings,
            copying: o.copying,
            rejected: o.has_rejections(),
            workbook: o.workbook.clone(),
            summary: o.summary.clone(),
            supplement: o.supplement,
            mail: o.mail.clone(),
            mail_lines,
        }
    }

    /// The exit code of a run that made its report, the same from every face: a mail that failed
    /// for good (or missed some recipients) before a mail still queued before rejected files.
    pub fn exit_code(&self) -> u8 {
        if self.mail.status == "failed" || !self.mail.refused.is_empty() {
            exit::DELIVERY_FAILED_FOR_GOOD
        } else if !matches!(self.mail.status.as_str(), "sent" | "dry_run") {
            exit::DELIVERY_FAILED
        } else if self.rejected {
            exit::REJECTED_FILES
        } else {
            exit::SUCCESS
        }
    }
}

/// What kind of failure: decides the exit code and the control API's HTTP status, so that no
/// face decides them from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The configuration, an argument or the inbox is wrong; nothing was done.
    BadInput,
    /// The period's report was already sent; nothing was done.
    AlreadySent,
    /// A mail of the period still waits in the queue; nothing was done.
    MailQueued,
    /// Nothing changed since the report was sent: no supplement needed (not a failure).
    NothingChanged,
    /// The daemon is stopping (or stopped) while the command it had taken ran: it is finished
    /// and recorded, but not answered.
    DaemonStopping,
    /// The daemon is stopping and did not take the command: nothing was done (the command may
    /// be carried out elsewhere at once).
    NotTaken,
    /// The mail cannot be delivered as it is (its spooled copy is gone or damaged).
    DeliveryFailed,
    /// Something failed that is not the input's fault.
    Internal,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::BadInput => exit::BAD_CONFIG,
            ErrorKind::AlreadySent => exit::ALREADY_SENT,
            ErrorKind::MailQueued => exit::MAIL_QUEUED,
            ErrorKind::NothingChanged => exit::SUCCESS,
            ErrorKind::DaemonStopping | ErrorKind::NotTaken => exit::NO_DAEMON,
            ErrorKind::DeliveryFailed => exit::DELIVERY_FAILED,
            ErrorKind::Internal => exit::INTERNAL_ERROR,
        }
    }

    /// The control API's HTTP status for this failure.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::AlreadySent | ErrorKind::MailQueued | ErrorKind::NothingChanged => 409,
            ErrorKind::BadInput => 422,
            ErrorKind::DaemonStopping | ErrorKind::NotTaken => 503,
            ErrorKind::DeliveryFailed => 502,
            ErrorKind::Internal => 500,
        }
    }

    /// The kind of a failed run.
    pub fn of_run_error(e: &RunError) -> ErrorKind {
        match e {
            RunError::AlreadyMade { delivery, .. } => match delivery.status {
                crate::state::store::DeliveryStatus::Pending => ErrorKind::MailQueued,
                _ => ErrorKind::AlreadySent,
            },
            RunError::MailQueued { .. } => ErrorKind::MailQueued,
            RunError::NothingToSupplement { .. } => ErrorKind::NothingChanged,
            // A missing or unreadable inbox is the configuration's (or the share's) fault.
            RunError::Intake(_) | RunError::NotSentYet { .. } => ErrorKind::BadInput,
            _ => ErrorKind::Internal,
        }
    }
}

/// A failed command: its kind, and the reason in Vietnamese for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// The error as the operator log words it (English, with its cause); kept in the process
    /// that failed, not sent to a client.
    #[serde(skip)]
    pub detail: Option<String>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl From<&RunError> for AppError {
    fn from(e: &RunError) -> AppError {
        AppError {
            detail: Some(e.to_string()),
            ..AppError::new(
                ErrorKind::of_run_error(e),
                crate::app::explain::run_error(e),
            )
        }
    }
}

/// A report as a run of the samples makes it, for tests of the faces.
#[cfg(test)]
pub(crate) fn sample_report(period: Period) -> RunReport {
    RunReport {
        run_id: Some(7),
        period,
        reported: 15,
        roster: 18,
        units_by_status: vec![],
        totals_title: "Số cuộc".into(),
        totals: vec![("1".into(), 25)],
        files: FileCounts::default(),
        errors: 0,
        warnings: 0,
        copying: 0,
        rejected: false,
        workbook: "out/2026-10/x.xlsx".into(),
        summary: "out/2026-10/summary.json".into(),
        supplement: None,
        mail: MailRecord {
            transport: "smtp".into(),
            subject: "Báo cáo".into(),
            message_id: "<a@b>".into(),
            recipients: vec!["a@b.vn".into(), "c@d.vn".into()],
            eml: None,
            sent: true,
            status: "sent".into(),
            error: None,
            refused: vec![],
        },
        mail_lines: Some(vec!["Thư báo cáo: đã gửi".into()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_exits_as_its_mail_and_files_say() {
        let ok = sample_report(Period::month(2026, 10));
        assert_eq!(ok.exit_code(), exit::SUCCESS);
        let rejected = RunReport {
            rejected: true,
            ..ok.clone()
        };
        assert_eq!(rejected.exit_code(), exit::REJECTED_FILES);
        let mut pending = rejected.clone();
        pending.mail.status = "pending".into();
        assert_eq!(pending.exit_code(), exit::DELIVERY_FAILED);
        let mut failed = rejected.clone();
        failed.mail.status = "failed".into();
        assert_eq!(failed.exit_code(), exit::DELIVERY_FAILED_FOR_GOOD);
        let mut partly = ok.clone();
        partly.mail.refused = vec![crate::pipeline::compose::Refused {
            address: "c@d.vn".into(),
            reply: "550 5.1.1 unknown".into(),
        }];
        assert_eq!(partly.exit_code(), exit::DELIVERY_FAILED_FOR_GOOD);
        let mut dry = ok.clone();
        dry.mail.status = "dry_run".into();
        assert_eq!(dry.exit_code(), exit::SUCCESS);
    }

    #[test]
    fn a_command_and_an_error_cross_the_wire_unchanged() {
        let c = Command::Run {
            period: Some(Period::month(2026, 10)),
            resend: true,
            supplement: false,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"command":"run","period":"2026-10","resend":true,"supplement":false}"#
        );
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), c);
        // A client that leaves the flags out asks for a plain run.
        assert_eq!(
            serde_json::from_str::<Command>(r#"{"command":"run","period":null}"#).unwrap(),
            Command::Run {
                period: None,
                resend: false,
                supplement: false
            }
        );
        let e = AppError::new(ErrorKind::AlreadySent, "Báo cáo Tháng 10/2026 đã được gửi");
        let wire = serde_json::to_string(&e).unwrap();
        assert_eq!(
            wire,
            r#"{"kind":"already_sent","message":"Báo cáo Tháng 10/2026 đã được gửi"}"#
        );
        let back: AppError = serde_json::from_str(&wire).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.exit_code(), exit::ALREADY_SENT);
    }

    #[test]
    fn a_resend_crosses_the_wire_unchanged() {
        let c = Command::Resend {
            target: crate::app::operator::ResendTarget::Run(3),
            force: false,
            refused: true,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"command":"resend","target":{"run":3},"force":false,"refused":true}"#
        );
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), c);
    }

    #[test]
    fn every_kind_has_its_exit_code_and_http_status() {
        let table = [
            (ErrorKind::BadInput, exit::BAD_CONFIG, 422),
            (ErrorKind::AlreadySent, exit::ALREADY_SENT, 409),
            (ErrorKind::MailQueued, exit::MAIL_QUEUED, 409),
            (ErrorKind::NothingChanged, exit::SUCCESS, 409),
            (ErrorKind::DaemonStopping, exit::NO_DAEMON, 503),
            (ErrorKind::NotTaken, exit::NO_DAEMON, 503),
            (ErrorKind::DeliveryFailed, exit::DELIVERY_FAILED, 502),
            (ErrorKind::Internal, exit::INTERNAL_ERROR, 500),
        ];
        for (kind, code, http) in table {
            assert_eq!(
                (kind.exit_code(), kind.http_status()),
                (code, http),
                "{kind:?}"
            );
        }
    }
}
