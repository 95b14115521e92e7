//! `tonghop run` on the shipped samples: every figure, outcome and message checked against
//! samples/expected.json, which the generator computed from what it wrote (not by reading back).

use calamine::{Data, Reader, Xlsx, open_workbook};
use mail_parser::MimeHeaders;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::env::TestEnv;
use crate::support::repo;
use crate::support::summary_file as file;

const CODES: [&str; 9] = ["HN", "NG", "TB", "TTDT", "MXH", "SH", "PB", "MH", "KT"];

fn expected() -> Value {
    serde_json::from_str(&fs::read_to_string(repo().join("samples/expected.json")).unwrap())
        .unwrap()
}

fn unit<'a>(summary: &'a Value, id: &str) -> &'a Value {
    summary["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()
}

fn messages_of(summary: &Value, path: &str) -> Vec<String> {
    file(summary, path)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["severity"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// The cached value of every cell of a sheet, as text, by (row, col).
fn grid(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let (r0, c0) = range.start().unwrap();
    let (h, w) = range.get_size();
    let mut out = vec![vec![String::new(); w + c0 as usize]; h + r0 as usize];
    for (r, c, v) in range.used_cells() {
        out[r + r0 as usize][c + c0 as usize] = match v {
            Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
            Data::Int(i) => i.to_string(),
            other => other.to_string(),
        };
    }
    out
}

/// In the Tổng hợp sheet: the column of each code's first value column, and the totals row.
fn totals_from_workbook(path: &Path) -> Vec<(String, u64, u64)> {
    let g = grid(path, "Tổng hợp");
    let total_row = g
        .iter()
        .position(|row| {
            row.iter()
                .any(|c| c.trim() == "Tổng cộng" || c.trim().eq_ignore_ascii_case("TỔNG CỘNG"))
        })
        .expect("a Tổng cộng row");
    CODES
        .iter()
        .map(|code| {
            let col = g
                .iter()
                .find_map(|row| {
                    row.iter()
                        .position(|c| c.starts_with(&format!("{code} ")) || c == code)
                })
                .unwrap_or_else(|| panic!("no header for {code}"));
            let v = |c: usize| {
                g[total_row][c]
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{code}: {:?}", g[total_row][c]))
            };
            (code.to_string(), v(col), v(col + 1))
        })
        .collect()
}

#[test]
fn samples_dry_run_gives_every_unit_the_expected_outcome_and_figures() {
    let env = TestEnv::samples();
    let out = env
        .cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    assert!(
        out.stdout.contains("Đơn vị có báo cáo: 13/18"),
        "{}",
        out.stdout
    );
    let exp = expected();
    let s = env.summary("2026-10");
    assert_eq!(s["period"], "2026-10");
    assert_eq!(s["reported"], 13);

    for (id, e) in exp["units"].as_object().unwrap() {
        let u = unit(&s, id);
        assert_eq!(u["status"], e["status"], "{id} status");
        assert_eq!(u["late"], e["late"], "{id} late");
        assert_eq!(u["file"], e["file"], "{id} file");
        assert_eq!(u["activity_rows"], e["activity_rows"], "{id} activity rows");
        assert_eq!(u["indicators"], e["indicators"], "{id} indicators");
        if e["status"] == "accepted" {
            let warned = u["warnings"].as_u64().unwrap() > 0;
            assert_eq!(
                warned,
                e["has_warnings"].as_bool().unwrap(),
                "{id} warnings"
            );
            assert_eq!(u["sha256"].as_str().unwrap().len(), 64);
        }
    }
    for (path, e) in exp["files"].as_object().unwrap() {
        let f = file(&s, path);
        assert_eq!(
            f["outcome"],
            e["outcome"],
            "{path} outcome: {:?}",
            messages_of(&s, path)
        );
        if e["outcome"] != "ignored" {
            assert_eq!(f["unit"], e["unit"], "{path} unit");
        }
    }
    assert_eq!(
        s["files"].as_array().unwrap().len(),
        exp["files"].as_object().unwrap().len()
    );
    assert_eq!(s["totals"], exp["totals"]);
    for g in s["groups"].as_array().unwrap() {
        let name = g["name"].as_str().unwrap();
        assert_eq!(g["indicators"], exp["groups"][name], "group {name}");
    }

    // The workbook's totals row carries the computed values (phones do not recalculate).
    let workbook = Path::new(s["workbook"].as_str().unwrap());
    let totals = totals_from_workbook(workbook);
    for (code, ky_nay, luy_ke) in totals {
        assert_eq!(
            ky_nay,
            exp["totals"][&code]["ky_nay"].as_u64().unwrap(),
            "{code} Kỳ này in workbook"
        );
        assert_eq!(
            luy_ke,
            exp["totals"][&code]["luy_ke"].as_u64().unwrap(),
            "{code} Lũy kế in workbook"
        );
    }

    // Every unit's row in the workbook: its figures, or blanks and its status when not accepted.
    let g = grid(workbook, "Tổng hợp");
    let col_of = |code: &str| {
        g.iter()
            .find_map(|row| row.iter().position(|c| c.starts_with(&format!("{code} "))))
            .unwrap()
    };
    for (id, e) in exp["units"].as_object().unwrap() {
        let name = unit(&s, id)["name"].as_str().unwrap().to_owned();
        let row = g
            .iter()
            .find(|r| r.get(1) == Some(&name))
            .unwrap_or_else(|| panic!("no row for {name}"));
        let status = match (e["status"].as_str().unwrap(), e["late"].as_bool().unwrap()) {
            ("accepted", false) => "Đúng hạn",
            ("accepted", true) => "Nộp muộn",
            ("rejected", _) => "Bị từ chối",
            _ => "Chưa nộp",
        };
        assert_eq!(row[2], status, "{name} status in the workbook");
        for code in CODES {
            let c = col_of(code);
            if e["status"] == "accepted" {
                let want = (
                    &e["indicators"][code]["ky_nay"],
                    &e["indicators"][code]["luy_ke"],
                );
                assert_eq!(row[c], want.0.to_string(), "{name} {code} Kỳ này");
                assert_eq!(row[c + 1], want.1.to_string(), "{name} {code} Lũy kế");
            } else {
                assert_eq!(
                    (row[c].as_str(), row[c + 1].as_str()),
                    ("", ""),
                    "{name} {code} is blank"
                );
            }
        }
    }

    // Dry run: the .eml sits beside the workbook, nothing in the outbox.
    let emls = TestEnv::emls(&env.period_dir("2026-10"));
    assert_eq!(emls.len(), 1);
    assert!(TestEnv::emls(&env.outbox).is_empty());
    assert_eq!(s["mail"]["sent"], false);
}

#[test]
fn samples_messages_name_the_file_sheet_and_cell_in_vietnamese() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let s = env.summary("2026-10");

    let di_linh = messages_of(&s, "HU Di Linh T10.xlsx").join("\n");
    assert!(
        di_linh.contains("\"khoảng 20\" không phải là số"),
        "{di_linh}"
    );
    assert!(di_linh.contains("số âm (-3)"), "{di_linh}");
    let f = file(&s, "HU Di Linh T10.xlsx");
    let cells: Vec<&str> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["cell"].as_str())
        .collect();
    assert_eq!(cells.len(), 2, "{di_linh}");
    assert!(
        di_linh.contains(&format!("Chỉ tiêu!{}", cells[0])),
        "{di_linh}"
    );

    let zero = messages_of(&s, "ĐUK CCQ - BC T10.xlsx").join("\n");
    assert!(zero.contains("Tệp rỗng (0 byte)"), "{zero}");
    let cut = messages_of(&s, "DU Khoi DN T10.xlsx").join("\n");
    assert!(cut.contains("bị hỏng hoặc không đầy đủ"), "{cut}");
    let xls = messages_of(&s, "DU Quan su T10.xlsx").join("\n");
    assert!(
        xls.contains("đuôi .xlsx nhưng nội dung là Excel 97-2003"),
        "{xls}"
    );
    let bao_lam = messages_of(&s, "BaoLam_T10.xlsx").join("\n");
    assert!(
        bao_lam.contains("\"1.250\"") && bao_lam.contains("đã hiểu là 1.250"),
        "{bao_lam}"
    );
    let cong_an = messages_of(&s, "DU Cong an tinh - BC KL14 T10.xlsx").join("\n");
    assert!(cong_an.contains("nhỏ hơn"), "{cong_an}");
    assert!(cong_an.contains("(NG) bằng 0"), "{cong_an}");
    // The unit's note on NG is not in the consolidation: said, not dropped in silence.
    let note = file(&s, "DU Cong an tinh - BC KL14 T10.xlsx")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "content_not_read")
        .unwrap_or_else(|| panic!("no content_not_read finding: {cong_an}"));
    assert_eq!(
        (
            note["severity"].as_str(),
            note["sheet"].as_str(),
            note["cell"].as_str()
        ),
        (Some("warning"), Some("Chỉ tiêu"), Some("G12")),
        "{note}"
    );
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("chỉ tiêu NG: ghi chú \"Chưa tổng hợp\" không được đưa vào bản tổng hợp"),
        "{note}"
    );
    assert!(
        cong_an.contains("28/09/2026 nằm ngoài kỳ báo cáo Tháng 10/2026"),
        "{cong_an}"
    );
    let book1 = messages_of(&s, "Book1.xlsx").join("\n");
    assert!(book1.contains("Không xác định được đơn vị"), "{book1}");
    let sept = messages_of(&s, "HU Cat Tien T9-2026.xlsx").join("\n");
    assert!(
        sept.contains("báo cáo Tháng 9/2026, không thuộc kỳ Tháng 10/2026"),
        "{sept}"
    );
    let old = messages_of(&s, "HU Đơn Dương - BC T10.xlsx").join("\n");
    assert!(old.contains("(sửa lần 2)"), "{old}");
}

