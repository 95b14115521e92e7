//! How long `tonghop status` takes to answer from the state store (issue 8: "a status query on
//! 1,000 units and 10,000 recorded files takes well under 50 ms"). Figures are printed, not
//! asserted; BENCHMARKS.md records them.
//!
//!     cargo run --release --example status_query [UNITS] [FILES_PER_UNIT] [REPEATS] [IN_INBOX] [RECORDED]
//!
//! Builds, in a temp folder, a roster of UNITS units (default 1,000), an inbox of
//! UNITS × FILES_PER_UNIT files (default 10: nine earlier versions and the latest; every version of
//! one unit in ten rejected), and a state store where each file's check is recorded as the daemon's scan records
//! it. With IN_INBOX, only the latest IN_INBOX versions of each unit are still in the inbox (the
//! others were recorded and then taken away, as an office tidying its folder). With RECORDED = 0,
//! nothing is recorded: every file is new to the store (a daemon that has not scanned yet), and
//! status names each one as not yet checked. Then calls `app::operator::status` REPEATS times (default 20) and prints the times. What
//! is timed is the whole query: listing the inbox (metadata), opening the store, loading the
//! recorded checks, choosing each unit's report, the report's deliveries, the next jobs, the
//! control-port probe (nothing listens on it).

use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use tonghop::config::{Roster, Settings, Unit};
use tonghop::period::Period;
use tonghop::state::store::{FileCheck, FileSeen, Store};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: UNITS FILES_PER_UNIT REPEATS"))
        .collect();
    let units = args.first().copied().unwrap_or(1000);
    let per_unit = args.get(1).copied().unwrap_or(10);
    let repeats = args.get(2).copied().unwrap_or(20);
    let in_inbox = args.get(3).copied().unwrap_or(per_unit).min(per_unit);
    let record = args.get(4).is_none_or(|&r| r != 0);

    let dir = tempfile::tempdir().expect("temp folder");
    let mut settings = Settings::embedded().expect("embedded settings");
    settings.inbox = dir.path().join("inbox");
    settings.out = dir.path().join("out");
    settings.data = dir.path().join("data");
    settings.settle = Duration::ZERO;
    // A port nothing listens on: the probe is answered "refused" at once, as with no daemon.
    settings.daemon.control_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    settings.roster = Roster {
        units: (1..=units)
            .map(|i| Unit {
                id: format!("u{i:04}"),
                name: format!("Đơn vị {i:04}"),
                group: format!("Nhóm {}", (i - 1) / 100 + 1),
                aliases: Vec::new(),
                email: None,
            })
            .collect(),
    };
    std::fs::create_dir_all(&settings.inbox).expect("inbox");

    let t = Instant::now();
    let store = Store::open(&settings.data).expect("store");
    let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-02T09:00:00+07:00")
        .expect("time")
        .to_utc();
    let rejected = r#"[{"severity":"error","kind":"not_a_number","sheet":"Chỉ tiêu","cell":"E14","message":"chỉ tiêu TB (Kỳ này): \"khoảng 20\" không phải là số"}]"#;
    store
        .transaction(|s| {
            for u in &settings.roster.units {
                for k in 1..=per_unit {
                    let rel = format!("{} - BC KL14 T10-2026 (bản {k}).xlsx", u.name);
                    let when = base + chrono::Duration::minutes(k as i64);
                    let size = rel.len() as u64 + 1;
                    if k > per_unit - in_inbox {
                        let path = settings.inbox.join(&rel);
                        std::fs::write(&path, format!("{rel}\n")).expect("inbox file");
                        std::fs::File::options()
                            .write(true)
                            .open(&path)
                            .and_then(|f| f.set_modified(SystemTime::from(when)))
                            .expect("mtime");
                    }
                    let mtime = when.with_timezone(&settings.timezone).fixed_offset();
                    // One unit in ten sent nothing valid: all its versions are rejected.
                    let findings = if u.id.ends_with('7') { rejected } else { "[]" };
                    let sha = format!("{:064x}", k as u128 * 1_000_000 + u.id.len() as u128);
                    if !record {
                        continue;
                    }
                    s.record_file(
                        &FileSeen {
                            path: &rel,
                            sha256: &sha,
                            size,
                            mtime,
                            unit: Some(&u.id),
                            period: Some("2026-10"),
                            outcome: "accepted",
                            findings_json: findings,
                            archive_path: None,
                            check: Some(FileCheck {
                                mtime_ns: mtime.timestamp_nanos_opt().expect("in range"),
                                examined: true,
                                findings_json: findings,
                            }),
                        },
                        None,
                        base,
                    )?;
                }
            }
            Ok(())
        })
        .expect("record");
    drop(store);
    println!(
        "{} units, {} files recorded, {} of them in the inbox (set up in {:.1} s)",
        units,
        if record { units * per_unit } else { 0 },
        units * in_inbox,
        t.elapsed().as_secs_f64()
    );

    let period = Period::month(2026, 10);
    let now = DateTime::parse_from_rfc3339("2026-11-10T08:00:00+07:00")
        .expect("time")
        .to_utc();
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    let cpu_before = cpu_time();
    for _ in 0..repeats {
        let t = Instant::now();
        // (The CLI asks the control port whether a daemon runs and passes the answer in.)
        let daemon = tonghop::app::operator::DaemonState {
            port: 8787,
            running: false,
            pid: None,
        };
        let s = tonghop::app::operator::status(&settings, period, now, daemon).expect("status");
        times.push(t.elapsed());
        last = Some(s);
    }
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(a, b)| (a - b) / repeats as f64);
    let s = last.expect("at least one repeat");
    let rejected_units = s
        .units
        .iter()
        .filter(|u| u.status == tonghop::pipeline::consolidate::UnitStatus::Rejected)
        .count();
    if record {
        assert_eq!(
            (s.reported + rejected_units, s.unchecked.len()),
            (units, 0),
            "every unit judged from the store"
        );
    } else {
        assert_eq!((s.reported, s.unchecked.len()), (0, units * in_inbox));
        assert!(
            s.unchecked.iter().all(|f| f.unit.is_some()),
            "named by file name"
        );
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "status: {} accepted, {} rejected, {} not yet checked; {} queries: min {:.1} ms, median {:.1} ms, max {:.1} ms; CPU time (all threads) {} ms a query",
        s.reported,
        rejected_units,
        s.unchecked.len(),
        repeats,
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        cpu.map(|c| format!("{:.0}", c * 1000.0))
            .unwrap_or_else(|| "?".into())
    );
    // Two parts on their own, for where the time goes.
    let median = |f: &mut dyn FnMut()| {
        let mut t: Vec<Duration> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        t.sort();
        ms(t[t.len() / 2])
    };
    let listing = median(&mut || {
        let scan = tonghop::pipeline::intake::scan(&settings.inbox, now.into(), settings.settle)
            .expect("scan");
        assert_eq!(scan.submissions.len(), units * in_inbox);
    });
    let loading = median(&mut || {
        let store = Store::open(&settings.data).expect("store");
        let expected = if record { units * per_unit } else { 0 };
        assert_eq!(store.checked_files().expect("checks").len(), expected);
    });
    println!(
        "of which (medians) listing the inbox, metadata only: {listing:.1} ms; opening the store and loading the recorded checks: {loading:.1} ms"
    );
}

/// User + system CPU time of this process so far, in seconds (Linux: /proc/self/stat, in clock
/// ticks of 10 ms: average it over many queries). What a query costs whatever else the machine
/// is doing, where wall time also counts the wait for a core.
fn cpu_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
