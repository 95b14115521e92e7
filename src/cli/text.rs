//! What `status`, `history` and `resend` print: the Vietnamese text of the answers `app` gives.

use chrono::{DateTime, FixedOffset, Utc};

use crate::app::mail_state::{delivered_to, delivery_state, mail_label, refused_text};
use crate::app::operator::*;
use crate::config::Settings;
use crate::finding::Severity;
use crate::period::Period;
use crate::pipeline::consolidate::UnitStatus;
use crate::state::store::{DeliveryRow, DeliveryStatus, RunStatus, Trigger};

/// "08:00 04/11/2026".
fn hm(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M %d/%m/%Y").to_string()
}

/// `tonghop status` as text.
pub fn status_text(settings: &Settings, s: &Status) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    // The inbox problem first: the operator needs to see it before anything else.
    if let Some(problem) = &s.inbox_problem {
        let _ = writeln!(
            o,
            "{problem} Chưa biết tình hình nộp của các đơn vị; dưới đây là những gì đã lưu \
             (thư đã gửi, thư đang chờ, lịch)."
        );
    }
    let _ = writeln!(
        o,
        "Kỳ báo cáo: {} ({}), hạn nộp {}; tình hình lúc {}",
        s.period_label,
        s.period.key(),
        hm(&s.deadline),
        hm(&s.now)
    );
    if s.inbox_problem.is_some() {
        let _ = writeln!(
            o,
            "Đơn vị có báo cáo: chưa biết (không đọc được thư mục nhận báo cáo)"
        );
    } else {
        let _ = writeln!(o, "Đơn vị có báo cáo: {}/{}", s.reported, s.units.len());
    }
    if !s.unchecked.is_empty() {
        let _ = writeln!(
            o,
            "Tệp chưa kiểm tra: {} (mới hoặc đã thay đổi từ lần kiểm tra trước; chưa tính ở trên)",
            s.unchecked.len()
        );
    }
    let _ = writeln!(o);
    let width = s.units.len().to_string().len();
    for (i, u) in s.units.iter().enumerate() {
        let mut line = format!("{:>width$}. {}: {}", i + 1, u.name, u.label);
        if let (Some(f), Some(r)) = (&u.file, &u.received) {
            let _ = write!(line, " ({f}, nhận lúc {})", hm(r));
        }
        let warnings = u
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        if u.status == UnitStatus::Accepted && warnings > 0 {
            let _ = write!(line, ", {warnings} cảnh báo");
        }
        let _ = writeln!(o, "{line}");
        for f in &u.unchecked {
            let _ = writeln!(
                o,
                "{:width$}    - Chưa kiểm tra: {} (nhận lúc {})",
                "",
                f.path,
                hm(&f.received)
            );
        }
        if u.status == UnitStatus::Rejected {
            for f in u.findings.iter().filter(|f| f.severity != Severity::Info) {
                let _ = writeln!(
                    o,
                    "{:width$}    - {}: {}",
                    "",
                    f.severity.label(),
                    f.message
                );
            }
        }
    }
    if !s.unidentified.is_empty() {
        let _ = writeln!(o, "\nTệp không xác định được đơn vị:");
        for f in &s.unidentified {
            let when = f.received.as_ref().map(hm).unwrap_or_default();
            let _ = writeln!(o, "  - {} (nhận lúc {when})", f.path);
            for m in f.findings.iter().filter(|m| m.severity != Severity::Info) {
                let _ = writeln!(o, "      {}: {}", m.severity.label(), m.message);
            }
        }
    }
    let nameless: Vec<&UncheckedFile> = s
        .unchecked
        .iter()
        .filter(|f| !s.units.iter().any(|u| Some(&u.id) == f.unit.as_ref()))
        .collect();
    if !nameless.is_empty() {
        let _ = writeln!(o, "\nTệp chưa kiểm tra, chưa rõ của đơn vị nào:");
        for f in nameless {
            let _ = writeln!(o, "  - {} (nhận lúc {})", f.path, hm(&f.received));
        }
    }
    if !s.unchecked.is_empty() {
        // status reads no file: say who will, and how to know now.
        let when = match s.next.iter().find(|j| j.job == "scan").and_then(|j| j.at) {
            Some(at) if s.daemon.running => format!(
                "ở lần quét thư mục tới của tonghop daemon (lúc {})",
                hm(&at)
            ),
            _ => "khi tonghop daemon chạy (ở mỗi lần quét thư mục; hiện daemon KHÔNG chạy) \
                  hoặc khi lập báo cáo (tonghop run)"
                .to_owned(),
        };
        let _ = writeln!(
            o,
            "\nCác tệp chưa kiểm tra không được đọc ở đây (tonghop status chỉ dùng kết quả kiểm tra \
             đã lưu); chúng sẽ được kiểm tra {when}. Kiểm tra ngay tất cả (không gửi gì): \
             tonghop status --check; một tệp: tonghop check \"<tệp>\"."
        );
    }

    let _ = writeln!(o, "\nBáo cáo tổng hợp {}:", s.period_label);
    if let StoreState::Missing { path } = &s.store {
        let _ = writeln!(
            o,
            "  Chưa gửi. (Chưa có dữ liệu trạng thái: {path} chưa có, chưa chạy lần nào với thư mục dữ liệu này.)"
        );
    } else if let StoreState::Error { error, .. } = &s.store {
        let _ = writeln!(o, "  {error}");
    } else {
        match &s.report.sent {
            Some(d) => {
                let _ = writeln!(
                    o,
                    "  Đã gửi{} lúc {}{}, tới {}{}, Message-ID {}, máy chủ thư trả lời: {}",
                    d.supplement_number
                        .map(|n| format!(" (bổ sung lần {n})"))
                        .unwrap_or_default(),
                    d.sent_at
                        .as_ref()
                        .map(|t| crate::clock::local_text(settings, t))
                        .unwrap_or_default(),
                    d.run_id
                        .map(|r| format!(" (lần chạy {r})"))
                        .unwrap_or_default(),
                    delivered_to(d).join(", "),
                    refused_text(d),
                    d.message_id,
                    d.server_reply.as_deref().unwrap_or("không ghi lại")
                );
            }
            None => {
                let _ = writeln!(o, "  Chưa gửi.");
            }
        }
        for d in s
            .report
            .deliveries
            .iter()
            .filter(|d| d.status != DeliveryStatus::Sent)
        {
            let _ = writeln!(
                o,
                "  {}{}: {}",
                mail_label(d),
                d.run_id
                    .map(|r| format!(" (lần chạy {r})"))
                    .unwrap_or_default(),
                delivery_state(settings, d)
            );
            if d.status == DeliveryStatus::Failed
                && let Some(r) = d.run_id
            {
                match s.report.sent.as_ref().filter(|l| older_than(d, Some(l))) {
                    // Sending it now would put older figures after newer ones.
                    Some(newer) => {
                        let _ = writeln!(
                            o,
                            "    Đã có thư mới hơn được gửi ({}): thư này mang số liệu cũ, không cần gửi lại.",
                            mail_label(newer).to_lowercase()
                        );
                    }
                    None => {
                        let _ = writeln!(o, "    Gửi lại sau khi khắc phục: tonghop resend {r}");
                    }
                }
            }
        }
    }
    if !s.late_after_send.is_empty() {
        let _ = writeln!(
            o,
            "\nBáo cáo đến sau khi đã gửi (chưa có trong báo cáo đã gửi, số liệu {}):",
            s.report
                .content_as_of
                .as_ref()
                .map(|t| format!("tính đến {}", crate::clock::local_text(settings, t)))
                .unwrap_or_default()
        );
        for l in &s.late_after_send {
            let _ = writeln!(
                o,
                "  - {}: {} (nhận lúc {})",
                l.unit_name,
                l.file,
                hm(&l.received)
            );
        }
        let _ = writeln!(
            o,
            "  Gửi báo cáo có các số liệu này: tonghop run --period {} --resend",
            s.period.key()
        );
    }
    let others: Vec<&DeliveryRow> = s
        .pending
        .iter()
        .filter(|p| !s.report.deliveries.iter().any(|d| d.id == p.id))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(o, "\nThư khác đang chờ gửi:");
        for d in others {
            let _ = writeln!(
                o,
                "  - {} kỳ {}: {}",
                d.kind.label(),
                d.period,
                delivery_state(settings, d)
            );
        }
    }
    let daemon = if s.daemon.running {
        format!(
            "tonghop daemon đang chạy{}",
            s.daemon
                .pid
                .map(|p| format!(", pid {p}"))
                .unwrap_or_default()
        )
    } else if s.daemon.port == 0 || settings.daemon.control_port == 0 {
        // `control_port = 0`: the port is chosen at start; none is known while it is stopped
        // (the one a stopped daemon last used means nothing).
        "tonghop daemon KHÔNG chạy: lịch chỉ được thực hiện khi daemon chạy".to_owned()
    } else {
        format!(
            "tonghop daemon KHÔNG chạy trên cổng {}: lịch chỉ được thực hiện khi daemon chạy",
            s.daemon.port
        )
    };
    let _ = writeln!(o, "\nLịch tiếp theo ({daemon}):");
    for j in &s.next {
        let _ = writeln!(
            o,
            "  {:<13} {}",
            format!("{}:", j.label),
            j.at.as_ref().map(hm).unwrap_or_else(|| "không có".into())
        );
    }
    o
}

