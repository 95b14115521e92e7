//! summary.json: the run's outcome for scripts and monitoring, as a typed [`Summary`]. Pure:
//! builds the value; [`Summary::to_json`] / [`Summary::from_json`] are its one text form.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::config::Form;
use crate::finding::Finding;
use crate::period::Period;
use crate::pipeline::consolidate::{Consolidation, Figures, FileOutcome, UnitStatus};

/// How the mail went, as recorded in the summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MailRecord {
    /// "file", "smtp" or "dry-run".
    pub transport: String,
    pub subject: String,
    pub message_id: String,
    pub recipients: Vec<String>,
    /// The .eml written, if any.
    pub eml: Option<String>,
    pub sent: bool,
    /// dry_run | sent | pending (queued for another attempt) | failed
    pub status: String,
    /// The last delivery error, if any.
    pub error: Option<String>,
    /// Recipients the server refused for good while the others got the mail (`sent`).
    /// (Absent from summaries written before refusals were recorded.)
    #[serde(default)]
    pub refused: Vec<crate::pipeline::compose::Refused>,
}

/// Figures by indicator code, then by value column key (`{"HN": {"ky_nay": 3, ...}}`).
pub type Indicators = BTreeMap<String, BTreeMap<String, u64>>;

/// The summary document of a run (`out/<period>/summary.json`, and the copy the store keeps of
/// the report that was sent, which a later supplementary report compares with).
///
/// The text is written through a `serde_json::Value`, whose objects keep their keys sorted: the
/// file has always listed its keys in that order, so the fields here are in the order that
/// reads best. The store keeps summaries written by older versions: a field added later has a
/// default, so they still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub period: Period,
    /// "Tháng 10/2026".
    pub period_label: String,
    #[serde(with = "rfc3339")]
    pub generated_at: DateTime<FixedOffset>,
    #[serde(with = "rfc3339")]
    pub deadline: DateTime<FixedOffset>,
    /// Units whose report was accepted.
    pub reported: usize,
    /// Units on the roster.
    pub roster: usize,
    /// In roster order.
    pub units: Vec<UnitSummary>,
    /// Every file seen, by path.
    pub files: Vec<FileSummary>,
    pub groups: Vec<GroupSummary>,
    pub totals: Indicators,
    /// The consolidated workbook's path.
    pub workbook: String,
    /// `None` in the copy recorded before the mail is queued.
    pub mail: Option<MailRecord>,
    /// Seconds each stage took, by stage (for monitoring and the benchmark); only in the file
    /// written at the end of a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings: Option<BTreeMap<String, f64>>,
}

/// One unit of the roster in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSummary {
    pub id: String,
    pub name: String,
    pub group: String,
    pub status: UnitStatus,
    pub late: bool,
    /// The file the unit's row is based on (inbox path).
    pub file: Option<String>,
    #[serde(with = "rfc3339_opt")]
    pub received: Option<DateTime<FixedOffset>>,
    pub sha256: Option<String>,
    pub errors: usize,
    pub warnings: usize,
    /// The accepted report's figures.
    pub indicators: Option<Indicators>,
    /// Each narrative block whole (paragraphs joined by line breaks), by its key; for an
    /// accepted report.
    #[serde(default)]
    pub narrative: Option<BTreeMap<String, String>>,
    pub activity_rows: usize,
    /// Header fields other than unit and period (`preparer`, `phone`, `date`) by the form's
    /// keys; a field the file left empty is `None`.
    #[serde(default)]
    pub header: BTreeMap<String, Option<String>>,
}

/// One file seen in the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub path: String,
    pub unit: Option<String>,
    pub outcome: FileOutcome,
    #[serde(with = "rfc3339_opt")]
    pub received: Option<DateTime<FixedOffset>>,
    pub size: u64,
    pub sha256: Option<String>,
    pub period: Option<Period>,
    pub findings: Vec<Finding>,
}

/// A group of the roster with its subtotal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub name: String,
    /// How many units it has.
    pub units: usize,
    pub indicators: Indicators,
}

/// Times as `DateTime::to_rfc3339` writes them (`+00:00`, never `Z`), as the file always had.
mod rfc3339 {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

mod rfc3339_opt {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        t: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.to_rfc3339()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl Summary {
    /// The document as the store keeps it (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.value()).expect("JSON values serialise")
    }

    /// The document as `summary.json` holds it (indented).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.value()).expect("JSON values serialise")
    }

    /// A summary read back (from the store); an error for a text that is not one.
    pub fn from_json(text: &str) -> Result<Summary, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Through a `Value`, so every object's keys come out sorted (see [`Summary`]).
    fn value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a summary is plain data")
    }
}

