//! The pipeline, in order: intake -> read -> validate -> identify -> consolidate -> render ->
//! deliver, and `run_once`, the one function every trigger calls.

pub mod consolidate;
pub mod deliver;
pub mod identify;
pub mod intake;
pub mod read;
pub mod remind;
pub mod render;
pub mod summary;
pub mod supplement;
pub mod validate;

use chrono::{DateTime, FixedOffset, Utc};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::config::Settings;
use crate::finding::{Finding, Severity};
use crate::matching::UnitMatcher;
use crate::period::Period;
use consolidate::{Consolidation, Content, Frame, Ignored, Inspected};
use intake::Submission;
use read::ReadLimits;
use summary::MailRecord;

/// Where "now" comes from, passed in so that tests control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Schedule,
    CatchUp,
}

#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The period to consolidate; `None` = the one whose deadline passed most recently.
    pub period: Option<Period>,
    pub trigger: Trigger,
    /// Write workbook, summary and .eml into the output folder; send nothing.
    pub dry_run: bool,
}

#[derive(Debug)]
pub struct RunOutcome {
    pub consolidation: Consolidation,
    pub workbook: PathBuf,
    pub summary: PathBuf,
    pub mail: MailRecord,
    /// Time spent in each stage, in order.
    pub timings: Vec<(&'static str, Duration)>,
}

impl RunOutcome {
    /// True when some unit's file was rejected or some file could not be attributed.
    pub fn has_rejections(&self) -> bool {
        use consolidate::FileOutcome;
        self.consolidation
            .files
            .iter()
            .any(|f| matches!(f.outcome, FileOutcome::Rejected | FileOutcome::Unidentified))
    }
}

/// A failure of the run itself (not of a unit's file: those are findings).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Intake(#[from] intake::IntakeError),
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lay out the workbook: {0}")]
    Render(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Save(#[from] render::SaveError),
    #[error("delivery failed: {0}")]
    Delivery(#[from] deliver::DeliveryError),
}

/// Progress of the slow part (reading files): called with (done, total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Local time of a system time in the configured zone.
pub fn local(settings: &Settings, t: SystemTime) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(t)
        .with_timezone(&settings.timezone)
        .fixed_offset()
}

/// The period a run without `--period` consolidates.
pub fn default_period(settings: &Settings, now: DateTime<Utc>) -> Period {
    settings
        .deadline
        .last_closed(settings.period_kind, &now.with_timezone(&settings.timezone))
}

/// One run: scan, read, check, consolidate, write the workbook and summary, mail it.
pub async fn run_once(
    settings: &Settings,
    req: &RunRequest,
    clock: &dyn Clock,
    progress: Progress<'_>,
) -> Result<RunOutcome, RunError> {
    let now = clock.now();
    let period = req.period.unwrap_or_else(|| default_period(settings, now));
    let mut timings = Vec::new();
    let t = Instant::now();
    tracing::info!(period = %period, trigger = ?req.trigger, dry_run = req.dry_run, inbox = %settings.inbox.display(), "run started");

    let scan = intake::scan(&settings.inbox, now.into(), settings.settle)?;
    timings.push(("intake", t.elapsed()));

    let t = Instant::now();
    let inspected = inspect_all(settings, &scan.submissions, progress);
    timings.push(("read+validate", t.elapsed()));

    let t = Instant::now();
    let ignored = scan
        .skipped
        .into_iter()
        .map(|s| Ignored {
            rel: s.rel,
            size: s.size,
            received: s.modified.map(|m| local(settings, m)),
            reason: s.reason,
        })
        .collect();
    let tz = settings.timezone;
    let frame = Frame {
        roster: &settings.roster,
        form: &settings.form,
        period,
        deadline: settings.deadline.deadline(&period, &tz).fixed_offset(),
        generated_at: now.with_timezone(&tz).fixed_offset(),
    };
    let consolidation = consolidate::consolidate(&frame, inspected, ignored);
    timings.push(("consolidate", t.elapsed()));

    let t = Instant::now();
    let dir = settings.out.join(period.key());
    std::fs::create_dir_all(&dir).map_err(|e| RunError::Output {
        path: dir.clone(),
        source: e,
    })?;
    let name = crate::template::fill(
        &settings.mail.attachment,
        &[
            ("short", &settings.form.short_title),
            ("period_key", &period.key()),
        ],
    );
    let workbook_path = dir.join(crate::template::safe_file_name(&name));
    let mut workbook = render::render(&consolidation, &settings.form, &settings.report)?;
    render::write_atomic(&mut workbook, &workbook_path)?;
    drop(workbook);
    timings.push(("render", t.elapsed()));

    let t = Instant::now();
    let bytes = std::fs::read(&workbook_path).map_err(|e| RunError::Output {
        path: workbook_path.clone(),
        source: e,
    })?;
    let outgoing = deliver::compose(&consolidation, &settings.form, &settings.mail, bytes)?;
    let mail = if req.dry_run {
        let eml = deliver::write_eml(&outgoing, &dir)?;
        MailRecord {
            transport: "dry-run".into(),
            subject: outgoing.subject.clone(),
            message_id: outgoing.message_id.clone(),
            recipients: outgoing.recipients.clone(),
            eml: Some(eml.display().to_string()),
            sent: false,
        }
    } else {
        let d = deliver::send(&outgoing, &settings.mail.transport).await?;
        MailRecord {
            transport: d.transport.to_owned(),
            subject: outgoing.subject.clone(),
            message_id: d.message_id.clone(),
            recipients: d.recipients.clone(),
            eml: d.eml_path.as_ref().map(|p| p.display().to_string()),
            sent: true,
        }
    };
    timings.push(("deliver", t.elapsed()));

    let summary_path = dir.join("summary.json");
    let doc = summary::summary(
        &consolidation,
        &settings.form,
        &workbook_path.display().to_string(),
        Some(&mail),
    );
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    write_atomic(&summary_path, text.as_bytes()).map_err(|e| RunError::Output {
        path: summary_path.clone(),
        source: e,
    })?;

    tracing::info!(
        period = %period,
        reported = consolidation.accepted_count(),
        roster = consolidation.units.len(),
        workbook = %workbook_path.display(),
        mail = %mail.transport,
        "run finished"
    );
    Ok(RunOutcome {
        consolidation,
        workbook: workbook_path,
        summary: summary_path,
        mail,
        timings,
    })
}

/// Write a file atomically: a temporary file in the same folder, synced, renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Read, validate and identify every submission, on all cores.
fn inspect_all(settings: &Settings, subs: &[Submission], progress: Progress<'_>) -> Vec<Inspected> {
    let matcher = UnitMatcher::new(&settings.roster);
    let limits = ReadLimits::default();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(subs.len().max(1));
    let mut results: Vec<(usize, Inspected)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= subs.len() {
                            break;
                        }
                        mine.push((i, inspect(settings, &matcher, &limits, &subs[i])));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, subs.len());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("inspection catches reader panics"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, x)| x).collect()
}

