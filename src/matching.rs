//! Which unit a text names: file names, folder names and the `Đơn vị báo cáo` cell, matched
//! against the roster's names and aliases on whole words after folding (NFC, đ -> d, no
//! diacritics, no case). The most specific match wins; two units left standing is "ambiguous".

use crate::config::Roster;
use crate::text::fold;

/// The answer of one source of identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitMatch {
    None,
    One(String),
    /// Several units match equally well (ids in roster order).
    Ambiguous(Vec<String>),
}

struct Pattern {
    unit: usize,
    words: Vec<String>,
    chars: usize,
}

/// A matcher built once from the roster.
pub struct UnitMatcher {
    ids: Vec<String>,
    patterns: Vec<Pattern>,
}

impl UnitMatcher {
    pub fn new(roster: &Roster) -> UnitMatcher {
        let mut patterns = Vec::new();
        for (i, unit) in roster.units.iter().enumerate() {
            let names = std::iter::once(&unit.name).chain(&unit.aliases);
            for name in names {
                for variant in [fold(name), fold(&split_camel(name))] {
                    let words: Vec<String> = variant
                        .split(' ')
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if words.is_empty()
                        || patterns
                            .iter()
                            .any(|p: &Pattern| p.unit == i && p.words == words)
                    {
                        continue;
                    }
                    let chars = words.iter().map(String::len).sum();
                    patterns.push(Pattern {
                        unit: i,
                        words,
                        chars,
                    });
                }
            }
        }
        UnitMatcher {
            ids: roster.units.iter().map(|u| u.id.clone()).collect(),
            patterns,
        }
    }

    /// The unit whose id is exactly this folder name (case-insensitive).
    pub fn by_id(&self, folder: &str) -> Option<&str> {
        let f = crate::text::nfc(folder).trim().to_lowercase();
        self.ids.iter().find(|id| **id == f).map(String::as_str)
    }

    /// Which unit a free text names (a file name without extension, or a cell).
    pub fn find(&self, text: &str) -> UnitMatch {
        let mut best = self.find_in(&fold(text));
        let camel = fold(&split_camel(text));
        if best == UnitMatch::None {
            best = self.find_in(&camel);
        }
        best
    }

    fn find_in(&self, folded: &str) -> UnitMatch {
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        // Every occurrence: (unit, start, end, specificity).
        let mut hits: Vec<(usize, usize, usize, (usize, usize))> = Vec::new();
        for p in &self.patterns {
            let n = p.words.len();
            if n > words.len() {
                continue;
            }
            for start in 0..=(words.len() - n) {
                if words[start..start + n]
                    .iter()
                    .zip(&p.words)
                    .all(|(a, b)| *a == b)
                {
                    hits.push((p.unit, start, start + n, (n, p.chars)));
                }
            }
        }
        // A hit inside a more specific overlapping hit is not an answer of its own:
        // "bao lam" inside "bao lam dong" names the newspaper, not the district.
        let standing: Vec<&(usize, usize, usize, (usize, usize))> = hits
            .iter()
            .filter(|h| {
                !hits
                    .iter()
                    .any(|o| o.0 != h.0 && o.1 < h.2 && h.1 < o.2 && o.3 > h.3)
            })
            .collect();
        let mut units: Vec<usize> = standing.iter().map(|h| h.0).collect();
        units.sort_unstable();
        units.dedup();
        match units.as_slice() {
            [] => UnitMatch::None,
            [one] => UnitMatch::One(self.ids[*one].clone()),
            many => UnitMatch::Ambiguous(many.iter().map(|u| self.ids[*u].clone()).collect()),
        }
    }
}

