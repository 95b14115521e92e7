//! The transports: SMTP (spoken command by command, so a refused recipient does not stop the
//! mail for the others) and a folder of `.eml` files. The only code that hands a mail over.

use std::path::{Path, PathBuf};

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};

use crate::config::{Security, SmtpSettings, Transport};

use crate::pipeline::compose::*;

/// What happened to a mail that was handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `"file"` or `"smtp"`.
    pub transport: &'static str,
    pub message_id: String,
    /// The recipients that took the mail.
    pub recipients: Vec<String>,
    /// The `.eml` written by the file transport.
    pub eml_path: Option<PathBuf>,
    /// The SMTP server's final reply, e.g. `250 2.0.0 Ok: queued as 4F2A1`.
    pub server_reply: Option<String>,
    /// Recipients the server refused for good (5xx to `RCPT TO`) while it took the others.
    pub refused: Vec<Refused>,
}

// ---------------------------------------------------------------------------------------------
// Transports

/// Write the mail as `<Message-ID>.eml` into `dir` (created if missing), atomically: a temporary
/// file in the same folder, renamed into place.
pub fn write_eml(out: &Outgoing, dir: &Path) -> Result<PathBuf, DeliveryError> {
    write_file_atomic(dir, &eml_name(&out.message_id), &out.message.formatted())
}

/// Hand the mail to the configured transport. An SMTP attempt (connect, TLS, login, transfer) is
/// bounded as a whole by `smtp.timeout`. One attempt only: retrying is the caller's decision
/// ([`DeliveryError::is_transient`]).
pub async fn send(out: &Outgoing, transport: &Transport) -> Result<Delivery, DeliveryError> {
    send_spooled(&out.spooled(), transport).await
}

/// `host:port (security)`, as the operator wrote it in the config.
fn server_name(smtp: &SmtpSettings) -> String {
    let security = match smtp.security {
        Security::Starttls => "starttls",
        Security::Tls => "tls",
        Security::Plain => "plain",
    };
    format!("{}:{} ({security})", smtp.host, smtp.port)
}

