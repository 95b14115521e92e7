//! What Excel checks in a workbook and LibreOffice, openpyxl and calamine let pass: every XML
//! part well-formed, and in each sheet the rows strictly ascending and each row's cells strictly
//! ascending and on that row. A row written twice or out of order makes Excel call the file
//! corrupt and offer to "repair" it.

use std::io::Read;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Every problem found in the workbook at `path` (empty when it is sound), each naming the part.
/// Also returns how many sheet parts were checked, so a caller can tell an empty check.
pub fn problems(path: &Path) -> (Vec<String>, usize) {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut out = Vec::new();
    let mut sheets = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_owned();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let mut xml = String::new();
        if let Err(e) = entry.read_to_string(&mut xml) {
            out.push(format!("{name}: not UTF-8 text: {e}"));
            continue;
        }
        let is_sheet = name.starts_with("xl/worksheets/sheet");
        sheets += usize::from(is_sheet);
        out.extend(
            part_problems(&xml, is_sheet)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    (out, sheets)
}

/// Problems of one XML part; `sheet` adds the row and cell order checks.
pub fn part_problems(xml: &str, sheet: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut roots) = (0usize, 0usize);
    let mut last_row: Option<u32> = None;
    let mut row: Option<u32> = None;
    let mut last_col: Option<u32> = None;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                out.push(format!(
                    "not well-formed at byte {}: {e}",
                    reader.error_position()
                ));
                return out;
            }
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        if depth == 0 {
            roots += 1;
        }
        if !empty {
            depth += 1;
        }
        if !sheet {
            continue;
        }
        match e.local_name().as_ref() {
            "row" => {
                let Some(r) = attr(&e, "r").and_then(|r| r.parse::<u32>().ok()) else {
                    out.push("a <row> without a number".into());
                    continue;
                };
                if let Some(prev) = last_row
                    && r <= prev
                {
                    out.push(format!("row {r} after row {prev}"));
                }
                last_row = Some(r);
                row = Some(r);
                last_col = None;
            }
            "c" => {
                let Some((col, r)) = attr(&e, "r").as_deref().and_then(cell_ref) else {
                    out.push("a <c> without a reference".into());
                    continue;
                };
                if Some(r) != row {
                    out.push(format!("cell of row {r} inside row {row:?}"));
                }
                if let Some(prev) = last_col
                    && col <= prev
                {
                    out.push(format!("row {r}: column {col} after column {prev}"));
                }
                last_col = Some(col);
            }
            _ => {}
        }
    }
    if depth != 0 {
        out.push(format!("{depth} element(s) not closed"));
    }
    if roots != 1 {
        out.push(format!("{roots} root elements"));
    }
    out
}

/// An attribute's raw value (row and cell references hold no escapes).
fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| a.value.to_string())
}

/// "AB12" -> (column 28, row 12), 1-based.
fn cell_ref(s: &str) -> Option<(u32, u32)> {
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = s.split_at(split);
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let col = letters
        .bytes()
        .fold(0u32, |n, b| n * 26 + u32::from(b - b'A' + 1));
    Some((col, digits.parse().ok()?))
}

#[test]
fn the_check_finds_a_row_written_twice_cells_out_of_order_and_broken_xml() {
    let good = r#"<worksheet><sheetData><row r="1"><c r="A1"/><c r="B1"/></row><row r="3"><c r="AA3"/></row></sheetData></worksheet>"#;
    assert_eq!(part_problems(good, true), Vec::<String>::new());
    let twice = r#"<worksheet><sheetData><row r="871"><c r="A871"/></row><row r="871" ht="32.25"/></sheetData></worksheet>"#;
    assert_eq!(part_problems(twice, true), ["row 871 after row 871"]);
    let cells = r#"<worksheet><sheetData><row r="2"><c r="C2"/><c r="B2"/><c r="B3"/></row></sheetData></worksheet>"#;
    assert_eq!(
        part_problems(cells, true),
        [
            "row 2: column 2 after column 3",
            "cell of row 3 inside row Some(2)",
            "row 3: column 2 after column 2"
        ]
    );
    assert!(part_problems("<a><b></a>", false)[0].starts_with("not well-formed"));
    assert_eq!(part_problems("<a><b/>", false), ["1 element(s) not closed"]);
}
