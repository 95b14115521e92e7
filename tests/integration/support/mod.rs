//! Test support: a Python environment for the real tools the tests use (SMTP server, openpyxl).

#![allow(dead_code)]

pub mod daemon;
pub mod smtp;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of a Python interpreter with tests/support/requirements.txt installed.
///
/// The environment is made on first use in the cargo target folder and reused; a file lock makes
/// it safe when tests run in parallel processes (cargo nextest).
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(root).unwrap();
        let venv = root.join("pyenv");
        let py = venv.join("bin").join("python");
        let req_path = repo().join("tests/support/requirements.txt");
        let req = fs::read_to_string(&req_path).unwrap();
        let stamp = venv.join("requirements.installed");
        let lock = fs::File::create(root.join("pyenv.lock")).unwrap();
        lock.lock().unwrap();
        if fs::read_to_string(&stamp).ok().as_deref() != Some(req.as_str()) {
            let system = std::env::var("TONGHOP_TEST_PYTHON3").unwrap_or_else(|_| "python3".into());
            let ok = Command::new(&system)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap()
                .success();
            assert!(ok, "python3 -m venv failed");
            let ok = Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&req_path)
                .status()
                .unwrap()
                .success();
            assert!(ok, "pip install -r tests/support/requirements.txt failed");
            fs::write(&stamp, &req).unwrap();
        }
        lock.unlock().unwrap();
        py
    })
}

/// The repository root.
/// A file's record in a run's summary.json, by its path under the inbox.
pub fn summary_file<'a>(summary: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no file {path} in summary"))
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built `tonghop` binary.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tonghop"))
}

pub mod env;
pub mod tree;
pub mod xlsx;
