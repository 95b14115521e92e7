//! Vietnamese typed in the legacy TCVN3 (ABC, `.VnTime`) or VNI (`VNI-Times`) fonts: such text
//! reaches us as Latin-1 look-alikes ("HuyÖn ñy L©m Hµ"). A cell is converted only when it holds
//! a character that never occurs in Vietnamese Unicode text (the "signs" of each encoding), so
//! cells already in Unicode are never touched. Pure: no IO.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::finding::{Finding, Severity, a1};
use crate::pipeline::read::{CellValue, SubmittedWorkbook};

#[derive(Deserialize)]
struct Tables {
    signs: HashMap<String, String>,
    tcvn3: HashMap<String, String>,
    vni: HashMap<String, String>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str(include_str!("legacy_encodings.json"))
            .expect("the legacy tables parse")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    Tcvn3,
    Vni,
}

impl Legacy {
    pub fn name(self) -> &'static str {
        match self {
            Legacy::Tcvn3 => "TCVN3 (ABC, phông .VnTime)",
            Legacy::Vni => "VNI (phông VNI-Times)",
        }
    }
}

const TCVN3_SIGN: u8 = 1;
const VNI_SIGN: u8 = 2;

/// For each character below U+0100, which encodings it is a sign of (every sign is a Latin-1
/// look-alike; anything above U+00FF is a sign of neither). Every text cell of every file is
/// looked at, so this is a table, not a search.
fn sign_table() -> &'static [u8; 256] {
    static T: OnceLock<[u8; 256]> = OnceLock::new();
    T.get_or_init(|| {
        let mut table = [0u8; 256];
        for (enc, bit) in [("tcvn3", TCVN3_SIGN), ("vni", VNI_SIGN)] {
            for c in tables()
                .signs
                .get(enc)
                .map(String::as_str)
                .unwrap_or("")
                .chars()
            {
                assert!((c as u32) < 256, "legacy signs are Latin-1 look-alikes");
                table[c as usize] |= bit;
            }
        }
        table
    })
}

fn sign_bits(c: char) -> u8 {
    if (c as u32) < 256 {
        sign_table()[c as usize]
    } else {
        0
    }
}

/// How many characters of `text` betray each encoding.
fn score(text: &str) -> (usize, usize) {
    if text.is_ascii() {
        return (0, 0);
    }
    text.chars().fold((0, 0), |(a, b), c| {
        let bits = sign_bits(c);
        (
            a + (bits & TCVN3_SIGN != 0) as usize,
            b + (bits & VNI_SIGN != 0) as usize,
        )
    })
}

/// Convert one text from a legacy encoding.
pub fn convert(text: &str, enc: Legacy) -> String {
    let t = tables();
    match enc {
        Legacy::Tcvn3 => text
            .chars()
            .map(|c| {
                t.tcvn3
                    .get(c.encode_utf8(&mut [0; 4]) as &str)
                    .cloned()
                    .unwrap_or_else(|| c.to_string())
            })
            .collect(),
        Legacy::Vni => {
            let chars: Vec<char> = text.chars().collect();
            let mut out = String::with_capacity(text.len());
            let mut i = 0;
            while i < chars.len() {
                if i + 1 < chars.len() {
                    let pair: String = chars[i..i + 2].iter().collect();
                    if let Some(u) = t.vni.get(&pair) {
                        out.push_str(u);
                        i += 2;
                        continue;
                    }
                }
                let one = chars[i].to_string();
                out.push_str(t.vni.get(&one).map(String::as_str).unwrap_or(&one));
                i += 1;
            }
            out
        }
    }
}

