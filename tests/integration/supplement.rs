//! Supplementary reports ("bổ sung lần N") when things go wrong: a supplement still queued
//! blocks the next one (CLI and daemon), each supplement has its own summary file, files still
//! being copied are named, and an older supplement is not resent over a newer one by accident.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::daemon::{Daemon, State, daemon_config, data_dir, set_key, use_smtp};
use crate::support::env::TestEnv;

/// Exit codes of src/exit.rs.
const MAIL_QUEUED: i32 = tonghop::app::exit::MAIL_QUEUED as i32;
const ALREADY_SENT: i32 = tonghop::app::exit::ALREADY_SENT as i32;
const DELIVERY_FAILED_FOR_GOOD: i32 = tonghop::app::exit::DELIVERY_FAILED_FOR_GOOD as i32;

/// `tonghop ARGS --config <env's config>` for the operator commands.
fn op(env: &TestEnv, args: &[&str]) -> crate::support::env::Run {
    let mut all = args.to_vec();
    let config = env.config.to_str().unwrap().to_owned();
    all.extend(["--config", &config]);
    env.cmd(&all)
}

/// SMTP on a closed port: every attempt is refused, a temporary failure, so mails stay queued.
const SMTP_DOWN: &str =
    "[mail.smtp]\nhost = \"127.0.0.1\"\nport = 1\nsecurity = \"plain\"\ntimeout_seconds = 2\n";

/// A unit's October report filled by openpyxl, dropped in the inbox; returns its inbox path.
fn late(env: &TestEnv, file: &str, unit: &str, period_label: &str) -> PathBuf {
    let dir = env.dir.path().join("new");
    fs::create_dir_all(&dir).unwrap();
    let f = crate::support::env::filled_report(
        &dir,
        file,
        unit,
        period_label,
        "HN=2/10,NG=100/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3",
    );
    let target = env.inbox.join(file);
    fs::copy(&f, &target).unwrap();
    target
}

/// (subject, plain text body) of a mail file.
fn mail(path: &Path) -> (String, String) {
    let raw = fs::read(path).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    (
        m.subject().unwrap().to_owned(),
        m.body_text(0).unwrap().replace("\r\n", "\n"),
    )
}

/// The mails in the outbox whose subject starts with `prefix`.
fn subjects_starting(env: &TestEnv, prefix: &str) -> Vec<(String, String)> {
    TestEnv::emls(&env.outbox)
        .iter()
        .map(|p| mail(p))
        .filter(|(s, _)| s.starts_with(prefix))
        .collect()
}

#[test]
fn a_queued_supplement_blocks_the_next_one_and_keeps_the_reports_summary() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let report_summary = fs::read(env.period_dir("2026-10").join("summary.json")).unwrap();
    let file_transport = fs::read_to_string(&env.config).unwrap();

    // The mail server goes down; Đam Rông reports late: the supplement is made and queued.
    use_smtp(&env, SMTP_DOWN);
    let dam_rong = late(
        &env,
        "HU Dam Rong T10.xlsx",
        "Huyện ủy Đam Rông",
        "Tháng 10/2026",
    );
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(3);
    assert!(
        out.stdout
            .contains("Thư báo cáo bổ sung lần 1: CHƯA gửi được: đang chờ trong hàng đợi từ "),
        "{}",
        out.stdout
    );
    // Its summary is its own, beside its workbook; summary.json still describes the report.
    let dir = env.period_dir("2026-10");
    assert_eq!(
        fs::read(dir.join("summary.json")).unwrap(),
        report_summary,
        "the report's summary.json is left as it was"
    );
    let own: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("summary (bổ sung lần 1).json")).unwrap())
            .unwrap();
    assert_eq!(own["mail"]["status"], "pending");
    assert!(
        own["mail"]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Bổ sung lần 1: "),
        "{}",
        own["mail"]
    );
    assert!(
        own["workbook"]
            .as_str()
            .unwrap()
            .ends_with("Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx"),
        "{}",
        own["workbook"]
    );
    assert!(
        out.stdout.contains("summary (bổ sung lần 1).json"),
        "{}",
        out.stdout
    );

    // Asked again while it waits: refused with what waits and what to do, nothing queued.
    let queued = |out: &crate::support::env::Output| {
        for part in [
            "Thư báo cáo bổ sung lần 1 kỳ Tháng 10/2026 vẫn đang chờ gửi trong hàng đợi từ ",
            "(đã thử 1 lần, lỗi cuối: ",
            "tonghop status --period 2026-10",
            "tonghop resend 2",
        ] {
            assert!(
                out.stderr.contains(part),
                "missing {part:?} in {}",
                out.stderr
            );
        }
    };
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(MAIL_QUEUED);
    queued(&out);
    // The unit's file is removed: still no "nothing changed" while the queued mail says otherwise.
    fs::remove_file(&dam_rong).unwrap();
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(MAIL_QUEUED);
    queued(&out);
    assert!(
        !out.stdout.contains("Không có gì thay đổi"),
        "{}",
        out.stdout
    );
    let state = State::open(&data_dir(&env));
    let supplements = state.deliveries_of("supplement");
    assert_eq!(supplements.len(), 1, "{supplements:?}");
    assert_eq!(supplements[0].status, "pending");
    drop(state);
    let status = op(&env, &["status", "--period", "2026-10"]).expect_code(0);
    assert!(
        status
            .stdout
            .contains("Thư báo cáo bổ sung lần 1 (lần chạy 2): CHƯA gửi được"),
        "{}",
        status.stdout
    );

    // The server is back (the file transport here): the queued one goes out...
    fs::write(&env.config, file_transport).unwrap();
    op(&env, &["resend", "2"]).expect_code(0);
    let first = subjects_starting(&env, "Bổ sung lần 1: ");
    assert_eq!(first.len(), 1);
    assert!(first[0].1.contains("Huyện ủy Đam Rông"), "{}", first[0].1);
    // ... and the next supplement compares with it: Đam Rông is counted no more.
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    let second = subjects_starting(&env, "Bổ sung lần 2: ");
    assert_eq!(second.len(), 1);
    assert!(
        second[0]
            .1
            .contains("KHÔNG CÒN ĐƯỢC TỔNG HỢP (1)\n- Huyện ủy Đam Rông"),
        "{}",
        second[0].1
    );
    assert_eq!(fs::read(dir.join("summary.json")).unwrap(), report_summary);
    assert!(dir.join("summary (bổ sung lần 2).json").is_file());
}

