//! The files of `recon run --out DIR`, exactly as the contract lays them
//! out: allocations.csv, exceptions.csv, disputes.csv, open_items.csv,
//! journal.fec.txt; and the run summary. Pure: `RunResult` in, bytes out.
//!
//! Amounts are written in the currency's minor units (2 decimals for EUR),
//! from exact decimals; the FEC uses the comma decimal separator French
//! accounting software expects.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::matching::decide::{Kind, Reason};
use crate::matching::evidence::Found;
use crate::matching::{Line, fx};
use crate::money::Thousandths;
use crate::output::csv_rows::CsvRows;
use crate::run::RunResult;

pub use crate::money::minor_units;

/// An amount with the currency's decimals; an amount with more (a bank's
/// five-decimal line) keeps them: exact, never rounded away.
pub fn money(amount: Decimal, currency: &str) -> String {
    let mut text = String::with_capacity(16);
    push_money(&mut text, amount, currency, '.');
    text
}

/// Appends `money(amount, currency)` with `separator` for the decimal point.
fn push_money(out: &mut String, amount: Decimal, currency: &str, separator: char) {
    let minor = minor_units(currency);
    // Beyond the minor unit, only significant decimals are kept.
    let decimals = if amount.scale() <= minor {
        minor
    } else {
        minor.max(amount.normalize().scale())
    };
    crate::money::push_fixed(out, amount, decimals, separator);
}

fn confidence(per_mille: u16) -> String {
    let mut text = String::with_capacity(8);
    push_confidence(&mut text, per_mille);
    text
}

