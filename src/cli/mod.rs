//! The command line: `run`, `check`, `form`, and the operator's `status`, `history`, `resend`,
//! `trigger`. Each command is a function returning an exit code.

pub mod client;
pub mod text;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::app::exit;
use crate::app::operator;
use crate::app::run::RunRequest;
use crate::app::run::Trigger;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::numbers::vi;
use crate::period::Period;
use crate::pipeline::consolidate::FileOutcome;

/// `println!` that cannot panic. `println!` panics when stdout is gone, e.g. `tonghop check
/// *.xlsx | head` once `head` has its lines; the job is done by then, so its output is dropped
/// and the exit code still tells the outcome.
macro_rules! say {
    ($($arg:tt)*) => {
        out(&format!("{}\n", format_args!($($arg)*)))
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "tonghop",
    version,
    about = "Consolidates the periodic Excel reports of many units into one workbook and mails it",
    long_about = "tonghop gathers the Excel reports units drop in a shared folder, checks them against the \
declared form, consolidates them into one workbook and mails it.\n\nWithout --config, ./config/tonghop.toml \
is used if it exists, else the defaults built into the program (inbox samples/inbox, output out/, mail \
written as .eml files to out/outbox)."
)]
pub struct Cli {
    /// Log level filter for stderr (e.g. info, debug, tonghop=debug). Default: info for the
    /// daemon, warn otherwise.
    #[arg(long, global = true, env = "TONGHOP_LOG")]
    log: Option<String>,
    /// Log as JSON lines instead of key=value text.
    #[arg(long, global = true)]
    log_json: bool,
    /// Main configuration file (default: ./config/tonghop.toml, else built-in defaults).
    #[arg(long, global = true, env = "TONGHOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Consolidate one period: read the inbox, write the workbook and summary.json, send the mail.
    Run {
        /// Period to consolidate, e.g. 2026-10 or 2026-Q4 (default: the one that ended most recently).
        #[arg(long)]
        period: Option<String>,
        /// Read submissions from this folder instead of the configured inbox.
        #[arg(long)]
        inbox: Option<PathBuf>,
        /// Write outputs under this folder instead of the configured one.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the workbook, summary.json and the .eml into the output folder; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send the period's report again although it was already sent.
        #[arg(long, alias = "force")]
        resend: bool,
        /// Send a supplementary report ("báo cáo bổ sung"): what changed since the period's report was sent.
        #[arg(long, conflicts_with = "resend")]
        supplement: bool,
    },
    /// Check files exactly as a run would and print every finding (exit 0 if all would be accepted).
    ///
    /// A folder is checked as a run reads its inbox: every file in it and its subfolders. A file
    /// a run ignores (not a spreadsheet, a lock or temporary file) is said to be ignored. Exit 0
    /// every file would be accepted, 1 some would not, 2 a file or folder does not exist.
    Check {
        /// Judge the files against this period (default: the period each file declares).
        #[arg(long)]
        period: Option<String>,
        /// Files (or folders) to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run until SIGTERM or SIGINT: consolidate and send on schedule, remind units, scan the
    /// inbox, retry mails, and answer `tonghop trigger` on 127.0.0.1.
    Daemon,
    /// Write the blank form for units, from the form declaration.
    Form {
        /// Where to write the form (.xlsx).
        #[arg(long)]
        out: PathBuf,
        /// Pre-fill the period cell, e.g. 2026-10.
        #[arg(long)]
        period: Option<String>,
    },
    /// Show a period as it stands now: units, the report's mail, the next scheduled jobs.
    ///
    /// Answers from the state store: lists the inbox (names, sizes, times) and shows each file as
    /// the daemon's last scan or the last run checked it; a file new or changed since is listed
    /// as not yet checked, not read. Changes nothing, and works beside a running daemon.
    Status {
        /// The period, e.g. 2026-10 (default: the one that ended most recently).
        #[arg(long)]
        period: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// First read and check the files not checked yet (as the daemon's scan does: nothing is
        /// sent), then answer. Without it, status reads no file and answers from the store.
        #[arg(long)]
        check: bool,
    },
    /// List the recent runs and their mails, newest first.
    History {
        /// How many runs to show (at least 1).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send a run's report again.
    ///
    /// A mail that failed (or still waits) is retried now; a mail that was sent is sent again,
    /// same content, under a new Message-ID. Exit 0 sent, 3 not delivered yet (queued), 6 failed
    /// for good or refused for some recipients, 2 no such run or mail, 4 a newer report or
    /// supplement of the period was sent (see --force).
    Resend {
        /// The run whose report to send (see `tonghop history`).
        #[arg(required_unless_present = "delivery", conflicts_with = "delivery")]
        run: Option<i64>,
        /// Send this one mail instead (its id in `tonghop history --json`).
        #[arg(long)]
        delivery: Option<i64>,
        /// Send a report or supplement even though a newer one of its period was sent (its
        /// older figures would reach the recipients after the newer ones).
        #[arg(long)]
        force: bool,
        /// Only to the recipients the mail server refused for good, once their mailbox is
        /// fixed (a new mail with a new Message-ID; the others are not sent it twice).
        #[arg(long)]
        refused: bool,
    },
    /// Ask the running daemon to consolidate and send now, and wait for the outcome.
    ///
    /// Exit codes as `run`; 69 when no daemon is running.
    Trigger {
        /// Period to consolidate (default: the one that ended most recently).
        #[arg(long)]
        period: Option<String>,
        /// Send the period's report again although it was already sent.
        #[arg(long, alias = "force")]
        resend: bool,
    },
}

/// Parse the arguments, run the command, return the exit code.
pub fn main() -> u8 {
    // A read worker (see crate::pipeline::read::worker) is this program with a hidden first argument.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(crate::pipeline::read::worker::WORKER_ARG) {
        return crate::pipeline::read::worker::worker_from_args(&args[2..]);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::BAD_CONFIG
            } else {
                exit::SUCCESS
            };
        }
    };
    let default_log = match cli.command {
        Command::Daemon => "info",
        // Every problem with a checked file is printed as a Vietnamese finding; the same
        // problem as an English log line beside it only confuses the unit on the phone.
        Command::Check { .. } => "error",
        _ => "warn",
    };
    init_logging(cli.log.as_deref().unwrap_or(default_log), cli.log_json);
    let config = cli.config.as_deref();
    match cli.command {
        Command::Run {
            period,
            inbox,
            out,
            dry_run,
            resend,
            supplement,
        } => cmd_run(
            config,
            period.as_deref(),
            inbox,
            out,
            dry_run,
            resend,
            supplement,
        ),
        Command::Daemon => cmd_daemon(config),
        Command::Check { period, files } => cmd_check(config, period.as_deref(), &files),
        Command::Form { out, period } => cmd_form(config, &out, period.as_deref()),
        Command::Status {
            period,
            json,
            check,
        } => cmd_status(config, period.as_deref(), json, check),
        Command::History { limit, json } => cmd_history(config, limit, json),
        Command::Resend {
            run,
            delivery,
            force,
            refused,
        } => cmd_resend(config, run, delivery, force, refused),
        Command::Trigger { period, resend } => cmd_trigger(config, period.as_deref(), resend),
    }
}

