//! `recon run` as the contract defines it, through the binary: outputs that
//! pass `../shared/tools/check-run.py`, byte-identical outputs for any
//! thread count and input order, and every exit-2 case with its message and
//! `--out` left as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn recon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recon"))
}

fn fixture(name: &str) -> String {
    crate::fixtures_dir().join(name).display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recon-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const OUTPUTS: [&str; 6] = [
    "allocations.csv",
    "exceptions.csv",
    "disputes.csv",
    "open_items.csv",
    "journal.fec.txt",
    "manifest.json",
];

/// `recon replay OUT` finds every output identical (exit 0).
fn assert_replays(out: &Path) {
    let replay = recon().arg("replay").arg(out).output().unwrap();
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
}

/// The command succeeded; its stderr otherwise.
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run_basic(out: &Path, statements: &[&str], extra: &[&str]) -> Output {
    let mut command = recon();
    command.args([
        "run",
        "--open-items",
        &fixture("run/basic/open_items.csv"),
        "--customers",
        &fixture("run/basic/customers.csv"),
        "--statements",
    ]);
    command.args(statements);
    command.args(["--out", &out.display().to_string()]);
    command.args(extra);
    command.output().expect("run recon")
}

/// `../shared/tools/check-run.py OUT --parsed (recon parse --json
/// STATEMENTS) --open-items ITEMS` must pass; skipped with a message when
/// the shared tools are not beside the repository.
fn contract_check(out: &Path, statements: &[&str], open_items: &str) {
    let parsed = recon()
        .arg("parse")
        .arg("--json")
        .args(statements)
        .output()
        .expect("parse");
    assert_ok(&parsed);
    let parsed_path = out.with_extension("parsed.jsonl");
    std::fs::write(&parsed_path, &parsed.stdout).expect("write parsed");
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/check-run.py");
    if !checker.exists() {
        eprintln!("check-run.py not found beside the repository: contract check skipped");
        return;
    }
    let check = Command::new("python3")
        .arg(&checker)
        .arg(out)
        .args([
            "--parsed",
            &parsed_path.display().to_string(),
            "--open-items",
            open_items,
        ])
        .output()
        .expect("python3");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    OUTPUTS
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read(dir.join(n)).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn run_outputs_pass_the_contract_checker() {
    let out = scratch("check");
    let statements = [
        fixture("camt053/v02-mixed.xml"),
        fixture("mt940/ing-slash-codes.sta"),
        fixture("cfonb120/two-days-sepa-complements.txt"),
    ];
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    let output = run_basic(&out, &refs, &["--json"]);
    assert_ok(&output);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary json");
    assert!(
        summary["lines_fully_applied"].as_u64().unwrap() >= 4,
        "{summary}"
    );
    // Every stage timed also has its CPU time, and the total is at least
    // the matching's.
    let (wall, cpu) = (&summary["stage_ms"], &summary["stage_cpu_ms"]);
    for stage in wall.as_object().expect("stage_ms").keys() {
        assert!(cpu[stage].is_u64(), "no CPU time for {stage}: {summary}");
    }
    assert!(cpu["total"].as_u64() >= cpu["match"].as_u64(), "{summary}");
    contract_check(&out, &refs, &fixture("run/basic/open_items.csv"));
}

#[test]
fn outputs_are_identical_for_any_thread_count_and_input_order() {
    let statements = [
        fixture("camt053/v02-mixed.xml"),
        fixture("mt940/ing-slash-codes.sta"),
        fixture("camt054/v04-direct-debit-batch.xml"),
    ];
    let forward: Vec<&str> = statements.iter().map(String::as_str).collect();
    let backward: Vec<&str> = statements.iter().rev().map(String::as_str).collect();
    let mut reference: Option<Vec<(String, Vec<u8>)>> = None;
    for (threads, order) in [
        ("1", &forward),
        ("2", &backward),
        ("8", &forward),
        ("8", &backward),
    ] {
        let out = scratch(&format!("det-{threads}-{}", order[0].len()));
        let output = run_basic(&out, order, &["--threads", threads, "--quiet"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let got = files(&out);
        match &reference {
            None => reference = Some(got),
            Some(first) => {
                for ((name, a), (_, b)) in first.iter().zip(&got) {
                    assert!(a == b, "{name} differs at {threads} threads");
                }
            }
        }
    }
}

#[test]
fn unusable_input_exits_2_and_leaves_out_untouched() {
    let out = scratch("exit2");
    std::fs::write(out.join("allocations.csv"), "previous run\n").expect("seed");
    let bad_items = out.join("bad-items.csv");
    std::fs::write(&bad_items, "invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount\nFA-1,C1,X,2026-01-01,2026-13-01,EUR,10.00,10.00\n").unwrap();
    let bad_config = out.join("bad.toml");
    std::fs::write(&bad_config, "writeoff_maxx = \"1.00\"\n").unwrap();
    let camt = fixture("camt053/v02-mixed.xml");
    let out_text = out.display().to_string();
    let items = fixture("run/basic/open_items.csv");
    let bad_items_text = bad_items.display().to_string();
    let bad_config_text = bad_config.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--open-items", &bad_items_text, "--statements", &camt],
            "line 2, column due_date",
        ),
        (
            vec![
                "--open-items",
                &items,
                "--statements",
                &camt,
                "--config",
                &bad_config_text,
            ],
            "writeoff_maxx",
        ),
        (
            vec![
                "--open-items",
                &items,
                "--statements",
                "/nonexistent/statement.xml",
            ],
            "/nonexistent/statement.xml",
        ),
        (
            vec!["--open-items", &items, "--statements", &camt, &camt],
            "already read from",
        ),
        (
            vec!["--open-items", &items, "--statements", &items],
            "expected a bank statement",
        ),
    ];
    for (args, message) in cases {
        let output = recon()
            .arg("run")
            .args(&args)
            .args(["--out", &out_text])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("allocations.csv")).unwrap(),
            "previous run\n"
        );
        assert!(
            !out.join("manifest.json").exists(),
            "{args:?} wrote a manifest"
        );
    }
}

