//! The benchmark's lower bound: the least work a consolidation can do. Reads every cell of every
//! sheet of every file in a folder with calamine (`worksheet_range`), and writes the rows under
//! the header of each "Hoạt động" sheet, with the file name in front, into one .xlsx with
//! rust_xlsxwriter (default settings; a new sheet past Excel's row limit). Single-threaded; no
//! checks, no formatting, no summary sheet, no mail.
//!
//!     cargo run --release --example lower_bound -- IN_DIR OUT.xlsx

use calamine::{Data, DataType, Reader, open_workbook_auto};
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};
use std::path::PathBuf;

/// Rows of one worksheet, less the header row.
const ROWS_PER_SHEET: u32 = 1_048_575;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: lower_bound IN_DIR OUT.xlsx");
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(input)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();

    let mut out = Output::new();
    let mut cells_read = 0u64;
    for path in &files {
        let unit = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut wb = open_workbook_auto(path)?;
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name)?;
            let activities = name == "Hoạt động";
            let mut past_header = false;
            for row in range.rows() {
                cells_read += row.iter().filter(|c| !c.is_empty()).count() as u64;
                if !activities || row.iter().all(DataType::is_empty) {
                    continue;
                }
                if !past_header {
                    past_header = matches!(&row[0], Data::String(s) if s == "STT");
                    continue;
                }
                out.row(&unit, row)?;
            }
        }
    }
    out.save(output)?;
    eprintln!(
        "lower_bound: {} files, {cells_read} cells read, {} activity rows written",
        files.len(),
        out.rows_written
    );
    Ok(())
}

/// The output workbook: activity rows, continued on a new sheet past the row limit.
struct Output {
    workbook: Workbook,
    sheet: Worksheet,
    sheets: u32,
    row: u32,
    rows_written: u64,
}

impl Output {
    fn new() -> Output {
        Output {
            workbook: Workbook::new(),
            sheet: Worksheet::new(),
            sheets: 1,
            row: 0,
            rows_written: 0,
        }
    }

    fn row(&mut self, unit: &str, cells: &[Data]) -> Result<(), XlsxError> {
        if self.row == ROWS_PER_SHEET {
            let full = std::mem::replace(&mut self.sheet, Worksheet::new());
            self.workbook.push_worksheet(full);
            self.sheets += 1;
            self.sheet
                .set_name(format!("Hoạt động ({})", self.sheets))?;
            self.row = 0;
        }
        if self.row == 0 {
            if self.sheets == 1 {
                self.sheet.set_name("Hoạt động")?;
            }
            self.sheet.write_string(0, 0, "Đơn vị")?;
        }
        self.row += 1;
        let r = self.row;
        self.sheet.write_string(r, 0, unit)?;
        for (c, v) in cells.iter().enumerate() {
            let c = c as u16 + 1;
            match v {
                Data::String(s) => self.sheet.write_string(r, c, s)?,
                Data::Float(f) => self.sheet.write_number(r, c, *f)?,
                Data::Int(i) => self.sheet.write_number(r, c, *i as f64)?,
                Data::Bool(b) => self.sheet.write_boolean(r, c, *b)?,
                Data::DateTime(d) => self.sheet.write_number(r, c, d.as_f64())?,
                Data::DateTimeIso(s) | Data::DurationIso(s) => self.sheet.write_string(r, c, s)?,
                Data::Error(_) | Data::Empty => continue,
            };
        }
        self.rows_written += 1;
        Ok(())
    }

    fn save(&mut self, path: &str) -> Result<(), XlsxError> {
        let last = std::mem::replace(&mut self.sheet, Worksheet::new());
        self.workbook.push_worksheet(last);
        self.workbook.save(path)
    }
}
