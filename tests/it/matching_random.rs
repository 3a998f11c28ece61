//! Seeded random runs against the engine's invariants: random customers,
//! invoices and credit notes (some already paid), random bank lines that
//! quote random invoices in random forms, pay random amounts, repeat
//! themselves, and random advices with deductions and credit notes. Every
//! run must commit (the in-memory invariants hold: conservation per line,
//! no open amount passing zero), the same inputs in another order must give
//! the same decisions, and deciding independent groups of lines in
//! parallel must give what one pass over all lines in order gives.
//!
//! `MATCHING_RANDOM_CASES=N` runs N seeds (default 200).

use std::collections::HashSet;

use chrono::NaiveDate;
use recon::config::Config;
use recon::matching::Line;
use recon::model::{AdviceLine, Customer, Format, Money, OpenItem, RemittanceAdvice};
use recon::run::{RunInputs, run};

use crate::Rng;
use rust_decimal::Decimal;

/// Random draws for the data: `below` as u64, amounts in cents.
trait Draw {
    fn below64(&mut self, n: u64) -> u64;
    fn cents(&mut self, max: u64) -> Decimal;
}

impl Draw for Rng {
    fn below64(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn cents(&mut self, max: u64) -> Decimal {
        Decimal::new(self.below64(max) as i64 + 1, 2)
    }
}

fn date(day: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + chrono::Days::new(day)
}

fn inputs(seed: u64) -> RunInputs {
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let names = [
        "Martin SARL",
        "Durand SA",
        "Lefevre",
        "Petit et Fils",
        "Garage Moreau",
        "Bernard",
    ];
    let towns = ["", "Lyon", "Nantes", "Lille", "Brest"];
    let customer_count = 3 + rng.below64(30) as usize;
    let customers: Vec<Customer> = (0..customer_count)
        .map(|c| Customer {
            customer_id: format!("C{c}"),
            name: format!(
                "{} {}",
                names[c % names.len()],
                towns[c / names.len() % towns.len()]
            ),
            aliases: Vec::new(),
            ibans: vec![format!("FR76{c:023}")],
            credit_limit: None,
            payment_terms_days: None,
        })
        .collect();
    let mut items = Vec::new();
    for i in 0..(10 + rng.below64(30)) {
        let credit_note = rng.below64(6) == 0;
        let amount = rng.cents(50_000)
            * if credit_note {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
        let open = match rng.below64(5) {
            0 => Decimal::ZERO,
            1 => (amount * Decimal::new(rng.below64(100) as i64, 2)).round_dp(2),
            _ => amount,
        };
        let customer = rng.below64(customer_count as u64) as usize;
        items.push(OpenItem {
            invoice_id: format!(
                "{}-2026-{:06}",
                if credit_note { "AV" } else { "FA" },
                i + 1
            ),
            customer_id: customers[customer].customer_id.clone(),
            customer_name: customers[customer].name.clone(),
            issue_date: date(0),
            due_date: date(rng.below64(20)),
            currency: "EUR".into(),
            amount,
            open_amount: open,
            payment_reference: None,
        });
    }
    let mut lines = Vec::new();
    let mut advices = Vec::new();
    for n in 0..(5 + rng.below64(25)) {
        let quoted: Vec<&OpenItem> = (0..rng.below64(4))
            .map(|_| &items[rng.below64(items.len() as u64) as usize])
            .collect();
        let mut text: Vec<String> = quoted
            .iter()
            .map(|item| match rng.below64(4) {
                0 => item.invoice_id.clone(),
                1 => item.invoice_id.replace('-', " ").to_lowercase(),
                2 => item
                    .invoice_id
                    .split('-')
                    .next_back()
                    .unwrap_or("")
                    .trim_start_matches('0')
                    .to_string(),
                _ => item.invoice_id.replace("-2026-", ""),
            })
            .collect();
        let total: Decimal = quoted.iter().map(|i| i.open_amount).sum();
        let amount = match rng.below64(6) {
            0 => rng.cents(80_000),
            1 => -rng.cents(10_000),
            2 => total + Decimal::new(rng.below64(1_000) as i64 - 500, 2),
            3 => Decimal::ZERO,
            _ => total,
        };
        let customer = rng.below64(customer_count as u64 + 1) as usize;
        if rng.below64(5) == 0 {
            // An advice for this line, quoting some of the same invoices.
            let reference = format!("PAY{seed}X{n}");
            text.push(reference.clone());
            advices.push(RemittanceAdvice {
                format: Format::RemittanceCsv,
                source: "random".into(),
                advice_id: format!("ADV{n}"),
                payer_name: Some("Martin SARL".into()),
                payment_reference: Some(reference),
                payment_amount: Some(Money {
                    amount,
                    currency: "EUR".into(),
                }),
                payment_date: Some(date(n)),
                lines: quoted
                    .iter()
                    .map(|item| AdviceLine {
                        invoice_ref: item.invoice_id.clone(),
                        paid_amount: Some(
                            item.open_amount - Decimal::new(rng.below64(300) as i64, 2),
                        ),
                        deduction_amount: Some(Decimal::new(rng.below64(300) as i64, 2)),
                        deduction_reason: Some(
                            if rng.below64(2) == 0 {
                                "escompte"
                            } else {
                                "casse"
                            }
                            .into(),
                        ),
                        amount_due: None,
                    })
                    .collect(),
                warnings: Vec::new(),
            });
        }
        let day = rng.below64(10);
        lines.push(Line {
            line_id: format!("s-{n}"),
            bank_ref: format!("B{n}"),
            detail: None,
            value_date: Some(date(day)),
            booking_date: Some(date(day)),
            amount,
            currency: "EUR".into(),
            entry_amount: amount,
            payer_name: customers
                .get(customer)
                .map_or("INCONNU".into(), |c| c.name.to_uppercase()),
            payer_iban: if rng.below64(2) == 0 {
                customers
                    .get(customer)
                    .map_or(String::new(), |c| c.ibans[0].clone())
            } else {
                String::new()
            },
            remittance_text: text.join(" "),
            end_to_end_id: String::new(),
            creditor_references: Vec::new(),
            referred_documents: Vec::new(),
            other_text: String::new(),
            charges: if rng.below64(8) == 0 {
                Decimal::new(rng.below64(800) as i64, 2)
            } else {
                Decimal::ZERO
            },
            bank_tx_code: String::new(),
            account: "ACC".into(),
            return_reason: None,
            statement_key: "s".into(),
            position: n as u32 + 1,
        });
    }
    RunInputs {
        lines,
        own_accounts: HashSet::new(),
        items,
        customers,
        advices,
        config: Config::default(),
    }
}

/// Every decision as text, in line order, items named by invoice id and
/// rows sorted within a line (item order in the open-items file may change
/// the order of rows, never what they are).
fn fingerprint(result: &recon::run::RunResult) -> Vec<String> {
    let id = |item: Option<u32>| {
        item.map_or("-".to_string(), |i| {
            result.items[i as usize].invoice_id.clone()
        })
    };
    result
        .lines
        .iter()
        .zip(&result.decisions)
        .map(|(line, d)| {
            let mut rows: Vec<String> = d
                .outcome
                .proposals
                .iter()
                .map(|p| format!("{} {} {}", id(p.item), p.amount, p.kind.name()))
                .collect();
            rows.extend(
                d.outcome
                    .reviews
                    .iter()
                    .map(|r| format!("{} {}", r.amount, r.reason.name())),
            );
            rows.sort();
            format!("{} {rows:?} {:?}", line.line_id, d.lettrage)
        })
        .collect()
}

#[test]
fn random_runs_keep_the_invariants_and_do_not_depend_on_input_order() {
    let cases: u64 = std::env::var("MATCHING_RANDOM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut lines_seen = 0;
    for seed in 0..cases {
        let result = run(inputs(seed)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        lines_seen += result.lines.len();
        for (item, open) in result.items.iter().zip(&result.open_after) {
            assert!(
                open.is_zero() || open.is_sign_negative() == item.open_amount.is_sign_negative(),
                "seed {seed}: {} went from {} to {open}",
                item.invoice_id,
                item.open_amount
            );
        }
        let mut reversed = inputs(seed);
        reversed.lines.reverse();
        reversed.items.reverse();
        reversed.advices.reverse();
        let again = run(reversed).unwrap_or_else(|e| panic!("seed {seed} reversed: {e}"));
        assert_eq!(
            fingerprint(&result),
            fingerprint(&again),
            "seed {seed}: decisions depend on input order"
        );
    }
    eprintln!("matching_random: {cases} seeds, {lines_seen} lines, invariants held");
}

/// The grouped, parallel decision equals one pass in line order on a
/// generated data set too (many customers, advices, batches, learned IBANs).
#[test]
fn grouped_run_equals_one_pass_on_generated_data() {
    let dir = std::env::temp_dir().join(format!("recon-it-{}-groups", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    recon::synth::write_dataset(
        &recon::synth::SynthOptions {
            lines: 4_000,
            seed: 5,
        },
        &dir,
    )
    .expect("generate");
    let load = || {
        let read = |name: &str| std::fs::read(dir.join(name)).expect("read");
        let mut inputs = RunInputs {
            lines: Vec::new(),
            own_accounts: HashSet::new(),
            items: recon::parse::open_items::parse("o", &read("open_items.csv")).expect("items"),
            customers: recon::parse::customers::parse("c", &read("customers.csv"))
                .expect("customers"),
            advices: recon::parse::remittance_csv::parse("a", &read("remittances/advices.csv"))
                .expect("advices"),
            config: Config::default(),
        };
        let files = recon::input::collect_files(&[dir.join("statements")]).expect("files");
        for loaded in recon::input::load_files(&files, true) {
            let loaded = loaded.expect("parses");
            inputs.lines.extend(loaded.lines);
            inputs.own_accounts.extend(loaded.accounts);
        }
        inputs
    };
    let grouped = run(load()).expect("grouped run");
    let sequential = recon::run::run_in_one_group(load()).expect("one pass");
    assert_eq!(fingerprint(&grouped), fingerprint(&sequential));
    assert_eq!(grouped.open_after, sequential.open_after);
}
