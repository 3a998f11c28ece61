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

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

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
    foreign: AtomicBool,
    /// Whether reads or changes are being recorded (`Track`).
    track: Track,
    /// The state changed since `take_changed_keys`, as keys (`Track::Changes`).
    changed_keys: Vec<u32>,
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

/// What a book records, for lines decided ahead of their turn (`run`): a
/// decision taken on the book as it was is kept if nothing it read was
/// changed by the lines committed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Off,
    /// The keys of what each decision reads (per thread, see `reading`).
    Reads,
    /// The keys of what each commit changes (`take_changed_keys`).
    Changes,
}

thread_local! {
    /// The reads of the decision running on this thread (`Book::reading`).
    static READS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// A piece of a book's state as one number: its kind in the top three
/// bits, its index below (an IBAN: a hash of it). Indices too large for 29
/// bits share keys: two pieces then look like one, which only ever makes a
/// decision be taken again.
pub fn key(kind: u32, index: u32) -> u32 {
    kind << KEY_BITS | (index & KEY_MASK)
}

const KEY_BITS: u32 = 29;
const KEY_MASK: u32 = (1 << KEY_BITS) - 1;
const ITEM: u32 = 0;
const CUSTOMER: u32 = 1;
const ADVICE: u32 = 2;
const SETTLEMENT: u32 = 3;
const IBAN: u32 = 4;
const RECEIPT: u32 = 5;
/// IBAN keys in 2^20 values: hashes that collide only cost a decision
/// taken again.
const IBAN_MASK: u32 = (1 << 20) - 1;

fn iban_key(iban: &str) -> u32 {
    let hash = BuildHasherDefault::<IndexHasher>::default().hash_one(iban);
    key(IBAN, hash as u32 & IBAN_MASK)
}

/// A set of keys (`key`): one bit per possible key of each kind, grown as
/// keys come.
#[derive(Default)]
pub struct KeySet {
    bits: [Vec<u64>; 8],
}

impl KeySet {
    pub fn insert(&mut self, key: u32) {
        let (kind, index) = ((key >> KEY_BITS) as usize, (key & KEY_MASK) as usize);
        let words = &mut self.bits[kind];
        if words.len() <= index / 64 {
            words.resize(index / 64 + 1, 0);
        }
        words[index / 64] |= 1 << (index % 64);
    }

    pub fn contains(&self, key: u32) -> bool {
        let (kind, index) = ((key >> KEY_BITS) as usize, (key & KEY_MASK) as usize);
        self.bits[kind]
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
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
            foreign: AtomicBool::new(false),
            track: Track::Off,
            changed_keys: Vec::new(),
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
        self.changed(key(RECEIPT, at));
    }

    /// Records that a return took `amount` back from what the receipt at
    /// line `at` settled on `item`: a second return of the same receipt
    /// finds only the rest.
    pub fn take_receipt(&mut self, at: u32, item: u32, amount: Decimal) {
        self.receipts.entry(at).or_default().push((item, -amount));
        self.changed(key(RECEIPT, at));
    }

    /// What the receipt at line `at` settled on `item` and no return has
    /// taken back yet (zero when it settled nothing there, or is not
    /// decided yet).
    pub fn receipt_settled(&self, at: u32, item: u32) -> Decimal {
        self.read(key(RECEIPT, at));
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
                self.foreign.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    #[inline]
    pub fn open(&self, item: u32) -> Decimal {
        self.read(key(ITEM, item));
        match self.slot(item).and_then(|slot| self.open[slot]) {
            Some(open) => open,
            None => self.base[item as usize].open_amount,
        }
    }

    /// Whether a line of this run applied an amount to the item.
    pub fn settled_in_run(&self, item: u32) -> bool {
        self.read(key(ITEM, item));
        self.slot(item)
            .is_some_and(|slot| self.open[slot].is_some())
    }

    pub fn advice_used(&self, advice: u32) -> bool {
        self.read(key(ADVICE, advice));
        self.advices_used.contains(&advice)
    }

    /// Whether an earlier line settled this payout.
    pub fn settlement_used(&self, settlement: u32) -> bool {
        self.read(key(SETTLEMENT, settlement));
        self.settlements_used.contains(&settlement)
    }

    pub fn learned_iban(&self, iban: &str) -> Option<u32> {
        self.read(iban_key(iban));
        self.learned_ibans.get(iban).copied()
    }

    /// Whether a line of this run already settled this customer's invoices
    /// with exactly `amount`.
    pub fn paid_in_run(&self, customer: u32, amount: Decimal) -> bool {
        self.read(key(CUSTOMER, customer));
        self.paid_in_run.contains(&(customer, amount.normalize()))
    }

    /// Records reads (`reading`), then changes (`take_changed_keys`), or
    /// neither.
    pub fn track(&mut self, track: Track) {
        self.track = track;
        self.changed_keys.clear();
    }

    /// Runs `decide` (a closure that reads this book) and appends the keys
    /// of the state it read to `reads` (the book must track reads).
    pub fn reading<R>(&self, decide: impl FnOnce() -> R, reads: &mut Vec<u32>) -> R {
        READS.with_borrow_mut(Vec::clear);
        let result = decide();
        READS.with_borrow_mut(|read| reads.append(read));
        result
    }

    /// The keys of the state changed since the last call (the book must
    /// track changes).
    pub fn take_changed_keys(&mut self) -> std::vec::Drain<'_, u32> {
        self.changed_keys.drain(..)
    }

    #[inline]
    fn read(&self, key: u32) {
        if self.track == Track::Reads {
            READS.with_borrow_mut(|reads| reads.push(key));
        }
    }

    #[inline]
    fn changed(&mut self, key: u32) {
        if self.track == Track::Changes {
            self.changed_keys.push(key);
        }
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
        if self.foreign.load(Ordering::Relaxed) {
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
            self.changed(key(ITEM, item));
        }
        if let Some(advice) = outcome.advice_used {
            self.advices_used.insert(advice);
            self.changed(key(ADVICE, advice));
        }
        if let Some(settlement) = outcome.settlement_used {
            self.settlements_used.insert(settlement);
            self.changed(key(SETTLEMENT, settlement));
        }
        if let Some((customer, _)) = outcome.customer
            && !per_item.is_empty()
        {
            self.paid_in_run.insert((customer, line.amount.normalize()));
            self.changed(key(CUSTOMER, customer));
        }
        // An IBAN is learned only from a line that settled something.
        if let Some((iban, customer)) = outcome.learn_iban.as_ref().filter(|_| !per_item.is_empty())
        {
            self.learned_ibans.entry(iban.clone()).or_insert(*customer);
            self.changed(iban_key(iban));
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

    /// Deciding ahead (`run`) rests on this: every way a decision reads the
    /// book records a key, and every change a commit makes records the key
    /// the matching read records.
    #[test]
    fn reads_and_changes_are_recorded_under_the_same_keys() {
        let items = [item("FA-1", "EUR", 10_000), item("FA-2", "EUR", 5_000)];
        let iban = "FR7630006000011234567890189";
        let mut book = Book::new(&items);
        book.track(Track::Reads);
        fn reads_of(book: &Book, ask: &dyn Fn(&Book)) -> Vec<u32> {
            let mut reads = Vec::new();
            book.reading(|| ask(book), &mut reads);
            reads
        }
        assert_eq!(
            reads_of(&book, &|b| {
                b.open(1);
            }),
            [key(ITEM, 1)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.settled_in_run(0);
            }),
            [key(ITEM, 0)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.advice_used(3);
            }),
            [key(ADVICE, 3)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.settlement_used(4);
            }),
            [key(SETTLEMENT, 4)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.learned_iban(iban);
            }),
            [iban_key(iban)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.paid_in_run(5, Decimal::ONE);
            }),
            [key(CUSTOMER, 5)]
        );
        assert_eq!(
            reads_of(&book, &|b| {
                b.receipt_settled(6, 0);
            }),
            [key(RECEIPT, 6)]
        );
        // Nothing recorded when the book does not track reads.
        book.track(Track::Off);
        assert!(
            reads_of(&book, &|b| {
                b.open(1);
            })
            .is_empty()
        );

        book.track(Track::Changes);
        let line = Line {
            line_id: "L1".into(),
            amount: Decimal::new(10_000, 2),
            currency: "EUR".into(),
            ..Line::default()
        };
        let outcome = Outcome {
            proposals: vec![row(Some(0), Kind::Invoice, 10_000, "invoice_number")],
            rule: "invoice_number",
            advice_used: Some(3),
            settlement_used: Some(4),
            learn_iban: Some((iban.to_string(), 5)),
            customer: Some((5, "iban")),
            ..Outcome::default()
        };
        book.commit(&line, &outcome).expect("commits");
        book.note_receipt(6, &outcome);
        book.take_receipt(7, 0, Decimal::ONE);
        let mut changed: Vec<u32> = book.take_changed_keys().collect();
        changed.sort_unstable();
        let mut expected = vec![
            key(ITEM, 0),
            key(ADVICE, 3),
            key(SETTLEMENT, 4),
            iban_key(iban),
            key(CUSTOMER, 5),
            key(RECEIPT, 6),
            key(RECEIPT, 7),
        ];
        expected.sort_unstable();
        assert_eq!(changed, expected);
        assert_eq!(book.take_changed_keys().count(), 0);
    }

    /// Keys of every kind, and indices beyond the bits a kind has.
    #[test]
    fn a_key_set_holds_what_was_inserted() {
        let mut set = KeySet::default();
        let keys = [
            key(ITEM, 0),
            key(ITEM, 70),
            key(RECEIPT, 5),
            key(IBAN, 1 << 19),
        ];
        for &k in &keys {
            set.insert(k);
        }
        for &k in &keys {
            assert!(set.contains(k));
        }
        assert!(!set.contains(key(ITEM, 1)));
        assert!(!set.contains(key(CUSTOMER, 0)));
        assert!(!set.contains(key(ITEM, 1 << 20)));
        // Indices of 29 bits or more share keys (only ever a decision
        // taken again).
        assert_eq!(key(ITEM, 1 << 29), key(ITEM, 0));
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
