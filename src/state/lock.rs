//! The run lock: one run (and one delivery attempt) at a time across processes. An advisory
//! lock on `<data>/run.lock`, released by the kernel when the holder dies, so a crash never
//! leaves it held.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct RunLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open the lock file {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another tonghop run holds {path} (waited {waited:?})")]
    Busy { path: PathBuf, waited: Duration },
}

/// How long a run, a resend or the reminders wait for another run (the daemon's, a colleague's)
/// to finish: a run may take minutes on a slow share.
pub const RUN_WAIT: Duration = Duration::from_secs(900);

/// The daemon's lock on `<data>/daemon.lock`, held for its lifetime: one daemon per data folder.
pub struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    /// Take it, or `None` when another daemon holds it.
    pub fn try_acquire(data_dir: &Path) -> std::io::Result<Option<DaemonLock>> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join("daemon.lock"))?;
        Ok(file
            .try_lock()
            .is_ok()
            .then_some(DaemonLock { _file: file }))
    }
}

impl RunLock {
    /// Take the lock, waiting up to `wait` for another run to finish.
    pub fn acquire(data_dir: &Path, wait: Duration) -> Result<RunLock, LockError> {
        let path = data_dir.join("run.lock");
        let open_err = |source| LockError::Open {
            path: path.clone(),
            source,
        };
        crate::state::atomic::create_private_dir(data_dir).map_err(open_err)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(open_err)?;
        let start = Instant::now();
        let mut logged = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RunLock { _file: file, path }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= wait {
                        return Err(LockError::Busy {
                            path,
                            waited: start.elapsed(),
                        });
                    }
                    if !logged {
                        tracing::info!(lock = %path.display(), "another run is in progress; waiting");
                        logged = true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(open_err(e)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let err = RunLock::acquire(dir.path(), Duration::from_millis(300))
            .err()
            .unwrap();
        assert!(matches!(err, LockError::Busy { .. }));
        drop(first);
        assert!(RunLock::acquire(dir.path(), Duration::ZERO).is_ok());
    }

    #[test]
    fn one_daemon_per_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DaemonLock::try_acquire(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(DaemonLock::try_acquire(dir.path()).unwrap().is_none());
        drop(first);
        assert!(DaemonLock::try_acquire(dir.path()).unwrap().is_some());
    }
}