/// How to reach the server: TLS as configured (with the private CA if any) and the login.
fn smtp_tls_and_login(
    smtp: &SmtpSettings,
    server: &str,
) -> Result<(Tls, Option<Credentials>), DeliveryError> {
    let tls_err = |e: lettre::transport::smtp::Error| DeliveryError::Tls {
        server: server.to_owned(),
        message: e.to_string(),
    };
    let params = match smtp.security {
        Security::Plain => None,
        Security::Starttls | Security::Tls => {
            let mut b = TlsParameters::builder(smtp.host.clone());
            if let Some(ca_file) = &smtp.ca_file {
                let pem = fs_err::read(ca_file).map_err(|e| DeliveryError::CaFile {
                    path: ca_file.clone(),
                    reason: e.to_string(),
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| DeliveryError::CaFile {
                    path: ca_file.clone(),
                    reason: format!("not a PEM certificate: {e}"),
                })?;
                b = b.add_root_certificate(cert);
            }
            Some(b.build().map_err(tls_err)?)
        }
    };
    let tls = match (smtp.security, params) {
        (Security::Starttls, Some(p)) => Tls::Required(p),
        (Security::Tls, Some(p)) => Tls::Wrapper(p),
        _ => Tls::None,
    };
    let login = match &smtp.username {
        None => None,
        Some(username) => {
            let Some(password) = &smtp.password else {
                return Err(DeliveryError::NoPassword {
                    server: server.to_owned(),
                    username: username.clone(),
                });
            };
            Some(Credentials::new(
                username.clone(),
                password.expose().to_owned(),
            ))
        }
    };
    Ok((tls, login))
}

/// `250 2.0.0 Ok: queued as X`: a reply's code and text on one line.
fn reply_line(r: &lettre::transport::smtp::response::Response) -> String {
    let text: Vec<&str> = r.message().collect();
    format!("{} {}", r.code(), text.join(" "))
        .trim_end()
        .to_owned()
}

/// One SMTP transaction, command by command, so that a recipient refused for good does not stop
/// the mail for the others (lettre's `send_raw` gives up on the first refused `RCPT TO`).
///
/// - every `RCPT TO` answered 2xx: the mail goes to all;
/// - some answered 5xx, the others 2xx: the mail goes to those accepted, and the refused ones
///   come back in [`Delivery::refused`] with the server's answer;
/// - any answered 4xx: nothing is sent (`RSET`), a transient error: the next attempt tries every
///   recipient again, so no one gets the mail twice;
/// - all answered 5xx: a permanent [`DeliveryError::Reply`] naming them.
async fn smtp_session(
    smtp: &SmtpSettings,
    server: &str,
    envelope_from: lettre::Address,
    to: &[lettre::Address],
    bytes: &[u8],
) -> Result<(String, Vec<Refused>), DeliveryError> {
    use lettre::transport::smtp::authentication::DEFAULT_MECHANISMS;
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
    use lettre::transport::smtp::extension::{
        ClientId, Extension, MailBodyParameter, MailParameter,
    };
    // Whether the connection was made is known here, where each step is taken (lettre's error
    // says it only in its text).
    let fail = |e: lettre::transport::smtp::Error| smtp_error(&e, smtp, server.to_owned(), true);
    let fail_to_connect =
        |e: lettre::transport::smtp::Error| smtp_error(&e, smtp, server.to_owned(), false);
    let (tls, login) = smtp_tls_and_login(smtp, server)?;
    let hello = ClientId::default();
    let wrapper = match &tls {
        Tls::Wrapper(p) => Some(p.clone()),
        _ => None,
    };
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        (smtp.host.as_str(), smtp.port),
        Some(smtp.timeout),
        &hello,
        wrapper,
        None,
    )
    .await
    .map_err(fail_to_connect)?;
    if let Tls::Required(p) = &tls {
        conn.starttls(p.clone(), &hello).await.map_err(fail)?;
    }
    if let Some(login) = &login {
        conn.auth(DEFAULT_MECHANISMS, login).await.map_err(fail)?;
    }
    let mut options = Vec::new();
    if !to
        .iter()
        .chain([&envelope_from])
        .all(|a| a.to_string().is_ascii())
    {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            conn.abort().await;
            return Err(DeliveryError::Protocol {
                server: server.to_owned(),
                message: "an address is not ASCII and the server does not offer SMTPUTF8".into(),
                transient: false,
            });
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            conn.abort().await;
            return Err(DeliveryError::Protocol {
                server: server.to_owned(),
                message: "the message has 8-bit content and the server does not offer 8BITMIME"
                    .into(),
                transient: false,
            });
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if let Err(e) = conn.command(Mail::new(Some(envelope_from), options)).await {
        conn.abort().await;
        return Err(fail(e));
    }
    let mut accepted = 0;
    let mut refused = Vec::new();
    for address in to {
        match conn.command(Rcpt::new(address.clone(), vec![])).await {
            Ok(_) => accepted += 1,
            Err(e) if e.is_permanent() => {
                let reply = match fail(e) {
                    DeliveryError::Reply { code, reply, .. } => format!("{code} {reply}"),
                    other => other.to_string(),
                };
                refused.push(Refused {
                    address: address.to_string(),
                    reply,
                });
            }
            Err(e) => {
                // 4xx, or the connection went: nobody gets it now, everybody at the next attempt.
                let _ = conn.command(Rset).await;
                conn.abort().await;
                return Err(match fail(e) {
                    DeliveryError::Reply {
                        server,
                        code,
                        reply,
                    } => DeliveryError::Reply {
                        server,
                        code,
                        reply: format!("{reply} [RCPT TO:<{address}>]"),
                    },
                    other => other,
                });
            }
        }
    }
    if accepted == 0 {
        let _ = conn.command(Rset).await;
        conn.abort().await;
        let first = refused.first().map(|r| r.reply.clone()).unwrap_or_default();
        let (code, text) = first.split_once(' ').unwrap_or(("550", first.as_str()));
        let names: Vec<String> = refused.iter().map(|r| format!("<{}>", r.address)).collect();
        return Err(DeliveryError::Reply {
            server: server.to_owned(),
            code: code.parse().unwrap_or(550),
            reply: format!("{text} [RCPT TO:{}]", names.join(", ")),
        });
    }
    if let Err(e) = conn.command(Data).await {
        conn.abort().await;
        return Err(fail(e));
    }
    // From here the server may have the mail even if no answer arrives: a repeat under the same
    // Message-ID after a crash is possible from the final "." on (the outbox records the start
    // of every attempt, and the next start logs such a mail).
    let response = match conn.message(bytes).await {
        Ok(r) => r,
        Err(e) => {
            conn.abort().await;
            return Err(fail(e));
        }
    };
    let _ = conn.quit().await;
    Ok((reply_line(&response), refused))
}

/// Turn lettre's error into ours. lettre tells 4xx from 5xx, but a certificate problem and a
/// refused connection are both "connection errors": rustls reports through an `io::Error` of kind
/// `InvalidData`, which is how a TLS failure is told apart here.
fn smtp_error(
    e: &lettre::transport::smtp::Error,
    smtp: &SmtpSettings,
    server: String,
    after_connect: bool,
) -> DeliveryError {
    // Nothing the server or lettre says should ever carry the password; make sure of it.
    let scrub = |s: String| match &smtp.password {
        Some(p) if !p.expose().is_empty() => s.replace(p.expose(), "***"),
        _ => s,
    };
    if let Some(code) = e.status() {
        let code = u16::from(code);
        let reply = scrub(
            std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
        // 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
        // 538 encryption required for the mechanism (RFC 4954).
        return if matches!(code, 530 | 534 | 535 | 538) {
            DeliveryError::Auth {
                server,
                username: smtp.username.clone(),
                code,
                reply,
            }
        } else {
            DeliveryError::Reply {
                server,
                code,
                reply,
            }
        };
    }
    // lettre nests its kinds ("Connection error: Connection error: invalid peer certificate: ..."):
    // our variant names the kind already.
    let mut message = e.to_string();
    while let Some(rest) = ["Connection error: ", "network error: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))
    {
        message = rest.to_owned();
    }
    let mut message = scrub(message);
    if e.is_timeout() {
        return DeliveryError::Timeout {
            server,
            after: smtp.timeout,
        };
    }
    let mut io_kind = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
            break;
        }
        source = s.source();
    }
    if e.is_tls() || io_kind == Some(std::io::ErrorKind::InvalidData) {
        if unknown_issuer(e) {
            message.push_str(
                " (the server's certificate is not signed by a known authority: \
                 name its CA in mail.smtp.ca_file)",
            );
        }
        return DeliveryError::Tls { server, message };
    }
    if let (Some(kind), false) = (io_kind, after_connect) {
        return DeliveryError::Connect {
            server,
            message,
            kind,
        };
    }
    if after_connect {
        return DeliveryError::Protocol {
            server,
            message: format!("connection lost: {message}"),
            transient: true,
        };
    }
    DeliveryError::Protocol {
        server,
        message,
        // A client-side error (no common AUTH mechanism, an address the server cannot take) does
        // not go away by itself; a garbled reply or a shut-down transport may.
        transient: !e.is_client(),
    }
}

/// Write bytes to `dir/name` (the folder created if missing) with the one atomic writer.
pub fn write_file_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, DeliveryError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DeliveryError::Write { path, source }
    };
    fs_err::create_dir_all(dir).map_err(write_err(dir))?;
    let path = dir.join(name);
    crate::state::atomic::write(&path, bytes).map_err(write_err(&path))?;
    Ok(path)
}

