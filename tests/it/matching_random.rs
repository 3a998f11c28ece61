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
use recon::matching::{Conversion, Line};
use recon::model::{AdviceLine, Customer, Format, Money, OpenItem, RemittanceAdvice};
use recon::run::{RunInputs, run};

use crate::Rng;
use rust_decimal::Decimal;

/// One random situation as plain choices, so that the seeded test here
/// and the proptest strategies (`properties.rs`, which shrink a failure to
/// its smallest form) build their inputs the same way. Indices are taken
/// modulo what they index: any values make a valid scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Customers: C0..C{customers - 1}, 1 or more.
    pub customers: usize,
    pub items: Vec<ItemSpec>,
    pub lines: Vec<LineSpec>,
}

#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub customer: usize,
    /// Amount in cents, 1 or more.
    pub cents: u64,
    pub credit_note: bool,
    /// Open part: 0 = paid, 1..=99 = that percentage, 100 = all.
    pub open_percent: u8,
    pub due_day: u64,
    /// Invoiced in USD (else EUR).
    pub usd: bool,
}

#[derive(Debug, Clone)]
pub struct LineSpec {
    /// (item, form 0..4 of its number in the text).
    pub quoted: Vec<(usize, u8)>,
    pub amount: AmountSpec,
    /// `customers` or more: a payer nobody knows.
    pub payer: usize,
    pub with_iban: bool,
    /// An advice for the line: per quoted item (cents short, cents
    /// deducted, escompte or not).
    pub advice: Option<Vec<(u64, u64, bool)>>,
    pub day: u64,
    pub charges_cents: u64,
    /// A payment the bank converted: the payer instructed this many
    /// thousandths of the line's amount in USD.
    pub converted: Option<u16>,
    /// End-to-end id `E2E<n>` from a small pool (receipts and returns
    /// share them).
    pub e2e: Option<u8>,
    /// A debit that says it returns a direct debit.
    pub returned: bool,
}

#[derive(Debug, Clone)]
pub enum AmountSpec {
    /// The open total of the quoted items.
    Total,
    /// That total plus (cents - 500).
    TotalNear(u64),
    Credit(u64),
    Debit(u64),
    Zero,
}

/// Random draws for the data: `below` as u64, amounts in cents.
trait Draw {
    fn below64(&mut self, n: u64) -> u64;
}