fn indicators(form: &Form, f: &Figures) -> Indicators {
    form.indicators
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let values = form
                .indicators
                .values
                .iter()
                .enumerate()
                .map(|(j, col)| (col.key.clone(), f.get(i, j)))
                .collect();
            (item.code.clone(), values)
        })
        .collect()
}

/// A unit's header fields other than unit and period (`preparer`, `phone`, `date`), by the
/// form's keys; a field the file left empty is `None`.
fn header(form: &Form, fields: &[(String, String)]) -> BTreeMap<String, Option<String>> {
    form.header
        .iter()
        .filter(|h| h.key != "unit" && h.key != "period")
        .map(|decl| {
            let text = fields
                .iter()
                .find(|(k, _)| *k == decl.key)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            (decl.key.clone(), text)
        })
        .collect()
}

/// The summary document. `workbook` is the path of the consolidated workbook.
pub fn summary(
    c: &Consolidation,
    form: &Form,
    workbook: &str,
    mail: Option<&MailRecord>,
) -> Summary {
    let units = c
        .units
        .iter()
        .map(|u| UnitSummary {
            id: u.id.clone(),
            name: u.name.clone(),
            group: u.group.clone(),
            status: u.status,
            late: u.late,
            file: u.file.as_ref().map(|f| f.path.clone()),
            received: u.file.as_ref().map(|f| f.received),
            sha256: u.file.as_ref().map(|f| f.sha256.clone()),
            errors: u.file.as_ref().map(|f| f.errors).unwrap_or(0),
            warnings: u.file.as_ref().map(|f| f.warnings).unwrap_or(0),
            indicators: u.figures.as_ref().map(|f| indicators(form, f)),
            narrative: u.figures.as_ref().map(|_| {
                form.narrative
                    .iter()
                    .zip(&u.narrative)
                    .map(|(b, t)| (b.key.clone(), t.clone()))
                    .collect()
            }),
            activity_rows: u.activities.len(),
            header: header(form, &u.header),
        })
        .collect();
    let files = c
        .files
        .iter()
        .map(|f| FileSummary {
            path: f.path.clone(),
            unit: f.unit.clone(),
            outcome: f.outcome,
            received: f.received,
            size: f.size,
            sha256: f.sha256.clone(),
            period: f.period,
            findings: f.findings.clone(),
        })
        .collect();
    let groups = c
        .groups
        .iter()
        .map(|g| GroupSummary {
            name: g.name.clone(),
            units: g.units.len(),
            indicators: indicators(form, &g.figures),
        })
        .collect();
    Summary {
        period: c.period,
        period_label: c.period.label(),
        generated_at: c.generated_at,
        deadline: c.deadline,
        reported: c.accepted_count(),
        roster: c.units.len(),
        units,
        files,
        groups,
        totals: indicators(form, &c.totals),
        workbook: workbook.to_owned(),
        mail: mail.cloned(),
        timings: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Roster;
    use crate::finding::Severity;
    use crate::pipeline::consolidate::{
        Activities, ActivityValue, Content, Frame, Ignored, Inspected, consolidate,
    };
    use serde_json::{Map, Value, json};

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn form() -> Form {
        Form::from_toml(include_str!("../../config/form-kl14.toml")).unwrap()
    }

    /// Đà Lạt accepted (late, with a warning, a header, narrative and an activity), Bảo Lộc
    /// rejected, a file of no unit, an ignored file; the rest of the roster missing.
    fn consolidation() -> Consolidation {
        let roster = Roster::from_toml(include_str!("../../config/roster.toml")).unwrap();
        let form = form();
        let mut fig = Figures::zero(9, 2);
        fig.values[0] = vec![3, 30];
        fig.values[1] = vec![120, 1500];
        let mut activities = Activities::new();
        activities.push(
            12,
            &[
                ActivityValue::Count(1),
                ActivityValue::Text("Hội nghị".into()),
            ],
        );
        let accepted = Inspected {
            rel: "Đà Lạt/bao-cao.xlsx".into(),
            size: 2048,
            received: t("2026-11-04T09:15:00+07:00"),
            sha256: Some("ab12".into()),
            unit: Some("da-lat".into()),
            period: Some(Period::month(2026, 10)),
            content: Some(Content {
                figures: Some(fig),
                activities,
                narrative: vec!["Nổi bật\ndòng hai".into(), String::new(), "Đề xuất".into()],
                header: vec![
                    ("preparer".into(), " Nguyễn Văn A ".into()),
                    ("phone".into(), "  ".into()),
                ],
            }),
            findings: vec![Finding::at_cell(
                Severity::Warning,
                "number_as_text",
                "Chỉ tiêu",
                5,
                3,
                "số được gõ dạng chữ",
            )],
        };
        let rejected = Inspected {
            rel: "bao-loc.xls".into(),
            size: 10,
            received: t("2026-11-02T08:00:00+07:00"),
            sha256: Some("cd34".into()),
            unit: Some("bao-loc".into()),
            period: None,
            content: None,
            findings: vec![Finding::new(Severity::Error, "unreadable", "Tệp hỏng.")],
        };
        let nobody = Inspected {
            rel: "khong-ro.xlsx".into(),
            unit: None,
            sha256: Some("ef56".into()),
            findings: vec![Finding::new(
                Severity::Error,
                "unit_unidentified",
                "Không xác định được đơn vị.",
            )],
            ..rejected.clone()
        };
        let ignored = Ignored {
            rel: "ghi-chu.txt".into(),
            size: 3,
            received: Some(t("2026-11-01T07:00:00+07:00")),
            reason: "không phải bảng tính".into(),
        };
        let frame = Frame {
            roster: &roster,
            form: &form,
            period: Period::month(2026, 10),
            deadline: t("2026-11-03T17:00:00+07:00"),
            generated_at: t("2026-11-04T10:30:00+07:00"),
        };
        consolidate(&frame, vec![accepted, rejected, nobody], vec![ignored])
    }

    fn mail() -> MailRecord {
        MailRecord {
            transport: "smtp".into(),
            subject: "Báo cáo tổng hợp KL14".into(),
            message_id: "<m@x>".into(),
            recipients: vec!["a@b.vn".into(), "c@d.vn".into()],
            eml: None,
            sent: true,
            status: "sent".into(),
            error: None,
            refused: vec![crate::pipeline::compose::Refused {
                address: "c@d.vn".into(),
                reply: "550 5.1.1 no such user".into(),
            }],
        }
    }

    /// summary.json as the `json!` macro built it until the summary was typed (commit e4e7806),
    /// kept to pin that the typed one writes the same document.
    fn as_the_json_macro_wrote_it(
        c: &Consolidation,
        form: &Form,
        workbook: &str,
        mail: Option<&MailRecord>,
    ) -> Value {
        let indicators = |f: &Figures| {
            let mut m = Map::new();
            for (i, item) in form.indicators.items.iter().enumerate() {
                let mut v = Map::new();
                for (j, col) in form.indicators.values.iter().enumerate() {
                    v.insert(col.key.clone(), json!(f.get(i, j)));
                }
                m.insert(item.code.clone(), Value::Object(v));
            }
            Value::Object(m)
        };
        let header = |fields: &[(String, String)]| {
            let mut m = Map::new();
            for decl in form
                .header
                .iter()
                .filter(|h| h.key != "unit" && h.key != "period")
            {
                let text = fields
                    .iter()
                    .find(|(k, _)| *k == decl.key)
                    .map(|(_, v)| v.trim())
                    .filter(|v| !v.is_empty());
                m.insert(decl.key.clone(), json!(text));
            }
            Value::Object(m)
        };
        let units: Vec<Value> = c
            .units
            .iter()
            .map(|u| {
                json!({
                    "id": u.id,
                    "name": u.name,
                    "group": u.group,
                    "status": u.status.as_str(),
                    "late": u.late,
                    "file": u.file.as_ref().map(|f| f.path.clone()),
                    "received": u.file.as_ref().map(|f| f.received.to_rfc3339()),
                    "sha256": u.file.as_ref().map(|f| f.sha256.clone()),
                    "errors": u.file.as_ref().map(|f| f.errors).unwrap_or(0),
                    "warnings": u.file.as_ref().map(|f| f.warnings).unwrap_or(0),
                    "indicators": u.figures.as_ref().map(indicators),
                    "narrative": u.figures.as_ref().map(|_| {
                        form.narrative.iter().zip(&u.narrative)
                            .map(|(b, t)| (b.key.clone(), json!(t)))
                            .collect::<Map<_, _>>()
                    }),
                    "activity_rows": u.activities.len(),
                    "header": header(&u.header),
                })
            })
            .collect();
        let files: Vec<Value> = c
            .files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path,
                    "unit": f.unit,
                    "outcome": f.outcome,
                    "received": f.received.map(|r| r.to_rfc3339()),
                    "size": f.size,
                    "sha256": f.sha256,
                    "period": f.period.map(|p| p.key()),
                    "findings": f.findings.iter().map(|x| json!({
                        "severity": x.severity,
                        "kind": x.kind,
                        "sheet": x.sheet,
                        "cell": x.cell,
                        "message": x.message,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let groups: Vec<Value> = c
            .groups
            .iter()
            .map(|g| json!({ "name": g.name, "units": g.units.len(), "indicators": indicators(&g.figures) }))
            .collect();
        json!({
            "period": c.period.key(),
            "period_label": c.period.label(),
            "generated_at": c.generated_at.to_rfc3339(),
            "deadline": c.deadline.to_rfc3339(),
            "reported": c.accepted_count(),
            "roster": c.units.len(),
            "units": units,
            "files": files,
            "groups": groups,
            "totals": indicators(&c.totals),
            "workbook": workbook,
            "mail": mail,
        })
    }

    #[test]
    fn the_typed_summary_writes_the_document_the_json_macro_wrote_byte_for_byte() {
        let c = consolidation();
        let form = form();
        let wb = "out/2026-10/Tổng hợp KL14 2026-10.xlsx";
        // The copy the store keeps before the mail is queued: one line, no mail, no timings.
        let provisional = summary(&c, &form, wb, None);
        let old = as_the_json_macro_wrote_it(&c, &form, wb, None);
        assert_eq!(provisional.to_json(), serde_json::to_string(&old).unwrap());
        // The file at the end of a run: indented, with the mail and the timings.
        let mut file = summary(&c, &form, wb, Some(&mail()));
        file.timings = Some(
            [("intake", 0.25), ("read+validate", 1.5), ("render", 0.125)]
                .map(|(k, v)| (k.to_owned(), v))
                .into(),
        );
        let mut old = as_the_json_macro_wrote_it(&c, &form, wb, Some(&mail()));
        old["timings"] = json!({"intake": 0.25, "read+validate": 1.5, "render": 0.125});
        assert_eq!(
            file.to_json_pretty(),
            serde_json::to_string_pretty(&old).unwrap()
        );
    }

    #[test]
    fn what_a_script_reads_in_the_summary() {
        let s = summary(&consolidation(), &form(), "wb.xlsx", None);
        assert_eq!((s.reported, s.roster), (1, 18));
        let da_lat = s.units.iter().find(|u| u.id == "da-lat").unwrap();
        assert_eq!(da_lat.status, UnitStatus::Accepted);
        assert!(da_lat.late);
        assert_eq!(da_lat.warnings, 1);
        assert_eq!(da_lat.indicators.as_ref().unwrap()["NG"]["luy_ke"], 1500);
        assert_eq!(
            da_lat.header,
            BTreeMap::from([
                ("date".to_owned(), None),
                ("phone".to_owned(), None),
                ("preparer".to_owned(), Some("Nguyễn Văn A".to_owned())),
            ])
        );
        assert_eq!(
            da_lat.narrative.as_ref().unwrap()["noi_bat"],
            "Nổi bật\ndòng hai"
        );
        assert_eq!(da_lat.activity_rows, 1);
        let bao_loc = s.units.iter().find(|u| u.id == "bao-loc").unwrap();
        assert_eq!((bao_loc.status, bao_loc.errors), (UnitStatus::Rejected, 1));
        assert_eq!(bao_loc.indicators, None);
        let text = s.to_json_pretty();
        assert!(
            text.contains(r#""generated_at": "2026-11-04T10:30:00+07:00""#),
            "{text}"
        );
        assert!(text.contains(r#""outcome": "unidentified""#), "{text}");
        assert_eq!(s.totals["HN"]["ky_nay"], 3);
    }

    #[test]
    fn a_summary_reads_back_as_it_was_written() {
        let mut s = summary(&consolidation(), &form(), "wb.xlsx", Some(&mail()));
        s.timings = Some([("render".to_owned(), 0.5)].into());
        assert_eq!(Summary::from_json(&s.to_json_pretty()).unwrap(), s);
        let provisional = summary(&consolidation(), &form(), "wb.xlsx", None);
        assert_eq!(
            Summary::from_json(&provisional.to_json()).unwrap(),
            provisional
        );
    }

    /// The store keeps the summaries of reports sent by older versions, which a supplementary
    /// report compares with: written before header fields, narratives and refusals were
    /// recorded, and without timings.
    #[test]
    fn a_summary_written_before_header_narrative_and_refusals_still_reads() {
        let s = summary(&consolidation(), &form(), "wb.xlsx", Some(&mail()));
        let mut old: Value = serde_json::from_str(&s.to_json()).unwrap();
        for u in old["units"].as_array_mut().unwrap() {
            let u = u.as_object_mut().unwrap();
            u.remove("header");
            u.remove("narrative");
        }
        old["mail"].as_object_mut().unwrap().remove("refused");
        let read = Summary::from_json(&old.to_string()).unwrap();
        assert_eq!(read.units.len(), 18);
        let da_lat = read.units.iter().find(|u| u.id == "da-lat").unwrap();
        assert_eq!(da_lat.narrative, None);
        assert!(da_lat.header.is_empty());
        assert_eq!(da_lat.indicators.as_ref().unwrap()["HN"]["ky_nay"], 3);
        assert_eq!(read.mail.unwrap().refused, []);
        assert_eq!(read.totals, s.totals);
    }

    #[test]
    fn a_text_that_is_not_a_summary_does_not_read() {
        assert!(Summary::from_json("").is_err());
        assert!(Summary::from_json("null").is_err());
        assert!(Summary::from_json(r#"{"period": "2026-10"}"#).is_err());
    }
}
