//! A mail's state in the clerk's words: the one wording used by `status`, `history`, `resend`,
//! `run` and `trigger`, an error that finds the period's report already made, and the daemon's log.

use crate::config::Settings;
use crate::state::store::{DeliveryKind, DeliveryRow, DeliveryStatus};

/// A mail's delivery state in the clerk's words: the one wording used by `status`, `history`,
/// `resend`, a `run`/`trigger` that finds the period's report already made, and the daemon's
/// log. Queued: since when, attempts, last error, next attempt. Sent: when, to whom, Message-ID,
/// the server's answer. Failed for good: why.
pub fn delivery_state(settings: &Settings, d: &DeliveryRow) -> String {
    let t = |s: &chrono::DateTime<chrono::Utc>| crate::clock::local_text(settings, s);
    let tries = |n: i64| format!("đã thử {n} lần");
    match d.status {
        DeliveryStatus::Sent => format!(
            "đã gửi lúc {}, tới {}{}, Message-ID {}, máy chủ thư trả lời: {}",
            d.sent_at.as_ref().map(t).unwrap_or_default(),
            delivered_to(d).join(", "),
            refused_text(d),
            d.message_id,
            d.server_reply.as_deref().unwrap_or("không ghi lại")
        ),
        DeliveryStatus::Pending if d.attempts == 0 => format!(
            "CHƯA gửi: đang chờ trong hàng đợi từ {}, chưa thử gửi lần nào, sẽ gửi lúc {}, tới {}, Message-ID {}",
            t(&d.created_at),
            t(&d.next_attempt_at),
            d.recipients.join(", "),
            d.message_id
        ),
        DeliveryStatus::Pending => format!(
            "CHƯA gửi được: đang chờ trong hàng đợi từ {} ({}; lỗi cuối: {}), sẽ thử lại lúc {} \
             (khi tonghop daemon chạy), tới {}, Message-ID {}",
            t(&d.created_at),
            tries(d.attempts),
            d.last_error
                .as_deref()
                .unwrap_or("không rõ")
                .trim_end_matches('.'),
            t(&d.next_attempt_at),
            d.recipients.join(", "),
            d.message_id
        ),
        DeliveryStatus::Failed => format!(
            "KHÔNG gửi được, đã thôi thử ({}; lý do: {}), tới {}, Message-ID {}",
            tries(d.attempts),
            d.last_error
                .as_deref()
                .unwrap_or("không ghi lại lý do, xem nhật ký của tonghop daemon")
                .trim_end_matches('.'),
            d.recipients.join(", "),
            d.message_id
        ),
    }
}

/// A report or supplement mail as the clerk names it: "Thư báo cáo bổ sung lần 2".
pub fn mail_label(d: &DeliveryRow) -> String {
    mail_kind_label(d.kind, d.supplement_number)
}

/// [`mail_label`] from the kind and the supplement's number.
pub fn mail_kind_label(kind: DeliveryKind, number: Option<u32>) -> String {
    match (kind, number) {
        (DeliveryKind::Supplement, Some(n)) => format!("{} lần {n}", kind.label()),
        _ => kind.label().to_owned(),
    }
}

/// The recipients that got a sent mail: all but the refused ones.
pub(crate) fn delivered_to(d: &DeliveryRow) -> Vec<&str> {
    d.recipients
        .iter()
        .filter(|a| !d.refused.iter().any(|r| r.address == **a))
        .map(String::as_str)
        .collect()
}

/// "; BỊ TỪ CHỐI (không nhận được thư): x@y (550 ...)" for a mail some recipients did not get.
pub(crate) fn refused_text(d: &DeliveryRow) -> String {
    if d.refused.is_empty() {
        return String::new();
    }
    let list: Vec<String> = d
        .refused
        .iter()
        .map(|r| format!("{} (máy chủ trả lời {})", r.address, r.reply))
        .collect();
    format!("; BỊ TỪ CHỐI, không nhận được thư: {}", list.join(", "))
}
