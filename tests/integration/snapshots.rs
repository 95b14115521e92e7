//! Snapshots of what people read (insta): the CLI's output, the consolidated workbook read back
//! as a grid per sheet, and the mails' headers and bodies, from the real binary on the shipped
//! samples. A change to any of them shows up in review as a diff of
//! tests/integration/snapshots/*.snap (`cargo insta review`, or INSTA_UPDATE=always).
//!
//! Only what depends on the wall clock, chance or the machine is filtered: the date the test
//! runs on (and the times on it), the next scheduled jobs, Message-IDs, the `Date:` header,
//! SHA-256 hashes, the temp folder and the control port. The samples' received times are fixed
//! (samples/received.tsv), so they stay in the snapshots as they are.

use std::fs;
use std::path::{Path, PathBuf};

use calamine::{Data, DataType, Reader, open_workbook_auto};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use mail_parser::{Address, MessagePart, MimeHeaders, PartType};

use crate::support::daemon::{TZ, set_key};
use crate::support::env::{Output, TestEnv};

/// Rows shown of a long sheet (the activity list); the Tổng hợp sheet is shown whole.
const MAX_ROWS: usize = 60;

/// The shipped samples with the control port set to a free one, so that a daemon someone runs on
/// the shipped port cannot change what `status` says.
fn samples() -> (TestEnv, u16) {
    let env = TestEnv::samples();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.edit_config(|t| set_key(&t, "daemon", "control_port", &port.to_string()));
    (env, port)
}

/// `tonghop ARGS`, with `--config <env's config>` for the commands the harness adds none to.
fn tonghop(env: &TestEnv, args: &[&str], code: i32) -> (String, Output) {
    let mut run = env.cmd(args);
    // A log level set in the developer's shell would add log lines (and show in --help).
    run.cmd.env_remove("TONGHOP_LOG");
    if !matches!(args.first(), Some(&"run") | Some(&"check") | Some(&"form"))
        && !args.contains(&"--config")
    {
        run.cmd.arg("--config").arg(&env.config);
    }
    let shown = format!("$ tonghop {}", args.join(" "));
    (shown, run.expect_code(code))
}

/// What a person sees of one command: the command, its exit code, stdout and stderr.
fn cli((shown, out): (String, Output)) -> String {
    format!(
        "{shown}\nexit code: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    )
}

/// The local dates (Asia/Ho_Chi_Minh) a test ran on: the one it started on, and the one it
/// ends on if it crossed midnight. Dates and times on them are the only ones the filters hide.
struct WallClock {
    started: DateTime<Utc>,
}

impl WallClock {
    fn start() -> WallClock {
        WallClock {
            started: Utc::now(),
        }
    }

    fn dates(&self) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = [self.started, Utc::now()]
            .iter()
            .map(|t| t.with_timezone(&TZ).date_naive())
            .collect();
        v.dedup();
        v
    }
}

