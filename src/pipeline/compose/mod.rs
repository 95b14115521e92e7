//! Deliver: compose the mail (pure) and send it through a transport (file or SMTP).
//!
//! The mail is read on a phone first: its body carries the headline figures and the units that did
//! not report, in Vietnamese, as plain text and as simple HTML with the same content. The workbook
//! rides along as the attachment.
//!
//! TLS: lettre 0.11.23 builds its rustls `ClientConfig` with `builder_with_provider`, using the
//! process default provider if one was installed and its own `ring` provider otherwise, so nothing
//! has to be installed at start-up for mail (pinned by a test below). The "no process-level
//! CryptoProvider" panic needs code that calls `ClientConfig::builder()` while both `ring` and
//! `aws-lc-rs` are compiled in; today only `ring` is (`cargo tree -i rustls -e features`).

pub mod remind;
pub mod supplement;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use lettre::message::header::{
    ContentDisposition, ContentTransferEncoding, ContentType, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, Message, MultiPart, SinglePart};

use crate::config::{Form, MailSettings};
use crate::numbers::vi;
use crate::period::Period;
use crate::pipeline::consolidate::{Consolidation, FileOutcome, FileRecord, UnitRow, UnitStatus};

/// A recipient the server refused (a 5xx answer to `RCPT TO`) while it took the mail for the
/// others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refused {
    pub address: String,
    /// The server's answer, e.g. `550 5.1.1 Mailbox unavailable`.
    pub reply: String,
}

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A composed mail, ready for any transport. Pure (no IO) to make.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message: Message,
    /// The Message-ID header's value, angle brackets included: `<tonghop.kl14.2026-10...@host>`.
    pub message_id: String,
    /// The subject, decoded.
    pub subject: String,
    /// The sender's address (envelope `MAIL FROM`).
    pub from: String,
    /// Envelope recipients: the addresses of To, then Cc.
    pub recipients: Vec<String>,
    /// The attached workbook's file name; empty when the mail has none (reminders).
    pub attachment_name: String,
    pub period: Period,
    /// The plain-text body, as sent (the HTML part has the same content).
    pub text: String,
    pub html: String,
}

/// Why a mail was not composed or not handed over. Messages are for the operator (English) and
/// never contain the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("mail.{field}: {value:?} is not a valid mailbox ({reason})")]
    Address {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot build the mail: {0}")]
    Build(String),
    #[error("cannot write the mail to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("mail.smtp.ca_file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("SMTP {server}: username {username:?} is set but no password was found")]
    NoPassword { server: String, username: String },
    /// Refused, reset, unreachable, name not resolved: worth another try later.
    #[error("SMTP {server}: cannot connect: {message}")]
    Connect {
        server: String,
        message: String,
        /// What the system said, so the clerk's text can explain it in Vietnamese.
        kind: std::io::ErrorKind,
    },
    /// The TLS handshake failed (untrusted certificate, wrong host name, no common protocol).
    #[error("SMTP {server}: TLS failed: {message}")]
    Tls { server: String, message: String },
    /// The server refused the login (or required one that was not configured).
    #[error("SMTP {server}: login {} refused: {code} {reply}", username.as_deref().unwrap_or("(none configured)"))]
    Auth {
        server: String,
        username: Option<String>,
        code: u16,
        reply: String,
    },
    /// The server answered a command with a negative reply (4xx transient, 5xx permanent).
    #[error("SMTP {server} answered {code} {reply}")]
    Reply {
        server: String,
        code: u16,
        reply: String,
    },
    #[error("SMTP {server}: no complete answer within {} s", after.as_secs_f64())]
    Timeout { server: String, after: Duration },
    /// Garbled replies, a connection lost mid-way, a client-side protocol problem.
    #[error("SMTP {server}: {message}")]
    Protocol {
        server: String,
        message: String,
        transient: bool,
    },
}

impl DeliveryError {
    /// A mail that could not be composed, written or sent. The server's own reply is quoted as is.
    pub fn in_vietnamese(&self) -> String {
        use crate::wording::os;
        match self {
            DeliveryError::Address {
                field,
                value,
                reason,
            } => format!("mail.{field}: {value:?} không phải là địa chỉ thư hợp lệ ({reason})."),
            DeliveryError::Build(m) => format!("lỗi khi dựng thư ({m})."),
            DeliveryError::Write { path, source } => {
                format!("không ghi được thư ra {}: {}.", path.display(), os(source))
            }
            DeliveryError::CaFile { path, reason } => format!(
                "tệp chứng chỉ mail.smtp.ca_file {} không dùng được ({reason}).",
                path.display()
            ),
            DeliveryError::NoPassword { server, username } => format!(
                "máy chủ thư {server}: có tên đăng nhập {username:?} nhưng không tìm thấy mật khẩu."
            ),
            // The system's own words stay for the log; the clerk reads them in Vietnamese.
            DeliveryError::Connect { server, kind, .. } => format!(
                "không kết nối được tới máy chủ thư {server}: {}.",
                os(&std::io::Error::from(*kind))
            ),
            DeliveryError::Tls { server, message } => {
                format!("máy chủ thư {server}: lỗi kết nối bảo mật TLS ({message}).")
            }
            DeliveryError::Auth {
                server,
                username,
                code,
                reply,
            } => format!(
                "máy chủ thư {server} từ chối đăng nhập {}: {code} {reply}",
                username
                    .as_deref()
                    .unwrap_or("(chưa cấu hình tên đăng nhập)")
            ),
            DeliveryError::Reply {
                server,
                code,
                reply,
            } => format!("máy chủ thư {server} trả lời {code} {reply}"),
            DeliveryError::Timeout { server, after } => format!(
                "máy chủ thư {server} không trả lời đầy đủ trong {} giây.",
                after.as_secs_f64()
            ),
            DeliveryError::Protocol {
                server, message, ..
            } => format!("máy chủ thư {server}: lỗi giao thức ({message})."),
        }
    }

    /// Worth retrying later unchanged: a 4xx reply, a connection that could not be made or was
    /// lost, a timeout. Everything else (5xx, refused login, TLS, configuration) needs a person.
    pub fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Connect { .. } | DeliveryError::Timeout { .. } => true,
            DeliveryError::Reply { code, .. } => (400..500).contains(code),
            DeliveryError::Protocol { transient, .. } => *transient,
            DeliveryError::Address { .. }
            | DeliveryError::Build(_)
            | DeliveryError::Write { .. }
            | DeliveryError::CaFile { .. }
            | DeliveryError::NoPassword { .. }
            | DeliveryError::Tls { .. }
            | DeliveryError::Auth { .. } => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compose

/// What makes a Message-ID unique among the mails of one second: random bits the caller draws
/// ([`Nonce::random`], at the edge) and passes in, so every composer is pure and a test passes a
/// fixed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce(pub u64);

impl Nonce {
    /// Fresh random bits (a v4 UUID's).
    pub fn random() -> Nonce {
        Nonce(uuid::Uuid::new_v4().as_u64_pair().0)
    }
}

/// Compose the mail for a consolidation. `now` dates it (in the office's offset) and, with
/// `nonce`, makes its Message-ID; both come from the caller (the run's clock).
pub fn compose(
    c: &Consolidation,
    form: &Form,
    mail: &MailSettings,
    attachment: Vec<u8>,
    now: DateTime<FixedOffset>,
    nonce: Nonce,
) -> Result<Outgoing, DeliveryError> {
    let Addresses { from, to, cc } = report_addresses(mail)?;
    let subject = subject(c, form, &mail.subject);
    let attachment_name = attachment_name(c, form, &mail.attachment);
    let message_id = message_id(
        &[&form.id, &c.period.key()],
        now,
        Some(nonce),
        from.email.domain(),
    );
    let body = body(c, form, &from, &to, &attachment_name);
    assemble(Draft {
        from,
        to,
        cc,
        subject,
        body,
        attachment: Some((attachment_name, attachment)),
        message_id,
        date: now,
        period: c.period,
        in_reply_to: None,
    })
}

/// The sender and the recipients of the consolidated report (and of its supplements).
pub(crate) struct Addresses {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
}

/// `mail.from`, `mail.to` and `mail.cc`, parsed; an error names the setting. To must not be empty.
pub(crate) fn report_addresses(mail: &MailSettings) -> Result<Addresses, DeliveryError> {
    let from = parse_mailbox("from", &mail.from)?;
    let to = mail
        .to
        .iter()
        .map(|s| parse_mailbox("to", s))
        .collect::<Result<Vec<_>, _>>()?;
    let cc = mail
        .cc
        .iter()
        .map(|s| parse_mailbox("cc", s))
        .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err(DeliveryError::Build("mail.to is empty".into()));
    }
    Ok(Addresses { from, to, cc })
}

