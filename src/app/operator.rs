//! Operator commands that work beside a running daemon (and without one): `status` (the period
//! as it stands now), `history` (runs and mails), `resend` (a run's report again), and what an
//! answer of the daemon to `trigger` means. Each builds a value; the CLI prints it as Vietnamese
//! text or as JSON.
//!
//! None of them starts a second way to make a report: `status` reads no file (it answers from
//! the checks the daemon's scan and the runs recorded, judged by `crate::app::run::judge`, the
//! run's own rule; nothing written); `resend` sends bytes already spooled, through the outbox,
//! under the run lock like every delivery.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::app::exit;
pub use crate::app::mail_state::{delivery_state, mail_kind_label, mail_label};
use crate::app::run::RunError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::finding::Finding;
use crate::mail::outbox::{self, Attempt, OutboxError};
use crate::matching::UnitMatcher;
use crate::period::Period;
use crate::pipeline::consolidate::{Content, FileOutcome, Inspected, UnitStatus};
use crate::pipeline::{self, compose as deliver};
use crate::state::lock::{LockError, RunLock};
use crate::state::store::{
    self, CheckedFile, DeliveryKind, DeliveryRow, DeliveryStatus, NewDelivery, RunRow, RunStatus,
    Store, StoreError,
};

/// Whether the state store exists, and what opening it said.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoreState {
    /// No run has been recorded with this data folder yet.
    Missing {
        path: String,
    },
    Open {
        path: String,
    },
    Error {
        path: String,
        error: String,
    },
}

