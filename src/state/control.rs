//! The files in the data folder through which the CLI finds the daemon: its control address
//! (`control.addr`, written when it binds) and the control token (`control.token`, mode 0600:
//! whoever can read the data folder may drive the daemon, nobody else on the machine can).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::state::atomic::Mode;

/// The file in the data folder that holds the control endpoint's address while the daemon runs.
pub const CONTROL_ADDR_FILE: &str = "control.addr";
/// The console's address as the daemon bound it (`console.listen` may say port 0).
pub const CONSOLE_ADDR_FILE: &str = "console.addr";

/// The port of the running daemon's control endpoint: the one it wrote to the data folder when
/// it bound (which may differ from the config with `control_port = 0`), else the configured one.
pub fn control_port(settings: &Settings) -> u16 {
    std::fs::read_to_string(settings.data.join(CONTROL_ADDR_FILE))
        .ok()
        .and_then(|a| a.trim().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .unwrap_or(settings.daemon.control_port)
}

/// The token's file name in the data folder.
pub const TOKEN_FILE: &str = "control.token";

/// Hex characters in a token (128 bits).
pub const TOKEN_LEN: usize = 32;

pub fn token_path(data: &Path) -> PathBuf {
    data.join(TOKEN_FILE)
}

/// Create (or reuse) the control token: 32 random hex chars in `<data>/control.token`, mode 0600.
///
/// Safe against a second process doing the same at the same moment: the file appears whole
/// (written aside, then linked into place without overwriting) and both end up with the same
/// token. A malformed file (empty, truncated) is replaced.
pub fn ensure_token(data: &Path) -> std::io::Result<String> {
    std::fs::create_dir_all(data)?;
    let path = token_path(data);
    let replace = match read_token(data) {
        Ok(token) => {
            restrict_permissions(&path)?;
            return Ok(token);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(path = %path.display(), "the control token file is malformed; making a new token");
            true
        }
        Err(e) => return Err(e),
    };
    let token = new_token();
    let written = crate::state::atomic::write_with(&path, Mode::OwnerOnly, replace, |w| {
        w.write_all(format!("{token}\n").as_bytes())
    });
    match written {
        Ok(_) => {
            tracing::info!(path = %path.display(), "control token created");
            Ok(token)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_token(data),
        Err(e) => Err(e),
    }
}

/// The control token from `<data>/control.token`. `NotFound` when there is none (no daemon has
/// run with this data folder), `InvalidData` when the file does not hold a token.
pub fn read_token(data: &Path) -> std::io::Result<String> {
    let path = token_path(data);
    let text = std::fs::read_to_string(&path)?;
    let token = text.trim();
    if token.len() != TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} does not hold a control token ({TOKEN_LEN} hex characters)",
                path.display()
            ),
        ));
    }
    Ok(token.to_owned())
}

/// 128 random bits as 32 hex characters. uuid's v4 draws from the operating system's random
/// source; hashing two of them removes the fixed version and variant bits.
fn new_token() -> String {
    let mut h = Sha256::new();
    h.update(uuid::Uuid::new_v4().as_bytes());
    h.update(uuid::Uuid::new_v4().as_bytes());
    hex::encode(&h.finalize()[..TOKEN_LEN / 2])
}

/// A token file readable by others (copied around, restored from a backup) is made 0600 again.
#[cfg(unix)]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the control token was readable by others; restricting it to its owner");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_made_once_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let t1 = ensure_token(&data).unwrap();
        assert_eq!(t1.len(), 32);
        assert!(t1.bytes().all(|b| b.is_ascii_hexdigit()), "{t1}");
        assert_eq!(ensure_token(&data).unwrap(), t1);
        assert_eq!(read_token(&data).unwrap(), t1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(token_path(&data))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(token_path(&data), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            assert_eq!(ensure_token(&data).unwrap(), t1);
            let mode = std::fs::metadata(token_path(&data))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "a readable token is restricted again");
        }
        let other = tempfile::tempdir().unwrap();
        assert_ne!(ensure_token(other.path()).unwrap(), t1, "tokens are random");
    }

    #[test]
    fn a_malformed_token_file_is_replaced_and_a_missing_one_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_token(dir.path()).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        std::fs::write(token_path(dir.path()), "").unwrap();
        assert_eq!(
            read_token(dir.path()).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        let t = ensure_token(dir.path()).unwrap();
        assert_eq!(read_token(dir.path()).unwrap(), t);
    }
}