/// `<tonghop.PART.PART.TIME[.NONCE]@DOMAIN>`: every Message-ID the program mints (reports,
/// supplements, reminders, alerts, resent copies). Parts are ASCII without spaces (form id,
/// period key, unit id, a tag); `now` is written in its own offset (the office's); without a
/// nonce the ID is the same for the same parts and second. `domain` is the sender's.
pub fn message_id(
    parts: &[&str],
    now: DateTime<FixedOffset>,
    nonce: Option<Nonce>,
    domain: &str,
) -> String {
    let nonce = nonce
        .map(|Nonce(n)| format!(".{n:016x}"))
        .unwrap_or_default();
    format!(
        "<tonghop.{}.{}{nonce}@{domain}>",
        parts.join("."),
        now.format("%Y%m%dT%H%M%S"),
    )
}

/// Everything a mail is made of, before it becomes a MIME message.
pub(crate) struct Draft {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub body: MailBody,
    /// The workbook's file name and bytes, if the mail carries one.
    pub attachment: Option<(String, Vec<u8>)>,
    pub message_id: String,
    /// The mail's date, with the office's offset (the `Date:` header carries it).
    pub date: DateTime<FixedOffset>,
    pub period: Period,
    /// The Message-ID this mail follows up (a supplementary report: the original report's);
    /// written as In-Reply-To and References, so mail programs show them as one thread.
    pub in_reply_to: Option<String>,
}

/// Render the body as text and HTML and build the message: `multipart/alternative` (text, HTML),
/// inside `multipart/mixed` with the workbook when there is one.
pub(crate) fn assemble(d: Draft) -> Result<Outgoing, DeliveryError> {
    let text = d.body.to_text();
    let html = d.body.to_html(&d.subject);
    let mut builder = Message::builder()
        .from(d.from.clone())
        .subject(d.subject.clone())
        .date(SystemTime::from(d.date))
        .message_id(Some(d.message_id.clone()));
    if let Some(original) = &d.in_reply_to {
        builder = builder
            .in_reply_to(original.clone())
            .references(original.clone());
    }
    for m in &d.to {
        builder = builder.to(m.clone());
    }
    for m in &d.cc {
        builder = builder.cc(m.clone());
    }
    let alternative = MultiPart::alternative_plain_html(text.clone(), html.clone());
    let (message, attachment_name) = match d.attachment {
        Some((name, bytes)) => (
            builder.multipart(
                MultiPart::mixed()
                    .multipart(alternative)
                    .singlepart(attachment_part(&name, bytes)?),
            ),
            name,
        ),
        None => (builder.multipart(alternative), String::new()),
    };
    let mut message = message.map_err(|e| DeliveryError::Build(e.to_string()))?;
    set_date(&mut message, &d.date);

    let recipients =
        d.to.iter()
            .chain(&d.cc)
            .map(|m| m.email.to_string())
            .collect();
    Ok(Outgoing {
        message,
        message_id: d.message_id,
        subject: d.subject,
        from: d.from.email.to_string(),
        recipients,
        attachment_name,
        period: d.period,
        text,
        html,
    })
}

/// The `Date:` header in the office's offset (`Wed, 04 Nov 2026 08:00:05 +0700`). lettre writes
/// every date in UTC (`+0000`): right, but a clerk reading the raw mail or a program showing the
/// header as written sees another day's hour. `date` carries the configured zone's offset.
fn set_date(message: &mut Message, date: &DateTime<FixedOffset>) {
    let value = date.format("%a, %d %b %Y %H:%M:%S %z").to_string();
    message
        .headers_mut()
        .insert_raw(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("Date"),
            value.clone(),
            value,
        ));
}

pub(crate) fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, DeliveryError> {
    value
        .parse()
        .map_err(|e: lettre::address::AddressError| DeliveryError::Address {
            field,
            value: value.to_owned(),
            reason: e.to_string(),
        })
}

/// The subject from its template: {short}, {period}, {reported}, {total}.
pub fn subject(c: &Consolidation, form: &Form, template: &str) -> String {
    template
        .replace("{short}", &form.short_title)
        .replace("{period}", &c.period.label())
        .replace("{reported}", &c.accepted_count().to_string())
        .replace("{total}", &c.units.len().to_string())
}

/// The attachment's file name from its template: {short}, {period_key}.
pub fn attachment_name(c: &Consolidation, form: &Form, template: &str) -> String {
    template
        .replace("{short}", &form.short_title)
        .replace("{period_key}", &c.period.key())
}

/// The workbook part. lettre writes the RFC 2231 `filename*` on Content-Disposition only; older
/// Outlook and some webmail read the RFC 2047 `name=` on Content-Type instead and otherwise show
/// "Untitled attachment", so both are written.
fn attachment_part(name: &str, bytes: Vec<u8>) -> Result<SinglePart, DeliveryError> {
    let content_type = ContentType::parse(&format!("{XLSX_MIME}; name=\"{}\"", rfc2047(name)))
        .map_err(|e| DeliveryError::Build(format!("attachment content type: {e}")))?;
    // Always base64, whatever the bytes look like (a tiny test file could pass for 7bit text).
    let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
        .map_err(|_| DeliveryError::Build("attachment: base64 refused".into()))?;
    Ok(SinglePart::builder()
        .header(ContentDisposition::attachment(name))
        .header(content_type)
        .body(body))
}

/// RFC 2047 encoded words (`=?utf-8?b?...?=`), each at most 75 characters and cut at character
/// boundaries, separated by spaces (ignored between encoded words when decoding). ASCII names
/// without quotes or backslashes are returned as they are.
fn rfc2047(s: &str) -> String {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        return s.to_owned();
    }
    // 45 bytes -> 60 base64 characters + 12 of framing = 72.
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (word, tail) = rest.split_at(end);
        words.push(format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(word)
        ));
        rest = tail;
    }
    words.join(" ")
}

// ---------------------------------------------------------------------------------------------
// The body: built once as blocks, rendered to text and to HTML so both carry the same content.

pub(crate) enum Block {
    Para(String),
    /// Label and value pairs, the value in bold in HTML.
    Facts(Vec<(String, String)>),
    /// A section title.
    Heading(String),
    /// A table: header row, rows; columns from `numeric_from` on are numbers (right-aligned).
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        numeric_from: usize,
    },
    List(Vec<String>),
    /// Blocks set apart at the top (a shaded box in HTML; plain in text).
    Highlight(Vec<Block>),
}