/// Open the store if it exists; never create it (status and history only look).
fn open_existing(settings: &Settings) -> (StoreState, Option<Store>) {
    let path = settings.data.join(store::FILE_NAME);
    let shown = path.display().to_string();
    if !path.is_file() {
        return (StoreState::Missing { path: shown }, None);
    }
    // WAL: the daemon may write meanwhile; a write in progress makes this wait (busy timeout).
    match Store::open(&settings.data) {
        Ok(s) => (StoreState::Open { path: shown }, Some(s)),
        Err(e) => (
            StoreState::Error {
                path: shown,
                error: crate::app::explain::store(&e),
            },
            None,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// status

/// One unit of the roster, as things stand.
#[derive(Debug, Clone, Serialize)]
pub struct UnitLine {
    pub id: String,
    pub name: String,
    pub group: String,
    pub status: UnitStatus,
    /// "Đúng hạn", "Nộp muộn", "Chưa nộp", "Bị từ chối".
    pub label: &'static str,
    pub late: bool,
    /// The file the status is based on (inbox path).
    pub file: Option<String>,
    pub received: Option<DateTime<FixedOffset>>,
    /// Findings about that file (errors for a rejected one; warnings may accompany an accepted one).
    pub findings: Vec<Finding>,
    /// Files of this unit (by folder or file name) not checked yet: not counted above.
    pub unchecked: Vec<UncheckedFile>,
}

/// A file of the inbox with no recorded check: new, or changed since it was checked. `status`
/// does not read it; the daemon's next scan (or a run) checks it.
#[derive(Debug, Clone, Serialize)]
pub struct UncheckedFile {
    pub path: String,
    pub received: DateTime<FixedOffset>,
    /// The unit its folder or file name points to (its content may say otherwise).
    pub unit: Option<String>,
}

/// A file that needs a person: it could not be attributed to a unit.
#[derive(Debug, Clone, Serialize)]
pub struct FileLine {
    pub path: String,
    pub received: Option<DateTime<FixedOffset>>,
    pub findings: Vec<Finding>,
}

/// A unit's report that is accepted now but arrived after the report that was sent was made.
#[derive(Debug, Clone, Serialize)]
pub struct LateFile {
    pub unit: String,
    pub unit_name: String,
    pub file: String,
    pub received: DateTime<FixedOffset>,
}

/// The period's consolidated report as the store knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportState {
    /// "sent", "pending", "failed" or "not_sent" (the best state among the period's reports).
    pub state: &'static str,
    /// The last report (or supplement) of the period that was sent.
    pub sent: Option<DeliveryRow>,
    /// When the content of that report was gathered (its run's start): reports received later
    /// are not in it.
    #[serde(serialize_with = "store::stored_time::serialize_opt")]
    pub content_as_of: Option<DateTime<Utc>>,
    /// Every report and supplement mail of the period, oldest first.
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextJob {
    /// send | remind | scan
    pub job: &'static str,
    pub label: &'static str,
    pub at: Option<DateTime<FixedOffset>>,
}

/// Whether a daemon answers on the control port.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonState {
    pub port: u16,
    pub running: bool,
    pub pid: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Why the inbox could not be read (in Vietnamese), if it could not: then the units' state is
    /// unknown and only what the state store says is shown.
    pub inbox_problem: Option<String>,
    pub period: Period,
    pub period_label: String,
    pub now: DateTime<FixedOffset>,
    pub deadline: DateTime<FixedOffset>,
    pub reported: usize,
    /// Units in roster order.
    pub units: Vec<UnitLine>,
    pub unidentified: Vec<FileLine>,
    /// Files with no recorded check (new or changed since): not read, not counted.
    pub unchecked: Vec<UncheckedFile>,
    pub store: StoreState,
    pub report: ReportState,
    /// "Báo cáo đến sau khi đã gửi".
    pub late_after_send: Vec<LateFile>,
    /// Every mail still waiting for an attempt (any period, any kind).
    pub pending: Vec<DeliveryRow>,
    pub next: Vec<NextJob>,
    pub daemon: DaemonState,
}

/// The period as it stands at `now`, from the state store: the inbox is listed (metadata only,
/// `intake::scan`), each file is looked up by path, size and modification time among the checks
/// the daemon's scan and the runs recorded, and each unit's report is chosen from those by the
/// rule a run uses (`app::run::judge`). No file is read and no read worker is started: a file
/// not recorded yet (new, or changed since it was checked) is listed as not yet checked, with
/// the unit its folder or name points to. An inbox that cannot be read (missing, unmounted)
/// does not hide the store: it becomes `inbox_problem`, with no units.
pub fn status(
    settings: &Settings,
    period: Period,
    now: DateTime<Utc>,
    daemon: DaemonState,
) -> Result<Status, RunError> {
    // Listing the inbox (a stat per file) and loading the recorded checks both wait on the
    // disk: side by side.
    let (listing, (mut store_state, store, recorded)) = std::thread::scope(|s| {
        let listing =
            s.spawn(|| pipeline::intake::scan(&settings.inbox, now.into(), settings.settle));
        let (mut store_state, store) = open_existing(settings);
        let recorded = match store.as_ref().map(Store::checked_files) {
            None => HashMap::new(),
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                store_state = StoreState::Error {
                    path: settings.data.join(store::FILE_NAME).display().to_string(),
                    error: crate::app::explain::store(&e),
                };
                HashMap::new()
            }
        };
        let listing = listing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (listing, (store_state, store, recorded))
    });
    let (c, unchecked, inbox_problem) = match listing {
        Ok(mut scan) => {
            pipeline::read_named_documents(settings, &mut scan);
            let (inspected, unchecked) = recorded_checks(settings, scan.submissions, recorded);
            let (c, _) = crate::app::run::judge(settings, period, now, inspected, scan.skipped);
            (c, unchecked, None)
        }
        Err(e) => (
            empty_consolidation(settings, period, now),
            Vec::new(),
            Some(crate::app::explain::run_error(&RunError::Intake(e))),
        ),
    };
    let mut unchecked_of: HashMap<&str, Vec<UncheckedFile>> = HashMap::new();
    for f in &unchecked {
        if let Some(u) = &f.unit {
            unchecked_of.entry(u.as_str()).or_default().push(f.clone());
        }
    }
    // By path, found once (a search per unit through every file was quadratic).
    let by_path: HashMap<&str, &pipeline::consolidate::FileRecord> =
        c.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let findings_of = |path: &str| {
        by_path
            .get(path)
            .map(|f| f.findings.clone())
            .unwrap_or_default()
    };
    let units: Vec<UnitLine> = c
        .units
        .iter()
        .filter(|_| inbox_problem.is_none())
        .map(|u| {
            let waiting = unchecked_of.get(u.id.as_str()).cloned().unwrap_or_default();
            UnitLine {
                id: u.id.clone(),
                name: u.name.clone(),
                group: u.group.clone(),
                status: u.status,
                // "Not submitted" is not true of a unit whose file waits to be checked.
                label: if u.status == UnitStatus::Missing && !waiting.is_empty() {
                    "Có tệp chưa kiểm tra"
                } else {
                    u.status_label()
                },
                late: u.late,
                file: u.file.as_ref().map(|f| f.path.clone()),
                received: u.file.as_ref().map(|f| f.received),
                findings: u
                    .file
                    .as_ref()
                    .map(|f| findings_of(&f.path))
                    .unwrap_or_default(),
                unchecked: waiting,
            }
        })
        .collect();
    let unidentified = c
        .files
        .iter()
        .filter(|f| f.outcome == FileOutcome::Unidentified)
        .map(|f| FileLine {
            path: f.path.clone(),
            received: f.received,
            findings: f.findings.clone(),
        })
        .collect();

    let (report, pending) = match store.as_ref().map(|s| report_state(s, period)) {
        None => (ReportState::not_sent(), Vec::new()),
        Some(Ok(x)) => x,
        // Still show the units: they come from the inbox, not the store.
        Some(Err(e)) => {
            store_state = StoreState::Error {
                path: settings.data.join(store::FILE_NAME).display().to_string(),
                error: crate::app::explain::store(&e),
            };
            (ReportState::not_sent(), Vec::new())
        }
    };
    let late_after_send = match report.content_as_of {
        Some(as_of) => c
            .units
            .iter()
            .filter(|u| u.status == UnitStatus::Accepted)
            .filter_map(|u| {
                let f = u.file.as_ref()?;
                (f.received > as_of).then(|| LateFile {
                    unit: u.id.clone(),
                    unit_name: u.name.clone(),
                    file: f.path.clone(),
                    received: f.received,
                })
            })
            .collect(),
        None => Vec::new(),
    };

    let local = now.with_timezone(&settings.timezone);
    let sched = &settings.schedule;
    let next = [
        ("send", "Gửi báo cáo", &sched.send),
        ("remind", "Nhắc nộp", &sched.remind),
        ("scan", "Quét thư mục", &sched.scan),
    ]
    .into_iter()
    .map(|(job, label, spec)| NextJob {
        job,
        label,
        // From the whole second: a cron time has none of now's fraction.
        at: spec
            .next_after(&chrono::SubsecRound::trunc_subsecs(local, 0))
            .map(|t| t.fixed_offset()),
    })
    .collect();

    Ok(Status {
        inbox_problem,
        period,
        period_label: period.label(),
        now: local.fixed_offset(),
        deadline: c.deadline,
        reported: c.accepted_count(),
        units,
        unidentified,
        unchecked,
        store: store_state,
        report,
        late_after_send,
        pending,
        next,
        daemon,
    })
}

/// The period's frame with no files, for a `status` whose inbox cannot be read (its units are
/// not shown: their state is unknown, not "not submitted").
fn empty_consolidation(
    settings: &Settings,
    period: Period,
    now: DateTime<Utc>,
) -> pipeline::consolidate::Consolidation {
    let tz = settings.timezone;
    let frame = pipeline::consolidate::Frame {
        roster: &settings.roster,
        form: &settings.form,
        period,
        deadline: settings.deadline.deadline(&period, &tz).fixed_offset(),
        generated_at: now.with_timezone(&tz).fixed_offset(),
    };
    pipeline::consolidate::consolidate(&frame, Vec::new(), Vec::new())
}

/// The inbox's files as their recorded checks say (found by path, size and modification time),
/// rebuilt as `Inspected` without their figures (status shows no figures), and the files with no
/// recorded check (new, changed since, or checked only by an older version): those are not
/// read, only named with the unit their folder or file name points to. Reads no file; the recorded findings (JSON)
/// are read back on all cores, since a status query may hold 10,000 of them.
fn recorded_checks(
    settings: &Settings,
    submissions: Vec<pipeline::intake::Submission>,
    recorded: HashMap<(String, u64, i64), CheckedFile>,
) -> (Vec<Inspected>, Vec<UncheckedFile>) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = submissions.len().div_ceil(threads).max(256);
    let recorded = &recorded;
    // Each file: its check rebuilt, or itself as not yet checked.
    let looked_up: Vec<Result<Inspected, pipeline::intake::Submission>> = std::thread::scope(|s| {
        let handles: Vec<_> = submissions
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|sub| {
                            let received = crate::clock::local(settings, sub.modified);
                            received
                                .timestamp_nanos_opt()
                                .and_then(|ns| recorded.get(&(sub.rel.clone(), sub.size, ns)))
                                .and_then(|c| inspected_of(settings, sub, received, c))
                                .ok_or_else(|| sub.clone())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut matcher = None;
    let mut inspected = Vec::with_capacity(looked_up.len());
    let mut unchecked = Vec::new();
    for x in looked_up {
        match x {
            Ok(i) => inspected.push(i),
            Err(sub) => unchecked.push(UncheckedFile {
                unit: pipeline::identify::identify(
                    matcher.get_or_insert_with(|| UnitMatcher::new(&settings.roster)),
                    &settings.roster,
                    &sub.folders(),
                    sub.stem(),
                    None,
                )
                .ok(),
                received: crate::clock::local(settings, sub.modified),
                path: sub.rel,
            }),
        }
    }
    (inspected, unchecked)
}

/// A recorded check as the `Inspected` it was made from, but for the figures, activities,
/// narrative and header, which choosing a unit's report does not look at. `None` if the record
/// cannot be understood (then the file counts as not yet checked).
fn inspected_of(
    settings: &Settings,
    sub: &pipeline::intake::Submission,
    received: DateTime<FixedOffset>,
    c: &CheckedFile,
) -> Option<Inspected> {
    let period = match &c.period {
        Some(p) => Some(Period::parse_key(p)?),
        None => None,
    };
    Some(Inspected {
        rel: sub.rel.clone(),
        size: sub.size,
        received,
        sha256: Some(c.sha256.clone()).filter(|s| !s.is_empty()),
        unit: c.unit.clone(),
        period,
        content: c.examined.then(|| Content {
            figures: None,
            activities: Default::default(),
            narrative: vec![String::new(); settings.form.narrative.len()],
            header: Vec::new(),
        }),
        findings: serde_json::from_str(&c.findings).ok()?,
    })
}

impl ReportState {
    fn not_sent() -> ReportState {
        ReportState {
            state: "not_sent",
            sent: None,
            content_as_of: None,
            deliveries: Vec::new(),
        }
    }
}

/// The period's report and supplement mails, and every mail still pending.
fn report_state(s: &Store, period: Period) -> Result<(ReportState, Vec<DeliveryRow>), StoreError> {
    let key = period.key();
    let mut ds = s.deliveries_for(&key, DeliveryKind::Report)?;
    ds.extend(s.deliveries_for(&key, DeliveryKind::Supplement)?);
    ds.sort_by_key(|d| d.id);
    let state = if ds.iter().any(|d| d.status == DeliveryStatus::Sent) {
        "sent"
    } else if ds.iter().any(|d| d.status == DeliveryStatus::Pending) {
        "pending"
    } else if ds.is_empty() {
        "not_sent"
    } else {
        "failed"
    };
    // The content of a sent mail is as of its run's start: a copy sent later by
    // `tonghop resend` carries the same old content, so its send time would hide reports.
    let mut as_of: Option<DateTime<Utc>> = None;
    for d in ds.iter().filter(|d| d.status == DeliveryStatus::Sent) {
        let run = match d.run_id {
            Some(r) => s.run(r)?,
            None => None,
        };
        let t = run.map(|r| r.started_at).unwrap_or(d.created_at);
        if as_of.is_none_or(|a| t > a) {
            as_of = Some(t);
        }
    }
    // The latest content sent: a copy of an older mail resent later is not newer.
    let sent = ds
        .iter()
        .filter(|d| d.status == DeliveryStatus::Sent)
        .max_by_key(|d| (d.run_id, d.id))
        .cloned();
    let report = ReportState {
        state,
        sent,
        content_as_of: as_of,
        deliveries: ds,
    };
    Ok((report, s.pending_deliveries()?))
}

/// The lines a `run` or `trigger` prints about the mail it just made, in the words `status` and
/// `history` use ([`delivery_state`]), read back from the store by run and Message-ID; with the
/// command that reaches refused addresses once fixed. `None` when nothing was recorded (a dry
/// run, or no store).
pub fn run_mail_lines(
    settings: &Settings,
    run_id: Option<i64>,
    message_id: &str,
) -> Option<Vec<String>> {
    let run_id = run_id?;
    let (_, store) = open_existing(settings);
    let d = store?
        .deliveries_of_run(run_id)
        .ok()?
        .into_iter()
        .find(|d| d.message_id == message_id)?;
    let mut lines = vec![format!(
        "{}: {}",
        mail_label(&d),
        delivery_state(settings, &d)
    )];
    if !d.refused.is_empty() {
        lines.push(format!(
            "Khi đã sửa các địa chỉ bị từ chối, gửi riêng cho họ (người khác không nhận lại): \
             tonghop resend {run_id} --refused"
        ));
    }
    Some(lines)
}

/// Whether `d` (a report or supplement) carries older figures than `latest`, the latest one of
/// its period that was sent: its run came before.
pub(crate) fn older_than(d: &DeliveryRow, latest: Option<&DeliveryRow>) -> bool {
    matches!(d.kind.as_str(), "report" | "supplement")
        && matches!((d.run_id, latest.and_then(|l| l.run_id)), (Some(a), Some(b)) if a < b)
}

// ---------------------------------------------------------------------------------------------
// history

#[derive(Debug, Clone, Serialize)]
pub struct RunHistory {
    #[serde(flatten)]
    pub run: RunRow,
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub store: StoreState,
    /// Newest first.
    pub runs: Vec<RunHistory>,
    /// Recent mails that belong to no run (reminders), newest first.
    pub other: Vec<DeliveryRow>,
}

/// The last `limit` runs with their mails, newest first.
pub fn history(settings: &Settings, limit: usize) -> Result<History, StoreError> {
    let (state, store) = open_existing(settings);
    let Some(s) = store else {
        return Ok(History {
            store: state,
            runs: Vec::new(),
            other: Vec::new(),
        });
    };
    let runs = s
        .runs(limit)?
        .into_iter()
        .map(|run| {
            let deliveries = s.deliveries_of_run(run.id)?;
            Ok(RunHistory { run, deliveries })
        })
        .collect::<Result<_, StoreError>>()?;
    let other = s
        .recent_deliveries(limit)?
        .into_iter()
        .filter(|d| d.run_id.is_none())
        .collect();
    Ok(History {
        store: state,
        runs,
        other,
    })
}

// ---------------------------------------------------------------------------------------------
// resend

/// What to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResendTarget {
    /// The report of a run (`tonghop resend RUN_ID`).
    Run(i64),
    /// One mail (`tonghop resend --delivery ID`, as the alert mail suggests for mails of no run).
    Delivery(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ResendAction {
    /// A failed or pending mail put back in the queue and attempted now (same Message-ID: it
    /// never reached anyone).
    Requeued,
    /// A sent mail sent again from its spooled bytes under a new Message-ID (a new message
    /// for the recipients' mail systems, which would drop a repeated ID as a duplicate).
    Copied { original: String },
    /// A sent mail sent again, under a new Message-ID, only to the recipients the server had
    /// refused for good (`resend --refused`, once their mailbox is fixed).
    ToRefused { original: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ResendOutcome {
    pub action: ResendAction,
    /// The mail after the attempt.
    pub delivery: DeliveryRow,
    /// Other queued mails that were due and attempted in the same go.
    pub others: Vec<Attempt>,
}

impl ResendOutcome {
    pub fn exit_code(&self) -> u8 {
        match self.delivery.status {
            DeliveryStatus::Sent if self.delivery.refused.is_empty() => exit::SUCCESS,
            DeliveryStatus::Sent | DeliveryStatus::Failed => exit::DELIVERY_FAILED_FOR_GOOD,
            DeliveryStatus::Pending => exit::DELIVERY_FAILED,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("no state store at {0}: nothing was ever sent with this data folder")]
    NoStore(PathBuf),
    #[error("there is no run {0} (see `tonghop history`)")]
    UnknownRun(i64),
    #[error("there is no mail {0} (see `tonghop history --json`)")]
    UnknownDelivery(i64),
    #[error("mail {0} has no recipient refused by the server (see `tonghop history`)")]
    NothingRefused(i64),
    #[error("run {run_id} made no report mail (outcome: {outcome}{})", error.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    NoReport {
        run_id: i64,
        outcome: RunStatus,
        error: Option<String>,
    },
    #[error("the spooled message {path} cannot be read: {source}")]
    Spool {
        path: String,
        source: std::io::Error,
    },
    #[error("the spooled message {0} has no Message-ID header")]
    NoMessageId(String),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error("cannot spool the new message: {0}")]
    Write(#[from] deliver::DeliveryError),
    #[error(
        "mail {delivery} ({kind} {}) carries older figures than the {newer_kind} {} sent at {newer_sent_at} (run {newer_run}); use --force to send it anyway",
        number.map(|n| n.to_string()).unwrap_or_default(),
        newer_number.map(|n| n.to_string()).unwrap_or_default()
    )]
    Superseded {
        delivery: i64,
        run_id: i64,
        kind: DeliveryKind,
        number: Option<u32>,
        newer_kind: DeliveryKind,
        newer_number: Option<u32>,
        newer_run: i64,
        /// As the office reads it.
        newer_sent_at: String,
    },
}

/// A run or mail that does not exist (or has nothing to send) is a wrong argument: nothing was
/// done. A spooled message that is gone means the mail cannot be delivered. The rest is not the
/// operator's doing.
impl From<&ResendError> for crate::app::AppError {
    fn from(e: &ResendError) -> crate::app::AppError {
        use crate::app::ErrorKind;
        let kind = match e {
            ResendError::NoStore(_)
            | ResendError::UnknownRun(_)
            | ResendError::UnknownDelivery(_)
            | ResendError::NothingRefused(_)
            | ResendError::NoReport { .. } => ErrorKind::BadInput,
            ResendError::Superseded { .. } => ErrorKind::AlreadySent,
            ResendError::Spool { .. } | ResendError::NoMessageId(_) => ErrorKind::DeliveryFailed,
            _ => ErrorKind::Internal,
        };
        crate::app::AppError {
            detail: Some(e.to_string()),
            ..crate::app::AppError::new(kind, explain_resend(e))
        }
    }
}

/// Send a run's report (or one mail) again. A `failed` or `pending` mail is requeued and
/// attempted now; a `sent` one is copied from its spooled bytes under a new Message-ID and
/// sent. With `only_refused`, a sent mail goes again only to the recipients the server refused
/// for good (the latest such report of a run). Holds the run lock (calling `waiting` if it has
/// to wait for it).
///
/// A report or supplement older than the latest one of its period that was sent is refused
/// unless `force`: it would reach the recipients after the newer figures and look like news.
pub fn resend(
    settings: &Settings,
    target: ResendTarget,
    force: bool,
    only_refused: bool,
    clock: &dyn Clock,
    waiting: &dyn Fn(),
) -> Result<ResendOutcome, ResendError> {
    let db = settings.data.join(store::FILE_NAME);
    if !db.is_file() {
        return Err(ResendError::NoStore(db));
    }
    let _lock = match RunLock::acquire(&settings.data, Duration::ZERO) {
        Ok(l) => l,
        Err(LockError::Busy { .. }) => {
            waiting();
            RunLock::acquire(&settings.data, crate::state::lock::RUN_WAIT)?
        }
        Err(e) => return Err(e.into()),
    };
    let store = Store::open(&settings.data)?;
    let row = match target {
        ResendTarget::Delivery(id) => store
            .delivery(id)?
            .ok_or(ResendError::UnknownDelivery(id))?,
        ResendTarget::Run(id) => {
            let run = store.run(id)?.ok_or(ResendError::UnknownRun(id))?;
            let reports: Vec<DeliveryRow> = store
                .deliveries_of_run(id)?
                .into_iter()
                .filter(|d| d.kind.carries_figures())
                .collect();
            // One still on its way (or given up on) is the one to send: a copy beside it
            // would reach the recipients twice once it goes through.
            let pick = if only_refused {
                reports.iter().rev().find(|d| !d.refused.is_empty())
            } else {
                reports
                    .iter()
                    .rev()
                    .find(|d| d.status != DeliveryStatus::Sent)
            };
            match pick.or(reports.last()) {
                Some(d) => d.clone(),
                None => {
                    return Err(ResendError::NoReport {
                        run_id: id,
                        outcome: run.outcome,
                        error: run.error,
                    });
                }
            }
        }
    };
    if !force {
        let latest = store.latest_sent(&row.period)?;
        if let Some(newer) = latest.as_ref().filter(|l| older_than(&row, Some(l))) {
            return Err(ResendError::Superseded {
                delivery: row.id,
                run_id: row.run_id.unwrap_or_default(),
                kind: row.kind,
                number: row.supplement_number,
                newer_kind: newer.kind,
                newer_number: newer.supplement_number,
                newer_run: newer.run_id.unwrap_or_default(),
                newer_sent_at: newer
                    .sent_at
                    .as_ref()
                    .map(|t| crate::clock::local_text(settings, t))
                    .unwrap_or_default(),
            });
        }
    }
    let now = clock.now();
    let (id, action) = if only_refused {
        if row.status != DeliveryStatus::Sent || row.refused.is_empty() {
            return Err(ResendError::NothingRefused(row.id));
        }
        let to: Vec<String> = row.refused.iter().map(|r| r.address.clone()).collect();
        let id = copy_with_new_id(settings, &store, &row, &to, now, deliver::Nonce::random())?;
        tracing::info!(delivery = id, original = %row.message_id, recipients = %to.join(","), "sent mail copied for the recipients refused before");
        (
            id,
            ResendAction::ToRefused {
                original: row.message_id.clone(),
            },
        )
    } else if row.status == DeliveryStatus::Sent {
        let id = copy_with_new_id(
            settings,
            &store,
            &row,
            &row.recipients,
            now,
            deliver::Nonce::random(),
        )?;
        tracing::info!(delivery = id, original = %row.message_id, "sent mail copied under a new Message-ID");
        (
            id,
            ResendAction::Copied {
                original: row.message_id.clone(),
            },
        )
    } else {
        store.requeue(row.id, now)?;
        tracing::info!(delivery = row.id, message_id = %row.message_id, "mail requeued by the operator");
        (row.id, ResendAction::Requeued)
    };
    let attempts = outbox::deliver_due(settings, &store, clock.now())?;
    let delivery = store.delivery(id)?.expect("recorded above");
    Ok(ResendOutcome {
        action,
        delivery,
        others: attempts.into_iter().filter(|a| a.delivery != id).collect(),
    })
}

fn copy_with_new_id(
    settings: &Settings,
    store: &Store,
    row: &DeliveryRow,
    recipients: &[String],
    now: DateTime<Utc>,
    nonce: deliver::Nonce,
) -> Result<i64, ResendError> {
    let bytes = std::fs::read(&row.eml_path).map_err(|e| ResendError::Spool {
        path: row.eml_path.clone(),
        source: e,
    })?;
    let new_id = deliver::message_id(
        &["resend", &row.period],
        now.with_timezone(&settings.timezone).fixed_offset(),
        Some(nonce),
        message_id_domain(&row.message_id),
    );
    let bytes = replace_message_id(&bytes, &new_id)
        .ok_or_else(|| ResendError::NoMessageId(row.eml_path.clone()))?;
    let path = crate::mail::transport::write_file_atomic(
        &outbox::spool_dir(&settings.data),
        &deliver::eml_name(&new_id),
        &bytes,
    )?;
    Ok(store.add_delivery(
        &NewDelivery {
            run_id: row.run_id,
            kind: row.kind,
            period: &row.period,
            unit: row.unit.as_deref(),
            recipients,
            subject: &row.subject,
            message_id: &new_id,
            eml_path: &path,
        },
        now,
    )?)
}

/// The domain of `<local@domain>`, or "localhost".
fn message_id_domain(id: &str) -> &str {
    id.trim_matches(['<', '>'])
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("localhost")
}

/// The message with its `Message-ID:` header (and any folded continuation lines) replaced by
/// `Message-ID: new_id`, keeping the line ending. Only the header block (up to the first empty
/// line) is looked at: a forwarded message or a text in the body is left alone. `None` if the
/// header block has no Message-ID.
pub fn replace_message_id(message: &[u8], new_id: &str) -> Option<Vec<u8>> {
    let mut pos = 0;
    while pos < message.len() {
        let end = message[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i + 1)
            .unwrap_or(message.len());
        let line = &message[pos..end];
        if line == b"\r\n" || line == b"\n" {
            return None; // end of the header block
        }
        let name = b"message-id:";
        if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
            let mut stop = end;
            while stop < message.len() && matches!(message[stop], b' ' | b'\t') {
                stop = message[stop..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|i| stop + i + 1)
                    .unwrap_or(message.len());
            }
            let eol: &[u8] = if line.ends_with(b"\r\n") {
                b"\r\n"
            } else if line.ends_with(b"\n") {
                b"\n"
            } else {
                b""
            };
            let mut out = Vec::with_capacity(message.len() + new_id.len());
            out.extend_from_slice(&message[..pos]);
            out.extend_from_slice(b"Message-ID: ");
            out.extend_from_slice(new_id.as_bytes());
            out.extend_from_slice(eol);
            out.extend_from_slice(&message[stop..]);
            return Some(out);
        }
        pos = end;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// trigger

/// `tonghop resend` could not send.
pub fn explain_resend(e: &ResendError) -> String {
    use ResendError as R;
    match e {
        R::NoStore(path) => format!(
            "Chưa có dữ liệu trạng thái {}: thư mục dữ liệu này chưa từng gửi báo cáo nào.",
            path.display()
        ),
        R::UnknownRun(id) => {
            format!("Không có lần chạy số {id} (xem danh sách bằng: tonghop history).")
        }
        R::UnknownDelivery(id) => {
            format!("Không có thư số {id} (xem danh sách bằng: tonghop history --json).")
        }
        R::NothingRefused(id) => format!(
            "Thư số {id} không có địa chỉ nào bị máy chủ thư từ chối; không có gì để gửi lại \
             (xem: tonghop history)."
        ),
        R::NoReport {
            run_id,
            outcome,
            error,
        } => format!(
            "Lần chạy số {run_id} không tạo thư báo cáo nào (kết quả: {outcome}{}).",
            error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
        R::Spool { path, source } => {
            format!(
                "Không đọc được bản thư đã lưu {path}: {}.",
                crate::wording::os(source)
            )
        }
        R::NoMessageId(path) => format!("Bản thư đã lưu {path} không có dòng Message-ID."),
        R::Lock(l) => crate::app::explain::lock(l),
        R::Store(s) => crate::app::explain::store(s),
        R::Outbox(o) => crate::app::explain::outbox(o),
        R::Write(d) => format!(
            "Không lưu được thư mới vào hàng đợi: {}",
            crate::app::explain::delivery(d)
        ),
        R::Superseded {
            run_id,
            kind,
            number,
            newer_kind,
            newer_number,
            newer_sent_at,
            ..
        } => format!(
            "{} (lần chạy {run_id}) mang số liệu cũ hơn {} đã gửi lúc {newer_sent_at}: gửi lại \
             bây giờ, người nhận sẽ nhận số liệu cũ sau số liệu mới. Không gửi. Nếu vẫn muốn gửi \
             lại đúng thư đó: tonghop resend {run_id} --force",
            mail_kind_label(*kind, *number),
            mail_kind_label(*newer_kind, *newer_number).to_lowercase()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: a@b.vn\r\nTo: c@d.vn\r\nMessage-ID: <old.1@b.vn>\r\nSubject: S\r\n\r\nbody\r\nMessage-ID: <in-body@x>\r\n";

    #[test]
    fn message_id_is_replaced_in_the_header_block_only() {
        let out = replace_message_id(MAIL.as_bytes(), "<new.2@b.vn>").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            MAIL.replace("<old.1@b.vn>", "<new.2@b.vn>"),
            "the body's text is untouched"
        );
    }

    #[test]
    fn a_folded_message_id_is_replaced_whole_and_lf_endings_kept() {
        let mail = "message-id:\n <old.1@b.vn>\nSubject: S\n\nbody\n";
        let out = replace_message_id(mail.as_bytes(), "<n@b>").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Message-ID: <n@b>\nSubject: S\n\nbody\n"
        );
    }

    #[test]
    fn no_message_id_in_the_header_block_is_none() {
        let mail = "From: a@b.vn\r\n\r\nMessage-ID: <in-body@x>\r\n";
        assert!(replace_message_id(mail.as_bytes(), "<n@b>").is_none());
        assert!(replace_message_id(b"", "<n@b>").is_none());
    }

    #[test]
    fn message_id_domain_falls_back() {
        assert_eq!(message_id_domain("<a.b@lamdong.dcs.vn>"), "lamdong.dcs.vn");
        assert_eq!(message_id_domain("<nodomain>"), "localhost");
    }

    // --- status from the store ---------------------------------------------------------------

    fn no_daemon() -> DaemonState {
        DaemonState {
            port: 8787,
            running: false,
            pid: None,
        }
    }

    struct At(DateTime<Utc>);

    impl Clock for At {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().to_utc()
    }

    fn set_mtime(path: &std::path::Path, t: std::time::SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    /// Copy samples into the inbox with their received times (samples/received.tsv).
    fn drop_samples(settings: &Settings, files: &[&str]) {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let times = std::fs::read_to_string(repo.join("samples/received.tsv")).unwrap();
        for f in files {
            let to = settings.inbox.join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(repo.join("samples/inbox").join(f), &to).unwrap();
            let when = times
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{f}\t")))
                .unwrap_or_else(|| panic!("{f} has no received time"));
            set_mtime(&to, at(when.trim()).into());
        }
    }

    /// The shipped settings on a temp folder. Files are read in this process: a lib test cannot
    /// start `tonghop __read-worker` (the test binary is not tonghop).
    fn folder() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::embedded().unwrap();
        settings.inbox = dir.path().join("inbox");
        settings.out = dir.path().join("out");
        settings.data = dir.path().join("data");
        settings.settle = Duration::ZERO;
        settings.read.isolate = false;
        std::fs::create_dir_all(&settings.inbox).unwrap();
        (dir, settings)
    }

    const OCTOBER: [&str; 8] = [
        "TU Da Lat T10-2026.xlsx",
        "HU Di Linh T10.xlsx",
        "ĐUK CCQ - BC T10.xlsx",
        "Book1.xlsx",
        "HU Đơn Dương - BC T10.xlsx",
        "HU Đơn Dương - BC T10 (sửa lần 2).xlsx",
        "HU Cat Tien T9-2026.xlsx",
        "Thumbs.db",
    ];

    fn unit<'a>(s: &'a Status, id: &str) -> &'a UnitLine {
        s.units.iter().find(|u| u.id == id).unwrap()
    }

    #[test]
    fn the_scan_records_each_files_check_by_its_metadata() {
        let (_dir, settings) = folder();
        drop_samples(&settings, &OCTOBER);
        let now = at("2026-11-10T08:00:00+07:00");
        crate::app::jobs::scan_period(&settings, &At(now), Period::month(2026, 10)).unwrap();
        let store = Store::open(&settings.data).unwrap();
        let checked = store.checked_files().unwrap();
        let mut seen = Vec::new();
        for ((path, size, mtime_ns), c) in &checked {
            let meta = std::fs::metadata(settings.inbox.join(path)).unwrap();
            assert_eq!(*size, meta.len(), "{path}");
            let mtime = DateTime::<Utc>::from(meta.modified().unwrap());
            assert_eq!(Some(*mtime_ns), mtime.timestamp_nanos_opt(), "{path}");
            seen.push((path.as_str(), c.examined));
        }
        seen.sort();
        // Every file a run would read, Thumbs.db not; the zero-byte file holds no report.
        assert_eq!(
            seen,
            [
                ("Book1.xlsx", true),
                ("HU Cat Tien T9-2026.xlsx", true),
                ("HU Di Linh T10.xlsx", true),
                ("HU Đơn Dương - BC T10 (sửa lần 2).xlsx", true),
                ("HU Đơn Dương - BC T10.xlsx", true),
                ("TU Da Lat T10-2026.xlsx", true),
                ("ĐUK CCQ - BC T10.xlsx", false),
            ]
        );
        let di_linh = checked
            .iter()
            .find(|((p, _, _), _)| p == "HU Di Linh T10.xlsx")
            .unwrap()
            .1;
        assert_eq!(di_linh.unit.as_deref(), Some("di-linh"));
        assert_eq!(di_linh.period.as_deref(), Some("2026-10"));
        assert!(
            di_linh.findings.contains("khoảng 20"),
            "{}",
            di_linh.findings
        );
        let rows = store.files(None).unwrap();
        assert!(
            rows.iter()
                .all(|r| r.first_seen == "2026-11-10T01:00:00.000Z")
        );
    }

    #[test]
    fn status_after_a_scan_gives_the_verdicts_of_a_run_without_reading_a_file() {
        let (_dir, mut settings) = folder();
        drop_samples(&settings, &OCTOBER);
        let now = at("2026-11-10T08:00:00+07:00");
        let october = Period::month(2026, 10);
        // What a run sees, reading every file now.
        let read = crate::app::run::consolidate_period(&settings, october, now, &|_, _| {}, None)
            .unwrap()
            .consolidation;
        crate::app::jobs::scan_period(&settings, &At(now), october).unwrap();

        // From here on, reading a file would start a read worker.
        settings.read.isolate = true;
        let started = crate::pipeline::read::worker::workers_started();
        let s = status(&settings, october, now, no_daemon()).unwrap();
        assert_eq!(
            crate::pipeline::read::worker::workers_started(),
            started,
            "status started a read worker"
        );

        assert!(s.unchecked.is_empty(), "{:?}", s.unchecked);
        assert_eq!((s.reported, read.accepted_count()), (2, 2));
        for (line, run) in s.units.iter().zip(&read.units) {
            assert_eq!(
                (line.status, line.late, line.file.as_deref(), line.received),
                (
                    run.status,
                    run.late,
                    run.file.as_ref().map(|f| f.path.as_str()),
                    run.file.as_ref().map(|f| f.received)
                ),
                "{}",
                line.id
            );
            let run_findings = run
                .file
                .as_ref()
                .and_then(|f| read.files.iter().find(|r| r.path == f.path))
                .map(|r| r.findings.clone())
                .unwrap_or_default();
            assert_eq!(line.findings, run_findings, "{}", line.id);
        }
        let verdict = |id: &str| {
            let u = unit(&s, id);
            (u.label, u.file.as_deref())
        };
        assert_eq!(
            verdict("da-lat"),
            ("Đúng hạn", Some("TU Da Lat T10-2026.xlsx"))
        );
        assert_eq!(
            verdict("don-duong"),
            ("Đúng hạn", Some("HU Đơn Dương - BC T10 (sửa lần 2).xlsx")),
            "the later version wins"
        );
        assert_eq!(
            verdict("di-linh"),
            ("Bị từ chối", Some("HU Di Linh T10.xlsx"))
        );
        assert_eq!(
            verdict("khoi-cq"),
            ("Bị từ chối", Some("ĐUK CCQ - BC T10.xlsx"))
        );
        assert_eq!(verdict("cat-tien"), ("Chưa nộp", None), "a T9 report");
        let unidentified: Vec<&str> = s.unidentified.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(unidentified, ["Book1.xlsx"]);
        assert!(
            unit(&s, "di-linh")
                .findings
                .iter()
                .any(|f| f.cell.as_deref() == Some("E14") && f.message.contains("khoảng 20")),
            "{:?}",
            unit(&s, "di-linh").findings
        );

        // Đà Lạt's file now holds other bytes with the same size and time: read, it would be
        // rejected. status still gives the recorded verdict, so it did not read it.
        let file = settings.inbox.join("TU Da Lat T10-2026.xlsx");
        let meta = std::fs::metadata(&file).unwrap();
        std::fs::write(&file, vec![b'x'; meta.len() as usize]).unwrap();
        set_mtime(&file, meta.modified().unwrap());
        let s = status(&settings, october, now, no_daemon()).unwrap();
        assert_eq!(unit(&s, "da-lat").status, UnitStatus::Accepted);
        assert_eq!(
            crate::pipeline::read::worker::workers_started(),
            started,
            "status started a read worker"
        );
    }

    #[test]
    fn a_file_not_checked_yet_is_named_and_not_counted() {
        let (_dir, mut settings) = folder();
        drop_samples(&settings, &OCTOBER);
        let now = at("2026-11-10T08:00:00+07:00");
        let october = Period::month(2026, 10);
        crate::app::jobs::scan_period(&settings, &At(now), october).unwrap();
        // Bảo Lâm's report arrives after the scan; Đà Lạt saves its file again.
        drop_samples(&settings, &["BaoLam_T10.xlsx"]);
        set_mtime(
            &settings.inbox.join("TU Da Lat T10-2026.xlsx"),
            at("2026-11-05T09:00:00+07:00").into(),
        );
        settings.read.isolate = true;
        let started = crate::pipeline::read::worker::workers_started();
        let s = status(&settings, october, now, no_daemon()).unwrap();
        assert_eq!(crate::pipeline::read::worker::workers_started(), started);

        let unchecked: Vec<(&str, Option<&str>)> = s
            .unchecked
            .iter()
            .map(|f| (f.path.as_str(), f.unit.as_deref()))
            .collect();
        assert_eq!(
            unchecked,
            [
                ("BaoLam_T10.xlsx", Some("bao-lam")),
                ("TU Da Lat T10-2026.xlsx", Some("da-lat")),
            ]
        );
        let bao_lam = unit(&s, "bao-lam");
        assert_eq!(
            (bao_lam.status, bao_lam.label),
            (UnitStatus::Missing, "Có tệp chưa kiểm tra")
        );
        // Its only file changed: Đà Lạt has no checked file now.
        assert_eq!(unit(&s, "da-lat").label, "Có tệp chưa kiểm tra");
        assert_eq!(s.reported, 1, "only Đơn Dương is known to be accepted");

        // (Whatever answers on the control port of this machine: the text without a daemon.)
        let mut s = s;
        s.daemon.running = false;
        let text = crate::cli::text::status_text(&settings, &s);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.contains(&"Đơn vị có báo cáo: 1/18")
                && lines.contains(&"Tệp chưa kiểm tra: 2 (mới hoặc đã thay đổi từ lần kiểm tra trước; chưa tính ở trên)"),
            "{text}"
        );
        let at_bao_lam = lines
            .iter()
            .position(|l| l.starts_with(" 9. Huyện ủy Bảo Lâm: Có tệp chưa kiểm tra"))
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(
            lines[at_bao_lam + 1],
            "      - Chưa kiểm tra: BaoLam_T10.xlsx (nhận lúc 10:05 02/11/2026)"
        );
        assert!(
            text.contains(
                "Các tệp chưa kiểm tra không được đọc ở đây (tonghop status chỉ dùng kết quả kiểm tra đã lưu); \
                 chúng sẽ được kiểm tra khi tonghop daemon chạy"
            ) && text.contains("tonghop check \"<tệp>\""),
            "{text}"
        );
        assert!(!text.contains("chưa rõ của đơn vị nào"), "{text}");
    }
}
