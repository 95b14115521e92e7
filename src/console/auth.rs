//! Accounts, login, sessions and CSRF for the console.
//!
//! SKELETON: the types below are the interface every page uses; the bodies are being built
//! (sessions in the store, Argon2 passwords, CSRF, lock-out, security headers).

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::Shared;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A leader: reads everything, acts on nothing.
    Viewer,
    /// The clerk: acts (run, preview, approve, hold, resend).
    Operator,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "người xem",
            Role::Operator => "người vận hành",
        }
    }
}

/// The person logged in (any role). A handler that takes it is refused to anyone without a
/// session: a page request is sent to the login page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    /// The session's CSRF token, put in every form the page shows.
    pub csrf: String,
}

/// The person logged in, with the operator role: a handler that takes it is refused (403) to a
/// viewer.
#[derive(Debug, Clone)]
pub struct Operator(pub Viewer);

impl FromRequestParts<Shared> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(_parts: &mut Parts, _console: &Shared) -> Result<Self, Response> {
        Err(Redirect::to("/dang-nhap").into_response())
    }
}

impl FromRequestParts<Shared> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Shared) -> Result<Self, Response> {
        let viewer = Viewer::from_request_parts(parts, console).await?;
        if viewer.role != Role::Operator {
            return Err((StatusCode::FORBIDDEN, "Tài khoản chỉ được xem.").into_response());
        }
        Ok(Operator(viewer))
    }
}

/// Record an action in the audit trail (who, when, what, on what, how it ended), shown in the
/// history. Every handler that acts calls it once, after the action, with the outcome in the
/// words the page showed.
pub async fn audit(_console: &Shared, _who: &Viewer, _action: &str, _target: &str, _outcome: &str) {
}

/// The layers around every route (security headers, CSRF check of every state-changing request).
pub fn layers(router: Router<Shared>, _console: Shared) -> Router<Shared> {
    router
}

pub async fn login_form() -> Response {
    (StatusCode::NOT_IMPLEMENTED, "Đang xây dựng").into_response()
}

pub async fn login() -> Response {
    (StatusCode::NOT_IMPLEMENTED, "Đang xây dựng").into_response()
}

pub async fn logout() -> Response {
    Redirect::to("/dang-nhap").into_response()
}
