//! The only code that sends: the outbox (spooled mails and their delivery attempts) and the
//! transports (SMTP, or a folder of `.eml` files).

pub mod outbox;
pub mod transport;
