//! Isolated reading: unit files are parsed in child processes ("read workers", the same
//! program started as `tonghop __read-worker`) with an address-space limit and a time limit.
//! A reader that aborts (calamine aborts outright on some crafted files), panics, runs out of
//! memory or hangs takes down only its worker; the file gets a finding and the run goes on with
//! a fresh worker. Workers are long-lived: one per reading thread, not one per file.
//!
//! A worker does the whole per-file work that needs no roster: read, legacy-font conversion,
//! checks against the form. Only the result crosses the pipe: the `Examined` report as JSON and
//! its activity rows packed (`Activities::write_to`), not every cell of the workbook.
//!
//! Protocol on the worker's stdin/stdout, little-endian length-prefixed frames. First, once:
//! `u32 len, the form's TOML, u8 period kind (0 month, 1 quarter)`. Then per file: request =
//! `u32 ext_len, ext, u64 len, bytes`; reply = `u8 (0 ok, 1 finding), u64 len, JSON of the
//! Examined or the Finding`, and after an `Examined` its packed activities.

pub use crate::config::limits::ReadSettings;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Form;
use crate::finding::{Finding, Severity};
use crate::period::PeriodKind;
use crate::pipeline::content::Activities;
use crate::pipeline::read::{self, ReadLimits};
use crate::pipeline::validate::{self, Examined};

/// What a file is examined against: the form (with its TOML text, which a worker parses
/// itself) and the kind of period.
#[derive(Clone, Copy)]
pub struct FormSpec<'a> {
    pub form: &'a Form,
    pub source: &'a str,
    pub period_kind: PeriodKind,
}

impl<'a> FormSpec<'a> {
    pub fn of(settings: &'a crate::config::Settings) -> FormSpec<'a> {
        FormSpec {
            form: &settings.form,
            source: &settings.form_source,
            period_kind: settings.period_kind,
        }
    }
}

/// Read a file and examine it against the form, in this process: what a worker does per file.
pub fn examine_bytes(
    bytes: &[u8],
    extension: &str,
    limits: &ReadLimits,
    form: &Form,
    period_kind: PeriodKind,
) -> Result<Examined, Finding> {
    let mut wb = read::read_workbook(bytes, extension, limits)?;
    if let Some(f) = crate::pipeline::read::legacy::convert_workbook(&mut wb) {
        wb.findings.push(f);
    }
    let mut ex = validate::examine(form, &wb, period_kind);
    drop(wb);
    if let Some(p) = ex.period {
        validate::check_period(form, &mut ex, &p);
    }
    Ok(ex)
}

/// The hidden subcommand that starts a worker.
pub const WORKER_ARG: &str = "__read-worker";

/// Parse the worker's arguments (`--name=value`, as `Reader::spawn` writes them) and run it.
pub fn worker_from_args(args: &[String]) -> u8 {
    let mut limits = ReadLimits::default();
    let mut memory = 0u64;
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            continue;
        };
        let Ok(n) = v.parse::<u64>() else { continue };
        match k {
            "--memory" => memory = n,
            "--max-file-bytes" => limits.max_file_bytes = n,
            "--max-unzipped-bytes" => limits.max_unzipped_bytes = n,
            "--max-zip-entries" => limits.max_zip_entries = n as usize,
            "--max-rows" => limits.max_rows = n as u32,
            "--max-cols" => limits.max_cols = n as u32,
            "--max-text-chars" => limits.max_text_chars = n as usize,
            _ => {}
        }
    }
    worker_main(&limits, memory)
}

/// The worker's main loop: read requests until stdin closes. Returns the exit code.
pub fn worker_main(limits: &ReadLimits, memory: u64) -> u8 {
    if memory > 0
        && let Err(e) = rlimit::setrlimit(rlimit::Resource::AS, memory, memory)
    {
        eprintln!("tonghop read worker: cannot set the memory limit: {e}");
        return 70;
    }
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    let Some((form, period_kind)) = read_form_frame(&mut input) else {
        eprintln!("tonghop read worker: no valid form declaration on stdin");
        return 70;
    };
    loop {
        let mut len4 = [0u8; 4];
        match input.read_exact(&mut len4) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return 0,
            Err(_) => return 70,
        }
        let mut ext = vec![0u8; u32::from_le_bytes(len4) as usize];
        let mut len8 = [0u8; 8];
        if input.read_exact(&mut ext).is_err() || input.read_exact(&mut len8).is_err() {
            return 70;
        }
        let mut bytes = vec![0u8; u64::from_le_bytes(len8) as usize];
        if input.read_exact(&mut bytes).is_err() {
            return 70;
        }
        let ext = String::from_utf8_lossy(&ext).into_owned();
        let reply = examine_bytes(&bytes, &ext, limits, &form, period_kind);
        drop(bytes);
        if write_reply(&mut output, &reply)
            .and_then(|()| output.flush())
            .is_err()
        {
            return 70;
        }
    }
}

