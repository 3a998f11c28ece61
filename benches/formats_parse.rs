//! CFONB 120 and BAI2 parsing throughput (issue 3), single-threaded
//! (`parse_bytes` parses one file on one thread):
//! - CFONB 120: the generator's (`recon gen`) CFONB files concatenated (two
//!   of 20,000 lines, each line a `04` movement and its `05` complements);
//! - BAI2: `support/bai2_gen.rs`, accounts of 500 `16` records with `88`
//!   continuations and every control total.
//!
//! `cargo bench --bench formats_parse`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recon::synth::{SynthOptions, generate};

#[path = "support/bai2_gen.rs"]
mod bai2_gen;

/// The `recon` binary's allocator and option (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn cfonb_file() -> Vec<u8> {
    let mut bytes = Vec::new();
    generate(
        &SynthOptions {
            lines: 240_000,
            seed: 7,
        },
        &mut |name, data| {
            if name.ends_with("cfonb120.txt") {
                bytes.extend_from_slice(data);
            }
            Ok(())
        },
    )
    .expect("generated");
    bytes
}

fn count(bytes: &[u8]) -> usize {
    let parsed = recon::parse::parse_bytes("bench", bytes).expect("recon parses");
    assert!(
        parsed
            .statements
            .iter()
            .all(|s| s.balance_ok() != Some(false)),
        "balances agree"
    );
    parsed.statements.iter().map(|s| s.entries.len()).sum()
}

fn formats(c: &mut Criterion) {
    // SAFETY: sets a global allocator option (purge delay, as the binary).
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let mut group = c.benchmark_group("formats");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let cfonb = cfonb_file();
    let (bai2, transactions) = bai2_gen::bai2(50 << 20, 2026);
    assert_eq!(count(bai2.as_bytes()), transactions);
    for (name, bytes) in [("cfonb120", cfonb.as_slice()), ("bai2", bai2.as_bytes())] {
        eprintln!(
            "bench: {name}: {} bytes, {} transactions",
            bytes.len(),
            count(bytes)
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("recon_parse_{name}"), |b| {
            b.iter_with_large_drop(|| {
                recon::parse::parse_bytes("bench", black_box(bytes)).expect("parses")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
