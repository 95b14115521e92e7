//! A unit's page: every file it dropped for the period with its findings, and its history.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::console::Shared;
use crate::console::auth::Viewer;

pub async fn page(
    State(_c): State<Shared>,
    _v: Viewer,
    Path((_period, _unit)): Path<(String, String)>,
) -> Response {
    "Đang xây dựng".into_response()
}
