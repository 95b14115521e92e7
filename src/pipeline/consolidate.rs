//! Consolidate: the chosen report of each unit, merged in roster order with group and grand totals.
//! Pure: no IO.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::period::Period;

pub use crate::pipeline::content::{
    Activities, Activity, ActivityRef, ActivityValue, Figures, Value, Values,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub activities: Activities,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// One file after read, validate and identify: the input of `consolidate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub rel: String,
    pub size: u64,
    pub received: DateTime<FixedOffset>,
    pub sha256: Option<String>,
    pub unit: Option<String>,
    /// The period the file declares.
    pub period: Option<Period>,
    /// Present when the file could be read and its content examined.
    pub content: Option<Content>,
    pub findings: Vec<Finding>,
}

/// What an examined report holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// Present when the indicator table was read without errors.
    pub figures: Option<Figures>,
    pub activities: Activities,
    pub narrative: Vec<String>,
    /// Header fields other than unit and period: (key, text), keyed as the form declares them.
    pub header: Vec<(String, String)>,
}

impl Inspected {
    fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

/// A file set aside without being read (lock files, other kinds, still being copied).
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    pub rel: String,
    pub size: u64,
    pub received: Option<DateTime<FixedOffset>>,
    pub reason: String,
}

/// What the consolidation is about, apart from the files.
pub struct Frame<'a> {
    pub roster: &'a crate::config::Roster,
    pub form: &'a crate::config::Form,
    pub period: Period,
    pub deadline: DateTime<FixedOffset>,
    pub generated_at: DateTime<FixedOffset>,
}

/// The files that belong to `period`'s report: each file that declares the period, and each
/// file received in the period's collection window (`period_of`, which is
/// `period::Collection::period_of`): a file whose period cannot be read, that names no unit,
/// that is not a spreadsheet, or that names another period (shown as such) belongs only to the
/// window in which it arrived. Without this a zero-byte file dropped in October would show its
/// unit as rejected in every later report. A skipped file with no readable time stays.
pub fn belonging_to(
    period: Period,
    period_of: impl Fn(&DateTime<FixedOffset>) -> Period,
    files: Vec<Inspected>,
    ignored: Vec<Ignored>,
) -> Belonging {
    use crate::finding::Severity;
    let mut out = Belonging::default();
    // Not this period's: kept as a record (the state store keeps every file seen), never shown.
    let elsewhere = |received: &DateTime<FixedOffset>, declared: Option<Period>| {
        let of = declared.unwrap_or_else(|| period_of(received));
        Finding::new(
            Severity::Info,
            "other_window",
            format!(
                "Tệp nhận lúc {}, thuộc kỳ {}; không xét trong kỳ {}.",
                received.format("%H:%M %d/%m/%Y"),
                of.label(),
                period.label()
            ),
        )
    };
    for f in files {
        if f.period == Some(period) || period_of(&f.received) == period {
            out.files.push(f);
        } else {
            out.elsewhere.push(FileRecord {
                findings: vec![elsewhere(&f.received, f.period)],
                path: f.rel,
                unit: f.unit,
                outcome: FileOutcome::OtherPeriod,
                received: Some(f.received),
                size: f.size,
                sha256: f.sha256,
                period: f.period,
            });
        }
    }
    for f in ignored {
        match f.received {
            Some(t) if period_of(&t) != period => out.elsewhere.push(FileRecord {
                findings: vec![elsewhere(&t, None)],
                path: f.rel,
                unit: None,
                outcome: FileOutcome::Ignored,
                received: Some(t),
                size: f.size,
                sha256: None,
                period: None,
            }),
            _ => out.ignored.push(f),
        }
    }
    out
}

/// [`belonging_to`]'s answer.
#[derive(Debug, Default)]
pub struct Belonging {
    /// The period's files, to consolidate.
    pub files: Vec<Inspected>,
    pub ignored: Vec<Ignored>,
    /// Files read or skipped that belong to other periods: not in the report.
    pub elsewhere: Vec<FileRecord>,
}