/// Find text cells typed in a legacy encoding, convert them in place, and say so. The encoding
/// is decided for the whole workbook (the one whose signs are more frequent); only cells that
/// hold one of its signs are converted.
pub fn convert_workbook(wb: &mut SubmittedWorkbook) -> Option<Finding> {
    let (mut t, mut v) = (0, 0);
    for sheet in &wb.sheets {
        for row in &sheet.rows {
            for (_, c) in &row.cells {
                if let CellValue::Text(s) = c {
                    let (a, b) = score(s);
                    t += a;
                    v += b;
                }
            }
        }
    }
    // A stray "©" is not an encoding: ask for a few signs.
    if t < 3 {
        return None;
    }
    // Measured on real text: VNI about 70 % of signs after a vowel, TCVN3 about 20 %.
    let enc = if v * 2 > t {
        Legacy::Vni
    } else {
        Legacy::Tcvn3
    };
    let bit = if enc == Legacy::Tcvn3 {
        TCVN3_SIGN
    } else {
        VNI_SIGN
    };
    let mut converted = 0usize;
    let mut example: Option<(String, String, String)> = None;
    for sheet in &mut wb.sheets {
        for row in &mut sheet.rows {
            for (col, c) in &mut row.cells {
                if let CellValue::Text(s) = c
                    && s.chars().any(|ch| sign_bits(ch) & bit != 0)
                {
                    let new = convert(s, enc);
                    if example.is_none() {
                        example = Some((
                            format!("{}!{}", sheet.name, a1(row.index, *col)),
                            s.clone(),
                            new.clone(),
                        ));
                    }
                    *s = new;
                    converted += 1;
                }
            }
        }
    }
    let (at, before, after) = example?;
    let short = |s: &str| s.chars().take(40).collect::<String>();
    Some(Finding::new(
        Severity::Warning,
        "legacy_encoding",
        format!(
            "Tệp gõ bằng phông chữ cũ {} ở {converted} ô (ví dụ {at}: \"{}\" → \"{}\"); chương trình đã chuyển sang Unicode. Đề nghị đơn vị dùng phông Unicode (Times New Roman, Arial) và kiểm tra lại nội dung.",
            enc.name(),
            short(&before),
            short(&after)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::read::{Format, Sheet};

    #[test]
    fn tcvn3_and_vni_unit_names_convert() {
        assert_eq!(convert("HuyÖn ñy L©m Hµ", Legacy::Tcvn3), "Huyện ủy Lâm Hà");
        assert_eq!(
            convert("Huyeän uûy Laâm Haø", Legacy::Vni),
            "Huyện ủy Lâm Hà"
        );
    }

    fn wb(cells: Vec<(u32, u32, &str)>) -> SubmittedWorkbook {
        let cells = cells
            .into_iter()
            .map(|(r, c, t)| (r, c, CellValue::Text(t.into())))
            .collect();
        SubmittedWorkbook {
            format: Format::Xlsx,
            sheets: vec![Sheet::from_cells("Chỉ tiêu", cells)],
            findings: vec![],
        }
    }

    #[test]
    fn a_legacy_workbook_is_converted_cell_by_cell_and_unicode_cells_are_left_alone() {
        let mut w = wb(vec![
            (0, 0, "Đơn vị báo cáo:"),
            (0, 3, "HuyÖn ñy L©m Hµ"),
            (1, 0, "Lâm Hà"),
        ]);
        let f = convert_workbook(&mut w).expect("detected");
        assert_eq!(f.kind, "legacy_encoding");
        assert!(
            f.message.contains("TCVN3") && f.message.contains("Chỉ tiêu!D1"),
            "{}",
            f.message
        );
        assert_eq!(
            w.sheets[0].get(0, 3),
            Some(&CellValue::Text("Huyện ủy Lâm Hà".into()))
        );
        // A Unicode "â" must not become TCVN3's "õ".
        assert_eq!(
            w.sheets[0].get(1, 0),
            Some(&CellValue::Text("Lâm Hà".into()))
        );
        assert_eq!(
            w.sheets[0].get(0, 0),
            Some(&CellValue::Text("Đơn vị báo cáo:".into()))
        );
    }

    #[test]
    fn vni_is_told_from_tcvn3_by_where_the_marks_sit() {
        let mut w = wb(vec![
            (0, 3, "Huyeän uûy Laâm Haø"),
            (1, 3, "Keát quaû noåi baät"),
        ]);
        let f = convert_workbook(&mut w).expect("detected");
        assert!(f.message.contains("VNI"), "{}", f.message);
        assert_eq!(
            w.sheets[0].get(0, 3),
            Some(&CellValue::Text("Huyện ủy Lâm Hà".into()))
        );
        assert_eq!(
            w.sheets[0].get(1, 3),
            Some(&CellValue::Text("Kết quả nổi bật".into()))
        );
    }

    #[test]
    fn unicode_vietnamese_is_not_taken_for_a_legacy_encoding() {
        let mut w = wb(vec![
            (0, 0, "Huyện ủy Lâm Hà"),
            (1, 0, "Số lượt cán bộ, đảng viên tham dự"),
            (2, 0, "Kết quả nổi bật: © 2026 – các mô hình mới"),
        ]);
        assert!(convert_workbook(&mut w).is_none());
    }
}
