//! The one integration-test binary: runs the real `tonghop` program against fixture folders.

mod support;

mod architecture;
mod bad_days;
mod bench_smoke;
mod blank_form;
mod clerk;
mod daemon;
mod daemon_month;
mod findings_weight;
mod hostile;
mod operator;
mod reading;
mod run;
mod smtp;
mod snapshots;
mod supplement;
mod workbooks;
