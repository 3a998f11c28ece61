//! The generator's promises, checked on small data sets: determinism,
//! every statement readable by this crate's parsers with the intended
//! lines, the contract's CSV columns, and a truth that is true.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::*;
use crate::money::parse_amount;

/// Lines in the test data sets: every situation occurs, and generation
/// stays well under a second.
const TEST_LINES: usize = 2_000;

/// The files of a data set, chunks joined; checks that the chunks of a
/// file arrive together.
fn collect(options: &SynthOptions) -> (SynthSummary, BTreeMap<String, Vec<u8>>) {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut sink = |path: &str, bytes: &[u8]| -> io::Result<()> {
        if order.last().map(String::as_str) != Some(path) {
            assert!(!order.iter().any(|p| p == path), "{path} comes in two runs");
            order.push(path.to_string());
        }
        files
            .entry(path.to_string())
            .or_default()
            .extend_from_slice(bytes);
        Ok(())
    };
    let summary = generate(options, &mut sink).expect("generation does no I/O");
    (summary, files)
}

fn small() -> (SynthSummary, BTreeMap<String, Vec<u8>>) {
    collect(&SynthOptions {
        lines: TEST_LINES,
        seed: 42,
    })
}

/// Rows of a CSV as maps column → value, with the header.
fn rows(bytes: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.expect("a well-formed CSV row");
        assert_eq!(record.len(), header.len());
        out.push(
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect(),
        );
    }
    (header, out)
}

fn amount(text: &str) -> Decimal {
    parse_amount(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let (summary_a, a) = small();
    let (summary_b, b) = small();
    assert_eq!(summary_a, summary_b);
    assert_eq!(a, b);
    let (_, c) = collect(&SynthOptions {
        lines: TEST_LINES,
        seed: 43,
    });
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        c.keys().collect::<Vec<_>>(),
        "the file layout depends on the line count only"
    );
    assert_ne!(a["truth.csv"], c["truth.csv"]);
    assert_ne!(a["open_items.csv"], c["open_items.csv"]);
}

#[test]
fn summary_counts_what_was_written() {
    let (summary, files) = small();
    assert_eq!(summary.lines, TEST_LINES);
    assert_eq!(summary.files, files.len());
    assert_eq!(
        summary.bytes,
        files.values().map(|b| b.len() as u64).sum::<u64>()
    );
    let (_, items) = rows(&files["open_items.csv"]);
    let (_, customers) = rows(&files["customers.csv"]);
    assert_eq!(summary.open_items, items.len());
    assert_eq!(summary.customers, customers.len());
    assert!(items.len() >= TEST_LINES * OPEN_ITEMS_PER_TEN_LINES / 10);
    assert!(items.len() <= TEST_LINES * OPEN_ITEMS_PER_TEN_LINES * 11 / 100);
    assert_eq!(customers.len(), TEST_LINES / LINES_PER_CUSTOMER);
}

#[test]
fn every_statement_parses_with_the_intended_lines() {
    let (_, files) = small();
    let (_, truth) = rows(&files["truth.csv"]);
    let by_ref: BTreeMap<&str, &BTreeMap<String, String>> = truth
        .iter()
        .map(|row| (row["bank_ref"].as_str(), row))
        .collect();
    assert_eq!(
        by_ref.len(),
        truth.len(),
        "bank refs are unique in truth.csv"
    );
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut formats: BTreeSet<&str> = BTreeSet::new();
    let mut statements = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("statements/")) {
        let parsed =
            crate::parse::parse_bytes(path, bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(parsed.warnings.is_empty(), "{path}: {:?}", parsed.warnings);
        assert!(!parsed.statements.is_empty(), "{path}");
        for statement in &parsed.statements {
            statements += 1;
            formats.insert(statement.format.name());
            assert!(
                statement.warnings.is_empty(),
                "{path}: {:?}",
                statement.warnings
            );
            assert_eq!(statement.balance_ok(), Some(true), "{path}");
            for entry in &statement.entries {
                let bank_ref = entry.bank_ref.clone().expect("every line has a bank ref");
                assert!(
                    bank_ref.len() <= 16 && bank_ref.bytes().all(|b| b.is_ascii_alphanumeric())
                );
                let row = by_ref
                    .get(bank_ref.as_str())
                    .unwrap_or_else(|| panic!("{path}: {bank_ref} is not in truth.csv"));
                assert_eq!(entry.amount, amount(&row["amount"]), "{path} {bank_ref}");
                assert_eq!(entry.currency, "EUR");
                assert!(seen.insert(bank_ref.to_string()), "{bank_ref} twice");
                check_evidence(path, entry, row);
            }
        }
    }
    assert_eq!(seen.len(), truth.len(), "every truth row is a parsed line");
    assert!(
        statements > 100,
        "MT940 and CFONB files hold several statements"
    );
    assert_eq!(formats.len(), 3, "{formats:?}");
}

