//! Text folding for matching what people type: NFC, diacritics away (đ -> d), case, spaces.

use unicode_normalization::UnicodeNormalization;

/// NFC-normalise a string (file names arrive in NFD from macOS and some SMB clients).
pub fn nfc(s: &str) -> String {
    // Most names are NFC already: the quick check spares composing them again (a status query
    // lists every file of the inbox).
    match unicode_normalization::is_nfc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_owned(),
        _ => s.nfc().collect(),
    }
}

/// Fold a label or name for comparison: NFC, diacritics removed (đ/Đ -> d), lower case,
/// punctuation turned into spaces, runs of whitespace collapsed, trimmed.
///
/// `fold("  Chỉ tiêu: ")` is `"chi tieu"`; `fold("ĐUK-CCQ")` is `"duk ccq"`.
pub fn fold(s: &str) -> String {
    // Fast path: ASCII needs neither normalisation nor transliteration.
    let ascii: std::borrow::Cow<'_, str> = if s.is_ascii() {
        std::borrow::Cow::Borrowed(s)
    } else {
        // deunicode drops control characters: a line break typed with Alt+Enter inside a label
        // ("Kỳ\nnày") would glue its words together ("kynay").
        let spaced: String = s
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        deunicode::deunicode(&nfc(&spaced)).into()
    };
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for ch in ascii.chars() {
        if ch.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Fold a label, then split it into words.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_labels() {
        assert_eq!(fold("  Chỉ tiêu: "), "chi tieu");
        assert_eq!(fold("Đơn vị báo cáo:"), "don vi bao cao");
        assert_eq!(fold("ĐUK-CCQ"), "duk ccq");
        assert_eq!(fold("Lũy kế từ đầu năm"), "luy ke tu dau nam");
        assert_eq!(fold("Luỹ kế từ đầu năm"), "luy ke tu dau nam");
    }

    #[test]
    fn line_breaks_tabs_and_odd_spaces_separate_words() {
        assert_eq!(fold("Kỳ\nnày"), "ky nay");
        assert_eq!(fold("Lũy kế\r\ntừ đầu năm"), "luy ke tu dau nam");
        assert_eq!(fold("Mã\tchỉ  tiêu"), "ma chi tieu");
        assert_eq!(fold("Kỳ báo\u{a0}cáo:"), "ky bao cao");
        assert_eq!(fold("Ghi\nchu"), "ghi chu");
    }

    #[test]
    fn nfd_and_nfc_fold_alike() {
        let nfd: String = "Đạ Tẻh".nfd().collect();
        assert_ne!(nfd, "Đạ Tẻh");
        assert_eq!(fold(&nfd), fold("Đạ Tẻh"));
        assert_eq!(fold(&nfd), "da teh");
    }
}