#[test]
fn formula_looking_text_stays_text_in_the_activity_sheet() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(1);
    let s = env.summary("2026-10");
    let workbook = Path::new(s["workbook"].as_str().unwrap());
    let g = grid(workbook, "Hoạt động");
    let hits: Vec<&String> = g
        .iter()
        .flatten()
        .filter(|c| c.starts_with("=HYPERLINK("))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "the =HYPERLINK text is written once, as text"
    );
    let mut wb: Xlsx<_> = open_workbook(workbook).unwrap();
    let formulas = wb.worksheet_formula("Hoạt động").unwrap();
    assert_eq!(
        formulas.used_cells().count(),
        0,
        "no formula in the activity sheet"
    );
    // Every accepted activity row is there, plus the header and the count under the list.
    let rows = g.iter().filter(|r| r.iter().any(|c| !c.is_empty())).count();
    let expected_rows: u64 = expected()["units"]
        .as_object()
        .unwrap()
        .values()
        .map(|u| u["activity_rows"].as_u64().unwrap())
        .sum();
    assert_eq!(
        rows as u64,
        expected_rows + 2,
        "one row per accepted activity plus the header and the count"
    );
}

#[test]
fn file_transport_writes_one_eml_whose_attachment_is_the_workbook() {
    let env = TestEnv::samples();
    let out = env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let s = env.summary("2026-10");
    assert_eq!(s["mail"]["sent"], true, "{}", out.stdout);
    let emls = TestEnv::emls(&env.outbox);
    assert_eq!(emls.len(), 1);
    let raw = fs::read(&emls[0]).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("Báo cáo tổng hợp KL14 - Tháng 10/2026 (13/18 đơn vị)")
    );
    let to: Vec<String> = msg
        .to()
        .unwrap()
        .iter()
        .map(|a| a.address().unwrap().to_string())
        .collect();
    assert_eq!(to, ["thuongtruc@lamdong.dcs.vn"]);
    let att = msg.attachments().next().expect("an attachment");
    assert_eq!(att.attachment_name(), Some("Tổng hợp KL14 2026-10.xlsx"));
    let workbook = fs::read(s["workbook"].as_str().unwrap()).unwrap();
    assert_eq!(
        att.contents(),
        workbook.as_slice(),
        "the attachment is the workbook, byte for byte"
    );
    let body = msg.body_text(0).unwrap();
    assert!(
        body.contains("Huyện ủy Đam Rông"),
        "missing unit named in the body:\n{body}"
    );
    assert!(
        body.contains("Huyện ủy Di Linh"),
        "rejected unit named in the body:\n{body}"
    );
    assert!(
        body.contains("Huyện ủy Lâm Hà"),
        "late unit named in the body:\n{body}"
    );
    assert!(
        body.contains("2.901"),
        "NG total with a Vietnamese thousands separator:\n{body}"
    );
}

