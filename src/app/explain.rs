//! Errors explained to the clerk at the terminal, in Vietnamese. The errors' own `Display`
//! stays English for the operator log (`tracing`); the commands print these texts instead.
//! Each function matches on the error's type and variant, never on its text.

use crate::app::error::RunError;
use crate::mail::outbox::OutboxError;
use crate::pipeline::compose::DeliveryError;
use crate::state::lock::LockError;
use crate::state::store::StoreError;

pub use crate::wording::os;

/// A failed run, for the clerk.
pub fn run_error(e: &RunError) -> String {
    match e {
        RunError::Intake(crate::pipeline::intake::IntakeError::Inbox { path, source }) => format!(
            "Không đọc được thư mục nhận báo cáo {}: {}.",
            path.display(),
            os(source)
        ),
        RunError::Output { path, source } => {
            format!("Không ghi được {}: {}.", path.display(), os(source))
        }
        RunError::Render(x) => format!("Không lập được bảng tổng hợp (lỗi chương trình: {x})."),
        RunError::Save(crate::state::atomic::SaveError::Io { path, source }) => format!(
            "Không ghi được bảng tổng hợp {}: {}.",
            path.display(),
            os(source)
        ),
        RunError::Save(crate::state::atomic::SaveError::Xlsx { path, source }) => format!(
            "Không ghi được bảng tổng hợp {}: {}.",
            path.display(),
            xlsx(source)
        ),
        RunError::Compose(d) => format!("Không soạn được thư: {}", delivery(d)),
        RunError::Lock(l) => lock(l),
        RunError::Store(s) => store(s),
        RunError::Outbox(o) => outbox(o),
        RunError::AlreadyMade {
            period,
            delivery,
            state,
        } => {
            let next = match delivery.status {
                crate::state::store::DeliveryStatus::Pending => format!(
                    "Không lập lại: thư đang chờ sẽ tự được gửi khi máy chủ thư hoạt động lại \
                     (tonghop daemon thử lại theo lịch). Xem: tonghop status --period {}; gửi \
                     ngay: {}.",
                    period.key(),
                    crate::mail::outbox::resend_command(delivery)
                ),
                _ => "Không gửi lại. Muốn gửi lại: thêm --resend; muốn gửi báo cáo bổ sung: \
                      --supplement."
                    .to_owned(),
            };
            format!(
                "Báo cáo {} đã được lập trước đó; thư báo cáo {state}. {next}",
                period.label()
            )
        }
        RunError::NotSentYet { period } => format!(
            "Báo cáo {} chưa được gửi nên chưa có gì để bổ sung: hãy chạy tonghop run trước.",
            period.label()
        ),
        RunError::ReadersFailing { files } => format!(
            "Không đọc được tệp nào trong {files} tệp: tiến trình đọc tệp (tonghop __read-worker) \
             không chạy được. Kiểm tra chương trình đã cài đầy đủ và giới hạn trong mục [read] của \
             cấu hình. Chưa lập báo cáo."
        ),
        RunError::NothingToSupplement { period, copying } => {
            let mut t = format!(
                "Không có gì thay đổi so với báo cáo {} đã gửi: không cần báo cáo bổ sung.",
                period.label()
            );
            if *copying > 0 {
                t = format!("{t} {}", still_copying(*copying));
            }
            t
        }
        RunError::MailQueued {
            period,
            kind,
            number,
            run_id,
            delivery,
            since,
            attempts,
            last_error,
        } => {
            let what = crate::app::mail_state::mail_kind_label(*kind, *number);
            let tried = match attempts {
                0 => "chưa thử gửi lần nào".to_owned(),
                n => format!(
                    "đã thử {n} lần, lỗi cuối: {}",
                    last_error
                        .as_deref()
                        .unwrap_or("không rõ")
                        .trim_end_matches('.')
                ),
            };
            let resend = match run_id {
                Some(r) => format!("tonghop resend {r}"),
                None => format!("tonghop resend --delivery {delivery}"),
            };
            format!(
                "{what} kỳ {} vẫn đang chờ gửi trong hàng đợi từ {since} ({tried}). Chưa lập báo \
                 cáo bổ sung mới: thư đang chờ sẽ tự được gửi khi máy chủ thư hoạt động lại, nếu \
                 lập thêm thì người nhận sẽ nhận cả hai cùng lúc. Xem: tonghop status --period {}; \
                 gửi ngay thư đang chờ: {resend}; rồi chạy lại lệnh này.",
                period.label(),
                period.key()
            )
        }
    }
}

