//! The state store: an SQLite file in the data folder (`tonghop.sqlite3`), created and migrated
//! automatically. It remembers every file seen, every run and every delivery, so that a restart
//! or a crash knows what was already sent. An operator can open it with `sqlite3`.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const FILE_NAME: &str = "tonghop.sqlite3";

/// Schema migrations, in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: files, runs, deliveries, scheduled jobs done.
    "CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL,
        mtime TEXT NOT NULL,
        unit TEXT,
        period TEXT,
        outcome TEXT NOT NULL,
        findings TEXT NOT NULL,
        archive_path TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_run INTEGER,
        UNIQUE (path, sha256)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        trigger TEXT NOT NULL,
        period TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT NOT NULL,
        error TEXT,
        workbook TEXT,
        summary TEXT,
        pid INTEGER NOT NULL
    );
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        unit TEXT,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        eml_path TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        server_reply TEXT
    );
    CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at);
    CREATE INDEX deliveries_period ON deliveries(period, kind);
    CREATE TABLE jobs_done (
        job TEXT NOT NULL,
        period TEXT NOT NULL,
        scheduled_for TEXT NOT NULL,
        done_at TEXT NOT NULL,
        trigger TEXT NOT NULL,
        PRIMARY KEY (job, period)
    );",
    // 2: runs a crash left open are `interrupted` (when that was noticed); a delivery attempt
    // records its start (a hand-over interrupted by a crash is told at the next start) and the
    // recipients the server refused while it accepted the others.
    "ALTER TABLE runs ADD COLUMN noticed_at TEXT;
    UPDATE runs SET outcome = 'interrupted', noticed_at = ended_at, ended_at = NULL, error = NULL
        WHERE outcome = 'abandoned';
    ALTER TABLE deliveries ADD COLUMN attempt_started_at TEXT;
    ALTER TABLE deliveries ADD COLUMN refused TEXT NOT NULL DEFAULT '[]';",
    // 3: what checking a file said before the run judged it (its own findings, whether a report
    // could be read from it) and its modification time as intake sees it, so that `status` finds
    // a file again by path, size and mtime and chooses each unit's report without reading it.
    // Rows of older versions have neither: `status` shows those files as not yet checked.
    "ALTER TABLE files ADD COLUMN mtime_ns INTEGER;
    ALTER TABLE files ADD COLUMN examined INTEGER;
    ALTER TABLE files ADD COLUMN own_findings TEXT;
    CREATE INDEX files_by_metadata ON files(path, size, mtime_ns);",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "state store {path} was written by a newer tonghop (schema {found}, this one knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot spool a mail: {0}")]
    Spool(String),
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A value the store keeps as text: `as_str` is the text written (and what `--json` shows),
/// `parse` reads it back. The SQL boundary converts with them; a text the program never wrote
/// is an error of the store, not a guess.
macro_rules! stored_as_text {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<$name> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("not a {}: {text:?}", stringify!($name)).into())
                })
            }
        }
    };
}

/// Delivery states. `pending` waits for (another) attempt; `sent` and `failed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

stored_as_text!(DeliveryStatus {
    Pending => "pending",
    Sent => "sent",
    Failed => "failed",
});

/// What a mail is (the `kind` of a delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// The period's consolidated report.
    Report,
    /// A supplementary report ("báo cáo bổ sung"): what changed since the report was sent.
    Supplement,
    /// A reminder to a unit that has not reported.
    Reminder,
    /// A mail to the operator about a mail that could not be delivered.
    Alert,
}

impl DeliveryKind {
    /// The kind of mail as the clerk and the operator read it: "Thư báo cáo".
    pub fn label(self) -> &'static str {
        match self {
            DeliveryKind::Report => "Thư báo cáo",
            DeliveryKind::Supplement => "Thư báo cáo bổ sung",
            DeliveryKind::Reminder => "Thư nhắc nộp",
            DeliveryKind::Alert => "Thư báo lỗi cho người quản trị",
        }
    }
}

stored_as_text!(DeliveryKind {
    Report => "report",
    Supplement => "supplement",
    Reminder => "reminder",
    Alert => "alert",
});

impl DeliveryKind {
    /// A report or a supplementary report: a mail of the period's figures.
    pub fn carries_figures(self) -> bool {
        matches!(self, DeliveryKind::Report | DeliveryKind::Supplement)
    }
}

/// What started a run (`tonghop run`, the schedule, the catch-up at start), as recorded; a
/// supplementary report's run is recorded as `supplement`, whatever started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Schedule,
    CatchUp,
    Supplement,
}

stored_as_text!(Trigger {
    Manual => "manual",
    Schedule => "schedule",
    CatchUp => "catch_up",
    Supplement => "supplement",
});

/// How a run ended (the `outcome` of a run), or that it is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not ended (or its process died: see `interrupt_stale_runs`).
    Running,
    /// The report was made and its mail queued or sent.
    Ok,
    /// As `Ok`, with some unit's file rejected or some file of no unit.
    RejectedFiles,
    /// No report: the run failed (its `error` says why).
    Failed,
    /// A supplementary report with nothing to say: nothing was sent.
    NothingChanged,
    /// Not made: a mail of the period still waits in the queue.
    Skipped,
    /// Its process ended during the run (noticed later: `noticed_at`).
    Interrupted,
}

