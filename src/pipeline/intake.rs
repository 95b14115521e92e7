//! Intake: scan the shared folder for submissions. Reads directory entries and metadata only;
//! nothing in the inbox is ever modified, moved or deleted.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::text::nfc;

/// Extensions read as workbooks (compared case-insensitively).
pub const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "xlsb", "ods"];
/// Archives a unit may pack its report in: a `.zip` is opened (`unpack_zip`), the others are
/// named with a message. Always submissions: whatever their name, they may hold a report.
pub const ARCHIVE_EXTENSIONS: &[&str] = &["zip", "rar", "7z"];
/// Documents a unit may send instead of its spreadsheet (a scanned, signed report): named with
/// a message when they name a unit (by folder or file name), otherwise ignored.
pub const DOCUMENT_EXTENSIONS: &[&str] = &["pdf", "doc", "docx", "odt", "rtf"];

/// What a file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Workbook,
    Archive,
    Document,
}

impl Kind {
    /// The kind of a lower-case extension, or `None` for every other kind of file.
    pub fn of(extension: &str) -> Option<Kind> {
        if WORKBOOK_EXTENSIONS.contains(&extension) {
            Some(Kind::Workbook)
        } else if ARCHIVE_EXTENSIONS.contains(&extension) {
            Some(Kind::Archive)
        } else if DOCUMENT_EXTENSIONS.contains(&extension) {
            Some(Kind::Document)
        } else {
            None
        }
    }
}

/// Why a file that may be a unit's report is not read as one (in Vietnamese, for the clerk and
/// the unit), for an archive other than .zip or a document.
pub fn not_a_spreadsheet(extension: &str) -> String {
    let what = match extension {
        "pdf" => "tệp PDF".to_owned(),
        "doc" | "docx" | "odt" | "rtf" => format!("văn bản Word (.{extension})"),
        other => format!("tệp nén .{other} (chỉ mở được tệp nén .zip)"),
    };
    format!(
        "Tệp là {what}, không đọc được số liệu báo cáo từ tệp này. Đề nghị đơn vị gửi báo cáo bằng tệp bảng tính theo mẫu (.xlsx, .xls hoặc .ods)."
    )
}

