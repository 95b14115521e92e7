//! The daemon: a clock in front of the pipeline. The scheduler, the control endpoint and the
//! delivery timer only send `Event`s; one loop handles them, one at a time, by calling the same
//! `crate::app::run::run_once` as `tonghop run`.

pub mod control;

use chrono::{DateTime, Timelike as _, Utc};

use crate::app::run::Trigger;
use crate::period::Period;

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Consolidate and send the period that just ended.
    Send,
    /// Remind units that have not reported.
    Remind,
    /// Scan the inbox: archive new files, notice late reports, retry a failed send or reminder.
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

/// What a manual run answers: a short JSON summary of the run, or why it failed.
pub type ManualResult = Result<serde_json::Value, WorkError>;

/// Why a piece of work failed: the reason in Vietnamese for the person who asked (a `trigger`
/// client prints it as it is), and the exit code `tonghop run` gives for the same failure
/// ([`crate::app::exit::of_run_error`]), which the `trigger` client exits with. Typed, so no face
/// recognises an error by its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkError {
    pub message: String,
    pub exit_code: u8,
}

impl From<String> for WorkError {
    fn from(message: String) -> WorkError {
        WorkError {
            message,
            exit_code: crate::app::exit::INTERNAL_ERROR,
        }
    }
}

impl std::fmt::Display for WorkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything the daemon's loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A scheduled job is due (`at` is its scheduled time).
    Tick {
        job: Job,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    /// An operator asked for a run now (`tonghop trigger`).
    Manual {
        period: Option<Period>,
        resend: bool,
        reply: tokio::sync::oneshot::Sender<ManualResult>,
    },
}

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::app::run::RunError;
use crate::app::run::RunRequest;
use crate::clock::Clock;
use crate::config::{CronSpec, Settings};
use crate::state::store::Store;

/// The file in the data folder that holds the control endpoint's address while the daemon runs.
pub const CONTROL_ADDR_FILE: &str = "control.addr";

/// The port of the running daemon's control endpoint: the one it wrote to the data folder when
/// it bound (which may differ from the config with `control_port = 0`), else the configured one.
pub fn control_port(settings: &Settings) -> u16 {
    std::fs::read_to_string(settings.data.join(CONTROL_ADDR_FILE))
        .ok()
        .and_then(|a| a.trim().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .unwrap_or(settings.daemon.control_port)
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "another tonghop daemon is already running with the data folder {0} (its lock is held)"
    )]
    AlreadyRunning(PathBuf),
    #[error("cannot open {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::state::store::StoreError),
    #[error("cannot listen on 127.0.0.1:{port} for the control endpoint: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("scheduler: {0}")]
    Scheduler(String),
}

/// The period a scheduled job at `at` is about: the one that ended most recently.
pub fn period_for(settings: &Settings, at: DateTime<Utc>) -> Period {
    let local = at.with_timezone(&settings.timezone).date_naive();
    Period::containing(settings.period_kind, local).prev()
}

