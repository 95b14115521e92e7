//! Supplement: a report that arrives after the period's consolidated report was sent is not lost.
//! [`changes`] compares the report that was sent (its summary.json document) with a new
//! consolidation of the same period; [`compose_supplement`] writes the supplementary report
//! ("báo cáo bổ sung") that says what changed and carries the new workbook. Pure: no IO.

use chrono::{DateTime, FixedOffset};

use crate::config::{Form, MailSettings, ReportSettings};
use crate::numbers::vi;
use crate::pipeline::compose::{
    Addresses, Block, DeliveryError, Draft, MailBody, Nonce, Outgoing, datetime_vn,
};
use crate::pipeline::consolidate::{Consolidation, FileRef, UnitRow, UnitStatus};
use crate::pipeline::summary::{Indicators, Summary, UnitSummary};

/// Which supplementary report this is and what it follows up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// 1 for the first supplementary report of the period, 2 for the next, ... (counted from
    /// the state store: the supplementary reports made for the period before this one).
    pub number: u32,
    /// When the period's report was sent.
    pub first_sent_at: DateTime<FixedOffset>,
    /// The Message-ID of the period's report, for In-Reply-To and References.
    pub original_message_id: Option<String>,
}

/// "bổ sung lần 2", as the subject, the attachment and the workbook's title say it.
pub fn marker(number: u32) -> String {
    format!("bổ sung lần {number}")
}

/// The subject: the report's subject (its configured template) marked at the front, where a
/// phone's mail list still shows it: "Bổ sung lần 1: Báo cáo tổng hợp KL14 - Tháng 10/2026 (...)".
pub fn subject(c: &Consolidation, form: &Form, mail: &MailSettings, number: u32) -> String {
    format!(
        "Bổ sung lần {number}: {}",
        super::subject(c, form, &mail.subject)
    )
}

/// The workbook's file name: the report's, marked before the extension
/// ("Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx"), so it never looks like the original.
pub fn attachment_name(c: &Consolidation, form: &Form, mail: &MailSettings, number: u32) -> String {
    mark_file_name(&super::attachment_name(c, form, &mail.attachment), number)
}

/// "a.xlsx" -> "a (bổ sung lần N).xlsx"; a name without an extension gets the mark at the end.
pub fn mark_file_name(name: &str, number: u32) -> String {
    let mark = format!(" ({})", marker(number));
    match name.rfind('.').filter(|&i| i > 0) {
        Some(i) => format!("{}{mark}{}", &name[..i], &name[i..]),
        None => format!("{name}{mark}"),
    }
}

/// The render settings of a supplementary report: the title marked "BỔ SUNG LẦN N" (in capitals
/// when the title template is written in capitals, as official titles are), so the workbook's
/// title block and its document title say what it is.
pub fn report_settings(report: &ReportSettings, number: u32) -> ReportSettings {
    let literal = report.title.replace("{form}", "").replace("{period}", "");
    let upper = literal.chars().any(char::is_alphabetic)
        && literal
            .chars()
            .filter(|ch| ch.is_alphabetic())
            .all(char::is_uppercase);
    let mark = if upper {
        marker(number).to_uppercase()
    } else {
        marker(number)
    };
    ReportSettings {
        title: format!("{} ({mark})", report.title),
        ..report.clone()
    }
}

/// A unit of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
}

/// A unit whose accepted report is another file than the one in the report that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub id: String,
    pub name: String,
    /// The file (inbox path) the report that was sent used.
    pub old_file: Option<String>,
    /// The file used now.
    pub new_file: String,
}

/// One figure of one unit that differs from the report that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureChange {
    /// The unit's id.
    pub unit: String,
    /// The indicator's code (`HN`).
    pub code: String,
    /// The value column's key (`ky_nay`).
    pub value: String,
    pub old: u64,
    pub new: u64,
}

/// One grand total that differs from the report that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalChange {
    pub code: String,
    pub value: String,
    pub old: u64,
    pub new: u64,
}

/// What changed between the report that was sent and a new consolidation of the same period.
/// Lists are in roster order, then form order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// Units counted now that were not counted in the report that was sent.
    pub newly_reported: Vec<UnitRef>,
    /// Units counted in both, whose accepted file changed (another SHA-256; the path when the
    /// sent document has no hash). A renamed copy of the same bytes is not a change.
    pub replaced: Vec<Replaced>,
    /// Units counted in the report that was sent but not now (their file was removed from the
    /// inbox, or the unit left the roster).
    pub withdrawn: Vec<UnitRef>,
    /// Figures of units counted in both that differ (the figures of newly reported and
    /// withdrawn units show in the totals).
    pub figure_changes: Vec<FigureChange>,
    pub total_changes: Vec<TotalChange>,
    /// Units without an accepted report now (missing or rejected): not a change by itself.
    pub still_missing: Vec<UnitRef>,
    /// Units counted in the report that was sent, and the size of its roster.
    pub reported_before: usize,
    pub roster_before: usize,
}

