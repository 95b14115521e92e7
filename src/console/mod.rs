//! The operator's console: Vietnamese web pages served by the daemon (`[console]`), a face on
//! the application layer like the CLI. Pages read through `app` (status from the store, history,
//! a unit's files): opening a page never starts a read worker. Every action (run now, preview,
//! approve, hold, resend) is an `app::Command` handed to the daemon's loop through [`Submit`], so
//! it is carried out one at a time with the schedule's own work, exactly as `tonghop trigger` is.
//!
//! - `auth`: accounts, login, sessions, CSRF, the security headers, the `Viewer` / `Operator`
//!   extractors every handler takes.
//! - `pages`: one module per page; each builds a view from `app` and renders an askama template
//!   (templates/console/).
//! - `assets`: the CSS, htmx and the console's own script, embedded in the binary (no CDN).

pub mod assets;
pub mod auth;
pub mod pages;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};

use crate::app::{Answer, AppError, Command, ErrorKind};
use crate::clock::Clock;
use crate::config::Settings;

/// How the console asks the daemon's loop to carry out a command: the command and where to
/// answer. The daemon forwards each to its loop as one event.
pub type Submit = mpsc::Sender<(Command, oneshot::Sender<Result<Answer, AppError>>)>;

/// What every handler shares.
pub struct Console {
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub submit: Submit,
}

pub type Shared = Arc<Console>;

impl Console {
    /// Carry out `command` through the daemon's loop and wait for its answer.
    pub async fn execute(&self, command: Command) -> Result<Answer, AppError> {
        let (reply, answer) = oneshot::channel();
        if self.submit.send((command, reply)).await.is_err() {
            return Err(AppError::new(
                ErrorKind::DaemonStopping,
                "Daemon đang dừng; lệnh không được thực hiện.",
            ));
        }
        answer.await.unwrap_or_else(|_| {
            Err(AppError::new(
                ErrorKind::DaemonStopping,
                "Daemon đã dừng trước khi trả lời; xem nhật ký và trang Lịch sử.",
            ))
        })
    }

    /// Run a read of the store (or any blocking work) off the async threads.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Settings, &dyn Clock) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me.settings, me.clock.as_ref()))
            .await
            .map_err(|e| {
                AppError::new(
                    ErrorKind::Internal,
                    format!("lỗi bên trong chương trình: {e}"),
                )
            })
    }
}

/// Every page and action of the console.
pub fn router(console: Shared) -> Router {
    let pages = Router::new()
        .route("/", get(pages::period::home))
        .route("/ky/{period}", get(pages::period::page))
        .route("/ky/{period}/don-vi/{unit}", get(pages::unit::page))
        .route("/ky/{period}/xem-truoc", get(pages::report::preview))
        .route("/ky/{period}/duyet", post(pages::report::approve))
        .route("/ky/{period}/giu", post(pages::report::hold))
        .route("/ky/{period}/chay-lai", post(pages::report::run_now))
        .route("/ky/{period}/bo-sung", post(pages::report::supplement))
        .route("/lan-chay/{run}/gui-lai", post(pages::report::resend))
        .route("/lich-su", get(pages::history::page))
        .route("/tinh-trang", get(pages::health::page))
        .route("/tai/tep/{sha}", get(pages::download::received))
        .route(
            "/tai/lan-chay/{run}/{what}",
            get(pages::download::run_output),
        )
        .route("/dang-nhap", get(auth::login_form).post(auth::login))
        .route("/dang-xuat", post(auth::logout))
        .route("/static/{file}", get(assets::serve));
    auth::layers(pages, console.clone()).with_state(console)
}

/// Serve the console on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    console: Shared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(addr = %addr, "console listening");
    }
    axum::serve(listener, router(console))
        .with_graceful_shutdown(shutdown)
        .await
}