/// Scheduled jobs missed while the daemon was down, due for a catch-up at `now`: the last
/// occurrence of each job, if within the catch-up window and not done for its period.
pub fn missed_jobs(
    settings: &Settings,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<(Job, DateTime<Utc>)>, DaemonError> {
    let mut out = Vec::new();
    // Cron times are whole seconds: a missed job's time must not carry the fraction of `now`.
    let local_now = chrono::SubsecRound::trunc_subsecs(now.with_timezone(&settings.timezone), 0);
    for (job, spec) in [
        (Job::Send, &settings.schedule.send),
        (Job::Remind, &settings.schedule.remind),
    ] {
        let Some(last) = spec.last_at_or_before(&local_now) else {
            continue;
        };
        let last = last.with_timezone(&Utc);
        let period = period_for(settings, last);
        if store.job_done(job.as_str(), &period.key())? {
            continue;
        }
        if job == Job::Send && store.report_for(&period.key())?.is_some() {
            continue;
        }
        let age = (now - last).to_std().unwrap_or_default();
        if age <= settings.schedule.catch_up {
            out.push((job, last));
        } else {
            // Said once per daemon process, not at every scan.
            static SAID: std::sync::Mutex<Vec<(Job, DateTime<Utc>)>> =
                std::sync::Mutex::new(Vec::new());
            let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
            if !said.contains(&(job, last)) {
                said.push((job, last));
                tracing::warn!(
                    job = job.as_str(),
                    period = %period,
                    scheduled_for = %crate::clock::log_time(last),
                    "a scheduled job was missed longer ago than schedule.catch_up_days; not caught up (use `tonghop run`)"
                );
            }
        }
    }
    Ok(out)
}

/// Run the daemon until `shutdown` resolves. Every job goes through `crate::app::run::run_once` or the
/// outbox, under the run lock, so a manual `tonghop run` beside it is safe.
pub async fn run(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let settings = Arc::new(settings);
    let data = settings.data.clone();
    // Private, as `tonghop run` makes it (it holds the archive, the spool and the token).
    crate::state::atomic::create_private_dir(&data).map_err(|e| DaemonError::Io {
        path: data.clone(),
        source: e,
    })?;
    // One daemon per data folder: a second one started by mistake stops here.
    let lock_path = data.join("daemon.lock");
    let daemon_lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| DaemonError::Io {
            path: lock_path.clone(),
            source: e,
        })?;
    if daemon_lock.try_lock().is_err() {
        return Err(DaemonError::AlreadyRunning(data));
    }
    let catch_up = start_up(&settings, clock.now())?;

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let (tx, mut rx) = mpsc::channel::<Event>(64);

    // The control endpoint.
    let token = control::ensure_token(&data).map_err(|e| DaemonError::Io {
        path: data.clone(),
        source: e,
    })?;
    let port = settings.daemon.control_port;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| DaemonError::Listen { port, source: e })?;
    // The address actually bound (port 0 = any free port), for `tonghop trigger`.
    let addr = listener
        .local_addr()
        .map_err(|e| DaemonError::Listen { port, source: e })?;
    let addr_path = data.join(CONTROL_ADDR_FILE);
    crate::state::atomic::write(&addr_path, addr.to_string().as_bytes()).map_err(|e| {
        DaemonError::Io {
            path: addr_path.clone(),
            source: e,
        }
    })?;
    {
        let tx = tx.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = control::serve(listener, token, tx, stopped).await {
                tracing::error!(error = %e, "control endpoint stopped");
            }
        });
    }

    // The schedule: each tick only sends an event.
    let mut sched = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    for (job, spec) in [
        (Job::Send, &settings.schedule.send),
        (Job::Remind, &settings.schedule.remind),
        (Job::Scan, &settings.schedule.scan),
    ] {
        add_job(&sched, job, spec, settings.timezone, tx.clone()).await?;
    }
    sched
        .start()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;

    // Queued mails: at start (a restart resumes them), then every 30 seconds, or more often if
    // the first retry delay is shorter (a retry is attempted when it is due, not up to 30 s late).
    {
        let tx = tx.clone();
        let clock = clock.clone();
        let period = Duration::from_secs(30).min(settings.daemon.retry_first);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            loop {
                every.tick().await;
                let ev = Event::Tick {
                    job: Job::Deliver,
                    at: clock.now(),
                    trigger: Trigger::Schedule,
                };
                if tx.send(ev).await.is_err() {
                    break;
                }
            }
        });
    }

    // Catch-up of what was missed while down.
    for (job, at) in catch_up {
        let _ = tx
            .send(Event::Tick {
                job,
                at,
                trigger: Trigger::CatchUp,
            })
            .await;
    }

    tracing::info!(
        pid = std::process::id(),
        data = %data.display(),
        inbox = %settings.inbox.display(),
        control = %addr,
        send = %settings.schedule.send.expr,
        remind = %settings.schedule.remind.expr,
        scan = %settings.schedule.scan.expr,
        "daemon started"
    );

    let mut stop = stop_rx.clone();
    loop {
        let ev = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            ev = rx.recv() => match ev { Some(ev) => ev, None => break },
        };
        let (work, reply) = match ev {
            Event::Manual {
                period,
                resend,
                reply,
            } => (Work::Manual { period, resend }, Some(reply)),
            Event::Tick { job, at, trigger } => (Work::Tick { job, at, trigger }, None),
        };
        // What the work is about, for a failure's log line (job and period, as elsewhere).
        let about = match &work {
            Work::Tick { job, at, .. } => (job.as_str(), period_for(&settings, *at).key()),
            Work::Manual { period, .. } => (
                "manual",
                period.map(|p| p.key()).unwrap_or_else(|| "default".into()),
            ),
        };
        let (s, c) = (settings.clone(), clock.clone());
        let mut handle = tokio::task::spawn_blocking(move || work.run(&s, c.as_ref()));
        let result = tokio::select! {
            r = &mut handle => r,
            _ = stop.wait_for(|s| *s) => {
                tracing::info!(grace_seconds = settings.daemon.shutdown_grace.as_secs(), "stopping: letting the work in progress finish");
                match tokio::time::timeout(settings.daemon.shutdown_grace, &mut handle).await {
                    Ok(r) => {
                        if let (Some(reply), Ok(r)) = (reply, r) {
                            let _ = reply.send(r);
                        }
                    }
                    Err(_) => tracing::warn!("the work in progress did not finish in time; abandoned (it is resumed at the next start)"),
                }
                break;
            }
        };
        let r = result.unwrap_or_else(|e| Err(format!("lỗi bên trong chương trình: {e}").into()));
        if let Some(reply) = reply {
            let _ = reply.send(r);
        } else if let Err(e) = r {
            tracing::error!(job = about.0, period = %about.1, error = %e, "scheduled work failed");
        }
    }
    let _ = sched.shutdown().await;
    tracing::info!("daemon stopped");
    drop(daemon_lock);
    Ok(())
}