/// Run `f` (which asserts snapshots) with the filters for this test's environment.
fn with_filters(env: &TestEnv, port: u16, clock: &WallClock, f: impl FnOnce()) {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for dir in [
        env.dir.path().to_path_buf(),
        env.dir.path().canonicalize().unwrap(),
    ] {
        s.add_filter(&regex_escape(&dir.display().to_string()), "[TMP]");
    }
    // `status`: the next scheduled jobs depend on when the test runs.
    s.add_filter(
        r"(?m)^(  (?:Gửi báo cáo|Nhắc nộp|Quét thư mục):\s+)\d{2}:\d{2} \d{2}/\d{2}/\d{4}$",
        "${1}[NEXT]",
    );
    for d in clock.dates() {
        let dmy = regex_escape(&d.format("%d/%m/%Y").to_string());
        s.add_filter(
            &format!(r"\b\d{{2}}:\d{{2}}(?::\d{{2}})?( ngày | ){dmy}"),
            "[HH:MM]${1}[TODAY]",
        );
        s.add_filter(&format!(r"\b{dmy}"), "[TODAY]");
        // The workbook's dated line: "ngày 04 tháng 12 năm 2026", "ngày 16 tháng 3 năm 2027".
        s.add_filter(
            &format!(
                "ngày {} tháng 0?{} năm {}",
                d.format("%d"),
                d.month(),
                d.year()
            ),
            "ngày [TODAY]",
        );
        s.add_filter(
            &format!(
                r"\b{}(?:[ T]\d{{2}}:\d{{2}}(?::\d{{2}})?)?",
                d.format("%Y-%m-%d")
            ),
            "[TODAY]",
        );
    }
    // Message-IDs: the moment they were made and random bytes.
    s.add_filter(r"\d{8}T\d{6}\.[0-9a-f]{16}@", "[MSGID]@");
    s.add_filter(
        r"(?m)^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} ",
        "Date: [DATE] ",
    );
    s.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    // In context only: a bare number could be a file size in the workbook.
    s.add_filter(&format!("cổng {port}\\b"), "cổng [PORT]");
    s.bind(f);
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[test]
fn snapshot_run_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(&env, &["run", "--period", "2026-10"], 1));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("run_cli_output", out);
    });
}

#[test]
fn snapshot_second_run_refuses_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let out = cli(tonghop(&env, &["run", "--period", "2026-10"], 4));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("second_run_refuses_cli_output", out);
    });
}

#[test]
fn snapshot_dry_run_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(
        &env,
        &["run", "--period", "2026-10", "--dry-run"],
        1,
    ));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("dry_run_cli_output", out);
    });
}

#[test]
fn snapshot_check_samples_folder_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(&env, &["check", "inbox"], 1));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("check_samples_folder_cli_output", out);
    });
}

#[test]
fn snapshot_status_before_any_run_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(&env, &["status", "--period", "2026-10"], 0));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("status_before_any_run_cli_output", out);
    });
}

/// `status --check` reads and records what no scan has checked yet, then answers from the store:
/// before any run, the units' verdicts a run would give, and nothing sent.
#[test]
fn snapshot_status_check_before_any_run_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(
        &env,
        &["status", "--period", "2026-10", "--check"],
        0,
    ));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("status_check_before_any_run_cli_output", out);
    });
    // Recorded: a plain status now gives the same verdicts without reading a file (and no
    // warning: the data folder the check made is private).
    let again = cli(tonghop(&env, &["status", "--period", "2026-10"], 0));
    assert_eq!(
        again,
        out.replacen(
            "$ tonghop status --period 2026-10 --check",
            "$ tonghop status --period 2026-10",
            1
        )
    );
    assert!(!env.out.join("outbox").exists(), "nothing sent");
}

#[test]
fn snapshot_status_after_run_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let out = cli(tonghop(&env, &["status", "--period", "2026-10"], 0));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("status_after_run_cli_output", out);
    });
}

#[test]
fn snapshot_history_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let before = cli(tonghop(&env, &["history"], 0));
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let after = cli(tonghop(&env, &["history"], 0));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("history_before_any_run_cli_output", before);
        insta::assert_snapshot!("history_after_run_cli_output", after);
    });
}

/// The commands an operator finds (English, as operator text may be).
#[test]
fn snapshot_help_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(&env, &["--help"], 0));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("help_cli_output", out);
    });
}

#[test]
fn snapshot_unknown_period_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(&env, &["run", "--period", "2026-13"], 2));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("unknown_period_cli_output", out);
    });
}

#[test]
fn snapshot_missing_config_file_cli_output() {
    let clock = WallClock::start();
    let (env, port) = samples();
    let out = cli(tonghop(
        &env,
        &[
            "status",
            "--period",
            "2026-10",
            "--config",
            "config/khong-co.toml",
        ],
        2,
    ));
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("missing_config_file_cli_output", out);
    });
}

// ---------------------------------------------------------------------------------------------
// The workbook.

