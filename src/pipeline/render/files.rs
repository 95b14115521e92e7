//! "Tệp đã nhận", the last sheet: every file seen, with its SHA-256 and size, in roster order;
//! the files set aside apart.

use rust_xlsxwriter::{RowNum, Worksheet, XlsxError};

use super::style::{NAME_WIDTH, Widths, cell_text, header_row, lines_in, page_setup, set_lines};
use super::{Cx, SHEET_FILES, UNKNOWN_UNIT};
use crate::finding::counts;
use crate::pipeline::consolidate::{Consolidation, FileOutcome, FileRecord};

impl Cx<'_> {
    /// Every file seen: the units' files in roster order (each unit's oldest first), then files
    /// of no unit; the files set aside without being read (Thumbs.db, lock files) apart, below.
    pub(super) fn files(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;

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
}
