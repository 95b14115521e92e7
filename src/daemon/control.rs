//! The control endpoint: HTTP on 127.0.0.1, protected by a token in the data folder.
//!
//! The daemon serves it; `tonghop trigger` is its client. `POST /trigger` becomes an
//! [`Event::Manual`] for the daemon's loop and answers when the run is over; `GET /health` says
//! the daemon is alive and needs no token. Everything else needs `Authorization: Bearer <token>`,
//! where the token is the content of `<data>/control.token` (mode 0600): whoever can read the
//! data folder may drive the daemon, nobody else on the machine can. The token is never logged
//! nor echoed.

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, watch};

use super::Event;
use crate::period::Period;

/// The token's file name in the data folder.
pub const TOKEN_FILE: &str = "control.token";

/// Hex characters in a token (128 bits).
const TOKEN_LEN: usize = 32;

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
    let mut tmp = tempfile::Builder::new()
        .prefix(".control.token.")
        .tempfile_in(data)?;
    set_owner_only(tmp.as_file())?;
    tmp.write_all(format!("{token}\n").as_bytes())?;
    tmp.as_file().sync_all()?;
    let persisted = if replace {
        tmp.persist(&path)
    } else {
        tmp.persist_noclobber(&path)
    };
    match persisted {
        Ok(_) => {
            tracing::info!(path = %path.display(), "control token created");
            Ok(token)
        }
        // Another process made it first: use theirs.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => read_token(data),
        Err(e) => Err(e.error),
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

#[cfg(unix)]
fn set_owner_only(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
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

/// Equality that takes the same time wherever the first difference is, so that the token
/// cannot be guessed byte by byte from response times. (Only the length may leak; it is public.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    diff == 0
}

// ---------------------------------------------------------------------------------------------
// Server

#[derive(Clone)]
struct Control {
    token: Arc<str>,
    events: mpsc::Sender<Event>,
    /// Becomes true when `shutdown` resolves.
    stopping: watch::Receiver<bool>,
}

/// What `POST /trigger` takes. Both fields may be left out.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct TriggerBody {
    /// `2026-10`, `2026-Q4`, or null for the period that closed last.
    #[serde(default)]
    period: Option<String>,
    /// Send although the period's report was already sent.
    #[serde(default)]
    resend: bool,
}

/// Serve until `shutdown` resolves. Binds nothing itself: the caller passes a listener bound to
/// 127.0.0.1:port.
///
/// A `POST /trigger` waits for the run as long as it takes. When `shutdown` resolves, requests
/// still waiting are answered 503 at once (the run, if the loop is doing it, still completes and
/// is recorded; only its answer is lost), so a trigger queued behind a long run cannot hold up
/// the daemon's exit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    token: String,
    events: mpsc::Sender<Event>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // An empty or short token would let (almost) anyone in.
    if token.len() < TOKEN_LEN / 2 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the control token is too short",
        ));
    }
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(addr = %addr, "control endpoint listening");
    }
    let (stop, stopping) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    axum::serve(listener, router(token, events, stopping))
        .with_graceful_shutdown(signal)
        .await
}

fn router(token: String, events: mpsc::Sender<Event>, stopping: watch::Receiver<bool>) -> Router {
    let state = Control {
        token: token.into(),
        events,
        stopping,
    };
    // The token check wraps every route added before `layer`, the fallback included (so that
    // without the token, nothing tells which routes exist); /health is added after it.
    Router::new()
        .route("/trigger", post(trigger_handler))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .route("/health", get(health_handler))
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    // The scheme is case-insensitive (RFC 7235).
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn require_token(State(control): State<Control>, req: Request, next: Next) -> Response {
    let ok = bearer(req.headers())
        .is_some_and(|t| constant_time_eq(t.as_bytes(), control.token.as_bytes()));
    if !ok {
        // The path only: never the header.
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "control request without a valid token refused");
        let mut res = error(StatusCode::UNAUTHORIZED, "missing or wrong control token");
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return res;
    }
    next.run(req).await
}

