//! Reporting periods (a month or a quarter), their Vietnamese labels, and their deadlines.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::text::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
}

/// One reporting period: month 1..=12 or quarter 1..=4 of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub kind: PeriodKind,
    pub year: i32,
    /// Month (1..=12) or quarter (1..=4).
    pub index: u32,
}

impl Period {
    pub fn month(year: i32, month: u32) -> Period {
        assert!((1..=12).contains(&month), "month out of range");
        Period {
            kind: PeriodKind::Month,
            year,
            index: month,
        }
    }

    pub fn quarter(year: i32, quarter: u32) -> Period {
        assert!((1..=4).contains(&quarter), "quarter out of range");
        Period {
            kind: PeriodKind::Quarter,
            year,
            index: quarter,
        }
    }

    /// The machine key: `2026-10` or `2026-Q4`. Used on the command line, in file names and JSON.
    pub fn key(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{:04}-{:02}", self.year, self.index),
            PeriodKind::Quarter => format!("{:04}-Q{}", self.year, self.index),
        }
    }

    /// Parse a key as written on the command line: `2026-10`, `2026-Q4` (also `2026-q4`).
    pub fn parse_key(s: &str) -> Option<Period> {
        Period::parse_arg(s).ok()
    }

    /// A period key as the clerk types it (`--period`), or what is wrong with it, in Vietnamese.
    pub fn parse_arg(s: &str) -> Result<Period, String> {
        let form = "cần dạng YYYY-MM (ví dụ 2026-10) hoặc YYYY-Qn (ví dụ 2026-Q4)";
        let (y, rest) = s.trim().split_once('-').ok_or_else(|| form.to_owned())?;
        let year: i32 = y.parse().map_err(|_| form.to_owned())?;
        if !(1900..=9999).contains(&year) {
            return Err(format!("năm {year} nằm ngoài khoảng 1900..9999"));
        }
        if let Some(q) = rest.strip_prefix(['Q', 'q']) {
            let q: u32 = q.parse().map_err(|_| form.to_owned())?;
            if !(1..=4).contains(&q) {
                return Err(format!("không có quý {q} (quý chỉ từ 1 đến 4)"));
            }
            return Ok(Period::quarter(year, q));
        }
        let m: u32 = rest.parse().map_err(|_| form.to_owned())?;
        if !(1..=12).contains(&m) {
            return Err(format!("không có tháng {m} (tháng chỉ từ 1 đến 12)"));
        }
        Ok(Period::month(year, m))
    }

    /// The Vietnamese label: `Tháng 10/2026`, `Quý IV/2026`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("Tháng {}/{}", self.index, self.year),
            PeriodKind::Quarter => format!("Quý {}/{}", roman(self.index), self.year),
        }
    }

    pub fn first_day(&self) -> NaiveDate {
        let month = match self.kind {
            PeriodKind::Month => self.index,
            PeriodKind::Quarter => (self.index - 1) * 3 + 1,
        };
        NaiveDate::from_ymd_opt(self.year, month, 1).expect("valid first day")
    }

    /// The first day after the period.
    pub fn end_exclusive(&self) -> NaiveDate {
        self.next().first_day()
    }

    pub fn last_day(&self) -> NaiveDate {
        self.end_exclusive().pred_opt().expect("a day before")
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        d >= self.first_day() && d < self.end_exclusive()
    }

    pub fn next(&self) -> Period {
        let n = match self.kind {
            PeriodKind::Month => 12,
            PeriodKind::Quarter => 4,
        };
        if self.index == n {
            Period {
                index: 1,
                year: self.year + 1,
                ..*self
            }
        } else {
            Period {
                index: self.index + 1,
                ..*self
            }
        }
    }

    pub fn prev(&self) -> Period {
        let n = match self.kind {
            PeriodKind::Month => 12,
            PeriodKind::Quarter => 4,
        };
        if self.index == 1 {
            Period {
                index: n,
                year: self.year - 1,
                ..*self
            }
        } else {
            Period {
                index: self.index - 1,
                ..*self
            }
        }
    }

    /// The period of this kind that contains a date.
    pub fn containing(kind: PeriodKind, d: NaiveDate) -> Period {
        match kind {
            PeriodKind::Month => Period::month(d.year(), d.month()),
            PeriodKind::Quarter => Period::quarter(d.year(), (d.month() - 1) / 3 + 1),
        }
    }

    /// Parse what a unit types in the `Kỳ báo cáo` cell: "Tháng 10/2026", "10/2026", "T10/2026",
    /// "tháng 10 năm 2026", "Quý IV/2026", "Q4/2026", "quý 4 năm 2026". The kind comes from the
    /// text; a bare "10/2026" is a month.
    pub fn parse_label(text: &str) -> Option<Period> {
        let folded = fold(text);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        // Tokens: split letters from digits ("t10" -> "t", "10"; "q4" -> "q", "4").
        let mut tokens: Vec<String> = Vec::new();
        for w in words {
            let mut cur = String::new();
            let mut cur_digit = None;
            for ch in w.chars() {
                let d = ch.is_ascii_digit();
                if cur_digit.is_some_and(|cd| cd != d) {
                    tokens.push(std::mem::take(&mut cur));
                }
                cur_digit = Some(d);
                cur.push(ch);
            }
            if !cur.is_empty() {
                tokens.push(cur);
            }
        }
        let quarter_words = ["quy", "q"];
        let month_words = ["thang", "t"];
        let is_quarter = tokens.iter().any(|t| quarter_words.contains(&t.as_str()));
        let year = tokens
            .iter()
            .filter_map(|t| t.parse::<i32>().ok())
            .find(|y| (1900..=9999).contains(y))?;
        let before_year: Vec<&String> = tokens
            .iter()
            .take_while(|t| t.parse::<i32>().ok() != Some(year))
            .collect();
        if is_quarter {
            let q = before_year
                .iter()
                .rev()
                .find_map(|t| t.parse::<u32>().ok().or_else(|| roman_value(t)))?;
            return (1..=4).contains(&q).then(|| Period::quarter(year, q));
        }
        let m = before_year
            .iter()
            .rev()
            .find_map(|t| t.parse::<u32>().ok())?;
        let known = before_year
            .iter()
            .all(|t| t.parse::<u32>().is_ok() || month_words.contains(&t.as_str()) || *t == "nam");
        if !known {
            return None;
        }
        (1..=12).contains(&m).then(|| Period::month(year, m))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let key = String::deserialize(d)?;
        Period::parse_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("not a period key: {key:?}")))
    }
}