pub(crate) struct MailBody(pub(crate) Vec<Block>);

fn body(
    c: &Consolidation,
    form: &Form,
    from: &Mailbox,
    to: &[Mailbox],
    attachment_name: &str,
) -> MailBody {
    // Leaders read the first screen of a phone: who is missing, rejected or late comes first,
    // right under the salutation; the figures follow.
    let mut b = vec![greeting(to), Block::Highlight(submission_status(c))];
    let sender = from.name.as_deref().map(|n| format!("{n} trân trọng gửi"));
    b.push(Block::Para(format!(
        "{} bản tổng hợp {} - {}.",
        sender.as_deref().unwrap_or("Trân trọng gửi"),
        form.title,
        c.period.label()
    )));
    b.push(Block::Facts(vec![
        ("Kỳ báo cáo".into(), c.period.label()),
        ("Hạn nộp".into(), datetime_vn(&c.deadline)),
        ("Tổng hợp lúc".into(), datetime_vn(&c.generated_at)),
        (
            "Số đơn vị có báo cáo".into(),
            format!("{}/{}", c.accepted_count(), c.units.len()),
        ),
    ]));

    b.push(Block::Heading(
        "Số liệu tổng hợp (các đơn vị có báo cáo)".into(),
    ));
    let mut header = vec!["Mã".to_owned(), "Chỉ tiêu".to_owned()];
    header.extend(form.indicators.values.iter().map(|v| v.title.clone()));
    let rows = form
        .indicators
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut row = vec![item.code.clone(), item.name.clone()];
            row.extend((0..form.indicators.values.len()).map(|v| {
                let n = c.totals.values.get(i).and_then(|r| r.get(v)).copied();
                vi(n.unwrap_or(0))
            }));
            row
        })
        .collect();
    b.push(Block::Table {
        header,
        rows,
        numeric_from: 2,
    });

    b.extend(findings_account(c));
    b.push(Block::Para(format!(
        "Chi tiết số liệu từng đơn vị, tình hình nộp báo cáo, các hoạt động và thuyết minh có trong \
         tệp đính kèm \"{attachment_name}\"."
    )));
    if let Some(name) = &from.name {
        b.push(Block::Para(name.clone()));
    }
    MailBody(b)
}

/// The files of a unit with one outcome, in the consolidation's order.
fn files_of<'a>(
    c: &'a Consolidation,
    unit: &'a str,
    outcome: FileOutcome,
) -> impl Iterator<Item = &'a FileRecord> + 'a {
    c.files
        .iter()
        .filter(move |f| f.outcome == outcome && f.unit.as_deref() == Some(unit))
}

/// `"a.xlsx"`, `"a.xlsx", "b.xls"`.
fn quoted(files: &[&FileRecord]) -> String {
    files
        .iter()
        .map(|f| format!("\"{}\"", f.path))
        .collect::<Vec<_>>()
        .join(", ")
}

fn errors_in(f: &FileRecord) -> usize {
    crate::finding::counts(&f.findings).0
}

/// The block at the top: one sentence whose counts add up to the roster, then the units missing,
/// rejected and late by name. A unit that sent another period's form is said to have done so.
fn submission_status(c: &Consolidation) -> Vec<Block> {
    let period = c.period.label();
    let with = |s: UnitStatus| c.units.iter().filter(move |u| u.status == s);
    let missing: Vec<&UnitRow> = with(UnitStatus::Missing).collect();
    let rejected: Vec<&UnitRow> = with(UnitStatus::Rejected).collect();
    let late: Vec<&UnitRow> = with(UnitStatus::Accepted).filter(|u| u.late).collect();
    let total = c.units.len();
    let accepted = c.accepted_count();

    let mut b = Vec::new();
    if missing.is_empty() && rejected.is_empty() && late.is_empty() {
        b.push(Block::Para(format!(
            "{period}: tất cả {accepted}/{total} đơn vị đã nộp báo cáo đúng hạn."
        )));
        return b;
    }
    let mut parts = vec![format!(
        "{accepted}/{total} đơn vị có báo cáo được tổng hợp"
    )];
    if !late.is_empty() {
        parts[0].push_str(&format!(" (trong đó {} nộp muộn)", late.len()));
    }
    if !missing.is_empty() {
        parts.push(format!("{} đơn vị chưa nộp", missing.len()));
    }
    if !rejected.is_empty() {
        parts.push(format!("{} đơn vị bị từ chối", rejected.len()));
    }
    b.push(Block::Para(format!("{period}: {}.", parts.join(", "))));

    if !missing.is_empty() {
        b.push(Block::Heading(format!("Chưa nộp ({})", missing.len())));
        b.push(Block::List(
            missing.iter().map(|u| missing_line(c, u)).collect(),
        ));
    }
    if !rejected.is_empty() {
        b.push(Block::Heading(format!("Bị từ chối ({})", rejected.len())));
        b.push(Block::List(
            rejected
                .iter()
                .map(|u| {
                    let files: Vec<&FileRecord> =
                        files_of(c, &u.id, FileOutcome::Rejected).collect();
                    let errors: usize = files.iter().map(|f| errors_in(f)).sum();
                    let which = match files.len() {
                        // (A consolidation always lists the file; this is only belt and braces.)
                        0 => match &u.file {
                            Some(f) => {
                                let e = vi(f.errors as u64);
                                return format!("{}: {e} lỗi trong tệp \"{}\"", u.name, f.path);
                            }
                            None => return u.name.clone(),
                        },
                        1 => format!("tệp {}", quoted(&files)),
                        n => format!("{n} tệp {}", quoted(&files)),
                    };
                    format!("{}: {} lỗi trong {which}", u.name, vi(errors as u64))
                })
                .collect(),
        ));
    }
    if !late.is_empty() {
        b.push(Block::Heading(format!("Nộp muộn ({})", late.len())));
        b.push(Block::List(
            late.iter()
                .map(|u| match &u.file {
                    Some(f) => format!("{} (nhận lúc {})", u.name, datetime_vn(&f.received)),
                    None => u.name.clone(),
                })
                .collect(),
        ));
    }
    b
}

/// A unit with no report for the period: its name, and if it sent another period's form, that
/// it did ("Huyện ủy Cát Tiên gửi báo cáo Tháng 9/2026, chưa gửi Tháng 10/2026 (tệp "...")").
pub(crate) fn missing_line(c: &Consolidation, u: &UnitRow) -> String {
    let other: Vec<&FileRecord> = files_of(c, &u.id, FileOutcome::OtherPeriod).collect();
    if other.is_empty() {
        return u.name.clone();
    }
    let mut periods: Vec<Period> = other.iter().filter_map(|f| f.period).collect();
    periods.sort();
    periods.dedup();
    let labels: Vec<String> = periods.iter().map(|p| p.label()).collect();
    format!(
        "{} gửi báo cáo {}, chưa gửi {} (tệp {})",
        u.name,
        if labels.is_empty() {
            "kỳ khác".to_owned()
        } else {
            labels.join(", ")
        },
        c.period.label(),
        quoted(&other)
    )
}