/// Read, validate and identify one file. Every problem becomes a finding.
pub fn inspect(
    settings: &Settings,
    matcher: &UnitMatcher,
    limits: &ReadLimits,
    sub: &Submission,
) -> Inspected {
    let received = local(settings, sub.modified);
    let mut out = Inspected {
        rel: sub.rel.clone(),
        size: sub.size,
        received,
        sha256: None,
        unit: None,
        period: None,
        content: None,
        findings: Vec::new(),
    };
    let folders = sub.folders();
    let bytes = match std::fs::read(&sub.path) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %sub.rel, error = %e, "cannot read file");
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "tệp đã bị xóa hoặc di chuyển trong lúc đọc",
                std::io::ErrorKind::PermissionDenied => "chương trình không có quyền đọc tệp",
                _ => "lỗi đọc đĩa",
            };
            out.findings.push(Finding::new(
                Severity::Error,
                "io",
                format!("Không đọc được tệp: {why}."),
            ));
            out.unit =
                identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
            return out;
        }
    };
    out.sha256 = Some(hex::encode(Sha256::digest(&bytes)));
    out.size = bytes.len() as u64;
    let wb = match read::read_workbook(&bytes, &sub.extension, limits) {
        Ok(wb) => wb,
        Err(f) => {
            out.findings.push(f);
            out.unit =
                identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
            return out;
        }
    };
    drop(bytes);
    let form = &settings.form;
    let mut ex = validate::examine(form, &wb, settings.period_kind);
    if let Some(p) = ex.period {
        validate::check_period(form, &mut ex, &p);
    }
    match identify::identify(
        matcher,
        &settings.roster,
        &folders,
        sub.stem(),
        ex.header("unit"),
    ) {
        Ok(id) => out.unit = Some(id),
        Err(f) => ex.findings.insert(0, f),
    }
    out.period = ex.period;
    let header = ex
        .header
        .iter()
        .filter(|h| h.key != "unit" && h.key != "period")
        .map(|h| {
            let label = form
                .header
                .iter()
                .find(|f| f.key == h.key)
                .map(|f| f.label.clone())
                .unwrap_or_default();
            (label, h.text.clone())
        })
        .collect();
    out.content = Some(Content {
        figures: ex.figures.take(),
        activities: std::mem::take(&mut ex.activities),
        narrative: std::mem::take(&mut ex.narrative),
        header,
    });
    out.findings.append(&mut ex.findings);
    out
}
