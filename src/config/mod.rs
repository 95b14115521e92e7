//! Configuration: what the TOML files say (`file` types) and what the program uses (`Settings`):
//! paths resolved, time zone parsed, roster and form loaded, secrets read from the environment.

pub mod collection;
pub mod form;
pub mod limits;
pub mod roster;

use chrono::NaiveTime;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use form::Form;
pub use roster::{Roster, Unit};

use crate::period::{DeadlineRule, PeriodKind};

/// The default configuration, compiled into the program so that it runs with no files at all.
pub const EMBEDDED_MAIN: &str = include_str!("../../config/tonghop.toml");
pub const EMBEDDED_ROSTER: &str = include_str!("../../config/roster.toml");
pub const EMBEDDED_FORM: &str = include_str!("../../config/form-kl14.toml");

/// A configuration problem, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("không đọc được tệp cấu hình {}: {}", path.display(), crate::wording::os(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tệp cấu hình {file}: {message}")]
    Invalid { file: String, message: String },
}

fn invalid(file: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

/// The sections (top-level keys) of the main file, as `MainFile` declares them.
const MAIN_SECTIONS: &[&str] = &[
    "roster", "form", "timezone", "period", "paths", "deadline", "intake", "report", "mail",
    "schedule", "daemon", "console", "read",
];

/// A misspelt section (`[mial]`) named before serde sees the file: serde may otherwise report
/// a missing key inside the real section (`[mail.file]` creates `mail`) and never the typo.
fn unknown_sections(text: &str) -> Result<(), String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(()); // a syntax error: toml_error says where
    };
    for key in table.keys() {
        if MAIN_SECTIONS.contains(&key.as_str()) {
            continue;
        }
        let near = MAIN_SECTIONS
            .iter()
            .map(|k| (strsim::damerau_levenshtein(k, key), *k))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, k)| format!(" (có phải là [{k}]?)"))
            .unwrap_or_default();
        return Err(format!(
            "mục hoặc khóa [{key}] không có trong cấu hình{near}; các mục hợp lệ: {}",
            MAIN_SECTIONS.join(", ")
        ));
    }
    Ok(())
}

/// A TOML or serde error in Vietnamese, with its line. The toml crate's errors are text only:
/// the common serde phrasings are translated, anything else is quoted after a Vietnamese lead.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .and_then(|s| text.get(..s.start))
        .map(|before| format!("dòng {}: ", before.matches('\n').count() + 1))
        .unwrap_or_default();
    let m = e.message().trim();
    let tick = |rest: &str| rest.split('`').nth(1).unwrap_or(rest).to_owned();
    let said = if let Some(rest) = m.strip_prefix("missing field ") {
        format!("thiếu khóa `{}`", tick(rest))
    } else if let Some(rest) = m.strip_prefix("unknown field ") {
        let valid = rest.split_once("expected ").map(|(_, v)| v).unwrap_or("");
        format!(
            "khóa `{}` không hợp lệ (các khóa hợp lệ: {valid})",
            tick(rest)
        )
    } else if let Some(rest) = m.strip_prefix("unknown variant ") {
        let valid = rest.split_once("expected ").map(|(_, v)| v).unwrap_or("");
        format!("giá trị `{}` không hợp lệ (chỉ nhận: {valid})", tick(rest))
    } else if let Some(rest) = m.strip_prefix("invalid type: ") {
        // "integer `7`, expected a string" -> "là số nguyên `7`, cần chuỗi văn bản"
        let kind = |k: &str| {
            let k = k.trim().trim_start_matches("a ").trim_start_matches("an ");
            let (name, value) = k.split_once(' ').unwrap_or((k, ""));
            let name = match name {
                "integer" | "u8" | "u16" | "u32" | "u64" | "i64" => "số nguyên",
                "float" => "số thập phân",
                "string" => "chuỗi văn bản (trong dấu ngoặc kép)",
                "boolean" | "bool" => "true hoặc false",
                "sequence" | "array" => "danh sách [ ]",
                "map" | "table" => "bảng (mục [...])",
                "datetime" => "ngày giờ",
                other => other,
            };
            format!("{name} {value}").trim().to_owned()
        };
        match rest.split_once(", expected ") {
            Some((got, want)) => format!("sai kiểu giá trị: là {}, cần {}", kind(got), kind(want)),
            None => format!("sai kiểu giá trị ({rest})"),
        }
    } else {
        format!("lỗi cú pháp TOML ({m})")
    };
    format!("{line}{said}")
}

/// Loads a file named in the main file: (text, name for messages).
type Loader<'a> = dyn Fn(&str) -> Result<(String, String), ConfigError> + 'a;

