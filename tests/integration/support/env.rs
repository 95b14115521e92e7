//! A test environment: a temp folder with a copy of the shipped config, an inbox, an output
//! folder, and a fluent way to run the real `tonghop` binary in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{bin, repo};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub inbox: PathBuf,
    pub out: PathBuf,
    pub outbox: PathBuf,
}

impl TestEnv {
    /// An empty inbox and the shipped config with paths pointing into the temp folder.
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let cfg = root.join("config");
        fs::create_dir_all(&cfg).unwrap();
        for f in ["roster.toml", "form-kl14.toml"] {
            fs::copy(repo().join("config").join(f), cfg.join(f)).unwrap();
        }
        let main = fs::read_to_string(repo().join("config/tonghop.toml"))
            .unwrap()
            .replace("\"../samples/inbox\"", "\"../inbox\"")
            .replace("settle_seconds = 5", "settle_seconds = 0")
            // Tests run many daemons at once: each console takes any free port (written to
            // <data>/console.addr).
            .replace("listen = \"127.0.0.1:8788\"", "listen = \"127.0.0.1:0\"");
        let config = cfg.join("tonghop.toml");
        fs::write(&config, main).unwrap();
        let inbox = root.join("inbox");
        fs::create_dir_all(&inbox).unwrap();
        TestEnv {
            config,
            inbox,
            out: root.join("out"),
            outbox: root.join("out/outbox"),
            dir,
        }
    }

    /// A copy of samples/inbox with the received times of samples/received.tsv.
    pub fn samples() -> TestEnv {
        let env = TestEnv::new();
        copy_dir(&repo().join("samples/inbox"), &env.inbox);
        apply_received_times(&env.inbox, &repo().join("samples/received.tsv"));
        env
    }

    /// Rewrite the main config file.
    pub fn edit_config(&self, f: impl FnOnce(String) -> String) {
        let text = fs::read_to_string(&self.config).unwrap();
        fs::write(&self.config, f(text)).unwrap();
    }

    /// `tonghop ARGS --config <this config>` (for the commands that take one).
    pub fn cmd(&self, args: &[&str]) -> Run {
        let mut c = Command::new(bin());
        c.args(args);
        if matches!(args.first(), Some(&"run") | Some(&"check") | Some(&"form")) {
            c.arg("--config").arg(&self.config);
        }
        c.current_dir(self.dir.path());
        c.env_remove("TONGHOP_CONFIG");
        Run { cmd: c }
    }

    pub fn period_dir(&self, key: &str) -> PathBuf {
        self.out.join(key)
    }

    pub fn summary(&self, key: &str) -> serde_json::Value {
        let text = fs::read_to_string(self.period_dir(key).join("summary.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Every .eml file under `dir`, sorted.
    pub fn emls(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        v.sort();
        v
    }
}

pub struct Run {
    pub cmd: Command,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn env(mut self, k: &str, v: &str) -> Run {
        self.cmd.env(k, v);
        self
    }

    /// Run and assert the exit code; returns the output.
    pub fn expect_code(mut self, code: i32) -> Output {
        let out = self.cmd.output().unwrap();
        let o = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(
            o.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            o.stdout, o.stderr
        );
        o
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Set each file's mtime from a `path<TAB>RFC 3339 time` list (git keeps no mtimes).
pub fn apply_received_times(inbox: &Path, tsv: &Path) {
    for line in fs::read_to_string(tsv).unwrap().lines() {
        let Some((rel, when)) = line.split_once('\t') else {
            continue;
        };
        let t = chrono::DateTime::parse_from_rfc3339(when.trim()).unwrap();
        let ft = filetime::FileTime::from_unix_time(t.timestamp(), 0);
        filetime::set_file_mtime(inbox.join(rel), ft).unwrap();
    }
}

/// A report for `unit` written the way a unit would: the blank form from `tonghop form`, filled
/// by openpyxl (tests/support/fill_form.py). `values` is "HN=2/10,NG=150/900,...".
pub fn filled_report(
    dir: &Path,
    file_name: &str,
    unit: &str,
    period_label: &str,
    values: &str,
) -> PathBuf {
    fill_report(dir, file_name, unit, period_label, values).0
}

/// As `filled_report`, also returning what fill_form.py typed where, one line per cell
/// (`Chỉ tiêu!E14 = 'khoảng 20'`), so a test can name the cell a message must point at.
pub fn fill_report(
    dir: &Path,
    file_name: &str,
    unit: &str,
    period_label: &str,
    values: &str,
) -> (PathBuf, String) {
    let blank = dir.join(format!(".blank-{file_name}"));
    let out = Command::new(bin())
        .arg("form")
        .arg("--out")
        .arg(&blank)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tonghop form: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = dir.join(file_name);
    let out = Command::new(super::python())
        .arg(repo().join("tests/support/fill_form.py"))
        .arg(&blank)
        .arg(&target)
        .args(["--unit", unit, "--period", period_label, "--values", values])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fill_form.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::remove_file(&blank).unwrap();
    (target, String::from_utf8_lossy(&out.stdout).into_owned())
}
