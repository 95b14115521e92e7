//! The daemon: a clock in front of the application layer. The scheduler, the control endpoint and
//! the delivery timer only send `Event`s; one loop handles them, one at a time, by calling `app`:
//! `app::schedule::tick` for a tick, `app::execute` for a command.

pub mod control;

use chrono::{DateTime, Timelike as _, Utc};

use crate::app::run::Trigger;
use crate::app::schedule::{self, Job};

/// Everything the daemon's loop reacts to.
#[derive(Debug)]
pub enum Event {
    /// A scheduled job is due (`at` is its scheduled time).
    Tick {
        job: Job,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    /// A person asked for something through the control API (`tonghop trigger`): carried out
    /// by [`crate::app::execute`], answered on `reply`.
    Command {
        command: crate::app::Command,
        reply: tokio::sync::oneshot::Sender<Result<crate::app::Answer, crate::app::AppError>>,
    },
}

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::config::{CronSpec, Settings};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "another tonghop daemon is already running with the data folder {0} (its lock is held)"
    )]
    AlreadyRunning(PathBuf),
    #[error("cannot open {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::state::store::StoreError),
    #[error("cannot listen on 127.0.0.1:{port} for the control endpoint: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("cannot listen on {addr} for the console: {source}")]
    ConsoleListen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("scheduler: {0}")]
    Scheduler(String),
}

/// The daemon could not start or stopped on an error.
pub fn explain(e: &DaemonError) -> String {
    use DaemonError as D;
    match e {
        D::AlreadyRunning(data) => format!(
            "Một tonghop daemon khác đang chạy với thư mục dữ liệu {}; mỗi thư mục dữ liệu \
             chỉ dùng được cho một daemon.",
            data.display()
        ),
        D::Io { path, source } => format!(
            "Không mở được {}: {}.",
            path.display(),
            crate::wording::os(source)
        ),
        D::Store(s) => crate::app::explain::store(s),
        D::Listen { port, source } => format!(
            "Không mở được cổng điều khiển 127.0.0.1:{port}: {} (cổng đã bị chương trình \
             khác dùng? đổi daemon.control_port).",
            crate::wording::os(source)
        ),
        D::ConsoleListen { addr, source } => format!(
            "Không mở được địa chỉ {addr} cho bảng điều khiển: {} (cổng đã bị chương trình \
             khác dùng? đổi console.listen, hoặc tắt bằng console.enabled = false).",
            crate::wording::os(source)
        ),
        D::Scheduler(m) => format!("Lỗi bộ lập lịch: {m}"),
    }
}

