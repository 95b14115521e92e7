//! Basic values in the clerk's words: what an operating-system error means, in Vietnamese.

use std::io::ErrorKind;

/// What an operating-system error means, in Vietnamese ("không tìm thấy tệp hoặc thư mục").
/// A kind without a translation keeps the system's own words after a Vietnamese lead.
pub fn os(e: &std::io::Error) -> String {
    let text = match e.kind() {
        ErrorKind::NotFound => "không tìm thấy tệp hoặc thư mục",
        ErrorKind::PermissionDenied => "không có quyền truy cập",
        ErrorKind::AlreadyExists => "đã có tệp hoặc thư mục trùng tên",
        ErrorKind::IsADirectory => "đây là một thư mục, không phải tệp",
        ErrorKind::NotADirectory => "không phải là thư mục",
        ErrorKind::DirectoryNotEmpty => "thư mục không trống",
        ErrorKind::StorageFull => "ổ đĩa đã đầy",
        ErrorKind::QuotaExceeded => "đã vượt hạn mức dung lượng được cấp",
        ErrorKind::ReadOnlyFilesystem => "ổ đĩa chỉ cho phép đọc, không ghi được",
        ErrorKind::FileTooLarge => "tệp quá lớn",
        ErrorKind::ResourceBusy | ErrorKind::WouldBlock => "đang bị một chương trình khác dùng",
        ErrorKind::TimedOut => "quá thời gian chờ",
        ErrorKind::ConnectionRefused => "máy bên kia từ chối kết nối",
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => "kết nối bị ngắt",
        ErrorKind::NotConnected | ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            "không kết nối được qua mạng"
        }
        ErrorKind::NetworkDown => "mạng không hoạt động",
        ErrorKind::StaleNetworkFileHandle => {
            "tệp trên ổ mạng không còn truy cập được (ổ mạng bị ngắt?)"
        }
        ErrorKind::InvalidFilename => "tên tệp không hợp lệ",
        ErrorKind::CrossesDevices => "không thể chuyển tệp sang ổ đĩa khác",
        ErrorKind::TooManyLinks => "đường dẫn qua quá nhiều liên kết",
        ErrorKind::UnexpectedEof => "tệp bị cắt cụt (kết thúc sớm hơn dự kiến)",
        ErrorKind::OutOfMemory => "không đủ bộ nhớ",
        ErrorKind::InvalidData => "dữ liệu không hợp lệ",
        ErrorKind::Interrupted => "bị ngắt giữa chừng",
        _ => return format!("lỗi hệ thống ({e})"),
    };
    text.to_owned()
}
