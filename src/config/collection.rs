//! Which period a file, a job or a command works on: the one rule, written once.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use crate::config::{CronSpec, Settings};
use crate::period::{Period, PeriodKind};

/// Which period a file belongs to when the file itself cannot say (its period cannot be read, or
/// it names no unit, or it is not a spreadsheet at all): the period whose **collection window**
/// holds its received time.
///
/// A period's window runs from the period's first day (00:00, local time) to its send: the first
/// time of the `send` schedule at or after the period's end (08:00 on 4 November for October,
/// with the default schedule). Windows overlap in the first days of a month (1-4 November is in
/// October's window and in November's); there the period that just ended, still being
/// collected, takes the file. So October takes [04/10 08:00, 04/11 08:00), November
/// [04/11 08:00, 04/12 08:00). A file received exactly at a send belongs to the next period
/// (that run has already scanned). Only the period in progress and the one before it are
/// candidates, so a send that fires rarely (once a year) cannot pull a file months back.
pub struct Collection<'a> {
    kind: PeriodKind,
    tz: chrono_tz::Tz,
    send: &'a CronSpec,
}

impl<'a> Collection<'a> {
    pub fn new(kind: PeriodKind, tz: chrono_tz::Tz, send: &'a CronSpec) -> Self {
        Collection { kind, tz, send }
    }

    /// The configured collection rule (period kind, time zone, `schedule.send`).
    pub fn of(settings: &'a Settings) -> Self {
        Collection::new(
            settings.period_kind,
            settings.timezone,
            &settings.schedule.send,
        )
    }

    /// 00:00 local time on the period's first day.
    fn start(&self, p: &Period) -> DateTime<chrono_tz::Tz> {
        self.tz
            .from_local_datetime(&p.first_day().and_time(NaiveTime::MIN))
            .earliest()
            .expect("midnight exists in the configured zone")
    }

    /// When the schedule sends the period's report: the first `send` time at or after the
    /// period's end. A schedule that never fires (a date that does not exist) ends the window
    /// at the period's end.
    pub fn send_time(&self, p: &Period) -> DateTime<chrono_tz::Tz> {
        let end = self.start(&p.next());
        self.send
            .next_after(&(end - chrono::Duration::seconds(1)))
            .unwrap_or(end)
    }

    /// The period whose collection window holds `received` (the rule above). The one place
    /// this rule is decided: runs, `status`, reminders and scans all come through here.
    pub fn period_of<Z: TimeZone>(&self, received: &DateTime<Z>) -> Period {
        let t = received.with_timezone(&self.tz);
        let current = Period::containing(self.kind, t.date_naive());
        // Before the previous period's send, that period is still being collected.
        if t < self.send_time(&current.prev()) {
            current.prev()
        } else {
            current
        }
    }
}

/// The period a run without `--period` consolidates.
pub fn default_period(settings: &Settings, now: DateTime<Utc>) -> Period {
    settings
        .deadline
        .last_closed(settings.period_kind, &now.with_timezone(&settings.timezone))
}
