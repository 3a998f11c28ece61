//! Matching: reads bank lines, open items and advices and proposes, per
//! line, what it settles; it never changes an open amount (that is
//! `apply`'s job, one line at a time, in the policy's order).
//!
//! Two phases, so the parallel part cannot depend on scheduling:
//! 1. `evidence::gather` (parallel, read-only): references, advice links,
//!    payer identification, non-receivable signs, for every line at once.
//! 2. `decide::decide` (sequential, in line order): turns one line's
//!    evidence into an `Outcome` against the open amounts as they stand
//!    after every earlier line, which `apply::Book` then commits.
//!
//! A `Line` is the unit matched: a bank entry, or one detail of a batch
//! entry (a cheque deposit, a collection) whose details carry amounts.

pub mod decide;
pub mod evidence;
pub mod fx;
pub mod index;
pub mod returns;
pub mod settlement;
pub mod subset;
pub mod text;

use std::mem::take;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::model::{Entry, Statement, Text, Transaction};
use crate::parse::customers::normalise_iban;

/// What matching needs of one bank line (or batch detail): the statement
/// model is dropped once these are built, which keeps a million-line run
/// inside its memory budget.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub line_id: Text,
    pub bank_ref: Text,
    /// Index of the detail within a batch entry, `None` for a whole entry.
    pub detail: Option<u32>,
    pub value_date: Option<NaiveDate>,
    pub booking_date: Option<NaiveDate>,
    /// Signed: credits positive.
    pub amount: Decimal,
    pub currency: Text,
    /// The whole entry's amount (equal to `amount` unless a batch detail).
    pub entry_amount: Decimal,
    pub payer_name: Text,
    /// Normalised (upper case, no spaces).
    pub payer_iban: String,
    /// Remittance text as the bank gave it, lines joined by a space.
    pub remittance_text: String,
    pub end_to_end_id: Text,
    /// Structured creditor references (`CdtrRefInf/Ref`).
    pub creditor_references: Vec<Text>,
    /// Structured referred document numbers (`RfrdDocInf/Nb`).
    pub referred_documents: Vec<String>,
    /// Other text worth scanning (entry reference, additional info).
    pub other_text: String,
    /// Charges reported for the line, positive.
    pub charges: Decimal,
    pub bank_tx_code: String,
    /// The statement's account, for the 512 sub-account.
    pub account: Arc<str>,
    pub return_reason: Option<String>,
    /// Cheque number (CAMT `Refs/ChqNb`): ties a bounced cheque to the
    /// deposit that settled it.
    pub cheque_number: Option<Box<str>>,
    /// The currency conversion the bank reports for the line, when it
    /// converted the payment (boxed: most lines have none).
    pub conversion: Option<Box<Conversion>>,
    /// Order key: statement line-id prefix and 1-based position.
    pub statement_key: Arc<str>,
    pub position: u32,
}

/// What the bank says about a converted payment: the amount the payer
/// instructed in another currency (CAMT `AmtDtls/InstdAmt`, MT940 `/OCMT/`,
/// CFONB `MMO`) and the exchange rate (CAMT `CcyXchg`, MT940 `/EXCH/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Instructed amount (positive) and its currency, when that currency is
    /// not the line's.
    pub instructed: Option<(Decimal, Text)>,
    pub rate: Option<Decimal>,
    /// `CcyXchg/SrcCcy`, `TrgtCcy` and `UnitCcy`: with source and target
    /// the rate's direction is known (target = source x rate, or source =
    /// target x rate when the unit currency is the target); without them,
    /// and with no instructed amount in a third currency, both readings
    /// are tried.
    pub source: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
}

impl Conversion {
    /// The line's amount (positive) expressed in `currency`, once per
    /// reading the bank's data allows: the instructed amount when it is in
    /// that currency, else the amount converted at the rate (both ways when
    /// the file does not say which way the rate goes). Empty when nothing
    /// converts into `currency`.
    pub fn amounts_in(&self, paid: Decimal, paid_currency: &str, currency: &str) -> Vec<Decimal> {
        if let Some((amount, _)) = self.instructed.as_ref().filter(|(_, c)| c == currency) {
            return vec![*amount];
        }
        let Some(rate) = self.rate.filter(|r| *r > Decimal::ZERO) else {
            return Vec::new();
        };
        let paid = paid.abs();
        let multiply = paid.checked_mul(rate);
        let divide = paid.checked_div(rate);
        // `from` x rate = `to`.
        let (from, to) = match (self.source.as_deref(), self.target.as_deref()) {
            (Some(s), Some(t)) if self.unit.as_deref() == Some(t) && s != t => (t, s),
            (Some(s), Some(t)) => (s, t),
            // An instructed amount in a third currency: the rate is the
            // conversion from that one, not into `currency`.
            _ if self.instructed.is_some() => return Vec::new(),
            (None, None) => return [multiply, divide].into_iter().flatten().collect(),
            // The file names one side only: no direction to trust.
            _ => return Vec::new(),
        };
        let found = if from == paid_currency && to == currency {
            multiply
        } else if from == currency && to == paid_currency {
            divide
        } else {
            // The rate is between other currencies.
            None
        };
        found.into_iter().collect()
    }
}

