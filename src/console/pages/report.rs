//! Preview, approve, hold, run now, supplement, resend: each an `app::Command` through the loop.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::console::Shared;
use crate::console::auth::{Operator, Viewer};

pub async fn preview(State(_c): State<Shared>, _v: Viewer, Path(_p): Path<String>) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn approve(State(_c): State<Shared>, _o: Operator, Path(_p): Path<String>) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn hold(State(_c): State<Shared>, _o: Operator, Path(_p): Path<String>) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn run_now(State(_c): State<Shared>, _o: Operator, Path(_p): Path<String>) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn supplement(
    State(_c): State<Shared>,
    _o: Operator,
    Path(_p): Path<String>,
) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn resend(State(_c): State<Shared>, _o: Operator, Path(_r): Path<i64>) -> Response {
    "Đang xây dựng".into_response()
}
