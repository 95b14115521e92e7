//! "Lỗi, cảnh báo": every message of the run, with its unit, file, sheet and cell.

use rust_xlsxwriter::{ColNum, RowNum, Worksheet, XlsxError};

use super::style::{NAME_WIDTH, Widths, cell_text, header_row, lines_in, page_setup, set_lines};
use super::{Cx, SHEET_MESSAGES, UNKNOWN_UNIT};
use crate::finding::Severity;

impl Cx<'_> {
    pub(super) fn messages(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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
}

#[cfg(test)]
mod tests {
    use super::super::Limits;
    use super::super::tests::*;
    use super::*;

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
}