/// Files skipped because they were modified a moment ago (`settle_seconds`), for the clerk.
pub fn still_copying(n: usize) -> String {
    format!("{n} tệp đang được chép, chưa đọc; chạy lại sau ít giây.")
}

/// The workbook writer's error: an IO error (also one inside its zip writer) is a disk problem.
fn xlsx(e: &rust_xlsxwriter::XlsxError) -> String {
    if let rust_xlsxwriter::XlsxError::IoError(io) = e {
        return os(io);
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return os(io);
        }
        cause = c.source();
    }
    format!("lỗi chương trình ({e})")
}

/// The run lock.
pub fn lock(e: &LockError) -> String {
    match e {
        LockError::Open { path, source } => {
            format!("Không mở được tệp khóa {}: {}.", path.display(), os(source))
        }
        LockError::Busy { path, waited } => format!(
            "Một lần chạy khác của tonghop (có thể của tonghop daemon) vẫn đang chạy (giữ {}); \
             đã chờ {} phút. Hãy thử lại sau.",
            path.display(),
            waited.as_secs().div_ceil(60)
        ),
    }
}

/// The state store.
pub fn store(e: &StoreError) -> String {
    match e {
        StoreError::Sqlite { path, source } => format!(
            "Không dùng được dữ liệu trạng thái {}: {}.",
            path.display(),
            sqlite(source)
        ),
        StoreError::TooNew { path, found, known } => format!(
            "Dữ liệu trạng thái {} do một phiên bản tonghop mới hơn ghi (lược đồ {found}, phiên bản \
             này chỉ biết đến {known}): hãy dùng phiên bản mới hơn.",
            path.display()
        ),
        StoreError::Spool(m) => format!("Không lưu được thư vào hàng đợi: {m}"),
        StoreError::Folder { path, source } => format!(
            "Không tạo được thư mục dữ liệu {}: {}.",
            path.display(),
            os(source)
        ),
    }
}

fn sqlite(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => {
            "đang bị một tiến trình khác khóa (đã chờ mà chưa được)".into()
        }
        Some(C::NotADatabase) => "tệp không phải là cơ sở dữ liệu SQLite (not a database)".into(),
        Some(C::DatabaseCorrupt) => "cơ sở dữ liệu bị hỏng".into(),
        Some(C::ReadOnly) => "chỉ cho phép đọc, không ghi được".into(),
        Some(C::CannotOpen) => "không mở được tệp (thư mục không có hoặc không có quyền)".into(),
        Some(C::PermissionDenied) => "không có quyền truy cập".into(),
        Some(C::DiskFull) => "ổ đĩa đã đầy".into(),
        Some(C::SystemIoFailure) => "lỗi đọc ghi đĩa".into(),
        _ => format!("lỗi SQLite ({e})"),
    }
}

pub fn outbox(e: &OutboxError) -> String {
    match e {
        OutboxError::Store(s) => store(s),
        OutboxError::Delivery(d) => delivery(d),
    }
}

