//! Every workbook the program writes (the consolidated report, its sent copy, the
//! supplementary report, the blank form), checked as Excel checks it, and the consolidated one
//! read back for what a leader and the clerk look at: sheet order, print setup, the status
//! sheet's header fields, numbers written as numbers, the file list in roster order.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook, open_workbook_auto};

use crate::support::env::{TestEnv, filled_report};
use crate::support::xlsx;

fn xlsx_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            xlsx_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "xlsx") {
            out.push(p);
        }
    }
}

#[test]
fn every_workbook_written_is_sound_xml_with_rows_and_cells_in_order() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    // A late report, then the supplementary report.
    let new = env.dir.path().join("new");
    fs::create_dir_all(&new).unwrap();
    let f = filled_report(
        &new,
        "HU Dam Rong T10.xlsx",
        "Huyện ủy Đam Rông",
        "Tháng 10/2026",
        "HN=2/10,NG=100/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3",
    );
    fs::copy(&f, env.inbox.join("HU Dam Rong T10.xlsx")).unwrap();
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    let blank = env.dir.path().join("form").join("Biểu mẫu.xlsx");
    fs::create_dir_all(blank.parent().unwrap()).unwrap();
    env.cmd(&["form", "--out", blank.to_str().unwrap()])
        .expect_code(0);

    let mut books = Vec::new();
    // (data/archive holds the units' own files, as received: not ours.)
    for dir in ["out", "data/sent", "form"] {
        xlsx_under(&env.dir.path().join(dir), &mut books);
    }
    let sent: Vec<&PathBuf> = books
        .iter()
        .filter(|p| p.starts_with(env.dir.path().join("data/sent")))
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "the report and the supplement, as sent: {books:?}"
    );
    assert!(books.contains(&blank), "{books:?}");
    assert!(books.len() >= 4, "{books:?}");
    // The attachments of the mails are the workbooks as sent: check those bytes too.
    for eml in TestEnv::emls(&env.outbox) {
        let raw = fs::read(&eml).unwrap();
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        for (i, att) in msg.attachments().enumerate() {
            let p = env.dir.path().join(format!(
                "{}-{i}.xlsx",
                eml.file_stem().unwrap().to_string_lossy()
            ));
            fs::write(&p, att.contents()).unwrap();
            books.push(p);
        }
    }
    assert!(books.len() >= 6, "{books:?}");
    for book in &books {
        let (problems, sheets) = xlsx::problems(book);
        assert!(sheets >= 3, "{}: {sheets} sheets", book.display());
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            book.display(),
            problems.join("\n")
        );
    }
}

/// The cached value of every cell of a sheet, as text, by (row, col).
fn grid(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let (r0, c0) = range.start().unwrap();
    let (h, w) = range.get_size();
    let mut out = vec![vec![String::new(); w + c0 as usize]; h + r0 as usize];
    for (r, c, v) in range.used_cells() {
        out[r + r0 as usize][c + c0 as usize] = match v {
            Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
            Data::DateTime(d) => {
                let t = d.as_datetime().unwrap();
                if t.time() == chrono::NaiveTime::MIN {
                    t.format("%d/%m/%Y").to_string()
                } else {
                    t.format("%d/%m/%Y %H:%M").to_string()
                }
            }
            other => other.to_string(),
        };
    }
    out
}

