//! Read: a file's bytes -> `SubmittedWorkbook` (sheets of non-empty cells), by its content, not
//! its extension. A file that cannot be read becomes a `Finding` in Vietnamese, never an error of
//! the run, and a panic inside a reader is caught.

pub use crate::config::limits::ReadLimits;
use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read as _};

use crate::finding::{Finding, Severity};

pub mod formula;
pub mod legacy;
pub mod worker;

/// What a file really is, judged from its first bytes and its zip directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

impl Format {
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Xlsx => &["xlsx", "xlsm"],
            Format::Xlsb => &["xlsb"],
            Format::Xls => &["xls"],
            Format::Ods => &["ods"],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "Excel 2007+ (.xlsx)",
            Format::Xlsb => "Excel nhị phân (.xlsb)",
            Format::Xls => "Excel 97-2003 (.xls)",
            Format::Ods => "LibreOffice (.ods)",
        }
    }
}

/// One non-empty cell value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CellValue {
    Text(String),
    Number(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    /// An Excel error such as `#DIV/0!`.
    Error(String),
    /// A formula whose result the file does not hold (written by a script and never opened in a
    /// spreadsheet program), without its `=`: "12+3", "SUM(E12:E14)". Its value is unknown until
    /// `formula::evaluate` computes it; it is never read as blank.
    Formula(String),
}

impl CellValue {
    /// The value as a person would read it in the cell (for messages and text columns).
    pub fn display(&self) -> String {
        match self {
            CellValue::Text(s) => s.clone(),
            CellValue::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}").replace('.', ",")
                }
            }
            CellValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            CellValue::DateTime(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    d.format("%d/%m/%Y").to_string()
                } else {
                    d.format("%d/%m/%Y %H:%M").to_string()
                }
            }
            CellValue::Error(e) => e.clone(),
            CellValue::Formula(f) => format!("={f}"),
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            CellValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// A row of non-empty cells, sorted by column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Zero-based row index.
    pub index: u32,
    /// (zero-based column, value), sorted by column.
    pub cells: Vec<(u32, CellValue)>,
}

/// A sheet as read: its name as the unit wrote it, and its non-empty cells by row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    /// Non-empty rows, sorted by index.
    pub rows: Vec<Row>,
    /// Hidden in the workbook (drop-down lists and other machinery of a form, not content).
    #[serde(default)]
    pub hidden: bool,
}

impl Sheet {
    pub fn row(&self, index: u32) -> Option<&Row> {
        self.rows
            .binary_search_by_key(&index, |r| r.index)
            .ok()
            .map(|i| &self.rows[i])
    }

    pub fn get(&self, row: u32, col: u32) -> Option<&CellValue> {
        let r = self.row(row)?;
        r.cells
            .binary_search_by_key(&col, |c| c.0)
            .ok()
            .map(|i| &r.cells[i].1)
    }

    /// Build from (row, col, value) triples in any order; empty texts are dropped.
    pub fn from_cells(name: &str, mut cells: Vec<(u32, u32, CellValue)>) -> Sheet {
        cells.retain(|(_, _, v)| !matches!(v, CellValue::Text(s) if s.trim().is_empty()));
        cells.sort_by_key(|(r, c, _)| (*r, *c));
        let mut rows: Vec<Row> = Vec::new();
        for (r, c, v) in cells {
            match rows.last_mut() {
                Some(last) if last.index == r => {
                    if last.cells.last().is_some_and(|(lc, _)| *lc == c) {
                        continue;
                    }
                    last.cells.push((c, v));
                }
                _ => rows.push(Row {
                    index: r,
                    cells: vec![(c, v)],
                }),
            }
        }
        Sheet {
            name: name.to_owned(),
            rows,
            hidden: false,
        }
    }
}

/// A workbook as read from a unit's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmittedWorkbook {
    pub format: Format,
    pub sheets: Vec<Sheet>,
    /// Findings made while reading (cells past the limits, a wrong extension).
    pub findings: Vec<Finding>,
}