/// What the daemon does when it starts, before its first tick: close what a crash left open,
/// and the scheduled jobs missed while it was down (each logged), to handle first as
/// `Trigger::CatchUp` ticks. `run` calls it; a test calls it to "restart" the daemon on the same
/// data folder.
pub fn start_up(
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<(Job, DateTime<Utc>)>, DaemonError> {
    let store = Store::open(&settings.data)?;
    notice_crash_traces(&store, &settings.data, now)?;
    let missed = missed_jobs(settings, &store, now)?;
    for (job, at) in &missed {
        tracing::info!(job = job.as_str(), scheduled_for = %crate::clock::log_time(*at), period = %period_for(settings, *at), "catching up a job missed while the daemon was down");
    }
    Ok(missed)
}

/// The scheduled jobs (send, remind, scan) that fire after `after` and up to `until`, in time
/// order (at the same second: send, remind, scan): the ticks the scheduler would send over that
/// stretch, from the same cron expressions in the office's zone. A test that moves a clock feeds
/// them to [`tick`] instead of hand-picking the times.
pub fn fires_between(
    settings: &Settings,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(Job, DateTime<Utc>)> {
    let mut out = Vec::new();
    for (job, spec) in [
        (Job::Send, &settings.schedule.send),
        (Job::Remind, &settings.schedule.remind),
        (Job::Scan, &settings.schedule.scan),
    ] {
        let mut t = after.with_timezone(&settings.timezone);
        while let Some(next) = spec.next_after(&t) {
            if next.with_timezone(&Utc) > until {
                break;
            }
            out.push((job, next.with_timezone(&Utc)));
            t = next;
        }
    }
    // Stable: at the same second the jobs keep the order above.
    out.sort_by_key(|(_, at)| *at);
    out
}

/// Handle one tick of the schedule (or of the delivery timer): what the loop does for
/// `Event::Tick`, on the caller's thread. `at` is the time the job was scheduled for; `clock`
/// says "now".
pub fn tick(
    settings: &Settings,
    clock: &dyn Clock,
    job: Job,
    at: DateTime<Utc>,
    trigger: Trigger,
) -> ManualResult {
    match job {
        Job::Send => scheduled_send(settings, clock, at, trigger),
        Job::Remind => scheduled_remind(settings, clock, at, trigger),
        Job::Scan => scan(settings, clock, at),
        Job::Deliver => deliver(settings, clock),
    }
}

/// What a daemon or run killed earlier left behind, closed or told at start: runs still marked
/// running become `interrupted` (shown "bị ngắt" by `tonghop history`), and each mail whose
/// hand-over began and never recorded its end is logged before it is attempted again. Only under
/// the run lock: a `tonghop run` working beside the daemon owns its run and its attempt.
fn notice_crash_traces(
    store: &Store,
    data: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<(), DaemonError> {
    let Ok(_lock) = crate::state::lock::RunLock::acquire(data, Duration::ZERO) else {
        tracing::info!(
            "another run holds the run lock; what a crash left open is closed by the next run"
        );
        return Ok(());
    };
    crate::state::store::close_interrupted_runs(store, now)?;
    for d in store.interrupted_handovers()? {
        tracing::warn!(
            delivery = d.id,
            kind = %d.kind,
            period = %d.period,
            message_id = %d.message_id,
            attempt_started_at = d.attempt_started_at.as_deref().unwrap_or(""),
            "a mail's hand-over was interrupted; it is attempted again and may already have been delivered (a repeat carries the same Message-ID)"
        );
    }
    Ok(())
}

async fn add_job(
    sched: &tokio_cron_scheduler::JobScheduler,
    job: Job,
    spec: &CronSpec,
    tz: chrono_tz::Tz,
    tx: mpsc::Sender<Event>,
) -> Result<(), DaemonError> {
    let own = spec.clone();
    let j = tokio_cron_scheduler::Job::new_async_tz(spec.expr.as_str(), tz, move |_id, _sched| {
        let tx = tx.clone();
        // The time the job was scheduled for (whole seconds), not the moment the callback ran:
        // it is what the store records as `scheduled_for` and the log shows.
        let now = Utc::now();
        let at = own
            .last_at_or_before(&now.with_timezone(&tz))
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| now - *t < chrono::Duration::minutes(1))
            .unwrap_or_else(|| now.with_nanosecond(0).unwrap_or(now));
        Box::pin(async move {
            let _ = tx
                .send(Event::Tick {
                    job,
                    at,
                    trigger: Trigger::Schedule,
                })
                .await;
        })
    })
    .map_err(|e| DaemonError::Scheduler(format!("{}: {e}", spec.expr)))?;
    sched
        .add(j)
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    Ok(())
}

/// One unit of work of the loop, run on a blocking thread.
enum Work {
    Tick {
        job: Job,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    Manual {
        period: Option<Period>,
        resend: bool,
    },
}

impl Work {
    fn run(self, settings: &Settings, clock: &dyn Clock) -> ManualResult {
        match self {
            Work::Manual { period, resend } => {
                let req = RunRequest {
                    period,
                    trigger: Trigger::Manual,
                    dry_run: false,
                    resend,
                    supplement: false,
                };
                match crate::app::run::run_once(settings, &req, clock, &|_, _| {}) {
                    Ok(o) => {
                        let mut answer = run_json(&o);
                        // The client prints the mail's state in the words status uses.
                        answer["mail_lines"] =
                            serde_json::json!(crate::app::operator::run_mail_lines(
                                settings,
                                o.run_id,
                                &o.mail.message_id
                            ));
                        Ok(answer)
                    }
                    Err(e) => {
                        // The daemon's log keeps the failure too, not only the waiting client.
                        tracing::warn!(period = %period.map(|p| p.key()).unwrap_or_else(|| "default".into()), error = %e, "manual run failed");
                        Err(WorkError {
                            message: crate::app::explain::run_error(&e),
                            exit_code: crate::app::exit::of_run_error(&e),
                        })
                    }
                }
            }
            Work::Tick { job, at, trigger } => tick(settings, clock, job, at, trigger),
        }
    }
}

/// The JSON a manual run answers with (read by `tonghop trigger`).
pub fn run_json(o: &crate::app::run::RunOutcome) -> serde_json::Value {
    serde_json::json!({
        "run_id": o.run_id,
        "period": o.consolidation.period.key(),
        "reported": o.consolidation.accepted_count(),
        "roster": o.consolidation.units.len(),
        "mail_status": o.mail.status,
        "mail_error": o.mail.error,
        "mail_refused": o.mail.refused,
        "message_id": o.mail.message_id,
        "workbook": o.workbook.display().to_string(),
        "rejected": o.has_rejections(),
    })
}

fn store_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn scheduled_send(
    settings: &Settings,
    clock: &dyn Clock,
    at: DateTime<Utc>,
    trigger: Trigger,
) -> ManualResult {
    let period = period_for(settings, at);
    let store = Store::open(&settings.data).map_err(store_err)?;
    if store
        .job_done(Job::Send.as_str(), &period.key())
        .map_err(store_err)?
    {
        tracing::info!(period = %period, "the report of this period was already sent by the schedule; nothing to do");
        return Ok(serde_json::json!({ "skipped": true }));
    }
    drop(store);
    let req = RunRequest {
        period: Some(period),
        trigger,
        dry_run: false,
        resend: false,
        supplement: false,
    };
    let result = crate::app::run::run_once(settings, &req, clock, &|_, _| {});
    let json = match result {
        Ok(o) => run_json(&o),
        Err(RunError::AlreadyMade {
            delivery, state, ..
        }) => {
            tracing::info!(period = %period, delivery = delivery.id, status = delivery.status.as_str(), message_id = %delivery.message_id, state = %state, "the period's report is already made; not making it again");
            serde_json::json!({ "skipped": true })
        }
        Err(e) => return Err(format!("scheduled send for {period}: {e}").into()),
    };
    let store = Store::open(&settings.data).map_err(store_err)?;
    store
        .mark_job_done(
            Job::Send.as_str(),
            &period.key(),
            at,
            trigger.as_str(),
            clock.now(),
        )
        .map_err(store_err)?;
    Ok(json)
}

fn scheduled_remind(
    settings: &Settings,
    clock: &dyn Clock,
    at: DateTime<Utc>,
    trigger: Trigger,
) -> ManualResult {
    let period = period_for(settings, at);
    let _lock = crate::state::lock::RunLock::acquire(&settings.data, Duration::from_secs(900))
        .map_err(store_err)?;
    let store = Store::open(&settings.data).map_err(store_err)?;
    if store
        .job_done(Job::Remind.as_str(), &period.key())
        .map_err(store_err)?
    {
        return Ok(serde_json::json!({ "skipped": true }));
    }
    let n = crate::app::jobs::queue_reminders(settings, &store, period, clock.now())
        .map_err(store_err)?;
    store
        .mark_job_done(
            Job::Remind.as_str(),
            &period.key(),
            at,
            trigger.as_str(),
            clock.now(),
        )
        .map_err(store_err)?;
    crate::mail::outbox::deliver_due(settings, &store, clock.now()).map_err(store_err)?;
    tracing::info!(period = %period, reminders = n, trigger = trigger.as_str(), "reminders queued");
    Ok(serde_json::json!({ "reminders": n }))
}

fn scan(settings: &Settings, clock: &dyn Clock, at: DateTime<Utc>) -> ManualResult {
    // A send that failed (or was missed within the window) is retried at every scan.
    let store = Store::open(&settings.data).map_err(store_err)?;
    let missed = missed_jobs(settings, &store, clock.now()).map_err(store_err)?;
    drop(store);
    for (job, when) in missed {
        match job {
            Job::Send => {
                tracing::info!(scheduled_for = %crate::clock::log_time(when), "retrying a scheduled send that has not gone out");
                scheduled_send(settings, clock, when, Trigger::CatchUp)?;
            }
            // A reminder that failed (an unreadable inbox) is retried like the send, at the
            // next scan, not only at the next start. Its failure does not stop the scan.
            Job::Remind => {
                tracing::info!(scheduled_for = %crate::clock::log_time(when), "retrying scheduled reminders that have not gone out");
                if let Err(e) = scheduled_remind(settings, clock, when, Trigger::CatchUp) {
                    tracing::warn!(scheduled_for = %crate::clock::log_time(when), error = %e, "reminders failed again; retried at the next scan");
                }
            }
            Job::Scan | Job::Deliver => {}
        }
    }
    let period = period_for(settings, at);
    crate::app::jobs::scan_period(settings, clock, period).map_err(store_err)?;
    Ok(serde_json::json!({ "scanned": period.key() }))
}

fn deliver(settings: &Settings, clock: &dyn Clock) -> ManualResult {
    // Do not queue behind a long run: it delivers its own mail; the next tick catches up.
    let Ok(_lock) = crate::state::lock::RunLock::acquire(&settings.data, Duration::from_secs(1))
    else {
        return Ok(serde_json::json!({ "busy": true }));
    };
    let store = Store::open(&settings.data).map_err(store_err)?;
    let attempts =
        crate::mail::outbox::deliver_due(settings, &store, clock.now()).map_err(store_err)?;
    Ok(serde_json::json!({ "attempts": attempts.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// The clock jumps forward over the send time, back before it, and forward a month: each
    /// scheduled send is caught up once, never twice, and nothing is sent for the future.
    #[test]
    fn clock_jumps_catch_up_each_send_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::embedded().unwrap();
        settings.data = dir.path().to_path_buf();
        let store = Store::open(dir.path()).unwrap();
        let sends = |now: &str| -> Vec<(Job, DateTime<Utc>)> {
            missed_jobs(&settings, &store, at(now))
                .unwrap()
                .into_iter()
                .filter(|(j, _)| *j == Job::Send)
                .collect()
        };
        // 08:00 on 4 November (+07:00) is 01:00 UTC.
        assert!(
            sends("2026-11-04T00:59:00Z").is_empty(),
            "before the send time: nothing"
        );
        let due = sends("2026-11-04T03:00:00Z");
        assert_eq!(due, vec![(Job::Send, at("2026-11-04T01:00:00Z"))]);
        // The clock's fraction of a second does not leak into the scheduled time.
        let due = sends("2026-11-04T03:00:00.261Z");
        assert_eq!(due, vec![(Job::Send, at("2026-11-04T01:00:00Z"))]);
        assert_eq!(period_for(&settings, due[0].1), Period::month(2026, 10));
        store
            .mark_job_done(
                "send",
                "2026-10",
                due[0].1,
                "catch_up",
                at("2026-11-04T03:00:00Z"),
            )
            .unwrap();
        assert!(sends("2026-11-04T03:00:01Z").is_empty(), "done: not again");
        // The clock goes back an hour (NTP correction): still nothing twice.
        assert!(sends("2026-11-04T02:00:00Z").is_empty());
        // A jump of a month: November's send is due once; October's is not repeated.
        let due = sends("2026-12-04T02:00:00Z");
        assert_eq!(due, vec![(Job::Send, at("2026-12-04T01:00:00Z"))]);
        assert_eq!(period_for(&settings, due[0].1), Period::month(2026, 11));
        // Past the catch-up window (7 days): logged, not run.
        assert!(sends("2026-12-20T02:00:00Z").is_empty());
    }
}