impl Line {
    pub fn is_credit(&self) -> bool {
        self.amount > Decimal::ZERO
    }

    /// The policy's serving order: value date, booking date, statement,
    /// position (then detail). Lines without dates come last.
    pub fn order_key(&self) -> (NaiveDate, NaiveDate, &str, u32, u32) {
        let last = NaiveDate::MAX;
        (
            self.value_date.or(self.booking_date).unwrap_or(last),
            self.booking_date.or(self.value_date).unwrap_or(last),
            &self.statement_key,
            self.position,
            self.detail.map_or(0, |d| d + 1),
        )
    }
}

/// The lines of a statement: one per entry, or one per detail of a batch
/// entry whose details all carry amounts that add up to the entry.
pub fn lines_of(statement: &Statement) -> Vec<Line> {
    let mut lines = Vec::with_capacity(statement.entries.len());
    lines_into(statement.clone(), &mut lines);
    lines
}

/// `lines_of`, consuming the statement: its text moves into the lines
/// instead of being copied (a million-line run makes some eight million
/// fewer allocations).
pub fn lines_into(statement: Statement, lines: &mut Vec<Line>) {
    // Shared by every line of the statement.
    let account: Arc<str> = statement.account.id.as_str().into();
    let mut shared_key: Option<Arc<str>> = None;
    for (position, mut entry) in statement.entries.into_iter().enumerate() {
        let (key, _) = entry
            .line_id
            .rsplit_once('-')
            .unwrap_or((entry.line_id.as_str(), ""));
        let statement_key = match &shared_key {
            Some(shared) if **shared == *key => shared.clone(),
            _ => {
                let fresh: Arc<str> = key.into();
                shared_key = Some(fresh.clone());
                fresh
            }
        };
        let detail_amounts: Option<Vec<Decimal>> = entry
            .details
            .iter()
            .map(|d| {
                d.amount
                    .as_ref()
                    .map(|m| signed_detail(m.amount, entry.amount))
            })
            .collect();
        let split = match &detail_amounts {
            Some(amounts) if entry.details.len() >= 2 => {
                amounts.iter().copied().sum::<Decimal>() == entry.amount
            }
            _ => false,
        };
        let mut details = take(&mut entry.details);
        if split {
            for (index, detail) in details.iter_mut().enumerate() {
                let amount = detail_amounts.as_ref().map_or(Decimal::ZERO, |a| a[index]);
                lines.push(line(
                    &account,
                    &mut entry,
                    Some((index as u32, detail)),
                    amount,
                    &statement_key,
                    position,
                ));
            }
        } else {
            let amount = entry.amount;
            let mut line = line(&account, &mut entry, None, amount, &statement_key, position);
            // A batch kept whole: its details' text is still evidence.
            for detail in &details {
                add_text(&mut line, detail);
            }
            lines.push(line);
        }
    }
}

/// Detail amounts are given unsigned in some files: they take the entry's
/// sign.
fn signed_detail(amount: Decimal, entry_amount: Decimal) -> Decimal {
    if entry_amount.is_sign_negative() {
        -amount.abs()
    } else {
        amount.abs()
    }
}

