//! TEMPORARY stub (replaced by the remind branch).
use chrono::{DateTime, FixedOffset};

use crate::config::{Form, MailSettings, Roster};
use crate::pipeline::consolidate::Consolidation;
use crate::pipeline::deliver::{DeliveryError, Outgoing};

pub struct Reminder {
    pub unit: String,
    pub outgoing: Outgoing,
}

pub fn reminders(
    _c: &Consolidation,
    _roster: &Roster,
    _form: &Form,
    _mail: &MailSettings,
    _now: DateTime<FixedOffset>,
) -> Result<Vec<Reminder>, DeliveryError> {
    Ok(Vec::new())
}
