//! Mail through a real SMTP server on 127.0.0.1 (tests/support/smtp_server.py, aiosmtpd).

use std::time::{Duration, Instant};

use chrono::DateTime;
use mail_parser::{MessageParser, MimeHeaders};
use tonghop::config::{Security, Settings, SmtpSettings, Transport};
use tonghop::period::Period;
use tonghop::pipeline::compose::{self, DeliveryError, Outgoing};
use tonghop::pipeline::consolidate::{Consolidation, Figures, FileRef, UnitRow, UnitStatus};

use crate::support::smtp::{SmtpOptions, SmtpServer};

/// Bytes that stand in for the workbook: every byte value, so a transfer encoding that mangles
/// anything (CR, LF, NUL, 8-bit, a leading dot) shows.
fn workbook() -> Vec<u8> {
    let mut b = b"PK\x03\x04".to_vec();
    for _ in 0..40 {
        b.extend(0u8..=255);
        b.extend(b"\r\n.\r\n\n.");
    }
    b
}

/// The shipped configuration's roster and form: 18 units, of which Lạc Dương and Báo Lâm Đồng
/// are missing, Đức Trọng is late, Khối Doanh nghiệp rejected.
fn consolidation(settings: &Settings) -> Consolidation {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    let indicators = settings.form.indicators.items.len();
    let values = settings.form.indicators.values.len();
    let units: Vec<UnitRow> = settings
        .roster
        .units
        .iter()
        .map(|u| {
            let (status, late) = match u.id.as_str() {
                "lac-duong" | "bao-lam-dong" => (UnitStatus::Missing, false),
                "duc-trong" => (UnitStatus::Accepted, true),
                "khoi-dn" => (UnitStatus::Rejected, false),
                _ => (UnitStatus::Accepted, false),
            };
            UnitRow {
                id: u.id.clone(),
                name: u.name.clone(),
                group: u.group.clone(),
                status,
                late,
                file: (status != UnitStatus::Missing).then(|| FileRef {
                    path: format!("{}.xlsx", u.id),
                    received: t("2026-11-02T10:00:00+07:00"),
                    sha256: "ab".repeat(32),
                    errors: if status == UnitStatus::Rejected { 2 } else { 0 },
                    warnings: 0,
                }),
                header: vec![],
                figures: (status == UnitStatus::Accepted).then(|| {
                    let mut f = Figures::zero(indicators, values);
                    f.values[0][0] = 1;
                    f.values[0][1] = 100;
                    f
                }),
                activities: Default::default(),
                narrative: vec![],
            }
        })
        .collect();
    let mut totals = Figures::zero(indicators, values);
    for f in units.iter().filter_map(|u| u.figures.as_ref()) {
        totals.add(f);
    }
    Consolidation {
        period: Period::month(2026, 10),
        generated_at: t("2026-11-04T08:00:00+07:00"),
        deadline: t("2026-11-03T17:00:00+07:00"),
        units,
        groups: vec![],
        totals,
        files: vec![],
        messages: vec![],
    }
}

fn compose() -> Outgoing {
    let settings = Settings::embedded().unwrap();
    compose::compose(
        &consolidation(&settings),
        &settings.form,
        &settings.mail,
        workbook(),
        DateTime::parse_from_rfc3339("2026-11-04T08:00:05+07:00").unwrap(),
        compose::Nonce::random(),
    )
    .unwrap()
}

