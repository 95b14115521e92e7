//! The period page (the home page): who reported, deadline, rates.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{Chrome, Nav};
use crate::console::Shared;
use crate::console::auth::Viewer;

#[derive(Template, WebTemplate)]
#[template(path = "console/period.html")]
struct PeriodPage {
    chrome: Chrome,
}

pub async fn home(State(c): State<Shared>, v: Viewer) -> Response {
    PeriodPage {
        chrome: Chrome::new(&c, &v, "Kỳ báo cáo", Nav::Period),
    }
    .into_response()
}

pub async fn page(State(c): State<Shared>, v: Viewer, Path(_period): Path<String>) -> Response {
    PeriodPage {
        chrome: Chrome::new(&c, &v, "Kỳ báo cáo", Nav::Period),
    }
    .into_response()
}