stored_as_text!(RunStatus {
    Running => "running",
    Ok => "ok",
    RejectedFiles => "rejected_files",
    Failed => "failed",
    NothingChanged => "nothing_changed",
    Skipped => "skipped",
    Interrupted => "interrupted",
});

/// Times as the store keeps them and `--json` shows them: RFC 3339 in UTC to the millisecond
/// (`2026-11-04T01:00:00.000Z`).
pub mod stored_time {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn text(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc())
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(t))
    }

    pub fn serialize_opt<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&text(t)),
            None => s.serialize_none(),
        }
    }
}

/// A time column, read as `stored_time` wrote it.
fn time_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = r.get(i)?;
    stored_time::parse(&text).ok_or_else(|| not_a_time(i, &text))
}

fn time_opt_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| stored_time::parse(&t).ok_or_else(|| not_a_time(i, &t)))
        .transpose()
}

fn not_a_time(i: usize, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!("not an RFC 3339 time: {text:?}").into(),
    )
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub trigger: Trigger,
    pub period: String,
    #[serde(serialize_with = "stored_time::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "stored_time::serialize_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: RunStatus,
    pub error: Option<String>,
    pub workbook: Option<String>,
    pub pid: i64,
    /// For an `interrupted` run: when a later process noticed that the one running it had died
    /// (when it died is not known; `ended_at` stays empty).
    #[serde(serialize_with = "stored_time::serialize_opt")]
    pub noticed_at: Option<DateTime<Utc>>,
}

pub use crate::pipeline::compose::Refused;

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub run_id: Option<i64>,
    pub kind: DeliveryKind,
    pub period: String,
    pub unit: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// The spooled message: exactly the bytes sent.
    pub eml_path: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(serialize_with = "stored_time::serialize")]
    pub next_attempt_at: DateTime<Utc>,
    #[serde(serialize_with = "stored_time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "stored_time::serialize_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub server_reply: Option<String>,
    /// A supplement's number ("bổ sung lần N"): its run's rank among the period's supplement
    /// runs, as `run_once` numbered it (a resent copy keeps the number of its run).
    pub supplement_number: Option<u32>,
    /// Recipients refused by the server while the others got the mail (status `sent`).
    pub refused: Vec<Refused>,
    /// Set when an attempt starts and cleared when its end is recorded: still set on a
    /// `pending` mail means a process died during the hand-over, which may have reached the
    /// server (SMTP) or the outbox folder.
    #[serde(serialize_with = "stored_time::serialize_opt")]
    pub attempt_started_at: Option<DateTime<Utc>>,
}

/// A new delivery to record before the first attempt.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub run_id: Option<i64>,
    pub kind: DeliveryKind,
    pub period: &'a str,
    pub unit: Option<&'a str>,
    pub recipients: &'a [String],
    pub subject: &'a str,
    pub message_id: &'a str,
    pub eml_path: &'a Path,
}

/// A file as seen by a run or by the daemon's scan.
#[derive(Debug, Clone)]
pub struct FileSeen<'a> {
    pub path: &'a str,
    pub sha256: &'a str,
    pub size: u64,
    pub mtime: DateTime<FixedOffset>,
    pub unit: Option<&'a str>,
    pub period: Option<&'a str>,
    pub outcome: &'a str,
    pub findings_json: &'a str,
    pub archive_path: Option<&'a str>,
    /// What checking the file itself said, before consolidation judged it against the other
    /// files (`None` for a file that was not checked: skipped, or of an older store).
    pub check: Option<FileCheck<'a>>,
}

/// What reading and checking one file said, keyed by its metadata: enough for `status` to
/// rebuild the file's `Inspected` (without its figures) and choose each unit's report again.
#[derive(Debug, Clone, Copy)]
pub struct FileCheck<'a> {
    /// Modification time, nanoseconds since the epoch, as intake saw it.
    pub mtime_ns: i64,
    /// A report was read from the file (its content examined).
    pub examined: bool,
    /// The file's own findings (JSON), before consolidation added any.
    pub findings_json: &'a str,
}

