//! The one atomic writer. Every file the program writes (the workbook, summary.json, a queued
//! mail, an `.eml`, an archive copy, the blank form, the control address and token) goes through
//! [`write_with`]: a dot-named temporary file in the same folder, filled, fsynced, renamed over
//! the target, then the folder fsynced so the rename itself is durable. A half-written file is
//! never visible under its name; on failure the temporary file is removed and an earlier file
//! under the name is left as it was.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Who may read the file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The process umask decides (0666 & !umask, as any program's new file): the systemd unit
    /// sets `UMask=0027`. tempfile's own default, 0600, would make summary.json and the mails
    /// private while the workbook beside them is not.
    Umask,
    /// 0600: the control token.
    OwnerOnly,
}

/// Write `path` atomically with what `fill` writes (buffered). `replace: false` fails with
/// `AlreadyExists` when `path` exists (another process made it first).
pub fn write_with(
    path: &Path,
    mode: Mode,
    replace: bool,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    // A dot name: a folder watcher or a person listing the folder passes over it.
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(match mode {
            Mode::Umask => 0o666,
            Mode::OwnerOnly => 0o600,
        }));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    sync_dir(dir);
    Ok(())
}

/// Write bytes to `path` atomically, readable as the umask says.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, Mode::Umask, true, |w| w.write_all(bytes))
}

/// Copy a file atomically, without holding it in memory.
pub fn copy(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    write_with(to, Mode::Umask, true, |w| io::copy(&mut src, w).map(|_| ()))
}

/// Saving the workbook failed; names the file.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot save the workbook {}: {source}", path.display())]
    Xlsx {
        path: std::path::PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("cannot write the workbook {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: io::Error,
    },
}

/// Save a workbook atomically ([`write_with`]), streamed to the temporary file.
pub fn save_workbook(
    workbook: &mut rust_xlsxwriter::Workbook,
    path: &Path,
) -> Result<(), SaveError> {
    let mut xlsx = None;
    write_with(path, Mode::Umask, true, |w| {
        workbook.save_to_writer(w).map_err(|e| {
            let said = io::Error::other(e.to_string());
            xlsx = Some(e);
            said
        })
    })
    .map_err(|source| match xlsx.take() {
        Some(source) => SaveError::Xlsx {
            path: path.to_path_buf(),
            source,
        },
        None => SaveError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Make the rename itself durable. Some network file systems refuse to sync a folder; the file
/// is complete either way, so that is not an error.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Create the data folder readable by its owner only (it holds the archive and the control
/// token); an existing folder is left as it is.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn a_failing_fill_leaves_the_earlier_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write(&p, b"kept").unwrap();
        let err = write_with(&p, Mode::Umask, true, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&p).unwrap(), b"kept");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn no_replace_refuses_an_existing_file_and_owner_only_is_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("token");
        write_with(&p, Mode::OwnerOnly, false, |w| w.write_all(b"first")).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let err = write_with(&p, Mode::OwnerOnly, false, |w| w.write_all(b"second")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
    }

    #[test]
    fn copy_copies_the_bytes() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        let b = d.path().join("b");
        std::fs::write(&a, vec![7u8; 100_000]).unwrap();
        copy(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), vec![7u8; 100_000]);
    }
}
