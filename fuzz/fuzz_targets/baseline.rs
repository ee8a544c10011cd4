//! libFuzzer entry for `temper::fuzz::baseline`; the body lives in temper so the
//! stable test suite replays this target's corpus through the same code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| temper::fuzz::baseline(data));
