//! The outbox: mails queued in the state store and spooled on disk, sent exactly once.
//!
//! A mail is first written to `<data>/spool/<Message-ID>.eml` and recorded as `pending`; only
//! then is it handed to the transport, from those very bytes. After a crash the record says
//! whether it left: `sent`, or still `pending` (sent again from the spool). With the file
//! transport, a message already in the outbox folder is recognised and not written twice.
//! Temporary failures are retried with a doubling delay; permanent ones alert the operator.
//! Callers hold the run lock, so two processes never attempt the same mail.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

use crate::config::{Settings, Transport};
use crate::mail::transport;
use crate::pipeline::compose::{self, DeliveryError, Outgoing, Spooled};
use crate::state::store::{
    DeliveryKind, DeliveryRow, DeliveryStatus, NewDelivery, Store, StoreError,
};

/// Where spooled messages live.
pub fn spool_dir(data: &Path) -> PathBuf {
    data.join("spool")
}

/// What a queued mail is for, as recorded in the store.
#[derive(Debug, Clone, Copy)]
pub struct Purpose<'a> {
    pub kind: DeliveryKind,
    pub period: &'a str,
    pub unit: Option<&'a str>,
    pub run_id: Option<i64>,
}

/// Spool a composed mail and record it as pending (inside the caller's transaction if any).
pub fn enqueue(
    settings: &Settings,
    store: &Store,
    out: &Outgoing,
    purpose: Purpose<'_>,
    now: DateTime<Utc>,
) -> Result<i64, OutboxError> {
    let spooled = out.spooled();
    let path = transport::write_file_atomic(
        &spool_dir(&settings.data),
        &compose::eml_name(&out.message_id),
        &spooled.bytes,
    )?;
    let id = store.add_delivery(
        &NewDelivery {
            run_id: purpose.run_id,
            kind: purpose.kind,
            period: purpose.period,
            unit: purpose.unit,
            recipients: &out.recipients,
            subject: &out.subject,
            message_id: &out.message_id,
            eml_path: &path,
        },
        now,
    )?;
    tracing::info!(delivery = id, kind = purpose.kind.as_str(), period = purpose.period, message_id = %out.message_id, "mail queued");
    crate::crashpoint::here("mail-queued");
    Ok(id)
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

/// What one attempt did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attempt {
    pub delivery: i64,
    pub kind: DeliveryKind,
    pub status: DeliveryStatus,
    pub detail: String,
}

/// The delay before retry number `attempts` (1-based): first, doubling, capped.
pub fn backoff(settings: &Settings, attempts: i64) -> chrono::Duration {
    let first = settings.daemon.retry_first.as_secs() as i64;
    let max = settings.daemon.retry_max.as_secs() as i64;
    let exp = (attempts - 1).clamp(0, 30) as u32;
    chrono::Duration::seconds(first.saturating_mul(1i64 << exp).min(max))
}

fn envelope_from(settings: &Settings) -> String {
    settings
        .mail
        .from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| settings.mail.from.clone())
}

