//! Downloads: a received file from the archive (by its SHA-256), a run's workbook or summary.
//! Nothing outside the archive and output folders can be reached, whatever the path says.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::console::Shared;
use crate::console::auth::Viewer;

pub async fn received(State(_c): State<Shared>, _v: Viewer, Path(_sha): Path<String>) -> Response {
    "Đang xây dựng".into_response()
}

pub async fn run_output(
    State(_c): State<Shared>,
    _v: Viewer,
    Path((_run, _what)): Path<(i64, String)>,
) -> Response {
    "Đang xây dựng".into_response()
}
