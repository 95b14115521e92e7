//! "Tình hình nộp báo cáo": every unit, its status, its file, who prepared it and their phone.

use rust_xlsxwriter::{ColNum, RowNum, Worksheet, XlsxError};

use super::style::{
    NAME_WIDTH, Widths, cell_text, header_lines_in, header_row, lines_in, page_setup, set_lines,
};
use super::{Cx, SHEET_FILES, SHEET_STATUS};
use crate::pipeline::consolidate::{UnitRow, UnitStatus};

impl Cx<'_> {
    pub(super) fn status(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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
}

/// A date written dd/mm/yyyy, as a date; `None` for anything that would not read back the same.
fn as_date(t: &str) -> Option<chrono::NaiveDate> {
    let d = chrono::NaiveDate::parse_from_str(t.trim(), "%d/%m/%Y").ok()?;
    (d.format("%d/%m/%Y").to_string() == t.trim()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;
    use calamine::Data;

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
}
