//! Bad days outside the files: a full or unwritable output folder, a missing inbox, a damaged
//! or locked state store; and secrets that must never leave their place.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::daemon::{Daemon, daemon_config, data_dir, use_smtp, wait_until};
use crate::support::env::{TestEnv, copy_dir};
use crate::support::repo;
use crate::support::smtp::{SmtpOptions, SmtpServer};

/// Every file under `dir`, with the parts of zip packages (xlsx) unpacked, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let bytes = fs::read(e.path()).unwrap_or_default();
        let name = e.path().display().to_string();
        if bytes.starts_with(b"PK\x03\x04")
            && let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone()))
        {
            for i in 0..z.len() {
                let mut part = z.by_index(i).unwrap();
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut part, &mut b).unwrap();
                out.push((format!("{name}!{}", part.name()), b));
            }
        }
        out.push((name, bytes));
    }
    out
}

fn assert_nowhere(secret: &str, places: &[(String, Vec<u8>)]) {
    for (name, bytes) in places {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret appears in {name}"
        );
    }
}

#[test]
fn a_full_disk_fails_the_run_cleanly_and_the_next_run_succeeds() {
    let env = TestEnv::samples();
    let out = env.dir.path().join("small-out");
    fs::create_dir_all(&out).unwrap();
    // A 48 KB file system: the workbook does not fit.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48k", "tmpfs"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        let r = env
            .cmd(&["run", "--period", "2026-10", "--out", out.to_str().unwrap()])
            .expect_code(70);
        assert!(r.stderr.contains("ổ đĩa đã đầy"), "{}", r.stderr);
        // No half-written workbook under its name, no temporary file left, nothing sent.
        let left: Vec<_> = walkdir::WalkDir::new(&out)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(TestEnv::emls(&env.outbox).is_empty());
        assert!(Command::new("umount").arg(&out).status().unwrap().success());
    } else {
        // Not allowed to mount here: a path under a regular file cannot be written either.
        fs::remove_dir(&out).unwrap();
        fs::write(&out, b"a file, not a folder").unwrap();
        let r = env
            .cmd(&[
                "run",
                "--period",
                "2026-10",
                "--out",
                out.join("x").to_str().unwrap(),
            ])
            .expect_code(70);
        assert!(r.stderr.contains("Không ghi được"), "{}", r.stderr);
        fs::remove_file(&out).unwrap();
        fs::create_dir_all(&out).unwrap();
    }
    // The run that failed recorded nothing as sent: the next one goes through.
    env.cmd(&["run", "--period", "2026-10", "--out", out.to_str().unwrap()])
        .expect_code(1);
    assert!(out.join("2026-10/Tổng hợp KL14 2026-10.xlsx").is_file());
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
}

