//! A real SMTP server for the tests: tests/support/smtp_server.py (aiosmtpd) as a child process on
//! 127.0.0.1 and a free port, with its own CA, Maildir and scripted replies. Killed on drop.
//!
//! ```ignore
//! let server = SmtpServer::start(SmtpOptions::starttls().auth("tonghop", "pw").reply_data(&[451, 250]));
//! deliver::send(&out, &Transport::Smtp(server.settings())).await?;
//! let raw = server.messages();
//! ```

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonghop::config::{Secret, Security, SmtpSettings};

/// How the server behaves. Start from [`SmtpOptions::plain`], [`SmtpOptions::starttls`] or
/// [`SmtpOptions::tls`] and chain the rest.
#[derive(Debug, Clone)]
pub struct SmtpOptions {
    pub security: Security,
    /// AUTH PLAIN/LOGIN required with this user and password.
    pub auth: Option<(String, String)>,
    /// Scripted replies (one per command, the last repeats; 250 = normal). Empty = always 250.
    pub reply_mail: Vec<u16>,
    pub reply_rcpt: Vec<u16>,
    pub reply_data: Vec<u16>,
    /// Addresses refused with 550 at every `RCPT TO`, whatever the scripts say.
    pub refuse_rcpt: Vec<String>,
}

impl SmtpOptions {
    pub fn plain() -> SmtpOptions {
        SmtpOptions {
            security: Security::Plain,
            auth: None,
            reply_mail: vec![],
            reply_rcpt: vec![],
            reply_data: vec![],
            refuse_rcpt: vec![],
        }
    }

    /// STARTTLS offered and required.
    pub fn starttls() -> SmtpOptions {
        SmtpOptions {
            security: Security::Starttls,
            ..SmtpOptions::plain()
        }
    }

    /// TLS from the first byte.
    pub fn tls() -> SmtpOptions {
        SmtpOptions {
            security: Security::Tls,
            ..SmtpOptions::plain()
        }
    }

