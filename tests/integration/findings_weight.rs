//! A finding weighs what its cause weighs (issue 12, points 5 and 6), with the real binary:
//! a flaw in one activity row does not throw away a unit's indicators; a report in a .zip is
//! read, a PDF or a .rar alone is named; a file that cannot say its period belongs only to the
//! period whose collection window holds its received time. Fixtures: tests/fixtures/weight/
//! (scripts/gen_weight.py: openpyxl, LibreOffice, zipfile).

use calamine::{Reader, open_workbook_auto};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::env::TestEnv;
use crate::support::repo;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/weight").join(name)
}

fn weight() -> Value {
    serde_json::from_str(&fs::read_to_string(fixture("weight.json")).unwrap()).unwrap()
}

/// Put `bytes` in the inbox at `rel`, received at `when` (RFC 3339).
fn drop_file(env: &TestEnv, rel: &str, bytes: &[u8], when: &str) {
    let path = env.inbox.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(when).unwrap();
    let ft = filetime::FileTime::from_unix_time(t.timestamp(), 0);
    filetime::set_file_mtime(&path, ft).unwrap();
}

fn unit<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("no unit {id}"))
}

fn file<'a>(s: &'a Value, path: &str) -> &'a Value {
    s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no file {path:?} in {}", s["files"]))
}

fn paths(s: &Value) -> Vec<String> {
    s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

/// (kind, severity, sheet, cell) of each finding of a file.
fn findings(f: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                s(&x["kind"]),
                s(&x["severity"]),
                s(&x["sheet"]),
                s(&x["cell"]),
            )
        })
        .collect()
}

