//! Render: the consolidated workbook's layout (pure), and writing it atomically.
//!
//! Sheets, in this order, what a leader prints first: "Tổng hợp" (title block, units by group
//! with SUM subtotals and a grand total), "Biểu đồ" (the reporting rate by group and one bar
//! chart per main indicator by unit), "Tình hình nộp báo cáo" (every unit: status, file, the
//! preparer and phone), "Thuyết minh" (narratives side by side), "Lỗi, cảnh báo" (every
//! message), "Hoạt động" (one row per activity under a filtered header; more sheets
//! "Hoạt động (2)", ... past Excel's row limit) and "Tệp đã nhận" (every file with its SHA-256
//! and size, in roster order; the files set aside apart).
//! Every sheet prints on A4 landscape, fit to width, in readable type (`print_scale`).
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

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartFont, ChartFormat, ChartLegendPosition, ChartSolidFill, ChartType,
    ColNum, Color, DocProperties, Format, FormatAlign, FormatBorder, FormatUnderline, Formula,
    RowNum, Workbook, Worksheet, XlsxError,
};

use crate::config::ReportSettings;
use crate::config::form::{ColumnType, Form};
use crate::finding::{Severity, a1, counts};
use crate::pipeline::consolidate::{
    Consolidation, Figures, FileOutcome, FileRecord, UnitRow, UnitStatus, Value,
};

pub const SHEET_SUMMARY: &str = "Tổng hợp";
pub const SHEET_STATUS: &str = "Tình hình nộp báo cáo";
/// The first activity sheet; the next ones are "Hoạt động (2)", "Hoạt động (3)", ...
pub const SHEET_ACTIVITIES: &str = "Hoạt động";
pub const SHEET_NARRATIVE: &str = "Thuyết minh";
pub const SHEET_MESSAGES: &str = "Lỗi, cảnh báo";
pub const SHEET_CHART: &str = "Biểu đồ";
/// Every file seen, with its SHA-256 and size, and the files set aside: the last sheet.
pub const SHEET_FILES: &str = "Tệp đã nhận";

/// Rows in an Excel worksheet.
const EXCEL_ROWS: u32 = 1_048_576;
/// Characters (UTF-16 units) in an Excel cell.
const EXCEL_CELL_CHARS: usize = 32_767;
/// Arguments of one Excel function call.
const EXCEL_ARGS: usize = 255;
/// Width of a unit's name column: longer names wrap onto a second line.
const NAME_WIDTH: f64 = 24.0;
/// Width of the status column of "Tổng hợp": "Có báo cáo: 13/18" on one line.
const STATUS_WIDTH: f64 = 18.0;
/// Total column width (characters) that prints at fit-to-width on A4 landscape in about 10-point
/// type (`print_scale`): the sheets a leader reads are laid out within it.
const READABLE_WIDTH: f64 = 150.0;
/// Left and right print margins (inches): a little more of the A4 width for the tables.
const MARGIN_SIDE: f64 = 0.3;
/// Paper size code for A4 (Excel page setup).
const PAPER_A4: u8 = 9;

/// The reporting chart's series: a unit's status label and its bar colour.
const STATUS_SERIES: [(&str, u32); 4] = [
    ("Đúng hạn", 0x70AD47),
    ("Nộp muộn", 0xED7D31),
    ("Bị từ chối", REJECTED_BAR),
    ("Chưa nộp", 0xA5A5A5),
];
const REJECTED_BAR: u32 = 0xC00000;
const BAR_COLOR: u32 = 0x4472C4;
/// Pixels: the charts fill an A4 landscape page at 100 %.
const CHART_WIDTH: u32 = 1000;
const RATE_CHART_HEIGHT: u32 = 300;
/// Default row height in pixels (15 points).
const ROW_PIXELS: u32 = 20;

/// Where things are on "Biểu đồ" (zero-based rows): the reporting numbers and their chart on
/// the first page, the indicator charts two by two on the next pages, their numbers last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLayout {
    /// Indicators drawn (indexes into the form's items) and the value column drawn.
    pub codes: Vec<usize>,
    pub value: usize,
    /// Header of the numbers by group ("Nhóm", "Đúng hạn", ...); a row per group, then "Toàn tỉnh".
    pub rate_header: RowNum,
    pub rate_chart_row: RowNum,
    /// The first row of the indicator charts.
    pub bar_chart_row: RowNum,
    pub bar_chart_height: u32,
    /// Header of the numbers by unit ("Đơn vị", one column per drawn indicator); a row per unit.
    pub data_header: RowNum,
}

impl ChartLayout {
    pub fn of(c: &Consolidation, form: &Form) -> ChartLayout {
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
        let rate_header = 2;
        let rate_chart_row = rate_header + blocks(c).len() as RowNum + 3;
        // A blank row at the top of each page of charts (the page breaks above it).
        let bar_chart_row = rate_chart_row + RATE_CHART_HEIGHT.div_ceil(ROW_PIXELS) + 3;
        // Two charts side by side a page: 20 pixels a bar, so every unit's name has room.
        let bar_chart_height = (c.units.len() as u32 * 20 + 100).clamp(600, 1300);
        let chart_rows = bar_chart_height.div_ceil(ROW_PIXELS) + 1;
        let pairs = codes.len().div_ceil(2) as RowNum;
        let data_header = bar_chart_row + pairs * chart_rows + 1;
        ChartLayout {
            codes,
            value,
            rate_header,
            rate_chart_row,
            bar_chart_row,
            bar_chart_height,
            data_header,
        }
    }

    /// Row and horizontal offset (pixels) of the k-th indicator chart.
    fn bar_chart_at(&self, k: usize) -> (RowNum, u32) {
        let chart_rows = self.bar_chart_height.div_ceil(ROW_PIXELS) + 1;
        let row = self.bar_chart_row + (k / 2) as RowNum * chart_rows;
        let x = if k.is_multiple_of(2) {
            0
        } else {
            CHART_WIDTH / 2 + 5
        };
        (row, x)
    }

