#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tuesday::fuzz::money(data));