async fn health_handler() -> Json<Value> {
    Json(json!({
        "ok": true,
        "pid": std::process::id(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn trigger_handler(
    State(control): State<Control>,
    body: Result<Json<TriggerBody>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(b)) => b,
        Err(e) => return error(e.status(), &e.body_text()),
    };
    let period = match body.period.as_deref() {
        None => None,
        Some(s) => match Period::parse_key(s) {
            Some(p) => Some(p),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("period {s:?}: expected YYYY-MM (e.g. 2026-10) or YYYY-Qn"),
                );
            }
        },
    };
    let (reply, answer) = oneshot::channel();
    tracing::info!(
        period = period.map(|p| p.key()).as_deref().unwrap_or("default"),
        resend = body.resend,
        "manual run requested"
    );
    let event = Event::Manual {
        period,
        resend: body.resend,
        reply,
    };
    let mut stopping = control.stopping.clone();
    // Not an internal error: the daemon is going away on purpose (SIGTERM). Said in the
    // clerk's words, with the exit code of "no daemon" (69) and what to do.
    let shutting_down = |taken: bool| {
        tracing::info!(
            request_taken = taken,
            "the daemon is shutting down; told the trigger client"
        );
        let message = if taken {
            "tonghop daemon đang dừng (được yêu cầu dừng) nên không chờ để trả lời: lần chạy theo \
             yêu cầu này, nếu đã bắt đầu, vẫn được làm xong và ghi lại trước khi daemon dừng. Xem \
             kết quả: tonghop history, tonghop status; nếu báo cáo chưa được lập, chạy lại khi \
             daemon đã khởi động lại (tonghop trigger) hoặc tổng hợp ngay không cần daemon: \
             tonghop run."
        } else {
            "tonghop daemon đang dừng (được yêu cầu dừng) nên không nhận yêu cầu này; chưa làm gì. \
             Chạy lại khi daemon đã khởi động lại (tonghop trigger), hoặc tổng hợp ngay không cần \
             daemon: tonghop run."
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "error": message,
                "exit_code": crate::app::exit::NO_DAEMON,
                "shutting_down": true,
            })),
        )
            .into_response()
    };
    tokio::select! {
        sent = control.events.send(event) => if sent.is_err() {
            return shutting_down(false);
        },
        _ = stopping.wait_for(|s| *s) => return shutting_down(false),
    }
    // No timeout: a run takes as long as it takes (the client decides how long it waits). If the
    // client goes away, the run still completes; only its answer is lost.
    let answer = tokio::select! {
        a = answer => a,
        _ = stopping.wait_for(|s| *s) => return shutting_down(true),
    };
    match answer {
        Ok(Ok(run)) => (StatusCode::OK, Json(run)).into_response(),
        Ok(Err(super::WorkError { message, exit_code })) => {
            let status = match exit_code {
                crate::app::exit::ALREADY_SENT | crate::app::exit::MAIL_QUEUED => {
                    StatusCode::CONFLICT
                }
                crate::app::exit::BAD_CONFIG => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (
                status,
                Json(json!({ "error": message, "exit_code": exit_code })),
            )
                .into_response()
        }
        Err(_) => shutting_down(true),
    }
}

// ---------------------------------------------------------------------------------------------
// Client

/// Why a request to the control endpoint did not produce a run.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no daemon is running on 127.0.0.1:{port} ({reason})")]
    NoDaemon { port: u16, reason: String },
    #[error(
        "the daemon on 127.0.0.1:{port} refused the control token (is it using another data folder?)"
    )]
    Unauthorized { port: u16 },
    /// The daemon ran (or tried to run) and says why it did not succeed.
    #[error("{error}")]
    Run {
        status: u16,
        error: String,
        /// The exit code `tonghop run` gives for the same failure, as the daemon sent it.
        exit_code: Option<u8>,
    },
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