/// Appends `confidence(per_mille)`: `0.960`, `1.000` (and above, as given).
fn push_confidence(out: &mut String, per_mille: u16) {
    let whole = per_mille / 1000;
    if whole < 10 {
        out.push(char::from(b'0' + whole as u8));
    } else {
        out.push_str(&whole.to_string());
    }
    out.push('.');
    let fraction = per_mille % 1000;
    for digit in [fraction / 100, fraction / 10 % 10, fraction % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
}

fn date(line: &Line) -> String {
    let mut text = String::with_capacity(10);
    push_value_date(&mut text, line);
    text
}

/// Appends `date(line)`.
fn push_value_date(out: &mut String, line: &Line) {
    if let Some(day) = line.value_date {
        crate::money::push_date(out, day, true);
    }
}

/// Lines rendered per parallel chunk.
const CHUNK_LINES: usize = 8_192;

/// Chunks rendered in parallel before they are written, in order: bounds
/// the memory of a million-line run's files to a few dozen chunks.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Renders `count` units in chunks of `CHUNK_LINES`, in parallel batches,
/// and writes them to `out` in order: the bytes do not depend on the thread
/// count, and no file is ever whole in memory. `render` appends a chunk to
/// an empty buffer; buffers are reused from batch to batch, so that a
/// chunk's few megabytes are neither grown by doubling (each step a copy)
/// nor taken fresh from the system.
fn stream_chunks<F>(out: &mut (dyn Write + Send), count: usize, render: F) -> io::Result<()>
where
    F: Fn(std::ops::Range<usize>, &mut Vec<u8>) + Sync,
{
    let starts: Vec<usize> = (0..count).step_by(CHUNK_LINES).collect();
    let mut spare: Vec<Vec<u8>> = Vec::new();
    // Batch k+1 renders while batch k is hashed and written.
    let mut pending: Vec<Vec<u8>> = Vec::new();
    for batch in starts.chunks(CHUNKS_IN_FLIGHT) {
        let mut buffers: Vec<Vec<u8>> = batch
            .iter()
            .map(|_| spare.pop().unwrap_or_default())
            .collect();
        let (rendered, written) = rayon::join(
            || {
                buffers
                    .par_iter_mut()
                    .zip(batch)
                    .for_each(|(buffer, &start)| {
                        buffer.clear();
                        render(start..(start + CHUNK_LINES).min(count), buffer);
                    });
                buffers
            },
            || pending.iter().try_for_each(|part| out.write_all(part)),
        );
        written?;
        spare.extend(std::mem::replace(&mut pending, rendered));
    }
    pending.iter().try_for_each(|part| out.write_all(part))
}

/// A CSV file: the header, then `render` over `count` rows or lines.
fn csv_file<F>(
    out: &mut (dyn Write + Send),
    header: &[&str],
    count: usize,
    render: F,
) -> io::Result<()>
where
    F: Fn(std::ops::Range<usize>, &mut CsvRows) + Sync,
{
    let mut head = CsvRows::new(Vec::new());
    head.write_record(header);
    out.write_all(&head.into_inner())?;
    stream_chunks(out, count, |range, buffer| {
        let mut writer = CsvRows::new(std::mem::take(buffer));
        render(range, &mut writer);
        *buffer = writer.into_inner();
    })
}

/// The run's output files but the manifest, in the order they are written.
pub const FILES: [&str; 6] = [
    "allocations.csv",
    "exceptions.csv",
    "disputes.csv",
    "open_items.csv",
    "journal.fec.txt",
    "decisions.jsonl",
];

/// `FILES` from the longest to write to the shortest (a million-line run:
/// 3.5, 2.3, 1.2, 1.1, 0.3 and 0.04 s when written side by side), the
/// order they are started in.
pub const LONGEST_FIRST: [&str; 6] = [
    "decisions.jsonl",
    "journal.fec.txt",
    "allocations.csv",
    "open_items.csv",
    "exceptions.csv",
    "disputes.csv",
];

/// One output file of the run by its name (every file but the manifest);
/// `replay` renders a file again to name its first difference.
pub fn render(name: &str, result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    match name {
        "allocations.csv" => allocations_csv(result, out),
        "exceptions.csv" => exceptions_csv(result, out),
        "disputes.csv" => disputes_csv(result, out),
        "open_items.csv" => open_items_csv(result, out),
        "journal.fec.txt" => journal_fec(result, out),
        "decisions.jsonl" => decisions_jsonl(result, out),
        other => Err(io::Error::other(format!("no output file is named {other}"))),
    }
}

pub fn allocations_csv(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    let header = [
        "line_id",
        "bank_ref",
        "value_date",
        "invoice_id",
        "customer_id",
        "amount",
        "currency",
        "kind",
        "rule",
        "confidence",
        "lettrage",
    ];
    csv_file(out, &header, result.lines.len(), |range, writer| {
        let [mut amount, mut score] = std::array::from_fn(|_| String::with_capacity(16));
        for (line, decision) in result.lines[range.clone()]
            .iter()
            .zip(&result.decisions[range])
        {
            let line_customer = decision
                .outcome
                .customer
                .map_or("", |c| result.customer_ids[c.0 as usize].as_str());
            let value_date = date(line);
            let lettrage = decision.lettrage_code();
            let lettrage = lettrage.as_deref().unwrap_or("");
            for proposal in &decision.outcome.proposals {
                // An invoice row is in its item's currency (another than
                // the line's only in a settlement across currencies).
                let (invoice_id, customer_id, currency) = match proposal.item {
                    Some(i) => {
                        let item = &result.items[i as usize];
                        (
                            item.invoice_id.as_str(),
                            item.customer_id.as_str(),
                            item.currency.as_str(),
                        )
                    }
                    None => ("", line_customer, line.currency.as_str()),
                };
                amount.clear();
                push_money(&mut amount, proposal.amount, currency, '.');
                score.clear();
                push_confidence(&mut score, proposal.confidence);
                writer.write_record([
                    line.line_id.as_str(),
                    &line.bank_ref,
                    &value_date,
                    invoice_id,
                    customer_id,
                    &amount,
                    currency,
                    proposal.kind.name(),
                    proposal.rule,
                    &score,
                    lettrage,
                ]);
            }
        }
    })
}

pub fn exceptions_csv(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    let header = [
        "line_id",
        "bank_ref",
        "value_date",
        "amount",
        "direction",
        "currency",
        "reason",
        "suggestions",
        "payer_name",
        "remittance_text",
        "detail",
    ];
    csv_file(out, &header, result.lines.len(), |range, writer| {
        for (line, decision) in result.lines[range.clone()]
            .iter()
            .zip(&result.decisions[range])
        {
            for review in &decision.outcome.reviews {
                let suggestions: Vec<String> = review
                    .suggestions
                    .iter()
                    .filter(|s| !s.items.is_empty())
                    .take(3)
                    .map(|s| {
                        let ids: Vec<&str> = s
                            .items
                            .iter()
                            .map(|&i| result.items[i as usize].invoice_id.as_str())
                            .collect();
                        format!("{}:{}", ids.join("+"), confidence(s.score.min(1000)))
                    })
                    .collect();
                writer.write_record([
                    line.line_id.as_str(),
                    &line.bank_ref,
                    &date(line),
                    &money(review.amount, &line.currency),
                    if line.amount.is_sign_negative() {
                        "debit"
                    } else {
                        "credit"
                    },
                    &line.currency,
                    review.reason.name(),
                    &suggestions.join("|"),
                    &line.payer_name,
                    &line.remittance_text,
                    review.detail.as_deref().unwrap_or(""),
                ]);
            }
        }
    })
}

pub fn disputes_csv(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    let header = [
        "invoice_id",
        "customer_id",
        "amount",
        "currency",
        "reason",
        "source",
    ];
    csv_file(out, &header, result.lines.len(), |range, writer| {
        for (line, decision) in result.lines[range.clone()]
            .iter()
            .zip(&result.decisions[range])
        {
            for dispute in &decision.outcome.disputes {
                let item = &result.items[dispute.item as usize];
                writer.write_record([
                    item.invoice_id.as_str(),
                    &item.customer_id,
                    &money(dispute.amount, &item.currency),
                    &item.currency,
                    &dispute.reason,
                    &format!(
                        "{} {}",
                        result.advices[dispute.advice as usize].advice_id, line.line_id
                    ),
                ]);
            }
        }
    })
}

pub fn open_items_csv(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    // The input's columns, in the contract's order.
    let mut header = crate::parse::open_items::REQUIRED.to_vec();
    header.push("payment_reference");
    csv_file(out, &header, result.items.len(), |range, writer| {
        // Fields rendered into buffers reused row after row.
        let [mut issued, mut due, mut amount, mut open_amount] =
            std::array::from_fn(|_| String::with_capacity(16));
        for (item, open) in result.items[range.clone()]
            .iter()
            .zip(&result.open_after[range])
        {
            for buffer in [&mut issued, &mut due, &mut amount, &mut open_amount] {
                buffer.clear();
            }
            crate::money::push_date(&mut issued, item.issue_date, true);
            crate::money::push_date(&mut due, item.due_date, true);
            push_money(&mut amount, item.amount, &item.currency, '.');
            push_money(&mut open_amount, *open, &item.currency, '.');
            writer.write_record([
                item.invoice_id.as_str(),
                &item.customer_id,
                &item.customer_name,
                &issued,
                &due,
                &item.currency,
                &amount,
                &open_amount,
                item.payment_reference.as_deref().unwrap_or(""),
            ]);
        }
    })
}

/// FEC amount: comma decimal separator, no thousands separator.
/// The journal in the FEC layout: one entry per bank line, balanced.
/// The journal in the FEC layout: one entry per bank line (a batch entry's
/// details together), numbered in order, each balanced.
pub fn journal_fec(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    out.write_all(
        b"JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise\n",
    )?;
    // Entries as line ranges, in order; a line that moves nothing (zero
    // amount, nothing applied) has none. Numbering needs this pass; the
    // rendering then runs in parallel.
    let mut entries: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < result.lines.len() {
        let first = &result.lines[at];
        let mut end = at + 1;
        while end < result.lines.len() && result.lines[end].line_id == first.line_id {
            end += 1;
        }
        let total: Decimal = result.lines[at..end].iter().map(|l| l.amount).sum();
        let moves = !total.is_zero()
            || result.decisions[at..end]
                .iter()
                .any(|d| !d.outcome.proposals.is_empty());
        if moves {
            entries.push((at, end));
        }
        at = end;
    }
    stream_chunks(out, entries.len(), |range, buffer| {
        // An empty buffer: always text.
        let mut text = String::from_utf8(std::mem::take(buffer)).unwrap_or_default();
        for (k, &(at, end)) in entries[range.clone()].iter().enumerate() {
            journal_entry(result, at, end, (range.start + k + 1) as u64, &mut text);
        }
        *buffer = text.into_bytes();
    })
}

fn journal_entry(result: &RunResult, at: usize, end: usize, number: u64, text: &mut String) {
    let config = &result.config;
    let accounts = &config.accounts;
    let first = &result.lines[at];
    let total: Decimal = result.lines[at..end].iter().map(|l| l.amount).sum();
    let currency = &first.currency;
    let mut day = String::with_capacity(8);
    if let Some(date) = first.booking_date.or(first.value_date) {
        crate::money::push_date(&mut day, date, false);
    }
    let mut value_day = String::with_capacity(8);
    if let Some(date) = first.value_date {
        crate::money::push_date(&mut value_day, date, false);
    }
    let piece = if first.bank_ref.is_empty() {
        &first.line_id
    } else {
        &first.bank_ref
    };
    let label = clean(if first.payer_name.is_empty() {
        &first.remittance_text
    } else {
        &first.payer_name
    });
    let foreign = currency != crate::money::BOOK_CURRENCY;
    let number = number.to_string();
    // The 18 columns, pushed field by field: the journal is the run's
    // largest contract file.
    let mut row = |account: &str,
                   account_label: &str,
                   aux: &str,
                   aux_label: &str,
                   amount: Decimal,
                   lettrage: &str,
                   devise: Option<(Decimal, &str)>| {
        // Positive = debit.
        let (debit, credit) = if amount.is_sign_negative() {
            (Decimal::ZERO, -amount)
        } else {
            (amount, Decimal::ZERO)
        };
        for field in [
            config.journal.code.as_str(),
            config.journal.label.as_str(),
            &number,
            &day,
            account,
            account_label,
            aux,
            aux_label,
            piece,
            &value_day,
            &label,
        ] {
            text.push_str(field);
            text.push('\t');
        }
        push_money(text, debit, currency, ',');
        text.push('\t');
        push_money(text, credit, currency, ',');
        text.push('\t');
        text.push_str(lettrage);
        text.push('\t');
        if !lettrage.is_empty() {
            text.push_str(&value_day);
        }
        text.push('\t');
        text.push_str(&day);
        text.push('\t');
        match devise {
            Some((nominal, other)) => {
                push_money(text, nominal.abs(), other, ',');
                text.push('\t');
                text.push_str(other);
            }
            None if foreign => {
                push_money(text, amount.abs(), currency, ',');
                text.push('\t');
                text.push_str(currency);
            }
            None => text.push('\t'),
        }
        text.push('\n');
    };
    let bank = accounts
        .bank
        .get(&*first.account)
        .unwrap_or(&accounts.bank_default);
    row(bank, "Banque", "", "", total, "", None);
    for (line, decision) in result.lines[at..end].iter().zip(&result.decisions[at..end]) {
        let lettrage = decision.lettrage_code();
        let lettrage = lettrage.as_deref().unwrap_or("");
        let mut values = values_across_currencies(result, line, &decision.outcome.proposals);
        for proposal in &decision.outcome.proposals {
            match (proposal.kind, proposal.item) {
                (Kind::Invoice, Some(i)) => {
                    let item = &result.items[i as usize];
                    let (value, devise) = if item.currency == line.currency {
                        (proposal.amount, None)
                    } else {
                        let value = values.next().unwrap_or(proposal.amount);
                        (value, Some((proposal.amount, item.currency.as_str())))
                    };
                    row(
                        &accounts.customers,
                        "Clients",
                        &item.customer_id,
                        &clean(&item.customer_name),
                        -value,
                        lettrage,
                        devise,
                    );
                }
                // A bridge between nominal amounts, folded into the 411
                // rows' values above: no account.
                (Kind::Fx, _) if proposal.rule == fx::CONVERSION_RULE => {}
                (Kind::BankFee, _) => row(
                    &accounts.bank_fees,
                    "Frais bancaires",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Discount, _) => row(
                    &accounts.discounts_granted,
                    "Escomptes accordes",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Writeoff, _) if proposal.amount.is_sign_negative() => row(
                    &accounts.payment_difference_loss,
                    "Ecarts de reglement (charge)",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Writeoff, _) => row(
                    &accounts.payment_difference_gain,
                    "Ecarts de reglement (produit)",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Fx, _) if proposal.amount.is_sign_negative() => row(
                    &accounts.exchange_loss,
                    "Pertes de change",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Fx, _) => row(
                    &accounts.exchange_gain,
                    "Gains de change",
                    "",
                    "",
                    -proposal.amount,
                    "",
                    None,
                ),
                (Kind::Invoice, None) => {}
            }
        }
        for review in &decision.outcome.reviews {
            let signed = if line.amount.is_sign_negative() {
                review.amount
            } else {
                -review.amount
            };
            if !signed.is_zero() {
                row(
                    &accounts.suspense,
                    "Compte d'attente",
                    "",
                    "",
                    signed,
                    "",
                    None,
                );
            }
        }
    }
}

/// The line-currency values of a line's invoice rows in another currency,
/// in order: their nominal amounts plus the `fx_conversion` bridge, shared
/// pro rata, the last row taking the rounding remainder so that the values
/// add up exactly.
fn values_across_currencies(
    result: &RunResult,
    line: &Line,
    proposals: &[crate::matching::decide::Proposal],
) -> std::vec::IntoIter<Decimal> {
    let cross: Vec<Decimal> = proposals
        .iter()
        .filter(|p| {
            p.kind == Kind::Invoice
                && p.item
                    .is_some_and(|i| result.items[i as usize].currency != line.currency)
        })
        .map(|p| p.amount)
        .collect();
    if cross.is_empty() {
        return Vec::new().into_iter();
    }
    let bridge: Decimal = proposals
        .iter()
        .filter(|p| p.kind == Kind::Fx && p.rule == fx::CONVERSION_RULE)
        .map(|p| p.amount)
        .sum();
    let nominal: Decimal = cross.iter().sum();
    let total = nominal + bridge;
    let scale = minor_units(&line.currency);
    let mut given = Decimal::ZERO;
    let count = cross.len();
    let values: Vec<Decimal> = cross
        .into_iter()
        .enumerate()
        .map(|(k, amount)| {
            let value = if k + 1 == count || nominal.is_zero() {
                total - given
            } else {
                amount
                    .checked_mul(total)
                    .and_then(|v| v.checked_div(nominal))
                    .map_or(amount, |v| v.round_dp(scale))
            };
            given += value;
            value
        })
        .collect();
    values.into_iter()
}

/// FEC fields may not hold tabs or line breaks.
fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= 100 && !text.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .take(100)
        .collect::<String>()
        .into()
}