/// The main file as written (see config/tonghop.toml for the meaning of every key).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MainFile {
    roster: String,
    form: String,
    timezone: String,
    period: PeriodKind,
    paths: PathsFile,
    deadline: DeadlineFile,
    #[serde(default)]
    intake: IntakeFile,
    report: ReportFile,
    mail: MailFile,
    #[serde(default)]
    schedule: ScheduleFile,
    #[serde(default)]
    daemon: DaemonFile,
    #[serde(default)]
    console: ConsoleFile,
    #[serde(default)]
    read: ReadFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ReadFile {
    isolate: bool,
    worker_memory_mb: u64,
    timeout_seconds: u64,
    max_file_mb: u64,
    max_unzipped_mb: u64,
    max_rows: u32,
    max_columns: u32,
    max_text_chars: usize,
}

impl Default for ReadFile {
    fn default() -> Self {
        let d = limits::ReadSettings::default();
        ReadFile {
            isolate: d.isolate,
            worker_memory_mb: d.worker_memory >> 20,
            timeout_seconds: d.timeout.as_secs(),
            max_file_mb: d.limits.max_file_bytes >> 20,
            max_unzipped_mb: d.limits.max_unzipped_bytes >> 20,
            max_rows: d.limits.max_rows,
            max_columns: d.limits.max_cols,
            max_text_chars: d.limits.max_text_chars,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ScheduleFile {
    send: String,
    remind: String,
    scan: String,
    catch_up_days: u32,
}

impl Default for ScheduleFile {
    fn default() -> Self {
        ScheduleFile {
            send: "0 0 8 4 * *".into(),
            remind: "0 0 8 2 * *".into(),
            scan: "0 */10 * * * *".into(),
            catch_up_days: 7,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DaemonFile {
    control_port: u16,
    operator_email: Option<String>,
    supplement: SupplementMode,
    retry_first_seconds: u64,
    retry_max_seconds: u64,
    shutdown_grace_seconds: u64,
}

impl Default for DaemonFile {
    fn default() -> Self {
        DaemonFile {
            control_port: 8787,
            operator_email: None,
            supplement: SupplementMode::Manual,
            retry_first_seconds: 60,
            retry_max_seconds: 3600,
            shutdown_grace_seconds: 120,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConsoleFile {
    enabled: bool,
    listen: String,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    allow_plain_http: bool,
    session_idle_minutes: u64,
}

impl Default for ConsoleFile {
    fn default() -> Self {
        ConsoleFile {
            enabled: true,
            listen: "127.0.0.1:8788".into(),
            tls_cert: None,
            tls_key: None,
            allow_plain_http: false,
            session_idle_minutes: 30,
        }
    }
}

/// Whether a report arriving after the period was sent triggers a supplementary report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementMode {
    /// Recorded and shown in `tonghop status`; the operator sends it (`tonghop run --supplement`).
    Manual,
    /// Sent by the daemon at the next inbox scan.
    Auto,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    inbox: PathBuf,
    out: PathBuf,
    data: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineFile {
    day: u32,
    time: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntakeFile {
    #[serde(default = "default_settle")]
    settle_seconds: u64,
}

impl Default for IntakeFile {
    fn default() -> Self {
        IntakeFile {
            settle_seconds: default_settle(),
        }
    }
}

fn default_settle() -> u64 {
    5
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportFile {
    issuing_body: String,
    department: String,
    heading: String,
    #[serde(default)]
    place: String,
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailFile {
    from: String,
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
    subject: String,
    attachment: String,
    transport: TransportKind,
    file: Option<FileTransportFile>,
    smtp: Option<SmtpFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TransportKind {
    File,
    Smtp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTransportFile {
    dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: String,
    port: u16,
    security: Security,
    username: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    30
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine.
    Plain,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the program needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the configuration came from (a path, or "embedded defaults").
    pub source: String,
    /// The main file, when the configuration came from disk.
    pub config_file: Option<PathBuf>,
    /// The SMTP password file, if the password is read from one (its permissions are checked).
    pub password_file: Option<PathBuf>,
    pub inbox: PathBuf,
    pub out: PathBuf,
    pub data: PathBuf,
    pub timezone: chrono_tz::Tz,
    pub period_kind: PeriodKind,
    pub deadline: DeadlineRule,
    pub settle: Duration,
    pub report: ReportSettings,
    pub mail: MailSettings,
    pub roster: Roster,
    pub form: Form,
    /// The form declaration's TOML text, as loaded (a read worker parses it itself).
    pub form_source: String,
    pub schedule: ScheduleSettings,
    pub daemon: DaemonSettings,
    pub console: ConsoleSettings,
    pub read: limits::ReadSettings,
}

/// The six cron fields in order: their Vietnamese names and the numbers they allow.
const CRON_FIELDS: [(&str, u32, u32); 6] = [
    ("giây", 0, 59),
    ("phút", 0, 59),
    ("giờ", 0, 23),
    ("ngày", 1, 31),
    ("tháng", 1, 12),
    ("thứ", 0, 7),
];

/// The first plain number in a cron field that lies outside `lo..=hi` (steps such as `*/90`
/// are not values; names, `L`, `W` and `#` are left to the parser).
fn out_of_range(field: &str, lo: u32, hi: u32) -> Option<u32> {
    field
        .split(',')
        .flat_map(|item| {
            let value = item.split('/').next().unwrap_or("");
            value.split('-').collect::<Vec<_>>()
        })
        .filter_map(|v| v.parse::<u32>().ok())
        .find(|n| *n < lo || *n > hi)
}

/// Whether a cron field has a step of zero (`*/0`, `5-10/0`): it would never advance.
fn zero_step(field: &str) -> bool {
    field.split(',').any(|item| {
        item.split_once('/')
            .is_some_and(|(_, step)| step.trim().parse::<u32>() == Ok(0))
    })
}

/// A cron expression, parsed as the scheduler parses it (six fields, seconds first;
/// day-of-month and day-of-week ANDed), with its text for the log.
#[derive(Debug, Clone)]
pub struct CronSpec {
    pub expr: String,
    pub cron: croner::Cron,
}

impl CronSpec {
    pub fn parse(key: &str, expr: &str) -> Result<CronSpec, String> {
        let fields = expr.split_whitespace().count();
        if fields != 6 {
            return Err(format!(
                "{key}: {expr:?} có {fields} trường; cần 6 trường, giây đứng đầu: \"giây phút giờ ngày tháng thứ\" (ví dụ \"0 0 8 4 * *\" = 08:00:00 ngày 4 hằng tháng)"
            ));
        }
        // The parser's own range error ("Number out of bounds") names no field: check first.
        for (i, field) in expr.split_whitespace().enumerate() {
            let (name, lo, hi) = CRON_FIELDS[i];
            if zero_step(field) {
                return Err(format!(
                    "{key}: {expr:?}: trường thứ {} ({name}) \"{field}\": bước nhảy (sau dấu /) \
                     không được bằng 0 (thứ tự các trường: giây phút giờ ngày tháng thứ)",
                    i + 1
                ));
            }
            if let Some(n) = out_of_range(field, lo, hi) {
                return Err(format!(
                    "{key}: {expr:?}: trường thứ {} ({name}) có giá trị {n}, ngoài khoảng {lo}–{hi} \
                     (thứ tự các trường: giây phút giờ ngày tháng thứ)",
                    i + 1
                ));
            }
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(expr)
            .map_err(|e| {
                // Name the field the parser refuses: try each field alone in an expression
                // that is valid otherwise.
                let parser = croner::parser::CronParser::builder()
                    .seconds(croner::parser::Seconds::Required)
                    .dom_and_dow(true)
                    .build();
                let fields: Vec<&str> = expr.split_whitespace().collect();
                let bad = (0..fields.len()).find(|&i| {
                    let mut probe = ["0", "0", "0", "*", "*", "*"];
                    probe[i] = fields[i];
                    parser.parse(&probe.join(" ")).is_err()
                });
                // (Ranges and zero steps were told above, from the field itself; the parser's
                // own words are shown as they are, never matched.)
                let why = format!("cú pháp không hợp lệ ({e})");
                match bad {
                    Some(i) => format!(
                        "{key}: {expr:?}: trường thứ {} ({}) \"{}\": {why} (thứ tự các trường: \
                         giây phút giờ ngày tháng thứ)",
                        i + 1,
                        CRON_FIELDS[i].0,
                        fields[i]
                    ),
                    None => format!("{key}: {expr:?} không phải là biểu thức cron hợp lệ: {why}"),
                }
            })?;
        Ok(CronSpec {
            expr: expr.to_owned(),
            cron,
        })
    }

    /// A scheduled job's cron must come some day: a time that never comes (31 February) would
    /// leave the job silently idle forever. Any valid date recurs within 28 years (the
    /// calendar's cycle, leap days included).
    pub fn check_fires(self, key: &str) -> Result<CronSpec, String> {
        let from = chrono::Utc::now();
        let fires = self
            .cron
            .find_next_occurrence(&from, false)
            .is_ok_and(|t| t < from + chrono::Duration::days(366 * 28));
        if !fires {
            return Err(format!(
                "{key}: {:?} không bao giờ đến (ví dụ ngày 31 tháng 2, hoặc ngày và thứ không \
                 bao giờ trùng nhau): việc này sẽ không bao giờ được chạy",
                self.expr
            ));
        }
        Ok(self)
    }

    /// The first time strictly after `t`.
    pub fn next_after<Tz: chrono::TimeZone>(
        &self,
        t: &chrono::DateTime<Tz>,
    ) -> Option<chrono::DateTime<Tz>> {
        self.cron.find_next_occurrence(t, false).ok()
    }

    /// The last time at or before `t`.
    pub fn last_at_or_before<Tz: chrono::TimeZone>(
        &self,
        t: &chrono::DateTime<Tz>,
    ) -> Option<chrono::DateTime<Tz>> {
        self.cron.find_previous_occurrence(t, true).ok()
    }
}

#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// Consolidate and send the period that just ended.
    pub send: CronSpec,
    /// Remind units that have not reported for the period that just ended.
    pub remind: CronSpec,
    /// Scan the inbox (record new files, notice late reports).
    pub scan: CronSpec,
    /// A scheduled job missed while the daemon was down is run at start if at most this old.
    pub catch_up: Duration,
}

#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// Port of the control endpoint on 127.0.0.1.
    pub control_port: u16,
    /// Where alerts go (permanent delivery failures).
    pub operator_email: Option<String>,
    pub supplement: SupplementMode,
    /// First retry delay of a temporary delivery failure; doubled each time up to `retry_max`.
    pub retry_first: Duration,
    pub retry_max: Duration,
    /// How long SIGTERM waits for a run in progress.
    pub shutdown_grace: Duration,
}

/// The operator's console (`[console]`), served by the daemon.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    pub enabled: bool,
    pub listen: std::net::SocketAddr,
    /// Certificate chain and private key (PEM) when the console is served over TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain HTTP on an address other than loopback, allowed knowingly (warned at every start).
    pub allow_plain_http: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub issuing_body: String,
    pub department: String,
    /// The national heading printed top right ("ĐẢNG CỘNG SẢN VIỆT NAM").
    pub heading: String,
    /// The place in the dated line ("Lâm Đồng, ngày ..."); empty for the date alone.
    pub place: String,
    /// Title template with {form} and {period}.
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Subject template: {short}, {period}, {reported}, {total}.
    pub subject: String,
    /// Attachment file name template: {short}, {period_key}.
    pub attachment: String,
    pub transport: Transport,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// Write `.eml` files to a folder.
    File {
        dir: PathBuf,
    },
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    /// Resolved from `password_env` or `password_file`; `None` if neither is given.
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl Settings {
    /// Load from a main file on disk; roster and form paths are relative to its folder.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = read(path)?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut s =
            Settings::from_main(&text, &path.display().to_string(), &base, &|rel: &str| {
                let p = base.join(rel);
                read(&p).map(|t| (t, p.display().to_string()))
            })?;
        s.config_file = Some(path.to_path_buf());
        Ok(s)
    }

    /// Files and folders that other users of the machine can read or write but should not:
    /// the configuration, the password file and the data folder (state, archive, token).
    /// One English sentence each, for the operator log.
    pub fn permission_warnings(&self) -> Vec<String> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        let mut check = |what: &str, path: &Path, mask: u32| {
            if let Ok(m) = std::fs::metadata(path) {
                let mode = m.permissions().mode() & 0o777;
                if mode & mask != 0 {
                    out.push(format!(
                        "{what} {} cho người dùng khác truy cập (quyền {mode:o}); hãy giới hạn lại (chmod {})",
                        path.display(),
                        if m.is_dir() { "700" } else { "600" }
                    ));
                }
            }
        };
        if let Some(c) = &self.config_file {
            // With a password file, the config says where the secret is and as whom the office
            // sends: private like the password file, so readable by all (0644) warns too.
            let mask = if self.password_file.is_some() {
                0o007
            } else {
                0o002
            };
            check("tệp cấu hình", c, mask);
        }
        if let Some(p) = &self.password_file {
            check("tệp mật khẩu SMTP", p, 0o077);
        }
        check("thư mục dữ liệu", &self.data, 0o007);
        out
    }

    /// The configuration compiled into the program, as if it were `./config/tonghop.toml`.
    pub fn embedded() -> Result<Settings, ConfigError> {
        let base = std::env::current_dir()
            .map_err(|e| ConfigError::Read {
                path: ".".into(),
                source: e,
            })?
            .join("config");
        Settings::from_main(
            EMBEDDED_MAIN,
            "embedded defaults (config/tonghop.toml)",
            &base,
            &|rel: &str| match rel {
                "roster.toml" => Ok((
                    EMBEDDED_ROSTER.to_owned(),
                    "embedded config/roster.toml".into(),
                )),
                "form-kl14.toml" => Ok((
                    EMBEDDED_FORM.to_owned(),
                    "embedded config/form-kl14.toml".into(),
                )),
                other => Err(invalid(
                    "embedded defaults",
                    format!("no embedded file {other:?}"),
                )),
            },
        )
    }

    /// `--config PATH` if given, else `./config/tonghop.toml` if it exists, else the embedded defaults.
    pub fn discover(path: Option<&Path>) -> Result<Settings, ConfigError> {
        match path {
            Some(p) => Settings::load(p),
            None => {
                let local = Path::new("config/tonghop.toml");
                if local.is_file() {
                    Settings::load(local)
                } else {
                    Settings::embedded()
                }
            }
        }
    }

    fn from_main(
        text: &str,
        name: &str,
        base: &Path,
        load: &Loader<'_>,
    ) -> Result<Settings, ConfigError> {
        unknown_sections(text).map_err(|m| invalid(name, m))?;
        let main: MainFile =
            toml::from_str(text).map_err(|e| invalid(name, toml_error(text, &e)))?;
        let timezone: chrono_tz::Tz = main.timezone.parse().map_err(|_| {
            invalid(
                name,
                format!(
                    "timezone: {:?} không phải là tên múi giờ IANA (ví dụ \"Asia/Ho_Chi_Minh\")",
                    main.timezone
                ),
            )
        })?;
        if !(1..=28).contains(&main.deadline.day) {
            return Err(invalid(
                name,
                format!(
                    "deadline.day: cần một ngày từ 1 đến 28, đang là {}",
                    main.deadline.day
                ),
            ));
        }
        let time = NaiveTime::parse_from_str(&main.deadline.time, "%H:%M").map_err(|_| {
            invalid(
                name,
                format!(
                    "deadline.time: cần giờ dạng HH:MM (24 giờ), đang là {:?}",
                    main.deadline.time
                ),
            )
        })?;
        let (roster_text, roster_name) = load(&main.roster)?;
        let roster = Roster::from_toml(&roster_text).map_err(|m| invalid(&roster_name, m))?;
        let (form_text, form_name) = load(&main.form)?;
        let form = Form::from_toml(&form_text).map_err(|m| invalid(&form_name, m))?;

        let mail = main.mail;
        for (key, list) in [("mail.to", &mail.to), ("mail.cc", &mail.cc)] {
            for addr in list {
                addr.parse::<lettre::message::Mailbox>().map_err(|e| {
                    invalid(
                        name,
                        format!("{key}: {addr:?} không phải là địa chỉ thư: {e}"),
                    )
                })?;
            }
        }
        mail.from.parse::<lettre::message::Mailbox>().map_err(|e| {
            invalid(
                name,
                format!("mail.from: {:?} không phải là địa chỉ thư: {e}", mail.from),
            )
        })?;
        if mail.to.is_empty() {
            return Err(invalid(name, "mail.to: cần ít nhất một người nhận"));
        }
        let password_file = match (&mail.transport, &mail.smtp) {
            (TransportKind::Smtp, Some(smtp)) => {
                smtp.password_file.as_ref().map(|p| resolve(base, p))
            }
            _ => None,
        };
        let transport = match mail.transport {
            TransportKind::File => {
                let f = mail.file.ok_or_else(|| {
                    invalid(
                        name,
                        "thiếu mục [mail.file] (cần khi mail.transport = \"file\")",
                    )
                })?;
                Transport::File {
                    dir: resolve(base, &f.dir),
                }
            }
            TransportKind::Smtp => {
                let s = mail.smtp.ok_or_else(|| {
                    invalid(
                        name,
                        "thiếu mục [mail.smtp] (cần khi mail.transport = \"smtp\")",
                    )
                })?;
                let password = match (&s.password_env, &s.password_file) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(
                            name,
                            "mail.smtp: chỉ khai một trong hai, password_env hoặc password_file",
                        ));
                    }
                    (Some(var), None) => match std::env::var(var) {
                        Ok(v) => Some(Secret::new(v)),
                        Err(_) if s.username.is_none() => None,
                        Err(_) => {
                            return Err(invalid(
                                name,
                                format!(
                                    "mail.smtp.password_env: biến môi trường {var} chưa được đặt"
                                ),
                            ));
                        }
                    },
                    (None, Some(file)) => {
                        let p = resolve(base, file);
                        let t = read(&p)?;
                        Some(Secret::new(t.lines().next().unwrap_or("").to_owned()))
                    }
                    (None, None) => None,
                };
                if s.username.is_some() && password.is_none() {
                    return Err(invalid(
                        name,
                        "mail.smtp: có username nhưng không có password_env hay password_file",
                    ));
                }
                Transport::Smtp(SmtpSettings {
                    host: s.host,
                    port: s.port,
                    security: s.security,
                    username: s.username,
                    password,
                    ca_file: s.ca_file.map(|p| resolve(base, &p)),
                    timeout: Duration::from_secs(s.timeout_seconds.max(1)),
                })
            }
        };

        let sched = main.schedule;
        let schedule = ScheduleSettings {
            send: CronSpec::parse("schedule.send", &sched.send)
                .and_then(|c| c.check_fires("schedule.send"))
                .map_err(|m| invalid(name, m))?,
            remind: CronSpec::parse("schedule.remind", &sched.remind)
                .and_then(|c| c.check_fires("schedule.remind"))
                .map_err(|m| invalid(name, m))?,
            scan: CronSpec::parse("schedule.scan", &sched.scan)
                .and_then(|c| c.check_fires("schedule.scan"))
                .map_err(|m| invalid(name, m))?,
            catch_up: Duration::from_secs(u64::from(sched.catch_up_days) * 86_400),
        };
        let d = main.daemon;
        if let Some(op) = &d.operator_email {
            op.parse::<lettre::message::Mailbox>().map_err(|e| {
                invalid(
                    name,
                    format!("daemon.operator_email: {op:?} không phải là địa chỉ thư: {e}"),
                )
            })?;
        }
        let daemon = DaemonSettings {
            control_port: d.control_port,
            operator_email: d.operator_email,
            supplement: d.supplement,
            retry_first: Duration::from_secs(d.retry_first_seconds.max(1)),
            retry_max: Duration::from_secs(d.retry_max_seconds.max(d.retry_first_seconds.max(1))),
            shutdown_grace: Duration::from_secs(d.shutdown_grace_seconds),
        };

        let c = main.console;
        let listen: std::net::SocketAddr = c.listen.parse().map_err(|_| {
            invalid(
                name,
                format!(
                    "console.listen: {:?} không phải là địa chỉ nghe dạng \"IP:cổng\" \
                     (ví dụ \"127.0.0.1:8788\")",
                    c.listen
                ),
            )
        })?;
        let tls = match (c.tls_cert, c.tls_key) {
            (Some(cert), Some(key)) => Some((resolve(base, &cert), resolve(base, &key))),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    name,
                    "console.tls_cert và console.tls_key phải được khai báo cùng nhau".to_owned(),
                ));
            }
        };
        if c.enabled && !listen.ip().is_loopback() && tls.is_none() && !c.allow_plain_http {
            return Err(invalid(
                name,
                format!(
                    "console.listen = \"{listen}\" mở bảng điều khiển ra mạng mà không có TLS: \
                     khai báo console.tls_cert và console.tls_key, hoặc đặt sau máy chủ web của \
                     cơ quan và nghe ở 127.0.0.1, hoặc (biết rõ rủi ro) đặt \
                     console.allow_plain_http = true"
                ),
            ));
        }
        let console = ConsoleSettings {
            enabled: c.enabled,
            listen,
            tls,
            allow_plain_http: c.allow_plain_http,
            session_idle: Duration::from_secs(c.session_idle_minutes.max(1) * 60),
        };

        let r = main.read;
        let read = limits::ReadSettings {
            limits: limits::ReadLimits {
                max_file_bytes: r.max_file_mb.max(1) << 20,
                max_unzipped_bytes: r.max_unzipped_mb.max(1) << 20,
                max_zip_entries: 10_000,
                max_rows: r.max_rows.max(10),
                max_cols: r.max_columns.max(8),
                max_text_chars: r.max_text_chars.max(100),
            },
            isolate: r.isolate,
            worker_memory: r.worker_memory_mb << 20,
            timeout: Duration::from_secs(r.timeout_seconds.max(1)),
        };

        Ok(Settings {
            source: name.to_owned(),
            config_file: None,
            password_file,
            inbox: resolve(base, &main.paths.inbox),
            out: resolve(base, &main.paths.out),
            data: resolve(base, &main.paths.data),
            timezone,
            period_kind: main.period,
            deadline: DeadlineRule {
                day: main.deadline.day,
                time,
            },
            settle: Duration::from_secs(main.intake.settle_seconds),
            report: ReportSettings {
                issuing_body: main.report.issuing_body,
                department: main.report.department,
                heading: main.report.heading,
                place: main.report.place,
                title: main.report.title,
            },
            mail: MailSettings {
                from: mail.from,
                to: mail.to,
                cc: mail.cc,
                subject: mail.subject,
                attachment: mail.attachment,
                transport,
            },
            roster,
            form,
            form_source: form_text,
            schedule,
            daemon,
            console,
            read,
        })
    }
}

/// `base.join(rel)` with `.` and `..` folded away lexically, so messages show `out/2026-10`
/// rather than `config/../out/2026-10`.
fn resolve(base: &Path, rel: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_loads_with_every_part() {
        let s = Settings::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/tonghop.toml"
        )))
        .unwrap();
        assert_eq!(s.timezone, chrono_tz::Asia::Ho_Chi_Minh);
        assert_eq!(s.roster.units.len(), 18);
        assert_eq!(s.deadline.day, 3);
        assert!(s.inbox.ends_with("samples/inbox"));
        assert!(matches!(s.mail.transport, Transport::File { .. }));
    }

    /// Loads the roster and form named by the main file from the embedded copies.
    fn embedded_files(rel: &str) -> Result<(String, String), ConfigError> {
        let text = if rel.starts_with("roster") {
            EMBEDDED_ROSTER
        } else {
            EMBEDDED_FORM
        };
        Ok((text.to_owned(), rel.into()))
    }

    #[test]
    fn cron_expressions_need_six_fields_and_say_so() {
        let err = CronSpec::parse("schedule.send", "0 8 4 * *").unwrap_err();
        assert!(
            err.contains("có 5 trường") && err.contains("giây đứng đầu"),
            "{err}"
        );
        let err = CronSpec::parse("schedule.send", "0 0 25 4 * *").unwrap_err();
        assert_eq!(
            err,
            "schedule.send: \"0 0 25 4 * *\": trường thứ 3 (giờ) có giá trị 25, ngoài khoảng \
             0–23 (thứ tự các trường: giây phút giờ ngày tháng thứ)"
        );
        let err = CronSpec::parse("schedule.scan", "0 */5 8-17 1,32 * *").unwrap_err();
        assert!(err.contains("trường thứ 4 (ngày) có giá trị 32"), "{err}");
        let err = CronSpec::parse("schedule.send", "0 0 8 */0 * *").unwrap_err();
        assert!(
            err.contains("trường thứ 4 (ngày) \"*/0\": bước nhảy (sau dấu /) không được bằng 0"),
            "{err}"
        );
        let never = CronSpec::parse("schedule.send", "0 0 8 31 2 *").unwrap();
        let err = never.check_fires("schedule.send").unwrap_err();
        assert!(err.contains("\"0 0 8 31 2 *\" không bao giờ đến"), "{err}");
        // A leap day comes: not refused.
        CronSpec::parse("schedule.send", "0 0 8 29 2 *")
            .unwrap()
            .check_fires("schedule.send")
            .unwrap();
        let c = CronSpec::parse("schedule.send", "0 0 8 4 * *").unwrap();
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let t = chrono::TimeZone::with_ymd_and_hms(&tz, 2026, 11, 25, 10, 0, 0).unwrap();
        assert_eq!(
            c.last_at_or_before(&t).unwrap().to_rfc3339(),
            "2026-11-04T08:00:00+07:00"
        );
        assert_eq!(
            c.next_after(&t).unwrap().to_rfc3339(),
            "2026-12-04T08:00:00+07:00"
        );
    }

    #[test]
    fn world_readable_data_folder_and_password_file_are_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::embedded().unwrap();
        s.data = dir.path().join("data");
        std::fs::create_dir_all(&s.data).unwrap();
        std::fs::set_permissions(&s.data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let w = s.permission_warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("thư mục dữ liệu") && w[0].contains("quyền 755"),
            "{w:?}"
        );
        std::fs::set_permissions(&s.data, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(s.permission_warnings().is_empty());
    }

    #[test]
    fn a_config_readable_by_all_warns_when_it_names_a_password_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::embedded().unwrap();
        s.data = dir.path().join("data");
        let config = dir.path().join("tonghop.toml");
        std::fs::write(&config, "").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        s.config_file = Some(config.clone());
        assert!(
            s.permission_warnings().is_empty(),
            "no secret beside it: 0644 is fine"
        );
        let pw = dir.path().join("smtp-password");
        std::fs::write(&pw, "x").unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        s.password_file = Some(pw);
        let w = s.permission_warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("tệp cấu hình") && w[0].contains("644") && w[0].contains("chmod 600"),
            "{w:?}"
        );
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(s.permission_warnings().is_empty(), "the group may read it");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(s.permission_warnings().len(), 1);
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        assert_eq!(
            resolve(Path::new("config"), Path::new("../out")),
            PathBuf::from("out")
        );
        assert_eq!(
            resolve(Path::new("/etc/tonghop"), Path::new("/srv/inbox")),
            PathBuf::from("/srv/inbox")
        );
        assert_eq!(
            resolve(Path::new("."), Path::new("../x")),
            PathBuf::from("../x")
        );
        assert_eq!(
            resolve(Path::new("a/b"), Path::new("./c")),
            PathBuf::from("a/b/c")
        );
    }

