//! What a unit's report holds, as `validate` reads it and `consolidate` adds it up: its figures
//! and its activity rows (packed, so a million rows cost their text and a few bytes each, and
//! cross the read worker's pipe as two buffers).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Figures of one report or one total: `values[indicator][value_column]`, in form order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Figures {
    pub values: Vec<Vec<u64>>,
}

impl Figures {
    pub fn zero(indicators: usize, value_columns: usize) -> Figures {
        Figures {
            values: vec![vec![0; value_columns]; indicators],
        }
    }

    pub fn get(&self, indicator: usize, value: usize) -> u64 {
        self.values[indicator][value]
    }

    pub fn add(&mut self, other: &Figures) {
        for (row, orow) in self.values.iter_mut().zip(&other.values) {
            for (v, o) in row.iter_mut().zip(orow) {
                *v += o;
            }
        }
    }
}

/// One cell of an activity row, typed by the form's column declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ActivityValue {
    Empty,
    Text(String),
    Date(NaiveDate),
    Count(u64),
}

/// One activity of one accepted report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Row number (1-based) in the unit's sheet, to trace it back.
    pub source_row: u32,
    /// One value per `Form::activities.columns`, in declaration order.
    pub values: Vec<ActivityValue>,
}

/// A borrowed cell of a packed activity row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Empty,
    Text(&'a str),
    Date(NaiveDate),
    Count(u64),
}

impl Value<'_> {
    pub fn to_owned(self) -> ActivityValue {
        match self {
            Value::Empty => ActivityValue::Empty,
            Value::Text(t) => ActivityValue::Text(t.to_owned()),
            Value::Date(d) => ActivityValue::Date(d),
            Value::Count(n) => ActivityValue::Count(n),
        }
    }
}

const TAG_EMPTY: u8 = 0;
const TAG_TEXT: u8 = 1;
const TAG_DATE: u8 = 2;
const TAG_COUNT: u8 = 3;

/// The activity rows of one report, packed: all texts in one `String`, everything else in one
/// byte buffer (per row the source row as u32, then per value a tag byte and its payload:
/// text: u32 length in `text`; date: i32 days; count: u64; little-endian). A million rows as
/// `Vec<Activity>` of `String`s took about 0.7 KB each; packed they take their text plus a few
/// bytes, and moving a unit's rows is moving three vectors.
#[derive(Clone, Default, PartialEq)]
pub struct Activities {
    text: String,
    data: Vec<u8>,
    /// Where each row starts in `data` and in `text`.
    starts: Vec<(usize, usize)>,
}

impl Activities {
    pub fn new() -> Activities {
        Activities::default()
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.data.clear();
        self.starts.clear();
    }

    pub fn push(&mut self, source_row: u32, values: &[ActivityValue]) {
        self.starts.push((self.data.len(), self.text.len()));
        self.data.extend_from_slice(&source_row.to_le_bytes());
        for v in values {
            match v {
                ActivityValue::Empty => self.data.push(TAG_EMPTY),
                ActivityValue::Text(t) => {
                    self.data.push(TAG_TEXT);
                    self.data.extend_from_slice(&(t.len() as u32).to_le_bytes());
                    self.text.push_str(t);
                }
                ActivityValue::Date(d) => {
                    self.data.push(TAG_DATE);
                    self.data
                        .extend_from_slice(&d.num_days_from_ce().to_le_bytes());
                }
                ActivityValue::Count(n) => {
                    self.data.push(TAG_COUNT);
                    self.data.extend_from_slice(&n.to_le_bytes());
                }
            }
        }
    }