fn init_logging(filter: &str, json: bool) {
    // The scheduler crate logs its own bookkeeping at info; keep the operator log to ours.
    let filter = format!("{filter},tokio_cron_scheduler=warn");
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        use tracing_subscriber::field::MakeExt as _;
        let _ = builder
            .with_ansi(std::io::stderr().is_terminal())
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(log_field).delimited(" "))
            .try_init();
    }
}

/// One `key=value` of the text log, so that a line parses: a value with a space, a quote or an
/// `=` is quoted (`server="127.0.0.1:2525 (plain)"`); the message stays bare, first.
fn log_field(
    w: &mut tracing_subscriber::fmt::format::Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn std::fmt::Debug,
) -> std::fmt::Result {
    let text = format!("{value:?}");
    if field.name() == "message" {
        return write!(w, "{text}");
    }
    write!(w, "{}={}", field.name(), log_value(&text))
}

/// A log value as written: bare when it holds no space, quote or `=`; else quoted, with `"` and
/// `\` escaped. (A `?`-formatted string arrives already quoted and is kept as it is.)
fn log_value(text: &str) -> String {
    let needs_quotes =
        |t: &str| t.is_empty() || t.contains(|c: char| c.is_whitespace() || c == '"' || c == '=');
    let quoted = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
    if quoted {
        // A text field (`kind = "report"`): bare like any other value when it can be.
        let inner = &text[1..text.len() - 1];
        if !needs_quotes(inner) && !inner.contains('\\') {
            return inner.to_owned();
        }
        return text.to_owned();
    }
    if needs_quotes(text) {
        return format!("{text:?}");
    }
    text.to_owned()
}

