//! A 10,000-transaction card payout matched end to end in the core
//! (`run::run`: index, row plans, link, decide, commit): 10,000 open items
//! of 1,000 customers, one bank line, one settlement report of 10,000
//! charge rows (9,000 by invoice id, 1,000 by customer + amount) with fees.
//! Target (issue 5): under 100 ms.
//!
//! `cargo bench --bench payout`

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use recon::config::Config;
use recon::matching::Line;
use recon::model::{Customer, Method, OpenItem, RowKind, Settlement, SettlementRow};
use recon::run::{RunInputs, run};
use rust_decimal::Decimal;

const ROWS: usize = 10_000;

fn inputs() -> RunInputs {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    let customers: Vec<Customer> = (0..ROWS / 10)
        .map(|c| Customer {
            customer_id: format!("C{c:05}"),
            name: format!("Client {c}"),
            aliases: Vec::new(),
            ibans: Vec::new(),
            credit_limit: None,
            payment_terms_days: None,
        })
        .collect();
    let mut items = Vec::with_capacity(ROWS);
    let mut rows = Vec::with_capacity(ROWS);
    let mut total = Decimal::ZERO;
    for i in 0..ROWS {
        let customer = &customers[i / 10];
        // Distinct amounts per customer, so customer + amount is unique.
        let amount = Decimal::new(1_000 + (i as i64 % 10) * 137 + (i as i64 / 10) % 50, 2);
        items.push(OpenItem {
            invoice_id: format!("FA-2026-{:06}", i + 1).into(),
            customer_id: customer.customer_id.as_str().into(),
            customer_name: customer.name.as_str().into(),
            issue_date: day(1),
            due_date: day(1 + (i % 28) as u32),
            currency: "EUR".into(),
            amount,
            open_amount: amount,
            payment_reference: None,
        });
        let fee = Decimal::new(25, 2);
        total += amount - fee;
        let by_id = i % 10 != 9;
        rows.push(SettlementRow {
            line: i as u64 + 2,
            transaction_id: format!("ch_{i}"),
            transaction_date: day(20),
            kind: RowKind::Charge,
            gross_amount: amount,
            fee_amount: fee,
            net_amount: amount - fee,
            invoice_id: by_id.then(|| format!("FA-2026-{:06}", i + 1)),
            customer_id: (!by_id).then(|| customer.customer_id.clone()),
            payer_name: None,
        });
    }
    let line = Line {
        line_id: "payout-1".into(),
        bank_ref: "B1".into(),
        detail: None,
        value_date: Some(day(21)),
        booking_date: Some(day(21)),
        amount: total,
        currency: "EUR".into(),
        entry_amount: total,
        payer_name: "STRIPE PAYMENTS".into(),
        payer_iban: String::new(),
        remittance_text: "STRIPE PAYOUT PO-2026-06-21".into(),
        end_to_end_id: Default::default(),
        creditor_references: Vec::new(),
        referred_documents: Vec::new(),
        other_text: String::new(),
        charges: Decimal::ZERO,
        bank_tx_code: String::new(),
        account: "ACC".into(),
        return_reason: None,
        cheque_number: None,
        conversion: None,
        statement_key: "s".into(),
        position: 1,
    };
    RunInputs {
        lines: vec![line],
        own_accounts: HashSet::new(),
        items,
        customers,
        advices: Vec::new(),
        settlements: vec![Settlement {
            source: "bench".into(),
            settlement_id: "PO-1".into(),
            method: Method::Card,
            payout_reference: Some("PO-2026-06-21".into()),
            payout_date: day(21),
            currency: "EUR".into(),
            rows,
        }],
        config: Config::default(),
    }
}

fn payout(c: &mut Criterion) {
    // The bench measures what it claims: every row settled.
    let result = run(inputs()).expect("run");
    let settled = result.decisions[0]
        .outcome
        .proposals
        .iter()
        .filter(|p| p.item.is_some())
        .count();
    assert_eq!(
        settled,
        ROWS,
        "{}",
        result.decisions[0].outcome.notes_text(
            &result.lines[0],
            &result.evidence[0],
            &result.items,
            "; "
        )
    );
    assert!(result.decisions[0].outcome.reviews.is_empty());

    let mut group = c.benchmark_group("payout");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("10k_transactions", |b| {
        b.iter_batched(
            inputs,
            |inputs| black_box(run(inputs).expect("run").decisions.len()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, payout);
criterion_main!(benches);
