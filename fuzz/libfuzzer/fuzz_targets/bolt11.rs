//! libFuzzer entry for `l402_fuzz::bolt11`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| l402_fuzz::bolt11(data));