/// Attempt every delivery due at `now`. The caller holds the run lock.
pub fn deliver_due(
    settings: &Settings,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<Attempt>, OutboxError> {
    let mut done = Vec::new();
    let start = std::time::Instant::now();
    for row in store.due_deliveries(now)? {
        // Each attempt may take up to the SMTP timeout: keep `now` current for the next one.
        let now = now + chrono::Duration::from_std(start.elapsed()).unwrap_or_default();
        done.push(attempt(settings, store, &row, now)?);
    }
    Ok(done)
}

fn attempt(
    settings: &Settings,
    store: &Store,
    row: &DeliveryRow,
    now: DateTime<Utc>,
) -> Result<Attempt, OutboxError> {
    let result = |status, detail: String| Attempt {
        delivery: row.id,
        kind: row.kind,
        status,
        detail,
    };
    // A crash after the file transport wrote the message but before it was recorded.
    if let Transport::File { dir } = &settings.mail.transport {
        let target = transport::file_transport_path(dir, &row.message_id);
        if target.is_file() {
            store.mark_sent(row.id, now, Some("already in the outbox folder"), &[])?;
            tracing::info!(delivery = row.id, message_id = %row.message_id, "mail found in the outbox; recorded as sent");
            return Ok(result(DeliveryStatus::Sent, target.display().to_string()));
        }
    }
    let bytes = match std::fs::read(&row.eml_path) {
        Ok(b) => b,
        Err(e) => {
            let msg = format!(
                "không đọc được bản thư đã lưu {}: {}",
                row.eml_path,
                crate::wording::os(&e)
            );
            store.mark_attempt_failed(row.id, &msg, None)?;
            tracing::error!(delivery = row.id, error = %msg, "delivery failed for good");
            return Ok(result(DeliveryStatus::Failed, msg));
        }
    };
    let spooled = Spooled {
        message_id: row.message_id.clone(),
        from: envelope_from(settings),
        recipients: row.recipients.clone(),
        bytes,
    };
    if let Some(began) = &row.attempt_started_at {
        tracing::warn!(delivery = row.id, kind = %row.kind, message_id = %row.message_id, attempt_started_at = %crate::clock::log_time(*began), "attempting again a mail whose previous hand-over was interrupted; it may already have been delivered (same Message-ID)");
    }
    // Recorded before the hand-over: if the process dies during it, the next start knows the
    // mail may have reached the server.
    store.begin_attempt(row.id, now)?;
    let started = std::time::Instant::now();
    match transport::send_spooled_blocking(&spooled, &settings.mail.transport) {
        Ok(d) => {
            crate::crashpoint::here("mail-handed-over");
            let detail = d
                .server_reply
                .clone()
                .or_else(|| d.eml_path.as_ref().map(|p| p.display().to_string()))
                .unwrap_or_default();
            store.mark_sent(row.id, now, Some(&detail), &d.refused)?;
            if !d.refused.is_empty() {
                let names: Vec<&str> = d.refused.iter().map(|r| r.address.as_str()).collect();
                tracing::error!(delivery = row.id, kind = %row.kind, message_id = %row.message_id, refused = %names.join(","), "the server refused some recipients for good; the others got the mail");
                if row.kind != DeliveryKind::Alert {
                    alert_refused(settings, store, row, &d.refused, now)?;
                }
            }
            Ok(result(DeliveryStatus::Sent, detail))
        }
        Err(e) if e.is_transient() => {
            // Counted from the end of this attempt, which may have waited for a timeout longer
            // than the delay: otherwise the retry would be due before it is even recorded.
            let ended = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
            let retry_at = ended + backoff(settings, row.attempts + 1);
            // Stored as the clerk reads it (status, history); the log keeps the English.
            let said = e.in_vietnamese();
            store.mark_attempt_failed(row.id, &said, Some(retry_at))?;
            tracing::warn!(delivery = row.id, kind = %row.kind, error = %e, retry_at = %crate::clock::log_time(retry_at), "delivery failed; will retry");
            Ok(result(DeliveryStatus::Pending, said))
        }
        Err(e) => {
            let said = e.in_vietnamese();
            store.mark_attempt_failed(row.id, &said, None)?;
            // Whether the operator is alerted is logged by the alert itself (queued, or no
            // address configured), not promised here.
            tracing::error!(delivery = row.id, kind = %row.kind, error = %e, "delivery failed for good");
            if row.kind != DeliveryKind::Alert {
                alert(settings, store, row, &said, now)?;
            }
            Ok(result(DeliveryStatus::Failed, said))
        }
    }
}

/// The command that sends a mail again, as the alert and `status` name it.
pub fn resend_command(row: &DeliveryRow) -> String {
    row.run_id
        .map(|r| format!("tonghop resend {r}"))
        .unwrap_or_else(|| format!("tonghop resend --delivery {}", row.id))
}

/// Queue a mail to the operator about recipients refused for good while the others got the mail.
fn alert_refused(
    settings: &Settings,
    store: &Store,
    row: &DeliveryRow,
    refused: &[crate::state::store::Refused],
    now: DateTime<Utc>,
) -> Result<(), OutboxError> {
    let subject = format!("[tonghop] Có địa chỉ bị từ chối: {}", row.subject);
    let delivered: Vec<&str> = row
        .recipients
        .iter()
        .filter(|a| !refused.iter().any(|r| r.address == **a))
        .map(String::as_str)
        .collect();
    let lines: Vec<String> = refused
        .iter()
        .map(|r| format!("  - {}: máy chủ thư trả lời {}", r.address, r.reply))
        .collect();
    let text = format!(
        "Thư sau đã gửi tới {}, nhưng máy chủ thư từ chối hẳn các địa chỉ dưới đây; họ KHÔNG nhận \
         được thư và tonghop sẽ không tự gửi lại cho họ:\n\n{}\n\n\
         Tiêu đề: {}\nLoại: {}\nKỳ: {}\nMessage-ID: {}\n\n\
         Hãy kiểm tra các địa chỉ này (trong cấu hình [mail] hoặc danh sách đơn vị). Khi hộp thư \
         của họ đã được sửa, gửi lại cho riêng họ (người khác không nhận lần hai):\n  {} --refused\n\
         Nếu địa chỉ bị gõ sai, sửa cấu hình rồi chuyển thư này cho địa chỉ đúng.\n",
        delivered.join(", "),
        lines.join("\n"),
        row.subject,
        row.kind.label(),
        period_label(&row.period),
        row.message_id,
        resend_command(row),
    );
    queue_alert(settings, store, row, &subject, &text, now)
}

/// "Tháng 10/2026" for a stored period key (the key itself if it is not one).
fn period_label(key: &str) -> String {
    crate::period::Period::parse_key(key)
        .map(|p| p.label())
        .unwrap_or_else(|| key.to_owned())
}

/// Queue a mail to the operator about a delivery that failed for good.
fn alert(
    settings: &Settings,
    store: &Store,
    row: &DeliveryRow,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), OutboxError> {
    let subject = format!("[tonghop] Không gửi được thư: {}", row.subject);
    let text = format!(
        "Thư sau không gửi được và sẽ không được gửi lại tự động:\n\n\
         Tiêu đề: {}\nNgười nhận: {}\nLoại: {}\nKỳ: {}\nMessage-ID: {}\nLỗi: {error}\n\n\
         Sau khi khắc phục (địa chỉ, mật khẩu máy chủ thư), gửi lại bằng lệnh:\n  {}\n",
        row.subject,
        row.recipients.join(", "),
        row.kind.label(),
        period_label(&row.period),
        row.message_id,
        resend_command(row),
    );
    queue_alert(settings, store, row, &subject, &text, now)
}

/// Queue an alert to `daemon.operator_email` (none configured: the log says it all).
fn queue_alert(
    settings: &Settings,
    store: &Store,
    row: &DeliveryRow,
    subject: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), OutboxError> {
    let Some(operator) = &settings.daemon.operator_email else {
        tracing::warn!(
            delivery = row.id,
            "no daemon.operator_email configured; no alert mail"
        );
        return Ok(());
    };
    let period = crate::period::Period::parse_key(&row.period)
        .unwrap_or_else(|| crate::config::collection::current(settings, now));
    let local = now.with_timezone(&settings.timezone).fixed_offset();
    let out = compose::compose_plain(
        &settings.mail.from,
        operator,
        subject,
        text,
        &format!("alert.{}", row.id),
        period,
        local,
        compose::Nonce::random(),
    )?;
    let purpose = Purpose {
        kind: DeliveryKind::Alert,
        period: &row.period,
        unit: None,
        run_id: row.run_id,
    };
    let id = enqueue(settings, store, &out, purpose, now)?;
    // Beside the failure it follows, at the same level a `run` shows by default.
    tracing::warn!(delivery = row.id, alert = id, operator = %operator, "alert to the operator queued");
    Ok(())
}
