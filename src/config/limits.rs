//! The `[read]` limits: how files are read and where a reader stops.

use std::time::Duration;

/// Limits a reader stops at: the form implies far smaller sheets than Excel allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Bytes of the file itself.
    pub max_file_bytes: u64,
    /// Bytes of all parts of a zip-based file once decompressed (counted while decompressing:
    /// the sizes a zip declares are not trusted).
    pub max_unzipped_bytes: u64,
    /// Parts in a zip-based file.
    pub max_zip_entries: usize,
    /// Rows read per sheet.
    pub max_rows: u32,
    /// Columns read per sheet (cells further right are ignored with a warning).
    pub max_cols: u32,
    /// Characters kept of one text cell.
    pub max_text_chars: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: 64 << 20,
            max_unzipped_bytes: 512 << 20,
            max_zip_entries: 10_000,
            max_rows: 100_000,
            max_cols: 64,
            max_text_chars: 32_767,
        }
    }
}

/// How files are read.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    pub limits: ReadLimits,
    /// Read in child processes (the default). Off only for tests of the reading code itself.
    pub isolate: bool,
    /// Address-space limit of one worker, in bytes.
    pub worker_memory: u64,
    /// Time limit for one file.
    pub timeout: Duration,
}

impl Default for ReadSettings {
    fn default() -> Self {
        ReadSettings {
            limits: ReadLimits::default(),
            isolate: true,
            worker_memory: 1 << 30,
            timeout: Duration::from_secs(60),
        }
    }
}
