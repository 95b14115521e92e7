//! Render: the consolidated workbook's layout (pure), and writing it atomically.
//!
//! Sheets, in this order: "Tổng hợp" (title block, units by group with SUM subtotals and a grand
//! total), "Tình hình nộp báo cáo" (every unit, every file), "Hoạt động" (one row per activity under a filtered header; more
//! sheets "Hoạt động (2)", ... past Excel's row limit), "Thuyết minh" (narratives side by side),
//! "Lỗi, cảnh báo" (every message) and "Biểu đồ" (a column chart of the main indicators).
//!
//! Invariants:
//! - Every formula carries its computed value (`Formula::set_result`): rust_xlsxwriter never
//!   calculates, and phone previews, mail viewers and calamine show the cached value.
//! - Text that came from a unit's file is written with `write_string*` only, so "=HYPERLINK(..)"
//!   stays a literal string. It is also made safe for a cell: line breaks normalised, cut at
//!   Excel's 32,767 characters.
//! - Each sheet is written top to bottom, row by row, so constant-memory mode can be switched on
//!   later for the activity sheets.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use rust_xlsxwriter::{
    Chart, ChartLegendPosition, ChartType, ColNum, Color, DocProperties, Format, FormatAlign,
    FormatBorder, FormatUnderline, Formula, RowNum, Table, TableColumn, Workbook, Worksheet,
    XlsxError,
};

use crate::config::ReportSettings;
use crate::config::form::{ColumnType, Form};
use crate::finding::{Severity, a1, counts};
use crate::pipeline::consolidate::{
    Consolidation, Figures, FileOutcome, UnitRow, UnitStatus, Value,
};

pub const SHEET_SUMMARY: &str = "Tổng hợp";
pub const SHEET_STATUS: &str = "Tình hình nộp báo cáo";
/// The first activity sheet; the next ones are "Hoạt động (2)", "Hoạt động (3)", ...
pub const SHEET_ACTIVITIES: &str = "Hoạt động";
pub const SHEET_NARRATIVE: &str = "Thuyết minh";
pub const SHEET_MESSAGES: &str = "Lỗi, cảnh báo";
pub const SHEET_CHART: &str = "Biểu đồ";

/// Rows in an Excel worksheet.
const EXCEL_ROWS: u32 = 1_048_576;
/// Characters (UTF-16 units) in an Excel cell.
const EXCEL_CELL_CHARS: usize = 32_767;
/// Arguments of one Excel function call.
const EXCEL_ARGS: usize = 255;
/// Paper size code for A4 (Excel page setup).
const PAPER_A4: u8 = 9;

/// Top right of the title block, as on documents of party bodies. Not yet configurable.
const UNKNOWN_UNIT: &str = "(không xác định)";
const TRUNCATED: &str = "… [đã cắt bớt]";

/// Lay out the consolidated workbook. Pure: no file IO.
pub fn render(
    c: &Consolidation,
    form: &Form,
    report: &ReportSettings,
) -> Result<Workbook, XlsxError> {
    render_with(c, form, report, Limits::EXCEL)
}

/// Where things are on "Tổng hợp" (zero-based rows and columns, as rust_xlsxwriter and calamine's
/// `get_value` count them). `render` uses this same value, so a test can rely on it.
///
/// Columns: A "STT", B "Đơn vị", C "Tình trạng", then for each indicator (form order) one column
/// per value column (form order). Rows: the title block (rows 0..=7), two header rows
/// (`header_row`, `header_row + 1`), then per group its subtotal row followed by its unit rows,
/// then the "Tổng cộng" row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLayout {
    /// The upper header row (indicator code and name); the value titles are on the next row.
    pub header_row: RowNum,
    /// The first row below the headers (the first group's subtotal row).
    pub first_data_row: RowNum,
    /// For each group of `Consolidation::groups`: its subtotal row (SUM over its unit rows).
    pub group_rows: Vec<RowNum>,
    /// For each unit of `Consolidation::units`: its row.
    pub unit_rows: Vec<RowNum>,
    /// The "Tổng cộng" row (SUM over the group subtotal cells).
    pub total_row: RowNum,
    /// The column of indicator 0, value column 0.
    pub first_value_col: ColNum,
    /// Value columns per indicator (`form.indicators.values.len()`).
    pub values_per_indicator: usize,
    /// Number of indicators (`form.indicators.items.len()`).
    pub indicators: usize,
}

impl SummaryLayout {
    pub const STT_COL: ColNum = 0;
    pub const NAME_COL: ColNum = 1;
    pub const STATUS_COL: ColNum = 2;

    pub fn of(c: &Consolidation, form: &Form) -> SummaryLayout {
        let header_row = 9;
        let first_data_row = header_row + 2;
        let blocks = blocks(c);
        let mut group_rows = Vec::new();
        let mut unit_rows = vec![0; c.units.len()];
        let mut row = first_data_row;
        for block in &blocks {
            if block.group.is_some() {
                group_rows.push(row);
            }
            row += 1;
            for &u in &block.units {
                unit_rows[u] = row;
                row += 1;
            }
        }
        SummaryLayout {
            header_row,
            first_data_row,
            group_rows,
            unit_rows,
            total_row: row,
            first_value_col: 3,
            values_per_indicator: form.indicators.values.len(),
            indicators: form.indicators.items.len(),
        }
    }

    /// The column of an indicator's value column.
    pub fn value_col(&self, indicator: usize, value: usize) -> ColNum {
        self.first_value_col + (indicator * self.values_per_indicator + value) as ColNum
    }

    /// Number of columns of the sheet.
    pub fn columns(&self) -> ColNum {
        self.first_value_col + (self.indicators * self.values_per_indicator) as ColNum
    }
}

/// A group of rows on "Tổng hợp": a roster group, or (if the consolidation's groups leave some
/// units out, which consolidate does not do) a trailing block "Khác" for them so no unit is
/// dropped; its subtotal row is the row above its first unit and is not in `group_rows`.
struct Block {
    /// Index into `Consolidation::groups`; `None` for the leftover block.
    group: Option<usize>,
    name: String,
    units: Vec<usize>,
    figures: Figures,
}

fn blocks(c: &Consolidation) -> Vec<Block> {
    let mut covered = vec![false; c.units.len()];
    let mut out: Vec<Block> = c
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let units: Vec<usize> = g
                .units
                .iter()
                .copied()
                .filter(|&u| u < c.units.len() && !std::mem::replace(&mut covered[u], true))
                .collect();
            Block {
                group: Some(i),
                name: g.name.clone(),
                units,
                figures: g.figures.clone(),
            }
        })
        .collect();
    let left: Vec<usize> = (0..c.units.len()).filter(|&u| !covered[u]).collect();
    if !left.is_empty() {
        let mut figures = Figures::zero(0, 0);
        for &u in &left {
            if let Some(f) = accepted_figures(&c.units[u]) {
                if figures.values.is_empty() {
                    figures = Figures::zero(f.values.len(), f.values.first().map_or(0, Vec::len));
                }
                figures.add(f);
            }
        }
        out.push(Block {
            group: None,
            name: "Khác".to_owned(),
            units: left,
            figures,
        });
    }
    out
}

fn accepted_figures(u: &UnitRow) -> Option<&Figures> {
    match u.status {
        UnitStatus::Accepted => u.figures.as_ref(),
        _ => None,
    }
}

/// A value of figures, 0 where the figures are shorter than the form (never panics).
fn figure(f: &Figures, indicator: usize, value: usize) -> u64 {
    f.values
        .get(indicator)
        .and_then(|r| r.get(value))
        .copied()
        .unwrap_or(0)
}

/// Sizes a test can shrink.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Data rows under the header row of an activity or message sheet.
    rows_per_sheet: u32,
    /// Activity rows up to which wrapped rows get an explicit height.
    rows_with_height: usize,
    /// Activity rows up to which their texts go to the shared-string table.
    rows_with_shared_strings: usize,
}

impl Limits {
    const EXCEL: Limits = Limits {
        rows_per_sheet: EXCEL_ROWS - 1,
        rows_with_height: 100_000,
        rows_with_shared_strings: 200_000,
    };
}

fn render_with(
    c: &Consolidation,
    form: &Form,
    report: &ReportSettings,
    limits: Limits,
) -> Result<Workbook, XlsxError> {
    let cx = Cx {
        c,
        form,
        report,
        st: Styles::new(),
        limits,
    };
    let mut wb = Workbook::new();
    // Deflate level, measured at 18 x 5,000 activity rows (BENCHMARKS.md): level 6 (the
    // default) 0.83 s for the whole run and a 3.5 MB workbook; 3: 0.57 s, 4.0 MB; 1: 0.55 s,
    // 5.9 MB. Level 3 keeps the attachment small for mail servers at almost level 1's speed.
    wb.set_zip_compression_level(3);
    let title = cx.title();
    let props = DocProperties::new()
        .set_title(format!("{title} - {}", c.period.label()))
        .set_subject(form.title.as_str())
        .set_author(report.department.as_str())
        .set_company(report.issuing_body.as_str())
        .set_keywords(format!("{}, {}", form.short_title, c.period.key()))
        .set_creation_datetime(&c.generated_at.with_timezone(&Utc));
    wb.set_properties(&props);

    cx.summary(wb.add_worksheet())?;
    cx.status(wb.add_worksheet())?;
    cx.activities(&mut wb)?;
    cx.narrative(wb.add_worksheet())?;
    cx.messages(wb.add_worksheet())?;
    cx.chart(wb.add_worksheet())?;
    Ok(wb)
}

/// Everything a sheet writer needs.
struct Cx<'a> {
    c: &'a Consolidation,
    form: &'a Form,
    report: &'a ReportSettings,
    st: Styles,
    limits: Limits,
}

