//! CAMT parsing throughput, measured side by side in one run:
//! - `scan`: a bare quick-xml event loop over the file (the floor any XML
//!   reader pays) against `recon::parse::parse_bytes` on the same 100 MB
//!   camt.053 (target: recon >= 50 % of the scan); first timed in turns,
//!   nine times each (the ratio of the medians is printed), then by
//!   criterion;
//! - `peer`: the `camt053` crate (serde deserialisation into its schema,
//!   then its simple model) against recon on a 100 MB file it accepts: no
//!   v02 `Chrgs`, one `TxDtls` per entry (target: recon >= 20x). The
//!   crate's speed depends on the file size (22 MiB/s on 10 MB, 7-11 MiB/s
//!   on 50-100 MB here), so the file is as large as the main one.
//!
//! `cargo bench --bench camt_parse`; data is generated once into
//! `target/bench-data/`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/camt_gen.rs"]
mod camt_gen;

fn data(name: &str, bytes: usize, rich: bool) -> (Vec<u8>, usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    let (document, entries) = camt_gen::camt053(bytes, rich, 2026);
    let path = dir.join(name);
    if std::fs::metadata(&path).map(|m| m.len() as usize).ok() != Some(document.len()) {
        std::fs::write(&path, &document).expect("write bench file");
    }
    (document.into_bytes(), entries)
}

fn bare_scan(bytes: &[u8]) -> u64 {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let mut reader = quick_xml::Reader::from_str(text);
    let mut events = 0u64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return events,
            Ok(_) => events += 1,
            Err(error) => panic!("scan: {error}"),
        }
    }
}

fn memory_line() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ratio, measured alternately: this machine's speed drifts by up to a
/// quarter between criterion's groups (the bare scan has read the same
/// file in 234 ms and in 295 ms an hour apart), so the scan and the parse
/// are timed in turns, `ROUNDS` times each, and the medians compared.
fn interleaved(bytes: &[u8]) {
    const ROUNDS: usize = 9;
    let mut scans = Vec::with_capacity(ROUNDS);
    let mut parses = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        black_box(bare_scan(black_box(bytes)));
        scans.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let parsed = recon::parse::parse_bytes("bench.xml", black_box(bytes)).expect("parses");
        parses.push(started.elapsed().as_secs_f64());
        drop(parsed);
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (scan, parse) = (median(&mut scans), median(&mut parses));
    let mib = bytes.len() as f64 / (1 << 20) as f64;
    eprintln!(
        "bench: interleaved, medians of {ROUNDS}: bare scan {:.1} ms ({:.0} MiB/s), recon {:.1} ms ({:.0} MiB/s): recon reads at {:.3} of the scan's speed",
        scan * 1e3,
        mib / scan,
        parse * 1e3,
        mib / parse,
        scan / parse
    );
}

fn scan_vs_recon(c: &mut Criterion) {
    let (bytes, entries) = data("camt053-100mb.xml", 100 << 20, true);
    // Streaming check, outside the timings: peak memory of one parse.
    eprintln!(
        "bench: {} bytes, {entries} entries; before parse: {}",
        bytes.len(),
        memory_line()
    );
    let parsed = recon::parse::parse_bytes("bench.xml", &bytes).expect("parses");
    let read: usize = parsed.statements.iter().map(|s| s.entries.len()).sum();
    assert_eq!(read, entries);
    assert_eq!(parsed.statements[0].balance_ok(), Some(true));
    eprintln!("bench: after parse (model alive): {}", memory_line());
    drop(parsed);
    interleaved(&bytes);

    let mut group = c.benchmark_group("camt053_100mb");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("quick_xml_bare_scan", |b| {
        b.iter(|| bare_scan(black_box(&bytes)))
    });
    group.bench_function("recon_parse", |b| {
        b.iter_with_large_drop(|| {
            recon::parse::parse_bytes("bench.xml", black_box(&bytes)).expect("parses")
        })
    });
    group.finish();
}

fn peer(c: &mut Criterion) {
    let (bytes, entries) = data("camt053-peer-100mb.xml", 100 << 20, false);
    // Both must accept the file and agree before anything is timed.
    let document = camt053::Document::from_reader(bytes.as_slice()).expect("camt053 crate accepts");
    let theirs = camt053::SimpleStatements::from_document(&document).expect("camt053 simple model");
    let their_count: usize = theirs.statements.iter().map(|s| s.transactions.len()).sum();
    let ours = recon::parse::parse_bytes("peer.xml", &bytes).expect("parses");
    let our_count: usize = ours.statements.iter().map(|s| s.entries.len()).sum();
    assert_eq!((their_count, our_count), (entries, entries));
    for (theirs, ours) in theirs.statements[0]
        .transactions
        .iter()
        .zip(&ours.statements[0].entries)
        .take(1000)
    {
        assert_eq!(theirs.amount, ours.amount, "same signed amounts");
    }

    let mut group = c.benchmark_group("camt053_peer_100mb");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("camt053_crate", |b| {
        b.iter_with_large_drop(|| {
            let document =
                camt053::Document::from_reader(black_box(bytes.as_slice())).expect("parses");
            camt053::SimpleStatements::from_document(&document).expect("model")
        })
    });
    group.bench_function("recon_parse", |b| {
        b.iter_with_large_drop(|| {
            recon::parse::parse_bytes("peer.xml", black_box(&bytes)).expect("parses")
        })
    });
    group.finish();
}

criterion_group!(benches, scan_vs_recon, peer);
criterion_main!(benches);