/// Judge a cell that should hold a count. `None` (a blank cell) is 0.
pub fn count(value: Option<&CellValue>) -> crate::numbers::Count {
    match value {
        None => crate::numbers::Count::Number(0),
        Some(CellValue::Number(n)) => crate::numbers::number(*n),
        Some(CellValue::Text(s)) => crate::numbers::text(s),
        Some(CellValue::Bool(_)) => {
            crate::numbers::Count::Bad("giá trị đúng/sai (TRUE/FALSE) không phải là số".into())
        }
        Some(CellValue::DateTime(_)) => {
            crate::numbers::Count::Bad("ô chứa ngày tháng, không phải là số".into())
        }
        Some(CellValue::Error(e)) => {
            crate::numbers::Count::Bad(format!("ô chứa lỗi công thức {e}"))
        }
        // Computed (or refused) by the validator before it gets here; never a number by itself.
        Some(CellValue::Formula(f)) => crate::numbers::Count::Bad(format!(
            "ô có công thức ={f} nhưng tệp không lưu kết quả của công thức"
        )),
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Judge the format from the content. `Err` is the finding that explains what the file is instead.
pub fn sniff(bytes: &[u8]) -> Result<Format, Finding> {
    let unreadable = |m: &str| Finding::new(Severity::Error, "unreadable", m);
    if bytes.is_empty() {
        return Err(unreadable(
            "Tệp rỗng (0 byte): có thể tệp chưa được chép xong hoặc bị lỗi khi lưu. Đề nghị đơn vị gửi lại tệp.",
        ));
    }
    if bytes.starts_with(OLE_MAGIC) {
        // Directory entry names are UTF-16LE; an encrypted OOXML package is an OLE file holding
        // an "EncryptedPackage" stream.
        let needle: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
            return Err(password_finding());
        }
        return Ok(Format::Xls);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(_) => return Err(corrupt_finding()),
        };
        let has = |name: &str| zip.index_for_name(name).is_some();
        if has("xl/workbook.xml") {
            return Ok(Format::Xlsx);
        }
        if has("xl/workbook.bin") {
            return Ok(Format::Xlsb);
        }
        if has("content.xml") {
            let mut mime = String::new();
            if let Ok(mut f) = zip.by_name("mimetype") {
                let _ = f.by_ref().take(100).read_to_string(&mut mime);
            }
            if mime.is_empty() || mime.contains("spreadsheet") {
                return Ok(Format::Ods);
            }
            return Err(unreadable(
                "Tệp là văn bản LibreOffice/OpenDocument chứ không phải bảng tính. Đề nghị đơn vị dùng đúng mẫu bảng tính.",
            ));
        }
        if has("word/document.xml") {
            return Err(unreadable(
                "Tệp là văn bản Word chứ không phải bảng tính Excel. Đề nghị đơn vị dùng đúng mẫu bảng tính.",
            ));
        }
        return Err(unreadable(
            "Tệp nén (zip) không chứa bảng tính Excel hay LibreOffice.",
        ));
    }
    let head = &bytes[..bytes.len().min(512)];
    let lower = String::from_utf8_lossy(head).to_lowercase();
    if lower.contains("urn:schemas-microsoft-com:office:spreadsheet")
        || (lower.contains("<?xml") && lower.contains("<workbook"))
    {
        return Err(unreadable(
            "Tệp là bảng tính dạng \"XML 2003\" (SpreadsheetML), một định dạng cũ chương trình không đọc được. Đề nghị đơn vị mở bằng Excel rồi lưu lại dạng .xlsx.",
        ));
    }
    if lower.contains("<html") || lower.contains("<table") {
        return Err(unreadable(
            "Tệp là trang HTML được đặt đuôi bảng tính (một số phần mềm xuất \"Excel\" theo cách này). Đề nghị đơn vị mở bằng Excel rồi lưu lại dạng .xlsx.",
        ));
    }
    // Text: no NUL byte and valid UTF-8 (a character may be cut at the end of the sample).
    let utf8_ok = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() || e.valid_up_to() + 4 >= head.len(),
    };
    if !head.contains(&0) && utf8_ok {
        return Err(unreadable(
            "Tệp không phải là bảng tính Excel hay LibreOffice mà là tệp văn bản bị đổi đuôi. Đề nghị đơn vị lưu lại đúng định dạng .xlsx bằng Excel.",
        ));
    }
    Err(unreadable(
        "Tệp không phải là bảng tính Excel (.xlsx, .xls) hay LibreOffice (.ods), hoặc đã bị hỏng. Đề nghị đơn vị lưu lại và gửi lại.",
    ))
}

fn bomb_finding(detail: &str) -> Finding {
    Finding::new(
        Severity::Error,
        "zip_bomb",
        format!(
            "Tệp nén có nội dung bất thường ({detail}); đây không phải là một mẫu báo cáo bình thường nên không được đọc. Đề nghị đơn vị lưu lại mẫu bằng Excel rồi gửi lại."
        ),
    )
}

