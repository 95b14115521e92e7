//! The daemon's behaviour over days, in-process: `app::schedule::start_up` and
//! `app::schedule::tick` (what the daemon's loop calls for each tick) on a temp data folder,
//! driven by a `ManualClock` the test moves. The ticks are the ones the schedule fires
//! (`app::schedule::fires_between`, from the same cron expressions), so no
//! test picks its times by hand or sleeps on a cron time. Units' files appear in the inbox at
//! their received times (samples/received.tsv) as the clock passes them.
//!
//! What a person checks: the mails (the .eml files of the file transport, or what a real SMTP
//! server received), their subjects and recipients, and the rows of the state store.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use tonghop::app::run::Trigger;
use tonghop::app::schedule::{self, Job};
use tonghop::clock::{Clock, ManualClock};
use tonghop::config::{Settings, SupplementMode, Transport};

use crate::support::daemon::{State, data_dir, set_key};
use crate::support::env::TestEnv;
use crate::support::repo;
use crate::support::smtp::{SmtpOptions, SmtpServer};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The delivery timer of the real daemon (`run`): every 30 seconds.
const DELIVER_EVERY: chrono::Duration = chrono::Duration::seconds(30);

/// A daemon on a test environment's data folder, and the world around it: the clock, and the
/// units' files not dropped into the inbox yet.
struct Sim {
    env: TestEnv,
    settings: Settings,
    clock: Arc<ManualClock>,
    /// (path under the inbox, received time) of the files still to come, from received.tsv.
    to_come: Vec<(PathBuf, DateTime<Utc>)>,
    /// Every tick handled: (job, scheduled time, trigger), for assertion messages.
    ticks: Vec<(Job, DateTime<Utc>, Trigger)>,
    /// Ticks that failed (the daemon logs them and goes on); a test that expects none leaves
    /// `tolerate_failures` false, and the first failure panics.
    failures: Vec<(Job, DateTime<Utc>, String)>,
    tolerate_failures: bool,
}