/// What the parsed line must carry for its situation to be what the truth
/// says.
fn check_evidence(path: &str, entry: &crate::model::Entry, row: &BTreeMap<String, String>) {
    let situation = row["situation"].as_str();
    let text = entry.remittance_text();
    match situation {
        "fees" => {
            let charges: Decimal = entry
                .charges
                .iter()
                .chain(entry.transaction.charges.iter())
                .map(|c| c.amount.amount)
                .sum();
            let expected = amount(row["expected_adjustments"].trim_start_matches("bank_fee="));
            assert_eq!(-charges, expected, "{path} {row:?}");
        }
        "cheque_batch" => {
            assert!(entry.details.len() >= 2, "{path} {row:?}");
            let sum: Decimal = entry
                .details
                .iter()
                .filter_map(|d| d.amount.as_ref().map(|m| m.amount))
                .sum();
            assert_eq!(sum, entry.amount);
        }
        "iban_only" | "twins" | "grouped_no_reference" => {
            assert!(
                entry.counterparty().iban.is_some(),
                "{path} {situation} without payer IBAN"
            );
        }
        "grouped_advice" | "advice_deduction" => {
            assert!(entry.transaction.end_to_end_id.is_some(), "{path} {row:?}");
        }
        "rf_reference" => {
            let structured = entry
                .transaction
                .creditor_references
                .iter()
                .any(|r| rf_valid(&r.reference));
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(
                structured || compact.contains("RF"),
                "{path}: no RF reference in {text:?}"
            );
        }
        "clean" | "split" | "small_difference" | "partial" | "overpayment" | "third_party" => {
            let first = row["expected_invoices"]
                .split('=')
                .next()
                .unwrap_or_default();
            assert!(
                fold_upper_ascii(&text).contains(first),
                "{path}: {first} not in {text:?}"
            );
        }
        _ => {}
    }
    if entry.amount < Decimal::ZERO {
        assert!(
            matches!(
                situation,
                "debit" | "direct_debit_return" | "cheque_return" | "return_untied"
            ),
            "{situation}"
        );
    }
}

fn fold_upper_ascii(text: &str) -> String {
    codes::fold_upper(text)
}

