//! The blank form for units, written from the form declaration.
//!
//! The reader finds every part of a unit's workbook by its labels and header rows, so this layout
//! follows the same conventions (see `config/form-kl14.toml`):
//!
//! - sheets named exactly as declared, in the order indicators, activities, narrative;
//! - on the indicators sheet: a title block, the instructions, then one row per header field
//!   (label `"<label>:"` in column A, the input cell in column C of the same row), then the
//!   indicator table (one header row, group rows without a code, one row per indicator);
//! - on the activities sheet: the header row in row 1, then [`ACTIVITY_INPUT_ROWS`] input rows;
//! - on the narrative sheet: each block's label in column A, its input (B:H merged) on the same
//!   row, with a blank row between blocks so that an empty block never reads the next label.
//!
//! Only input cells are unlocked (light-yellow fill); every sheet is protected without a password.

use std::path::PathBuf;

use chrono::NaiveDate;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties, Format,
    FormatAlign, FormatBorder, Formula, ProtectionOptions, Workbook, Worksheet, XlsxError,
};

use crate::config::form::{ActivityColumn, ColumnType, Form, SheetRole};
use crate::period::Period;

/// How many input rows the activities sheet offers (the newspaper and the station list hundreds a
/// month; more can be inserted, the sheet allows inserting rows).
pub const ACTIVITY_INPUT_ROWS: u32 = 500;

/// Name of the very hidden sheet that holds dropdown lists too long (or with commas) for an
/// in-line list validation. Only written when a `choice` column needs it.
pub const LISTS_SHEET: &str = "Danh mục";

/// The fill of every input cell.
const INPUT_FILL: u32 = 0xFFF2CC;
const HEADER_FILL: u32 = 0xD9E1F2;
const GROUP_FILL: u32 = 0xF2F2F2;
/// A4 in Excel's paper-size numbering.
const PAPER_A4: u8 = 9;
/// The narrative input spans columns B..=H.
const NARRATIVE_LAST_COL: u16 = 7;
const NARRATIVE_ROW_HEIGHT: f64 = 120.0;

/// Writing the blank form to a file failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteFormError {
    #[error("laying out the blank form: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Lay out the blank form for `form`. If `period` is given, the period cell is pre-filled with its
/// label ("Tháng 10/2026").
pub fn blank_form(form: &Form, period: Option<&Period>) -> Result<Workbook, XlsxError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();

    // Dropdown lists that cannot be written in-line go to a very hidden sheet, added last.
    let mut long_lists: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, col) in form.activities.columns.iter().enumerate() {
        if col.kind == ColumnType::Choice && !inline_list_fits(&col.choices) {
            long_lists.push((i, col.choices.clone()));
        }
    }

    indicators_sheet(workbook.add_worksheet(), form, period, &styles)?;
    activities_sheet(workbook.add_worksheet(), form, period, &styles, &long_lists)?;
    narrative_sheet(workbook.add_worksheet(), form, &styles)?;

    if !long_lists.is_empty() {
        let ws = workbook.add_worksheet();
        ws.set_name(LISTS_SHEET)?;
        for (list_col, (_, choices)) in long_lists.iter().enumerate() {
            for (r, choice) in choices.iter().enumerate() {
                ws.write_string(row(r), col(list_col), choice)?;
            }
        }
        ws.protect();
        ws.set_very_hidden(true);
    }

    let properties = DocProperties::new()
        .set_title(&form.title)
        .set_subject(format!("Mẫu biểu báo cáo {}", form.short_title))
        .set_keywords(format!("{}, mẫu biểu", form.id))
        .set_comment(
            "Mẫu biểu trống để các đơn vị điền vào các ô nền vàng. Lập bởi tonghop từ tệp khai \
             báo biểu mẫu.",
        );
    workbook.set_properties(&properties);
    Ok(workbook)
}

// ------------------------------------------------------------------------------------------------
// Styles
// ------------------------------------------------------------------------------------------------

