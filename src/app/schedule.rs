//! The scheduled work: which jobs the schedule fires (send, remind, scan, and the delivery
//! timer), which were missed while no daemon ran, and what each does. The daemon only turns its
//! cron ticks into calls of [`tick`]; a test calls [`tick`] with a clock it moves.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::run::{RunError, RunRequest, Trigger};
use crate::clock::Clock;
use crate::config::Settings;
use crate::state::store::{Store, StoreError};

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

/// Scheduled jobs missed while the daemon was down, due for a catch-up at `now`: the last
/// occurrence of each job, if within the catch-up window and not done for its period.
pub fn missed_jobs(
    settings: &Settings,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<(Job, DateTime<Utc>)>, StoreError> {
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
        let period = crate::config::collection::current(settings, last);
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

/// What the daemon does when it starts, before its first tick: close what a crash left open,
/// and the scheduled jobs missed while it was down (each logged), to handle first as
/// `Trigger::CatchUp` ticks. `run` calls it; a test calls it to "restart" the daemon on the same
/// data folder.
pub fn start_up(
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<(Job, DateTime<Utc>)>, StoreError> {
    let store = Store::open(&settings.data)?;
    notice_crash_traces(&store, &settings.data, now)?;
    let missed = missed_jobs(settings, &store, now)?;
    for (job, at) in &missed {
        tracing::info!(job = job.as_str(), scheduled_for = %crate::clock::log_time(*at), period = %crate::config::collection::current(settings, *at), "catching up a job missed while the daemon was down");
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
) -> TickResult {
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
) -> Result<(), StoreError> {
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
            attempt_started_at = d.attempt_started_at.map(crate::clock::log_time).unwrap_or_default().as_str(),
            "a mail's hand-over was interrupted; it is attempted again and may already have been delivered (a repeat carries the same Message-ID)"
        );
    }
    Ok(())
}

/// What a scheduled job did (logged, not answered).
pub type TickResult = Result<(), String>;

fn store_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn scheduled_send(
    settings: &Settings,
    clock: &dyn Clock,
    at: DateTime<Utc>,
    trigger: Trigger,
) -> TickResult {
    let period = crate::config::collection::current(settings, at);
    let store = Store::open(&settings.data).map_err(store_err)?;
    if store
        .job_done(Job::Send.as_str(), &period.key())
        .map_err(store_err)?
    {
        tracing::info!(period = %period, "the report of this period was already sent by the schedule; nothing to do");
        return Ok(());
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
    match result {
        Ok(_) => {}
        Err(RunError::AlreadyMade {
            delivery, state, ..
        }) => {
            tracing::info!(period = %period, delivery = delivery.id, status = delivery.status.as_str(), message_id = %delivery.message_id, state = %state, "the period's report is already made; not making it again");
        }
        Err(e) => return Err(format!("scheduled send for {period}: {e}")),
    };
    let store = Store::open(&settings.data).map_err(store_err)?;
    store
        .mark_job_done(Job::Send.as_str(), &period.key(), at, trigger, clock.now())
        .map_err(store_err)?;
    Ok(())
}

fn scheduled_remind(
    settings: &Settings,
    clock: &dyn Clock,
    at: DateTime<Utc>,
    trigger: Trigger,
) -> TickResult {
    let period = crate::config::collection::current(settings, at);
    let _lock = crate::state::lock::RunLock::acquire(&settings.data, crate::state::lock::RUN_WAIT)
        .map_err(store_err)?;
    let store = Store::open(&settings.data).map_err(store_err)?;
    if store
        .job_done(Job::Remind.as_str(), &period.key())
        .map_err(store_err)?
    {
        return Ok(());
    }
    let n = crate::app::jobs::queue_reminders(settings, &store, period, clock.now())
        .map_err(store_err)?;
    store
        .mark_job_done(
            Job::Remind.as_str(),
            &period.key(),
            at,
            trigger,
            clock.now(),
        )
        .map_err(store_err)?;
    crate::mail::outbox::deliver_due(settings, &store, clock.now()).map_err(store_err)?;
    tracing::info!(period = %period, reminders = n, trigger = trigger.as_str(), "reminders queued");
    Ok(())
}

fn scan(settings: &Settings, clock: &dyn Clock, at: DateTime<Utc>) -> TickResult {
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
    let period = crate::config::collection::current(settings, at);
    crate::app::jobs::scan_period(settings, clock, period).map_err(store_err)?;
    Ok(())
}

fn deliver(settings: &Settings, clock: &dyn Clock) -> TickResult {
    // Do not queue behind a long run: it delivers its own mail; the next tick catches up.
    let Ok(_lock) = crate::state::lock::RunLock::acquire(&settings.data, Duration::from_secs(1))
    else {
        return Ok(());
    };
    let store = Store::open(&settings.data).map_err(store_err)?;
    // Each attempt logs itself (outbox).
    crate::mail::outbox::deliver_due(settings, &store, clock.now()).map_err(store_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;

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
        assert_eq!(
            crate::config::collection::current(&settings, due[0].1),
            Period::month(2026, 10)
        );
        store
            .mark_job_done(
                "send",
                "2026-10",
                due[0].1,
                Trigger::CatchUp,
                at("2026-11-04T03:00:00Z"),
            )
            .unwrap();
        assert!(sends("2026-11-04T03:00:01Z").is_empty(), "done: not again");
        // The clock goes back an hour (NTP correction): still nothing twice.
        assert!(sends("2026-11-04T02:00:00Z").is_empty());
        // A jump of a month: November's send is due once; October's is not repeated.
        let due = sends("2026-12-04T02:00:00Z");
        assert_eq!(due, vec![(Job::Send, at("2026-12-04T01:00:00Z"))]);
        assert_eq!(
            crate::config::collection::current(&settings, due[0].1),
            Period::month(2026, 11)
        );
        // Past the catch-up window (7 days): logged, not run.
        assert!(sends("2026-12-20T02:00:00Z").is_empty());
    }
}
