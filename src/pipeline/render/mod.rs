//! Render: the consolidated workbook's layout. Pure: `state::atomic::save_workbook` writes it.
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
//!
//! One file per sheet (`summary`, `chart`, `status`, `narrative`, `messages`, `activities`,
//! `files`), each an `impl Cx` writing its sheet; `style` holds what they share: the formats,
//! the column widths, the fitting of wrapped text and the page setup. The layouts of
//! "Tổng hợp" and "Biểu đồ", the limits and the order of the sheets are here.

mod activities;
mod chart;
mod files;
mod messages;
mod narrative;
mod status;
mod style;
mod summary;
#[cfg(test)]
mod tests;

use chrono::Utc;
use rust_xlsxwriter::{ColNum, DocProperties, RowNum, Workbook, XlsxError};

use crate::config::ReportSettings;
use crate::config::form::Form;
use crate::pipeline::consolidate::{Consolidation, Figures, UnitRow, UnitStatus};
use style::Styles;

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

/// The unit column of a file or a message no unit was found for.
const UNKNOWN_UNIT: &str = "(không xác định)";

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
}