/// The run summary (`--json` prints it as one object).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub lines_read: usize,
    pub credit_lines: usize,
    pub lines_fully_applied: usize,
    pub lines_partly_applied: usize,
    pub amount_received: String,
    pub amount_applied: String,
    pub exceptions: usize,
    pub exceptions_by_reason: BTreeMap<String, usize>,
    pub auto_match_rate_by_count: f64,
    pub auto_match_rate_by_value: f64,
    pub customers_identified: usize,
    pub disputes: usize,
    /// Stage → milliseconds; filled by the caller (the core has no clock).
    pub stage_ms: BTreeMap<String, u64>,
    /// Stage → CPU milliseconds of the process, all threads (with
    /// `stage_ms`, the cores a stage kept busy); filled by the caller.
    pub stage_cpu_ms: BTreeMap<String, u64>,
    /// Stage → resident memory in MiB at its end; filled by the caller.
    pub stage_rss_mb: BTreeMap<String, u64>,
}

impl Summary {
    pub fn of(result: &RunResult) -> Summary {
        // Per bank entry (a batch entry's details are adjacent lines of one
        // line id, as the journal numbers them): fully applied, partly
        // applied, a credit, a customer identified.
        #[derive(Default)]
        struct Entry {
            fully: bool,
            partly: bool,
            credit: bool,
            identified: bool,
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut by_reason: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut applied = Decimal::ZERO;
        let mut received = Decimal::ZERO;
        let mut applied_credit_value = Decimal::ZERO;
        let mut disputes = 0;
        let mut exceptions = 0;
        let mut previous: Option<&str> = None;
        for (line, decision) in result.lines.iter().zip(&result.decisions) {
            let outcome = &decision.outcome;
            if previous != Some(line.line_id.as_str()) {
                entries.push(Entry {
                    fully: true,
                    ..Entry::default()
                });
                previous = Some(line.line_id.as_str());
            }
            let Some(entry) = entries.last_mut() else {
                continue;
            };
            let invoice_rows = outcome.proposals.iter().any(|p| p.kind == Kind::Invoice);
            entry.fully &= outcome.reviews.is_empty() && invoice_rows;
            entry.partly |= invoice_rows;
            entry.credit |= line.is_credit();
            entry.identified |= outcome.customer.is_some();
            // In the line's currency: a settlement across currencies adds
            // its conversion bridge to the invoices' nominal amounts.
            let line_applied: Decimal = outcome
                .proposals
                .iter()
                .filter(|p| {
                    p.kind == Kind::Invoice || (p.kind == Kind::Fx && p.rule == fx::CONVERSION_RULE)
                })
                .map(|p| p.amount)
                .sum();
            applied += line_applied;
            if line.is_credit() {
                received += line.amount;
                if outcome.reviews.is_empty() && invoice_rows {
                    applied_credit_value += line.amount;
                }
            }
            for review in &outcome.reviews {
                exceptions += 1;
                *by_reason.entry(review.reason.name()).or_default() += 1;
            }
            disputes += outcome.disputes.len();
        }
        let exceptions_by_reason: BTreeMap<String, usize> = by_reason
            .into_iter()
            .map(|(reason, count)| (reason.to_string(), count))
            .collect();
        let credit_lines = entries.iter().filter(|e| e.credit).count();
        let fully = entries.iter().filter(|e| e.fully).count();
        let partly = entries.iter().filter(|e| e.partly && !e.fully).count();
        let rate = |a: f64, b: f64| {
            if b == 0.0 {
                0.0
            } else {
                (a / b * 10_000.0).round() / 10_000.0
            }
        };
        Summary {
            lines_read: entries.len(),
            credit_lines,
            lines_fully_applied: fully,
            lines_partly_applied: partly,
            amount_received: received.to_string(),
            amount_applied: applied.to_string(),
            exceptions,
            exceptions_by_reason,
            auto_match_rate_by_count: rate(fully as f64, credit_lines as f64),
            auto_match_rate_by_value: rate(
                applied_credit_value.try_into().unwrap_or(0.0),
                received.try_into().unwrap_or(0.0),
            ),
            customers_identified: entries.iter().filter(|e| e.identified).count(),
            disputes,
            stage_ms: BTreeMap::new(),
            stage_cpu_ms: BTreeMap::new(),
            stage_rss_mb: BTreeMap::new(),
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "lines read            {:>10}  ({} credits)",
            self.lines_read, self.credit_lines
        );
        let _ = writeln!(
            out,
            "lines fully applied   {:>10}  ({} partly)",
            self.lines_fully_applied, self.lines_partly_applied
        );
        let _ = writeln!(out, "amount received       {:>10}", self.amount_received);
        let _ = writeln!(out, "amount applied        {:>10}", self.amount_applied);
        let _ = writeln!(
            out,
            "auto-match rate       {:>9.2}%  of credit lines by count, {:.2}% by value",
            self.auto_match_rate_by_count * 100.0,
            self.auto_match_rate_by_value * 100.0
        );
        let _ = writeln!(
            out,
            "customers identified  {:>10}",
            self.customers_identified
        );
        let _ = writeln!(out, "exceptions            {:>10}", self.exceptions);
        for (reason, count) in &self.exceptions_by_reason {
            let _ = writeln!(out, "  {reason:<20}{count:>10}");
        }
        let _ = writeln!(out, "disputes              {:>10}", self.disputes);
        if !self.stage_ms.is_empty() {
            let stages: Vec<String> = self
                .stage_ms
                .iter()
                .map(|(s, ms)| format!("{s} {ms} ms"))
                .collect();
            let _ = writeln!(out, "time                  {}", stages.join(", "));
        }
        if !self.stage_cpu_ms.is_empty() {
            let stages: Vec<String> = self
                .stage_cpu_ms
                .iter()
                .map(|(s, ms)| match self.stage_ms.get(s) {
                    Some(&wall) if wall > 0 => {
                        format!("{s} {ms} ms ({:.2} cores)", *ms as f64 / wall as f64)
                    }
                    _ => format!("{s} {ms} ms"),
                })
                .collect();
            let _ = writeln!(out, "cpu                   {}", stages.join(", "));
        }
        if !self.stage_rss_mb.is_empty() {
            let stages: Vec<String> = self
                .stage_rss_mb
                .iter()
                .map(|(s, mb)| format!("{s} {mb} MiB"))
                .collect();
            let _ = writeln!(out, "memory                {}", stages.join(", "));
        }
        out
    }
}

/// Every reason name, in precedence order (for documentation and tests).
pub fn reason_names() -> Vec<&'static str> {
    [
        Reason::NotReceivable,
        Reason::DuplicatePayment,
        Reason::CurrencyMismatch,
        Reason::AmountMismatch,
        Reason::PartialRemittance,
        Reason::Overpayment,
        Reason::Ambiguous,
        Reason::NoCandidate,
        Reason::UnknownPayer,
    ]
    .map(Reason::name)
    .to_vec()
}