#[test]
fn config_defaults_print_every_key() {
    let output = recon()
        .args(["config", "--defaults"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for key in [
        "writeoff_max = \"5.00\"",
        "twins = \"oldest\"",
        "name_similarity_min",
        "subset_max_items = 6",
        "subset_max_candidates = 40",
        "suspense = \"471000\"",
    ] {
        assert!(text.contains(key), "{key} missing from\n{text}");
    }
    recon::config::Config::from_toml(&text).expect("the defaults read back");
}

/// A generated data set end to end: the run passes the contract checker
/// (every parsed line accounted for, open items conserved), and the
/// evaluation meets the targets on it.
#[test]
fn generated_run_passes_the_checker_and_meets_the_targets() {
    let dir = scratch("generated");
    let data = dir.join("data");
    let out = dir.join("out");
    recon::synth::write_dataset(
        &recon::synth::SynthOptions {
            lines: 3_000,
            seed: 11,
        },
        &data,
    )
    .expect("generate");
    let data_text = data.display().to_string();
    let output = recon()
        .args([
            "run",
            "--open-items",
            &format!("{data_text}/open_items.csv"),
            "--customers",
            &format!("{data_text}/customers.csv"),
        ])
        .args([
            "--statements",
            &format!("{data_text}/statements"),
            "--remittances",
            &format!("{data_text}/remittances"),
            "--settlements",
            &format!("{data_text}/settlements"),
        ])
        .args(["--out", &out.display().to_string(), "--quiet"])
        .output()
        .expect("run");
    assert_ok(&output);
    let evaluation = recon::eval::evaluate_dir(&out, &data.join("truth.csv")).expect("evaluate");
    let overall = evaluation.overall();
    assert!(overall.precision() >= 0.9995, "{}", evaluation.table());
    assert!(
        overall.auto_match_rate().unwrap_or(0.0) >= 0.97,
        "{}",
        evaluation.table()
    );
    assert_eq!(overall.non_receivable_applied, 0, "{}", evaluation.table());
    contract_check(
        &out,
        &[&format!("{data_text}/statements")],
        &format!("{data_text}/open_items.csv"),
    );
}

#[test]
fn explain_reads_a_line_back_from_the_run() {
    let out = scratch("explain");
    let output = run_basic(&out, &[&fixture("camt053/v02-mixed.xml")], &["--quiet"]);
    assert_ok(&output);
    // The first line settles FA-2026-000123 and FA-2026-000124 by their numbers.
    let allocations = std::fs::read_to_string(out.join("allocations.csv")).unwrap();
    let line_id = allocations
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let page = recon()
        .args(["explain", &out.display().to_string(), &line_id])
        .output()
        .expect("explain");
    assert_ok(&page);
    let text = String::from_utf8(page.stdout).unwrap();
    for expected in [
        "What the bank said",
        "ETS MARTIN",
        "invoice number FA-2026-000123",
        "Why: rule invoice_number",
        "lettrage AAA",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    let json = recon()
        .args(["explain", "--json", &out.display().to_string(), &line_id])
        .output()
        .expect("explain");
    let record: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON record");
    assert_eq!(record["line_id"], line_id.as_str());
    // The rows come from allocations.csv, joined by line id.
    let invoices: Vec<&str> = record["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .filter_map(|row| row["invoice_id"].as_str())
        .collect();
    assert_eq!(invoices, ["FA-2026-000123", "FA-2026-000124"]);
    assert_eq!(record["lettrage"], "AAA");
    let missing = recon()
        .args(["explain", &out.display().to_string(), "nope-1"])
        .output()
        .expect("explain");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no decision for line \"nope-1\""));
}

#[test]
fn replay_reruns_from_the_manifest_and_names_the_first_difference() {
    let dir = scratch("replay");
    // Inputs copied into the scratch directory so they can be changed.
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    for (from, to) in [
        ("run/basic/open_items.csv", "open_items.csv"),
        ("run/basic/customers.csv", "customers.csv"),
        ("camt053/v02-mixed.xml", "statement.xml"),
    ] {
        std::fs::copy(crate::fixtures_dir().join(from), inputs.join(to)).unwrap();
    }
    let out = dir.join("out");
    let output = recon()
        .current_dir(&inputs)
        .args([
            "run",
            "--open-items",
            "open_items.csv",
            "--customers",
            "customers.csv",
            "--statements",
            "statement.xml",
        ])
        .args(["--out", &out.display().to_string(), "--quiet"])
        .output()
        .expect("run");
    assert_ok(&output);
    let replay = |extra: &[&str]| {
        recon()
            .current_dir(&dir)
            .arg("replay")
            .arg(&out)
            .args(extra)
            .output()
            .expect("replay")
    };
    let inputs_text = inputs.display().to_string();
    let same = replay(&["--inputs", &inputs_text]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(String::from_utf8_lossy(&same.stdout).contains("6 output files identical"));

    let allocations = out.join("allocations.csv");
    let original = std::fs::read_to_string(&allocations).unwrap();
    std::fs::write(
        &allocations,
        original.replacen("invoice_number", "tampered", 1),
    )
    .unwrap();
    let differs = replay(&["--inputs", &inputs_text]);
    assert_eq!(differs.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&differs.stdout).contains("allocations.csv differs at line 2"));
    std::fs::write(&allocations, original).unwrap();

    std::fs::write(inputs.join("customers.csv"), "customer_id,name\n").unwrap();
    let changed = replay(&["--inputs", &inputs_text]);
    assert_eq!(changed.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&changed.stderr)
            .contains("customers.csv: input changed since the run")
    );
    std::fs::remove_file(inputs.join("statement.xml")).unwrap();
    let missing = replay(&["--inputs", &inputs_text]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn the_manifest_names_the_commit_the_binary_was_built_from() {
    let out = scratch("commit");
    let output = run_basic(&out, &[&fixture("camt053/v02-mixed.xml")], &["--quiet"]);
    assert!(output.status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let commit = manifest["commit"].as_str().expect("commit");
    let head = Command::new("git")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // Built from this work tree: its HEAD, `-dirty` when edited since.
        Some(head) => assert!(
            commit == head || commit == format!("{head}-dirty"),
            "{commit} vs HEAD {head}"
        ),
        None => assert_eq!(commit, "unknown"),
    }
    let version = recon().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(commit));

    // A replay by another build says so, and still compares.
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(commit, "0123abcd")).unwrap();
    let replay = recon().arg("replay").arg(&out).output().unwrap();
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        String::from_utf8_lossy(&replay.stderr).contains(&format!(
            "made by recon {} (commit 0123abcd)",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
}

/// A card payout settles its rows' invoices with the fees as one
/// `bank_fee` row; a PSP payout found by amount and date nets its refund;
/// a cheque deposit settles the cheque it can place and leaves the other
/// for review; a payout whose rows do not add up to the bank line is an
/// `amount_mismatch` naming the difference; a direct-debit return reopens
/// the invoice the deposit settled. The run passes the contract
/// checker, and replays with its settlement report.
#[test]
fn settlement_reports_settle_payouts_row_by_row() {
    let out = scratch("settlements");
    let dir = |name: &str| fixture(&format!("run/settlements/{name}"));
    let statement = dir("statement.sta");
    let output = recon()
        .args(["run", "--open-items", &dir("open_items.csv")])
        .args(["--customers", &dir("customers.csv")])
        .args(["--statements", &statement])
        .args(["--settlements", &dir("settlements.csv")])
        .args(["--out", &out.display().to_string(), "--quiet"])
        .output()
        .expect("run");
    assert_ok(&output);
    let allocations = std::fs::read_to_string(out.join("allocations.csv")).unwrap();
    let rows: Vec<Vec<&str>> = allocations
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let row = |invoice: &str, rule: &str| {
        rows.iter()
            .filter(|r| r[3] == invoice && r[8] == rule)
            .map(|r| r[5])
            .collect::<Vec<_>>()
    };
    assert_eq!(row("FA-2026-000100", "card_payout"), ["120.00"]);
    assert_eq!(
        row("FA-2026-000101", "card_payout"),
        ["80.00"],
        "altered id"
    );
    assert_eq!(
        row("FA-2026-000103", "card_payout"),
        ["150.00"],
        "partly by card"
    );
    assert_eq!(
        row("FA-2026-000103", "invoice_number"),
        ["50.00"],
        "rest by transfer"
    );
    assert_eq!(
        row("FA-2026-000104", "card_payout"),
        ["99.00"],
        "customer + amount"
    );
    assert_eq!(
        row("", "card_payout"),
        ["-11.74"],
        "fees 1.80+1.20+2.25+1.49+5.00"
    );
    assert_eq!(
        row("FA-2026-000102", "psp_payout"),
        ["40.00"],
        "50.00 less a 10.00 refund"
    );
    assert_eq!(row("", "psp_payout"), ["-0.50"]);
    assert_eq!(row("FA-2026-000105", "cheque_deposit"), ["30.00"]);
    assert_eq!(row("FA-2026-000105", "return_MD06"), ["-30.00"], "reopened");
    assert!(row("FA-2026-000106", "card_payout").is_empty());
    let exceptions = std::fs::read_to_string(out.join("exceptions.csv")).unwrap();
    assert!(
        exceptions.contains("45.00,credit,EUR,unknown_payer,")
            && exceptions.contains("Dupont Inconnu: no single open item"),
        "{exceptions}"
    );
    assert!(
        exceptions.contains("98.00,credit,EUR,amount_mismatch,FA-2026-000106:0.700")
            && exceptions
                .contains("payout PO-2: rows net 100.00, bank line 98.00, difference -2.00"),
        "{exceptions}"
    );
    let open_items = std::fs::read_to_string(out.join("open_items.csv")).unwrap();
    assert!(
        open_items
            .contains("FA-2026-000102,C3,Petit Boulangerie,2026-05-03,2026-06-02,EUR,50.00,10.00")
    );
    assert!(
        open_items.contains("FA-2026-000106,C2,Durand SA,2026-05-07,2026-06-06,EUR,100.00,100.00")
    );
    contract_check(&out, &[&statement], &dir("open_items.csv"));

    let explain = recon()
        .arg("explain")
        .arg(&out)
        .arg(rows[0][0])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("card payout PO-1 (payout reference)"),
        "{text}"
    );
    assert_replays(&out);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"role\": \"settlements\""), "{manifest}");
}