impl Changes {
    /// Nothing a supplementary report would say: no unit counted or uncounted, no file replaced,
    /// no figure changed.
    pub fn is_empty(&self) -> bool {
        self.newly_reported.is_empty()
            && self.replaced.is_empty()
            && self.withdrawn.is_empty()
            && self.figure_changes.is_empty()
            && self.total_changes.is_empty()
    }
}

/// Compare the report that was sent (`sent`: its summary.json, see `summary::summary`) with a new
/// consolidation of the same period. Read leniently: a figure or total missing from `sent`
/// counts as 0, and without a summary (`None`: none recorded, or one that does not read) every
/// accepted unit is newly reported. The caller makes sure both are about the same period.
pub fn changes(sent: Option<&Summary>, now: &Consolidation, form: &Form) -> Changes {
    let sent_units: &[UnitSummary] = sent.map_or(&[], |s| s.units.as_slice());
    let counted = |v: &&UnitSummary| v.status == UnitStatus::Accepted;
    let before = |id: &str| sent_units.iter().filter(counted).find(|v| v.id == id);
    let unit_ref = |u: &UnitRow| UnitRef {
        id: u.id.clone(),
        name: u.name.clone(),
    };
    let figure = |table: Option<&Indicators>, code: &str, key: &str| {
        table
            .and_then(|t| t.get(code))
            .and_then(|v| v.get(key))
            .copied()
            .unwrap_or(0)
    };

    let mut out = Changes {
        reported_before: sent_units.iter().filter(counted).count(),
        roster_before: sent_units.len(),
        ..Changes::default()
    };
    for u in &now.units {
        let accepted = u.status == UnitStatus::Accepted;
        match (before(&u.id), accepted) {
            (None, true) => out.newly_reported.push(unit_ref(u)),
            (Some(_), false) => out.withdrawn.push(unit_ref(u)),
            (Some(v), true) => {
                if let Some(file) = &u.file
                    && !same_file(v, file)
                {
                    out.replaced.push(Replaced {
                        id: u.id.clone(),
                        name: u.name.clone(),
                        old_file: v.file.clone(),
                        new_file: file.path.clone(),
                    });
                }
                for (i, item) in form.indicators.items.iter().enumerate() {
                    for (j, col) in form.indicators.values.iter().enumerate() {
                        let old = figure(v.indicators.as_ref(), &item.code, &col.key);
                        let new = u.figures.as_ref().map_or(0, |f| f.get(i, j));
                        if old != new {
                            out.figure_changes.push(FigureChange {
                                unit: u.id.clone(),
                                code: item.code.clone(),
                                value: col.key.clone(),
                                old,
                                new,
                            });
                        }
                    }
                }
            }
            (None, false) => {}
        }
        if !accepted {
            out.still_missing.push(unit_ref(u));
        }
    }
    // Counted before, no longer on the roster.
    for v in sent_units.iter().filter(counted) {
        if !now.units.iter().any(|u| u.id == v.id) {
            out.withdrawn.push(UnitRef {
                id: v.id.clone(),
                name: v.name.clone(),
            });
        }
    }

    for (i, item) in form.indicators.items.iter().enumerate() {
        for (j, col) in form.indicators.values.iter().enumerate() {
            let old = figure(sent.map(|s| &s.totals), &item.code, &col.key);
            let new = now.totals.values.get(i).and_then(|r| r.get(j)).copied();
            let new = new.unwrap_or(0);
            if old != new {
                out.total_changes.push(TotalChange {
                    code: item.code.clone(),
                    value: col.key.clone(),
                    old,
                    new,
                });
            }
        }
    }
    out
}

/// Whether the unit's file in the sent document is `file`: by SHA-256 when both have one, else
/// by path.
fn same_file(v: &UnitSummary, file: &FileRef) -> bool {
    match v.sha256.as_deref() {
        Some(sha) if !sha.is_empty() && !file.sha256.is_empty() => sha == file.sha256,
        _ => v.file.as_deref() == Some(file.path.as_str()),
    }
}

