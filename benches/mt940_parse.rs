//! MT940 parsing throughput (issue 3), measured in one run:
//! - recon on a 100 MB file (200k+ transactions, three `:86:` dialects),
//!   single-threaded: `parse_bytes` parses one file on one thread;
//! - linearity: the same generator at 10 MB, time per MB compared;
//!
//! Not yet here: the `mt940` crate as a peer. It refuses the `-` message
//! ends, and on the generated file without them it still stops at a `:62F:`
//! with "expected EOI" (pest); to be settled with issue 3.
//!
//! `cargo bench --bench mt940_parse`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/mt940_gen.rs"]
mod mt940_gen;

fn check(bytes: &[u8], transactions: usize) {
    let parsed = recon::parse::parse_bytes("bench.sta", bytes).expect("recon parses");
    let read: usize = parsed.statements.iter().map(|s| s.entries.len()).sum();
    assert_eq!(read, transactions);
    assert!(
        parsed
            .statements
            .iter()
            .all(|s| s.balance_ok() == Some(true))
    );
}

fn recon_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt940");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for megabytes in [10usize, 100] {
        let (text, transactions) = mt940_gen::mt940(megabytes << 20, 20, true, 2026);
        let bytes = text.into_bytes();
        check(&bytes, transactions);
        eprintln!(
            "bench: mt940 {megabytes} MB: {} bytes, {transactions} transactions",
            bytes.len()
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("recon_parse_{megabytes}mb"), |b| {
            b.iter_with_large_drop(|| {
                recon::parse::parse_bytes("bench.sta", black_box(&bytes)).expect("parses")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, recon_sizes);
criterion_main!(benches);
