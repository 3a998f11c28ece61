//! The contract's open-items CSV (`--open-items`): one row per invoice or
//! credit note still (or partly) unpaid.
//!
//! Checks what the matching core relies on: unique `invoice_id`, an
//! `open_amount` of the same sign as `amount` and not beyond it. A file that
//! breaks them is refused with the line and column, never half-used.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;

use super::csv_table::Table;
use super::non_empty;
use crate::error::{Location, ParseError};
use crate::model::OpenItem;
use crate::parallel::Slots;

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
    let parts = Table::open_parts(source, bytes, &REQUIRED)?;
    // Parts in parallel, each writing its items straight into the one
    // vector of the final size (room for a part's lines; the first error
    // by line). Copied from per-part vectors, two million items (350 MB)
    // were moved once more and held twice: the read stage ended 70 MiB
    // higher.
    let (items, lines) = crate::parallel::fill_parts(parts, Table::rows_hint, parse_part)?;
    let lines = crate::parallel::concat(lines);
    // Unique ids: the items sorted (in parallel) by a hash of their id; a
    // repeat is found among equal hashes, as the later line of two with the
    // same id, and the earliest such line is named. Sorting 64-bit keys
    // beats sorting by the ids themselves (two million string comparisons
    // through an index, a cache miss each).
    let hashed: Vec<(u64, u32)> = items
        .par_iter()
        .enumerate()
        .map(|(at, item)| {
            let mut hasher = std::hash::DefaultHasher::new();
            item.invoice_id.hash(&mut hasher);
            (hasher.finish(), at as u32)
        })
        .collect();
    // Sorted on the hashes' top bits first.
    let bits = crate::parallel::bucket_bits(hashed.len());
    let (hashed, _) = crate::parallel::bucket_sort(
        hashed,
        1 << bits,
        |&(hash, _)| (hash >> (64 - bits)) as usize,
        |&pair| pair,
    );
    let repeat = hashed
        .par_chunk_by(|a, b| a.0 == b.0)
        .filter(|same_hash| same_hash.len() > 1)
        .filter_map(|same_hash| {
            let mut ats: Vec<usize> = same_hash.iter().map(|&(_, at)| at as usize).collect();
            ats.sort_by(|&a, &b| {
                (&items[a].invoice_id, lines[a]).cmp(&(&items[b].invoice_id, lines[b]))
            });
            ats.windows(2)
                .map(|w| (w[0], w[1]))
                .filter(|&(first, again)| items[first].invoice_id == items[again].invoice_id)
                .min_by_key(|&(_, again)| lines[again])
        })
        .min_by_key(|&(_, again)| lines[again]);
    if let Some((first, again)) = repeat {
        return Err(ParseError::new(
            source,
            Location::LineField {
                line: lines[again],
                field: "invoice_id".into(),
            },
            format!(
                "invoice {:?} is already on line {}; invoice ids must be unique",
                items[again].invoice_id, lines[first]
            ),
        ));
    }
    Ok(items)
}