#[test]
fn check_accepts_a_good_file_and_names_the_cells_of_a_bad_one() {
    let env = TestEnv::samples();
    let good = env.inbox.join("BaoLam_T10.xlsx");
    let out = env
        .cmd(&["check", "--period", "2026-10", good.to_str().unwrap()])
        .expect_code(0);
    assert!(out.stdout.contains("Huyện ủy Bảo Lâm"), "{}", out.stdout);
    assert!(out.stdout.contains("HỢP LỆ"), "{}", out.stdout);
    let bad = env.inbox.join("HU Di Linh T10.xlsx");
    let out = env.cmd(&["check", bad.to_str().unwrap()]).expect_code(1);
    assert!(out.stdout.contains("BỊ TỪ CHỐI"), "{}", out.stdout);
    assert!(out.stdout.contains("Chỉ tiêu!E"), "{}", out.stdout);
    assert!(out.stdout.contains("khoảng 20"), "{}", out.stdout);
    // A file of another period is refused when a period is asked for.
    let sept = env.inbox.join("HU Cat Tien T9-2026.xlsx");
    let out = env
        .cmd(&["check", "--period", "2026-10", sept.to_str().unwrap()])
        .expect_code(1);
    assert!(out.stdout.contains("Tháng 9/2026"), "{}", out.stdout);
}