fn trigger_label(t: Trigger) -> &'static str {
    match t {
        Trigger::Manual => "thủ công",
        Trigger::Schedule => "theo lịch",
        Trigger::CatchUp => "bù lịch bị lỡ",
        Trigger::Supplement => "báo cáo bổ sung",
    }
}

fn outcome_label(o: RunStatus) -> &'static str {
    match o {
        RunStatus::Running => "đang chạy",
        RunStatus::Ok => "xong",
        RunStatus::RejectedFiles => "xong, có tệp bị từ chối",
        RunStatus::Failed => "LỖI",
        RunStatus::Interrupted => "bị ngắt (chương trình dừng giữa chừng)",
        RunStatus::Skipped => "bỏ qua",
        RunStatus::NothingChanged => "không có gì thay đổi, không gửi",
    }
}

/// `tonghop history` as text.
pub fn history_text(settings: &Settings, h: &History) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    match &h.store {
        StoreState::Missing { path } => {
            let _ = writeln!(o, "Chưa có lần chạy nào ({path} chưa có).");
            return o;
        }
        StoreState::Error { error, .. } => {
            let _ = writeln!(o, "{error}");
            return o;
        }
        StoreState::Open { .. } => {}
    }
    if h.runs.is_empty() {
        let _ = writeln!(o, "Chưa có lần chạy nào.");
    }
    let t = |s: &DateTime<Utc>| crate::clock::local_text(settings, s);
    for r in &h.runs {
        let run = &r.run;
        let label = Period::parse_key(&run.period)
            .map(|p| p.label())
            .unwrap_or_else(|| run.period.clone());
        let _ = writeln!(
            o,
            "Lần chạy {}: {} ({}), {}",
            run.id,
            label,
            run.period,
            trigger_label(run.trigger)
        );
        match &run.noticed_at {
            // When it died is not known: say when that was noticed, and what happens next.
            Some(noticed) if run.outcome == RunStatus::Interrupted => {
                let next = if !r.deliveries.is_empty() {
                    "thư đã xếp hàng của lần chạy này vẫn được gửi (xem dưới)".to_owned()
                } else if matches!(run.trigger, Trigger::Schedule | Trigger::CatchUp) {
                    "chưa kịp xếp hàng thư nào; lịch gửi tự động sẽ làm lại".to_owned()
                } else {
                    format!(
                        "chưa kịp xếp hàng thư nào; chạy lại nếu cần: tonghop run --period {}",
                        run.period
                    )
                };
                let _ = writeln!(
                    o,
                    "  Bắt đầu {}: bị ngắt (chương trình dừng giữa chừng, phát hiện lúc {}); {next}.",
                    t(&run.started_at),
                    t(noticed)
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "  Bắt đầu {}, kết thúc {}: {}",
                    t(&run.started_at),
                    run.ended_at.as_ref().map(t).unwrap_or_else(|| "-".into()),
                    outcome_label(run.outcome)
                );
            }
        }
        if let Some(e) = &run.error {
            let _ = writeln!(o, "  Lỗi: {e}");
        }
        for d in &r.deliveries {
            let _ = writeln!(o, "  {}: {}", mail_label(d), delivery_state(settings, d));
        }
    }
    if !h.other.is_empty() {
        let _ = writeln!(o, "Thư khác (không thuộc lần chạy nào):");
        for d in &h.other {
            let _ = writeln!(
                o,
                "  {} kỳ {}: {}",
                d.kind.label(),
                d.period,
                delivery_state(settings, d)
            );
        }
    }
    o
}

