//! One run: the lock, the store, the stages in order, the outputs, the outbox. Every trigger
//! (the schedule, `tonghop run`, the control API) comes here through `app`.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::clock::{Clock, local, local_text};
use crate::config::Settings;
use crate::matching::UnitMatcher;
use crate::period::Period;
use crate::pipeline::consolidate::{self, Consolidation, Frame, Ignored, Inspected};
use crate::pipeline::intake::{self, Submission};
use crate::pipeline::read::worker as isolate;
use crate::pipeline::summary::{self, MailRecord};
use crate::pipeline::{Progress, compose as deliver, compose::supplement, render};
use crate::state::store::{DeliveryKind, RunStatus, Store};

/// What started a run: the one enum the store records (a supplementary report's run is
/// recorded as [`Trigger::Supplement`], whatever started it).
pub use crate::state::store::Trigger;

#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The period to consolidate; `None` = the one that ended most recently.
    pub period: Option<Period>,
    /// What asked for it; a supplementary report is asked with `supplement` (and recorded as
    /// [`Trigger::Supplement`]).
    pub trigger: Trigger,
    /// Write workbook, summary and .eml into the output folder; send nothing, record nothing.
    pub dry_run: bool,
    /// Send even though the period's report was already sent.
    pub resend: bool,
    /// Send a supplementary report: what changed since the period's report was sent.
    pub supplement: bool,
}

