//! `recon run` at the I/O edge: reads the inputs the contract names, calls
//! the pure core (`run::run`), renders the files and writes them with the
//! manifest. The CLI (and the tests) call `execute`; it never exits the
//! process, it returns what happened.
//!
//! Errors are of two kinds, as the contract's exit codes: unusable input
//! (2: a `ParseError` naming file, line or element, and field) and internal
//! failures (1: a broken invariant or an I/O error writing outputs).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Location, ParseError};
use crate::input::{collect_files, load_files, read_file};
use crate::output::run_files::{self, Summary};
use crate::output::write::{Staging, sha256_hex};
use crate::parse::{customers, open_items};
use crate::run::{RunInputs, RunResult, run_marked};

/// The engine version recorded in every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit this binary was built from (see `build.rs`): a hash, the
/// hash with `-dirty`, or `unknown` outside a git work tree.
pub const COMMIT: &str = env!("RECON_COMMIT");

/// The arguments of `recon run`.
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub open_items: PathBuf,
    pub customers: Option<PathBuf>,
    pub statements: Vec<PathBuf>,
    pub remittances: Vec<PathBuf>,
    pub settlements: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    /// How the outputs are kept: synced to disk, written only, or only
    /// hashed (a replay's: nothing is written, `out` is not touched).
    pub outputs: Outputs,
}

/// What becomes of a run's output files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Outputs {
    /// Written, synced to disk, then put in place in one step.
    #[default]
    Durable,
    /// Written and put in place, not synced (a throwaway directory).
    Scratch,
    /// Rendered and hashed only; the report carries the manifest.
    HashOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// Exit 2.
    #[error("{0}")]
    Input(#[from] ParseError),
    /// Exit 1.
    #[error("{0}")]
    Internal(String),
}

impl RunFailure {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunFailure::Input(_) => 2,
            RunFailure::Internal(_) => 1,
        }
    }
}

pub struct RunReport {
    pub summary: Summary,
    pub warnings: Vec<String>,
    /// The manifest as written (or, hash-only, as it would be).
    pub manifest: Vec<u8>,
    pub result: RunResult,
}

#[derive(Serialize)]
struct InputRecord {
    role: &'static str,
    path: String,
    size: u64,
    sha256: String,
}

fn file_error(path: &Path, message: String) -> ParseError {
    ParseError::new(&path.display().to_string(), Location::File, message)
}

/// Reads every input, runs, writes every output. `Err` leaves `args.out`
/// as it was.
pub fn execute(args: &RunArgs) -> Result<RunReport, RunFailure> {
    execute_with(args, &|_| {})
}

