//! The operator's commands beside the daemon (and without one): `status`, `history`, `resend`,
//! `trigger`, run as the real binary on the shipped samples.

use chrono::{Datelike, FixedOffset, TimeZone, Utc};
use serde_json::Value;
use std::fs;

use crate::support::env::{Output, TestEnv};

/// `tonghop ARGS --config <env's config>` (the harness adds --config only to run/check/form).
fn op(env: &TestEnv, args: &[&str]) -> crate::support::env::Run {
    let mut all = args.to_vec();
    let config = env.config.to_str().unwrap().to_owned();
    all.extend(["--config", &config]);
    env.cmd(&all)
}

fn run_october(env: &TestEnv) -> Value {
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    env.summary("2026-10")
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: not JSON:\n{}", out.stdout))
}

/// The one stdout line that names `what`.
fn line<'a>(out: &'a Output, what: &str) -> &'a str {
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains(what)).collect();
    assert_eq!(lines.len(), 1, "one line with {what:?}:\n{}", out.stdout);
    lines[0]
}

/// The next "0 0 8 4 * *" (08:00 on day 4, Asia/Ho_Chi_Minh = UTC+7 all year) after now.
fn next_send_text() -> String {
    let tz = FixedOffset::east_opt(7 * 3600).unwrap();
    let now = Utc::now().with_timezone(&tz);
    let this_month = tz
        .with_ymd_and_hms(now.year(), now.month(), 4, 8, 0, 0)
        .unwrap();
    let next = if this_month > now {
        this_month
    } else {
        let (y, m) = if now.month() == 12 {
            (now.year() + 1, 1)
        } else {
            (now.year(), now.month() + 1)
        };
        tz.with_ymd_and_hms(y, m, 4, 8, 0, 0).unwrap()
    };
    next.format("%H:%M %d/%m/%Y").to_string()
}

/// A read worker that only leaves a mark: `status` given it must not start it (`status` answers
/// from the state store and reads no file).
fn marking_worker(env: &TestEnv) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let worker = env.dir.path().join("marking-worker.sh");
    let mark = env.dir.path().join("worker-started");
    fs::write(
        &worker,
        format!("#!/bin/sh\ntouch '{}'\nexit 70\n", mark.display()),
    )
    .unwrap();
    fs::set_permissions(&worker, fs::Permissions::from_mode(0o755)).unwrap();
    (worker, mark)
}

/// `tonghop status` with a read worker that leaves a mark if started; asserts it was not.
fn status_reading_nothing(env: &TestEnv, args: &[&str], code: i32) -> Output {
    let (worker, mark) = marking_worker(env);
    let mut all = vec!["status"];
    all.extend(args);
    let mut run = op(env, &all);
    run.cmd.env("TONGHOP_READ_WORKER", &worker);
    let out = run.expect_code(code);
    assert!(!mark.exists(), "status started a read worker");
    out
}

#[test]
fn status_before_any_check_reads_no_file_and_names_each_as_not_yet_checked() {
    let env = TestEnv::samples();
    let before = next_send_text();
    let out = status_reading_nothing(&env, &["--period", "2026-10"], 0);
    let after = next_send_text();

    assert!(
        out.stdout.contains("Đơn vị có báo cáo: 0/18\nTệp chưa kiểm tra: 19 (mới hoặc đã thay đổi từ lần kiểm tra trước; chưa tính ở trên)\n"),
        "{}",
        out.stdout
    );
    assert!(line(&out, "Huyện ủy Đam Rông").contains("Chưa nộp"));
    // Di Linh's file is named under its unit (by its name), not judged.
    let di_linh: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("Huyện ủy Di Linh"))
        .take(3)
        .collect();
    assert_eq!(
        di_linh,
        [
            " 8. Huyện ủy Di Linh: Có tệp chưa kiểm tra",
            "      - Chưa kiểm tra: HU Di Linh T10.xlsx (nhận lúc 11:10 03/11/2026)",
            " 9. Huyện ủy Bảo Lâm: Có tệp chưa kiểm tra",
        ],
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Bị từ chối"), "{}", out.stdout);
    let nameless: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| *l != "Tệp chưa kiểm tra, chưa rõ của đơn vị nào:")
        .skip(1)
        .take_while(|l| l.starts_with("  - "))
        .collect();
    assert_eq!(
        nameless,
        [
            "  - Book1.xlsx (nhận lúc 20:12 01/11/2026)",
            "  - baocao_T10.xlsx (nhận lúc 09:30 01/11/2026)"
        ],
        "{}",
        out.stdout
    );
    assert!(
        line(&out, "Các tệp chưa kiểm tra không được đọc ở đây").contains(
            "chúng sẽ được kiểm tra khi tonghop daemon chạy (ở mỗi lần quét thư mục; hiện daemon KHÔNG chạy)"
        )
    );
    assert!(out.stdout.contains("Chưa gửi"), "{}", out.stdout);
    let send = line(&out, "Gửi báo cáo:");
    assert!(
        send.contains(&before) || send.contains(&after),
        "{send} vs {before}"
    );
    assert!(
        !env.dir.path().join("data").exists(),
        "status creates no data folder"
    );
    let s = json(&status_reading_nothing(
        &env,
        &["--period", "2026-10", "--json"],
        0,
    ));
    assert_eq!(s["unchecked"].as_array().unwrap().len(), 19);
    assert_eq!(
        s["unchecked"][0]["path"],
        "BC KL14 - HU Đức Trọng (sửa lần 2).xlsx"
    );
    assert_eq!(s["unchecked"][0]["unit"], "duc-trong");
}