/// The supplementary mail: to the report's recipients, with the new workbook attached under the
/// report's attachment name. `now` and `nonce` come from the caller (the run's clock), as for
/// [`super::compose`].
#[allow(clippy::too_many_arguments)]
pub fn compose_supplement(
    c: &Consolidation,
    form: &Form,
    mail: &MailSettings,
    changes: &Changes,
    follow_up: &FollowUp,
    attachment: Vec<u8>,
    now: DateTime<FixedOffset>,
    nonce: Nonce,
) -> Result<Outgoing, DeliveryError> {
    let Addresses { from, to, cc } = super::report_addresses(mail)?;
    let number = follow_up.number;
    let subject = subject(c, form, mail, number);
    let attachment_name = attachment_name(c, form, mail, number);
    let message_id = super::message_id(
        &[&form.id, &c.period.key(), "supplement"],
        now,
        Some(nonce),
        from.email.domain(),
    );
    let (top, rest) = body(c, form, changes, follow_up.first_sent_at, &attachment_name);
    let mut b = vec![super::greeting(&to), Block::Highlight(top)];
    let sender = from.name.as_deref().map(|n| format!("{n} trân trọng gửi"));
    b.push(Block::Para(format!(
        "{} {} bản tổng hợp {} - {}.",
        sender.as_deref().unwrap_or("Trân trọng gửi"),
        marker(number),
        form.title,
        c.period.label()
    )));
    b.extend(rest);
    if let Some(name) = &from.name {
        b.push(Block::Para(name.clone()));
    }
    super::assemble(Draft {
        from,
        to,
        cc,
        subject,
        body: MailBody(b),
        attachment: Some((attachment_name, attachment)),
        message_id,
        date: now,
        period: c.period,
        in_reply_to: follow_up.original_message_id.clone(),
    })
}