/// Check an Excel 97-2003 file before calamine sees it: the compound file must parse, and no
/// sheet may declare (in its DIMENSIONS record) more rows or cells than the limits allow;
/// calamine reserves memory for the declared rectangle and aborts the process on a crafted one
/// (found by the fuzzer).
pub fn check_xls(bytes: &[u8], limits: &ReadLimits) -> Result<(), Finding> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| corrupt_finding())?;
    let name = ["/Workbook", "/Book", "/WORKBOOK", "/BOOK"]
        .into_iter()
        .find(|n| cf.is_stream(n));
    let Some(name) = name else {
        return Err(corrupt_finding());
    };
    let mut stream = Vec::new();
    cf.open_stream(name)
        .and_then(|mut s| {
            s.by_ref()
                .take(limits.max_file_bytes)
                .read_to_end(&mut stream)
        })
        .map_err(|_| corrupt_finding())?;
    let max_cells = u64::from(limits.max_rows) * u64::from(limits.max_cols.max(256));
    let u16_at = |b: &[u8], k: usize| u32::from(u16::from_le_bytes([b[k], b[k + 1]]));
    let u32_at = |b: &[u8], k: usize| u32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
    let mut pos = 0usize;
    while pos + 4 <= stream.len() {
        let kind = u16_at(&stream, pos);
        let len = u16_at(&stream, pos + 2) as usize;
        let end = (pos + 4 + len).min(stream.len());
        let mut data = stream[pos + 4..end].to_vec();
        pos = end;
        // CONTINUE records extend the one before them, as calamine reads them.
        while pos + 4 <= stream.len() && u16_at(&stream, pos) == 0x003C {
            let l = u16_at(&stream, pos + 2) as usize;
            let e = (pos + 4 + l).min(stream.len());
            data.extend_from_slice(&stream[pos + 4..e]);
            pos = e;
        }
        // Cell records (BLANK, NUMBER, LABEL, BOOLERR, RK, FORMULA, LABELSST, RSTRING, MULRK,
        // MULBLANK) start with row u16, column u16. calamine sizes each sheet's range from the
        // cells it finds, and an .xls has at most 256 columns: a column beyond is a crafted file
        // (a cell at column 65,535 made calamine allocate 135 GB).
        if matches!(
            kind,
            0x0201 | 0x0203 | 0x0204 | 0x0205 | 0x027E | 0x0006 | 0x00FD | 0x00D6 | 0x00BD | 0x00BE
        ) && data.len() >= 4
        {
            let last_col = if matches!(kind, 0x00BD | 0x00BE) && data.len() >= 6 {
                u16_at(&data, data.len() - 2).max(u16_at(&data, 2))
            } else {
                u16_at(&data, 2)
            };
            if last_col > 255 {
                return Err(Finding::new(
                    Severity::Error,
                    "xls_dimensions",
                    format!(
                        "Tệp .xls có ô ở cột thứ {}, ngoài giới hạn 256 cột của định dạng này (tệp bị hỏng hoặc bị sửa); tệp không được đọc. Đề nghị đơn vị mở bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
                        crate::numbers::vi(u64::from(last_col) + 1)
                    ),
                ));
            }
            continue;
        }
        if kind != 0x0200 {
            continue;
        }
        // DIMENSIONS, decoded and sized exactly as calamine does before it reserves memory for
        // the rectangle (including its wrapping arithmetic on reversed bounds).
        let (rf, rl, mut cf, cl) = match data.len() {
            10 => (
                u16_at(&data, 0),
                u16_at(&data, 2),
                u16_at(&data, 4),
                u16_at(&data, 6),
            ),
            14 | 16 => (
                u32_at(&data, 0),
                u32_at(&data, 4),
                u16_at(&data, 8),
                u16_at(&data, 10),
            ),
            _ => continue,
        };
        if 0xFF < cf || cl < cf {
            cf = 0;
        }
        let (rows, cols) = if rl >= 1 && cl >= 1 {
            (
                u64::from((rl - 1).wrapping_sub(rf).wrapping_add(1)),
                u64::from((cl - 1).wrapping_sub(cf).wrapping_add(1)),
            )
        } else {
            (1, 1)
        };
        if rows > u64::from(limits.max_rows) + 1 || rows.saturating_mul(cols) > max_cells {
            return Err(Finding::new(
                Severity::Error,
                "xls_dimensions",
                format!(
                    "Tệp .xls khai báo một trang rộng {} dòng × {} cột, vượt xa mức một báo cáo cần (có thể tệp bị hỏng hoặc bị sửa); tệp không được đọc. Đề nghị đơn vị mở bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
                    crate::numbers::vi(rows),
                    crate::numbers::vi(cols)
                ),
            ));
        }
    }
    Ok(())
}

/// Shared strings a report can need (a million activity rows with a few texts each).
const MAX_SHARED_STRINGS: u64 = 10_000_000;

