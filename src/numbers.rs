//! Whole numbers as units type them: real numbers, or text in Vietnamese style ("1.250").

/// What a value cell holds, judged against "a non-negative whole number".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// A real number cell holding a whole number >= 0.
    Number(u64),
    /// Text that reads unambiguously as a whole number ("20", "1.250", "1 250").
    Text(u64),
    /// Anything else, with the Vietnamese reason.
    Bad(String),
}

pub fn number(n: f64) -> Count {
    if !n.is_finite() {
        return Count::Bad("không phải là số hợp lệ".into());
    }
    if n < 0.0 {
        return Count::Bad(format!(
            "số âm ({}) không hợp lệ; số liệu phải là số nguyên không âm",
            fmt_plain(n)
        ));
    }
    if n.fract() != 0.0 {
        return Count::Bad(format!(
            "{} là số thập phân; số liệu phải là số nguyên (số hội nghị, số người, số tin bài...)",
            fmt_plain(n)
        ));
    }
    if n > 1e15 {
        return Count::Bad(format!("{} quá lớn, không hợp lý", fmt_plain(n)));
    }
    Count::Number(n as u64)
}

fn fmt_plain(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}").replace('.', ",")
    }
}

pub fn text(raw: &str) -> Count {
    // Spaces of every kind people paste (non-breaking, thin) count as group separators or padding.
    let s: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Count::Number(0);
    }
    let quoted = format!("\"{}\"", raw.trim());
    if let Some(rest) = s.strip_prefix('-')
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == ' ')
    {
        return Count::Bad(format!(
            "số âm ({quoted}) không hợp lệ; số liệu phải là số nguyên không âm"
        ));
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return parse_digits(s, &quoted);
    }
    // Thousands grouped by "." (Vietnamese) or by spaces: 1.250 / 12.500.000 / 1 250.
    for sep in ['.', ' '] {
        let groups: Vec<&str> = s.split(sep).collect();
        if groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
            && groups[1..].iter().all(|g| g.len() == 3)
        {
            return parse_digits(&groups.concat(), &quoted);
        }
    }
    if s.contains(',')
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return Count::Bad(format!(
            "{quoted} có dấu phẩy (dấu thập phân trong cách viết Việt Nam); số liệu phải là số nguyên"
        ));
    }
    if s.contains('.') && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Count::Bad(format!(
            "{quoted} không rõ là số nào (dấu chấm ngăn cách hàng nghìn phải theo từng nhóm 3 chữ số, ví dụ 1.250)"
        ));
    }
    Count::Bad(format!(
        "{quoted} không phải là số; chỉ ghi chữ số, ví dụ 20 hoặc 1.250"
    ))
}

fn parse_digits(digits: &str, quoted: &str) -> Count {
    match digits.parse::<u64>() {
        Ok(n) if n <= 1_000_000_000_000_000 => Count::Text(n),
        _ => Count::Bad(format!("{quoted} quá lớn, không hợp lý")),
    }
}

/// Format with Vietnamese thousands separators: 1250 -> "1.250".
pub fn vi(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::read::{CellValue, count};

    fn t(s: &str) -> Count {
        count(Some(&CellValue::Text(s.into())))
    }

    fn n(x: f64) -> Count {
        count(Some(&CellValue::Number(x)))
    }

    #[test]
    fn blank_is_zero() {
        assert_eq!(count(None), Count::Number(0));
        assert_eq!(t("   "), Count::Number(0));
    }

    #[test]
    fn real_numbers() {
        assert_eq!(n(12.0), Count::Number(12));
        assert_eq!(n(0.0), Count::Number(0));
        assert!(matches!(n(-3.0), Count::Bad(m) if m.contains("số âm (-3)")));
        assert!(matches!(n(2.5), Count::Bad(m) if m.contains("2,5 là số thập phân")));
    }

    #[test]
    fn vietnamese_text_numbers_are_accepted_as_text() {
        assert_eq!(t("1.250"), Count::Text(1250));
        assert_eq!(t("12.500.000"), Count::Text(12_500_000));
        assert_eq!(t("20"), Count::Text(20));
        assert_eq!(t(" 1 250 "), Count::Text(1250));
        assert_eq!(t("1\u{a0}250"), Count::Text(1250));
    }

    #[test]
    fn what_is_not_a_whole_number_is_refused_with_a_reason() {
        assert!(
            matches!(t("khoảng 20"), Count::Bad(m) if m.contains("\"khoảng 20\" không phải là số"))
        );
        assert!(matches!(t("mười hai"), Count::Bad(m) if m.contains("không phải là số")));
        assert!(matches!(t("-3"), Count::Bad(m) if m.contains("số âm")));
        assert!(matches!(t("2,5"), Count::Bad(m) if m.contains("dấu phẩy")));
        assert!(matches!(t("1.25"), Count::Bad(m) if m.contains("không rõ")));
        assert!(matches!(t("12.50.000"), Count::Bad(_)));
        assert!(
            matches!(count(Some(&CellValue::Error("#DIV/0!".into()))), Count::Bad(m) if m.contains("#DIV/0!"))
        );
    }

    #[test]
    fn formats_with_dots() {
        assert_eq!(vi(0), "0");
        assert_eq!(vi(999), "999");
        assert_eq!(vi(1250), "1.250");
        assert_eq!(vi(12_500_000), "12.500.000");
    }
}