fn load(config: Option<&Path>) -> Result<Settings, u8> {
    let settings = Settings::discover(config).map_err(|e| {
        eprintln!("tonghop: lỗi cấu hình: {e}");
        exit::BAD_CONFIG
    })?;
    // Said to the person at the terminal whatever the log level (`check` logs only errors),
    // and logged for the daemon's journal.
    for w in settings.permission_warnings() {
        eprintln!("tonghop: cảnh báo: {w}");
        tracing::warn!(warning = %w, "permissions");
    }
    Ok(settings)
}

/// The settings and the `--period` of a command, or the exit code of what is wrong with them.
fn setup(config: Option<&Path>, period: Option<&str>) -> Result<(Settings, Option<Period>), u8> {
    let settings = load(config)?;
    let period = parse_period(&settings, period)?;
    Ok((settings, period))
}

/// `--period` as typed, checked against the configuration's kind of period (a quarter under a
/// monthly configuration would consolidate every monthly report of three months as one).
fn parse_period(settings: &Settings, s: Option<&str>) -> Result<Option<Period>, u8> {
    let Some(s) = s else { return Ok(None) };
    let refuse = |why: String| {
        eprintln!("tonghop: --period {s}: {why}.");
        exit::BAD_CONFIG
    };
    let p = Period::parse_arg(s).map_err(refuse)?;
    crate::config::collection::kind_accepted(settings, p).map_err(refuse)?;
    Ok(Some(p))
}

fn cmd_run(
    config: Option<&Path>,
    period: Option<&str>,
    inbox: Option<PathBuf>,
    out: Option<PathBuf>,
    dry_run: bool,
    resend: bool,
    supplement: bool,
) -> u8 {
    let (mut settings, period) = match setup(config, period) {
        Ok(x) => x,
        Err(code) => return code,
    };
    // A daemon holds the data folder: the run is its to make (one queue, one code path), and
    // its answer is the same typed report. A dry run changes nothing, and `--inbox`/`--out` are
    // this command's own: those run here (under the run lock, safely beside the daemon).
    if !dry_run && inbox.is_none() && out.is_none() {
        let command = crate::app::Command::Run {
            period,
            resend,
            supplement,
        };
        if let Some(result) = by_daemon(&settings, &command) {
            return finish_run(result.and_then(|a| match a {
                crate::app::Answer::Run(report) => Ok(report),
                other => Err(unexpected(other)),
            }));
        }
    }
    if let Some(i) = inbox {
        settings.inbox = i;
    }
    if let Some(o) = out {
        settings.out = o;
    }
    let req = RunRequest {
        period,
        trigger: Trigger::Manual,
        dry_run,
        resend,
        supplement,
    };
    finish_run(with_progress(|p| {
        crate::app::run(&settings, &SystemClock, &req, p)
    }))
}

/// Print what a run did (or why it did not) and give its exit code: the same for a run made
/// here and one the daemon made.
fn finish_run(result: Result<crate::app::RunReport, crate::app::AppError>) -> u8 {
    match result {
        Ok(report) => {
            print_run(&report);
            report.exit_code()
        }
        Err(e) if e.kind == crate::app::ErrorKind::NothingChanged => {
            say!("{}", e.message);
            e.exit_code()
        }
        Err(e) => {
            eprintln!("tonghop: {}", e.message);
            e.exit_code()
        }
    }
}

/// An answer of another kind than the command asked for (a daemon of another version).
fn unexpected(answer: crate::app::Answer) -> crate::app::AppError {
    crate::app::AppError::new(
        crate::app::ErrorKind::Internal,
        format!(
            "tonghop daemon trả lời không đúng loại câu hỏi ({answer:?}); daemon và lệnh này khác phiên bản?"
        ),
    )
}

/// How a command sent to the daemon ended.
// One per command: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Reached {
    /// The daemon carried it out (or refused it): its typed answer.
    Answer(Result<crate::app::Answer, crate::app::AppError>),
    /// No daemon answers on the control port (`left`: it answered, then went away before taking
    /// the command).
    NoDaemon { left: bool },
    /// A daemon answers but its control token cannot be read.
    NoToken(std::io::Error),
    /// The daemon is stopping and took nothing: nothing was done.
    NotTaken(crate::app::AppError),
}