/// The `uniqueCount` attribute of an `<sst>` element, as calamine reads it.
fn declared_unique_count(xml: &str) -> Option<u64> {
    let sst = xml.find("<sst")?;
    let tag = &xml[sst..xml[sst..].find('>').map(|e| sst + e).unwrap_or(xml.len())];
    let at = tag.find("uniqueCount=")? + "uniqueCount=".len();
    let rest = tag[at..].trim_start_matches(['"', '\'']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    // More digits than a u64 holds is a lie as well.
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

/// How much of each XML part is searched for a DOCTYPE (comments can push it down; past this,
/// calamine refuses unknown entities anyway and nothing is expanded).
const PROLOG_SCAN: usize = 64 * 1024;

/// Check a zip-based workbook before a reader sees it: the number of parts, and the bytes each
/// part really decompresses to (counted, not taken from the headers, which can lie), and no
/// XML part declaring a DOCTYPE (entity expansion: "billion laughs").
pub fn check_zip(bytes: &[u8], limits: &ReadLimits) -> Result<(), Finding> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| corrupt_finding())?;
    if zip.len() > limits.max_zip_entries {
        return Err(bomb_finding(&format!(
            "{} phần, giới hạn {}",
            zip.len(),
            limits.max_zip_entries
        )));
    }
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            // zip's own name for this case, matched as its documentation shows.
            Err(zip::result::ZipError::UnsupportedArchive(
                zip::result::ZipError::PASSWORD_REQUIRED,
            )) => {
                return Err(password_finding());
            }
            Err(_) => return Err(corrupt_finding()),
        };
        let is_xml = entry.name().ends_with(".xml") || entry.name().ends_with(".rels");
        let mut head: Vec<u8> = Vec::new();
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => return Err(corrupt_finding()),
            };
            if is_xml && head.len() < PROLOG_SCAN {
                head.extend_from_slice(&buf[..n.min(PROLOG_SCAN - head.len())]);
            }
            total += n as u64;
            if total > limits.max_unzipped_bytes {
                return Err(bomb_finding(&format!(
                    "giải nén ra hơn {} MB từ tệp {} KB",
                    limits.max_unzipped_bytes >> 20,
                    bytes.len() >> 10
                )));
            }
        }
        if is_xml {
            let text = String::from_utf8_lossy(&head);
            // calamine reserves room for the declared number of shared strings up front (a
            // declared 10^15 aborted the process, found by the fuzzer).
            if let Some(n) = declared_unique_count(&text)
                && n > MAX_SHARED_STRINGS
            {
                return Err(bomb_finding(&format!(
                    "bảng chuỗi khai báo {} chuỗi",
                    crate::numbers::vi(n)
                )));
            }
            if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
                return Err(Finding::new(
                    Severity::Error,
                    "xml_entities",
                    "Tệp chứa khai báo XML bất thường (DOCTYPE/ENTITY), có thể là tệp độc hại; tệp không được đọc. Đề nghị đơn vị lưu lại mẫu bằng Excel rồi gửi lại.",
                ));
            }
        }
    }
    Ok(())
}

fn corrupt_finding() -> Finding {
    Finding::new(
        Severity::Error,
        "unreadable",
        "Tệp bị hỏng hoặc không đầy đủ (có thể bị cắt ngang khi chép) nên không mở được. Đề nghị đơn vị mở lại bằng Excel, lưu lại rồi gửi lại.",
    )
}

fn password_finding() -> Finding {
    Finding::new(
        Severity::Error,
        "password",
        "Tệp có đặt mật khẩu nên không đọc được. Đề nghị đơn vị gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc) rồi gửi lại.",
    )
}

/// Read a workbook from its bytes. `extension` (lower case, no dot) is only used to warn when it
/// does not match the content.
pub fn read_workbook(
    bytes: &[u8],
    extension: &str,
    limits: &ReadLimits,
) -> Result<SubmittedWorkbook, Finding> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Finding::new(
            Severity::Error,
            "too_large",
            format!(
                "Tệp quá lớn ({} MB, giới hạn {} MB). Mẫu báo cáo không cần tệp lớn như vậy; đề nghị đơn vị kiểm tra lại.",
                bytes.len() >> 20,
                limits.max_file_bytes >> 20
            ),
        ));
    }
    let format = sniff(bytes)?;
    if matches!(format, Format::Xlsx | Format::Xlsb | Format::Ods) {
        check_zip(bytes, limits)?;
    }
    if format == Format::Xls {
        check_xls(bytes, limits)?;
    }
    let result = std::panic::catch_unwind(|| read_format(bytes, format, limits));
    let mut wb = match result {
        Ok(Ok(wb)) => wb,
        Ok(Err(f)) => return Err(f),
        Err(_) => {
            return Err(Finding::new(
                Severity::Error,
                "reader_panic",
                "Tệp có cấu trúc bất thường khiến bộ đọc bảng tính gặp lỗi. Đề nghị đơn vị mở bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
            ));
        }
    };
    if !format.extensions().contains(&extension) {
        wb.findings.push(Finding::new(
            Severity::Warning,
            "extension_mismatch",
            format!(
                "Tệp có đuôi .{extension} nhưng nội dung là {}; đã đọc theo nội dung. Đề nghị lưu lại đúng định dạng.",
                format.name()
            ),
        ));
    }
    Ok(wb)
}

