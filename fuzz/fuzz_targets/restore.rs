#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| slotbox_fuzz::restore::run(data));