/// The errors and warnings of the period's files, and every file not consolidated that the top
/// block does not name (unidentified, another period's form of a unit that is not missing, a
/// rejected or superseded file with errors of a unit counted from another file). The error
/// counts said add up to the total: errors in the rejected units' files plus errors in the files
/// listed here.
fn findings_account(c: &Consolidation) -> Vec<Block> {
    let unit_name = |id: Option<&str>| {
        id.and_then(|id| c.units.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
    };
    let status_of = |id: Option<&str>| {
        id.and_then(|id| c.units.iter().find(|u| u.id == id))
            .map(|u| u.status)
    };
    let mut others: Vec<(String, usize)> = Vec::new();
    let mut in_rejected_units = 0usize;
    for f in &c.files {
        let errors = errors_in(f);
        let name =
            unit_name(f.unit.as_deref()).unwrap_or_else(|| f.unit.clone().unwrap_or_default());
        let line = match (f.outcome, status_of(f.unit.as_deref())) {
            (FileOutcome::Rejected, Some(UnitStatus::Rejected)) => {
                in_rejected_units += errors;
                continue;
            }
            // Named with its unit in the status block.
            (FileOutcome::OtherPeriod, Some(UnitStatus::Missing)) if errors == 0 => continue,
            (FileOutcome::Unidentified, _) => "không xác định được đơn vị".to_owned(),
            (FileOutcome::OtherPeriod, _) => format!(
                "báo cáo {} của {name}, không thuộc kỳ này",
                f.period.map_or_else(|| "kỳ khác".to_owned(), |p| p.label())
            ),
            (FileOutcome::Rejected, _) => {
                format!("tệp của {name} bị từ chối; đơn vị được tổng hợp theo tệp khác")
            }
            (FileOutcome::Superseded, _) if errors > 0 => {
                format!("bản cũ của {name}, đã được thay bằng bản gửi sau")
            }
            // Whatever else carries an error is named too: the count must add up.
            _ if errors > 0 => f.outcome.label().to_lowercase(),
            _ => continue,
        };
        let line = if errors > 0 {
            format!("\"{}\": {line}; {} lỗi", f.path, vi(errors as u64))
        } else {
            format!("\"{}\": {line}", f.path)
        };
        others.push((line, errors));
    }

    let (errors, warnings) = c.files.iter().fold((0, 0), |(e, w), f| {
        let (fe, fw) = crate::finding::counts(&f.findings);
        (e + fe, w + fw)
    });
    let in_others: usize = others.iter().map(|(_, e)| e).sum();
    let mut b = Vec::new();
    if !others.is_empty() {
        b.push(Block::Heading(format!(
            "Tệp khác không được tổng hợp ({})",
            others.len()
        )));
        b.push(Block::List(others.into_iter().map(|(l, _)| l).collect()));
    }
    b.push(Block::Para(if errors == 0 && warnings == 0 {
        "Các tệp báo cáo không có lỗi hay cảnh báo nào.".to_owned()
    } else {
        let mut where_ = Vec::new();
        if in_rejected_units > 0 {
            where_.push(format!(
                "{} trong tệp của các đơn vị bị từ chối",
                vi(in_rejected_units as u64)
            ));
        }
        if in_others > 0 {
            where_.push(format!(
                "{} trong các tệp khác không được tổng hợp",
                vi(in_others as u64)
            ));
        }
        let breakdown = if errors > 0 && where_.len() > 1 {
            format!(" ({})", where_.join(", "))
        } else {
            String::new()
        };
        format!(
            "Tệp đính kèm liệt kê {} lỗi{breakdown} và {} cảnh báo trong các tệp báo cáo \
             của đơn vị.",
            vi(errors as u64),
            vi(warnings as u64)
        )
    }));
    b
}

/// "Kính gửi: NAME, NAME" from the recipients' display names, or a plain salutation.
pub(crate) fn greeting(to: &[Mailbox]) -> Block {
    let names: Vec<&str> = to.iter().filter_map(|m| m.name.as_deref()).collect();
    Block::Para(if names.is_empty() {
        "Kính gửi các đồng chí,".to_owned()
    } else {
        format!("Kính gửi: {}", names.join(", "))
    })
}

impl MailBody {
    fn to_text(&self) -> String {
        let mut out = String::new();
        for block in &self.0 {
            text_block(&mut out, block);
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
        out
    }

    /// Simple HTML with inline styles (many mail programs drop `<style>`), readable at 390 px:
    /// nothing wider than the screen (long words wrap), tables at most 720 px on a desktop. The
    /// one `<style>` rule only keeps "1.400 → 1.800" on one line where the screen is wide.
    fn to_html(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n\
             <style>@media screen and (min-width:600px){{.n{{white-space:nowrap}}}}</style>\n\
             </head>\n\
             <body style=\"margin:0;padding:12px;font-family:Arial,Helvetica,sans-serif;\
             font-size:15px;line-height:1.45;color:#222;overflow-wrap:anywhere;\
             word-break:break-word\">\n<div style=\"max-width:720px\">\n",
            escape(title)
        );
        for block in &self.0 {
            html_block(&mut out, block);
        }
        out.push_str("</div>\n</body>\n</html>\n");
        out
    }
}

fn text_block(out: &mut String, block: &Block) {
    match block {
        Block::Para(p) => {
            out.push_str(p);
            out.push_str("\n\n");
        }
        Block::Facts(facts) => {
            for (label, value) in facts {
                let _ = writeln!(out, "{label}: {value}");
            }
            out.push('\n');
        }
        Block::Heading(h) => {
            out.push_str(&h.to_uppercase());
            out.push('\n');
        }
        // Phones show text in proportional fonts: one line per row, no column alignment.
        Block::Table {
            header,
            rows,
            numeric_from,
        } => {
            for row in rows {
                let lead = row[..*numeric_from].join(" - ");
                let values: Vec<String> = header[*numeric_from..]
                    .iter()
                    .zip(&row[*numeric_from..])
                    .map(|(h, v)| format!("{h} {v}"))
                    .collect();
                let _ = writeln!(out, "- {lead}: {}", values.join("; "));
            }
            out.push('\n');
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(out, "- {item}");
            }
            out.push('\n');
        }
        Block::Highlight(blocks) => {
            for b in blocks {
                text_block(out, b);
            }
        }
    }
}