#[test]
fn csvs_have_the_contract_columns_and_valid_codes() {
    let (_, files) = small();
    let (header, items) = rows(&files["open_items.csv"]);
    assert_eq!(
        header,
        [
            "invoice_id",
            "customer_id",
            "customer_name",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "open_amount",
            "payment_reference"
        ]
    );
    let mut ids = BTreeSet::new();
    let mut with_reference = 0;
    for item in &items {
        assert!(ids.insert(item["invoice_id"].clone()), "{item:?}");
        let (gross, open) = (amount(&item["amount"]), amount(&item["open_amount"]));
        assert_eq!(
            gross.is_sign_negative(),
            open.is_sign_negative(),
            "{item:?}"
        );
        assert!(open.abs() <= gross.abs(), "{item:?}");
        assert_eq!(
            gross.is_sign_negative(),
            item["invoice_id"].starts_with("AV-")
        );
        assert!(item["issue_date"].starts_with("2026-"));
        assert!(item["due_date"] >= item["issue_date"]);
        let reference = &item["payment_reference"];
        if !reference.is_empty() {
            with_reference += 1;
            assert!(rf_valid(reference), "{reference}");
            assert!(reference.len() <= 25);
        }
    }
    let share = with_reference * 100 / items.len();
    assert!((20..=35).contains(&share), "{share}% with an RF reference");

    let (header, customers) = rows(&files["customers.csv"]);
    assert_eq!(
        header,
        [
            "customer_id",
            "name",
            "aliases",
            "ibans",
            "credit_limit",
            "payment_terms_days"
        ]
    );
    let mut ibans = BTreeSet::new();
    for customer in &customers {
        for iban in customer["ibans"].split(';').filter(|i| !i.is_empty()) {
            assert!(
                iban.starts_with("FR76") && iban.len() == 27 && iban_valid(iban),
                "{iban}"
            );
            assert!(ibans.insert(iban.to_string()), "{iban} twice");
        }
    }

    let advices = &files["remittances/advices.csv"];
    let (header, advice_rows) = rows(advices);
    assert_eq!(
        header,
        [
            "advice_id",
            "payer_name",
            "payment_date",
            "payment_amount",
            "currency",
            "invoice_id",
            "paid_amount",
            "payment_reference",
            "deduction_amount",
            "deduction_reason"
        ]
    );
    assert!(!advice_rows.is_empty());
    let parsed = crate::parse::parse_bytes("advices.csv", advices).expect("the advice CSV parses");
    assert!(!parsed.advices.is_empty());
    for advice in &parsed.advices {
        let total: Decimal = advice.lines.iter().filter_map(|l| l.paid_amount).sum();
        assert_eq!(
            Some(total),
            advice.payment_amount.as_ref().map(|m| m.amount)
        );
    }

    let (header, truth) = rows(&files["truth.csv"]);
    assert_eq!(
        header,
        [
            "bank_ref",
            "situation",
            "matchable",
            "customer_id",
            "amount",
            "expected_invoices",
            "expected_adjustments",
            "expected_reason"
        ]
    );
    let names: BTreeSet<&str> = SITUATIONS.iter().map(|(n, _)| *n).collect();
    let open: BTreeMap<&str, Decimal> = items
        .iter()
        .map(|i| (i["invoice_id"].as_str(), amount(&i["open_amount"])))
        .collect();
    let mut seen_situations = BTreeSet::new();
    for row in &truth {
        let situation = row["situation"].as_str();
        assert!(names.contains(situation), "{situation}");
        seen_situations.insert(situation.to_string());
        let line = amount(&row["amount"]);
        let mut applied = Decimal::ZERO;
        for pair in row["expected_invoices"]
            .split(';')
            .filter(|p| !p.is_empty())
        {
            let (id, value) = pair.split_once('=').expect("INV=amount");
            let value = amount(value);
            let available = open
                .get(id)
                .unwrap_or_else(|| panic!("{id} is not an open item"));
            assert!(value.abs() <= available.abs(), "{row:?}");
            applied += value;
        }
        let adjustments: Decimal = row["expected_adjustments"]
            .split(';')
            .filter(|p| !p.is_empty())
            .map(|p| amount(p.split_once('=').expect("kind=amount").1))
            .sum();
        let matchable = row["matchable"] == "true";
        assert_eq!(matchable, !row["expected_invoices"].is_empty(), "{row:?}");
        match row["expected_reason"].as_str() {
            "" => assert_eq!(applied + adjustments, line, "{row:?}"),
            "overpayment" => assert!(line - applied > Decimal::new(5, 0), "{row:?}"),
            "unknown_payer" | "not_receivable" | "duplicate_payment" | "amount_mismatch"
            | "currency_mismatch" | "no_candidate" => {
                assert!(!matchable, "{row:?}");
                assert_eq!(
                    row["customer_id"].is_empty(),
                    row["expected_reason"] != "duplicate_payment"
                );
            }
            other => panic!("unexpected reason {other}"),
        }
    }
    assert_eq!(
        seen_situations.len(),
        SITUATIONS.len(),
        "{seen_situations:?}"
    );
}