/// Send a command to the daemon on the control port and wait for it, saying `waiting` once a
/// daemon answers. The one client path of `trigger` and of the commands handed to a daemon.
fn call_daemon(settings: &Settings, command: &crate::app::Command, waiting: &str) -> Reached {
    use crate::app::{AppError, ErrorKind};
    use client::ControlError;
    let port = crate::state::control::control_port(settings);
    if let Err(ControlError::NoDaemon { .. }) =
        client::health(port, std::time::Duration::from_secs(3))
    {
        return Reached::NoDaemon { left: false };
    }
    let token = match crate::state::control::read_token(&settings.data) {
        Ok(t) => t,
        Err(e) => return Reached::NoToken(e),
    };
    eprintln!("{waiting}");
    Reached::Answer(match client::command(port, &token, command, TRIGGER_WAIT) {
        Ok(answer) => Ok(answer),
        Err(ControlError::App(e)) if e.kind == ErrorKind::NotTaken => {
            return Reached::NotTaken(e);
        }
        Err(ControlError::App(e)) => Err(e),
        Err(ControlError::NoDaemon { .. }) => return Reached::NoDaemon { left: true },
        Err(ControlError::Unauthorized { .. }) => Err(AppError::new(
            ErrorKind::BadInput,
            format!(
                "daemon ở 127.0.0.1:{port} từ chối mã điều khiển trong {}: daemon đó có dùng đúng \
                 thư mục dữ liệu của cấu hình này không?",
                crate::state::control::token_path(&settings.data).display()
            ),
        )),
        // The daemon died while running it: what it did is in the store, and its next start
        // finishes it (the text says so).
        Err(e @ ControlError::DaemonGone { .. }) => Err(AppError::new(
            ErrorKind::DaemonStopping,
            client::explain(&e),
        )),
        Err(e) => Err(AppError::new(ErrorKind::Internal, client::explain(&e))),
    })
}

/// Hand a command to the daemon that holds the data folder, and wait for its typed answer. `None`
/// when no daemon holds it or none takes it (then the command is carried out here).
fn by_daemon(
    settings: &Settings,
    command: &crate::app::Command,
) -> Option<Result<crate::app::Answer, crate::app::AppError>> {
    // A daemon of this data folder is one that answers on the address it wrote there (probing
    // its lock instead could make a daemon starting at that instant fail).
    if !settings
        .data
        .join(crate::state::control::CONTROL_ADDR_FILE)
        .is_file()
    {
        return None;
    }
    let waiting = "tonghop daemon đang chạy với thư mục dữ liệu này: việc này được giao cho daemon, \
                   đang chờ...";
    match call_daemon(settings, command, waiting) {
        Reached::Answer(a) => Some(a),
        Reached::NoDaemon { left: false } | Reached::NoToken(_) => None,
        // It answered, then took nothing: made here instead, and said so.
        Reached::NoDaemon { left: true } => {
            eprintln!("tonghop daemon không còn trả lời: việc này được làm tại đây.");
            None
        }
        Reached::NotTaken(_) => {
            eprintln!("tonghop daemon đang dừng, không nhận việc này: việc này được làm tại đây.");
            None
        }
    }
}