/// A cell's value as a reader sees it: whole numbers without ".0", dates as dates, line breaks
/// shown as "⏎".
fn cell_text(v: &Data) -> String {
    match v {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(_) => match v.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.to_string(),
            None => v.to_string(),
        },
        Data::Error(e) => format!("#{e:?}"),
        other => other.to_string().replace("\r\n", "⏎").replace('\n', "⏎"),
    }
}

/// Column letters of a 0-based column index.
fn column(mut c: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (c % 26) as u8) as char);
        if c < 26 {
            return s;
        }
        c = c / 26 - 1;
    }
}

/// One sheet, a line per row with a value: the row's number, then `column=value` for each
/// cell with a value (`12: A=1 | B=Thành ủy Đà Lạt | C=Đúng hạn`); at most `max_rows` rows, then
/// how many more there are.
fn sheet_grid(path: &Path, sheet: &str, max_rows: usize) -> String {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let Some((r0, c0)) = range.start() else {
        return format!("== {sheet}: (empty)\n");
    };
    let rows: Vec<String> = range
        .rows()
        .enumerate()
        .filter_map(|(r, row)| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .filter(|(_, v)| !matches!(v, Data::Empty))
                .map(|(c, v)| format!("{}={}", column(c + c0 as usize), cell_text(v)))
                .collect();
            (!cells.is_empty()).then(|| format!("{}: {}", r + r0 as usize + 1, cells.join(" | ")))
        })
        .collect();
    let mut out = format!("== {sheet}: {} rows with a value\n", rows.len());
    for row in rows.iter().take(max_rows) {
        out.push_str(row);
        out.push('\n');
    }
    if rows.len() > max_rows {
        out.push_str(&format!("... {} more rows\n", rows.len() - max_rows));
    }
    out
}

/// A snapshot name for a sheet: its position and its name folded to ASCII.
fn sheet_snapshot_name(i: usize, sheet: &str) -> String {
    let folded: String = sheet
        .chars()
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>();
    let ascii: String = unicode_fold(&folded)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("workbook_sheet_{}_{}", i + 1, ascii.trim_matches('_'))
}

/// Vietnamese letters without their marks (NFD, marks dropped).
fn unicode_fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