/// `decisions.jsonl`: one record per line (or batch detail), in serving
/// order: what the bank said, the evidence found, the rule that decided,
/// the reasoning steps and what is left to review. The allocation rows
/// are in allocations.csv, in the same order: a record counts them
/// (`allocation_rows`) instead of repeating them, and `recon explain`
/// joins them back. Empty evidence is left out.
pub fn decisions_jsonl(result: &RunResult, out: &mut (dyn Write + Send)) -> io::Result<()> {
    let invoice = |i: u32| result.items[i as usize].invoice_id.as_str();
    stream_chunks(out, result.lines.len(), |range, out| {
        let (start, end) = (range.start, range.end);
        let mut scratch = String::with_capacity(32);
        for ((line, decision), evidence) in result.lines[start..end]
            .iter()
            .zip(&result.decisions[start..end])
            .zip(&result.evidence[start..end])
        {
            let outcome = &decision.outcome;
            let mut record = JsonObject::open(out);
            record.text("line_id", &line.line_id);
            if let Some(detail) = line.detail {
                record.raw("detail", &detail.to_string());
            }
            record.text("bank_ref", &line.bank_ref);
            scratch.clear();
            push_value_date(&mut scratch, line);
            record.text("value_date", &scratch);
            scratch.clear();
            crate::money::push_fixed(&mut scratch, line.amount, line.amount.scale(), '.');
            record.text("amount", &scratch);
            record.text("currency", &line.currency);
            record.text("payer_name", &line.payer_name);
            record.text("payer_iban", &line.payer_iban);
            record.text("remittance_text", &line.remittance_text);
            record.list("references", &evidence.references, |object, hit| {
                object.text("invoice_id", invoice(hit.item));
                object.text("kind", hit.kind.rule());
                object.text("found_in", found_name(hit.found));
                object.text("text", &hit.text);
            });
            record.list("advices", &evidence.advices, |object, (advice, how)| {
                object.text("advice_id", &result.advices[*advice as usize].advice_id);
                object.text("how", how);
            });
            if let Some((settlement, how)) = evidence.settlement {
                let settlement = &result.settlements[settlement as usize];
                record.object("settlement", |object| {
                    object.text("settlement_id", &settlement.settlement_id);
                    object.text("method", settlement.method.name());
                    object.text("how", how);
                });
            }
            if let Some((customer, how)) = outcome.customer {
                record.object("customer", |object| {
                    object.text("customer_id", &result.customer_ids[customer as usize]);
                    object.text("how", how);
                });
            }
            let candidates: Vec<(u32, f64)> = evidence
                .payer
                .iter()
                .map(|p| (p.customer, p.score))
                .chain(evidence.payer_candidates.iter().copied())
                .collect();
            record.list(
                "payer_candidates",
                &candidates,
                |object, (customer, score)| {
                    object.text("customer_id", &result.customer_ids[*customer as usize]);
                    formatted(format_args!("{}", Thousandths(*score)), |score| {
                        object.text("score", score)
                    });
                },
            );
            if let Some(sign) = evidence.not_receivable {
                record.text("not_receivable_sign", sign);
            }
            record.text("rule", outcome.rule);
            record.rendered("notes", &outcome.notes, &mut scratch, |step, text| {
                step.write(line, evidence, &result.items, text)
            });
            if !outcome.proposals.is_empty() {
                record.raw("allocation_rows", &outcome.proposals.len().to_string());
            }
            record.list("exceptions", &outcome.reviews, |object, review| {
                object.text("reason", review.reason.name());
                formatted(format_args!("{}", review.amount), |amount| {
                    object.text("amount", amount)
                });
                if let Some(detail) = review.detail.as_deref() {
                    object.text("detail", detail);
                }
                object.always_list("suggestions", &review.suggestions, |object, suggestion| {
                    object.texts("invoices", suggestion.items.iter().map(|&i| invoice(i)));
                    object.text("score", &confidence(suggestion.score.min(1000)));
                });
            });
            record.close();
            out.push(b'\n');
        }
    })
}

