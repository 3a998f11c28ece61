//! Apply: commits each line's `Outcome` to the open amounts, letters the
//! settlement, and turns the run into journal entries.
//!
//! The only place an open amount changes. Each commit is checked before it
//! changes anything (conservation of the line's amount, no open amount
//! passing zero), so a bug in matching stops the run with an internal error
//! instead of writing a wrong ledger.
//!
//! Invariant: for every line, the sum of its proposals plus its reviews
//! (signed like the line) equals the line amount.
//! Invariant: an open amount only moves toward zero, never past it.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use crate::matching::Line;
use crate::matching::decide::{Kind, Outcome};
use crate::model::OpenItem;

/// A broken invariant: a bug, reported as an internal failure (exit 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error on line {line_id}: {message}")]
pub struct InvariantError {
    pub line_id: String,
    pub message: String,
}

/// The state decisions read and commits change.
pub struct Book {
    open: Vec<Decimal>,
    settled_in_run: Vec<bool>,
    advices_used: Vec<bool>,
    learned_ibans: HashMap<String, u32>,
    /// (customer, line amount) of every line of this run that settled
    /// invoices of one customer.
    paid_in_run: HashSet<(u32, Decimal)>,
    lettrage_next: u64,
    lettrage_line: Option<(String, String)>,
}

impl Book {
    pub fn new(items: &[OpenItem], advices: usize) -> Book {
        Book {
            open: items.iter().map(|i| i.open_amount).collect(),
            settled_in_run: vec![false; items.len()],
            advices_used: vec![false; advices],
            learned_ibans: HashMap::new(),
            paid_in_run: HashSet::new(),
            lettrage_next: 0,
            lettrage_line: None,
        }
    }

    #[inline]
    pub fn open(&self, item: u32) -> Decimal {
        self.open[item as usize]
    }

    /// Whether a line of this run applied an amount to the item.
    pub fn settled_in_run(&self, item: u32) -> bool {
        self.settled_in_run[item as usize]
    }

    pub fn advice_used(&self, advice: u32) -> bool {
        self.advices_used[advice as usize]
    }

    pub fn learned_iban(&self, iban: &str) -> Option<u32> {
        self.learned_ibans.get(iban).copied()
    }

    /// Whether a line of this run already settled this customer's invoices
    /// with exactly `amount`.
    pub fn paid_in_run(&self, customer: u32, amount: Decimal) -> bool {
        self.paid_in_run.contains(&(customer, amount.normalize()))
    }

    pub fn open_amounts(&self) -> &[Decimal] {
        &self.open
    }

    /// Checks the outcome, then applies it. Returns the lettrage code of the
    /// line when it settles an invoice (one per bank line: batch details of
    /// one entry share it).
    pub fn commit(
        &mut self,
        line: &Line,
        outcome: &Outcome,
    ) -> Result<Option<String>, InvariantError> {
        let fail = |message: String| InvariantError {
            line_id: line.line_id.clone(),
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
                (Kind::Invoice, Some(item)) => {
                    match per_item.iter_mut().find(|(i, _)| *i == item) {
                        Some((_, total)) => *total += proposal.amount,
                        None => per_item.push((item, proposal.amount)),
                    }
                }
                (Kind::Invoice, None) => {
                    return Err(fail("an invoice row without an invoice".into()));
                }
                (_, Some(_)) => return Err(fail("an adjustment row names an invoice".into())),
                (_, None) => {}
            }
        }
        for &(item, amount) in &per_item {
            let open = self.open[item as usize];
            let after = open - amount;
            let passes_zero = (open.is_sign_positive() && after < Decimal::ZERO)
                || (open.is_sign_negative() && after > Decimal::ZERO)
                || (amount.is_sign_negative() != open.is_sign_negative() && !amount.is_zero());
            if passes_zero || open.is_zero() {
                return Err(fail(format!(
                    "applying {amount} to an item open for {open} would pass zero"
                )));
            }
        }
        for &(item, amount) in &per_item {
            self.open[item as usize] -= amount;
            self.settled_in_run[item as usize] = true;
        }
        if let Some(advice) = outcome.advice_used {
            self.advices_used[advice as usize] = true;
        }
        if let Some((customer, _)) = outcome.customer
            && !per_item.is_empty()
        {
            self.paid_in_run.insert((customer, line.amount.normalize()));
        }
        if let Some((iban, customer)) = &outcome.learn_iban {
            self.learned_ibans.entry(iban.clone()).or_insert(*customer);
        }
        if per_item.is_empty() {
            return Ok(None);
        }
        if let Some((line_id, code)) = &self.lettrage_line
            && *line_id == line.line_id
        {
            return Ok(Some(code.clone()));
        }
        let code = lettrage_code(self.lettrage_next);
        self.lettrage_next += 1;
        self.lettrage_line = Some((line.line_id.clone(), code.clone()));
        Ok(Some(code))
    }
}

/// Lettrage codes in order: `AAA`, `AAB`, ... `ZZZ`, then `AAAA`, ...: the
/// letters French ledgers use, at least three, as many as the run needs.
pub fn lettrage_code(mut n: u64) -> String {
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
    String::from_utf8(code).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lettrage_codes_are_sequential_letters() {
        assert_eq!(lettrage_code(0), "AAA");
        assert_eq!(lettrage_code(1), "AAB");
        assert_eq!(lettrage_code(26), "ABA");
        assert_eq!(lettrage_code(17_575), "ZZZ");
        assert_eq!(lettrage_code(17_576), "AAAA");
    }
}