/// The blocks between the opening and the signature: the units whose report changed or is still
/// missing (for the top of the mail), then the rest.
fn body(
    c: &Consolidation,
    form: &Form,
    changes: &Changes,
    first_sent_at: DateTime<FixedOffset>,
    attachment_name: &str,
) -> (Vec<Block>, Vec<Block>) {
    let first = datetime_vn(&first_sent_at);
    let row = |id: &str| c.units.iter().find(|u| u.id == id);
    let received = |id: &str| {
        row(id)
            .and_then(|u| u.file.as_ref())
            .map(|f| datetime_vn(&f.received))
    };
    let title = |key: &str| {
        form.indicators
            .values
            .iter()
            .find(|v| v.key == key)
            .map_or_else(|| key.to_owned(), |v| v.title.clone())
    };
    let arrow = |old: u64, new: u64| format!("{} → {}", vi(old), vi(new));

    let mut b = vec![Block::Para(format!(
        "Bản tổng hợp kỳ này đã gửi lúc {first}. Sau thời điểm đó, báo cáo của các đơn vị có thay \
         đổi; thư này nêu những thay đổi so với bản đã gửi."
    ))];
    let reported = format!("{}/{}", c.accepted_count(), c.units.len());
    let reported_now = reported.clone();
    let before = format!("{}/{}", changes.reported_before, changes.roster_before);
    b.push(Block::Facts(vec![
        ("Kỳ báo cáo".into(), c.period.label()),
        ("Bản tổng hợp đã gửi lúc".into(), first.clone()),
        ("Tổng hợp lại lúc".into(), datetime_vn(&c.generated_at)),
        (
            "Số đơn vị có báo cáo".into(),
            // A sent document without units (none was found) has nothing to compare with.
            if before == reported || changes.roster_before == 0 {
                reported
            } else {
                format!("{before} → {reported}")
            },
        ),
    ]));

    // What changed comes first, as in the report: a phone shows it without scrolling.
    let mut top = vec![Block::Para(format!(
        "{}: {} đơn vị có báo cáo{}.",
        c.period.label(),
        reported_now,
        if changes.roster_before == 0 || before == reported_now {
            String::new()
        } else {
            format!(" (bản đã gửi: {before})")
        }
    ))];
    if !changes.newly_reported.is_empty() {
        top.push(Block::Heading(format!(
            "Đơn vị mới có báo cáo ({})",
            changes.newly_reported.len()
        )));
        top.push(Block::List(
            changes
                .newly_reported
                .iter()
                .map(|u| match received(&u.id) {
                    Some(at) => format!("{} (nhận lúc {at})", u.name),
                    None => u.name.clone(),
                })
                .collect(),
        ));
    }

    // Replaced reports, and (should it happen) changed figures of a file that was not replaced.
    let changed: Vec<&UnitRow> = c
        .units
        .iter()
        .filter(|u| {
            changes.replaced.iter().any(|r| r.id == u.id)
                || changes.figure_changes.iter().any(|f| f.unit == u.id)
        })
        .collect();
    if !changed.is_empty() {
        top.push(Block::Heading(format!(
            "Đơn vị gửi lại báo cáo ({})",
            changed.len()
        )));
        top.push(Block::List(
            changed
                .iter()
                .map(|u| {
                    let mut by_code: Vec<(String, Vec<String>)> = Vec::new();
                    for f in changes.figure_changes.iter().filter(|f| f.unit == u.id) {
                        let part = format!("{} {}", title(&f.value), arrow(f.old, f.new));
                        match by_code.last_mut() {
                            Some((code, parts)) if *code == f.code => parts.push(part),
                            _ => by_code.push((f.code.clone(), vec![part])),
                        }
                    }
                    let figures = if by_code.is_empty() {
                        "số liệu không đổi".to_owned()
                    } else {
                        by_code
                            .iter()
                            .map(|(code, parts)| format!("{code} {}", parts.join(", ")))
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    match received(&u.id) {
                        Some(at) => format!("{} (gửi lại lúc {at}): {figures}", u.name),
                        None => format!("{}: {figures}", u.name),
                    }
                })
                .collect(),
        ));
    }

    if !changes.withdrawn.is_empty() {
        top.push(Block::Heading(format!(
            "Không còn được tổng hợp ({})",
            changes.withdrawn.len()
        )));
        top.push(Block::List(
            changes
                .withdrawn
                .iter()
                .map(|u| {
                    let now = row(&u.id).map_or("không còn trong danh sách đơn vị", |r| {
                        r.status_label()
                    });
                    format!("{}: đã tính trong bản trước, nay {}", u.name, lower(now))
                })
                .collect(),
        ));
    }

    if changes.still_missing.is_empty() {
        top.push(Block::Para("Tất cả đơn vị đã có báo cáo.".into()));
    } else {
        top.push(Block::Heading(format!(
            "Chưa có báo cáo ({})",
            changes.still_missing.len()
        )));
        top.push(Block::List(
            changes
                .still_missing
                .iter()
                .map(|u| match row(&u.id) {
                    Some(r) if r.status == UnitStatus::Rejected => {
                        format!("{} (tệp bị từ chối)", u.name)
                    }
                    // "Huyện ủy Cát Tiên gửi báo cáo Tháng 9/2026, chưa gửi Tháng 10/2026".
                    Some(r) => super::missing_line(c, r),
                    None => u.name.clone(),
                })
                .collect(),
        ));
    }

    b.push(Block::Heading("Số liệu tổng hợp thay đổi".into()));
    if changes.total_changes.is_empty() {
        b.push(Block::Para("Số liệu tổng hợp không thay đổi.".into()));
    } else {
        let mut header = vec!["Mã".to_owned(), "Chỉ tiêu".to_owned()];
        header.extend(form.indicators.values.iter().map(|v| v.title.clone()));
        let rows = form
            .indicators
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| changes.total_changes.iter().any(|t| t.code == item.code))
            .map(|(i, item)| {
                let mut row = vec![item.code.clone(), item.name.clone()];
                row.extend(form.indicators.values.iter().enumerate().map(|(j, col)| {
                    match changes
                        .total_changes
                        .iter()
                        .find(|t| t.code == item.code && t.value == col.key)
                    {
                        Some(t) => arrow(t.old, t.new),
                        None => vi(c
                            .totals
                            .values
                            .get(i)
                            .and_then(|r| r.get(j))
                            .copied()
                            .unwrap_or(0)),
                    }
                }));
                row
            })
            .collect();
        b.push(Block::Table {
            header,
            rows,
            numeric_from: 2,
        });
    }

    b.push(Block::Para(format!(
        "Số liệu chi tiết của từng đơn vị có trong tệp đính kèm \"{attachment_name}\", thay cho bản \
         đã gửi lúc {first}."
    )));
    (top, b)
}

