//! The `recon` command line: arguments in, library calls, text out. Kept
//! thin: everything it does is a library function that tests call too.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use recon::output::parse_report;

#[derive(Parser)]
#[command(
    name = "recon",
    version,
    long_version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("RECON_COMMIT"), ")"),
    about = "Cash application: bank statements in, settled invoices out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse statements and remittance advices and print what was read.
    Parse {
        /// Files or directories (walked, sorted by path).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per statement or advice per line.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Match statements against open items and write the run's files.
    Run {
        /// Open items CSV (the contract's columns).
        #[arg(long, value_name = "FILE")]
        open_items: PathBuf,
        /// Customers CSV: names, aliases, known IBANs.
        #[arg(long, value_name = "FILE")]
        customers: Option<PathBuf>,
        /// Statement files or directories (walked, sorted by path).
        #[arg(long, value_name = "PATH", num_args = 1.., required = true)]
        statements: Vec<PathBuf>,
        /// Remittance advices: remt.001 XML or the contract's CSV.
        #[arg(long, value_name = "PATH", num_args = 1..)]
        remittances: Vec<PathBuf>,
        /// Settlement reports (card, PSP, direct debit, cheque, LCR payouts).
        #[arg(long, value_name = "PATH", num_args = 1..)]
        settlements: Vec<PathBuf>,
        /// Config TOML (`recon config --defaults` prints every key).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Worker threads (default: one per core). Outputs are identical for
        /// any value.
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
        /// Print nothing on success but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Re-run a finished run from its manifest and compare every output.
    Replay {
        run_dir: PathBuf,
        /// Directory the manifest's input paths are resolved under.
        #[arg(long, value_name = "DIR")]
        inputs: Option<PathBuf>,
    },
    /// Why a line of a finished run got its outcome.
    Explain {
        /// The run's output directory (`--out` of `recon run`).
        run_dir: PathBuf,
        /// The line's `line_id` as the run's files give it.
        line_id: String,
        /// The decision records as JSON Lines.
        #[arg(long)]
        json: bool,
    },
    /// Print the configuration.
    Config {
        /// Every key with its default value, as TOML.
        #[arg(long, required = true)]
        defaults: bool,
    },
    /// Generate a synthetic data set with a truth file.
    Gen {
        /// Bank lines to generate (about 2 open items and 1/3 customer each).
        #[arg(long, default_value_t = 10_000)]
        lines: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        out_dir: PathBuf,
    },
    /// Score a run against a generated data set's truth file.
    Eval {
        run_dir: PathBuf,
        truth: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Generate a small data set, run it, print the summary and evaluation.
    Demo {
        #[arg(long, default_value_t = 2_000)]
        lines: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// mimalloc: a run allocates tens of millions of small strings; glibc's
/// allocator spent a third of a million-line run in malloc/free and
/// consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (index 15 of `mi_option_e` in the
/// mimalloc 2 and 3 headers the crate bundles).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Memory freed by one stage (the statements' model after parsing) is
    // reused by the next instead of being handed back to the kernel and
    // faulted in again, zeroed: a million-line run spent a third of its
    // CPU time in the kernel that way. Measured: peak RSS 2.7 -> 2.9 GiB,
    // system time 10.6 -> 4.8 s.
    // SAFETY: sets a global allocator option; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // Small pages: on the development machine, huge pages touched for the
    // first time were a quarter of a run's CPU time (see `process`).
    recon::process::no_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Parse {
            paths,
            json,
            threads,
        } => {
            set_threads(threads);
            parse_command(&paths, json)
        }
        Command::Run {
            open_items,
            customers,
            statements,
            remittances,
            settlements,
            config,
            threads,
            out,
            json,
            quiet,
        } => {
            set_threads(threads);
            let args = recon::batch::RunArgs {
                open_items,
                customers,
                statements,
                remittances,
                settlements,
                config,
                out,
                outputs: recon::batch::Outputs::Durable,
            };
            run_command(&args, json, quiet)
        }
        Command::Replay { run_dir, inputs } => {
            if let Some(note) = recon::audit::other_build(&run_dir) {
                eprintln!("note: {note}");
            }
            let outcome = recon::audit::replay(&run_dir, inputs.as_deref());
            match outcome {
                Ok(recon::audit::Replay::Identical { files }) => {
                    println!("replay: {files} output files identical");
                    ExitCode::SUCCESS
                }
                Ok(recon::audit::Replay::Differs { file, line, detail }) => {
                    println!("replay: {file} differs at line {line}\n{detail}");
                    ExitCode::from(3)
                }
                Err(recon::audit::ReplayError(message)) => {
                    eprintln!("error: {message}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Explain {
            run_dir,
            line_id,
            json,
        } => match recon::audit::decisions_of(&run_dir, &line_id) {
            Ok(records) => {
                if json {
                    for record in &records {
                        println!("{record}");
                    }
                } else {
                    print!("{}", recon::audit::explain_text(&records));
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
        Command::Config { defaults: _ } => {
            print!("{}", recon::config::Config::default().to_toml());
            ExitCode::SUCCESS
        }
        Command::Gen {
            lines,
            seed,
            out_dir,
        } => {
            match recon::synth::write_dataset(&recon::synth::SynthOptions { lines, seed }, &out_dir)
            {
                Ok(summary) => {
                    println!(
                        "generated {} bank lines, {} open items, {} customers in {} files ({} bytes) under {}",
                        summary.lines,
                        summary.open_items,
                        summary.customers,
                        summary.files,
                        summary.bytes,
                        out_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!(
                        "error: cannot write the data set to {}: {error}",
                        out_dir.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
        Command::Eval {
            run_dir,
            truth,
            json,
        } => match recon::eval::evaluate_dir(&run_dir, &truth) {
            Ok(evaluation) => {
                if json {
                    println!("{}", evaluation.to_json());
                } else {
                    print!("{}", evaluation.table());
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
        Command::Demo { lines, seed } => demo(lines, seed),
    }
}

fn set_threads(threads: Option<usize>) {
    if let Some(threads) = threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global();
    }
}

/// `recon run`: exit 0 when the run completed, 2 on unusable input, 1 on an
/// internal failure; `--out` is untouched unless the run completed.
fn run_command(args: &recon::batch::RunArgs, json: bool, quiet: bool) -> ExitCode {
    use std::io::IsTerminal as _;
    // A progress line on a terminal only: logs and pipes get the summary.
    let progress = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let on_stage = |stage: &str| {
        if let Some(bar) = &progress {
            bar.set_message(stage.to_string());
        }
    };
    let outcome = recon::batch::execute_with(args, &on_stage);
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    match outcome {
        Ok(report) => {
            if !quiet {
                for warning in &report.warnings {
                    eprintln!("warning: {warning}");
                }
                if json {
                    println!(
                        "{}",
                        serde_json::to_string(&report.summary).unwrap_or_default()
                    );
                } else {
                    print!("{}", report.summary.text());
                }
            }
            // The process ends here: freeing a million lines' result one
            // allocation at a time would cost a second for nothing.
            std::mem::forget(report);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

/// `recon parse`: every readable file is reported; exit 2 if any was not.
fn parse_command(paths: &[PathBuf], json: bool) -> ExitCode {
    let files = match recon::input::collect_files(paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let results = recon::input::parse_files(&files);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for result in results {
        match result {
            Ok(parsed) => {
                for warning in &parsed.warnings {
                    let _ = out.flush();
                    eprintln!("warning: {}: {warning}", parsed.source);
                }
                for statement in &parsed.statements {
                    let text = if json {
                        parse_report::statement_json(statement) + "\n"
                    } else {
                        parse_report::statement_table(statement)
                    };
                    let _ = out.write_all(text.as_bytes());
                }
                for advice in &parsed.advices {
                    let text = if json {
                        parse_report::advice_json(advice) + "\n"
                    } else {
                        parse_report::advice_table(advice)
                    };
                    let _ = out.write_all(text.as_bytes());
                }
            }
            Err(error) => {
                let _ = out.flush();
                eprintln!("error: {error}");
                failed = true;
            }
        }
    }
    let _ = out.flush();
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `recon demo`: a generated data set in a temporary directory, run and
/// scored; the README's first command.
fn demo(lines: usize, seed: u64) -> ExitCode {
    let dir = std::env::temp_dir().join(format!("recon-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let summary =
        match recon::synth::write_dataset(&recon::synth::SynthOptions { lines, seed }, &data) {
            Ok(summary) => summary,
            Err(error) => {
                eprintln!(
                    "error: cannot write the demo data to {}: {error}",
                    data.display()
                );
                return ExitCode::from(1);
            }
        };
    println!(
        "demo data: {} bank lines, {} open items, {} customers, {} files in {}",
        summary.lines,
        summary.open_items,
        summary.customers,
        summary.files,
        data.display()
    );
    let args = recon::batch::RunArgs {
        open_items: data.join("open_items.csv"),
        customers: Some(data.join("customers.csv")),
        statements: vec![data.join("statements")],
        remittances: vec![data.join("remittances")],
        settlements: vec![data.join("settlements")],
        config: None,
        out: dir.join("out"),
        outputs: recon::batch::Outputs::Scratch,
    };
    let report = match recon::batch::execute(&args) {
        Ok(report) => report,
        Err(failure) => {
            eprintln!("error: {failure}");
            return ExitCode::from(failure.exit_code());
        }
    };
    println!("\n== run summary (outputs in {})", args.out.display());
    print!("{}", report.summary.text());
    match recon::eval::evaluate_dir(&args.out, &data.join("truth.csv")) {
        Ok(evaluation) => {
            println!("\n== evaluation against the truth file");
            print!("{}", evaluation.table());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}
