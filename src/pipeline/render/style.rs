//! What the sheets share: the formats, the column widths, the fitting of wrapped text, cells
//! written from a unit's text, the page setup.

use std::borrow::Cow;

use rust_xlsxwriter::{
    ColNum, Color, Format, FormatAlign, FormatBorder, FormatUnderline, RowNum, Worksheet, XlsxError,
};

use super::EXCEL_CELL_CHARS;

/// Width of a unit's name column: longer names wrap onto a second line.
pub(super) const NAME_WIDTH: f64 = 24.0;

/// Total column width (characters) that prints at fit-to-width on A4 landscape in about 10-point
/// type (`print_scale`): the sheets a leader reads are laid out within it.
pub(super) const READABLE_WIDTH: f64 = 150.0;
/// Left and right print margins (inches): a little more of the A4 width for the tables.
const MARGIN_SIDE: f64 = 0.3;
/// Paper size code for A4 (Excel page setup).
const PAPER_A4: u8 = 9;

/// The mark at the end of a text cut at Excel's cell limit (`cell_text`).
pub(super) const TRUNCATED: &str = "… [đã cắt bớt]";

/// The formats of the workbook, made once.
pub(super) struct Styles {
    pub(super) org: Format,
    pub(super) org_dept: Format,
    pub(super) org_party: Format,
    pub(super) date_line: Format,
    pub(super) center_plain: Format,
    pub(super) title: Format,
    pub(super) subtitle: Format,
    pub(super) heading: Format,
    pub(super) note: Format,
    pub(super) header: Format,
    pub(super) text: Format,
    pub(super) top_text: Format,
    pub(super) wrap: Format,
    pub(super) wrap_middle: Format,
    pub(super) date: Format,
    /// The activity list's column formats: no borders (see `activities`).
    pub(super) list_text: Format,
    pub(super) list_wrap: Format,
    pub(super) list_serial: Format,
    pub(super) list_date: Format,
    pub(super) list_int: Format,
    pub(super) center: Format,
    pub(super) top_center: Format,
    pub(super) error_center: Format,
    pub(super) late_center: Format,
    pub(super) int: Format,
    pub(super) datetime: Format,
    pub(super) small: Format,
    pub(super) group_text: Format,
    pub(super) group_center: Format,
    pub(super) group_int: Format,
    pub(super) total_text: Format,
    pub(super) total_center: Format,
    pub(super) total_int: Format,
    pub(super) missing_text: Format,
    pub(super) missing_center: Format,
    pub(super) rejected_text: Format,
    pub(super) rejected_center: Format,
}

impl Styles {
    pub(super) fn new() -> Styles {
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
pub(super) fn page_setup(
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
pub(super) fn merge(
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
pub(super) fn header_row(
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

/// Column widths from content (characters), set at the end.
pub(super) struct Widths(Vec<f64>);

impl Widths {
    pub(super) fn new(headers: &[String]) -> Widths {
        Widths(headers.iter().map(|h| width_of(h).max(6.0)).collect())
    }
    pub(super) fn see(&mut self, col: usize, text: &str) {
        if let Some(w) = self.0.get_mut(col) {
            *w = w.max(width_of(text));
        }
    }
    pub(super) fn get(&self, col: usize) -> f64 {
        self.0.get(col).copied().unwrap_or(8.0)
    }
    pub(super) fn set(&mut self, col: usize, width: f64) {
        if col >= self.0.len() {
            self.0.resize(col + 1, 8.0);
        }
        self.0[col] = width;
    }
    pub(super) fn cap(&mut self, col: usize, max: f64) {
        if let Some(w) = self.0.get_mut(col) {
            *w = w.min(max);
        }
    }
    pub(super) fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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
pub(super) fn lines_in(text: &str, width: f64) -> usize {
    lines_at(text, width, 0.82)
}

/// `lines_in` for bold header text, which runs wider.
pub(super) fn header_lines_in(text: &str, width: f64) -> usize {
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
pub(super) fn set_lines(ws: &mut Worksheet, row: RowNum, lines: usize) -> Result<(), XlsxError> {
    if lines > 1 {
        ws.set_row_height(row, (15.0 * lines as f64 + 2.0).min(409.0))?;
    }
    Ok(())
}

/// A header row tall enough for its wrapped headers.
pub(super) fn fit_header(
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

pub(super) fn text_chars(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Text from a unit's file, made safe for a cell: CR LF and CR become LF, and text over
/// Excel's 32,767 characters is cut with a visible mark (rust_xlsxwriter refuses it otherwise,
/// failing the whole workbook). A literal `_xHHHH_` needs nothing here: rust_xlsxwriter writes it
/// as `_x005F_xHHHH_` itself, and a test reads it back.
pub(super) fn cell_text(s: &str) -> Cow<'_, str> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
