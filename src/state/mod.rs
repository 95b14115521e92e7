//! The program's own state in the data folder: the store, the archive of received files, the
//! run lock, and the one atomic writer every output goes through.

pub mod archive;
pub mod atomic;
pub mod control;
pub mod lock;
pub mod store;