#[test]
fn a_missing_inbox_is_a_clear_error() {
    let env = TestEnv::new();
    let r = env
        .cmd(&[
            "run",
            "--period",
            "2026-10",
            "--inbox",
            "/nonexistent/chia-se",
        ])
        .expect_code(2);
    assert!(
        r.stderr.contains(
            "Không đọc được thư mục nhận báo cáo /nonexistent/chia-se: không tìm thấy tệp hoặc thư mục"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn the_daemon_keeps_going_while_the_inbox_is_missing_and_sends_once_it_is_back() {
    let env = TestEnv::new();
    daemon_config(&env, "*/2 * * * * *");
    fs::remove_dir_all(&env.inbox).unwrap();
    let mut d = Daemon::start(&env);
    d.wait_for_log("cannot be read", Duration::from_secs(20));
    wait_until(
        Duration::from_secs(20),
        || d.log(),
        || (d.count("cannot be read") >= 2).then_some(()),
    );
    assert!(TestEnv::emls(&env.outbox).is_empty());
    // The share is back: the next tick sends, once.
    copy_dir(&repo().join("samples/inbox"), &env.inbox);
    wait_until(
        Duration::from_secs(30),
        || d.log(),
        || (TestEnv::emls(&env.outbox).len() == 1).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
    assert_eq!(d.terminate(Duration::from_secs(60)), 0);
}

#[test]
fn a_damaged_state_store_stops_the_run_and_is_left_alone() {
    let env = TestEnv::samples();
    let data = data_dir(&env);
    fs::create_dir_all(&data).unwrap();
    let garbage =
        b"this is not an SQLite database, but it may be the only copy of the history".repeat(100);
    fs::write(data.join("tonghop.sqlite3"), &garbage).unwrap();
    let r = env.cmd(&["run", "--period", "2026-10"]).expect_code(70);
    assert!(
        r.stderr.contains("dữ liệu trạng thái")
            && r.stderr.contains("không phải là cơ sở dữ liệu SQLite"),
        "{}",
        r.stderr
    );
    assert_eq!(
        fs::read(data.join("tonghop.sqlite3")).unwrap(),
        garbage,
        "never overwritten"
    );
    assert!(
        TestEnv::emls(&env.outbox).is_empty(),
        "nothing sent without a record of it"
    );
}

#[test]
fn a_locked_state_store_is_a_clear_error_after_waiting() {
    let env = TestEnv::samples();
    // A first run creates the store; then another connection holds an exclusive lock on it.
    let _ = env
        .cmd(&["run", "--period", "2026-09"])
        .cmd
        .output()
        .unwrap();
    let data = data_dir(&env);
    assert!(data.join("tonghop.sqlite3").is_file());
    let conn = rusqlite::Connection::open(data.join("tonghop.sqlite3")).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = env.cmd(&["run", "--period", "2026-10"]).expect_code(70);
    assert!(
        r.stderr.contains("dữ liệu trạng thái")
            && r.stderr.contains("đang bị một tiến trình khác khóa"),
        "{}",
        r.stderr
    );
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
}

#[test]
fn the_smtp_password_and_the_control_token_never_leave_their_place() {
    let password = "mật-khẩu-bí-mật-9f3a";
    let server = SmtpServer::start(SmtpOptions::starttls().auth("bantuyengiao", password));
    let env = TestEnv::samples();
    daemon_config(&env, "0 0 0 1 1 *");
    use_smtp(&env, &server.config_toml("TONGHOP_TEST_SECRET_PW"));
    let mut d = Daemon::start_with_env(
        &env,
        &[
            ("TONGHOP_TEST_SECRET_PW", password),
            ("TONGHOP_LOG", "debug"),
        ],
    );
    d.wait_for_log("daemon started", Duration::from_secs(20));
    let trigger = env
        .cmd(&[
            "trigger",
            "--config",
            env.config.to_str().unwrap(),
            "--period",
            "2026-10",
        ])
        .env("TONGHOP_TEST_SECRET_PW", password)
        .expect_code(1);
    assert_eq!(server.messages().len(), 1);
    // A wrong password gives an error that does not repeat it. (The daemon is stopped first: while
    // it holds the data folder, `run` hands the run to it, which sends with its own password.)
    assert_eq!(d.terminate(Duration::from_secs(60)), 0);
    let wrong = "sai-mật-khẩu-77";
    let bad = env
        .cmd(&["run", "--period", "2026-10", "--resend", "--log", "debug"])
        .env("TONGHOP_TEST_SECRET_PW", wrong)
        .expect_code(tonghop::app::exit::DELIVERY_FAILED_FOR_GOOD as i32);

    let token = fs::read_to_string(data_dir(&env).join("control.token")).unwrap();
    let token = token.trim();
    assert!(token.len() >= 16);
    let mut places = all_bytes(&env.out);
    places.extend(
        all_bytes(&data_dir(&env))
            .into_iter()
            .filter(|(n, _)| !n.ends_with("control.token")),
    );
    places.push(("daemon log".into(), d.log().into_bytes()));
    places.push((
        "trigger output".into(),
        format!("{}{}", trigger.stdout, trigger.stderr).into_bytes(),
    ));
    places.push((
        "run output".into(),
        format!("{}{}", bad.stdout, bad.stderr).into_bytes(),
    ));
    assert_nowhere(password, &places);
    assert_nowhere(wrong, &places);
    assert_nowhere(token, &places);
    // And the mail that went out carries neither.
    assert_nowhere(
        password,
        &[("sent mail".into(), server.messages()[0].clone())],
    );
    assert_nowhere(token, &[("sent mail".into(), server.messages()[0].clone())]);
}
