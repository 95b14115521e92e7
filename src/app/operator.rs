//! Operator commands that work beside a running daemon (and without one): `status` (the period
//! as it stands now), `history` (runs and mails), `resend` (a run's report again), and what an
//! answer of the daemon to `trigger` means. Each builds a value; the CLI prints it as Vietnamese
//! text or as JSON.
//!
//! None of them starts a second way to make a report: `status` only consolidates in memory
//! (`crate::app::run::consolidate_period`, nothing written); `resend` sends bytes already spooled,
//! through the outbox, under the run lock like every delivery.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

use crate::app::exit;
use crate::app::mail_state::{delivered_to, refused_text};
pub use crate::app::mail_state::{delivery_state, kind_label, mail_kind_label, mail_label};
use crate::app::run::RunError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::finding::{Finding, Severity};
use crate::mail::outbox::{self, Attempt, OutboxError};
use crate::period::Period;
use crate::pipeline::consolidate::{FileOutcome, UnitStatus};
use crate::pipeline::{self, Progress, compose as deliver};
use crate::state::lock::{LockError, RunLock};
use crate::state::store::{
    self, DeliveryKind, DeliveryRow, DeliveryStatus, NewDelivery, RunRow, RunStatus, Store,
    StoreError, Trigger,
};

/// "08:00 04/11/2026".
fn hm(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M %d/%m/%Y").to_string()
}

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
    pub store: StoreState,
    pub report: ReportState,
    /// "Báo cáo đến sau khi đã gửi".
    pub late_after_send: Vec<LateFile>,
    /// Every mail still waiting for an attempt (any period, any kind).
    pub pending: Vec<DeliveryRow>,
    pub next: Vec<NextJob>,
    pub daemon: DaemonState,
}

