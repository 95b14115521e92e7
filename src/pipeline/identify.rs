//! Identify: which unit sent a file. In order of trust: the subfolder named by a unit id, the
//! `Đơn vị báo cáo` cell, the file name. Unidentifiable or conflicting is a finding, never a guess.
//! Pure: no IO.

use crate::config::Roster;
use crate::finding::{Finding, Severity};
use crate::matching::{UnitMatch, UnitMatcher};
use crate::pipeline::validate::HeaderValue;

/// Decide the unit of a file. `folders` are the folder names between the inbox and the file.
pub fn identify(
    matcher: &UnitMatcher,
    roster: &Roster,
    folders: &[&str],
    stem: &str,
    cell: Option<&HeaderValue>,
) -> Result<String, Finding> {
    let name = |id: &str| {
        roster
            .get(id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let names = |ids: &[String]| ids.iter().map(|i| name(i)).collect::<Vec<_>>().join(", ");

    let folder = folders
        .iter()
        .rev()
        .find_map(|f| matcher.by_id(f))
        .map(str::to_owned);
    let by_cell = cell
        .map(|c| matcher.find(&c.text))
        .unwrap_or(UnitMatch::None);
    let by_name = matcher.find(stem);

    // Sources in order of trust, with how a clerk would name them.
    let cell_desc =
        cell.map(|c| format!("ô \"Đơn vị báo cáo\" ({}) ghi \"{}\"", c.at.a1(), c.text));
    let sources: Vec<(String, &UnitMatch)> = vec![
        (cell_desc.clone().unwrap_or_default(), &by_cell),
        (format!("tên tệp \"{stem}\""), &by_name),
    ];

    let mut chosen: Option<(String, String)> = folder.map(|id| {
        let desc = format!("thư mục \"{id}\"");
        (id, desc)
    });
    for (desc, m) in &sources {
        if let UnitMatch::One(id) = m {
            match &chosen {
                None => chosen = Some((id.clone(), desc.clone())),
                Some((cid, cdesc)) if cid != id => {
                    return Err(Finding::new(
                        Severity::Error,
                        "unit_conflict",
                        format!(
                            "Không xác định được đơn vị: {cdesc} là của {}, nhưng {desc} là {}. Đề nghị kiểm tra lại tệp (có thể dùng nhầm tệp của đơn vị khác).",
                            name(cid),
                            name(id)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if let Some((id, _)) = chosen {
        return Ok(id);
    }
    for (desc, m) in &sources {
        if let UnitMatch::Ambiguous(ids) = m {
            return Err(Finding::new(
                Severity::Error,
                "unit_ambiguous",
                format!(
                    "Không xác định được đơn vị: {desc} khớp với nhiều đơn vị ({}). Đề nghị ghi đúng tên một đơn vị vào ô \"Đơn vị báo cáo\".",
                    names(ids)
                ),
            ));
        }
    }
    let what = match cell {
        Some(c) => format!(
            "ô \"Đơn vị báo cáo\" ({}) ghi \"{}\" không khớp với đơn vị nào trong danh sách",
            c.at.a1(),
            c.text
        ),
        None => "ô \"Đơn vị báo cáo\" để trống hoặc không có".to_owned(),
    };
    Err(Finding::new(
        Severity::Error,
        "unit_unidentified",
        format!(
            "Không xác định được đơn vị gửi tệp: {what}, tên tệp cũng không có tên đơn vị. Đề nghị ghi đúng tên đơn vị vào ô \"Đơn vị báo cáo\" hoặc đặt tệp vào thư mục mang mã của đơn vị."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::read::CellValue;
    use crate::pipeline::validate::CellRef;

    fn roster() -> Roster {
        Roster::from_toml(include_str!("../../config/roster.toml")).unwrap()
    }

    fn cell(text: &str) -> HeaderValue {
        HeaderValue {
            key: "unit".into(),
            text: text.into(),
            at: CellRef {
                sheet: "Chỉ tiêu".into(),
                row: 2,
                col: 3,
            },
            raw: CellValue::Text(text.into()),
        }
    }

    fn id(folders: &[&str], stem: &str, c: Option<&str>) -> Result<String, Finding> {
        let r = roster();
        let m = UnitMatcher::new(&r);
        let hv = c.map(cell);
        identify(&m, &r, folders, stem, hv.as_ref())
    }

    #[test]
    fn folder_then_cell_then_file_name() {
        assert_eq!(
            id(&["dai-ptth"], "bao cao thang 10", None).unwrap(),
            "dai-ptth"
        );
        assert_eq!(
            id(&[], "baocao_T10", Some("Huyện ủy Đạ Tẻh")).unwrap(),
            "da-teh"
        );
        assert_eq!(id(&[], "BaoLam_T10", None).unwrap(), "bao-lam");
        assert_eq!(
            id(&[], "BaoLamDong_T10", Some("Báo Lâm Đồng")).unwrap(),
            "bao-lam-dong"
        );
        // The cell names the unit; the file name names nothing: fine.
        assert_eq!(
            id(&["2026", "thang-10"], "Book1", Some("TU Đà Lạt")).unwrap(),
            "da-lat"
        );
    }

    #[test]
    fn conflicting_sources_are_a_finding_not_a_guess() {
        let f = id(&["da-lat"], "x", Some("Thành ủy Bảo Lộc")).unwrap_err();
        assert_eq!(f.kind, "unit_conflict");
        assert!(
            f.message.contains("Thành ủy Đà Lạt") && f.message.contains("Thành ủy Bảo Lộc"),
            "{}",
            f.message
        );
        let f = id(&[], "HU Di Linh T10", Some("Huyện ủy Lâm Hà")).unwrap_err();
        assert_eq!(f.kind, "unit_conflict");
        assert!(f.message.contains("Chỉ tiêu!D3"), "{}", f.message);
    }

    #[test]
    fn nothing_or_ambiguous_is_unidentified() {
        let f = id(&[], "Book1", None).unwrap_err();
        assert_eq!(f.kind, "unit_unidentified");
        let f = id(&[], "Book1", Some("Huyện ủy")).unwrap_err();
        assert_eq!(f.kind, "unit_unidentified");
        assert!(f.message.contains("\"Huyện ủy\""));
        let f = id(&[], "Đức Trọng - Lâm Hà", None).unwrap_err();
        assert_eq!(f.kind, "unit_ambiguous");
        // An ambiguous file name does not matter when the cell is clear.
        assert_eq!(
            id(&[], "Đức Trọng - Lâm Hà", Some("HU Lâm Hà")).unwrap(),
            "lam-ha"
        );
    }
}
