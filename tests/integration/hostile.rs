//! Hostile files (tests/fixtures/hostile/, made by scripts/gen_hostile.py): each one alone gets
//! the outcome cases.json states, within 60 s and 1 GiB for the whole process tree, without a
//! crash; and all of them beside the valid samples leave the other units consolidated.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::env::{TestEnv, apply_received_times, copy_dir};
use crate::support::{python, repo, tree};

const GIB: u64 = 1 << 30;

fn nfc(s: &str) -> String {
    tonghop::text::nfc(s)
}

fn cases(dir: &Path) -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

/// Run `tonghop run --dry-run` on an env, watching the process tree; returns the summary.
fn run_watched(env: &TestEnv, what: &str) -> Value {
    let mut run = env.cmd(&["run", "--period", "2026-10", "--dry-run"]);
    run.cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = run.cmd.spawn().unwrap();
    let (code, wall, peak) = tree::watch(child, Duration::from_secs(120));
    assert!(
        matches!(code, Some(0) | Some(1)),
        "{what}: exit {code:?} (a signal or a crash?)"
    );
    assert!(wall < Duration::from_secs(60), "{what}: took {wall:?}");
    assert!(
        peak < GIB,
        "{what}: peak memory of the process tree {} MB",
        peak >> 20
    );
    env.summary("2026-10")
}

/// Check one file's record against a case's expectation; returns the mismatch, if any.
fn mismatch(summary: &Value, case: &Value) -> Option<String> {
    let path = nfc(case["inbox_path"].as_str().unwrap());
    let file = case["file"].as_str().unwrap();
    let Some(rec) = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path.as_str())
    else {
        return Some(format!("{file}: no record for {path:?}"));
    };
    let e = &case["expect"];
    let findings = rec["findings"].as_array().unwrap();
    let show = || {
        findings
            .iter()
            .map(|f| format!("[{} {}] {}", f["severity"], f["kind"], f["message"]))
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    if rec["outcome"] != e["outcome"] {
        return Some(format!(
            "{file}: outcome {} (expected {})\n    {}",
            rec["outcome"],
            e["outcome"],
            show()
        ));
    }
    if let Some(kind) = e["finding_kind"].as_str()
        && !findings.iter().any(|f| f["kind"] == kind)
    {
        return Some(format!("{file}: no finding of kind {kind}\n    {}", show()));
    }
    if let Some(text) = e["message_contains"].as_str()
        && !findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains(text))
    {
        return Some(format!(
            "{file}: no message containing {text:?}\n    {}",
            show()
        ));
    }
    if e["outcome"] == "accepted" && e["finding_kind"].is_null() {
        // A clean case must not be rejected for something else.
        if findings.iter().any(|f| f["severity"] == "error") {
            return Some(format!("{file}: accepted but with errors\n    {}", show()));
        }
    }
    if let Some(unit) = case["unit"].as_str()
        && e["outcome"] == "accepted"
        && rec["unit"] != unit
    {
        return Some(format!("{file}: unit {} (expected {unit})", rec["unit"]));
    }
    None
}

fn run_cases(dir: &Path, size: &str) {
    let mut failures = Vec::new();
    let mut n = 0;
    for case in cases(dir).iter().filter(|c| c["size"] == size) {
        let file = case["file"].as_str().unwrap();
        let env = TestEnv::new();
        let target = env.inbox.join(case["inbox_path"].as_str().unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(dir.join(file), &target).unwrap();
        // Received in October's collection window (a file whose period cannot be read belongs
        // to the period whose window holds its received time).
        set_received(&target, "2026-11-02T12:00:00+07:00");
        let summary = run_watched(&env, file);
        failures.extend(mismatch(&summary, case));
        n += 1;
    }
    assert!(n >= 3, "no {size} cases found");
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_small_hostile_file_gets_its_stated_outcome() {
    run_cases(&repo().join("tests/fixtures/hostile"), "small");
}

#[test]
fn large_hostile_files_zip_bombs_a_million_rows_16384_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python())
        .arg(repo().join("scripts/gen_hostile.py"))
        .arg("large")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gen_hostile.py large: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_cases(dir.path(), "large");
}

/// Every small hostile case copied into `<inbox>/hostile/`; returns the fixture folder.
fn set_received(path: &Path, when: &str) {
    let t = chrono::DateTime::parse_from_rfc3339(when).unwrap();
    filetime::set_file_mtime(path, filetime::FileTime::from_unix_time(t.timestamp(), 0)).unwrap();
}

