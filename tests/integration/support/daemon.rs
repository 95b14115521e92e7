//! The real `tonghop daemon` as a child process (stderr captured to a file), its config, and a
//! read-only view of the state store it writes, for the daemon tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Utc};

use super::bin;
use super::env::TestEnv;

/// The office's zone, as in the shipped config.
pub const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// The data folder of a test environment (the shipped config says `data = "../data"`).
pub fn data_dir(env: &TestEnv) -> PathBuf {
    env.dir.path().join("data")
}

/// Set `key = value` (value written as TOML) in `[section]` of a config text: the line that sets
/// the key, or the commented-out example of it, is replaced; if neither, the line is added right
/// under the section header.
pub fn set_key(text: &str, section: &str, key: &str, value: &str) -> String {
    let header = format!("[{section}]");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("no {header} in the config"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| start + 1 + i);
    let sets = |l: &str| {
        let l = l.trim_start().trim_start_matches('#').trim_start();
        l.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let new = format!("{key} = {value}");
    match (start + 1..end).find(|&i| sets(&lines[i])) {
        Some(i) => lines[i] = new,
        None => lines.insert(start + 1, new),
    }
    lines.join("\n") + "\n"
}

/// A cron expression (six fields, seconds first) for one fixed local time: it fires once a year.
pub fn cron_at(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&TZ);
    use chrono::Timelike;
    format!(
        "{} {} {} {} {} *",
        l.second(),
        l.minute(),
        l.hour(),
        l.day(),
        l.month()
    )
}

/// A time that neither fires during a test nor is due for a catch-up: 150 days from now.
pub fn never() -> String {
    let mut t = Utc::now() + chrono::Duration::days(150);
    if t.with_timezone(&TZ).day() == 29 && t.with_timezone(&TZ).month() == 2 {
        t += chrono::Duration::days(1);
    }
    cron_at(t)
}

/// The period the daemon sends at `t`: the month before the one `t` falls in, locally.
pub fn period_before(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&TZ);
    let (y, m) = if l.month() == 1 {
        (l.year() - 1, 12)
    } else {
        (l.year(), l.month() - 1)
    };
    format!("{y}-{m:02}")
}

/// The config every daemon test starts from: `send` as given, reminders and scans out of the way,
/// any free control port, no settling time, retries after 1 s (at most 2 s).
pub fn daemon_config(env: &TestEnv, send: &str) {
    let send = format!("{send:?}");
    let never = format!("{:?}", never());
    env.edit_config(|t| {
        let t = set_key(&t, "schedule", "send", &send);
        let t = set_key(&t, "schedule", "remind", &never);
        let t = set_key(&t, "schedule", "scan", &never);
        let t = set_key(&t, "intake", "settle_seconds", "0");
        let t = set_key(&t, "daemon", "control_port", "0");
        let t = set_key(&t, "daemon", "retry_first_seconds", "1");
        let t = set_key(&t, "daemon", "retry_max_seconds", "2");
        set_key(&t, "daemon", "shutdown_grace_seconds", "60")
    });
}

/// Replace `[mail.smtp]` (the last table of the config) and switch the transport to SMTP.
pub fn use_smtp(env: &TestEnv, smtp_table: &str) {
    env.edit_config(|t| {
        let head = &t[..t.find("\n[mail.smtp]").expect("a [mail.smtp] table") + 1];
        let head = set_key(head, "mail", "transport", "\"smtp\"");
        head + smtp_table
    });
}

static LOGS: AtomicUsize = AtomicUsize::new(0);

/// A running `tonghop daemon --config <env's config>`; killed (SIGKILL) on drop if still running.
pub struct Daemon {
    child: Child,
    /// Its stderr: the log.
    pub log_path: PathBuf,
    status: Option<ExitStatus>,
}

impl Daemon {
    pub fn start(env: &TestEnv) -> Daemon {
        Daemon::start_with_env(env, &[])
    }

    pub fn start_with_env(env: &TestEnv, vars: &[(&str, &str)]) -> Daemon {
        let n = LOGS.fetch_add(1, Ordering::Relaxed);
        let log_path = env.dir.path().join(format!("daemon-{n}.log"));
        let log = fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(bin());
        cmd.args(["daemon", "--log", "info", "--config"])
            .arg(&env.config)
            .current_dir(env.dir.path())
            .env_remove("TONGHOP_CONFIG")
            .env_remove("TONGHOP_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start tonghop daemon");
        Daemon {
            child,
            log_path,
            status: None,
        }
    }

