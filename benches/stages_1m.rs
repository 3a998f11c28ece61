//! Stages of `recon run` at full scale, in one process with its memory
//! warm: the figures a whole run cannot resolve on this machine, where the
//! same 1M run varies by ±10 % from one process to the next.
//! - `open_items_1m`: reading the 2,200,000-row open-items CSV (213 MB),
//!   checks included (both threads);
//! - `index_build_1m`: `Index::build` over 2,200,000 open items, 333,333
//!   customers and the advices (both threads);
//! - `evidence_1m`: `evidence::gather` for every one of the 1,020,057
//!   lines, in parallel as `run` does (both threads).
//!
//! `cargo bench --bench stages_1m`; reads the 1M data set of
//! `benches/run_scaling.sh` (`target/bench-data/run-1000000`, generated
//! here when absent: about a minute).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use recon::config::Config;
use recon::matching::evidence::{Context, gather};
use recon::matching::index::Index;
use recon::matching::settlement::{SettlementIndex, plans};

/// The allocator and setting the `recon` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn data_set() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/run-1000000");
    if !dir.join("settlements").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        recon::synth::write_dataset(
            &recon::synth::SynthOptions {
                lines: 1_000_000,
                seed: 7,
            },
            &dir,
        )
        .expect("generate the bench data set");
    }
    dir
}

fn stages(c: &mut Criterion) {
    // SAFETY: sets a global allocator option (mimalloc's purge delay,
    // index 15: freed memory is kept for reuse, as `main` does).
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let dir = data_set();
    let read = |name: &str| std::fs::read(dir.join(name)).expect(name);
    let items =
        recon::parse::open_items::parse("open_items.csv", &read("open_items.csv")).expect("items");
    let customers =
        recon::parse::customers::parse("customers.csv", &read("customers.csv")).expect("customers");
    let mut lines = Vec::new();
    let mut own_accounts = HashSet::new();
    let statements = recon::input::collect_files(&[dir.join("statements")]).expect("statements");
    for loaded in recon::input::load_files(&statements, true) {
        let loaded = loaded.expect("parses");
        lines.extend(loaded.lines);
        own_accounts.extend(loaded.accounts);
    }
    let mut advices = Vec::new();
    let remittances = recon::input::collect_files(&[dir.join("remittances")]).expect("advices");
    for loaded in recon::input::load_files(&remittances, false) {
        advices.extend(loaded.expect("parses").advices);
    }
    let mut settlements = Vec::new();
    for path in recon::input::collect_files(&[dir.join("settlements")]).expect("settlements") {
        let bytes = std::fs::read(&path).expect("settlement file");
        settlements.extend(
            recon::parse::settlements::parse(&path.display().to_string(), &bytes).expect("rows"),
        );
    }
    let config = Config::default();
    let index = Index::build(&items, &customers, &advices);
    let settlement_index = SettlementIndex::build(&settlements);
    let context = |settlement_plans| Context {
        index: &index,
        items: &items,
        advices: &advices,
        config: &config,
        own_accounts: &own_accounts,
        settlements: &settlements,
        settlement_plans,
        settlement_index: &settlement_index,
    };
    let settlement_plans = plans(&settlements, &context(&[]));
    let cx = context(&settlement_plans);

    let mut group = c.benchmark_group("stages_1m");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let open_items = read("open_items.csv");
    group.bench_function("open_items_1m", |b| {
        b.iter_with_large_drop(|| {
            recon::parse::open_items::parse("open_items.csv", &open_items).expect("items")
        })
    });
    group.bench_function("index_build_1m", |b| {
        b.iter_with_large_drop(|| Index::build(&items, &customers, &advices))
    });
    group.bench_function("evidence_1m", |b| {
        b.iter_with_large_drop(|| {
            lines
                .par_iter()
                .map(|line| gather(line, &cx))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