/// `Found` as it is written (its serde name).
fn found_name(found: Found) -> &'static str {
    match found {
        Found::Structured => "structured",
        Found::EndToEndId => "end_to_end_id",
        Found::RemittanceText => "remittance_text",
        Found::OtherText => "other_text",
        Found::OriginalReceipt => "original_receipt",
    }
}

/// A JSON object written straight into a buffer, byte for byte as
/// `serde_json`'s compact writer would write the same fields: the decision
/// log is the largest output of a run, and most of its text needs no
/// escaping, which a whole-string check finds faster than serde's
/// byte-by-byte one.
struct JsonObject<'b> {
    out: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> JsonObject<'b> {
    fn open(out: &'b mut Vec<u8>) -> JsonObject<'b> {
        out.push(b'{');
        JsonObject { out, first: true }
    }

    /// A key: one of this file's field names, which need no escaping.
    fn key(&mut self, key: &str) {
        debug_assert!(!needs_escape(key));
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A field whose value is already JSON (a number).
    fn raw(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.extend_from_slice(value.as_bytes());
    }

    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        push_json_string(self.out, value);
    }

    fn texts<'t>(&mut self, key: &str, values: impl Iterator<Item = &'t str>) {
        self.key(key);
        self.out.push(b'[');
        for (index, value) in values.enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            push_json_string(self.out, value);
        }
        self.out.push(b']');
    }

    /// A list of strings, each written by `render` into `scratch` first.
    fn rendered<T>(
        &mut self,
        key: &str,
        values: &[T],
        scratch: &mut String,
        mut render: impl FnMut(&T, &mut String),
    ) {
        self.key(key);
        self.out.push(b'[');
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            scratch.clear();
            render(value, scratch);
            push_json_string(self.out, scratch);
        }
        self.out.push(b']');
    }

    fn object(&mut self, key: &str, fields: impl FnOnce(&mut JsonObject<'_>)) {
        self.key(key);
        let mut object = JsonObject::open(self.out);
        fields(&mut object);
        object.close();
    }

    /// A list of objects, left out when empty.
    fn list<T>(&mut self, key: &str, items: &[T], fields: impl Fn(&mut JsonObject<'_>, &T)) {
        if !items.is_empty() {
            self.always_list(key, items, fields);
        }
    }

    fn always_list<T>(&mut self, key: &str, items: &[T], fields: impl Fn(&mut JsonObject<'_>, &T)) {
        self.key(key);
        self.out.push(b'[');
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            let mut object = JsonObject::open(self.out);
            fields(&mut object, item);
            object.close();
        }
        self.out.push(b']');
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string: as is between quotes when nothing in it needs escaping
/// (no control character, quote or backslash), else escaped by
/// `serde_json` (its table-driven escaping takes fewer instructions than a
/// run-by-run copy here did: measured with callgrind, session 12).
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    if !needs_escape(text) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Serialising a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// `arguments` formatted on the stack (a short number, most often), then
/// handed to `use_text`: no allocation per field.
fn formatted<R>(arguments: std::fmt::Arguments<'_>, use_text: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 48];
    let mut cursor = io::Cursor::new(&mut buffer[..]);
    if cursor.write_fmt(arguments).is_ok() {
        let length = cursor.position() as usize;
        if let Ok(text) = std::str::from_utf8(&buffer[..length]) {
            return use_text(text);
        }
    }
    use_text(&arguments.to_string())
}

/// Whether JSON needs `text` escaped: a control character, a quote or a
/// backslash. Every byte is looked at, without an early exit, so that the
/// loop runs many bytes at a time.
fn needs_escape(text: &str) -> bool {
    text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_first_names_every_file_once() {
        let mut longest = LONGEST_FIRST;
        let mut files = FILES;
        longest.sort();
        files.sort();
        assert_eq!(longest, files);
    }

    #[test]
    fn confidences_as_format_wrote_them() {
        for per_mille in [0, 7, 42, 960, 999, 1000, 1001, 9999, 10_000, 65_535] {
            assert_eq!(
                confidence(per_mille),
                format!("{}.{:03}", per_mille / 1000, per_mille % 1000)
            );
        }
        let mut long = String::new();
        let text = formatted(format_args!("{:>60}", "x"), str::to_string);
        long.push_str(&text);
        assert_eq!(long.len(), 60, "longer than the stack buffer: still whole");
        for score in [0.0, 0.8505_f64, 1.0 / 3.0, 0.9995, 1.0] {
            assert_eq!(
                formatted(format_args!("{score:.3}"), str::to_string),
                format!("{score:.3}")
            );
        }
    }

    #[test]
    fn json_strings_as_serde_json_writes_them() {
        for text in [
            "",
            "plain text FA-2026-000006",
            "quoted \"FA2026000006\"",
            "back\\slash",
            "tab\there, line\nbreak, cr\r, nul\0, bell\u{7}, unit sep\u{1f}",
            "del \u{7f} stays",
            "accents é à ü, ß, 中文, emoji 🙂",
            "/ slash stays",
            "\"at both ends\"",
            "\\",
        ] {
            let mut ours = Vec::new();
            push_json_string(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        // Every byte below 0x80, alone and between other text.
        for byte in 0u8..0x80 {
            let alone = char::from(byte).to_string();
            let between = format!("a{alone}\"é{alone}");
            for text in [alone, between] {
                let mut ours = Vec::new();
                push_json_string(&mut ours, &text);
                assert_eq!(ours, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }

    #[test]
    fn json_objects_as_serde_json_writes_them() {
        #[derive(Serialize)]
        struct Inner<'a> {
            id: &'a str,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            a: &'a str,
            n: u32,
            list: Vec<Inner<'a>>,
            empty: Vec<Inner<'a>>,
            one: Inner<'a>,
            words: Vec<&'a str>,
        }
        let value = Outer {
            a: "x\"y",
            n: 7,
            list: vec![Inner { id: "1" }, Inner { id: "2\n" }],
            empty: Vec::new(),
            one: Inner { id: "z" },
            words: vec!["p", "q"],
        };
        let mut ours = Vec::new();
        let mut object = JsonObject::open(&mut ours);
        object.text("a", value.a);
        object.raw("n", &value.n.to_string());
        object.always_list("list", &value.list, |o, i| o.text("id", i.id));
        object.always_list("empty", &value.empty, |o, i| o.text("id", i.id));
        object.list("left_out", &value.empty, |o, i| o.text("id", i.id));
        object.object("one", |o| o.text("id", value.one.id));
        object.texts("words", value.words.iter().copied());
        object.close();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }
}
