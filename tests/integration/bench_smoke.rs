//! Smoke run of the benchmark at its smallest size (bench/run.py --smoke does the same with
//! timing): bench/gen_forms.py writes a realistic month (18 units, 1,000 activity rows) and its
//! config, the real binary consolidates it, and the result is checked against what the generator
//! wrote. Times are printed, not asserted: CI machines are shared and noisy.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::support::{bin, repo};

const STAGES: [&str; 5] = [
    "intake",
    "read+validate",
    "consolidate",
    "render",
    "deliver",
];

fn generate(size: &str, dir: &Path) -> serde_json::Value {
    // The generator needs only the standard library: the system python3 is enough.
    let python = std::env::var("TONGHOP_TEST_PYTHON3").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .arg(repo().join("bench/gen_forms.py"))
        .arg(size)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gen_forms.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn bench_realistic_month_is_consolidated_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("realistic");
    let manifest = generate("realistic", &work);
    assert_eq!(manifest["units"], 18);
    assert_eq!(manifest["activity_rows"], 1000);

    let started = Instant::now();
    let out = Command::new(bin())
        .args(["run", "--dry-run", "--period", "2026-10", "--config"])
        .arg(work.join("config/tonghop.toml"))
        .current_dir(&work)
        .env_remove("TONGHOP_CONFIG")
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "tonghop run\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let summary = json(&work.join("out/2026-10/summary.json"));
    assert_eq!(summary["reported"], 18);
    assert_eq!(summary["roster"], 18);
    assert_eq!(summary["totals"], manifest["totals"]);
    let units = summary["units"].as_array().unwrap();
    for u in units {
        assert_eq!(u["status"], "accepted", "{u}");
        assert_eq!(u["errors"], 0, "{u}");
        assert_eq!(u["warnings"], 0, "valid forms raise no warning: {u}");
    }
    let rows: u64 = units
        .iter()
        .map(|u| u["activity_rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 1000);
    let newspaper = units.iter().find(|u| u["id"] == "bao-lam-dong").unwrap();
    assert_eq!(newspaper["activity_rows"], 420);

    let timings = &summary["timings"];
    for stage in STAGES {
        assert!(
            timings[stage].as_f64().is_some_and(|s| s >= 0.0),
            "stage {stage} missing from timings: {timings}"
        );
    }
    let workbook = Path::new(summary["workbook"].as_str().unwrap());
    assert!(workbook.is_file(), "{}", workbook.display());
    eprintln!("bench smoke (debug build): realistic month in {wall:.2?}; stages {timings}");
}

#[test]
fn bench_generator_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate("3x40", &a);
    generate("3x40", &b);
    let mut names: Vec<_> = fs::read_dir(a.join("inbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3);
    for name in names {
        let (x, y) = (
            fs::read(a.join("inbox").join(&name)).unwrap(),
            fs::read(b.join("inbox").join(&name)).unwrap(),
        );
        assert!(x == y, "{name:?} differs between two runs");
    }
}
