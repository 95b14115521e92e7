//! `tonghop form`: the blank form, written from the same declaration the reader uses.

use std::path::Path;

use crate::blank_form::{WriteFormError, blank_form};
use crate::config::Form;
use crate::period::Period;

/// Write the blank form to `path` atomically (a temporary file in the same folder, then a rename),
/// so that a unit never picks up a half-written form from a shared folder.
pub fn write_blank_form(
    form: &Form,
    period: Option<&Period>,
    path: &Path,
) -> Result<(), WriteFormError> {
    let mut workbook = blank_form(form, period)?;
    let bytes = workbook.save_to_buffer()?;
    let io = |source: std::io::Error| WriteFormError::Io {
        path: path.to_owned(),
        source,
    };
    crate::state::atomic::write(path, &bytes).map_err(io)?;
    Ok(())
}