impl Sim {
    /// The shipped config with `edit` applied, an empty inbox, and the samples coming in at
    /// their received times (`late` ones moved to the time given). The clock starts at `start`.
    fn new(
        start: DateTime<Utc>,
        late: &[(&str, DateTime<Utc>)],
        edit: impl FnOnce(String) -> String,
    ) -> Sim {
        let env = TestEnv::new();
        env.edit_config(|t| {
            // Scans at noon: a day's files are seen the same day, and a month stays quick.
            let t = set_key(&t, "schedule", "scan", "\"0 0 12 * * *\"");
            let t = set_key(&t, "daemon", "retry_first_seconds", "60");
            edit(t)
        });
        // Addresses for the reminders: Đà Lạt (its report comes late), Đam Rông (never
        // reports), Di Linh (reports after the reminder, rejected), Công an (reported before).
        let roster_path = env.config.parent().unwrap().join("roster.toml");
        let mut roster = fs::read_to_string(&roster_path).unwrap();
        for (id, email) in [
            ("da-lat", "dalat@lamdong.dcs.vn"),
            ("dam-rong", "damrong@lamdong.dcs.vn"),
            ("di-linh", "dilinh@lamdong.dcs.vn"),
            ("cong-an", "congan@lamdong.dcs.vn"),
        ] {
            roster = roster.replace(
                &format!("id = \"{id}\"\n"),
                &format!("id = \"{id}\"\nemail = \"{email}\"\n"),
            );
        }
        fs::write(&roster_path, roster).unwrap();
        let mut settings = Settings::discover(Some(&env.config)).unwrap();
        // Read in this process: the read worker is the `tonghop` binary, not this test binary.
        settings.read.isolate = false;
        let to_come = fs::read_to_string(repo().join("samples/received.tsv"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(rel, when)| {
                let when = late
                    .iter()
                    .find(|(name, _)| *name == rel)
                    .map(|(_, t)| *t)
                    .unwrap_or_else(|| at(when.trim()));
                (PathBuf::from(rel), when)
            })
            .collect();
        let mut sim = Sim {
            env,
            settings,
            clock: Arc::new(ManualClock::new(start)),
            to_come,
            ticks: Vec::new(),
            failures: Vec::new(),
            tolerate_failures: false,
        };
        sim.drop_files(start);
        sim
    }

    fn data(&self) -> PathBuf {
        data_dir(&self.env)
    }

    fn state(&self) -> State {
        State::open(&self.data())
    }

    /// Copy into the inbox every sample received up to `t`, with its received time as mtime.
    fn drop_files(&mut self, t: DateTime<Utc>) {
        let (now, later) = self.to_come.drain(..).partition(|(_, when)| *when <= t);
        self.to_come = later;
        for (rel, when) in now {
            let target = self.env.inbox.join(&rel);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(repo().join("samples/inbox").join(&rel), &target).unwrap();
            let ft = filetime::FileTime::from_unix_time(when.timestamp(), 0);
            filetime::set_file_mtime(&target, ft).unwrap();
        }
    }

    fn tick(&mut self, job: Job, at: DateTime<Utc>, trigger: Trigger) {
        self.ticks.push((job, at, trigger));
        if let Err(e) = schedule::tick(&self.settings, self.clock.as_ref(), job, at, trigger) {
            assert!(self.tolerate_failures, "{job:?} at {at} failed: {e}");
            self.failures.push((job, at, e.to_string()));
        }
    }

    /// The daemon starts now: what it catches up, then the delivery timer's first tick.
    fn start(&mut self) {
        let now = self.clock.now();
        let missed = schedule::start_up(&self.settings, now).unwrap();
        for (job, at) in missed {
            self.tick(job, at, Trigger::CatchUp);
        }
        self.tick(Job::Deliver, now, Trigger::Schedule);
    }

    /// The daemon runs until `until`: each scheduled job at its time, and the delivery timer
    /// whenever a queued mail falls due before the next job (every 30 s in the real daemon; a
    /// timer tick with nothing due does nothing, so only those are simulated).
    fn run_until(&mut self, until: DateTime<Utc>) {
        let fires = schedule::fires_between(&self.settings, self.clock.now(), until);
        for (job, at) in fires {
            self.deliver_due_before(at);
            self.drop_files(at);
            self.clock.set(at);
            self.tick(job, at, Trigger::Schedule);
        }
        self.deliver_due_before(until);
        self.drop_files(until);
        self.clock.set(until);
    }

    /// The daemon is down until `until`: files still arrive, nothing runs.
    fn down_until(&mut self, until: DateTime<Utc>) {
        self.drop_files(until);
        self.clock.set(until);
    }

    fn deliver_due_before(&mut self, next: DateTime<Utc>) {
        for _ in 0..100 {
            let due = self
                .state()
                .deliveries()
                .into_iter()
                .filter(|d| d.status == "pending")
                .map(|d| at(&d.next_attempt_at))
                .min();
            let Some(due) = due else { return };
            // The first timer tick at or after the mail's due time.
            let now = self.clock.now();
            let mut t = now;
            while t < due {
                t += DELIVER_EVERY;
            }
            if t >= next {
                return;
            }
            self.clock.set(t);
            self.tick(Job::Deliver, t, Trigger::Schedule);
        }
        panic!(
            "a mail stays due after 100 delivery ticks: {:#?}",
            self.ticks
        );
    }

    /// The mails written by the file transport: (subject, To and Cc addresses, Message-ID,
    /// plain text), in Message-ID order.
    fn mails(&self) -> Vec<Mail> {
        let mut out: Vec<Mail> = TestEnv::emls(&self.env.outbox)
            .iter()
            .map(|p| Mail::parse(&fs::read(p).unwrap()))
            .collect();
        out.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        out
    }
}

#[derive(Debug, Clone)]
struct Mail {
    subject: String,
    to: Vec<String>,
    message_id: String,
    text: String,
}

impl Mail {
    fn parse(raw: &[u8]) -> Mail {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        let mut to: Vec<String> = Vec::new();
        for list in [m.to(), m.cc()].into_iter().flatten() {
            to.extend(list.iter().filter_map(|a| a.address()).map(str::to_owned));
        }
        Mail {
            subject: m.subject().unwrap_or_default().to_owned(),
            to,
            message_id: format!("<{}>", m.message_id().unwrap_or_default()),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        }
    }
}

/// The bytes a server stored are the spooled ones. lettre ends DATA with CRLF "." CRLF after a
/// message that already ends in CRLF, so the server keeps one empty line more at the end.
fn same_message(received: &[u8], spooled: &[u8]) -> bool {
    let trim = |mut b: &[u8]| {
        while let Some(rest) = b.strip_suffix(b"\r\n") {
            b = rest;
        }
        b.to_vec()
    };
    trim(received) == trim(spooled)
}

/// The units of October 2026 the samples' generator says are accepted (samples/expected.json).
fn accepted_in_the_samples() -> usize {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(repo().join("samples/expected.json")).unwrap())
            .unwrap();
    v["units"]
        .as_object()
        .unwrap()
        .values()
        .filter(|u| u["status"] == "accepted")
        .count()
}