/// Where the file transport puts a spooled message; its presence means it was delivered.
pub fn file_transport_path(dir: &Path, message_id: &str) -> PathBuf {
    dir.join(eml_name(message_id))
}

/// Hand spooled bytes to the transport: the file transport writes `<Message-ID>.eml`
/// atomically; SMTP sends the bytes as they are, the whole attempt bounded by `smtp.timeout`.
pub async fn send_spooled(s: &Spooled, transport: &Transport) -> Result<Delivery, DeliveryError> {
    match transport {
        Transport::File { dir } => {
            let path = write_file_atomic(dir, &eml_name(&s.message_id), &s.bytes)?;
            tracing::info!(transport = "file", message_id = %s.message_id, path = %path.display(), "mail written");
            crate::crashpoint::here("mail-written");
            Ok(Delivery {
                transport: "file",
                message_id: s.message_id.clone(),
                recipients: s.recipients.clone(),
                eml_path: Some(path),
                server_reply: None,
                refused: Vec::new(),
            })
        }
        Transport::Smtp(smtp) => {
            let server = server_name(smtp);
            let address = |a: &str| {
                a.parse::<lettre::Address>()
                    .map_err(|e| DeliveryError::Address {
                        field: "envelope",
                        value: a.to_owned(),
                        reason: e.to_string(),
                    })
            };
            let to = s
                .recipients
                .iter()
                .map(|r| address(r))
                .collect::<Result<Vec<_>, _>>()?;
            let from = address(&s.from)?;
            let (reply, refused) = match tokio::time::timeout(
                smtp.timeout,
                smtp_session(smtp, &server, from, &to, &s.bytes),
            )
            .await
            {
                Err(_) => {
                    return Err(DeliveryError::Timeout {
                        server,
                        after: smtp.timeout,
                    });
                }
                Ok(r) => r?,
            };
            for r in &refused {
                tracing::warn!(server = %server, message_id = %s.message_id, recipient = %r.address, reply = %r.reply, "recipient refused by the server; the mail went to the others");
            }
            tracing::info!(transport = "smtp", server = %server, message_id = %s.message_id, reply = %reply, "mail sent");
            Ok(Delivery {
                transport: "smtp",
                message_id: s.message_id.clone(),
                recipients: s
                    .recipients
                    .iter()
                    .filter(|a| !refused.iter().any(|r| r.address == **a))
                    .cloned()
                    .collect(),
                eml_path: None,
                server_reply: Some(reply),
                refused,
            })
        }
    }
}

