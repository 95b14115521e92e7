//! The one integration-test binary: runs the real `tonghop` program against fixture folders.

mod support;

mod bench_smoke;
mod blank_form;
mod operator;
mod run;
mod smtp;
