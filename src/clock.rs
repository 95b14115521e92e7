//! Where "now" comes from, and how a time is written for the office and for the log.

use chrono::{DateTime, FixedOffset, Utc};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::config::Settings;

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

/// A clock that stands still until it is moved: a test sets the time, runs the daemon's ticks at
/// it, and moves on (a month of the schedule in seconds, no sleeping on cron times).
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    /// Set the time (forward, or back as an NTP correction would).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Local time of a system time in the configured zone.
pub fn local(settings: &Settings, t: SystemTime) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(t)
        .with_timezone(&settings.timezone)
        .fixed_offset()
}

/// A time as the operator log writes it: RFC 3339 in UTC (`Z`), to the millisecond, as the
/// state store keeps times and as each log line's own timestamp is.
pub fn log_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time (as the state store keeps them) as the office reads it: "08:00 04/11/2026".
pub fn local_text(settings: &Settings, t: &DateTime<Utc>) -> String {
    t.with_timezone(&settings.timezone)
        .format("%H:%M %d/%m/%Y")
        .to_string()
}
