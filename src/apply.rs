//! Apply: commits each line's `Outcome` to the open amounts of its group of
//! lines (`Book`), and numbers settlements for lettrage (`lettrage_code`).
//!
//! The only place an open amount changes. Each commit is checked before it
//! changes anything (conservation of the line's amount, no open amount
//! passing zero), so a bug in matching stops the run with an internal error
//! instead of writing a wrong ledger.
//!
//! Invariant: for every line, the sum of its proposals plus its reviews
//! (signed like the line) equals the line amount.
//! Invariant: an open amount only moves toward zero, never past it.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rust_decimal::Decimal;

use crate::matching::Line;
use crate::matching::decide::{Kind, Outcome};
use crate::model::{OpenItem, Text};

/// A broken invariant: a bug, reported as an internal failure (exit 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error on line {line_id}: {message}")]
pub struct InvariantError {
    pub line_id: String,
    pub message: String,
}

/// Hasher for the book's `u32` keys: one multiplication (the keys are
/// item and advice indices), and for the index's text keys (customer ids,
/// names, name words, IBANs, payout references: the company's own files
/// fill those tables; a bank line's text only looks up, one probe each).
/// Only ever used for lookups: no output depends on its values.
#[derive(Default, Clone, Copy)]
pub struct IndexHasher(u64);

impl Hasher for IndexHasher {
    /// The high half, where a multiplication mixes best, folded into the
    /// low bits the table takes its bucket from.
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    /// Eight bytes at a time (text keys: payer IBANs), then the rest.
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        for &byte in words.remainder() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(value)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IndexSet = HashSet<u32, BuildHasherDefault<IndexHasher>>;

/// A map on `IndexHasher`.
pub type IndexMap<K, V> = HashMap<K, V, BuildHasherDefault<IndexHasher>>;

/// The state decisions read and commits change, for one group of lines
/// that cannot touch any other group's items (see `run`): the open amounts
/// as given, and this group's changes over them.
pub struct Book<'a> {
    base: &'a [OpenItem],
    /// Where items live when lines are decided in groups; `None`: one book
    /// for every item.
    slots: Option<&'a Slots>,
    group: u32,
    /// Open amounts this book changed, by slot.
    open: Vec<Option<Decimal>>,
    changed: Vec<u32>,
    /// Set when a decision reads an item of another group: a grouping bug,
    /// reported by `commit` as an internal error.
    foreign: Cell<bool>,
    advices_used: IndexSet,
    settlements_used: IndexSet,
    learned_ibans: HashMap<String, u32>,
    /// (customer, line amount) of every line of this run that settled
    /// invoices of one customer.
    paid_in_run: HashSet<(u32, Decimal), BuildHasherDefault<IndexHasher>>,
    /// What each receipt a return is tied to settled (line index -> item,
    /// amount), recorded by `note_receipt` for those lines only.
    receipts: HashMap<u32, Vec<(u32, Decimal)>>,
}

/// Which group's book holds each item, and at which slot: items of the
/// customers a group's lines can touch; `NO_GROUP` for items no line can.
pub struct Slots {
    pub group: Vec<u32>,
    pub slot: Vec<u32>,
    /// Items per group.
    pub sizes: Vec<u32>,
}

pub const NO_GROUP: u32 = u32::MAX;

impl<'a> Book<'a> {
    /// One book for every item (lines decided in one pass).
    pub fn new(items: &'a [OpenItem]) -> Book<'a> {
        Book::with_slots(items, None, 0)
    }

    /// The book of one group of lines.
    pub fn for_group(items: &'a [OpenItem], slots: &'a Slots, group: u32) -> Book<'a> {
        Book::with_slots(items, Some(slots), group)
    }