fn read_format(
    bytes: &[u8],
    format: Format,
    limits: &ReadLimits,
) -> Result<SubmittedWorkbook, Finding> {
    let mut findings = Vec::new();
    let hidden;
    let mut sheets = match format {
        Format::Xlsx => {
            let mut wb = Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
                calamine::XlsxError::Password => password_finding(),
                other => open_error(&other.to_string()),
            })?;
            hidden = hidden_sheets(&wb);
            let mut sheets = Vec::new();
            for name in wb.sheet_names() {
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut r) => {
                        // With the formulas: a formula saved without its result is not a blank.
                        let next = || {
                            r.next_cell_with_formula().map(|c| {
                                c.map(|c| {
                                    let v = match (convert_ref(&c.value), c.formula) {
                                        (None, Some(f)) => uncomputed(&f),
                                        (v, _) => v,
                                    };
                                    (c.pos, v)
                                })
                            })
                        };
                        sheets.push(stream_sheet(&name, next, limits, &mut findings))
                    }
                    Err(e) => findings.push(sheet_unreadable(&name, &e.to_string())),
                }
            }
            sheets
        }
        Format::Xlsb => {
            let mut wb = Xlsb::new(Cursor::new(bytes)).map_err(|e| match e {
                calamine::XlsbError::Password => password_finding(),
                other => open_error(&other.to_string()),
            })?;
            hidden = hidden_sheets(&wb);
            let mut sheets = Vec::new();
            for name in wb.sheet_names() {
                match wb.worksheet_cells_reader(&name) {
                    Ok(mut r) => {
                        // xlsb formula records always carry their result.
                        let next = || {
                            r.next_cell()
                                .map(|c| c.map(|c| (c.get_position(), convert_ref(c.get_value()))))
                        };
                        sheets.push(stream_sheet(&name, next, limits, &mut findings))
                    }
                    Err(e) => findings.push(sheet_unreadable(&name, &e.to_string())),
                }
            }
            sheets
        }
        Format::Xls => {
            let wb = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
                calamine::XlsError::Password => password_finding(),
                other => open_error(&other.to_string()),
            })?;
            hidden = hidden_sheets(&wb);
            read_ranges(wb, limits, &mut findings, false)
        }
        Format::Ods => {
            let wb = Ods::new(Cursor::new(bytes)).map_err(|e| match e {
                calamine::OdsError::Password => password_finding(),
                other => open_error(&other.to_string()),
            })?;
            hidden = hidden_sheets(&wb);
            read_ranges(wb, limits, &mut findings, true)
        }
    };
    for sheet in &mut sheets {
        sheet.hidden = hidden.contains(&sheet.name);
    }
    // A sheet longer than any report refuses the whole file: no point validating its rows.
    if let Some(f) = findings.iter().find(|f| f.kind == "too_many_rows") {
        return Err(f.clone());
    }
    Ok(SubmittedWorkbook {
        format,
        sheets,
        findings,
    })
}

/// The names of the sheets hidden in the workbook.
fn hidden_sheets<RS: std::io::Read + std::io::Seek>(wb: &impl Reader<RS>) -> Vec<String> {
    wb.sheets_metadata()
        .iter()
        .filter(|m| m.visible != calamine::SheetVisible::Visible)
        .map(|m| m.name.clone())
        .collect()
}

/// Read one sheet cell by cell (xlsx, xlsb), stopping at the row limit: memory stays bounded by
/// the cells kept, not by the sheet's declared dimensions.
fn stream_sheet<E: std::fmt::Display>(
    name: &str,
    mut next: impl FnMut() -> Result<Option<((u32, u32), Option<CellValue>)>, E>,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
) -> Sheet {
    let mut cells = Vec::new();
    let mut cut = Cut::default();
    loop {
        match next() {
            Ok(Some(((r, c), value))) => {
                if let Some(v) = keep(r, c, value, limits, &mut cut) {
                    cells.push((r, c, v));
                }
                if cut.rows {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                findings.push(sheet_unreadable(name, &e.to_string()));
                break;
            }
        }
    }
    cut.report(name, limits, findings);
    Sheet::from_cells(name, cells)
}

/// Read every sheet of an xls or ods workbook. calamine has no streaming reader for these, so
/// each sheet is materialised as a range (isolation of hostile files is the caller's concern).
/// `no_value_is_unknown`: the format tells a formula without a result from one whose result is
/// an empty text (.ods does; .xls does not, see `add_uncomputed`).
fn read_ranges<RS, R>(
    mut wb: R,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
    no_value_is_unknown: bool,
) -> Vec<Sheet>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = match wb.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                findings.push(sheet_unreadable(&name, &e.to_string()));
                continue;
            }
        };
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut cells = Vec::new();
        let mut cut = Cut::default();
        for (r, c, v) in range.used_cells() {
            let (r, c) = (r0 + r as u32, c0 + c as u32);
            if let Some(v) = keep(r, c, convert(v), limits, &mut cut) {
                cells.push((r, c, v));
            }
        }
        cut.report(&name, limits, findings);
        let mut sheet = Sheet::from_cells(&name, cells);
        if let Ok(formulas) = wb.worksheet_formula(&name) {
            let no_value = |r: u32, c: u32| {
                no_value_is_unknown
                    && range
                        .get_value((r, c))
                        .is_none_or(|v| matches!(v, Data::Empty))
            };
            add_uncomputed(&mut sheet, &formulas, limits, no_value);
        }
        sheets.push(sheet);
    }
    sheets
}

