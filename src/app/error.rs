//! A failure of a run itself (not of a unit's file: those are findings).

use std::path::PathBuf;

use crate::period::Period;

/// A failure of the run itself (not of a unit's file: those are findings).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Intake(#[from] crate::pipeline::intake::IntakeError),
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lay out the workbook: {0}")]
    Render(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Save(#[from] crate::state::atomic::SaveError),
    #[error("cannot compose the mail: {0}")]
    Compose(#[from] crate::pipeline::compose::DeliveryError),
    #[error(transparent)]
    Lock(#[from] crate::state::lock::LockError),
    #[error(transparent)]
    Store(#[from] crate::state::store::StoreError),
    #[error(transparent)]
    Outbox(#[from] crate::mail::outbox::OutboxError),
    /// The period's report is already made: sent, or queued and retried (never "sent" while it
    /// only waits). `state` is its delivery's state in the clerk's words
    /// ([`crate::app::mail_state::delivery_state`]), worded when the error is made.
    #[error(
        "the report for {period} is already made (delivery {}, {}): {state}; use --resend to send it again",
        delivery.id,
        delivery.status.as_str()
    )]
    AlreadyMade {
        period: Period,
        delivery: Box<crate::state::store::DeliveryRow>,
        state: String,
    },
    #[error(
        "the report for {period} has not been sent yet: there is nothing to supplement (use `tonghop run`)"
    )]
    NotSentYet { period: Period },
    #[error(
        "the read workers failed on all {files} files: check that the program can start `tonghop __read-worker` and the [read] limits; no report was made"
    )]
    ReadersFailing { files: usize },
    #[error(
        "nothing changed for {period} since its report was sent: no supplementary report needed ({copying} files still being copied were not read)"
    )]
    NothingToSupplement {
        period: Period,
        /// Files modified less than `settle_seconds` ago: not read this time.
        copying: usize,
    },
    #[error(
        "a {kind} mail for {period} (delivery {delivery}) is still queued since {since} ({attempts} attempts, last error: {}): no new supplementary report until it is sent (see `tonghop status`, `tonghop resend`)",
        last_error.as_deref().unwrap_or("none")
    )]
    MailQueued {
        period: Period,
        /// report | supplement
        kind: crate::state::store::DeliveryKind,
        /// The supplement's number ("bổ sung lần N").
        number: Option<u32>,
        run_id: Option<i64>,
        delivery: i64,
        /// When it was queued, as the office reads it.
        since: String,
        attempts: i64,
        last_error: Option<String>,
    },
}
