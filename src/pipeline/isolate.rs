//! Isolated reading: unit files are parsed in child processes ("read workers", the same
//! program started as `tonghop __read-worker`) with an address-space limit and a time limit.
//! A reader that aborts (calamine aborts outright on some crafted files), panics, runs out of
//! memory or hangs takes down only its worker; the file gets a finding and the run goes on with
//! a fresh worker. Workers are long-lived: one per reading thread, not one per file.
//!
//! Protocol on the worker's stdin/stdout, little-endian length-prefixed frames:
//! request = `u32 ext_len, ext, u64 len, bytes`; reply = `u64 len, JSON of Result<SubmittedWorkbook, Finding>`.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::finding::{Finding, Severity};
use crate::pipeline::read::{self, ReadLimits, SubmittedWorkbook};

/// How files are read.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    pub limits: ReadLimits,
    /// Read in child processes (the default). Off only for tests of the reading code itself.
    pub isolate: bool,
    /// Address-space limit of one worker, in bytes.
    pub worker_memory: u64,
    /// Time limit for one file.
    pub timeout: Duration,
}

impl Default for ReadSettings {
    fn default() -> Self {
        ReadSettings {
            limits: ReadLimits::default(),
            isolate: true,
            worker_memory: 1 << 30,
            timeout: Duration::from_secs(60),
        }
    }
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
        let reply = read::read_workbook(&bytes, &ext, limits);
        drop(bytes);
        let json = serde_json::to_vec(&reply).expect("a workbook serialises");
        if output
            .write_all(&(json.len() as u64).to_le_bytes())
            .is_err()
            || output.write_all(&json).is_err()
            || output.flush().is_err()
        {
            return 70;
        }
    }
}

/// A reader: in this process, or through a worker process (started on first use, restarted
/// after a crash).
pub struct Reader {
    settings: ReadSettings,
    exe: Option<PathBuf>,
    worker: Option<Worker>,
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
        }
    }

    /// Read a file's bytes into a workbook, or the finding that says why not.
    pub fn read(&mut self, bytes: &[u8], extension: &str) -> Result<SubmittedWorkbook, Finding> {
        let Some(exe) = self.exe.clone() else {
            return read::read_workbook(bytes, extension, &self.settings.limits);
        };
        // Cheap refusals before a worker sees the file.
        if bytes.len() as u64 > self.settings.limits.max_file_bytes {
            return read::read_workbook(bytes, extension, &self.settings.limits);
        }
        if self.worker.is_none() {
            match self.spawn(&exe) {
                Ok(w) => self.worker = Some(w),
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
                tracing::warn!(status = ?status, timed_out, error = %failure, "read worker failed on a file; restarting it");
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

    fn spawn(&self, exe: &std::path::Path) -> std::io::Result<Worker> {
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
        let stdin = BufWriter::new(child.stdin.take().expect("piped"));
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
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
    ) -> std::io::Result<Result<SubmittedWorkbook, Finding>> {
        if let Ok(mut d) = self.deadline.lock() {
            *d = Some(Instant::now() + timeout);
        }
        self.stdin.write_all(&(ext.len() as u32).to_le_bytes())?;
        self.stdin.write_all(ext.as_bytes())?;
        self.stdin.write_all(&(bytes.len() as u64).to_le_bytes())?;
        self.stdin.write_all(bytes)?;
        self.stdin.flush()?;
        let mut len8 = [0u8; 8];
        self.stdout.read_exact(&mut len8)?;
        let mut json = vec![0u8; u64::from_le_bytes(len8) as usize];
        self.stdout.read_exact(&mut json)?;
        if let Ok(mut d) = self.deadline.lock() {
            *d = None;
        }
        serde_json::from_slice(&json)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}
