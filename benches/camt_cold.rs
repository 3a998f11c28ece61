//! Cold parsing: what a `recon parse` or `recon run` process pays, reading
//! each file once in a fresh process (fresh pages, empty allocator caches),
//! against the `camt053` crate in the same conditions.
//!
//! Each sample is a child process (this executable re-run with
//! `RECON_COLD_CHILD`) that parses the file once and prints the time; the
//! medians of `SAMPLES` runs of each, interleaved, are reported.
//! `cargo bench --bench camt_cold`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "support/camt_gen.rs"]
mod camt_gen;

/// Runs of each parser per file: 7 keeps the median stable on 2 cores.
const SAMPLES: usize = 7;

fn child(kind: &str, path: &Path) {
    let bytes = std::fs::read(path).expect("bench file");
    let start = Instant::now();
    let count = if kind == "recon" {
        let parsed = recon::parse::parse_bytes("cold.xml", &bytes).expect("recon parses");
        let count: usize = parsed.statements.iter().map(|s| s.entries.len()).sum();
        // The process exits next: freeing the model is not parsing.
        std::mem::forget(parsed);
        count
    } else {
        let document = camt053::Document::from_reader(bytes.as_slice()).expect("camt053 parses");
        let simple = camt053::SimpleStatements::from_document(&document).expect("model");
        let count: usize = simple.statements.iter().map(|s| s.transactions.len()).sum();
        std::mem::forget((document, simple));
        count
    };
    println!("{} {count}", start.elapsed().as_nanos());
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if let Ok(spec) = std::env::var("RECON_COLD_CHILD") {
        let (kind, path) = spec.split_once(':').expect("kind:path");
        child(kind, Path::new(path));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    let me = std::env::current_exe().expect("bench executable");
    for megabytes in [10usize, 100] {
        let (document, entries) = camt_gen::camt053(megabytes << 20, false, 2026);
        let path = dir.join(format!("camt053-cold-{megabytes}mb.xml"));
        std::fs::write(&path, &document).expect("write");
        let size = document.len() as f64 / 1_048_576.0;
        drop(document);
        let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..SAMPLES {
            for (slot, kind) in ["recon", "camt053"].iter().enumerate() {
                let output = Command::new(&me)
                    .env("RECON_COLD_CHILD", format!("{kind}:{}", path.display()))
                    .output()
                    .expect("child");
                assert!(
                    output.status.success(),
                    "{kind}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let text = String::from_utf8(output.stdout).expect("utf-8");
                let mut fields = text.split_whitespace();
                let nanos: f64 = fields.next().expect("time").parse().expect("number");
                let count: usize = fields.next().expect("count").parse().expect("number");
                assert_eq!(count, entries, "{kind} read every entry");
                times[slot].push(nanos / 1e9);
            }
        }
        let (ours, theirs) = (median(times[0].clone()), median(times[1].clone()));
        println!(
            "cold {megabytes} MB camt.053 ({entries} entries), median of {SAMPLES} fresh processes: recon {:.0} ms = {:.0} MiB/s, camt053 crate {:.0} ms = {:.1} MiB/s, recon {:.1}x faster",
            ours * 1e3,
            size / ours,
            theirs * 1e3,
            size / theirs,
            theirs / ours
        );
    }
}