/// A camt.054 direct-debit notification end to end: the collection batch
/// settles its two invoices detail by detail, and the unpaid direct debit
/// (reason AM04) reopens the one it returns, with no lettrage code.
#[test]
fn a_direct_debit_collection_and_its_return_from_camt054() {
    let out = scratch("camt054");
    let items = out.with_extension("items.csv");
    std::fs::write(
        &items,
        "invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount,payment_reference\n\
         FA-2026-000160,C1,Pharmacie Centrale,2026-03-01,2026-04-10,EUR,1020.00,1020.00,\n\
         FA-2026-000161,C2,Cabinet Moreau,2026-03-02,2026-04-10,EUR,500.00,500.00,\n",
    )
    .unwrap();
    let items = items.display().to_string();
    let notification = fixture("camt054/v04-direct-debit-batch.xml");
    let output = recon()
        .args(["run", "--open-items", &items, "--statements", &notification])
        .args(["--out", &out.display().to_string(), "--quiet"])
        .output()
        .expect("run");
    assert_ok(&output);
    let allocations = std::fs::read_to_string(out.join("allocations.csv")).unwrap();
    let rows: Vec<&str> = allocations.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{allocations}");
    assert!(
        rows[0].contains("FA-2026-000160,C1,1020.00,EUR,invoice,"),
        "{allocations}"
    );
    assert!(
        rows[1].contains("FA-2026-000161,C2,500.00,EUR,invoice,"),
        "{allocations}"
    );
    assert!(
        rows[2].contains("FA-2026-000161,C2,-500.00,EUR,invoice,return_AM04,")
            && rows[2].ends_with(','),
        "{allocations}"
    );
    let open = std::fs::read_to_string(out.join("open_items.csv")).unwrap();
    assert!(
        open.contains("FA-2026-000161,C2,Cabinet Moreau,2026-03-02,2026-04-10,EUR,500.00,500.00")
    );
    assert!(
        open.contains(
            "FA-2026-000160,C1,Pharmacie Centrale,2026-03-01,2026-04-10,EUR,1020.00,0.00"
        )
    );
    contract_check(&out, &[&notification], &items);
}

