//! `{name}` placeholders in configured texts (subjects, file names, titles).

/// Replace each `{key}` by its value; unknown placeholders are left as they are.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A file name safe on every file system the office uses: no path separators, no characters
/// Windows refuses, no leading dots, at most 150 characters.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = crate::text::nfc(name)
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let mut s: String = trimmed.chars().take(150).collect();
    if s.is_empty() {
        s = "tong-hop.xlsx".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders() {
        assert_eq!(
            fill(
                "Tổng hợp {short} {period_key}.xlsx",
                &[("short", "KL14"), ("period_key", "2026-10")]
            ),
            "Tổng hợp KL14 2026-10.xlsx"
        );
        assert_eq!(fill("{x} {y}", &[("x", "1")]), "1 {y}");
    }

    #[test]
    fn file_names_lose_separators() {
        assert_eq!(safe_file_name("../a/b:c.xlsx"), "_a_b_c.xlsx");
        assert_eq!(safe_file_name("  "), "tong-hop.xlsx");
    }
}