const REPORT_TO: [&str; 2] = ["thuongtruc@lamdong.dcs.vn", "vanphong@lamdong.dcs.vn"];

/// October 2026 as the daemon lives it, from 31 October to 1 December (office time, +07:00):
/// the reminder at 08:00 on 2 November goes once to each unit with an address and no accepted
/// report then; the send at 08:00 on 4 November makes and mails October's report once; Đà Lạt's
/// report, held back until 6 November, goes out as the first supplementary report at that
/// day's scan (`supplement = "auto"`), once; the rest of the month sends nothing more.
#[test]
fn a_month_reminds_once_sends_once_and_supplements_a_late_report() {
    let da_lat_late = at("2026-11-06T10:00:00+07:00");
    let mut sim = Sim::new(
        at("2026-10-31T00:00:00+07:00"),
        &[("TU Da Lat T10-2026.xlsx", da_lat_late)],
        |t| set_key(&t, "daemon", "supplement", "\"auto\""),
    );
    assert_eq!(sim.settings.daemon.supplement, SupplementMode::Auto);
    sim.start();

    // Up to the reminder and a day past it.
    sim.run_until(at("2026-11-03T08:00:00+07:00"));
    let mails = sim.mails();
    let subject = "Nhắc nộp báo cáo KL14 - Tháng 10/2026 (hạn 17:00 ngày 03/11/2026)";
    let reminded: Vec<(&str, &[String])> = mails
        .iter()
        .map(|m| (m.subject.as_str(), m.to.as_slice()))
        .collect();
    let mut to: Vec<&str> = reminded.iter().map(|(_, to)| to[0].as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "dalat@lamdong.dcs.vn",
            "damrong@lamdong.dcs.vn",
            "dilinh@lamdong.dcs.vn"
        ],
        "Công an reported on 1 November: not reminded; {reminded:#?}"
    );
    for (s, to) in &reminded {
        assert_eq!(*s, subject);
        assert_eq!(to.len(), 1, "{to:?}");
    }
    // What a unit reads: Đam Rông's reminder, dated by the moved clock (only the random part
    // of its Message-ID filtered).
    let dam_rong = TestEnv::emls(&sim.env.outbox)
        .into_iter()
        .find(|p| Mail::parse(&fs::read(p).unwrap()).to == ["damrong@lamdong.dcs.vn"])
        .expect("Đam Rông's reminder");
    let mut snap = insta::Settings::clone_current();
    snap.set_prepend_module_to_snapshot(false);
    snap.set_omit_expression(true);
    snap.add_filter(r"\.[0-9a-f]{16}@", ".[NONCE]@");
    snap.bind(|| {
        insta::assert_snapshot!("reminder_mail", crate::snapshots::mail_text(&dam_rong));
    });
    let rows = sim.state().deliveries_of("reminder");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert!(
        rows.iter()
            .all(|r| r.status == "sent" && r.period == "2026-10")
    );

    // Past the send time.
    sim.run_until(at("2026-11-05T00:00:00+07:00"));
    let state = sim.state();
    let runs = state.runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (runs[0].trigger.as_str(), runs[0].period.as_str()),
        ("schedule", "2026-10")
    );
    let reports = state.deliveries_of("report");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].status, "sent");
    assert_eq!(reports[0].attempts, 1);
    assert_eq!(reports[0].run_id, Some(runs[0].id));
    let total = sim.settings.roster.units.len();
    let without_da_lat = accepted_in_the_samples() - 1;
    let report = sim
        .mails()
        .into_iter()
        .find(|m| m.message_id == reports[0].message_id)
        .expect("the report's .eml in the outbox");
    assert_eq!(
        report.subject,
        format!("Báo cáo tổng hợp KL14 - Tháng 10/2026 ({without_da_lat}/{total} đơn vị)")
    );
    assert_eq!(report.to, REPORT_TO);
    assert!(
        report.message_id.contains(".20261104T080000."),
        "dated by the daemon's clock, at the send time: {}",
        report.message_id
    );
    assert_eq!(
        state.jobs_done(),
        [
            ("remind".into(), "2026-10".into(), "schedule".into()),
            ("send".into(), "2026-10".into(), "schedule".into()),
        ]
    );
    assert_eq!(sim.mails().len(), 4, "3 reminders and the report");

    // Đà Lạt's report comes on the 6th; that day's scan sends the supplement. Then the rest of
    // the month: daily scans, nothing new.
    sim.run_until(at("2026-12-01T00:00:00+07:00"));
    let state = sim.state();
    let supplements = state.deliveries_of("supplement");
    assert_eq!(supplements.len(), 1, "once: {supplements:#?}");
    assert_eq!(supplements[0].status, "sent");
    let supplement = sim
        .mails()
        .into_iter()
        .find(|m| m.message_id == supplements[0].message_id)
        .expect("the supplement's .eml");
    assert_eq!(
        supplement.subject,
        format!(
            "Bổ sung lần 1: Báo cáo tổng hợp KL14 - Tháng 10/2026 ({}/{total} đơn vị)",
            without_da_lat + 1
        )
    );
    assert_eq!(supplement.to, REPORT_TO);
    assert!(
        supplement.text.contains("Thành ủy Đà Lạt"),
        "{}",
        supplement.text
    );
    assert!(
        supplement.message_id.contains(".20261106T120000."),
        "sent at the noon scan after the file came: {}",
        supplement.message_id
    );
    assert_eq!(sim.mails().len(), 5, "nothing else all month");
    assert_eq!(state.deliveries_of("reminder").len(), 3);
    assert_eq!(state.deliveries_of("report").len(), 1);
    let scans = sim.ticks.iter().filter(|(j, _, _)| *j == Job::Scan).count();
    assert_eq!(scans, 31, "one scan a day, 31 October to 30 November");
}