/// One line: of the whole entry (`detail` `None`), its text then moved out
/// of the entry, or of one detail of a batch, the entry's text copied.
fn line(
    account: &Arc<str>,
    entry: &mut Entry,
    detail: Option<(u32, &mut Transaction)>,
    amount: Decimal,
    statement_key: &Arc<str>,
    position: usize,
) -> Line {
    let Entry {
        line_id,
        bank_ref,
        entry_ref,
        value_date,
        booking_date,
        amount: entry_amount,
        currency: entry_currency,
        bank_tx_code: entry_code,
        transaction: whole,
        charges: entry_charges,
        additional_info,
        ..
    } = entry;
    let (detail, transaction) = match detail {
        Some((index, transaction)) => (Some(index), transaction),
        None => (None, &mut **whole),
    };
    // The entry's own text: moved when this is the entry's only line.
    let own = |text: &mut Text| {
        if detail.is_none() {
            take(text)
        } else {
            text.clone()
        }
    };
    let debit = entry_amount.is_sign_negative();
    let party = if debit {
        &mut transaction.creditor
    } else {
        &mut transaction.debtor
    };
    let payer_iban = normalise_iban(
        party
            .iban
            .as_deref()
            .or(party.account_other.as_deref())
            .unwrap_or(""),
    );
    let payer_name = take(&mut party.name)
        .or_else(|| {
            if debit {
                transaction
                    .more
                    .as_mut()
                    .and_then(|more| take(&mut more.ultimate_creditor))
                    .map(Text::from)
            } else {
                take(&mut transaction.ultimate_debtor)
            }
        })
        .unwrap_or_default();
    let charges: Decimal = transaction
        .charges
        .iter()
        .chain(if detail.is_none() {
            entry_charges.iter()
        } else {
            [].iter()
        })
        .filter(|c| c.included != Some(false))
        .map(|c| c.amount.amount.abs())
        .sum();
    let remittance_text = match transaction.remittance_lines.as_mut_slice() {
        [only] if transaction.additional_remittance.is_empty() => take(only),
        lines => {
            let mut parts: Vec<&str> = lines.iter().map(String::as_str).collect();
            parts.extend(transaction.additional_remittance.iter().map(String::as_str));
            parts.join(" ")
        }
    };
    let mut other: Vec<&str> = Vec::new();
    if detail.is_none() {
        other.extend(entry_ref.as_deref());
        other.extend(additional_info.as_deref());
    }
    other.extend(transaction.more().additional_info.as_deref());
    let other_text = other.join(" ");
    let bank_tx_code = {
        let code = transaction.more().bank_tx_code.display();
        if code.is_empty() {
            entry_code.display()
        } else {
            code
        }
    };
    let currency = match transaction.amount.as_mut() {
        Some(money) if detail.is_some() && !money.currency.is_empty() => take(&mut money.currency),
        _ => own(entry_currency),
    };
    let conversion = conversion(transaction, &currency);
    let (return_reason, cheque_number) = match transaction.more.as_deref_mut() {
        Some(more) => (
            take(&mut more.return_reason),
            more.cheque_number
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(Into::into),
        ),
        None => (None, None),
    };
    let bank_ref = match bank_ref {
        Some(reference) => own(reference),
        None => Text::default(),
    };
    Line {
        line_id: own(line_id),
        bank_ref,
        detail,
        value_date: value_date.or(*booking_date),
        booking_date: booking_date.or(*value_date),
        amount,
        currency,
        entry_amount: *entry_amount,
        payer_name,
        payer_iban,
        remittance_text,
        end_to_end_id: take(&mut transaction.end_to_end_id)
            .filter(|e| !e.eq_ignore_ascii_case("NOTPROVIDED"))
            .unwrap_or_default(),
        creditor_references: take(&mut transaction.creditor_references)
            .into_iter()
            .map(|r| r.reference)
            .collect(),
        referred_documents: take(&mut transaction.referred_documents)
            .into_iter()
            .filter_map(|d| d.number)
            .collect(),
        other_text,
        charges,
        bank_tx_code,
        account: account.clone(),
        return_reason,
        cheque_number,
        conversion,
        statement_key: statement_key.clone(),
        position: position as u32 + 1,
    }
}

/// The conversion a transaction reports, if the bank converted it: an
/// instructed amount in another currency than the line's, or a rate.
fn conversion(transaction: &Transaction, currency: &str) -> Option<Box<Conversion>> {
    let instructed = transaction
        .instructed_amount
        .as_ref()
        .filter(|m| !m.currency.is_empty() && m.currency != currency && !m.amount.is_zero())
        .map(|m| (m.amount.abs(), m.currency.clone()));
    let rate = transaction
        .more()
        .exchange_rate
        .filter(|r| *r > Decimal::ZERO);
    if instructed.is_none() && rate.is_none() {
        return None;
    }
    Some(Box::new(Conversion {
        instructed,
        rate,
        source: transaction.more().exchange_source_currency.clone(),
        target: transaction.more().exchange_target_currency.clone(),
        unit: transaction.more().exchange_unit_currency.clone(),
    }))
}

fn add_text(line: &mut Line, detail: &Transaction) {
    for text in detail
        .remittance_lines
        .iter()
        .chain(&detail.additional_remittance)
    {
        line.remittance_text.push(' ');
        line.remittance_text.push_str(text);
    }
    line.creditor_references.extend(
        detail
            .creditor_references
            .iter()
            .map(|r| r.reference.clone()),
    );
    line.referred_documents.extend(
        detail
            .referred_documents
            .iter()
            .filter_map(|d| d.number.clone()),
    );
}