/// `tonghop resend` as text.
pub fn resend_text(settings: &Settings, r: &ResendOutcome) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let d = &r.delivery;
    match &r.action {
        ResendAction::Copied { original } => {
            let _ = writeln!(
                o,
                "Gửi lại {} (bản đã gửi {original}) với Message-ID mới {}.",
                mail_label(d).to_lowercase(),
                d.message_id
            );
        }
        ResendAction::ToRefused { original } => {
            let _ = writeln!(
                o,
                "Gửi lại {} (bản đã gửi {original}) cho các địa chỉ đã bị từ chối ({}), với Message-ID mới {}.",
                d.kind.label().to_lowercase(),
                d.recipients.join(", "),
                d.message_id
            );
        }
        ResendAction::Requeued => {
            let _ = writeln!(
                o,
                "Gửi lại {} chưa đến tay người nhận ({}).",
                mail_label(d).to_lowercase(),
                d.message_id
            );
        }
    }
    let _ = writeln!(o, "Kết quả: {}", delivery_state(settings, d));
    if d.status == DeliveryStatus::Pending {
        let _ = writeln!(
            o,
            "Thư sẽ được gửi lại tự động khi tonghop daemon chạy, hoặc chạy lại: tonghop resend --delivery {}",
            d.id
        );
    }
    if !r.others.is_empty() {
        let _ = writeln!(
            o,
            "Đồng thời đã thử gửi {} thư khác đang chờ.",
            r.others.len()
        );
    }
    o
}
