//! Payments the bank converted: the payer instructed another currency than
//! the line's (CAMT `AmtDtls/InstdAmt`, MT940 `/OCMT/`, CFONB `MMO`) or the
//! bank gives an exchange rate (CAMT `CcyXchg`, MT940 `/EXCH/`).
//!
//! Two cases, both only once references have named the invoices:
//! - The invoices are in the line's currency and the payer paid in another:
//!   the gap between what arrived and what was due is an exchange
//!   difference, booked as one `fx` row (656 loss / 756 gain) when within
//!   `fx_tolerance` of what was due (`same_currency`).
//! - The invoices are in another currency than the line (a EUR line for a
//!   USD invoice): the line is converted into the invoices' currency, by
//!   the instructed amount when it is in that currency, else at the rate.
//!   Within `fx_tolerance` the invoices are settled in full (`settle`).
//!   Otherwise the line is `currency_mismatch`, the referenced invoices
//!   suggested. Amount alone never converts anything.
//!
//! Rows of a settlement across currencies: each `invoice` row is the amount
//! settled on the item, in the item's currency (so the item's open amount
//! and the row agree). The line's own rows must still add up to its amount,
//! so one `fx` row with rule `fx_conversion` bridges the two nominal
//! amounts: it is the invoices' value in the line's currency at the
//! payment's rate, minus their nominal amount. It is not a gain or a loss
//! and the journal books no account for it: the 411 credit is the
//! invoices' value in the line's currency (with the item amount and
//! currency in `Montantdevise` / `Idevise`). The real exchange difference,
//! paid minus that value, is an `fx` row with rule `fx_difference` (656 /
//! 756). For example a EUR 915.00 line paying a USD 1,000.00 invoice with
//! USD 997.35 instructed: invoice 1,000.00 USD; fx_conversion -82.57;
//! fx_difference -2.43 (the invoice was worth EUR 917.43 at the rate).

use rust_decimal::Decimal;

use super::Line;
use super::decide::{Kind, Outcome, Proposal};
use super::evidence::Context;
use crate::apply::Book;
use crate::money::{BOOK_CURRENCY, minor_units};

/// Rule of the row bridging the nominal amounts of a settlement across
/// currencies (see the module comment); the journal skips it.
pub const CONVERSION_RULE: &str = "fx_conversion";
/// Rule of an exchange difference row (656 / 756).
pub const DIFFERENCE_RULE: &str = "fx_difference";

/// Why a line could not be settled across currencies.
pub enum Refused {
    /// Every referenced invoice is already settled: a duplicate payment.
    Settled,
    /// One sentence for the `currency_mismatch` detail.
    Mismatch(String),
}

