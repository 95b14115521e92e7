//! Named moments where a test can make the process die as if an operator ran `kill -9`.
//!
//! A test that kills the daemon from outside when a log line appears races the daemon: the
//! next step may already be done when the signal lands. Setting `TONGHOP_CRASH_AT=<name>`
//! makes the process send itself SIGKILL at exactly that moment instead — no destructors, no
//! flush, no rollback beyond what SQLite does for an unfinished transaction. Unset (always,
//! in production) it costs one environment lookup per process.

use std::sync::OnceLock;

/// Die here, like `kill -9`, if `TONGHOP_CRASH_AT` names this point.
pub fn here(name: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("TONGHOP_CRASH_AT").ok());
    if at.as_deref() == Some(name) {
        tracing::warn!(
            point = name,
            "crash point reached; killing this process (TONGHOP_CRASH_AT)"
        );
        // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}