#[test]
fn a_config_error_names_the_key_and_exits_2() {
    let env = TestEnv::new();
    env.edit_config(|t| t.replace("settle_seconds", "settle_second"));
    let out = env
        .cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(2);
    assert!(out.stderr.contains("tonghop.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("settle_second"), "{}", out.stderr);
    let env = TestEnv::new();
    let out = env.cmd(&["run", "--period", "2026-13"]).expect_code(2);
    assert!(out.stderr.contains("--period"), "{}", out.stderr);
}

#[test]
fn an_empty_inbox_still_makes_a_report_with_every_unit_missing() {
    let env = TestEnv::new();
    env.cmd(&["run", "--period", "2026-10", "--dry-run"])
        .expect_code(0);
    let s = env.summary("2026-10");
    assert_eq!(s["reported"], 0);
    assert!(
        s["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "missing")
    );
    assert_eq!(s["totals"]["HN"]["ky_nay"], 0);
}

#[test]
fn run_sends_through_a_real_smtp_server_with_starttls_and_login() {
    use crate::support::smtp::{SmtpOptions, SmtpServer};
    let server = SmtpServer::start(SmtpOptions::starttls().auth("bantuyengiao", "mật-khẩu-thử"));
    let env = TestEnv::samples();
    let smtp = server.config_toml("TONGHOP_TEST_SMTP_PW");
    env.edit_config(|t| {
        let head = &t[..t.find("\n[mail.smtp]").unwrap() + 1];
        head.replace("transport = \"file\"", "transport = \"smtp\"") + &smtp
    });
    let out = env
        .cmd(&["run", "--period", "2026-10", "--log", "debug"])
        .env("TONGHOP_TEST_SMTP_PW", server.password().unwrap())
        .expect_code(1);
    assert!(
        !out.stderr.contains("mật-khẩu-thử"),
        "the password must never be logged"
    );
    assert!(!out.stdout.contains("mật-khẩu-thử"));

    let messages = server.messages();
    assert_eq!(messages.len(), 1, "exactly one mail reached the server");
    let msg = mail_parser::MessageParser::default()
        .parse(&messages[0])
        .unwrap();
    assert_eq!(
        msg.subject(),
        Some("Báo cáo tổng hợp KL14 - Tháng 10/2026 (13/18 đơn vị)")
    );
    let att = msg.attachments().next().expect("an attachment");
    assert_eq!(att.attachment_name(), Some("Tổng hợp KL14 2026-10.xlsx"));
    let opened = env.dir.path().join("received.xlsx");
    fs::write(&opened, att.contents()).unwrap();
    let exp = expected();
    for (code, ky_nay, luy_ke) in totals_from_workbook(&opened) {
        assert_eq!(
            ky_nay,
            exp["totals"][&code]["ky_nay"].as_u64().unwrap(),
            "{code}"
        );
        assert_eq!(
            luy_ke,
            exp["totals"][&code]["luy_ke"].as_u64().unwrap(),
            "{code}"
        );
    }
    let s = env.summary("2026-10");
    assert_eq!(s["mail"]["transport"], "smtp");
    assert_eq!(s["mail"]["sent"], true);
    let env_rcpt: Vec<String> = server.envelopes()[0].rcpt_tos.clone();
    assert!(
        env_rcpt.contains(&"thuongtruc@lamdong.dcs.vn".to_string()),
        "{env_rcpt:?}"
    );
    assert!(
        env_rcpt.contains(&"vanphong@lamdong.dcs.vn".to_string()),
        "Cc is delivered too: {env_rcpt:?}"
    );
}

/// A parsed .eml and the pieces a reader checks.
struct Mail {
    subject: String,
    message_id: String,
    in_reply_to: Option<String>,
    references: Option<String>,
    date_header: String,
    text: String,
    attachment_name: String,
    attachment: Vec<u8>,
}

fn read_mail(path: &Path) -> Mail {
    let raw = fs::read(path).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let header = |name: &str| {
        let raw = String::from_utf8_lossy(&raw);
        let head = &raw[..raw.find("\r\n\r\n").unwrap()];
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    };
    let att = m.attachments().next().expect("an attachment");
    Mail {
        subject: m.subject().unwrap().to_owned(),
        message_id: header("Message-ID").unwrap(),
        in_reply_to: header("In-Reply-To"),
        references: header("References"),
        date_header: header("Date").unwrap(),
        text: m.body_text(0).unwrap().replace("\r\n", "\n"),
        attachment_name: att.attachment_name().unwrap().to_owned(),
        attachment: att.contents().to_vec(),
    }
}

/// The cells of the attached workbook's summary sheet that hold `needle`.
fn summary_cells_with(env: &TestEnv, bytes: &[u8], needle: &str) -> Vec<String> {
    let path = env.dir.path().join("attached.xlsx");
    fs::write(&path, bytes).unwrap();
    grid(&path, "Tổng hợp")
        .into_iter()
        .flatten()
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn the_mail_says_first_who_is_missing_rejected_and_late_and_names_every_file_with_errors() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    let mail = read_mail(&TestEnv::emls(&env.outbox)[0]);
    let top: Vec<&str> = mail.text.lines().take(16).collect();
    assert_eq!(
        top,
        [
            "Kính gửi: Thường trực Tỉnh ủy",
            "",
            // 13 + 2 + 3 = 18, the roster.
            "Tháng 10/2026: 13/18 đơn vị có báo cáo được tổng hợp (trong đó 1 nộp muộn), \
             2 đơn vị chưa nộp, 3 đơn vị bị từ chối.",
            "",
            "CHƯA NỘP (2)",
            "- Huyện ủy Đam Rông",
            "- Huyện ủy Cát Tiên gửi báo cáo Tháng 9/2026, chưa gửi Tháng 10/2026 \
             (tệp \"HU Cat Tien T9-2026.xlsx\")",
            "",
            "BỊ TỪ CHỐI (3)",
            "- Huyện ủy Di Linh: 2 lỗi trong tệp \"HU Di Linh T10.xlsx\"",
            "- Đảng ủy Khối các cơ quan tỉnh: 1 lỗi trong tệp \"ĐUK CCQ - BC T10.xlsx\"",
            "- Đảng ủy Khối Doanh nghiệp tỉnh: 1 lỗi trong tệp \"DU Khoi DN T10.xlsx\"",
            "",
            "NỘP MUỘN (1)",
            "- Huyện ủy Lâm Hà (nhận lúc 20:30 ngày 03/11/2026)",
            "",
        ],
        "{}",
        mail.text
    );
    // 6 errors in the summary: 2 + 1 + 1 in the rejected units' files above, 2 in Book1.xlsx.
    let s = env.summary("2026-10");
    let errors: usize = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(errors, 6);
    for line in [
        "TỆP KHÁC KHÔNG ĐƯỢC TỔNG HỢP (1)\n- \"Book1.xlsx\": không xác định được đơn vị; 2 lỗi\n",
        "liệt kê 6 lỗi (4 trong tệp của các đơn vị bị từ chối, 2 trong các tệp khác không được \
         tổng hợp) và 6 cảnh báo",
    ] {
        assert!(
            mail.text.contains(line),
            "missing {line:?} in:\n{}",
            mail.text
        );
    }
    assert!(
        mail.text.find("NỘP MUỘN").unwrap() < mail.text.find("SỐ LIỆU TỔNG HỢP").unwrap(),
        "{}",
        mail.text
    );
    // The office's offset, from the configured zone (Asia/Ho_Chi_Minh).
    assert!(mail.date_header.ends_with(" +0700"), "{}", mail.date_header);
}

#[test]
fn a_second_run_refuses_and_a_late_report_goes_out_as_a_supplement() {
    let env = TestEnv::samples();
    env.cmd(&["run", "--period", "2026-10"]).expect_code(1);
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
    let original = read_mail(&TestEnv::emls(&env.outbox)[0]);
    assert_eq!(original.in_reply_to, None);
    // The same period again: refused, nothing sent.
    let out = env.cmd(&["run", "--period", "2026-10"]).expect_code(4);
    assert!(
        out.stderr
            .contains("Báo cáo Tháng 10/2026 đã được lập trước đó; thư báo cáo đã gửi lúc"),
        "{}",
        out.stderr
    );
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
    // Nothing new yet: no supplement, and no workbook written for one.
    let out = env
        .cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(0);
    assert!(
        out.stdout.contains("Không có gì thay đổi"),
        "{}",
        out.stdout
    );
    assert_eq!(TestEnv::emls(&env.outbox).len(), 1);
    let workbooks = || {
        let mut v: Vec<String> = fs::read_dir(env.period_dir("2026-10"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".xlsx"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(workbooks(), ["Tổng hợp KL14 2026-10.xlsx"]);

    // Đam Rông reports late; the supplementary report says so and moves the totals.
    let late = |file: &str, unit: &str| {
        let dir = env.dir.path().join("new");
        fs::create_dir_all(&dir).unwrap();
        let f = crate::support::env::filled_report(
            &dir,
            file,
            unit,
            "Tháng 10/2026",
            "HN=2/10,NG=100/900,TB=5/40,TTDT=3/20,MXH=12/80,SH=4/30,PB=1/6,MH=0/2,KT=1/3",
        );
        fs::copy(&f, env.inbox.join(file)).unwrap();
    };
    late("HU Dam Rong T10.xlsx", "Huyện ủy Đam Rông");
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    let new_mail = |seen: &[PathBuf]| {
        let emls = TestEnv::emls(&env.outbox);
        let fresh: Vec<&PathBuf> = emls.iter().filter(|p| !seen.contains(p)).collect();
        assert_eq!(fresh.len(), 1, "{emls:?}");
        (fresh[0].clone(), read_mail(fresh[0]))
    };
    let seen = TestEnv::emls(&env.outbox);
    assert_eq!(seen.len(), 2);
    let first_path = seen
        .iter()
        .find(|p| read_mail(p).message_id != original.message_id)
        .unwrap()
        .clone();
    let first = read_mail(&first_path);
    assert_eq!(
        first.subject,
        "Bổ sung lần 1: Báo cáo tổng hợp KL14 - Tháng 10/2026 (14/18 đơn vị)"
    );
    assert_eq!(
        first.attachment_name,
        "Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx"
    );
    // A reply to the original report, in one thread with it.
    assert_eq!(first.in_reply_to.as_deref(), Some(&*original.message_id));
    assert_eq!(first.references.as_deref(), Some(&*original.message_id));
    assert!(
        first.date_header.ends_with(" +0700"),
        "{}",
        first.date_header
    );
    // The workbook's title block says it too, and the original workbook is still there.
    let marked = summary_cells_with(&env, &first.attachment, "BỔ SUNG LẦN 1");
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert!(marked[0].starts_with("TỔNG HỢP "), "{marked:?}");
    assert_eq!(
        workbooks(),
        [
            "Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx",
            "Tổng hợp KL14 2026-10.xlsx"
        ]
    );
    let body = &first.text;
    assert!(body.contains("Huyện ủy Đam Rông"), "{body}");
    // NG Kỳ này: 2.901 before, 3.001 with Đam Rông's 100.
    assert!(body.contains("2.901") && body.contains("3.001"), "{body}");
    // And it is sent once: asking again changes nothing.
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(0);
    assert_eq!(TestEnv::emls(&env.outbox).len(), 2);

    // Cát Tiên sends its October report at last: the second supplementary report, counted
    // from the store, still a reply to the original report.
    late("HU Cat Tien T10-2026.xlsx", "Huyện ủy Cát Tiên");
    env.cmd(&["run", "--period", "2026-10", "--supplement"])
        .expect_code(1);
    let (_, second) = new_mail(&seen);
    assert_eq!(
        second.subject,
        "Bổ sung lần 2: Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)"
    );
    assert_eq!(
        second.attachment_name,
        "Tổng hợp KL14 2026-10 (bổ sung lần 2).xlsx"
    );
    assert_eq!(second.in_reply_to.as_deref(), Some(&*original.message_id));
    assert_eq!(
        summary_cells_with(&env, &second.attachment, "BỔ SUNG LẦN 2").len(),
        1
    );
}
