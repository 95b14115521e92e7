//! summary.json: the run's outcome for scripts and monitoring. Pure: builds a JSON value.

use serde_json::{Map, Value, json};

use crate::config::Form;
use crate::pipeline::consolidate::{Consolidation, Figures};

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
    pub refused: Vec<crate::pipeline::compose::Refused>,
}

fn indicators(form: &Form, f: &Figures) -> Value {
    let mut m = Map::new();
    for (i, item) in form.indicators.items.iter().enumerate() {
        let mut v = Map::new();
        for (j, col) in form.indicators.values.iter().enumerate() {
            v.insert(col.key.clone(), json!(f.get(i, j)));
        }
        m.insert(item.code.clone(), Value::Object(v));
    }
    Value::Object(m)
}

/// A unit's header fields other than unit and period (`preparer`, `phone`, `date`), by the
/// form's keys in form order; a field the file left empty is null.
fn header(form: &Form, fields: &[(String, String)]) -> Value {
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
}

/// The summary document. `workbook` is the path of the consolidated workbook.
pub fn summary(c: &Consolidation, form: &Form, workbook: &str, mail: Option<&MailRecord>) -> Value {
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
                "indicators": u.figures.as_ref().map(|f| indicators(form, f)),
                // Each narrative block whole (paragraphs joined by line breaks), by its key.
                "narrative": u.figures.as_ref().map(|_| {
                    form.narrative.iter().zip(&u.narrative)
                        .map(|(b, t)| (b.key.clone(), json!(t)))
                        .collect::<Map<_, _>>()
                }),
                "activity_rows": u.activities.len(),
                "header": header(form, &u.header),
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
        .map(|g| json!({ "name": g.name, "units": g.units.len(), "indicators": indicators(form, &g.figures) }))
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
        "totals": indicators(form, &c.totals),
        "workbook": workbook,
        "mail": mail,
    })
}
