//! libFuzzer entry for `l402_fuzz::mpp_credential`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| l402_fuzz::mpp_credential(data));