/// Send, then read the one stored message back and check what a reader's mail client shows.
async fn send_and_read_back(server: &SmtpServer, smtp: SmtpSettings) {
    let out = compose();
    let delivery = tonghop::mail::transport::send(&out, &Transport::Smtp(smtp))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.transcript()));
    assert_eq!(delivery.transport, "smtp");
    assert_eq!(delivery.message_id, out.message_id);
    let reply = delivery.server_reply.unwrap();
    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");

    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{}", server.transcript());
    let envelopes = server.envelopes();
    assert_eq!(envelopes[0].mail_from, "bantuyengiao@lamdong.dcs.vn");
    assert_eq!(
        envelopes[0].rcpt_tos,
        ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"]
    );
    assert!(reply.ends_with(&envelopes[0].file), "{reply}");

    let msg = MessageParser::default().parse(&messages[0]).unwrap();
    assert_eq!(
        msg.subject(),
        Some("Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)")
    );
    assert_eq!(
        Some(format!("<{}>", msg.message_id().unwrap())),
        Some(out.message_id.clone())
    );
    let to = msg.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Thường trực Tỉnh ủy"));
    assert_eq!(to.address(), Some("thuongtruc@lamdong.dcs.vn"));
    let cc = msg.cc().unwrap().first().unwrap();
    assert_eq!(cc.name(), Some("Văn phòng Tỉnh ủy"));
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Ban Tuyên giáo Tỉnh ủy Lâm Đồng"));

    // lettre sends CRLF line ends; mail-parser keeps them.
    let text = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("Số đơn vị có báo cáo: 15/18"), "{text}");
    assert!(
        text.contains("CHƯA NỘP (2)\n- Huyện ủy Lạc Dương\n- Báo Lâm Đồng\n"),
        "{text}"
    );
    assert!(text.contains("Lũy kế 1.500"), "{text}");
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("<li>Huyện ủy Lạc Dương</li>"), "{html}");

    let attachments: Vec<_> = msg.attachments().collect();
    assert_eq!(attachments.len(), 1);
    let att = attachments[0];
    // Both the RFC 2231 filename on Content-Disposition and the RFC 2047 name on Content-Type
    // decode to the Vietnamese name: old and new clients alike show it.
    assert_eq!(
        att.content_disposition().unwrap().attribute("filename"),
        Some("Tổng hợp KL14 2026-10.xlsx")
    );
    assert_eq!(
        att.content_type().unwrap().attribute("name"),
        Some("Tổng hợp KL14 2026-10.xlsx")
    );
    assert!(att.is_content_type(
        "application",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ));
    assert_eq!(att.contents(), workbook().as_slice());
}

#[tokio::test]
async fn starttls_with_login_delivers_the_mail_as_composed() {
    let server = SmtpServer::start(SmtpOptions::starttls().auth("bantuyengiao", "mật-khẩu 1"));
    send_and_read_back(&server, server.settings()).await;
    let transcript = server.transcript();
    assert!(
        transcript.contains("AUTH PLAIN bantuyengiao -> ok"),
        "{transcript}"
    );
}

#[tokio::test]
async fn implicit_tls_delivers_the_mail() {
    let server = SmtpServer::start(SmtpOptions::tls().auth("bantuyengiao", "pw"));
    // By IP address this time: the certificate carries 127.0.0.1 too.
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        ..server.settings()
    };
    send_and_read_back(&server, smtp).await;
}

#[tokio::test]
async fn plain_relay_without_login_delivers_the_mail() {
    let server = SmtpServer::start(SmtpOptions::plain());
    send_and_read_back(&server, server.settings()).await;
}