struct Styles {
    title: Format,
    instructions_head: Format,
    instruction: Format,
    label: Format,
    header_input: Format,
    table_header: Format,
    group_stt: Format,
    group_name: Format,
    group_blank: Format,
    stt: Format,
    code: Format,
    name: Format,
    measure: Format,
    value_input: Format,
    note_input: Format,
    serial_input: Format,
    text_input: Format,
    date_input: Format,
    count_input: Format,
    choice_input: Format,
    narrative_label: Format,
    narrative_input: Format,
}

impl Styles {
    fn new() -> Styles {
        let boxed = || Format::new().set_border(FormatBorder::Thin);
        let input = || {
            boxed()
                .set_unlocked()
                .set_background_color(Color::RGB(INPUT_FILL))
                .set_align(FormatAlign::VerticalCenter)
        };
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            instructions_head: Format::new().set_bold().set_italic(),
            instruction: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            label: Format::new()
                .set_bold()
                .set_align(FormatAlign::VerticalCenter),
            header_input: input().set_align(FormatAlign::Left),
            table_header: boxed()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(HEADER_FILL)),
            group_stt: boxed()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(GROUP_FILL)),
            group_name: boxed()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(GROUP_FILL)),
            group_blank: boxed().set_background_color(Color::RGB(GROUP_FILL)),
            stt: boxed()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            code: boxed()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            name: boxed()
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter),
            measure: boxed()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            value_input: input().set_num_format("#,##0"),
            note_input: input().set_text_wrap(),
            serial_input: input().set_align(FormatAlign::Center),
            text_input: input().set_text_wrap(),
            date_input: input()
                .set_num_format("dd/mm/yyyy")
                .set_align(FormatAlign::Center),
            count_input: input().set_num_format("#,##0"),
            choice_input: input(),
            narrative_label: boxed()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            narrative_input: input().set_text_wrap().set_align(FormatAlign::Top),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Sheet 1: indicators (title, instructions, header fields, indicator table)
// ------------------------------------------------------------------------------------------------

/// Column of the header-field labels and of the indicator table's first column (STT).
const LABEL_COL: u16 = 0;
/// Column of the header-field inputs (the wide name column of the table).
const HEADER_VALUE_COL: u16 = 2;

