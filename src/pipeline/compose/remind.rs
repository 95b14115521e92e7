//! Remind: before the deadline, a short mail to each unit that has no accepted report for the
//! period yet, saying what is missing, by when, how to send it, and (for a rejected file) what to
//! fix. Pure: no IO; when to remind and how often is the daemon's business.

use chrono::{DateTime, FixedOffset};
use lettre::message::Mailbox;

use crate::config::{Form, MailSettings, Roster, Unit};
use crate::pipeline::compose::{Block, DeliveryError, Draft, MailBody, Outgoing, datetime_vn};
use crate::pipeline::consolidate::{Consolidation, FileOutcome, UnitRow, UnitStatus};

/// The subject: {short}, {period}, {deadline} ("17:00 ngày 03/11/2026").
const SUBJECT: &str = "Nhắc nộp báo cáo {short} - {period} (hạn {deadline})";

/// One reminder, for one unit.
#[derive(Debug, Clone)]
pub struct Reminder {
    /// The unit's id.
    pub unit: String,
    pub outgoing: Outgoing,
}

/// Which units get a reminder: units with an email and without an accepted report for the period
/// (status Missing or Rejected in the consolidation made at reminder time), in roster order.
///
/// `now` dates the mails and their Message-IDs, which are the same for the same unit, period and
/// second (so a reminder composed twice is recognisably the same mail). A unit's address that
/// does not parse is an error naming the unit: the operator fixes the roster.
pub fn reminders(
    c: &Consolidation,
    roster: &Roster,
    form: &Form,
    mail: &MailSettings,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Reminder>, DeliveryError> {
    let from = super::parse_mailbox("from", &mail.from)?;
    let mut out = Vec::new();
    for unit in &roster.units {
        let Some(address) = unit
            .email
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        else {
            continue;
        };
        let row = c.units.iter().find(|u| u.id == unit.id);
        if row.is_some_and(|r| r.status == UnitStatus::Accepted) {
            continue;
        }
        let to = unit_mailbox(unit, address)?;
        let subject = crate::template::fill(
            SUBJECT,
            &[
                ("short", &form.short_title),
                ("period", &c.period.label()),
                ("deadline", &datetime_vn(&c.deadline)),
            ],
        );
        let message_id = super::message_id(
            &[&form.id, &c.period.key(), "remind", &unit.id],
            now,
            None,
            from.email.domain(),
        );
        let body = body(c, form, unit, row, &from, now);
        let outgoing = super::assemble(Draft {
            from: from.clone(),
            to: vec![to],
            cc: Vec::new(),
            subject,
            body,
            attachment: None,
            message_id,
            date: now,
            period: c.period,
            in_reply_to: None,
        })?;
        out.push(Reminder {
            unit: unit.id.clone(),
            outgoing,
        });
    }
    Ok(out)
}

/// The unit's address; the display name is the unit's name unless the roster gives one.
fn unit_mailbox(unit: &Unit, address: &str) -> Result<Mailbox, DeliveryError> {
    let mut m: Mailbox = address
        .parse()
        .map_err(|e: lettre::address::AddressError| {
            DeliveryError::Build(format!(
                "roster unit {:?}: email {address:?} is not a valid mailbox ({e})",
                unit.id
            ))
        })?;
    if m.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        m.name = Some(unit.name.clone());
    }
    Ok(m)
}