#[tokio::test]
async fn wrong_password_is_permanent_and_never_printed() {
    let server = SmtpServer::start(SmtpOptions::starttls().auth("bantuyengiao", "right-one"));
    let smtp = SmtpSettings {
        password: Some(tonghop::config::Secret::new("Wr0ng-Pa55word".into())),
        ..server.settings()
    };
    let err = tonghop::mail::transport::send(&compose(), &Transport::Smtp(smtp))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Auth { code: 535, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    let shown = format!("{err}\n{err:?}");
    assert!(!shown.contains("Wr0ng-Pa55word"), "{shown}");
    assert!(
        shown.contains(&format!("localhost:{} (starttls)", server.port)),
        "{shown}"
    );
    assert!(shown.contains("535"), "{shown}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn silent_server_times_out_within_the_configured_timeout() {
    // Accepts the connection and never says a word (not even the 220 greeting).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::Starttls,
        username: None,
        password: None,
        ca_file: None,
        timeout: Duration::from_secs(2),
    };
    let start = Instant::now();
    let err = tonghop::mail::transport::send(&compose(), &Transport::Smtp(smtp))
        .await
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(err, DeliveryError::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn untrusted_certificate_is_a_permanent_tls_error() {
    let server = SmtpServer::start(SmtpOptions::starttls());
    let smtp = SmtpSettings {
        ca_file: None,
        ..server.settings()
    };
    let err = tonghop::mail::transport::send(&compose(), &Transport::Smtp(smtp))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Tls { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP localhost:{} (starttls): TLS failed: invalid peer certificate: UnknownIssuer \
             (the server's certificate is not signed by a known authority: name its CA in \
             mail.smtp.ca_file)",
            server.port
        )
    );
}

#[tokio::test]
async fn scripted_replies_are_classified_transient_or_permanent() {
    // 451 to the first DATA, then 250: the same mail goes through on the second attempt.
    let server = SmtpServer::start(SmtpOptions::plain().reply_data(&[451, 250]));
    let out = compose();
    let transport = Transport::Smtp(server.settings());
    let err = tonghop::mail::transport::send(&out, &transport)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Reply { code: 451, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains("4.3.0"), "{err}");
    assert!(server.messages().is_empty());
    tonghop::mail::transport::send(&out, &transport)
        .await
        .unwrap();
    assert_eq!(server.messages().len(), 1);

    // A recipient refused for good.
    let server = SmtpServer::start(SmtpOptions::plain().reply_rcpt(&[550]));
    let err = tonghop::mail::transport::send(&compose(), &Transport::Smtp(server.settings()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Reply { code: 550, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_recipient_refused_for_good_does_not_stop_the_mail_for_the_others() {
    // The Cc (second RCPT TO) is refused with 550; the To is taken.
    let server = SmtpServer::start(SmtpOptions::plain().refuse_rcpt("vanphong@lamdong.dcs.vn"));
    let out = compose();
    assert_eq!(
        out.recipients,
        ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"]
    );
    let d = tonghop::mail::transport::send(&out, &Transport::Smtp(server.settings()))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.transcript()));
    assert_eq!(d.recipients, ["thuongtruc@lamdong.dcs.vn"], "who got it");
    assert_eq!(d.refused.len(), 1, "{d:?}");
    assert_eq!(d.refused[0].address, "vanphong@lamdong.dcs.vn");
    assert_eq!(
        d.refused[0].reply,
        "550 5.1.1 <vanphong@lamdong.dcs.vn>: Recipient address rejected: User unknown (scripted)"
    );
    assert!(
        d.server_reply
            .unwrap()
            .starts_with("250 2.0.0 Ok: queued as ")
    );
    let envelopes = server.envelopes();
    assert_eq!(envelopes.len(), 1, "{}", server.transcript());
    assert_eq!(envelopes[0].rcpt_tos, ["thuongtruc@lamdong.dcs.vn"]);
    // The message itself is unchanged: its Cc header still names the refused address.
    let raw = server.messages().remove(0);
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(format!("<{}>", msg.message_id().unwrap()), out.message_id);
    let cc = msg.cc().unwrap().first().unwrap().address().unwrap();
    assert_eq!(cc, "vanphong@lamdong.dcs.vn");
}

#[tokio::test]
async fn a_temporary_refusal_of_one_recipient_sends_to_nobody_and_the_retry_reaches_all() {
    // First transaction: To 250, Cc 451. Second: both 250.
    let server = SmtpServer::start(SmtpOptions::plain().reply_rcpt(&[250, 451, 250]));
    let out = compose();
    let transport = Transport::Smtp(server.settings());
    let err = tonghop::mail::transport::send(&out, &transport)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Reply { code: 451, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(
        err.to_string()
            .contains("[RCPT TO:<vanphong@lamdong.dcs.vn>]"),
        "names the address: {err}"
    );
    assert!(
        server.messages().is_empty(),
        "nobody got it: a retry must not reach the To twice"
    );
    let d = tonghop::mail::transport::send(&out, &transport)
        .await
        .unwrap();
    assert!(d.refused.is_empty());
    assert_eq!(server.envelopes().len(), 1);
    assert_eq!(
        server.envelopes()[0].rcpt_tos,
        ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"]
    );
}