fn read_form_frame(input: &mut impl Read) -> Option<(Form, PeriodKind)> {
    let mut len4 = [0u8; 4];
    input.read_exact(&mut len4).ok()?;
    let mut text = vec![0u8; u32::from_le_bytes(len4) as usize];
    input.read_exact(&mut text).ok()?;
    let mut kind = [0u8; 1];
    input.read_exact(&mut kind).ok()?;
    let form = Form::from_toml(std::str::from_utf8(&text).ok()?).ok()?;
    let kind = match kind[0] {
        0 => PeriodKind::Month,
        1 => PeriodKind::Quarter,
        _ => return None,
    };
    Some((form, kind))
}

fn write_reply(out: &mut impl Write, reply: &Result<Examined, Finding>) -> std::io::Result<()> {
    let (tag, json) = match reply {
        Ok(ex) => (0u8, serde_json::to_vec(ex)),
        Err(f) => (1u8, serde_json::to_vec(f)),
    };
    let json = json.map_err(std::io::Error::other)?;
    out.write_all(&[tag])?;
    out.write_all(&(json.len() as u64).to_le_bytes())?;
    out.write_all(&json)?;
    if let Ok(ex) = reply {
        ex.activities.write_to(out)?;
    }
    Ok(())
}

fn read_reply(input: &mut impl Read) -> std::io::Result<Result<Examined, Finding>> {
    let invalid = |e: serde_json::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut tag = [0u8; 1];
    input.read_exact(&mut tag)?;
    let mut len8 = [0u8; 8];
    input.read_exact(&mut len8)?;
    let mut json = vec![0u8; u64::from_le_bytes(len8) as usize];
    input.read_exact(&mut json)?;
    match tag[0] {
        0 => {
            let mut ex: Examined = serde_json::from_slice(&json).map_err(invalid)?;
            ex.activities = Activities::read_from(input)?;
            Ok(Ok(ex))
        }
        1 => Ok(Err(serde_json::from_slice(&json).map_err(invalid)?)),
        t => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unknown reply tag {t}"),
        )),
    }
}