    pub fn auth(mut self, user: &str, password: &str) -> SmtpOptions {
        self.auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    pub fn reply_mail(mut self, codes: &[u16]) -> SmtpOptions {
        self.reply_mail = codes.to_vec();
        self
    }

    pub fn reply_rcpt(mut self, codes: &[u16]) -> SmtpOptions {
        self.reply_rcpt = codes.to_vec();
        self
    }

    /// Refuse this address (550 5.1.1) at every `RCPT TO`; the others follow `reply_rcpt`.
    pub fn refuse_rcpt(mut self, address: &str) -> SmtpOptions {
        self.refuse_rcpt.push(address.to_owned());
        self
    }

    /// E.g. `&[451, 250]`: the first message gets 451 at the end of DATA, later ones 250.
    pub fn reply_data(mut self, codes: &[u16]) -> SmtpOptions {
        self.reply_data = codes.to_vec();
        self
    }
}

/// One message's envelope as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Envelope {
    /// The Maildir file name (under `maildir/new`).
    pub file: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
}

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub options: SmtpOptions,
    /// The CA that signed the server's certificate (PEM): the client's `ca_file`.
    pub ca_pem_path: PathBuf,
    pub maildir: PathBuf,
    transcript: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Start the server and wait until it listens (the first run also builds the Python venv).
    pub fn start(options: SmtpOptions) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let certs = dir.path().join("certs");
        let mut cmd = Command::new(super::python());
        cmd.arg(super::repo().join("tests/support/smtp_server.py"))
            .arg("--security")
            .arg(security_flag(options.security))
            .arg("--maildir")
            .arg(&maildir)
            .arg("--certs")
            .arg(&certs);
        if let Some((user, password)) = &options.auth {
            cmd.args(["--user", user, "--password", password]);
        }
        for (flag, codes) in [
            ("--reply-mail", &options.reply_mail),
            ("--reply-rcpt", &options.reply_rcpt),
            ("--reply-data", &options.reply_data),
        ] {
            if !codes.is_empty() {
                let list: Vec<String> = codes.iter().map(u16::to_string).collect();
                cmd.arg(flag).arg(list.join(","));
            }
        }
        if !options.refuse_rcpt.is_empty() {
            cmd.arg("--refuse-rcpt").arg(options.refuse_rcpt.join(","));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("PYTHONUNBUFFERED", "1")
            .spawn()
            .expect("start tests/support/smtp_server.py");

        // Drain stdout and stderr for the whole life of the child (a full pipe would block it),
        // keeping them for the transcript; the READY line is passed on.
        let transcript = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        {
            let out = child.stdout.take().unwrap();
            let transcript = Arc::clone(&transcript);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if line.starts_with("READY ") {
                        let _ = ready_tx.send(line.clone());
                    }
                    let mut t = transcript.lock().unwrap();
                    t.push_str(&line);
                    t.push('\n');
                }
            });
        }
        {
            let mut err = child.stderr.take().unwrap();
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    stderr
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }

        let ready = match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "smtp_server.py did not get ready\n--- stdout\n{}--- stderr\n{}",
                    transcript.lock().unwrap(),
                    stderr.lock().unwrap()
                );
            }
        };
        let field = |key: &str| {
            ready
                .split(' ')
                .find_map(|kv| kv.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {ready:?}"))
                .to_owned()
        };
        SmtpServer {
            child,
            port: field("port=").parse().unwrap(),
            options,
            ca_pem_path: PathBuf::from(field("ca=")),
            maildir,
            transcript,
            stderr,
            _dir: dir,
        }
    }

    /// Settings that reach this server: host `localhost` (the name on its certificate), its
    /// security, its CA, the configured user and password, and a 10 s timeout.
    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "localhost".into(),
            port: self.port,
            security: self.options.security,
            username: self.options.auth.as_ref().map(|(u, _)| u.clone()),
            password: self
                .options
                .auth
                .as_ref()
                .map(|(_, p)| Secret::new(p.clone())),
            ca_file: Some(self.ca_pem_path.clone()),
            timeout: Duration::from_secs(10),
        }
    }

    /// A `[mail.smtp]` table for a tonghop.toml that reaches this server, the password read
    /// from the environment variable `password_env` (for tests that run the real binary).
    pub fn config_toml(&self, password_env: &str) -> String {
        let mut t = format!(
            "[mail.smtp]\nhost = \"localhost\"\nport = {}\nsecurity = \"{}\"\nca_file = {:?}\ntimeout_seconds = 10\n",
            self.port,
            security_flag(self.options.security),
            self.ca_pem_path.display().to_string(),
        );
        if let Some((user, _)) = &self.options.auth {
            t.push_str(&format!(
                "username = {user:?}\npassword_env = {password_env:?}\n"
            ));
        }
        t
    }

    /// The password to put in the environment variable named in [`SmtpServer::config_toml`].
    pub fn password(&self) -> Option<&str> {
        self.options.auth.as_ref().map(|(_, p)| p.as_str())
    }

    /// Every stored message, raw bytes as received, in arrival order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.join("new");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&new) {
            Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
            Err(_) => return vec![],
        };
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The envelope of every stored message, in arrival order.
    pub fn envelopes(&self) -> Vec<Envelope> {
        let Ok(text) = std::fs::read_to_string(self.maildir.join("envelopes.jsonl")) else {
            return vec![];
        };
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// What the server logged so far (connections, AUTH results, scripted replies, stored
    /// messages), then its stderr: for assertion messages.
    pub fn transcript(&self) -> String {
        format!(
            "{}--- stderr\n{}",
            self.transcript.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn security_flag(s: Security) -> &'static str {
    match s {
        Security::Plain => "plain",
        Security::Starttls => "starttls",
        Security::Tls => "tls",
    }
}