/// Whether a TLS failure is a certificate signed by no authority the program trusts: the rustls
/// error itself, found in lettre's chain of sources (inside an `io::Error` when the handshake
/// failed while reading).
fn unknown_issuer(e: &(dyn std::error::Error + 'static)) -> bool {
    use rustls::{CertificateError, Error as Tls};
    let is_it = |x: &(dyn std::error::Error + 'static)| {
        matches!(
            x.downcast_ref::<Tls>(),
            Some(Tls::InvalidCertificate(CertificateError::UnknownIssuer))
        )
    };
    let mut next = Some(e);
    while let Some(x) = next {
        if is_it(x)
            || x.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| is_it(inner))
        {
            return true;
        }
        next = x.source();
    }
    false
}

/// [`send_spooled`] from synchronous code (the pipeline runs on plain threads).
pub fn send_spooled_blocking(
    s: &Spooled,
    transport: &Transport,
) -> Result<Delivery, DeliveryError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeliveryError::Build(format!("cannot start the mail runtime: {e}")))?;
    rt.block_on(send_spooled(s, transport))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::pipeline::compose::tests::composed;
    use std::time::Duration;
    #[tokio::test]
    async fn file_transport_writes_the_eml_atomically_under_its_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let out = composed();
        let delivery = send(
            &out,
            &Transport::File {
                dir: outbox.clone(),
            },
        )
        .await
        .unwrap();
        let path = delivery.eml_path.clone().unwrap();
        assert_eq!(
            path,
            outbox.join("tonghop.kl14.2026-10.20261104T080005.0000000000abcdef@lamdong.dcs.vn.eml")
        );
        assert_eq!(std::fs::read(&path).unwrap(), out.message.formatted());
        assert_eq!(delivery.transport, "file");
        assert_eq!(delivery.message_id, out.message_id);
        // Only the .eml: no temporary file left behind.
        assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 1);
    }

    #[test]
    fn tls_parameters_build_without_installing_a_crypto_provider() {
        // lettre picks the process default or falls back to its own ring provider.
        assert!(TlsParameters::builder("localhost".into()).build().is_ok());
    }

    #[tokio::test]
    async fn missing_password_is_a_permanent_error_before_connecting() {
        let smtp = SmtpSettings {
            host: "localhost".into(),
            port: 1,
            security: Security::Plain,
            username: Some("u".into()),
            password: None,
            ca_file: None,
            timeout: Duration::from_secs(1),
        };
        let err = send(&composed(), &Transport::Smtp(smtp)).await.unwrap_err();
        assert!(matches!(err, DeliveryError::NoPassword { .. }), "{err:?}");
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn connection_closed_after_the_greeting_is_transient() {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"220 localhost ESMTP\r\n").unwrap();
            let mut line = String::new();
            let _ = std::io::BufReader::new(&s).read_line(&mut line);
            // Hang up on EHLO.
        });
        let smtp = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            username: None,
            password: None,
            ca_file: None,
            timeout: Duration::from_secs(5),
        };
        let err = send(&composed(), &Transport::Smtp(smtp)).await.unwrap_err();
        // lettre reads EOF as an incomplete reply.
        assert!(
            matches!(
                err,
                DeliveryError::Protocol {
                    transient: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn refused_connection_is_transient_and_names_the_server() {
        // Bind then drop, so the port is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let smtp = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            username: Some("u".into()),
            password: Some(Secret::new("hunter2-secret".into())),
            ca_file: None,
            timeout: Duration::from_secs(5),
        };
        let err = send(&composed(), &Transport::Smtp(smtp)).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Connect { .. }), "{err:?}");
        assert!(err.is_transient());
        let msg = err.to_string();
        assert!(msg.contains(&format!("127.0.0.1:{port} (plain)")), "{msg}");
        assert!(!msg.contains("hunter2-secret") && !format!("{err:?}").contains("hunter2"));
    }
}
