//! MT940 parsing throughput (issue 3), measured in one run on generated
//! files (20 lines per message, the three `:86:` dialects in turn, SWIFT
//! character set, no `-` message ends so that every peer accepts them):
//! - recon, single-threaded (`parse_bytes` parses one file on one thread),
//!   at 10 MB and 100 MB: time per MB compared for linearity;
//! - the `mt940` crate (a peer, dev-dependency) on the same 10 MB file:
//!   `parse_mt940` alone, and with its `sanitize` pass, which real files
//!   need, on the 1 MB and 2 MB files (it is quadratic, so larger files take
//!   minutes).
//!
//! The files are written to `target/bench-data/mt940-<N>mb.sta`, where
//! `benches/mt940_python.py` measures Python's `mt-940` on the same bytes.
//!
//! `cargo bench --bench mt940_parse`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/mt940_gen.rs"]
mod mt940_gen;

/// The allocator the `recon` binary runs with (see `src/main.rs`): the
/// parse allocates a string per text field, so the allocator is part of
/// what is measured; the peer runs in the same process with the same one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// The generated file of `megabytes`, written beside the other bench data.
fn file(megabytes: usize) -> (String, usize) {
    let (text, transactions) = mt940_gen::mt940(megabytes << 20, 20, false, 2026);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("mt940-{megabytes}mb.sta")), &text);
    eprintln!(
        "bench: mt940 {megabytes} MB: {} bytes, {transactions} transactions",
        text.len()
    );
    (text, transactions)
}

fn peer_lines(text: &str) -> usize {
    mt940::parse_mt940(text)
        .expect("the mt940 crate parses")
        .iter()
        .map(|m| m.statement_lines.len())
        .sum()
}

fn mt940_sizes(c: &mut Criterion) {
    // As `src/main.rs`: freed memory is reused, not handed back to the
    // kernel and faulted in again zeroed (mimalloc's purge delay, index 15).
    // SAFETY: sets a global allocator option; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let mut group = c.benchmark_group("mt940");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for megabytes in [10usize, 100] {
        let (text, transactions) = file(megabytes);
        let bytes = text.as_bytes();
        check(bytes, transactions);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("recon_parse_{megabytes}mb"), |b| {
            b.iter_with_large_drop(|| {
                recon::parse::parse_bytes("bench.sta", black_box(bytes)).expect("parses")
            })
        });
        if megabytes == 10 {
            assert_eq!(
                peer_lines(&text),
                transactions,
                "the crate reads every line"
            );
            group.bench_function("mt940_crate_parse_10mb", |b| {
                b.iter_with_large_drop(|| mt940::parse_mt940(black_box(&text)).expect("parses"))
            });
        }
    }
    for megabytes in [1usize, 2] {
        let (text, transactions) = file(megabytes);
        check(text.as_bytes(), transactions);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("recon_parse_{megabytes}mb"), |b| {
            b.iter_with_large_drop(|| {
                recon::parse::parse_bytes("bench.sta", black_box(text.as_bytes())).expect("parses")
            })
        });
        group.bench_function(format!("mt940_crate_sanitize_parse_{megabytes}mb"), |b| {
            b.iter_with_large_drop(|| {
                let clean = mt940::sanitizers::sanitize(black_box(&text));
                mt940::parse_mt940(&clean).expect("parses")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mt940_sizes);
criterion_main!(benches);