/// Converted payments end to end: a camt.053 with `InstdAmt` and
/// `CcyXchg`, an MT940 with `/OCMT/` and `/EXCH/`. USD invoices paid by EUR
/// lines settle in USD with a conversion bridge and the exchange
/// difference (656); a EUR invoice paid in USD books its shortfall as an
/// exchange difference; a payment 11 % short in USD is `currency_mismatch`.
/// The journal credits 411 with the invoice's EUR value and its USD amount
/// in `Montantdevise`; the run passes the contract checker and replays.
#[test]
fn converted_payments_settle_across_currencies() {
    let out = scratch("fx");
    let dir = |name: &str| fixture(&format!("run/fx/{name}"));
    let statements = [dir("statement.xml"), dir("statement.sta")];
    let output = recon()
        .args(["run", "--open-items", &dir("open_items.csv")])
        .args(["--customers", &dir("customers.csv")])
        .arg("--statements")
        .args(&statements)
        .args(["--out", &out.display().to_string(), "--quiet"])
        .output()
        .expect("run");
    assert_ok(&output);
    let allocations = std::fs::read_to_string(out.join("allocations.csv")).unwrap();
    let rows: Vec<String> = allocations
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {} {} {} {}", f[1], f[3], f[5], f[6], f[8])
        })
        .collect();
    assert_eq!(
        rows,
        [
            "FX-1 FA-2026-000201 1000.00 USD invoice_number",
            "FX-1  -85.00 EUR fx_conversion",
            "FX-2 FA-2026-000202 2000.00 USD invoice_number",
            "FX-2  -160.00 EUR fx_conversion",
            "FX-2  -13.80 EUR fx_difference",
            "FX-3 FA-2026-000203 1200.00 EUR invoice_number",
            "FX-3  -11.60 EUR fx_difference",
            "FX-5 FA-2026-000205 500.00 USD invoice_number",
            "FX-5  -40.00 EUR fx_conversion",
        ]
    );
    let exceptions = std::fs::read_to_string(out.join("exceptions.csv")).unwrap();
    assert!(
        exceptions
            .contains("FX-4,2026-06-10,700.00,credit,EUR,currency_mismatch,FA-2026-000204:0.970,")
            && exceptions.contains("700.00 EUR is 800.00 USD, due 900.00 USD"),
        "{exceptions}"
    );
    let journal = std::fs::read_to_string(out.join("journal.fec.txt")).unwrap();
    let entry = |number: &str| -> Vec<String> {
        journal
            .lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f[2] == number)
            .map(|f| format!("{} {} {} {} {}", f[4], f[11], f[12], f[16], f[17]))
            .collect()
    };
    assert_eq!(
        entry("2"),
        [
            "512000 1826,20 0,00  ",
            "411000 0,00 1840,00 2000,00 USD",
            "656000 13,80 0,00  "
        ]
    );
    assert_eq!(
        entry("3"),
        [
            "512000 1188,40 0,00  ",
            "411000 0,00 1200,00  ",
            "656000 11,60 0,00  "
        ]
    );
    let statement_refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    contract_check(&out, &statement_refs, &dir("open_items.csv"));
    assert_replays(&out);
}
