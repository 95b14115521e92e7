//! The daemon's jobs besides the send: reminders, and the inbox scan that archives new files
//! and notices reports arriving after the period's report was sent.

use chrono::{DateTime, Utc};

use crate::app::run::RunError;
use crate::clock::Clock;
use crate::config::{Settings, SupplementMode};
use crate::mail::outbox::{self, Purpose};
use crate::period::Period;
use crate::state::store::{DeliveryKind, DeliveryStatus, Store};

/// Queue a reminder for each unit with an address and no accepted report for `period`, once
/// per unit and period. Returns how many were queued. The caller holds the run lock.
pub fn queue_reminders(
    settings: &Settings,
    store: &Store,
    period: Period,
    now: DateTime<Utc>,
) -> Result<usize, RunError> {
    let c =
        crate::app::run::consolidate_period(settings, period, now, &|_, _| {}, None)?.consolidation;
    let local = now.with_timezone(&settings.timezone).fixed_offset();
    let reminders = crate::pipeline::compose::remind::reminders(
        &c,
        &settings.roster,
        &settings.form,
        &settings.mail,
        local,
    )?;
    let already: Vec<String> = store
        .deliveries_for(&period.key(), DeliveryKind::Reminder)?
        .into_iter()
        .filter_map(|d| d.unit)
        .collect();
    let mut queued = 0;
    for r in reminders {
        if already.contains(&r.unit) {
            continue;
        }
        let purpose = Purpose {
            kind: DeliveryKind::Reminder,
            period: &period.key(),
            unit: Some(&r.unit),
            run_id: None,
        };
        outbox::enqueue(settings, store, &r.outgoing, purpose, now)?;
        queued += 1;
    }
    Ok(queued)
}

/// Read and check every file of the inbox as a run does, archive what arrived, and record each
/// file's check in the store, so `status` answers from it; sends nothing. The daemon's scan does
/// this every time; `tonghop status --check` does it on request.
pub fn check_inbox(
    settings: &Settings,
    clock: &dyn Clock,
    period: Period,
    progress: crate::pipeline::Progress<'_>,
) -> Result<crate::app::run::Consolidated, RunError> {
    let now = clock.now();
    let consolidated =
        crate::app::run::consolidate_period(settings, period, now, progress, Some(&settings.data))?;
    let store = Store::open(&settings.data)?;
    store.transaction(|s| {
        crate::app::run::record_seen(
            s,
            &consolidated.consolidation,
            &consolidated.elsewhere,
            &consolidated.archived,
            &consolidated.checks,
            None,
            now,
        )
    })?;
    Ok(consolidated)
}

/// Scan the inbox for `period`: archive what arrived (nothing a unit sent is lost, even if it
/// deletes the file before the next run), record every file's check in the store (what
/// `status` answers from), and, once the period's report was sent, notice reports that change
/// it: send a supplementary report (`supplement = "auto"`) or log it.
pub fn scan_period(settings: &Settings, clock: &dyn Clock, period: Period) -> Result<(), RunError> {
    let consolidated = check_inbox(settings, clock, period, &|_, _| {})?;
    let store = Store::open(&settings.data)?;
    let Some(sent) = store.report_for(&period.key())? else {
        return Ok(());
    };
    if sent.status != DeliveryStatus::Sent {
        return Ok(());
    }
    // A report or supplement still queued: a new supplement beside it would go out with it
    // (as `run --supplement` refuses, see `pipeline::supplement_allowed`). Said once per mail.
    if let Some(q) = store.latest_queued(&period.key())? {
        static SAID: std::sync::Mutex<Vec<i64>> = std::sync::Mutex::new(Vec::new());
        let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
        if !said.contains(&q.id) {
            said.push(q.id);
            tracing::warn!(period = %period, delivery = q.id, kind = %q.kind, attempts = q.attempts, "a mail of the period is still queued: no supplementary report until it is sent");
        }
        return Ok(());
    }
    let Some(summary) = crate::app::run::latest_sent_summary(&store, &period)? else {
        return Ok(());
    };
    let changes = crate::pipeline::compose::supplement::changes(
        Some(&summary),
        &consolidated.consolidation,
        &settings.form,
    );
    if changes.is_empty() {
        return Ok(());
    }
    match settings.daemon.supplement {
        SupplementMode::Manual => {
            tracing::warn!(
                period = %period,
                newly_reported = changes.newly_reported.len(),
                "reports arrived after the period's report was sent; send the supplementary report with `tonghop run --supplement --period {}`",
                period.key()
            );
            Ok(())
        }
        SupplementMode::Auto => {
            drop(store);
            let req = crate::app::run::RunRequest {
                period: Some(period),
                trigger: crate::app::run::Trigger::Schedule,
                dry_run: false,
                resend: false,
                supplement: true,
            };
            match crate::app::run::run_once(settings, &req, clock, &|_, _| {}) {
                Ok(_) | Err(RunError::NothingToSupplement { .. } | RunError::MailQueued { .. }) => {
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    }
}
