//! Shared by the fuzz targets: the whole path from a workbook's bytes to findings and figures.

use std::sync::OnceLock;
use tonghop::config::{EMBEDDED_FORM, Form};
use tonghop::period::{Period, PeriodKind};
use tonghop::pipeline::read::{ReadLimits, read_workbook};
use tonghop::pipeline::validate::{check_period, examine};

/// A panic inside a third-party reader is caught by `read_workbook` (and isolated in a worker
/// process in production): it is a finding, not a crash. libFuzzer's hook would abort on it, so
/// the default hook is put back; a panic in our own code still aborts (it unwinds out of the
/// fuzz target, which cannot unwind).
pub fn init() {
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
}

fn form() -> &'static Form {
    static FORM: OnceLock<Form> = OnceLock::new();
    FORM.get_or_init(|| Form::from_toml(EMBEDDED_FORM).expect("the shipped form parses"))
}

/// Limits small enough that the fuzzer finds logic bugs rather than the memory ceiling
/// (in production the isolated worker enforces the ceiling).
pub fn limits() -> ReadLimits {
    ReadLimits { max_unzipped_bytes: 64 << 20, max_rows: 20_000, ..ReadLimits::default() }
}

pub fn check(bytes: &[u8], ext: &str) {
    if let Ok(wb) = read_workbook(bytes, ext, &limits()) {
        let mut ex = examine(form(), &wb, PeriodKind::Month);
        check_period(form(), &mut ex, &Period::month(2026, 10));
        // Every finding names a severity and a message; figures are whole numbers.
        for f in &ex.findings {
            assert!(!f.message.is_empty());
        }
    }
}
