//! The control endpoint: HTTP on 127.0.0.1, protected by a token in the data folder.
