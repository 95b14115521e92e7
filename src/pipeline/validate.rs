//! Validate: a `SubmittedWorkbook` against the form declaration. Parts are found by their labels
//! and header rows, never by fixed addresses. The result is the report's content plus findings
//! (errors reject the file, warnings do not). Pure: no IO.

use chrono::NaiveDate;

use crate::config::form::{ActivityColumn, CheckLevel, ColumnType, Form, SheetRole};
use crate::finding::{Finding, Severity, a1};
use crate::numbers::{self, Count};
use crate::period::{Period, PeriodKind};
use crate::pipeline::content::{Activities, Activity, ActivityValue, Figures};
use crate::pipeline::read::{CellValue, Sheet, SubmittedWorkbook, formula};
use crate::text::fold;

/// Where a value was found: sheet name and zero-based row/col.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CellRef {
    pub sheet: String,
    pub row: u32,
    pub col: u32,
}

impl CellRef {
    pub fn a1(&self) -> String {
        format!("{}!{}", self.sheet, a1(self.row, self.col))
    }
}

/// A header field as found: its key, its text, and where.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeaderValue {
    pub key: String,
    pub text: String,
    pub at: CellRef,
    /// The raw cell (the period cell may be a date Excel made of "10/2026").
    pub raw: CellValue,
}

/// The content of a report as read against the form, with every finding. A read worker sends
/// it back as JSON with the activities after it in their packed form (`isolate.rs`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Examined {
    pub header: Vec<HeaderValue>,
    /// The period the file declares, if the `period` header could be read.
    pub period: Option<Period>,
    pub figures: Option<Figures>,
    #[serde(skip)]
    pub activities: Activities,
    /// Where each activity's date sits (for the period check), parallel to `activities`.
    #[serde(skip)]
    activity_dates: Vec<Option<(NaiveDate, CellRef)>>,
    pub narrative: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Examined {
    pub fn header(&self, key: &str) -> Option<&HeaderValue> {
        self.header.iter().find(|h| h.key == key)
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

struct Ctx<'a> {
    form: &'a Form,
    findings: Vec<Finding>,
}

impl Ctx<'_> {
    fn cell(
        &mut self,
        level: CheckLevel,
        kind: &'static str,
        sheet: &str,
        row: u32,
        col: u32,
        msg: String,
    ) {
        if let Some(sev) = level.severity() {
            self.findings
                .push(Finding::at_cell(sev, kind, sheet, row, col, msg));
        }
    }

    fn sheet(&mut self, level: CheckLevel, kind: &'static str, sheet: &str, msg: String) {
        if let Some(sev) = level.severity() {
            self.findings.push(Finding::at_sheet(sev, kind, sheet, msg));
        }
    }

    fn error(&mut self, kind: &'static str, msg: String) {
        self.findings.push(Finding::new(Severity::Error, kind, msg));
    }

    /// A formula saved without its result, at (row, col): its value if it can be computed exactly
    /// (with a warning), else `None` with a finding at `unknown` level. `what` names the value.
    fn formula_value(
        &mut self,
        sheet: &Sheet,
        (row, col): (u32, u32),
        formula: &str,
        what: &str,
        unknown: CheckLevel,
    ) -> Option<f64> {
        let shown = excerpt(&format!("={formula}"), 60);
        match formula::evaluate(formula, sheet) {
            Some(v) => {
                let value = CellValue::Number(v).display();
                self.cell(
                    CheckLevel::Warning,
                    "formula_computed",
                    &sheet.name,
                    row,
                    col,
                    format!(
                        "{what}: ô có công thức {shown} nhưng tệp không lưu kết quả (thường do tệp được tạo bằng phần mềm khác mà chưa mở bằng Excel); chương trình đã tự tính được {value}. Nên mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi lại."
                    ),
                );
                Some(v)
            }
            None => {
                self.cell(
                    unknown,
                    "formula_unknown",
                    &sheet.name,
                    row,
                    col,
                    format!(
                        "{what}: ô có công thức {shown} nhưng tệp không lưu kết quả, nên không biết giá trị của ô này. Đề nghị mở tệp bằng Excel hoặc LibreOffice, lưu lại (để công thức được tính) rồi gửi lại."
                    ),
                );
                None
            }
        }
    }

    /// A warning that content in a part of the form is not read, naming its cells.
    fn not_read(&mut self, sheet: &str, cells: &[(u32, u32)], msg: String) {
        let Some(&(row, col)) = cells.first() else {
            return;
        };
        self.findings.push(Finding::at_cell(
            Severity::Warning,
            "content_not_read",
            sheet,
            row,
            col,
            msg,
        ));
    }
}

/// The first `max` characters of a text, on one line, with "…" if cut.
fn excerpt(s: &str, max: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    }
}

/// "E22, F22" (at most `max` cells, then "và N ô khác").
fn cell_list(cells: &[(u32, u32)], max: usize) -> String {
    let mut out = cells
        .iter()
        .take(max)
        .map(|(r, c)| a1(*r, *c))
        .collect::<Vec<_>>()
        .join(", ");
    if cells.len() > max {
        out.push_str(&format!(" và {} ô khác", cells.len() - max));
    }
    out
}

/// Cells with their text, for a message: `A10 "Kết quả nổi bật", B10 "Ra mắt…"`.
fn cells_with_text(sheet: &Sheet, cells: &[(u32, u32)], max: usize) -> String {
    let mut out = cells
        .iter()
        .take(max)
        .map(|(r, c)| {
            let t = sheet.get(*r, *c).map(text_of).unwrap_or_default();
            format!("{} \"{}\"", a1(*r, *c), excerpt(&t, 40))
        })
        .collect::<Vec<_>>()
        .join(", ");
    if cells.len() > max {
        out.push_str(&format!(" và {} ô khác", cells.len() - max));
    }
    out
}

/// Row numbers as people read them, runs shortened: "10-11, 15".
fn row_list(rows: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &r in rows {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == r => *end = r,
            _ => runs.push((r, r)),
        }
    }
    let mut out: Vec<String> = runs
        .iter()
        .take(10)
        .map(|(a, b)| {
            if a == b {
                format!("{}", a + 1)
            } else {
                format!("{}-{}", a + 1, b + 1)
            }
        })
        .collect();
    if runs.len() > 10 {
        out.push("...".into());
    }
    out.join(", ")
}

/// Read everything the form declares out of a workbook. The period-dependent checks are in
/// `check_period`, because the period a file is judged against is decided after identification.
pub fn examine(form: &Form, wb: &SubmittedWorkbook, period_kind: PeriodKind) -> Examined {
    let mut ctx = Ctx {
        form,
        findings: wb.findings.clone(),
    };

    let ind_sheet = find_sheet(form, wb, SheetRole::Indicators, |s| {
        find_indicator_header(form, s).is_some()
    });
    let act_sheet = find_sheet(form, wb, SheetRole::Activities, |s| {
        find_activity_header(form, s).is_some()
    });
    let nar_sheet = find_sheet(form, wb, SheetRole::Narrative, |s| {
        form.narrative
            .iter()
            .any(|b| find_label(s, &b.label, 0, u32::MAX).is_some())
    });

    let mut header = Vec::new();
    let mut figures = None;
    match ind_sheet {
        Some(sheet) => {
            let table = find_indicator_header(form, sheet);
            let header_limit = table.as_ref().map(|t| t.row).unwrap_or(u32::MAX);
            header = read_header(&mut ctx, sheet, header_limit);
            match table {
                Some(t) => figures = read_indicators(&mut ctx, sheet, &t),
                None => ctx.sheet(
                    CheckLevel::Error,
                    "indicator_table_missing",
                    &sheet.name,
                    format!(
                        "không tìm thấy dòng tiêu đề của bảng chỉ tiêu (cần có các cột \"{}\" và {}). Đề nghị dùng đúng mẫu, không đổi tên các cột.",
                        form.indicators.code_header,
                        form.indicators.values.iter().map(|v| format!("\"{}\"", v.header)).collect::<Vec<_>>().join(", ")
                    ),
                ),
            }
        }
        None => ctx.error(
            "sheet_missing",
            format!(
                "Không tìm thấy trang \"{}\" (trang chỉ tiêu) trong tệp. Các trang có trong tệp: {}.",
                form.sheet(SheetRole::Indicators).name,
                sheet_list(wb)
            ),
        ),
    }

    let (activities, activity_dates) = match act_sheet {
        Some(sheet) => read_activities(&mut ctx, sheet),
        None => {
            ctx.error(
                "sheet_missing",
                format!(
                    "Không tìm thấy trang \"{}\" (danh sách hoạt động) trong tệp. Các trang có trong tệp: {}.",
                    form.sheet(SheetRole::Activities).name,
                    sheet_list(wb)
                ),
            );
            (Vec::new(), Vec::new())
        }
    };

    let narrative = match nar_sheet {
        Some(sheet) => read_narrative(&mut ctx, sheet),
        None => {
            if let Some(sev) = form.checks.narrative_missing.severity() {
                ctx.findings.push(Finding::new(
                    sev,
                    "narrative_missing",
                    format!(
                        "Không tìm thấy trang \"{}\" (thuyết minh) trong tệp.",
                        form.sheet(SheetRole::Narrative).name
                    ),
                ));
            }
            vec![String::new(); form.narrative.len()]
        }
    };

    let period = read_period(&mut ctx, &header, period_kind);

    // A sheet no part of the form was read from, with content: a second copy of a sheet, or
    // activities kept on a sheet of their own, must not vanish without a word.
    for sheet in &wb.sheets {
        let used = [ind_sheet, act_sheet, nar_sheet]
            .iter()
            .flatten()
            .any(|s| std::ptr::eq(*s, sheet));
        // Hidden sheets hold a form's machinery (the blank form's drop-down lists).
        if used || sheet.rows.is_empty() || sheet.hidden {
            continue;
        }
        let cells: Vec<(u32, u32)> = sheet
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().map(|(c, _)| (r.index, *c)))
            .collect();
        ctx.findings.push(Finding::at_sheet(
            Severity::Warning,
            "content_not_read",
            &sheet.name,
            format!(
                "trang này không thuộc mẫu báo cáo nên {} ô có nội dung của nó không được đọc ({}). Nếu đây là số liệu, hoạt động hay thuyết minh, đề nghị chép vào đúng trang của mẫu rồi gửi lại.",
                cells.len(),
                cells_with_text(sheet, &cells, 3)
            ),
        ));
    }

    Examined {
        header,
        period,
        figures,
        activities: activities.into(),
        activity_dates,
        narrative,
        findings: ctx.findings,
    }
}