/// Choose each unit's report (the newest valid file for the period; earlier ones superseded)
/// and merge everything in roster order with group and grand totals.
/// The verdict on one file for `period` (`None`: whatever period it declares), before a unit's
/// files are weighed against each other: the one rule a run (`consolidate`) and `tonghop check`
/// share, so a file that passes `check` is accepted by a run.
pub fn verdict(f: &Inspected, period: Option<Period>) -> FileOutcome {
    match (&f.unit, f.period, period) {
        (None, _, _) => FileOutcome::Unidentified,
        (Some(_), Some(p), Some(want)) if p != want && f.content.is_some() => {
            FileOutcome::OtherPeriod
        }
        _ if f.has_errors() => FileOutcome::Rejected,
        _ => FileOutcome::Accepted,
    }
}

/// What a file of another period is told (a notice, not an error: it may be right for its own).
pub fn other_period(declared: Option<Period>, period: Period) -> Finding {
    Finding::new(
        crate::finding::Severity::Info,
        "other_period",
        format!(
            "Tệp là báo cáo {}, không thuộc kỳ {}; không được tổng hợp vào kỳ này.",
            declared.map(|p| p.label()).unwrap_or_default(),
            period.label()
        ),
    )
}

pub fn consolidate(
    frame: &Frame<'_>,
    mut files: Vec<Inspected>,
    ignored: Vec<Ignored>,
) -> Consolidation {
    use crate::finding::Severity;
    let form = frame.form;
    let (n_ind, n_val) = (form.indicators.items.len(), form.indicators.values.len());

    let mut outcome: Vec<FileOutcome> = files
        .iter()
        .map(|f| verdict(f, Some(frame.period)))
        .collect();
    let mut extra: Vec<Vec<Finding>> = vec![Vec::new(); files.len()];

    // Each unit's files, found once (1,000 units × 10,000 files scanned unit by unit took most
    // of a status query).
    let mut by_unit: std::collections::HashMap<String, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, f) in files.iter().enumerate() {
        if let Some(u) = &f.unit {
            by_unit.entry(u.clone()).or_default().push(i);
        }
    }
    let mut units = Vec::with_capacity(frame.roster.units.len());
    for unit in &frame.roster.units {
        // This unit's files for the period, newest first (ties: the later path).
        let mut mine: Vec<usize> = by_unit
            .get(&unit.id)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&i| matches!(outcome[i], FileOutcome::Accepted | FileOutcome::Rejected))
            .collect();
        mine.sort_by(|&a, &b| {
            (files[b].received, &files[b].rel).cmp(&(files[a].received, &files[a].rel))
        });
        let winner = mine
            .iter()
            .copied()
            .find(|&i| outcome[i] == FileOutcome::Accepted);
        // A PDF or Word copy beside the accepted spreadsheet (a scanned, signed report) is not
        // a rejected report: it is set aside with a word.
        if let Some(w) = winner {
            for &i in &mine {
                if outcome[i] == FileOutcome::Rejected
                    && files[i].content.is_none()
                    && files[i]
                        .findings
                        .iter()
                        .any(|f| f.kind == "not_a_spreadsheet")
                {
                    outcome[i] = FileOutcome::Ignored;
                    extra[i].push(Finding::new(
                        Severity::Info,
                        "ignored",
                        format!(
                            "Bỏ qua: không phải tệp bảng tính; số liệu của đơn vị lấy từ \"{}\".",
                            files[w].rel
                        ),
                    ));
                }
            }
        }
        if let Some(w) = winner {
            for &i in &mine {
                if i != w
                    && outcome[i] != FileOutcome::Ignored
                    && (outcome[i] == FileOutcome::Accepted
                        || files[i].received <= files[w].received)
                {
                    outcome[i] = FileOutcome::Superseded;
                    extra[i].push(Finding::new(
                        Severity::Info,
                        "superseded",
                        format!(
                            "Đã có bản gửi sau thay thế: \"{}\"; tệp này không được tổng hợp.",
                            files[w].rel
                        ),
                    ));
                }
            }
        }
        let shown = winner.or_else(|| mine.first().copied());
        // The chosen report's rows move into the unit's row (a million rows must not be held
        // twice).
        let taken = winner
            .and_then(|w| files[w].content.as_mut())
            .map(|c| std::mem::take(&mut c.activities))
            .unwrap_or_default();
        let (status, file, figures, activities, narrative, header, late) = match shown {
            Some(i) => {
                let f = &files[i];
                let (errors, warnings) = crate::finding::counts(&f.findings);
                let fref = FileRef {
                    path: f.rel.clone(),
                    received: f.received,
                    sha256: f.sha256.clone().unwrap_or_default(),
                    errors,
                    warnings,
                };
                let late = f.received > frame.deadline;
                if Some(i) == winner {
                    let c = f.content.as_ref().expect("an accepted file has content");
                    (
                        UnitStatus::Accepted,
                        Some(fref),
                        c.figures.clone(),
                        taken,
                        c.narrative.clone(),
                        c.header.clone(),
                        late,
                    )
                } else {
                    let header = f
                        .content
                        .as_ref()
                        .map(|c| c.header.clone())
                        .unwrap_or_default();
                    (
                        UnitStatus::Rejected,
                        Some(fref),
                        None,
                        Activities::new(),
                        vec![String::new(); form.narrative.len()],
                        header,
                        late,
                    )
                }
            }
            None => (
                UnitStatus::Missing,
                None,
                None,
                Activities::new(),
                vec![String::new(); form.narrative.len()],
                Vec::new(),
                false,
            ),
        };
        units.push(UnitRow {
            id: unit.id.clone(),
            name: unit.name.clone(),
            group: unit.group.clone(),
            status,
            late,
            file,
            header,
            figures,
            activities,
            narrative,
        });
    }

    let mut groups: Vec<GroupTotal> = Vec::new();
    let mut totals = Figures::zero(n_ind, n_val);
    for (i, u) in units.iter().enumerate() {
        if groups.last().is_none_or(|g| g.name != u.group) {
            groups.push(GroupTotal {
                name: u.group.clone(),
                units: Vec::new(),
                figures: Figures::zero(n_ind, n_val),
            });
        }
        let g = groups.last_mut().expect("just pushed");
        g.units.push(i);
        if let Some(f) = &u.figures {
            g.figures.add(f);
            totals.add(f);
        }
    }

    // Roster positions by id, found once: a linear search per file and per comparison made a
    // roster of 1,000 units with 10,000 files slow.
    let roster_index: std::collections::HashMap<&str, usize> = frame
        .roster
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    let unit_name = |id: &str| {
        roster_index
            .get(id)
            .map(|&i| frame.roster.units[i].name.clone())
    };
    let mut records: Vec<FileRecord> = files
        .iter()
        .zip(outcome)
        .zip(extra)
        .map(|((f, outcome), extra)| {
            let mut findings = f.findings.clone();
            if outcome == FileOutcome::OtherPeriod {
                findings = vec![other_period(f.period, frame.period)];
            }
            if outcome == FileOutcome::Ignored {
                findings.clear();
            }
            findings.extend(extra);
            FileRecord {
                path: f.rel.clone(),
                unit: f.unit.clone(),
                outcome,
                received: Some(f.received),
                size: f.size,
                sha256: f.sha256.clone(),
                period: f.period,
                findings,
            }
        })
        .collect();
    records.extend(ignored.into_iter().map(|ig| FileRecord {
        path: ig.rel,
        unit: None,
        outcome: FileOutcome::Ignored,
        received: ig.received,
        size: ig.size,
        sha256: None,
        period: None,
        findings: vec![Finding::new(
            Severity::Info,
            "ignored",
            format!("Bỏ qua: {}.", ig.reason),
        )],
    }));
    records.sort_by(|a, b| a.path.cmp(&b.path));

    // Messages: per unit in roster order, then files of no unit; ignored files are not messages.
    let mut messages = Vec::new();
    let order = |r: &FileRecord| {
        r.unit
            .as_deref()
            .and_then(|u| roster_index.get(u).copied())
            .unwrap_or(usize::MAX)
    };
    let mut by_unit: Vec<&FileRecord> = records
        .iter()
        .filter(|r| r.outcome != FileOutcome::Ignored)
        .collect();
    by_unit.sort_by_cached_key(|r| (order(r), r.path.clone()));
    for r in by_unit {
        for f in &r.findings {
            messages.push(Message {
                unit: r.unit.clone(),
                unit_name: r.unit.as_deref().and_then(unit_name),
                file: r.path.clone(),
                finding: f.clone(),
            });
        }
    }

    Consolidation {
        period: frame.period,
        generated_at: frame.generated_at,
        deadline: frame.deadline,
        units,
        groups,
        totals,
        files: records,
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Form, Roster};
    use chrono::NaiveDate;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn packed_activities_give_back_every_value_as_it_was() {
        let rows = vec![
            Activity {
                source_row: 6,
                values: vec![
                    ActivityValue::Count(1),
                    ActivityValue::Date(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()),
                    ActivityValue::Text("Hội nghị".into()),
                    ActivityValue::Text(String::new()),
                    ActivityValue::Empty,
                    ActivityValue::Count(u64::MAX),
                ],
            },
            Activity {
                source_row: 1_048_576,
                values: vec![ActivityValue::Date(
                    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap(),
                )],
            },
            Activity {
                source_row: 7,
                values: vec![],
            },
            Activity {
                source_row: 8,
                values: vec![ActivityValue::Text("Đạ Huoai\r\n=HYPERLINK(\"x\")".into())],
            },
        ];
        let packed = Activities::from(rows.clone());
        assert_eq!(packed.len(), 4);
        assert_eq!(packed.to_vec(), rows);
        assert_eq!(packed.get(1).unwrap().source_row, 1_048_576);
        assert_eq!(
            packed.get(0).unwrap().values().nth(2),
            Some(Value::Text("Hội nghị"))
        );
        assert!(packed.get(4).is_none());
        let json = serde_json::to_value(&packed).unwrap();
        assert_eq!(json, serde_json::to_value(&rows).unwrap());
        let mut cleared = packed.clone();
        cleared.clear();
        assert!(cleared.is_empty() && cleared.iter().next().is_none());
    }

    #[test]
    fn packed_activities_cross_a_pipe_and_a_damaged_reply_is_refused_not_trusted() {
        let packed = Activities::from(vec![
            Activity {
                source_row: 6,
                values: vec![
                    ActivityValue::Text("Đà Lạt".into()),
                    ActivityValue::Date(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()),
                    ActivityValue::Count(250),
                ],
            },
            Activity {
                source_row: 7,
                values: vec![ActivityValue::Empty, ActivityValue::Text("x".into())],
            },
        ]);
        let mut wire = Vec::new();
        packed.write_to(&mut wire).unwrap();
        let back = Activities::read_from(&mut wire.as_slice()).unwrap();
        assert_eq!(back, packed);

        // Truncated anywhere: an error, never a panic.
        for cut in 0..wire.len() {
            assert!(
                Activities::read_from(&mut &wire[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        // The text length of "Đà Lạt" (8 bytes) claimed as 1: inside "Đ", not a boundary.
        let text_len = "Đà Lạt".len() + "x".len();
        let first_text_len_at = 8 + text_len + 8 + 4 + 1;
        let mut bad = wire.clone();
        bad[first_text_len_at] = 1;
        assert!(Activities::read_from(&mut bad.as_slice()).is_err());
        // An unknown tag.
        let mut bad = wire.clone();
        bad[first_text_len_at - 1] = 9;
        assert!(Activities::read_from(&mut bad.as_slice()).is_err());
    }

    fn report(rel: &str, unit: &str, received: &str, hn: u64, errors: bool) -> Inspected {
        let mut fig = Figures::zero(9, 2);
        fig.values[0] = vec![hn, hn * 10];
        Inspected {
            rel: rel.into(),
            size: 100,
            received: at(received),
            sha256: Some(format!("sha-{rel}")),
            unit: Some(unit.into()),
            period: Some(Period::month(2026, 10)),
            content: Some(Content {
                figures: (!errors).then_some(fig),
                activities: vec![Activity {
                    source_row: 5,
                    values: vec![],
                }]
                .into(),
                narrative: vec!["a".into(), "b".into(), "c".into()],
                header: vec![],
            }),
            findings: if errors {
                vec![Finding::at_cell(
                    crate::finding::Severity::Error,
                    "bad_number",
                    "Chỉ tiêu",
                    9,
                    4,
                    "sai",
                )]
            } else {
                vec![]
            },
        }
    }

    fn run(files: Vec<Inspected>) -> Consolidation {
        let roster = Roster::from_toml(include_str!("../../config/roster.toml")).unwrap();
        let form = Form::from_toml(include_str!("../../config/form-kl14.toml")).unwrap();
        let frame = Frame {
            roster: &roster,
            form: &form,
            period: Period::month(2026, 10),
            deadline: at("2026-11-03T17:00:00+07:00"),
            generated_at: at("2026-11-04T08:00:00+07:00"),
        };
        consolidate(&frame, files, vec![])
    }

    fn unit<'a>(c: &'a Consolidation, id: &str) -> &'a UnitRow {
        c.units.iter().find(|u| u.id == id).unwrap()
    }

    fn outcome(c: &Consolidation, rel: &str) -> FileOutcome {
        c.files.iter().find(|f| f.path == rel).unwrap().outcome
    }

    #[test]
    fn newest_valid_file_wins_and_earlier_ones_are_superseded() {
        let c = run(vec![
            report(
                "v1.xlsx",
                "don-duong",
                "2026-10-31T16:20:00+07:00",
                2,
                false,
            ),
            report(
                "v2.xlsx",
                "don-duong",
                "2026-11-03T08:45:00+07:00",
                3,
                false,
            ),
        ]);
        let u = unit(&c, "don-duong");
        assert_eq!(u.status, UnitStatus::Accepted);
        assert_eq!(u.file.as_ref().unwrap().path, "v2.xlsx");
        assert_eq!(u.figures.as_ref().unwrap().get(0, 0), 3);
        assert_eq!(outcome(&c, "v1.xlsx"), FileOutcome::Superseded);
        assert_eq!(c.totals.get(0, 0), 3);
    }

    #[test]
    fn a_broken_correction_does_not_hide_the_valid_report() {
        let c = run(vec![
            report("ok.xlsx", "lam-ha", "2026-11-01T08:00:00+07:00", 4, false),
            report(
                "broken.xlsx",
                "lam-ha",
                "2026-11-02T08:00:00+07:00",
                0,
                true,
            ),
        ]);
        assert_eq!(unit(&c, "lam-ha").status, UnitStatus::Accepted);
        assert_eq!(outcome(&c, "broken.xlsx"), FileOutcome::Rejected);
        assert_eq!(outcome(&c, "ok.xlsx"), FileOutcome::Accepted);
    }

    #[test]
    fn late_rejected_missing_and_group_totals() {
        let c = run(vec![
            report("a.xlsx", "da-lat", "2026-11-02T08:00:00+07:00", 1, false),
            report("b.xlsx", "lam-ha", "2026-11-03T20:30:00+07:00", 2, false),
            report("c.xlsx", "di-linh", "2026-11-01T08:00:00+07:00", 9, true),
            report("d.xlsx", "cong-an", "2026-11-01T08:00:00+07:00", 5, false),
        ]);
        assert_eq!(unit(&c, "lam-ha").status_label(), "Nộp muộn");
        assert_eq!(unit(&c, "da-lat").status_label(), "Đúng hạn");
        assert_eq!(unit(&c, "di-linh").status_label(), "Bị từ chối");
        assert_eq!(unit(&c, "di-linh").file.as_ref().unwrap().errors, 1);
        assert_eq!(unit(&c, "dam-rong").status_label(), "Chưa nộp");
        assert_eq!(c.groups.len(), 3);
        assert_eq!(c.groups[0].figures.get(0, 0), 3);
        assert_eq!(c.groups[0].figures.get(0, 1), 30);
        assert_eq!(c.groups[1].figures.get(0, 0), 5);
        assert_eq!(c.groups[2].figures.get(0, 0), 0);
        assert_eq!(c.totals.get(0, 0), 8);
        assert_eq!(c.accepted_count(), 3);
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].unit_name.as_deref(), Some("Huyện ủy Di Linh"));
    }

    #[test]
    fn a_pdf_alone_rejects_the_unit_with_its_message_and_beside_a_report_is_set_aside() {
        let pdf = |rel: &str, unit: &str, received: &str| {
            let mut f = report(rel, unit, received, 0, false);
            f.period = None;
            f.content = None;
            f.findings = vec![Finding::new(
                crate::finding::Severity::Error,
                "not_a_spreadsheet",
                "Tệp là tệp PDF, không đọc được số liệu báo cáo từ tệp này.",
            )];
            f
        };
        let c = run(vec![
            pdf("HU Lâm Hà T10.pdf", "lam-ha", "2026-11-02T09:00:00+07:00"),
            pdf("HU Di Linh T10.pdf", "di-linh", "2026-11-02T09:00:00+07:00"),
            report(
                "HU Di Linh T10.xlsx",
                "di-linh",
                "2026-11-01T08:00:00+07:00",
                3,
                false,
            ),
            pdf("HU Di Linh ky.pdf", "di-linh", "2026-10-31T09:00:00+07:00"),
        ]);
        // Sent before the spreadsheet, it is not "replaced by a later version" either.
        assert_eq!(outcome(&c, "HU Di Linh ky.pdf"), FileOutcome::Ignored);
        // Only a PDF: the unit is not silent, it is rejected with the reason.
        assert_eq!(unit(&c, "lam-ha").status, UnitStatus::Rejected);
        assert!(
            c.messages
                .iter()
                .any(|m| m.unit.as_deref() == Some("lam-ha")
                    && m.finding.message.contains("tệp PDF"))
        );
        // A PDF beside the spreadsheet (even sent after it) does not reject anything.
        assert_eq!(unit(&c, "di-linh").status, UnitStatus::Accepted);
        assert_eq!(outcome(&c, "HU Di Linh T10.pdf"), FileOutcome::Ignored);
        let rec = c
            .files
            .iter()
            .find(|f| f.path == "HU Di Linh T10.pdf")
            .unwrap();
        assert_eq!(rec.findings.len(), 1);
        assert!(rec.findings[0].message.contains("HU Di Linh T10.xlsx"));
        assert_eq!(c.totals.get(0, 0), 3);
    }

    #[test]
    fn files_that_cannot_say_their_period_belong_only_to_the_window_they_arrived_in() {
        // October's window ends at its send, 04/11 08:00; November's at 04/12 08:00.
        let period_of = |t: &DateTime<FixedOffset>| {
            if *t < at("2026-11-04T08:00:00+07:00") {
                Period::month(2026, 10)
            } else {
                Period::month(2026, 11)
            }
        };
        let mut zero_oct = report(
            "ĐUK CCQ.xlsx",
            "khoi-cq",
            "2026-10-20T09:00:00+07:00",
            0,
            true,
        );
        zero_oct.period = None;
        zero_oct.content = None;
        let mut nobody_oct = report("Book1.xlsx", "x", "2026-11-03T09:00:00+07:00", 1, false);
        nobody_oct.unit = None;
        nobody_oct.period = None;
        let mut nobody_nov = nobody_oct.clone();
        nobody_nov.rel = "Book2.xlsx".into();
        nobody_nov.received = at("2026-11-04T08:00:00+07:00");
        // A late October report (declares October) stays October's whenever it arrives.
        let late_oct = report(
            "lam-ha.xlsx",
            "lam-ha",
            "2026-11-20T09:00:00+07:00",
            2,
            false,
        );
        // September's form dropped during October's window: shown in October as the wrong
        // period (the unit believes it has reported); dropped later, it is no one's business.
        let mut sept_in_window =
            report("t9.xlsx", "cat-tien", "2026-11-02T08:00:00+07:00", 7, false);
        sept_in_window.period = Some(Period::month(2026, 9));
        let mut sept_later = sept_in_window.clone();
        sept_later.rel = "t9 lan 2.xlsx".into();
        sept_later.received = at("2026-11-10T08:00:00+07:00");
        let junk = |rel: &str, t: Option<&str>| Ignored {
            rel: rel.into(),
            size: 1,
            received: t.map(at),
            reason: "x".into(),
        };
        let files = vec![
            zero_oct,
            nobody_oct,
            nobody_nov,
            late_oct,
            sept_in_window,
            sept_later,
        ];
        let ignored = vec![
            junk("BC T10.pdf", Some("2026-11-02T08:00:00+07:00")),
            junk("BC T11.pdf", Some("2026-12-01T08:00:00+07:00")),
            junk("unreadable", None),
        ];
        let names = |b: Belonging| {
            let elsewhere = b
                .elsewhere
                .iter()
                .map(|r| r.path.clone())
                .collect::<Vec<_>>();
            let mine = b
                .files
                .iter()
                .map(|f| f.rel.clone())
                .chain(b.ignored.iter().map(|i| i.rel.clone()))
                .collect::<Vec<_>>();
            // Nothing is lost: what is not this period's is a record of another one.
            assert_eq!(mine.len() + elsewhere.len(), 9);
            mine
        };
        let oct = belonging_to(
            Period::month(2026, 10),
            period_of,
            files.clone(),
            ignored.clone(),
        );
        assert_eq!(
            names(oct),
            [
                "ĐUK CCQ.xlsx",
                "Book1.xlsx",
                "lam-ha.xlsx",
                "t9.xlsx",
                "BC T10.pdf",
                "unreadable"
            ]
        );
        let nov = belonging_to(
            Period::month(2026, 11),
            period_of,
            files.clone(),
            ignored.clone(),
        );
        // The late October report arrived in November's window: November shows it as another
        // period's report (October counts it, above).
        assert_eq!(
            names(nov),
            [
                "Book2.xlsx",
                "lam-ha.xlsx",
                "t9 lan 2.xlsx",
                "BC T11.pdf",
                "unreadable"
            ]
        );
        // October's report shows Khối cơ quan rejected for its zero-byte file; November's
        // (above) does not carry the file at all.
        let b = belonging_to(Period::month(2026, 10), period_of, files, vec![]);
        let other = b.elsewhere.iter().find(|r| r.path == "Book2.xlsx").unwrap();
        assert_eq!(other.findings[0].kind, "other_window");
        assert!(
            other.findings[0].message.contains("08:00 04/11/2026")
                && other.findings[0].message.contains("thuộc kỳ Tháng 11/2026"),
            "{}",
            other.findings[0].message
        );
        let c = run(b.files);
        assert_eq!(unit(&c, "khoi-cq").status, UnitStatus::Rejected);
        assert_eq!(outcome(&c, "Book1.xlsx"), FileOutcome::Unidentified);
    }

    #[test]
    fn other_period_and_unidentified_files_are_recorded_not_counted() {
        let mut sept = report("t9.xlsx", "cat-tien", "2026-10-02T08:00:00+07:00", 7, false);
        sept.period = Some(Period::month(2026, 9));
        let mut nobody = report("Book1.xlsx", "x", "2026-11-01T08:00:00+07:00", 7, false);
        nobody.unit = None;
        let c = run(vec![sept, nobody]);
        assert_eq!(outcome(&c, "t9.xlsx"), FileOutcome::OtherPeriod);
        assert_eq!(outcome(&c, "Book1.xlsx"), FileOutcome::Unidentified);
        assert_eq!(unit(&c, "cat-tien").status, UnitStatus::Missing);
        assert_eq!(c.totals.get(0, 0), 0);
        let msg = &c
            .files
            .iter()
            .find(|f| f.path == "t9.xlsx")
            .unwrap()
            .findings[0]
            .message;
        assert!(
            msg.contains("Tháng 9/2026") && msg.contains("Tháng 10/2026"),
            "{msg}"
        );
    }
}