/// The period as it stands at `now`: consolidated from the inbox in memory (nothing written,
/// nothing archived), with what the state store says was sent. An inbox that cannot be read
/// (missing, unmounted) does not hide the store: it becomes `inbox_problem`, with no units.
pub fn status(
    settings: &Settings,
    period: Period,
    now: DateTime<Utc>,
    progress: Progress<'_>,
    daemon: DaemonState,
) -> Result<Status, RunError> {
    let (c, inbox_problem) =
        match crate::app::run::consolidate_period(settings, period, now, progress, None) {
            Ok(x) => (x.consolidation, None),
            Err(e @ RunError::Intake(_)) => (
                empty_consolidation(settings, period, now),
                Some(crate::app::explain::run_error(&e)),
            ),
            Err(e) => return Err(e),
        };
    let findings_of = |path: &str| {
        c.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.findings.clone())
            .unwrap_or_default()
    };
    let units: Vec<UnitLine> = c
        .units
        .iter()
        .filter(|_| inbox_problem.is_none())
        .map(|u| UnitLine {
            id: u.id.clone(),
            name: u.name.clone(),
            group: u.group.clone(),
            status: u.status,
            label: u.status_label(),
            late: u.late,
            file: u.file.as_ref().map(|f| f.path.clone()),
            received: u.file.as_ref().map(|f| f.received),
            findings: u
                .file
                .as_ref()
                .map(|f| findings_of(&f.path))
                .unwrap_or_default(),
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

    let (mut store_state, store) = open_existing(settings);
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
        at: spec.next_after(&local).map(|t| t.fixed_offset()),
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
fn older_than(d: &DeliveryRow, latest: Option<&DeliveryRow>) -> bool {
    d.kind.carries_figures()
        && matches!((d.run_id, latest.and_then(|l| l.run_id)), (Some(a), Some(b)) if a < b)
}

/// `tonghop status` as text.
pub fn status_text(settings: &Settings, s: &Status) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    // The inbox problem first: the operator needs to see it before anything else.
    if let Some(problem) = &s.inbox_problem {
        let _ = writeln!(
            o,
            "{problem} Chưa biết tình hình nộp của các đơn vị; dưới đây là những gì đã lưu \
             (thư đã gửi, thư đang chờ, lịch)."
        );
    }
    let _ = writeln!(
        o,
        "Kỳ báo cáo: {} ({}), hạn nộp {}; tình hình lúc {}",
        s.period_label,
        s.period.key(),
        hm(&s.deadline),
        hm(&s.now)
    );
    if s.inbox_problem.is_some() {
        let _ = writeln!(
            o,
            "Đơn vị có báo cáo: chưa biết (không đọc được thư mục nhận báo cáo)"
        );
    } else {
        let _ = writeln!(o, "Đơn vị có báo cáo: {}/{}", s.reported, s.units.len());
    }
    let _ = writeln!(o);
    let width = s.units.len().to_string().len();
    for (i, u) in s.units.iter().enumerate() {
        let mut line = format!("{:>width$}. {}: {}", i + 1, u.name, u.label);
        if let (Some(f), Some(r)) = (&u.file, &u.received) {
            let _ = write!(line, " ({f}, nhận lúc {})", hm(r));
        }
        let warnings = u
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        if u.status == UnitStatus::Accepted && warnings > 0 {
            let _ = write!(line, ", {warnings} cảnh báo");
        }
        let _ = writeln!(o, "{line}");
        if u.status == UnitStatus::Rejected {
            for f in u.findings.iter().filter(|f| f.severity != Severity::Info) {
                let _ = writeln!(
                    o,
                    "{:width$}    - {}: {}",
                    "",
                    f.severity.label(),
                    f.message
                );
            }
        }
    }
    if !s.unidentified.is_empty() {
        let _ = writeln!(o, "\nTệp không xác định được đơn vị:");
        for f in &s.unidentified {
            let when = f.received.as_ref().map(hm).unwrap_or_default();
            let _ = writeln!(o, "  - {} (nhận lúc {when})", f.path);
            for m in f.findings.iter().filter(|m| m.severity != Severity::Info) {
                let _ = writeln!(o, "      {}: {}", m.severity.label(), m.message);
            }
        }
    }

    let _ = writeln!(o, "\nBáo cáo tổng hợp {}:", s.period_label);
    if let StoreState::Missing { path } = &s.store {
        let _ = writeln!(
            o,
            "  Chưa gửi. (Chưa có dữ liệu trạng thái: {path} chưa có, chưa chạy lần nào với thư mục dữ liệu này.)"
        );
    } else if let StoreState::Error { error, .. } = &s.store {
        let _ = writeln!(o, "  {error}");
    } else {
        match &s.report.sent {
            Some(d) => {
                let _ = writeln!(
                    o,
                    "  Đã gửi{} lúc {}{}, tới {}{}, Message-ID {}, máy chủ thư trả lời: {}",
                    d.supplement_number
                        .map(|n| format!(" (bổ sung lần {n})"))
                        .unwrap_or_default(),
                    d.sent_at
                        .as_ref()
                        .map(|t| crate::clock::local_text(settings, t))
                        .unwrap_or_default(),
                    d.run_id
                        .map(|r| format!(" (lần chạy {r})"))
                        .unwrap_or_default(),
                    delivered_to(d).join(", "),
                    refused_text(d),
                    d.message_id,
                    d.server_reply.as_deref().unwrap_or("không ghi lại")
                );
            }
            None => {
                let _ = writeln!(o, "  Chưa gửi.");
            }
        }
        for d in s
            .report
            .deliveries
            .iter()
            .filter(|d| d.status != DeliveryStatus::Sent)
        {
            let _ = writeln!(
                o,
                "  {}{}: {}",
                mail_label(d),
                d.run_id
                    .map(|r| format!(" (lần chạy {r})"))
                    .unwrap_or_default(),
                delivery_state(settings, d)
            );
            if d.status == DeliveryStatus::Failed
                && let Some(r) = d.run_id
            {
                match s.report.sent.as_ref().filter(|l| older_than(d, Some(l))) {
                    // Sending it now would put older figures after newer ones.
                    Some(newer) => {
                        let _ = writeln!(
                            o,
                            "    Đã có thư mới hơn được gửi ({}): thư này mang số liệu cũ, không cần gửi lại.",
                            mail_label(newer).to_lowercase()
                        );
                    }
                    None => {
                        let _ = writeln!(o, "    Gửi lại sau khi khắc phục: tonghop resend {r}");
                    }
                }
            }
        }
    }
    if !s.late_after_send.is_empty() {
        let _ = writeln!(
            o,
            "\nBáo cáo đến sau khi đã gửi (chưa có trong báo cáo đã gửi, số liệu {}):",
            s.report
                .content_as_of
                .as_ref()
                .map(|t| format!("tính đến {}", crate::clock::local_text(settings, t)))
                .unwrap_or_default()
        );
        for l in &s.late_after_send {
            let _ = writeln!(
                o,
                "  - {}: {} (nhận lúc {})",
                l.unit_name,
                l.file,
                hm(&l.received)
            );
        }
        let _ = writeln!(
            o,
            "  Gửi báo cáo có các số liệu này: tonghop run --period {} --resend",
            s.period.key()
        );
    }
    let others: Vec<&DeliveryRow> = s
        .pending
        .iter()
        .filter(|p| !s.report.deliveries.iter().any(|d| d.id == p.id))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(o, "\nThư khác đang chờ gửi:");
        for d in others {
            let _ = writeln!(
                o,
                "  - {} kỳ {}: {}",
                kind_label(d.kind),
                d.period,
                delivery_state(settings, d)
            );
        }
    }
    let daemon = if s.daemon.running {
        format!(
            "tonghop daemon đang chạy{}",
            s.daemon
                .pid
                .map(|p| format!(", pid {p}"))
                .unwrap_or_default()
        )
    } else if s.daemon.port == 0 || settings.daemon.control_port == 0 {
        // `control_port = 0`: the port is chosen at start; none is known while it is stopped
        // (the one a stopped daemon last used means nothing).
        "tonghop daemon KHÔNG chạy: lịch chỉ được thực hiện khi daemon chạy".to_owned()
    } else {
        format!(
            "tonghop daemon KHÔNG chạy trên cổng {}: lịch chỉ được thực hiện khi daemon chạy",
            s.daemon.port
        )
    };
    let _ = writeln!(o, "\nLịch tiếp theo ({daemon}):");
    for j in &s.next {
        let _ = writeln!(
            o,
            "  {:<13} {}",
            format!("{}:", j.label),
            j.at.as_ref().map(hm).unwrap_or_else(|| "không có".into())
        );
    }
    o
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

fn trigger_label(t: Trigger) -> &'static str {
    match t {
        Trigger::Manual => "thủ công",
        Trigger::Schedule => "theo lịch",
        Trigger::CatchUp => "bù lịch bị lỡ",
        Trigger::Supplement => "báo cáo bổ sung",
    }
}