fn indicators_sheet(
    ws: &mut Worksheet,
    form: &Form,
    period: Option<&Period>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let ind = &form.indicators;
    ws.set_name(&form.sheet(SheetRole::Indicators).name)?;

    // Columns: STT | code | name | measure | values... | note.
    let value_col0: u16 = 4;
    let note_col = value_col0 + col(ind.values.len());
    let last_col = note_col;

    let stt_w = width_for(&ind.stt_header, 6.0, 8.0);
    let longest_label = form
        .header
        .iter()
        .map(|h| text_width(&h.label) + 2.0)
        .fold(0.0, f64::max);
    // The labels overflow from A into B (B stays empty on those rows): make A+B wide enough.
    let code_w = width_for(&ind.code_header, 11.0, 14.0)
        .max(longest_label - stt_w)
        .min(30.0);
    let name_w = 50.0;
    let measure_w = width_for(&ind.measure_header, 12.0, 16.0);
    let value_ws: Vec<f64> = ind
        .values
        .iter()
        .map(|v| width_for(&v.header, 11.0, 14.0))
        .collect();
    let note_w = 24.0;
    let mut widths = vec![stt_w, code_w, name_w, measure_w];
    widths.extend(&value_ws);
    widths.push(note_w);
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(col(c), *w)?;
    }
    let total_w: f64 = widths.iter().sum();

    // Title block.
    let mut r: u32 = 0;
    let title = form.title.to_uppercase();
    ws.merge_range(r, 0, r, last_col, &title, &s.title)?;
    ws.set_row_height(r, 20.0 * lines(&title, total_w / 1.3) as f64 + 12.0)?;
    r += 2;

    // Instructions: a block of their own above the header fields, one paragraph per row.
    if !form.instructions.is_empty() {
        ws.merge_range(
            r,
            0,
            r,
            last_col,
            "Hướng dẫn điền biểu:",
            &s.instructions_head,
        )?;
        r += 1;
        for (i, text) in form.instructions.iter().enumerate() {
            let para = format!("{}. {}", i + 1, text);
            ws.merge_range(r, 0, r, last_col, &para, &s.instruction)?;
            ws.set_row_height(r, 15.0 * lines(&para, total_w) as f64 + 2.0)?;
            r += 1;
        }
        r += 1;
    }

    // Header fields: "<label>:" in A, the input in C on the same row; B stays empty.
    for field in &form.header {
        ws.write_string_with_format(r, LABEL_COL, format!("{}:", field.label), &s.label)?;
        let prefill = match period {
            Some(p) if field.key == "period" => p.label(),
            _ => String::new(),
        };
        ws.write_string_with_format(r, HEADER_VALUE_COL, &prefill, &s.header_input)?;
        ws.set_row_height(r, 18.0)?;
        r += 1;
    }
    r += 1;

    // The indicator table: one header row.
    let header_row = r;
    let mut headers: Vec<&str> = vec![
        &ind.stt_header,
        &ind.code_header,
        &ind.name_header,
        &ind.measure_header,
    ];
    headers.extend(ind.values.iter().map(|v| v.header.as_str()));
    headers.push(&ind.note_header);
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, col(c), *h, &s.table_header)?;
    }
    let header_lines = headers
        .iter()
        .zip(&widths)
        .map(|(h, w)| lines(h, *w - 1.0))
        .max()
        .unwrap_or(1);
    ws.set_row_height(r, 15.0 * header_lines as f64 + 6.0)?;
    r += 1;

    let value_rule = DataValidation::new()
        .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        .set_input_title("Số liệu")?
        .set_input_message("Nhập số nguyên không âm: 0, 1, 2, ... Để trống nghĩa là 0.")?
        .set_error_title("Số liệu không hợp lệ")?
        .set_error_message(
            "Ô này chỉ nhận số nguyên không âm (0, 1, 2, ...). Không ghi chữ, không ghi số \
             thập phân, không ghi số âm.",
        )?;

    let mut stt = 0;
    for (group, members) in form.indicator_groups() {
        // Group row: the numeral (if any) under STT, the title under the name; no code.
        let (numeral, rest) = split_group_title(&group);
        for c in 0..=last_col {
            ws.write_blank(r, c, &s.group_blank)?;
        }
        ws.write_string_with_format(r, 0, numeral.unwrap_or(""), &s.group_stt)?;
        ws.write_string_with_format(r, 2, rest.to_uppercase(), &s.group_name)?;
        r += 1;

        let first = r;
        for i in members {
            let item = &ind.items[i];
            stt += 1;
            ws.write_number_with_format(r, 0, stt, &s.stt)?;
            ws.write_string_with_format(r, 1, &item.code, &s.code)?;
            ws.write_string_with_format(r, 2, &item.name, &s.name)?;
            ws.write_string_with_format(r, 3, &item.measure, &s.measure)?;
            for v in 0..ind.values.len() {
                ws.write_blank(r, value_col0 + col(v), &s.value_input)?;
            }
            ws.write_blank(r, note_col, &s.note_input)?;
            let n = lines(&item.name, name_w - 2.0).max(lines(&item.measure, measure_w - 2.0));
            ws.set_row_height(r, 15.0 * n as f64 + 4.0)?;
            r += 1;
        }
        if r > first {
            ws.add_data_validation(first, value_col0, r - 1, note_col - 1, &value_rule)?;
        }
    }

    ws.set_repeat_rows(header_row, header_row)?;
    page_setup(ws, Some(&form.title));
    ws.protect_with_options(&protection(false));
    ws.set_active(true);
    Ok(())
}

/// "I. Quán triệt" -> (Some("I"), "Quán triệt"); a title without a short numeral prefix is kept whole.
fn split_group_title(title: &str) -> (Option<&str>, &str) {
    if let Some((head, rest)) = title.split_once('.') {
        let head = head.trim();
        let is_numeral = !head.is_empty()
            && head.chars().count() <= 5
            && (head.chars().all(|c| "IVXLCivxlc".contains(c))
                || head.chars().all(|c| c.is_ascii_digit())
                || (head.chars().count() == 1 && head.chars().all(|c| c.is_alphabetic())));
        if is_numeral && !rest.trim().is_empty() {
            return (Some(head), rest.trim());
        }
    }
    (None, title.trim())
}

// ------------------------------------------------------------------------------------------------
// Sheet 2: activities
// ------------------------------------------------------------------------------------------------