/// "Chưa nộp" -> "chưa nộp", for the middle of a sentence.
fn lower(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Roster, Transport};
    use crate::period::Period;
    use crate::pipeline::consolidate::{Content, Figures, Frame, Inspected, consolidate};
    use crate::pipeline::summary::summary;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn form() -> Form {
        Form::from_toml(include_str!("../../../config/form-kl14.toml")).unwrap()
    }

    /// A report with HN = (n, 10n) and NG = (100n, 1000n); the rest 0.
    fn report(rel: &str, unit: &str, received: &str, n: u64) -> Inspected {
        let mut fig = Figures::zero(9, 2);
        fig.values[0] = vec![n, n * 10];
        fig.values[1] = vec![n * 100, n * 1000];
        Inspected {
            rel: rel.into(),
            size: 100,
            received: t(received),
            sha256: Some(format!("sha-{rel}")),
            unit: Some(unit.into()),
            period: Some(Period::month(2026, 10)),
            content: Some(Content {
                figures: Some(fig),
                activities: Default::default(),
                narrative: vec![String::new(); 3],
                header: vec![],
            }),
            findings: vec![],
        }
    }

    fn run(files: Vec<Inspected>, at: &str) -> Consolidation {
        let roster = Roster::from_toml(include_str!("../../../config/roster.toml")).unwrap();
        let form = form();
        let frame = Frame {
            roster: &roster,
            form: &form,
            period: Period::month(2026, 10),
            deadline: t("2026-11-03T17:00:00+07:00"),
            generated_at: t(at),
        };
        consolidate(&frame, files, vec![])
    }

    /// What was sent on 04/11: 14 of the 18 units, one each (lac-duong, dam-rong, quan-su and
    /// cong-an missing).
    fn first_files() -> Vec<Inspected> {
        let roster = Roster::from_toml(include_str!("../../../config/roster.toml")).unwrap();
        roster
            .units
            .iter()
            .filter(|u| !["lac-duong", "dam-rong", "quan-su", "cong-an"].contains(&u.id.as_str()))
            .map(|u| {
                report(
                    &format!("{}.xlsx", u.id),
                    &u.id,
                    "2026-11-02T10:00:00+07:00",
                    1,
                )
            })
            .collect()
    }

    fn sent() -> Summary {
        let c = run(first_files(), "2026-11-04T08:00:00+07:00");
        summary(&c, &form(), "out/2026-10/Tổng hợp KL14 2026-10.xlsx", None)
    }

    /// Two days later: Lạc Dương reported (3), Đà Lạt sent a corrected file (2 instead of 1).
    fn later() -> Consolidation {
        let mut files = first_files();
        files.push(report(
            "lac-duong.xlsx",
            "lac-duong",
            "2026-11-05T09:00:00+07:00",
            3,
        ));
        files.push(report(
            "da-lat (sửa).xlsx",
            "da-lat",
            "2026-11-05T10:00:00+07:00",
            2,
        ));
        run(files, "2026-11-06T10:30:00+07:00")
    }

    fn total(code: &str, value: &str, old: u64, new: u64) -> TotalChange {
        TotalChange {
            code: code.into(),
            value: value.into(),
            old,
            new,
        }
    }

    #[test]
    fn a_unit_that_reported_after_the_send_is_new_and_moves_the_totals() {
        let mut files = first_files();
        files.push(report(
            "lac-duong.xlsx",
            "lac-duong",
            "2026-11-05T09:00:00+07:00",
            3,
        ));
        let now = run(files, "2026-11-06T10:30:00+07:00");
        let ch = changes(Some(&sent()), &now, &form());
        assert!(!ch.is_empty());
        assert_eq!(
            ch.newly_reported,
            [UnitRef {
                id: "lac-duong".into(),
                name: "Huyện ủy Lạc Dương".into()
            }]
        );
        assert!(ch.replaced.is_empty() && ch.withdrawn.is_empty());
        // Its own figures are new, not changed: they show in the totals.
        assert!(ch.figure_changes.is_empty());
        assert_eq!(
            ch.total_changes,
            [
                total("HN", "ky_nay", 14, 17),
                total("HN", "luy_ke", 140, 170),
                total("NG", "ky_nay", 1400, 1700),
                total("NG", "luy_ke", 14000, 17000),
            ]
        );
        let missing: Vec<&str> = ch.still_missing.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(missing, ["dam-rong", "quan-su", "cong-an"]);
        assert_eq!((ch.reported_before, ch.roster_before), (14, 18));
    }

    #[test]
    fn a_replaced_file_shows_old_and_new_figures() {
        let ch = changes(Some(&sent()), &later(), &form());
        assert_eq!(
            ch.replaced,
            [Replaced {
                id: "da-lat".into(),
                name: "Thành ủy Đà Lạt".into(),
                old_file: Some("da-lat.xlsx".into()),
                new_file: "da-lat (sửa).xlsx".into(),
            }]
        );
        let figures: Vec<(&str, &str, &str, u64, u64)> = ch
            .figure_changes
            .iter()
            .map(|f| {
                (
                    f.unit.as_str(),
                    f.code.as_str(),
                    f.value.as_str(),
                    f.old,
                    f.new,
                )
            })
            .collect();
        assert_eq!(
            figures,
            [
                ("da-lat", "HN", "ky_nay", 1, 2),
                ("da-lat", "HN", "luy_ke", 10, 20),
                ("da-lat", "NG", "ky_nay", 100, 200),
                ("da-lat", "NG", "luy_ke", 1000, 2000),
            ]
        );
        assert_eq!(ch.total_changes[0], total("HN", "ky_nay", 14, 18));
    }

    /// No summary recorded for the report that was sent, or one that does not read: nothing is
    /// known to have been counted, so every unit counted now is new and every total moved.
    #[test]
    fn without_the_sent_summary_every_accepted_unit_is_newly_reported() {
        let ch = changes(None, &later(), &form());
        assert_eq!(ch.newly_reported.len(), 15);
        assert!(ch.replaced.is_empty() && ch.withdrawn.is_empty());
        assert!(ch.figure_changes.is_empty());
        assert_eq!(ch.total_changes[0], total("HN", "ky_nay", 0, 18));
        assert_eq!((ch.reported_before, ch.roster_before), (0, 0));
    }

    #[test]
    fn nothing_new_is_no_change() {
        let now = run(first_files(), "2026-11-06T10:30:00+07:00");
        let ch = changes(Some(&sent()), &now, &form());
        assert!(ch.is_empty(), "{ch:?}");
        assert_eq!(ch.still_missing.len(), 4);
    }

    #[test]
    fn a_renamed_copy_of_the_same_bytes_is_no_change() {
        let mut files = first_files();
        let mut copy = report(
            "HU Đức Trọng bản cuối.xlsx",
            "duc-trong",
            "2026-11-05T09:00:00+07:00",
            1,
        );
        copy.sha256 = Some("sha-duc-trong.xlsx".into());
        files.push(copy);
        let now = run(files, "2026-11-06T10:30:00+07:00");
        assert!(changes(Some(&sent()), &now, &form()).is_empty());
    }

    #[test]
    fn a_report_no_longer_counted_is_withdrawn_and_leaves_the_totals() {
        let files: Vec<Inspected> = first_files()
            .into_iter()
            .filter(|f| f.unit.as_deref() != Some("bao-loc"))
            .collect();
        let now = run(files, "2026-11-06T10:30:00+07:00");
        let ch = changes(Some(&sent()), &now, &form());
        assert_eq!(ch.withdrawn.len(), 1);
        assert_eq!(ch.withdrawn[0].id, "bao-loc");
        assert_eq!(ch.total_changes[0], total("HN", "ky_nay", 14, 13));
    }

    fn mail() -> MailSettings {
        MailSettings {
            from: "Ban Tuyên giáo Tỉnh ủy Lâm Đồng <bantuyengiao@lamdong.dcs.vn>".into(),
            to: vec!["Thường trực Tỉnh ủy <thuongtruc@lamdong.dcs.vn>".into()],
            cc: vec!["Văn phòng Tỉnh ủy <vanphong@lamdong.dcs.vn>".into()],
            subject: "Báo cáo tổng hợp {short} - {period} ({reported}/{total} đơn vị)".into(),
            attachment: "Tổng hợp {short} {period_key}.xlsx".into(),
            transport: Transport::File { dir: "x".into() },
        }
    }

    fn follow_up(number: u32) -> FollowUp {
        FollowUp {
            number,
            first_sent_at: t("2026-11-04T08:00:12+07:00"),
            original_message_id: Some(ORIGINAL.into()),
        }
    }

    const ORIGINAL: &str = "<tonghop.kl14.2026-10.20261104T080012.00000000000000aa@lamdong.dcs.vn>";

    fn composed() -> Outgoing {
        let now = later();
        let ch = changes(Some(&sent()), &now, &form());
        compose_supplement(
            &now,
            &form(),
            &mail(),
            &ch,
            &follow_up(1),
            b"PK\x03\x04 workbook".to_vec(),
            t("2026-11-06T10:30:05+07:00"),
            Nonce(0x5eed),
        )
        .unwrap()
    }

    #[test]
    fn the_supplementary_mail_says_what_changed() {
        let out = composed();
        assert_eq!(
            out.subject,
            "Bổ sung lần 1: Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)"
        );
        assert_eq!(
            out.attachment_name,
            "Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx"
        );
        assert_eq!(
            out.recipients,
            ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"]
        );
        assert_eq!(
            out.message_id,
            "<tonghop.kl14.2026-10.supplement.20261106T103005.0000000000005eed@lamdong.dcs.vn>"
        );
        let text = &out.text;
        for line in [
            "Kính gửi: Thường trực Tỉnh ủy\n",
            "Ban Tuyên giáo Tỉnh ủy Lâm Đồng trân trọng gửi bổ sung lần 1 bản tổng hợp Báo cáo kết quả \
             tuyên truyền, quán triệt Kết luận 14-KL/TW - Tháng 10/2026.\n",
            "Bản tổng hợp kỳ này đã gửi lúc 08:00 ngày 04/11/2026.",
            "Kỳ báo cáo: Tháng 10/2026\nBản tổng hợp đã gửi lúc: 08:00 ngày 04/11/2026\n\
             Tổng hợp lại lúc: 10:30 ngày 06/11/2026\nSố đơn vị có báo cáo: 14/18 → 15/18\n",
            "ĐƠN VỊ MỚI CÓ BÁO CÁO (1)\n- Huyện ủy Lạc Dương (nhận lúc 09:00 ngày 05/11/2026)\n",
            "ĐƠN VỊ GỬI LẠI BÁO CÁO (1)\n- Thành ủy Đà Lạt (gửi lại lúc 10:00 ngày 05/11/2026): \
             HN Kỳ này 1 → 2, Lũy kế 10 → 20; NG Kỳ này 100 → 200, Lũy kế 1.000 → 2.000\n",
            "SỐ LIỆU TỔNG HỢP THAY ĐỔI\n\
             - HN - Số hội nghị, buổi quán triệt Kết luận 14-KL/TW: Kỳ này 14 → 18; Lũy kế 140 → 180\n\
             - NG - Số lượt cán bộ, đảng viên tham dự: Kỳ này 1.400 → 1.800; Lũy kế 14.000 → 18.000\n\n",
            "CHƯA CÓ BÁO CÁO (3)\n- Huyện ủy Đam Rông\n- Đảng ủy Quân sự tỉnh\n- Đảng ủy Công an tỉnh\n",
            "Số liệu chi tiết của từng đơn vị có trong tệp đính kèm \"Tổng hợp KL14 2026-10 (bổ sung lần \
             1).xlsx\", \
             thay cho bản đã gửi lúc 08:00 ngày 04/11/2026.",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        // What changed first (a phone's first screen), then the letter and the figures.
        let top: Vec<&str> = text.lines().take(8).collect();
        assert_eq!(
            top,
            [
                "Kính gửi: Thường trực Tỉnh ủy",
                "",
                "Tháng 10/2026: 15/18 đơn vị có báo cáo (bản đã gửi: 14/18).",
                "",
                "ĐƠN VỊ MỚI CÓ BÁO CÁO (1)",
                "- Huyện ủy Lạc Dương (nhận lúc 09:00 ngày 05/11/2026)",
                "",
                "ĐƠN VỊ GỬI LẠI BÁO CÁO (1)",
            ],
            "{text}"
        );
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("CHƯA CÓ BÁO CÁO (3)") < at("trân trọng gửi bổ sung lần 1"));
        assert!(at("trân trọng gửi bổ sung lần 1") < at("SỐ LIỆU TỔNG HỢP THAY ĐỔI"));
        // Unchanged indicators are not listed.
        assert!(!text.contains("- TB - "), "{text}");
        assert!(
            text.ends_with("\n\nBan Tuyên giáo Tỉnh ủy Lâm Đồng\n"),
            "{text}"
        );
    }

    #[test]
    fn the_supplementary_mail_carries_the_workbook_like_the_report() {
        let out = composed();
        let raw = String::from_utf8(out.message.formatted()).unwrap();
        let headers = &raw[..raw.find("\r\n\r\n").unwrap()];
        assert!(headers.is_ascii(), "{headers}");
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let att = parsed.attachments().next().unwrap();
        use mail_parser::MimeHeaders;
        assert_eq!(
            att.content_type().unwrap().attribute("name"),
            Some("Tổng hợp KL14 2026-10 (bổ sung lần 1).xlsx")
        );
        // A reply to the original report: mail programs show them as one thread.
        let id = ORIGINAL.trim_matches(['<', '>']);
        assert_eq!(parsed.in_reply_to().as_text(), Some(id));
        assert_eq!(parsed.references().as_text(), Some(id));
        assert!(
            headers.contains(&format!("\r\nIn-Reply-To: {ORIGINAL}\r\n")),
            "{headers}"
        );
        assert!(
            headers.contains("\r\nDate: Fri, 06 Nov 2026 10:30:05 +0700\r\n"),
            "{headers}"
        );
        assert_eq!(att.contents(), b"PK\x03\x04 workbook");
        assert!(out.html.contains(
            "<td class=\"n\" style=\"border:1px solid #ccc;padding:4px 6px;vertical-align:top;\
             overflow-wrap:normal;word-break:normal;text-align:right\">1.400&nbsp;→ 1.800</td>"
        ));
        assert!(out.html.contains(
            "<title>Bổ sung lần 1: Báo cáo tổng hợp KL14 - Tháng 10/2026 (15/18 đơn vị)</title>"
        ));
    }

    #[test]
    fn withdrawn_and_rejected_units_are_said_plainly() {
        let mut files: Vec<Inspected> = first_files()
            .into_iter()
            .filter(|f| f.unit.as_deref() != Some("bao-loc"))
            .collect();
        let mut broken = report("quan-su.xlsx", "quan-su", "2026-11-05T09:00:00+07:00", 0);
        broken.findings = vec![crate::finding::Finding::new(
            crate::finding::Severity::Error,
            "unreadable",
            "x",
        )];
        files.push(broken);
        let now = run(files, "2026-11-06T10:30:00+07:00");
        let ch = changes(Some(&sent()), &now, &form());
        let out = compose_supplement(
            &now,
            &form(),
            &mail(),
            &ch,
            &follow_up(1),
            vec![],
            t("2026-11-06T10:30:05+07:00"),
            Nonce(1),
        )
        .unwrap();
        let text = &out.text;
        for line in [
            "Số đơn vị có báo cáo: 14/18 → 13/18\n",
            "KHÔNG CÒN ĐƯỢC TỔNG HỢP (1)\n- Thành ủy Bảo Lộc: đã tính trong bản trước, nay chưa nộp\n",
            "- Đảng ủy Quân sự tỉnh (tệp bị từ chối)\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains("ĐƠN VỊ MỚI CÓ BÁO CÁO"), "{text}");
    }

    #[test]
    fn the_second_supplement_says_lan_2_everywhere() {
        let now = later();
        let ch = changes(Some(&sent()), &now, &form());
        let out = compose_supplement(
            &now,
            &form(),
            &mail(),
            &ch,
            &follow_up(2),
            vec![],
            t("2026-11-07T10:30:05+07:00"),
            Nonce(2),
        )
        .unwrap();
        assert!(
            out.subject.starts_with("Bổ sung lần 2: "),
            "{}",
            out.subject
        );
        assert_eq!(
            out.attachment_name,
            "Tổng hợp KL14 2026-10 (bổ sung lần 2).xlsx"
        );
        assert!(
            out.text
                .contains("trân trọng gửi bổ sung lần 2 bản tổng hợp")
        );
    }

    #[test]
    fn file_names_are_marked_before_the_extension() {
        assert_eq!(
            mark_file_name("Tổng hợp KL14 2026-10.xlsx", 3),
            "Tổng hợp KL14 2026-10 (bổ sung lần 3).xlsx"
        );
        assert_eq!(mark_file_name("bao-cao", 1), "bao-cao (bổ sung lần 1)");
        assert_eq!(mark_file_name(".xlsx", 1), ".xlsx (bổ sung lần 1)");
    }

    #[test]
    fn the_workbook_title_is_marked_in_the_case_of_its_template() {
        let report = ReportSettings {
            issuing_body: "TỈNH ỦY LÂM ĐỒNG".into(),
            department: "BAN TUYÊN GIÁO".into(),
            heading: "ĐẢNG CỘNG SẢN VIỆT NAM".into(),
            place: "Lâm Đồng".into(),
            title: "TỔNG HỢP {form}".into(),
        };
        let marked = report_settings(&report, 1);
        assert_eq!(marked.title, "TỔNG HỢP {form} (BỔ SUNG LẦN 1)");
        assert_eq!(marked.issuing_body, report.issuing_body);
        let lower = ReportSettings {
            title: "Tổng hợp {form} - {period}".into(),
            ..report
        };
        assert_eq!(
            report_settings(&lower, 2).title,
            "Tổng hợp {form} - {period} (bổ sung lần 2)"
        );
    }

    #[test]
    fn a_unit_still_missing_that_sent_another_periods_form_is_said_so() {
        let mut files = first_files();
        files.push(report(
            "lac-duong.xlsx",
            "lac-duong",
            "2026-11-05T09:00:00+07:00",
            3,
        ));
        let mut september = report(
            "HU Dam Rong T9.xlsx",
            "dam-rong",
            "2026-11-05T09:30:00+07:00",
            1,
        );
        september.period = Some(Period::month(2026, 9));
        files.push(september);
        let now = run(files, "2026-11-06T10:30:00+07:00");
        let ch = changes(Some(&sent()), &now, &form());
        let out = compose_supplement(
            &now,
            &form(),
            &mail(),
            &ch,
            &follow_up(1),
            vec![],
            t("2026-11-06T10:30:05+07:00"),
            Nonce(1),
        )
        .unwrap();
        assert!(
            out.text.contains(
                "CHƯA CÓ BÁO CÁO (3)\n- Huyện ủy Đam Rông gửi báo cáo Tháng 9/2026, chưa gửi \
                 Tháng 10/2026 (tệp \"HU Dam Rong T9.xlsx\")\n"
            ),
            "{}",
            out.text
        );
    }
}