#[derive(Debug)]
pub struct RunOutcome {
    /// The run's id in the state store (`None` for a dry run).
    pub run_id: Option<i64>,
    pub consolidation: Consolidation,
    pub workbook: PathBuf,
    pub summary: PathBuf,
    pub mail: MailRecord,
    /// Time spent in each stage, in order.
    pub timings: Vec<(&'static str, Duration)>,
    /// Files still being copied (modified less than `settle_seconds` ago): not read this time.
    pub copying: usize,
    /// For a supplementary report, its number ("bổ sung lần N").
    pub supplement: Option<u32>,
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

pub use crate::app::error::RunError;

/// One run: scan, read, check, consolidate, write the workbook and summary, mail it. Every
/// trigger (the schedule, `tonghop run`, the control endpoint) calls this.
///
/// Except in a dry run, the run holds the run lock, is recorded in the state store, archives
/// every file it read, and queues the mail in the outbox before the first attempt, so a crash
/// at any point neither loses the report nor sends it twice.
pub fn run_once(
    settings: &Settings,
    req: &RunRequest,
    clock: &dyn Clock,
    progress: Progress<'_>,
) -> Result<RunOutcome, RunError> {
    let now = clock.now();
    let period = req
        .period
        .unwrap_or_else(|| crate::config::collection::current(settings, now));
    if req.dry_run {
        return run_body(settings, req, period, clock, progress, None);
    }
    // (A dry-run supplement reads the store without the lock: it changes nothing.)
    let _lock = crate::state::lock::RunLock::acquire(&settings.data, crate::state::lock::RUN_WAIT)?;
    let store = Store::open(&settings.data)?;
    // Under the lock, a run still marked running belongs to a process that died.
    crate::state::store::close_interrupted_runs(&store, clock.now())?;
    if req.supplement {
        supplement_allowed(settings, &store, period)?;
    } else if !req.resend
        && let Some(d) = store.report_for(&period.key())?
    {
        return Err(RunError::AlreadyMade {
            period,
            state: crate::app::mail_state::delivery_state(settings, &d),
            delivery: Box::new(d),
        });
    }
    let trigger = if req.supplement {
        Trigger::Supplement
    } else {
        req.trigger
    };
    let run_id = store.start_run(trigger, &period.key(), clock.now())?;
    // One event, in the order things happen: the run starts when it is recorded (the body
    // logs "run started" itself only for a dry run, which records nothing). The trigger is
    // named as the store names it ("supplement" included).
    tracing::info!(
        run_id,
        period = %period,
        trigger = trigger.as_str(),
        dry_run = false,
        inbox = %settings.inbox.display(),
        "run started"
    );
    let result = run_body(
        settings,
        req,
        period,
        clock,
        progress,
        Some((&store, run_id)),
    );
    let (outcome, error, workbook, summary) = match &result {
        Ok(o) => (
            if o.has_rejections() {
                RunStatus::RejectedFiles
            } else {
                RunStatus::Ok
            },
            None,
            Some(o.workbook.display().to_string()),
            std::fs::read_to_string(&o.summary).ok(),
        ),
        Err(RunError::NothingToSupplement { .. }) => (RunStatus::NothingChanged, None, None, None),
        Err(e @ RunError::MailQueued { .. }) => (
            RunStatus::Skipped,
            Some(crate::app::explain::run_error(e)),
            None,
            None,
        ),
        // The history shows it to the clerk.
        Err(e) => (
            RunStatus::Failed,
            Some(crate::app::explain::run_error(e)),
            None,
            None,
        ),
    };
    store.finish_run(
        run_id,
        clock.now(),
        outcome,
        error.as_deref(),
        workbook.as_deref(),
        summary.as_deref(),
    )?;
    result
}

fn run_body(
    settings: &Settings,
    req: &RunRequest,
    period: Period,
    clock: &dyn Clock,
    progress: Progress<'_>,
    recorded: Option<(&Store, i64)>,
) -> Result<RunOutcome, RunError> {
    let now = clock.now();
    if recorded.is_none() {
        tracing::info!(period = %period, trigger = req.trigger.as_str(), dry_run = req.dry_run, inbox = %settings.inbox.display(), "run started");
    }
    let archive = recorded.is_some().then_some(settings.data.as_path());
    let Consolidated {
        consolidation,
        elsewhere,
        archived,
        checks,
        mut timings,
        copying,
    } = consolidate_period(settings, period, now, progress, archive)?;
    // A supplementary report: what changed and which one it is, known before anything is
    // written (its workbook's title and file name say "bổ sung lần N").
    let plan = if req.supplement {
        let store = recorded.map(|(s, _)| s);
        Some(plan_supplement(
            settings,
            store,
            &consolidation,
            copying,
            period,
        )?)
    } else {
        None
    };

    let t = Instant::now();
    let mut dir = settings.out.join(period.key());
    if recorded.is_none() && report_went_out(settings, &period) {
        // A dry run never writes over the files of a report that went out.
        dir = dir.join(PREVIEW_DIR);
    }
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
    let name = match &plan {
        Some(p) => supplement::mark_file_name(&name, p.follow_up.number),
        None => name,
    };
    let workbook_path = dir.join(crate::template::safe_file_name(&name));
    let report = plan
        .as_ref()
        .map(|p| supplement::report_settings(&settings.report, p.follow_up.number));
    let report = report.as_ref().unwrap_or(&settings.report);
    let mut workbook = render::render(&consolidation, &settings.form, report)?;
    crate::state::atomic::save_workbook(&mut workbook, &workbook_path)?;
    drop(workbook);
    timings.push(("render", t.elapsed()));

    let t = Instant::now();
    let bytes = std::fs::read(&workbook_path).map_err(|e| RunError::Output {
        path: workbook_path.clone(),
        source: e,
    })?;
    // The mail is dated by the run's clock, in the office's zone; its Message-ID's random part
    // is drawn here, at the edge, so composing stays pure.
    let composed_at = clock.now().with_timezone(&settings.timezone).fixed_offset();
    let nonce = deliver::Nonce::random();
    let outgoing = match &plan {
        Some(p) => supplement::compose_supplement(
            &consolidation,
            &settings.form,
            &settings.mail,
            &p.changes,
            &p.follow_up,
            bytes,
            composed_at,
            nonce,
        )?,
        None => deliver::compose(
            &consolidation,
            &settings.form,
            &settings.mail,
            bytes,
            composed_at,
            nonce,
        )?,
    };
    let kind = if req.supplement {
        DeliveryKind::Supplement
    } else {
        DeliveryKind::Report
    };
    let mail = match recorded {
        None => {
            let eml = crate::mail::transport::write_eml(&outgoing, &dir)?;
            MailRecord {
                transport: "dry-run".into(),
                subject: outgoing.subject.clone(),
                message_id: outgoing.message_id.clone(),
                recipients: outgoing.recipients.clone(),
                eml: Some(eml.display().to_string()),
                sent: false,
                status: "dry_run".into(),
                error: None,
                refused: Vec::new(),
            }
        }
        Some((store, run_id)) => {
            // Keep the workbook as sent, then queue the mail and record the files in one go.
            let kept = settings.data.join("sent").join(period.key()).join(format!(
                "run-{run_id}-{}",
                workbook_path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            std::fs::create_dir_all(kept.parent().expect("has a folder"))
                .and_then(|()| crate::state::atomic::copy(&workbook_path, &kept))
                .map_err(|e| RunError::Output {
                    path: kept.clone(),
                    source: e,
                })?;
            let delivery = store.transaction(|s| {
                record_seen(
                    s,
                    &consolidation,
                    &elsewhere,
                    &archived,
                    &checks,
                    Some(run_id),
                    now,
                )?;
                // What this mail reports, recorded with it: a crash before the run is finished
                // must not leave a sent report without the summary later supplements compare to.
                let provisional = summary::summary(
                    &consolidation,
                    &settings.form,
                    &workbook_path.display().to_string(),
                    None,
                );
                s.set_run_summary(
                    run_id,
                    &workbook_path.display().to_string(),
                    &provisional.to_json(),
                )?;
                crate::mail::outbox::enqueue(
                    settings,
                    s,
                    &outgoing,
                    crate::mail::outbox::Purpose {
                        kind,
                        period: &period.key(),
                        unit: None,
                        run_id: Some(run_id),
                    },
                    now,
                )
                .map_err(|e| match e {
                    crate::mail::outbox::OutboxError::Store(e) => e,
                    other => crate::state::store::StoreError::Spool(other.to_string()),
                })
            })?;
            crate::crashpoint::here("mail-committed");
            crate::mail::outbox::deliver_due(settings, store, clock.now())?;
            let row = store.delivery(delivery)?.expect("just recorded");
            let eml = match &settings.mail.transport {
                crate::config::Transport::File { dir } => Some(
                    crate::mail::transport::file_transport_path(dir, &row.message_id)
                        .display()
                        .to_string(),
                ),
                crate::config::Transport::Smtp(_) => None,
            };
            MailRecord {
                transport: match settings.mail.transport {
                    crate::config::Transport::File { .. } => "file".into(),
                    crate::config::Transport::Smtp(_) => "smtp".into(),
                },
                subject: row.subject.clone(),
                message_id: row.message_id.clone(),
                recipients: row.recipients.clone(),
                eml: eml.filter(|_| row.status == crate::state::store::DeliveryStatus::Sent),
                sent: row.status == crate::state::store::DeliveryStatus::Sent,
                status: row.status.as_str().into(),
                error: row.last_error.clone(),
                refused: row.refused.clone(),
            }
        }
    };
    timings.push(("deliver", t.elapsed()));

    // A supplement's summary goes beside its workbook, marked as it is: summary.json stays the
    // report's (a failed supplement must not make it describe a mail that never went out).
    let summary_path = dir.join(match &plan {
        Some(p) => supplement::mark_file_name(SUMMARY_FILE, p.follow_up.number),
        None => SUMMARY_FILE.to_owned(),
    });
    let mut doc = summary::summary(
        &consolidation,
        &settings.form,
        &workbook_path.display().to_string(),
        Some(&mail),
    );
    // How long each stage took, for monitoring and the benchmark.
    doc.timings = Some(
        timings
            .iter()
            .map(|(stage, d)| (stage.to_string(), d.as_secs_f64()))
            .collect(),
    );
    let text = doc.to_json_pretty();
    crate::state::atomic::write(&summary_path, text.as_bytes()).map_err(|e| RunError::Output {
        path: summary_path.clone(),
        source: e,
    })?;

    tracing::info!(
        period = %period,
        reported = consolidation.accepted_count(),
        roster = consolidation.units.len(),
        workbook = %workbook_path.display(),
        mail = %mail.status,
        "run finished"
    );
    Ok(RunOutcome {
        run_id: recorded.map(|(_, id)| id),
        consolidation,
        workbook: workbook_path,
        summary: summary_path,
        mail,
        timings,
        copying,
        supplement: plan.as_ref().map(|p| p.follow_up.number),
    })
}

/// A supplementary report run: [`run_once`] with `supplement` set.
pub fn run_supplement(
    settings: &Settings,
    req: &RunRequest,
    clock: &dyn Clock,
    progress: Progress<'_>,
) -> Result<RunOutcome, RunError> {
    run_once(
        settings,
        &RunRequest {
            supplement: true,
            ..req.clone()
        },
        clock,
        progress,
    )
}

/// The summary document of a run, in `out/<period>/` (a supplement's is marked "(bổ sung lần N)").
pub const SUMMARY_FILE: &str = "summary.json";

/// Whether a supplementary report may be made for `period` now: the period's report was sent,
/// and no report or supplement of the period still waits in the queue (a new one made beside it
/// would go out with it, once the server answers again, under the next number).
fn supplement_allowed(settings: &Settings, store: &Store, period: Period) -> Result<(), RunError> {
    if let Some(q) = store.latest_queued(&period.key())? {
        return Err(RunError::MailQueued {
            period,
            kind: q.kind,
            number: q.supplement_number,
            run_id: q.run_id,
            delivery: q.id,
            since: local_text(settings, &q.created_at),
            attempts: q.attempts,
            last_error: q.last_error,
        });
    }
    if store.latest_sent(&period.key())?.is_none() {
        return Err(RunError::NotSentYet { period });
    }
    Ok(())
}

/// What a supplementary report says and follows up.
struct SupplementPlan {
    changes: supplement::Changes,
    follow_up: supplement::FollowUp,
}

/// Compare with the latest report sent for `period` and number this supplementary report: one
/// more than the supplementary reports made for the period before (a resend of one is the same
/// report; one that failed still has its number, since the operator may resend it later and two
/// different mails must never both say "lần 1").
fn plan_supplement(
    settings: &Settings,
    store: Option<&Store>,
    consolidation: &Consolidation,
    copying: usize,
    period: Period,
) -> Result<SupplementPlan, RunError> {
    let store_for_read;
    let store = match store {
        Some(s) => s,
        None => {
            store_for_read = Store::open(&settings.data)?;
            &store_for_read
        }
    };
    // (Checked again for a dry run, which reads the store without the run lock.)
    supplement_allowed(settings, store, period)?;
    let Some(sent) = store.report_for(&period.key())? else {
        return Err(RunError::NotSentYet { period });
    };
    // Nothing is queued (above): the latest sent is the latest that is sent or on its way.
    let previous = latest_sent_summary(store, &period)?;
    let changes = supplement::changes(previous.as_ref(), consolidation, &settings.form);
    if changes.is_empty() {
        return Err(RunError::NothingToSupplement { period, copying });
    }
    let first_sent_at = sent
        .sent_at
        .unwrap_or(sent.created_at)
        .with_timezone(&settings.timezone)
        .fixed_offset();
    let earlier: std::collections::BTreeSet<i64> = store
        .deliveries_for(&period.key(), DeliveryKind::Supplement)?
        .iter()
        .map(|d| d.run_id.unwrap_or(-d.id))
        .collect();
    Ok(SupplementPlan {
        changes,
        follow_up: supplement::FollowUp {
            number: earlier.len() as u32 + 1,
            first_sent_at,
            original_message_id: Some(sent.message_id),
        },
    })
}

/// The summary document of the latest report (or supplementary report) of `period` that was
/// sent; `None` when the store has none for it, or one that does not read as a summary.
pub fn latest_sent_summary(
    store: &Store,
    period: &Period,
) -> Result<Option<summary::Summary>, RunError> {
    let Some(d) = store.latest_sent(&period.key())? else {
        return Ok(None);
    };
    let Some(run) = d.run_id else { return Ok(None) };
    Ok(store
        .run_summary(run)?
        .and_then(|t| match summary::Summary::from_json(&t) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(run_id = run, period = %period, error = %e, "the summary recorded for the report that was sent does not read; comparing with nothing");
                None
            }
        }))
}

/// A consolidation and what it took.
pub struct Consolidated {
    pub consolidation: Consolidation,
    /// Files seen that belong to other periods (`consolidate::belonging_to`): recorded in the
    /// state store, not reported.
    pub elsewhere: Vec<consolidate::FileRecord>,
    /// Archive copy (relative to the data folder) of each file read, by inbox path.
    pub archived: std::collections::HashMap<String, PathBuf>,
    /// What checking each file read said, by inbox path, before consolidation judged it.
    pub checks: std::collections::HashMap<String, OwnCheck>,
    pub timings: Vec<(&'static str, Duration)>,
    /// Files skipped because they were modified less than `settle_seconds` ago (still being
    /// copied, as far as anyone can tell): not read this time.
    pub copying: usize,
}

/// Scan the inbox, read, check and identify every file, and consolidate the period as of `now`.
/// Writes nothing but archive copies (when `archive` names the data folder). Used by runs, by
/// reminders and by the inbox check (the daemon's scan, `status --check`).
pub fn consolidate_period(
    settings: &Settings,
    period: Period,
    now: DateTime<Utc>,
    progress: Progress<'_>,
    archive: Option<&Path>,
) -> Result<Consolidated, RunError> {
    let mut timings = Vec::new();
    let t = Instant::now();
    let mut scan = intake::scan(&settings.inbox, now.into(), settings.settle)?;
    timings.push(("intake", t.elapsed()));

    crate::pipeline::read_named_documents(settings, &mut scan);

    let t = Instant::now();
    let (inspected, archived) = inspect_all(settings, &scan.submissions, progress, archive);
    timings.push(("read+validate", t.elapsed()));
    // Every file failing in the reader is the program's problem, not the units': no report
    // that shows every unit as rejected is made from that.
    let reader_failed = |i: &Inspected| {
        i.findings
            .iter()
            .any(|f| matches!(f.kind.as_ref(), "reader_crash" | "reader_unavailable"))
    };
    if inspected.len() >= 2 && inspected.iter().all(reader_failed) {
        return Err(RunError::ReadersFailing {
            files: inspected.len(),
        });
    }

    let checks = inspected
        .iter()
        .map(|i| {
            let check = OwnCheck {
                examined: i.content.is_some(),
                findings: i.findings.clone(),
            };
            (i.rel.clone(), check)
        })
        .collect();

    let t = Instant::now();
    let copying = scan.skipped.iter().filter(|s| s.settling).count();
    let (consolidation, elsewhere) = judge(settings, period, now, inspected, scan.skipped);
    timings.push(("consolidate", t.elapsed()));
    Ok(Consolidated {
        consolidation,
        elsewhere,
        archived,
        checks,
        timings,
        copying,
    })
}

/// Judge the checked files against each other for `period` as of `now`: which belong to it
/// (`consolidate::belonging_to`, the collection windows) and each unit's report among them
/// (`consolidate::consolidate`). Returns the consolidation and the files of other periods.
/// Runs and scans call it on files just read, `status` on files rebuilt from the store: one rule.
pub fn judge(
    settings: &Settings,
    period: Period,
    now: DateTime<Utc>,
    inspected: Vec<Inspected>,
    skipped: Vec<intake::Skipped>,
) -> (Consolidation, Vec<consolidate::FileRecord>) {
    let ignored = skipped
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
    let collection = crate::config::collection::Collection::of(settings);
    let belonging =
        consolidate::belonging_to(period, |t| collection.period_of(t), inspected, ignored);
    let consolidation = consolidate::consolidate(&frame, belonging.files, belonging.ignored);
    (consolidation, belonging.elsewhere)
}

/// What checking one file said before consolidation judged it against the others: whether a
/// report was read from it, and its own findings. Recorded with the file, so that `status` can
/// choose each unit's report again from the store ([`crate::app::operator::status`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnCheck {
    pub examined: bool,
    pub findings: Vec<crate::finding::Finding>,
}

/// Record every file a consolidation saw (the period's and the other periods'), with what its
/// check said and its archive copy: by a run (`run_id`) or by the daemon's scan (`None`).
pub fn record_seen(
    store: &Store,
    consolidation: &Consolidation,
    elsewhere: &[consolidate::FileRecord],
    archived: &std::collections::HashMap<String, PathBuf>,
    checks: &std::collections::HashMap<String, OwnCheck>,
    run_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), crate::state::store::StoreError> {
    for f in consolidation.files.iter().chain(elsewhere) {
        let findings = serde_json::to_string(&f.findings).expect("findings serialise");
        let archive_path = archived.get(&f.path).map(|p| p.display().to_string());
        let check = checks.get(&f.path);
        let own = check.map(|c| serde_json::to_string(&c.findings).expect("findings serialise"));
        // Only a file that was checked is found again by its metadata.
        let mtime_ns = f.received.and_then(|r| r.timestamp_nanos_opt());
        store.record_file(
            &crate::state::store::FileSeen {
                path: &f.path,
                sha256: f.sha256.as_deref().unwrap_or(""),
                size: f.size,
                mtime: f.received.unwrap_or(consolidation.generated_at),
                unit: f.unit.as_deref(),
                period: f.period.map(|p| p.key()).as_deref(),
                outcome: outcome_str(f.outcome),
                findings_json: &findings,
                archive_path: archive_path.as_deref(),
                check: match (check, &own, mtime_ns) {
                    (Some(c), Some(own), Some(mtime_ns)) => Some(crate::state::store::FileCheck {
                        mtime_ns,
                        examined: c.examined,
                        findings_json: own,
                    }),
                    _ => None,
                },
            },
            run_id,
            now,
        )?;
    }
    Ok(())
}

fn outcome_str(o: consolidate::FileOutcome) -> &'static str {
    use consolidate::FileOutcome::*;
    match o {
        Accepted => "accepted",
        Superseded => "superseded",
        OtherPeriod => "other_period",
        Rejected => "rejected",
        Unidentified => "unidentified",
        Ignored => "ignored",
    }
}

/// Where a dry run writes, under `out/<period>/`, once the period's report went out.
pub const PREVIEW_DIR: &str = "preview";

/// Whether a report or supplement of `period` was sent (or is queued): then its files in
/// `out/<period>/` are what went out. A store that cannot be read counts as yes.
fn report_went_out(settings: &Settings, period: &Period) -> bool {
    if !settings.data.join(crate::state::store::FILE_NAME).is_file() {
        return false;
    }
    let key = period.key();
    match Store::open(&settings.data) {
        Err(_) => true,
        Ok(s) => {
            !matches!(s.report_for(&key), Ok(None)) || !matches!(s.latest_sent(&key), Ok(None))
        }
    }
}

/// Read, validate and identify every submission, on all cores. With `archive` (the data
/// folder), the bytes read of each file are archived; the map gives each file's archive copy.
fn inspect_all(
    settings: &Settings,
    subs: &[Submission],
    progress: Progress<'_>,
    archive: Option<&Path>,
) -> (Vec<Inspected>, std::collections::HashMap<String, PathBuf>) {
    let matcher = UnitMatcher::new(&settings.roster);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(subs.len().max(1));
    let mut results: Vec<(usize, Inspected, Option<PathBuf>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    let mut reader = isolate::Reader::new(&settings.read);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= subs.len() {
                            break;
                        }
                        let (ins, archived) =
                            inspect_and_archive(settings, &matcher, &mut reader, &subs[i], archive);
                        mine.push((i, ins, archived));
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
    results.sort_by_key(|(i, _, _)| *i);
    let mut archived = std::collections::HashMap::new();
    let inspected = results
        .into_iter()
        .map(|(_, ins, a)| {
            if let Some(a) = a {
                archived.insert(ins.rel.clone(), a);
            }
            ins
        })
        .collect();
    (inspected, archived)
}

/// [`inspect`], keeping a copy of the bytes read in the archive (when `archive` is given).
fn inspect_and_archive(
    settings: &Settings,
    matcher: &UnitMatcher,
    reader: &mut isolate::Reader,
    sub: &Submission,
    archive: Option<&Path>,
) -> (Inspected, Option<PathBuf>) {
    let (ins, bytes) = crate::pipeline::inspect_bytes(settings, matcher, reader, sub);
    let (Some(data), Some(bytes), Some(sha)) = (archive, bytes, ins.sha256.as_deref()) else {
        return (ins, None);
    };
    let rel = crate::state::archive::relative_path(
        ins.period.map(|p| p.key()).as_deref(),
        ins.unit.as_deref(),
        sha,
        &sub.extension,
    );
    match crate::state::archive::store(data, &rel, &bytes) {
        Ok(_) => (ins, Some(rel)),
        Err(e) => {
            // Not archiving must not go unnoticed, but the report is still made.
            tracing::error!(file = %sub.rel, error = %e, "cannot archive a copy of the file");
            (ins, None)
        }
    }
}