/// `execute`, telling `on_stage` what it starts (`reading inputs`,
/// `matching: index`, ..., `writing allocations.csv`): the CLI shows it as
/// a progress line on a terminal.
pub fn execute_with(args: &RunArgs, on_stage: &dyn Fn(&str)) -> Result<RunReport, RunFailure> {
    on_stage("reading inputs");
    let mut stages: BTreeMap<String, u64> = BTreeMap::new();
    let started = Instant::now();
    let cpu_at_start = crate::process::cpu_ms();
    let mut records: Vec<InputRecord> = Vec::new();
    let record = |role: &'static str, path: &Path, bytes: &[u8], records: &mut Vec<InputRecord>| {
        records.push(InputRecord {
            role,
            path: path.display().to_string(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        });
    };
    if args.outputs != Outputs::HashOnly {
        crate::output::write::prepare_out_dir(&args.out)
            .map_err(|message| RunFailure::Input(file_error(&args.out, message)))?;
    }
    let config = match &args.config {
        Some(path) => {
            let bytes = read_file(path)?;
            record("config", path, &bytes, &mut records);
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| file_error(path, "the config is not UTF-8".into()))?;
            Config::from_toml(text).map_err(|m| file_error(path, format!("invalid config: {m}")))?
        }
        None => Config::default(),
    };
    // Every input read, hashed and parsed in one parallel region: a file of
    // one kind no longer waits for the files of another to end. Errors are
    // then taken in the order the inputs are named.
    let csv_input = |path: &Path| -> Result<(Vec<u8>, String), ParseError> {
        let bytes = read_file(path)?;
        let hash = sha256_hex(&bytes);
        Ok((bytes, hash))
    };
    let items_source = args.open_items.display().to_string();
    let customers_source = args
        .customers
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let read_items = || {
        let (bytes, hash) = csv_input(&args.open_items)?;
        let items = open_items::parse(&items_source, &bytes);
        let size = bytes.len();
        drop(bytes);
        // Put in order here, one core's work while the statements are
        // parsed on the others, rather than after, with a core idle.
        let items = items.map(crate::run::in_canonical_order);
        Ok::<_, ParseError>((size, hash, items))
    };
    let read_customers = || {
        args.customers
            .as_ref()
            .map(|path| {
                let (bytes, hash) = csv_input(path)?;
                let customers = customers::parse(&customers_source, &bytes);
                Ok::<_, ParseError>((bytes.len(), hash, customers))
            })
            .transpose()
    };
    let read_settlements = || {
        let files = collect_files(&args.settlements)?;
        let parsed: Vec<_> = files
            .par_iter()
            .map(|path| {
                let (bytes, hash) = csv_input(path)?;
                let rows = crate::parse::settlements::parse(&path.display().to_string(), &bytes)?;
                Ok::<_, ParseError>((bytes.len(), hash, rows))
            })
            .collect();
        Ok::<_, ParseError>((files, parsed))
    };
    let read_statements = |paths: &[PathBuf], as_statements: bool| {
        let files = collect_files(paths)?;
        let loaded = load_files(&files, as_statements);
        Ok::<_, ParseError>((files, loaded))
    };
    let ((items, customers), (settlements, (statements, remittances))) = rayon::join(
        || rayon::join(read_items, read_customers),
        || {
            rayon::join(read_settlements, || {
                rayon::join(
                    || read_statements(&args.statements, true),
                    || read_statements(&args.remittances, false),
                )
            })
        },
    );
    let (items_size, items_hash, items) = items?;
    let customers = customers?;
    records.push(InputRecord {
        role: "open_items",
        path: args.open_items.display().to_string(),
        size: items_size as u64,
        sha256: items_hash,
    });
    let customers = match (customers, &args.customers) {
        (Some((size, hash, customers)), Some(path)) => {
            records.push(InputRecord {
                role: "customers",
                path: path.display().to_string(),
                size: size as u64,
                sha256: hash,
            });
            Some(customers)
        }
        _ => None,
    };
    let items = items?;
    let customers = customers.transpose()?.unwrap_or_default();

    let (settlement_files, parsed) = settlements?;
    let mut settlements = Vec::new();
    for (path, result) in settlement_files.iter().zip(parsed) {
        let (size, hash, rows) = result?;
        records.push(InputRecord {
            role: "settlements",
            path: path.display().to_string(),
            size: size as u64,
            sha256: hash,
        });
        settlements.extend(rows);
    }
    let (statement_files, statement_results) = statements?;
    let (remittance_files, remittance_results) = remittances?;
    let mut inputs = RunInputs {
        settlements,
        lines: Vec::new(),
        own_accounts: HashSet::new(),
        items,
        customers,
        advices: Vec::new(),
        config,
    };
    let mut warnings = Vec::new();
    let mut statement_sources: HashMap<String, String> = HashMap::new();
    let mut line_parts = Vec::new();
    for (files, results, as_statements) in [
        (&statement_files, statement_results, true),
        (&remittance_files, remittance_results, false),
    ] {
        for (path, loaded) in files.iter().zip(results) {
            let loaded = loaded?;
            records.push(InputRecord {
                role: if as_statements {
                    "statements"
                } else {
                    "remittances"
                },
                path: path.display().to_string(),
                size: loaded.size,
                sha256: loaded.sha256.clone(),
            });
            for key in &loaded.statement_keys {
                if let Some(first) = statement_sources.insert(key.clone(), loaded.source.clone()) {
                    return Err(RunFailure::Input(ParseError::new(
                        &loaded.source,
                        Location::File,
                        format!(
                            "holds a statement already read from {first} (same account, id, dates and balances); give each statement once"
                        ),
                    )));
                }
            }
            if loaded.statements_ignored > 0 {
                warnings.push(format!(
                    "{}: {} statement(s) in a file given as a remittance advice are not matched; give statements with --statements",
                    loaded.source, loaded.statements_ignored
                ));
            }
            warnings.extend(
                loaded
                    .warnings
                    .iter()
                    .map(|w| format!("{}: {w}", loaded.source)),
            );
            line_parts.push(loaded.lines);
            inputs.own_accounts.extend(loaded.accounts);
            inputs.advices.extend(loaded.advices);
        }
    }
    // In the policy's serving order already: each file's lines come
    // nearly sorted, and merging their runs costs less than sorting all.
    inputs.lines =
        crate::parallel::merge_sorted(line_parts, |a, b| a.order_key().cmp(&b.order_key()));
    stages.insert("read".into(), started.elapsed().as_millis() as u64);

    on_stage(&format!("matching {} lines", inputs.lines.len()));
    let matching = Instant::now();
    let config_text = inputs.config.to_toml();
    let mut last = Instant::now();
    let mut marks: Vec<(&'static str, u64)> = Vec::new();
    let mut memory: Vec<(&'static str, u64)> = vec![("read", resident_mb())];
    let mut cpu: BTreeMap<String, u64> = BTreeMap::new();
    let cpu_matching = crate::process::cpu_ms();
    cpu.insert("read".into(), cpu_matching - cpu_at_start);
    let mut cpu_last = cpu_matching;
    let result = run_marked(inputs, &mut |stage| {
        marks.push((stage, last.elapsed().as_millis() as u64));
        on_stage(&format!("matching: {stage} done"));
        memory.push((stage, resident_mb()));
        let now = crate::process::cpu_ms();
        cpu.insert(format!("match.{stage}"), now - cpu_last);
        cpu_last = now;
        last = Instant::now();
    })
    .map_err(|e| RunFailure::Internal(e.to_string()))?;
    stages.insert("match".into(), matching.elapsed().as_millis() as u64);
    cpu.insert("match".into(), crate::process::cpu_ms() - cpu_matching);
    for (stage, ms) in marks {
        stages.insert(format!("match.{stage}"), ms);
    }
    let memory: BTreeMap<String, u64> = memory
        .into_iter()
        .map(|(s, mb)| (s.to_string(), mb))
        .collect();

    on_stage("writing outputs");
    let writing = Instant::now();
    let cpu_writing = crate::process::cpu_ms();
    // Two scans of every line, side by side.
    let (checked, mut summary) = rayon::join(|| check_outputs(&result), || Summary::of(&result));
    checked.map_err(RunFailure::Internal)?;
    records.sort_by(|a, b| (a.role, &a.path).cmp(&(b.role, &b.path)));
    let failed = |e: std::io::Error| {
        RunFailure::Internal(format!(
            "cannot write outputs to {}: {e}",
            args.out.display()
        ))
    };
    let mut staging = match args.outputs {
        Outputs::HashOnly => Staging::hash_only(),
        mode => Staging::new(&args.out, mode == Outputs::Durable).map_err(failed)?,
    };
    let mut manifest = Vec::new();
    let written = (|| {
        staging.files(&run_files::FILES, &run_files::LONGEST_FIRST, |name, out| {
            run_files::render(name, &result, out)
        })?;
        manifest = manifest_json(&config_text, &records, &staging.hashes, &summary);
        staging.file("manifest.json", |out| out.write_all(&manifest))
    })();
    match written {
        Ok(()) => staging.commit().map_err(failed)?,
        Err(error) => {
            staging.abort();
            return Err(failed(error));
        }
    }
    stages.insert("write".into(), writing.elapsed().as_millis() as u64);
    stages.insert("total".into(), started.elapsed().as_millis() as u64);
    let cpu_now = crate::process::cpu_ms();
    cpu.insert("write".into(), cpu_now - cpu_writing);
    cpu.insert("total".into(), cpu_now - cpu_at_start);
    summary.stage_ms = stages;
    summary.stage_cpu_ms = cpu;
    summary.stage_rss_mb = memory;
    Ok(RunReport {
        summary,
        warnings,
        manifest,
        result,
    })
}

/// Resident memory in MiB (Linux `/proc/self/statm`; 0 elsewhere), for the
/// summary's stage breakdown.
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096 / (1 << 20))
}