    fn with_slots(items: &'a [OpenItem], slots: Option<&'a Slots>, group: u32) -> Book<'a> {
        let size = match slots {
            Some(slots) => slots.sizes.get(group as usize).copied().unwrap_or(0) as usize,
            None => items.len(),
        };
        Book {
            base: items,
            slots,
            group,
            open: vec![None; size],
            changed: Vec::new(),
            foreign: Cell::new(false),
            advices_used: IndexSet::default(),
            settlements_used: IndexSet::default(),
            learned_ibans: HashMap::new(),
            paid_in_run: HashSet::default(),
            receipts: HashMap::new(),
        }
    }

    /// Records what the line at `at` (a receipt some return is tied to)
    /// settled, once its outcome is committed.
    pub fn note_receipt(&mut self, at: u32, outcome: &Outcome) {
        let settled = outcome
            .proposals
            .iter()
            .filter(|p| p.kind == Kind::Invoice)
            .filter_map(|p| p.item.map(|item| (item, p.amount)))
            .collect();
        self.receipts.insert(at, settled);
    }

    /// Records that a return took `amount` back from what the receipt at
    /// line `at` settled on `item`: a second return of the same receipt
    /// finds only the rest.
    pub fn take_receipt(&mut self, at: u32, item: u32, amount: Decimal) {
        self.receipts.entry(at).or_default().push((item, -amount));
    }

    /// What the receipt at line `at` settled on `item` and no return has
    /// taken back yet (zero when it settled nothing there, or is not
    /// decided yet).
    pub fn receipt_settled(&self, at: u32, item: u32) -> Decimal {
        self.receipts
            .get(&at)
            .into_iter()
            .flatten()
            .filter(|(i, _)| *i == item)
            .map(|(_, amount)| *amount)
            .sum()
    }

    /// The item's slot in this book, `None` (and flagged) for another
    /// group's item.
    #[inline]
    fn slot(&self, item: u32) -> Option<usize> {
        match self.slots {
            None => Some(item as usize),
            Some(slots) if slots.group[item as usize] == self.group => {
                Some(slots.slot[item as usize] as usize)
            }
            Some(_) => {
                self.foreign.set(true);
                None
            }
        }
    }

    #[inline]
    pub fn open(&self, item: u32) -> Decimal {
        match self.slot(item).and_then(|slot| self.open[slot]) {
            Some(open) => open,
            None => self.base[item as usize].open_amount,
        }
    }

    /// Whether a line of this run applied an amount to the item.
    pub fn settled_in_run(&self, item: u32) -> bool {
        self.slot(item)
            .is_some_and(|slot| self.open[slot].is_some())
    }

    pub fn advice_used(&self, advice: u32) -> bool {
        self.advices_used.contains(&advice)
    }

    /// Whether an earlier line settled this payout.
    pub fn settlement_used(&self, settlement: u32) -> bool {
        self.settlements_used.contains(&settlement)
    }

    pub fn learned_iban(&self, iban: &str) -> Option<u32> {
        self.learned_ibans.get(iban).copied()
    }

    /// Whether a line of this run already settled this customer's invoices
    /// with exactly `amount`.
    pub fn paid_in_run(&self, customer: u32, amount: Decimal) -> bool {
        self.paid_in_run.contains(&(customer, amount.normalize()))
    }

    /// The open amounts this book changed.
    pub fn changes(&self) -> impl Iterator<Item = (u32, Decimal)> + '_ {
        self.changed.iter().map(|&item| (item, self.open(item)))
    }

    /// Checks the outcome, then applies it. Returns whether the line settled
    /// an invoice (and so takes a lettrage code, given in line order by
    /// `run`).
    pub fn commit(&mut self, line: &Line, outcome: &Outcome) -> Result<bool, InvariantError> {
        let fail = |message: String| InvariantError {
            line_id: line.line_id.to_string(),
            message,
        };
        let applied: Decimal = outcome.proposals.iter().map(|p| p.amount).sum();
        let sign = if line.amount.is_sign_negative() {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let reviewed: Decimal = outcome.reviews.iter().map(|r| r.amount * sign).sum();
        if applied + reviewed != line.amount {
            return Err(fail(format!(
                "applied {applied} + to review {reviewed} != line amount {}",
                line.amount
            )));
        }
        if outcome.reviews.iter().any(|r| r.amount.is_sign_negative()) {
            return Err(fail("a review amount is negative".into()));
        }
        // Per item, everything this line applies, checked against the open
        // amount before any is changed.
        let mut per_item: Vec<(u32, Decimal)> = Vec::new();
        for proposal in &outcome.proposals {
            match (proposal.kind, proposal.item) {
                (Kind::Invoice, Some(item)) => per_item.push((item, proposal.amount)),
                (Kind::Invoice, None) => {
                    return Err(fail("an invoice row without an invoice".into()));
                }
                (_, Some(_)) => return Err(fail("an adjustment row names an invoice".into())),
                (_, None) => {}
            }
        }
        // An invoice row in another currency than the line's comes only from
        // a settlement across currencies: all in one currency, each moving
        // its item towards zero (a reopening across currencies is refused).
        let mut foreign_currency: Option<&str> = None;
        for proposal in &outcome.proposals {
            if let (Kind::Invoice, Some(item)) = (proposal.kind, proposal.item) {
                let base = &self.base[item as usize];
                let currency = base.currency.as_str();
                if currency == line.currency {
                    continue;
                }
                if proposal.amount.is_sign_negative() != base.amount.is_sign_negative()
                    || foreign_currency.is_some_and(|c| c != currency)
                {
                    return Err(fail(format!(
                        "an invoice row in {currency} on a line in {} that is no settlement across currencies",
                        line.currency
                    )));
                }
                foreign_currency = Some(currency);
            }
        }
        // Summed per item by sorting (a payout may carry 10,000 rows).
        per_item.sort_unstable_by_key(|p| p.0);
        let mut merged: Vec<(u32, Decimal)> = Vec::with_capacity(per_item.len());
        for (item, amount) in per_item {
            match merged.last_mut() {
                Some((last, total)) if *last == item => *total += amount,
                _ => merged.push((item, amount)),
            }
        }
        let per_item = merged;
        for &(item, amount) in &per_item {
            let open = self.open(item);
            let after = open - amount;
            // A return reopens an invoice, never beyond its amount.
            let original = self.base[item as usize].amount;
            let reopens = amount.is_sign_negative()
                && crate::matching::returns::is_return_rule(outcome.rule)
                && original.is_sign_positive()
                && open >= Decimal::ZERO
                && after <= original;
            let passes_zero = (open.is_sign_positive() && after < Decimal::ZERO)
                || (open.is_sign_negative() && after > Decimal::ZERO)
                || (amount.is_sign_negative() != open.is_sign_negative() && !amount.is_zero());
            if !reopens && (passes_zero || open.is_zero()) {
                return Err(fail(format!(
                    "applying {amount} to an item open for {open} would pass zero"
                )));
            }
        }
        if self.foreign.get() {
            return Err(fail(
                "the decision read an item outside its group of lines".into(),
            ));
        }
        for &(item, amount) in &per_item {
            let after = self.open(item) - amount;
            let Some(slot) = self.slot(item) else {
                return Err(fail("an item outside its group of lines".into()));
            };
            if self.open[slot].is_none() {
                self.changed.push(item);
            }
            self.open[slot] = Some(after);
        }
        if let Some(advice) = outcome.advice_used {
            self.advices_used.insert(advice);
        }
        if let Some(settlement) = outcome.settlement_used {
            self.settlements_used.insert(settlement);
        }
        if let Some((customer, _)) = outcome.customer
            && !per_item.is_empty()
        {
            self.paid_in_run.insert((customer, line.amount.normalize()));
        }
        // An IBAN is learned only from a line that settled something.
        if let Some(customer) = outcome.learn_iban.filter(|_| !per_item.is_empty()) {
            self.learned_ibans
                .entry(line.payer_iban.clone())
                .or_insert(customer);
        }
        // A return reopens: it settles nothing, so takes no lettrage code.
        Ok(per_item.iter().any(|(_, amount)| amount.is_sign_positive()))
    }
}