/// Issue 8: after a run, `status` gives each unit the run's verdict (the run recorded each
/// file's check), from the store, without reading a file.
#[test]
fn status_after_a_run_gives_the_runs_verdicts_without_reading() {
    let env = TestEnv::samples();
    let summary = run_october(&env);
    let out = status_reading_nothing(&env, &["--period", "2026-10"], 0);
    assert!(
        out.stdout.contains("Đơn vị có báo cáo: 13/18\n\n"),
        "no file left unchecked:\n{}",
        out.stdout
    );
    assert!(!out.stdout.contains("chưa kiểm tra"), "{}", out.stdout);
    assert!(line(&out, "Huyện ủy Đam Rông").contains("Chưa nộp"));
    let di_linh = line(&out, "Huyện ủy Di Linh");
    assert!(
        di_linh.contains("Bị từ chối")
            && di_linh.contains("HU Di Linh T10.xlsx")
            && di_linh.contains("nhận lúc 11:10 03/11/2026"),
        "{di_linh}"
    );
    // The findings follow the rejected unit's line, before the next unit.
    let findings: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("Huyện ủy Di Linh"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .collect();
    assert!(
        findings
            .iter()
            .any(|l| l.contains("Chỉ tiêu!E") && l.contains("khoảng 20")),
        "{findings:?}"
    );
    assert!(line(&out, "Huyện ủy Lâm Hà").contains("Nộp muộn"));
    assert!(line(&out, "Thành ủy Đà Lạt").contains("Đúng hạn"));
    let unidentified: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| *l != "Tệp không xác định được đơn vị:")
        .skip(1)
        .filter(|l| l.starts_with("  - "))
        .collect();
    assert_eq!(unidentified, ["  - Book1.xlsx (nhận lúc 20:12 01/11/2026)"]);

    // Unit by unit, what the run's summary says.
    let s = json(&status_reading_nothing(
        &env,
        &["--period", "2026-10", "--json"],
        0,
    ));
    assert_eq!(s["unchecked"], serde_json::json!([]));
    let ran = summary["units"].as_array().unwrap();
    let shown = s["units"].as_array().unwrap();
    assert_eq!(shown.len(), ran.len());
    let instant = |v: &Value| {
        v.as_str()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
    };
    let counts = |u: &Value| {
        let f = u["findings"].as_array().unwrap();
        let n = |sev: &str| f.iter().filter(|x| x["severity"] == sev).count();
        (n("error"), n("warning"))
    };
    for (st, r) in shown.iter().zip(ran) {
        assert_eq!(
            (&st["id"], &st["status"], &st["late"], &st["file"]),
            (&r["id"], &r["status"], &r["late"], &r["file"]),
            "{}",
            r["id"]
        );
        assert_eq!(
            instant(&st["received"]),
            instant(&r["received"]),
            "{}",
            r["id"]
        );
        assert_eq!(
            counts(st),
            (
                r["errors"].as_u64().unwrap() as usize,
                r["warnings"].as_u64().unwrap() as usize
            ),
            "{}",
            r["id"]
        );
    }
    assert_eq!(s["reported"], 13);
}

