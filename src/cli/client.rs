//! The client of the daemon's control API (`tonghop trigger`, and `status` asking whether a
//! daemon runs): a typed [`Command`] out, a typed [`Answer`] or [`AppError`] back.

use std::time::Duration;

use serde_json::Value;

use crate::app::operator::DaemonState;
use crate::app::{Answer, AppError, Command};

/// Why a request to the control endpoint did not produce a run.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no daemon is running on 127.0.0.1:{port} ({reason})")]
    NoDaemon { port: u16, reason: String },
    #[error(
        "the daemon on 127.0.0.1:{port} refused the control token (is it using another data folder?)"
    )]
    Unauthorized { port: u16 },
    /// The daemon carried out the command (or tried to) and says why it did not succeed, typed:
    /// the exit code comes from its kind.
    #[error("{0}")]
    App(AppError),
    #[error("no answer from the daemon on 127.0.0.1:{port} within {} s", timeout.as_secs())]
    Timeout { port: u16, timeout: Duration },
    /// The daemon took the request and closed the connection without an answer: it died (a
    /// crash, `kill -9`) while running it. What it did is in the store: the next start closes
    /// the run as interrupted and sends a mail already queued.
    #[error("the daemon on 127.0.0.1:{port} ended while running the request ({message})")]
    DaemonGone { port: u16, message: String },
    #[error("unexpected answer from 127.0.0.1:{port}: {message}")]
    Unexpected { port: u16, message: String },
}

/// How long connecting may take: the daemon is on this machine, so a slow connect means none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
        // 409 and 500 carry a JSON explanation: read it rather than fail on the status.
        .http_status_as_error(false)
        // ureq honours HTTP(S)_PROXY by default; the daemon is on 127.0.0.1, never behind one.
        .proxy(None)
        .build()
        .into()
}

fn transport_error(port: u16, timeout: Duration, e: ureq::Error) -> ControlError {
    match e {
        ureq::Error::Timeout(_) => ControlError::Timeout { port, timeout },
        ureq::Error::ConnectionFailed => ControlError::NoDaemon {
            port,
            reason: "connection failed".into(),
        },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::AddrNotAvailable
            ) =>
        {
            ControlError::NoDaemon {
                port,
                reason: io.to_string(),
            }
        }
        // ureq says "Peer disconnected" (UnexpectedEof) when the connection closes before the
        // answer: the daemon was there (it took the request) and is gone.
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            ControlError::DaemonGone {
                port,
                message: io.to_string(),
            }
        }
        other => ControlError::Unexpected {
            port,
            message: other.to_string(),
        },
    }
}

fn read_json(
    port: u16,
    timeout: Duration,
    mut res: ureq::http::Response<ureq::Body>,
) -> Result<(u16, Value), ControlError> {
    let status = res.status().as_u16();
    let body = res.body_mut().read_json::<Value>().map_err(|e| match e {
        ureq::Error::Timeout(_) => ControlError::Timeout { port, timeout },
        other => ControlError::Unexpected {
            port,
            message: format!("HTTP {status}, body is not JSON ({other})"),
        },
    })?;
    Ok((status, body))
}

/// Send a command to the daemon on 127.0.0.1:`port` and wait (up to `timeout`) for its typed
/// answer, or why there is none.
pub fn command(
    port: u16,
    token: &str,
    command: &Command,
    timeout: Duration,
) -> Result<Answer, ControlError> {
    let res = agent(timeout)
        .post(format!("http://127.0.0.1:{port}/command"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(command)
        .map_err(|e| transport_error(port, timeout, e))?;
    let (status, value) = read_json(port, timeout, res)?;
    let unexpected = |value: &Value| ControlError::Unexpected {
        port,
        message: format!("HTTP {status}: {value}"),
    };
    match status {
        200 => serde_json::from_value(value.clone()).map_err(|_| unexpected(&value)),
        401 => Err(ControlError::Unauthorized { port }),
        _ => match value
            .get("error")
            .cloned()
            .map(serde_json::from_value::<AppError>)
        {
            Some(Ok(e)) => Err(ControlError::App(e)),
            _ => Err(unexpected(&value)),
        },
    }
}

/// `GET /health`: `{"ok": true, "pid": ...}` when a daemon answers on the port.
pub fn health(port: u16, timeout: Duration) -> Result<Value, ControlError> {
    let res = agent(timeout)
        .get(format!("http://127.0.0.1:{port}/health"))
        .call()
        .map_err(|e| transport_error(port, timeout, e))?;
    match read_json(port, timeout, res)? {
        (200, v) if v.get("ok") == Some(&Value::Bool(true)) => Ok(v),
        (status, v) => Err(ControlError::Unexpected {
            port,
            message: format!("HTTP {status}: {v}"),
        }),
    }
}

/// Ask the control port whether a daemon is there (quickly: it is on this machine).
pub fn daemon_state(port: u16) -> DaemonState {
    match health(port, Duration::from_secs(1)) {
        Ok(v) => DaemonState {
            port,
            running: true,
            pid: v.get("pid").and_then(Value::as_u64),
        },
        Err(_) => DaemonState {
            port,
            running: false,
            pid: None,
        },
    }
}

/// `tonghop trigger` got no run from the daemon. A run's own error is the daemon's text.
pub fn explain(e: &ControlError) -> String {
    use ControlError as C;
    match e {
        C::NoDaemon { port, reason } => {
            format!("Không có tonghop daemon nào chạy ở 127.0.0.1:{port} ({reason}).")
        }
        C::Unauthorized { port } => format!(
            "Daemon ở 127.0.0.1:{port} từ chối mã điều khiển (daemon dùng thư mục dữ liệu khác?)."
        ),
        C::App(e) => format!("Daemon không tổng hợp được: {}", e.message),
        C::Timeout { port, timeout } => format!(
            "Daemon ở 127.0.0.1:{port} không trả lời trong {} phút; xem nhật ký của daemon \
             (journalctl -u tonghop) và tonghop history.",
            timeout.as_secs().div_ceil(60)
        ),
        C::DaemonGone { port, .. } => format!(
            "tonghop daemon ở 127.0.0.1:{port} đã dừng đột ngột (bị tắt hoặc bị kill) khi đang \
             chạy theo yêu cầu này, nên không trả lời được. Khởi động lại daemon (systemctl \
             start tonghop): lần chạy dở sẽ được ghi \"bị ngắt\" trong tonghop history, và thư \
             đã xếp hàng (nếu có) sẽ được gửi. Xem tonghop status để biết báo cáo đã gửi chưa; \
             nếu chưa, chạy lại tonghop trigger (hoặc tonghop run)."
        ),
        C::Unexpected { port, message } => {
            format!("Câu trả lời lạ từ 127.0.0.1:{port}: {message}")
        }
    }
}