/// "BaoLamDong_T10" -> "Bao Lam Dong_T10": people glue words in file names.
fn split_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    for ch in s.chars() {
        if let Some(p) = prev
            && ch.is_uppercase()
            && p.is_lowercase()
        {
            out.push(' ');
        }
        out.push(ch);
        prev = Some(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn matcher() -> UnitMatcher {
        UnitMatcher::new(&Roster::from_toml(include_str!("../config/roster.toml")).unwrap())
    }

    fn one(id: &str) -> UnitMatch {
        UnitMatch::One(id.into())
    }

    #[test]
    fn bao_lam_district_and_bao_lam_dong_newspaper() {
        let m = matcher();
        assert_eq!(m.find("BaoLam_T11"), one("bao-lam"));
        assert_eq!(m.find("BaoLamDong_T11"), one("bao-lam-dong"));
        assert_eq!(m.find("Bao Lam Dong T11"), one("bao-lam-dong"));
        assert_eq!(m.find("HU Bảo Lâm - BC tháng 11"), one("bao-lam"));
        assert_eq!(m.find("Báo Lâm Đồng"), one("bao-lam-dong"));
        assert_eq!(m.find("Huyện ủy Bảo Lâm"), one("bao-lam"));
        assert_eq!(m.find("bao lam"), one("bao-lam"));
    }

    #[test]
    fn da_lat_da_huoai_da_teh() {
        let m = matcher();
        assert_eq!(m.find("TU Đà Lạt T10-2026"), one("da-lat"));
        assert_eq!(m.find("Huyện ủy Đạ Huoai"), one("da-huoai"));
        assert_eq!(m.find("HU Da Teh"), one("da-teh"));
        assert_eq!(m.find("DaHuoai_T10"), one("da-huoai"));
        assert_eq!(m.find("Đà"), UnitMatch::None);
    }

    #[test]
    fn lam_ha_is_not_lam_dong() {
        let m = matcher();
        assert_eq!(m.find("HU Lâm Hà - BC T10"), one("lam-ha"));
        assert_eq!(m.find("Lâm Đồng"), UnitMatch::None);
    }

    #[test]
    fn d_with_stroke_folds_to_d() {
        let m = matcher();
        assert_eq!(m.find("DUK CCQ - BC T10"), one("khoi-cq"));
        assert_eq!(m.find("ĐUK CCQ - BC T10"), one("khoi-cq"));
        assert_eq!(m.find("HU DUC TRONG"), one("duc-trong"));
    }

    #[test]
    fn nfd_file_names_match_like_nfc() {
        let m = matcher();
        let nfd: String = "HU Đạ Huoai - BC tháng 10".nfd().collect();
        assert_eq!(m.find(&nfd), one("da-huoai"));
        let nfd: String = "BC KL14 - HU Đức Trọng (sửa lần 2)".nfd().collect();
        assert_eq!(m.find(&nfd), one("duc-trong"));
    }

    #[test]
    fn aliases_people_type() {
        let m = matcher();
        assert_eq!(m.find("Đài PT-TH Lâm Đồng"), one("dai-ptth"));
        assert_eq!(m.find("PTTH_T10"), one("dai-ptth"));
        assert_eq!(
            m.find("Đài Phát thanh - Truyền hình Lâm Đồng"),
            one("dai-ptth")
        );
        assert_eq!(m.find("DU Quan su T10"), one("quan-su"));
    }

    #[test]
    fn two_units_named_is_ambiguous_not_a_guess() {
        let m = matcher();
        assert_eq!(
            m.find("Đức Trọng - Lâm Hà"),
            UnitMatch::Ambiguous(vec!["duc-trong".into(), "lam-ha".into()])
        );
        assert_eq!(
            m.find("HU Đức Trọng gửi kèm số liệu HU Di Linh"),
            UnitMatch::Ambiguous(vec!["duc-trong".into(), "di-linh".into()])
        );
    }

    #[test]
    fn names_inside_words_do_not_match() {
        let m = matcher();
        // "lamha" glued into another word, "dilinhx": word boundaries hold.
        assert_eq!(m.find("baocao_T10"), UnitMatch::None);
        assert_eq!(m.find("Book1"), UnitMatch::None);
        assert_eq!(m.find("dilinhx"), UnitMatch::None);
    }

    #[test]
    fn folder_named_by_id() {
        let m = matcher();
        assert_eq!(m.by_id("dai-ptth"), Some("dai-ptth"));
        assert_eq!(m.by_id("DAI-PTTH"), Some("dai-ptth"));
        assert_eq!(m.by_id("2026"), None);
    }
}