#[test]
fn status_after_a_run_shows_the_report_sent_with_its_message_id() {
    let env = TestEnv::samples();
    let summary = run_october(&env);
    let message_id = summary["mail"]["message_id"].as_str().unwrap();
    let out = op(&env, &["status", "--period", "2026-10"]).expect_code(0);
    let sent = line(&out, "Đã gửi lúc");
    assert!(
        sent.contains(message_id) && sent.contains("(lần chạy 1)"),
        "{sent}"
    );
    assert!(!out.stdout.contains("Chưa gửi"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("Báo cáo đến sau khi đã gửi"),
        "every accepted report was in the mail:\n{}",
        out.stdout
    );

    let s = json(&op(&env, &["status", "--period", "2026-10", "--json"]).expect_code(0));
    assert_eq!(s["period"], "2026-10");
    assert_eq!(s["report"]["state"], "sent");
    assert_eq!(s["report"]["sent"]["message_id"], message_id);
    assert_eq!(s["units"].as_array().unwrap().len(), 18);
    let dam_rong = s["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Huyện ủy Đam Rông")
        .unwrap();
    assert_eq!(dam_rong["status"], "missing");
    assert_eq!(s["next"][0]["job"], "send");
}

#[test]
fn a_report_changed_after_the_send_is_listed_as_arriving_after_it() {
    let env = TestEnv::samples();
    run_october(&env);
    // Thành ủy Đà Lạt saves its file again after the report went out.
    let file = env.inbox.join("TU Da Lat T10-2026.xlsx");
    filetime::set_file_mtime(&file, filetime::FileTime::now()).unwrap();
    // Not checked since it changed: named, not read.
    let out = status_reading_nothing(&env, &["--period", "2026-10"], 0);
    assert!(
        line(&out, "Thành ủy Đà Lạt").ends_with(": Có tệp chưa kiểm tra"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("      - Chưa kiểm tra: TU Da Lat T10-2026.xlsx (nhận lúc "),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Báo cáo đến sau khi đã gửi"),
        "{}",
        out.stdout
    );
    // The daemon's scan checks it (here in this process, reading in-process).
    let mut settings = tonghop::config::Settings::discover(Some(&env.config)).unwrap();
    settings.read.isolate = false;
    tonghop::app::jobs::scan_period(
        &settings,
        &tonghop::clock::SystemClock,
        tonghop::period::Period::month(2026, 10),
    )
    .unwrap();
    let out = status_reading_nothing(&env, &["--period", "2026-10"], 0);
    let section: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Báo cáo đến sau khi đã gửi"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(
        section
            .iter()
            .any(|l| l.contains("Thành ủy Đà Lạt: TU Da Lat T10-2026.xlsx")),
        "{}",
        out.stdout
    );
    assert_eq!(
        section.iter().filter(|l| l.starts_with("  - ")).count(),
        1,
        "only that one: {section:?}"
    );
    let s = json(&status_reading_nothing(
        &env,
        &["--period", "2026-10", "--json"],
        0,
    ));
    assert_eq!(s["late_after_send"][0]["unit"], "da-lat");
}

#[test]
fn history_lists_the_run_and_its_mail_as_sent() {
    let env = TestEnv::samples();
    let out = op(&env, &["history"]).expect_code(0);
    assert!(
        out.stdout.contains("Chưa có lần chạy nào"),
        "{}",
        out.stdout
    );

    let summary = run_october(&env);
    let message_id = summary["mail"]["message_id"].as_str().unwrap();
    let out = op(&env, &["history"]).expect_code(0);
    assert!(
        line(&out, "Lần chạy 1:").contains("Tháng 10/2026 (2026-10), thủ công"),
        "{}",
        out.stdout
    );
    assert!(line(&out, "Bắt đầu").contains("xong, có tệp bị từ chối"));
    let mail = line(&out, "Thư báo cáo:");
    assert!(
        mail.contains("đã gửi lúc") && mail.contains(message_id),
        "{mail}"
    );

    let h = json(&op(&env, &["history", "--json"]).expect_code(0));
    let run = &h["runs"][0];
    assert_eq!(run["id"], 1);
    assert_eq!(run["outcome"], "rejected_files");
    assert_eq!(run["deliveries"][0]["kind"], "report");
    assert_eq!(run["deliveries"][0]["status"], "sent");
    assert_eq!(run["deliveries"][0]["attempts"], 1);
    assert_eq!(run["deliveries"][0]["message_id"], message_id);
}

fn parse(path: &std::path::Path) -> (String, String, Vec<u8>, String) {
    use mail_parser::MimeHeaders;
    let raw = fs::read(path).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let att = msg.attachments().next().expect("an attachment");
    (
        msg.message_id().unwrap().to_owned(),
        att.attachment_name().unwrap().to_owned(),
        att.contents().to_vec(),
        msg.subject().unwrap().to_owned(),
    )
}

#[test]
fn resend_of_a_sent_report_sends_the_same_mail_under_a_new_message_id() {
    let env = TestEnv::samples();
    let summary = run_october(&env);
    let first = TestEnv::emls(&env.outbox);
    assert_eq!(first.len(), 1);

    let out = op(&env, &["resend", "1"]).expect_code(0);
    assert!(out.stdout.contains("Message-ID mới"), "{}", out.stdout);
    let emls = TestEnv::emls(&env.outbox);
    assert_eq!(emls.len(), 2, "a second mail in the outbox");
    let second = emls.iter().find(|p| !first.contains(p)).unwrap();
    let (id1, name1, att1, subject1) = parse(&first[0]);
    let (id2, name2, att2, subject2) = parse(second);
    assert_eq!(
        format!("<{id1}>"),
        summary["mail"]["message_id"].as_str().unwrap()
    );
    assert_ne!(id1, id2);
    assert!(out.stdout.contains(&id2), "{}", out.stdout);
    assert_eq!(name1, name2);
    assert_eq!(subject1, subject2);
    assert!(att1 == att2, "the same attachment, byte for byte");
    // Nothing but the Message-ID differs.
    let raw1 = String::from_utf8(fs::read(&first[0]).unwrap()).unwrap();
    let raw2 = String::from_utf8(fs::read(second).unwrap()).unwrap();
    assert_eq!(raw1.replace(&id1, &id2), raw2);

    let h = json(&op(&env, &["history", "--json"]).expect_code(0));
    let ds = h["runs"][0]["deliveries"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{ds:?}");
    assert!(
        ds.iter()
            .all(|d| d["kind"] == "report" && d["status"] == "sent")
    );
    assert_eq!(ds[1]["message_id"], format!("<{id2}>"));
    let out = op(&env, &["history"]).expect_code(0);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains("Thư báo cáo: đã gửi"))
            .count(),
        2,
        "{}",
        out.stdout
    );
}