/// A formula without a result, as a cell value (`None` for an empty formula text). An .ods
/// formula (`of:=[.A1]*3`) is written as Excel writes it (`A1*3`) when it refers to its own sheet
/// only, so messages show what the unit sees in the cell.
fn uncomputed(formula: &str) -> Option<CellValue> {
    let f = formula.trim();
    let f = match f.strip_prefix("of:") {
        Some(ods) => formula::excel_syntax(ods).unwrap_or_else(|| ods.to_owned()),
        None => f.to_owned(),
    };
    let f = f.strip_prefix('=').unwrap_or(&f).trim();
    (!f.is_empty()).then(|| CellValue::Formula(f.to_owned()))
}

/// xls and ods: the formula cells whose result is blank. An .ods written by a script simply has
/// no value (`no_value` says so: the formula is unknown whatever it is). An .xls formula record
/// always holds a result, and a script that writes none (xlwt) stores an empty text, which Excel
/// also stores for `=IF(A1="","",A1)`: there only a formula that computes to a number is taken
/// for one saved without its result; any other stays blank, as Excel shows it.
fn add_uncomputed(
    sheet: &mut Sheet,
    formulas: &calamine::Range<String>,
    limits: &ReadLimits,
    no_value: impl Fn(u32, u32) -> bool,
) {
    let (r0, c0) = formulas.start().unwrap_or((0, 0));
    let mut found = Vec::new();
    for (r, c, f) in formulas.used_cells() {
        let (r, c) = (r0 + r as u32, c0 + c as u32);
        if r >= limits.max_rows || c >= limits.max_cols || sheet.get(r, c).is_some() {
            continue;
        }
        if let Some(v) = uncomputed(f) {
            found.push((r, c, v, no_value(r, c)));
        }
    }
    if found.is_empty() {
        return;
    }
    let mut cells: Vec<(u32, u32, CellValue)> = sheet
        .rows
        .drain(..)
        .flat_map(|row| row.cells.into_iter().map(move |(c, v)| (row.index, c, v)))
        .collect();
    let probe = Sheet::from_cells(&sheet.name, {
        let mut all = cells.clone();
        all.extend(found.iter().map(|(r, c, v, _)| (*r, *c, v.clone())));
        all
    });
    cells.extend(
        found
            .into_iter()
            .filter(|(_, _, v, unknown)| {
                *unknown
                    || matches!(v, CellValue::Formula(f) if formula::evaluate(f, &probe).is_some())
            })
            .map(|(r, c, v, _)| (r, c, v)),
    );
    *sheet = Sheet::from_cells(&sheet.name, cells);
}

#[derive(Default)]
struct Cut {
    /// Too many cells below the row limit: the sheet is refused.
    rows: bool,
    /// Cells below the row limit (ignored while few).
    far_rows: usize,
    cols: usize,
    texts: usize,
}

/// How many cells beyond the row limit are taken for strays rather than data.
const STRAY_CELLS: usize = 100;

impl Cut {
    fn report(&self, sheet: &str, limits: &ReadLimits, findings: &mut Vec<Finding>) {
        if self.rows {
            // Reading only the first rows would drop activities silently: the file is refused.
            findings.push(Finding::at_sheet(
                Severity::Error,
                "too_many_rows",
                sheet,
                format!(
                    "có dữ liệu vượt quá {} dòng, nhiều hơn mức một báo cáo cần; tệp không được tổng hợp. Đề nghị đơn vị xóa các dòng thừa (hoặc chia báo cáo) rồi gửi lại.",
                    crate::numbers::vi(limits.max_rows as u64)
                ),
            ));
        }
        let stray = if self.rows {
            self.cols
        } else {
            self.cols + self.far_rows
        };
        if stray > 0 {
            findings.push(Finding::at_sheet(
                Severity::Warning,
                "cells_outside_form",
                sheet,
                format!(
                    "có {stray} ô có dữ liệu ở ngoài vùng của mẫu (từ cột {} hoặc từ dòng {} trở đi); các ô này không được đọc.",
                    crate::finding::column_name(limits.max_cols),
                    crate::numbers::vi(u64::from(limits.max_rows) + 1)
                ),
            ));
        }
        if self.texts > 0 {
            findings.push(Finding::at_sheet(
                Severity::Warning,
                "text_too_long",
                sheet,
                format!(
                    "có {} ô chữ dài quá {} ký tự; phần thừa bị cắt bỏ.",
                    self.texts, limits.max_text_chars
                ),
            ));
        }
    }
}

fn keep(
    r: u32,
    c: u32,
    v: Option<CellValue>,
    limits: &ReadLimits,
    cut: &mut Cut,
) -> Option<CellValue> {
    let mut v = v?;
    if r >= limits.max_rows {
        // A few stray cells far down (a cell typed at XFD1048576) are ignored like cells far
        // right; many are a sheet longer than any report: the reading stops.
        cut.far_rows += 1;
        if cut.far_rows > STRAY_CELLS {
            cut.rows = true;
        }
        return None;
    }
    if c >= limits.max_cols {
        cut.cols += 1;
        return None;
    }
    if let CellValue::Text(s) = &mut v
        && s.chars().count() > limits.max_text_chars
    {
        *s = s.chars().take(limits.max_text_chars).collect();
        cut.texts += 1;
    }
    Some(v)
}

