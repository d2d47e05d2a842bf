//! libFuzzer entry for `l402_fuzz::caveat_target`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| l402_fuzz::caveat_target(data));