#[test]
fn resend_of_a_failed_report_retries_the_same_message() {
    let env = TestEnv::samples();
    // The outbox folder cannot be made (a file is in the way): the delivery fails for good.
    fs::write(env.dir.path().join("blocker"), "").unwrap();
    env.edit_config(|t| t.replace("dir = \"../out/outbox\"", "dir = \"../blocker/outbox\""));
    // Failed for good: its own exit code, not 3 ("still queued").
    env.cmd(&["run", "--period", "2026-10"])
        .expect_code(tonghop::app::exit::DELIVERY_FAILED_FOR_GOOD as i32);
    let out = op(&env, &["status", "--period", "2026-10"]).expect_code(0);
    assert!(out.stdout.contains("Chưa gửi"), "{}", out.stdout);
    assert!(
        line(&out, "KHÔNG gửi được").contains("blocker"),
        "the error is shown"
    );
    assert!(out.stdout.contains("tonghop resend 1"), "{}", out.stdout);
    let h = json(&op(&env, &["history", "--json"]).expect_code(0));
    let failed = h["runs"][0]["deliveries"][0].clone();
    assert_eq!(failed["status"], "failed");

    // Still blocked: the retry fails again, for good.
    op(&env, &["resend", "1"]).expect_code(tonghop::app::exit::DELIVERY_FAILED_FOR_GOOD as i32);
    // Fixed: the same message goes out.
    env.edit_config(|t| t.replace("dir = \"../blocker/outbox\"", "dir = \"../out/outbox\""));
    let out = op(&env, &["resend", "1"]).expect_code(0);
    assert!(out.stdout.contains("đã gửi lúc"), "{}", out.stdout);
    let emls = TestEnv::emls(&env.outbox);
    assert_eq!(emls.len(), 1);
    let (id, ..) = parse(&emls[0]);
    assert_eq!(format!("<{id}>"), failed["message_id"].as_str().unwrap());
    let h = json(&op(&env, &["history", "--json"]).expect_code(0));
    let ds = h["runs"][0]["deliveries"].as_array().unwrap();
    assert_eq!(ds.len(), 1, "retried, not copied: {ds:?}");
    assert_eq!(ds[0]["status"], "sent");
    assert_eq!(ds[0]["attempts"], 3);
}