/// Settles `referenced` items in another currency than the line, or says
/// why not.
pub fn settle(
    line: &Line,
    cx: &Context<'_>,
    book: &Book,
    referenced: &[u32],
    rule: &'static str,
    confidence: u16,
    out: &mut Outcome,
) -> Result<(), Refused> {
    let mismatch = |text: String| Refused::Mismatch(text);
    let mut currencies: Vec<&str> = referenced
        .iter()
        .map(|&i| cx.items[i as usize].currency.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    let line_currency = &line.currency;
    let [currency] = currencies[..] else {
        return Err(mismatch(format!(
            "the line is in {line_currency}, the referenced invoices in {}",
            currencies.join(" and ")
        )));
    };
    let Some(conversion) = line.conversion.as_deref() else {
        return Err(mismatch(format!(
            "the line is in {line_currency}, the referenced invoices in {currency}, and the bank gives no amount in {currency} nor an exchange rate"
        )));
    };
    if !line.is_credit() {
        return Err(mismatch(format!(
            "a debit in {line_currency} against invoices in {currency}"
        )));
    }
    // The journal values the invoices in the line's currency: only a line
    // in the journal's currency gives it a value it can book, and the
    // bridge row must fit the line's minor units.
    if line_currency != BOOK_CURRENCY {
        return Err(mismatch(format!(
            "a line in {line_currency} for invoices in {currency}: the journal is kept in {BOOK_CURRENCY}, for a person"
        )));
    }
    if minor_units(currency) > minor_units(line_currency) {
        return Err(mismatch(format!(
            "invoices in {currency} have more decimals than the line's {line_currency}: for a person"
        )));
    }
    let open: Vec<u32> = referenced
        .iter()
        .copied()
        .filter(|&i| !book.open(i).is_zero())
        .collect();
    if open.is_empty() {
        return Err(Refused::Settled);
    }
    let due: Decimal = open.iter().map(|&i| book.open(i)).sum();
    if due <= Decimal::ZERO {
        return Err(mismatch(format!(
            "the referenced invoices in {currency} have nothing left to receive"
        )));
    }
    let paid = line.amount;
    let readings = conversion.amounts_in(paid, line_currency, currency);
    if readings.is_empty() {
        return Err(mismatch(format!(
            "the line is in {line_currency}, the referenced invoices in {currency}, and no amount or rate the bank gives converts one into the other"
        )));
    }
    let tolerance = cx.config.fx_tolerance * due;
    let fits: Vec<Decimal> = readings
        .iter()
        .copied()
        .filter(|a| (*a - due).abs() <= tolerance)
        .collect();
    let converted = match fits[..] {
        [one] => one,
        [] => {
            let shown: Vec<String> = readings
                .iter()
                .map(|a| a.round_dp(minor_units(currency)).to_string())
                .collect();
            return Err(mismatch(format!(
                "{paid} {line_currency} is {} {currency}, due {due} {currency}: beyond fx_tolerance {}",
                shown.join(" or "),
                cx.config.fx_tolerance
            )));
        }
        _ => {
            return Err(mismatch(format!(
                "the exchange rate reads both ways within fx_tolerance of the {due} {currency} due"
            )));
        }
    };
    // What was due, in the line's currency at the payment's own rate.
    let value = paid
        .checked_mul(due)
        .and_then(|v| v.checked_div(converted))
        .map(|v| v.round_dp(minor_units(line_currency)))
        .ok_or_else(|| {
            mismatch(format!(
                "{paid} {line_currency} x {due} / {converted} is out of range"
            ))
        })?;
    super::decide::settle_in_full(out, book, &open, rule, confidence);
    let bridge = value - due;
    if !bridge.is_zero() {
        out.proposals
            .push(fx_row(bridge, CONVERSION_RULE, confidence));
    }
    let difference = paid - value;
    if !difference.is_zero() {
        out.proposals
            .push(fx_row(difference, DIFFERENCE_RULE, confidence));
    }
    let mut customers: Vec<u32> = open
        .iter()
        .map(|&i| cx.index.item_customer[i as usize])
        .collect();
    customers.sort_unstable();
    customers.dedup();
    if let [customer] = customers[..] {
        out.customer.get_or_insert((customer, "reference"));
    }
    out.note(|| {
        format!(
            "{paid} {line_currency} converts to {converted} {currency}; due {due} {currency}, worth {value} {line_currency} at that rate: settled, exchange difference {difference}"
        )
    });
    Ok(())
}

/// For invoices in the line's currency paid in another (an instructed
/// amount in another currency; a rate alone says too little): the exchange
/// difference `paid - due` when it is within `fx_tolerance` of `due`, else
/// `None` (the ordinary rules apply: writeoff, partial payment).
pub fn same_currency(line: &Line, cx: &Context<'_>, due: Decimal) -> Option<Decimal> {
    line.conversion.as_ref()?.instructed.as_ref()?;
    let gap = line.amount - due;
    (due > Decimal::ZERO && !gap.is_zero() && gap.abs() <= cx.config.fx_tolerance * due)
        .then_some(gap)
}

pub fn fx_row(amount: Decimal, rule: &'static str, confidence: u16) -> Proposal {
    Proposal {
        item: None,
        kind: Kind::Fx,
        amount,
        rule,
        confidence,
    }
}