/// A workbook calamine could not open for another reason than a password (those are matched by
/// their type where the reader is opened): damaged, whatever the detail says.
fn open_error(detail: &str) -> Finding {
    tracing::debug!(detail, "workbook open failed");
    corrupt_finding()
}

fn sheet_unreadable(sheet: &str, detail: &str) -> Finding {
    tracing::debug!(sheet, detail, "sheet read failed");
    Finding::at_sheet(
        Severity::Error,
        "sheet_unreadable",
        sheet,
        "bị hỏng, không đọc được hết nội dung. Đề nghị đơn vị mở bằng Excel, lưu lại rồi gửi lại.",
    )
}

fn convert_ref(v: &DataRef<'_>) -> Option<CellValue> {
    Some(match v {
        DataRef::Empty => return None,
        DataRef::Int(i) => CellValue::Number(*i as f64),
        DataRef::Float(f) => CellValue::Number(*f),
        DataRef::String(s) => CellValue::Text(s.clone()),
        DataRef::SharedString(s) => CellValue::Text((*s).to_owned()),
        DataRef::Bool(b) => CellValue::Bool(*b),
        DataRef::DateTime(d) => excel_datetime(d),
        DataRef::DateTimeIso(s) => iso_datetime(s),
        DataRef::DurationIso(s) => CellValue::Text(s.clone()),
        DataRef::Error(e) => CellValue::Error(e.to_string()),
    })
}

fn convert(v: &Data) -> Option<CellValue> {
    Some(match v {
        Data::Empty => return None,
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(f) => CellValue::Number(*f),
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(d) => excel_datetime(d),
        Data::DateTimeIso(s) => iso_datetime(s),
        Data::DurationIso(s) => CellValue::Text(s.clone()),
        Data::Error(e) => CellValue::Error(e.to_string()),
    })
}

fn excel_datetime(d: &calamine::ExcelDateTime) -> CellValue {
    match d.is_datetime().then(|| d.as_datetime()).flatten() {
        Some(dt) => CellValue::DateTime(dt),
        None => CellValue::Number(d.as_f64()),
    }
}

