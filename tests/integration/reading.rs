//! Reading what units really send without losing or inventing a value (issue 12, points 1-4):
//! the real binary on the fixtures of tests/fixtures/fidelity/ (made by openpyxl, LibreOffice,
//! xlwt and by hand: scripts/gen_fidelity.py), read back from summary.json and the workbook.

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::env::TestEnv;
use crate::support::repo;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/fidelity").join(name)
}

/// The Lâm Hà figures every fidelity fixture holds, as summary.json writes them.
fn lam_ha() -> Value {
    let mut m = serde_json::Map::new();
    for (code, k, l) in [
        ("HN", 2, 10),
        ("NG", 150, 900),
        ("TB", 5, 40),
        ("TTDT", 3, 20),
        ("MXH", 12, 80),
        ("SH", 4, 30),
        ("PB", 1, 6),
        ("MH", 0, 2),
        ("KT", 1, 3),
    ] {
        m.insert(code.into(), json!({"ky_nay": k, "luy_ke": l}));
    }
    Value::Object(m)
}

/// `tonghop run --dry-run` for October 2026 with `files` in the inbox; the summary.
fn run(files: &[&str], code: i32) -> (TestEnv, Value) {
    let env = TestEnv::new();
    for f in files {
        fs::copy(fixture(f), env.inbox.join(f)).unwrap();
    }
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(code);
    let s = env.summary("2026-10");
    (env, s)
}

fn unit<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()
}