/// Read workers started by this process so far: a cheap witness that a command (`status`)
/// answers without reading any file (its test asserts the count does not move).
static WORKERS_STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many read workers this process has started.
pub fn workers_started() -> usize {
    WORKERS_STARTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// A reader: in this process, or through a worker process (started on first use, restarted
/// after a crash).
pub struct Reader {
    settings: ReadSettings,
    exe: Option<PathBuf>,
    worker: Option<Worker>,
    /// The form the worker was started with (its TOML text and period kind).
    worker_form: Option<(String, PeriodKind)>,
}

struct Worker {
    child: Arc<Mutex<Child>>,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Set while a request is in flight; the watchdog kills the worker past it.
    deadline: Arc<Mutex<Option<Instant>>>,
    timed_out: Arc<Mutex<bool>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Reader {
    pub fn new(settings: &ReadSettings) -> Reader {
        let exe = settings.isolate.then(|| {
            std::env::var_os("TONGHOP_READ_WORKER")
                .map(PathBuf::from)
                .or_else(|| std::env::current_exe().ok())
                .unwrap_or_else(|| PathBuf::from("tonghop"))
        });
        Reader {
            settings: settings.clone(),
            exe,
            worker: None,
            worker_form: None,
        }
    }

    /// Read a file's bytes and examine them against the form, or the finding that says why
    /// they could not be read.
    pub fn examine(
        &mut self,
        bytes: &[u8],
        extension: &str,
        spec: FormSpec<'_>,
    ) -> Result<Examined, Finding> {
        let local = |limits: &ReadLimits| {
            examine_bytes(bytes, extension, limits, spec.form, spec.period_kind)
        };
        let Some(exe) = self.exe.clone() else {
            return local(&self.settings.limits);
        };
        // Cheap refusals before a worker sees the file.
        if bytes.len() as u64 > self.settings.limits.max_file_bytes {
            return local(&self.settings.limits);
        }
        let same_form = self
            .worker_form
            .as_ref()
            .is_some_and(|(s, k)| s == spec.source && *k == spec.period_kind);
        if !same_form {
            self.worker = None;
        }
        if self.worker.is_none() {
            match self.spawn(&exe, spec) {
                Ok(w) => {
                    self.worker = Some(w);
                    self.worker_form = Some((spec.source.to_owned(), spec.period_kind));
                }
                Err(e) => {
                    tracing::error!(exe = %exe.display(), error = %e, "cannot start a read worker");
                    return Err(Finding::new(
                        Severity::Error,
                        "reader_unavailable",
                        "Chương trình không khởi động được bộ đọc tệp nên chưa đọc được tệp này; tệp sẽ được đọc ở lần chạy sau. Đề nghị báo người quản trị.",
                    ));
                }
            }
        }
        let worker = self.worker.as_mut().expect("just started");
        let result = worker.request(bytes, extension, self.settings.timeout);
        match result {
            Ok(r) => r,
            Err(failure) => {
                let timed_out = worker.timed_out.lock().map(|t| *t).unwrap_or(false);
                let status = worker.child.lock().ok().and_then(|mut c| {
                    let _ = c.kill();
                    c.wait().ok()
                });
                self.worker = None;
                tracing::warn!(status = %status.map(|s| s.to_string()).unwrap_or_else(|| "running".into()), timed_out, error = %failure, "read worker failed on a file; restarting it");
                Err(if timed_out {
                    Finding::new(
                        Severity::Error,
                        "reader_timeout",
                        format!(
                            "Đọc tệp quá {} giây mà chưa xong: tệp có cấu trúc bất thường hoặc quá lớn. Đề nghị đơn vị mở bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
                            self.settings.timeout.as_secs()
                        ),
                    )
                } else {
                    Finding::new(
                        Severity::Error,
                        "reader_crash",
                        "Tệp có cấu trúc bất thường làm bộ đọc bảng tính vượt giới hạn bộ nhớ hoặc dừng đột ngột; tệp không đọc được. Đề nghị đơn vị mở bằng Excel, lưu lại dạng .xlsx rồi gửi lại.",
                    )
                })
            }
        }
    }

    fn spawn(&self, exe: &std::path::Path, spec: FormSpec<'_>) -> std::io::Result<Worker> {
        WORKERS_STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let l = &self.settings.limits;
        let mut child = Command::new(exe)
            .arg(WORKER_ARG)
            .arg(format!("--memory={}", self.settings.worker_memory))
            .arg(format!("--max-file-bytes={}", l.max_file_bytes))
            .arg(format!("--max-unzipped-bytes={}", l.max_unzipped_bytes))
            .arg(format!("--max-zip-entries={}", l.max_zip_entries))
            .arg(format!("--max-rows={}", l.max_rows))
            .arg(format!("--max-cols={}", l.max_cols))
            .arg(format!("--max-text-chars={}", l.max_text_chars))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut stdin = BufWriter::new(child.stdin.take().expect("piped"));
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        stdin.write_all(&(spec.source.len() as u32).to_le_bytes())?;
        stdin.write_all(spec.source.as_bytes())?;
        stdin.write_all(&[match spec.period_kind {
            PeriodKind::Month => 0,
            PeriodKind::Quarter => 1,
        }])?;
        let child = Arc::new(Mutex::new(child));
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let timed_out = Arc::new(Mutex::new(false));
        {
            let (child, deadline, timed_out) = (child.clone(), deadline.clone(), timed_out.clone());
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                    // The worker is gone once only the watchdog holds it.
                    if Arc::strong_count(&child) == 1 {
                        return;
                    }
                    let due = deadline.lock().map(|d| *d).unwrap_or(None);
                    if let Some(due) = due
                        && Instant::now() > due
                    {
                        if let Ok(mut t) = timed_out.lock() {
                            *t = true;
                        }
                        if let Ok(mut c) = child.lock() {
                            let _ = c.kill();
                        }
                        return;
                    }
                }
            });
        }
        Ok(Worker {
            child,
            stdin,
            stdout,
            deadline,
            timed_out,
        })
    }
}

impl Worker {
    fn request(
        &mut self,
        bytes: &[u8],
        ext: &str,
        timeout: Duration,
    ) -> std::io::Result<Result<Examined, Finding>> {
        if let Ok(mut d) = self.deadline.lock() {
            *d = Some(Instant::now() + timeout);
        }
        self.stdin.write_all(&(ext.len() as u32).to_le_bytes())?;
        self.stdin.write_all(ext.as_bytes())?;
        self.stdin.write_all(&(bytes.len() as u64).to_le_bytes())?;
        self.stdin.write_all(bytes)?;
        self.stdin.flush()?;
        let reply = read_reply(&mut self.stdout)?;
        if let Ok(mut d) = self.deadline.lock() {
            *d = None;
        }
        Ok(reply)
    }
}