fn activities_sheet(
    ws: &mut Worksheet,
    form: &Form,
    period: Option<&Period>,
    s: &Styles,
    long_lists: &[(usize, Vec<String>)],
) -> Result<(), XlsxError> {
    let cols = &form.activities.columns;
    ws.set_name(&form.sheet(SheetRole::Activities).name)?;

    let mut header_lines = 1;
    for (c, column) in cols.iter().enumerate() {
        let w = column.width.unwrap_or(default_width(column));
        ws.set_column_width(col(c), w)?;
        ws.write_string_with_format(0, col(c), &column.header, &s.table_header)?;
        header_lines = header_lines.max(lines(&column.header, w - 1.0));
    }
    ws.set_row_height(0, 15.0 * header_lines as f64 + 6.0)?;

    let first = 1;
    let last = ACTIVITY_INPUT_ROWS;
    for (c, column) in cols.iter().enumerate() {
        let format = match column.kind {
            ColumnType::Serial => &s.serial_input,
            ColumnType::Text => &s.text_input,
            ColumnType::Date => &s.date_input,
            ColumnType::Count => &s.count_input,
            ColumnType::Choice => &s.choice_input,
        };
        for r in first..=last {
            ws.write_blank(r, col(c), format)?;
        }
        let list_index = long_lists.iter().position(|(i, _)| *i == c);
        if let Some(rule) = activity_validation(column, period, list_index)? {
            ws.add_data_validation(first, col(c), last, col(c), &rule)?;
        }
    }

    ws.set_freeze_panes(1, 0)?;
    ws.set_repeat_rows(0, 0)?;
    page_setup(ws, Some(&form.title));
    ws.protect_with_options(&protection(true));
    Ok(())
}

fn default_width(column: &ActivityColumn) -> f64 {
    match column.kind {
        ColumnType::Serial => 6.0,
        ColumnType::Date => 12.0,
        ColumnType::Count => 14.0,
        ColumnType::Choice => 22.0,
        ColumnType::Text => 30.0,
    }
}

/// The data validation of one activity column, if its type has one.
fn activity_validation(
    column: &ActivityColumn,
    period: Option<&Period>,
    list_index: Option<usize>,
) -> Result<Option<DataValidation>, XlsxError> {
    let title = clip_utf16(&column.header, 32);
    let rule = match column.kind {
        ColumnType::Serial | ColumnType::Text => return Ok(None),
        ColumnType::Date => {
            let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
            let to = NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid date");
            let mut message = String::from("Nhập ngày theo dạng ngày/tháng/năm (dd/mm/yyyy)");
            if let Some(p) = period {
                message.push_str(&format!(
                    ", trong {}, ví dụ {}",
                    p.label(),
                    p.first_day().format("%d/%m/%Y")
                ));
            }
            message.push('.');
            // Warning, not Stop: in an Excel with English (US) regional settings "15/10/2026"
            // stays text, which the reader accepts; a Stop would make it impossible to type.
            DataValidation::new()
                .allow_date(DataValidationRule::Between(from, to))
                .set_input_title(title)?
                .set_input_message(message)?
                .set_error_title("Ngày không hợp lệ")?
                .set_error_message(
                    "Ô này chỉ nhận ngày, dạng ngày/tháng/năm (dd/mm/yyyy), từ 01/01/2000 đến \
                     31/12/2100. Bấm \"No\" (Không) để sửa lại.",
                )?
                .set_error_style(DataValidationErrorStyle::Warning)
        }
        ColumnType::Count => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_input_title(title)?
            .set_input_message("Nhập số nguyên không âm: 0, 1, 2, ...")?
            .set_error_title("Số không hợp lệ")?
            .set_error_message(
                "Ô này chỉ nhận số nguyên không âm (0, 1, 2, ...). Không ghi chữ, không ghi số \
                 thập phân, không ghi số âm.",
            )?,
        ColumnType::Choice => {
            let base = match list_index {
                None => DataValidation::new().allow_list_strings(&column.choices)?,
                Some(i) => {
                    let range = format!(
                        "='{}'!${}$1:${}${}",
                        LISTS_SHEET,
                        column_letter(col(i)),
                        column_letter(col(i)),
                        column.choices.len()
                    );
                    DataValidation::new().allow_list_formula(Formula::new(range))
                }
            };
            base.set_input_title(title)?
                .set_input_message("Chọn một giá trị trong danh sách (bấm mũi tên bên phải ô).")?
                .set_error_title("Không có trong danh sách")?
                .set_error_message(
                    "Chỉ chọn một giá trị có trong danh sách thả xuống. Nếu không có hình thức \
                     phù hợp, chọn giá trị cuối danh sách (nếu có) và ghi rõ ở cột ghi chú.",
                )?
        }
    };
    Ok(Some(rule))
}