/// The contract's invariants, checked again on the finished result before
/// anything is written: per line, applied + to review = line amount; per
/// item, no open amount changed sign.
fn check_outputs(result: &RunResult) -> Result<(), String> {
    // In parallel; the first failing line or item in order is named.
    let unbalanced =
        result
            .lines
            .par_iter()
            .zip(&result.decisions)
            .find_first(|(line, decision)| {
                let applied: rust_decimal::Decimal =
                    decision.outcome.proposals.iter().map(|p| p.amount).sum();
                let reviewed: rust_decimal::Decimal =
                    decision.outcome.reviews.iter().map(|r| r.amount).sum();
                let signed = if line.amount.is_sign_negative() {
                    -reviewed
                } else {
                    reviewed
                };
                applied + signed != line.amount
            });
    if let Some((line, _)) = unbalanced {
        return Err(format!(
            "internal error: line {} does not add up",
            line.line_id
        ));
    }
    let flipped = result
        .items
        .par_iter()
        .zip(&result.open_after)
        .find_first(|(item, open)| {
            (item.open_amount.is_sign_positive() && open.is_sign_negative() && !open.is_zero())
                || (item.open_amount.is_sign_negative()
                    && open.is_sign_positive()
                    && !open.is_zero())
        });
    if let Some((item, _)) = flipped {
        return Err(format!(
            "internal error: open amount of {} changed sign",
            item.invoice_id
        ));
    }
    Ok(())
}

fn manifest_json(
    config_text: &str,
    inputs: &[InputRecord],
    outputs: &[(String, String)],
    summary: &Summary,
) -> Vec<u8> {
    let outputs_hashes: BTreeMap<&str, &str> = outputs
        .iter()
        .map(|(n, h)| (n.as_str(), h.as_str()))
        .collect();
    let mut id_source = format!("{VERSION}\n{config_text}\n");
    for input in inputs {
        id_source.push_str(&format!("{} {} {}\n", input.role, input.path, input.sha256));
    }
    let run_id = sha256_hex(id_source.as_bytes())[..16].to_string();
    let config: toml::Value =
        toml::from_str(config_text).unwrap_or(toml::Value::Table(Default::default()));
    // Timings vary run to run: the manifest, hashed and compared by replay,
    // leaves them out.
    let mut counts = serde_json::to_value(summary).unwrap_or_default();
    if let Some(object) = counts.as_object_mut() {
        object.remove("stage_ms");
        object.remove("stage_rss_mb");
        object.remove("stage_cpu_ms");
    }
    let manifest = serde_json::json!({
        "engine": "recon",
        "version": VERSION,
        "commit": COMMIT,
        "run_id": run_id,
        "config": config,
        "inputs": inputs,
        "outputs": outputs_hashes,
        "counts": counts,
    });
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}