impl Cx<'_> {
    /// The report title: the template with {form} and {period}. A template written in capitals
    /// ("TỔNG HỢP {form}") gets its values in capitals too, as official titles are.
    fn title(&self) -> String {
        let t = &self.report.title;
        let literal = t.replace("{form}", "").replace("{period}", "");
        let upper = literal.chars().any(char::is_alphabetic)
            && literal
                .chars()
                .filter(|ch| ch.is_alphabetic())
                .all(char::is_uppercase);
        let (form, period) = if upper {
            (
                self.form.title.to_uppercase(),
                self.c.period.label().to_uppercase(),
            )
        } else {
            (self.form.title.clone(), self.c.period.label())
        };
        t.replace("{form}", &form).replace("{period}", &period)
    }

    fn unit_name_of(&self, id: &str) -> String {
        self.c
            .units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    }

    // ---------------------------------------------------------------------------------------
    // 1. Tổng hợp
    // ---------------------------------------------------------------------------------------

    fn summary(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, form, st) = (self.c, self.form, &self.st);
        let lay = SummaryLayout::of(c, form);
        let blocks = blocks(c);
        let ncols = lay.columns();
        let last = ncols - 1;
        let nval = lay.values_per_indicator;
        ws.set_name(SHEET_SUMMARY)?;

        // Title block, official style: the issuing body and department left, the party's name
        // and the place and date right; then the title and the facts of the run, centred.
        let left_end: ColNum = if ncols >= 6 { 2 } else { 0 };
        let right_start = (left_end + 1).max(ncols.saturating_sub(8)).min(last);
        merge(ws, 0, 0, 0, left_end, &self.report.issuing_body, &st.org)?;
        merge(
            ws,
            0,
            right_start,
            0,
            last,
            &self.report.heading,
            &st.org_party,
        )?;
        merge(ws, 1, 0, 1, left_end, &self.report.department, &st.org_dept)?;
        merge(
            ws,
            1,
            right_start,
            1,
            last,
            &dated_line(&self.report.place, &c.generated_at),
            &st.date_line,
        )?;
        merge(ws, 2, 0, 2, left_end, "*", &st.center_plain)?;
        merge(ws, 4, 0, 4, last, &self.title(), &st.title)?;
        ws.set_row_height(4, 24)?;
        let deadline = format!(
            "Kỳ báo cáo: {} — Hạn nộp: {}",
            c.period.label(),
            time_and_date(&c.deadline)
        );
        merge(ws, 5, 0, 5, last, &deadline, &st.subtitle)?;
        let at = format!("Tổng hợp lúc: {}", time_and_date(&c.generated_at));
        merge(ws, 6, 0, 6, last, &at, &st.center_plain)?;
        let reported = format!(
            "Số đơn vị có báo cáo: {}/{}",
            c.accepted_count(),
            c.units.len()
        );
        merge(ws, 7, 0, 7, last, &reported, &st.center_plain)?;

        // Two header rows.
        let h = lay.header_row;
        for (col, text) in [
            (SummaryLayout::STT_COL, "STT"),
            (SummaryLayout::NAME_COL, "Đơn vị"),
            (SummaryLayout::STATUS_COL, "Tình trạng"),
        ] {
            merge(ws, h, col, h + 1, col, text, &st.header)?;
        }
        let value_width = self.value_width(&blocks);
        let mut header_lines = 2.0_f64;
        for (i, item) in form.indicators.items.iter().enumerate() {
            let text = format!("{} - {}", item.code, item.name);
            let (first, last_v) = (
                lay.value_col(i, 0),
                lay.value_col(i, nval.saturating_sub(1)),
            );
            merge(ws, h, first, h, last_v, &text, &st.header)?;
            let span = value_width * nval as f64;
            header_lines = header_lines.max((text_chars(&text) as f64 * 1.1 / span).ceil());
            for (v, col) in form.indicators.values.iter().enumerate() {
                ws.write_string_with_format(h + 1, lay.value_col(i, v), &col.title, &st.header)?;
            }
        }
        ws.set_row_height(h, (15.0 * header_lines + 3.0).min(409.0))?;
        ws.set_row_height(h + 1, 30)?;

        // Groups: a subtotal row, then the units.
        let mut number = 0;
        for (b, block) in blocks.iter().enumerate() {
            let row = match block.group {
                Some(g) => lay.group_rows[g],
                None => lay.unit_rows[block.units[0]] - 1,
            };
            ws.write_string_with_format(row, 0, roman(b + 1), &st.group_center)?;
            ws.write_string_with_format(row, 1, &block.name, &st.group_text)?;
            let accepted = block
                .units
                .iter()
                .filter(|&&u| c.units[u].status == UnitStatus::Accepted)
                .count();
            let share = format!("Có báo cáo: {accepted}/{}", block.units.len());
            ws.write_string_with_format(row, 2, share, &st.group_center)?;
            let rows = block.units.iter().map(|&u| lay.unit_rows[u]);
            let (first, last_r) = (rows.clone().min(), rows.max());
            for i in 0..lay.indicators {
                for v in 0..nval {
                    let col = lay.value_col(i, v);
                    let value = figure(&block.figures, i, v);
                    match (first, last_r) {
                        (Some(f), Some(l)) => {
                            let formula = Formula::new(format!(
                                "=SUM({}:{})",
                                a1(f, col.into()),
                                a1(l, col.into())
                            ))
                            .set_result(value.to_string());
                            ws.write_formula_with_format(row, col, formula, &st.group_int)?;
                        }
                        _ => {
                            ws.write_number_with_format(row, col, value as f64, &st.group_int)?;
                        }
                    }
                }
            }
            for &u in &block.units {
                number += 1;
                self.summary_unit(ws, &lay, lay.unit_rows[u], number, &c.units[u])?;
            }
        }

        // Grand total over the subtotal cells.
        let t = lay.total_row;
        ws.write_blank(t, 0, &st.total_text)?;
        ws.write_string_with_format(t, 1, "Tổng cộng", &st.total_text)?;
        let share = format!("Có báo cáo: {}/{}", c.accepted_count(), c.units.len());
        ws.write_string_with_format(t, 2, share, &st.total_center)?;
        let subtotal_rows: Vec<RowNum> = blocks
            .iter()
            .filter_map(|b| match b.group {
                Some(g) => Some(lay.group_rows[g]),
                None => b.units.first().map(|&u| lay.unit_rows[u] - 1),
            })
            .collect();
        for i in 0..lay.indicators {
            for v in 0..nval {
                let col = lay.value_col(i, v);
                let value = figure(&c.totals, i, v);
                if subtotal_rows.is_empty() {
                    ws.write_number_with_format(t, col, value as f64, &st.total_int)?;
                } else {
                    let cells: Vec<String> =
                        subtotal_rows.iter().map(|&r| a1(r, col.into())).collect();
                    let formula =
                        Formula::new(format!("={}", sum_of(&cells))).set_result(value.to_string());
                    ws.write_formula_with_format(t, col, formula, &st.total_int)?;
                }
            }
        }

        // Widths, panes, print.
        let name_width = c
            .units
            .iter()
            .map(|u| text_chars(&u.name))
            .chain(blocks.iter().map(|b| text_chars(&b.name)))
            .max()
            .unwrap_or(0) as f64;
        ws.set_column_width(0, 6)?;
        ws.set_column_width(1, (name_width + 2.0).clamp(18.0, 45.0))?;
        ws.set_column_width(2, 16)?;
        if ncols > lay.first_value_col {
            ws.set_column_range_width(lay.first_value_col, last, value_width)?;
        }
        ws.set_freeze_panes(lay.first_data_row, 2)?;
        page_setup(ws, Some((h, h + 1)), None)?;
        Ok(())
    }

    fn summary_unit(
        &self,
        ws: &mut Worksheet,
        lay: &SummaryLayout,
        row: RowNum,
        number: u32,
        u: &UnitRow,
    ) -> Result<(), XlsxError> {
        let st = &self.st;
        let (text, center, status, blank) = match (u.status, u.late) {
            (UnitStatus::Accepted, false) => (&st.text, &st.center, &st.center, &st.int),
            (UnitStatus::Accepted, true) => (&st.text, &st.center, &st.late_center, &st.int),
            (UnitStatus::Missing, _) => (
                &st.missing_text,
                &st.missing_center,
                &st.missing_center,
                &st.missing_center,
            ),
            (UnitStatus::Rejected, _) => (
                &st.rejected_text,
                &st.rejected_center,
                &st.rejected_center,
                &st.rejected_center,
            ),
        };
        ws.write_number_with_format(row, 0, number, center)?;
        ws.write_string_with_format(row, 1, &u.name, text)?;
        ws.write_string_with_format(row, 2, u.status_label(), status)?;
        let figures = accepted_figures(u);
        for i in 0..lay.indicators {
            for v in 0..lay.values_per_indicator {
                let col = lay.value_col(i, v);
                match figures {
                    Some(f) => {
                        ws.write_number_with_format(row, col, figure(f, i, v) as f64, &st.int)?
                    }
                    None => ws.write_blank(row, col, blank)?,
                };
            }
        }
        Ok(())
    }

    /// Width of a figure column: the widest number with its thousands separators, at least 8.
    fn value_width(&self, blocks: &[Block]) -> f64 {
        let widest = blocks
            .iter()
            .map(|b| &b.figures)
            .chain(std::iter::once(&self.c.totals))
            .chain(self.c.units.iter().filter_map(accepted_figures))
            .flat_map(|f| f.values.iter().flatten())
            .copied()
            .max()
            .unwrap_or(0);
        let digits = widest.to_string().len();
        ((digits + (digits - 1) / 3) as f64 + 2.0).max(8.0)
    }

    // ---------------------------------------------------------------------------------------
    // 2. Tình hình nộp báo cáo
    // ---------------------------------------------------------------------------------------

    fn status(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_STATUS)?;
        let extra: Vec<(&str, &str)> = self
            .form
            .header
            .iter()
            .filter(|h| h.key != "unit" && h.key != "period")
            .map(|h| (h.key.as_str(), h.label.as_str()))
            .collect();
        // Both blocks give a column the same meaning where they can (unit, status or outcome,
        // file, time, counts, SHA-256), so one width fits both.
        let mut headers: Vec<String> = [
            "STT",
            "Đơn vị",
            "Nhóm",
            "Tình trạng",
            "Tệp",
            "Nhận lúc",
            "Số lỗi",
            "Số cảnh báo",
            "SHA-256",
        ]
        .map(str::to_owned)
        .to_vec();
        headers.extend(extra.iter().map(|(_, label)| (*label).to_owned()));
        let file_headers: Vec<String> = [
            "STT",
            "Đơn vị",
            "Kỳ báo cáo",
            "Kết quả",
            "Tệp",
            "Nhận lúc",
            "Số lỗi",
            "Số cảnh báo",
            "SHA-256",
            "Kích thước (byte)",
        ]
        .map(str::to_owned)
        .to_vec();
        let file_unit = |f: &crate::pipeline::consolidate::FileRecord| {
            f.unit
                .as_deref()
                .map_or_else(|| UNKNOWN_UNIT.to_owned(), |id| self.unit_name_of(id))
        };

        // Widths first: row heights of wrapped cells depend on them.
        let mut widths = Widths::new(&headers);
        widths.see_all(&file_headers);
        for u in &c.units {
            widths.see(1, &u.name);
            widths.see(2, &u.group);
            if let Some(f) = &u.file {
                widths.see(4, &f.path);
            }
            for (k, (key, _)) in extra.iter().enumerate() {
                if let Some((_, value)) = u.header.iter().find(|(hk, _)| hk == key) {
                    widths.see(9 + k, value);
                }
            }
        }
        for f in &c.files {
            widths.see(1, &file_unit(f));
            widths.see(3, f.outcome.label());
            widths.see(4, &f.path);
        }
        for col in 0..widths.len() {
            widths.cap(col, 40.0);
        }
        widths.set(4, widths.get(4).clamp(30.0, 50.0));
        widths.set(5, 17.0);
        // 64 hexadecimal digits in an 8-point font.
        widths.set(8, 50.0);
        widths.apply(ws)?;
        let path_width = widths.get(4);

        let n = c.units.len() as RowNum;
        table_or_note(ws, 0, &headers, n, "DonVi", "Danh sách đơn vị trống.", st)?;
        fit_header(ws, 0, &headers, &widths)?;
        for (i, u) in c.units.iter().enumerate() {
            let r = 1 + i as RowNum;
            let status = match (u.status, u.late) {
                (UnitStatus::Accepted, false) => &st.center,
                (UnitStatus::Accepted, true) => &st.late_center,
                (UnitStatus::Missing, _) => &st.missing_center,
                (UnitStatus::Rejected, _) => &st.rejected_center,
            };
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.center)?;
            ws.write_string_with_format(r, 1, &u.name, &st.text)?;
            ws.write_string_with_format(r, 2, &u.group, &st.text)?;
            ws.write_string_with_format(r, 3, u.status_label(), status)?;
            if let Some(f) = &u.file {
                let path = cell_text(&f.path);
                set_lines(ws, r, lines_in(&path, path_width))?;
                ws.write_string_with_format(r, 4, path.as_ref(), &st.wrap)?;
                ws.write_datetime_with_format(r, 5, f.received.naive_local(), &st.datetime)?;
                ws.write_number_with_format(r, 6, f.errors as f64, &st.int)?;
                ws.write_number_with_format(r, 7, f.warnings as f64, &st.int)?;
                ws.write_string_with_format(r, 8, &f.sha256, &st.small)?;
            }
            for (k, (key, _)) in extra.iter().enumerate() {
                if let Some((_, value)) = u.header.iter().find(|(hk, _)| hk == key) {
                    let value = cell_text(value);
                    ws.write_string_with_format(r, 9 + k as ColNum, value.as_ref(), &st.text)?;
                }
            }
        }

        // Every file seen, below.
        let heading = n.max(1) + 2;
        let files_header = heading + 1;
        let text = format!("Các tệp đã nhận trong kỳ ({} tệp)", c.files.len());
        ws.write_string_with_format(heading, 0, text, &st.heading)?;
        table_or_note(
            ws,
            files_header,
            &file_headers,
            c.files.len() as RowNum,
            "TepNhan",
            "Không có tệp nào trong thư mục nhận.",
            st,
        )?;
        fit_header(ws, files_header, &file_headers, &widths)?;
        for (i, f) in c.files.iter().enumerate() {
            let r = files_header + 1 + i as RowNum;
            let (errors, warnings) = counts(&f.findings);
            let outcome_format = match f.outcome {
                FileOutcome::Rejected | FileOutcome::Unidentified => &st.rejected_center,
                _ => &st.center,
            };
            let path = cell_text(&f.path);
            set_lines(ws, r, lines_in(&path, path_width))?;
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.center)?;
            ws.write_string_with_format(r, 1, file_unit(f), &st.text)?;
            match f.period {
                Some(p) => ws.write_string_with_format(r, 2, p.label(), &st.center)?,
                None => ws.write_blank(r, 2, &st.center)?,
            };
            ws.write_string_with_format(r, 3, f.outcome.label(), outcome_format)?;
            ws.write_string_with_format(r, 4, path.as_ref(), &st.wrap)?;
            match &f.received {
                Some(t) => ws.write_datetime_with_format(r, 5, t.naive_local(), &st.datetime)?,
                None => ws.write_blank(r, 5, &st.center)?,
            };
            ws.write_number_with_format(r, 6, errors as f64, &st.int)?;
            ws.write_number_with_format(r, 7, warnings as f64, &st.int)?;
            match &f.sha256 {
                Some(sha) => ws.write_string_with_format(r, 8, sha, &st.small)?,
                None => ws.write_blank(r, 8, &st.small)?,
            };
            ws.write_number_with_format(r, 9, f.size as f64, &st.int)?;
        }

        ws.set_freeze_panes(1, 2)?;
        let title = format!("Tình hình nộp báo cáo — {}", c.period.label());
        page_setup(ws, Some((0, 0)), Some(&title))?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // 3. Hoạt động
    // ---------------------------------------------------------------------------------------

    fn activities(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
        let (c, form, st) = (self.c, self.form, &self.st);
        let columns = &form.activities.columns;
        let mut names = vec!["Đơn vị".to_owned()];
        names.extend(columns.iter().map(|col| col.header.clone()));
        names.push("Dòng trong tệp gốc".to_owned());
        let headers = unique_headers(&names);
        let last_col = (headers.len() - 1) as ColNum;
        let source_col = last_col;

        let rows = || {
            c.units
                .iter()
                .filter(|u| u.status == UnitStatus::Accepted)
                .flat_map(|u| u.activities.iter().map(move |a| (u, a)))
        };
        let row_count: usize = rows().count();

        // Widths: the form's width if declared, else from the content; longer text wraps.
        let mut widths = Widths::new(&headers);
        for (u, a) in rows() {
            widths.see(0, &u.name);
            for (k, v) in a.values().enumerate().take(columns.len()) {
                if let Value::Text(t) = v {
                    widths.see(k + 1, t);
                }
            }
        }
        widths.cap(0, 40.0);
        let mut formats = Vec::with_capacity(columns.len());
        // Per column: the width its text wraps at, if it wraps.
        let mut wraps: Vec<Option<f64>> = Vec::with_capacity(columns.len());
        for (k, col) in columns.iter().enumerate() {
            let seen = widths.get(k + 1);
            let width = col.width.unwrap_or(seen.min(50.0)).max(6.0);
            widths.set(k + 1, width);
            let wraps_here =
                seen > width + 0.5 && matches!(col.kind, ColumnType::Text | ColumnType::Choice);
            wraps.push(wraps_here.then_some(width));
            formats.push(match col.kind {
                ColumnType::Serial => &st.serial,
                ColumnType::Date => &st.date,
                ColumnType::Count => &st.int,
                ColumnType::Text | ColumnType::Choice if wraps_here => &st.wrap,
                ColumnType::Text | ColumnType::Choice => &st.text,
            });
        }
        widths.set(source_col.into(), 10.0);
        let title = format!("Danh sách hoạt động — {}", c.period.label());

        if row_count == 0 {
            let ws = wb.add_worksheet();
            ws.set_name(SHEET_ACTIVITIES)?;
            widths.apply(ws)?;
            table_or_note(
                ws,
                0,
                &headers,
                0,
                "HoatDong1",
                "Không có hoạt động nào được báo cáo trong kỳ.",
                st,
            )?;
            fit_header(ws, 0, &headers, &widths)?;
            page_setup(ws, Some((0, 0)), Some(&title))?;
            return Ok(());
        }

        // Wrapped rows get their height (LibreOffice does not grow them on opening; Excel
        // does) — up to a point: rust_xlsxwriter keeps every row's options until the workbook
        // is saved, even in constant-memory mode (about 440 bytes a row: 440 MB for a million
        // rows). Past the limit the viewer sizes the rows.
        let heights = row_count <= self.limits.rows_with_height;
        let cap = self.limits.rows_per_sheet.max(1) as usize;
        let mut rest = rows();
        let mut remaining = row_count;
        let mut sheet = 0;
        while remaining > 0 {
            sheet += 1;
            let n = remaining.min(cap);
            // Rows are written in order, streamed to a temporary file instead of holding every
            // cell (a million activities would take gigabytes). Texts go to the shared-string
            // table (a smaller file, saved faster: less XML to deflate) while its memory, which
            // grows with the distinct texts, stays small; past that, inline strings keep a
            // huge sheet in constant memory.
            let ws = if row_count <= self.limits.rows_with_shared_strings {
                wb.add_worksheet_with_low_memory()?
            } else {
                wb.add_worksheet_with_constant_memory()?
            };
            if sheet == 1 {
                ws.set_name(SHEET_ACTIVITIES)?;
            } else {
                ws.set_name(format!("{SHEET_ACTIVITIES} ({sheet})"))?;
            }
            widths.apply(ws)?;
            // Each column carries its format; cells are written without one and take it
            // (rust_xlsxwriter hashes a cell's `Format` on every write: most of the time of a
            // big sheet went there).
            ws.set_column_format(0, &st.text)?;
            for (k, format) in formats.iter().enumerate() {
                ws.set_column_format((k + 1) as ColNum, format)?;
            }
            ws.set_column_format(source_col, &st.serial)?;
            // A header with filter buttons, not an Excel table: rust_xlsxwriter records every
            // cell of a table in a map to check overlaps (9 million entries for a million rows).
            for (col, h) in headers.iter().enumerate() {
                ws.write_string_with_format(0, col as ColNum, h, &st.header)?;
            }
            ws.autofilter(0, 0, n as RowNum, last_col)?;
            fit_header(ws, 0, &headers, &widths)?;
            for (i, (u, a)) in rest.by_ref().take(n).enumerate() {
                let r = 1 + i as RowNum;
                let lines = a
                    .values()
                    .zip(&wraps)
                    .filter_map(|(v, w)| match (v, w) {
                        (Value::Text(t), Some(w)) => Some(lines_in(t, *w)),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(1);
                if heights {
                    set_lines(ws, r, lines)?;
                }
                ws.write_string(r, 0, &u.name)?;
                for (k, v) in a.values().take(formats.len()).enumerate() {
                    let col = (k + 1) as ColNum;
                    match v {
                        // An empty cell shows its column's format.
                        Value::Empty => {}
                        // Always a string: a unit's "=HYPERLINK(...)" stays text.
                        Value::Text(t) => {
                            ws.write_string(r, col, cell_text(t).as_ref())?;
                        }
                        Value::Date(d) => {
                            ws.write_datetime(r, col, d)?;
                        }
                        Value::Count(n) => {
                            ws.write_number(r, col, n as f64)?;
                        }
                    }
                }
                ws.write_number(r, source_col, a.source_row)?;
            }
            remaining -= n;
            ws.set_freeze_panes(1, 1)?;
            let title = if sheet == 1 {
                title.clone()
            } else {
                format!("{title} (tiếp theo, phần {sheet})")
            };
            page_setup(ws, Some((0, 0)), Some(&title))?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // 4. Thuyết minh
    // ---------------------------------------------------------------------------------------

    fn narrative(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        const BLOCK_WIDTH: f64 = 60.0;
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_NARRATIVE)?;
        let mut headers: Vec<String> = ["STT", "Đơn vị", "Tình trạng"].map(str::to_owned).to_vec();
        headers.extend(self.form.narrative.iter().map(|b| b.label.clone()));
        let mut widths = Widths::new(&headers);
        for u in &c.units {
            widths.see(1, &u.name);
        }
        widths.cap(1, 40.0);
        widths.set(0, 6.0);
        widths.set(2, 14.0);
        for k in 0..self.form.narrative.len() {
            widths.set(3 + k, BLOCK_WIDTH);
        }
        widths.apply(ws)?;
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, col as ColNum, h, &st.header)?;
        }
        fit_header(ws, 0, &headers, &widths)?;
        for (i, u) in c.units.iter().enumerate() {
            let r = 1 + i as RowNum;
            let (text, center, block) = match u.status {
                UnitStatus::Accepted => (&st.top_text, &st.top_center, &st.wrap),
                UnitStatus::Missing => (&st.missing_text, &st.missing_center, &st.missing_center),
                UnitStatus::Rejected => {
                    (&st.rejected_text, &st.rejected_center, &st.rejected_center)
                }
            };
            let blocks: Vec<Option<Cow<'_, str>>> = (0..self.form.narrative.len())
                .map(|k| match u.narrative.get(k) {
                    Some(t) if u.status == UnitStatus::Accepted && !t.trim().is_empty() => {
                        Some(cell_text(t))
                    }
                    _ => None,
                })
                .collect();
            let lines = blocks
                .iter()
                .flatten()
                .map(|t| lines_in(t, BLOCK_WIDTH))
                .max()
                .unwrap_or(1);
            set_lines(ws, r, lines)?;
            ws.write_number_with_format(r, 0, (i + 1) as u32, center)?;
            ws.write_string_with_format(r, 1, &u.name, text)?;
            ws.write_string_with_format(r, 2, u.status_label(), center)?;
            for (k, t) in blocks.iter().enumerate() {
                let col = (3 + k) as ColNum;
                match t {
                    Some(t) => ws.write_string_with_format(r, col, t.as_ref(), block)?,
                    None => ws.write_blank(r, col, block)?,
                };
            }
        }
        ws.set_freeze_panes(1, 2)?;
        let title = format!("Thuyết minh của các đơn vị — {}", c.period.label());
        page_setup(ws, Some((0, 0)), Some(&title))?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // 5. Lỗi, cảnh báo
    // ---------------------------------------------------------------------------------------

    fn messages(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_MESSAGES)?;
        let headers: Vec<String> = ["STT", "Đơn vị", "Tệp", "Trang", "Ô", "Mức độ", "Nội dung"]
            .map(str::to_owned)
            .to_vec();
        // One sheet holds them all in practice; a pathological run is cut with a last line.
        let cap = self.limits.rows_per_sheet.max(2) as usize;
        let (shown, table_rows) = if c.messages.len() > cap {
            (cap - 1, cap)
        } else {
            (c.messages.len(), c.messages.len())
        };
        let messages = &c.messages[..shown];
        let mut widths = Widths::new(&headers);
        for m in messages {
            widths.see(1, m.unit_name.as_deref().unwrap_or(UNKNOWN_UNIT));
            widths.see(2, &m.file);
            widths.see(3, m.finding.sheet.as_deref().unwrap_or(""));
        }
        widths.cap(1, 35.0);
        widths.cap(2, 40.0);
        widths.cap(3, 20.0);
        widths.set(4, 8.0);
        widths.set(5, 10.0);
        widths.set(6, 80.0);
        widths.apply(ws)?;
        table_or_note(
            ws,
            0,
            &headers,
            table_rows as RowNum,
            "LoiCanhBao",
            "Không có lỗi hay cảnh báo nào.",
            st,
        )?;
        fit_header(ws, 0, &headers, &widths)?;
        for (i, m) in messages.iter().enumerate() {
            let r = 1 + i as RowNum;
            let unit = m.unit_name.as_deref().unwrap_or(UNKNOWN_UNIT);
            let file = cell_text(&m.file);
            let message = cell_text(&m.finding.message);
            let severity = match m.finding.severity {
                Severity::Error => &st.error_center,
                _ => &st.top_center,
            };
            let lines = lines_in(&file, widths.get(2)).max(lines_in(&message, widths.get(6)));
            set_lines(ws, r, lines)?;
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.top_center)?;
            ws.write_string_with_format(r, 1, unit, &st.top_text)?;
            ws.write_string_with_format(r, 2, file.as_ref(), &st.wrap)?;
            match &m.finding.sheet {
                Some(s) => {
                    ws.write_string_with_format(r, 3, cell_text(s).as_ref(), &st.top_text)?
                }
                None => ws.write_blank(r, 3, &st.top_text)?,
            };
            match &m.finding.cell {
                Some(s) => ws.write_string_with_format(r, 4, s, &st.top_center)?,
                None => ws.write_blank(r, 4, &st.top_center)?,
            };
            ws.write_string_with_format(r, 5, m.finding.severity.label(), severity)?;
            ws.write_string_with_format(r, 6, message.as_ref(), &st.wrap)?;
        }
        if shown < c.messages.len() {
            let r = 1 + shown as RowNum;
            let text = format!(
                "… và {} thông báo khác không ghi hết vào trang này.",
                c.messages.len() - shown
            );
            ws.write_string_with_format(r, 6, text, &st.wrap)?;
        }
        ws.set_freeze_panes(1, 2)?;
        let title = format!("Lỗi, cảnh báo — {}", c.period.label());
        page_setup(ws, Some((0, 0)), Some(&title))?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // 6. Biểu đồ
    // ---------------------------------------------------------------------------------------

    /// The chart of the main indicators by unit, on its own sheet with the numbers it draws.
    ///
    /// The chart reads a block of plain numbers on this sheet, copied from the same figures as
    /// the unit rows of "Tổng hợp": rust_xlsxwriter fills a chart's cached data only from number
    /// and string cells (not from formula results), and the accepted units are not contiguous on
    /// "Tổng hợp" (group rows and units without figures sit between them), which would need a
    /// union reference that gets no cache at all. Without a cache, viewers that do not
    /// recalculate (phone previews) draw an empty chart.
    fn chart(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, form, st) = (self.c, self.form, &self.st);
        ws.set_name(SHEET_CHART)?;
        let (codes, value): (Vec<usize>, usize) = match &form.indicators.chart {
            Some(decl) => (
                decl.codes
                    .iter()
                    .filter_map(|code| form.indicator_index(code))
                    .collect(),
                form.value_index(&decl.value).unwrap_or(0),
            ),
            None => ((0..form.indicators.items.len().min(4)).collect(), 0),
        };
        let value_title = form
            .indicators
            .values
            .get(value)
            .map_or("", |v| v.title.as_str());
        let title = format!(
            "Các chỉ tiêu chính theo đơn vị ({}) — {}",
            value_title.to_lowercase(),
            c.period.label()
        );
        ws.write_string_with_format(0, 0, &title, &st.heading)?;
        let units: Vec<&UnitRow> = c
            .units
            .iter()
            .filter(|u| accepted_figures(u).is_some())
            .collect();
        ws.set_column_width(0, 40)?;
        page_setup(ws, None, None)?;
        if units.len() <= 40 {
            // The chart and its numbers on one sheet of paper.
            ws.set_print_fit_to_pages(1, 1);
        }
        if units.is_empty() || codes.is_empty() {
            ws.write_string_with_format(
                1,
                0,
                "Chưa có đơn vị nào có báo cáo được tiếp nhận nên chưa có biểu đồ.",
                &st.note,
            )?;
            return Ok(());
        }
        ws.write_string_with_format(
            1,
            0,
            format!(
                "Số liệu cột \"{value_title}\" của các đơn vị có báo cáo được tiếp nhận, như ở trang \"{SHEET_SUMMARY}\"."
            ),
            &st.note,
        )?;

        // The chart on top (rows 2..=26), the numbers under it.
        let header: RowNum = 28;
        let (first, last) = (header + 1, header + units.len() as RowNum);
        ws.write_string_with_format(header, 0, "Đơn vị", &st.header)?;
        for (k, &i) in codes.iter().enumerate() {
            let item = &form.indicators.items[i];
            let text = format!("{} - {}", item.code, item.name);
            ws.write_string_with_format(header, (k + 1) as ColNum, text, &st.header)?;
            ws.set_column_width((k + 1) as ColNum, 16)?;
        }
        ws.set_row_height(header, 75)?;
        for (r, u) in units.iter().enumerate() {
            let row = first + r as RowNum;
            ws.write_string_with_format(row, 0, &u.name, &st.text)?;
            if let Some(f) = accepted_figures(u) {
                for (k, &i) in codes.iter().enumerate() {
                    let n = figure(f, i, value) as f64;
                    ws.write_number_with_format(row, (k + 1) as ColNum, n, &st.int)?;
                }
            }
        }
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name(title.as_str());
        for k in 0..codes.len() {
            let col = (k + 1) as ColNum;
            chart
                .add_series()
                .set_name((SHEET_CHART, header, col))
                .set_categories((SHEET_CHART, first, 0, last, 0))
                .set_values((SHEET_CHART, first, col, last, col));
        }
        chart.y_axis().set_num_format("#,##0");
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.set_width(1000).set_height(500);
        ws.insert_chart(2, 0, &chart)?;
        Ok(())
    }
}

