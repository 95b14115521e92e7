//! Raw bytes as a unit's file, under each extension: sniffing, zip checks, every reader,
//! validation.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(init: common::init(), |data: &[u8]| {
    common::check(data, "xlsx");
});