    #[test]
    fn embedded_defaults_equal_the_shipped_files() {
        let s = Settings::embedded().unwrap();
        assert_eq!(s.roster.units.len(), 18);
        assert_eq!(s.form.indicators.items.len(), 9);
    }

    #[test]
    fn a_typo_names_the_file_and_the_key() {
        let text = EMBEDDED_MAIN.replace("settle_seconds", "settle_secs");
        let err = Settings::from_main(&text, "x.toml", Path::new("."), &|_: &str| {
            Ok((EMBEDDED_ROSTER.to_owned(), "r".into()))
        })
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("tệp cấu hình x.toml: dòng 33: "), "{err}");
        assert!(err.contains("khóa `settle_secs` không hợp lệ"), "{err}");
    }

    #[test]
    fn a_misspelt_section_with_subtables_is_named() {
        // `[mail.file]` and `[mail.smtp]` still create `mail`, so serde alone reports a field
        // missing from it and never the typo.
        let text = EMBEDDED_MAIN.replace("[mail]\n", "[mial]\n");
        assert_ne!(text, EMBEDDED_MAIN);
        let err = Settings::from_main(&text, "x.toml", Path::new("."), &embedded_files)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[mial] không có trong cấu hình (có phải là [mail]?)"),
            "{err}"
        );
    }

    #[test]
    fn the_section_list_is_what_the_shipped_file_has() {
        // The shipped file holds every section (see config/tonghop.toml), so this list cannot rot.
        let table: toml::Table = EMBEDDED_MAIN.parse().unwrap();
        let mut shipped: Vec<&str> = table.keys().map(String::as_str).collect();
        let mut known = MAIN_SECTIONS.to_vec();
        shipped.sort_unstable();
        known.sort_unstable();
        assert_eq!(shipped, known);
    }

    #[test]
    fn a_missing_key_and_a_wrong_value_are_said_in_vietnamese() {
        let text = EMBEDDED_MAIN.replace("period = \"month\"", "period = \"week\"");
        assert_ne!(text, EMBEDDED_MAIN);
        let err = Settings::from_main(&text, "m", Path::new("."), &embedded_files)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("giá trị `week` không hợp lệ (chỉ nhận:"),
            "{err}"
        );
        let text = EMBEDDED_MAIN.replace("timezone = ", "# timezone = ");
        let err = Settings::from_main(&text, "m", Path::new("."), &embedded_files)
            .unwrap_err()
            .to_string();
        assert!(err.contains("thiếu khóa `timezone`"), "{err}");
        let text = EMBEDDED_MAIN.replace("timezone = \"Asia/Ho_Chi_Minh\"", "timezone = 7");
        assert_ne!(text, EMBEDDED_MAIN);
        let err = Settings::from_main(&text, "m", Path::new("."), &embedded_files)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sai kiểu giá trị: là số nguyên `7`, cần chuỗi văn bản"),
            "{err}"
        );
        let err = Settings::load(Path::new("/nonexistent/tonghop.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "không đọc được tệp cấu hình /nonexistent/tonghop.toml: không tìm thấy tệp hoặc thư mục"
        );
    }

    #[test]
    fn bad_timezone_and_deadline_are_explained() {
        let load = embedded_files;
        let tz = EMBEDDED_MAIN.replace("Asia/Ho_Chi_Minh", "Asia/Hanoi_City");
        let err = Settings::from_main(&tz, "m", Path::new("."), &embedded_files)
            .unwrap_err()
            .to_string();
        assert!(err.contains("timezone"), "{err}");
        let dl = EMBEDDED_MAIN.replace("time = \"17:00\"", "time = \"5pm\"");
        let err = Settings::from_main(&dl, "m", Path::new("."), &load)
            .unwrap_err()
            .to_string();
        assert!(err.contains("deadline.time"), "{err}");
    }

    #[test]
    fn smtp_password_comes_from_the_environment_and_never_prints() {
        let load = embedded_files;
        let text = EMBEDDED_MAIN
            .replace("transport = \"file\"", "transport = \"smtp\"")
            .replace("TONGHOP_SMTP_PASSWORD", "TONGHOP_TEST_PW_CONFIG_UNIT");
        let err = Settings::from_main(&text, "m", Path::new("."), &load)
            .unwrap_err()
            .to_string();
        assert!(err.contains("TONGHOP_TEST_PW_CONFIG_UNIT"), "{err}");
        // SAFETY: this variable is used by this test only.
        unsafe { std::env::set_var("TONGHOP_TEST_PW_CONFIG_UNIT", "s3cret-pw") };
        let s = Settings::from_main(&text, "m", Path::new("."), &load).unwrap();
        let Transport::Smtp(smtp) = &s.mail.transport else {
            panic!("smtp expected")
        };
        assert_eq!(smtp.password.as_ref().unwrap().expose(), "s3cret-pw");
        assert!(!format!("{s:?}").contains("s3cret-pw"));
    }
}