/// An amount-only line's amount designates exactly its expected items
/// among its customer's open items (combinations up to
/// `SUBSET_ITEMS_MAX`), and twins settle the oldest due date.
#[test]
fn amount_only_lines_designate_exactly_their_items() {
    let (_, files) = small();
    let (_, items) = rows(&files["open_items.csv"]);
    let (_, truth) = rows(&files["truth.csv"]);
    let mut by_customer: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for item in &items {
        by_customer
            .entry(item["customer_id"].as_str())
            .or_default()
            .push(item);
    }
    let mut checked = 0;
    for row in &truth {
        let situation = row["situation"].as_str();
        if !matches!(
            situation,
            "iban_only" | "name_only" | "twins" | "grouped_no_reference"
        ) {
            continue;
        }
        let own = &by_customer[row["customer_id"].as_str()];
        assert!(own.len() <= 10, "a reserved customer has few items");
        let line = amount(&row["amount"]);
        let expected: BTreeSet<&str> = row["expected_invoices"]
            .split(';')
            .map(|p| p.split_once('=').map_or(p, |(id, _)| id))
            .collect();
        let mut matching: Vec<BTreeSet<&str>> = Vec::new();
        for mask in 1u32..(1 << own.len()) {
            if mask.count_ones() as usize > SUBSET_ITEMS_MAX {
                continue;
            }
            let chosen: Vec<&BTreeMap<String, String>> = (0..own.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| own[i])
                .collect();
            let sum: Decimal = chosen.iter().map(|i| amount(&i["open_amount"])).sum();
            if sum == line {
                matching.push(chosen.iter().map(|i| i["invoice_id"].as_str()).collect());
            }
        }
        if situation == "twins" {
            assert_eq!(matching.len(), 2, "{row:?}");
            let due = |id: &str| {
                own.iter()
                    .find(|i| i["invoice_id"] == id)
                    .map(|i| i["due_date"].clone())
                    .unwrap_or_default()
            };
            let other = matching
                .iter()
                .flatten()
                .find(|id| !expected.contains(*id))
                .expect("the other twin");
            let mine = expected.iter().next().expect("one expected");
            assert!(due(mine) < due(other), "{row:?}");
        } else {
            assert_eq!(matching, vec![expected], "{row:?}");
        }
        checked += 1;
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn write_dataset_writes_what_generate_gives() {
    let options = SynthOptions {
        lines: 300,
        seed: 9,
    };
    let dir = std::env::temp_dir().join(format!("recon-synth-test-{}", std::process::id()));
    let summary = write_dataset(&options, &dir).expect("writable temp dir");
    let (expected_summary, files) = collect(&options);
    assert_eq!(summary, expected_summary);
    for (path, bytes) in &files {
        let written = std::fs::read(dir.join(path)).expect("file written");
        assert!(written == *bytes, "{path} differs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `recon gen --lines 1000000` stays well under a minute: set
/// `RECON_SYNTH_LARGE=1000000` to run it (release mode); with
/// `RECON_SYNTH_OUT=DIR` the data set is also written there. Prints the
/// realised situation shares and the share of open items no line pays.
#[test]
fn large_generation_is_fast() {
    let Some(lines) = std::env::var("RECON_SYNTH_LARGE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let options = SynthOptions { lines, seed: 7 };
    let started = std::time::Instant::now();
    let mut bytes = 0u64;
    let mut truth = Vec::new();
    let mut sink = |path: &str, chunk: &[u8]| -> io::Result<()> {
        bytes += chunk.len() as u64;
        if path == "truth.csv" {
            truth.extend_from_slice(chunk);
        }
        Ok(())
    };
    let summary = generate(&options, &mut sink).expect("no I/O");
    let elapsed = started.elapsed();
    eprintln!("{summary:?} in {elapsed:?}");
    assert_eq!(summary.bytes, bytes);
    assert!(elapsed.as_secs() < 60);
    let (_, rows) = rows(&truth);
    let mut shares: BTreeMap<String, usize> = BTreeMap::new();
    let mut paid: BTreeSet<String> = BTreeSet::new();
    for row in &rows {
        *shares.entry(row["situation"].clone()).or_default() += 1;
        for pair in row["expected_invoices"]
            .split(';')
            .filter(|p| !p.is_empty())
        {
            paid.insert(pair.split('=').next().unwrap_or_default().to_string());
        }
    }
    for (situation, count) in &shares {
        eprintln!(
            "{situation:<22}{count:>9}{:>7.2}%",
            *count as f64 * 100.0 / rows.len() as f64
        );
    }
    eprintln!(
        "open items paid by some line: {} of {}",
        paid.len(),
        summary.open_items
    );
    if let Ok(out) = std::env::var("RECON_SYNTH_OUT") {
        let started = std::time::Instant::now();
        write_dataset(&options, Path::new(&out)).expect("writable output directory");
        eprintln!("written to {out} in {:?}", started.elapsed());
    }
}