    pub fn get(&self, i: usize) -> Option<ActivityRef<'_>> {
        let (data, text) = *self.starts.get(i)?;
        let (data_end, text_end) = self
            .starts
            .get(i + 1)
            .copied()
            .unwrap_or((self.data.len(), self.text.len()));
        let row = &self.data[data..data_end];
        Some(ActivityRef {
            source_row: u32::from_le_bytes(row[..4].try_into().expect("4 bytes")),
            packed: &row[4..],
            text: &self.text[text..text_end],
        })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = ActivityRef<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    /// Write the packed form (for the read workers' replies): lengths as u64, then the bytes.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        w.write_all(&(self.text.len() as u64).to_le_bytes())?;
        w.write_all(self.text.as_bytes())?;
        w.write_all(&(self.data.len() as u64).to_le_bytes())?;
        w.write_all(&self.data)?;
        w.write_all(&(self.starts.len() as u64).to_le_bytes())?;
        for (d, t) in &self.starts {
            w.write_all(&(*d as u64).to_le_bytes())?;
            w.write_all(&(*t as u64).to_le_bytes())?;
        }
        Ok(())
    }

    /// Read what [`Activities::write_to`] wrote, checking that it is consistent (a reply from
    /// a worker is trusted no further than that).
    pub fn read_from(r: &mut impl std::io::Read) -> std::io::Result<Activities> {
        fn invalid(what: &str) -> std::io::Error {
            std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
        }
        fn u64_of(r: &mut impl std::io::Read) -> std::io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn bytes_of(r: &mut impl std::io::Read, len: u64) -> std::io::Result<Vec<u8>> {
            use std::io::Read;
            let mut v = Vec::new();
            r.by_ref().take(len).read_to_end(&mut v)?;
            if v.len() as u64 != len {
                return Err(invalid("truncated activities"));
            }
            Ok(v)
        }
        let len = u64_of(r)?;
        let text =
            String::from_utf8(bytes_of(r, len)?).map_err(|_| invalid("activity text not UTF-8"))?;
        let len = u64_of(r)?;
        let data = bytes_of(r, len)?;
        let n = u64_of(r)?;
        let mut starts = Vec::with_capacity(n.min(1 << 20) as usize);
        for _ in 0..n {
            starts.push((u64_of(r)? as usize, u64_of(r)? as usize));
        }
        let out = Activities { text, data, starts };
        out.check().map_err(|e| invalid(&e))?;
        Ok(out)
    }

    /// Every row decodes within its bounds, its texts on character boundaries.
    fn check(&self) -> Result<(), String> {
        let mut prev = (0, 0);
        for (i, &(d, t)) in self.starts.iter().enumerate() {
            let (d_end, t_end) = self
                .starts
                .get(i + 1)
                .copied()
                .unwrap_or((self.data.len(), self.text.len()));
            if d < prev.0 || t < prev.1 || d_end < d || t_end < t || d + 4 > d_end {
                return Err(format!("activity row {i} out of bounds"));
            }
            if d_end > self.data.len() || t_end > self.text.len() || !self.text.is_char_boundary(t)
            {
                return Err(format!("activity row {i} out of bounds"));
            }
            let (mut rest, mut text) = (&self.data[d + 4..d_end], t_end - t);
            let mut at = t;
            while let Some((&tag, more)) = rest.split_first() {
                let need = match tag {
                    TAG_EMPTY => 0,
                    TAG_TEXT | TAG_DATE => 4,
                    TAG_COUNT => 8,
                    _ => return Err(format!("activity row {i}: unknown tag {tag}")),
                };
                if more.len() < need {
                    return Err(format!("activity row {i} truncated"));
                }
                match tag {
                    TAG_TEXT => {
                        let len = u32::from_le_bytes(more[..4].try_into().expect("4")) as usize;
                        if len > text || !self.text.is_char_boundary(at + len) {
                            return Err(format!("activity row {i}: bad text length"));
                        }
                        text -= len;
                        at += len;
                    }
                    TAG_DATE => {
                        let days = i32::from_le_bytes(more[..4].try_into().expect("4"));
                        if NaiveDate::from_num_days_from_ce_opt(days).is_none() {
                            return Err(format!("activity row {i}: bad date"));
                        }
                    }
                    _ => {}
                }
                rest = &more[need..];
            }
            if text != 0 {
                return Err(format!("activity row {i}: text left over"));
            }
            prev = (d, t);
        }
        Ok(())
    }

    /// The rows as owned values (tests, small reports).
    pub fn to_vec(&self) -> Vec<Activity> {
        self.iter().map(|a| a.to_owned()).collect()
    }
}

impl From<Vec<Activity>> for Activities {
    fn from(rows: Vec<Activity>) -> Activities {
        rows.into_iter().collect()
    }
}

impl FromIterator<Activity> for Activities {
    fn from_iter<I: IntoIterator<Item = Activity>>(rows: I) -> Activities {
        let mut out = Activities::new();
        for a in rows {
            out.push(a.source_row, &a.values);
        }
        out.text.shrink_to_fit();
        out.data.shrink_to_fit();
        out.starts.shrink_to_fit();
        out
    }
}

impl std::fmt::Debug for Activities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|a| a.to_owned()))
            .finish()
    }
}

impl Serialize for Activities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|a| a.to_owned()))
    }
}

/// One packed activity row.
#[derive(Debug, Clone, Copy)]
pub struct ActivityRef<'a> {
    /// Row number (1-based) in the unit's sheet.
    pub source_row: u32,
    packed: &'a [u8],
    text: &'a str,
}

impl<'a> ActivityRef<'a> {
    /// The values, one per `Form::activities.columns`, in declaration order.
    pub fn values(&self) -> Values<'a> {
        Values {
            rest: self.packed,
            text: self.text,
        }
    }

    pub fn to_owned(&self) -> Activity {
        Activity {
            source_row: self.source_row,
            values: self.values().map(Value::to_owned).collect(),
        }
    }
}

/// The values of a packed row.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    rest: &'a [u8],
    text: &'a str,
}

impl<'a> Iterator for Values<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        let (value, rest) = match tag {
            TAG_TEXT => {
                let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                let (text, more) = self.text.split_at(len);
                self.text = more;
                (Value::Text(text), &rest[4..])
            }
            TAG_DATE => {
                let days = i32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
                let date = NaiveDate::from_num_days_from_ce_opt(days).expect("packed from a date");
                (Value::Date(date), &rest[4..])
            }
            TAG_COUNT => {
                let n = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
                (Value::Count(n), &rest[8..])
            }
            _ => (Value::Empty, rest),
        };
        self.rest = rest;
        Some(value)
    }
}
