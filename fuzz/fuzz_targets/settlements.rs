//! libFuzzer target: `recon::fuzzing`'s `settlements` reader. Never a panic; a
//! refusal is a located error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    recon::fuzzing::check(recon::fuzzing::Reader::from_name("settlements").unwrap(), data);
});
