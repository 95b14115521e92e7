//! Consolidate: the chosen report of each unit, merged in roster order with group and grand totals.
//! Pure: no IO.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::finding::Finding;
use crate::period::Period;

/// Figures of one report or one total: `values[indicator][value_column]`, in form order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Figures {
    pub values: Vec<Vec<u64>>,
}

impl Figures {
    pub fn zero(indicators: usize, value_columns: usize) -> Figures {
        Figures {
            values: vec![vec![0; value_columns]; indicators],
        }
    }

    pub fn get(&self, indicator: usize, value: usize) -> u64 {
        self.values[indicator][value]
    }

    pub fn add(&mut self, other: &Figures) {
        for (row, orow) in self.values.iter_mut().zip(&other.values) {
            for (v, o) in row.iter_mut().zip(orow) {
                *v += o;
            }
        }
    }
}

/// One cell of an activity row, typed by the form's column declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ActivityValue {
    Empty,
    Text(String),
    Date(NaiveDate),
    Count(u64),
}

/// One activity of one accepted report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Row number (1-based) in the unit's sheet, to trace it back.
    pub source_row: u32,
    /// One value per `Form::activities.columns`, in declaration order.
    pub values: Vec<ActivityValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// A report for the period was accepted (it may be late; see `UnitRow::late`).
    Accepted,
    /// The unit's latest file was rejected and no valid file exists.
    Rejected,
    /// Nothing usable arrived for the period.
    Missing,
}

impl UnitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Accepted => "accepted",
            UnitStatus::Rejected => "rejected",
            UnitStatus::Missing => "missing",
        }
    }
}

/// The file a unit's row is based on (its accepted report, or its rejected file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRef {
    /// Path relative to the inbox, forward slashes, NFC.
    pub path: String,
    pub received: DateTime<FixedOffset>,
    pub sha256: String,
    pub errors: usize,
    pub warnings: usize,
}

/// One unit of the roster, in roster order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub group: String,
    pub status: UnitStatus,
    /// Received after the deadline (only meaningful when a file exists).
    pub late: bool,
    pub file: Option<FileRef>,
    /// Header fields read from the accepted report (`preparer`, `phone`, ...), in form order.
    pub header: Vec<(String, String)>,
    /// Present only for accepted reports.
    pub figures: Option<Figures>,
    /// Activities of the accepted report.
    pub activities: Vec<Activity>,
    /// Narrative text per `Form::narrative` block (empty strings when absent).
    pub narrative: Vec<String>,
}

impl UnitRow {
    /// The Vietnamese status a clerk reads: "Đúng hạn", "Nộp muộn", "Chưa nộp", "Bị từ chối".
    pub fn status_label(&self) -> &'static str {
        match (self.status, self.late) {
            (UnitStatus::Accepted, false) => "Đúng hạn",
            (UnitStatus::Accepted, true) => "Nộp muộn",
            (UnitStatus::Rejected, _) => "Bị từ chối",
            (UnitStatus::Missing, _) => "Chưa nộp",
        }
    }
}

/// A group of the roster (e.g. "Huyện ủy, Thành ủy") with its subtotal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTotal {
    pub name: String,
    /// Indexes into `Consolidation::units`, contiguous, in roster order.
    pub units: Vec<usize>,
    pub figures: Figures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    Accepted,
    Superseded,
    OtherPeriod,
    Rejected,
    Unidentified,
    Ignored,
}

impl FileOutcome {
    pub fn label(self) -> &'static str {
        match self {
            FileOutcome::Accepted => "Được dùng",
            FileOutcome::Superseded => "Bị thay bằng bản sau",
            FileOutcome::OtherPeriod => "Báo cáo kỳ khác",
            FileOutcome::Rejected => "Bị từ chối",
            FileOutcome::Unidentified => "Không xác định được đơn vị",
            FileOutcome::Ignored => "Bỏ qua",
        }
    }
}

/// Every file seen in the inbox and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRecord {
    /// Path relative to the inbox, forward slashes, NFC.
    pub path: String,
    pub unit: Option<String>,
    pub outcome: FileOutcome,
    pub received: Option<DateTime<FixedOffset>>,
    pub size: u64,
    pub sha256: Option<String>,
    /// The period the file declares, if it could be read.
    pub period: Option<Period>,
    pub findings: Vec<Finding>,
}

/// A finding with the unit and file it is about, for the messages sheet and the mail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub file: String,
    pub finding: Finding,
}

/// Everything the workbook, the summary and the mail are made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consolidation {
    pub period: Period,
    /// When the consolidation was made, local time of the configured zone.
    pub generated_at: DateTime<FixedOffset>,
    pub deadline: DateTime<FixedOffset>,
    /// Units in roster order.
    pub units: Vec<UnitRow>,
    /// Groups in roster order.
    pub groups: Vec<GroupTotal>,
    /// Sum over accepted units.
    pub totals: Figures,
    /// Every file seen, sorted by path.
    pub files: Vec<FileRecord>,
    /// Every finding, grouped by unit in roster order, then unidentified files.
    pub messages: Vec<Message>,
}

impl Consolidation {
    pub fn accepted_count(&self) -> usize {
        self.units
            .iter()
            .filter(|u| u.status == UnitStatus::Accepted)
            .count()
    }

    pub fn activity_count(&self) -> usize {
        self.units.iter().map(|u| u.activities.len()).sum()
    }
}
