//! Deliver: compose the mail (pure) and send it through a transport (file or SMTP).
