//! Property tests (proptest): random customers, open items (credit notes,
//! part-paid, paid) and bank lines (quoting invoices in several forms,
//! paying totals, near totals, random credits and debits, with advices
//! and charges; USD invoices, payments converted from USD, end-to-end ids
//! shared by receipts and returns), shrunk to the smallest failing scenario when a property
//! breaks:
//! - every run commits, and per line applied + to review = line amount;
//! - no open amount changes sign;
//! - the FEC journal balances, per entry and in total;
//! - the output files are byte-identical for 1 or 2 threads and for any
//!   order of lines, items, customers and advices.
//!
//! `PROPTEST_CASES` sets the cases per property (default 2,000).

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::matching_random::{AmountSpec, ItemSpec, LineSpec, Scenario, build, fingerprint};
use recon::output::run_files;
use recon::run::{RunResult, run};

fn item() -> impl Strategy<Value = ItemSpec> {
    (
        0..40usize,
        1..200_000u64,
        prop::bool::weighted(0.15),
        prop_oneof![2 => Just(100u8), 1 => Just(0u8), 1 => 1..100u8],
        0..30u64,
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(customer, cents, credit_note, open_percent, due_day, usd)| ItemSpec {
                customer,
                cents,
                credit_note,
                open_percent,
                due_day,
                usd,
            },
        )
}

fn amount() -> impl Strategy<Value = AmountSpec> {
    prop_oneof![
        3 => Just(AmountSpec::Total),
        1 => (0..1_000u64).prop_map(AmountSpec::TotalNear),
        1 => (1..100_000u64).prop_map(AmountSpec::Credit),
        1 => (1..10_000u64).prop_map(AmountSpec::Debit),
        1 => Just(AmountSpec::Zero),
    ]
}

fn line() -> impl Strategy<Value = LineSpec> {
    (
        prop::collection::vec((0..60usize, 0..4u8), 0..5),
        amount(),
        0..12usize,
        any::<bool>(),
        prop::option::weighted(
            0.2,
            prop::collection::vec((0..300u64, 0..300u64, any::<bool>()), 1..4),
        ),
        0..15u64,
        prop_oneof![4 => Just(0u64), 1 => 1..800u64],
        prop::option::weighted(
            0.25,
            prop_oneof![Just(1000u16), Just(1005), Just(1111), Just(970)],
        ),
        prop::option::weighted(0.3, 0..4u8),
        any::<bool>(),
    )
        .prop_map(
            |(
                quoted,
                amount,
                payer,
                with_iban,
                advice,
                day,
                charges_cents,
                converted,
                e2e,
                returned,
            )| LineSpec {
                quoted,
                amount,
                payer,
                with_iban,
                advice,
                day,
                charges_cents,
                converted,
                e2e,
                returned,
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        1..10usize,
        prop::collection::vec(item(), 1..40),
        prop::collection::vec(line(), 1..30),
    )
        .prop_map(|(customers, items, lines)| Scenario {
            customers,
            items,
            lines,
        })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // A failure is reported with its shrunk scenario; nothing is
        // written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The run's files as the contract writes them.
fn rendered(result: &RunResult) -> BTreeMap<&'static str, Vec<u8>> {
    run_files::FILES[..5]
        .iter()
        .map(|&name| {
            let mut bytes = Vec::new();
            run_files::render(name, result, &mut bytes).expect("render");
            (name, bytes)
        })
        .collect()
}

fn fec_amount(text: &str) -> Decimal {
    text.replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("FEC amount {text:?}"))
}

fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(work)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn runs_conserve_amounts_keep_signs_and_balance_the_journal(s in scenario()) {
        let result = run(build(&s, 1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (line, decision) in result.lines.iter().zip(&result.decisions) {
            let applied: Decimal = decision.outcome.proposals.iter().map(|p| p.amount).sum();
            let reviewed: Decimal = decision.outcome.reviews.iter().map(|r| r.amount).sum();
            let signed = if line.amount.is_sign_negative() { -reviewed } else { reviewed };
            prop_assert_eq!(applied + signed, line.amount, "line {}", line.line_id);
        }
        for (item, open) in result.items.iter().zip(&result.open_after) {
            prop_assert!(
                open.is_zero() || open.is_sign_negative() == item.open_amount.is_sign_negative(),
                "{} went from {} to {}", item.invoice_id, item.open_amount, open
            );
        }
        let files = rendered(&result);
        let journal = String::from_utf8(files["journal.fec.txt"].clone()).expect("UTF-8");
        let mut entries: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for row in journal.lines().skip(1) {
            let columns: Vec<&str> = row.split('\t').collect();
            prop_assert_eq!(columns.len(), 18, "{}", row);
            let entry = entries.entry(columns[2].to_string()).or_default();
            entry.0 += fec_amount(columns[11]);
            entry.1 += fec_amount(columns[12]);
        }
        for (number, (debit, credit)) in &entries {
            prop_assert_eq!(debit, credit, "entry {} unbalanced", number);
        }
    }

    #[test]
    fn outputs_do_not_depend_on_threads_or_input_order(s in scenario(), order in any::<u64>()) {
        let one = in_pool(1, || run(build(&s, 2))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut shuffled = build(&s, 2);
        let mut rng = crate::Rng::new(order);
        let mut shuffle = |n: usize| -> Vec<usize> {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                order.swap(i, rng.below(i + 1));
            }
            order
        };
        let (lines, items, advices, customers) = (
            shuffle(shuffled.lines.len()),
            shuffle(shuffled.items.len()),
            shuffle(shuffled.advices.len()),
            shuffle(shuffled.customers.len()),
        );
        shuffled.customers = customers.iter().map(|&i| shuffled.customers[i].clone()).collect();
        shuffled.lines = lines.iter().map(|&i| shuffled.lines[i].clone()).collect();
        shuffled.items = items.iter().map(|&i| shuffled.items[i].clone()).collect();
        shuffled.advices = advices.iter().map(|&i| shuffled.advices[i].clone()).collect();
        let two = in_pool(2, || run(shuffled)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(fingerprint(&one), fingerprint(&two));
        let (a, b) = (rendered(&one), rendered(&two));
        for (name, bytes) in &a {
            prop_assert!(
                *bytes == b[name],
                "{} differs:\n{}\n---\n{}",
                name,
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&b[name])
            );
        }
    }
}
