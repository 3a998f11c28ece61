//! libFuzzer target: `recon::fuzzing`'s `config` reader. Never a panic; a
//! refusal is a located error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    recon::fuzzing::check(recon::fuzzing::Reader::from_name("config").unwrap(), data);
});
