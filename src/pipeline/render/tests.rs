//! The sample consolidation the sheets' tests render and the helpers that read a workbook back,
//! and the tests of the whole workbook.

use super::*;
use crate::config::EMBEDDED_FORM;
use crate::finding::{Finding, Severity};
use crate::period::Period;
use crate::pipeline::consolidate::{
    Activity, ActivityValue, FileOutcome, FileRecord, FileRef, GroupTotal, Message,
};
use crate::state::atomic::SaveError;
use calamine::{Data, DataType, Range, Reader, Xlsx, open_workbook};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::io;
use std::io::Read;
use std::path::{Path, PathBuf};

pub(super) const HYPERLINK: &str = "=HYPERLINK(\"http://x\",\"y\")";

pub(super) fn form() -> Form {
    Form::from_toml(EMBEDDED_FORM).unwrap()
}

pub(super) fn report() -> ReportSettings {
    ReportSettings {
        issuing_body: "TỈNH ỦY LÂM ĐỒNG".into(),
        department: "BAN TUYÊN GIÁO".into(),
        heading: "ĐẢNG CỘNG SẢN VIỆT NAM".into(),
        place: "Lâm Đồng".into(),
        title: "TỔNG HỢP {form}".into(),
    }
}

pub(super) fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// `values[i] = [a + i, b + i]` for each of the form's 9 indicators.
pub(super) fn figures(a: u64, b: u64) -> Figures {
    Figures {
        values: (0..9).map(|i| vec![a + i, b + i]).collect(),
    }
}

pub(super) fn unit(id: &str, name: &str, group: &str, status: UnitStatus, late: bool) -> UnitRow {
    UnitRow {
        id: id.into(),
        name: name.into(),
        group: group.into(),
        status,
        late,
        file: None,
        header: vec![],
        figures: None,
        activities: Default::default(),
        narrative: vec![],
    }
}

pub(super) fn file_ref(path: &str, received: &str, errors: usize, warnings: usize) -> FileRef {
    FileRef {
        path: path.into(),
        received: at(received),
        sha256: format!("{:064x}", path.len()),
        errors,
        warnings,
    }
}

pub(super) fn activity(row: u32, day: u32, kind: &str, content: &str, count: u64) -> Activity {
    Activity {
        source_row: row,
        values: vec![
            // As the reader gives a serial column: text.
            ActivityValue::Text((row - 5).to_string()),
            ActivityValue::Date(NaiveDate::from_ymd_opt(2026, 10, day).unwrap()),
            ActivityValue::Text(kind.into()),
            ActivityValue::Text(content.into()),
            ActivityValue::Text("Hội trường Tỉnh ủy".into()),
            ActivityValue::Count(count),
            ActivityValue::Empty,
        ],
    }
}

