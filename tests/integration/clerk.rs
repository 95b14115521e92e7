//! The clerk at the terminal: what `check`, `run`, `history` say (in Vietnamese) and exit with
//! when an argument, a path or the configuration is wrong; the modes of the outputs; a dry run
//! after a send.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::support::env::TestEnv;
use crate::support::summary_file;

/// Every file under `dir` (relative path -> bytes), `skip` folders left out.
fn files_under(dir: &Path, skip: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != skip)
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn check_of_a_missing_file_says_it_is_not_found_and_exits_2() {
    let env = TestEnv::samples();
    let good = env.inbox.join("BaoLam_T10.xlsx");
    let out = env
        .cmd(&["check", "khong-co.xlsx", good.to_str().unwrap()])
        .expect_code(2);
    assert!(
        out.stdout
            .contains("khong-co.xlsx: không mở được: không tìm thấy tệp hoặc thư mục."),
        "{}",
        out.stdout
    );
    // The other file is still checked.
    assert!(out.stdout.contains("HỢP LỆ"), "{}", out.stdout);
}

#[test]
fn check_gives_a_text_file_the_verdict_a_run_gives_it() {
    let env = TestEnv::samples();
    let txt = env.inbox.join("ghi chu.txt");
    let out = env.cmd(&["check", txt.to_str().unwrap()]).expect_code(1);
    assert!(
        out.stdout
            .contains("Kết quả: BỎ QUA: không phải tệp báo cáo, một lần chạy bỏ qua tệp này"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("BỊ TỪ CHỐI"), "{}", out.stdout);
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let summary = env.summary("2026-10");
    let rec = summary_file(&summary, "ghi chu.txt");
    assert_eq!(rec["outcome"], "ignored", "{rec}");
}

/// Issue 8: `check` and a run share one verdict. A report of September checked for October is
/// another period's report in both (a notice, not an error), and the same words explain it.
#[test]
fn check_gives_another_periods_file_the_verdict_a_run_gives_it() {
    let env = TestEnv::samples();
    let t9 = env.inbox.join("HU Cat Tien T9-2026.xlsx");
    let out = env
        .cmd(&["check", "--period", "2026-10", t9.to_str().unwrap()])
        .expect_code(1);
    let said = "Tệp là báo cáo Tháng 9/2026, không thuộc kỳ Tháng 10/2026; không được tổng hợp vào kỳ này.";
    assert!(
        out.stdout.contains(
            "Kết quả: BÁO CÁO KỲ KHÁC, không được tổng hợp vào kỳ này (0 lỗi, 0 cảnh báo)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("- Ghi nhận: {said}")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("BỊ TỪ CHỐI"), "{}", out.stdout);
    // Checked for its own period, it is a valid report.
    let own = env
        .cmd(&["check", "--period", "2026-09", t9.to_str().unwrap()])
        .expect_code(0);
    assert!(own.stdout.contains("Kết quả: HỢP LỆ"), "{}", own.stdout);
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let summary = env.summary("2026-10");
    let rec = summary_file(&summary, "HU Cat Tien T9-2026.xlsx");
    assert_eq!(rec["outcome"], "other_period", "{rec}");
    assert_eq!(rec["findings"][0]["message"], said, "{rec}");
}

#[test]
fn check_of_a_folder_reads_it_as_a_run_reads_the_inbox() {
    let env = TestEnv::samples();
    // A scanned report that names a unit (read and refused with a message by a run) and a
    // document that names none (ignored by a run), both received in October's window.
    let pdf = crate::support::repo().join("tests/fixtures/weight/scanned_report.pdf");
    let received = filetime::FileTime::from_unix_time(1_793_620_800, 0); // 02/11/2026 19:00 +07
    for name in ["HU Dam Rong - BC T10.pdf", "Huong dan.pdf"] {
        fs::copy(&pdf, env.inbox.join(name)).unwrap();
        filetime::set_file_mtime(env.inbox.join(name), received).unwrap();
    }
    let out = env
        .cmd(&["check", "--period", "2026-10", env.inbox.to_str().unwrap()])
        .expect_code(1);
    // No log line, no "disk read error": the folder's files are checked one by one.
    assert_eq!(out.stderr, "", "nothing on stderr");
    assert!(!out.stdout.contains("lỗi đọc đĩa"), "{}", out.stdout);
    assert!(out.stdout.contains("BaoLam_T10.xlsx"), "{}", out.stdout);
    assert!(out.stdout.contains("HỢP LỆ"), "{}", out.stdout);
    assert!(out.stdout.contains("khoảng 20"), "{}", out.stdout);
    let dam_rong = out
        .stdout
        .split_once("HU Dam Rong - BC T10.pdf\n")
        .expect("the scanned report is checked, not skipped")
        .1;
    assert!(
        dam_rong.contains("Kết quả: BỊ TỪ CHỐI") && dam_rong.contains("tệp PDF"),
        "{}",
        out.stdout
    );
    // The files it says a run ignores are exactly those the run ignored.
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let summary = env.summary("2026-10");
    let mut ignored: Vec<String> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "ignored")
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    ignored.sort();
    let (_, listed) = out
        .stdout
        .split_once("Một lần chạy bỏ qua")
        .expect("the ignored files are listed");
    let mut said: Vec<String> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(|l| l.rsplit_once(": ").unwrap().0.to_owned())
        .collect();
    said.sort();
    assert!(!ignored.is_empty());
    assert_eq!(said, ignored);
    assert!(said.contains(&"Huong dan.pdf".to_owned()), "{said:?}");
    // The run gave the scanned report the same verdict: Đam Rông's file, refused.
    let scanned = summary_file(&summary, "HU Dam Rong - BC T10.pdf");
    assert_eq!(scanned["outcome"], "rejected", "{scanned}");
}

#[test]
fn a_month_out_of_range_and_a_quarter_under_a_monthly_config_are_refused() {
    let env = TestEnv::samples();
    let out = env
        .cmd(&["run", "--period", "2026-13", "--dry-run"])
        .expect_code(2);
    assert_eq!(
        out.stderr.trim(),
        "tonghop: --period 2026-13: không có tháng 13 (tháng chỉ từ 1 đến 12)."
    );
    let out = env
        .cmd(&["run", "--period", "2026-Q4", "--dry-run"])
        .expect_code(2);
    assert!(
        out.stderr.contains(
            "cấu hình này báo cáo theo tháng (period = \"month\"), không nhận kỳ Quý IV/2026"
        ),
        "{}",
        out.stderr
    );
    let out = env
        .cmd(&["check", "--period", "2026-Q4", env.inbox.to_str().unwrap()])
        .expect_code(2);
    assert!(out.stdout.is_empty(), "nothing checked: {}", out.stdout);
    assert!(!env.out.exists(), "nothing written");
}

#[test]
fn history_limit_0_is_refused_rather_than_saying_there_are_no_runs() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let out = env
        .cmd(&[
            "history",
            "--config",
            env.config.to_str().unwrap(),
            "--limit",
            "0",
        ])
        .expect_code(2);
    assert!(
        out.stderr
            .contains("--limit 0: cần hiện ít nhất 1 lần chạy"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("Chưa có lần chạy nào"),
        "{}",
        out.stdout
    );
    let out = env
        .cmd(&[
            "history",
            "--config",
            env.config.to_str().unwrap(),
            "--limit",
            "1",
        ])
        .expect_code(0);
    assert!(out.stdout.contains("2026-10"), "{}", out.stdout);
}

#[test]
fn a_misspelt_section_with_subtables_is_named_in_the_error() {
    let env = TestEnv::new();
    env.edit_config(|t| t.replace("[mail]\n", "[mial]\n"));
    let out = env
        .cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(2);
    assert!(
        out.stderr
            .starts_with("tonghop: lỗi cấu hình: tệp cấu hình "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("mục hoặc khóa [mial] không có trong cấu hình (có phải là [mail]?)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_config_file_is_said_in_vietnamese() {
    let env = TestEnv::new();
    let out = env
        .cmd(&["status", "--config", "/nonexistent/tonghop.toml"])
        .expect_code(2);
    assert_eq!(
        out.stderr.trim(),
        "tonghop: lỗi cấu hình: không đọc được tệp cấu hình /nonexistent/tonghop.toml: \
         không tìm thấy tệp hoặc thư mục"
    );
}

/// `tonghop run` (a real send, to the file transport) under `umask`.
fn run_under_umask(env: &TestEnv, umask: u32, extra: &[&str]) -> crate::support::env::Output {
    let mut args = vec!["run", "--period", "2026-10"];
    args.extend_from_slice(extra);
    let mut run = env.cmd(&args);
    // SAFETY: umask is async-signal-safe and touches no memory.
    unsafe {
        run.cmd.pre_exec(move || {
            libc::umask(umask as libc::mode_t);
            Ok(())
        });
    }
    run.expect_code(1)
}

#[test]
fn outputs_follow_the_umask_like_the_workbook() {
    for (umask, want) in [(0o027, 0o640), (0o022, 0o644)] {
        let env = TestEnv::samples();
        run_under_umask(&env, umask, &[]);
        let dir = env.period_dir("2026-10");
        let workbook = dir.join("Tổng hợp KL14 2026-10.xlsx");
        let emls = TestEnv::emls(&env.outbox);
        assert_eq!(emls.len(), 1);
        for p in [&workbook, &dir.join("summary.json"), &emls[0]] {
            assert_eq!(mode(p), want, "{} under umask {umask:o}", p.display());
        }
        // The data folder stays private whatever the umask; what is inside follows the rule.
        let data = env.dir.path().join("data");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("tonghop.sqlite3")), want);
    }
}

#[test]
fn a_dry_run_after_a_send_writes_a_preview_and_never_over_the_sent_files() {
    let env = TestEnv::samples();
    // Before any send a dry run writes where a run writes.
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    assert!(env.period_dir("2026-10").join("summary.json").is_file());
    assert!(!env.period_dir("2026-10").join("preview").exists());
    // The real send replaces those files; the dry run after it must not.
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let sent = files_under(&env.out, "preview");
    let summary = env.summary("2026-10");
    assert_eq!(summary["mail"]["status"], "sent", "{}", summary["mail"]);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a new generated-at second
    let out = env
        .cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    assert_eq!(
        files_under(&env.out, "preview"),
        sent,
        "sent files unchanged"
    );
    let preview = env.period_dir("2026-10").join("preview");
    assert!(
        out.stdout
            .contains(&format!("{}/summary.json", preview.display())),
        "{}",
        out.stdout
    );
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(preview.join("summary.json")).unwrap()).unwrap();
    assert_eq!(p["mail"]["status"], "dry_run");
    assert_eq!(p["reported"], summary["reported"]);
    assert!(preview.join("Tổng hợp KL14 2026-10.xlsx").is_file());
    assert_eq!(TestEnv::emls(&preview).len(), 1, "the mail preview");
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1, "nothing more sent");
}
