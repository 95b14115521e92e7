//! "Hoạt động": one row per activity under a filtered header; "Hoạt động (2)", ... past
//! Excel's row limit.

use rust_xlsxwriter::{ColNum, RowNum, Workbook, XlsxError};

use super::style::{Widths, cell_text, fit_header, header_row, lines_in, page_setup, set_lines};
use super::{Cx, EXCEL_ROWS, SHEET_ACTIVITIES};
use crate::config::form::ColumnType;
use crate::pipeline::consolidate::{UnitStatus, Value};

impl Cx<'_> {
    pub(super) fn activities(&self, wb: &mut Workbook) -> Result<(), XlsxError> {
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

/// A row number typed as text ("1", " 12 "), as a number; `None` for anything that would not
/// read back the same ("01", "1a", "1.0", "").
fn whole_number(t: &str) -> Option<f64> {
    let t = t.trim();
    let n: u32 = t.parse().ok()?;
    (n.to_string() == t).then_some(f64::from(n))
}

#[cfg(test)]
mod tests {
    use super::super::Limits;
    use super::super::tests::*;
    use super::*;
    use calamine::{Data, Reader};

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
    fn duplicate_table_headers_are_numbered() {
        let names = ["Đơn vị", "Ghi chú", "ghi  chú", "", "Đơn vị"].map(String::from);
        assert_eq!(
            unique_headers(&names),
            ["Đơn vị", "Ghi chú", "ghi chú (2)", "Cột 4", "Đơn vị (2)"]
        );
    }
}
