//! Named exit codes of the `tonghop` program.

/// Everything worked; every unit file found was accepted (warnings allowed).
pub const SUCCESS: u8 = 0;
/// The run finished, but some files were rejected or could not be attributed to a unit.
pub const REJECTED_FILES: u8 = 1;
/// The configuration (or a command-line argument) is wrong; nothing was done.
pub const BAD_CONFIG: u8 = 2;
/// The workbook was made but the mail could not be delivered.
pub const DELIVERY_FAILED: u8 = 3;
/// Nothing was done: the period's report was already sent (use `--resend`). (A report made but
/// only queued is `MAIL_QUEUED`: it is not sent yet.)
pub const ALREADY_SENT: u8 = 4;
/// Another daemon already runs with the same data folder.
pub const ALREADY_RUNNING: u8 = 5;
/// The mail failed for good and nothing retries it by itself: refused by the mail server for
/// every recipient (a bad address, a refused login, an untrusted certificate) or for some of them
/// while the others got it, or an outbox folder that cannot be written. `status`/`history` say
/// why (the refused addresses with the server's answer), and the operator is alerted. (A
/// temporary failure is `DELIVERY_FAILED`: still queued and retried.)
pub const DELIVERY_FAILED_FOR_GOOD: u8 = 6;
/// Nothing was done: a mail of the period (its report or a supplement) still waits in the queue,
/// so `run`/`trigger` (without `--resend`) and `run --supplement` make no new one beside it; the
/// text says since when, how many attempts, the last error and the next attempt (see `tonghop
/// status`, `tonghop resend`).
pub const MAIL_QUEUED: u8 = 7;
/// `tonghop trigger` found no daemon on the control port, nothing was done; or the daemon was told
/// to stop while the trigger (or a `run` or `status --check` handed to the daemon) waited (a run it had started is finished and recorded); or the
/// daemon ended (killed) while running the request: what it did is in `tonghop history`, and its
/// next start closes the run and sends a mail it had queued (sysexits EX_UNAVAILABLE).
pub const NO_DAEMON: u8 = 69;
/// Something failed that is not the input's fault (output folder not writable, a bug).
pub const INTERNAL_ERROR: u8 = 70;
