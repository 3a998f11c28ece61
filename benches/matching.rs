//! The matching core's hot paths and a whole run, on generated data
//! (`recon::synth`, seed 7):
//! - `evidence`: reference extraction, payer identification and advice
//!   links for 20,000 lines against the open items of a 100,000-line data
//!   set, one thread (per-line cost of `evidence::gather`);
//! - `name_similarity`: scoring a payer name against a customer name;
//! - `subset`: the bounded combination search over a customer's 40 oldest
//!   items, a unique 3-item solution and an unreachable target;
//! - `run_100k`: `recon run` end to end (`batch::execute`: read, match,
//!   write) on 100,000 lines, 220,000 open items, 33,333 customers.
//!
//! `cargo bench --bench matching`; the data set is generated once into
//! `target/bench-data/matching-100k/`.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recon::config::Config;
use recon::matching::evidence::{Context, gather};
use recon::matching::index::Index;
use recon::matching::subset;
use recon::matching::text::{name_key, name_similarity};

fn data_set() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/matching-100k");
    // Regenerated when older than the generator's payment methods.
    if !dir.join("settlements").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        recon::synth::write_dataset(
            &recon::synth::SynthOptions {
                lines: 100_000,
                seed: 7,
            },
            &dir,
        )
        .expect("generate the bench data set");
    }
    dir
}

fn hot_paths(c: &mut Criterion) {
    let dir = data_set();
    let items = recon::parse::open_items::parse(
        "open_items.csv",
        &std::fs::read(dir.join("open_items.csv")).unwrap(),
    )
    .expect("items");
    let customers = recon::parse::customers::parse(
        "customers.csv",
        &std::fs::read(dir.join("customers.csv")).unwrap(),
    )
    .expect("customers");
    let files = recon::input::collect_files(&[dir.join("statements")]).expect("statements");
    let mut lines = Vec::new();
    for loaded in recon::input::load_files(&files, true) {
        lines.extend(loaded.expect("parses").lines);
    }
    lines.truncate(20_000);
    let index = Index::build(&items, &customers, &[]);
    let config = Config::default();
    let own = HashSet::new();
    let cx = Context {
        index: &index,
        items: &items,
        advices: &[],
        config: &config,
        own_accounts: &own,
        settlements: &[],
        settlement_plans: &[],
        settlement_index: &Default::default(),
    };

    let mut group = c.benchmark_group("matching");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("evidence_20k_lines", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|line| gather(line, &cx).references.len())
                .sum::<usize>()
        })
    });
    group.throughput(Throughput::Elements(1));
    let payer = name_key("BOULANGERIE LEFEBVRE ANGERS");
    let customer = name_key("Boulangerie Lefèvre Angers SARL");
    group.bench_function("name_similarity", |b| {
        b.iter(|| name_similarity(black_box(&payer), black_box(&customer)))
    });
    let amounts: Vec<i64> = (0..40)
        .map(|i| 10_000 + i * 1_237 + (i * i * 31) % 997)
        .collect();
    let target = amounts[3] + amounts[17] + amounts[29];
    group.bench_function("subset_unique_3_of_40", |b| {
        b.iter(|| subset::search(black_box(&amounts), target, 0, 6, 200_000))
    });
    group.bench_function("subset_unreachable_40", |b| {
        b.iter(|| subset::search(black_box(&amounts), 7, 0, 6, 200_000))
    });
    group.finish();
}

fn whole_run(c: &mut Criterion) {
    let dir = data_set();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/matching-100k-out");
    let args = recon::batch::RunArgs {
        open_items: dir.join("open_items.csv"),
        customers: Some(dir.join("customers.csv")),
        statements: vec![dir.join("statements")],
        remittances: vec![dir.join("remittances")],
        settlements: vec![dir.join("settlements")],
        config: None,
        out,
        outputs: recon::batch::Outputs::Durable,
    };
    let mut group = c.benchmark_group("run");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("run_100k_lines", |b| {
        b.iter(|| {
            let report = recon::batch::execute(&args).expect("run");
            black_box(report.summary.lines_read)
        })
    });
    group.finish();
}

criterion_group!(benches, hot_paths, whole_run);
criterion_main!(benches);