/// A file's recorded check, found by path, size and modification time (see [`Store::checked_files`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedFile {
    pub sha256: String,
    pub unit: Option<String>,
    /// The period the file declares.
    pub period: Option<String>,
    pub examined: bool,
    /// The file's own findings (JSON).
    pub findings: String,
    /// When a run or scan last saw it (RFC 3339, UTC).
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRow {
    pub path: String,
    pub sha256: String,
    pub size: i64,
    pub mtime: String,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub outcome: String,
    pub findings: String,
    pub archive_path: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Create the data folder readable by its owner only (it holds the archive and the control
/// token); an existing folder is left as it is.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Close the runs a process that died left `running` (see [`Store::interrupt_stale_runs`]),
/// logging each. The caller holds the run lock.
pub fn close_interrupted_runs(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<RunRow>, StoreError> {
    let closed = store.interrupt_stale_runs(now)?;
    for r in &closed {
        tracing::warn!(
            run_id = r.id,
            period = %r.period,
            trigger = %r.trigger,
            started_at = %ts(r.started_at),
            pid = r.pid,
            "a run was interrupted (its process ended during the run); marked interrupted"
        );
    }
    Ok(closed)
}

fn ts(t: DateTime<Utc>) -> String {
    stored_time::text(&t)
}

/// How long a statement waits for another process's lock before it fails.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Put the store in WAL mode. Switching a new store to WAL needs a lock that SQLite does not wait
/// for (the busy handler is skipped there), so when several processes open a new store at once,
/// all but one get SQLITE_BUSY at once: try again until `BUSY_WAIT` has passed.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_WAIT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Store {
    /// Open (creating and migrating) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        create_private_dir(data_dir).map_err(|e| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source: e,
        })?;
        let path = data_dir.join(FILE_NAME);
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        // Other processes (the operator's commands beside the daemon) wait instead of failing.
        conn.busy_timeout(BUSY_WAIT).map_err(err)?;
        set_wal(&conn).map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let mut store = Store { conn, path };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        if version == known {
            return Ok(());
        }
        // Every step left, in one transaction: another process sees the store as it was or
        // fully migrated, never half-way (a reader between two steps would miss a column).
        // Another process (the daemon and a `tonghop run` started together) may be migrating
        // the same new store: take the write lock first, then see what is left to do.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let done: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        for v in done + 1..=known {
            tracing::info!(store = %self.path.display(), version = v, "state store migrated");
        }
        Ok(())
    }

    /// Run `f` in one transaction: all of it is recorded, or none.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err())?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT").map_err(self.err())?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.err())
    }

    // --- runs -------------------------------------------------------------------------------

    pub fn start_run(
        &self,
        trigger: Trigger,
        period: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (trigger, period, started_at, outcome, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![trigger, period, ts(now), RunStatus::Running, std::process::id()],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(
        &self,
        id: i64,
        now: DateTime<Utc>,
        outcome: RunStatus,
        error: Option<&str>,
        workbook: Option<&str>,
        summary: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, outcome = ?3, error = ?4, workbook = COALESCE(?5, workbook), summary = COALESCE(?6, summary) WHERE id = ?1",
                params![id, ts(now), outcome, error, workbook, summary],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Record what a run's report holds before its mail is queued (see `run_once`).
    pub fn set_run_summary(
        &self,
        id: i64,
        workbook: &str,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET workbook = ?2, summary = ?3 WHERE id = ?1",
                params![id, workbook, summary],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Runs left `running` by a process that died, marked `interrupted` with `now` as when it
    /// was noticed. The caller holds the run lock, so no live process owns them. Returns them.
    pub fn interrupt_stale_runs(&self, now: DateTime<Utc>) -> Result<Vec<RunRow>, StoreError> {
        let stale: Vec<RunRow> = self
            .runs(i64::MAX as usize)?
            .into_iter()
            .filter(|r| r.outcome == RunStatus::Running)
            .collect();
        self.conn
            .execute(
                "UPDATE runs SET outcome = ?2, noticed_at = ?1 WHERE outcome = ?3",
                params![ts(now), RunStatus::Interrupted, RunStatus::Running],
            )
            .map_err(self.err())?;
        // As stored: to the millisecond.
        let noticed = stored_time::parse(&ts(now));
        Ok(stale
            .into_iter()
            .map(|r| RunRow {
                outcome: RunStatus::Interrupted,
                noticed_at: noticed,
                ..r
            })
            .collect())
    }

    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, trigger, period, started_at, ended_at, outcome, error, workbook, pid, noticed_at FROM runs ORDER BY id DESC LIMIT ?1",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![limit as i64], |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    trigger: r.get(1)?,
                    period: r.get(2)?,
                    started_at: time_at(r, 3)?,
                    ended_at: time_opt_at(r, 4)?,
                    outcome: r.get(5)?,
                    error: r.get(6)?,
                    workbook: r.get(7)?,
                    pid: r.get(8)?,
                    noticed_at: time_opt_at(r, 9)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    pub fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        Ok(self
            .runs(i64::MAX as usize)?
            .into_iter()
            .find(|r| r.id == id))
    }

    /// The summary JSON a run stored.
    pub fn run_summary(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT summary FROM runs WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }

    // --- files ------------------------------------------------------------------------------

    /// Record a file seen by a run (`run_id`) or by the daemon's scan (`None`): one row per
    /// path and content. A scan keeps the run a row was last seen by.
    pub fn record_file(
        &self,
        f: &FileSeen<'_>,
        run_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let check = f.check.as_ref();
        self.conn
            .prepare_cached(
                "INSERT INTO files (path, sha256, size, mtime, unit, period, outcome, findings, archive_path, first_seen, last_seen, last_run, mtime_ns, examined, own_findings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (path, sha256) DO UPDATE SET
                   size = excluded.size, mtime = excluded.mtime, unit = excluded.unit, period = excluded.period,
                   outcome = excluded.outcome, findings = excluded.findings,
                   archive_path = COALESCE(excluded.archive_path, files.archive_path),
                   last_seen = excluded.last_seen, last_run = COALESCE(excluded.last_run, files.last_run),
                   mtime_ns = COALESCE(excluded.mtime_ns, files.mtime_ns),
                   examined = COALESCE(excluded.examined, files.examined),
                   own_findings = COALESCE(excluded.own_findings, files.own_findings)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    f.path,
                    f.sha256,
                    f.size as i64,
                    f.mtime.to_rfc3339(),
                    f.unit,
                    f.period,
                    f.outcome,
                    f.findings_json,
                    f.archive_path,
                    ts(now),
                    run_id,
                    check.map(|c| c.mtime_ns),
                    check.map(|c| c.examined),
                    check.map(|c| c.findings_json),
                ])
            })
            .map_err(self.err())?;
        Ok(())
    }

    /// Every file whose check is recorded, by (path, size, mtime in ns): what `status` looks a
    /// file of the inbox up in. One query for all (a status page asks for thousands at once);
    /// when a path and metadata were recorded twice (the same bytes under two hashes cannot be,
    /// so only a rewrite that kept size and mtime), the row seen last wins.
    pub fn checked_files(
        &self,
    ) -> Result<std::collections::HashMap<(String, u64, i64), CheckedFile>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT path, size, mtime_ns, sha256, unit, period, examined, own_findings, last_seen
                 FROM files
                 WHERE mtime_ns IS NOT NULL AND examined IS NOT NULL AND own_findings IS NOT NULL",
            )
            .map_err(self.err())?;
        let mut rows = st.query([]).map_err(self.err())?;
        let mut out: std::collections::HashMap<_, CheckedFile> = std::collections::HashMap::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let key = (
                r.get::<_, String>(0).map_err(self.err())?,
                r.get::<_, i64>(1).map_err(self.err())? as u64,
                r.get(2).map_err(self.err())?,
            );
            let check = CheckedFile {
                sha256: r.get(3).map_err(self.err())?,
                unit: r.get(4).map_err(self.err())?,
                period: r.get(5).map_err(self.err())?,
                examined: r.get(6).map_err(self.err())?,
                findings: r.get(7).map_err(self.err())?,
                last_seen: r.get(8).map_err(self.err())?,
            };
            // (Decided here: an ORDER BY in the query sorted every row.)
            match out.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if e.get().last_seen <= check.last_seen {
                        e.insert(check);
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(check);
                }
            }
        }
        Ok(out)
    }

    pub fn files(&self, period: Option<&str>) -> Result<Vec<FileRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT path, sha256, size, mtime, unit, period, outcome, findings, archive_path, first_seen, last_seen
                 FROM files WHERE ?1 IS NULL OR period = ?1 ORDER BY path, first_seen",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![period], |r| {
                Ok(FileRow {
                    path: r.get(0)?,
                    sha256: r.get(1)?,
                    size: r.get(2)?,
                    mtime: r.get(3)?,
                    unit: r.get(4)?,
                    period: r.get(5)?,
                    outcome: r.get(6)?,
                    findings: r.get(7)?,
                    archive_path: r.get(8)?,
                    first_seen: r.get(9)?,
                    last_seen: r.get(10)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    // --- deliveries -------------------------------------------------------------------------

    /// Record a delivery before its first attempt (the message is already spooled on disk).
    pub fn add_delivery(&self, d: &NewDelivery<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO deliveries (run_id, kind, period, unit, recipients, subject, message_id, eml_path, status, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9)",
                params![
                    d.run_id,
                    d.kind,
                    d.period,
                    d.unit,
                    serde_json::to_string(d.recipients).expect("strings serialise"),
                    d.subject,
                    d.message_id,
                    d.eml_path.display().to_string(),
                    ts(now)
                ],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// An attempt begins: recorded (and committed) before the mail is handed over.
    pub fn begin_attempt(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET attempt_started_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Pending mails whose last attempt began and never recorded its end: the process died
    /// during the hand-over. The caller holds the run lock, so no attempt is in progress.
    pub fn interrupted_handovers(&self) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where(
            "status = 'pending' AND attempt_started_at IS NOT NULL ORDER BY id",
            [],
        )
    }

    /// The mail was taken: by every recipient, or by all but `refused` (refused for good).
    pub fn mark_sent(
        &self,
        id: i64,
        now: DateTime<Utc>,
        reply: Option<&str>,
        refused: &[Refused],
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?2, server_reply = ?3, attempts = attempts + 1,
                   last_error = NULL, attempt_started_at = NULL, refused = ?4 WHERE id = ?1",
                params![
                    id,
                    ts(now),
                    reply,
                    serde_json::to_string(refused).expect("strings serialise")
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// A failed attempt: `retry_at` = `Some` keeps it pending, `None` makes it final.
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let (status, next) = match retry_at {
            Some(t) => (DeliveryStatus::Pending, Some(ts(t))),
            None => (DeliveryStatus::Failed, None),
        };
        self.conn
            .execute(
                "UPDATE deliveries SET status = ?2, attempts = attempts + 1, last_error = ?3,
                   next_attempt_at = COALESCE(?4, next_attempt_at), attempt_started_at = NULL WHERE id = ?1",
                params![id, status, error, next],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Put a delivery back in the queue now (an operator's resend of a failed one).
    pub fn requeue(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )
            .map_err(self.err())?;
        Ok(())
    }

    fn deliveries_where(
        &self,
        clause: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT id, run_id, kind, period, unit, recipients, subject, message_id, eml_path, status, attempts,
                    last_error, next_attempt_at, created_at, sent_at, server_reply, refused,
                    attempt_started_at,
                    CASE WHEN kind = 'supplement' THEN (
                      SELECT COUNT(DISTINCT COALESCE(s.run_id, -s.id)) FROM deliveries s
                      WHERE s.kind = 'supplement' AND s.period = deliveries.period
                        AND s.id <= (SELECT MIN(f.id) FROM deliveries f WHERE f.kind = 'supplement'
                                     AND (f.id = deliveries.id OR f.run_id = deliveries.run_id)))
                    END
             FROM deliveries WHERE {clause}"
        );
        let mut st = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = st
            .query_map(p, |r| {
                let recipients: String = r.get(5)?;
                Ok(DeliveryRow {
                    id: r.get(0)?,
                    run_id: r.get(1)?,
                    kind: r.get(2)?,
                    period: r.get(3)?,
                    unit: r.get(4)?,
                    recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                    subject: r.get(6)?,
                    message_id: r.get(7)?,
                    eml_path: r.get(8)?,
                    status: r.get(9)?,
                    attempts: r.get(10)?,
                    last_error: r.get(11)?,
                    next_attempt_at: time_at(r, 12)?,
                    created_at: time_at(r, 13)?,
                    sent_at: time_opt_at(r, 14)?,
                    server_reply: r.get(15)?,
                    refused: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
                    attempt_started_at: time_opt_at(r, 17)?,
                    supplement_number: r.get(18)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Pending deliveries due at `now`, oldest first.
    pub fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where(
            "status = 'pending' AND next_attempt_at <= ?1 ORDER BY id",
            params![ts(now)],
        )
    }

    /// Every pending delivery, oldest first.
    pub fn pending_deliveries(&self) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where("status = 'pending' ORDER BY id", [])
    }

    pub fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>, StoreError> {
        Ok(self
            .deliveries_where("id = ?1", params![id])?
            .into_iter()
            .next())
    }

    pub fn deliveries_of_run(&self, run_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where("run_id = ?1 ORDER BY id", params![run_id])
    }

    pub fn recent_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where("1 = 1 ORDER BY id DESC LIMIT ?1", params![limit as i64])
    }

    /// The consolidated report of a period that is sent or on its way (pending), if any: what
    /// makes a second scheduled report for the period unnecessary.
    pub fn report_for(&self, period: &str) -> Result<Option<DeliveryRow>, StoreError> {
        Ok(self
            .deliveries_where(
                "period = ?1 AND kind = 'report' AND status IN ('sent', 'pending') ORDER BY id",
                params![period],
            )?
            .into_iter()
            .next())
    }

    /// The latest report or supplementary report of a period that was sent: its delivery. Latest
    /// by content (its run), so a copy of an older one resent later does not count as newer.
    pub fn latest_sent(&self, period: &str) -> Result<Option<DeliveryRow>, StoreError> {
        Ok(self
            .deliveries_where(
                "period = ?1 AND kind IN ('report', 'supplement') AND status = 'sent' AND run_id IS NOT NULL ORDER BY run_id DESC, id DESC LIMIT 1",
                params![period],
            )?
            .into_iter()
            .next())
    }

    /// The latest report or supplementary report of a period that is still waiting in the queue.
    pub fn latest_queued(&self, period: &str) -> Result<Option<DeliveryRow>, StoreError> {
        Ok(self
            .deliveries_where(
                "period = ?1 AND kind IN ('report', 'supplement') AND status = 'pending' ORDER BY id DESC LIMIT 1",
                params![period],
            )?
            .into_iter()
            .next())
    }

    /// Deliveries of one kind for a period (e.g. the reminders already made).
    pub fn deliveries_for(
        &self,
        period: &str,
        kind: DeliveryKind,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.deliveries_where(
            "period = ?1 AND kind = ?2 ORDER BY id",
            params![period, kind],
        )
    }

    // --- scheduled jobs ---------------------------------------------------------------------

    /// Whether a scheduled job was done for a period.
    pub fn job_done(&self, job: &str, period: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM jobs_done WHERE job = ?1 AND period = ?2",
                params![job, period],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(self.err())
    }

    pub fn mark_job_done(
        &self,
        job: &str,
        period: &str,
        scheduled_for: DateTime<Utc>,
        trigger: Trigger,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO jobs_done (job, period, scheduled_for, done_at, trigger) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job, period, ts(scheduled_for), ts(now), trigger],
            )
            .map_err(self.err())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-04T01:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn creates_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let id = s.start_run(Trigger::Manual, "2026-10", now()).unwrap();
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.runs(10).unwrap()[0].id, id);
        assert_eq!(s.runs(10).unwrap()[0].outcome, RunStatus::Running);
        let closed = s.interrupt_stale_runs(now()).unwrap();
        assert_eq!(closed.len(), 1);
        let row = &s.runs(10).unwrap()[0];
        assert_eq!(row.outcome, RunStatus::Interrupted);
        assert_eq!(row.ended_at, None, "when it died is not known");
        assert_eq!(row.noticed_at, Some(now()));
        assert_eq!(closed[0], *row);
        assert!(s.interrupt_stale_runs(now()).unwrap().is_empty(), "once");
    }

    #[test]
    fn a_version_1_store_keeps_its_rows_and_its_abandoned_runs_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (trigger, period, started_at, ended_at, outcome, error, pid)
               VALUES ('schedule', '2026-10', '2026-11-04T01:00:00.000Z', '2026-11-04T02:00:00.000Z',
                       'abandoned', 'the process ended during the run', 7);
             INSERT INTO deliveries (kind, period, recipients, subject, message_id, eml_path, status,
                       next_attempt_at, created_at)
               VALUES ('report', '2026-10', '[\"a@b.vn\"]', 'S', '<m@x>', '/s/m.eml', 'sent',
                       '2026-11-04T01:00:00.000Z', '2026-11-04T01:00:00.000Z');",
        )
        .unwrap();
        drop(conn);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let run = &s.runs(10).unwrap()[0];
        assert_eq!(run.outcome, RunStatus::Interrupted);
        assert_eq!(run.ended_at, None);
        assert_eq!(
            run.noticed_at,
            Some(now() + chrono::Duration::hours(1)),
            "when it was noticed: its old end"
        );
        assert_eq!(run.trigger, Trigger::Schedule);
        let d = s.delivery(1).unwrap().unwrap();
        assert_eq!((d.refused.len(), d.attempt_started_at), (0, None));
        assert_eq!(d.recipients, ["a@b.vn"]);
    }

    #[test]
    fn a_version_2_store_opens_and_its_files_count_as_not_yet_checked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO files (path, sha256, size, mtime, unit, period, outcome, findings,
                       first_seen, last_seen, last_run)
               VALUES ('a.xlsx', 'abc', 10, '2026-11-02T09:00:00+07:00', 'da-lat', '2026-10',
                       'accepted', '[]', '2026-11-04T01:00:00.000Z', '2026-11-04T01:00:00.000Z', 1);",
        )
        .unwrap();
        drop(conn);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), 3);
        assert_eq!(
            s.files(None).unwrap()[0].outcome,
            "accepted",
            "the row is kept"
        );
        // Its check was not recorded (no mtime_ns, no own findings): status does not trust it.
        assert!(s.checked_files().unwrap().is_empty());

        // The next scan records the same content with its check; the run that saw it stays.
        let t = DateTime::parse_from_rfc3339("2026-11-02T09:00:00+07:00").unwrap();
        let ns = t.timestamp_nanos_opt().unwrap();
        s.record_file(
            &FileSeen {
                path: "a.xlsx",
                sha256: "abc",
                size: 10,
                mtime: t,
                unit: Some("da-lat"),
                period: Some("2026-10"),
                outcome: "accepted",
                findings_json: "[]",
                archive_path: None,
                check: Some(FileCheck {
                    mtime_ns: ns,
                    examined: true,
                    findings_json: "[{\"severity\":\"warning\"}]",
                }),
            },
            None,
            now(),
        )
        .unwrap();
        let checked = s.checked_files().unwrap();
        assert_eq!(
            checked.get(&("a.xlsx".to_owned(), 10, ns)),
            Some(&CheckedFile {
                sha256: "abc".into(),
                unit: Some("da-lat".into()),
                period: Some("2026-10".into()),
                examined: true,
                findings: "[{\"severity\":\"warning\"}]".into(),
                last_seen: "2026-11-04T01:00:00.000Z".into(),
            })
        );
        assert_eq!(
            s.files(None).unwrap().len(),
            1,
            "one row per path and content"
        );
        let last_run: Option<i64> = s
            .conn
            .query_row("SELECT last_run FROM files", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            last_run,
            Some(1),
            "a scan keeps the run that last saw the file"
        );
    }

    #[test]
    fn processes_opening_a_new_store_together_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let opened: Vec<Result<i64, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        Store::open(dir.path())
                            .and_then(|s| s.schema_version())
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in opened {
            assert_eq!(r, Ok(MIGRATIONS.len() as i64));
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("newer tonghop"), "{err}");
    }

    #[test]
    fn delivery_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let run = s.start_run(Trigger::Schedule, "2026-10", now()).unwrap();
        let to = vec!["a@b.vn".to_string()];
        let d = NewDelivery {
            run_id: Some(run),
            kind: DeliveryKind::Report,
            period: "2026-10",
            unit: None,
            recipients: &to,
            subject: "S",
            message_id: "<x@y>",
            eml_path: Path::new("/spool/x.eml"),
        };
        let id = s.add_delivery(&d, now()).unwrap();
        assert!(
            s.report_for("2026-10").unwrap().is_some(),
            "pending counts as on its way"
        );
        assert_eq!(s.due_deliveries(now()).unwrap().len(), 1);
        let later = now() + chrono::Duration::minutes(2);
        s.mark_attempt_failed(id, "451 try later", Some(later))
            .unwrap();
        assert!(s.due_deliveries(now()).unwrap().is_empty());
        assert_eq!(s.due_deliveries(later).unwrap().len(), 1);
        s.begin_attempt(id, later).unwrap();
        assert_eq!(
            s.interrupted_handovers().unwrap().len(),
            1,
            "begun, not ended"
        );
        let refused = vec![Refused {
            address: "c@d.vn".into(),
            reply: "550 5.1.1 no such user".into(),
        }];
        s.mark_sent(id, later, Some("250 ok"), &refused).unwrap();
        assert!(
            s.interrupted_handovers().unwrap().is_empty(),
            "its end recorded"
        );
        let row = s.delivery(id).unwrap().unwrap();
        assert_eq!(row.status, DeliveryStatus::Sent);
        assert_eq!(row.attempts, 2);
        assert_eq!(row.recipients, to);
        assert_eq!(row.refused, refused);
        assert!(
            s.add_delivery(&d, now()).is_err(),
            "a Message-ID is recorded once"
        );
    }

    #[test]
    fn supplements_are_numbered_by_run_and_the_latest_sent_is_the_newest_content() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let to = vec!["a@b.vn".to_string()];
        let add = |run: i64, kind: DeliveryKind, id: &str| {
            s.add_delivery(
                &NewDelivery {
                    run_id: Some(run),
                    kind,
                    period: "2026-10",
                    unit: None,
                    recipients: &to,
                    subject: "S",
                    message_id: id,
                    eml_path: Path::new("/spool/x.eml"),
                },
                now(),
            )
            .unwrap()
        };
        let report_run = s.start_run(Trigger::Manual, "2026-10", now()).unwrap();
        let first_run = s.start_run(Trigger::Supplement, "2026-10", now()).unwrap();
        let second_run = s.start_run(Trigger::Supplement, "2026-10", now()).unwrap();
        let report = add(report_run, DeliveryKind::Report, "<r@x>");
        let first = add(first_run, DeliveryKind::Supplement, "<s1@x>");
        let second = add(second_run, DeliveryKind::Supplement, "<s2@x>");
        // A copy of the first, resent after the second: still "lần 1", and older content.
        let copy = add(first_run, DeliveryKind::Supplement, "<s1-copy@x>");
        let number = |id| s.delivery(id).unwrap().unwrap().supplement_number;
        assert_eq!(
            [number(report), number(first), number(second), number(copy)],
            [None, Some(1), Some(2), Some(1)]
        );
        assert_eq!(s.latest_queued("2026-10").unwrap().unwrap().id, copy);
        for id in [report, first, second, copy] {
            s.mark_sent(id, now(), None, &[]).unwrap();
        }
        assert!(s.latest_queued("2026-10").unwrap().is_none());
        assert_eq!(s.latest_sent("2026-10").unwrap().unwrap().id, second);
    }

    #[test]
    fn files_are_one_row_per_path_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-02T09:00:00+07:00").unwrap();
        let f = FileSeen {
            path: "a.xlsx",
            sha256: "abc",
            size: 10,
            mtime: t,
            unit: Some("da-lat"),
            period: Some("2026-10"),
            outcome: "accepted",
            findings_json: "[]",
            archive_path: Some("archive/x"),
            check: None,
        };
        s.record_file(&f, Some(1), now()).unwrap();
        s.record_file(
            &FileSeen {
                archive_path: None,
                ..f.clone()
            },
            Some(2),
            now(),
        )
        .unwrap();
        s.record_file(
            &FileSeen {
                sha256: "def",
                ..f.clone()
            },
            Some(2),
            now(),
        )
        .unwrap();
        let rows = s.files(Some("2026-10")).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].archive_path.as_deref(),
            Some("archive/x"),
            "an archive path is kept"
        );
    }

    /// Every kind, trigger and outcome is written as the text the store always held, reads back
    /// as itself, and shows the same text in `--json` (serde).
    #[test]
    fn every_stored_value_keeps_its_text() {
        use DeliveryKind as K;
        use RunStatus as R;
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            values: &[T],
            texts: &[&str],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            assert_eq!(values.len(), texts.len());
            for (v, text) in values.iter().zip(texts) {
                assert_eq!(as_str(*v), *text);
                assert_eq!(parse(text), Some(*v));
                assert_eq!(serde_json::to_value(v).unwrap(), *text);
            }
        }
        check(
            &[K::Report, K::Supplement, K::Reminder, K::Alert],
            &["report", "supplement", "reminder", "alert"],
            K::as_str,
            K::parse,
        );
        check(
            &[
                Trigger::Manual,
                Trigger::Schedule,
                Trigger::CatchUp,
                Trigger::Supplement,
            ],
            &["manual", "schedule", "catch_up", "supplement"],
            Trigger::as_str,
            Trigger::parse,
        );
        check(
            &[
                R::Running,
                R::Ok,
                R::RejectedFiles,
                R::Failed,
                R::NothingChanged,
                R::Skipped,
                R::Interrupted,
            ],
            &[
                "running",
                "ok",
                "rejected_files",
                "failed",
                "nothing_changed",
                "skipped",
                "interrupted",
            ],
            R::as_str,
            R::parse,
        );
        check(
            &[
                DeliveryStatus::Pending,
                DeliveryStatus::Sent,
                DeliveryStatus::Failed,
            ],
            &["pending", "sent", "failed"],
            DeliveryStatus::as_str,
            DeliveryStatus::parse,
        );
        assert_eq!(Trigger::parse("Manual"), None);
    }

    /// The rows are typed at the SQL boundary only: the text in the file (which an operator
    /// reads with `sqlite3`, and which older versions wrote) and the JSON of `history --json`
    /// stay as they were.
    #[test]
    fn typed_rows_are_stored_and_shown_as_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let run = s.start_run(Trigger::Supplement, "2026-10", now()).unwrap();
        let later = now() + chrono::Duration::milliseconds(61_250);
        s.finish_run(run, later, RunStatus::RejectedFiles, None, None, None)
            .unwrap();
        let to = vec!["a@b.vn".to_string()];
        let id = s
            .add_delivery(
                &NewDelivery {
                    run_id: Some(run),
                    kind: DeliveryKind::Supplement,
                    period: "2026-10",
                    unit: None,
                    recipients: &to,
                    subject: "S",
                    message_id: "<x@y>",
                    eml_path: Path::new("/spool/x.eml"),
                },
                now(),
            )
            .unwrap();
        s.mark_sent(id, later, Some("250 ok"), &[]).unwrap();

        let raw: (String, String, String, String) = s
            .conn
            .query_row(
                "SELECT trigger, outcome, started_at, ended_at FROM runs WHERE id = ?1",
                params![run],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            raw,
            (
                "supplement".into(),
                "rejected_files".into(),
                "2026-11-04T01:00:00.000Z".into(),
                "2026-11-04T01:01:01.250Z".into()
            )
        );
        let raw: (String, String, String, String) = s
            .conn
            .query_row(
                "SELECT kind, status, created_at, sent_at FROM deliveries WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            raw,
            (
                "supplement".into(),
                "sent".into(),
                "2026-11-04T01:00:00.000Z".into(),
                "2026-11-04T01:01:01.250Z".into()
            )
        );

        let row = s.run(run).unwrap().unwrap();
        assert_eq!(
            (row.trigger, row.outcome, row.started_at, row.ended_at),
            (
                Trigger::Supplement,
                RunStatus::RejectedFiles,
                now(),
                Some(later)
            )
        );
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json["trigger"], "supplement");
        assert_eq!(json["outcome"], "rejected_files");
        assert_eq!(json["started_at"], "2026-11-04T01:00:00.000Z");
        assert_eq!(json["ended_at"], "2026-11-04T01:01:01.250Z");
        assert_eq!(json["noticed_at"], serde_json::Value::Null);
        let d = s.delivery(id).unwrap().unwrap();
        assert_eq!((d.kind, d.sent_at), (DeliveryKind::Supplement, Some(later)));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["kind"], "supplement");
        assert_eq!(json["created_at"], "2026-11-04T01:00:00.000Z");
        assert_eq!(json["next_attempt_at"], "2026-11-04T01:00:00.000Z");
        assert_eq!(json["sent_at"], "2026-11-04T01:01:01.250Z");
        assert_eq!(json["attempt_started_at"], serde_json::Value::Null);
    }

    /// A text the program never wrote is an error of the store, named, not read as something
    /// else.
    #[test]
    fn a_kind_or_time_the_program_never_wrote_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.conn
            .execute_batch(
                "INSERT INTO runs (trigger, period, started_at, outcome, pid)
                   VALUES ('cron', '2026-10', '2026-11-04T01:00:00.000Z', 'ok', 7);",
            )
            .unwrap();
        let err = s.runs(10).unwrap_err().to_string();
        assert!(err.contains("not a Trigger: \"cron\""), "{err}");
        s.conn
            .execute_batch("UPDATE runs SET trigger = 'manual', started_at = 'yesterday';")
            .unwrap();
        let err = s.runs(10).unwrap_err().to_string();
        assert!(err.contains("not an RFC 3339 time: \"yesterday\""), "{err}");
    }

    #[test]
    fn jobs_done_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert!(!s.job_done("remind", "2026-10").unwrap());
        s.mark_job_done("remind", "2026-10", now(), Trigger::Schedule, now())
            .unwrap();
        s.mark_job_done("remind", "2026-10", now(), Trigger::CatchUp, now())
            .unwrap();
        assert!(s.job_done("remind", "2026-10").unwrap());
    }
}