fn html_block(out: &mut String, block: &Block) {
    // Words in table cells stay whole ("TTDT", not "TT" over "DT"): the body lets long words
    // break anywhere, which would let a narrow screen squeeze a column to one letter.
    const CELL: &str = "border:1px solid #ccc;padding:4px 6px;vertical-align:top;\
                        overflow-wrap:normal;word-break:normal";
    match block {
        Block::Para(p) => {
            let _ = writeln!(out, "<p style=\"margin:0 0 12px\">{}</p>", escape(p));
        }
        Block::Facts(facts) => {
            out.push_str("<table style=\"border-collapse:collapse;margin:0 0 12px\">\n");
            for (label, value) in facts {
                let _ = writeln!(
                    out,
                    "<tr><td style=\"padding:2px 12px 2px 0;vertical-align:top\">{}:</td>\
                     <td style=\"padding:2px 0\"><b>{}</b></td></tr>",
                    escape(label),
                    escape(value)
                );
            }
            out.push_str("</table>\n");
        }
        Block::Heading(h) => {
            let _ = writeln!(
                out,
                "<h3 style=\"font-size:16px;margin:16px 0 6px\">{}</h3>",
                escape(h)
            );
        }
        Block::Table {
            header,
            rows,
            numeric_from,
        } => {
            out.push_str(
                "<table style=\"border-collapse:collapse;width:100%;margin:0 0 12px\">\n<tr>",
            );
            for (i, h) in header.iter().enumerate() {
                let align = if i >= *numeric_from { "right" } else { "left" };
                let _ = write!(
                    out,
                    "<th style=\"{CELL};background:#eef2f7;text-align:{align}\">{}</th>",
                    escape(h)
                );
            }
            out.push_str("</tr>\n");
            for row in rows {
                out.push_str("<tr>");
                for (i, v) in row.iter().enumerate() {
                    if i < *numeric_from {
                        let _ = write!(out, "<td style=\"{CELL}\">{}</td>", escape(v));
                        continue;
                    }
                    // A number never breaks; "1.400 → 1.800" may break before its last part
                    // only, so a phone keeps room for the text columns.
                    let mut v = escape(v);
                    if let Some(last) = v.rfind(' ') {
                        v = format!("{}{}", v[..last].replace(' ', "&nbsp;"), &v[last..]);
                    }
                    let _ = write!(
                        out,
                        "<td class=\"n\" style=\"{CELL};text-align:right\">{v}</td>"
                    );
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
        Block::List(items) => {
            out.push_str("<ul style=\"margin:0 0 12px;padding-left:20px\">\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", escape(item));
            }
            out.push_str("</ul>\n");
        }
        Block::Highlight(blocks) => {
            out.push_str(
                "<div style=\"background:#fff6e5;border-left:4px solid #d98200;\
                 padding:10px 12px 1px;margin:0 0 14px\">\n",
            );
            for b in blocks {
                html_block(out, b);
            }
            out.push_str("</div>\n");
        }
    }
}

/// Escape text for HTML element content and double-quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// "17:00 ngày 03/11/2026".
pub(crate) fn datetime_vn(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M ngày %d/%m/%Y").to_string()
}

/// A short plain-text mail (alerts to the operator): one recipient, no attachment.
/// `tag` and `nonce` make the Message-ID unique (`<tonghop.TAG.TIME.NONCE@domain>`).
#[allow(clippy::too_many_arguments)]
pub fn compose_plain(
    from: &str,
    to: &str,
    subject: &str,
    text: &str,
    tag: &str,
    period: Period,
    now: DateTime<FixedOffset>,
    nonce: Nonce,
) -> Result<Outgoing, DeliveryError> {
    let from = parse_mailbox("from", from)?;
    let to = parse_mailbox("to", to)?;
    let message_id = message_id(&[tag], now, Some(nonce), from.email.domain());
    let mut message = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject)
        .date(SystemTime::from(now))
        .message_id(Some(message_id.clone()))
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_owned())
        .map_err(|e| DeliveryError::Build(e.to_string()))?;
    set_date(&mut message, &now);
    Ok(Outgoing {
        message,
        message_id,
        subject: subject.to_owned(),
        from: from.email.to_string(),
        recipients: vec![to.email.to_string()],
        attachment_name: String::new(),
        period,
        text: text.to_owned(),
        html: String::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Spooled messages: what the state store queues and retries

/// A message as spooled on disk: exactly the bytes that are sent, whatever the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spooled {
    pub message_id: String,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    pub bytes: Vec<u8>,
}

impl Outgoing {
    /// The bytes of this mail and its envelope, for the spool.
    pub fn spooled(&self) -> Spooled {
        Spooled {
            message_id: self.message_id.clone(),
            from: self.from.clone(),
            recipients: self.recipients.clone(),
            bytes: self.message.formatted(),
        }
    }
}

/// The `.eml` file name for a Message-ID: the ID without its brackets, reduced to characters
/// safe in any file system.
pub fn eml_name(message_id: &str) -> String {
    let id: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.eml", id.trim_start_matches('.'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Transport;
    use crate::finding::{Finding, Severity};
    use crate::pipeline::consolidate::{Figures, FileRef, Message as Msg};
    use chrono::TimeZone;

    fn form() -> Form {
        Form::from_toml(include_str!("../../../config/form-kl14.toml")).unwrap()
    }

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn unit(id: &str, name: &str, status: UnitStatus, late: bool, errors: usize) -> UnitRow {
        let file = (status != UnitStatus::Missing).then(|| FileRef {
            path: format!("{id}.xlsx"),
            received: if late {
                t("2026-11-04T09:15:00+07:00")
            } else {
                t("2026-11-02T10:00:00+07:00")
            },
            sha256: "00".repeat(32),
            errors,
            warnings: 0,
        });
        UnitRow {
            id: id.into(),
            name: name.into(),
            group: "Huyện ủy, Thành ủy".into(),
            status,
            late,
            file,
            header: vec![],
            figures: None,
            activities: Default::default(),
            narrative: vec![],
        }
    }

    /// 18 units: 15 accepted (one of them late), 2 missing, 1 rejected with 3 errors.
    fn sample() -> Consolidation {
        let form = form();
        let mut units: Vec<UnitRow> = (0..14)
            .map(|i| {
                unit(
                    &format!("u{i}"),
                    &format!("Đơn vị {i}"),
                    UnitStatus::Accepted,
                    false,
                    0,
                )
            })
            .collect();
        units.push(unit(
            "duc-trong",
            "Huyện ủy Đức Trọng",
            UnitStatus::Accepted,
            true,
            0,
        ));
        units.push(unit(
            "lac-duong",
            "Huyện ủy Lạc Dương",
            UnitStatus::Missing,
            false,
            0,
        ));
        units.push(unit(
            "bao-lam-dong",
            "Báo Lâm Đồng <Tòa soạn & \"Ban Điện tử\">",
            UnitStatus::Missing,
            false,
            0,
        ));
        units.push(unit(
            "khoi-dn",
            "Đảng ủy Khối Doanh nghiệp tỉnh",
            UnitStatus::Rejected,
            false,
            3,
        ));
        let mut totals = Figures::zero(form.indicators.items.len(), 2);
        totals.values[0] = vec![12, 1250];
        totals.values[1] = vec![1_234_567, 9_876_543];
        // The files behind it, as consolidate makes them: the rejected unit's file (3 errors,
        // 1 warning), Lạc Dương's September form, a file naming no unit (2 errors), and a
        // superseded first send of Đơn vị 3 (1 error). The messages are their findings.
        let record = |path: &str, unit: Option<&str>, outcome, period, findings| FileRecord {
            path: path.into(),
            unit: unit.map(str::to_owned),
            outcome,
            received: Some(t("2026-11-02T10:00:00+07:00")),
            size: 1000,
            sha256: None,
            period,
            findings,
        };
        let f = |severity| Finding::new(severity, "bad_number", "x");
        let files = vec![
            record(
                "Book1.xlsx",
                None,
                FileOutcome::Unidentified,
                Some(Period::month(2026, 10)),
                vec![f(Severity::Error), f(Severity::Error)],
            ),
            record(
                "HU Lạc Dương T9.xlsx",
                Some("lac-duong"),
                FileOutcome::OtherPeriod,
                Some(Period::month(2026, 9)),
                vec![f(Severity::Info)],
            ),
            record(
                "khoi-dn.xlsx",
                Some("khoi-dn"),
                FileOutcome::Rejected,
                Some(Period::month(2026, 10)),
                vec![
                    f(Severity::Error),
                    f(Severity::Error),
                    f(Severity::Error),
                    f(Severity::Warning),
                ],
            ),
            record(
                "u3 cũ.xlsx",
                Some("u3"),
                FileOutcome::Superseded,
                Some(Period::month(2026, 10)),
                vec![f(Severity::Error), f(Severity::Info)],
            ),
        ];
        let messages = files
            .iter()
            .flat_map(|r| {
                r.findings.iter().map(|finding| Msg {
                    unit: r.unit.clone(),
                    unit_name: None,
                    file: r.path.clone(),
                    finding: finding.clone(),
                })
            })
            .collect();
        Consolidation {
            period: Period::month(2026, 10),
            generated_at: t("2026-11-04T08:00:00+07:00"),
            deadline: t("2026-11-03T17:00:00+07:00"),
            units,
            groups: vec![],
            totals,
            files,
            messages,
        }
    }

    fn settings(transport: Transport) -> MailSettings {
        MailSettings {
            from: "Ban Tuyên giáo Tỉnh ủy Lâm Đồng <bantuyengiao@lamdong.dcs.vn>".into(),
            to: vec!["Thường trực Tỉnh ủy <thuongtruc@lamdong.dcs.vn>".into()],
            cc: vec!["Văn phòng Tỉnh ủy <vanphong@lamdong.dcs.vn>".into()],
            subject: "Báo cáo tổng hợp {short} - {period} ({reported}/{total} đơn vị)".into(),
            attachment: "Tổng hợp {short} {period_key}.xlsx".into(),
            transport,
        }
    }

    pub(crate) fn composed() -> Outgoing {
        let mail = settings(Transport::File { dir: "x".into() });
        compose(
            &sample(),
            &form(),
            &mail,
            b"PK\x03\x04 workbook".to_vec(),
            t("2026-11-04T08:00:05+07:00"),
            Nonce(0xabcdef),
        )
        .unwrap()
    }

    fn raw(out: &Outgoing) -> String {
        String::from_utf8(out.message.formatted()).unwrap()
    }

    #[test]
    fn subject_counts_accepted_units_of_the_roster() {
        let out = composed();
        assert_eq!(
            out.subject,
            "Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)"
        );
        assert_eq!(out.attachment_name, "Tổng hợp KL14 2026-10.xlsx");
        assert_eq!(
            out.recipients,
            ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"]
        );
        assert_eq!(
            out.message_id,
            "<tonghop.kl14.2026-10.20261104T080005.0000000000abcdef@lamdong.dcs.vn>"
        );
        let raw = raw(&out);
        assert!(
            raw.contains(&format!("Message-ID: {}\r\n", out.message_id)),
            "{raw}"
        );
        // Vietnamese headers are RFC 2047 encoded, nothing raw non-ASCII in the header block.
        let headers = &raw[..raw.find("\r\n\r\n").unwrap()];
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("Subject: =?utf-8?b?"), "{headers}");
        assert!(headers.contains("<thuongtruc@lamdong.dcs.vn>"), "{headers}");
    }

    /// Compose takes its time and nonce from the caller: the same ones make the same Message-ID
    /// and Date (whatever the wall clock says), another nonce another ID.
    #[test]
    fn the_time_and_nonce_passed_in_make_the_message_id_and_date() {
        let mail = settings(Transport::File { dir: "x".into() });
        let at = t("2019-01-02T03:04:05+07:00");
        let make = |n| compose(&sample(), &form(), &mail, vec![], at, Nonce(n)).unwrap();
        let (a, b, other) = (make(7), make(7), make(8));
        assert_eq!(
            a.message_id,
            "<tonghop.kl14.2026-10.20190102T030405.0000000000000007@lamdong.dcs.vn>"
        );
        assert_eq!(a.message_id, b.message_id);
        assert_ne!(a.message_id, other.message_id);
        let (_, _, raw) = parsed(&a);
        assert!(
            raw.contains("\r\nDate: Wed, 02 Jan 2019 03:04:05 +0700\r\n"),
            "{raw}"
        );
    }

    /// The one minting function, in each of its uses: a report, a reminder (no nonce: the same
    /// for the same unit and second), an alert, a resent copy.
    #[test]
    fn every_message_id_is_minted_in_one_shape() {
        let at = t("2026-11-04T08:00:05+07:00");
        assert_eq!(
            message_id(&["kl14", "2026-10"], at, Some(Nonce(0xff)), "b.vn"),
            "<tonghop.kl14.2026-10.20261104T080005.00000000000000ff@b.vn>"
        );
        assert_eq!(
            message_id(&["kl14", "2026-10", "remind", "da-lat"], at, None, "b.vn"),
            "<tonghop.kl14.2026-10.remind.da-lat.20261104T080005@b.vn>"
        );
        assert_eq!(
            message_id(&["alert.12"], at, Some(Nonce(1)), "b.vn"),
            "<tonghop.alert.12.20261104T080005.0000000000000001@b.vn>"
        );
        assert_eq!(
            message_id(&["resend", "2026-10"], at, Some(Nonce(u64::MAX)), "b.vn"),
            "<tonghop.resend.2026-10.20261104T080005.ffffffffffffffff@b.vn>"
        );
    }

    #[test]
    fn attachment_has_encoded_name_on_content_type_and_filename_on_disposition() {
        let raw = raw(&composed());
        let encoded = format!(
            "name=\"=?utf-8?b?{}?=\"",
            base64::engine::general_purpose::STANDARD.encode("Tổng hợp KL14 2026-10.xlsx")
        );
        // The attachment part's own headers (lettre may fold after the ';').
        let start = raw.find("Content-Disposition: attachment").unwrap();
        let part = &raw[start..];
        let part = &part[..part.find("\r\n\r\n").unwrap()];
        let unfolded = part.replace("\r\n ", " ");
        assert!(
            unfolded.contains(&format!("Content-Type: {XLSX_MIME}; {encoded}")),
            "{part}"
        );
        // RFC 2231: percent-encoded UTF-8, possibly split into numbered continuations.
        let disposition = unfolded
            .split("\r\n")
            .find(|l| l.starts_with("Content-Disposition:"))
            .unwrap();
        let filename: String = disposition
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("filename*"))
            .map(|p| p.split_once('=').unwrap().1.trim_start_matches("utf-8''"))
            .collect();
        assert_eq!(
            filename, "T%E1%BB%95ng%20h%E1%BB%A3p%20KL14%202026-10.xlsx",
            "{part}"
        );
        assert!(
            unfolded.contains("Content-Transfer-Encoding: base64"),
            "{part}"
        );
    }

    #[test]
    fn long_names_are_split_into_encoded_words_at_character_boundaries() {
        let name =
            "Tổng hợp kết quả tuyên truyền, quán triệt Kết luận 14-KL/TW tháng 10 năm 2026.xlsx";
        let encoded = rfc2047(name);
        let words: Vec<&str> = encoded.split(' ').collect();
        assert!(words.len() > 1, "{encoded}");
        let mut decoded = Vec::new();
        for w in words {
            assert!(w.len() <= 75, "{w}");
            let b64 = w
                .strip_prefix("=?utf-8?b?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "cut inside a character"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), name);
        assert_eq!(rfc2047("report-2026-10.xlsx"), "report-2026-10.xlsx");

        // Folded by lettre inside the quoted string, it still reads back whole.
        let mut mail = settings(Transport::File { dir: "x".into() });
        mail.attachment = name.replace("2026", "{period_key}");
        let out = compose(
            &sample(),
            &form(),
            &mail,
            vec![1, 2, 3],
            t("2026-11-04T08:00:05+07:00"),
            Nonce(1),
        )
        .unwrap();
        let raw = out.message.formatted();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let att = parsed.attachments().next().unwrap();
        use mail_parser::MimeHeaders;
        let expected = name.replace("2026", "2026-10");
        assert_eq!(
            att.content_type().unwrap().attribute("name"),
            Some(&*expected)
        );
        assert_eq!(
            att.content_disposition().unwrap().attribute("filename"),
            Some(&*expected)
        );
    }

    /// The mail as a mail program reads it.
    fn parsed(out: &Outgoing) -> (String, String, String) {
        let raw = out.message.formatted();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        // Transfer encoding aside, lines end in CRLF on the wire.
        (
            m.body_text(0).unwrap().replace("\r\n", "\n"),
            m.body_html(0).unwrap().replace("\r\n", "\n"),
            String::from_utf8(raw.clone()).unwrap(),
        )
    }

    #[test]
    fn the_first_lines_name_the_units_missing_rejected_and_late_with_counts_that_add_up() {
        let (text, _, _) = parsed(&composed());
        let top: Vec<&str> = text.lines().take(15).collect();
        assert_eq!(
            top,
            [
                "Kính gửi: Thường trực Tỉnh ủy",
                "",
                "Tháng 10/2026: 15/18 đơn vị có báo cáo được tổng hợp (trong đó 1 nộp muộn), \
                 2 đơn vị chưa nộp, 1 đơn vị bị từ chối.",
                "",
                "CHƯA NỘP (2)",
                "- Huyện ủy Lạc Dương gửi báo cáo Tháng 9/2026, chưa gửi Tháng 10/2026 \
                 (tệp \"HU Lạc Dương T9.xlsx\")",
                "- Báo Lâm Đồng <Tòa soạn & \"Ban Điện tử\">",
                "",
                "BỊ TỪ CHỐI (1)",
                "- Đảng ủy Khối Doanh nghiệp tỉnh: 3 lỗi trong tệp \"khoi-dn.xlsx\"",
                "",
                "NỘP MUỘN (1)",
                "- Huyện ủy Đức Trọng (nhận lúc 09:15 ngày 04/11/2026)",
                "",
                "Ban Tuyên giáo Tỉnh ủy Lâm Đồng trân trọng gửi bản tổng hợp Báo cáo kết quả \
                 tuyên truyền, quán triệt Kết luận 14-KL/TW - Tháng 10/2026.",
            ],
            "{text}"
        );
        // The counts the mail says add up to the roster, and each heading's count to its list.
        let c = sample();
        let said: Vec<usize> = top[2]
            .split(|ch: char| !ch.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .filter_map(|n| n.parse().ok())
            .collect();
        // "10/2026: 15/18 ... 1 nộp muộn ... 2 chưa nộp, 1 bị từ chối"
        let (reported, roster, missing, rejected) = (said[2], said[3], said[5], said[6]);
        assert_eq!(roster, c.units.len(), "{}", top[2]);
        assert_eq!(reported + missing + rejected, roster, "{}", top[2]);
        let listed = |heading: &str| {
            let start = top.iter().position(|l| l.starts_with(heading)).unwrap() + 1;
            top[start..]
                .iter()
                .take_while(|l| l.starts_with("- "))
                .count()
        };
        assert_eq!(listed("CHƯA NỘP"), missing, "{text}");
        assert_eq!(listed("BỊ TỪ CHỐI"), rejected, "{text}");
        // The figures come after.
        let figures = text.find("SỐ LIỆU TỔNG HỢP").unwrap();
        assert!(text.find("NỘP MUỘN (1)").unwrap() < figures, "{text}");
    }

    #[test]
    fn the_html_opens_with_the_same_status_block_before_the_figures() {
        let (_, html, _) = parsed(&composed());
        let body = &html[html.find("<body").unwrap()..];
        // The first block after the salutation is the shaded status box.
        let blocks: Vec<&str> = body
            .split('\n')
            .filter(|l| l.starts_with("<p") || l.starts_with("<div style=\"background"))
            .take(3)
            .collect();
        assert_eq!(
            blocks[0],
            "<p style=\"margin:0 0 12px\">Kính gửi: Thường trực Tỉnh ủy</p>"
        );
        assert!(
            blocks[1].starts_with("<div style=\"background:#fff6e5"),
            "{body}"
        );
        let status = &body[body.find(blocks[1]).unwrap()..];
        let status = &status[..status.find("</div>").unwrap()];
        for item in [
            "Tháng 10/2026: 15/18 đơn vị có báo cáo được tổng hợp (trong đó 1 nộp muộn), 2 đơn vị \
             chưa nộp, 1 đơn vị bị từ chối.",
            "Chưa nộp (2)</h3>",
            "<li>Huyện ủy Lạc Dương gửi báo cáo Tháng 9/2026, chưa gửi Tháng 10/2026 \
             (tệp &quot;HU Lạc Dương T9.xlsx&quot;)</li>",
            "<li>Báo Lâm Đồng &lt;Tòa soạn &amp; &quot;Ban Điện tử&quot;&gt;</li>",
            "Bị từ chối (1)</h3>",
            "<li>Đảng ủy Khối Doanh nghiệp tỉnh: 3 lỗi trong tệp &quot;khoi-dn.xlsx&quot;</li>",
            "Nộp muộn (1)</h3>",
            "<li>Huyện ủy Đức Trọng (nhận lúc 09:15 ngày 04/11/2026)</li>",
        ] {
            assert!(
                status.contains(item),
                "missing {item:?} in the status box:\n{status}"
            );
        }
        assert!(!status.contains("<table"), "{status}");
        assert!(body.find("<table").unwrap() > body.find(status).unwrap() + status.len());
        // Nothing may be wider than a 390 px screen: long words wrap, the width is not fixed.
        assert!(body.contains("overflow-wrap:anywhere"), "{body}");
        for (at, _) in html.match_indices("width:") {
            // max-width caps, a media query's min-width tests the screen: neither forces width.
            let fixed = !html[..at].ends_with("max-")
                && !html[..at].ends_with("(min-")
                && !html[at..].starts_with("width:100%");
            assert!(
                !fixed,
                "a fixed width at {}",
                &html[at.saturating_sub(40)..at + 20]
            );
        }
    }

    #[test]
    fn every_error_counted_is_in_a_file_the_mail_names() {
        let (text, _, _) = parsed(&composed());
        for line in [
            "TỆP KHÁC KHÔNG ĐƯỢC TỔNG HỢP (2)\n\
             - \"Book1.xlsx\": không xác định được đơn vị; 2 lỗi\n\
             - \"u3 cũ.xlsx\": bản cũ của Đơn vị 3, đã được thay bằng bản gửi sau; 1 lỗi\n",
            "Tệp đính kèm liệt kê 6 lỗi (3 trong tệp của các đơn vị bị từ chối, 3 trong các tệp \
             khác không được tổng hợp) và 1 cảnh báo trong các tệp báo cáo của đơn vị.",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        // The September file is named once, with its unit, not again among the other files.
        assert_eq!(text.matches("HU Lạc Dương T9.xlsx").count(), 1, "{text}");
        // 6 = 3 (khoi-dn.xlsx) + 2 (Book1.xlsx) + 1 (u3 cũ.xlsx): the counts listed.
        let listed: u32 = text
            .lines()
            .filter(|l| l.starts_with("- "))
            .filter_map(|l| {
                l.split(" lỗi")
                    .next()?
                    .rsplit(' ')
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .sum();
        assert_eq!(listed, 6, "{text}");
    }

    #[test]
    fn an_error_in_any_other_file_is_named_so_the_count_still_adds_up() {
        let mut c = sample();
        c.files.push(FileRecord {
            path: "bao cao.zip".into(),
            unit: None,
            outcome: FileOutcome::Ignored,
            received: None,
            size: 10,
            sha256: None,
            period: None,
            findings: vec![Finding::new(Severity::Error, "archive", "x")],
        });
        let mail = settings(Transport::File { dir: "x".into() });
        let out = compose(
            &c,
            &form(),
            &mail,
            vec![],
            t("2026-11-04T08:00:00+07:00"),
            Nonce(1),
        )
        .unwrap();
        for line in [
            "TỆP KHÁC KHÔNG ĐƯỢC TỔNG HỢP (3)\n",
            "- \"bao cao.zip\": bỏ qua; 1 lỗi\n",
            "liệt kê 7 lỗi (3 trong tệp của các đơn vị bị từ chối, 4 trong các tệp khác",
        ] {
            assert!(
                out.text.contains(line),
                "missing {line:?} in:\n{}",
                out.text
            );
        }
    }

    #[test]
    fn a_unit_that_sent_another_periods_form_but_reported_is_not_said_missing() {
        let mut c = sample();
        // Lạc Dương's October report came too: its September file is an "other file".
        c.units[15].status = UnitStatus::Accepted;
        let mail = settings(Transport::File { dir: "x".into() });
        let out = compose(
            &c,
            &form(),
            &mail,
            vec![],
            t("2026-11-04T08:00:00+07:00"),
            Nonce(1),
        )
        .unwrap();
        assert!(
            out.text.contains(
                "- \"HU Lạc Dương T9.xlsx\": báo cáo Tháng 9/2026 của Huyện ủy Lạc Dương, \
                 không thuộc kỳ này\n"
            ),
            "{}",
            out.text
        );
        assert!(
            out.text.contains("CHƯA NỘP (1)\n- Báo Lâm Đồng"),
            "{}",
            out.text
        );
    }

    #[test]
    fn text_body_lists_units_and_totals_with_vietnamese_separators() {
        let text = composed().text;
        for line in [
            "Kỳ báo cáo: Tháng 10/2026",
            "Hạn nộp: 17:00 ngày 03/11/2026",
            "Tổng hợp lúc: 08:00 ngày 04/11/2026",
            "Số đơn vị có báo cáo: 15/18",
            "- HN - Số hội nghị, buổi quán triệt Kết luận 14-KL/TW: Kỳ này 12; Lũy kế 1.250",
            "- NG - Số lượt cán bộ, đảng viên tham dự: Kỳ này 1.234.567; Lũy kế 9.876.543",
            "- KT - Số cán bộ năng động, sáng tạo được biểu dương, khen thưởng: Kỳ này 0; Lũy kế 0",
            "có trong tệp đính kèm \"Tổng hợp KL14 2026-10.xlsx\".",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains("đúng hạn."), "{text}");
        assert!(
            text.ends_with("Ban Tuyên giáo Tỉnh ủy Lâm Đồng\n"),
            "{text}"
        );
    }

    #[test]
    fn all_on_time_is_said_in_one_line() {
        let mut c = sample();
        for u in &mut c.units {
            u.status = UnitStatus::Accepted;
            u.late = false;
        }
        c.files.clear();
        c.messages.clear();
        let mail = settings(Transport::File { dir: "x".into() });
        let out = compose(
            &c,
            &form(),
            &mail,
            vec![],
            t("2026-11-04T08:00:00+07:00"),
            Nonce(1),
        )
        .unwrap();
        assert!(
            out.text.starts_with(
                "Kính gửi: Thường trực Tỉnh ủy\n\n\
                 Tháng 10/2026: tất cả 18/18 đơn vị đã nộp báo cáo đúng hạn.\n\n"
            ),
            "{}",
            out.text
        );
        assert!(
            out.text
                .contains("Các tệp báo cáo không có lỗi hay cảnh báo nào.")
        );
        assert!(!out.text.contains("CHƯA NỘP") && !out.text.contains("TỆP KHÁC"));
        assert!(out.subject.ends_with("(18/18 đơn vị)"));
    }

    #[test]
    fn the_date_header_carries_the_offset_of_the_office() {
        let (_, _, raw) = parsed(&composed());
        assert!(
            raw.contains("\r\nDate: Wed, 04 Nov 2026 08:00:05 +0700\r\n"),
            "{raw}"
        );
        // The offset is the one of the time passed in (the run's clock in the configured zone),
        // not a constant.
        let mail = settings(Transport::File { dir: "x".into() });
        let out = compose(
            &sample(),
            &form(),
            &mail,
            vec![],
            t("2026-11-04T10:00:00+09:00"),
            Nonce(1),
        )
        .unwrap();
        let raw = String::from_utf8(out.message.formatted()).unwrap();
        let date = raw.lines().find(|l| l.starts_with("Date: ")).unwrap();
        assert!(date.ends_with(" +0900"), "{date}");
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(parsed.date().unwrap().tz_hour, 9);
        // Plain mails (alerts) too.
        let alert = compose_plain(
            "a@lamdong.dcs.vn",
            "b@lamdong.dcs.vn",
            "x",
            "y",
            "alert",
            Period::month(2026, 10),
            t("2026-11-04T08:00:05+07:00"),
            Nonce(2),
        )
        .unwrap();
        let raw = String::from_utf8(alert.message.formatted()).unwrap();
        assert!(
            raw.contains("\r\nDate: Wed, 04 Nov 2026 08:00:05 +0700\r\n"),
            "{raw}"
        );
        assert_eq!(raw.matches("\r\nDate: ").count(), 1, "{raw}");
    }

    #[test]
    fn html_escapes_names_and_has_the_same_content() {
        let html = composed().html;
        assert!(
            html.contains("<li>Báo Lâm Đồng &lt;Tòa soạn &amp; &quot;Ban Điện tử&quot;&gt;</li>"),
            "{html}"
        );
        assert!(!html.contains("<Tòa soạn"));
        assert!(
            html.contains("<title>Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)</title>")
        );
        assert!(html.contains(">1.250</td>"), "{html}");
        assert!(
            html.contains("<li>&quot;Book1.xlsx&quot;: không xác định được đơn vị; 2 lỗi</li>")
        );
        assert!(
            html.contains("<td style=\"padding:2px 0\"><b>15/18</b></td>"),
            "{html}"
        );
        assert!(html.contains("&quot;Tổng hợp KL14 2026-10.xlsx&quot;"));
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn mime_structure_is_mixed_of_alternative_and_attachment() {
        let raw = raw(&composed());
        let mixed = raw.find("Content-Type: multipart/mixed").unwrap();
        let alt = raw.find("Content-Type: multipart/alternative").unwrap();
        let plain = raw.find("Content-Type: text/plain; charset=utf-8").unwrap();
        let html = raw.find("Content-Type: text/html; charset=utf-8").unwrap();
        let att = raw.find("Content-Disposition: attachment").unwrap();
        assert!(
            mixed < alt && alt < plain && plain < html && html < att,
            "{raw}"
        );
    }

    #[test]
    fn vietnamese_numbers_and_times() {
        assert_eq!(crate::numbers::vi(0), "0");
        assert_eq!(crate::numbers::vi(999), "999");
        assert_eq!(crate::numbers::vi(1000), "1.000");
        assert_eq!(crate::numbers::vi(1250), "1.250");
        assert_eq!(crate::numbers::vi(12_345_678), "12.345.678");
        let d = FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 3, 17, 0, 0)
            .unwrap();
        assert_eq!(datetime_vn(&d), "17:00 ngày 03/11/2026");
    }

    #[test]
    fn a_bad_address_names_the_setting() {
        let mut mail = settings(Transport::File { dir: "x".into() });
        mail.cc = vec!["Văn phòng <vanphong-at-lamdong>".into()];
        let err = compose(
            &sample(),
            &form(),
            &mail,
            vec![],
            t("2026-11-04T08:00:05+07:00"),
            Nonce(1),
        )
        .unwrap_err();
        assert!(!err.is_transient());
        let msg = err.to_string();
        assert!(
            msg.starts_with("mail.cc: \"Văn phòng <vanphong-at-lamdong>\""),
            "{msg}"
        );
    }
}
