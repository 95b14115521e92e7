//! The console's pages. Each handler builds a view from `app` (off the async threads, through
//! `Console::read`) and renders an askama template from templates/console/ that extends
//! `base.html` with a [`Chrome`].

pub mod download;
pub mod health;
pub mod history;
pub mod period;
pub mod report;
pub mod unit;

use super::Console;
use super::auth::{Role, Viewer};

/// Which entry of the navigation is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Period,
    History,
    Health,
    None,
}

/// What the layout (base.html) shows around every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page's title (also the browser tab's).
    pub title: String,
    pub nav: Nav,
    pub user: String,
    pub role_label: &'static str,
    /// The account may act (operator): action buttons are shown.
    pub can_act: bool,
    /// The session's CSRF token, for every form.
    pub csrf: String,
    /// The office's time zone as shown next to every time ("giờ Asia/Ho_Chi_Minh").
    pub zone: String,
    /// The issuing body (config `report.issuing_body`), shown in the header.
    pub office: String,
}

impl Chrome {
    pub fn new(console: &Console, viewer: &Viewer, title: impl Into<String>, nav: Nav) -> Chrome {
        Chrome {
            title: title.into(),
            nav,
            user: viewer.name.clone(),
            role_label: viewer.role.label(),
            can_act: viewer.role == Role::Operator,
            csrf: viewer.csrf.clone(),
            zone: console.settings.timezone.name().to_owned(),
            office: console.settings.report.issuing_body.clone(),
        }
    }
}
