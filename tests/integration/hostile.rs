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

#[test]
fn hostile_files_beside_valid_ones_leave_the_other_units_consolidated() {
    let env = TestEnv::new();
    copy_dir(&repo().join("samples/inbox"), &env.inbox);
    apply_received_times(&env.inbox, &repo().join("samples/received.tsv"));
    let hostile = repo().join("tests/fixtures/hostile");
    for case in cases(&hostile).iter().filter(|c| c["size"] == "small") {
        let target: PathBuf = env
            .inbox
            .join("hostile")
            .join(case["inbox_path"].as_str().unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(hostile.join(case["file"].as_str().unwrap()), &target).unwrap();
    }
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
    use tonghop::pipeline::isolate::{ReadSettings, Reader};

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