fn outcome_label(o: RunStatus) -> &'static str {
    match o {
        RunStatus::Running => "đang chạy",
        RunStatus::Ok => "xong",
        RunStatus::RejectedFiles => "xong, có tệp bị từ chối",
        RunStatus::Failed => "LỖI",
        RunStatus::Interrupted => "bị ngắt (chương trình dừng giữa chừng)",
        RunStatus::Skipped => "bỏ qua",
        RunStatus::NothingChanged => "không có gì thay đổi, không gửi",
    }
}

/// `tonghop history` as text.
pub fn history_text(settings: &Settings, h: &History) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    match &h.store {
        StoreState::Missing { path } => {
            let _ = writeln!(o, "Chưa có lần chạy nào ({path} chưa có).");
            return o;
        }
        StoreState::Error { error, .. } => {
            let _ = writeln!(o, "{error}");
            return o;
        }
        StoreState::Open { .. } => {}
    }
    if h.runs.is_empty() {
        let _ = writeln!(o, "Chưa có lần chạy nào.");
    }
    let t = |s: &DateTime<Utc>| crate::clock::local_text(settings, s);
    for r in &h.runs {
        let run = &r.run;
        let label = Period::parse_key(&run.period)
            .map(|p| p.label())
            .unwrap_or_else(|| run.period.clone());
        let _ = writeln!(
            o,
            "Lần chạy {}: {} ({}), {}",
            run.id,
            label,
            run.period,
            trigger_label(run.trigger)
        );
        match &run.noticed_at {
            // When it died is not known: say when that was noticed, and what happens next.
            Some(noticed) if run.outcome == RunStatus::Interrupted => {
                let next = if !r.deliveries.is_empty() {
                    "thư đã xếp hàng của lần chạy này vẫn được gửi (xem dưới)".to_owned()
                } else if matches!(run.trigger, Trigger::Schedule | Trigger::CatchUp) {
                    "chưa kịp xếp hàng thư nào; lịch gửi tự động sẽ làm lại".to_owned()
                } else {
                    format!(
                        "chưa kịp xếp hàng thư nào; chạy lại nếu cần: tonghop run --period {}",
                        run.period
                    )
                };
                let _ = writeln!(
                    o,
                    "  Bắt đầu {}: bị ngắt (chương trình dừng giữa chừng, phát hiện lúc {}); {next}.",
                    t(&run.started_at),
                    t(noticed)
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "  Bắt đầu {}, kết thúc {}: {}",
                    t(&run.started_at),
                    run.ended_at.as_ref().map(t).unwrap_or_else(|| "-".into()),
                    outcome_label(run.outcome)
                );
            }
        }
        if let Some(e) = &run.error {
            let _ = writeln!(o, "  Lỗi: {e}");
        }
        for d in &r.deliveries {
            let _ = writeln!(o, "  {}: {}", mail_label(d), delivery_state(settings, d));
        }
    }
    if !h.other.is_empty() {
        let _ = writeln!(o, "Thư khác (không thuộc lần chạy nào):");
        for d in &h.other {
            let _ = writeln!(
                o,
                "  {} kỳ {}: {}",
                kind_label(d.kind),
                d.period,
                delivery_state(settings, d)
            );
        }
    }
    o
}