    /// A page for the reporting, one per row of two indicator charts, then the numbers.
    fn page_breaks(&self) -> Vec<RowNum> {
        let chart_rows = self.bar_chart_height.div_ceil(ROW_PIXELS) + 1;
        let pairs = self.codes.len().div_ceil(2) as RowNum;
        let mut out: Vec<RowNum> = (0..pairs)
            .map(|p| self.bar_chart_row + p * chart_rows - 1)
            .collect();
        out.push(self.data_header - 1);
        out
    }
}

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

    // What a leader reads and prints comes first; the long activity list and the provenance
    // of every file last.
    cx.summary(wb.add_worksheet())?;
    cx.chart(wb.add_worksheet())?;
    cx.status(wb.add_worksheet())?;
    cx.narrative(wb.add_worksheet())?;
    cx.messages(wb.add_worksheet())?;
    cx.activities(&mut wb)?;
    cx.files(wb.add_worksheet())?;
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
        let value_widths: Vec<f64> = (0..lay.indicators)
            .flat_map(|i| (0..nval).map(move |v| (i, v)))
            .map(|(i, v)| self.value_width(&blocks, i, v))
            .collect();
        let mut header_lines = 2.0_f64;
        for (i, item) in form.indicators.items.iter().enumerate() {
            let text = format!("{} - {}", item.code, item.name);
            let (first, last_v) = (
                lay.value_col(i, 0),
                lay.value_col(i, nval.saturating_sub(1)),
            );
            merge(ws, h, first, h, last_v, &text, &st.header)?;
            let span: f64 = value_widths[i * nval..(i + 1) * nval].iter().sum();
            header_lines = header_lines.max((text_chars(&text) as f64 * 1.1 / span).ceil());
            for (v, col) in form.indicators.values.iter().enumerate() {
                ws.write_string_with_format(h + 1, lay.value_col(i, v), &col.title, &st.header)?;
            }
        }
        ws.set_row_height(h, (15.0 * header_lines + 3.0).min(409.0))?;
        ws.set_row_height(h + 1, 30)?;

        // Groups: a subtotal row, then the units. A long name wraps onto a second line.
        let name_col = (c
            .units
            .iter()
            .map(|u| text_chars(&u.name))
            .chain(blocks.iter().map(|b| text_chars(&b.name)))
            .max()
            .unwrap_or(0) as f64
            + 2.0)
            .clamp(16.0, NAME_WIDTH);
        let mut number = 0;
        for (b, block) in blocks.iter().enumerate() {
            let row = match block.group {
                Some(g) => lay.group_rows[g],
                None => lay.unit_rows[block.units[0]] - 1,
            };
            ws.write_string_with_format(row, 0, roman(b + 1), &st.group_center)?;
            set_lines(ws, row, lines_in(&block.name, name_col))?;
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
                let row = lay.unit_rows[u];
                set_lines(ws, row, lines_in(&c.units[u].name, name_col))?;
                self.summary_unit(ws, &lay, row, number, &c.units[u])?;
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
        ws.set_column_width(0, 5)?;
        ws.set_column_width(1, name_col)?;
        ws.set_column_width(2, STATUS_WIDTH)?;
        for (k, w) in value_widths.iter().enumerate() {
            ws.set_column_width(lay.first_value_col + k as ColNum, *w)?;
        }
        // Only the two header rows stay in view (and the names on the left): the view opens
        // scrolled to the header, the title block above it, so a laptop shows the units.
        ws.set_top_left_cell(h, 0)?;
        ws.set_freeze_panes(lay.first_data_row - h, 2)?;
        ws.set_freeze_panes_top_cell(lay.first_data_row, 2)?;
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
            (UnitStatus::Accepted, false) => (&st.wrap_middle, &st.center, &st.center, &st.int),
            (UnitStatus::Accepted, true) => (&st.wrap_middle, &st.center, &st.late_center, &st.int),
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

    /// Width of one figure column: its widest number with its thousands separators and a
    /// margin, at least the width of "Kỳ này" / "Lũy kế" on two lines.
    fn value_width(&self, blocks: &[Block], indicator: usize, value: usize) -> f64 {
        let widest = blocks
            .iter()
            .map(|b| &b.figures)
            .chain(std::iter::once(&self.c.totals))
            .chain(self.c.units.iter().filter_map(accepted_figures))
            .map(|f| figure(f, indicator, value))
            .max()
            .unwrap_or(0);
        let digits = widest.to_string().len();
        ((digits + (digits - 1) / 3) as f64 + 1.5).max(6.0)
    }

    // ---------------------------------------------------------------------------------------
    // 2. Tình hình nộp báo cáo
    // ---------------------------------------------------------------------------------------

    fn status(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_STATUS)?;
        // The header fields of the form other than unit and period (Người lập biểu, Số điện
        // thoại, Ngày lập): the clerk calls the unit with them.
        let extra: Vec<(&str, &str)> = self
            .form
            .header
            .iter()
            .filter(|h| h.key != "unit" && h.key != "period")
            .map(|h| (h.key.as_str(), h.label.as_str()))
            .collect();
        // What a leader and the clerk read, in readable type on A4: the provenance (SHA-256,
        // sizes, every other file) is on its own sheet at the end.
        let mut headers: Vec<String> = [
            "STT",
            "Đơn vị",
            "Tình trạng",
            "Tệp",
            "Nhận lúc",
            "Số lỗi",
            "Số cảnh báo",
        ]
        .map(str::to_owned)
        .to_vec();
        headers.extend(extra.iter().map(|(_, label)| (*label).to_owned()));
        const FIRST_EXTRA: usize = 7;
        let header_of = |u: &UnitRow, key: &str| {
            u.header
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let mut widths = Widths::new(&headers);
        for u in &c.units {
            widths.see(1, &u.name);
            if let Some(f) = &u.file {
                widths.see(3, &f.path);
            }
            for (k, (key, _)) in extra.iter().enumerate() {
                if let Some(value) = header_of(u, key) {
                    widths.see(FIRST_EXTRA + k, &value);
                }
            }
        }
        widths.set(0, 5.0);
        widths.cap(1, NAME_WIDTH);
        widths.set(2, 11.0);
        widths.set(3, widths.get(3).clamp(16.0, 30.0));
        widths.set(4, 16.0);
        widths.set(5, 7.0);
        widths.set(6, 9.0);
        for k in 0..extra.len() {
            widths.cap(FIRST_EXTRA + k, 20.0);
        }
        widths.apply(ws)?;

        let n = c.units.len() as RowNum;
        header_row(ws, 0, &headers, &widths, st)?;
        if n > 0 {
            ws.autofilter(0, 0, n, (headers.len() - 1) as ColNum)?;
        }
        for (i, u) in c.units.iter().enumerate() {
            let r = 1 + i as RowNum;
            let status = match (u.status, u.late) {
                (UnitStatus::Accepted, false) => &st.center,
                (UnitStatus::Accepted, true) => &st.late_center,
                (UnitStatus::Missing, _) => &st.missing_center,
                (UnitStatus::Rejected, _) => &st.rejected_center,
            };
            let mut lines = lines_in(&u.name, widths.get(1));
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.center)?;
            ws.write_string_with_format(r, 1, &u.name, &st.wrap_middle)?;
            ws.write_string_with_format(r, 2, u.status_label(), status)?;
            match &u.file {
                Some(f) => {
                    let path = cell_text(&f.path);
                    lines = lines.max(lines_in(&path, widths.get(3)));
                    ws.write_string_with_format(r, 3, path.as_ref(), &st.wrap_middle)?;
                    ws.write_datetime_with_format(r, 4, f.received.naive_local(), &st.datetime)?;
                    ws.write_number_with_format(r, 5, f.errors as f64, &st.int)?;
                    ws.write_number_with_format(r, 6, f.warnings as f64, &st.int)?;
                }
                None => {
                    ws.write_blank(r, 3, &st.text)?;
                    ws.write_blank(r, 4, &st.center)?;
                    ws.write_blank(r, 5, &st.int)?;
                    ws.write_blank(r, 6, &st.int)?;
                }
            }
            for (k, (key, _)) in extra.iter().enumerate() {
                let col = (FIRST_EXTRA + k) as ColNum;
                match header_of(u, key) {
                    // A date as a date cell (Ngày lập), when it reads back as typed.
                    Some(value) if as_date(&value).is_some() => {
                        let date = as_date(&value).unwrap_or_default();
                        ws.write_datetime_with_format(r, col, date, &st.date)?
                    }
                    Some(value) => {
                        let value = cell_text(&value).into_owned();
                        // Names in capitals run wider than the calibrated average (seen:
                        // "Nguyễn Thị Hồng Nhung" wrapped in LibreOffice at width 20 while the
                        // estimate said one line), so count these short fields conservatively.
                        lines = lines.max(header_lines_in(&value, widths.get(col.into())));
                        ws.write_string_with_format(r, col, value, &st.wrap_middle)?
                    }
                    None => ws.write_blank(r, col, &st.text)?,
                };
            }
            set_lines(ws, r, lines)?;
        }
        if n == 0 {
            ws.write_string_with_format(1, 0, "Danh sách đơn vị trống.", &st.note)?;
        }
        let note = 1 + n.max(1) + 1;
        ws.write_string_with_format(
            note,
            0,
            format!(
                "Mọi tệp đã nhận (cả tệp bị thay, tệp kỳ khác, tệp bỏ qua) với mã SHA-256 và kích thước: xem trang \"{SHEET_FILES}\"."
            ),
            &st.note,
        )?;

        ws.set_freeze_panes(1, 2)?;
        let title = format!("Tình hình nộp báo cáo — {}", c.period.label());
        page_setup(ws, Some((0, 0)), Some(&title))?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Tệp đã nhận (provenance, last)
    // ---------------------------------------------------------------------------------------

    /// Every file seen: the units' files in roster order (each unit's oldest first), then files
    /// of no unit; the files set aside without being read (Thumbs.db, lock files) apart, below.
    fn files(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_FILES)?;
        let headers: Vec<String> = [
            "STT",
            "Đơn vị",
            "Kỳ báo cáo",
            "Kết quả",
            "Tệp",
            "Nhận lúc",
            "Số lỗi",
            "Số cảnh báo",
            "Kích thước (byte)",
            "SHA-256",
        ]
        .map(str::to_owned)
        .to_vec();
        let file_unit = |f: &FileRecord| {
            f.unit
                .as_deref()
                .map_or_else(|| UNKNOWN_UNIT.to_owned(), |id| self.unit_name_of(id))
        };
        let (read, ignored) = files_in_roster_order(c);

        let mut widths = Widths::new(&headers);
        for f in read.iter().chain(&ignored) {
            widths.see(1, &file_unit(f));
            widths.see(3, f.outcome.label());
            widths.see(4, &f.path);
        }
        widths.set(0, 5.0);
        widths.cap(1, NAME_WIDTH);
        widths.set(2, 13.0);
        widths.cap(3, 20.0);
        widths.set(4, widths.get(4).clamp(16.0, 36.0));
        widths.set(5, 16.0);
        widths.set(6, 7.0);
        widths.set(7, 9.0);
        widths.set(8, 11.0);
        // 64 hexadecimal digits in an 8-point font.
        widths.set(9, 50.0);
        widths.apply(ws)?;

        let text = format!("Các tệp đã nhận trong kỳ ({} tệp)", read.len());
        ws.write_string_with_format(0, 0, text, &st.heading)?;
        let h = 1;
        header_row(ws, h, &headers, &widths, st)?;
        if read.is_empty() {
            ws.write_string_with_format(
                h + 1,
                0,
                "Không có tệp nào trong thư mục nhận.",
                &st.note,
            )?;
        } else {
            ws.autofilter(h, 0, h + read.len() as RowNum, 9)?;
        }
        for (i, f) in read.iter().enumerate() {
            let r = h + 1 + i as RowNum;
            let (errors, warnings) = counts(&f.findings);
            let outcome_format = match f.outcome {
                FileOutcome::Rejected | FileOutcome::Unidentified => &st.rejected_center,
                _ => &st.center,
            };
            let path = cell_text(&f.path);
            let unit = file_unit(f);
            set_lines(
                ws,
                r,
                lines_in(&path, widths.get(4))
                    .max(lines_in(&unit, widths.get(1)))
                    .max(lines_in(f.outcome.label(), widths.get(3))),
            )?;
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.center)?;
            ws.write_string_with_format(r, 1, unit, &st.wrap_middle)?;
            match f.period {
                Some(p) => ws.write_string_with_format(r, 2, p.label(), &st.center)?,
                None => ws.write_blank(r, 2, &st.center)?,
            };
            ws.write_string_with_format(r, 3, f.outcome.label(), outcome_format)?;
            ws.write_string_with_format(r, 4, path.as_ref(), &st.wrap_middle)?;
            match &f.received {
                Some(t) => ws.write_datetime_with_format(r, 5, t.naive_local(), &st.datetime)?,
                None => ws.write_blank(r, 5, &st.center)?,
            };
            ws.write_number_with_format(r, 6, errors as f64, &st.int)?;
            ws.write_number_with_format(r, 7, warnings as f64, &st.int)?;
            ws.write_number_with_format(r, 8, f.size as f64, &st.int)?;
            match &f.sha256 {
                Some(sha) => ws.write_string_with_format(r, 9, sha, &st.small)?,
                None => ws.write_blank(r, 9, &st.small)?,
            };
        }

        // The files set aside without being read, apart.
        let heading = h + 1 + (read.len() as RowNum).max(1) + 1;
        let text = format!("Các tệp bỏ qua, không phải báo cáo ({} tệp)", ignored.len());
        ws.write_string_with_format(heading, 0, text, &st.heading)?;
        if !ignored.is_empty() {
            // The reason over the three columns after STT, so it reads on one line.
            let r = heading + 1;
            ws.write_string_with_format(r, 0, "STT", &st.header)?;
            ws.merge_range(r, 1, r, 3, "Lý do bỏ qua", &st.header)?;
            ws.write_string_with_format(r, 4, "Tệp", &st.header)?;
            ws.write_string_with_format(r, 5, "Nhận lúc", &st.header)?;
            ws.merge_range(r, 6, r, 8, "Kích thước (byte)", &st.header)?;
            let reason_width = widths.get(1) + widths.get(2) + widths.get(3);
            for (i, f) in ignored.iter().enumerate() {
                let r = heading + 2 + i as RowNum;
                let reason = f
                    .findings
                    .first()
                    .map(|x| {
                        x.message
                            .trim_start_matches("Bỏ qua:")
                            .trim()
                            .trim_end_matches('.')
                    })
                    .unwrap_or("");
                let reason = cell_text(reason);
                let path = cell_text(&f.path);
                set_lines(
                    ws,
                    r,
                    lines_in(&path, widths.get(4)).max(lines_in(&reason, reason_width)),
                )?;
                ws.write_number_with_format(r, 0, (i + 1) as u32, &st.center)?;
                ws.merge_range(r, 1, r, 3, reason.as_ref(), &st.wrap_middle)?;
                ws.write_string_with_format(r, 4, path.as_ref(), &st.wrap_middle)?;
                match &f.received {
                    Some(t) => {
                        ws.write_datetime_with_format(r, 5, t.naive_local(), &st.datetime)?
                    }
                    None => ws.write_blank(r, 5, &st.center)?,
                };
                ws.merge_range(r, 6, r, 8, "", &st.int)?;
                ws.write_number_with_format(r, 6, f.size as f64, &st.int)?;
            }
        }

        ws.set_freeze_panes(h + 1, 2)?;
        let title = format!("Các tệp đã nhận — {}", c.period.label());
        page_setup(ws, Some((h, h)), Some(&title))?;
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
            // A number column's header wraps rather than widen the column.
            let fallback = match col.kind {
                ColumnType::Count | ColumnType::Serial | ColumnType::Date => seen.min(12.0),
                ColumnType::Text | ColumnType::Choice => seen.min(50.0),
            };
            let width = col.width.unwrap_or(fallback).max(6.0);
            widths.set(k + 1, width);
            let wraps_here =
                seen > width + 0.5 && matches!(col.kind, ColumnType::Text | ColumnType::Choice);
            wraps.push(wraps_here.then_some(width));
            formats.push(match col.kind {
                ColumnType::Serial => &st.list_serial,
                ColumnType::Date => &st.list_date,
                ColumnType::Count => &st.list_int,
                ColumnType::Text | ColumnType::Choice if wraps_here => &st.list_wrap,
                ColumnType::Text | ColumnType::Choice => &st.list_text,
            });
        }
        widths.set(source_col.into(), 10.0);
        let serial: Vec<bool> = columns
            .iter()
            .map(|col| col.kind == ColumnType::Serial)
            .collect();
        let title = format!("Danh sách hoạt động — {}", c.period.label());

        if row_count == 0 {
            let ws = wb.add_worksheet();
            ws.set_name(SHEET_ACTIVITIES)?;
            widths.apply(ws)?;
            header_row(ws, 0, &headers, &widths, st)?;
            ws.write_string_with_format(
                1,
                0,
                "Không có hoạt động nào được báo cáo trong kỳ.",
                &st.note,
            )?;
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
            // The grid is printed, not drawn with cell borders: a column format with borders
            // would draw them on every row of the column, the blank rows under the list too.
            ws.set_print_gridlines(true);
            // Each column carries its format; cells are written without one and take it
            // (rust_xlsxwriter hashes a cell's `Format` on every write: most of the time of a
            // big sheet went there).
            ws.set_column_format(0, &st.list_text)?;
            for (k, format) in formats.iter().enumerate() {
                ws.set_column_format((k + 1) as ColNum, format)?;
            }
            ws.set_column_format(source_col, &st.list_serial)?;
            // A header with filter buttons, not an Excel table: rust_xlsxwriter records every
            // cell of a table in a map to check overlaps (9 million entries for a million rows).
            for (col, h) in headers.iter().enumerate() {
                ws.write_string_with_format(0, col as ColNum, h, &st.header)?;
            }
            ws.autofilter(0, 0, n as RowNum, last_col)?;
            fit_header(ws, 0, &headers, &widths)?;
            // A line under the list, across it: it says the list is whole, or where it goes
            // on. It is also what keeps the sheet's XML sound: rust_xlsxwriter 0.102 writes
            // the last row of a low- or constant-memory sheet a second time, as an empty
            // `<row>`, when that row has a height (`flush_last_row` flushes the current row
            // into itself), and Excel then calls the file corrupt. A last row without options
            // cannot be written twice.
            let note_row = (n as RowNum).checked_add(1).filter(|&r| r < EXCEL_ROWS);
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
                let last = i + 1 == n;
                if heights && (note_row.is_some() || !last) {
                    set_lines(ws, r, lines)?;
                }
                ws.write_string(r, 0, &u.name)?;
                for (k, v) in a.values().take(formats.len()).enumerate() {
                    let col = (k + 1) as ColNum;
                    match v {
                        // An empty cell shows its column's format.
                        Value::Empty => {}
                        // A row number is a number (Excel flags numbers stored as text and
                        // sorts them 1, 10, 100), when it is one exactly as typed.
                        Value::Text(t) if serial[k] && whole_number(t).is_some() => {
                            ws.write_number(r, col, whole_number(t).unwrap_or_default())?;
                        }
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
            if let Some(note) = note_row {
                let text = if remaining > 0 {
                    format!("Tiếp theo ở trang \"{SHEET_ACTIVITIES} ({})\".", sheet + 1)
                } else {
                    let units = c
                        .units
                        .iter()
                        .filter(|u| u.status == UnitStatus::Accepted && !u.activities.is_empty())
                        .count();
                    format!(
                        "Cộng: {} hoạt động của {units} đơn vị.",
                        crate::numbers::vi(row_count as u64)
                    )
                };
                ws.merge_range(note, 0, note, last_col, &text, &st.note)?;
            }
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
        let (c, st) = (self.c, &self.st);
        ws.set_name(SHEET_NARRATIVE)?;
        let mut headers: Vec<String> = ["STT", "Đơn vị", "Tình trạng"].map(str::to_owned).to_vec();
        headers.extend(self.form.narrative.iter().map(|b| b.label.clone()));
        let mut widths = Widths::new(&headers);
        for u in &c.units {
            widths.see(1, &u.name);
        }
        widths.cap(1, NAME_WIDTH);
        widths.set(0, 5.0);
        widths.set(2, 11.0);
        // The blocks share what is left of a page width in readable type (`READABLE_WIDTH`).
        let fixed = widths.get(0) + widths.get(1) + widths.get(2);
        let n = self.form.narrative.len().max(1) as f64;
        let block_width = ((READABLE_WIDTH - fixed) / n).clamp(30.0, 60.0);
        for k in 0..self.form.narrative.len() {
            widths.set(3 + k, block_width);
        }
        widths.apply(ws)?;
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, col as ColNum, h, &st.header)?;
        }
        fit_header(ws, 0, &headers, &widths)?;
        for (i, u) in c.units.iter().enumerate() {
            let r = 1 + i as RowNum;
            let (text, center, block) = match u.status {
                UnitStatus::Accepted => (&st.wrap, &st.top_center, &st.wrap),
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
                .map(|t| lines_in(t, block_width))
                .max()
                .unwrap_or(1)
                .max(lines_in(&u.name, widths.get(1)));
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
        widths.set(0, 5.0);
        widths.cap(1, NAME_WIDTH);
        widths.cap(2, 28.0);
        widths.cap(3, 12.0);
        widths.set(4, 7.0);
        widths.set(5, 9.0);
        widths.set(6, 60.0);
        widths.apply(ws)?;
        header_row(ws, 0, &headers, &widths, st)?;
        if table_rows == 0 {
            ws.write_string_with_format(1, 0, "Không có lỗi hay cảnh báo nào.", &st.note)?;
        } else {
            ws.autofilter(0, 0, table_rows as RowNum, (headers.len() - 1) as ColNum)?;
        }
        for (i, m) in messages.iter().enumerate() {
            let r = 1 + i as RowNum;
            let unit = m.unit_name.as_deref().unwrap_or(UNKNOWN_UNIT);
            let file = cell_text(&m.file);
            let message = cell_text(&m.finding.message);
            let severity = match m.finding.severity {
                Severity::Error => &st.error_center,
                _ => &st.top_center,
            };
            let lines = lines_in(&file, widths.get(2))
                .max(lines_in(&message, widths.get(6)))
                .max(lines_in(unit, widths.get(1)));
            set_lines(ws, r, lines)?;
            ws.write_number_with_format(r, 0, (i + 1) as u32, &st.top_center)?;
            ws.write_string_with_format(r, 1, unit, &st.wrap)?;
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

    /// The charts a leader reads at a glance, on one sheet with the numbers they draw: the
    /// reporting by group (units on time, late, rejected, missing), then one bar chart per main
    /// indicator (the form's `[indicators.chart]`) by unit, each on its own scale. Every unit of
    /// the roster is a bar, in roster order; a unit without an accepted report has no bar and
    /// its name carries the reason ("Huyện ủy Đam Rông (chưa nộp)").
    ///
    /// The charts read blocks of plain numbers on this sheet, copied from the same figures as
    /// "Tổng hợp": rust_xlsxwriter fills a chart's cached data only from number and string
    /// cells (not from formula results). Without a cache, viewers that do not recalculate
    /// (phone previews) draw an empty chart.
    fn chart(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        let (c, form, st) = (self.c, self.form, &self.st);
        ws.set_name(SHEET_CHART)?;
        let layout = ChartLayout::of(c, form);
        let codes = &layout.codes;
        let value = layout.value;
        let value_title = form
            .indicators
            .values
            .get(value)
            .map_or("", |v| v.title.as_str());
        ws.write_string_with_format(0, 0, format!("Biểu đồ — {}", c.period.label()), &st.heading)?;
        ws.set_column_width(0, 40)?;
        for col in 1..=codes.len().max(STATUS_SERIES.len() + 1) {
            ws.set_column_width(col as ColNum, 16)?;
        }
        page_setup(ws, None, None)?;

        // 1. Reporting by group: the numbers, then the chart over them.
        let h = layout.rate_header;
        ws.write_string_with_format(h, 0, "Nhóm", &st.header)?;
        for (k, (label, _)) in STATUS_SERIES.iter().enumerate() {
            ws.write_string_with_format(h, (k + 1) as ColNum, *label, &st.header)?;
        }
        let share_col = (STATUS_SERIES.len() + 1) as ColNum;
        ws.write_string_with_format(h, share_col, "Có báo cáo", &st.header)?;
        let groups = blocks(c);
        for (g, block) in groups.iter().enumerate() {
            let r = h + 1 + g as RowNum;
            ws.write_string_with_format(r, 0, &block.name, &st.text)?;
            let units: Vec<&UnitRow> = block.units.iter().map(|&u| &c.units[u]).collect();
            for (k, (label, _)) in STATUS_SERIES.iter().enumerate() {
                let n = units.iter().filter(|u| u.status_label() == *label).count();
                ws.write_number_with_format(r, (k + 1) as ColNum, n as f64, &st.int)?;
            }
            let accepted = units
                .iter()
                .filter(|u| u.status == UnitStatus::Accepted)
                .count();
            let share = format!("{accepted}/{}", units.len());
            ws.write_string_with_format(r, share_col, share, &st.center)?;
        }
        let total = h + 1 + groups.len() as RowNum;
        ws.write_string_with_format(total, 0, "Toàn tỉnh", &st.total_text)?;
        for (k, (label, _)) in STATUS_SERIES.iter().enumerate() {
            let n = c
                .units
                .iter()
                .filter(|u| u.status_label() == *label)
                .count();
            ws.write_number_with_format(total, (k + 1) as ColNum, n as f64, &st.total_int)?;
        }
        let share = format!("{}/{}", c.accepted_count(), c.units.len());
        ws.write_string_with_format(total, share_col, share, &st.total_center)?;

        if !groups.is_empty() {
            let mut chart = Chart::new(ChartType::BarStacked);
            chart
                .title()
                .set_name("Tình hình nộp báo cáo theo nhóm (số đơn vị)");
            let (first, last) = (h + 1, h + groups.len() as RowNum);
            for (k, (_, color)) in STATUS_SERIES.iter().enumerate() {
                let col = (k + 1) as ColNum;
                chart
                    .add_series()
                    .set_name((SHEET_CHART, h, col))
                    .set_categories((SHEET_CHART, first, 0, last, 0))
                    .set_values((SHEET_CHART, first, col, last, col))
                    .set_format(
                        ChartFormat::new()
                            .set_solid_fill(ChartSolidFill::new().set_color(Color::RGB(*color))),
                    )
                    // No "0" label on a segment that is not there; white on the dark ones.
                    .set_data_label(
                        ChartDataLabel::new()
                            .show_value()
                            .set_num_format("0;;;")
                            .set_font(ChartFont::new().set_bold().set_color(
                                if *color == REJECTED_BAR {
                                    Color::White
                                } else {
                                    Color::Black
                                },
                            )),
                    )
                    .set_gap(60);
            }
            chart.y_axis().set_reverse();
            chart.x_axis().set_num_format("0");
            chart.legend().set_position(ChartLegendPosition::Bottom);
            chart.set_width(CHART_WIDTH).set_height(RATE_CHART_HEIGHT);
            ws.insert_chart(layout.rate_chart_row, 0, &chart)?;
        }

        // 2. One chart per main indicator, two side by side; the numbers under all of them.
        let d = layout.data_header;
        let text = format!(
            "Số liệu cột \"{value_title}\" của các đơn vị, như ở trang \"{SHEET_SUMMARY}\"; đơn vị chưa có báo cáo được tiếp nhận để trống."
        );
        ws.write_string_with_format(d - 1, 0, text, &st.note)?;
        ws.write_string_with_format(d, 0, "Đơn vị", &st.header)?;
        for (k, &i) in codes.iter().enumerate() {
            let item = &form.indicators.items[i];
            let text = format!("{} - {}", item.code, item.name);
            ws.write_string_with_format(d, (k + 1) as ColNum, text, &st.header)?;
        }
        let header_lines = codes
            .iter()
            .map(|&i| {
                let item = &form.indicators.items[i];
                header_lines_in(&format!("{} - {}", item.code, item.name), 16.0)
            })
            .max()
            .unwrap_or(1);
        set_lines(ws, d, header_lines)?;
        for (r, u) in c.units.iter().enumerate() {
            let row = d + 1 + r as RowNum;
            let (label, format) = match u.status {
                UnitStatus::Accepted => (u.name.clone(), &st.text),
                UnitStatus::Missing => (
                    format!("{} ({})", u.name, u.status_label().to_lowercase()),
                    &st.missing_text,
                ),
                UnitStatus::Rejected => (
                    format!("{} ({})", u.name, u.status_label().to_lowercase()),
                    &st.rejected_text,
                ),
            };
            ws.write_string_with_format(row, 0, label, format)?;
            for (k, &i) in codes.iter().enumerate() {
                let col = (k + 1) as ColNum;
                match accepted_figures(u) {
                    Some(f) => {
                        ws.write_number_with_format(row, col, figure(f, i, value) as f64, &st.int)?
                    }
                    None => ws.write_blank(row, col, format)?,
                };
            }
        }
        if c.units.is_empty() || codes.is_empty() {
            return Ok(());
        }
        let (first, last) = (d + 1, d + c.units.len() as RowNum);
        for (k, &i) in codes.iter().enumerate() {
            let item = &form.indicators.items[i];
            let col = (k + 1) as ColNum;
            let mut chart = Chart::new(ChartType::Bar);
            let title = format!(
                "{} ({}, {})",
                item.name,
                item.measure,
                value_title.to_lowercase()
            );
            chart.title().set_name(title.as_str());
            chart
                .title()
                .set_font(ChartFont::new().set_size(11).set_bold());
            chart
                .add_series()
                .set_name((SHEET_CHART, d, col))
                .set_categories((SHEET_CHART, first, 0, last, 0))
                .set_values((SHEET_CHART, first, col, last, col))
                .set_format(
                    ChartFormat::new()
                        .set_solid_fill(ChartSolidFill::new().set_color(Color::RGB(BAR_COLOR))),
                )
                .set_data_label(
                    ChartDataLabel::new()
                        .show_value()
                        .set_num_format("#,##0")
                        .set_font(ChartFont::new().set_size(9)),
                )
                .set_gap(40);
            chart.y_axis().set_reverse();
            chart.y_axis().set_font(ChartFont::new().set_size(9));
            chart.x_axis().set_num_format("#,##0");
            chart.x_axis().set_font(ChartFont::new().set_size(9));
            chart.legend().set_hidden();
            chart
                .set_width(CHART_WIDTH / 2 - 5)
                .set_height(layout.bar_chart_height);
            let (row, x) = layout.bar_chart_at(k);
            ws.insert_chart_with_offset(row, 0, &chart, x, 0)?;
        }
        ws.set_page_breaks(&layout.page_breaks())?;
        Ok(())
    }
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
    wrap_middle: Format,
    date: Format,
    /// The activity list's column formats: no borders (see `activities`).
    list_text: Format,
    list_wrap: Format,
    list_serial: Format,
    list_date: Format,
    list_int: Format,
    center: Format,
    top_center: Format,
    error_center: Format,
    late_center: Format,
    int: Format,
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
            .set_text_wrap()
            .set_bold()
            .set_background_color(Color::RGB(GROUP_FILL));
        let total = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(TOTAL_FILL));
        let missing = cell
            .clone()
            .set_text_wrap()
            .set_italic()
            .set_font_color(Color::RGB(MISSING_FONT))
            .set_background_color(Color::RGB(MISSING_FILL));
        let rejected = cell
            .clone()
            .set_text_wrap()
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
            wrap_middle: cell.clone().set_text_wrap(),
            date: center.clone().set_num_format("dd/mm/yyyy"),
            list_text: Format::new().set_align(FormatAlign::VerticalCenter),
            list_wrap: Format::new()
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap(),
            list_serial: Format::new()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_num_format("0"),
            list_date: Format::new()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_num_format("dd/mm/yyyy"),
            list_int: Format::new()
                .set_align(FormatAlign::VerticalCenter)
                .set_num_format(INT),
            center: center.clone(),
            top_center: top.clone().set_align(FormatAlign::Center),
            error_center: top
                .clone()
                .set_align(FormatAlign::Center)
                .set_bold()
                .set_font_color(Color::RGB(REJECTED_FONT)),
            late_center: center.clone().set_font_color(Color::RGB(LATE_FONT)),
            int: cell.clone().set_num_format(INT),
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
        .set_margins(MARGIN_SIDE, MARGIN_SIDE, 0.7, 0.6, 0.3, 0.3)
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

/// A header row: bold on a fill with borders, wrapped, tall enough for its wrapped texts. The
/// look is in the cells' own format (not an Excel table style, which LibreOffice ignores).
fn header_row(
    ws: &mut Worksheet,
    row: RowNum,
    headers: &[String],
    widths: &Widths,
    st: &Styles,
) -> Result<(), XlsxError> {
    for (col, h) in headers.iter().enumerate() {
        ws.write_string_with_format(row, col as ColNum, h, &st.header)?;
    }
    fit_header(ws, row, headers, widths)
}

/// The files of the consolidation as the provenance sheet lists them: the files read, by unit
/// in roster order (files of no unit last), each unit's in the order received; and apart, the
/// files set aside without being read.
fn files_in_roster_order(c: &Consolidation) -> (Vec<&FileRecord>, Vec<&FileRecord>) {
    let order = |f: &FileRecord| {
        f.unit
            .as_deref()
            .and_then(|id| c.units.iter().position(|u| u.id == id))
            .unwrap_or(usize::MAX)
    };
    let (mut ignored, mut read): (Vec<&FileRecord>, Vec<&FileRecord>) = c
        .files
        .iter()
        .partition(|f| f.outcome == FileOutcome::Ignored);
    read.sort_by(|a, b| (order(a), a.received, &a.path).cmp(&(order(b), b.received, &b.path)));
    ignored.sort_by(|a, b| a.path.cmp(&b.path));
    (read, ignored)
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
    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (col, w) in self.0.iter().enumerate() {
            ws.set_column_width(col as ColNum, *w)?;
        }
        Ok(())
    }
}

/// Lines a text takes when it wraps in a column `width` characters wide. A width unit is the
/// width of a digit; Vietnamese prose in Calibri (Carlito in LibreOffice) takes about 0.8 of
/// that a character, spaces included (measured on the LibreOffice rendering,
/// scripts/render_workbook.sh: 72 characters fit a line 60 wide, 47 a line 38 wide). Words
/// are wrapped whole, as the viewers do, at 0.82 a character: a row one line high keeps one
/// line of text, and a wrapped row gets the lines it shows.
fn lines_in(text: &str, width: f64) -> usize {
    lines_at(text, width, 0.82)
}

/// `lines_in` for bold header text, which runs wider.
fn header_lines_in(text: &str, width: f64) -> usize {
    lines_at(text, width, 1.0)
}

fn lines_at(text: &str, width: f64, per_char: f64) -> usize {
    let room = (width - 1.0).max(1.0);
    text.split('\n')
        .map(|paragraph| {
            let mut lines = 1;
            let mut used = 0.0;
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let w = word.chars().count() as f64 * per_char;
                let need = if used > 0.0 { used + per_char + w } else { w };
                if need <= room {
                    used = need;
                } else if used > 0.0 && w <= room {
                    lines += 1;
                    used = w;
                } else {
                    // A word longer than the line is broken where it reaches the edge.
                    let start = if used > 0.0 { used + per_char } else { 0.0 };
                    let total = start + w;
                    let extra = ((total / room).ceil() as usize).max(1) - 1;
                    lines += extra;
                    used = total - extra as f64 * room;
                }
            }
            lines
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
        .map(|(col, h)| header_lines_in(h, widths.get(col)))
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

/// A date written dd/mm/yyyy, as a date; `None` for anything that would not read back the same.
fn as_date(t: &str) -> Option<chrono::NaiveDate> {
    let d = chrono::NaiveDate::parse_from_str(t.trim(), "%d/%m/%Y").ok()?;
    (d.format("%d/%m/%Y").to_string() == t.trim()).then_some(d)
}

/// A row number typed as text ("1", " 12 "), as a number; `None` for anything that would not
/// read back the same ("01", "1a", "1.0", "").
fn whole_number(t: &str) -> Option<f64> {
    let t = t.trim();
    let n: u32 = t.parse().ok()?;
    (n.to_string() == t).then_some(f64::from(n))
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
    use crate::state::atomic::SaveError;
    use calamine::{Data, DataType, Range, Reader, Xlsx, open_workbook};
    use chrono::NaiveDate;
    use std::io;
    use std::io::Read;
    use std::path::{Path, PathBuf};

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
                // As the reader gives a serial column: text.
                ActivityValue::Text((row - 5).to_string()),
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
            ("date".into(), "02/11/2026".into()),
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
            FileRecord {
                sha256: None,
                period: None,
                ..record(
                    "Thumbs.db",
                    None,
                    FileOutcome::Ignored,
                    vec![Finding::new(
                        Severity::Info,
                        "ignored",
                        "Bỏ qua: tệp hệ thống.",
                    )],
                )
            },
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
        crate::state::atomic::save_workbook(&mut wb, &path).unwrap();
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

    /// The XML of a sheet, by its name (rust_xlsxwriter numbers the parts in sheet order).
    fn sheet_xml(path: &Path, sheet: &str) -> String {
        let names = open(path).sheet_names();
        let i = names.iter().position(|n| n == sheet).expect("sheet");
        zip_entry(path, &format!("xl/worksheets/sheet{}.xml", i + 1))
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

        // Print setup and panes, as written in the sheet XML: only the two header rows (and
        // the names) are frozen; the view opens scrolled to the header.
        let xml = zip_entry(&path, "xl/worksheets/sheet1.xml");
        assert!(
            xml.contains(r#"<sheetView tabSelected="1" topLeftCell="A10""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<pane xSplit="2" ySplit="2" topLeftCell="C12""#),
            "{xml}"
        );
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
                SHEET_CHART,
                SHEET_STATUS,
                SHEET_NARRATIVE,
                SHEET_MESSAGES,
                SHEET_ACTIVITIES,
                SHEET_FILES
            ]
        );
    }

    #[test]
    fn status_sheet_has_one_row_per_unit_with_who_prepared_it_and_their_phone() {
        let c = sample();
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_STATUS);
        assert_eq!(
            (0..10).map(|col| cell(&g, 0, col)).collect::<Vec<_>>(),
            [
                "STT",
                "Đơn vị",
                "Tình trạng",
                "Tệp",
                "Nhận lúc",
                "Số lỗi",
                "Số cảnh báo",
                "Người lập biểu",
                "Số điện thoại",
                "Ngày lập"
            ]
        );
        assert_eq!(
            column(&g, 1, 1..=5),
            c.units.iter().map(|u| u.name.clone()).collect::<Vec<_>>()
        );
        assert_eq!(
            column(&g, 2, 1..=5),
            ["Đúng hạn", "Nộp muộn", "Bị từ chối", "Đúng hạn", "Chưa nộp"]
        );
        assert_eq!(cell(&g, 1, 3), "da-lat/BC KL14 T10.xlsx");
        // A real date-time cell, not text.
        assert!(matches!(g.get_value((2, 4)), Some(Data::DateTime(_))));
        assert_eq!(cell(&g, 2, 4), "03/11/2026 18:30");
        assert_eq!(column(&g, 5, 1..=3), ["0", "0", "1"]);
        assert_eq!(cell(&g, 2, 6), "1");
        // The header fields the unit's file holds, for the clerk who calls the unit; the
        // date as a date.
        assert_eq!(
            (7..10).map(|col| cell(&g, 1, col)).collect::<Vec<_>>(),
            ["Nguyễn Văn An", "0263 3822 111", "02/11/2026"]
        );
        assert!(matches!(g.get_value((1, 9)), Some(Data::DateTime(_))));
        assert_eq!(column(&g, 7, 2..=5), ["", "", "", ""]);
        assert_eq!(column(&g, 3, 5..=5), [""], "a missing unit has no file");
        // No provenance here: it is on its own sheet, at the end.
        assert!(!(0..12).any(|col| cell(&g, 0, col) == "SHA-256"));
        assert_eq!(
            cell(&g, 7, 0),
            "Mọi tệp đã nhận (cả tệp bị thay, tệp kỳ khác, tệp bỏ qua) với mã SHA-256 và kích thước: xem trang \"Tệp đã nhận\"."
        );
    }

    #[test]
    fn files_sheet_lists_unit_files_in_roster_order_and_ignored_files_apart() {
        let c = sample();
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_FILES);
        assert_eq!(cell(&g, 0, 0), "Các tệp đã nhận trong kỳ (6 tệp)");
        assert_eq!(
            (0..10).map(|col| cell(&g, 1, col)).collect::<Vec<_>>(),
            [
                "STT",
                "Đơn vị",
                "Kỳ báo cáo",
                "Kết quả",
                "Tệp",
                "Nhận lúc",
                "Số lỗi",
                "Số cảnh báo",
                "Kích thước (byte)",
                "SHA-256"
            ]
        );
        // Roster order (Đà Lạt, Bảo Lộc, Khối CCQ, Quân sự), then the file of no unit; not
        // the byte order of the paths, and no Thumbs.db among the reports.
        assert_eq!(
            column(&g, 4, 2..=7),
            [
                "da-lat/BC KL14 T10.xlsx",
                "BaoLoc_T10 (sua).xlsx",
                "BaoLoc_T10.xlsx",
                "DUK CCQ.xlsx",
                "quan-su.xlsx",
                "abc.xlsx"
            ]
        );
        assert_eq!(
            column(&g, 1, 2..=7),
            [
                "Thành ủy Đà Lạt",
                "Thành ủy Bảo Lộc",
                "Thành ủy Bảo Lộc",
                "Đảng ủy Khối các cơ quan tỉnh",
                "Đảng ủy Quân sự tỉnh",
                "(không xác định)"
            ]
        );
        assert_eq!(
            column(&g, 3, 2..=7),
            [
                "Được dùng",
                "Được dùng",
                "Bị thay bằng bản sau",
                "Bị từ chối",
                "Được dùng",
                "Không xác định được đơn vị"
            ]
        );
        assert_eq!(column(&g, 0, 2..=7), ["1", "2", "3", "4", "5", "6"]);
        assert_eq!(cell(&g, 5, 2), "Tháng 10/2026");
        assert_eq!(cell(&g, 5, 6), "1", "one error in the rejected file");
        assert_eq!(cell(&g, 3, 7), "1", "one warning in Bảo Lộc's file");
        assert_eq!(cell(&g, 2, 8), "18432");
        assert_eq!(cell(&g, 2, 9), "ab".repeat(32));
        // The files set aside, apart, under their own heading.
        assert_eq!(cell(&g, 9, 0), "Các tệp bỏ qua, không phải báo cáo (1 tệp)");
        assert_eq!(
            [0, 1, 4, 5, 6].map(|col| cell(&g, 10, col)),
            [
                "STT",
                "Lý do bỏ qua",
                "Tệp",
                "Nhận lúc",
                "Kích thước (byte)"
            ]
        );
        assert_eq!(
            [0, 1, 4, 6].map(|col| cell(&g, 11, col)),
            ["1", "tệp hệ thống", "Thumbs.db", "18432"]
        );
        assert_eq!(g.height(), 12);
    }

    #[test]
    fn activities_are_one_row_each_and_a_units_formula_text_stays_text() {
        let (_dir, path) = saved(&sample());
        let g = grid(&path, SHEET_ACTIVITIES);
        assert_eq!(g.height(), 3 + 2, "header, 3 activities, the count");
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
        let sheet = sheet_xml(&path, SHEET_ACTIVITIES);
        assert!(sheet.contains(r#"<autoFilter ref="A1:I4"/>"#), "{sheet}");
        // The row numbers (STT) are numbers, not numbers stored as text.
        assert_eq!(column(&g, 1, 1..=3), ["1", "2", "1"]);
        assert!(
            (1..=3).all(|r| matches!(g.get_value((r, 1)), Some(Data::Float(_)))),
            "{:?}",
            column(&g, 1, 1..=3)
        );
        // Under the list, the count.
        assert_eq!(cell(&g, 4, 0), "Cộng: 3 hoạt động của 2 đơn vị.");
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
            let xml = sheet_xml(&path, SHEET_ACTIVITIES);
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

    /// The numbers of the `<row>` elements of a sheet, in the order written.
    fn row_numbers(xml: &str) -> Vec<u32> {
        xml.split("<row r=\"")
            .skip(1)
            .map(|r| r[..r.find('"').unwrap()].parse().unwrap())
            .collect()
    }

    #[test]
    fn the_last_activity_row_is_written_once_even_when_it_wraps() {
        // rust_xlsxwriter 0.102 wrote the last row of a low-memory sheet twice when it had a
        // height (`<row r="871">...</row><row r="871" ht="32.25"/>`): Excel calls that corrupt.
        let mut c = sample();
        let long = "Hội nghị quán triệt, triển khai Kết luận 14-KL/TW đến cán bộ chủ chốt, \
                    đảng viên và nhân dân trên địa bàn các xã, phường, thị trấn"
            .repeat(2);
        c.units[1].activities = vec![activity(6, 20, "Mạng xã hội", &long, 3400)].into();
        for limits in [
            Limits::EXCEL,
            Limits {
                rows_per_sheet: 2,
                ..Limits::EXCEL
            },
            Limits {
                rows_with_shared_strings: 0,
                ..Limits::EXCEL
            },
        ] {
            let (_dir, path) = saved_with(&c, limits);
            for name in open(&path).sheet_names() {
                let rows = row_numbers(&sheet_xml(&path, &name));
                assert!(
                    rows.windows(2).all(|w| w[0] < w[1]),
                    "{name} ({limits:?}): {rows:?}"
                );
            }
            let xml = sheet_xml(&path, SHEET_ACTIVITIES);
            assert!(
                xml.contains(r#"customHeight="1""#),
                "the long row has its height"
            );
        }
    }

    #[test]
    fn a_row_number_typed_as_text_is_written_as_a_number_only_when_it_reads_back_the_same() {
        assert_eq!(whole_number("1"), Some(1.0));
        assert_eq!(whole_number(" 870 "), Some(870.0));
        for text in ["01", "1a", "1.0", "", "-1", "1 2"] {
            assert_eq!(whole_number(text), None, "{text:?}");
        }
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
        assert!(sheet_xml(&inline, SHEET_ACTIVITIES).contains(r#"t="inlineStr""#));
        assert!(!sheet_xml(&shared, SHEET_ACTIVITIES).contains("inlineStr"));
        let (a, b) = (
            grid(&shared, SHEET_ACTIVITIES),
            grid(&inline, SHEET_ACTIVITIES),
        );
        assert_eq!(a.height(), 5);
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
        assert_eq!(names[5..7], [SHEET_ACTIVITIES, "Hoạt động (2)"]);
        let first = grid(&path, SHEET_ACTIVITIES);
        let second = grid(&path, "Hoạt động (2)");
        assert_eq!(first.height(), 4);
        assert_eq!(cell(&first, 3, 0), "Tiếp theo ở trang \"Hoạt động (2)\".");
        assert_eq!(second.height(), 3);
        assert_eq!(cell(&second, 2, 0), "Cộng: 3 hoạt động của 2 đơn vị.");
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

    /// The chart parts in the order their charts were inserted, with their XML.
    fn charts(path: &Path) -> Vec<String> {
        let mut names: Vec<String> = zip_names(path)
            .into_iter()
            .filter(|n| n.starts_with("xl/charts/chart"))
            .collect();
        names.sort_by_key(|n| {
            n.trim_start_matches("xl/charts/chart")
                .trim_end_matches(".xml")
                .parse::<u32>()
                .unwrap()
        });
        names.iter().map(|n| zip_entry(path, n)).collect()
    }

    #[test]
    fn chart_sheet_shows_reporting_by_group_and_one_bar_chart_per_main_indicator() {
        let c = sample();
        let (_dir, path) = saved(&c);
        let lay = ChartLayout::of(&c, &form());
        let g = grid(&path, SHEET_CHART);

        // Reporting by group: counts per status, and the share that reported.
        let h = lay.rate_header;
        assert_eq!(
            (0..6).map(|col| cell(&g, h, col)).collect::<Vec<_>>(),
            [
                "Nhóm",
                "Đúng hạn",
                "Nộp muộn",
                "Bị từ chối",
                "Chưa nộp",
                "Có báo cáo"
            ]
        );
        let row = |r: u32| (0..6).map(|col| cell(&g, r, col)).collect::<Vec<_>>();
        assert_eq!(
            row(h + 1),
            ["Huyện ủy, Thành ủy", "1", "1", "0", "0", "2/2"]
        );
        assert_eq!(
            row(h + 2),
            ["Đảng ủy trực thuộc", "1", "0", "1", "0", "1/2"]
        );
        assert_eq!(row(h + 3), ["Cơ quan báo chí", "0", "0", "0", "1", "0/1"]);
        assert_eq!(row(h + 4), ["Toàn tỉnh", "2", "1", "1", "1", "3/5"]);

        // The numbers of the indicator charts: every unit in roster order, those without an
        // accepted report marked in their name and left blank.
        let d = lay.data_header;
        assert_eq!(
            (0..5).map(|col| cell(&g, d, col)).collect::<Vec<_>>(),
            [
                "Đơn vị",
                "HN - Số hội nghị, buổi quán triệt Kết luận 14-KL/TW",
                "TB - Số tin, bài, phóng sự trên phương tiện thông tin đại chúng",
                "MXH - Số lượt tuyên truyền trên mạng xã hội",
                "SH - Số buổi sinh hoạt thường kỳ có lồng ghép nội dung Kết luận"
            ]
        );
        assert_eq!(
            column(&g, 0, d + 1..=d + 5),
            [
                "Thành ủy Đà Lạt",
                "Thành ủy Bảo Lộc",
                "Đảng ủy Khối các cơ quan tỉnh (bị từ chối)",
                "Đảng ủy Quân sự tỉnh",
                "Báo Lâm Đồng (chưa nộp)"
            ]
        );
        // "Kỳ này" of HN (i 0), TB (2), MXH (4), SH (5): a + i.
        assert_eq!(
            (1..5).map(|col| cell(&g, d + 2, col)).collect::<Vec<_>>(),
            ["1250", "1252", "1254", "1255"]
        );
        assert_eq!(column(&g, 1, d + 1..=d + 5), ["12", "1250", "", "3", ""]);
        // The same numbers as the unit rows of "Tổng hợp".
        let s = grid(&path, SHEET_SUMMARY);
        assert_eq!(cell(&s, 13, HN), cell(&g, d + 2, 1));
        assert_eq!(cell(&s, 16, HN + 2 * 2), cell(&g, d + 4, 2));

        // Five charts: the reporting (stacked bars, one series per status), then one bar chart
        // per indicator on its own scale, its categories every unit, its cache the values.
        let charts = charts(&path);
        assert_eq!(charts.len(), 5);
        let rate = &charts[0];
        assert!(rate.contains(r#"<c:grouping val="stacked"/>"#), "{rate}");
        assert_eq!(rate.matches("<c:ser>").count(), 4);
        assert!(rate.contains("Tình hình nộp báo cáo theo nhóm"), "{rate}");
        let (r1, r3) = (h + 2, h + 4);
        assert!(
            rate.contains(&format!("<c:f>'Biểu đồ'!$A${r1}:$A${r3}</c:f>")),
            "{rate}"
        );
        for (k, chart) in charts[1..].iter().enumerate() {
            assert!(chart.contains(r#"<c:barDir val="bar"/>"#), "{chart}");
            assert_eq!(chart.matches("<c:ser>").count(), 1, "{chart}");
            let col = ["B", "C", "D", "E"][k];
            let (first, last) = (d + 2, d + 6);
            assert!(
                chart.contains(&format!(
                    "<c:f>'Biểu đồ'!${col}${first}:${col}${last}</c:f>"
                )),
                "{chart}"
            );
            assert!(
                chart.contains("<c:v>Báo Lâm Đồng (chưa nộp)</c:v>"),
                "the category names every unit: {chart}"
            );
        }
        assert!(
            charts[1].contains("Số hội nghị, buổi quán triệt"),
            "{}",
            charts[1]
        );
        assert!(
            charts[1].contains("<c:v>1250</c:v>"),
            "the cache holds the values: {}",
            charts[1]
        );
        assert!(charts[2].contains("<c:v>1252</c:v>"), "{}", charts[2]);
    }

    #[test]
    fn chart_sheet_with_no_report_shows_every_unit_missing_and_no_empty_bars() {
        let mut c = sample();
        for u in &mut c.units {
            u.status = UnitStatus::Missing;
            u.figures = None;
            u.activities.clear();
        }
        let (_dir, path) = saved(&c);
        let lay = ChartLayout::of(&c, &form());
        let g = grid(&path, SHEET_CHART);
        assert_eq!(
            (0..6)
                .map(|col| cell(&g, lay.rate_header + 4, col))
                .collect::<Vec<_>>(),
            ["Toàn tỉnh", "0", "0", "0", "5", "0/5"]
        );
        assert_eq!(
            cell(&g, lay.data_header + 1, 0),
            "Thành ủy Đà Lạt (chưa nộp)"
        );
        assert_eq!(cell(&g, lay.data_header + 1, 1), "");
        assert_eq!(charts(&path).len(), 5);
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        std::fs::write(&path, b"old").unwrap();
        let mut wb = render(&sample(), &form(), &report()).unwrap();
        crate::state::atomic::save_workbook(&mut wb, &path).unwrap();
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
        let err = crate::state::atomic::save_workbook(&mut wb, &path)
            .unwrap_err()
            .to_string();
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
        let err = crate::state::atomic::save_workbook(&mut wb, &path).unwrap_err();
        assert!(matches!(err, SaveError::Xlsx { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn wrapped_lines_are_counted_by_whole_words() {
        // Fits: one line, so no row height.
        assert_eq!(lines_in("Hội nghị quán triệt Kết luận 14", 40.0), 1);
        assert_eq!(lines_in("", 10.0), 1);
        // 86 characters in a 38-wide column: two lines in LibreOffice.
        let text =
            "- Lồng ghép nội dung Kết luận trong sinh hoạt chi bộ thường kỳ, sinh hoạt chuyên đề.";
        assert_eq!(lines_in(text, 38.0), 2);
        // Line breaks start new lines; a word longer than the column breaks across lines.
        assert_eq!(lines_in("a\nb\nc", 20.0), 3);
        assert_eq!(lines_in(&"x".repeat(50), 11.0), 5);
        // A header in bold wraps sooner.
        assert_eq!(header_lines_in("Số cảnh báo", 9.0), 2);
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