/// With `supplement = "manual"` (the default) a report that comes after the send goes out by
/// itself to nobody: the scan keeps its copy in the archive and tells the operator, in the log,
/// the command that sends the supplementary report.
#[test]
fn a_late_report_is_logged_not_sent_in_manual_mode() {
    let mut sim = Sim::new(
        at("2026-11-04T07:00:00+07:00"),
        &[("TU Da Lat T10-2026.xlsx", at("2026-11-06T10:00:00+07:00"))],
        |t| t,
    );
    assert_eq!(sim.settings.daemon.supplement, SupplementMode::Manual);
    let log = Log::default();
    tracing::subscriber::with_default(log.subscriber(), || {
        sim.start();
        sim.run_until(at("2026-11-06T00:00:00+07:00"));
    });
    let before = log.text();
    let told = "reports arrived after the period's report was sent; send the supplementary \
                report with `tonghop run --supplement --period 2026-10`";
    assert!(!before.contains(told), "nothing late yet:\n{before}");
    tracing::subscriber::with_default(log.subscriber(), || {
        sim.run_until(at("2026-11-10T00:00:00+07:00"))
    });
    let after = log.text();
    let lines: Vec<&str> = after.lines().filter(|l| l.contains(told)).collect();
    assert!(!lines.is_empty(), "{after}");
    assert!(lines[0].contains("period=2026-10"), "{}", lines[0]);
    assert!(lines[0].contains("newly_reported=1"), "{}", lines[0]);

    let state = sim.state();
    assert_eq!(state.deliveries_of("report").len(), 1);
    assert!(state.deliveries_of("supplement").is_empty());
    // The reminder of 2 November, missed while down, was caught up at the start (within
    // catch_up_days): Đà Lạt, Đam Rông and Di Linh (rejected by then), once.
    assert_eq!(state.deliveries_of("reminder").len(), 3);
    assert_eq!(
        sim.mails().len(),
        4,
        "3 reminders and the report, no supplement"
    );
    // Đà Lạt's file is kept, whatever the inbox does with it later.
    let archived = walkdir::WalkDir::new(sim.data().join("archive/2026-10/da-lat"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .count();
    assert_eq!(archived, 1);
}

/// A log written to memory, for the tracing subscriber of one test.
#[derive(Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<u8>>>);

impl Log {
    /// The operator log's format (as `tonghop daemon` writes it, without colours) into this.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
    type Writer = Log;

    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

/// The daemon is down over the send time (3 November noon to 5 November 09:00): at its next
/// start it catches the send up, once (trigger `catch_up`), and a later restart and the rest of
/// the week do not send again.
#[test]
fn a_send_missed_while_down_is_caught_up_once_at_the_next_start() {
    let mut sim = Sim::new(at("2026-11-03T00:00:00+07:00"), &[], |t| t);
    sim.start();
    sim.run_until(at("2026-11-03T12:00:00+07:00"));
    assert!(sim.state().deliveries_of("report").is_empty());
    sim.down_until(at("2026-11-05T09:00:00+07:00"));
    assert!(sim.state().runs().is_empty(), "nothing ran while down");

    sim.start();
    let state = sim.state();
    let runs = state.runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (runs[0].trigger.as_str(), runs[0].period.as_str()),
        ("catch_up", "2026-10")
    );
    let reports = state.deliveries_of("report");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, "sent");
    let report = sim
        .mails()
        .into_iter()
        .find(|m| m.message_id == reports[0].message_id)
        .unwrap();
    assert!(
        report
            .subject
            .starts_with("Báo cáo tổng hợp KL14 - Tháng 10/2026 ("),
        "{}",
        report.subject
    );
    assert!(
        report.message_id.contains(".20261105T090000."),
        "made at the restart, by the daemon's clock: {}",
        report.message_id
    );
    assert!(
        state
            .jobs_done()
            .contains(&("send".into(), "2026-10".into(), "catch_up".into())),
        "{:?}",
        state.jobs_done()
    );

    // Restarted again, and a week on: no second report.
    sim.run_until(at("2026-11-06T00:00:00+07:00"));
    sim.start();
    sim.run_until(at("2026-11-12T00:00:00+07:00"));
    let state = sim.state();
    assert_eq!(state.runs().len(), 1, "{:#?}", state.runs());
    assert_eq!(state.deliveries_of("report").len(), 1);
    let reports_in_outbox = sim
        .mails()
        .iter()
        .filter(|m| m.subject.starts_with("Báo cáo tổng hợp"))
        .count();
    assert_eq!(reports_in_outbox, 1);
}

/// Reminders that failed because the inbox could not be read (an unmounted share at 08:00 on
/// 2 November) are retried at the next scan once it is back (noon), not only at the next
/// start; each unit without an accepted report by then gets its reminder once.
#[test]
fn reminders_failed_on_a_missing_inbox_are_retried_at_the_next_scan() {
    let mut sim = Sim::new(at("2026-11-01T00:00:00+07:00"), &[], |t| t);
    sim.start();
    sim.run_until(at("2026-11-02T07:00:00+07:00"));
    let away = sim.env.inbox.with_extension("unmounted");
    fs::rename(&sim.env.inbox, &away).unwrap();
    sim.tolerate_failures = true;
    // (Cát Tiên's file comes at 08:20, after the share is back.)
    sim.run_until(at("2026-11-02T08:10:00+07:00"));
    let failed: Vec<(Job, DateTime<Utc>)> = sim.failures.iter().map(|(j, t, _)| (*j, *t)).collect();
    assert_eq!(failed, [(Job::Remind, at("2026-11-02T08:00:00+07:00"))]);
    assert!(sim.state().deliveries_of("reminder").is_empty());
    assert!(sim.state().jobs_done().is_empty());
    assert!(sim.mails().is_empty());

    // The share is back before noon; Đà Lạt's report came at 09:15 meanwhile.
    fs::rename(&away, &sim.env.inbox).unwrap();
    sim.tolerate_failures = false;
    sim.run_until(at("2026-11-03T00:00:00+07:00"));
    let mut to: Vec<String> = sim.mails().iter().map(|m| m.to.join(",")).collect();
    to.sort();
    assert_eq!(to, ["damrong@lamdong.dcs.vn", "dilinh@lamdong.dcs.vn"]);
    let state = sim.state();
    let reminders = state.deliveries_of("reminder");
    assert_eq!(reminders.len(), 2, "{reminders:#?}");
    assert!(reminders.iter().all(|r| r.status == "sent"));
    assert!(
        reminders
            .iter()
            .all(|r| r.created_at == "2026-11-02T05:00:00.000Z"),
        "queued at the noon scan: {reminders:#?}"
    );
    assert_eq!(
        state.jobs_done(),
        [("remind".into(), "2026-10".into(), "catch_up".into())]
    );
}

/// The report meets a server that answers 451 at the end of DATA (a temporary failure). The
/// daemon stops before the retry is due; a new daemon on the same data folder retries it at
/// its start and the server gets it once, with the Message-ID recorded at the first attempt.
#[test]
fn a_mail_failed_transiently_is_retried_by_the_next_daemon_and_sent_once() {
    let server = SmtpServer::start(SmtpOptions::plain().reply_data(&[451, 250]));
    let mut sim = Sim::new(at("2026-11-04T07:00:00+07:00"), &[], |t| t);
    sim.settings.mail.transport = Transport::Smtp(server.settings());
    // No reminders (they would meet the 451 first): the report is the first mail.
    for u in &mut sim.settings.roster.units {
        u.email = None;
    }
    sim.start();
    // The send at 08:00, and nothing after it (the retry is due at 08:01).
    sim.run_until(at("2026-11-04T08:00:00+07:00"));
    let reports = sim.state().deliveries_of("report");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].status, "pending", "{reports:#?}");
    assert_eq!(reports[0].attempts, 1);
    assert!(
        reports[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("451"),
        "{reports:#?}"
    );
    assert!(server.messages().is_empty(), "{}", server.transcript());

    // Down for an hour; a new daemon starts and delivers what is due.
    sim.down_until(at("2026-11-04T09:00:00+07:00"));
    sim.start();
    let reports = sim.state().deliveries_of("report");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, "sent", "{reports:#?}");
    assert_eq!(reports[0].attempts, 2);
    assert_eq!(reports[0].last_error, None, "cleared once sent");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{}", server.transcript());
    assert!(
        same_message(&messages[0], &fs::read(&reports[0].eml_path).unwrap()),
        "the server got the spooled bytes"
    );
    let mail = Mail::parse(&messages[0]);
    assert_eq!(mail.message_id, reports[0].message_id);
    assert!(
        mail.subject
            .starts_with("Báo cáo tổng hợp KL14 - Tháng 10/2026 ("),
        "{}",
        mail.subject
    );
    assert_eq!(mail.to, REPORT_TO);
    let envelopes = server.envelopes();
    let mut rcpt = envelopes[0].rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(rcpt, REPORT_TO);

    // A week on: the server has nothing more.
    sim.run_until(at("2026-11-11T00:00:00+07:00"));
    assert_eq!(server.messages().len(), 1, "{}", server.transcript());
    assert!(
        server.transcript().contains("DATA -> 451"),
        "{}",
        server.transcript()
    );
}