/// Every small hostile case under `hostile/` in the inbox, received at `when` (RFC 3339).
fn add_small_cases(env: &TestEnv, when: &str) -> PathBuf {
    let hostile = repo().join("tests/fixtures/hostile");
    for case in cases(&hostile).iter().filter(|c| c["size"] == "small") {
        let target: PathBuf = env
            .inbox
            .join("hostile")
            .join(case["inbox_path"].as_str().unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(hostile.join(case["file"].as_str().unwrap()), &target).unwrap();
        set_received(&target, when);
    }
    hostile
}

#[test]
fn hostile_files_beside_valid_ones_leave_the_other_units_consolidated() {
    let env = TestEnv::new();
    copy_dir(&repo().join("samples/inbox"), &env.inbox);
    apply_received_times(&env.inbox, &repo().join("samples/received.tsv"));
    let hostile = add_small_cases(&env, "2026-11-02T12:00:00+07:00");
    let s = run_watched(&env, "samples + hostile");
    let expected: Value =
        serde_json::from_str(&fs::read_to_string(repo().join("samples/expected.json")).unwrap())
            .unwrap();
    for (id, e) in expected["units"].as_object().unwrap() {
        let u = s["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id.as_str())
            .unwrap();
        if id == "lam-ha" {
            // The hostile files are Lâm Hà's: a valid one among them may replace its sample.
            assert_eq!(u["status"], "accepted");
            continue;
        }
        assert_eq!(u["status"], e["status"], "{id}");
        assert_eq!(u["indicators"], e["indicators"], "{id}");
        assert_eq!(u["activity_rows"], e["activity_rows"], "{id}");
    }
    // Every hostile file has a record with an outcome; none is lost.
    for case in cases(&hostile).iter().filter(|c| c["size"] == "small") {
        let path = nfc(&format!("hostile/{}", case["inbox_path"].as_str().unwrap()));
        assert!(
            s["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == path.as_str()),
            "no record of {path}"
        );
    }
}

/// The library's per-file function on a file that is deleted, or rewritten, between the scan
/// and the read (the timing a test cannot arrange from outside the process).
#[test]
fn files_deleted_or_changing_between_scan_and_read_get_a_finding() {
    use tonghop::config::Settings;
    use tonghop::matching::UnitMatcher;
    use tonghop::pipeline::intake::Submission;
    use tonghop::pipeline::read::worker::{ReadSettings, Reader};

    let settings = Settings::embedded().unwrap();
    let matcher = UnitMatcher::new(&settings.roster);
    let mut reader = Reader::new(&ReadSettings {
        isolate: false,
        ..ReadSettings::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let src = repo().join("tests/fixtures/layouts/standard.xlsx");
    let path = dir.path().join("lam-ha").join("bc.xlsx");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::copy(&src, &path).unwrap();
    let meta = fs::metadata(&path).unwrap();
    let sub = Submission {
        path: path.clone(),
        rel: "lam-ha/bc.xlsx".into(),
        extension: "xlsx".into(),
        size: meta.len(),
        modified: meta.modified().unwrap(),
    };
    // Unchanged: accepted as Lâm Hà's.
    let ok = tonghop::pipeline::inspect(&settings, &matcher, &mut reader, &sub);
    assert_eq!(ok.unit.as_deref(), Some("lam-ha"));
    assert!(
        ok.findings.iter().all(|f| !f.is_error()),
        "{:?}",
        ok.findings
    );

    // Rewritten after the scan: refused this time.
    let mut bytes = fs::read(&src).unwrap();
    bytes.extend_from_slice(b"\0\0\0\0");
    fs::write(&path, &bytes).unwrap();
    let changing = tonghop::pipeline::inspect(&settings, &matcher, &mut reader, &sub);
    assert!(
        changing.findings.iter().any(|f| f.kind == "file_changing"),
        "{:?}",
        changing.findings
    );
    assert_eq!(
        changing.unit.as_deref(),
        Some("lam-ha"),
        "still attributed, from its folder"
    );

    // Deleted after the scan.
    fs::remove_file(&path).unwrap();
    let gone = tonghop::pipeline::inspect(&settings, &matcher, &mut reader, &sub);
    let f = gone
        .findings
        .iter()
        .find(|f| f.kind == "io")
        .expect("an io finding");
    assert!(f.message.contains("đã bị xóa"), "{}", f.message);
}

/// A file the program may not read. Root reads everything, so as root the check runs as the
/// `nobody` user (setpriv); the file is mode 000.
#[test]
fn a_file_the_program_may_not_read_gets_a_finding() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("HU Lâm Hà T10.xlsx");
    fs::copy(repo().join("tests/fixtures/layouts/standard.xlsx"), &file).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(crate::support::bin());
        c
    } else {
        std::process::Command::new(crate::support::bin())
    };
    let out = cmd
        .arg("check")
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("không có quyền đọc tệp"), "{stdout}");
    assert!(
        stdout.contains("Huyện ủy Lâm Hà"),
        "attributed from its name: {stdout}"
    );
}

/// `tonghop check` on every small hostile file at once (as an operator checks a folder of
/// files a unit sent): each file gets its verdict and its message, the command exits 1 (some
/// are rejected), never by a panic; and it still does so when the reader of its output goes
/// away after the first line (`tonghop check *.xlsx | head -1`).
#[test]
fn check_answers_every_small_hostile_file_even_when_its_reader_goes_away() {
    let dir = repo().join("tests/fixtures/hostile");
    let cases: Vec<Value> = cases(&dir)
        .into_iter()
        .filter(|c| c["size"] == "small" && c["expect"]["outcome"] != "ignored")
        .collect();
    assert!(cases.len() >= 20, "{} small cases", cases.len());
    let files: Vec<PathBuf> = cases
        .iter()
        .map(|c| dir.join(c["file"].as_str().unwrap()))
        .collect();
    let cwd = tempfile::tempdir().unwrap();
    let check = || {
        let mut c = std::process::Command::new(crate::support::bin());
        c.args(["check", "--period", "2026-10"])
            .args(&files)
            .current_dir(cwd.path());
        c
    };

    let out = check().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Each file's block runs from its path to the next file's path (arguments keep their order).
    let starts: Vec<usize> = {
        let mut from = 0;
        files
            .iter()
            .map(|f| {
                let at = from
                    + stdout[from..]
                        .find(f.to_str().unwrap())
                        .unwrap_or_else(|| panic!("{} not in the output:\n{stdout}", f.display()));
                from = at + 1;
                at
            })
            .collect()
    };
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(stdout.len());
        let block = &stdout[starts[i]..end];
        let e = &case["expect"];
        let verdict = if e["outcome"] == "rejected" {
            "Kết quả: BỊ TỪ CHỐI"
        } else {
            "Kết quả: HỢP LỆ"
        };
        let message_ok = e["message_contains"]
            .as_str()
            .is_none_or(|m| block.contains(m));
        if !block.contains(verdict) || !message_ok {
            failures.push(format!(
                "{}: expected {verdict:?} and {}\n{block}",
                case["file"], e["message_contains"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The reader goes away after the first line.
    let mut child = check()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead as _;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.contains(files[0].to_str().unwrap()), "{first}");
    } // stdout is closed here
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The daemon, with every small hostile file beside the samples in its inbox: its scheduled run
/// reads them all (in its isolated workers), sends the one report, is still running for the
/// ticks after it, and stops with 0 on SIGTERM. The files it had to reject are in the run's
/// summary with their messages.
#[test]
fn hostile_files_in_the_inbox_do_not_stop_the_daemon() {
    use crate::support::daemon::{Daemon, daemon_config, data_dir, period_before, sent_reports};
    let env = TestEnv::samples();
    let period = period_before(chrono::Utc::now());
    // In the middle of the period the daemon sends, so inside its collection window.
    let hostile = add_small_cases(&env, &format!("{period}-15T12:00:00+07:00"));
    daemon_config(&env, "*/2 * * * * *");
    let mut d = Daemon::start(&env);
    d.wait_for_log("daemon started", Duration::from_secs(20));
    crate::support::daemon::wait_until(
        Duration::from_secs(90),
        || format!("the send, then two more ticks\n--- log\n{}", d.log()),
        || (d.count("already sent by the schedule; nothing to do") >= 2).then_some(()),
    );
    assert_eq!(d.terminate(Duration::from_secs(60)), 0, "{}", d.log());
    assert_eq!(sent_reports(&data_dir(&env), &period).len(), 1);
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
    let s = env.summary(&period);
    for case in cases(&hostile)
        .iter()
        .filter(|c| c["size"] == "small" && c["expect"]["outcome"] == "rejected")
    {
        let path = nfc(&format!("hostile/{}", case["inbox_path"].as_str().unwrap()));
        let rec = s["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path.as_str())
            .unwrap_or_else(|| panic!("no record of {path}"));
        // The daemon sends the period that closed last by the real clock; a file broken inside
        // a sheet whose period could still be read (October 2026, as the samples) is set aside
        // for that. A file that cannot be opened at all is always rejected.
        let kind = case["expect"]["finding_kind"].as_str().unwrap();
        let whole_file = ["unreadable", "password", "zip_bomb", "xml_entities"].contains(&kind);
        if !whole_file
            && rec["outcome"] == "other_period"
            && rec["period"] == "2026-10"
            && period != "2026-10"
        {
            continue;
        }
        let text = case["expect"]["message_contains"].as_str().unwrap();
        assert_eq!(rec["outcome"], "rejected", "{path}: {rec}");
        assert!(
            rec["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["message"].as_str().unwrap().contains(text)),
            "{path}: no message with {text:?}: {rec}"
        );
    }
}