fn messages(f: &Value) -> String {
    f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["message"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every text cell of every sheet of a workbook.
fn texts(path: &Path) -> Vec<String> {
    let mut wb = open_workbook_auto(path).unwrap();
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        out.extend(range.used_cells().map(|(_, _, v)| v.to_string()));
    }
    out
}

#[test]
fn one_flawed_activity_row_keeps_the_units_indicators_counted() {
    let env = TestEnv::new();
    let rel = "HU Lâm Hà - BC T10.xlsx";
    drop_file(
        &env,
        rel,
        &fs::read(fixture("activity_row_flaws.xlsx")).unwrap(),
        "2026-11-02T10:00:00+07:00",
    );
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(0);
    let s = env.summary("2026-10");
    let u = unit(&s, "lam-ha");
    assert_eq!(u["status"], "accepted", "{}", messages(file(&s, rel)));
    assert_eq!(u["indicators"], weight()["indicators"]);
    assert_eq!(s["totals"], weight()["indicators"]);
    assert_eq!(u["activity_rows"], 7, "every row kept, the flawed ones too");
    assert_eq!(
        (u["errors"].as_u64(), u["warnings"].as_u64()),
        (Some(0), Some(3))
    );
    let w = |kind: &str, cell: &str| {
        (
            kind.to_owned(),
            "warning".to_owned(),
            "Hoạt động".to_owned(),
            cell.to_owned(),
        )
    };
    assert_eq!(
        findings(file(&s, rel)),
        [
            w("activity_bad_date", "B6"),
            w("activity_bad_choice", "C7"),
            w("activity_bad_count", "F8"),
        ]
    );
    let msgs = messages(file(&s, rel));
    assert!(msgs.contains("Hoạt động!B6: \"10/25/2026\""), "{msgs}");
    // The consolidated workbook carries what the unit wrote, not an invented value.
    let wb = env.period_dir("2026-10").join("Tổng hợp KL14 2026-10.xlsx");
    let cells = texts(&wb);
    for kept in ["10/25/2026", "Tọa đàm", "khoảng 200"] {
        assert!(
            cells.iter().any(|c| c == kept),
            "{kept:?} not in the workbook"
        );
    }
}

#[test]
fn a_file_that_cannot_say_its_period_belongs_only_to_the_window_it_arrived_in() {
    let env = TestEnv::new();
    // October's window ends at its send, 08:00 on 04/11 (schedule.send "0 0 8 4 * *").
    drop_file(&env, "HU Lâm Hà T10.xlsx", b"", "2026-10-20T10:00:00+07:00");
    drop_file(&env, "Book1.xlsx", b"", "2026-10-25T15:00:00+07:00");
    drop_file(&env, "HU Đam Rông.xlsx", b"", "2026-11-04T07:59:59+07:00");
    drop_file(&env, "HU Cát Tiên.xlsx", b"", "2026-11-04T08:00:00+07:00");
    drop_file(
        &env,
        "HU Di Linh T11.xlsx",
        b"",
        "2026-11-20T09:00:00+07:00",
    );

    env.cmd(&["run", "--period", "2026-11", "--dry-run"])
        .expect_code(1);
    let nov = env.summary("2026-11");
    assert_eq!(paths(&nov), ["HU Cát Tiên.xlsx", "HU Di Linh T11.xlsx"]);
    for (id, status) in [
        ("lam-ha", "missing"),
        ("dam-rong", "missing"),
        ("cat-tien", "rejected"),
        ("di-linh", "rejected"),
    ] {
        assert_eq!(unit(&nov, id)["status"], status, "November: {id}");
    }

    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let oct = env.summary("2026-10");
    assert_eq!(
        paths(&oct),
        ["Book1.xlsx", "HU Lâm Hà T10.xlsx", "HU Đam Rông.xlsx"]
    );
    assert_eq!(file(&oct, "Book1.xlsx")["outcome"], "unidentified");
    for (id, status) in [
        ("lam-ha", "rejected"),
        ("dam-rong", "rejected"),
        ("cat-tien", "missing"),
        ("di-linh", "missing"),
    ] {
        assert_eq!(unit(&oct, id)["status"], status, "October: {id}");
    }

    // December: none of them. The run has nothing rejected to report.
    env.cmd(&["run", "--period", "2026-12", "--dry-run"])
        .expect_code(0);
    assert!(paths(&env.summary("2026-12")).is_empty());

    // `status` applies the same rule, to the checks a run recorded (a dry run records none).
    env.cmd(&["run", "--period", "2026-12"]).expect_code(0);
    let out = env
        .cmd(&["status", "--period", "2026-11", "--json", "--config"])
        .cmd
        .arg(&env.config)
        .output()
        .unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let status_of = |id: &str| {
        st["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of("lam-ha"), "missing");
    assert_eq!(status_of("di-linh"), "rejected");
    assert_eq!(st["unidentified"], serde_json::json!([]));
}

#[test]
fn a_report_in_a_zip_is_read_and_a_pdf_or_rar_alone_is_named() {
    let env = TestEnv::new();
    let at = "2026-11-02T10:00:00+07:00";
    let zip = fs::read(fixture("report_in_zip.zip")).unwrap();
    let pdf = fs::read(fixture("scanned_report.pdf")).unwrap();
    // No unit in its name: the unit is read from the report inside.
    drop_file(&env, "Bao cao thang 10.zip", &zip, at);
    drop_file(&env, "lam-ha/BC T10 co dau.pdf", &pdf, at);
    drop_file(&env, "HU Di Linh - BC T10.pdf", &pdf, at);
    drop_file(&env, "HU Cát Tiên T10.rar", b"Rar!\x1a\x07\x01\x00", at);
    drop_file(&env, "Hướng dẫn điền biểu.pdf", &pdf, at);
    drop_file(&env, "Thumbs.db", b"x", at);
    drop_file(&env, "~$HU Di Linh - BC T10.xlsx", b"x", at);

    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let s = env.summary("2026-10");

    let lam_ha = unit(&s, "lam-ha");
    assert_eq!(lam_ha["status"], "accepted");
    assert_eq!(lam_ha["file"], "Bao cao thang 10.zip");
    assert_eq!(lam_ha["indicators"], weight()["indicators"]);
    assert_eq!(lam_ha["activity_rows"], 3);
    let zmsg = messages(file(&s, "Bao cao thang 10.zip"));
    assert!(
        zmsg.contains("BC KL14 T10/HU Lâm Hà - BC T10.xlsx") && zmsg.contains("tệp nén"),
        "{zmsg}"
    );
    // The signed scan beside it is set aside, not a rejection.
    let scan = file(&s, "lam-ha/BC T10 co dau.pdf");
    assert_eq!(scan["outcome"], "ignored");
    assert!(messages(scan).contains("Bao cao thang 10.zip"));

    // Alone, a PDF or a .rar is the unit's file, rejected with the reason: not silent.
    for (id, path, says) in [
        ("di-linh", "HU Di Linh - BC T10.pdf", "tệp PDF"),
        ("cat-tien", "HU Cát Tiên T10.rar", "tệp nén .rar"),
    ] {
        assert_eq!(unit(&s, id)["status"], "rejected", "{id}");
        assert_eq!(unit(&s, id)["file"], path, "{id}");
        let m = messages(file(&s, path));
        assert!(
            m.contains(says) && m.contains("(.xlsx, .xls hoặc .ods)"),
            "{m}"
        );
    }
    // A document that names no unit, and junk, stay ignored; junk says nothing more.
    assert_eq!(file(&s, "Hướng dẫn điền biểu.pdf")["outcome"], "ignored");
    for junk in ["Thumbs.db", "~$HU Di Linh - BC T10.xlsx"] {
        let f = file(&s, junk);
        assert_eq!(f["outcome"], "ignored");
        assert!(findings(f).iter().all(|(_, sev, _, _)| sev == "info"));
    }
}

/// The reminder job (`daemon::jobs::queue_reminders`, as the daemon calls it) sees the same
/// periods: October's reminder tells Lâm Hà its zero-byte file was refused; November's does not
/// bring it up again.
#[test]
fn reminders_follow_the_same_collection_window() {
    use tonghop::config::{Settings, Transport};
    use tonghop::period::Period;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::embedded().unwrap();
    settings.inbox = dir.path().join("inbox");
    settings.data = dir.path().join("data");
    settings.out = dir.path().join("out");
    settings.mail.transport = Transport::File {
        dir: dir.path().join("outbox"),
    };
    // The worker processes are the `tonghop` binary, not this test binary.
    settings.read.isolate = false;
    for u in settings
        .roster
        .units
        .iter_mut()
        .filter(|u| u.id == "lam-ha")
    {
        u.email = Some("lamha@lamdong.dcs.vn".into());
    }
    let path = settings.inbox.join("HU Lâm Hà T10.xlsx");
    fs::create_dir_all(&settings.inbox).unwrap();
    fs::write(&path, b"").unwrap();
    let t = chrono::DateTime::parse_from_rfc3339("2026-10-20T10:00:00+07:00").unwrap();
    filetime::set_file_mtime(&path, filetime::FileTime::from_unix_time(t.timestamp(), 0)).unwrap();

    let store = tonghop::state::store::Store::open(&settings.data).unwrap();
    let body_of = |period: &str| {
        let rows = store
            .deliveries_for(period, tonghop::state::store::DeliveryKind::Reminder)
            .unwrap();
        assert_eq!(rows.len(), 1, "{period}: one reminder, to Lâm Hà");
        assert_eq!(rows[0].unit.as_deref(), Some("lam-ha"));
        let raw = fs::read(&rows[0].eml_path).unwrap();
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        msg.body_text(0).unwrap().into_owned()
    };
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let queue = |period: Period, when: &str| {
        tonghop::app::jobs::queue_reminders(&settings, &store, period, at(when)).unwrap()
    };
    assert_eq!(
        queue(Period::month(2026, 10), "2026-11-02T08:00:00+07:00"),
        1
    );
    let oct = body_of("2026-10");
    assert!(
        oct.contains("HU Lâm Hà T10.xlsx") && oct.contains("Tệp rỗng"),
        "{oct}"
    );
    assert_eq!(
        queue(Period::month(2026, 11), "2026-12-02T08:00:00+07:00"),
        1
    );
    let nov = body_of("2026-11");
    assert!(
        !nov.contains("HU Lâm Hà T10.xlsx") && !nov.contains("Tệp rỗng"),
        "{nov}"
    );
    assert!(nov.contains("Tháng 11/2026"), "{nov}");
}