fn iso_datetime(s: &str) -> CellValue {
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return CellValue::DateTime(dt);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return CellValue::DateTime(d.and_time(chrono::NaiveTime::MIN));
    }
    CellValue::Text(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Found by the fuzzer: an OLE file on which calamine's compound-file reader panics
    /// (slice index out of range in cfb.rs). The panic must become a finding.
    #[test]
    fn fuzz_calamine_cfb_slice_panic_is_a_finding() {
        let bytes = fixture("fuzz/calamine_cfb_slice_panic.bin");
        let result = read_workbook(&bytes, "xls", &ReadLimits::default());
        let f = result.expect_err("refused");
        assert_eq!(f.severity, Severity::Error);
        assert!(
            matches!(f.kind.as_ref(), "reader_panic" | "unreadable"),
            "{f:?}"
        );
    }

    /// The kind of the finding that refuses a fixture.
    fn refused_kind(name: &str, ext: &str) -> String {
        let f = read_workbook(&fixture(name), ext, &ReadLimits::default()).expect_err("refused");
        assert_eq!(f.severity, Severity::Error);
        f.kind.into_owned()
    }

    /// Found by the fuzzer: an .xls whose DIMENSIONS record declares a rectangle so large that
    /// calamine's reservation for it aborts the process (870 GB). Refused before calamine: its
    /// compound-file structure does not parse in `check_xls`.
    #[test]
    fn fuzz_xls_with_a_huge_declared_dimension_is_refused_before_calamine() {
        assert_eq!(
            refused_kind("fuzz/calamine_xls_huge_reserve.bin", "xls"),
            "unreadable"
        );
    }

    /// Found by the fuzzer on the next run: reversed bounds in a DIMENSIONS record, which
    /// calamine's arithmetic wraps into billions of rows.
    #[test]
    fn fuzz_xls_with_reversed_dimension_bounds_is_refused_before_calamine() {
        assert_eq!(
            refused_kind("fuzz/calamine_xls_huge_reserve_2.bin", "xls"),
            "xls_dimensions"
        );
    }

    /// Found by the fuzzer on the third run: a cell record at column 65,535, from which
    /// calamine sized a 135 GB range.
    #[test]
    fn fuzz_xls_with_a_cell_beyond_column_256_is_refused_before_calamine() {
        assert_eq!(
            refused_kind("fuzz/calamine_xls_cell_far_right.bin", "xls"),
            "xls_dimensions"
        );
    }

    /// Found by the fuzzer (xlsx_sheet_xml): a shared-string table declaring an absurd
    /// `uniqueCount`, for which calamine reserves memory up front and aborts.
    #[test]
    fn fuzz_shared_strings_declaring_an_absurd_count_are_refused_before_calamine() {
        let data = fixture("fuzz/calamine_sst_unique_count.bin");
        assert!(
            declared_unique_count(&String::from_utf8_lossy(&data))
                .is_some_and(|n| n > MAX_SHARED_STRINGS)
        );
        assert_eq!(
            declared_unique_count(r#"<sst xmlns="x" count="3" uniqueCount="2">"#),
            Some(2)
        );
        assert_eq!(declared_unique_count("<sst>"), None);
    }

    #[test]
    fn a_real_xls_passes_the_dimension_check() {
        assert!(check_xls(&fixture("layouts/libreoffice.xls"), &ReadLimits::default()).is_ok());
        assert!(
            read_workbook(
                &fixture("layouts/libreoffice.xls"),
                "xls",
                &ReadLimits::default()
            )
            .is_ok()
        );
    }

    fn read_fixture(name: &str) -> SubmittedWorkbook {
        let ext = name.rsplit('.').next().unwrap();
        read_workbook(&fixture(name), ext, &ReadLimits::default()).unwrap()
    }

    /// Issue 12, point 2: openpyxl writes `<f>1+1</f><v/>`; that is a formula without a
    /// result, not a blank cell (which would count 0).
    #[test]
    fn an_xlsx_formula_without_a_result_is_not_a_blank() {
        let wb = read_fixture("fidelity/formulas.xlsx");
        let ind = &wb.sheets[0];
        assert_eq!(ind.get(10, 4), Some(&CellValue::Formula("1+1".into())));
        assert_eq!(ind.get(10, 5), Some(&CellValue::Formula("E11+8".into())));
        assert_eq!(
            ind.get(14, 4),
            Some(&CellValue::Number(3.0)),
            "plain numbers stay"
        );
        assert_eq!(CellValue::Formula("E11+8".into()).display(), "=E11+8");
    }

    /// An .ods written by a script has no value for its formulas: every one is unknown until
    /// computed. One with its value (as LibreOffice saves) reads as the value.
    #[test]
    fn an_ods_formula_without_a_value_is_not_a_blank() {
        let wb = read_fixture("fidelity/formulas_script.ods");
        let s = &wb.sheets[0];
        assert_eq!(s.get(0, 0), Some(&CellValue::Number(2.0)));
        assert_eq!(s.get(1, 0), Some(&CellValue::Formula("A1*3".into())));
        assert_eq!(formula::evaluate("A1*3", s), Some(6.0));
        assert_eq!(
            s.get(2, 0),
            Some(&CellValue::Formula("VLOOKUP(1,A1:A2,1,0)".into()))
        );
        assert_eq!(s.get(3, 0), Some(&CellValue::Number(2.0)));
    }

    /// xlwt stores an empty text as every formula's result, as Excel does for a formula whose
    /// result is "": a formula that computes to a number is taken for one without a result;
    /// `IF(...,"x","")` stays blank, as Excel would show it.
    #[test]
    fn an_xls_formula_written_without_a_result_is_computed_when_it_can_be() {
        let wb = read_fixture("fidelity/formulas_xlwt.xls");
        let s = &wb.sheets[0];
        assert_eq!(s.get(0, 0), Some(&CellValue::Number(2.0)));
        assert_eq!(s.get(1, 0), Some(&CellValue::Formula("A1*3".into())));
        assert_eq!(s.get(2, 0), None);
    }

    #[test]
    fn hidden_sheets_are_marked() {
        let wb = read_fixture("fidelity/unread_parts.xlsx");
        let hidden: Vec<(&str, bool)> = wb
            .sheets
            .iter()
            .map(|s| (s.name.as_str(), s.hidden))
            .collect();
        assert_eq!(
            hidden,
            [
                ("Chỉ tiêu", false),
                ("Hoạt động", false),
                ("Thuyết minh", false),
                ("Bổ sung", false),
                ("DM", true)
            ]
        );
    }

    #[test]
    fn sniffing_tells_what_a_file_really_is() {
        assert_eq!(sniff(b"").unwrap_err().kind, "unreadable");
        assert!(sniff(b"").unwrap_err().message.contains("0 byte"));
        assert!(
            sniff(b"hello, world\n")
                .unwrap_err()
                .message
                .contains("văn bản")
        );
        assert!(
            sniff(b"<html><table>")
                .unwrap_err()
                .message
                .contains("HTML")
        );
        assert_eq!(
            sniff(&fixture("layouts/libreoffice.xls")).unwrap(),
            Format::Xls
        );
        assert_eq!(
            sniff(&fixture("layouts/libreoffice.ods")).unwrap(),
            Format::Ods
        );
        assert_eq!(
            sniff(&fixture("layouts/standard.xlsx")).unwrap(),
            Format::Xlsx
        );
    }
}
