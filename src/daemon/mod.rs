//! The daemon: a clock in front of the pipeline. The scheduler, the control endpoint and the
//! delivery timer only send `Event`s; one loop handles them, one at a time, by calling the same
//! `pipeline::run_once` as `tonghop run`.

pub mod control;

use chrono::{DateTime, Utc};

use crate::period::Period;
use crate::pipeline::Trigger;

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Consolidate and send the period that just ended.
    Send,
    /// Remind units that have not reported.
    Remind,
    /// Scan the inbox: archive new files, notice late reports, retry a failed send.
    Scan,
    /// Attempt queued mails that are due.
    Deliver,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Send => "send",
            Job::Remind => "remind",
            Job::Scan => "scan",
            Job::Deliver => "deliver",
        }
    }
}

/// What a manual run answers: a short JSON summary of the run, or the error in words.
pub type ManualResult = Result<serde_json::Value, String>;

/// Everything the daemon's loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A scheduled job is due (`at` is its scheduled time).
    Tick { job: Job, at: DateTime<Utc>, trigger: Trigger },
    /// An operator asked for a run now (`tonghop trigger`).
    Manual { period: Option<Period>, resend: bool, reply: tokio::sync::oneshot::Sender<ManualResult> },
}
