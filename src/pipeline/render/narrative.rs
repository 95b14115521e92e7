//! "Thuyết minh": the units' narrative blocks side by side.

use std::borrow::Cow;

use rust_xlsxwriter::{ColNum, RowNum, Worksheet, XlsxError};

use super::style::{
    NAME_WIDTH, READABLE_WIDTH, Widths, cell_text, fit_header, lines_in, page_setup, set_lines,
};
use super::{Cx, SHEET_NARRATIVE};
use crate::pipeline::consolidate::UnitStatus;

impl Cx<'_> {
    pub(super) fn narrative(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
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
}

#[cfg(test)]
mod tests {
    use super::super::style::TRUNCATED;
    use super::super::tests::*;
    use super::*;

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

    #[test]
    fn an_overlong_narrative_is_cut_not_a_failed_render() {
        let mut c = sample();
        c.units[0].narrative[0] = "Dài. ".repeat(10_000);
        let (_dir, path) = saved(&c);
        let g = grid(&path, SHEET_NARRATIVE);
        assert!(cell(&g, 1, 3).ends_with(TRUNCATED));
    }
}
