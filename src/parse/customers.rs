//! The contract's customers CSV (`--customers`): names, aliases and known
//! payer IBANs, the evidence that identifies a payer without a reference.
//!
//! IBANs are normalised here (upper case, spaces dropped) so every later
//! comparison is a plain equality.

use std::collections::HashMap;

use super::csv_table::Table;
use crate::error::ParseError;
use crate::model::Customer;

pub const REQUIRED: [&str; 2] = ["customer_id", "name"];

pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<Customer>, ParseError> {
    let mut table = Table::open(source, bytes, &REQUIRED)?;
    let customer_id = table.column("customer_id");
    let name = table.column("name");
    let aliases = table.column("aliases");
    let ibans = table.column("ibans");
    let credit_limit = table.column("credit_limit");
    let payment_terms_days = table.column("payment_terms_days");
    let mut customers = Vec::with_capacity(table.rows_hint());
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(row) = table.next_row()? {
        let terms = row.text(payment_terms_days, "payment_terms_days")?;
        let customer = Customer {
            customer_id: row.required(customer_id, "customer_id")?.to_string(),
            name: row.required(name, "name")?.to_string(),
            aliases: row.list(aliases, "aliases")?,
            ibans: row
                .list(ibans, "ibans")?
                .iter()
                .map(|iban| normalise_iban(iban))
                .collect(),
            credit_limit: row.amount_opt(credit_limit, "credit_limit")?,
            payment_terms_days: if terms.is_empty() {
                None
            } else {
                Some(terms.parse().map_err(|_| {
                    row.error(
                        "payment_terms_days",
                        format!("expected a whole number of days, found {terms:?}"),
                    )
                })?)
            },
        };
        if let Some(first) = seen.insert(customer.customer_id.clone(), row.line) {
            return Err(row.error(
                "customer_id",
                format!(
                    "customer {:?} is already on line {first}; customer ids must be unique",
                    customer.customer_id
                ),
            ));
        }
        customers.push(customer);
    }
    Ok(customers)
}

/// Upper case, whitespace dropped: the form every IBAN comparison uses.
pub fn normalise_iban(iban: &str) -> String {
    // Sized once: collected, the string grew from nothing, copying.
    let mut out = String::with_capacity(iban.len());
    out.extend(
        iban.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;

    #[test]
    fn reads_lists_and_normalises_ibans() {
        let text = "customer_id,name,aliases,ibans,payment_terms_days\n\
            C1,Établissements Martin,Martin Frères; Ets Martin ,fr76 3000 4000 0312 3456 7890 143;,30\n\
            C2,Durand SAS,,,\n";
        let customers = parse("c.csv", text.as_bytes()).expect("parses");
        assert_eq!(customers[0].aliases, ["Martin Frères", "Ets Martin"]);
        assert_eq!(customers[0].ibans, ["FR7630004000031234567890143"]);
        assert_eq!(customers[0].payment_terms_days, Some(30));
        assert!(customers[1].ibans.is_empty());
        let bad = text.replace(",30\n", ",thirty\n");
        let error = parse("c.csv", bad.as_bytes()).expect_err("bad terms");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 2,
                field: "payment_terms_days".into()
            }
        );
    }
}
