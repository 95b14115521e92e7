//! Intake: scan the shared folder for submissions. Reads directory entries and metadata only;
//! nothing in the inbox is ever modified, moved or deleted.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::text::nfc;

/// Extensions read as workbooks (compared case-insensitively).
pub const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "xlsb", "ods"];

/// A file that may be a unit's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub path: PathBuf,
    /// Path relative to the inbox: forward slashes, NFC.
    pub rel: String,
    /// Lower-case extension without the dot.
    pub extension: String,
    pub size: u64,
    /// The received time: the file's modification time.
    pub modified: SystemTime,
}

impl Submission {
    /// Folder names between the inbox and the file (NFC).
    pub fn folders(&self) -> Vec<&str> {
        let mut parts: Vec<&str> = self.rel.split('/').collect();
        parts.pop();
        parts
    }

    /// The file name without its extension (NFC).
    pub fn stem(&self) -> &str {
        let name = self.rel.rsplit('/').next().unwrap_or(&self.rel);
        name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name)
    }
}

/// A file that is not read, and why (in Vietnamese).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub rel: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
    pub reason: String,
    /// Modified less than the settling time ago: probably still being copied, read next time.
    pub settling: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Sorted by `rel`.
    pub submissions: Vec<Submission>,
    /// Lock files, hidden files, other kinds of files, files still being copied.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("inbox {path} cannot be read: {source}")]
    Inbox {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Scan `inbox` and its subfolders. A file modified less than `settle` before `now` is still
/// being copied and is skipped this time.
pub fn scan(inbox: &Path, now: SystemTime, settle: Duration) -> Result<Scan, IntakeError> {
    let meta = std::fs::metadata(inbox).map_err(|e| IntakeError::Inbox {
        path: inbox.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(IntakeError::Inbox {
            path: inbox.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
        });
    }
    let mut out = Scan::default();
    let walker = walkdir::WalkDir::new(inbox)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    // Hidden folders (.git, .Trash, .stfolder) are not descended into.
    let walker = walker
        .filter_entry(|e| e.depth() == 0 || !(e.file_type().is_dir() && is_hidden(e.file_name())));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let rel = e.path().map(|p| rel_of(inbox, p)).unwrap_or_default();
                tracing::warn!(file = %rel, error = %e, "cannot read inbox entry");
                out.skipped.push(Skipped {
                    rel,
                    size: 0,
                    modified: None,
                    reason: "không đọc được (không có quyền truy cập thư mục hoặc tệp)".into(),
                    settling: false,
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = rel_of(inbox, entry.path());
        let (size, modified) = match entry.metadata() {
            Ok(m) => (m.len(), m.modified().ok()),
            Err(_) => (0, None),
        };
        let name = nfc(&entry.file_name().to_string_lossy());
        let skip = |reason: &str| Skipped {
            rel: rel.clone(),
            size,
            modified,
            reason: reason.to_owned(),
            settling: false,
        };
        if let Some(reason) = ignore_reason(&name) {
            out.skipped.push(skip(reason));
            continue;
        }
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_lowercase())
            .unwrap_or_default();
        let Some(modified) = modified else {
            out.skipped
                .push(skip("không đọc được thời gian sửa đổi của tệp"));
            continue;
        };
        if now.duration_since(modified).is_ok_and(|age| age < settle) {
            out.skipped.push(Skipped {
                settling: true,
                ..skip("tệp vừa thay đổi (có thể đang được chép vào); sẽ xét ở lần chạy sau")
            });
            continue;
        }
        out.submissions.push(Submission {
            path: entry.path().to_path_buf(),
            rel,
            extension,
            size,
            modified,
        });
    }
    out.submissions.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.skipped.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn rel_of(inbox: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(inbox).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| nfc(&c.as_os_str().to_string_lossy()))
        .collect();
    parts.join("/")
}

/// Why a file name is not a submission, or `None` if it may be one.
pub fn ignore_reason(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if lower.starts_with("~$") || lower.starts_with(".~lock.") {
        return Some("tệp khóa tạm do Excel/LibreOffice tạo khi đang mở tệp");
    }
    if lower.starts_with('.') {
        return Some("tệp ẩn");
    }
    if lower.ends_with('~')
        || [
            ".tmp",
            ".temp",
            ".part",
            ".crdownload",
            ".partial",
            ".download",
        ]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return Some("tệp tạm (đang tải hoặc đang lưu)");
    }
    if ["thumbs.db", "desktop.ini"].contains(&lower.as_str()) {
        return Some("tệp hệ thống");
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if !WORKBOOK_EXTENSIONS.contains(&ext) {
        return Some("không phải tệp bảng tính (.xlsx, .xlsm, .xls, .xlsb, .ods)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_temp_hidden_and_other_files_are_ignored() {
        assert!(ignore_reason("~$BaoLam_T10.xlsx").unwrap().contains("khóa"));
        assert!(
            ignore_reason(".~lock.BaoLamDong_T10.xlsx#")
                .unwrap()
                .contains("khóa")
        );
        assert!(ignore_reason(".DS_Store").is_some());
        assert!(ignore_reason("Thumbs.db").is_some());
        assert!(ignore_reason("desktop.ini").is_some());
        assert!(
            ignore_reason("ghi chu.txt")
                .unwrap()
                .contains("không phải tệp bảng tính")
        );
        assert!(ignore_reason("BC.xlsx.tmp").is_some());
        assert!(ignore_reason("noextension").is_some());
        for ok in ["a.xlsx", "B.XLSX", "c.Xls", "d.ods", "e.xlsm", "f.xlsb"] {
            assert_eq!(ignore_reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn scan_finds_nested_files_and_skips_settling_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dai-ptth")).unwrap();
        std::fs::create_dir_all(dir.path().join(".hidden")).unwrap();
        std::fs::write(dir.path().join("dai-ptth/bc.xlsx"), b"x").unwrap();
        std::fs::write(dir.path().join(".hidden/bc.xlsx"), b"x").unwrap();
        std::fs::write(dir.path().join("A.XLS"), b"x").unwrap();
        std::fs::write(dir.path().join("~$A.xls"), b"x").unwrap();
        let later = SystemTime::now() + Duration::from_secs(60);
        let scan1 = scan(dir.path(), later, Duration::from_secs(5)).unwrap();
        let rels: Vec<&str> = scan1.submissions.iter().map(|s| s.rel.as_str()).collect();
        assert_eq!(rels, ["A.XLS", "dai-ptth/bc.xlsx"]);
        assert_eq!(scan1.submissions[1].folders(), ["dai-ptth"]);
        assert_eq!(scan1.submissions[1].stem(), "bc");
        assert_eq!(scan1.submissions[0].extension, "xls");
        assert_eq!(scan1.skipped.len(), 1);
        // Right after writing, the files are still settling.
        let scan2 = scan(dir.path(), SystemTime::now(), Duration::from_secs(5)).unwrap();
        assert!(scan2.submissions.is_empty());
        assert_eq!(scan2.skipped.len(), 3);
    }

    #[test]
    fn missing_inbox_is_an_error_naming_it() {
        let err = scan(
            Path::new("/nonexistent/inbox"),
            SystemTime::now(),
            Duration::ZERO,
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/inbox"));
    }
}