// ---------------------------------------------------------------------------------------------
// resend

/// What to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendTarget {
    /// The report of a run (`tonghop resend RUN_ID`).
    Run(i64),
    /// One mail (`tonghop resend --delivery ID`, as the alert mail suggests for mails of no run).
    Delivery(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone)]
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

impl ResendError {
    /// A run or mail that does not exist (or has nothing to send) is a wrong argument:
    /// `BAD_CONFIG`, nothing was done. A spooled message that is gone means the mail cannot be
    /// delivered: `DELIVERY_FAILED`. The rest is not the operator's doing: `INTERNAL_ERROR`.
    pub fn exit_code(&self) -> u8 {
        match self {
            ResendError::NoStore(_)
            | ResendError::UnknownRun(_)
            | ResendError::UnknownDelivery(_)
            | ResendError::NothingRefused(_)
            | ResendError::NoReport { .. } => exit::BAD_CONFIG,
            // Nothing done: newer figures already went out (as `run` on a sent period).
            ResendError::Superseded { .. } => exit::ALREADY_SENT,
            ResendError::Spool { .. } | ResendError::NoMessageId(_) => exit::DELIVERY_FAILED,
            _ => exit::INTERNAL_ERROR,
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

/// `tonghop resend` as text.
pub fn resend_text(settings: &Settings, r: &ResendOutcome) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let d = &r.delivery;
    match &r.action {
        ResendAction::Copied { original } => {
            let _ = writeln!(
                o,
                "Gửi lại {} (bản đã gửi {original}) với Message-ID mới {}.",
                mail_label(d).to_lowercase(),
                d.message_id
            );
        }
        ResendAction::ToRefused { original } => {
            let _ = writeln!(
                o,
                "Gửi lại {} (bản đã gửi {original}) cho các địa chỉ đã bị từ chối ({}), với Message-ID mới {}.",
                kind_label(d.kind).to_lowercase(),
                d.recipients.join(", "),
                d.message_id
            );
        }
        ResendAction::Requeued => {
            let _ = writeln!(
                o,
                "Gửi lại {} chưa đến tay người nhận ({}).",
                mail_label(d).to_lowercase(),
                d.message_id
            );
        }
    }
    let _ = writeln!(o, "Kết quả: {}", delivery_state(settings, d));
    if d.status == DeliveryStatus::Pending {
        let _ = writeln!(
            o,
            "Thư sẽ được gửi lại tự động khi tonghop daemon chạy, hoặc chạy lại: tonghop resend --delivery {}",
            d.id
        );
    }
    if !r.others.is_empty() {
        let _ = writeln!(
            o,
            "Đồng thời đã thử gửi {} thư khác đang chờ.",
            r.others.len()
        );
    }
    o
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
}