/// The checks that need the period the file is judged against: activity dates.
pub fn check_period(form: &Form, ex: &mut Examined, period: &Period) {
    let Some(sev) = form.checks.activity_date_outside_period.severity() else {
        return;
    };
    for (date, at) in ex.activity_dates.iter().flatten() {
        if !period.contains(*date) {
            ex.findings.push(Finding::at_cell(
                sev,
                "activity_date_outside_period",
                &at.sheet,
                at.row,
                at.col,
                format!(
                    "ngày {} nằm ngoài kỳ báo cáo {} ({} - {})",
                    date.format("%d/%m/%Y"),
                    period.label(),
                    period.first_day().format("%d/%m/%Y"),
                    period.last_day().format("%d/%m/%Y")
                ),
            ));
        }
    }
}

fn sheet_list(wb: &SubmittedWorkbook) -> String {
    if wb.sheets.is_empty() {
        return "(không có trang nào)".into();
    }
    wb.sheets
        .iter()
        .map(|s| format!("\"{}\"", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sheet for a role: by name or alias (folded), else the first sheet whose content fits.
fn find_sheet<'a>(
    form: &Form,
    wb: &'a SubmittedWorkbook,
    role: SheetRole,
    fits: impl Fn(&Sheet) -> bool,
) -> Option<&'a Sheet> {
    let decl = form.sheet(role);
    let names: Vec<String> = std::iter::once(&decl.name)
        .chain(&decl.aliases)
        .map(|n| fold(n))
        .collect();
    wb.sheets
        .iter()
        .find(|s| names.contains(&fold(&s.name)))
        .or_else(|| wb.sheets.iter().find(|s| fits(s)))
}

fn text_of(v: &CellValue) -> String {
    match v {
        CellValue::Text(s) => s.trim().to_owned(),
        other => other.display(),
    }
}

fn label_matches(cell: &str, label: &str) -> bool {
    let f = fold(cell);
    !f.is_empty() && f == fold(label)
}

/// Find a label cell in rows `from..to`; returns (row, col, inline value after a ':' if any).
fn find_label(
    sheet: &Sheet,
    label: &str,
    from: u32,
    to: u32,
) -> Option<(u32, u32, Option<String>)> {
    let want = fold(label);
    for row in sheet
        .rows
        .iter()
        .filter(|r| r.index >= from && r.index < to)
    {
        for (col, v) in &row.cells {
            let CellValue::Text(s) = v else { continue };
            if fold(s) == want {
                return Some((row.index, *col, None));
            }
            // "Đơn vị báo cáo: Huyện ủy Lâm Hà" typed in one cell.
            if let Some((before, after)) = s.split_once(':')
                && fold(before) == want
            {
                let after = after.trim();
                return Some((
                    row.index,
                    *col,
                    (!after.is_empty()).then(|| after.to_owned()),
                ));
            }
        }
    }
    None
}

/// The first non-empty cell right of (row, col) on the same row.
fn right_of(sheet: &Sheet, row: u32, col: u32) -> Option<(u32, &CellValue)> {
    sheet
        .row(row)?
        .cells
        .iter()
        .find(|(c, v)| *c > col && !text_of(v).is_empty())
        .map(|(c, v)| (*c, v))
}

fn read_header(ctx: &mut Ctx<'_>, sheet: &Sheet, limit: u32) -> Vec<HeaderValue> {
    let mut out = Vec::new();
    for field in &ctx.form.header {
        let found = find_label(sheet, &field.label, 0, limit);
        let value = match &found {
            Some((row, col, Some(inline))) => Some((
                CellRef {
                    sheet: sheet.name.clone(),
                    row: *row,
                    col: *col,
                },
                CellValue::Text(inline.clone()),
            )),
            Some((row, col, None)) => right_of(sheet, *row, *col).map(|(c, v)| {
                (
                    CellRef {
                        sheet: sheet.name.clone(),
                        row: *row,
                        col: c,
                    },
                    v.clone(),
                )
            }),
            None => None,
        };
        match value {
            Some((at, raw)) => {
                let text = match &raw {
                    CellValue::DateTime(d) => d.format("%d/%m/%Y").to_string(),
                    // A one-line field typed over two lines ("Huyện ủy\nLâm Hà") reads as one.
                    other => text_of(other)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                out.push(HeaderValue {
                    key: field.key.clone(),
                    text,
                    at,
                    raw,
                });
            }
            None if field.required => {
                let msg = match found {
                    Some((row, col, _)) => Finding::at_cell(
                        Severity::Error,
                        "header_missing",
                        &sheet.name,
                        row,
                        col,
                        format!("chưa ghi \"{}\" (ghi vào ô bên phải nhãn)", field.label),
                    ),
                    None => Finding::at_sheet(
                        Severity::Error,
                        "header_missing",
                        &sheet.name,
                        format!("không tìm thấy nhãn \"{}:\" ở phần đầu biểu", field.label),
                    ),
                };
                ctx.findings.push(msg);
            }
            None => {}
        }
    }
    out
}

fn read_period(ctx: &mut Ctx<'_>, header: &[HeaderValue], kind: PeriodKind) -> Option<Period> {
    let h = header.iter().find(|h| h.key == "period")?;
    let parsed = match &h.raw {
        // Excel turns a typed "10/2026" into the date 01/10/2026.
        CellValue::DateTime(d) => Some(Period::containing(kind, d.date())),
        _ => Period::parse_label(&h.text),
    };
    if parsed.is_none() {
        ctx.findings.push(Finding::at_cell(
            Severity::Error,
            "period_unreadable",
            &h.at.sheet,
            h.at.row,
            h.at.col,
            format!(
                "không đọc được kỳ báo cáo \"{}\"; ghi theo dạng \"Tháng 10/2026\" hoặc \"Quý IV/2026\"",
                h.text
            ),
        ));
    }
    parsed
}

struct IndicatorHeader {
    row: u32,
    code_col: u32,
    value_cols: Vec<u32>,
    /// Columns of the form's other headers (STT, name, measure): text of the form, not data.
    form_cols: Vec<u32>,
    note_col: Option<u32>,
}

fn find_indicator_header(form: &Form, sheet: &Sheet) -> Option<IndicatorHeader> {
    let t = &form.indicators;
    for row in &sheet.rows {
        let col_of = |labels: &[&str]| {
            row.cells
                .iter()
                .find(|(_, v)| {
                    v.as_text()
                        .is_some_and(|s| labels.iter().any(|l| label_matches(s, l)))
                })
                .map(|(c, _)| *c)
        };
        let Some(code_col) = col_of(&[&t.code_header]) else {
            continue;
        };
        let value_cols: Option<Vec<u32>> = t
            .values
            .iter()
            .map(|v| {
                let mut labels: Vec<&str> = vec![&v.header];
                labels.extend(v.aliases.iter().map(String::as_str));
                col_of(&labels)
            })
            .collect();
        if let Some(value_cols) = value_cols {
            return Some(IndicatorHeader {
                row: row.index,
                code_col,
                value_cols,
                form_cols: [&t.stt_header, &t.name_header, &t.measure_header]
                    .into_iter()
                    .filter_map(|h| col_of(&[h]))
                    .collect(),
                note_col: col_of(&[&t.note_header]),
            });
        }
    }
    None
}

fn read_indicators(ctx: &mut Ctx<'_>, sheet: &Sheet, t: &IndicatorHeader) -> Option<Figures> {
    let form = ctx.form;
    let n_val = form.indicators.values.len();
    let mut figures = Figures::zero(form.indicators.items.len(), n_val);
    let mut seen: Vec<Option<u32>> = vec![None; form.indicators.items.len()];
    // Indicators with a value nobody knows: left out of the cross checks.
    let mut unknown = vec![false; form.indicators.items.len()];
    // Notes on indicator rows, and cells of indicator rows in columns the table does not have.
    let mut notes: Vec<(u32, u32, &str)> = Vec::new();
    let mut extra: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    let mut ok = true;
    let mut rows_since_code = 0u32;
    let mut last_row = t.row;
    let mut ended_at = None;
    for row in sheet.rows.iter().filter(|r| r.index > t.row) {
        rows_since_code += row.index - last_row;
        last_row = row.index;
        // The table has ended when no code has been seen for a while (a signature block follows).
        if rows_since_code > 10 && seen.iter().any(Option::is_some) {
            ended_at = Some(row.index);
            break;
        }
        let code_text = sheet
            .get(row.index, t.code_col)
            .map(text_of)
            .unwrap_or_default();
        let Some(idx) = form.indicator_index(&code_text) else {
            let looks_like_code =
                !code_text.is_empty() && code_text.len() <= 10 && !code_text.contains(' ');
            // Figures on a row the table does not take (no code, or a code written elsewhere).
            let figures: Vec<(u32, u32)> = t
                .value_cols
                .iter()
                .filter(|c| match sheet.get(row.index, **c) {
                    None => false,
                    Some(CellValue::Text(s)) => matches!(
                        crate::pipeline::read::count(Some(&CellValue::Text(s.clone()))),
                        Count::Text(_)
                    ),
                    Some(_) => true,
                })
                .map(|c| (row.index, *c))
                .collect();
            if !figures.is_empty() && !looks_like_code {
                ctx.not_read(
                    &sheet.name,
                    &figures,
                    format!(
                        "dòng {} có số liệu ({}) nhưng không có mã chỉ tiêu của mẫu ở cột \"{}\"; số liệu này không được tính. Nếu đây là một chỉ tiêu, ghi đúng mã chỉ tiêu; nếu là dòng cộng thì không cần sửa.",
                        row.index + 1,
                        cell_list(&figures, 4),
                        form.indicators.code_header
                    ),
                );
            }
            if looks_like_code {
                ctx.cell(
                    form.checks.unknown_indicator,
                    "unknown_indicator",
                    &sheet.name,
                    row.index,
                    t.code_col,
                    format!(
                        "mã chỉ tiêu \"{code_text}\" không có trong mẫu; dòng này không được tính"
                    ),
                );
            }
            continue;
        };
        rows_since_code = 0;
        let item = &form.indicators.items[idx];
        // Text in the row outside the columns the table takes: a note, an extra column.
        for (c, _) in &row.cells {
            if *c == t.code_col || t.value_cols.contains(c) || t.form_cols.contains(c) {
                continue;
            }
            if Some(*c) == t.note_col {
                notes.push((row.index, *c, item.code.as_str()));
            } else {
                extra.entry(*c).or_default().push(row.index);
            }
        }
        if let Some(first) = seen[idx] {
            ctx.cell(
                form.checks.duplicate_indicator,
                "duplicate_indicator",
                &sheet.name,
                row.index,
                t.code_col,
                format!(
                    "mã chỉ tiêu {} xuất hiện hai lần (đã có ở dòng {})",
                    item.code,
                    first + 1
                ),
            );
            if form.checks.duplicate_indicator == CheckLevel::Error {
                ok = false;
            }
            continue;
        }
        seen[idx] = Some(row.index);
        for (vi, col) in t.value_cols.iter().enumerate() {
            let title = &form.indicators.values[vi].header;
            let computed;
            let mut cell = sheet.get(row.index, *col);
            if let Some(CellValue::Formula(f)) = cell {
                let what = format!("chỉ tiêu {} ({title})", item.code);
                // A counted figure nobody can know rejects the file.
                match ctx.formula_value(sheet, (row.index, *col), f, &what, CheckLevel::Error) {
                    Some(v) => {
                        computed = CellValue::Number(v);
                        cell = Some(&computed);
                    }
                    None => {
                        ok = false;
                        unknown[idx] = true;
                        continue;
                    }
                }
            }
            match crate::pipeline::read::count(cell) {
                Count::Number(n) => figures.values[idx][vi] = n,
                Count::Text(n) => {
                    figures.values[idx][vi] = n;
                    let raw = sheet.get(row.index, *col).map(text_of).unwrap_or_default();
                    ctx.cell(
                        form.checks.number_as_text,
                        "number_as_text",
                        &sheet.name,
                        row.index,
                        *col,
                        format!(
                            "chỉ tiêu {} ({title}): số \"{raw}\" được ghi dạng chữ; đã hiểu là {}",
                            item.code,
                            numbers::vi(n)
                        ),
                    );
                }
                Count::Bad(reason) => {
                    ctx.cell(
                        form.checks.bad_number,
                        "bad_number",
                        &sheet.name,
                        row.index,
                        *col,
                        format!("chỉ tiêu {} ({title}): {reason}", item.code),
                    );
                    if form.checks.bad_number == CheckLevel::Error {
                        ok = false;
                    }
                }
            }
        }
    }
    unread_in_indicator_rows(ctx, sheet, t, &notes, &extra);
    if let Some(end) = ended_at {
        // Figures or codes below the table's end (a second table, rows pasted further down).
        let stray: Vec<(u32, u32)> = sheet
            .rows
            .iter()
            .filter(|r| r.index >= end)
            .flat_map(|r| {
                r.cells
                    .iter()
                    .filter(|(c, v)| {
                        (t.value_cols.contains(c) && !matches!(v, CellValue::Text(_)))
                            || (*c == t.code_col && form.indicator_index(&text_of(v)).is_some())
                    })
                    .map(move |(c, _)| (r.index, *c))
            })
            .collect();
        if !stray.is_empty() {
            ctx.not_read(
                &sheet.name,
                &stray,
                format!(
                    "bên dưới bảng chỉ tiêu (đã kết thúc trước dòng {}) còn có số liệu hoặc mã chỉ tiêu ({}) không được đọc. Nếu đây là số liệu của báo cáo, đề nghị ghi vào đúng dòng của bảng.",
                    end + 1,
                    cell_list(&stray, 6)
                ),
            );
        }
    }
    for (idx, at) in seen.iter().enumerate() {
        if at.is_none() {
            let item = &form.indicators.items[idx];
            ctx.cell(
                form.checks.missing_indicator,
                "missing_indicator",
                &sheet.name,
                t.row,
                t.code_col,
                format!(
                    "không tìm thấy dòng chỉ tiêu có mã {} ({})",
                    item.code, item.name
                ),
            );
            if form.checks.missing_indicator == CheckLevel::Error {
                ok = false;
            }
        }
    }
    // Cross checks, on what was read.
    if n_val >= 2 {
        for (idx, at) in seen.iter().enumerate() {
            let Some(row) = at.as_ref().filter(|_| !unknown[idx]) else {
                continue;
            };
            let (this, cum) = (figures.values[idx][0], figures.values[idx][1]);
            if cum < this {
                let item = &form.indicators.items[idx];
                ctx.cell(
                    form.checks.cumulative_below_period,
                    "cumulative_below_period",
                    &sheet.name,
                    *row,
                    t.value_cols[1],
                    format!(
                        "chỉ tiêu {}: {} ({}) nhỏ hơn {} ({})",
                        item.code,
                        form.indicators.values[1].header,
                        numbers::vi(cum),
                        form.indicators.values[0].header,
                        numbers::vi(this)
                    ),
                );
            }
        }
    }
    for rule in &form.checks.implies {
        let (Some(w), Some(th)) = (
            form.indicator_index(&rule.when),
            form.indicator_index(&rule.then),
        ) else {
            continue;
        };
        let (Some(_), Some(then_row)) = (seen[w], seen[th]) else {
            continue;
        };
        if unknown[w] || unknown[th] {
            continue;
        }
        if figures.values[w][0] > 0 && figures.values[th][0] == 0 {
            ctx.cell(
                rule.severity,
                "implies",
                &sheet.name,
                then_row,
                t.value_cols[0],
                rule.message.clone(),
            );
        }
    }
    ok.then_some(figures)
}

/// Warnings for what indicator rows hold beyond their figures: notes (each named while few) and
/// columns the form does not have (one warning per column).
fn unread_in_indicator_rows(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    t: &IndicatorHeader,
    notes: &[(u32, u32, &str)],
    extra: &std::collections::BTreeMap<u32, Vec<u32>>,
) {
    let form = ctx.form;
    let narrative_sheet = &form.sheet(SheetRole::Narrative).name;
    let note_text = |r: u32, c: u32| excerpt(&sheet.get(r, c).map(text_of).unwrap_or_default(), 80);
    if notes.len() <= 3 {
        for (r, c, code) in notes {
            ctx.not_read(
                &sheet.name,
                &[(*r, *c)],
                format!(
                    "chỉ tiêu {code}: ghi chú \"{}\" không được đưa vào bản tổng hợp (bản tổng hợp chỉ lấy số liệu). Nếu cần báo cáo nội dung này, đề nghị ghi vào trang \"{narrative_sheet}\".",
                    note_text(*r, *c)
                ),
            );
        }
    } else {
        let cells: Vec<(u32, u32)> = notes.iter().map(|(r, c, _)| (*r, *c)).collect();
        ctx.not_read(
            &sheet.name,
            &cells,
            format!(
                "ghi chú của {} chỉ tiêu ({}) không được đưa vào bản tổng hợp (bản tổng hợp chỉ lấy số liệu). Nếu cần báo cáo các nội dung này, đề nghị ghi vào trang \"{narrative_sheet}\".",
                notes.len(),
                cells_with_text(sheet, &cells, 3)
            ),
        );
    }
    if extra_columns_together(ctx, sheet, t.row, extra, "bảng chỉ tiêu") {
        return;
    }
    for (c, rows) in extra {
        let header = column_header(sheet, t.row, *c);
        let cells: Vec<(u32, u32)> = rows.iter().map(|r| (*r, *c)).collect();
        ctx.not_read(
            &sheet.name,
            &cells,
            format!(
                "cột {} ({header}) không có trong bảng chỉ tiêu của mẫu; {} ô của cột này ở các dòng chỉ tiêu ({}) không được đọc.",
                crate::finding::column_name(*c),
                cells.len(),
                cells_with_text(sheet, &cells, 3)
            ),
        );
    }
}

/// How a column the form does not have is named: its header, if the unit gave it one.
fn column_header(sheet: &Sheet, header_row: u32, col: u32) -> String {
    sheet
        .get(header_row, col)
        .map(|v| format!("\"{}\"", excerpt(&text_of(v), 40)))
        .unwrap_or_else(|| "không có tiêu đề".into())
}

/// More than three columns the form does not have make one warning, not one each (a row
/// filled far to the right must not flood the messages). `true` if it was said.
fn extra_columns_together(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    header_row: u32,
    extra: &std::collections::BTreeMap<u32, Vec<u32>>,
    table: &str,
) -> bool {
    if extra.len() <= 3 {
        return false;
    }
    let cells: Vec<(u32, u32)> = extra
        .iter()
        .flat_map(|(c, rows)| rows.iter().map(move |r| (*r, *c)))
        .collect();
    let named = extra
        .keys()
        .take(3)
        .map(|c| {
            format!(
                "{} ({})",
                crate::finding::column_name(*c),
                column_header(sheet, header_row, *c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    ctx.not_read(
        &sheet.name,
        &cells,
        format!(
            "{} cột không có trong {table} của mẫu ({named}, ...); {} ô của các cột này không được đọc.",
            extra.len(),
            cells.len()
        ),
    );
    true
}

struct ActivityHeader {
    row: u32,
    /// Column of each declared column, `None` if the unit's table lacks it.
    cols: Vec<Option<u32>>,
}

fn column_labels(c: &ActivityColumn) -> Vec<&str> {
    std::iter::once(c.header.as_str())
        .chain(c.aliases.iter().map(String::as_str))
        .collect()
}

fn find_activity_header(form: &Form, sheet: &Sheet) -> Option<ActivityHeader> {
    let decl = &form.activities.columns;
    // Folded once: this runs over every row of sheets with thousands of activities.
    let wanted: Vec<Vec<String>> = decl
        .iter()
        .map(|c| column_labels(c).iter().map(|l| fold(l)).collect())
        .collect();
    let longest = wanted
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut best: Option<(usize, ActivityHeader)> = None;
    for row in &sheet.rows {
        // Header cells are short texts; fold each candidate once.
        let folded: Vec<(u32, String)> = row
            .cells
            .iter()
            .filter_map(|(c, v)| {
                v.as_text()
                    .filter(|t| t.chars().count() <= longest * 2 + 8)
                    .map(|t| (*c, fold(t)))
            })
            .filter(|(_, f)| !f.is_empty())
            .collect();
        if folded.len() * 2 <= decl.len() {
            continue;
        }
        let cols: Vec<Option<u32>> = wanted
            .iter()
            .map(|labels| {
                folded
                    .iter()
                    .find(|(_, f)| labels.contains(f))
                    .map(|(c, _)| *c)
            })
            .collect();
        let found = cols.iter().filter(|c| c.is_some()).count();
        let required_ok = decl
            .iter()
            .zip(&cols)
            .all(|(d, c)| !d.required || c.is_some());
        // A header row has every required column and most of the others.
        if required_ok && found * 2 > decl.len() && best.as_ref().is_none_or(|(n, _)| found > *n) {
            let complete = found == decl.len();
            best = Some((
                found,
                ActivityHeader {
                    row: row.index,
                    cols,
                },
            ));
            if complete {
                break;
            }
        }
    }
    best.map(|(_, h)| h)
}

type ActivityRead = (Vec<Activity>, Vec<Option<(NaiveDate, CellRef)>>);

fn read_activities(ctx: &mut Ctx<'_>, sheet: &Sheet) -> ActivityRead {
    let form = ctx.form;
    let Some(h) = find_activity_header(form, sheet) else {
        ctx.sheet(
            CheckLevel::Error,
            "activity_table_missing",
            &sheet.name,
            format!(
                "không tìm thấy dòng tiêu đề của bảng hoạt động ({}). Đề nghị dùng đúng mẫu, không đổi tên các cột.",
                form.activities.columns.iter().map(|c| c.header.as_str()).collect::<Vec<_>>().join(" | ")
            ),
        );
        return (Vec::new(), Vec::new());
    };
    for (decl, col) in form.activities.columns.iter().zip(&h.cols) {
        if col.is_none() {
            ctx.sheet(
                CheckLevel::Warning,
                "activity_column_missing",
                &sheet.name,
                format!("bảng hoạt động thiếu cột \"{}\"", decl.header),
            );
        }
    }
    let max_blank = if form.activities.allow_blank_rows {
        3
    } else {
        0
    };
    let mut activities = Vec::new();
    let mut dates = Vec::new();
    let mut last = h.row;
    // A row counts as data if any declared non-serial column holds something.
    let has_data = |row: &crate::pipeline::read::Row| {
        form.activities.columns.iter().zip(&h.cols).any(|(d, c)| {
            d.kind != ColumnType::Serial && c.is_some_and(|c| sheet.get(row.index, c).is_some())
        })
    };
    let mut ended_at = None;
    // Formulas saved without a result that were computed, by column (one warning per column).
    let mut computed: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    // Cells of the table's rows in columns the form does not declare, by column.
    let mut extra: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for row in sheet.rows.iter().filter(|r| r.index > h.row) {
        if !has_data(row) {
            continue;
        }
        if row.index - last - 1 > max_blank {
            ended_at = Some((last, row.index));
            break;
        }
        last = row.index;
        for (c, _) in &row.cells {
            if !h.cols.contains(&Some(*c)) {
                extra.entry(*c).or_default().push(row.index);
            }
        }
        let mut values = Vec::with_capacity(h.cols.len());
        let mut date = None;
        for (decl, col) in form.activities.columns.iter().zip(&h.cols) {
            let Some(col) = *col else {
                values.push(ActivityValue::Empty);
                continue;
            };
            let cell = sheet.get(row.index, col);
            let value = match cell {
                Some(CellValue::Formula(f)) => {
                    formula_activity_value(ctx, sheet, row.index, col, decl, f, &mut computed)
                }
                _ => activity_value(ctx, sheet, row.index, col, decl, cell),
            };
            if let ActivityValue::Date(d) = &value {
                date = Some((
                    *d,
                    CellRef {
                        sheet: sheet.name.clone(),
                        row: row.index,
                        col,
                    },
                ));
            }
            values.push(value);
        }
        activities.push(Activity {
            source_row: row.index + 1,
            values,
        });
        dates.push(date);
    }
    for (c, cells) in &computed {
        let header = form
            .activities
            .columns
            .iter()
            .zip(&h.cols)
            .find(|(_, hc)| **hc == Some(*c))
            .map(|(d, _)| d.header.as_str())
            .unwrap_or_default();
        let at: Vec<(u32, u32)> = cells.iter().map(|(r, _)| (*r, *c)).collect();
        let shown = cells
            .iter()
            .take(3)
            .map(|(r, v)| format!("{} {v}", a1(*r, *c)))
            .collect::<Vec<_>>()
            .join("; ");
        ctx.cell(
            CheckLevel::Warning,
            "formula_computed",
            &sheet.name,
            at[0].0,
            *c,
            format!(
                "\"{header}\": {} ô có công thức nhưng tệp không lưu kết quả (thường do tệp được tạo bằng phần mềm khác mà chưa mở bằng Excel) ở dòng {}; chương trình đã tự tính ({shown}{}). Nên mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi lại.",
                cells.len(),
                row_list(&cells.iter().map(|(r, _)| *r).collect::<Vec<_>>()),
                if cells.len() > 3 { "; ..." } else { "" }
            ),
        );
    }
    let together = extra_columns_together(ctx, sheet, h.row, &extra, "bảng hoạt động");
    for (c, rows) in extra.iter().filter(|_| !together) {
        let header = column_header(sheet, h.row, *c);
        let cells: Vec<(u32, u32)> = rows.iter().map(|r| (*r, *c)).collect();
        ctx.not_read(
            &sheet.name,
            &cells,
            format!(
                "cột {} ({header}) không có trong mẫu; {} ô của cột này (dòng {}) không được đọc. Nếu cần báo cáo nội dung này, đề nghị ghi vào cột \"Ghi chú\".",
                crate::finding::column_name(*c),
                cells.len(),
                row_list(rows)
            ),
        );
    }
    // Rows below the table's end that look like activities (two declared columns or more
    // filled; a signature block, one cell a row, is not content of the form).
    let looks_like_activity = |row: &&crate::pipeline::read::Row| {
        form.activities
            .columns
            .iter()
            .zip(&h.cols)
            .filter(|(d, c)| {
                d.kind != ColumnType::Serial && c.is_some_and(|c| sheet.get(row.index, c).is_some())
            })
            .count()
            >= 2
    };
    let below: Vec<u32> = ended_at
        .map(|(_, next)| {
            sheet
                .rows
                .iter()
                .filter(|r| r.index >= next)
                .filter(looks_like_activity)
                .map(|r| r.index)
                .collect()
        })
        .unwrap_or_default();
    if let (Some((last, _)), Some(&next)) = (ended_at, below.first()) {
        let rows = below;
        ctx.not_read(
            &sheet.name,
            &[(next, h.cols.iter().flatten().copied().min().unwrap_or(0))],
            format!(
                "bảng hoạt động kết thúc ở dòng {} (sau đó có hơn {max_blank} dòng trống) nhưng bên dưới còn {} dòng có nội dung như một hoạt động (dòng {}) không được đọc. Nếu đây là hoạt động, đề nghị xóa các dòng trống ở giữa rồi gửi lại.",
                last + 1,
                rows.len(),
                row_list(&rows)
            ),
        );
    }
    (activities, dates)
}

fn activity_value(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    row: u32,
    col: u32,
    decl: &ActivityColumn,
    cell: Option<&CellValue>,
) -> ActivityValue {
    let checks = &ctx.form.checks;
    let Some(cell) = cell else {
        if decl.required {
            ctx.cell(
                checks.activity_missing_value,
                "activity_missing_value",
                &sheet.name,
                row,
                col,
                format!("chưa ghi \"{}\"", decl.header),
            );
        }
        return ActivityValue::Empty;
    };
    match decl.kind {
        ColumnType::Serial | ColumnType::Text => ActivityValue::Text(text_of(cell)),
        ColumnType::Date => match parse_date(cell) {
            Some(d) => ActivityValue::Date(d),
            None => {
                ctx.cell(
                    checks.activity_bad_date,
                    "activity_bad_date",
                    &sheet.name,
                    row,
                    col,
                    format!(
                        "\"{}\" không đọc được là ngày (ghi theo dạng ngày/tháng/năm, ví dụ 15/10/2026); dòng hoạt động vẫn được giữ, ô ngày giữ nguyên như đã ghi",
                        text_of(cell)
                    ),
                );
                ActivityValue::Text(text_of(cell))
            }
        },
        ColumnType::Choice => {
            let t = text_of(cell);
            // Exact first (the drop-down writes the choice as declared), then folded.
            let folded = || fold(&t);
            let found = decl.choices.iter().find(|c| **c == t).or_else(|| {
                let f = folded();
                decl.choices.iter().find(|c| fold(c) == f)
            });
            match found {
                Some(c) => ActivityValue::Text(c.clone()),
                None => {
                    ctx.cell(
                        checks.activity_bad_choice,
                        "activity_bad_choice",
                        &sheet.name,
                        row,
                        col,
                        format!(
                            "\"{t}\" không có trong danh sách \"{}\" ({}); dòng hoạt động vẫn được giữ, với \"{t}\" như đã ghi",
                            decl.header,
                            decl.choices.join(", ")
                        ),
                    );
                    ActivityValue::Text(t)
                }
            }
        }
        ColumnType::Count => match crate::pipeline::read::count(Some(cell)) {
            Count::Number(n) => ActivityValue::Count(n),
            Count::Text(n) => {
                ctx.cell(
                    checks.number_as_text,
                    "number_as_text",
                    &sheet.name,
                    row,
                    col,
                    format!(
                        "số \"{}\" được ghi dạng chữ; đã hiểu là {}",
                        text_of(cell),
                        numbers::vi(n)
                    ),
                );
                ActivityValue::Count(n)
            }
            Count::Bad(reason) => {
                ctx.cell(
                    checks.activity_bad_count,
                    "activity_bad_count",
                    &sheet.name,
                    row,
                    col,
                    format!(
                        "\"{}\": {reason}; dòng hoạt động vẫn được giữ, ô giữ nguyên như đã ghi",
                        decl.header
                    ),
                );
                ActivityValue::Text(text_of(cell))
            }
        },
    }
}

/// A date as units give it: a real date cell, or text day/month/year as Vietnamese offices
/// write it: "5/12/2026", "05-12-2026", "5.12.2026", "ngày 5/12/2026", "ngày 05 tháng 12 năm
/// 2026", a two-digit year ("5/12/26"), or ISO "2026-12-05". Never month/day: "12/25/2026" is
/// not a date (there is no month 25), and "5/12/2026" is 5 December. Anything else (a number
/// that is not a date cell, a range "5-6/12/2026", no year) is `None`: the caller keeps the text
/// as written and says so.
pub fn parse_date(cell: &CellValue) -> Option<NaiveDate> {
    match cell {
        CellValue::DateTime(d) => Some(d.date()),
        CellValue::Text(s) => {
            // Folding keeps letters and digits as words: "Ngày 05/12/2026" -> "ngay 05 12 2026".
            let folded = fold(s);
            let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
            if words.first() == Some(&"ngay") {
                words.remove(0);
            }
            let numbers: Vec<&str> = match words.as_slice() {
                [d, "thang", m, "nam", y] | [d, "thang", m, y] => vec![d, m, y],
                [a, b, c] => vec![a, b, c],
                _ => return None,
            };
            if !numbers
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            let [a, b, c] = numbers.as_slice() else {
                return None;
            };
            // ISO order only with a four-digit year first, from a real ISO text.
            let iso = a.len() == 4 && s.trim().contains('-');
            let (d, m, y) = if iso { (c, b, a) } else { (a, b, c) };
            if d.len() > 2 || m.len() > 2 || !(y.len() == 2 || y.len() == 4) {
                return None;
            }
            let (d, m, y): (u32, u32, i32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
            let y = match y {
                0..=99 => 2000 + y,
                1900..=2999 => y,
                _ => return None,
            };
            NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    }
}

fn read_narrative(ctx: &mut Ctx<'_>, sheet: &Sheet) -> Vec<String> {
    /// The rows below a label that belong to its block may be this many blank rows apart.
    const NARRATIVE_MAX_GAP: u32 = 2;
    let form = ctx.form;
    let labels: Vec<String> = form.narrative.iter().map(|b| fold(&b.label)).collect();
    let is_label = |v: &CellValue| {
        v.as_text().is_some_and(|s| {
            let f = fold(s.split(':').next().unwrap_or(s));
            labels.contains(&f)
        })
    };
    let row_has_label = |r: &crate::pipeline::read::Row| r.cells.iter().any(|(_, v)| is_label(v));
    // Every cell some block took (labels included), to say what no block took.
    let mut taken: std::collections::HashSet<(u32, u32)> = Default::default();
    // Formulas saved without a result where text was expected: never taken for text.
    let mut formulas: Vec<(u32, u32)> = Vec::new();
    let is_formula = |v: &CellValue| matches!(v, CellValue::Formula(_));
    let mut first_label_row = u32::MAX;
    let mut out = Vec::with_capacity(form.narrative.len());
    for block in &form.narrative {
        let text = match find_label(sheet, &block.label, 0, u32::MAX) {
            Some((row, col, inline)) => {
                first_label_row = first_label_row.min(row);
                taken.insert((row, col));
                // The block's paragraphs: after the label in its own cell ("Kết quả nổi bật:
                // ..."), right of it on its row, then every row below until the next label, a
                // gap of more than NARRATIVE_MAX_GAP blank rows, or a row that starts right of
                // the block's text (a signature block: "NGƯỜI LẬP BIỂU" under column E). One
                // paragraph per row.
                let mut paragraphs: Vec<String> = inline.into_iter().collect();
                let right: Vec<&(u32, CellValue)> = sheet
                    .row(row)
                    .map(|r| {
                        r.cells
                            .iter()
                            .filter(|(c, v)| *c > col && !text_of(v).is_empty())
                            .take_while(|(_, v)| !is_label(v))
                            .collect()
                    })
                    .unwrap_or_default();
                taken.extend(right.iter().map(|(c, _)| (row, *c)));
                let right_col = right.first().map(|(c, _)| *c);
                formulas.extend(
                    right
                        .iter()
                        .filter(|(_, v)| is_formula(v))
                        .map(|(c, _)| (row, *c)),
                );
                let right: Vec<String> = right
                    .iter()
                    .filter(|(_, v)| !is_formula(v))
                    .map(|(_, v)| text_of(v))
                    .collect();
                // The column the block's text starts in (at most): the text right of the label,
                // else one column right of the label, until a paragraph below says where.
                let mut text_col = right_col.unwrap_or(col + 1);
                let mut placed = right_col.is_some();
                if !right.is_empty() {
                    paragraphs.push(right.join(" "));
                }
                let mut last = row;
                for r in sheet.rows.iter().filter(|r| r.index > row) {
                    if r.index - last - 1 > NARRATIVE_MAX_GAP || row_has_label(r) {
                        break;
                    }
                    let cells: Vec<&(u32, CellValue)> = r
                        .cells
                        .iter()
                        .filter(|(_, v)| !text_of(v).is_empty())
                        .collect();
                    let Some(&&(first_col, _)) = cells.first() else {
                        continue;
                    };
                    if first_col > text_col + 1 {
                        break;
                    }
                    if !placed {
                        text_col = first_col.max(col);
                        placed = true;
                    }
                    last = r.index;
                    taken.extend(cells.iter().map(|(c, _)| (r.index, *c)));
                    formulas.extend(
                        cells
                            .iter()
                            .filter(|(_, v)| is_formula(v))
                            .map(|(c, _)| (r.index, *c)),
                    );
                    let texts: Vec<String> = cells
                        .iter()
                        .filter(|(_, v)| !is_formula(v))
                        .map(|(_, v)| text_of(v))
                        .collect();
                    if !texts.is_empty() {
                        paragraphs.push(texts.join(" "));
                    }
                }
                let t = (!paragraphs.is_empty()).then(|| paragraphs.join("\n"));
                if t.is_none() {
                    ctx.cell(
                        form.checks.narrative_missing,
                        "narrative_missing",
                        &sheet.name,
                        row,
                        col,
                        format!("mục \"{}\" chưa có nội dung", block.label),
                    );
                }
                t
            }
            None => {
                ctx.sheet(
                    form.checks.narrative_missing,
                    "narrative_missing",
                    &sheet.name,
                    format!("không tìm thấy mục \"{}\"", block.label),
                );
                None
            }
        };
        out.push(text.unwrap_or_default());
    }
    for (r, c) in formulas {
        let f = sheet.get(r, c).map(CellValue::display).unwrap_or_default();
        ctx.cell(
            CheckLevel::Warning,
            "formula_unknown",
            &sheet.name,
            r,
            c,
            format!(
                "ô có công thức {} nhưng tệp không lưu kết quả, nên nội dung của ô này không được đọc. Đề nghị mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi lại.",
                excerpt(&f, 60)
            ),
        );
    }
    // What no block took, from the first label down (above it: the sheet's title and notes).
    // Numbering and marks ("1.", "-") are not content.
    let stray: Vec<(u32, u32)> = sheet
        .rows
        .iter()
        .filter(|r| r.index >= first_label_row)
        .flat_map(|r| r.cells.iter().map(move |(c, v)| (r.index, *c, v)))
        .filter(|(r, c, v)| !taken.contains(&(*r, *c)) && fold(&text_of(v)).len() >= 3)
        .map(|(r, c, _)| (r, c))
        .collect();
    if !stray.is_empty() {
        let repeated = stray
            .iter()
            .any(|(r, c)| sheet.get(*r, *c).is_some_and(&is_label));
        ctx.not_read(
            &sheet.name,
            &stray,
            format!(
                "có nội dung nằm ngoài các mục của mẫu nên không được đọc: {}.{} Đề nghị ghi nội dung vào ngay dưới (hoặc bên phải) nhãn của đúng mục.",
                cells_with_text(sheet, &stray, 4),
                if repeated {
                    " Một mục được ghi hai lần: chỉ mục ghi trước được đọc."
                } else {
                    ""
                }
            ),
        );
    }
    out
}

/// An activity cell holding a formula saved without its result. A count is computed if it can
/// be (then judged like a typed number); a date or text never is. What cannot be known is said
/// at the level of the column's own check, and left empty (the formula is not a value).
fn formula_activity_value(
    ctx: &mut Ctx<'_>,
    sheet: &Sheet,
    row: u32,
    col: u32,
    decl: &ActivityColumn,
    f: &str,
    computed: &mut std::collections::BTreeMap<u32, Vec<(u32, String)>>,
) -> ActivityValue {
    let checks = &ctx.form.checks;
    let what = format!("\"{}\"", decl.header);
    let level = match decl.kind {
        // A row number: computed silently when it can be, else left out.
        ColumnType::Serial => {
            return formula::evaluate(f, sheet)
                .map(|v| ActivityValue::Text(CellValue::Number(v).display()))
                .unwrap_or(ActivityValue::Empty);
        }
        ColumnType::Count => {
            let level = checks.activity_bad_count;
            return match formula::evaluate(f, sheet) {
                Some(v) => {
                    let cell = CellValue::Number(v);
                    let shown = format!("{} → {}", excerpt(&format!("={f}"), 30), cell.display());
                    computed.entry(col).or_default().push((row, shown));
                    activity_value(ctx, sheet, row, col, decl, Some(&cell))
                }
                None => {
                    ctx.formula_value(sheet, (row, col), f, &what, level);
                    ActivityValue::Empty
                }
            };
        }
        ColumnType::Date => checks.activity_bad_date,
        ColumnType::Choice => checks.activity_bad_choice,
        ColumnType::Text => CheckLevel::Warning,
    };
    // Dates and texts are not computed: a number would not say which date or text it is.
    ctx.cell(
        level,
        "formula_unknown",
        &sheet.name,
        row,
        col,
        format!(
            "{what}: ô có công thức {} nhưng tệp không lưu kết quả, nên không biết giá trị của ô này. Đề nghị mở tệp bằng Excel hoặc LibreOffice, lưu lại (để công thức được tính) rồi gửi lại.",
            excerpt(&format!("={f}"), 60)
        ),
    );
    ActivityValue::Empty
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::read::{ReadLimits, read_workbook};

    fn form() -> Form {
        Form::from_toml(include_str!("../../config/form-kl14.toml")).unwrap()
    }

    fn layout(name: &str) -> Examined {
        let path = format!(
            "{}/tests/fixtures/layouts/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        let wb = read_workbook(&bytes, ext, &ReadLimits::default()).unwrap();
        let mut ex = examine(&form(), &wb, PeriodKind::Month);
        check_period(&form(), &mut ex, &Period::month(2026, 10));
        ex
    }

    /// The figures as "CODE=ky_nay/luy_ke ..." for a readable expectation.
    fn figures_text(ex: &Examined) -> String {
        let f = form();
        let fig = ex.figures.as_ref().expect("figures");
        f.indicators
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| format!("{}={}/{}", it.code, fig.values[i][0], fig.values[i][1]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn messages(ex: &Examined) -> Vec<String> {
        ex.findings
            .iter()
            .map(|f| format!("{:?} {}", f.severity, f.message))
            .collect()
    }

    const LAM_HA: &str =
        "HN=2/10 NG=150/900 TB=5/40 TTDT=3/20 MXH=12/80 SH=4/30 PB=1/6 MH=0/2 KT=1/3";

    #[test]
    fn every_layout_reads_the_same_figures() {
        for name in [
            "standard.xlsx",
            "shifted.xlsx",
            "reordered.xlsx",
            "renamed_sheets.xlsx",
            "merged.xlsx",
            "libreoffice.ods",
            "libreoffice.xls",
            "dates_as_text.xlsx",
        ] {
            let ex = layout(name);
            assert_eq!(figures_text(&ex), LAM_HA, "{name}: {:?}", messages(&ex));
            assert_eq!(ex.period, Some(Period::month(2026, 10)), "{name}");
            assert_eq!(ex.header("unit").unwrap().text, "Huyện ủy Lâm Hà", "{name}");
            assert_eq!(ex.activities.len(), 3, "{name}");
            assert!(
                ex.narrative.iter().all(|t| !t.is_empty()),
                "{name}: {:?}",
                ex.narrative
            );
            assert!(ex.findings.is_empty(), "{name}: {:?}", messages(&ex));
        }
    }

    fn fidelity(name: &str) -> Examined {
        let path = format!(
            "{}/tests/fixtures/fidelity/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        let wb = read_workbook(&bytes, ext, &ReadLimits::default()).unwrap();
        let mut ex = examine(&form(), &wb, PeriodKind::Month);
        check_period(&form(), &mut ex, &Period::month(2026, 10));
        ex
    }

    /// The findings of one kind as "Sheet!A1" (or "Sheet" for a whole sheet), in order.
    fn cells_of(ex: &Examined, kind: &str) -> Vec<String> {
        ex.findings
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| match (&f.sheet, &f.cell) {
                (Some(s), Some(c)) => format!("{s}!{c}"),
                (Some(s), None) => s.clone(),
                _ => String::new(),
            })
            .collect()
    }

    const NOI_BAT: &str = "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt.\n- Trang TTĐT huyện đăng 3 tin, bài về gương cán bộ năng động.";

    /// Issue 12, point 1: "Kỳ\nnày", "Mã\nchỉ tiêu", "Đơn vị\nbáo cáo:", "Kết quả\nnổi bật" typed
    /// with Alt+Enter (and tabs, non-breaking and double spaces), saved by openpyxl and by
    /// LibreOffice as .ods and .xls: every part is found, nothing is refused.
    #[test]
    fn headers_and_labels_typed_over_several_lines_are_found_in_every_format() {
        for name in ["line_breaks.xlsx", "line_breaks.ods", "line_breaks.xls"] {
            let ex = fidelity(name);
            assert_eq!(figures_text(&ex), LAM_HA, "{name}: {:?}", messages(&ex));
            assert!(ex.findings.is_empty(), "{name}: {:?}", messages(&ex));
            assert_eq!(ex.period, Some(Period::month(2026, 10)), "{name}");
            // The unit typed its name over two lines too: one line in the report.
            assert_eq!(ex.header("unit").unwrap().text, "Huyện ủy Lâm Hà", "{name}");
            assert_eq!(ex.header("phone").unwrap().text, "0263 3822 415", "{name}");
            assert_eq!(ex.activities.len(), 3, "{name}");
            let reach: Vec<ActivityValue> = ex
                .activities
                .iter()
                .map(|a| a.to_owned().values[5].clone())
                .collect();
            assert_eq!(
                reach,
                [150, 1320, 28].map(ActivityValue::Count).to_vec(),
                "{name}"
            );
            assert_eq!(ex.narrative[0], NOI_BAT, "{name}");
            assert_eq!(
                ex.narrative[1], "Đội ngũ báo cáo viên cơ sở còn mỏng.",
                "{name}"
            );
        }
    }

    /// Issue 12, point 2: formulas written by openpyxl have no result in the file. Those that
    /// can be computed exactly are, with a warning naming each cell; nothing reads as 0.
    #[test]
    fn formulas_saved_without_a_result_are_computed_exactly_with_a_warning() {
        let ex = fidelity("formulas.xlsx");
        assert_eq!(figures_text(&ex), LAM_HA, "{:?}", messages(&ex));
        assert!(!ex.has_errors(), "{:?}", messages(&ex));
        assert_eq!(
            cells_of(&ex, "formula_computed"),
            [
                "Chỉ tiêu!E11",
                "Chỉ tiêu!F11",
                "Chỉ tiêu!E12",
                "Chỉ tiêu!F12",
                "Chỉ tiêu!E14",
                "Chỉ tiêu!F15",
                "Chỉ tiêu!F16",
                "Chỉ tiêu!F18",
                // One warning for the activity column, naming both cells.
                "Hoạt động!F2",
            ]
        );
        assert_eq!(ex.findings.len(), 9, "{:?}", messages(&ex));
        let f11 = &ex.findings[1].message;
        assert!(
            f11.contains("chỉ tiêu HN (Lũy kế từ đầu năm): ô có công thức =E11+8")
                && f11.contains("đã tự tính được 10")
                && f11.contains("mở tệp bằng Excel hoặc LibreOffice, lưu lại"),
            "{f11}"
        );
        let act = &ex.findings[8].message;
        assert!(
            act.contains("F2 =F4*5+10 → 150") && act.contains("F3 =1000+320 → 1320"),
            "{act}"
        );
        let reach: Vec<ActivityValue> = ex
            .activities
            .iter()
            .map(|a| a.to_owned().values[5].clone())
            .collect();
        assert_eq!(reach, [150, 1320, 28].map(ActivityValue::Count).to_vec());
    }

    /// Issue 12, point 2: a formula nobody can compute here (a lookup, another sheet, a date
    /// function) is never a number: the file is rejected, each cell named, with what to do.
    #[test]
    fn formulas_nobody_can_compute_reject_the_file_naming_each_cell() {
        let ex = fidelity("formulas_unknown.xlsx");
        assert!(ex.has_errors());
        assert_eq!(ex.figures, None, "an unknown figure is never counted");
        assert_eq!(
            cells_of(&ex, "formula_unknown"),
            ["Chỉ tiêu!E14", "Chỉ tiêu!F16", "Hoạt động!B4"]
        );
        let unknown: Vec<&Finding> = ex
            .findings
            .iter()
            .filter(|f| f.kind == "formula_unknown")
            .collect();
        assert!(unknown[..2].iter().all(|f| f.severity == Severity::Error));
        assert!(
            unknown[0].message.contains(
                "chỉ tiêu TB (Kỳ này): ô có công thức =VLOOKUP(\"TB\",$B$11:$E$21,4,FALSE) nhưng tệp không lưu kết quả, nên không biết giá trị của ô này. Đề nghị mở tệp bằng Excel hoặc LibreOffice, lưu lại"
            ),
            "{}",
            unknown[0].message
        );
        assert!(unknown[1].message.contains("='Hoạt động'!F3/10"));
        assert!(
            unknown[2]
                .message
                .contains("\"Ngày\": ô có công thức =DATE(2026,10,24)")
        );
        // The unknown MXH figure is not compared with anything (it is not 0).
        assert!(cells_of(&ex, "cumulative_below_period").is_empty());
        assert_eq!(cells_of(&ex, "formula_computed"), ["Chỉ tiêu!E11"]);
    }

    /// Issue 12, point 3: one paragraph per row below each label; every paragraph is kept.
    #[test]
    fn a_narrative_written_one_paragraph_per_row_is_taken_whole() {
        let ex = fidelity("narrative_rows.xlsx");
        assert!(ex.findings.is_empty(), "{:?}", messages(&ex));
        assert_eq!(
            ex.narrative,
            [
                "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt.\n- Trang TTĐT huyện đăng 3 tin, bài về gương cán bộ năng động.\n- Biểu dương 1 cán bộ có sáng kiến trong chuyển đổi số.",
                "Đội ngũ báo cáo viên cơ sở còn mỏng.\nKinh phí tuyên truyền còn hạn chế.",
                "Đề nghị cung cấp thêm tài liệu tuyên truyền bằng tiếng K'Ho.",
            ]
        );
    }

    /// Issue 12, point 3: text right of the label continued in the rows below it, a blank row
    /// between paragraphs, and a label with its text after the colon. A signature block under
    /// the last paragraph, further right, is not narrative (and is said not read).
    #[test]
    fn a_narrative_continues_below_the_label_until_the_next_label() {
        let t = |s: &str| CellValue::Text(s.into());
        let sheet = Sheet::from_cells(
            "Thuyết minh",
            vec![
                (0, 0, t("THUYẾT MINH")),
                (2, 0, t("Kết quả nổi bật")),
                (2, 1, t("Đoạn một.")),
                (3, 1, t("Đoạn hai.")),
                (5, 1, t("Đoạn ba, sau một dòng trống.")),
                (6, 0, t("Khó khăn, vướng mắc: Thiếu kinh phí.")),
                (7, 0, t("Địa bàn rộng.")),
                (9, 0, t("Đề xuất, kiến nghị")),
                (10, 0, t("Đề nghị hỗ trợ kinh phí.")),
                (12, 4, t("NGƯỜI LẬP BIỂU")),
                (13, 4, t("Nguyễn Thị Hồng Nhung")),
            ],
        );
        let form = form();
        let mut ctx = Ctx {
            form: &form,
            findings: Vec::new(),
        };
        let narrative = read_narrative(&mut ctx, &sheet);
        assert_eq!(
            narrative,
            [
                "Đoạn một.\nĐoạn hai.\nĐoạn ba, sau một dòng trống.",
                "Thiếu kinh phí.\nĐịa bàn rộng.",
                "Đề nghị hỗ trợ kinh phí.",
            ]
        );
        let found: Vec<(&str, Option<&str>)> = ctx
            .findings
            .iter()
            .map(|f| (f.kind.as_ref(), f.cell.as_deref()))
            .collect();
        assert_eq!(found, [("content_not_read", Some("E13"))]);
        assert!(
            ctx.findings[0]
                .message
                .contains("E13 \"NGƯỜI LẬP BIỂU\", E14 \"Nguyễn Thị Hồng Nhung\""),
            "{}",
            ctx.findings[0].message
        );
    }

    /// Issue 12, point 4: content the reader does not take is named in a warning, one per
    /// part: a note in the indicator table, figures on a row without a code, a column the form
    /// does not have, activity rows after the table's end, a second narrative block, text below
    /// the last block, a sheet of its own. The report itself is read as usual.
    #[test]
    fn content_the_reader_does_not_take_is_named_in_warnings() {
        let ex = fidelity("unread_parts.xlsx");
        assert_eq!(figures_text(&ex), LAM_HA, "{:?}", messages(&ex));
        assert!(!ex.has_errors(), "{:?}", messages(&ex));
        assert_eq!(ex.activities.len(), 3);
        assert_eq!(ex.narrative[0], NOI_BAT);
        assert_eq!(
            cells_of(&ex, "content_not_read"),
            [
                "Chỉ tiêu!E22",
                "Chỉ tiêu!G14",
                "Chỉ tiêu!H11",
                "Hoạt động!H2",
                "Hoạt động!A10",
                "Thuyết minh!A10",
                "Bổ sung",
            ]
        );
        assert_eq!(ex.findings.len(), 7, "{:?}", messages(&ex));
        let expected = [
            "dòng 22 có số liệu (E22, F22) nhưng không có mã chỉ tiêu",
            "chỉ tiêu TB: ghi chú \"Trong đó 2 phóng sự truyền hình\" không được đưa vào bản tổng hợp",
            "cột H (\"Kế hoạch năm\") không có trong bảng chỉ tiêu của mẫu; 2 ô của cột này ở các dòng chỉ tiêu (H11 \"5\", H12 \"200\") không được đọc",
            "cột H (\"Thời lượng (phút)\") không có trong mẫu; 2 ô của cột này (dòng 2-3) không được đọc",
            "bên dưới còn 2 dòng có nội dung như một hoạt động (dòng 10-11) không được đọc",
            "A10 \"Kết quả nổi bật\", B10 \"Ra mắt mô hình dân vận khéo ở xã Tân Hà.\", A14 \"Ghi thêm",
            "trang này không thuộc mẫu báo cáo nên 2 ô có nội dung của nó không được đọc",
        ];
        for (f, want) in ex.findings.iter().zip(expected) {
            assert!(f.message.contains(want), "{} lacks {want}", f.message);
            assert_eq!(f.severity, Severity::Warning, "{}", f.message);
        }
        assert!(ex.findings[5].message.contains("Một mục được ghi hai lần"));
    }

    /// standard.xlsx with `extra` cells added to sheet `sheet` (zero-based rows and columns).
    fn standard_with(sheet: usize, extra: Vec<(u32, u32, CellValue)>) -> Examined {
        let path = format!(
            "{}/tests/fixtures/layouts/standard.xlsx",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        let mut wb = read_workbook(&bytes, "xlsx", &ReadLimits::default()).unwrap();
        let s = &wb.sheets[sheet];
        let mut cells: Vec<(u32, u32, CellValue)> = s
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().map(|(c, v)| (r.index, *c, v.clone())))
            .collect();
        cells.extend(extra);
        wb.sheets[sheet] = Sheet::from_cells(&s.name.clone(), cells);
        examine(&form(), &wb, PeriodKind::Month)
    }

    /// Many notes make one warning that names them, not one each.
    #[test]
    fn many_indicator_notes_make_one_warning_naming_them() {
        let t = |s: &str| CellValue::Text(s.into());
        // Notes (column G) on the rows of HN, NG, TB, TTDT.
        let ex = standard_with(
            0,
            vec![
                (10, 6, t("Ghi chú một")),
                (11, 6, t("Ghi chú hai")),
                (13, 6, t("Ghi chú ba")),
                (14, 6, t("Ghi chú bốn")),
            ],
        );
        assert_eq!(figures_text(&ex), LAM_HA);
        assert_eq!(cells_of(&ex, "content_not_read"), ["Chỉ tiêu!G11"]);
        assert!(
            ex.findings[0].message.contains(
                "ghi chú của 4 chỉ tiêu (G11 \"Ghi chú một\", G12 \"Ghi chú hai\", G14 \"Ghi chú ba\" và 1 ô khác) không được đưa vào bản tổng hợp"
            ),
            "{}",
            ex.findings[0].message
        );
    }

    /// A signature block under the activity table (one cell a row) is not an activity left
    /// unread.
    #[test]
    fn a_signature_under_the_activity_table_is_not_reported() {
        let t = |s: &str| CellValue::Text(s.into());
        let ex = standard_with(
            1,
            vec![
                (9, 3, t("NGƯỜI LẬP BIỂU")),
                (13, 3, t("Nguyễn Thị Hồng Nhung")),
            ],
        );
        assert_eq!(ex.activities.len(), 3);
        assert!(ex.findings.is_empty(), "{:?}", messages(&ex));
    }

    /// A row filled far to the right makes one warning, not one per column.
    #[test]
    fn many_extra_activity_columns_make_one_warning() {
        let extra: Vec<(u32, u32, CellValue)> =
            (7..12).map(|c| (1, c, CellValue::Number(1.0))).collect();
        let ex = standard_with(1, extra);
        assert_eq!(ex.activities.len(), 3);
        assert_eq!(cells_of(&ex, "content_not_read"), ["Hoạt động!H2"]);
        assert!(
            ex.findings[0].message.contains(
                "5 cột không có trong bảng hoạt động của mẫu (H (không có tiêu đề), I (không có tiêu đề), J (không có tiêu đề), ...); 5 ô của các cột này không được đọc."
            ),
            "{}",
            ex.findings[0].message
        );
        assert_eq!(ex.findings.len(), 1, "{:?}", messages(&ex));
    }

    /// A formula without a result where narrative text is expected is never taken for text.
    #[test]
    fn a_narrative_formula_without_a_result_is_not_taken_for_text() {
        let ex = standard_with(2, vec![(3, 1, CellValue::Formula("B3&\" (tiếp)\"".into()))]);
        assert_eq!(ex.narrative[0], NOI_BAT);
        assert_eq!(cells_of(&ex, "formula_unknown"), ["Thuyết minh!B4"]);
        assert_eq!(ex.findings.len(), 1, "{:?}", messages(&ex));
    }

    /// Issue 12, point 4, the other side: the blank form's own title, instructions and notes
    /// are not content the reader failed to take.
    #[test]
    fn the_blank_form_itself_raises_no_content_warning() {
        let f = form();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blank.xlsx");
        crate::app::form::write_blank_form(&f, Some(&Period::month(2026, 10)), &path).unwrap();
        let wb = read_workbook(
            &std::fs::read(&path).unwrap(),
            "xlsx",
            &ReadLimits::default(),
        )
        .unwrap();
        let ex = examine(&f, &wb, PeriodKind::Month);
        assert!(
            cells_of(&ex, "content_not_read").is_empty(),
            "{:?}",
            messages(&ex)
        );
    }

    #[test]
    fn numbers_as_text_are_read_with_a_warning_naming_the_cell() {
        let ex = layout("numbers_as_text.xlsx");
        assert_eq!(
            figures_text(&ex),
            LAM_HA.replace("NG=150/900", "NG=150/1250")
        );
        assert!(!ex.has_errors());
        let w: Vec<&Finding> = ex
            .findings
            .iter()
            .filter(|f| f.kind == "number_as_text")
            .collect();
        assert_eq!(w.len(), 18, "{:?}", messages(&ex));
        assert!(
            w.iter()
                .any(|f| f.message.contains("\"1.250\"") && f.message.contains("đã hiểu là 1.250"))
        );
        assert!(
            w.iter()
                .all(|f| f.sheet.as_deref() == Some("Chỉ tiêu") && f.cell.is_some())
        );
    }

    #[test]
    fn one_flaw_in_an_activity_row_is_a_warning_on_its_cell_and_the_row_is_kept_as_written() {
        // tests/fixtures/weight/ (scripts/gen_weight.py): openpyxl, and LibreOffice's .ods.
        for name in ["activity_row_flaws.xlsx", "activity_row_flaws.ods"] {
            let ex = layout(&format!("../weight/{name}"));
            assert_eq!(figures_text(&ex), LAM_HA, "{name}: {:?}", messages(&ex));
            assert!(!ex.has_errors(), "{name}: {:?}", messages(&ex));
            assert!(ex.narrative.iter().all(|t| !t.is_empty()), "{name}");
            let flagged: Vec<(&str, Severity, String)> = ex
                .findings
                .iter()
                .map(|f| {
                    (
                        f.kind.as_ref(),
                        f.severity,
                        f.cell.clone().unwrap_or_default(),
                    )
                })
                .collect();
            assert_eq!(
                flagged,
                [
                    ("activity_bad_date", Severity::Warning, "B6".to_owned()),
                    ("activity_bad_choice", Severity::Warning, "C7".to_owned()),
                    ("activity_bad_count", Severity::Warning, "F8".to_owned()),
                ],
                "{name}: {:?}",
                messages(&ex)
            );
            assert!(ex.findings[0].message.contains("\"10/25/2026\""));
            let rows = ex.activities.to_vec();
            assert_eq!(rows.len(), 7, "{name}");
            let date = |d| ActivityValue::Date(NaiveDate::from_ymd_opt(2026, 10, d).unwrap());
            let dates: Vec<&ActivityValue> = rows.iter().map(|r| &r.values[1]).collect();
            assert_eq!(
                dates,
                [
                    &date(5),
                    &date(12),
                    &date(15),
                    &date(20),
                    &ActivityValue::Text("10/25/2026".into()),
                    &date(28),
                    &date(30),
                ],
                "{name}"
            );
            assert_eq!(rows[5].values[2], ActivityValue::Text("Tọa đàm".into()));
            assert_eq!(rows[6].values[5], ActivityValue::Text("khoảng 200".into()));
            assert_eq!(rows[0].values[5], ActivityValue::Count(150));
        }
    }

    #[test]
    fn dates_as_vietnamese_offices_type_them_and_never_month_first() {
        let d = |s: &str| parse_date(&CellValue::Text(s.into()));
        let dec5 = NaiveDate::from_ymd_opt(2026, 12, 5);
        for s in [
            "5/12/2026",
            "05/12/2026",
            "05-12-2026",
            "5.12.2026",
            "ngày 5/12/2026",
            "Ngày 05/12/2026",
            "ngay 5-12-2026",
            "ngày 05 tháng 12 năm 2026",
            "5 tháng 12 năm 2026",
            "Ngày 5 tháng 12, 2026",
            " 5 / 12 / 2026 ",
            "5/12/26",
            "2026-12-05",
        ] {
            assert_eq!(d(s), dec5, "{s:?}");
        }
        // Month first (the American way) is never guessed: there is no month 25.
        for s in [
            "12/25/2026",
            "12-25-2026",
            "5-6/12/2026",
            "05/12",
            "2026/12/05 và 06/12",
            "tháng 12/2026",
            "ngày 5 tháng mười hai năm 2026",
            "5/12/20266",
            "005/12/2026",
            "",
        ] {
            assert_eq!(d(s), None, "{s:?}");
        }
        // A number that is not a date cell is not turned into one (no serial guessing).
        assert_eq!(parse_date(&CellValue::Number(46361.0)), None);
        let cell = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(parse_date(&CellValue::DateTime(cell)), dec5);
    }

    #[test]
    fn shifted_layout_reports_cells_where_they_are() {
        // In shifted.xlsx the table starts at column C, so an error must point into it.
        let ex = layout("shifted.xlsx");
        let unit = ex.header("unit").unwrap();
        assert!(unit.at.col >= 2, "unit value found at {}", unit.at.a1());
    }

    #[test]
    fn parse_dates_people_type() {
        let d = |s: &str| parse_date(&CellValue::Text(s.into()));
        let oct15 = NaiveDate::from_ymd_opt(2026, 10, 15);
        assert_eq!(d("15/10/2026"), oct15);
        assert_eq!(d("15-10-2026"), oct15);
        assert_eq!(d("15.10.2026"), oct15);
        assert_eq!(d("15/10/26"), oct15);
        assert_eq!(d("2026-10-15"), oct15);
        assert_eq!(d("5/1/2026"), NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(d("31/02/2026"), None);
        assert_eq!(d("tháng 10"), None);
        assert_eq!(d("10/15/2026"), None);
    }
}