fn zip_entry(path: &Path, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn attr(tag: &str, key: &str) -> Option<String> {
    let at = tag.find(&format!(" {key}=\""))? + key.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

/// The type size a sheet prints at, fit to one A4 landscape page wide: the smallest font its
/// cells use (styles.xml), times the scale that fits its columns (Excel's pixel widths, 7 px a
/// character at Calibri 11 plus 5) between the margins.
fn printed_points(book: &Path, part: &str) -> f64 {
    let xml = zip_entry(book, part);
    let styles = zip_entry(book, "xl/styles.xml");
    // Fonts, in order, and each cell format's font.
    let fonts_xml = &styles[styles.find("<fonts").unwrap()..styles.find("</fonts>").unwrap()];
    let sizes: Vec<f64> = fonts_xml
        .split("<font>")
        .skip(1)
        .map(|f| {
            attr(&f[f.find("<sz ").unwrap()..], "val")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    let xf_fonts: Vec<usize> = xfs
        .split("<xf ")
        .skip(1)
        .map(|x| attr(&format!(" {x}"), "fontId").unwrap().parse().unwrap())
        .collect();
    let used_min = xml
        .split("<c ")
        .skip(1)
        .filter_map(|c| attr(&format!(" {c}"), "s"))
        .map(|s| sizes[xf_fonts[s.parse::<usize>().unwrap()]])
        .fold(f64::MAX, f64::min);
    // Columns up to the last one used.
    let dim = attr(&xml[xml.find("<dimension").unwrap()..], "ref").unwrap();
    let last = dim.split(':').next_back().unwrap();
    let letters: String = last.chars().take_while(char::is_ascii_uppercase).collect();
    let last_col = letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1));
    let mut widths = vec![64.0_f64; last_col];
    for col in xml.split("<col ").skip(1) {
        let col = format!(" {col}");
        let (min, max): (usize, usize) = (
            attr(&col, "min").unwrap().parse().unwrap(),
            attr(&col, "max").unwrap().parse().unwrap(),
        );
        let w: f64 = attr(&col, "width").unwrap().parse().unwrap();
        for c in min..=max.min(last_col) {
            widths[c - 1] = (w * 7.0).trunc();
        }
    }
    let content: f64 = widths.iter().sum();
    let margins = &xml[xml.find("<pageMargins").unwrap()..];
    let side: f64 = attr(margins, "left").unwrap().parse::<f64>().unwrap()
        + attr(margins, "right").unwrap().parse::<f64>().unwrap();
    let printable = (297.0 / 25.4 - side) * 96.0;
    used_min * (printable / content).min(1.0)
}

#[test]
fn the_report_prints_for_a_leader_and_carries_what_the_clerk_needs() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let s = env.summary("2026-10");
    let book = PathBuf::from(s["workbook"].as_str().unwrap());
    let wb: Xlsx<_> = open_workbook(&book).unwrap();
    let names = wb.sheet_names();
    // What a leader reads first; the long list and the provenance last.
    assert_eq!(
        names,
        [
            "Tổng hợp",
            "Biểu đồ",
            "Tình hình nộp báo cáo",
            "Thuyết minh",
            "Lỗi, cảnh báo",
            "Hoạt động",
            "Tệp đã nhận"
        ]
    );

    // Print setup of every sheet: A4 landscape, one page wide; readable type (>= 9 pt) on the
    // sheets a leader prints; the table headers repeated on every page.
    let workbook_xml = zip_entry(&book, "xl/workbook.xml");
    for (i, name) in names.iter().enumerate() {
        let part = format!("xl/worksheets/sheet{}.xml", i + 1);
        let xml = zip_entry(&book, &part);
        assert!(xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#), "{name}");
        let setup = &xml[xml.find("<pageSetup ").unwrap()..];
        let setup = &setup[..setup.find("/>").unwrap()];
        assert_eq!(attr(setup, "paperSize").as_deref(), Some("9"), "{name}");
        assert_eq!(
            attr(setup, "orientation").as_deref(),
            Some("landscape"),
            "{name}"
        );
        assert_eq!(attr(setup, "fitToHeight").as_deref(), Some("0"), "{name}");
        if i < 5 {
            let pt = printed_points(&book, &part);
            assert!(pt >= 9.0, "{name} prints at {pt:.1} pt");
        }
    }
    for repeat in [
        "'Tổng hợp'!$10:$11",
        "'Tình hình nộp báo cáo'!$1:$1",
        "'Thuyết minh'!$1:$1",
        "'Hoạt động'!$1:$1",
    ] {
        assert!(workbook_xml.contains(repeat), "{repeat}: {workbook_xml}");
    }
    // The same, as openpyxl reads it.
    let out = std::process::Command::new(crate::support::python())
        .arg(crate::support::repo().join("tests/support/read_print_setup.py"))
        .arg(&book)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for sheet in py["sheets"].as_array().unwrap() {
        assert_eq!(sheet["paper"], 9, "{sheet}");
        // One page wide: fitToWidth absent means 1.
        assert!(
            sheet["fit_width"].is_null() || sheet["fit_width"] == 1,
            "{sheet}"
        );
        assert_eq!(sheet["orientation"], "landscape", "{sheet}");
        assert_eq!(sheet["fit_to_page"], true, "{sheet}");
        assert_eq!(sheet["fit_height"], 0, "{sheet}");
    }
    let summary_sheet = &py["sheets"][0];
    assert_eq!(summary_sheet["title_rows"], "$10:$11");
    assert_eq!(summary_sheet["freeze"], "C12");
    assert_eq!(summary_sheet["top_left"], "A10");
    assert_eq!(py["sheets"][2]["title_rows"], "$1:$1");
    assert_eq!(py["stt_types"], serde_json::json!(["int"]));

    // Only the table header of "Tổng hợp" is frozen, not the title block above it.
    let summary_xml = zip_entry(&book, "xl/worksheets/sheet1.xml");
    assert!(
        summary_xml.contains(r#"topLeftCell="A10""#)
            && summary_xml.contains(r#"<pane xSplit="2" ySplit="2" topLeftCell="C12""#),
        "{summary_xml}"
    );

    // The status sheet: Người lập biểu, Số điện thoại, Ngày lập as each unit's file holds them
    // (read here from the file itself, by its labels), and the same in summary.json.
    let status = grid(&book, "Tình hình nộp báo cáo");
    let header = &status[0];
    let col = |label: &str| header.iter().position(|h| h == label).unwrap();
    let (unit_col, file_col) = (col("Đơn vị"), col("Tệp"));
    let fields = [
        ("Người lập biểu", "preparer"),
        ("Số điện thoại", "phone"),
        ("Ngày lập", "date"),
    ];
    let mut checked = 0;
    for u in s["units"].as_array().unwrap() {
        let row = status
            .iter()
            .find(|r| r[unit_col] == u["name"].as_str().unwrap())
            .unwrap();
        if u["status"] == "missing" {
            for (label, key) in fields {
                assert!(u["header"][key].is_null(), "{}: {}", u["id"], u["header"]);
                assert_eq!(row[col(label)], "");
            }
        }
        if u["status"] != "accepted" {
            continue;
        }
        let file = env.inbox.join(u["file"].as_str().unwrap());
        assert_eq!(row[file_col], u["file"].as_str().unwrap());
        let Ok(mut source) = open_workbook_auto(&file) else {
            continue; // an .xls named .xlsx: calamine opens by extension only
        };
        let first = source.sheet_names()[0].clone();
        let sheet = source.worksheet_range(&first).unwrap();
        for (label, key) in fields {
            let in_file = sheet.used_cells().find_map(|(r, c, v)| {
                (v.to_string().trim() == format!("{label}:")).then(|| {
                    (c + 1..sheet.width())
                        .filter_map(|c2| sheet.get((r, c2)))
                        .find(|v| !matches!(v, Data::Empty))
                        .map(|v| match v {
                            Data::DateTime(d) => {
                                d.as_datetime().unwrap().format("%d/%m/%Y").to_string()
                            }
                            other => other.to_string(),
                        })
                })
            });
            let in_file = in_file.flatten().expect(label);
            assert_eq!(row[col(label)], in_file.trim(), "{} {label}", u["id"]);
            assert_eq!(u["header"][key], in_file.trim(), "{} {key}", u["id"]);
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "only {checked} units checked against their files"
    );

    // Activities: the row numbers (STT) are numbers.
    let mut wb: Xlsx<_> = open_workbook(&book).unwrap();
    let acts = wb.worksheet_range("Hoạt động").unwrap();
    let stt = (0..acts.width())
        .find(|&c| acts.get((0, c)) == Some(&Data::String("STT".into())))
        .unwrap();
    let numbers = (1..acts.height())
        .filter(|&r| matches!(acts.get((r, stt)), Some(Data::Float(_))))
        .count();
    let texts: Vec<String> = (1..acts.height())
        .filter_map(|r| match acts.get((r, stt)) {
            Some(Data::String(t)) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(numbers > 800, "{numbers} numeric STT");
    assert!(texts.is_empty(), "STT written as text: {texts:?}");

    // The file list: unit files in roster order, the files set aside apart below them.
    let files = grid(&book, "Tệp đã nhận");
    let roster: Vec<&str> = s["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    let apart = files
        .iter()
        .position(|r| r[0].starts_with("Các tệp bỏ qua"))
        .unwrap();
    let listed: Vec<&Vec<String>> = files[2..apart]
        .iter()
        .filter(|r| !r[0].is_empty())
        .collect();
    let order: Vec<usize> = listed
        .iter()
        .map(|r| roster.iter().position(|n| *n == r[1]).unwrap_or(usize::MAX))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{listed:?}");
    let ignored: Vec<&str> = files[apart + 2..]
        .iter()
        .map(|r| r[4].as_str())
        .filter(|p| !p.is_empty())
        .collect();
    for junk in ["Thumbs.db", "desktop.ini"] {
        assert!(ignored.contains(&junk), "{junk} not apart: {ignored:?}");
        assert!(!listed.iter().any(|r| r[4] == junk), "{junk} among reports");
    }
    let ignored_in_summary = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "ignored")
        .count();
    assert_eq!(ignored.len(), ignored_in_summary);
    assert_eq!(
        listed.len() + ignored.len(),
        s["files"].as_array().unwrap().len()
    );
}