    /// Start with `TONGHOP_CRASH_AT=<point>` and wait until the daemon kills itself there
    /// (SIGKILL at that exact moment: no race between a log line and an outside `kill -9`).
    pub fn crash_at(env: &TestEnv, point: &str, timeout: Duration) -> String {
        use std::os::unix::process::ExitStatusExt;
        let mut d = Daemon::start_with_env(env, &[("TONGHOP_CRASH_AT", point)]);
        let status = d.wait_exit(timeout);
        assert_eq!(
            status.signal(),
            Some(9),
            "the daemon should die by SIGKILL at {point:?}, got {status}\n--- log\n{}",
            d.log()
        );
        let log = d.log();
        assert!(log.contains("crash point reached"), "{log}");
        log
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// How many log lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Wait until a log line contains `needle`; panics (with the log) on timeout or if the
    /// daemon exits first. Returns the log so far.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if let Some(status) = self.try_wait() {
                panic!("the daemon exited ({status}) before logging {needle:?}\n--- log\n{log}");
            }
            assert!(
                start.elapsed() < timeout,
                "no {needle:?} in the daemon's log after {timeout:?}\n--- log\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Wait for the process to end by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.try_wait() {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "the daemon did not exit within {timeout:?}\n--- log\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (`kill -TERM <pid>`), then wait for the exit; returns the exit code.
    pub fn terminate(&mut self, timeout: Duration) -> i32 {
        if self.try_wait().is_none() {
            let ok = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill -TERM {}", self.pid());
        }
        let status = self.wait_exit(timeout);
        status
            .code()
            .unwrap_or_else(|| panic!("ended by a signal: {status}\n--- log\n{}", self.log()))
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            self.status = Some(self.child.wait().unwrap());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `f` every 50 ms until it returns `Some`, up to `timeout`; panics with `what()`.
pub fn wait_until<T>(
    timeout: Duration,
    what: impl Fn() -> String,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out: {}", what());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A delivery as recorded in the state store.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub run_id: Option<i64>,
    pub kind: String,
    pub period: String,
    pub recipients: String,
    pub message_id: String,
    pub eml_path: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub created_at: String,
    /// JSON: `[{"address", "reply"}]`, the recipients refused while the others got it.
    pub refused: String,
}

/// A run as recorded in the state store.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub trigger: String,
    pub period: String,
    pub ended_at: Option<String>,
    pub outcome: String,
}

/// A file as recorded in the state store.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub path: String,
    pub sha256: String,
    pub unit: Option<String>,
    pub outcome: String,
    pub archive_path: Option<String>,
}

/// The state store, opened read-only (the daemon may be writing it).
pub struct State {
    conn: rusqlite::Connection,
}

impl State {
    pub fn open(data: &Path) -> State {
        // Read-write without create, but query-only: a read-only connection cannot recover the
        // WAL of a daemon killed with -9 and fails with "attempt to write a readonly database"
        // (SQLITE_READONLY_RECOVERY), which made the kill loop flaky under load.
        let conn = rusqlite::Connection::open_with_flags(
            data.join("tonghop.sqlite3"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.pragma_update(None, "query_only", true).unwrap();
        State { conn }
    }

    /// `None` while the daemon has not created (and migrated) the store yet.
    pub fn try_open(data: &Path) -> Option<State> {
        if !data.join("tonghop.sqlite3").is_file() {
            return None;
        }
        let state = State::open(data);
        let version: i64 = state
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        (version > 0).then_some(state)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, run_id, kind, period, recipients, message_id, eml_path, status, attempts,
                        last_error, next_attempt_at, created_at, refused FROM deliveries ORDER BY id",
            )
            .unwrap();
        st.query_map([], |r| {
            Ok(Delivery {
                id: r.get(0)?,
                run_id: r.get(1)?,
                kind: r.get(2)?,
                period: r.get(3)?,
                recipients: r.get(4)?,
                message_id: r.get(5)?,
                eml_path: r.get(6)?,
                status: r.get(7)?,
                attempts: r.get(8)?,
                last_error: r.get(9)?,
                next_attempt_at: r.get(10)?,
                created_at: r.get(11)?,
                refused: r.get(12)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    pub fn deliveries_of(&self, kind: &str) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.kind == kind)
            .collect()
    }

    pub fn runs(&self) -> Vec<RunRow> {
        let mut st = self
            .conn
            .prepare("SELECT id, trigger, period, ended_at, outcome FROM runs ORDER BY id")
            .unwrap();
        st.query_map([], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                trigger: r.get(1)?,
                period: r.get(2)?,
                ended_at: r.get(3)?,
                outcome: r.get(4)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    pub fn files(&self) -> Vec<FileRow> {
        let mut st = self
            .conn
            .prepare("SELECT path, sha256, unit, outcome, archive_path FROM files ORDER BY path")
            .unwrap();
        st.query_map([], |r| {
            Ok(FileRow {
                path: r.get(0)?,
                sha256: r.get(1)?,
                unit: r.get(2)?,
                outcome: r.get(3)?,
                archive_path: r.get(4)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// The summary JSON a run stored when it finished (what the scan compares late files with).
    pub fn run_summary(&self, run: i64) -> Option<String> {
        self.conn
            .query_row("SELECT summary FROM runs WHERE id = ?1", [run], |r| {
                r.get(0)
            })
            .unwrap()
    }

    /// (job, period, trigger) of every scheduled job recorded as done.
    pub fn jobs_done(&self) -> Vec<(String, String, String)> {
        let mut st = self
            .conn
            .prepare("SELECT job, period, trigger FROM jobs_done ORDER BY job, period")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// The report deliveries of a period with status `sent`, once the store exists.
pub fn sent_reports(data: &Path, period: &str) -> Vec<Delivery> {
    State::try_open(data)
        .map(|s| {
            s.deliveries_of("report")
                .into_iter()
                .filter(|d| d.period == period && d.status == "sent")
                .collect()
        })
        .unwrap_or_default()
}

/// The Message-ID header of an .eml file, with its angle brackets.
pub fn message_id_of(eml: &Path) -> String {
    let raw = fs::read(eml).unwrap();
    let msg = mail_parser::MessageParser::default()
        .parse(&raw)
        .unwrap_or_else(|| panic!("{} does not parse as a mail", eml.display()));
    format!("<{}>", msg.message_id().expect("a Message-ID"))
}
