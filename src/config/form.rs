//! The form declaration: what a unit's workbook holds and how to find it (see config/form-kl14.toml).

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::finding::Severity;
use crate::text::fold;

/// A form declaration as written in TOML. Every field is documented in `config/form-kl14.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub id: String,
    pub title: String,
    pub short_title: String,
    #[serde(default)]
    pub instructions: Vec<String>,
    #[serde(rename = "sheet")]
    pub sheets: Vec<SheetDecl>,
    #[serde(rename = "header", default)]
    pub header: Vec<HeaderField>,
    pub indicators: IndicatorTable,
    pub activities: ActivityTable,
    #[serde(rename = "narrative", default)]
    pub narrative: Vec<NarrativeBlock>,
    pub checks: Checks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetRole {
    Indicators,
    Activities,
    Narrative,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetDecl {
    pub role: SheetRole,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorTable {
    pub stt_header: String,
    pub code_header: String,
    pub name_header: String,
    pub measure_header: String,
    pub note_header: String,
    #[serde(rename = "value")]
    pub values: Vec<ValueColumn>,
    #[serde(rename = "item")]
    pub items: Vec<Indicator>,
    pub chart: Option<ChartDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueColumn {
    pub key: String,
    pub header: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub group: String,
    pub code: String,
    pub name: String,
    pub measure: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartDecl {
    pub codes: Vec<String>,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityTable {
    #[serde(default)]
    pub allow_blank_rows: bool,
    #[serde(rename = "column")]
    pub columns: Vec<ActivityColumn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Serial,
    Text,
    Date,
    Count,
    Choice,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityColumn {
    pub key: String,
    pub header: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub choices: Vec<String>,
    /// Column width in the blank form and the consolidated workbook (characters).
    pub width: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrativeBlock {
    pub key: String,
    pub label: String,
}

/// How a check's finding counts: an error rejects the file, a warning is reported, off is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckLevel {
    Error,
    Warning,
    Off,
}

impl CheckLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            CheckLevel::Error => Some(Severity::Error),
            CheckLevel::Warning => Some(Severity::Warning),
            CheckLevel::Off => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    pub number_as_text: CheckLevel,
    pub bad_number: CheckLevel,
    pub missing_indicator: CheckLevel,
    pub duplicate_indicator: CheckLevel,
    pub unknown_indicator: CheckLevel,
    pub cumulative_below_period: CheckLevel,
    pub activity_date_outside_period: CheckLevel,
    pub activity_bad_date: CheckLevel,
    pub activity_bad_choice: CheckLevel,
    pub activity_bad_count: CheckLevel,
    pub activity_missing_value: CheckLevel,
    pub narrative_missing: CheckLevel,
    pub extension_mismatch: CheckLevel,
    #[serde(default)]
    pub implies: Vec<ImpliesRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpliesRule {
    pub when: String,
    pub then: String,
    pub severity: CheckLevel,
    pub message: String,
}

impl Form {
    /// Parse and check a declaration. Errors are in English for the operator, naming the key.
    pub fn from_toml(text: &str) -> Result<Form, String> {
        let form: Form = toml::from_str(text).map_err(|e| super::toml_error(text, &e))?;
        form.check()?;
        Ok(form)
    }

    fn check(&self) -> Result<(), String> {
        for role in [
            SheetRole::Indicators,
            SheetRole::Activities,
            SheetRole::Narrative,
        ] {
            let n = self.sheets.iter().filter(|s| s.role == role).count();
            if n != 1 {
                return Err(format!(
                    "sheet: cần đúng một trang có role = {role:?}, đang có {n}"
                ));
            }
        }
        let mut seen = BTreeMap::new();
        for item in &self.indicators.items {
            if item.code.trim().is_empty() {
                return Err("indicators.item: có chỉ tiêu để trống mã (code)".into());
            }
            if seen.insert(fold(&item.code), ()).is_some() {
                return Err(format!(
                    "indicators.item: mã {:?} được khai báo hai lần",
                    item.code
                ));
            }
        }
        if self.indicators.values.is_empty() {
            return Err("indicators.value: cần ít nhất một cột giá trị".into());
        }
        if let Some(chart) = &self.indicators.chart {
            for c in &chart.codes {
                if self.indicator_index(c).is_none() {
                    return Err(format!(
                        "indicators.chart.codes: không có chỉ tiêu mã {c:?}"
                    ));
                }
            }
            if self.value_index(&chart.value).is_none() {
                return Err(format!(
                    "indicators.chart.value: không có cột giá trị {:?}",
                    chart.value
                ));
            }
        }
        for rule in &self.checks.implies {
            for c in [&rule.when, &rule.then] {
                if self.indicator_index(c).is_none() {
                    return Err(format!("checks.implies: không có chỉ tiêu mã {c:?}"));
                }
            }
        }
        for col in &self.activities.columns {
            if col.kind == ColumnType::Choice && col.choices.is_empty() {
                return Err(format!(
                    "activities.column {:?}: kiểu choice cần danh sách choices",
                    col.key
                ));
            }
        }
        for key in ["unit", "period"] {
            if !self.header.iter().any(|h| h.key == key) {
                return Err(format!("header: cần một trường có key = {key:?}"));
            }
        }
        Ok(())
    }

    pub fn sheet(&self, role: SheetRole) -> &SheetDecl {
        self.sheets
            .iter()
            .find(|s| s.role == role)
            .expect("Form::check guarantees one sheet per role")
    }

    pub fn indicator_index(&self, code: &str) -> Option<usize> {
        let code = fold(code);
        self.indicators
            .items
            .iter()
            .position(|i| fold(&i.code) == code)
    }

    pub fn value_index(&self, key: &str) -> Option<usize> {
        self.indicators.values.iter().position(|v| v.key == key)
    }

    pub fn header_label(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|h| h.key == key)
            .map(|h| h.label.as_str())
    }

    /// Group titles in declaration order, each with the indexes of its indicators.
    pub fn indicator_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, item) in self.indicators.items.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| *g == item.group) {
                Some((_, v)) => v.push(i),
                None => groups.push((item.group.clone(), vec![i])),
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_form_parses() {
        let form = Form::from_toml(include_str!("../../config/form-kl14.toml")).unwrap();
        assert_eq!(form.indicators.items.len(), 9);
        assert_eq!(form.indicators.items[0].code, "HN");
        assert_eq!(form.value_index("luy_ke"), Some(1));
        assert_eq!(form.indicator_groups().len(), 3);
        assert_eq!(form.activities.columns[2].choices.len(), 9);
    }

    #[test]
    fn unknown_key_is_refused_with_its_name() {
        let text = include_str!("../../config/form-kl14.toml").replace("short_title", "shorttitle");
        let err = Form::from_toml(&text).unwrap_err();
        assert!(err.contains("shorttitle"), "{err}");
    }
}
