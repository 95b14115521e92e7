//! `tonghop form` -> filled by another tool -> `tonghop check`.
//!
//! The blank form is filled by `tests/support/fill_form.py` (openpyxl), which finds every part by
//! its label, as a person would, and never by a fixed address.

use std::path::Path;
use std::process::{Command, Output};

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use crate::support;

const UNIT: &str = "Huyện ủy Lâm Hà";
const PERIOD_LABEL: &str = "Tháng 10/2026";
const VALUES: &str = "HN=2/10,NG=150/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3";

fn show(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fill(blank: &Path, filled: &Path) {
    let out = Command::new(support::python())
        .arg(support::repo().join("tests/support/fill_form.py"))
        .arg(blank)
        .arg(filled)
        .args(["--unit", UNIT, "--period", PERIOD_LABEL, "--values", VALUES])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show("fill_form.py", &out));
}

#[test]
fn form_written_filled_by_openpyxl_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("form.xlsx");
    let filled = dir.path().join("filled.xlsx");

    let out = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["form", "--out"])
        .arg(&blank)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show("tonghop form", &out));
    assert!(
        blank.is_file(),
        "{}",
        show("tonghop form wrote no file", &out)
    );

    fill(&blank, &filled);

    let out = Command::new(support::bin())
        .current_dir(dir.path())
        .args(["check", "--period", "2026-10"])
        .arg(&filled)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        show("tonghop check", &out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(UNIT), "{}", show("tonghop check", &out));
}

/// The fill script itself, on a form from the library: every value lands where a label-based
/// reader looks for it (first non-empty cell to the right of the label; the row of each code).
#[test]
fn fill_script_puts_values_where_the_labels_say() {
    let form = tonghop::config::Form::from_toml(tonghop::config::EMBEDDED_FORM).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("form.xlsx");
    let filled = dir.path().join("filled.xlsx");
    tonghop::app::form::write_blank_form(&form, None, &blank).unwrap();
    fill(&blank, &filled);

    let mut wb: Xlsx<_> = open_workbook(&filled).unwrap();
    let grid = |wb: &mut Xlsx<_>, name: &str| -> Vec<Vec<Data>> {
        let range = wb.worksheet_range(name).unwrap();
        let (r0, c0) = range.start().unwrap();
        let (r1, c1) = range.end().unwrap();
        (0..=r1)
            .map(|r| {
                (0..=c1)
                    .map(|c| {
                        if r < r0 || c < c0 {
                            Data::Empty
                        } else {
                            range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let is_text = |d: &Data, t: &str| matches!(d, Data::String(s) if s == t);
    let find = |g: &[Vec<Data>], t: &str| -> (usize, usize) {
        let hits: Vec<(usize, usize)> = g
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                row.iter()
                    .enumerate()
                    .filter(|(_, d)| is_text(d, t))
                    .map(move |(c, _)| (r, c))
            })
            .collect();
        assert_eq!(hits.len(), 1, "{t:?} once");
        hits[0]
    };
    let right_of = |g: &[Vec<Data>], (r, c): (usize, usize)| -> Data {
        g[r][c + 1..]
            .iter()
            .find(|d| !matches!(d, Data::Empty))
            .cloned()
            .unwrap_or(Data::Empty)
    };

    let ind = grid(&mut wb, "Chỉ tiêu");
    for (label, want) in [
        ("Đơn vị báo cáo:", UNIT),
        ("Kỳ báo cáo:", PERIOD_LABEL),
        ("Người lập biểu:", "Nguyễn Thị Hồng Nhung"),
        ("Số điện thoại:", "0263 3822 415"),
    ] {
        let got = right_of(&ind, find(&ind, label));
        assert!(is_text(&got, want), "{label} -> {got:?}");
    }
    let made = right_of(&ind, find(&ind, "Ngày lập:"));
    assert_eq!(
        made.as_date(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 2),
        "{made:?}"
    );

    let (hr, code_col) = find(&ind, "Mã chỉ tiêu");
    let ky = find(&ind, "Kỳ này").1;
    let lk = find(&ind, "Lũy kế từ đầu năm").1;
    for part in VALUES.split(',') {
        let (code, v) = part.split_once('=').unwrap();
        let (a, b) = v.split_once('/').unwrap();
        let r = (hr + 1..ind.len())
            .find(|&r| is_text(&ind[r][code_col], code))
            .unwrap_or_else(|| panic!("{code} row"));
        assert_eq!(ind[r][ky], Data::Float(a.parse().unwrap()), "{code} kỳ này");
        assert_eq!(ind[r][lk], Data::Float(b.parse().unwrap()), "{code} lũy kế");
    }

    let act = grid(&mut wb, "Hoạt động");
    let (ahr, _) = find(&act, "Hình thức");
    let rows: Vec<&Vec<Data>> = act[ahr + 1..]
        .iter()
        .take_while(|row| row.iter().any(|d| !matches!(d, Data::Empty)))
        .collect();
    assert_eq!(rows.len(), 3, "three activity rows");
    let period = tonghop::period::Period::month(2026, 10);
    for row in &rows {
        let date = row[1].as_date().expect("a real date cell");
        assert!(period.contains(date), "{date}");
        assert!(
            form.activities.columns[2]
                .choices
                .iter()
                .any(|c| is_text(&row[2], c))
        );
        assert!(
            matches!(&row[3], Data::String(s) if s.contains("Kết luận") || s.contains("cán bộ"))
        );
        assert!(matches!(row[5], Data::Float(n) if n > 0.0));
    }

    let narr = grid(&mut wb, "Thuyết minh");
    for block in &form.narrative {
        let got = right_of(&narr, find(&narr, &block.label));
        assert!(
            matches!(&got, Data::String(s) if !s.is_empty()),
            "{}",
            block.label
        );
    }
    let first = right_of(&narr, find(&narr, "Kết quả nổi bật"));
    assert!(
        matches!(&first, Data::String(s) if s.lines().count() == 2),
        "{first:?}"
    );
}