fn body(
    c: &Consolidation,
    form: &Form,
    unit: &Unit,
    row: Option<&UnitRow>,
    from: &Mailbox,
    now: DateTime<FixedOffset>,
) -> MailBody {
    let mut b = vec![Block::Para(format!("Kính gửi: {}", unit.name))];
    // The form's title is on its own line below ("Báo cáo: ..."); the lead names the period.
    let report = format!("kỳ {}", c.period.label());
    let rejected = row
        .filter(|r| r.status == UnitStatus::Rejected)
        .and_then(|r| r.file.as_ref());
    b.push(Block::Para(match (rejected, &from.name) {
        (Some(_), _) => format!(
            "Đến {}, báo cáo {report} của đơn vị chưa được tổng hợp vì tệp gửi gần nhất có lỗi.",
            datetime_vn(&now)
        ),
        (None, Some(sender)) => format!(
            "Đến {}, {sender} chưa nhận được báo cáo {report} của đơn vị.",
            datetime_vn(&now)
        ),
        (None, None) => format!(
            "Đến {}, chưa nhận được báo cáo {report} của đơn vị.",
            datetime_vn(&now)
        ),
    }));
    b.push(Block::Facts(vec![
        ("Báo cáo".into(), form.title.clone()),
        ("Kỳ báo cáo".into(), c.period.label()),
        ("Hạn nộp".into(), datetime_vn(&c.deadline)),
    ]));
    b.push(Block::Para(if now < c.deadline {
        format!(
            "Đề nghị đơn vị gửi báo cáo trước {}.",
            datetime_vn(&c.deadline)
        )
    } else {
        "Đã quá hạn nộp. Đề nghị đơn vị gửi báo cáo ngay; báo cáo nộp muộn vẫn được tổng hợp và \
         được ghi là nộp muộn."
            .to_owned()
    }));

    if let Some(file) = rejected {
        let errors: Vec<String> = c
            .files
            .iter()
            .filter(|f| f.path == file.path)
            .flat_map(|f| &f.findings)
            .filter(|f| f.is_error())
            .map(|f| f.message.clone())
            .collect();
        b.push(Block::Heading("Tệp đã gửi bị từ chối".into()));
        b.push(Block::Facts(vec![
            ("Tệp".into(), format!("\"{}\"", file.path)),
            ("Nhận lúc".into(), datetime_vn(&file.received)),
            ("Số lỗi".into(), crate::numbers::vi(file.errors as u64)),
        ]));
        if !errors.is_empty() {
            b.push(Block::Heading(format!(
                "Các lỗi cần sửa ({})",
                errors.len()
            )));
            b.push(Block::List(errors));
        }
        b.push(Block::Para(
            "Đề nghị đơn vị sửa các lỗi trên rồi gửi lại tệp. Không cần xóa tệp cũ: bản hợp lệ \
             gửi sau cùng sẽ được dùng."
                .into(),
        ));
    }

    // A file that named another period is why many units believe they have reported.
    let other_period: Vec<String> = c
        .files
        .iter()
        .filter(|f| {
            f.unit.as_deref() == Some(unit.id.as_str()) && f.outcome == FileOutcome::OtherPeriod
        })
        .flat_map(|f| {
            f.findings
                .iter()
                .map(move |x| format!("\"{}\": {}", f.path, x.message))
        })
        .collect();
    if !other_period.is_empty() {
        b.push(Block::Heading(
            "Tệp đã nhận nhưng không thuộc kỳ này".into(),
        ));
        b.push(Block::List(other_period));
    }

    b.push(Block::Heading("Cách gửi báo cáo".into()));
    b.push(Block::List(vec![
        format!(
            "Điền đầy đủ biểu mẫu báo cáo {} - {} và lưu tệp vào thư mục dùng chung để nộp báo cáo.",
            form.short_title,
            c.period.label()
        ),
        "Có thể gửi lại nhiều lần: bản hợp lệ gửi sau cùng được dùng để tổng hợp.".into(),
    ]));
    b.push(Block::Para(format!(
        "Thư này được gửi tự động lúc {}. Nếu đơn vị đã gửi báo cáo hợp lệ sau thời điểm đó, xin bỏ \
         qua thư này.",
        datetime_vn(&now)
    )));
    b.push(Block::Para("Trân trọng cảm ơn.".into()));
    if let Some(name) = &from.name {
        b.push(Block::Para(name.clone()));
    }
    MailBody(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Transport;
    use crate::finding::{Finding, Severity};
    use crate::period::Period;
    use crate::pipeline::consolidate::{Content, Figures, Frame, Inspected, consolidate};

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn form() -> Form {
        Form::from_toml(include_str!("../../../config/form-kl14.toml")).unwrap()
    }

    fn unit(id: &str, name: &str, email: Option<&str>) -> Unit {
        Unit {
            id: id.into(),
            name: name.into(),
            group: "Huyện ủy, Thành ủy".into(),
            aliases: vec![],
            email: email.map(str::to_owned),
        }
    }

    /// Four units: Đà Lạt reported, Lạc Dương did not, Đức Trọng's file was rejected, Lâm Hà
    /// did not and has no address.
    fn roster() -> Roster {
        Roster {
            units: vec![
                unit("da-lat", "Thành ủy Đà Lạt", Some("vp@dalat.dcs.vn")),
                unit(
                    "lac-duong",
                    "Huyện ủy Lạc Dương",
                    Some("vp@lacduong.dcs.vn"),
                ),
                unit(
                    "duc-trong",
                    "Huyện ủy Đức Trọng",
                    Some("Văn phòng Huyện ủy <vp@ductrong.dcs.vn>"),
                ),
                unit("lam-ha", "Huyện ủy Lâm Hà", None),
            ],
        }
    }

    fn file(rel: &str, unit: &str, findings: Vec<Finding>) -> Inspected {
        let errors = findings.iter().any(Finding::is_error);
        Inspected {
            rel: rel.into(),
            size: 100,
            received: t("2026-11-01T10:00:00+07:00"),
            sha256: Some(format!("sha-{rel}")),
            unit: Some(unit.into()),
            period: Some(Period::month(2026, 10)),
            content: Some(Content {
                figures: (!errors).then(|| Figures::zero(9, 2)),
                activities: Default::default(),
                narrative: vec![String::new(); 3],
                header: vec![],
            }),
            findings,
        }
    }

    fn consolidation(files: Vec<Inspected>) -> Consolidation {
        let roster = roster();
        let form = form();
        let frame = Frame {
            roster: &roster,
            form: &form,
            period: Period::month(2026, 10),
            deadline: t("2026-11-03T17:00:00+07:00"),
            generated_at: t("2026-11-02T08:00:00+07:00"),
        };
        consolidate(&frame, files, vec![])
    }

    fn sample() -> Consolidation {
        consolidation(vec![
            file("dalat.xlsx", "da-lat", vec![]),
            file(
                "BC KL14 Đức Trọng.xlsx",
                "duc-trong",
                vec![
                    Finding::at_cell(
                        Severity::Error,
                        "bad_number",
                        "Chỉ tiêu",
                        11,
                        4,
                        "\"khoảng 20\" không phải là số",
                    ),
                    Finding::at_cell(
                        Severity::Warning,
                        "cumulative_below_period",
                        "Chỉ tiêu",
                        12,
                        5,
                        "lũy kế nhỏ hơn kỳ này",
                    ),
                    Finding::at_cell(
                        Severity::Error,
                        "activity_bad_date",
                        "Hoạt động",
                        7,
                        1,
                        "\"32/10/2026\" không phải là ngày",
                    ),
                ],
            ),
        ])
    }

    fn mail() -> MailSettings {
        MailSettings {
            from: "Ban Tuyên giáo Tỉnh ủy Lâm Đồng <bantuyengiao@lamdong.dcs.vn>".into(),
            to: vec!["Thường trực Tỉnh ủy <thuongtruc@lamdong.dcs.vn>".into()],
            cc: vec![],
            subject: "Báo cáo tổng hợp {short} - {period} ({reported}/{total} đơn vị)".into(),
            attachment: "Tổng hợp {short} {period_key}.xlsx".into(),
            transport: Transport::File { dir: "x".into() },
        }
    }

    fn remind(c: &Consolidation) -> Vec<Reminder> {
        reminders(
            c,
            &roster(),
            &form(),
            &mail(),
            t("2026-11-02T08:00:00+07:00"),
        )
        .unwrap()
    }

    fn for_unit<'a>(rs: &'a [Reminder], id: &str) -> &'a Reminder {
        rs.iter().find(|r| r.unit == id).unwrap()
    }

    #[test]
    fn missing_and_rejected_units_with_an_address_are_reminded_in_roster_order() {
        let rs = remind(&sample());
        let units: Vec<&str> = rs.iter().map(|r| r.unit.as_str()).collect();
        // Not da-lat (accepted), not lam-ha (no address).
        assert_eq!(units, ["lac-duong", "duc-trong"]);
    }

    #[test]
    fn a_missing_unit_gets_one_short_reminder() {
        let rs = remind(&sample());
        let r = for_unit(&rs, "lac-duong");
        let out = &r.outgoing;
        assert_eq!(
            out.subject,
            "Nhắc nộp báo cáo KL14 - Tháng 10/2026 (hạn 17:00 ngày 03/11/2026)"
        );
        assert_eq!(out.recipients, ["vp@lacduong.dcs.vn"]);
        assert_eq!(out.from, "bantuyengiao@lamdong.dcs.vn");
        assert_eq!(out.attachment_name, "");
        assert_eq!(
            out.message_id,
            "<tonghop.kl14.2026-10.remind.lac-duong.20261102T080000@lamdong.dcs.vn>"
        );
        let text = &out.text;
        for line in [
            "Kính gửi: Huyện ủy Lạc Dương\n",
            "Đến 08:00 ngày 02/11/2026, Ban Tuyên giáo Tỉnh ủy Lâm Đồng chưa nhận được báo cáo kỳ \
             Tháng 10/2026 của đơn vị.\n",
            "Báo cáo: Báo cáo kết quả tuyên truyền, quán triệt Kết luận 14-KL/TW\n",
            "Kỳ báo cáo: Tháng 10/2026\n",
            "Hạn nộp: 17:00 ngày 03/11/2026\n",
            "Đề nghị đơn vị gửi báo cáo trước 17:00 ngày 03/11/2026.",
            "CÁCH GỬI BÁO CÁO\n- Điền đầy đủ biểu mẫu báo cáo KL14 - Tháng 10/2026 và lưu tệp vào \
             thư mục dùng chung để nộp báo cáo.\n- Có thể gửi lại nhiều lần: bản hợp lệ gửi sau \
             cùng được dùng để tổng hợp.\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains("TỆP ĐÃ GỬI BỊ TỪ CHỐI"), "{text}");
        assert!(
            text.ends_with("Trân trọng cảm ơn.\n\nBan Tuyên giáo Tỉnh ủy Lâm Đồng\n"),
            "{text}"
        );

        let raw = String::from_utf8(out.message.formatted()).unwrap();
        let headers = &raw[..raw.find("\r\n\r\n").unwrap()];
        assert!(headers.is_ascii(), "{headers}");
        // The unit's name is the display name; no attachment part, no multipart/mixed.
        assert!(
            headers.contains("To: =?utf-8?b?") && headers.contains("<vp@lacduong.dcs.vn>"),
            "{headers}"
        );
        assert!(headers.contains("Content-Type: multipart/alternative"));
        assert!(!raw.contains("multipart/mixed") && !raw.contains("Content-Disposition"));
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let to = parsed.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some("Huyện ủy Lạc Dương"));
        assert_eq!(to.address(), Some("vp@lacduong.dcs.vn"));
    }

    #[test]
    fn a_rejected_units_reminder_lists_its_errors_with_their_cells() {
        let rs = remind(&sample());
        let out = &for_unit(&rs, "duc-trong").outgoing;
        let text = &out.text;
        for line in [
            // The roster's own display name is kept; the greeting uses the unit's name.
            "Kính gửi: Huyện ủy Đức Trọng\n",
            "Đến 08:00 ngày 02/11/2026, báo cáo kỳ Tháng 10/2026 của đơn vị chưa được tổng hợp vì \
             tệp gửi gần nhất có lỗi.\n",
            "TỆP ĐÃ GỬI BỊ TỪ CHỐI\nTệp: \"BC KL14 Đức Trọng.xlsx\"\nNhận lúc: 10:00 ngày \
             01/11/2026\nSố lỗi: 2\n",
            "CÁC LỖI CẦN SỬA (2)\n- Chỉ tiêu!E12: \"khoảng 20\" không phải là số\n- Hoạt \
             động!B8: \"32/10/2026\" không phải là ngày\n",
            "sửa các lỗi trên rồi gửi lại tệp",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        // Warnings do not block the file: they are not listed as things to fix.
        assert!(!text.contains("lũy kế nhỏ hơn kỳ này"), "{text}");
        assert_eq!(out.recipients, ["vp@ductrong.dcs.vn"]);
        let raw = String::from_utf8(out.message.formatted()).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(
            parsed.to().unwrap().first().unwrap().name(),
            Some("Văn phòng Huyện ủy")
        );
        assert_eq!(
            out.message_id,
            "<tonghop.kl14.2026-10.remind.duc-trong.20261102T080000@lamdong.dcs.vn>"
        );
    }

    #[test]
    fn html_is_escaped_and_carries_the_errors() {
        let rs = remind(&sample());
        let html = &for_unit(&rs, "duc-trong").outgoing.html;
        assert!(
            html.contains("<li>Chỉ tiêu!E12: &quot;khoảng 20&quot; không phải là số</li>"),
            "{html}"
        );
        assert!(html.contains(
            "<title>Nhắc nộp báo cáo KL14 - Tháng 10/2026 (hạn 17:00 ngày 03/11/2026)</title>"
        ));
        assert!(!html.contains("\"khoảng 20\""));
    }

    #[test]
    fn nobody_is_reminded_when_every_unit_with_an_address_reported() {
        let c = consolidation(vec![
            file("a.xlsx", "da-lat", vec![]),
            file("b.xlsx", "lac-duong", vec![]),
            file("c.xlsx", "duc-trong", vec![]),
        ]);
        assert!(remind(&c).is_empty());
    }

    #[test]
    fn a_file_for_another_period_is_pointed_out() {
        let mut sept = file("LacDuong T9.xlsx", "lac-duong", vec![]);
        sept.period = Some(Period::month(2026, 9));
        let rs = remind(&consolidation(vec![sept]));
        let text = &for_unit(&rs, "lac-duong").outgoing.text;
        assert!(
            text.contains(
                "TỆP ĐÃ NHẬN NHƯNG KHÔNG THUỘC KỲ NÀY\n- \"LacDuong T9.xlsx\": Tệp là báo cáo \
                 Tháng 9/2026, không thuộc kỳ Tháng 10/2026"
            ),
            "{text}"
        );
    }

    #[test]
    fn after_the_deadline_the_reminder_asks_to_send_now() {
        let c = sample();
        let rs = reminders(
            &c,
            &roster(),
            &form(),
            &mail(),
            t("2026-11-03T18:30:00+07:00"),
        )
        .unwrap();
        let text = &for_unit(&rs, "lac-duong").outgoing.text;
        assert!(text.contains("Đã quá hạn nộp."), "{text}");
        assert!(!text.contains("trước 17:00"), "{text}");
    }

    #[test]
    fn a_bad_unit_address_names_the_unit() {
        let mut r = roster();
        r.units[1].email = Some("vp-at-lacduong".into());
        let err = reminders(
            &sample(),
            &r,
            &form(),
            &mail(),
            t("2026-11-02T08:00:00+07:00"),
        )
        .unwrap_err();
        assert!(!err.is_transient());
        let msg = err.to_string();
        assert!(
            msg.contains("roster unit \"lac-duong\": email \"vp-at-lacduong\""),
            "{msg}"
        );
    }
}