/// The one spreadsheet inside a `.zip` a unit sent: its name and bytes (at most `max_bytes`,
/// counted while decompressing). Folders, macOS metadata (`__MACOSX/`) and lock files are
/// passed over. `Err` says why in Vietnamese: no spreadsheet, several, encrypted, damaged.
pub fn unpack_zip(bytes: &[u8], max_bytes: u64) -> Result<(String, Vec<u8>), String> {
    use std::io::Read;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "Tệp nén .zip lớn quá mức cho phép ({} MB).",
            max_bytes >> 20
        ));
    }
    // A crafted archive must cost a finding, not the run.
    let unpacked = std::panic::catch_unwind(|| {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|_| "Tệp nén .zip bị hỏng, không mở được.".to_owned())?;
        let mut found: Vec<(usize, String)> = Vec::new();
        for i in 0..zip.len().min(10_000) {
            let Ok(entry) = zip.by_index_raw(i) else {
                continue;
            };
            let name = nfc(entry.name());
            let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
            if entry.is_dir() || name.starts_with("__MACOSX/") || ignore_reason(&base).is_some() {
                continue;
            }
            let ext = base
                .rsplit_once('.')
                .map(|(_, e)| e.to_lowercase())
                .unwrap_or_default();
            if WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
                found.push((i, name));
            }
        }
        let (i, name) = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(
                    "Tệp nén .zip không chứa tệp bảng tính nào (.xlsx, .xls, .ods). Đề nghị đơn vị gửi báo cáo bằng tệp bảng tính theo mẫu."
                        .to_owned(),
                );
            }
            several => {
                return Err(format!(
                    "Tệp nén .zip chứa {} tệp bảng tính ({}); không biết tệp nào là báo cáo. Đề nghị đơn vị gửi riêng từng tệp báo cáo.",
                    several.len(),
                    several
                        .iter()
                        .map(|(_, n)| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        };
        let entry = zip.by_index(i).map_err(|e| match e {
            // zip's own name for this case, matched as its documentation shows.
            zip::result::ZipError::UnsupportedArchive(zip::result::ZipError::PASSWORD_REQUIRED) =>
            {
                format!("Tệp \"{name}\" trong tệp nén .zip có đặt mật khẩu, không mở được.")
            }
            _ => format!("Không giải nén được tệp \"{name}\" trong tệp nén .zip (tệp nén bị hỏng hoặc dùng cách nén chưa hỗ trợ)."),
        })?;
        let mut out = Vec::new();
        entry
            .take(max_bytes + 1)
            .read_to_end(&mut out)
            .map_err(|_| {
                format!("Không giải nén được tệp \"{name}\" trong tệp nén .zip (tệp nén bị hỏng).")
            })?;
        if out.len() as u64 > max_bytes {
            return Err(format!(
                "Tệp \"{name}\" trong tệp nén .zip lớn quá mức cho phép ({} MB).",
                max_bytes >> 20
            ));
        }
        Ok((name, out))
    });
    unpacked.unwrap_or_else(|_| Err("Tệp nén .zip bị hỏng, không mở được.".to_owned()))
}

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
    /// A document (`DOCUMENT_EXTENSIONS`: a scanned report, a Word file) is skipped like any
    /// other kind of file unless it names a unit (decided with the roster by
    /// `app::run::consolidate_period`): then it is read as a submission, to say what it is.
    pub document: Option<Submission>,
    /// Modified less than the settling time ago: probably still being copied, read next time.
    pub settling: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Sorted by `rel`.
    pub submissions: Vec<Submission>,
    /// Lock files, hidden files, other kinds of files (documents too), files still being copied.
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
    // Unsorted walk: both lists are sorted by path at the end (sorting each folder as it is
    // read, by `Path::file_name` at every comparison, was a fifth of a status query).
    let walker = walkdir::WalkDir::new(inbox).follow_links(false).into_iter();
    // Hidden folders (.git, .Trash, .stfolder) are not descended into.
    let entries: Vec<walkdir::Result<walkdir::DirEntry>> = walker
        .filter_entry(|e| e.depth() == 0 || !(e.file_type().is_dir() && is_hidden(e.file_name())))
        .collect();
    // Each file's metadata (a stat) and name are looked at on all cores: listing 10,000 files
    // is most of a `status` query.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = entries.len().div_ceil(threads).max(256);
    let parts: Vec<Scan> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|part| s.spawn(move || classify(inbox, part, now, settle)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Scan::default();
    for mut p in parts {
        out.submissions.append(&mut p.submissions);
        out.skipped.append(&mut p.skipped);
    }
    out.submissions.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.skipped.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Files and skipped entries among `entries` (a part of the inbox's walk), unsorted.
fn classify(
    inbox: &Path,
    entries: &[walkdir::Result<walkdir::DirEntry>],
    now: SystemTime,
    settle: Duration,
) -> Scan {
    let mut out = Scan::default();
    for entry in entries {
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
                    document: None,
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
            document: None,
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
        let sub = Submission {
            path: entry.path().to_path_buf(),
            rel,
            extension,
            size,
            modified,
        };
        if Kind::of(&sub.extension) == Some(Kind::Document) {
            out.skipped.push(Skipped {
                rel: sub.rel.clone(),
                size,
                modified: Some(modified),
                reason: "không phải tệp bảng tính (.xlsx, .xlsm, .xls, .xlsb, .ods)".into(),
                document: Some(sub),
                settling: false,
            });
        } else {
            out.submissions.push(sub);
        }
    }
    out
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn rel_of(inbox: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(inbox).unwrap_or(path);
    // Paths from the walk are clean (no `.`, `..` or doubled `/`): NFC of the whole path is
    // NFC of each part joined by `/`, without splitting it (a status query lists every file).
    nfc(&rel.to_string_lossy())
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
    if Kind::of(ext).is_none() {
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
        // Junk stays quiet even with an extension that is read.
        assert!(ignore_reason("~$BC T10.pdf").unwrap().contains("khóa"));
        assert!(ignore_reason("._BC T10.zip").unwrap().contains("ẩn"));
        for ok in [
            "a.xlsx", "B.XLSX", "c.Xls", "d.ods", "e.xlsm", "f.xlsb", "g.zip", "h.RAR", "i.7z",
            "j.pdf", "k.docx", "l.doc",
        ] {
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

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_gives_its_one_spreadsheet_or_says_why_not() {
        let z = zip_of(&[
            ("__MACOSX/._BC.xlsx", b"junk"),
            ("BC T10/", b""),
            ("BC T10/~$BC.xlsx", b"lock"),
            ("BC T10/Thumbs.db", b"x"),
            ("BC T10/HU Lâm Hà T10.xlsx", b"the report"),
            ("BC T10/scan.pdf", b"%PDF"),
        ]);
        let (name, bytes) = unpack_zip(&z, 1000).unwrap();
        assert_eq!(name, "BC T10/HU Lâm Hà T10.xlsx");
        assert_eq!(bytes, b"the report");
        // Larger than allowed, packed or once decompressed.
        assert!(
            unpack_zip(&z, 5)
                .unwrap_err()
                .contains("Tệp nén .zip lớn quá")
        );
        let one = zip_of(&[("a.xlsx", &[b'x'; 4000])]);
        assert!(one.len() < 1000);
        let big = unpack_zip(&one, 1000).unwrap_err();
        assert!(
            big.contains("\"a.xlsx\"") && big.contains("lớn quá"),
            "{big}"
        );
        let none = unpack_zip(&zip_of(&[("scan.pdf", b"%PDF")]), 1000).unwrap_err();
        assert!(none.contains("không chứa tệp bảng tính"), "{none}");
        let two = unpack_zip(&zip_of(&[("a.xlsx", b"1"), ("b.xls", b"2")]), 1000).unwrap_err();
        assert!(
            two.contains("2 tệp bảng tính") && two.contains("\"b.xls\""),
            "{two}"
        );
        // The encryption flag set on the entry (local header and central directory).
        let mut locked = zip_of(&[("BC.xlsx", b"secret")]);
        for (sig, at) in [(b"PK\x03\x04", 6), (b"PK\x01\x02", 8)] {
            let i = locked.windows(4).position(|w| w == sig).unwrap();
            locked[i + at] |= 1;
        }
        let pw = unpack_zip(&locked, 1000).unwrap_err();
        assert!(
            pw.contains("mật khẩu") && pw.contains("\"BC.xlsx\""),
            "{pw}"
        );
        let broken = unpack_zip(b"PK\x03\x04 not really", 1000).unwrap_err();
        assert!(broken.contains("bị hỏng"), "{broken}");
    }

    #[test]
    fn archives_are_submissions_and_documents_are_set_apart() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "BC T10.zip",
            "BC T10.rar",
            "BC T10.pdf",
            "Thumbs.db",
            "a.xlsx",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let later = SystemTime::now() + Duration::from_secs(60);
        let scan = scan(dir.path(), later, Duration::from_secs(5)).unwrap();
        let rels = |v: &[Submission]| v.iter().map(|s| s.rel.clone()).collect::<Vec<_>>();
        assert_eq!(
            rels(&scan.submissions),
            ["BC T10.rar", "BC T10.zip", "a.xlsx"]
        );
        // The PDF is skipped as any other kind of file, with its submission kept aside.
        let skipped: Vec<(&str, bool)> = scan
            .skipped
            .iter()
            .map(|s| (s.rel.as_str(), s.document.is_some()))
            .collect();
        assert_eq!(skipped, [("BC T10.pdf", true), ("Thumbs.db", false)]);
        assert!(scan.skipped[0].reason.contains("không phải tệp bảng tính"));
        assert!(not_a_spreadsheet("rar").contains(".rar"));
        assert!(not_a_spreadsheet("pdf").contains("PDF"));
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
