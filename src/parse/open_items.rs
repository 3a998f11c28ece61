//! The contract's open-items CSV (`--open-items`): one row per invoice or
//! credit note still (or partly) unpaid.
//!
//! Checks what the matching core relies on: unique `invoice_id`, an
//! `open_amount` of the same sign as `amount` and not beyond it. A file that
//! breaks them is refused with the line and column, never half-used.

use std::collections::HashMap;

use super::csv_table::Table;
use super::non_empty;
use crate::error::ParseError;
use crate::model::OpenItem;

/// Columns the contract requires.
pub const REQUIRED: [&str; 8] = [
    "invoice_id",
    "customer_id",
    "customer_name",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
];

pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<OpenItem>, ParseError> {
    let mut table = Table::open(source, bytes, &REQUIRED)?;
    let invoice_id = table.column("invoice_id");
    let customer_id = table.column("customer_id");
    let customer_name = table.column("customer_name");
    let issue_date = table.column("issue_date");
    let due_date = table.column("due_date");
    let currency = table.column("currency");
    let amount = table.column("amount");
    let open_amount = table.column("open_amount");
    let payment_reference = table.column("payment_reference");
    let mut items = Vec::new();
    // invoice_id -> line of its first row, to name both in the error.
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(row) = table.next_row()? {
        let item = OpenItem {
            invoice_id: row.required(invoice_id, "invoice_id")?.to_string(),
            customer_id: row.required(customer_id, "customer_id")?.to_string(),
            customer_name: row.required(customer_name, "customer_name")?.to_string(),
            issue_date: row.date(issue_date, "issue_date")?,
            due_date: row.date(due_date, "due_date")?,
            currency: row.currency(currency, "currency")?,
            amount: row.amount(amount, "amount")?,
            open_amount: row.amount(open_amount, "open_amount")?,
            payment_reference: non_empty(row.text(payment_reference, "payment_reference")?),
        };
        let same_sign = item.open_amount.is_zero()
            || item.amount.is_sign_negative() == item.open_amount.is_sign_negative();
        if !same_sign || item.open_amount.abs() > item.amount.abs() {
            return Err(row.error(
                "open_amount",
                format!(
                    "open amount {} must have the sign of amount {} and not exceed it",
                    item.open_amount, item.amount
                ),
            ));
        }
        if let Some(first) = seen.insert(item.invoice_id.clone(), row.line) {
            return Err(row.error(
                "invoice_id",
                format!(
                    "invoice {:?} is already on line {first}; invoice ids must be unique",
                    item.invoice_id
                ),
            ));
        }
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;

    const GOOD: &str = "\u{feff}invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount,payment_reference,extra\n\
        FA-2026-000001,C001,Martin SARL,2026-01-05,2026-02-04,eur,1200.00,1200.00,RF18539007547034,x\n\
        AV-2026-000002,C001,Martin SARL,2026-01-06,2026-02-05,EUR,-100.00,-40.00,,y\n";

    #[test]
    fn reads_items_with_optional_reference() {
        let items = parse("o.csv", GOOD.as_bytes()).expect("parses");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].currency, "EUR");
        assert_eq!(
            items[0].payment_reference.as_deref(),
            Some("RF18539007547034")
        );
        assert_eq!(items[1].open_amount.to_string(), "-40.00");
        assert_eq!(items[1].payment_reference, None);
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            (GOOD.replace("2026-01-06,", "06/01/2026,"), 3, "issue_date"),
            (GOOD.replace("-40.00", "40.00"), 3, "open_amount"),
            (
                GOOD.replace("1200.00,1200.00", "1200.00,1300.00"),
                2,
                "open_amount",
            ),
            (
                GOOD.replace("AV-2026-000002", "FA-2026-000001"),
                3,
                "invoice_id",
            ),
            (
                GOOD.replace("C001,Martin SARL,2026-01-05", ",Martin SARL,2026-01-05"),
                2,
                "customer_id",
            ),
            (GOOD.replace(",amount,", ",amt,"), 1, "amount"),
        ];
        for (text, line, field) in cases {
            let error = parse("o.csv", text.as_bytes()).expect_err(field);
            assert_eq!(
                error.location,
                Location::LineField {
                    line,
                    field: field.into()
                },
                "{error}"
            );
        }
    }
}