/// Ask the daemon on 127.0.0.1:`port` to run now and wait (up to `timeout`) for the outcome:
/// the run's JSON (`run_id`, `period`, `reported`, `roster`, `mail_status`, `workbook`,
/// `rejected`), or why there is none.
pub fn trigger(
    port: u16,
    token: &str,
    period: Option<Period>,
    resend: bool,
    timeout: Duration,
) -> Result<Value, ControlError> {
    let body = TriggerBody {
        period: period.map(|p| p.key()),
        resend,
    };
    let res = agent(timeout)
        .post(format!("http://127.0.0.1:{port}/trigger"))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(&body)
        .map_err(|e| transport_error(port, timeout, e))?;
    let (status, value) = read_json(port, timeout, res)?;
    match status {
        200 => Ok(value),
        401 => Err(ControlError::Unauthorized { port }),
        _ => match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(ControlError::Run {
                status,
                error: error.to_owned(),
                exit_code: value
                    .get("exit_code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u8::try_from(c).ok()),
            }),
            None => Err(ControlError::Unexpected {
                port,
                message: format!("HTTP {status}: {value}"),
            }),
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

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

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

    /// A stand-in for the daemon's loop: answers each manual run with a canned outcome.
    fn fake_daemon(
        mut rx: mpsc::Receiver<Event>,
    ) -> tokio::task::JoinHandle<Vec<(Option<Period>, bool)>> {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(event) = rx.recv().await {
                let Event::Manual {
                    period,
                    resend,
                    reply,
                } = event
                else {
                    continue;
                };
                seen.push((period, resend));
                let answer = match period.map(|p| p.key()).as_deref() {
                    Some("2026-09") if !resend => Err(super::super::WorkError {
                        message: "Báo cáo Tháng 9/2026 đã được gửi lúc 08:00 04/10/2026".to_owned(),
                        exit_code: crate::app::exit::ALREADY_SENT,
                    }),
                    Some("2026-08") => Err("Không ghi được out/2026-08: ổ đĩa đã đầy."
                        .to_owned()
                        .into()),
                    _ => Ok(json!({
                        "run_id": 7,
                        "period": period.map(|p| p.key()).unwrap_or_else(|| "2026-10".into()),
                        "reported": 15,
                        "roster": 18,
                        "mail_status": "sent",
                        "workbook": "out/2026-10/x.xlsx",
                        "rejected": true,
                    })),
                };
                let _ = reply.send(answer);
            }
            seen
        })
    }

    struct Running {
        port: u16,
        stop: Option<oneshot::Sender<()>>,
        server: tokio::task::JoinHandle<std::io::Result<()>>,
        daemon: tokio::task::JoinHandle<Vec<(Option<Period>, bool)>>,
    }

    async fn start() -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel(4);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, TOKEN.into(), tx, async {
            let _ = stopped.await;
        }));
        Running {
            port,
            stop: Some(stop),
            server,
            daemon: fake_daemon(rx),
        }
    }

    impl Running {
        /// Stop the server; the fake daemon then ends too (its channel closes). What it saw.
        async fn stop(mut self) -> Vec<(Option<Period>, bool)> {
            self.stop.take().unwrap().send(()).unwrap();
            self.server.await.unwrap().unwrap();
            self.daemon.await.unwrap()
        }
    }

    /// A raw HTTP/1.1 request (so that the test controls every header): status and body.
    async fn raw(port: u16, request: &str) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.unwrap();
        let status = buf[9..12].parse().unwrap();
        let (head, body) = buf.split_once("\r\n\r\n").unwrap();
        (status, head.to_owned(), body.to_owned())
    }

    fn post(body: &str, auth: Option<&str>) -> String {
        format!(
            "POST /trigger HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n{body}",
            auth.map(|a| format!("Authorization: {a}\r\n"))
                .unwrap_or_default(),
            body.len()
        )
    }

    #[tokio::test]
    async fn without_the_token_nothing_happens() {
        let d = start().await;
        let body = r#"{"period": "2026-10", "resend": false}"#;
        for auth in [
            None,
            Some("Bearer 0123456789abcdef0123456789abcdee".to_owned()),
            Some(format!("Basic {TOKEN}")),
            Some("Bearer ".to_owned()),
        ] {
            let (status, head, text) = raw(d.port, &post(body, auth.as_deref())).await;
            assert_eq!(status, 401, "{auth:?}: {text}");
            assert!(
                head.to_lowercase().contains("www-authenticate: bearer"),
                "{head}"
            );
            assert!(!text.contains(TOKEN) && !head.contains(TOKEN));
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["error"], "missing or wrong control token");
        }
        // Unknown routes do not answer 404 to strangers either.
        let (status, _, _) = raw(
            d.port,
            "GET /runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status, 401);
        assert!(d.stop().await.is_empty(), "no run was requested");
    }

    #[tokio::test]
    async fn with_the_token_the_run_answer_comes_back() {
        let d = start().await;
        let (status, _, text) = raw(
            d.port,
            &post(
                r#"{"period": "2026-10", "resend": true}"#,
                Some(&format!("bearer {TOKEN}")),
            ),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["run_id"], 7);
        assert_eq!(v["period"], "2026-10");
        let (status, _, text) = raw(
            d.port,
            &post(r#"{"period": "October"}"#, Some(&format!("Bearer {TOKEN}"))),
        )
        .await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("October"), "{text}");
        let (status, _, _) = raw(
            d.port,
            &format!(
                "GET /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(
            d.stop().await,
            vec![(Some(Period::month(2026, 10)), true)],
            "one run, as asked; the bad period never reached the daemon"
        );
    }

    #[tokio::test]
    async fn health_needs_no_token() {
        let d = start().await;
        let (status, _, text) = raw(
            d.port,
            "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["pid"], std::process::id());
        let port = d.port;
        let h = tokio::task::spawn_blocking(move || health(port, Duration::from_secs(5)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h["pid"], std::process::id());
        d.stop().await;
    }

    #[tokio::test]
    async fn the_client_maps_every_answer() {
        let d = start().await;
        let port = d.port;
        let call = move |token: &'static str, period: Option<Period>, resend: bool| {
            tokio::task::spawn_blocking(move || {
                trigger(port, token, period, resend, Duration::from_secs(10))
            })
        };
        let ok = call(TOKEN, None, false).await.unwrap().unwrap();
        assert_eq!(ok["mail_status"], "sent");
        assert_eq!(ok["rejected"], true);

        let e = call(TOKEN, Some(Period::month(2026, 9)), false)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::Run { status: 409, exit_code: Some(4), error } if error.contains("đã được gửi")),
            "{e:?}"
        );
        let e = call(TOKEN, Some(Period::month(2026, 8)), false)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::Run { status: 500, exit_code: Some(70), error } if error.contains("ổ đĩa đã đầy")),
            "{e:?}"
        );
        let e = call("ffffffffffffffffffffffffffffffff", None, false)
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, ControlError::Unauthorized { .. }), "{e:?}");
        let seen = d.stop().await;
        assert_eq!(seen.len(), 3, "the refused token made no run: {seen:?}");

        // The server is gone: the port refuses connections.
        let e = tokio::task::spawn_blocking(move || {
            trigger(port, TOKEN, None, false, Duration::from_secs(5))
        })
        .await
        .unwrap()
        .unwrap_err();
        assert!(matches!(e, ControlError::NoDaemon { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("no daemon is running on 127.0.0.1:{port}")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_daemon_that_stops_before_answering_gives_503() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, mut rx) = mpsc::channel(4);
        // A loop that takes the event and drops it (as on SIGTERM) without replying.
        let daemon = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let server = tokio::spawn(serve(listener, TOKEN.into(), tx, std::future::pending()));
        let (status, _, text) = raw(port, &post("{}", Some(&format!("Bearer {TOKEN}")))).await;
        assert_eq!(status, 503, "{text}");
        server.abort();
        let _ = daemon.await;
    }

    #[tokio::test]
    async fn shutdown_answers_a_waiting_trigger_instead_of_hanging() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, mut rx) = mpsc::channel(4);
        // A loop busy elsewhere: it keeps the event (and its reply) without ever answering.
        let (took, taken) = oneshot::channel();
        let daemon = tokio::spawn(async move {
            let event = rx.recv().await;
            let _ = took.send(());
            std::future::pending::<()>().await;
            drop((event, rx));
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, TOKEN.into(), tx, async {
            let _ = stopped.await;
        }));
        let request =
            tokio::spawn(
                async move { raw(port, &post("{}", Some(&format!("Bearer {TOKEN}")))).await },
            );
        taken.await.unwrap();
        stop.send(()).unwrap();
        let (status, _, text) = tokio::time::timeout(Duration::from_secs(10), request)
            .await
            .expect("answered at shutdown")
            .unwrap();
        assert_eq!(status, 503, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("tonghop daemon đang dừng (được yêu cầu dừng) nên không chờ"),
            "{text}"
        );
        assert_eq!(
            v["exit_code"],
            crate::app::exit::NO_DAEMON,
            "not an internal error"
        );
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve returns")
            .unwrap()
            .unwrap();
        daemon.abort();
    }

    #[tokio::test]
    async fn an_empty_token_is_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, _rx) = mpsc::channel(1);
        let e = serve(listener, String::new(), tx, async {})
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}