impl Draw for Rng {
    fn below64(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

fn date(day: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + chrono::Days::new(day)
}

/// The scenario of seed `seed`.
fn scenario(seed: u64) -> Scenario {
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let customers = 3 + rng.below64(30) as usize;
    let items = (0..(10 + rng.below64(30)))
        .map(|_| ItemSpec {
            credit_note: rng.below64(6) == 0,
            cents: rng.below64(50_000) + 1,
            open_percent: match rng.below64(5) {
                0 => 0,
                1 => rng.below64(100) as u8,
                _ => 100,
            },
            customer: rng.below64(customers as u64) as usize,
            due_day: rng.below64(20),
            usd: rng.below64(5) == 0,
        })
        .collect::<Vec<_>>();
    let lines = (0..(5 + rng.below64(25)))
        .map(|_| {
            let quoted: Vec<(usize, u8)> = (0..rng.below64(4))
                .map(|_| {
                    (
                        rng.below64(items.len() as u64) as usize,
                        rng.below64(4) as u8,
                    )
                })
                .collect();
            let amount = match rng.below64(6) {
                0 => AmountSpec::Credit(rng.below64(80_000) + 1),
                1 => AmountSpec::Debit(rng.below64(10_000) + 1),
                2 => AmountSpec::TotalNear(rng.below64(1_000)),
                3 => AmountSpec::Zero,
                _ => AmountSpec::Total,
            };
            let payer = rng.below64(customers as u64 + 1) as usize;
            let advice = (rng.below64(5) == 0).then(|| {
                quoted
                    .iter()
                    .map(|_| (rng.below64(300), rng.below64(300), rng.below64(2) == 0))
                    .collect()
            });
            LineSpec {
                quoted,
                amount,
                payer,
                with_iban: rng.below64(2) == 0,
                advice,
                day: rng.below64(10),
                charges_cents: if rng.below64(8) == 0 {
                    rng.below64(800)
                } else {
                    0
                },
                converted: (rng.below64(4) == 0)
                    .then(|| [1000, 1005, 1111, 970][rng.below64(4) as usize]),
                e2e: (rng.below64(3) == 0).then(|| rng.below64(4) as u8),
                returned: rng.below64(2) == 0,
            }
        })
        .collect();
    Scenario {
        customers,
        items,
        lines,
    }
}

/// The engine's inputs for a scenario; `tag` makes advice references
/// unique to it.
pub fn build(scenario: &Scenario, tag: u64) -> RunInputs {
    let names = [
        "Martin SARL",
        "Durand SA",
        "Lefevre",
        "Petit et Fils",
        "Garage Moreau",
        "Bernard",
    ];
    let towns = ["", "Lyon", "Nantes", "Lille", "Brest"];
    let customer_count = scenario.customers.max(1);
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
    let cents = |n: u64| Decimal::new(n as i64, 2);
    let mut items = Vec::new();
    for (i, spec) in scenario.items.iter().enumerate() {
        let amount = cents(spec.cents.max(1))
            * if spec.credit_note {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
        let open = match spec.open_percent.min(100) {
            0 => Decimal::ZERO,
            100 => amount,
            percent => (amount * Decimal::new(percent as i64, 2)).round_dp(2),
        };
        let customer = &customers[spec.customer % customer_count];
        items.push(OpenItem {
            invoice_id: format!(
                "{}-2026-{:06}",
                if spec.credit_note { "AV" } else { "FA" },
                i + 1
            )
            .into(),
            customer_id: customer.customer_id.as_str().into(),
            customer_name: customer.name.as_str().into(),
            issue_date: date(0),
            due_date: date(spec.due_day),
            currency: if spec.usd { "USD" } else { "EUR" }.into(),
            amount,
            open_amount: open,
            payment_reference: None,
        });
    }
    let mut lines = Vec::new();
    let mut advices = Vec::new();
    for (n, spec) in scenario.lines.iter().enumerate() {
        let quoted: Vec<(&OpenItem, u8)> = if items.is_empty() {
            Vec::new()
        } else {
            spec.quoted
                .iter()
                .map(|&(item, form)| (&items[item % items.len()], form))
                .collect()
        };
        let mut text: Vec<String> = quoted
            .iter()
            .map(|(item, form)| match form % 4 {
                0 => item.invoice_id.to_string(),
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
        let total: Decimal = quoted.iter().map(|(i, _)| i.open_amount).sum();
        let amount = match spec.amount {
            AmountSpec::Credit(c) => cents(c.max(1)),
            AmountSpec::Debit(c) => -cents(c.max(1)),
            AmountSpec::TotalNear(c) => total + cents(c) - cents(500),
            AmountSpec::Zero => Decimal::ZERO,
            AmountSpec::Total => total,
        };
        let payer = customers.get(spec.payer);
        if spec.returned && amount.is_sign_negative() {
            text.push("RETOUR PRLV SEPA MOTIF AM04".to_string());
        }
        if let Some(advice) = &spec.advice {
            // An advice for this line, quoting the same invoices.
            let reference = format!("PAY{tag}X{n}");
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
                payment_date: Some(date(n as u64)),
                lines: quoted
                    .iter()
                    .zip(advice.iter().cycle())
                    .map(|((item, _), &(short, deducted, escompte))| AdviceLine {
                        invoice_ref: item.invoice_id.to_string(),
                        paid_amount: Some(item.open_amount - cents(short)),
                        deduction_amount: Some(cents(deducted)),
                        deduction_reason: Some(if escompte { "escompte" } else { "casse" }.into()),
                        amount_due: None,
                    })
                    .collect(),
                warnings: Vec::new(),
            });
        }
        lines.push(Line {
            line_id: format!("s-{n}").into(),
            bank_ref: format!("B{n}").into(),
            detail: None,
            value_date: Some(date(spec.day)),
            booking_date: Some(date(spec.day)),
            amount,
            currency: "EUR".into(),
            entry_amount: amount,
            payer_name: payer.map_or("INCONNU".into(), |c| c.name.to_uppercase().into()),
            payer_iban: match payer {
                Some(c) if spec.with_iban => c.ibans[0].clone(),
                _ => String::new(),
            },
            remittance_text: text.join(" "),
            end_to_end_id: spec
                .e2e
                .map_or(Default::default(), |e| format!("E2E{e}").into()),
            creditor_references: Vec::new(),
            referred_documents: Vec::new(),
            other_text: String::new(),
            charges: cents(spec.charges_cents),
            bank_tx_code: String::new(),
            account: "ACC".into(),
            return_reason: None,
            cheque_number: None,
            conversion: spec
                .converted
                .filter(|_| !amount.is_zero())
                .map(|permille| {
                    Box::new(Conversion {
                        instructed: Some((
                            (amount.abs() * Decimal::new(permille as i64, 3)).round_dp(2),
                            "USD".into(),
                        )),
                        rate: None,
                        source: None,
                        target: None,
                        unit: None,
                    })
                }),
            statement_key: "s".into(),
            position: n as u32 + 1,
        });
    }
    RunInputs {
        settlements: Vec::new(),
        lines,
        own_accounts: HashSet::new(),
        items,
        customers,
        advices,
        config: Config::default(),
    }
}

fn inputs(seed: u64) -> RunInputs {
    build(&scenario(seed), seed)
}

/// Every decision as text, in line order, items named by invoice id and
/// rows sorted within a line (item order in the open-items file may change
/// the order of rows, never what they are).
pub fn fingerprint(result: &recon::run::RunResult) -> Vec<String> {
    let id = |item: Option<u32>| {
        item.map_or("-".to_string(), |i| {
            result.items[i as usize].invoice_id.to_string()
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
            settlements: recon::parse::settlements::parse("s", &read("settlements/payouts.csv"))
                .expect("settlements"),
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
