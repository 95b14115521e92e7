//! The control endpoint: HTTP on 127.0.0.1, protected by a token in the data folder.
//!
//! The daemon serves it; `cli::client` is its client (`tonghop trigger`, and `run` or
//! `status --check` beside a daemon). `POST /command` takes a typed `app::Command` as JSON, hands
//! it to the daemon's loop as an [`Event::Command`] and answers when it is done: the typed
//! `app::Answer`, or `{"error": AppError}` with the HTTP status of its kind. `GET /health` says
//! the daemon is alive and needs no token. Everything else needs `Authorization: Bearer <token>`,
//! where the token is the content of `<data>/control.token` (mode 0600): whoever can read the
//! data folder may drive the daemon, nobody else on the machine can. The token is never logged
//! nor echoed.

use std::future::Future;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

use super::Event;
use crate::app::{AppError, Command, ErrorKind};

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

/// Serve until `shutdown` resolves. Binds nothing itself: the caller passes a listener bound to
/// 127.0.0.1:port.
///
/// A `POST /command` waits for the run as long as it takes. When `shutdown` resolves, requests
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
    if token.len() < crate::state::control::TOKEN_LEN / 2 {
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
        .route("/command", post(command_handler))
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

/// `POST /command`: a typed [`Command`], carried out by the daemon's loop; the answer is the
/// typed [`Answer`] (200), or `{"error": AppError}` with the HTTP status of its kind.
async fn command_handler(
    State(control): State<Control>,
    body: Result<Json<Command>, JsonRejection>,
) -> Response {
    let command = match body {
        Ok(Json(c)) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let (reply, answer) = oneshot::channel();
    match &command {
        Command::Run {
            period,
            resend,
            supplement,
        } => tracing::info!(
            period = period.map(|p| p.key()).as_deref().unwrap_or("default"),
            resend,
            supplement,
            "manual run requested"
        ),
        Command::Resend {
            target,
            force,
            refused,
        } => tracing::info!(target = ?target, force, refused, "resend requested"),
        Command::CheckInbox { period } => tracing::info!(
            period = period.map(|p| p.key()).as_deref().unwrap_or("default"),
            "inbox check requested"
        ),
    }
    let event = Event::Command { command, reply };
    let mut stopping = control.stopping.clone();
    // Not an internal error: the daemon is going away on purpose (SIGTERM). Said in the
    // clerk's words, with the exit code of "no daemon" (69) and what to do.
    let shutting_down = |taken: bool| {
        tracing::info!(
            request_taken = taken,
            "the daemon is shutting down; told the client"
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
        let kind = if taken {
            ErrorKind::DaemonStopping
        } else {
            ErrorKind::NotTaken
        };
        failed(AppError::new(kind, message))
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
        Ok(Ok(answer)) => (StatusCode::OK, Json(answer)).into_response(),
        Ok(Err(e)) => failed(e),
        Err(_) => shutting_down(true),
    }
}

/// A failed command on the wire: the HTTP status of its kind, `{"error": AppError}`.
fn failed(e: AppError) -> Response {
    let status =
        StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({ "error": e }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::client::{ControlError, command, health};
    use crate::period::Period;
    use std::time::Duration;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    fn report(period: Period) -> crate::app::RunReport {
        crate::app::RunReport {
            rejected: true,
            ..crate::app::command::sample_report(period)
        }
    }

    /// A stand-in for the daemon's loop: answers each command with a canned outcome.
    fn fake_daemon(
        mut rx: mpsc::Receiver<Event>,
    ) -> tokio::task::JoinHandle<Vec<(Option<Period>, bool)>> {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(event) = rx.recv().await {
                let Event::Command {
                    command: Command::Run { period, resend, .. },
                    reply,
                } = event
                else {
                    continue;
                };
                seen.push((period, resend));
                let answer = match period.map(|p| p.key()).as_deref() {
                    Some("2026-09") if !resend => Err(AppError::new(
                        ErrorKind::AlreadySent,
                        "Báo cáo Tháng 9/2026 đã được gửi lúc 08:00 04/10/2026",
                    )),
                    Some("2026-08") => Err(AppError::new(
                        ErrorKind::Internal,
                        "Không ghi được out/2026-08: ổ đĩa đã đầy.",
                    )),
                    _ => Ok(crate::app::Answer::Run(report(
                        period.unwrap_or(Period::month(2026, 10)),
                    ))),
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
            "POST /command HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n{body}",
            auth.map(|a| format!("Authorization: {a}\r\n"))
                .unwrap_or_default(),
            body.len()
        )
    }

    #[tokio::test]
    async fn without_the_token_nothing_happens() {
        let d = start().await;
        let body = r#"{"command": "run", "period": "2026-10", "resend": false}"#;
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
                r#"{"command": "run", "period": "2026-10", "resend": true}"#,
                Some(&format!("bearer {TOKEN}")),
            ),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["answer"], "run");
        assert_eq!(v["run_id"], 7);
        assert_eq!(v["period"], "2026-10");
        let (status, _, text) = raw(
            d.port,
            &post(
                r#"{"command": "run", "period": "October"}"#,
                Some(&format!("Bearer {TOKEN}")),
            ),
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
                let c = Command::Run {
                    period,
                    resend,
                    supplement: false,
                };
                command(port, token, &c, Duration::from_secs(10))
            })
        };
        let ok = call(TOKEN, None, false).await.unwrap().unwrap();
        assert_eq!(
            ok,
            crate::app::Answer::Run(report(Period::month(2026, 10))),
            "the typed answer comes back whole"
        );

        let e = call(TOKEN, Some(Period::month(2026, 9)), false)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::App(a) if a.kind == ErrorKind::AlreadySent && a.exit_code() == 4 && a.message.contains("đã được gửi")),
            "{e:?}"
        );
        let e = call(TOKEN, Some(Period::month(2026, 8)), false)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::App(a) if a.kind == ErrorKind::Internal && a.exit_code() == 70 && a.message.contains("ổ đĩa đã đầy")),
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
            let c = Command::Run {
                period: None,
                resend: false,
                supplement: false,
            };
            command(port, TOKEN, &c, Duration::from_secs(5))
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

    /// A loop that is gone takes nothing: the client is told nothing was done (`NotTaken`), so
    /// `tonghop run` can make the run itself instead.
    #[tokio::test]
    async fn a_command_no_loop_takes_is_not_taken() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel(4);
        drop(rx);
        let server = tokio::spawn(serve(listener, TOKEN.into(), tx, std::future::pending()));
        let (status, _, text) = raw(
            port,
            &post(r#"{"command": "run"}"#, Some(&format!("Bearer {TOKEN}"))),
        )
        .await;
        assert_eq!(status, 503, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let e: AppError = serde_json::from_value(v["error"].clone()).unwrap();
        assert_eq!(e.kind, ErrorKind::NotTaken);
        assert!(e.message.contains("chưa làm gì"), "{}", e.message);
        server.abort();
    }

    #[tokio::test]
    async fn a_daemon_that_stops_before_answering_gives_503() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, mut rx) = mpsc::channel(4);
        // A loop that takes the event and drops it (as on SIGTERM) without replying.
        let daemon = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let server = tokio::spawn(serve(listener, TOKEN.into(), tx, std::future::pending()));
        let (status, _, text) = raw(
            port,
            &post(r#"{"command": "run"}"#, Some(&format!("Bearer {TOKEN}"))),
        )
        .await;
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
        let request = tokio::spawn(async move {
            raw(
                port,
                &post(r#"{"command": "run"}"#, Some(&format!("Bearer {TOKEN}"))),
            )
            .await
        });
        taken.await.unwrap();
        stop.send(()).unwrap();
        let (status, _, text) = tokio::time::timeout(Duration::from_secs(10), request)
            .await
            .expect("answered at shutdown")
            .unwrap();
        assert_eq!(status, 503, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let e: AppError = serde_json::from_value(v["error"].clone()).unwrap();
        assert!(
            e.message
                .starts_with("tonghop daemon đang dừng (được yêu cầu dừng) nên không chờ"),
            "{text}"
        );
        assert_eq!(e.kind, ErrorKind::DaemonStopping);
        assert_eq!(
            e.exit_code(),
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