#[test]
fn files_still_being_copied_are_named_not_silently_skipped() {
    let env = TestEnv::samples();
    env.edit_config(|t| set_key(&t, "intake", "settle_seconds", "600"));
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    // A file arrives (modified just now): within the settling time it is not read.
    let f = late(
        &env,
        "HU Dam Rong T10.xlsx",
        "Huyện ủy Đam Rông",
        "Tháng 10/2026",
    );
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(0);
    assert!(
        out.stdout.contains(
            "Không có gì thay đổi so với báo cáo Tháng 10/2026 đã gửi: không cần báo cáo bổ \
             sung. 1 tệp đang được chép, chưa đọc; chạy lại sau ít giây."
        ),
        "{}",
        out.stdout
    );
    // A run's printed summary says it too.
    let out = env
        .cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    assert!(
        out.stdout
            .contains("\n1 tệp đang được chép, chưa đọc; chạy lại sau ít giây.\n"),
        "{}",
        out.stdout
    );
    // Copied long enough ago: it is read, and the supplement goes out.
    let old = filetime::FileTime::from_unix_time(chrono::Utc::now().timestamp() - 3600, 0);
    filetime::set_file_mtime(&f, old).unwrap();
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    assert!(!out.stdout.contains("đang được chép"), "{}", out.stdout);
    assert_eq!(subjects_starting(&env, "Bổ sung lần 1: ").len(), 1);
}

