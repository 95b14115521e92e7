//! Findings: what is wrong with a unit's file, as data (never an error of the run).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The file is rejected: its figures are not counted.
    Error,
    /// Reported; the file is still counted.
    Warning,
    /// For the record (a superseded file, an ignored file).
    Info,
}

impl Severity {
    /// The Vietnamese word a clerk reads.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "Lỗi",
            Severity::Warning => "Cảnh báo",
            Severity::Info => "Ghi nhận",
        }
    }
}

/// One message about one file: where (sheet, cell) and what, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable machine name of the check (`bad_number`, `unreadable`, ...).
    pub kind: Cow<'static, str>,
    /// The sheet as the unit named it, if the finding is about a sheet.
    pub sheet: Option<String>,
    /// The cell in A1 form (`B5`), if the finding is about a cell.
    pub cell: Option<String>,
    /// The message in Vietnamese, naming the sheet and cell itself (`Hoạt động!B5: ...`).
    pub message: String,
}

impl Finding {
    pub fn new(severity: Severity, kind: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            kind: Cow::Borrowed(kind),
            sheet: None,
            cell: None,
            message: message.into(),
        }
    }

    /// A finding about one cell; the message is prefixed with `Sheet!A1: `.
    pub fn at_cell(
        severity: Severity,
        kind: &'static str,
        sheet: &str,
        row: u32,
        col: u32,
        message: impl AsRef<str>,
    ) -> Finding {
        let cell = a1(row, col);
        Finding {
            severity,
            kind: Cow::Borrowed(kind),
            sheet: Some(sheet.to_owned()),
            cell: Some(cell.clone()),
            message: format!("{sheet}!{cell}: {}", message.as_ref()),
        }
    }

    /// A finding about a whole sheet; the message is prefixed with `Trang "Sheet": `.
    pub fn at_sheet(
        severity: Severity,
        kind: &'static str,
        sheet: &str,
        message: impl AsRef<str>,
    ) -> Finding {
        Finding {
            severity,
            kind: Cow::Borrowed(kind),
            sheet: Some(sheet.to_owned()),
            cell: None,
            message: format!("Trang \"{sheet}\": {}", message.as_ref()),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Counts of errors and warnings in a list of findings.
pub fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    (errors, warnings)
}

/// Zero-based (row, col) to A1 notation: (4, 1) -> "B5".
pub fn a1(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row + 1)
}

/// Zero-based column index to letters: 0 -> "A", 25 -> "Z", 26 -> "AA", 16383 -> "XFD".
pub fn column_name(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_addresses() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(4, 1), "B5");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
        assert_eq!(a1(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn cell_finding_names_sheet_and_cell() {
        let f = Finding::at_cell(
            Severity::Error,
            "bad_number",
            "Hoạt động",
            4,
            1,
            "không phải số",
        );
        assert_eq!(f.message, "Hoạt động!B5: không phải số");
        assert_eq!(f.cell.as_deref(), Some("B5"));
    }
}