/// A server that accepts the connection and never answers: each attempt times out (the
/// configured 2 s, real time) and the mail stays pending, its next attempt 60 s, then 120 s
/// after the failed one ended, by the daemon's clock. The operator points the config at a working
/// server and restarts: the same mail (its Message-ID, the spooled bytes) goes out, once.
#[test]
fn a_silent_server_keeps_the_mail_pending_until_a_working_server_takes_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            match s {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
    });
    let mut sim = Sim::new(at("2026-11-04T07:59:00+07:00"), &[], |t| t);
    for u in &mut sim.settings.roster.units {
        u.email = None;
    }
    sim.settings.mail.transport = Transport::Smtp(tonghop::config::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: tonghop::config::Security::Plain,
        username: None,
        password: None,
        ca_file: None,
        timeout: std::time::Duration::from_secs(2),
    });
    sim.start();
    // The send at 08:00 and its retry a minute later.
    sim.run_until(at("2026-11-04T08:02:30+07:00"));
    let reports = sim.state().deliveries_of("report");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let report = reports[0].clone();
    assert_eq!((report.status.as_str(), report.attempts), ("pending", 2));
    let error = report.last_error.clone().unwrap();
    assert!(
        error.contains("không trả lời đầy đủ trong 2 giây"),
        "the error names the timeout: {error}"
    );
    // The second attempt (at a delivery tick after 08:01) ended when its 2 s ran out; the
    // next one waits twice the first delay from then.
    let retried = sim
        .ticks
        .iter()
        .rfind(|(j, _, _)| *j == Job::Deliver)
        .map(|(_, t, _)| *t)
        .unwrap();
    assert!(retried > at("2026-11-04T08:01:00+07:00"), "{retried}");
    let wait = at(&report.next_attempt_at) - retried;
    assert!(
        wait >= chrono::Duration::seconds(122) && wait < chrono::Duration::seconds(125),
        "{wait} after the retry at {retried}"
    );
    assert!(sim.mails().is_empty());

    // The operator fixes the config and restarts the daemon.
    let server = SmtpServer::start(SmtpOptions::plain());
    sim.settings.mail.transport = Transport::Smtp(server.settings());
    sim.down_until(at("2026-11-04T08:10:00+07:00"));
    sim.start();
    let reports = sim.state().deliveries_of("report");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].message_id, report.message_id, "the same mail");
    assert_eq!(
        (reports[0].status.as_str(), reports[0].attempts),
        ("sent", 3)
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{}", server.transcript());
    assert!(
        same_message(&messages[0], &fs::read(&report.eml_path).unwrap()),
        "the server got the spooled bytes"
    );
}

/// The ticks a simulation feeds are the schedule's: the shipped crons over October's send week.
#[test]
fn the_ticks_are_the_schedules_own() {
    let sim = Sim::new(at("2026-11-01T00:00:00+07:00"), &[], |t| t);
    let fires = schedule::fires_between(
        &sim.settings,
        at("2026-11-01T00:00:00+07:00"),
        at("2026-11-05T00:00:00+07:00"),
    );
    let not_scans: Vec<(Job, DateTime<Utc>)> = fires
        .iter()
        .copied()
        .filter(|(j, _)| *j != Job::Scan)
        .collect();
    assert_eq!(
        not_scans,
        [
            (Job::Remind, at("2026-11-02T08:00:00+07:00")),
            (Job::Send, at("2026-11-04T08:00:00+07:00")),
        ]
    );
    assert_eq!(
        fires.len(),
        2 + 4,
        "and a scan at noon each day: {fires:#?}"
    );
}