#[test]
fn an_older_supplement_is_not_resent_over_a_newer_one_without_force() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    // The outbox cannot be written (a file is in the way): supplement 1 fails for good.
    fs::write(env.dir.path().join("blocker"), "").unwrap();
    env.edit_config(|t| t.replace("dir = \"../out/outbox\"", "dir = \"../blocker/outbox\""));
    late(
        &env,
        "HU Dam Rong T10.xlsx",
        "Huyện ủy Đam Rông",
        "Tháng 10/2026",
    );
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(DELIVERY_FAILED_FOR_GOOD);
    assert!(
        out.stdout
            .contains("Thư báo cáo bổ sung lần 1: KHÔNG gửi được, đã thôi thử"),
        "{}",
        out.stdout
    );
    // Fixed; Cát Tiên reports too: supplement 2 (1 keeps its number) goes out.
    env.edit_config(|t| t.replace("dir = \"../blocker/outbox\"", "dir = \"../out/outbox\""));
    late(
        &env,
        "HU Cat Tien T10.xlsx",
        "Huyện ủy Cát Tiên",
        "Tháng 10/2026",
    );
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    assert_eq!(subjects_starting(&env, "Bổ sung lần 2: ").len(), 1);

    // status names each supplement and does not suggest resending the older one.
    let out = op(&env, &["status", "--period", "2026-10"]).expect_code(0);
    for part in [
        "  Đã gửi (bổ sung lần 2) lúc ",
        "  Thư báo cáo bổ sung lần 1 (lần chạy 2): KHÔNG gửi được",
        "    Đã có thư mới hơn được gửi (thư báo cáo bổ sung lần 2): thư này mang số liệu cũ, \
         không cần gửi lại.",
    ] {
        assert!(
            out.stdout.contains(part),
            "missing {part:?} in:\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("tonghop resend 2"), "{}", out.stdout);
    let h = op(&env, &["history"]).expect_code(0);
    assert!(
        h.stdout
            .contains("Lần chạy 3: Tháng 10/2026 (2026-10), báo cáo bổ sung\n"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout
            .contains("  Thư báo cáo bổ sung lần 1: KHÔNG gửi được"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout.contains("  Thư báo cáo bổ sung lần 2: đã gửi lúc"),
        "{}",
        h.stdout
    );
    let j: serde_json::Value =
        serde_json::from_str(&op(&env, &["history", "--json"]).expect_code(0).stdout).unwrap();
    let numbers: Vec<serde_json::Value> = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["deliveries"].as_array().unwrap().clone())
        .map(|d| d["supplement_number"].clone())
        .collect();
    assert_eq!(
        numbers,
        [serde_json::json!(2), 1.into(), serde_json::Value::Null]
    );

    // Resending the older supplement (or the report) is refused: older figures after newer.
    let before = TestEnv::emls(&env.outbox).len();
    let out = op(&env, &["resend", "2"]).expect_code(ALREADY_SENT);
    assert!(
        out.stderr.contains(
            "Thư báo cáo bổ sung lần 1 (lần chạy 2) mang số liệu cũ hơn thư báo cáo bổ sung lần 2 \
             đã gửi lúc "
        ) && out.stderr.contains("tonghop resend 2 --force"),
        "{}",
        out.stderr
    );
    op(&env, &["resend", "1"]).expect_code(ALREADY_SENT);
    assert_eq!(TestEnv::emls(&env.outbox).len(), before, "nothing sent");
    // With --force, exactly that mail goes out; the latest one resends without it.
    let out = op(&env, &["resend", "2", "--force"]).expect_code(0);
    assert!(
        out.stdout
            .contains("Gửi lại thư báo cáo bổ sung lần 1 chưa đến tay người nhận"),
        "{}",
        out.stdout
    );
    assert_eq!(subjects_starting(&env, "Bổ sung lần 1: ").len(), 1);
    op(&env, &["resend", "3"]).expect_code(0);
    assert_eq!(subjects_starting(&env, "Bổ sung lần 2: ").len(), 2);
}

/// `supplement = "auto"` with the mail server down: one supplement is queued, and the scans
/// after it make no other (said once in the log), however many reports arrive meanwhile.
#[test]
fn the_daemons_auto_supplement_waits_for_the_queued_one() {
    let env = TestEnv::samples();
    daemon_config(&env, &crate::support::daemon::never());
    env.edit_config(|t| {
        let t = set_key(&t, "schedule", "scan", "\"*/2 * * * * *\"");
        set_key(&t, "daemon", "supplement", "\"auto\"")
    });
    // The period the scan looks at: the one that ended last. Sent by hand, while mail works.
    let period = crate::support::daemon::period_before(chrono::Utc::now());
    let label = {
        let (y, m) = period.split_once('-').unwrap();
        format!("Tháng {}/{y}", m.trim_start_matches('0'))
    };
    let out = env.cmd(&["run", "--period", &period]).cmd.output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    use_smtp(&env, SMTP_DOWN);
    let mut d = Daemon::start(&env);
    d.wait_for_log("daemon started", Duration::from_secs(20));
    late(&env, "HU Dam Rong.xlsx", "Huyện ủy Đam Rông", &label);
    let supplements = || {
        State::try_open(&data_dir(&env))
            .map(|s| s.deliveries_of("supplement"))
            .unwrap_or_default()
    };
    crate::support::daemon::wait_until(
        Duration::from_secs(60),
        || d.log(),
        || (!supplements().is_empty()).then_some(()),
    );
    d.wait_for_log("still queued", Duration::from_secs(30));
    // Another unit reports; several scans later, still the one queued supplement.
    late(&env, "HU Cat Tien.xlsx", "Huyện ủy Cát Tiên", &label);
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(d.terminate(Duration::from_secs(60)), 0);
    let s = supplements();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0].status, "pending");
    assert_eq!(d.count("still queued"), 1, "said once:\n{}", d.log());
}
