//! Mail through a real SMTP server on 127.0.0.1.
