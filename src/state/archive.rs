//! The archive: every file a run reads is copied, as the exact bytes read, into
//! `<data>/archive/<period>/<unit>/<sha256>.<ext>`, so a report can be rebuilt after a unit
//! overwrote or deleted its file. Sent workbooks are kept in `<data>/sent/<period>/`.
//! Names are built from ids and hashes only, so nothing a unit names can escape the folder.

use std::path::{Path, PathBuf};

/// The archive path for a file's bytes (relative to the data folder).
pub fn relative_path(
    period: Option<&str>,
    unit: Option<&str>,
    sha256: &str,
    extension: &str,
) -> PathBuf {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect()
    };
    let period = period
        .map(clean)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "khong-ro-ky".into());
    let unit = unit
        .map(clean)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "khong-ro-don-vi".into());
    let ext = clean(extension);
    let ext = if ext.is_empty() {
        "bin".to_owned()
    } else {
        ext.to_lowercase()
    };
    PathBuf::from("archive")
        .join(period)
        .join(unit)
        .join(format!("{}.{ext}", clean(sha256)))
}

/// Store `bytes` under `data_dir/rel` unless already there (same name = same content).
pub fn store(data_dir: &Path, rel: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let path = data_dir.join(rel);
    if path.is_file() {
        return Ok(path);
    }
    let dir = path.parent().expect("archive paths have a folder");
    // The data folder itself is private (0700), whoever makes it first.
    crate::state::atomic::create_private_dir(data_dir)?;
    std::fs::create_dir_all(dir)?;
    crate::state::atomic::write(&path, bytes)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_archive() {
        let p = relative_path(Some("../../etc"), Some("../x/y"), "ab/../cd", "x/../../sh");
        assert_eq!(p, PathBuf::from("archive/etc/xy/abcd.xsh"));
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        );
        let p = relative_path(None, None, "abc", "");
        assert_eq!(
            p,
            PathBuf::from("archive/khong-ro-ky/khong-ro-don-vi/abc.bin")
        );
    }

    #[test]
    fn stores_once() {
        let dir = tempfile::tempdir().unwrap();
        let rel = relative_path(Some("2026-10"), Some("da-lat"), "abc", "xlsx");
        let p = store(dir.path(), &rel, b"one").unwrap();
        store(dir.path(), &rel, b"two").unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"one");
    }
}