/// Run `work` with a progress bar on a terminal for the slow part (reading files), shown only
/// when there are many files, and cleared when it is done.
fn with_progress<T>(work: impl FnOnce(crate::pipeline::Progress<'_>) -> T) -> T {
    let bar = progress_bar();
    let on_progress = |done: usize, total: usize| {
        // Only worth a bar when there are many files.
        if let Some(b) = bar.as_ref().filter(|_| total >= 20) {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let result = work(&on_progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    result
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("Đang đọc tệp {bar:40} {pos}/{len}")
            .expect("a valid template"),
    );
    Some(bar)
}

/// What a run did, as `run` and `trigger` both print it (from the same [`crate::app::RunReport`]).
fn print_run(r: &crate::app::RunReport) {
    say!("{}", run_text(r));
}

/// [`print_run`]'s text.
pub fn run_text(r: &crate::app::RunReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let mut line = |s: String| {
        let _ = writeln!(o, "{s}");
    };
    line(format!(
        "Kỳ báo cáo: {} ({})",
        r.period.label(),
        r.period.key()
    ));
    line(format!("Đơn vị có báo cáo: {}/{}", r.reported, r.roster));
    for (label, names) in &r.units_by_status {
        if !names.is_empty() {
            line(format!("{label} ({}): {}", names.len(), names.join(", ")));
        }
    }
    let totals: Vec<String> = r
        .totals
        .iter()
        .map(|(code, n)| format!("{code}={}", vi(*n)))
        .collect();
    line(format!(
        "Tổng cộng ({}): {}",
        r.totals_title,
        totals.join(" ")
    ));
    let f = &r.files;
    line(format!(
        "Tệp: {} được dùng, {} bị thay, {} kỳ khác, {} bị từ chối, {} không rõ đơn vị, {} bỏ qua",
        f.accepted, f.superseded, f.other_period, f.rejected, f.unidentified, f.ignored
    ));
    line(format!(
        "Lỗi: {}, cảnh báo: {} (chi tiết ở trang \"Lỗi, cảnh báo\")",
        r.errors, r.warnings
    ));
    if r.copying > 0 {
        line(crate::app::explain::still_copying(r.copying));
    }
    line(format!("Bảng tổng hợp: {}", r.workbook.display()));
    line(format!("Tóm tắt:       {}", r.summary.display()));
    let m = &r.mail;
    let err = m.error.as_deref().unwrap_or("");
    match (m.status.as_str(), &m.eml, &r.mail_lines) {
        ("sent", Some(eml), _) => line(format!("Thư đã ghi ra tệp: {eml}")),
        // What the store says of the mail, in the words `status` and `history` use.
        (_, _, Some(lines)) => lines.iter().for_each(|l| line(l.clone())),
        ("dry_run", Some(eml), _) => line(format!("Thư (chạy thử, chưa gửi): {eml}")),
        ("sent", None, _) => {
            let to: Vec<&str> = m
                .recipients
                .iter()
                .filter(|a| !m.refused.iter().any(|r| r.address == **a))
                .map(String::as_str)
                .collect();
            line(format!("Thư đã gửi tới: {}", to.join(", ")));
            for x in &m.refused {
                line(refused_line(x, r.run_id));
            }
        }
        ("pending", _, _) => line(format!(
            "Thư CHƯA gửi được, sẽ gửi lại (tonghop daemon): {err}"
        )),
        // Every failure gives its reason.
        _ if err.is_empty() => line(
            "Thư KHÔNG gửi được: không rõ lý do, xem tonghop status và tonghop history.".into(),
        ),
        _ => line(format!("Thư KHÔNG gửi được: {err}")),
    }
    o.trim_end().to_owned()
}

fn cmd_daemon(config: Option<&Path>) -> u8 {
    let settings = match load(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = rt.block_on(async {
        let shutdown = async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            tokio::select! {
                _ = term.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
                _ = int.recv() => tracing::info!(signal = "SIGINT", "stopping"),
            }
        };
        crate::daemon::run(settings, std::sync::Arc::new(SystemClock), shutdown).await
    });
    // Do not wait for work abandoned after the grace period: the state store resumes it.
    rt.shutdown_background();
    match result {
        Ok(()) => exit::SUCCESS,
        Err(e @ crate::daemon::DaemonError::AlreadyRunning(_)) => {
            tracing::error!(error = %e, "daemon not started");
            eprintln!("tonghop: {}", crate::daemon::explain(&e));
            exit::ALREADY_RUNNING
        }
        Err(e) => {
            tracing::error!(error = %e, "daemon stopped on an error");
            eprintln!("tonghop: {}", crate::daemon::explain(&e));
            exit::INTERNAL_ERROR
        }
    }
}

fn cmd_check(config: Option<&Path>, period: Option<&str>, files: &[PathBuf]) -> u8 {
    use crate::app::check::Checked;
    let (settings, period) = match setup(config, period) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let checked = crate::app::check::check(&settings, period, files);
    for c in &checked {
        match c {
            Checked::Unopened { path, reason, .. } => {
                say!("{}: không mở được: {reason}.", path.display())
            }
            Checked::Folder {
                path,
                unreadable: Some(reason),
                ..
            } => say!("{}: không đọc được thư mục: {reason}.", path.display()),
            Checked::Folder {
                path,
                unreadable: None,
                files,
                skipped,
            } => {
                if files.is_empty() {
                    say!("{}: thư mục không có tệp bảng tính nào.", path.display());
                }
                files.iter().for_each(print_checked);
                if !skipped.is_empty() {
                    say!(
                        "Một lần chạy bỏ qua {} tệp khác trong {}:",
                        skipped.len(),
                        path.display()
                    );
                    for (rel, reason) in skipped {
                        say!("  - {rel}: {reason}");
                    }
                }
            }
            Checked::Skipped { path, reason } => {
                say!("{}", path.display());
                say!(
                    "  Kết quả: BỎ QUA: không phải tệp báo cáo, một lần chạy bỏ qua tệp này ({reason})."
                );
            }
            Checked::File(f) => print_checked(f),
        }
    }
    if checked
        .iter()
        .any(|c| matches!(c, Checked::Unopened { missing: true, .. }))
    {
        exit::BAD_CONFIG
    } else if checked.iter().all(Checked::accepted) {
        exit::SUCCESS
    } else {
        exit::REJECTED_FILES
    }
}

/// One file's verdict and findings, in the words of a run.
fn print_checked(f: &crate::app::check::CheckedFile) {
    let (errors, warnings) = crate::finding::counts(&f.findings);
    say!("{}", f.path.display());
    say!(
        "  Đơn vị: {}",
        f.unit.as_deref().unwrap_or("(không xác định)")
    );
    say!(
        "  Kỳ báo cáo: {}",
        f.period
            .map(|p| p.label())
            .unwrap_or_else(|| "(không đọc được)".into())
    );
    if let Some(n) = f.activities {
        say!("  Số hoạt động: {n}");
    }
    say!(
        "  Kết quả: {} ({errors} lỗi, {warnings} cảnh báo)",
        match f.outcome {
            FileOutcome::Accepted => "HỢP LỆ",
            FileOutcome::OtherPeriod => "BÁO CÁO KỲ KHÁC, không được tổng hợp vào kỳ này",
            // The run's words for it ("Không xác định được đơn vị"), as a verdict.
            FileOutcome::Unidentified => "BỊ TỪ CHỐI: không xác định được đơn vị",
            _ => "BỊ TỪ CHỐI",
        }
    );
    for x in &f.findings {
        say!("  - {}: {}", x.severity.label(), x.message);
    }
}

fn cmd_form(config: Option<&Path>, out: &Path, period: Option<&str>) -> u8 {
    let (settings, period) = match setup(config, period) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match crate::app::form::write_blank_form(&settings.form, period.as_ref(), out) {
        Ok(()) => {
            say!("Đã ghi mẫu biểu: {}", out.display());
            exit::SUCCESS
        }
        Err(e) => {
            let why = match &e {
                crate::blank_form::WriteFormError::Io { source, .. } => {
                    crate::app::explain::os(source)
                }
                other => format!("lỗi chương trình ({other})"),
            };
            eprintln!("tonghop: không ghi được mẫu biểu {}: {why}.", out.display());
            exit::INTERNAL_ERROR
        }
    }
}

/// Write to stdout; a closed pipe (`tonghop history | head`) is not an error worth a panic.
/// Write to stdout, ignoring a reader that went away (see `say!`).
fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn print_json(value: &impl serde::Serialize) {
    out(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("values serialise")
    ));
}

fn cmd_status(config: Option<&Path>, period: Option<&str>, json: bool, check: bool) -> u8 {
    let (settings, period) = match setup(config, period) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let now = chrono::Utc::now();
    let period = period.unwrap_or_else(|| crate::config::collection::current(&settings, now));
    if check {
        // Asked for: read and record the inbox's files as the daemon's scan does (by the daemon
        // when one holds the data folder: one queue for everything that changes state).
        let command = crate::app::Command::CheckInbox {
            period: Some(period),
        };
        let checked = match by_daemon(&settings, &command) {
            Some(answer) => answer,
            None => with_progress(|p| crate::app::execute(&settings, &SystemClock, &command, p)),
        };
        match checked {
            Ok(crate::app::Answer::Checked { .. }) => {}
            // An inbox that cannot be read is said by status itself, below.
            Err(e) if e.kind == crate::app::ErrorKind::BadInput => {}
            Err(e) => {
                eprintln!("tonghop: {}", e.message);
                return e.exit_code();
            }
            Ok(other) => {
                let e = unexpected(other);
                eprintln!("tonghop: {}", e.message);
                return e.exit_code();
            }
        }
    }
    // From the state store: no file is read here.
    let daemon = client::daemon_state(crate::state::control::control_port(&settings));
    match operator::status(&settings, period, now, daemon) {
        Ok(s) => {
            if json {
                print_json(&s);
            } else {
                out(&text::status_text(&settings, &s));
            }
            if let operator::StoreState::Error { error, .. } = &s.store {
                eprintln!("tonghop: {error}");
                return exit::INTERNAL_ERROR;
            }
            // The state from the store is shown; the exit code still says the inbox is wrong.
            if let Some(problem) = &s.inbox_problem {
                // The text already opens with it; JSON carries it, so say it on stderr too.
                if json {
                    eprintln!("tonghop: {problem}");
                }
                return exit::BAD_CONFIG;
            }
            exit::SUCCESS
        }
        Err(e) => {
            // Typed as every failure: its kind gives the code.
            let e = crate::app::AppError::from(&e);
            eprintln!("tonghop: {}", e.message);
            e.exit_code()
        }
    }
}

fn cmd_history(config: Option<&Path>, limit: usize, json: bool) -> u8 {
    let settings = match load(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if limit == 0 {
        // Zero runs shown would read as "no runs yet" although runs exist.
        eprintln!("tonghop: --limit 0: cần hiện ít nhất 1 lần chạy (ví dụ --limit 5).");
        return exit::BAD_CONFIG;
    }
    match operator::history(&settings, limit) {
        Ok(h) => {
            if json {
                print_json(&h);
            } else {
                out(&text::history_text(&settings, &h));
            }
            match h.store {
                operator::StoreState::Error { .. } => exit::INTERNAL_ERROR,
                _ => exit::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("tonghop: {}", crate::app::explain::store(&e));
            exit::INTERNAL_ERROR
        }
    }
}

fn cmd_resend(
    config: Option<&Path>,
    run: Option<i64>,
    delivery: Option<i64>,
    force: bool,
    refused: bool,
) -> u8 {
    let settings = match load(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let target = match (run, delivery) {
        (_, Some(d)) => operator::ResendTarget::Delivery(d),
        (Some(r), None) => operator::ResendTarget::Run(r),
        (None, None) => unreachable!("clap requires a run or --delivery"),
    };
    // A resend changes state: the daemon that holds the data folder makes it, as a run.
    let command = crate::app::Command::Resend {
        target,
        force,
        refused,
    };
    let result = match by_daemon(&settings, &command) {
        Some(answer) => answer.and_then(|a| match a {
            crate::app::Answer::Resent(r) => Ok(r),
            other => Err(unexpected(other)),
        }),
        None => {
            let waiting = || eprintln!("Đang chờ lần chạy khác (của tonghop daemon?) kết thúc...");
            operator::resend(&settings, target, force, refused, &SystemClock, &waiting)
                .map_err(|e| crate::app::AppError::from(&e))
        }
    };
    match result {
        Ok(r) => {
            out(&text::resend_text(&settings, &r));
            r.exit_code()
        }
        Err(e) => {
            eprintln!("tonghop: {}", e.message);
            e.exit_code()
        }
    }
}

/// A recipient the server refused for good, and how to reach them once fixed (the same words
/// from `run` and `trigger`).
fn refused_line(x: &crate::pipeline::compose::Refused, run_id: Option<i64>) -> String {
    format!(
        "Thư KHÔNG tới {}: máy chủ thư từ chối hẳn địa chỉ này ({}); khi đã sửa địa chỉ: tonghop \
         resend {} --refused",
        x.address,
        x.reply,
        run_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "RUN_ID".into())
    )
}

/// The daemon's answer to `tonghop trigger`: which run, how many units, the workbook, and the
/// mail in the words `status` uses.
pub fn trigger_text(r: &crate::app::RunReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let key = r.period.key();
    let _ = writeln!(
        o,
        "Lần chạy {}: {} ({key}), {}/{} đơn vị có báo cáo.",
        r.run_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "?".into()),
        r.period.label(),
        r.reported,
        r.roster
    );
    let _ = writeln!(o, "Bảng tổng hợp: {}", r.workbook.display());
    match &r.mail_lines {
        Some(lines) => lines.iter().for_each(|l| {
            let _ = writeln!(o, "{l}");
        }),
        None => {
            let _ = match r.mail.status.as_str() {
                "sent" => writeln!(o, "Thư: đã gửi."),
                "pending" => writeln!(
                    o,
                    "Thư CHƯA gửi được, đang chờ trong hàng đợi; daemon sẽ tự gửi lại (lỗi: {}).",
                    r.mail
                        .error
                        .as_deref()
                        .unwrap_or("không rõ")
                        .trim_end_matches('.')
                ),
                // Every failure gives its reason; a bare status word ("failed") is none.
                _ => writeln!(
                    o,
                    "Thư KHÔNG gửi được: {}",
                    r.mail.error.as_deref().unwrap_or(
                        "không rõ lý do, xem tonghop status và nhật ký của tonghop daemon"
                    )
                ),
            };
            for x in &r.mail.refused {
                let _ = writeln!(o, "{}", refused_line(x, r.run_id));
            }
        }
    }
    if r.rejected {
        let _ = writeln!(
            o,
            "Có tệp bị từ chối hoặc không rõ đơn vị: xem tonghop status --period {key}"
        );
    }
    o
}

/// How long `tonghop trigger` waits for the daemon's run: it may first wait up to 15 minutes
/// for a run in progress, then read, render and send.
const TRIGGER_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

fn cmd_trigger(config: Option<&Path>, period: Option<&str>, resend: bool) -> u8 {
    let (settings, period) = match setup(config, period) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let command = crate::app::Command::Run {
        period,
        resend,
        supplement: false,
    };
    let failed = |e: crate::app::AppError| {
        // The daemon's own words, and the exit code of the failure's kind, as `run` gives.
        eprintln!("tonghop: {}", e.message);
        e.exit_code()
    };
    match call_daemon(
        &settings,
        &command,
        "Đang chờ tonghop daemon tổng hợp và gửi...",
    ) {
        Reached::Answer(Ok(crate::app::Answer::Run(report))) => {
            out(&trigger_text(&report));
            report.exit_code()
        }
        Reached::Answer(Ok(other)) => failed(unexpected(other)),
        Reached::Answer(Err(e)) | Reached::NotTaken(e) => failed(e),
        Reached::NoDaemon { .. } => {
            eprintln!(
                "Không có tonghop daemon nào đang chạy trên 127.0.0.1:{}. Khởi động daemon \
                 (tonghop daemon), hoặc tổng hợp ngay không cần daemon: tonghop run",
                crate::state::control::control_port(&settings)
            );
            exit::NO_DAEMON
        }
        // A daemon answers but this data folder has no readable token: another data folder?
        Reached::NoToken(e) => {
            eprintln!(
                "tonghop: có một daemon trả lời ở 127.0.0.1:{}, nhưng không đọc được mã điều khiển \
                 {} ({}): daemon đó có dùng đúng thư mục dữ liệu của cấu hình này không?",
                crate::state::control::control_port(&settings),
                crate::state::control::token_path(&settings.data).display(),
                crate::app::explain::os(&e)
            );
            exit::BAD_CONFIG
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_says_the_run_and_its_mail_as_the_store_words_it() {
        let ok = crate::app::command::sample_report(Period::month(2026, 10));
        let text = trigger_text(&ok);
        assert!(
            text.starts_with("Lần chạy 7: Tháng 10/2026 (2026-10), 15/18 đơn vị có báo cáo."),
            "{text}"
        );
        assert!(text.contains("\nThư báo cáo: đã gửi\n"), "{text}");
        assert!(!text.contains("bị từ chối"), "{text}");
        // Without the store's words (none recorded): the reason, never the bare state word.
        let mut failed = crate::app::RunReport {
            mail_lines: None,
            rejected: true,
            ..ok.clone()
        };
        failed.mail.status = "failed".into();
        let text = trigger_text(&failed);
        assert!(
            text.contains("Thư KHÔNG gửi được: không rõ lý do, xem tonghop status")
                && !text.contains("failed"),
            "{text}"
        );
        assert!(
            text.contains(
                "Có tệp bị từ chối hoặc không rõ đơn vị: xem tonghop status --period 2026-10"
            ),
            "{text}"
        );
        failed.mail.error = Some("máy chủ thư X trả lời 535 5.7.8 bad login".into());
        assert!(trigger_text(&failed).contains("Thư KHÔNG gửi được: máy chủ thư X trả lời 535"));
        let mut partly = crate::app::RunReport {
            mail_lines: None,
            ..ok
        };
        partly.mail.refused = vec![crate::pipeline::compose::Refused {
            address: "c@d.vn".into(),
            reply: "550 5.1.1 unknown".into(),
        }];
        assert!(trigger_text(&partly).contains(
            "Thư KHÔNG tới c@d.vn: máy chủ thư từ chối hẳn địa chỉ này (550 5.1.1 unknown)"
        ));
    }

    #[test]
    fn log_values_with_spaces_are_quoted() {
        assert_eq!(
            log_value("127.0.0.1:2525 (plain)"),
            "\"127.0.0.1:2525 (plain)\""
        );
        assert_eq!(log_value("2026-10"), "2026-10");
        assert_eq!(log_value("\"manual\""), "manual");
        assert_eq!(log_value("\"a b\""), "\"a b\"");
        assert_eq!(log_value("a=b"), "\"a=b\"");
        assert_eq!(log_value("say \"hi\" x"), "\"say \\\"hi\\\" x\"");
        assert_eq!(log_value(""), "\"\"");
    }
}