/// One part's rows into `items`; the file line of each.
fn parse_part(
    mut table: Table<'_>,
    items: &mut Slots<'_, OpenItem>,
) -> Result<Vec<u64>, ParseError> {
    let invoice_id = table.column("invoice_id");
    let customer_id = table.column("customer_id");
    let customer_name = table.column("customer_name");
    let issue_date = table.column("issue_date");
    let due_date = table.column("due_date");
    let currency = table.column("currency");
    let amount = table.column("amount");
    let open_amount = table.column("open_amount");
    let payment_reference = table.column("payment_reference");
    let mut lines = Vec::with_capacity(table.rows_hint());
    while let Some(row) = table.next_row()? {
        let item = OpenItem {
            invoice_id: row.required(invoice_id, "invoice_id")?.into(),
            customer_id: row.required(customer_id, "customer_id")?.into(),
            customer_name: row.required(customer_name, "customer_name")?.into(),
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
        lines.push(row.line);
        items.push(item);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// An open-items file of `rows` rows, over two parts long, row `i`'s
    /// customer name `name(i)` as written.
    fn items_file(rows: usize, name: impl Fn(usize) -> &'static str) -> String {
        let mut text = REQUIRED.join(",") + "\n";
        for i in 0..rows {
            text.push_str(&format!(
                "FA-{i:07},C{},{},2026-01-05,2026-02-04,EUR,100.00,100.00\n",
                i % 97,
                name(i)
            ));
        }
        assert!(text.len() > 2 * crate::parse::csv_table::PART_BYTES);
        text
    }

    /// Parts with no quote and no CR are cut by line and comma: errors in
    /// a later part, a short row and blank lines are located as the `csv`
    /// reader locates them.
    #[test]
    fn plain_parts_keep_their_line_numbers() {
        let rows = 150_000;
        let text = items_file(rows, |_| "Martin SARL");
        let items = parse("plain.csv", text.as_bytes()).expect("parses");
        assert_eq!(items.len(), rows);
        let row = format!("FA-0120432,C{},Martin SARL,", 120_432 % 97);
        let bad = text.replace(&format!("{row}2026-01-05"), &format!("{row}2026-13-05"));
        let error = parse("plain.csv", bad.as_bytes()).expect_err("bad date");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 2 + 120_432,
                field: "issue_date".into()
            }
        );
        let short = text.replace(&format!("{row}2026-01-05,"), &row);
        let error = parse("plain.csv", short.as_bytes()).expect_err("short row");
        assert_eq!(error.location, Location::Line(2 + 120_432));
        assert_eq!(error.message, "expected 8 fields like the header, found 7");
        // Two blank lines before the row: the reader's position is the
        // line after the previous row.
        let blank = text.replace(
            &format!("\n{row}2026-01-05"),
            &format!("\n\n\n{row}2026-13-05"),
        );
        let error = parse("plain.csv", blank.as_bytes()).expect_err("bad date");
        assert_eq!(
            error.location,
            Location::LineField {
                line: 2 + 120_432,
                field: "issue_date".into()
            }
        );
    }

    /// A file larger than `PART_BYTES` is read in parts: errors still name
    /// the file's own line, across parts and quoted line breaks.
    #[test]
    fn large_files_read_in_parts_keep_their_line_numbers() {
        let rows = 150_000;
        // Every 1000th name holds a quoted line break: two physical lines.
        let text = items_file(rows, |i| {
            if i % 1000 == 0 {
                "\"Martin\nSARL\""
            } else {
                "Martin SARL"
            }
        });
        let items = parse("big.csv", text.as_bytes()).expect("parses");
        assert_eq!(items.len(), rows);
        assert_eq!(items[120_432].invoice_id, "FA-0120432");
        assert_eq!(items[1000].customer_name, "Martin\nSARL");
        // Row i sits on line 2 + i + (quoted breaks before it).
        let line_of = |i: u64| 2 + i + i.div_ceil(1000);
        let row = format!("FA-0120432,C{},Martin SARL,", 120_432 % 97);
        let bad = text.replace(&format!("{row}2026-01-05"), &format!("{row}2026-13-05"));
        let error = parse("big.csv", bad.as_bytes()).expect_err("bad date");
        assert_eq!(
            error.location,
            Location::LineField {
                line: line_of(120_432),
                field: "issue_date".into()
            }
        );
        let twice = text.replace("FA-0120432,", "FA-0000007,");
        let error = parse("big.csv", twice.as_bytes()).expect_err("duplicate");
        assert_eq!(
            error.location,
            Location::LineField {
                line: line_of(120_432),
                field: "invoice_id".into()
            }
        );
        assert!(
            error.message.contains(&format!("line {}", line_of(7))),
            "{error}"
        );
        // Several repeats, one id three times: the earliest repeating line
        // is named, with the line its id was on just before.
        let several = text
            .replace("FA-0140000,", "FA-0090000,")
            .replace("FA-0130000,", "FA-0000050,")
            .replace("FA-0100000,", "FA-0000050,")
            .replace("FA-0145000,", "FA-0000050,");
        let error = parse("big.csv", several.as_bytes()).expect_err("repeats");
        assert_eq!(
            error.location,
            Location::LineField {
                line: line_of(100_000),
                field: "invoice_id".into()
            }
        );
        assert!(
            error
                .message
                .contains(&format!("already on line {};", line_of(50))),
            "{error}"
        );
        let later = text
            .replace("FA-0140000,", "FA-0090000,")
            .replace("FA-0145000,", "FA-0000050,");
        let error = parse("big.csv", later.as_bytes()).expect_err("repeats");
        assert_eq!(
            error.location,
            Location::LineField {
                line: line_of(140_000),
                field: "invoice_id".into()
            },
            "{error}"
        );
    }
}