/// Excel's in-line list is one comma-separated string of at most 255 characters; a choice holding
/// a comma would be split in two.
fn inline_list_fits(choices: &[String]) -> bool {
    let joined: usize = choices
        .iter()
        .map(|c| c.replace('"', "\"\"").encode_utf16().count())
        .sum::<usize>()
        + choices.len().saturating_sub(1);
    joined <= 255
        && choices
            .iter()
            .all(|c| !c.contains(',') && !c.trim().is_empty())
}

// ------------------------------------------------------------------------------------------------
// Sheet 3: narrative
// ------------------------------------------------------------------------------------------------

fn narrative_sheet(ws: &mut Worksheet, form: &Form, s: &Styles) -> Result<(), XlsxError> {
    let name = &form.sheet(SheetRole::Narrative).name;
    ws.set_name(name)?;
    let label_w = form
        .narrative
        .iter()
        .map(|b| text_width(&b.label) + 2.0)
        .fold(22.0, f64::max)
        .min(40.0);
    ws.set_column_width(0, label_w)?;
    ws.set_column_range_width(1, NARRATIVE_LAST_COL, 14.0)?;

    ws.merge_range(0, 0, 0, NARRATIVE_LAST_COL, &name.to_uppercase(), &s.title)?;
    ws.set_row_height(0, 26.0)?;
    ws.merge_range(
        1,
        0,
        1,
        NARRATIVE_LAST_COL,
        "Ghi vào ô nền vàng bên phải mỗi mục. Xuống dòng trong ô: Alt+Enter (Excel), \
         Ctrl+Enter (LibreOffice).",
        &s.instruction,
    )?;

    // Each block: the label in A, the input B:H on the same row, then a blank row.
    let mut r = 3;
    for block in &form.narrative {
        ws.write_string_with_format(r, 0, &block.label, &s.narrative_label)?;
        ws.merge_range(r, 1, r, NARRATIVE_LAST_COL, "", &s.narrative_input)?;
        ws.set_row_height(r, NARRATIVE_ROW_HEIGHT)?;
        r += 2;
    }

    page_setup(ws, Some(&form.title));
    ws.protect_with_options(&protection(false));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Shared helpers
// ------------------------------------------------------------------------------------------------

fn page_setup(ws: &mut Worksheet, title: Option<&str>) {
    ws.set_paper_size(PAPER_A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    if let Some(t) = title {
        // '&' starts a header/footer control code.
        ws.set_header(format!("&L&8{}", t.replace('&', "&&")));
    }
    ws.set_footer("&CTrang &P/&N");
}

/// Units may only type in the unlocked cells; they may still resize rows and columns and select
/// anything. On the activities sheet they may also insert rows (more than the rows given).
fn protection(insert_rows: bool) -> ProtectionOptions {
    ProtectionOptions {
        format_columns: true,
        format_rows: true,
        insert_rows,
        ..ProtectionOptions::new()
    }
}

fn col(i: usize) -> u16 {
    u16::try_from(i).expect("a form has far fewer than 16384 columns")
}

fn row(i: usize) -> u32 {
    u32::try_from(i).expect("row index fits")
}

fn column_letter(c: u16) -> String {
    let mut n = u32::from(c) + 1;
    let mut s = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        s.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    s.iter().rev().collect()
}

/// An approximate display width, in Excel character units.
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64
}

/// A column width that fits `header` on at most two lines, between `min` and `max`.
fn width_for(header: &str, min: f64, max: f64) -> f64 {
    let w = text_width(header) + 2.0;
    if w <= max {
        w.max(min)
    } else {
        (w / 2.0 + 2.0).clamp(min, max)
    }
}

/// How many lines `text` takes when wrapped in a column `width` wide (explicit newlines count).
/// Text runs a little narrower than Excel's width unit (the width of a digit).
fn lines(text: &str, width: f64) -> usize {
    let per_line = (width * 1.1).max(1.0);
    text.split('\n')
        .map(|l| ((text_width(l) / per_line).ceil() as usize).max(1))
        .sum()
}

/// Cut `s` to at most `max` UTF-16 units (Excel's limits are counted that way).
fn clip_utf16(s: &str, max: usize) -> String {
    if s.encode_utf16().count() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        if used + ch.len_utf16() > max - 1 {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::form::write_blank_form;
    use crate::config::EMBEDDED_FORM;
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use std::io::Read;
    use std::path::Path;

    fn form() -> Form {
        Form::from_toml(EMBEDDED_FORM).unwrap()
    }

    fn written(form: &Form, period: Option<&Period>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Mẫu biểu.xlsx");
        write_blank_form(form, period, &path).unwrap();
        (dir, path)
    }

    fn text(d: &Data) -> Option<String> {
        match d {
            Data::Empty => None,
            Data::String(s) if s.is_empty() => None,
            Data::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// (row, col) -> text of every non-empty cell, with absolute positions.
    fn cells(path: &Path, sheet: &str) -> Vec<(u32, u32, String)> {
        let mut wb: Xlsx<_> = open_workbook(path).unwrap();
        let range = wb.worksheet_range(sheet).unwrap();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        range
            .used_cells()
            .filter_map(|(r, c, d)| text(d).map(|t| (r as u32 + r0, c as u32 + c0, t)))
            .collect()
    }

    fn row_texts(cells: &[(u32, u32, String)], r: u32) -> Vec<String> {
        let mut v: Vec<_> = cells.iter().filter(|(rr, _, _)| *rr == r).collect();
        v.sort_by_key(|(_, c, _)| *c);
        v.into_iter().map(|(_, _, t)| t.clone()).collect()
    }

    fn find(cells: &[(u32, u32, String)], t: &str) -> Vec<(u32, u32)> {
        cells
            .iter()
            .filter(|(_, _, s)| s == t)
            .map(|(r, c, _)| (*r, *c))
            .collect()
    }

    fn sheet_xml(path: &Path, n: usize) -> String {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut xml = String::new();
        zip.by_name(&format!("xl/worksheets/sheet{n}.xml"))
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    #[test]
    fn sheets_are_named_as_declared_in_order() {
        let f = form();
        let (_d, path) = written(&f, None);
        let wb: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(
            wb.sheet_names(),
            vec!["Chỉ tiêu", "Hoạt động", "Thuyết minh"]
        );
    }

    #[test]
    fn header_labels_have_a_colon_and_an_input_cell_on_their_row() {
        let f = form();
        let p = Period::month(2026, 10);
        let (_d, path) = written(&f, Some(&p));
        let cells = cells(&path, "Chỉ tiêu");
        for h in &f.header {
            let at = find(&cells, &format!("{}:", h.label));
            assert_eq!(at.len(), 1, "label {:?} once: {at:?}", h.label);
            let (r, c) = at[0];
            assert_eq!(c, u32::from(LABEL_COL));
            // Nothing else on the row except, for the period, the pre-filled label to the right.
            let rest: Vec<_> = cells
                .iter()
                .filter(|(rr, cc, _)| *rr == r && *cc != c)
                .collect();
            if h.key == "period" {
                assert_eq!(rest.len(), 1);
                assert_eq!(rest[0].1, u32::from(HEADER_VALUE_COL));
                assert_eq!(rest[0].2, "Tháng 10/2026");
            } else {
                assert!(rest.is_empty(), "{:?}: {rest:?}", h.label);
            }
        }
        // The title, upper-cased, sits above.
        let title = find(&cells, &f.title.to_uppercase());
        assert_eq!(title, vec![(0, 0)]);
        // Instructions never share a row with a label.
        let label_rows: Vec<u32> = f
            .header
            .iter()
            .map(|h| find(&cells, &format!("{}:", h.label))[0].0)
            .collect();
        for ins in &f.instructions {
            let at: Vec<_> = cells.iter().filter(|(_, _, t)| t.ends_with(ins)).collect();
            assert_eq!(at.len(), 1, "{ins}");
            assert!(at[0].0 < label_rows[0]);
        }
    }

    #[test]
    fn without_a_period_the_period_cell_is_empty() {
        let f = form();
        let (_d, path) = written(&f, None);
        let cells = cells(&path, "Chỉ tiêu");
        let (r, _) = find(&cells, "Kỳ báo cáo:")[0];
        assert_eq!(row_texts(&cells, r), vec!["Kỳ báo cáo:"]);
    }

    #[test]
    fn indicator_table_has_the_declared_header_and_every_code_once() {
        let f = form();
        let (_d, path) = written(&f, None);
        let cells = cells(&path, "Chỉ tiêu");
        let at = find(&cells, &f.indicators.code_header);
        assert_eq!(at.len(), 1);
        let (hr, code_col) = at[0];
        assert_eq!(
            row_texts(&cells, hr),
            vec![
                "STT",
                "Mã chỉ tiêu",
                "Nội dung chỉ tiêu",
                "Đơn vị tính",
                "Kỳ này",
                "Lũy kế từ đầu năm",
                "Ghi chú"
            ]
        );
        for item in &f.indicators.items {
            let at: Vec<_> = find(&cells, &item.code)
                .into_iter()
                .filter(|(_, c)| *c == code_col)
                .collect();
            assert_eq!(at.len(), 1, "{}", item.code);
            let (r, _) = at[0];
            assert!(r > hr);
            let row = row_texts(&cells, r);
            assert_eq!(
                row[1..],
                [item.code.clone(), item.name.clone(), item.measure.clone()]
            );
        }
        // Group rows: a title, no code; indicators of a group follow it.
        let mut group_rows = Vec::new();
        for (group, members) in f.indicator_groups() {
            let (_, rest) = split_group_title(&group);
            let at = find(&cells, &rest.to_uppercase());
            assert_eq!(at.len(), 1, "{group}");
            let (gr, _) = at[0];
            assert!(!cells.iter().any(|(r, c, _)| *r == gr && *c == code_col));
            let first = find(&cells, &f.indicators.items[members[0]].code)[0].0;
            assert_eq!(first, gr + 1);
            group_rows.push(gr);
        }
        assert!(group_rows.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn activity_header_row_and_narrative_labels() {
        let f = form();
        let (_d, path) = written(&f, None);
        let acts = cells(&path, "Hoạt động");
        let headers: Vec<String> = f
            .activities
            .columns
            .iter()
            .map(|c| c.header.clone())
            .collect();
        assert_eq!(row_texts(&acts, 0), headers);
        assert_eq!(acts.len(), headers.len(), "input rows are blank: {acts:?}");

        let narr = cells(&path, "Thuyết minh");
        for block in &f.narrative {
            let at = find(&narr, &block.label);
            assert_eq!(at.len(), 1, "{}", block.label);
            let (r, c) = at[0];
            assert_eq!(c, 0);
            // Blank input on the same row, and a blank row below: an empty block stays empty.
            assert_eq!(row_texts(&narr, r), vec![block.label.clone()]);
            assert!(row_texts(&narr, r + 1).is_empty());
        }
    }

    #[test]
    fn merged_narrative_inputs_span_b_to_h() {
        let f = form();
        let (_d, path) = written(&f, None);
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let merged: Vec<String> = wb
            .merge_cells_by_sheet_name("Thuyết minh")
            .unwrap()
            .iter()
            .map(|d| format!("{:?}-{:?}", d.start, d.end))
            .collect();
        for (i, _) in f.narrative.iter().enumerate() {
            let r = 3 + 2 * i as u32;
            assert!(
                merged.contains(&format!("{:?}-{:?}", (r, 1), (r, 7))),
                "{merged:?}"
            );
        }
    }

    #[test]
    fn validations_and_protection_are_in_the_sheet_xml() {
        let f = form();
        let (_d, path) = written(&f, None);
        let ind = sheet_xml(&path, 1);
        let act = sheet_xml(&path, 2);
        let narr = sheet_xml(&path, 3);
        assert!(ind.contains("<dataValidation type=\"whole\""), "{ind}");
        assert!(ind.contains("operator=\"greaterThanOrEqual\""));
        assert!(act.contains("<dataValidation type=\"whole\""));
        assert!(act.contains("<dataValidation type=\"list\""));
        assert!(act.contains("<dataValidation type=\"date\""));
        assert!(act.contains("<formula1>\"Hội nghị,Báo in,"), "in-line list");
        assert!(act.contains(&format!("B2:B{}", ACTIVITY_INPUT_ROWS + 1)));
        for xml in [&ind, &act, &narr] {
            assert!(xml.contains("<sheetProtection"), "protected");
            assert!(!xml.contains("password="), "no password");
            assert!(xml.contains("formatColumns=\"0\""));
            assert!(xml.contains("formatRows=\"0\""));
            assert!(xml.contains("<pageSetup paperSize=\"9\""));
            assert!(xml.contains("fitToHeight=\"0\""));
        }
        assert!(act.contains("insertRows=\"0\""));
        // Some cell style is unlocked.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut styles = String::new();
        zip.by_name("xl/styles.xml")
            .unwrap()
            .read_to_string(&mut styles)
            .unwrap();
        assert!(styles.contains("<protection locked=\"0\""));
        let mut core = String::new();
        zip.by_name("docProps/core.xml")
            .unwrap()
            .read_to_string(&mut core)
            .unwrap();
        assert!(core.contains(&format!("<dc:title>{}</dc:title>", f.title)));
    }

    #[test]
    fn long_or_comma_choice_lists_go_to_a_hidden_sheet() {
        let mut f = form();
        let col = f
            .activities
            .columns
            .iter_mut()
            .find(|c| c.kind == ColumnType::Choice)
            .unwrap();
        col.choices = (1..=40)
            .map(|i| format!("Hình thức tuyên truyền số {i}"))
            .collect();
        col.choices.push("Báo, tạp chí".into());
        let (_d, path) = written(&f, None);
        let wb: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(
            wb.sheet_names(),
            vec!["Chỉ tiêu", "Hoạt động", "Thuyết minh", LISTS_SHEET]
        );
        let act = sheet_xml(&path, 2);
        assert!(
            act.contains("<formula1>'Danh mục'!$A$1:$A$41</formula1>"),
            "{act}"
        );
        let lists = cells(&path, LISTS_SHEET);
        assert_eq!(lists.len(), 41);
        assert_eq!(lists[40].2, "Báo, tạp chí");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut wbxml = String::new();
        zip.by_name("xl/workbook.xml")
            .unwrap()
            .read_to_string(&mut wbxml)
            .unwrap();
        assert!(wbxml.contains("state=\"veryHidden\""));
    }

    #[test]
    fn write_replaces_an_existing_file_and_leaves_no_temporary() {
        let f = form();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("form.xlsx");
        std::fs::write(&path, b"old").unwrap();
        write_blank_form(&f, None, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("form.xlsx")]);
        let err =
            write_blank_form(&f, None, &dir.path().join("no/such/dir/form.xlsx")).unwrap_err();
        assert!(matches!(err, WriteFormError::Io { .. }), "{err}");
    }

    #[test]
    fn group_titles_split_on_a_numeral() {
        assert_eq!(
            split_group_title("I. Quán triệt"),
            (Some("I"), "Quán triệt")
        );
        assert_eq!(split_group_title("2. Khác"), (Some("2"), "Khác"));
        assert_eq!(
            split_group_title("Tuyên truyền, vận động"),
            (None, "Tuyên truyền, vận động")
        );
        assert_eq!(
            split_group_title("Kết luận 14. Phần chung"),
            (None, "Kết luận 14. Phần chung")
        );
    }

    #[test]
    fn clip_counts_utf16_units() {
        assert_eq!(clip_utf16("Hình thức", 32), "Hình thức");
        let long = "Số người dự, lượt tiếp cận trực tiếp và gián tiếp";
        let c = clip_utf16(long, 32);
        assert_eq!(c.encode_utf16().count(), 32);
        assert!(c.ends_with('…'));
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(26), "AA");
    }
}
