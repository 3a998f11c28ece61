//! The contract's remittance CSV: one row per invoice line of an advice,
//! rows grouped by `advice_id` (in order of first appearance).
//!
//! Read with the `csv` crate (RFC 4180 quoting, BOM accepted); columns are
//! found by name, in any order, and unknown columns are ignored. Every
//! error names the file, the line and the column.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::csv_table::Table;
use super::non_empty;
use crate::error::ParseError;
use crate::model::{AdviceLine, Format, Money, RemittanceAdvice};

const REQUIRED: [&str; 7] = [
    "advice_id",
    "payer_name",
    "payment_date",
    "payment_amount",
    "currency",
    "invoice_id",
    "paid_amount",
];

pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<RemittanceAdvice>, ParseError> {
    let mut table = Table::open(source, bytes, &REQUIRED)?;
    let advice_id_column = table.column("advice_id");
    let payer_name_column = table.column("payer_name");
    let payment_date_column = table.column("payment_date");
    let payment_amount_column = table.column("payment_amount");
    let currency_column = table.column("currency");
    let invoice_id_column = table.column("invoice_id");
    let paid_amount_column = table.column("paid_amount");
    let payment_reference_column = table.column("payment_reference");
    let deduction_amount_column = table.column("deduction_amount");
    let deduction_reason_column = table.column("deduction_reason");
    let mut advices: Vec<RemittanceAdvice> = Vec::new();
    // advice_id -> position in `advices`: rows of one advice need not be
    // adjacent, and a linear search would be quadratic on large files.
    let mut positions: HashMap<String, usize> = HashMap::new();
    while let Some(row) = table.next_row()? {
        let advice_id = row.required(advice_id_column, "advice_id")?.to_string();
        let payer_name = row.required(payer_name_column, "payer_name")?.to_string();
        let payment_date = row.date(payment_date_column, "payment_date")?;
        let payment_amount = row.amount(payment_amount_column, "payment_amount")?;
        let currency: String = row.currency(currency_column, "currency")?;
        let invoice_ref = row.required(invoice_id_column, "invoice_id")?.to_string();
        let paid_amount = row.amount(paid_amount_column, "paid_amount")?;
        let payment_reference = non_empty(row.text(payment_reference_column, "payment_reference")?);
        let deduction_amount = row.amount_opt(deduction_amount_column, "deduction_amount")?;
        let deduction_reason = non_empty(row.text(deduction_reason_column, "deduction_reason")?);
        let advice_line = AdviceLine {
            invoice_ref,
            paid_amount: Some(paid_amount),
            deduction_amount,
            deduction_reason,
            amount_due: None,
        };
        match positions.get(&advice_id) {
            Some(&position) => {
                let advice = &mut advices[position];
                let same_payment = advice.payer_name.as_deref() == Some(payer_name.as_str())
                    && advice.payment_date == Some(payment_date)
                    && advice
                        .payment_amount
                        .as_ref()
                        .is_some_and(|m| m.amount == payment_amount && m.currency == currency);
                if !same_payment {
                    return Err(row.error(
                        "advice_id",
                        format!(
                            "advice {advice_id:?} already has another payer, date, amount or currency on an earlier line; every row of an advice must agree"
                        ),
                    ));
                }
                if advice.payment_reference.is_none() {
                    advice.payment_reference = payment_reference;
                }
                advice.lines.push(advice_line);
            }
            None => {
                positions.insert(advice_id.clone(), advices.len());
                advices.push(RemittanceAdvice {
                    format: Format::RemittanceCsv,
                    source: source.to_string(),
                    advice_id,
                    payer_name: Some(payer_name),
                    payment_reference,
                    payment_amount: Some(Money {
                        amount: payment_amount,
                        currency: currency.into(),
                    }),
                    payment_date: Some(payment_date),
                    lines: vec![advice_line],
                    warnings: Vec::new(),
                })
            }
        }
    }
    for advice in &mut advices {
        let paid: Decimal = advice.lines.iter().filter_map(|l| l.paid_amount).sum();
        if let Some(total) = &advice.payment_amount
            && paid != total.amount
        {
            advice.warnings.push(format!(
                "the paid amounts sum to {paid}, the payment amount is {}",
                total.amount
            ));
        }
    }
    Ok(advices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;

    const GOOD: &str = "\u{feff}advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,deduction_amount,deduction_reason,extra\n\
        ADV-1,Legrand SA,2026-04-01,4980.00,EUR,FA-2026-000201,2940.00,60.00,escompte 2%,x\n\
        ADV-1,Legrand SA,2026-04-01,4980.00,EUR,FA-2026-000202,2040.00,60.00,\"DAMAGED, 2 cartons\",y\n\
        ADV-2,Martin,2026-04-02,100.00,eur,FA-2026-000300,100.00,,,z\n";

    #[test]
    fn groups_rows_by_advice() {
        let advices = parse("r.csv", GOOD.as_bytes()).expect("parses");
        assert_eq!(advices.len(), 2);
        let first = &advices[0];
        assert_eq!(first.advice_id, "ADV-1");
        assert_eq!(
            first.payment_amount.as_ref().unwrap().amount.to_string(),
            "4980.00"
        );
        assert_eq!(first.lines.len(), 2);
        assert_eq!(first.lines[1].invoice_ref, "FA-2026-000202");
        assert_eq!(
            first.lines[1].deduction_reason.as_deref(),
            Some("DAMAGED, 2 cartons")
        );
        assert_eq!(
            first.lines[1].deduction_amount.unwrap().to_string(),
            "60.00"
        );
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        assert_eq!(advices[1].payment_amount.as_ref().unwrap().currency, "EUR");
        assert_eq!(advices[1].lines[0].deduction_amount, None);
    }

    #[test]
    fn errors_name_line_and_column() {
        let missing = "advice_id,payer_name,payment_date,currency,invoice_id,paid_amount\n";
        let error = parse("m.csv", missing.as_bytes()).expect_err("missing column");
        assert_eq!(
            error.to_string(),
            "m.csv: line 1, column payment_amount: the header lacks the required column(s) payment_amount"
        );

        let bad_amount = GOOD.replace("2040.00", "2O40.00");
        let error = parse("a.csv", bad_amount.as_bytes()).expect_err("bad amount");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 3,
                field: "paid_amount".into()
            }
        );

        let bad_date = GOOD.replace("2026-04-02", "02/04/2026");
        let error = parse("d.csv", bad_date.as_bytes()).expect_err("bad date");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 4,
                field: "payment_date".into()
            }
        );
        assert!(error.message.contains("02/04/2026"));

        let disagreeing = GOOD.replacen(
            "Legrand SA,2026-04-01,4980.00",
            "Legrand SA,2026-04-01,4981.00",
            1,
        );
        let error = parse("g.csv", disagreeing.as_bytes()).expect_err("rows disagree");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 3,
                field: "advice_id".into()
            }
        );

        let mut latin = GOOD.as_bytes().to_vec();
        let at = latin.iter().position(|&b| b == b'M').unwrap();
        latin[at] = 0xC9;
        let error = parse("l.csv", &latin).expect_err("not utf-8");
        assert!(error.message.contains("UTF-8"), "{error}");
        // The first 'M' is in "DAMAGED", line 3.
        assert_eq!(
            error.location,
            Location::LineField {
                line: 3,
                field: "deduction_reason".into()
            }
        );

        let ragged = GOOD.replace(",x\n", ",x,extra\n");
        let error = parse("r.csv", ragged.as_bytes()).expect_err("ragged");
        assert_eq!(error.location, Location::Line(2));
    }
}
