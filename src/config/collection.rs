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

    /// The period whose collection window holds `received` (the rule above), for a file that
    /// cannot say its own period. The one place this rule is decided: runs, `status`, reminders
    /// and scans all come through here. (Which period a job or a command works on is
    /// [`current`].)
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

/// Whether this configuration reports for `p`'s kind of period: a quarter under a monthly
/// configuration would consolidate every monthly report of three months as one. Checked where a
/// period comes in: the command line, and `app::execute` for a command from the control API.
pub fn kind_accepted(settings: &Settings, p: Period) -> Result<(), String> {
    if p.kind == settings.period_kind {
        return Ok(());
    }
    let (configured, example) = match settings.period_kind {
        PeriodKind::Month => ("theo tháng (period = \"month\")", "2026-10"),
        PeriodKind::Quarter => ("theo quý (period = \"quarter\")", "2026-Q4"),
    };
    Err(format!(
        "cấu hình này báo cáo {configured}, không nhận kỳ {}; dùng kỳ dạng {example}",
        p.label()
    ))
}

/// The period a job or a command works on at `now` when none is named: the one that ended most
/// recently, in the office's zone. The one rule for the reminder, the send, the scan, `run`,
/// `status`, `trigger` and the console: from 00:00 on the 1st of November to the last second of
/// November it is October, so between the 1st and the deadline the reminders, `status` and a
/// run by hand all work on the period being collected, and after the send `status` and the scan
/// keep watching it for late reports. The deadline and the send time do not move it.
pub fn current(settings: &Settings, now: DateTime<Utc>) -> Period {
    let local = now.with_timezone(&settings.timezone).date_naive();
    Period::containing(settings.period_kind, local).prev()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_period_moves_at_midnight_on_the_first_not_at_the_deadline_or_the_send() {
        let mut s = Settings::embedded().unwrap();
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let month = |y, m| Period::month(y, m);
        for (now, want) in [
            // The last second of October, then the 1st of November (local time, +07:00).
            ("2026-10-31T23:59:59+07:00", month(2026, 9)),
            ("2026-11-01T00:00:00+07:00", month(2026, 10)),
            // Before and after the reminder, the deadline (17:00 on the 3rd) and the send
            // (08:00 on the 4th): still October, the period being collected and then watched.
            ("2026-11-02T08:00:00+07:00", month(2026, 10)),
            ("2026-11-03T16:59:59+07:00", month(2026, 10)),
            ("2026-11-03T17:00:00+07:00", month(2026, 10)),
            ("2026-11-04T07:59:59+07:00", month(2026, 10)),
            ("2026-11-04T08:00:00+07:00", month(2026, 10)),
            ("2026-11-30T23:59:59+07:00", month(2026, 10)),
            ("2026-12-01T00:00:00+07:00", month(2026, 11)),
            // The office's zone decides, not UTC: 17:00 UTC on 31 October is 1 November there.
            ("2026-10-31T17:00:00Z", month(2026, 10)),
            ("2026-10-31T16:59:59Z", month(2026, 9)),
            // New year.
            ("2027-01-01T00:00:00+07:00", month(2026, 12)),
        ] {
            assert_eq!(current(&s, at(now)), want, "{now}");
        }
        s.period_kind = PeriodKind::Quarter;
        for (now, want) in [
            ("2026-12-31T23:59:59+07:00", Period::quarter(2026, 3)),
            ("2027-01-01T00:00:00+07:00", Period::quarter(2026, 4)),
            ("2027-01-04T08:00:00+07:00", Period::quarter(2026, 4)),
            ("2027-03-31T23:59:59+07:00", Period::quarter(2026, 4)),
            ("2027-04-01T00:00:00+07:00", Period::quarter(2027, 1)),
        ] {
            assert_eq!(current(&s, at(now)), want, "{now}");
        }
    }

    fn collection_at(kind: PeriodKind, send: &str, received: &str) -> Period {
        let send = crate::config::CronSpec::parse("schedule.send", send).unwrap();
        let c = Collection::new(kind, chrono_tz::Asia::Ho_Chi_Minh, &send);
        c.period_of(&DateTime::parse_from_rfc3339(received).unwrap())
    }

    #[test]
    fn a_file_belongs_to_the_period_whose_send_comes_first_after_it_arrived() {
        // The default schedule: 08:00 on day 4 of the next month.
        let at = |t| collection_at(PeriodKind::Month, "0 0 8 4 * *", t);
        let (sep, oct, nov) = (
            Period::month(2026, 9),
            Period::month(2026, 10),
            Period::month(2026, 11),
        );
        // Before September's send, a file dropped on 1-4 October is still September's.
        assert_eq!(at("2026-10-01T00:00:00+07:00"), sep);
        assert_eq!(at("2026-10-04T07:59:59+07:00"), sep);
        assert_eq!(at("2026-10-04T08:00:00+07:00"), oct);
        assert_eq!(at("2026-10-20T10:00:00+07:00"), oct);
        // 1-3 November: October is still being collected (its send is 04/11 08:00).
        assert_eq!(at("2026-11-01T00:00:00+07:00"), oct);
        assert_eq!(at("2026-11-04T07:59:59+07:00"), oct);
        // At the send itself the run has already scanned: the next period's.
        assert_eq!(at("2026-11-04T08:00:00+07:00"), nov);
        assert_eq!(at("2026-12-04T07:59:59+07:00"), nov);
        // The office's clock decides, not UTC: 04/11 00:59:59 UTC is 07:59:59 in Đà Lạt.
        assert_eq!(at("2026-11-04T00:59:59+00:00"), oct);
        assert_eq!(at("2026-11-04T01:00:00+00:00"), nov);
        // Across the year.
        assert_eq!(at("2027-01-04T07:59:59+07:00"), Period::month(2026, 12));
        assert_eq!(at("2027-01-04T08:00:00+07:00"), Period::month(2027, 1));
    }

    #[test]
    fn collection_windows_follow_the_schedule_and_the_period_kind() {
        // Quarters sent at 08:00 on 10 January, April, July, October.
        let q = |t| collection_at(PeriodKind::Quarter, "0 0 8 10 1,4,7,10 *", t);
        assert_eq!(q("2026-10-10T07:59:59+07:00"), Period::quarter(2026, 3));
        assert_eq!(q("2026-10-10T08:00:00+07:00"), Period::quarter(2026, 4));
        assert_eq!(q("2026-12-31T23:59:59+07:00"), Period::quarter(2026, 4));
        // A send that fires every day: the period's send is the first one after its end, so
        // the windows are the calendar months (almost).
        let daily = |t| collection_at(PeriodKind::Month, "0 0 8 * * *", t);
        assert_eq!(daily("2026-11-01T07:59:59+07:00"), Period::month(2026, 10));
        assert_eq!(daily("2026-11-01T08:00:00+07:00"), Period::month(2026, 11));
        // A send once a year (3 May): a file waits at most for the period before its own.
        let yearly = |t| collection_at(PeriodKind::Month, "0 0 8 3 5 *", t);
        assert_eq!(yearly("2026-12-20T10:00:00+07:00"), Period::month(2026, 11));
        assert_eq!(yearly("2027-05-03T07:59:59+07:00"), Period::month(2027, 4));
        assert_eq!(yearly("2027-05-03T08:00:00+07:00"), Period::month(2027, 5));
        // A schedule that never fires (30 February): the windows are the calendar months.
        let never = |t| collection_at(PeriodKind::Month, "0 0 8 30 2 *", t);
        assert_eq!(never("2026-10-31T23:59:59+07:00"), Period::month(2026, 10));
        assert_eq!(never("2026-11-01T00:00:00+07:00"), Period::month(2026, 11));
    }
}