/// 3 groups, 5 units: on time, late, rejected, on time with no activities, missing.
pub(super) fn sample() -> Consolidation {
    let g1 = "Huyện ủy, Thành ủy";
    let g2 = "Đảng ủy trực thuộc";
    let g3 = "Cơ quan báo chí";
    let mut da_lat = unit("da-lat", "Thành ủy Đà Lạt", g1, UnitStatus::Accepted, false);
    da_lat.file = Some(file_ref(
        "da-lat/BC KL14 T10.xlsx",
        "2026-11-02T09:15:00+07:00",
        0,
        0,
    ));
    da_lat.figures = Some(figures(12, 40));
    da_lat.header = vec![
        ("preparer".into(), "Nguyễn Văn An".into()),
        ("phone".into(), "0263 3822 111".into()),
        ("date".into(), "02/11/2026".into()),
    ];
    da_lat.activities = vec![
        activity(6, 5, "Hội nghị", "Hội nghị quán triệt Kết luận 14", 250),
        activity(7, 12, "Báo điện tử", HYPERLINK, 1200),
    ]
    .into();
    da_lat.narrative = vec![
        "Tổ chức 2 hội nghị.\r\nNhân rộng 1 mô hình.".into(),
        String::new(),
        "Đề nghị cấp tài liệu.".into(),
    ];
    let mut bao_loc = unit(
        "bao-loc",
        "Thành ủy Bảo Lộc",
        g1,
        UnitStatus::Accepted,
        true,
    );
    bao_loc.file = Some(file_ref(
        "BaoLoc_T10 (sua).xlsx",
        "2026-11-03T18:30:00+07:00",
        0,
        1,
    ));
    bao_loc.figures = Some(figures(1250, 2000));
    bao_loc.activities = vec![activity(6, 20, "Mạng xã hội", "Đăng 5 bài _x0041_", 3400)].into();
    bao_loc.narrative = vec!["Ổn định.".into(), "Thiếu kinh phí.".into(), String::new()];
    let mut khoi_cq = unit(
        "khoi-cq",
        "Đảng ủy Khối các cơ quan tỉnh",
        g2,
        UnitStatus::Rejected,
        false,
    );
    khoi_cq.file = Some(file_ref("DUK CCQ.xlsx", "2026-11-01T10:00:00+07:00", 1, 0));
    let mut quan_su = unit(
        "quan-su",
        "Đảng ủy Quân sự tỉnh",
        g2,
        UnitStatus::Accepted,
        false,
    );
    quan_su.file = Some(file_ref("quan-su.xlsx", "2026-11-03T08:00:00+07:00", 0, 0));
    quan_su.figures = Some(figures(3, 9));
    let bao_lam_dong = unit(
        "bao-lam-dong",
        "Báo Lâm Đồng",
        g3,
        UnitStatus::Missing,
        false,
    );
    let units = vec![da_lat, bao_loc, khoi_cq, quan_su, bao_lam_dong];

    let group = |name: &str, idx: Vec<usize>| {
        let mut f = Figures::zero(9, 2);
        for &i in &idx {
            if let Some(u) = &units[i].figures {
                f.add(u);
            }
        }
        GroupTotal {
            name: name.into(),
            units: idx,
            figures: f,
        }
    };
    let groups = vec![
        group(g1, vec![0, 1]),
        group(g2, vec![2, 3]),
        group(g3, vec![4]),
    ];
    let mut totals = Figures::zero(9, 2);
    for g in &groups {
        totals.add(&g.figures);
    }

    let bad = Finding::at_cell(
        Severity::Error,
        "bad_number",
        "Chỉ tiêu",
        11,
        4,
        "\"khoảng 20\" không phải là số",
    );
    let late_warning = Finding::at_cell(
        Severity::Warning,
        "number_as_text",
        "Chỉ tiêu",
        12,
        5,
        "số ghi dạng chữ \"1.250\"",
    );
    let unknown = Finding::new(
        Severity::Warning,
        "unidentified",
        "Không xác định được đơn vị của tệp",
    );
    let record = |path: &str, unit: Option<&str>, outcome, findings: Vec<Finding>| FileRecord {
        path: path.into(),
        unit: unit.map(str::to_owned),
        outcome,
        received: Some(at("2026-11-02T07:00:00+07:00")),
        size: 18_432,
        sha256: Some("ab".repeat(32)),
        period: Some(Period::month(2026, 10)),
        findings,
    };
    let files = vec![
        record(
            "BaoLoc_T10 (sua).xlsx",
            Some("bao-loc"),
            FileOutcome::Accepted,
            vec![late_warning.clone()],
        ),
        record(
            "BaoLoc_T10.xlsx",
            Some("bao-loc"),
            FileOutcome::Superseded,
            vec![],
        ),
        record(
            "DUK CCQ.xlsx",
            Some("khoi-cq"),
            FileOutcome::Rejected,
            vec![bad.clone()],
        ),
        record(
            "abc.xlsx",
            None,
            FileOutcome::Unidentified,
            vec![unknown.clone()],
        ),
        record(
            "da-lat/BC KL14 T10.xlsx",
            Some("da-lat"),
            FileOutcome::Accepted,
            vec![],
        ),
        record(
            "quan-su.xlsx",
            Some("quan-su"),
            FileOutcome::Accepted,
            vec![],
        ),
        FileRecord {
            sha256: None,
            period: None,
            ..record(
                "Thumbs.db",
                None,
                FileOutcome::Ignored,
                vec![Finding::new(
                    Severity::Info,
                    "ignored",
                    "Bỏ qua: tệp hệ thống.",
                )],
            )
        },
    ];
    let messages = vec![
        Message {
            unit: Some("bao-loc".into()),
            unit_name: Some("Thành ủy Bảo Lộc".into()),
            file: "BaoLoc_T10 (sua).xlsx".into(),
            finding: late_warning,
        },
        Message {
            unit: Some("khoi-cq".into()),
            unit_name: Some("Đảng ủy Khối các cơ quan tỉnh".into()),
            file: "DUK CCQ.xlsx".into(),
            finding: bad,
        },
        Message {
            unit: None,
            unit_name: None,
            file: "abc.xlsx".into(),
            finding: unknown,
        },
    ];
    Consolidation {
        period: Period::month(2026, 10),
        generated_at: at("2026-11-04T08:00:00+07:00"),
        deadline: at("2026-11-03T17:00:00+07:00"),
        units,
        groups,
        totals,
        files,
        messages,
    }
}

/// Render with the shipped form, save with `write_atomic`, return the folder and the path.
pub(super) fn saved_with(c: &Consolidation, limits: Limits) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("TongHop_KL14_2026-10.xlsx");
    let mut wb = render_with(c, &form(), &report(), limits).unwrap();
    crate::state::atomic::save_workbook(&mut wb, &path).unwrap();
    (dir, path)
}

