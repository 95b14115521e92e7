//! Validate: a `SubmittedWorkbook` against the form declaration. Parts are found by their labels
//! and header rows, never by fixed addresses. The result is the report's content plus findings
//! (errors reject the file, warnings do not). Pure: no IO.

use chrono::NaiveDate;

use crate::config::form::{ActivityColumn, CheckLevel, ColumnType, Form, SheetRole};
use crate::finding::{Finding, Severity, a1};
use crate::numbers::{self, Count};
use crate::period::{Period, PeriodKind};
use crate::pipeline::consolidate::{Activities, Activity, ActivityValue, Figures};
use crate::pipeline::read::{CellValue, Sheet, SubmittedWorkbook};
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
                    other => text_of(other),
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
    let mut ok = true;
    let mut rows_since_code = 0u32;
    let mut last_row = t.row;
    for row in sheet.rows.iter().filter(|r| r.index > t.row) {
        rows_since_code += row.index - last_row;
        last_row = row.index;
        // The table has ended when no code has been seen for a while (a signature block follows).
        if rows_since_code > 10 && seen.iter().any(Option::is_some) {
            break;
        }
        let Some(code_text) = sheet.get(row.index, t.code_col).map(text_of) else {
            continue;
        };
        let Some(idx) = form.indicator_index(&code_text) else {
            let looks_like_code = code_text.len() <= 10 && !code_text.contains(' ');
            if looks_like_code && !code_text.is_empty() {
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
            match numbers::count(sheet.get(row.index, *col)) {
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
            let Some(row) = at else { continue };
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
    for row in sheet.rows.iter().filter(|r| r.index > h.row) {
        // A row counts as data if any declared non-serial column holds something.
        let has_data = form.activities.columns.iter().zip(&h.cols).any(|(d, c)| {
            d.kind != ColumnType::Serial && c.is_some_and(|c| sheet.get(row.index, c).is_some())
        });
        if !has_data {
            continue;
        }
        if row.index - last - 1 > max_blank {
            break;
        }
        last = row.index;
        let mut values = Vec::with_capacity(h.cols.len());
        let mut date = None;
        for (decl, col) in form.activities.columns.iter().zip(&h.cols) {
            let Some(col) = *col else {
                values.push(ActivityValue::Empty);
                continue;
            };
            let cell = sheet.get(row.index, col);
            let value = activity_value(ctx, sheet, row.index, col, decl, cell);
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
        ColumnType::Count => match numbers::count(Some(cell)) {
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
    let form = ctx.form;
    let labels: Vec<String> = form.narrative.iter().map(|b| fold(&b.label)).collect();
    let is_label = |v: &CellValue| {
        v.as_text().is_some_and(|s| {
            let f = fold(s.split(':').next().unwrap_or(s));
            labels.contains(&f)
        })
    };
    let mut out = Vec::with_capacity(form.narrative.len());
    for block in &form.narrative {
        let text = match find_label(sheet, &block.label, 0, u32::MAX) {
            Some((_, _, Some(inline))) => Some(inline),
            Some((row, col, None)) => {
                let right = right_of(sheet, row, col)
                    .filter(|(_, v)| !is_label(v))
                    .map(|(_, v)| text_of(v));
                let below = || {
                    // The text below the label: the first non-empty cell of the next rows, from
                    // the label's column rightwards, before the next label.
                    sheet
                        .rows
                        .iter()
                        .filter(|r| r.index > row && r.index <= row + 3)
                        .find_map(|r| {
                            r.cells
                                .iter()
                                .find(|(c, v)| *c >= col && !text_of(v).is_empty())
                        })
                        .filter(|(_, v)| !is_label(v))
                        .map(|(_, v)| text_of(v))
                };
                let t = right.or_else(below);
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
    out
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