/// Lettrage codes in order: `AAA`, `AAB`, ... `ZZZ`, then `AAAA`, ...: the
/// letters French ledgers use, at least three, as many as the run needs.
pub fn lettrage_code(mut n: u64) -> Text {
    let mut width = 3u32;
    let mut span = 26u64.pow(width);
    while n >= span {
        n -= span;
        width += 1;
        span = 26u64.saturating_pow(width);
    }
    let mut code = vec![b'A'; width as usize];
    for slot in code.iter_mut().rev() {
        *slot = b'A' + (n % 26) as u8;
        n /= 26;
    }
    // Letters only, and short enough to be kept inline (no allocation).
    Text::from_utf8(code).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::decide::Proposal;

    fn item(id: &str, currency: &str, amount: i64) -> OpenItem {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        OpenItem {
            invoice_id: id.into(),
            customer_id: "C1".into(),
            customer_name: "Martin".into(),
            issue_date: day,
            due_date: day,
            currency: currency.into(),
            amount: Decimal::new(amount, 2),
            open_amount: Decimal::new(amount, 2),
            payment_reference: None,
        }
    }

    fn row(item: Option<u32>, kind: Kind, amount: i64, rule: &'static str) -> Proposal {
        Proposal {
            item,
            kind,
            amount: Decimal::new(amount, 2),
            rule,
            confidence: 900,
        }
    }

    /// Invoice rows in another currency than the line's come only from a
    /// settlement across currencies: towards zero, all in one currency. A
    /// decision that broke this (a return reopening a USD invoice from a
    /// EUR line) is refused before anything changes.
    #[test]
    fn foreign_currency_rows_only_from_a_settlement_across_currencies() {
        let items = [
            item("FA-1", "USD", 100_000),
            item("FA-2", "GBP", 50_000),
            item("FA-3", "USD", 10_000),
        ];
        let line = |amount: i64| Line {
            line_id: "L1".into(),
            amount: Decimal::new(amount, 2),
            currency: "EUR".into(),
            ..Line::default()
        };
        let outcome = |proposals: Vec<Proposal>| Outcome {
            proposals,
            rule: "invoice_number",
            ..Outcome::default()
        };
        let mut book = Book::new(&items);
        let settled = outcome(vec![
            row(Some(0), Kind::Invoice, 100_000, "invoice_number"),
            row(None, Kind::Fx, -8_500, "fx_conversion"),
        ]);
        assert!(book.commit(&line(91_500), &settled).is_ok());
        assert!(book.open(0).is_zero());

        let mixed = outcome(vec![
            row(Some(1), Kind::Invoice, 50_000, "invoice_number"),
            row(Some(2), Kind::Invoice, 10_000, "invoice_number"),
            row(None, Kind::Fx, -4_000, "fx_conversion"),
        ]);
        let error = book.commit(&line(56_000), &mixed).unwrap_err();
        assert!(
            error.message.contains("no settlement across currencies"),
            "{}",
            error.message
        );

        let mut reopened = outcome(vec![row(Some(0), Kind::Invoice, -91_500, "return_AM04")]);
        reopened.rule = "return_AM04";
        let error = book.commit(&line(-91_500), &reopened).unwrap_err();
        assert!(
            error.message.contains("no settlement across currencies"),
            "{}",
            error.message
        );
        assert!(book.open(0).is_zero(), "nothing changed");
    }

    #[test]
    fn lettrage_codes_are_sequential_letters() {
        assert_eq!(lettrage_code(0), "AAA");
        assert_eq!(lettrage_code(1), "AAB");
        assert_eq!(lettrage_code(26), "ABA");
        assert_eq!(lettrage_code(17_575), "ZZZ");
        assert_eq!(lettrage_code(17_576), "AAAA");
    }
}