pub(super) fn saved(c: &Consolidation) -> (tempfile::TempDir, PathBuf) {
    saved_with(c, Limits::EXCEL)
}

pub(super) fn open(path: &Path) -> Xlsx<io::BufReader<std::fs::File>> {
    open_workbook(path).unwrap()
}

pub(super) fn grid(path: &Path, sheet: &str) -> Range<Data> {
    open(path).worksheet_range(sheet).unwrap()
}

/// A cell as a person reads it: numbers without ".0", dates dd/mm/yyyy [HH:MM].
pub(super) fn cell(g: &Range<Data>, row: u32, col: u32) -> String {
    match g.get_value((row, col)) {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(Data::DateTime(d)) => {
            let t = Data::DateTime(*d).as_datetime().unwrap();
            if t.time() == chrono::NaiveTime::MIN {
                t.format("%d/%m/%Y").to_string()
            } else {
                t.format("%d/%m/%Y %H:%M").to_string()
            }
        }
        Some(other) => format!("{other:?}"),
    }
}

pub(super) fn column(
    g: &Range<Data>,
    col: u32,
    rows: std::ops::RangeInclusive<u32>,
) -> Vec<String> {
    rows.map(|r| cell(g, r, col)).collect()
}

pub(super) fn zip_entry(path: &Path, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The XML of a sheet, by its name (rust_xlsxwriter numbers the parts in sheet order).
pub(super) fn sheet_xml(path: &Path, sheet: &str) -> String {
    let names = open(path).sheet_names();
    let i = names.iter().position(|n| n == sheet).expect("sheet");
    zip_entry(path, &format!("xl/worksheets/sheet{}.xml", i + 1))
}

pub(super) fn zip_names(path: &Path) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    zip.file_names().map(str::to_owned).collect()
}

// Columns of the shipped form on "Tổng hợp": D/E = HN (Kỳ này, Lũy kế), T/U = KT.
pub(super) const HN: u32 = 3;
pub(super) const KT: u32 = 19;
#[test]
fn layout_of_the_sample_is_where_other_tests_look() {
    let lay = SummaryLayout::of(&sample(), &form());
    assert_eq!(lay.header_row, 9);
    assert_eq!(lay.first_data_row, 11);
    assert_eq!(lay.group_rows, [11, 14, 17]);
    assert_eq!(lay.unit_rows, [12, 13, 15, 16, 18]);
    assert_eq!(lay.total_row, 19);
    assert_eq!(lay.value_col(0, 0), 3);
    assert_eq!(lay.value_col(8, 1), 20);
    assert_eq!(lay.columns(), 21);
}

#[test]
fn sheets_come_in_the_documented_order() {
    let (_dir, path) = saved(&sample());
    assert_eq!(
        open(&path).sheet_names(),
        [
            SHEET_SUMMARY,
            SHEET_CHART,
            SHEET_STATUS,
            SHEET_NARRATIVE,
            SHEET_MESSAGES,
            SHEET_ACTIVITIES,
            SHEET_FILES
        ]
    );
}

#[test]
fn write_atomic_replaces_the_file_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    std::fs::write(&path, b"old").unwrap();
    let mut wb = render(&sample(), &form(), &report()).unwrap();
    crate::state::atomic::save_workbook(&mut wb, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["out.xlsx"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        // The process umask decides, as for every output (pipeline::output_file).
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
            .unwrap();
        assert_eq!(mode & 0o777, 0o666 & !umask);
    }
}

#[test]
fn write_atomic_into_a_missing_folder_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no such folder").join("out.xlsx");
    let mut wb = render(&sample(), &form(), &report()).unwrap();
    let err = crate::state::atomic::save_workbook(&mut wb, &path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such folder/out.xlsx"), "{err}");
}

#[test]
fn a_failed_save_keeps_the_earlier_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    std::fs::write(&path, b"old").unwrap();
    let mut wb = Workbook::new();
    // Two sheets with one name: rust_xlsxwriter refuses at save time.
    wb.add_worksheet().set_name("A").unwrap();
    wb.add_worksheet().set_name("A").unwrap();
    let err = crate::state::atomic::save_workbook(&mut wb, &path).unwrap_err();
    assert!(matches!(err, SaveError::Xlsx { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_lower_case_title_template_keeps_the_form_title_as_written() {
    let c = sample();
    let form = form();
    let mut report = report();
    report.title = "Tổng hợp {form} ({period})".into();
    let cx = Cx {
        c: &c,
        form: &form,
        report: &report,
        st: Styles::new(),
        limits: Limits::EXCEL,
    };
    assert_eq!(
        cx.title(),
        "Tổng hợp Báo cáo kết quả tuyên truyền, quán triệt Kết luận 14-KL/TW (Tháng 10/2026)"
    );
}
