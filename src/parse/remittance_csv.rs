//! The contract's remittance CSV: one row per invoice line of an advice,
//! rows grouped by `advice_id` (in order of first appearance).
//!
//! Read with the `csv` crate (RFC 4180 quoting, BOM accepted); columns are
//! found by name, in any order, and unknown columns are ignored. Every
//! error names the file, the line and the column.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Location, ParseError};
use crate::model::{AdviceLine, Format, Money, RemittanceAdvice};
use crate::money::parse_amount;

const REQUIRED: [&str; 7] = [
    "advice_id",
    "payer_name",
    "payment_date",
    "payment_amount",
    "currency",
    "invoice_id",
    "paid_amount",
];

/// Column positions of the header.
struct Columns {
    advice_id: usize,
    payer_name: usize,
    payment_date: usize,
    payment_amount: usize,
    currency: usize,
    invoice_id: usize,
    paid_amount: usize,
    payment_reference: Option<usize>,
    deduction_amount: Option<usize>,
    deduction_reason: Option<usize>,
}

pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<RemittanceAdvice>, ParseError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let headers = reader
        .byte_headers()
        .map_err(|e| csv_error(source, &e))?
        .clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(name))
    };
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|n| find(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ParseError::new(
            source,
            Location::LineField {
                line: 1,
                field: missing.join(", "),
            },
            format!(
                "the header lacks the required column(s) {}",
                missing.join(", ")
            ),
        ));
    }
    let column = |name: &str| find(name).expect("checked above");
    let columns = Columns {
        advice_id: column("advice_id"),
        payer_name: column("payer_name"),
        payment_date: column("payment_date"),
        payment_amount: column("payment_amount"),
        currency: column("currency"),
        invoice_id: column("invoice_id"),
        paid_amount: column("paid_amount"),
        payment_reference: find("payment_reference"),
        deduction_amount: find("deduction_amount"),
        deduction_reason: find("deduction_reason"),
    };
    let mut advices: Vec<RemittanceAdvice> = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(source, &e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize, name: &str| -> Result<&str, ParseError> {
            let raw = record.get(index).unwrap_or(b"");
            std::str::from_utf8(raw).map(str::trim).map_err(|_| {
                ParseError::new(
                    source,
                    Location::LineField {
                        line,
                        field: name.to_string(),
                    },
                    "not valid UTF-8 (the remittance CSV must be UTF-8)",
                )
            })
        };
        let located = |name: &str, message: String| {
            ParseError::new(
                source,
                Location::LineField {
                    line,
                    field: name.to_string(),
                },
                message,
            )
        };
        let required = |index: usize, name: &str| -> Result<&str, ParseError> {
            let value = field(index, name)?;
            if value.is_empty() {
                return Err(located(name, "is empty; a value is required".to_string()));
            }
            Ok(value)
        };
        let amount = |index: usize, name: &str| -> Result<Decimal, ParseError> {
            parse_amount(required(index, name)?).map_err(|m| located(name, m))
        };
        let advice_id = required(columns.advice_id, "advice_id")?.to_string();
        let payer_name = required(columns.payer_name, "payer_name")?.to_string();
        let date_text = required(columns.payment_date, "payment_date")?;
        let payment_date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
            located(
                "payment_date",
                format!("expected a date YYYY-MM-DD, found {date_text:?}"),
            )
        })?;
        let payment_amount = amount(columns.payment_amount, "payment_amount")?;
        let currency = required(columns.currency, "currency")?.to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(located(
                "currency",
                format!("expected an ISO 4217 code such as EUR, found {currency:?}"),
            ));
        }
        let invoice_ref = required(columns.invoice_id, "invoice_id")?.to_string();
        let paid_amount = amount(columns.paid_amount, "paid_amount")?;
        let payment_reference = match columns.payment_reference {
            Some(index) => {
                Some(field(index, "payment_reference")?.to_string()).filter(|r| !r.is_empty())
            }
            None => None,
        };
        let deduction_amount = match columns.deduction_amount {
            Some(index) if !field(index, "deduction_amount")?.is_empty() => {
                Some(amount(index, "deduction_amount")?)
            }
            _ => None,
        };
        let deduction_reason = match columns.deduction_reason {
            Some(index) => {
                Some(field(index, "deduction_reason")?.to_string()).filter(|r| !r.is_empty())
            }
            None => None,
        };
        let advice_line = AdviceLine {
            invoice_ref,
            paid_amount: Some(paid_amount),
            deduction_amount,
            deduction_reason,
            amount_due: None,
        };
        match advices.iter_mut().find(|a| a.advice_id == advice_id) {
            Some(advice) => {
                let same_payment = advice.payer_name.as_deref() == Some(payer_name.as_str())
                    && advice.payment_date == Some(payment_date)
                    && advice
                        .payment_amount
                        .as_ref()
                        .is_some_and(|m| m.amount == payment_amount && m.currency == currency);
                if !same_payment {
                    return Err(located(
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
            None => advices.push(RemittanceAdvice {
                format: Format::RemittanceCsv,
                source: source.to_string(),
                advice_id,
                payer_name: Some(payer_name),
                payment_reference,
                payment_amount: Some(Money {
                    amount: payment_amount,
                    currency,
                }),
                payment_date: Some(payment_date),
                lines: vec![advice_line],
                warnings: Vec::new(),
            }),
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

fn csv_error(source: &str, error: &csv::Error) -> ParseError {
    let line = error.position().map_or(1, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        csv::ErrorKind::Utf8 { .. } => {
            "not valid UTF-8 (the remittance CSV must be UTF-8)".to_string()
        }
        _ => format!("unreadable CSV: {error}"),
    };
    ParseError::new(source, Location::Line(line), message)
}

#[cfg(test)]
mod tests {
    use super::*;

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
