//! The stages, in order: intake -> read -> validate -> identify -> consolidate -> render ->
//! compose (and summary). Pure functions of their inputs, but for reading the inbox and the files;
//! nothing here writes, locks or sends: `app` does, around them.

pub mod compose;
pub mod consolidate;
pub mod content;
pub mod identify;
pub mod intake;
pub mod read;
pub mod render;
pub mod summary;
pub mod validate;

use sha2::{Digest, Sha256};

use crate::clock::local;
use crate::config::Settings;
use crate::finding::{Finding, Severity};
use crate::matching::UnitMatcher;
use consolidate::{Content, Inspected};
use intake::Submission;

/// Progress of the slow part (reading files): called with (done, total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// A document a unit dropped (a scanned report, a Word file) is read, to be named with a
/// message, when it names a unit (by folder or file name); otherwise it stays skipped as any
/// other kind of file. Every reader of a scan that reports on it (a run, `check` on a folder)
/// calls this, so they agree.
pub fn read_named_documents(settings: &Settings, scan: &mut intake::Scan) {
    let matcher = UnitMatcher::new(&settings.roster);
    let (named, skipped): (Vec<_>, Vec<_>) = std::mem::take(&mut scan.skipped)
        .into_iter()
        .partition(|s| {
            s.document.as_ref().is_some_and(|d| {
                identify::identify(&matcher, &settings.roster, &d.folders(), d.stem(), None).is_ok()
            })
        });
    scan.skipped = skipped;
    scan.submissions
        .extend(named.into_iter().filter_map(|s| s.document));
    scan.submissions.sort_by(|a, b| a.rel.cmp(&b.rel));
}

/// Read, validate and identify one file. Every problem becomes a finding.
pub fn inspect(
    settings: &Settings,
    matcher: &UnitMatcher,
    reader: &mut read::worker::Reader,
    sub: &Submission,
) -> Inspected {
    inspect_bytes(settings, matcher, reader, sub).0
}

/// [`inspect`], also returning the bytes that were read (to archive exactly those).
pub fn inspect_bytes(
    settings: &Settings,
    matcher: &UnitMatcher,
    reader: &mut read::worker::Reader,
    sub: &Submission,
) -> (Inspected, Option<Vec<u8>>) {
    let received = local(settings, sub.modified);
    let mut out = Inspected {
        rel: sub.rel.clone(),
        size: sub.size,
        received,
        sha256: None,
        unit: None,
        period: None,
        content: None,
        findings: Vec::new(),
    };
    let folders = sub.folders();
    let bytes = match std::fs::read(&sub.path) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %sub.rel, error = %e, "cannot read file");
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "tệp đã bị xóa hoặc di chuyển trong lúc đọc",
                std::io::ErrorKind::PermissionDenied => "chương trình không có quyền đọc tệp",
                _ => "lỗi đọc đĩa",
            };
            out.findings.push(Finding::new(
                Severity::Error,
                "io",
                format!("Không đọc được tệp: {why}."),
            ));
            out.unit =
                identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
            return (out, None);
        }
    };
    out.sha256 = Some(hex::encode(Sha256::digest(&bytes)));
    out.size = bytes.len() as u64;
    // A file that changed between the scan and the read is still being written: what was read
    // may be half of it.
    let now_meta = std::fs::metadata(&sub.path).ok();
    let changed = bytes.len() as u64 != sub.size
        || now_meta
            .as_ref()
            .is_some_and(|m| m.len() != sub.size || m.modified().ok() != Some(sub.modified));
    if changed {
        out.findings.push(Finding::new(
            Severity::Error,
            "file_changing",
            "Tệp đang thay đổi trong lúc đọc (có thể đang được chép vào hoặc đang được lưu); chưa dùng ở lần này, sẽ đọc lại ở lần chạy sau.",
        ));
        out.unit = identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
        return (out, Some(bytes));
    }
    // A unit's report packed in a .zip is read from inside it; other archives and documents
    // are named, so the unit does not look silent.
    let mut unpacked = None;
    match intake::Kind::of(&sub.extension) {
        Some(intake::Kind::Workbook) | None => {}
        Some(intake::Kind::Archive) if sub.extension == "zip" => {
            match intake::unpack_zip(&bytes, settings.read.limits.max_file_bytes) {
                Ok(inner) => unpacked = Some(inner),
                Err(why) => {
                    out.findings
                        .push(Finding::new(Severity::Error, "not_a_spreadsheet", why))
                }
            }
        }
        Some(_) => out.findings.push(Finding::new(
            Severity::Error,
            "not_a_spreadsheet",
            intake::not_a_spreadsheet(&sub.extension),
        )),
    }
    if !out.findings.is_empty() {
        out.unit = identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
        return (out, Some(bytes));
    }
    let (read, extension) = match &unpacked {
        Some((name, inner)) => {
            out.findings.push(Finding::new(
                Severity::Info,
                "read_from_zip",
                format!("Báo cáo được đọc từ tệp \"{name}\" trong tệp nén."),
            ));
            let ext = name
                .rsplit_once('.')
                .map(|(_, e)| e.to_lowercase())
                .unwrap_or_default();
            (inner.as_slice(), ext)
        }
        None => (bytes.as_slice(), sub.extension.clone()),
    };
    // Read, legacy-font conversion, the checks against the form: in a worker process.
    let mut ex = match reader.examine(read, &extension, read::worker::FormSpec::of(settings)) {
        Ok(ex) => ex,
        Err(f) => {
            out.findings.push(f);
            out.unit =
                identify::identify(matcher, &settings.roster, &folders, sub.stem(), None).ok();
            return (out, Some(bytes));
        }
    };
    match identify::identify(
        matcher,
        &settings.roster,
        &folders,
        sub.stem(),
        ex.header("unit"),
    ) {
        Ok(id) => out.unit = Some(id),
        Err(f) => ex.findings.insert(0, f),
    }
    out.period = ex.period;
    let header = ex
        .header
        .iter()
        .filter(|h| h.key != "unit" && h.key != "period")
        .map(|h| (h.key.clone(), h.text.clone()))
        .collect();
    out.content = Some(Content {
        figures: ex.figures.take(),
        activities: std::mem::take(&mut ex.activities),
        narrative: std::mem::take(&mut ex.narrative),
        header,
    });
    out.findings.append(&mut ex.findings);
    (out, Some(bytes))
}
