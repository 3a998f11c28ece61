//! The `recon` binary as outside tools script it (contract: `recon parse`).

use std::process::Command;

fn recon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recon"))
}

fn fixture(name: &str) -> String {
    crate::fixtures_dir().join(name).display().to_string()
}

#[test]
fn parse_json_has_the_contract_fields() {
    let output = recon()
        .args(["parse", "--json", &fixture("camt053/v02-mixed.xml")])
        .output()
        .expect("run recon");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one statement, one line");
    let statement: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    for key in [
        "format",
        "file",
        "account",
        "currency",
        "statement_id",
        "opening_balance",
        "closing_balance",
        "opening_date",
        "closing_date",
        "balance_ok",
        "warnings",
        "entries",
    ] {
        assert!(statement.get(key).is_some(), "missing {key}");
    }
    assert_eq!(statement["format"], "camt053");
    assert_eq!(statement["account"], "FR7630006000011234567890189");
    assert_eq!(statement["opening_balance"], "15000.00");
    assert_eq!(statement["closing_balance"], "21688.70");
    assert_eq!(statement["balance_ok"], true);
    let entries = statement["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 5);
    let first = &entries[0];
    for key in [
        "line_id",
        "bank_ref",
        "booking_date",
        "value_date",
        "amount",
        "currency",
        "payer_name",
        "payer_iban",
        "remittance_text",
        "end_to_end_id",
        "creditor_reference",
        "bank_tx_code",
        "charges",
        "details",
    ] {
        assert!(first.get(key).is_some(), "entry misses {key}");
    }
    assert_eq!(first["amount"], "2400.00", "amounts are exact strings");
    assert_eq!(first["payer_name"], "ETS MARTIN & FILS");
    assert_eq!(first["payer_iban"], "FR1420041010050500013M02606");
    assert_eq!(first["bank_ref"], "2026030200001");
    assert_eq!(
        first["remittance_text"],
        "REGLEMENT FACTURES FA-2026-000123 ET FA 2026 124"
    );
    assert_eq!(first["bank_tx_code"], "PMNT/RCDT/ESCT");
    assert_eq!(entries[1]["creditor_reference"], "RF18539007547034");
    assert_eq!(entries[2]["amount"], "-339.00");
    assert_eq!(entries[2]["charges"][0]["amount"], "4.00");
    let details = entries[3]["details"].as_array().expect("details");
    assert_eq!(details.len(), 3);
    assert_eq!(details[1]["amount"], "650.00");
    assert_eq!(details[1]["payer_name"], "Mme Sophie Bernard");
}

#[test]
fn a_bad_file_exits_2_and_the_others_are_still_reported() {
    let dir = std::env::temp_dir().join(format!("recon-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.xml");
    let good = std::fs::read(fixture("camt053/v02-mixed.xml")).expect("fixture");
    let text = String::from_utf8(good)
        .expect("utf8")
        .replacen("2400.00", "24OO.00", 1);
    std::fs::write(&bad, text).expect("write");
    let output = recon()
        .args([
            "parse",
            "--json",
            &fixture("camt052/v08-intraday.xml"),
            &bad.display().to_string(),
            &fixture("camt054/v04-direct-debit-batch.xml"),
        ])
        .output()
        .expect("run recon");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "error: {}: Document/BkToCstmrStmt/Stmt/Ntry/Amt (line 52): expected an amount",
        bad.display()
    );
    assert!(stderr.contains(&expected), "stderr was: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let formats: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["format"].to_string())
        .collect();
    assert_eq!(formats, ["\"camt052\"", "\"camt054\""]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_order_is_fixed_whatever_the_thread_count() {
    // A statements folder: every XML fixture, several times over.
    let tmp = std::env::temp_dir().join(format!("recon-cli-order-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let mut copied = 0;
    for (name, path) in crate::golden::fixture_inputs() {
        if name.ends_with(".xml") {
            for copy in 0..4 {
                let target = tmp.join(format!("{copy}-{}", name.replace('/', "-")));
                std::fs::copy(&path, target).expect("copy");
                copied += 1;
            }
        }
    }
    assert!(copied >= 16);
    let dir = tmp.display().to_string();
    let run = |threads: &str| {
        let output = recon()
            .args(["parse", "--json", "--threads", threads, &dir])
            .output()
            .expect("run recon");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("4"));
    assert_eq!(one, run("2"));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn human_table_names_the_statement_and_its_lines() {
    let output = recon()
        .args(["parse", &fixture("camt053/v08-envelope-prefixed.xml")])
        .output()
        .expect("run recon");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("camt.053.001.08"), "{stdout}");
    assert!(stdout.contains("statement 0402-001"), "{stdout}");
    assert!(stdout.contains("LEGRAND DISTRIBUTION SA"), "{stdout}");
    assert!(stdout.contains("balance ok"), "{stdout}");
}

#[test]
fn demo_runs_on_built_in_data() {
    let output = recon()
        .args(["demo", "--lines", "1000"])
        .output()
        .expect("run recon");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "demo data: 1000 bank lines",
        "== run summary",
        "lines fully applied",
        "== evaluation",
        "OVERALL",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} missing from\n{stdout}"
        );
    }
}