// -------------------------------------------------------------------------------------------
// Saving
// -------------------------------------------------------------------------------------------

/// Saving the workbook failed; names the file.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot save the workbook {}: {source}", path.display())]
    Xlsx { path: PathBuf, source: XlsxError },
    #[error("cannot write the workbook {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Save atomically: write to a temporary file in the same folder, fsync, rename over `path`.
/// A half-written workbook is never visible under `path`; on failure the temporary file is
/// removed and an earlier file under `path` is left as it was.
pub fn write_atomic(workbook: &mut Workbook, path: &Path) -> Result<(), SaveError> {
    let io_err = |source| SaveError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io_err(io::Error::new(io::ErrorKind::InvalidInput, "no file name")))?;
    // A dot name: a folder watcher or a person listing the folder passes over it.
    let mut tmp = crate::pipeline::output_file()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err)?;
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        workbook
            .save_to_writer(&mut out)
            .map_err(|source| SaveError::Xlsx {
                path: path.to_path_buf(),
                source,
            })?;
        out.flush().map_err(io_err)?;
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    // Make the rename itself durable. Some network file systems refuse to sync a folder; the
    // file is complete either way, so that is not an error.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------

/// The formats of the workbook, made once.
struct Styles {
    org: Format,
    org_dept: Format,
    org_party: Format,
    date_line: Format,
    center_plain: Format,
    title: Format,
    subtitle: Format,
    heading: Format,
    note: Format,
    header: Format,
    text: Format,
    top_text: Format,
    wrap: Format,
    center: Format,
    top_center: Format,
    error_center: Format,
    late_center: Format,
    int: Format,
    serial: Format,
    date: Format,
    datetime: Format,
    small: Format,
    group_text: Format,
    group_center: Format,
    group_int: Format,
    total_text: Format,
    total_center: Format,
    total_int: Format,
    missing_text: Format,
    missing_center: Format,
    rejected_text: Format,
    rejected_center: Format,
}