pub fn delivery(e: &DeliveryError) -> String {
    e.in_vietnamese()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;
    use std::path::PathBuf;

    #[test]
    fn os_errors_are_said_in_vietnamese() {
        let e = std::fs::File::open("/nonexistent/tonghop/x.xlsx").unwrap_err();
        assert_eq!(os(&e), "không tìm thấy tệp hoặc thư mục");
        let e = std::io::Error::from(ErrorKind::PermissionDenied);
        assert_eq!(os(&e), "không có quyền truy cập");
        let e = std::io::Error::from_raw_os_error(28); // ENOSPC
        assert_eq!(os(&e), "ổ đĩa đã đầy");
        let e = std::io::Error::other("weird");
        assert_eq!(os(&e), "lỗi hệ thống (weird)");
    }

    #[test]
    fn an_already_made_report_says_what_is_true_of_its_mail() {
        let mut settings = crate::config::Settings::embedded().unwrap();
        settings.timezone = chrono_tz::Asia::Ho_Chi_Minh;
        let mut d = crate::state::store::DeliveryRow {
            id: 3,
            run_id: Some(2),
            kind: crate::state::store::DeliveryKind::Report,
            period: "2026-10".into(),
            unit: None,
            recipients: vec!["vp@x.vn".into()],
            subject: "s".into(),
            message_id: "<a@b>".into(),
            eml_path: "e".into(),
            status: crate::state::store::DeliveryStatus::Pending,
            attempts: 4,
            last_error: Some("máy chủ thư từ chối kết nối".into()),
            next_attempt_at: "2026-11-04T01:30:00Z".parse().unwrap(),
            created_at: "2026-11-04T01:00:00Z".parse().unwrap(),
            sent_at: None,
            server_reply: None,
            supplement_number: None,
            refused: vec![],
            attempt_started_at: None,
        };
        let made = |d: &crate::state::store::DeliveryRow| {
            run_error(&RunError::AlreadyMade {
                period: crate::period::Period::month(2026, 10),
                state: crate::app::mail_state::delivery_state(&settings, d),
                delivery: Box::new(d.clone()),
            })
        };
        let text = made(&d);
        assert!(
            !text.contains("đã được gửi") && !text.contains("đã gửi"),
            "{text}"
        );
        assert!(
            text.contains("CHƯA gửi được: đang chờ trong hàng đợi từ 08:00 04/11/2026 (đã thử 4 lần; lỗi cuối: máy chủ thư từ chối kết nối), sẽ thử lại lúc 08:30 04/11/2026"),
            "{text}"
        );
        assert!(text.contains("tonghop resend 2"), "{text}");
        d.status = crate::state::store::DeliveryStatus::Sent;
        d.sent_at = Some("2026-11-04T02:00:00Z".parse().unwrap());
        d.server_reply = Some("250 2.0.0 Ok: queued as X".into());
        let text = made(&d);
        assert!(
            text.starts_with("Báo cáo Tháng 10/2026 đã được lập trước đó; thư báo cáo đã gửi lúc 09:00 04/11/2026, tới vp@x.vn, Message-ID <a@b>, máy chủ thư trả lời: 250 2.0.0 Ok: queued as X."),
            "{text}"
        );
        assert!(text.contains("--resend"), "{text}");
    }

    #[test]
    fn a_refused_connection_to_the_mail_server_is_said_in_vietnamese() {
        let e = DeliveryError::Connect {
            server: "127.0.0.1:1 (plain)".into(),
            message: "Connection refused (os error 111)".into(),
            kind: ErrorKind::ConnectionRefused,
        };
        assert_eq!(
            delivery(&e),
            "không kết nối được tới máy chủ thư 127.0.0.1:1 (plain): máy bên kia từ chối kết nối."
        );
    }

    #[test]
    fn an_unwritable_output_names_the_path_and_the_cause() {
        let e = RunError::Output {
            path: PathBuf::from("/srv/out/2026-10"),
            source: std::io::Error::from(ErrorKind::ReadOnlyFilesystem),
        };
        assert_eq!(
            run_error(&e),
            "Không ghi được /srv/out/2026-10: ổ đĩa chỉ cho phép đọc, không ghi được."
        );
    }
}
