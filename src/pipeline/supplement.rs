//! TEMPORARY stub (replaced by the remind branch).
use chrono::{DateTime, FixedOffset};

use crate::config::{Form, MailSettings};
use crate::pipeline::consolidate::Consolidation;
use crate::pipeline::deliver::{DeliveryError, Outgoing};

pub struct Changes {
    pub newly_reported: Vec<(String, String)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.newly_reported.is_empty()
    }
}

pub fn changes(_sent: &serde_json::Value, _now: &Consolidation, _form: &Form) -> Changes {
    Changes {
        newly_reported: Vec::new(),
    }
}

pub fn compose_supplement(
    _c: &Consolidation,
    _form: &Form,
    _mail: &MailSettings,
    _changes: &Changes,
    _first_sent_at: DateTime<FixedOffset>,
    _attachment: Vec<u8>,
) -> Result<Outgoing, DeliveryError> {
    Err(DeliveryError::Build("stub".into()))
}