impl Styles {
    fn new() -> Styles {
        const HEADER_FILL: u32 = 0xDDEBF7;
        const GROUP_FILL: u32 = 0xF2F2F2;
        const TOTAL_FILL: u32 = 0xFFF2CC;
        const MISSING_FILL: u32 = 0xE7E6E6;
        const MISSING_FONT: u32 = 0x595959;
        const REJECTED_FILL: u32 = 0xFCE4D6;
        const REJECTED_FONT: u32 = 0x9C0006;
        const LATE_FONT: u32 = 0xC65911;
        const INT: &str = "#,##0";

        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let center = cell.clone().set_align(FormatAlign::Center);
        let group = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(GROUP_FILL));
        let total = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(TOTAL_FILL));
        let missing = cell
            .clone()
            .set_italic()
            .set_font_color(Color::RGB(MISSING_FONT))
            .set_background_color(Color::RGB(MISSING_FILL));
        let rejected = cell
            .clone()
            .set_italic()
            .set_font_color(Color::RGB(REJECTED_FONT))
            .set_background_color(Color::RGB(REJECTED_FILL));
        let top = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        Styles {
            org: Format::new().set_bold().set_align(FormatAlign::Center),
            org_dept: Format::new()
                .set_bold()
                .set_underline(FormatUnderline::Single)
                .set_align(FormatAlign::Center),
            org_party: Format::new()
                .set_bold()
                .set_underline(FormatUnderline::Single)
                .set_align(FormatAlign::Center),
            date_line: Format::new().set_italic().set_align(FormatAlign::Center),
            center_plain: Format::new().set_align(FormatAlign::Center),
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap(),
            subtitle: Format::new().set_italic().set_align(FormatAlign::Center),
            heading: Format::new().set_bold().set_font_size(12),
            note: Format::new().set_italic(),
            header: center
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_background_color(Color::RGB(HEADER_FILL)),
            text: cell.clone(),
            top_text: top.clone(),
            wrap: top.clone().set_text_wrap(),
            center: center.clone(),
            top_center: top.clone().set_align(FormatAlign::Center),
            error_center: center
                .clone()
                .set_bold()
                .set_font_color(Color::RGB(REJECTED_FONT)),
            late_center: center.clone().set_font_color(Color::RGB(LATE_FONT)),
            int: cell.clone().set_num_format(INT),
            serial: center.clone().set_num_format("0"),
            date: center.clone().set_num_format("dd/mm/yyyy"),
            datetime: center.clone().set_num_format("dd/mm/yyyy hh:mm"),
            small: cell.clone().set_font_size(8),
            group_text: group.clone(),
            group_center: group.clone().set_align(FormatAlign::Center),
            group_int: group.set_num_format(INT),
            total_text: total.clone(),
            total_center: total.clone().set_align(FormatAlign::Center),
            total_int: total.set_num_format(INT),
            missing_text: missing.clone(),
            missing_center: missing.set_align(FormatAlign::Center),
            rejected_text: rejected.clone(),
            rejected_center: rejected.set_align(FormatAlign::Center),
        }
    }
}