/// Run the daemon until `shutdown` resolves. Every job goes through `app` (a run through
/// `app::run::run_once`, a mail through the outbox), under the run lock, so a `tonghop run`
/// made beside it (a dry run, `--inbox`) is safe.
pub async fn run(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let settings = Arc::new(settings);
    let data = settings.data.clone();
    // Private, as `tonghop run` makes it (it holds the archive, the spool and the token).
    crate::state::atomic::create_private_dir(&data).map_err(|e| DaemonError::Io {
        path: data.clone(),
        source: e,
    })?;
    // One daemon per data folder: a second one started by mistake stops here.
    let daemon_lock = crate::state::lock::DaemonLock::try_acquire(&data)
        .map_err(|e| DaemonError::Io {
            path: data.join("daemon.lock"),
            source: e,
        })?
        .ok_or_else(|| DaemonError::AlreadyRunning(data.clone()))?;
    let catch_up = schedule::start_up(&settings, clock.now())?;

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let (tx, mut rx) = mpsc::channel::<Event>(64);

    // The control endpoint.
    let token = crate::state::control::ensure_token(&data).map_err(|e| DaemonError::Io {
        path: data.clone(),
        source: e,
    })?;
    let port = settings.daemon.control_port;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| DaemonError::Listen { port, source: e })?;
    // The address actually bound (port 0 = any free port), for `tonghop trigger`.
    let addr = listener
        .local_addr()
        .map_err(|e| DaemonError::Listen { port, source: e })?;
    let addr_path = data.join(crate::state::control::CONTROL_ADDR_FILE);
    crate::state::atomic::write(&addr_path, addr.to_string().as_bytes()).map_err(|e| {
        DaemonError::Io {
            path: addr_path.clone(),
            source: e,
        }
    })?;
    {
        let tx = tx.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = control::serve(listener, token, tx, stopped).await {
                tracing::error!(error = %e, "control endpoint stopped");
            }
        });
    }

    // The console: its actions reach the loop as commands, like the control endpoint's.
    if settings.console.enabled {
        let addr = settings.console.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::ConsoleListen { addr, source: e })?;
        let bound = listener
            .local_addr()
            .map_err(|e| DaemonError::ConsoleListen { addr, source: e })?;
        let addr_path = data.join(crate::state::control::CONSOLE_ADDR_FILE);
        crate::state::atomic::write(&addr_path, bound.to_string().as_bytes()).map_err(|e| {
            DaemonError::Io {
                path: addr_path.clone(),
                source: e,
            }
        })?;
        let (submit, mut submitted) = mpsc::channel::<(
            crate::app::Command,
            tokio::sync::oneshot::Sender<Result<crate::app::Answer, crate::app::AppError>>,
        )>(16);
        {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some((command, reply)) = submitted.recv().await {
                    if tx.send(Event::Command { command, reply }).await.is_err() {
                        break;
                    }
                }
            });
        }
        let console = Arc::new(crate::console::Console {
            settings: settings.clone(),
            clock: clock.clone(),
            submit,
        });
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::console::serve(listener, console, stopped).await {
                tracing::error!(error = %e, "console stopped");
            }
        });
    }

    // The schedule: each tick only sends an event.
    let mut sched = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    for (job, spec) in [
        (Job::Send, &settings.schedule.send),
        (Job::Remind, &settings.schedule.remind),
        (Job::Scan, &settings.schedule.scan),
    ] {
        add_job(&sched, job, spec, settings.timezone, tx.clone()).await?;
    }
    sched
        .start()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;

    // Queued mails: at start (a restart resumes them), then every 30 seconds, or more often if
    // the first retry delay is shorter (a retry is attempted when it is due, not up to 30 s late).
    {
        let tx = tx.clone();
        let clock = clock.clone();
        let period = Duration::from_secs(30).min(settings.daemon.retry_first);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            loop {
                every.tick().await;
                let ev = Event::Tick {
                    job: Job::Deliver,
                    at: clock.now(),
                    trigger: Trigger::Schedule,
                };
                if tx.send(ev).await.is_err() {
                    break;
                }
            }
        });
    }

    // Catch-up of what was missed while down.
    for (job, at) in catch_up {
        let _ = tx
            .send(Event::Tick {
                job,
                at,
                trigger: Trigger::CatchUp,
            })
            .await;
    }

    tracing::info!(
        pid = std::process::id(),
        data = %data.display(),
        inbox = %settings.inbox.display(),
        control = %addr,
        send = %settings.schedule.send.expr,
        remind = %settings.schedule.remind.expr,
        scan = %settings.schedule.scan.expr,
        "daemon started"
    );

    let mut stop = stop_rx.clone();
    loop {
        let ev = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            ev = rx.recv() => match ev { Some(ev) => ev, None => break },
        };
        let (work, reply) = match ev {
            Event::Command { command, reply } => (Work::Command(command), Some(reply)),
            Event::Tick { job, at, trigger } => (Work::Tick { job, at, trigger }, None),
        };
        // What the work is about, for a failure's log line (job and period, as elsewhere).
        let about = match &work {
            Work::Tick { job, at, .. } => (
                job.as_str(),
                crate::config::collection::current(&settings, *at).key(),
            ),
            Work::Command(crate::app::Command::Run { period, .. }) => (
                "manual",
                period.map(|p| p.key()).unwrap_or_else(|| "default".into()),
            ),
            Work::Command(crate::app::Command::Resend { target, .. }) => {
                ("resend", format!("{target:?}"))
            }
            Work::Command(crate::app::Command::CheckInbox { period }) => (
                "check",
                period.map(|p| p.key()).unwrap_or_else(|| "default".into()),
            ),
        };
        let (s, c) = (settings.clone(), clock.clone());
        let mut handle = tokio::task::spawn_blocking(move || work.run(&s, c.as_ref()));
        let result = tokio::select! {
            r = &mut handle => r,
            _ = stop.wait_for(|s| *s) => {
                tracing::info!(grace_seconds = settings.daemon.shutdown_grace.as_secs(), "stopping: letting the work in progress finish");
                match tokio::time::timeout(settings.daemon.shutdown_grace, &mut handle).await {
                    Ok(Ok(Done::Command(r))) => {
                        if let Some(reply) = reply {
                            let _ = reply.send(*r);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tracing::warn!("the work in progress did not finish in time; abandoned (it is resumed at the next start)"),
                }
                break;
            }
        };
        match result {
            Ok(Done::Command(r)) => {
                let r = *r;
                match &r {
                    // Refusals the person asked about (already sent, nothing changed, queued):
                    // what happened, not a failure.
                    Err(e)
                        if matches!(
                            e.kind,
                            crate::app::ErrorKind::AlreadySent
                                | crate::app::ErrorKind::MailQueued
                                | crate::app::ErrorKind::NothingChanged
                        ) =>
                    {
                        tracing::info!(job = about.0, period = %about.1, answer = %e.detail.as_deref().unwrap_or(&e.message), "manual run refused")
                    }
                    // The daemon's log keeps the failure too, not only the waiting client.
                    Err(e) => {
                        tracing::warn!(job = about.0, period = %about.1, error = %e.detail.as_deref().unwrap_or(&e.message), "manual run failed")
                    }
                    Ok(_) => {}
                }
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            Ok(Done::Tick(Err(e))) => {
                tracing::error!(job = about.0, period = %about.1, error = %e, "scheduled work failed")
            }
            Ok(Done::Tick(Ok(_))) => {}
            Err(e) => {
                let message = format!("lỗi bên trong chương trình: {e}");
                tracing::error!(job = about.0, period = %about.1, error = %message, "work failed");
                if let Some(reply) = reply {
                    let _ = reply.send(Err(crate::app::AppError::new(
                        crate::app::ErrorKind::Internal,
                        message,
                    )));
                }
            }
        }
    }
    let _ = sched.shutdown().await;
    tracing::info!("daemon stopped");
    drop(daemon_lock);
    Ok(())
}

async fn add_job(
    sched: &tokio_cron_scheduler::JobScheduler,
    job: Job,
    spec: &CronSpec,
    tz: chrono_tz::Tz,
    tx: mpsc::Sender<Event>,
) -> Result<(), DaemonError> {
    let own = spec.clone();
    let j = tokio_cron_scheduler::Job::new_async_tz(spec.expr.as_str(), tz, move |_id, _sched| {
        let tx = tx.clone();
        // The time the job was scheduled for (whole seconds), not the moment the callback ran:
        // it is what the store records as `scheduled_for` and the log shows.
        let now = Utc::now();
        let at = own
            .last_at_or_before(&now.with_timezone(&tz))
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| now - *t < chrono::Duration::minutes(1))
            .unwrap_or_else(|| now.with_nanosecond(0).unwrap_or(now));
        Box::pin(async move {
            let _ = tx
                .send(Event::Tick {
                    job,
                    at,
                    trigger: Trigger::Schedule,
                })
                .await;
        })
    })
    .map_err(|e| DaemonError::Scheduler(format!("{}: {e}", spec.expr)))?;
    sched
        .add(j)
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    Ok(())
}

/// One unit of work of the loop, run on a blocking thread.
enum Work {
    Tick {
        job: Job,
        at: DateTime<Utc>,
        trigger: Trigger,
    },
    Command(crate::app::Command),
}

/// What a unit of work ended with.
enum Done {
    Command(Box<Result<crate::app::Answer, crate::app::AppError>>),
    Tick(schedule::TickResult),
}

impl Work {
    fn run(self, settings: &Settings, clock: &dyn Clock) -> Done {
        match self {
            Work::Command(command) => Done::Command(Box::new(crate::app::execute(
                settings,
                clock,
                &command,
                &|_, _| {},
            ))),
            Work::Tick { job, at, trigger } => {
                Done::Tick(schedule::tick(settings, clock, job, at, trigger))
            }
        }
    }
}
