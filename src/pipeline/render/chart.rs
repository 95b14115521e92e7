//! "Biểu đồ": the reporting by group and one bar chart per main indicator, with their numbers.

use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartFont, ChartFormat, ChartLegendPosition, ChartSolidFill, ChartType,
    ColNum, Color, RowNum, Worksheet, XlsxError,
};

use super::style::{header_lines_in, page_setup, set_lines};
use super::{
    CHART_WIDTH, ChartLayout, Cx, RATE_CHART_HEIGHT, SHEET_CHART, SHEET_SUMMARY, accepted_figures,
    blocks, figure,
};
use crate::pipeline::consolidate::{UnitRow, UnitStatus};

/// The reporting chart's series: a unit's status label and its bar colour.
const STATUS_SERIES: [(&str, u32); 4] = [
    ("Đúng hạn", 0x70AD47),
    ("Nộp muộn", 0xED7D31),
    ("Bị từ chối", REJECTED_BAR),
    ("Chưa nộp", 0xA5A5A5),
];
const REJECTED_BAR: u32 = 0xC00000;
const BAR_COLOR: u32 = 0x4472C4;

impl Cx<'_> {
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
    pub(super) fn chart(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;
    use std::path::Path;

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
}