/// A4 landscape, one page wide, page numbers in the footer, optional repeated rows and a title
/// in the page header.
fn page_setup(
    ws: &mut Worksheet,
    repeat: Option<(RowNum, RowNum)>,
    title: Option<&str>,
) -> Result<(), XlsxError> {
    ws.set_landscape()
        .set_paper_size(PAPER_A4)
        .set_print_fit_to_pages(1, 0)
        .set_print_center_horizontally(true)
        .set_margins(0.4, 0.4, 0.7, 0.6, 0.3, 0.3)
        .set_footer("&CTrang &P/&N");
    if let Some((first, last)) = repeat {
        ws.set_repeat_rows(first, last)?;
    }
    if let Some(title) = title {
        // "&" starts a code in a page header; Excel caps the header at 255 characters.
        let text: String = title.replace('&', "&&").chars().take(200).collect();
        ws.set_header(format!("&C&\"-,Bold\"{text}"));
    }
    Ok(())
}

/// Write a text over a range, or into one cell if the range is one cell.
fn merge(
    ws: &mut Worksheet,
    first_row: RowNum,
    first_col: ColNum,
    last_row: RowNum,
    last_col: ColNum,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if first_row == last_row && first_col == last_col {
        ws.write_string_with_format(first_row, first_col, text, format)?;
    } else {
        ws.merge_range(first_row, first_col, last_row, last_col, text, format)?;
    }
    Ok(())
}

/// An Excel table with these headers and `rows` data rows under `first_row`; with no rows (a
/// table needs one), the headers as plain cells and a note under them.
fn table_or_note(
    ws: &mut Worksheet,
    first_row: RowNum,
    headers: &[String],
    rows: RowNum,
    name: &str,
    note: &str,
    st: &Styles,
) -> Result<(), XlsxError> {
    let last_col = (headers.len() - 1) as ColNum;
    if rows > 0 {
        let table = Table::new()
            .set_name(name)
            .set_columns(&table_columns(headers));
        ws.add_table(first_row, 0, first_row + rows, last_col, &table)?;
    } else {
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(first_row, col as ColNum, h, &st.header)?;
        }
        ws.write_string_with_format(first_row + 1, 0, note, &st.note)?;
    }
    Ok(())
}

fn table_columns(headers: &[String]) -> Vec<TableColumn> {
    let header_format = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    headers
        .iter()
        .map(|h| {
            TableColumn::new()
                .set_header(h.as_str())
                .set_header_format(&header_format)
        })
        .collect()
}

/// Table headers must be unique (case-insensitively) and on one line: "Ghi chú", "Ghi chú (2)".
fn unique_headers(names: &[String]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let base = n.split_whitespace().collect::<Vec<_>>().join(" ");
            let base = if base.is_empty() {
                format!("Cột {}", i + 1)
            } else {
                base
            };
            let mut name = base.clone();
            let mut k = 1;
            while seen.contains(&name.to_lowercase()) {
                k += 1;
                name = format!("{base} ({k})");
            }
            seen.push(name.to_lowercase());
            name
        })
        .collect()
}

/// Column widths from content (characters), set at the end.
struct Widths(Vec<f64>);

impl Widths {
    fn new(headers: &[String]) -> Widths {
        Widths(headers.iter().map(|h| width_of(h).max(6.0)).collect())
    }
    fn see(&mut self, col: usize, text: &str) {
        if let Some(w) = self.0.get_mut(col) {
            *w = w.max(width_of(text));
        }
    }
    fn see_all(&mut self, headers: &[String]) {
        if self.0.len() < headers.len() {
            self.0.resize(headers.len(), 6.0);
        }
        for (col, h) in headers.iter().enumerate() {
            self.see(col, h);
        }
    }
    fn get(&self, col: usize) -> f64 {
        self.0.get(col).copied().unwrap_or(8.0)
    }
    fn set(&mut self, col: usize, width: f64) {
        if col >= self.0.len() {
            self.0.resize(col + 1, 8.0);
        }
        self.0[col] = width;
    }
    fn cap(&mut self, col: usize, max: f64) {
        if let Some(w) = self.0.get_mut(col) {
            *w = w.min(max);
        }
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (col, w) in self.0.iter().enumerate() {
            ws.set_column_width(col as ColNum, *w)?;
        }
        Ok(())
    }
}

/// Lines a text takes when it wraps in a column `width` characters wide (a little pessimistic:
/// letters with diacritics and bold headers run wider than the digit a width unit measures).
fn lines_in(text: &str, width: f64) -> usize {
    let per_line = (width - 1.0).max(1.0);
    text.split('\n')
        .map(|line| {
            ((line.chars().count() as f64 * 1.1) / per_line)
                .ceil()
                .max(1.0) as usize
        })
        .sum()
}

/// Give a row the height of its wrapped lines. Excel grows such rows itself on opening, but
/// LibreOffice and printing from some viewers do not; one line keeps the default height.
fn set_lines(ws: &mut Worksheet, row: RowNum, lines: usize) -> Result<(), XlsxError> {
    if lines > 1 {
        ws.set_row_height(row, (15.0 * lines as f64 + 2.0).min(409.0))?;
    }
    Ok(())
}

/// A header row tall enough for its wrapped headers.
fn fit_header(
    ws: &mut Worksheet,
    row: RowNum,
    headers: &[String],
    widths: &Widths,
) -> Result<(), XlsxError> {
    let lines = headers
        .iter()
        .enumerate()
        .map(|(col, h)| lines_in(h, widths.get(col)))
        .max()
        .unwrap_or(1);
    set_lines(ws, row, lines)
}

/// A column width for a text: its longest line plus a margin, in characters.
fn width_of(text: &str) -> f64 {
    text_chars(text) as f64 + 2.0
}

fn text_chars(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Text from a unit's file, made safe for a cell: CR LF and CR become LF, and text over
/// Excel's 32,767 characters is cut with a visible mark (rust_xlsxwriter refuses it otherwise,
/// failing the whole workbook). A literal `_xHHHH_` needs nothing here: rust_xlsxwriter writes it
/// as `_x005F_xHHHH_` itself, and a test reads it back.
fn cell_text(s: &str) -> Cow<'_, str> {
    // UTF-16 length <= UTF-8 length, so a short string needs no length check.
    if !s.contains('\r') && s.len() <= EXCEL_CELL_CHARS {
        return Cow::Borrowed(s);
    }
    let mut out = s.replace("\r\n", "\n").replace('\r', "\n");
    if out.encode_utf16().count() > EXCEL_CELL_CHARS {
        let budget = EXCEL_CELL_CHARS - TRUNCATED.encode_utf16().count();
        let mut units = 0;
        let mut end = 0;
        for (i, ch) in out.char_indices() {
            units += ch.len_utf16();
            if units > budget {
                break;
            }
            end = i + ch.len_utf8();
        }
        out.truncate(end);
        out.push_str(TRUNCATED);
    }
    Cow::Owned(out)
}

/// "SUM(A1,A5,A9)"; past Excel's 255 arguments, nested sums.
fn sum_of(cells: &[String]) -> String {
    if cells.len() <= EXCEL_ARGS {
        return format!("SUM({})", cells.join(","));
    }
    let parts: Vec<String> = cells.chunks(EXCEL_ARGS).map(sum_of).collect();
    sum_of(&parts)
}