fn roman(n: u32) -> &'static str {
    ["I", "II", "III", "IV"][(n - 1) as usize]
}

fn roman_value(s: &str) -> Option<u32> {
    match s {
        "i" => Some(1),
        "ii" => Some(2),
        "iii" => Some(3),
        "iv" => Some(4),
        _ => None,
    }
}

/// When reports for a period are due: a day of the month after the period, at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRule {
    /// Day of the month following the period (1..=28).
    pub day: u32,
    pub time: NaiveTime,
}

impl DeadlineRule {
    pub fn deadline<Tz: TimeZone>(&self, period: &Period, tz: &Tz) -> DateTime<Tz> {
        let first = period.end_exclusive();
        let date = first
            .with_day(self.day)
            .expect("deadline day is validated to 1..=28");
        tz.from_local_datetime(&date.and_time(self.time))
            .earliest()
            .expect("a local time that exists")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Ho_Chi_Minh;

    #[test]
    fn labels_people_type() {
        let oct = Some(Period::month(2026, 10));
        for s in [
            "Tháng 10/2026",
            "10/2026",
            "T10/2026",
            "t10-2026",
            "tháng 10 năm 2026",
            "THÁNG 10 / 2026",
            "Thang 10.2026",
            "  10/2026 ",
        ] {
            assert_eq!(Period::parse_label(s), oct, "{s}");
        }
        let q4 = Some(Period::quarter(2026, 4));
        for s in ["Quý IV/2026", "Q4/2026", "quý 4 năm 2026", "QUY IV - 2026"] {
            assert_eq!(Period::parse_label(s), q4, "{s}");
        }
        for s in [
            "",
            "tháng mười",
            "13/2026",
            "Quý V/2026",
            "2026",
            "khoảng tháng 10/2026",
        ] {
            assert_eq!(Period::parse_label(s), None, "{s}");
        }
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(Period::parse_key("2026-10"), Some(Period::month(2026, 10)));
        assert_eq!(Period::parse_key("2026-Q4"), Some(Period::quarter(2026, 4)));
        assert_eq!(Period::month(2026, 1).key(), "2026-01");
        assert_eq!(Period::parse_key("2026-13"), None);
        assert_eq!(Period::parse_key("oct"), None);
        assert_eq!(Period::quarter(2026, 4).label(), "Quý IV/2026");
        assert_eq!(Period::month(2026, 10).label(), "Tháng 10/2026");
    }

    #[test]
    fn a_period_argument_out_of_range_says_which_part() {
        let e = |s: &str| Period::parse_arg(s).unwrap_err();
        assert_eq!(e("2026-13"), "không có tháng 13 (tháng chỉ từ 1 đến 12)");
        assert_eq!(e("2026-Q5"), "không có quý 5 (quý chỉ từ 1 đến 4)");
        assert!(e("10/2026").starts_with("cần dạng YYYY-MM"));
        assert_eq!(Period::parse_arg(" 2026-q4 "), Ok(Period::quarter(2026, 4)));
    }

    #[test]
    fn deadline_is_day_3_at_17_of_next_month() {
        let rule = DeadlineRule {
            day: 3,
            time: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        };
        let d = rule.deadline(&Period::month(2026, 12), &Ho_Chi_Minh);
        assert_eq!(d.to_rfc3339(), "2027-01-03T17:00:00+07:00");
        let q = rule.deadline(&Period::quarter(2026, 3), &Ho_Chi_Minh);
        assert_eq!(q.to_rfc3339(), "2026-10-03T17:00:00+07:00");
    }

    #[test]
    fn period_bounds() {
        let p = Period::month(2026, 2);
        assert_eq!(p.last_day(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert!(p.contains(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()));
        assert!(!p.contains(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
        assert_eq!(
            Period::quarter(2026, 4).last_day(),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }
}