#[test]
fn resend_of_an_unknown_run_changes_nothing_and_exits_2() {
    let env = TestEnv::samples();
    let out = op(&env, &["resend", "1"]).expect_code(2);
    assert!(
        out.stderr.contains("Chưa có dữ liệu trạng thái"),
        "{}",
        out.stderr
    );
    run_october(&env);
    let out = op(&env, &["resend", "42"]).expect_code(2);
    assert!(
        out.stderr.contains("Không có lần chạy số 42"),
        "{}",
        out.stderr
    );
    let out = op(&env, &["resend", "--delivery", "42"]).expect_code(2);
    assert!(out.stderr.contains("Không có thư số 42"), "{}", out.stderr);
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn trigger_without_a_daemon_says_so_and_exits_69() {
    let env = TestEnv::samples();
    let port = free_port();
    env.edit_config(|t| t.replace("control_port = 8787", &format!("control_port = {port}")));
    // Never ran: no token either.
    let out = op(&env, &["trigger", "--period", "2026-10"]).expect_code(69);
    assert!(
        out.stderr.contains(&format!(
            "Không có tonghop daemon nào đang chạy trên 127.0.0.1:{port}"
        )),
        "{}",
        out.stderr
    );
    // A daemon ran once (its token is left) but is gone.
    let data = env.dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(
        data.join("control.token"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let out = op(&env, &["trigger"]).expect_code(69);
    assert!(
        out.stderr.contains("Không có tonghop daemon nào đang chạy"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("0123456789abcdef"),
        "the token is never printed"
    );
    assert!(!env.period_dir("2026-10").exists(), "nothing was run");
}

/// Issue 9, point 6: the inbox gone (an unmounted share) does not hide what the store knows:
/// `status` says the inbox problem first, then the report sent and the schedule, and exits 2
/// (the same code as `run` for a missing inbox).
#[test]
fn status_with_the_inbox_missing_shows_the_store_with_the_problem_first() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let message_id = crate::support::daemon::message_id_of(&TestEnv::emls(&env.outbox)[0]);
    fs::rename(&env.inbox, env.inbox.with_extension("unmounted")).unwrap();
    let out = op(&env, &["status", "--period", "2026-10"]).expect_code(2);
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "Không đọc được thư mục nhận báo cáo {}: không tìm thấy tệp hoặc thư mục.",
            env.inbox.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Đơn vị có báo cáo: chưa biết (không đọc được thư mục nhận báo cáo)"),
        "{}",
        out.stdout
    );
    // No unit is called "not submitted": their state is unknown.
    assert!(!out.stdout.contains("Chưa nộp"), "{}", out.stdout);
    assert!(out.stdout.contains("Đã gửi lúc"), "{}", out.stdout);
    assert!(out.stdout.contains(&message_id), "{}", out.stdout);
    assert!(out.stdout.contains("Lịch tiếp theo"), "{}", out.stdout);
    // Said once, as the first line, not again on stderr; --json says it on stderr.
    assert!(!out.stderr.contains("Không đọc được"), "{}", out.stderr);
    let json = op(&env, &["status", "--period", "2026-10", "--json"]).expect_code(2);
    assert!(
        json.stderr.contains("Không đọc được thư mục nhận báo cáo"),
        "{}",
        json.stderr
    );
    // `run` gives the same code for the same cause.
    env.cmd(&["run", "--period", "2026-10", "--resend"])
        .expect_code(2);
}
