//! `tonghop check`: files or folders read and judged exactly as a run would (the same
//! `pipeline::inspect`, the same `consolidate::verdict`), nothing written. Typed results; the
//! CLI words them.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::matching::UnitMatcher;
use crate::period::Period;
use crate::pipeline::consolidate::{self, FileOutcome};
use crate::pipeline::intake::{self, Submission};
use crate::pipeline::read::worker::Reader;

/// What became of one path the person named.
#[derive(Debug)]
pub enum Checked {
    /// It could not be opened (`missing`: it does not exist); the reason in Vietnamese.
    Unopened {
        path: PathBuf,
        missing: bool,
        reason: String,
    },
    /// A folder read as a run reads its inbox: its files judged, and the files a run skips.
    Folder {
        path: PathBuf,
        /// Why the folder itself could not be listed, if it could not.
        unreadable: Option<String>,
        files: Vec<CheckedFile>,
        /// (relative path, why) of each file a run skips.
        skipped: Vec<(String, String)>,
    },
    /// A file a run does not read at all (a lock file, a hidden file...), with why.
    Skipped {
        path: PathBuf,
        reason: String,
    },
    File(CheckedFile),
}

/// One file judged as a run judges it.
#[derive(Debug)]
pub struct CheckedFile {
    pub path: PathBuf,
    /// The unit's name, when the file names one.
    pub unit: Option<String>,
    pub period: Option<Period>,
    /// Activity rows read, when the form was found.
    pub activities: Option<usize>,
    pub outcome: FileOutcome,
    /// The findings, as a run would record them for this file.
    pub findings: Vec<crate::finding::Finding>,
}

impl Checked {
    /// True when everything named here would be accepted by a run.
    pub fn accepted(&self) -> bool {
        match self {
            Checked::File(f) => f.outcome == FileOutcome::Accepted,
            Checked::Folder {
                unreadable, files, ..
            } => {
                unreadable.is_none()
                    && !files.is_empty()
                    && files.iter().all(|f| f.outcome == FileOutcome::Accepted)
            }
            Checked::Unopened { .. } | Checked::Skipped { .. } => false,
        }
    }
}

/// Judge every path (files and folders) for `period` (`None`: each file's own).
pub fn check(settings: &Settings, period: Option<Period>, paths: &[PathBuf]) -> Vec<Checked> {
    let matcher = UnitMatcher::new(&settings.roster);
    let mut reader = Reader::new(&settings.read);
    let mut judge = |sub: &Submission| judge(settings, &matcher, &mut reader, period, sub);
    paths
        .iter()
        .map(|path| {
            let meta = match std::fs::metadata(path) {
                Ok(m) => m,
                Err(e) => {
                    return Checked::Unopened {
                        path: path.clone(),
                        missing: e.kind() == std::io::ErrorKind::NotFound,
                        reason: crate::wording::os(&e),
                    };
                }
            };
            if meta.is_dir() {
                return check_folder(settings, path, &mut judge);
            }
            let name = path
                .file_name()
                .map(|n| crate::text::nfc(&n.to_string_lossy()))
                .unwrap_or_default();
            if let Some(reason) = intake::ignore_reason(&name) {
                // The verdict a run gives the same file: it is not read at all.
                return Checked::Skipped {
                    path: path.clone(),
                    reason: reason.to_string(),
                };
            }
            let parent = path
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| format!("{}/", n.to_string_lossy()))
                .unwrap_or_default();
            let sub = Submission {
                path: path.clone(),
                rel: crate::text::nfc(&format!("{parent}{name}")),
                extension: name
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_lowercase())
                    .unwrap_or_default(),
                size: meta.len(),
                modified: meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH),
            };
            Checked::File(judge(&sub))
        })
        .collect()
}

/// A folder read as a run reads its inbox: same files, same files skipped.
fn check_folder(
    settings: &Settings,
    path: &Path,
    judge: &mut dyn FnMut(&Submission) -> CheckedFile,
) -> Checked {
    let mut scan = match intake::scan(path, std::time::SystemTime::now(), Default::default()) {
        Ok(scan) => scan,
        Err(intake::IntakeError::Inbox { source, .. }) => {
            return Checked::Folder {
                path: path.to_path_buf(),
                unreadable: Some(crate::wording::os(&source)),
                files: Vec::new(),
                skipped: Vec::new(),
            };
        }
    };
    // A document that names a unit (a scanned report) is that unit's file for a run, named
    // with a message: check says the same.
    crate::pipeline::read_named_documents(settings, &mut scan);
    Checked::Folder {
        path: path.to_path_buf(),
        unreadable: None,
        files: scan.submissions.iter().map(judge).collect(),
        skipped: scan
            .skipped
            .into_iter()
            .map(|s| (s.rel, s.reason.to_string()))
            .collect(),
    }
}

/// One file: read, checked and identified as a run does, and the verdict a run gives it.
fn judge(
    settings: &Settings,
    matcher: &UnitMatcher,
    reader: &mut Reader,
    period: Option<Period>,
    sub: &Submission,
) -> CheckedFile {
    let mut ins = crate::pipeline::inspect(settings, matcher, reader, sub);
    let outcome = consolidate::verdict(&ins, period);
    if let (FileOutcome::OtherPeriod, Some(want)) = (outcome, period) {
        ins.findings = vec![consolidate::other_period(ins.period, want)];
    }
    CheckedFile {
        path: sub.path.clone(),
        unit: ins
            .unit
            .as_deref()
            .and_then(|u| settings.roster.get(u))
            .map(|u| u.name.clone()),
        period: ins.period,
        activities: ins.content.as_ref().map(|c| c.activities.len()),
        outcome,
        findings: ins.findings,
    }
}
