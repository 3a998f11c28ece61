//! libFuzzer target: `recon::fuzzing`'s `mt940` reader. Never a panic; a
//! refusal is a located error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    recon::fuzzing::check(recon::fuzzing::Reader::from_name("mt940").unwrap(), data);
});
