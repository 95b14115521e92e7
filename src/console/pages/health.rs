//! Health at a glance: next jobs, last scan, mails waiting and why, setup warnings.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::console::Shared;
use crate::console::auth::Viewer;

pub async fn page(State(_c): State<Shared>, _v: Viewer) -> Response {
    "Đang xây dựng".into_response()
}