/// The findings of the file as (kind, "sheet!cell", message).
fn findings(s: &Value, path: &str) -> Vec<(String, String, String)> {
    let file = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no file {path}"));
    file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                format!(
                    "{}!{}",
                    f["sheet"].as_str().unwrap_or(""),
                    f["cell"].as_str().unwrap_or("")
                ),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every non-empty cell of a sheet of the consolidated workbook, as text.
fn texts(workbook: &Path, sheet: &str) -> Vec<String> {
    let mut wb: Xlsx<_> = open_workbook(workbook).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range
        .used_cells()
        .map(|(_, _, v)| match v {
            Data::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Point 1: headers and labels typed over two lines (Alt+Enter), with tabs and non-breaking
/// spaces, in the three formats units use: every file is accepted with no message at all.
#[test]
fn check_accepts_headers_and_labels_typed_over_several_lines_in_every_format() {
    let env = TestEnv::new();
    let files: Vec<String> = ["line_breaks.xlsx", "line_breaks.ods", "line_breaks.xls"]
        .iter()
        .map(|f| fixture(f).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["check", "--period", "2026-10"];
    args.extend(files.iter().map(String::as_str));
    let out = env.cmd(&args).expect_code(0);
    assert_eq!(
        out.stdout
            .matches("Kết quả: HỢP LỆ (0 lỗi, 0 cảnh báo)")
            .count(),
        3,
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("Đơn vị: Huyện ủy Lâm Hà").count(),
        3,
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("không tìm thấy"), "{}", out.stdout);
}

/// Point 1, through a run: the LibreOffice .ods counts with its figures.
#[test]
fn run_counts_a_libreoffice_file_with_line_broken_headers() {
    let (_env, s) = run(&["line_breaks.ods"], 0);
    let u = unit(&s, "lam-ha");
    assert_eq!(u["status"], "accepted", "{u}");
    assert_eq!(u["indicators"], lam_ha());
    assert_eq!(u["activity_rows"], 3);
}

/// Point 2: formulas openpyxl saved without their results are computed exactly (never 0),
/// each named in a warning; the unit's figures and activities count.
#[test]
fn run_computes_formulas_saved_without_a_result_and_says_so() {
    let (env, s) = run(&["formulas.xlsx"], 0);
    let u = unit(&s, "lam-ha");
    assert_eq!(u["status"], "accepted", "{u}");
    assert_eq!(u["indicators"], lam_ha());
    assert_eq!(s["totals"]["NG"], json!({"ky_nay": 150, "luy_ke": 900}));
    let f = findings(&s, "formulas.xlsx");
    let cells: Vec<&str> = f
        .iter()
        .filter(|(k, _, _)| k == "formula_computed")
        .map(|(_, c, _)| c.as_str())
        .collect();
    assert_eq!(
        cells,
        [
            "Chỉ tiêu!E11",
            "Chỉ tiêu!F11",
            "Chỉ tiêu!E12",
            "Chỉ tiêu!F12",
            "Chỉ tiêu!E14",
            "Chỉ tiêu!F15",
            "Chỉ tiêu!F16",
            "Chỉ tiêu!F18",
            "Hoạt động!F2",
        ]
    );
    assert!(
        f[6].2
            .contains("ô có công thức =SUM(E16:E17)+64 nhưng tệp không lưu kết quả")
            && f[6].2.contains("đã tự tính được 80"),
        "{}",
        f[6].2
    );
    // The workbook's message sheet carries them, in Vietnamese, with the cell.
    let workbook = Path::new(s["workbook"].as_str().unwrap());
    let messages = texts(workbook, "Lỗi, cảnh báo").join("\n");
    assert!(
        messages.contains("chỉ tiêu MXH (Lũy kế từ đầu năm): ô có công thức =SUM(E16:E17)+64"),
        "{messages}"
    );
    drop(env);
}

/// Point 2: a formula nobody can compute rejects the file, naming each cell and what to do;
/// `check` says the same to the clerk on the phone.
#[test]
fn a_formula_nobody_can_compute_rejects_the_file_naming_the_cell() {
    let (env, s) = run(&["formulas_unknown.xlsx"], 1);
    let u = unit(&s, "lam-ha");
    assert_eq!(u["status"], "rejected", "{u}");
    assert_eq!(
        u["indicators"],
        Value::Null,
        "no figure of a rejected file counts"
    );
    assert_eq!(s["totals"]["TB"], json!({"ky_nay": 0, "luy_ke": 0}));
    let f = findings(&s, "formulas_unknown.xlsx");
    let unknown: Vec<&str> = f
        .iter()
        .filter(|(k, _, _)| k == "formula_unknown")
        .map(|(_, c, _)| c.as_str())
        .collect();
    assert_eq!(unknown, ["Chỉ tiêu!E14", "Chỉ tiêu!F16", "Hoạt động!B4"]);

    let out = env
        .cmd(&[
            "check",
            "--period",
            "2026-10",
            &fixture("formulas_unknown.xlsx").to_string_lossy(),
        ])
        .expect_code(1);
    assert!(
        out.stdout.contains(
            "Lỗi: Chỉ tiêu!E14: chỉ tiêu TB (Kỳ này): ô có công thức =VLOOKUP(\"TB\",$B$11:$E$21,4,FALSE) nhưng tệp không lưu kết quả, nên không biết giá trị của ô này. Đề nghị mở tệp bằng Excel hoặc LibreOffice, lưu lại (để công thức được tính) rồi gửi lại."
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("BỊ TỪ CHỐI"), "{}", out.stdout);
}

/// Point 3: a narrative written one paragraph per row is kept whole in summary.json and in
/// the workbook's narrative sheet.
#[test]
fn a_narrative_over_several_rows_is_kept_whole_in_the_summary_and_the_workbook() {
    let (_env, s) = run(&["narrative_rows.xlsx"], 0);
    let noi_bat = "- Quán triệt Kết luận 14-KL/TW đến 100% cán bộ chủ chốt.\n\
                   - Trang TTĐT huyện đăng 3 tin, bài về gương cán bộ năng động.\n\
                   - Biểu dương 1 cán bộ có sáng kiến trong chuyển đổi số.";
    let kho_khan = "Đội ngũ báo cáo viên cơ sở còn mỏng.\nKinh phí tuyên truyền còn hạn chế.";
    assert_eq!(
        unit(&s, "lam-ha")["narrative"],
        json!({
            "noi_bat": noi_bat,
            "kho_khan": kho_khan,
            "de_xuat": "Đề nghị cung cấp thêm tài liệu tuyên truyền bằng tiếng K'Ho.",
        })
    );
    let workbook = Path::new(s["workbook"].as_str().unwrap());
    let cells = texts(workbook, "Thuyết minh");
    assert!(cells.iter().any(|c| c == noi_bat), "{cells:?}");
    assert!(cells.iter().any(|c| c == kho_khan), "{cells:?}");
}

/// Point 4: what the reader does not take is said, naming the cells; the report itself counts.
#[test]
fn check_names_every_part_the_reader_does_not_take() {
    let env = TestEnv::new();
    let out = env
        .cmd(&[
            "check",
            "--period",
            "2026-10",
            &fixture("unread_parts.xlsx").to_string_lossy(),
        ])
        .expect_code(0);
    for line in [
        "Cảnh báo: Chỉ tiêu!G14: chỉ tiêu TB: ghi chú \"Trong đó 2 phóng sự truyền hình\" không được đưa vào bản tổng hợp",
        "Cảnh báo: Chỉ tiêu!E22: dòng 22 có số liệu (E22, F22) nhưng không có mã chỉ tiêu của mẫu",
        "Cảnh báo: Chỉ tiêu!H11: cột H (\"Kế hoạch năm\") không có trong bảng chỉ tiêu của mẫu",
        "Cảnh báo: Hoạt động!H2: cột H (\"Thời lượng (phút)\") không có trong mẫu; 2 ô của cột này (dòng 2-3) không được đọc",
        "Cảnh báo: Hoạt động!A10: bảng hoạt động kết thúc ở dòng 4 (sau đó có hơn 3 dòng trống) nhưng bên dưới còn 2 dòng có nội dung như một hoạt động (dòng 10-11) không được đọc",
        "Cảnh báo: Thuyết minh!A10: có nội dung nằm ngoài các mục của mẫu nên không được đọc: A10 \"Kết quả nổi bật\"",
        "Cảnh báo: Trang \"Bổ sung\": trang này không thuộc mẫu báo cáo nên 2 ô có nội dung của nó không được đọc",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("Kết quả: HỢP LỆ (0 lỗi, 7 cảnh báo)"),
        "{}",
        out.stdout
    );
}

/// Point 4, the other side: the blank form from `tonghop form`, filled by openpyxl the way a
/// unit fills it, raises no "not read" warning (its title, instructions and notes are the
/// form's own).
#[test]
fn a_filled_blank_form_raises_no_unread_content_warning() {
    let env = TestEnv::new();
    let f = crate::support::env::filled_report(
        env.dir.path(),
        "HU Lam Ha T10.xlsx",
        "Huyện ủy Lâm Hà",
        "Tháng 10/2026",
        "HN=2/10,NG=150/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3",
    );
    let out = env
        .cmd(&["check", "--period", "2026-10", &f.to_string_lossy()])
        .expect_code(0);
    assert!(
        out.stdout.contains("Kết quả: HỢP LỆ (0 lỗi,"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("không được đọc"), "{}", out.stdout);
    assert!(!out.stdout.contains("không được đưa vào"), "{}", out.stdout);
}
