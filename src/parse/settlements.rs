//! The contract's settlement reports (`--settlements`): one row per
//! transaction of a payout or deposit (card acquirers, payment providers,
//! direct-debit collections, cheque deposit slips, LCR remittances), rows
//! grouped by `settlement_id` in order of first appearance.
//!
//! Every error names the file, the line and the column: an unknown method
//! or kind, a net amount that is not gross - fee, a sign that contradicts
//! the kind, rows of one settlement that disagree on method, currency,
//! payout reference or payout date.

use std::collections::HashMap;

use super::csv_table::{Row, Table};
use super::non_empty;
use crate::error::ParseError;
use crate::model::{Method, RowKind, Settlement, SettlementRow};

const REQUIRED: [&str; 9] = [
    "settlement_id",
    "method",
    "payout_date",
    "currency",
    "transaction_id",
    "transaction_date",
    "kind",
    "gross_amount",
    "net_amount",
];

fn one_of<T: Copy>(
    row: &Row<'_>,
    column: Option<usize>,
    name: &str,
    all: &[T],
    name_of: fn(T) -> &'static str,
) -> Result<T, ParseError> {
    let text = row.required(column, name)?;
    all.iter()
        .copied()
        .find(|v| name_of(*v).eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name_of(*v)).collect();
            row.error(name, format!("{text:?} is not one of {}", names.join(", ")))
        })
}

pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<Settlement>, ParseError> {
    let mut table = Table::open(source, bytes, &REQUIRED)?;
    let column = |name: &str| table.column(name);
    let settlement_id_column = column("settlement_id");
    let method_column = column("method");
    let payout_reference_column = column("payout_reference");
    let payout_date_column = column("payout_date");
    let currency_column = column("currency");
    let transaction_id_column = column("transaction_id");
    let transaction_date_column = column("transaction_date");
    let kind_column = column("kind");
    let gross_column = column("gross_amount");
    let fee_column = column("fee_amount");
    let net_column = column("net_amount");
    let invoice_id_column = column("invoice_id");
    let customer_id_column = column("customer_id");
    let payer_name_column = column("payer_name");
    let mut settlements: Vec<Settlement> = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::new();
    while let Some(row) = table.next_row()? {
        let settlement_id = row
            .required(settlement_id_column, "settlement_id")?
            .to_string();
        let method = one_of(&row, method_column, "method", &Method::ALL, Method::name)?;
        let payout_reference = non_empty(row.text(payout_reference_column, "payout_reference")?);
        let payout_date = row.date(payout_date_column, "payout_date")?;
        let currency = row.currency(currency_column, "currency")?;
        let kind = one_of(&row, kind_column, "kind", &RowKind::ALL, RowKind::name)?;
        let gross_amount = row.amount(gross_column, "gross_amount")?;
        let fee_amount = row
            .amount_opt(fee_column, "fee_amount")?
            .unwrap_or_default();
        let net_amount = row.amount(net_column, "net_amount")?;
        if fee_amount.is_sign_negative() && !fee_amount.is_zero() {
            return Err(row.error("fee_amount", "a fee withheld is positive"));
        }
        if gross_amount - fee_amount != net_amount {
            return Err(row.error(
                "net_amount",
                format!(
                    "net {net_amount} is not gross {gross_amount} - fee {fee_amount} = {}",
                    gross_amount - fee_amount
                ),
            ));
        }
        let sign_ok = match kind {
            RowKind::Charge => !gross_amount.is_sign_negative() || gross_amount.is_zero(),
            RowKind::Refund | RowKind::Chargeback => {
                gross_amount.is_sign_negative() || gross_amount.is_zero()
            }
            RowKind::Fee | RowKind::Adjustment => true,
        };
        if !sign_ok {
            return Err(row.error(
                "gross_amount",
                format!(
                    "a {} row's gross amount is {} (charges positive, refunds and chargebacks negative)",
                    kind.name(),
                    if matches!(kind, RowKind::Charge) { "positive" } else { "negative" }
                ),
            ));
        }
        let settlement_row = SettlementRow {
            line: row.line,
            transaction_id: row
                .required(transaction_id_column, "transaction_id")?
                .to_string(),
            transaction_date: row.date(transaction_date_column, "transaction_date")?,
            kind,
            gross_amount,
            fee_amount,
            net_amount,
            invoice_id: non_empty(row.text(invoice_id_column, "invoice_id")?),
            customer_id: non_empty(row.text(customer_id_column, "customer_id")?),
            payer_name: non_empty(row.text(payer_name_column, "payer_name")?),
        };
        match positions.get(&settlement_id) {
            Some(&position) => {
                let settlement = &mut settlements[position];
                let disagreement = if settlement.method != method {
                    Some("method")
                } else if settlement.currency != currency {
                    Some("currency")
                } else if settlement.payout_date != payout_date {
                    Some("payout_date")
                } else if payout_reference.is_some()
                    && settlement.payout_reference.is_some()
                    && settlement.payout_reference != payout_reference
                {
                    Some("payout_reference")
                } else {
                    None
                };
                if let Some(field) = disagreement {
                    return Err(row.error(
                        field,
                        format!(
                            "settlement {settlement_id:?} has another {field} on an earlier line; every row of a payout must agree"
                        ),
                    ));
                }
                if settlement.payout_reference.is_none() {
                    settlement.payout_reference = payout_reference;
                }
                settlement.rows.push(settlement_row);
            }
            None => {
                positions.insert(settlement_id.clone(), settlements.len());
                settlements.push(Settlement {
                    source: source.to_string(),
                    settlement_id,
                    method,
                    payout_reference,
                    payout_date,
                    currency,
                    rows: vec![settlement_row],
                });
            }
        }
    }
    Ok(settlements)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "settlement_id,method,payout_reference,payout_date,currency,transaction_id,transaction_date,kind,gross_amount,fee_amount,net_amount,invoice_id,customer_id,payer_name\n";

    fn parse_rows(rows: &str) -> Result<Vec<Settlement>, ParseError> {
        parse("s.csv", format!("{HEADER}{rows}").as_bytes())
    }

    #[test]
    fn rows_group_into_payouts_in_order_of_first_appearance() {
        let settlements = parse_rows(
            "B,psp,,2026-06-11,EUR,t1,2026-06-10,charge,50.00,0.50,49.50,FA-1,,\n\
             A,card,PO-1,2026-06-10,EUR,t2,2026-06-09,charge,20.00,,20.00,,C1,\n\
             B,psp,REF-B,2026-06-11,EUR,t3,2026-06-10,refund,-10.00,0,-10.00,FA-1,,\n\
             A,card,PO-1,2026-06-10,EUR,t4,2026-06-10,fee,-1.00,0,-1.00,,,\n",
        )
        .expect("parses");
        assert_eq!(settlements.len(), 2);
        assert_eq!(settlements[0].settlement_id, "B");
        assert_eq!(settlements[0].method, Method::Psp);
        // A later row may give the reference the first left empty.
        assert_eq!(settlements[0].payout_reference.as_deref(), Some("REF-B"));
        assert_eq!(
            settlements[0].net_total(),
            rust_decimal::Decimal::new(3950, 2)
        );
        assert_eq!(settlements[1].rows[1].kind, RowKind::Fee);
        assert_eq!(settlements[1].rows[0].line, 3);
        assert_eq!(settlements[1].rows[0].customer_id.as_deref(), Some("C1"));
    }

    #[test]
    fn bad_rows_are_refused_naming_line_and_column() {
        let cases = [
            (
                "A,bitcoin,,2026-06-10,EUR,t1,2026-06-10,charge,1.00,,1.00,,,\n",
                "s.csv: line 2, column method: \"bitcoin\" is not one of card, psp, direct_debit, cheque, lcr, transfer",
            ),
            (
                "A,card,,2026-06-10,EUR,t1,2026-06-10,payment,1.00,,1.00,,,\n",
                "s.csv: line 2, column kind: \"payment\" is not one of charge, refund, chargeback, fee, adjustment",
            ),
            (
                "A,card,,2026-06-10,EUR,t1,2026-06-10,charge,10.00,0.30,9.60,,,\n",
                "s.csv: line 2, column net_amount: net 9.60 is not gross 10.00 - fee 0.30 = 9.70",
            ),
            (
                "A,card,,2026-06-10,EUR,t1,2026-06-10,refund,10.00,,10.00,,,\n",
                "s.csv: line 2, column gross_amount: a refund row's gross amount is negative",
            ),
            (
                "A,card,,2026-06-10,EUR,t1,2026-06-10,charge,10.00,-0.30,10.30,,,\n",
                "s.csv: line 2, column fee_amount: a fee withheld is positive",
            ),
            (
                "A,card,,2026-06-10,EUR,t1,2026-06-10,charge,1.00,,1.00,,,\nA,card,,2026-06-10,USD,t2,2026-06-10,charge,1.00,,1.00,,,\n",
                "s.csv: line 3, column currency: settlement \"A\" has another currency",
            ),
            (
                "A,card,,2026-06-31,EUR,t1,2026-06-10,charge,1.00,,1.00,,,\n",
                "s.csv: line 2, column payout_date:",
            ),
        ];
        for (rows, expected) in cases {
            let error = parse_rows(rows).expect_err(expected);
            assert!(
                error.to_string().starts_with(expected),
                "{error}\nexpected: {expected}"
            );
        }
        let error = parse("s.csv", b"settlement_id,method\nA,card\n").expect_err("columns");
        assert!(
            error
                .to_string()
                .contains("the header lacks the required column(s) payout_date")
        );
    }
}