#[test]
fn snapshot_report_workbook_sheets() {
    let clock = WallClock::start();
    let (env, port) = samples();
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let workbook = PathBuf::from(env.summary("2026-10")["workbook"].as_str().unwrap());
    let sheets = open_workbook_auto(&workbook).unwrap().sheet_names();
    assert_eq!(
        sheets.first().map(String::as_str),
        Some("Tổng hợp"),
        "{sheets:?}"
    );
    with_filters(&env, port, &clock, || {
        for (i, sheet) in sheets.iter().enumerate() {
            let max = if i == 0 { usize::MAX } else { MAX_ROWS };
            insta::assert_snapshot!(
                sheet_snapshot_name(i, sheet),
                sheet_grid(&workbook, sheet, max)
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The mails.

fn addresses(a: Option<&Address>) -> String {
    let Some(a) = a else {
        return "(none)".into();
    };
    a.iter()
        .map(|x| match x.name() {
            Some(n) => format!("{n} <{}>", x.address().unwrap_or("")),
            None => x.address().unwrap_or("").to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The header `name` as written (unfolded), from the mail's header block.
fn raw_header(raw: &str, name: &str) -> String {
    let head = &raw[..raw.find("\r\n\r\n").unwrap_or(raw.len())];
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
        .unwrap_or_else(|| "(none)".into())
}

/// A part's Content-Type with its parameters (the random boundary left out), its disposition
/// and file name, indented by depth; then its sub-parts.
fn part_tree(m: &mail_parser::Message, part: &MessagePart, depth: usize, out: &mut String) {
    let ct = part.content_type().map_or("(none)".to_owned(), |ct| {
        let mut s = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
        for a in ct.attributes().unwrap_or(&[]) {
            if a.name != "boundary" {
                s.push_str(&format!("; {}={}", a.name, a.value));
            }
        }
        s
    });
    out.push_str(&format!("{}{ct}", "  ".repeat(depth)));
    if let Some(d) = part.content_disposition() {
        out.push_str(&format!(" | {}", d.ctype()));
    }
    if let Some(name) = part.attachment_name() {
        out.push_str(&format!(" | file name: {name}"));
    }
    if let Some(enc) = part.content_transfer_encoding() {
        out.push_str(&format!(" | {enc}"));
    }
    out.push('\n');
    if let PartType::Multipart(ids) = &part.body {
        for id in ids {
            part_tree(m, &m.parts[*id as usize], depth + 1, out);
        }
    }
}

/// A mail as its reader sees it: the headers, the parts, the text body and the HTML body.
pub(crate) fn mail_text(path: &Path) -> String {
    let raw = fs::read(path).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let mut out = String::new();
    out.push_str(&format!("From: {}\n", addresses(m.from())));
    out.push_str(&format!("To: {}\n", addresses(m.to())));
    out.push_str(&format!("Cc: {}\n", addresses(m.cc())));
    out.push_str(&format!("Subject: {}\n", m.subject().unwrap_or("(none)")));
    for h in ["Date", "Message-ID", "In-Reply-To", "References"] {
        out.push_str(&format!("{h}: {}\n", raw_header(&text, h)));
    }
    out.push_str("--- parts\n");
    part_tree(&m, m.root_part(), 0, &mut out);
    out.push_str("--- text body\n");
    out.push_str(&m.body_text(0).unwrap_or_default().replace("\r\n", "\n"));
    out.push_str("\n--- html body\n");
    out.push_str(&m.body_html(0).unwrap_or_default().replace("\r\n", "\n"));
    out
}

#[test]
fn snapshot_report_mail() {
    let clock = WallClock::start();
    let (env, port) = samples();
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let emls = TestEnv::emls(&env.outbox);
    assert_eq!(emls.len(), 1, "{emls:?}");
    let mail = mail_text(&emls[0]);
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("report_mail", mail);
    });
}

/// Đam Rông's October report arrives after the report was sent (filled by openpyxl, received
/// 10:00 20/11/2026): `run --supplement` sends the supplementary report, a reply to the first.
#[test]
fn snapshot_supplement_cli_output_and_mail() {
    let clock = WallClock::start();
    let (env, port) = samples();
    tonghop(&env, &["run", "--period", "2026-10"], 1);
    let sent = TestEnv::emls(&env.outbox);
    let made = env.dir.path().join("made");
    fs::create_dir_all(&made).unwrap();
    let late = crate::support::env::filled_report(
        &made,
        "HU Dam Rong T10.xlsx",
        "Huyện ủy Đam Rông",
        "Tháng 10/2026",
        "HN=2/10,NG=100/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3",
    );
    let target = env.inbox.join("HU Dam Rong T10.xlsx");
    fs::copy(&late, &target).unwrap();
    let received = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00+07:00").unwrap();
    filetime::set_file_mtime(
        &target,
        filetime::FileTime::from_unix_time(received.timestamp(), 0),
    )
    .unwrap();

    let out = cli(tonghop(
        &env,
        &["run", "--period", "2026-10", "--supplement"],
        1,
    ));
    let fresh: Vec<PathBuf> = TestEnv::emls(&env.outbox)
        .into_iter()
        .filter(|p| !sent.contains(p))
        .collect();
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    // Named, so the snapshot shows the supplement answers that very mail.
    let report_id = raw_header(&fs::read_to_string(&sent[0]).unwrap(), "Message-ID");
    let mail = mail_text(&fresh[0]).replace(&report_id, "<[the report's Message-ID]>");
    with_filters(&env, port, &clock, || {
        insta::assert_snapshot!("supplement_cli_output", out);
        insta::assert_snapshot!("supplement_mail", mail);
    });
}
