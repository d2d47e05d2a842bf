//! libFuzzer entry for `l402_fuzz::macaroon_v2`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| l402_fuzz::macaroon_v2(data));
