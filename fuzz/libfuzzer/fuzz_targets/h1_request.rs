//! libFuzzer entry for `l402_fuzz::h1_request`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| l402_fuzz::h1_request(data));
