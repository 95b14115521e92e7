//! "Tổng hợp": the title block, the units by group with SUM subtotals, the grand total.

use chrono::{DateTime, Datelike, FixedOffset};
use rust_xlsxwriter::{ColNum, Formula, RowNum, Worksheet, XlsxError};

use super::style::{NAME_WIDTH, lines_in, merge, page_setup, set_lines, text_chars};
use super::{
    Block, Cx, EXCEL_ARGS, SHEET_SUMMARY, SummaryLayout, accepted_figures, blocks, figure,
};
use crate::finding::a1;
use crate::pipeline::consolidate::{UnitRow, UnitStatus};

/// Width of the status column of "Tổng hợp": "Có báo cáo: 13/18" on one line.
const STATUS_WIDTH: f64 = 18.0;

impl Cx<'_> {
    pub(super) fn summary(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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
    use super::super::tests::*;
    use super::*;
    use calamine::Reader;

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
}