/// Roman numerals for group rows: 1 -> "I", 4 -> "IV", 14 -> "XIV".
fn roman(mut n: usize) -> String {
    const TABLE: [(usize, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// "17:00 ngày 03/11/2026".
fn time_and_date(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M ngày %d/%m/%Y").to_string()
}

/// The place-and-date line of an official document: "Lâm Đồng, ngày 04 tháng 11 năm 2026".
/// Days below 10 and months below 3 take a leading zero, as in official documents. Without a
/// place the line is just the date.
fn dated_line(place: &str, t: &DateTime<FixedOffset>) -> String {
    let day = format!("{:02}", t.day());
    let month = if t.month() < 3 {
        format!("{:02}", t.month())
    } else {
        t.month().to_string()
    };
    if place.trim().is_empty() {
        format!("Ngày {day} tháng {month} năm {}", t.year())
    } else {
        format!(
            "{}, ngày {day} tháng {month} năm {}",
            place.trim(),
            t.year()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EMBEDDED_FORM;
    use crate::finding::Finding;
    use crate::period::Period;
    use crate::pipeline::consolidate::{
        Activity, ActivityValue, FileRecord, FileRef, GroupTotal, Message,
    };
    use calamine::{Data, DataType, Range, Reader, Xlsx, open_workbook};
    use chrono::NaiveDate;
    use std::io::Read;

    const HYPERLINK: &str = "=HYPERLINK(\"http://x\",\"y\")";

    fn form() -> Form {
        Form::from_toml(EMBEDDED_FORM).unwrap()
    }

    fn report() -> ReportSettings {
        ReportSettings {
            issuing_body: "TỈNH ỦY LÂM ĐỒNG".into(),
            department: "BAN TUYÊN GIÁO".into(),
            heading: "ĐẢNG CỘNG SẢN VIỆT NAM".into(),
            place: "Lâm Đồng".into(),
            title: "TỔNG HỢP {form}".into(),
        }
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// `values[i] = [a + i, b + i]` for each of the form's 9 indicators.
    fn figures(a: u64, b: u64) -> Figures {
        Figures {
            values: (0..9).map(|i| vec![a + i, b + i]).collect(),
        }
    }

    fn unit(id: &str, name: &str, group: &str, status: UnitStatus, late: bool) -> UnitRow {
        UnitRow {
            id: id.into(),
            name: name.into(),
            group: group.into(),
            status,
            late,
            file: None,
            header: vec![],
            figures: None,
            activities: Default::default(),
            narrative: vec![],
        }
    }

    fn file_ref(path: &str, received: &str, errors: usize, warnings: usize) -> FileRef {
        FileRef {
            path: path.into(),
            received: at(received),
            sha256: format!("{:064x}", path.len()),
            errors,
            warnings,
        }
    }

    fn activity(row: u32, day: u32, kind: &str, content: &str, count: u64) -> Activity {
        Activity {
            source_row: row,
            values: vec![
                ActivityValue::Count((row - 5).into()),
                ActivityValue::Date(NaiveDate::from_ymd_opt(2026, 10, day).unwrap()),
                ActivityValue::Text(kind.into()),
                ActivityValue::Text(content.into()),
                ActivityValue::Text("Hội trường Tỉnh ủy".into()),
                ActivityValue::Count(count),
                ActivityValue::Empty,
            ],
        }
    }

    /// 3 groups, 5 units: on time, late, rejected, on time with no activities, missing.
    fn sample() -> Consolidation {
        let g1 = "Huyện ủy, Thành ủy";
        let g2 = "Đảng ủy trực thuộc";
        let g3 = "Cơ quan báo chí";
        let mut da_lat = unit("da-lat", "Thành ủy Đà Lạt", g1, UnitStatus::Accepted, false);
        da_lat.file = Some(file_ref(
            "da-lat/BC KL14 T10.xlsx",
            "2026-11-02T09:15:00+07:00",
            0,
            0,
        ));
        da_lat.figures = Some(figures(12, 40));
        da_lat.header = vec![
            ("preparer".into(), "Nguyễn Văn An".into()),
            ("phone".into(), "0263 3822 111".into()),
        ];
        da_lat.activities = vec![
            activity(6, 5, "Hội nghị", "Hội nghị quán triệt Kết luận 14", 250),
            activity(7, 12, "Báo điện tử", HYPERLINK, 1200),
        ]
        .into();
        da_lat.narrative = vec![
            "Tổ chức 2 hội nghị.\r\nNhân rộng 1 mô hình.".into(),
            String::new(),
            "Đề nghị cấp tài liệu.".into(),
        ];
        let mut bao_loc = unit(
            "bao-loc",
            "Thành ủy Bảo Lộc",
            g1,
            UnitStatus::Accepted,
            true,
        );
        bao_loc.file = Some(file_ref(
            "BaoLoc_T10 (sua).xlsx",
            "2026-11-03T18:30:00+07:00",
            0,
            1,
        ));
        bao_loc.figures = Some(figures(1250, 2000));
        bao_loc.activities =
            vec![activity(6, 20, "Mạng xã hội", "Đăng 5 bài _x0041_", 3400)].into();
        bao_loc.narrative = vec!["Ổn định.".into(), "Thiếu kinh phí.".into(), String::new()];
        let mut khoi_cq = unit(
            "khoi-cq",
            "Đảng ủy Khối các cơ quan tỉnh",
            g2,
            UnitStatus::Rejected,
            false,
        );
        khoi_cq.file = Some(file_ref("DUK CCQ.xlsx", "2026-11-01T10:00:00+07:00", 1, 0));
        let mut quan_su = unit(
            "quan-su",
            "Đảng ủy Quân sự tỉnh",
            g2,
            UnitStatus::Accepted,
            false,
        );
        quan_su.file = Some(file_ref("quan-su.xlsx", "2026-11-03T08:00:00+07:00", 0, 0));
        quan_su.figures = Some(figures(3, 9));
        let bao_lam_dong = unit(
            "bao-lam-dong",
            "Báo Lâm Đồng",
            g3,
            UnitStatus::Missing,
            false,
        );
        let units = vec![da_lat, bao_loc, khoi_cq, quan_su, bao_lam_dong];

        let group = |name: &str, idx: Vec<usize>| {
            let mut f = Figures::zero(9, 2);
            for &i in &idx {
                if let Some(u) = &units[i].figures {
                    f.add(u);
                }
            }
            GroupTotal {
                name: name.into(),
                units: idx,
                figures: f,
            }
        };
        let groups = vec![
            group(g1, vec![0, 1]),
            group(g2, vec![2, 3]),
            group(g3, vec![4]),
        ];
        let mut totals = Figures::zero(9, 2);
        for g in &groups {
            totals.add(&g.figures);
        }

        let bad = Finding::at_cell(
            Severity::Error,
            "bad_number",
            "Chỉ tiêu",
            11,
            4,
            "\"khoảng 20\" không phải là số",
        );
        let late_warning = Finding::at_cell(
            Severity::Warning,
            "number_as_text",
            "Chỉ tiêu",
            12,
            5,
            "số ghi dạng chữ \"1.250\"",
        );
        let unknown = Finding::new(
            Severity::Warning,
            "unidentified",
            "Không xác định được đơn vị của tệp",
        );
        let record = |path: &str, unit: Option<&str>, outcome, findings: Vec<Finding>| FileRecord {
            path: path.into(),
            unit: unit.map(str::to_owned),
            outcome,
            received: Some(at("2026-11-02T07:00:00+07:00")),
            size: 18_432,
            sha256: Some("ab".repeat(32)),
            period: Some(Period::month(2026, 10)),
            findings,
        };
        let files = vec![
            record(
                "BaoLoc_T10 (sua).xlsx",
                Some("bao-loc"),
                FileOutcome::Accepted,
                vec![late_warning.clone()],
            ),
            record(
                "BaoLoc_T10.xlsx",
                Some("bao-loc"),
                FileOutcome::Superseded,
                vec![],
            ),
            record(
                "DUK CCQ.xlsx",
                Some("khoi-cq"),
                FileOutcome::Rejected,
                vec![bad.clone()],
            ),
            record(
                "abc.xlsx",
                None,
                FileOutcome::Unidentified,
                vec![unknown.clone()],
            ),
            record(
                "da-lat/BC KL14 T10.xlsx",
                Some("da-lat"),
                FileOutcome::Accepted,
                vec![],
            ),
            record(
                "quan-su.xlsx",
                Some("quan-su"),
                FileOutcome::Accepted,
                vec![],
            ),
        ];
        let messages = vec![
            Message {
                unit: Some("bao-loc".into()),
                unit_name: Some("Thành ủy Bảo Lộc".into()),
                file: "BaoLoc_T10 (sua).xlsx".into(),
                finding: late_warning,
            },
            Message {
                unit: Some("khoi-cq".into()),
                unit_name: Some("Đảng ủy Khối các cơ quan tỉnh".into()),
                file: "DUK CCQ.xlsx".into(),
                finding: bad,
            },
            Message {
                unit: None,
                unit_name: None,
                file: "abc.xlsx".into(),
                finding: unknown,
            },
        ];
        Consolidation {
            period: Period::month(2026, 10),
            generated_at: at("2026-11-04T08:00:00+07:00"),
            deadline: at("2026-11-03T17:00:00+07:00"),
            units,
            groups,
            totals,
            files,
            messages,
        }
    }

    /// Render with the shipped form, save with `write_atomic`, return the folder and the path.
    fn saved_with(c: &Consolidation, limits: Limits) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("TongHop_KL14_2026-10.xlsx");
        let mut wb = render_with(c, &form(), &report(), limits).unwrap();
        write_atomic(&mut wb, &path).unwrap();
        (dir, path)
    }

    fn saved(c: &Consolidation) -> (tempfile::TempDir, PathBuf) {
        saved_with(c, Limits::EXCEL)
    }

    fn open(path: &Path) -> Xlsx<io::BufReader<std::fs::File>> {
        open_workbook(path).unwrap()
    }

    fn grid(path: &Path, sheet: &str) -> Range<Data> {
        open(path).worksheet_range(sheet).unwrap()
    }

    /// A cell as a person reads it: numbers without ".0", dates dd/mm/yyyy [HH:MM].
    fn cell(g: &Range<Data>, row: u32, col: u32) -> String {
        match g.get_value((row, col)) {
            None | Some(Data::Empty) => String::new(),
            Some(Data::String(s)) => s.clone(),
            Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
            Some(Data::DateTime(d)) => {
                let t = Data::DateTime(*d).as_datetime().unwrap();
                if t.time() == chrono::NaiveTime::MIN {
                    t.format("%d/%m/%Y").to_string()
                } else {
                    t.format("%d/%m/%Y %H:%M").to_string()
                }
            }
            Some(other) => format!("{other:?}"),
        }
    }

    fn column(g: &Range<Data>, col: u32, rows: std::ops::RangeInclusive<u32>) -> Vec<String> {
        rows.map(|r| cell(g, r, col)).collect()
    }

    fn zip_entry(path: &Path, name: &str) -> String {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    fn zip_names(path: &Path) -> Vec<String> {
        let zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        zip.file_names().map(str::to_owned).collect()
    }

    // Columns of the shipped form on "Tổng hợp": D/E = HN (Kỳ này, Lũy kế), T/U = KT.
    const HN: u32 = 3;
    const KT: u32 = 19;

    #[test]
    fn layout_of_the_sample_is_where_other_tests_look() {
        let lay = SummaryLayout::of(&sample(), &form());
        assert_eq!(lay.header_row, 9);
        assert_eq!(lay.first_data_row, 11);
        assert_eq!(lay.group_rows, [11, 14, 17]);
        assert_eq!(lay.unit_rows, [12, 13, 15, 16, 18]);
        assert_eq!(lay.total_row, 19);
        assert_eq!(lay.value_col(0, 0), 3);
        assert_eq!(lay.value_col(8, 1), 20);
        assert_eq!(lay.columns(), 21);
    }

    #[test]
    fn summary_lists_units_by_group_with_subtotals_and_totals_that_carry_their_values() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_SUMMARY);
        assert_eq!(
            column(&g, 1, 11..=19),
            [
                "Huyện ủy, Thành ủy",
                "Thành ủy Đà Lạt",
                "Thành ủy Bảo Lộc",
                "Đảng ủy trực thuộc",
                "Đảng ủy Khối các cơ quan tỉnh",
                "Đảng ủy Quân sự tỉnh",
                "Cơ quan báo chí",
                "Báo Lâm Đồng",
                "Tổng cộng",
            ]
        );
        assert_eq!(
            column(&g, 0, 11..=18),
            ["I", "1", "2", "II", "3", "4", "III", "5"]
        );
        assert_eq!(
            column(&g, 2, 11..=19),
            [
                "Có báo cáo: 2/2",
                "Đúng hạn",
                "Nộp muộn",
                "Có báo cáo: 1/2",
                "Bị từ chối",
                "Đúng hạn",
                "Có báo cáo: 0/1",
                "Chưa nộp",
                "Có báo cáo: 3/5",
            ]
        );
        // Headers: code and name over the value columns, then the value titles.
        assert_eq!(
            cell(&g, 9, HN),
            "HN - Số hội nghị, buổi quán triệt Kết luận 14-KL/TW"
        );
        assert_eq!(column(&g, HN, 10..=10), ["Kỳ này"]);
        assert_eq!(cell(&g, 10, HN + 1), "Lũy kế");
        // Unit figures, blank for rejected and missing units.
        assert_eq!(column(&g, HN, 12..=13), ["12", "1250"]);
        assert_eq!(cell(&g, 15, HN), "");
        assert_eq!(cell(&g, 18, HN), "");
        assert_eq!(cell(&g, 16, KT + 1), "17");
        // Cached values of the formulas, computed by hand:
        // HN Kỳ này: 12 + 1250 = 1262 | 3 | 0 | 1265; Lũy kế: 40 + 2000 = 2040 | 9 | 0 | 2049.
        // KT (i = 8) Kỳ này: 20 + 1258 = 1278 | 11 | 0 | 1289; Lũy kế: 48 + 2008 = 2056 | 17 | 0 | 2073.
        let rows = [11, 14, 17, 19];
        let at = |col: u32| rows.map(|r| cell(&g, r, col));
        assert_eq!(at(HN), ["1262", "3", "0", "1265"]);
        assert_eq!(at(HN + 1), ["2040", "9", "0", "2049"]);
        assert_eq!(at(KT), ["1278", "11", "0", "1289"]);
        assert_eq!(at(KT + 1), ["2056", "17", "0", "2073"]);

        let f = open(&path).worksheet_formula(SHEET_SUMMARY).unwrap();
        let formula = |r: u32, c: u32| f.get_value((r, c)).cloned().unwrap_or_default();
        assert_eq!(formula(11, HN), "SUM(D13:D14)");
        assert_eq!(formula(14, HN + 1), "SUM(E16:E17)");
        assert_eq!(formula(17, KT), "SUM(T19:T19)");
        assert_eq!(formula(19, HN), "SUM(D12,D15,D18)");
        assert_eq!(formula(19, KT + 1), "SUM(U12,U15,U18)");
        assert_eq!(formula(12, HN), "", "unit figures are numbers");
    }

    #[test]
    fn units_outside_every_group_still_appear_and_count() {
        let mut c = sample();
        c.groups.pop();
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_SUMMARY);
        assert_eq!(
            column(&g, 1, 17..=19),
            ["Khác", "Báo Lâm Đồng", "Tổng cộng"]
        );
        assert_eq!(cell(&g, 18, 2), "Chưa nộp");
        let f = open(&path).worksheet_formula(SHEET_SUMMARY).unwrap();
        assert_eq!(
            f.get_value((19, HN)).cloned().unwrap_or_default(),
            "SUM(D12,D15,D18)"
        );
        assert_eq!(cell(&g, 19, HN), "1265");
    }

    #[test]
    fn summary_title_block_is_in_the_official_style() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_SUMMARY);
        assert_eq!(cell(&g, 0, 0), "TỈNH ỦY LÂM ĐỒNG");
        assert_eq!(cell(&g, 1, 0), "BAN TUYÊN GIÁO");
        assert_eq!(cell(&g, 0, 13), "ĐẢNG CỘNG SẢN VIỆT NAM");
        assert_eq!(cell(&g, 1, 13), "Lâm Đồng, ngày 04 tháng 11 năm 2026");
        assert_eq!(
            cell(&g, 4, 0),
            "TỔNG HỢP BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN, QUÁN TRIỆT KẾT LUẬN 14-KL/TW"
        );
        assert_eq!(
            cell(&g, 5, 0),
            "Kỳ báo cáo: Tháng 10/2026 — Hạn nộp: 17:00 ngày 03/11/2026"
        );
        assert_eq!(cell(&g, 6, 0), "Tổng hợp lúc: 08:00 ngày 04/11/2026");
        assert_eq!(cell(&g, 7, 0), "Số đơn vị có báo cáo: 3/5");

        // Print setup and panes, as written in the sheet XML.
        let xml = zip_entry(&path, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(r#"<pane xSplit="2" ySplit="11""#), "{xml}");
        assert!(xml.contains(r#"paperSize="9""#));
        assert!(xml.contains(r#"orientation="landscape""#));
        assert!(xml.contains(r#"fitToHeight="0""#));
        assert!(xml.contains("<oddFooter>&amp;CTrang &amp;P/&amp;N</oddFooter>"));
        let styles = zip_entry(&path, "xl/styles.xml");
        assert!(styles.contains(r###"formatCode="#,##0""###), "{styles}");
        let book = zip_entry(&path, "xl/workbook.xml");
        assert!(book.contains("'Tổng hợp'!$10:$11"), "{book}");

        let core = zip_entry(&path, "docProps/core.xml");
        assert!(
            core.contains("<dc:creator>BAN TUYÊN GIÁO</dc:creator>"),
            "{core}"
        );
        assert!(core.contains("2026-11-04T01:00:00Z"), "{core}");
        assert!(
            zip_entry(&path, "docProps/app.xml").contains("<Company>TỈNH ỦY LÂM ĐỒNG</Company>")
        );
    }

    #[test]
    fn sheets_come_in_the_documented_order() {
        let (_dir, path) = saved(&sample());
        assert_eq!(
            open(&path).sheet_names(),
            [
                SHEET_SUMMARY,
                SHEET_STATUS,
                SHEET_ACTIVITIES,
                SHEET_NARRATIVE,
                SHEET_MESSAGES,
                SHEET_CHART
            ]
        );
    }

    #[test]
    fn status_sheet_has_one_row_per_unit_and_lists_every_file() {
        let c = sample();
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_STATUS);
        assert_eq!(
            (0..10).map(|col| cell(&g, 0, col)).collect::<Vec<_>>(),
            [
                "STT",
                "Đơn vị",
                "Nhóm",
                "Tình trạng",
                "Tệp",
                "Nhận lúc",
                "Số lỗi",
                "Số cảnh báo",
                "SHA-256",
                "Người lập biểu"
            ]
        );
        assert_eq!(cell(&g, 0, 10), "Số điện thoại");
        assert_eq!(
            column(&g, 1, 1..=5),
            c.units.iter().map(|u| u.name.clone()).collect::<Vec<_>>()
        );
        assert_eq!(
            column(&g, 3, 1..=5),
            ["Đúng hạn", "Nộp muộn", "Bị từ chối", "Đúng hạn", "Chưa nộp"]
        );
        assert_eq!(cell(&g, 1, 4), "da-lat/BC KL14 T10.xlsx");
        // A real date-time cell, not text.
        assert!(matches!(g.get_value((2, 5)), Some(Data::DateTime(_))));
        assert_eq!(cell(&g, 2, 5), "03/11/2026 18:30");
        assert_eq!(column(&g, 6, 1..=3), ["0", "0", "1"]);
        assert_eq!(cell(&g, 2, 7), "1");
        assert_eq!(cell(&g, 1, 8), format!("{:064x}", 23));
        assert_eq!(cell(&g, 1, 9), "Nguyễn Văn An");
        assert_eq!(cell(&g, 1, 10), "0263 3822 111");
        assert_eq!(column(&g, 4, 5..=5), [""], "a missing unit has no file");

        // The files, under a heading after one blank row.
        assert_eq!(cell(&g, 7, 0), "Các tệp đã nhận trong kỳ (6 tệp)");
        assert_eq!(cell(&g, 8, 3), "Kết quả");
        assert_eq!(
            column(&g, 4, 9..=14),
            c.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>()
        );
        assert_eq!(
            column(&g, 3, 9..=14),
            [
                "Được dùng",
                "Bị thay bằng bản sau",
                "Bị từ chối",
                "Không xác định được đơn vị",
                "Được dùng",
                "Được dùng"
            ]
        );
        assert_eq!(cell(&g, 12, 1), "(không xác định)");
        assert_eq!(cell(&g, 11, 1), "Đảng ủy Khối các cơ quan tỉnh");
        assert_eq!(cell(&g, 11, 2), "Tháng 10/2026");
        assert_eq!(cell(&g, 11, 6), "1", "one error in the rejected file");
        assert_eq!(cell(&g, 9, 7), "1", "one warning in Bảo Lộc's file");
        assert_eq!(cell(&g, 9, 9), "18432");
    }

    #[test]
    fn activities_are_one_row_each_and_a_units_formula_text_stays_text() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_ACTIVITIES);
        assert_eq!(g.height(), 3 + 1, "header + 3 activities");
        assert_eq!(
            (0..9).map(|col| cell(&g, 0, col)).collect::<Vec<_>>(),
            [
                "Đơn vị",
                "STT",
                "Ngày",
                "Hình thức",
                "Nội dung hoạt động",
                "Nơi đăng, địa điểm",
                "Số người dự, lượt tiếp cận",
                "Ghi chú",
                "Dòng trong tệp gốc"
            ]
        );
        assert_eq!(
            column(&g, 0, 1..=3),
            ["Thành ủy Đà Lạt", "Thành ủy Đà Lạt", "Thành ủy Bảo Lộc"]
        );
        assert_eq!(
            column(&g, 2, 1..=3),
            ["05/10/2026", "12/10/2026", "20/10/2026"]
        );
        assert!(matches!(g.get_value((1, 2)), Some(Data::DateTime(_))));
        assert_eq!(column(&g, 6, 1..=3), ["250", "1200", "3400"]);
        assert!(matches!(g.get_value((1, 6)), Some(Data::Float(_))));
        assert_eq!(column(&g, 8, 1..=3), ["6", "7", "6"]);
        // The literal text, read back as a string...
        assert_eq!(g.get_value((2, 4)), Some(&Data::String(HYPERLINK.into())));
        // ... an underscore code stays what the unit typed ...
        assert_eq!(cell(&g, 3, 4), "Đăng 5 bài _x0041_");
        // ... and no formula anywhere outside "Tổng hợp".
        let f = open(&path).worksheet_formula(SHEET_ACTIVITIES).unwrap();
        assert!(f.rows().flatten().all(String::is_empty));
        for name in zip_names(&path) {
            if name.starts_with("xl/worksheets/sheet") && name != "xl/worksheets/sheet1.xml" {
                assert!(!zip_entry(&path, &name).contains("<f>"), "{name}");
            }
        }
        assert!(zip_entry(&path, "xl/worksheets/sheet1.xml").contains("<f>SUM("));
        // Filter buttons over exactly these rows (the date above read back as a date: the
        // cells carry their column's format).
        let sheet = zip_entry(&path, "xl/worksheets/sheet3.xml");
        assert!(sheet.contains(r#"<autoFilter ref="A1:I4"/>"#), "{sheet}");
    }

    #[test]
    fn wrapped_activity_rows_get_a_height_unless_the_sheet_is_huge() {
        let mut c = sample();
        let long = "Hội nghị quán triệt, triển khai Kết luận 14-KL/TW đến cán bộ chủ chốt, \
                    đảng viên và nhân dân trên địa bàn các xã, phường, thị trấn"
            .repeat(3);
        c.units[0].activities = vec![activity(6, 5, "Hội nghị", &long, 250)].into();
        let data_row_2 = |limits| {
            let (_dir, path) = saved_with(&c, limits);
            let xml = zip_entry(&path, "xl/worksheets/sheet3.xml");
            let start = xml.find(r#"<row r="2""#).expect("row 2");
            xml[start..start + xml[start..].find('>').unwrap()].to_owned()
        };
        let row = data_row_2(Limits::EXCEL);
        assert!(row.contains(r#"customHeight="1""#), "{row}");
        let row = data_row_2(Limits {
            rows_with_height: 1,
            ..Limits::EXCEL
        });
        assert!(!row.contains("customHeight"), "{row}");
    }

    #[test]
    fn a_huge_activity_sheet_written_with_inline_strings_reads_back_the_same() {
        let c = sample();
        let (_d1, shared) = saved(&c);
        let (_d2, inline) = saved_with(
            &c,
            Limits {
                rows_with_shared_strings: 0,
                rows_with_height: 0,
                ..Limits::EXCEL
            },
        );
        assert!(zip_entry(&inline, "xl/worksheets/sheet3.xml").contains(r#"t="inlineStr""#));
        assert!(!zip_entry(&shared, "xl/worksheets/sheet3.xml").contains("inlineStr"));
        let (a, b) = (
            grid(&shared, SHEET_ACTIVITIES),
            grid(&inline, SHEET_ACTIVITIES),
        );
        assert_eq!(a.height(), 4);
        assert_eq!(a, b);
    }

    #[test]
    fn activities_past_the_row_limit_continue_on_a_numbered_sheet() {
        let (_dir, path) = saved_with(
            &sample(),
            Limits {
                rows_per_sheet: 2,
                ..Limits::EXCEL
            },
        );
        let names = open(&path).sheet_names();
        assert_eq!(names[2..4], [SHEET_ACTIVITIES, "Hoạt động (2)"]);
        let first = grid(&path, SHEET_ACTIVITIES);
        let second = grid(&path, "Hoạt động (2)");
        assert_eq!(first.height(), 3);
        assert_eq!(second.height(), 2);
        assert_eq!(cell(&second, 0, 0), "Đơn vị");
        assert_eq!(cell(&second, 1, 0), "Thành ủy Bảo Lộc");
        assert_eq!(cell(&first, 2, 4), HYPERLINK);
    }

    #[test]
    fn no_activities_gives_a_note_instead_of_an_empty_table() {
        let mut c = sample();
        for u in &mut c.units {
            u.activities.clear();
        }
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_ACTIVITIES);
        assert_eq!(cell(&g, 0, 0), "Đơn vị");
        assert_eq!(
            cell(&g, 1, 0),
            "Không có hoạt động nào được báo cáo trong kỳ."
        );
        assert_eq!(g.height(), 2);
    }

    #[test]
    fn messages_sheet_names_unit_file_sheet_and_cell() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_MESSAGES);
        let row = |r: u32| (0..7).map(|col| cell(&g, r, col)).collect::<Vec<_>>();
        assert_eq!(
            row(0),
            ["STT", "Đơn vị", "Tệp", "Trang", "Ô", "Mức độ", "Nội dung"]
        );
        assert_eq!(
            row(1),
            [
                "1",
                "Thành ủy Bảo Lộc",
                "BaoLoc_T10 (sua).xlsx",
                "Chỉ tiêu",
                "F13",
                "Cảnh báo",
                "Chỉ tiêu!F13: số ghi dạng chữ \"1.250\""
            ]
        );
        assert_eq!(
            row(2),
            [
                "2",
                "Đảng ủy Khối các cơ quan tỉnh",
                "DUK CCQ.xlsx",
                "Chỉ tiêu",
                "E12",
                "Lỗi",
                "Chỉ tiêu!E12: \"khoảng 20\" không phải là số"
            ]
        );
        assert_eq!(
            row(3),
            [
                "3",
                "(không xác định)",
                "abc.xlsx",
                "",
                "",
                "Cảnh báo",
                "Không xác định được đơn vị của tệp"
            ]
        );
        assert_eq!(g.height(), 4);
    }

    #[test]
    fn no_messages_gives_one_line_saying_so() {
        let mut c = sample();
        c.messages.clear();
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_MESSAGES);
        assert_eq!(cell(&g, 1, 0), "Không có lỗi hay cảnh báo nào.");
        assert_eq!(g.height(), 2);
    }

    #[test]
    fn messages_past_the_row_limit_end_with_a_count_of_the_rest() {
        let mut c = sample();
        let m = c.messages[0].clone();
        c.messages = vec![m; 5];
        let (_dir, path) = saved_with(
            &c,
            Limits {
                rows_per_sheet: 3,
                ..Limits::EXCEL
            },
        );
        let g = grid(&path, SHEET_MESSAGES);
        assert_eq!(column(&g, 0, 1..=3), ["1", "2", ""]);
        assert_eq!(
            cell(&g, 3, 6),
            "… và 3 thông báo khác không ghi hết vào trang này."
        );
    }

    #[test]
    fn narrative_blocks_stand_side_by_side_with_their_line_breaks() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_NARRATIVE);
        assert_eq!(
            (0..6).map(|col| cell(&g, 0, col)).collect::<Vec<_>>(),
            [
                "STT",
                "Đơn vị",
                "Tình trạng",
                "Kết quả nổi bật",
                "Khó khăn, vướng mắc",
                "Đề xuất, kiến nghị"
            ]
        );
        assert_eq!(cell(&g, 1, 3), "Tổ chức 2 hội nghị.\nNhân rộng 1 mô hình.");
        assert_eq!(cell(&g, 1, 4), "");
        assert_eq!(cell(&g, 1, 5), "Đề nghị cấp tài liệu.");
        assert_eq!(cell(&g, 2, 4), "Thiếu kinh phí.");
        assert_eq!(column(&g, 2, 3..=5), ["Bị từ chối", "Đúng hạn", "Chưa nộp"]);
        assert_eq!(cell(&g, 5, 3), "");
    }

    #[test]
    fn chart_draws_the_declared_codes_for_the_accepted_units() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_CHART);
        assert_eq!(
            (0..5).map(|col| cell(&g, 28, col)).collect::<Vec<_>>(),
            [
                "Đơn vị",
                "HN - Số hội nghị, buổi quán triệt Kết luận 14-KL/TW",
                "TB - Số tin, bài, phóng sự trên phương tiện thông tin đại chúng",
                "MXH - Số lượt tuyên truyền trên mạng xã hội",
                "SH - Số buổi sinh hoạt thường kỳ có lồng ghép nội dung Kết luận"
            ]
        );
        assert_eq!(
            column(&g, 0, 29..=31),
            [
                "Thành ủy Đà Lạt",
                "Thành ủy Bảo Lộc",
                "Đảng ủy Quân sự tỉnh"
            ]
        );
        // "Kỳ này" of HN (i 0), TB (2), MXH (4), SH (5): a + i.
        assert_eq!(
            (1..5).map(|col| cell(&g, 30, col)).collect::<Vec<_>>(),
            ["1250", "1252", "1254", "1255"]
        );
        // The same numbers as the unit rows of "Tổng hợp".
        let s = grid(&path, SHEET_SUMMARY);
        assert_eq!(cell(&s, 13, HN), cell(&g, 30, 1));
        assert_eq!(cell(&s, 16, HN + 2 * 2), cell(&g, 31, 2));

        let chart = zip_entry(&path, "xl/charts/chart1.xml");
        assert!(chart.contains("<c:barDir val=\"col\"/>"), "{chart}");
        assert!(
            chart.contains("<c:f>'Biểu đồ'!$A$30:$A$32</c:f>"),
            "{chart}"
        );
        assert!(
            chart.contains("<c:f>'Biểu đồ'!$B$30:$B$32</c:f>"),
            "{chart}"
        );
        assert!(
            chart.contains("<c:v>1250</c:v>"),
            "the cache holds the values: {chart}"
        );
        assert_eq!(chart.matches("<c:ser>").count(), 4);
    }

    #[test]
    fn chart_sheet_says_why_when_no_unit_reported() {
        let mut c = sample();
        for u in &mut c.units {
            u.status = UnitStatus::Missing;
            u.figures = None;
            u.activities.clear();
        }
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_CHART);
        assert_eq!(
            cell(&g, 1, 0),
            "Chưa có đơn vị nào có báo cáo được tiếp nhận nên chưa có biểu đồ."
        );
        assert!(!zip_names(&path).iter().any(|n| n.starts_with("xl/charts/")));
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        std::fs::write(&path, b"old").unwrap();
        let mut wb = render(&sample(), &form(), &report()).unwrap();
        write_atomic(&mut wb, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let entries: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["out.xlsx"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            // The process umask decides, as for every output (pipeline::output_file).
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let umask = status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
                .unwrap();
            assert_eq!(mode & 0o777, 0o666 & !umask);
        }
    }

    #[test]
    fn write_atomic_into_a_missing_folder_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no such folder").join("out.xlsx");
        let mut wb = render(&sample(), &form(), &report()).unwrap();
        let err = write_atomic(&mut wb, &path).unwrap_err().to_string();
        assert!(err.contains("no such folder/out.xlsx"), "{err}");
    }

    #[test]
    fn a_failed_save_keeps_the_earlier_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        std::fs::write(&path, b"old").unwrap();
        let mut wb = Workbook::new();
        // Two sheets with one name: rust_xlsxwriter refuses at save time.
        wb.add_worksheet().set_name("A").unwrap();
        wb.add_worksheet().set_name("A").unwrap();
        let err = write_atomic(&mut wb, &path).unwrap_err();
        assert!(matches!(err, SaveError::Xlsx { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn text_from_a_file_is_made_safe_for_a_cell() {
        assert!(matches!(cell_text("Hội nghị"), Cow::Borrowed(_)));
        assert_eq!(cell_text("a\r\nb\rc"), "a\nb\nc");
        assert!(matches!(cell_text("_x0041_"), Cow::Borrowed(_)));
        let long = "ầ".repeat(40_000);
        let cut = cell_text(&long);
        assert_eq!(cut.encode_utf16().count(), EXCEL_CELL_CHARS);
        assert!(cut.ends_with(TRUNCATED));
    }

    #[test]
    fn an_overlong_narrative_is_cut_not_a_failed_render() {
        let mut c = sample();
        c.units[0].narrative[0] = "Dài. ".repeat(10_000);
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_NARRATIVE);
        assert!(cell(&g, 1, 3).ends_with(TRUNCATED));
    }

    #[test]
    fn duplicate_table_headers_are_numbered() {
        let names = ["Đơn vị", "Ghi chú", "ghi  chú", "", "Đơn vị"].map(String::from);
        assert_eq!(
            unique_headers(&names),
            ["Đơn vị", "Ghi chú", "ghi chú (2)", "Cột 4", "Đơn vị (2)"]
        );
    }

    #[test]
    fn place_and_date_line_follow_the_official_style() {
        let t = at("2026-02-05T08:00:00+07:00");
        assert_eq!(
            dated_line("Lâm Đồng", &t),
            "Lâm Đồng, ngày 05 tháng 02 năm 2026"
        );
        assert_eq!(
            dated_line("Đà Lạt", &at("2026-11-25T08:00:00+07:00")),
            "Đà Lạt, ngày 25 tháng 11 năm 2026"
        );
        assert_eq!(dated_line("", &t), "Ngày 05 tháng 02 năm 2026");
    }

    #[test]
    fn roman_numerals_and_long_sums() {
        assert_eq!(
            [1, 2, 3, 4, 9, 14, 40].map(roman),
            ["I", "II", "III", "IV", "IX", "XIV", "XL"]
        );
        let cells: Vec<String> = (1..=300).map(|r| format!("D{r}")).collect();
        let f = sum_of(&cells);
        assert!(f.starts_with("SUM(SUM(D1,"), "{f}");
        assert_eq!(f.matches("SUM(").count(), 3);
    }

    #[test]
    fn a_lower_case_title_template_keeps_the_form_title_as_written() {
        let c = sample();
        let form = form();
        let mut report = report();
        report.title = "Tổng hợp {form} ({period})".into();
        let cx = Cx {
            c: &c,
            form: &form,
            report: &report,
            st: Styles::new(),
            limits: Limits::EXCEL,
        };
        assert_eq!(
            cx.title(),
            "Tổng hợp Báo cáo kết quả tuyên truyền, quán triệt Kết luận 14-KL/TW (Tháng 10/2026)"
        );
    }
}
