//! Phase 2 of matching: one line's evidence, the open amounts as they stand
//! after every earlier line, and the policy give an `Outcome`: the amounts
//! to apply, what goes to review and why, and the explanation.
//!
//! Reads `Book` (open amounts, advices used, IBANs learned), never writes
//! it: `apply::Book::commit` does, so a decision cannot half-happen.

use rust_decimal::Decimal;

use super::Line;
use super::evidence::{Context, Evidence, Found, INTERNAL_TRANSFER, PayerHow, RefHit, RefKind};
use super::fx;
use super::index::cents;
use super::subset;
use super::text::{Quoted, name_key, name_similarity};
use crate::apply::Book;
use crate::config::Twins;
use crate::model::OpenItem;
use crate::money::{Plain, Thousandths};

/// Why a line (or the rest of it) needs a person. One closed list in
/// precedence order; the snake_case names are the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Money out, or a credit that is no customer's payment (interest, tax
    /// refund, internal transfer, ...).
    NotReceivable,
    /// The line pays something already settled (by an earlier line of this
    /// run or before it).
    DuplicatePayment,
    /// The line's currency is not the referenced invoices'.
    CurrencyMismatch,
    /// Several referenced invoices paid short beyond the tolerance, or an
    /// advice or payout whose total does not agree.
    AmountMismatch,
    /// An advice line that names no open item.
    PartialRemittance,
    /// More was paid than the referenced invoices' open total.
    Overpayment,
    /// Two or more equally good answers.
    Ambiguous,
    /// Payer identified, nothing of theirs fits the amount.
    NoCandidate,
    /// No reference and no payer identified.
    UnknownPayer,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::NotReceivable => "not_receivable",
            Reason::DuplicatePayment => "duplicate_payment",
            Reason::CurrencyMismatch => "currency_mismatch",
            Reason::AmountMismatch => "amount_mismatch",
            Reason::PartialRemittance => "partial_remittance",
            Reason::Overpayment => "overpayment",
            Reason::Ambiguous => "ambiguous",
            Reason::NoCandidate => "no_candidate",
            Reason::UnknownPayer => "unknown_payer",
        }
    }
}

/// Kind of an allocation row (the contract's `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Invoice,
    BankFee,
    Discount,
    Writeoff,
    Fx,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::BankFee => "bank_fee",
            Kind::Discount => "discount",
            Kind::Writeoff => "writeoff",
            Kind::Fx => "fx",
        }
    }
}

/// An amount to apply: to an invoice, or an adjustment of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub item: Option<u32>,
    pub kind: Kind,
    /// Signed as the contract says (invoice rows: settled on the item;
    /// adjustments: negative when the company absorbs a cost).
    pub amount: Decimal,
    pub rule: &'static str,
    /// Per mille (0..=1000).
    pub confidence: u16,
}

/// A candidate settlement offered to the reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub items: Vec<u32>,
    pub score: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Positive: the amount left to explain.
    pub amount: Decimal,
    pub reason: Reason,
    pub suggestions: Vec<Suggestion>,
    /// What is wrong, in one sentence, when the reason alone does not say
    /// (exceptions.csv's `detail` column).
    pub detail: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub item: u32,
    pub amount: Decimal,
    pub reason: String,
    pub advice: u32,
}

/// What to do with one line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub proposals: Vec<Proposal>,
    pub reviews: Vec<Review>,
    pub disputes: Vec<Dispute>,
    pub advice_used: Option<u32>,
    /// The settlement (payout) this line settled, if any.
    pub settlement_used: Option<u32>,
    /// A customer to remember the line's payer IBAN for (settled on
    /// references).
    pub learn_iban: Option<u32>,
    /// The customer the line was attributed to, and how.
    pub customer: Option<(u32, &'static str)>,
    /// The rule that decided, for the decision log.
    pub rule: &'static str,
    /// The steps of the reasoning, in order, as data: the decision log
    /// prints them (`Step::write`) when it is written, in parallel, so a
    /// million lines' prose is neither formatted in the one-core part of
    /// the decide stage nor held in memory until then.
    pub notes: Vec<Step>,
}

/// One step of a decision's reasoning. The two that nearly every line
/// takes are kept as the values they print; the others as their text.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The line's reference `Evidence::references[n]`, the items it names
    /// and where it was found: `invoice number FA-2026-000006 found in
    /// remittance text as "FA2026000006" (C0083407)`.
    Reference(u32),
    /// The amount due on the items about to be settled, the line's amount
    /// and the charges it reports: `due 3466.24, paid 3441.97, charges
    /// reported 0`.
    Due(Decimal),
    /// A sentence known when the program is built.
    Fixed(&'static str),
    Text(Box<str>),
}

impl Step {
    /// Appends the step as the decision log prints it, for `line` and its
    /// `evidence`, `items` the run's open items.
    pub fn write(&self, line: &Line, evidence: &Evidence, items: &[OpenItem], out: &mut String) {
        use std::fmt::Write;
        match self {
            Step::Reference(at) => write_reference(&evidence.references[*at as usize], items, out),
            Step::Due(due) => {
                let _ = write!(
                    out,
                    "due {}, paid {}, charges reported {}",
                    Plain(*due),
                    Plain(line.amount),
                    Plain(line.charges)
                );
            }
            Step::Fixed(text) => out.push_str(text),
            Step::Text(text) => out.push_str(text),
        }
    }
}

/// `Step::Reference`'s sentence for `hit`.
fn write_reference(hit: &RefHit, items: &[OpenItem], out: &mut String) {
    use std::fmt::Write;
    let item = &items[hit.item as usize];
    let _ = write!(
        out,
        "{} {} found in {} as {} ({})",
        describe_kind(hit.kind),
        item.invoice_id,
        found_name(hit.found),
        Quoted(&hit.text),
        item.customer_id
    );
}

impl Outcome {
    /// The reasoning steps as text, joined by `separator`.
    pub fn notes_text(
        &self,
        line: &Line,
        evidence: &Evidence,
        items: &[OpenItem],
        separator: &str,
    ) -> String {
        let mut text = String::new();
        for (n, step) in self.notes.iter().enumerate() {
            if n > 0 {
                text.push_str(separator);
            }
            step.write(line, evidence, items, &mut text);
        }
        text
    }

    /// A reasoning step for the decision log, kept only when the run keeps
    /// one (`RECON_NO_NOTES` set: skipped, for measurements).
    pub(crate) fn note(&mut self, text: impl FnOnce() -> String) {
        self.step(|| Step::Text(text().into_boxed_str()));
    }

    /// `note` of a fixed sentence.
    pub(crate) fn note_fixed(&mut self, text: &'static str) {
        self.step(|| Step::Fixed(text));
    }

    pub(crate) fn step(&mut self, step: impl FnOnce() -> Step) {
        if notes_enabled() {
            // Most decisions take two steps: room for them in one
            // allocation, not the four a first push would make.
            if self.notes.capacity() == 0 {
                self.notes.reserve_exact(2);
            }
            self.notes.push(step());
        }
    }

    /// Gives back the spare capacity the decision grew into (notes built
    /// step by step, row vectors): a million outcomes stay alive until the
    /// files are written.
    pub fn shrink(&mut self) {
        self.notes.shrink_to_fit();
        self.proposals.shrink_to_fit();
        self.reviews.shrink_to_fit();
        self.disputes.shrink_to_fit();
    }

    pub(crate) fn review(&mut self, amount: Decimal, reason: Reason, suggestions: Vec<Suggestion>) {
        self.review_detailed(amount, reason, suggestions, None);
    }

    /// `review`, with a sentence naming what is wrong.
    pub(crate) fn review_detailed(
        &mut self,
        amount: Decimal,
        reason: Reason,
        suggestions: Vec<Suggestion>,
        detail: Option<String>,
    ) {
        if amount.is_zero() && !self.proposals.is_empty() {
            return;
        }
        self.reviews.push(Review {
            amount: amount.abs(),
            reason,
            suggestions,
            detail: detail.map(String::into_boxed_str),
        });
    }
}

fn notes_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("RECON_NO_NOTES").is_none())
}

/// Confidence of identifying a payer, per mille.
fn payer_confidence(how: PayerHow, score: f64) -> u16 {
    match how {
        PayerHow::Iban => 950,
        PayerHow::LearnedIban => 920,
        PayerHow::Name => (880.0 * score).round() as u16,
    }
}

pub fn decide(line: &Line, evidence: &Evidence, cx: &Context<'_>, book: &Book) -> Outcome {
    let mut out = Outcome::default();
    if let Some(rule) = evidence.returned {
        super::returns::decide(line, evidence, cx, book, rule, &mut out);
        return out;
    }
    if !line.is_credit() {
        out.rule = "debit";
        out.note_fixed("money out: not a customer receipt");
        out.review(line.amount, Reason::NotReceivable, Vec::new());
        return out;
    }
    if evidence.not_receivable == Some(INTERNAL_TRANSFER) {
        out.rule = "not_receivable";
        out.note_fixed("a credit from one of the company's own accounts: internal transfer");
        out.review(line.amount, Reason::NotReceivable, Vec::new());
        return out;
    }
    if let Some((settlement, how)) = evidence.settlement {
        if !book.settlement_used(settlement) {
            super::settlement::decide(line, cx, book, settlement, how, &mut out);
            return out;
        }
        out.note(|| {
            format!(
                "payout {} already settled by an earlier line",
                cx.settlements[settlement as usize].settlement_id
            )
        });
    }
    let payer = identified_payer(line, evidence, book);
    if let Some((customer, how, _)) = payer {
        out.customer = Some((customer, how_name(how)));
    }
    for &(advice, how) in &evidence.advices {
        if book.advice_used(advice) {
            out.note(|| {
                format!(
                    "advice {} already used by an earlier line",
                    cx.advices[advice as usize].advice_id
                )
            });
            continue;
        }
        if by_advice(line, cx, book, advice, how, &mut out) {
            return out;
        }
    }
    let references = usable_references(line, evidence, cx, book, payer.map(|p| p.0), &mut out);
    if !references.is_empty() {
        by_references(line, evidence, cx, book, &references, &mut out);
        return out;
    }
    match payer {
        Some((customer, how, score)) => {
            by_customer_amount(line, cx, book, customer, how, score, &mut out)
        }
        None => {
            if let Some(what) = evidence.not_receivable {
                out.rule = "not_receivable";
                out.note(|| format!("no reference, no known payer, and the line reads as {what}"));
                out.review(line.amount, Reason::NotReceivable, Vec::new());
            } else {
                out.rule = "unknown_payer";
                out.note_fixed("no reference found and the payer matches no customer: amount alone never settles");
                let suggestions = unknown_payer_suggestions(line, evidence, cx, book);
                out.review(line.amount, Reason::UnknownPayer, suggestions);
            }
        }
    }
    out
}

fn how_name(how: PayerHow) -> &'static str {
    match how {
        PayerHow::Iban => "iban",
        PayerHow::LearnedIban => "learned_iban",
        PayerHow::Name => "name",
    }
}

/// The payer from the evidence, else from an IBAN learned earlier in the run.
fn identified_payer(line: &Line, evidence: &Evidence, book: &Book) -> Option<(u32, PayerHow, f64)> {
    if let Some(p) = &evidence.payer
        && p.how == PayerHow::Iban
    {
        return Some((p.customer, p.how, p.score));
    }
    if !line.payer_iban.is_empty()
        && let Some(customer) = book.learned_iban(&line.payer_iban)
    {
        return Some((customer, PayerHow::LearnedIban, 1.0));
    }
    evidence
        .payer
        .as_ref()
        .map(|p| (p.customer, p.how, p.score))
}

/// References that single out items: every hit text must resolve to one
/// item (of the payer, when known; else the one whose open amount is the
/// line's), and fragments only then.
fn usable_references(
    line: &Line,
    evidence: &Evidence,
    cx: &Context<'_>,
    book: &Book,
    payer: Option<u32>,
    out: &mut Outcome,
) -> Vec<RefHit> {
    let mut by_text: Vec<(&str, Vec<&RefHit>)> = Vec::new();
    for hit in &evidence.references {
        match by_text.iter_mut().find(|(t, _)| *t == hit.text) {
            Some((_, list)) => list.push(hit),
            None => by_text.push((&hit.text, vec![hit])),
        }
    }
    let mut kept: Vec<RefHit> = Vec::new();
    for (text, hits) in by_text {
        let mut candidates: Vec<&RefHit> = hits.clone();
        if candidates.len() > 1
            && let Some(customer) = payer
        {
            let own: Vec<&RefHit> = candidates
                .iter()
                .copied()
                .filter(|h| cx.index.item_customer[h.item as usize] == customer)
                .collect();
            if !own.is_empty() {
                candidates = own;
            }
        }
        if candidates.len() > 1 {
            let agreeing: Vec<&RefHit> = candidates
                .iter()
                .copied()
                .filter(|h| book.open(h.item) == line.amount)
                .collect();
            if agreeing.len() == 1 {
                candidates = agreeing;
            }
        }
        if candidates.len() == 1 {
            let hit = candidates[0];
            let owner = cx.index.item_customer[hit.item as usize];
            let agrees = (book.open(hit.item) - line.amount).abs() <= cx.config.writeoff_max;
            let payer_differs = payer.is_some_and(|p| p != owner);
            // A bare number (fragment) counts only for the identified
            // payer's item, or, with no payer known, when the amount agrees;
            // an altered number naming another customer's item than the
            // payer's needs the amount to agree. A third party quoting the
            // exact number is the policy's normal case and is kept.
            let usable = match hit.kind {
                RefKind::InvoiceFragment => {
                    if payer.is_some() {
                        !payer_differs
                    } else {
                        agrees
                    }
                }
                RefKind::InvoiceNumberNoisy => !payer_differs || agrees,
                _ => true,
            };
            if usable {
                kept.push(hit.clone());
            } else {
                out.note(|| {
                    format!(
                        "{text:?} names {} of another customer than the payer, or its amount does not agree: not used",
                        cx.items[hit.item as usize].invoice_id
                    )
                });
            }
        } else {
            out.note(|| {
                format!(
                    "{text:?} could be any of {} items; not used",
                    candidates.len()
                )
            });
        }
    }
    // A fragment never outweighs a full reference to another item.
    if kept.iter().any(|h| h.kind != RefKind::InvoiceFragment) {
        kept.retain(|h| h.kind != RefKind::InvoiceFragment);
    }
    kept.sort_by_key(|h| h.item);
    kept.dedup_by_key(|h| h.item);
    kept
}

fn by_references(
    line: &Line,
    evidence: &Evidence,
    cx: &Context<'_>,
    book: &Book,
    references: &[RefHit],
    out: &mut Outcome,
) {
    let strongest = references
        .iter()
        .map(|h| h.kind)
        .min()
        .unwrap_or(RefKind::InvoiceFragment);
    let weakest = references
        .iter()
        .map(|h| h.kind)
        .max()
        .unwrap_or(RefKind::InvoiceFragment);
    out.rule = strongest.rule();
    let confidence = weakest.confidence();
    let all: Vec<u32> = references.iter().map(|h| h.item).collect();
    for hit in references {
        // The evidence's own hit (an equal one prints the same).
        match evidence.references.iter().position(|h| h == hit) {
            Some(at) => out.step(|| Step::Reference(at as u32)),
            None => out.note(|| {
                let mut text = String::new();
                write_reference(hit, cx.items, &mut text);
                text
            }),
        }
    }
    let same_currency: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&i| cx.items[i as usize].currency == line.currency)
        .collect();
    if same_currency.is_empty() {
        let detail = match fx::settle(line, cx, book, &all, strongest.rule(), confidence, out) {
            Ok(()) => return,
            Err(fx::Refused::Settled) => {
                already_settled(line, all, confidence, out);
                return;
            }
            Err(fx::Refused::Mismatch(detail)) => detail,
        };
        out.rule = "currency_mismatch";
        out.note(|| detail.clone());
        out.review_detailed(
            line.amount,
            Reason::CurrencyMismatch,
            vec![Suggestion {
                items: all,
                score: confidence,
            }],
            Some(detail),
        );
        return;
    }
    let open: Vec<u32> = same_currency
        .iter()
        .copied()
        .filter(|&i| !book.open(i).is_zero())
        .collect();
    let settled: Vec<u32> = same_currency
        .iter()
        .copied()
        .filter(|&i| book.open(i).is_zero())
        .collect();
    if open.is_empty() {
        already_settled(line, settled, confidence, out);
        return;
    }
    let due: Decimal = open.iter().map(|&i| book.open(i)).sum();
    let paid = line.amount;
    let tolerance = cx.config.writeoff_max;
    // Prints `paid` and the line's charges as well.
    out.step(|| Step::Due(due));
    let customers: Vec<u32> = {
        let mut c: Vec<u32> = open
            .iter()
            .map(|&i| cx.index.item_customer[i as usize])
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    if customers.len() == 1 {
        out.customer.get_or_insert((customers[0], "reference"));
        learn(line, evidence, cx, customers[0], out);
    }
    let settle_all = |out: &mut Outcome| {
        settle_in_full(out, book, &open, strongest.rule(), confidence);
    };
    let charges = line.charges;
    if due > Decimal::ZERO && charges > Decimal::ZERO && (paid + charges - due).abs() <= tolerance {
        settle_all(out);
        out.proposals.push(adjustment(
            Kind::BankFee,
            -charges,
            "reported_charges",
            confidence,
        ));
        let rest = paid + charges - due;
        if !rest.is_zero() {
            out.proposals.push(adjustment(
                Kind::Writeoff,
                rest,
                "writeoff_tolerance",
                confidence,
            ));
        }
        out.note(|| format!("settled in full; charges {charges} to bank fees"));
    } else if let Some(gap) = fx::same_currency(line, cx, due) {
        settle_all(out);
        out.proposals
            .push(fx::fx_row(gap, fx::DIFFERENCE_RULE, confidence));
        out.note(|| {
            format!("the payer paid in another currency: difference {gap} within fx_tolerance, booked as exchange difference")
        });
    } else if due > Decimal::ZERO && (paid - due).abs() <= tolerance {
        settle_all(out);
        if paid != due {
            out.proposals.push(adjustment(
                Kind::Writeoff,
                paid - due,
                "writeoff_tolerance",
                confidence,
            ));
            out.note(|| {
                format!(
                    "difference {} within writeoff_max {}",
                    Plain(paid - due),
                    Plain(tolerance)
                )
            });
        }
    } else if paid < due {
        if open.len() == 1 {
            out.rule = "partial_payment";
            out.proposals.push(Proposal {
                item: Some(open[0]),
                kind: Kind::Invoice,
                amount: paid,
                rule: "partial_payment",
                confidence,
            });
            out.note(|| format!("partial payment: {} stays open", Plain(due - paid)));
        } else {
            out.rule = "amount_mismatch";
            out.note(|| {
                format!(
                    "{} items referenced, paid {} short of their total, no advice says how",
                    open.len(),
                    due - paid
                )
            });
            out.review(
                paid,
                Reason::AmountMismatch,
                vec![Suggestion {
                    items: open.clone(),
                    score: confidence.min(900),
                }],
            );
        }
    } else if due <= Decimal::ZERO {
        out.rule = "amount_mismatch";
        out.note_fixed("the referenced items are credit notes: nothing to receive");
        out.review(
            paid,
            Reason::AmountMismatch,
            vec![Suggestion {
                items: open.clone(),
                score: 500,
            }],
        );
    } else {
        settle_all(out);
        let reason = if settled.is_empty() {
            Reason::Overpayment
        } else {
            Reason::DuplicatePayment
        };
        out.note(|| format!("{} paid beyond the open total", Plain(paid - due)));
        out.review(paid - due, reason, Vec::new());
    }
}

/// Remember the payer's IBAN for a customer settled on references, when
/// the payer's name is the customer's (a third party paying for the
/// customer must not teach its IBAN).
fn learn(line: &Line, evidence: &Evidence, cx: &Context<'_>, customer: u32, out: &mut Outcome) {
    let known = || {
        evidence
            .payer_iban_known
            .unwrap_or_else(|| cx.index.ibans.contains_key(&line.payer_iban))
    };
    if line.payer_iban.is_empty() || known() {
        return;
    }
    let name = name_key(&line.payer_name);
    let known = name_key(&cx.index.customer_names[customer as usize]);
    if name_similarity(&name, &known) >= cx.config.name_similarity_min {
        out.learn_iban = Some(customer);
    }
}

/// An `invoice` row for each item's whole open amount; returns their total.
pub(crate) fn settle_in_full(
    out: &mut Outcome,
    book: &Book,
    items: &[u32],
    rule: &'static str,
    confidence: u16,
) -> Decimal {
    let mut due = Decimal::ZERO;
    for &i in items {
        due += book.open(i);
        out.proposals.push(Proposal {
            item: Some(i),
            kind: Kind::Invoice,
            amount: book.open(i),
            rule,
            confidence,
        });
    }
    due
}

/// Every item the line references is settled already: a duplicate payment,
/// the items offered.
fn already_settled(line: &Line, items: Vec<u32>, confidence: u16, out: &mut Outcome) {
    out.rule = "duplicate_payment";
    out.note_fixed("every referenced item is already settled");
    out.review(
        line.amount,
        Reason::DuplicatePayment,
        vec![Suggestion {
            items,
            score: confidence,
        }],
    );
}

fn adjustment(kind: Kind, amount: Decimal, rule: &'static str, confidence: u16) -> Proposal {
    Proposal {
        item: None,
        kind,
        amount,
        rule,
        confidence,
    }
}

fn describe_kind(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Rf => "RF creditor reference of",
        RefKind::PaymentReference => "payment reference of",
        RefKind::InvoiceNumber => "invoice number",
        RefKind::InvoiceNumberNoisy => "invoice number (altered)",
        RefKind::InvoiceFragment => "invoice number fragment of",
    }
}

fn found_name(found: Found) -> &'static str {
    match found {
        Found::Structured => "structured remittance",
        Found::EndToEndId => "end-to-end id",
        Found::RemittanceText => "remittance text",
        Found::OtherText => "entry information",
        Found::OriginalReceipt => "the receipt it returns",
    }
}

/// Words in a deduction reason that make it an early-payment discount.
const DISCOUNT_WORDS: &[&str] = &[
    "ESCOMPTE",
    "DISC",
    "DISCOUNT",
    "EARLY PAYMENT",
    "SKONTO",
    "REMISE",
];

/// Settles what an advice lists. Returns false (and changes nothing) when
/// the advice does not describe this line's amount.
fn by_advice(
    line: &Line,
    cx: &Context<'_>,
    book: &Book,
    advice_index: u32,
    how: &'static str,
    out: &mut Outcome,
) -> bool {
    let advice = &cx.advices[advice_index as usize];
    if advice
        .payment_amount
        .as_ref()
        .is_some_and(|m| m.currency != line.currency)
    {
        out.note(|| {
            format!(
                "advice {} is in another currency than the line: not this payment",
                advice.advice_id
            )
        });
        return false;
    }
    let paid_total: Decimal = advice.lines.iter().filter_map(|l| l.paid_amount).sum();
    let tolerance = cx.config.writeoff_max;
    let difference = line.amount - paid_total;
    if difference.abs() > tolerance {
        out.note(|| {
            format!(
                "advice {} lists {paid_total}, the line is {}: not this payment",
                advice.advice_id, line.amount
            )
        });
        return false;
    }
    out.rule = "advice";
    out.advice_used = Some(advice_index);
    out.note(|| format!("advice {} linked ({how})", advice.advice_id));
    let payer_customer = out.customer.map(|c| c.0);
    let mut unresolved = Decimal::ZERO;
    let mut beyond_open = Decimal::ZERO;
    let mut duplicate = false;
    let mut unresolved_refs: Vec<String> = Vec::new();
    let mut customers: Vec<u32> = Vec::new();
    // Open amounts as this advice consumes them (an advice may list an
    // invoice twice).
    let mut taken: Vec<(u32, Decimal)> = Vec::new();
    for (at, advice_line) in advice.lines.iter().enumerate() {
        let paid = advice_line.paid_amount.unwrap_or(Decimal::ZERO);
        let candidates = cx.index.advice_line_items(advice_index, at);
        let Some(item) = resolve_quoted(candidates, cx, payer_customer)
            .filter(|&item| cx.items[item as usize].currency == line.currency)
        else {
            unresolved += paid;
            unresolved_refs.push(advice_line.invoice_ref.clone());
            continue;
        };
        customers.push(cx.index.item_customer[item as usize]);
        let already: Decimal = taken.iter().filter(|t| t.0 == item).map(|t| t.1).sum();
        let open = book.open(item) - already;
        let deduction = advice_line.deduction_amount.unwrap_or(Decimal::ZERO);
        let is_discount = !deduction.is_zero()
            && advice_line.deduction_reason.as_deref().is_some_and(|r| {
                // Whole words: "DISC" is a code, "DISCREPANCY" a dispute.
                let folded = format!(
                    " {} ",
                    super::text::fold(r)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                DISCOUNT_WORDS
                    .iter()
                    .any(|w| folded.contains(&format!(" {w} ")))
            });
        let mut apply = paid;
        if is_discount {
            apply += deduction;
        }
        // Never beyond what is open, never changing its sign.
        let applicable = if open.is_sign_negative() {
            apply.max(open).min(Decimal::ZERO)
        } else {
            apply.min(open).max(Decimal::ZERO)
        };
        if open.is_zero() {
            duplicate = true;
        }
        let excess = apply - applicable;
        if !applicable.is_zero() {
            out.proposals.push(Proposal {
                item: Some(item),
                kind: Kind::Invoice,
                amount: applicable,
                rule: "advice",
                confidence: 990,
            });
            taken.push((item, applicable));
        }
        if is_discount {
            let discount = deduction.min(applicable.abs());
            if !discount.is_zero() {
                out.proposals.push(adjustment(
                    Kind::Discount,
                    -discount,
                    "advice_discount",
                    990,
                ));
            }
            beyond_open += excess - (deduction - discount);
        } else {
            beyond_open += excess;
            if !deduction.is_zero() {
                out.disputes.push(Dispute {
                    item,
                    amount: deduction,
                    reason: advice_line
                        .deduction_reason
                        .clone()
                        .unwrap_or_else(|| "deduction".into()),
                    advice: advice_index,
                });
                out.note(|| {
                    format!(
                        "{} withheld on {} ({}): stays open, written to disputes",
                        deduction,
                        cx.items[item as usize].invoice_id,
                        advice_line
                            .deduction_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    )
                });
            }
        }
    }
    customers.sort_unstable();
    customers.dedup();
    if customers.len() == 1 {
        out.customer.get_or_insert((customers[0], "advice"));
    }
    if unresolved.is_sign_negative() || beyond_open.is_sign_negative() {
        // The advice counts on a credit note the ledger does not hold open
        // (already used, or not found): applying its invoice lines would
        // settle more than the line brings. A person decides.
        let mut items: Vec<u32> = out.proposals.iter().filter_map(|p| p.item).collect();
        items.sort_unstable();
        items.dedup();
        out.proposals.clear();
        out.disputes.clear();
        out.rule = "amount_mismatch";
        out.note(|| {
            format!(
                "the advice deducts {} of credit notes that are not open: not applied",
                -(unresolved.min(Decimal::ZERO) + beyond_open.min(Decimal::ZERO))
            )
        });
        out.review(
            line.amount,
            Reason::AmountMismatch,
            vec![Suggestion { items, score: 700 }],
        );
        return true;
    }
    if !out.proposals.iter().any(|p| p.kind == Kind::Invoice) {
        // Nothing of the advice could be settled: the whole line needs a
        // person, for the first reason that applies.
        out.proposals.clear();
        out.disputes.clear();
        let reason = if duplicate {
            Reason::DuplicatePayment
        } else if !unresolved.is_zero() {
            Reason::PartialRemittance
        } else {
            Reason::Overpayment
        };
        out.note_fixed("nothing the advice lists can be settled");
        out.review(line.amount, reason, Vec::new());
        return true;
    }
    if !difference.is_zero() {
        out.proposals.push(adjustment(
            Kind::Writeoff,
            difference,
            "writeoff_tolerance",
            990,
        ));
    }
    if !unresolved.is_zero() {
        out.note(|| {
            format!(
                "advice lines naming no open item: {}",
                unresolved_refs.join(", ")
            )
        });
        out.review(unresolved, Reason::PartialRemittance, Vec::new());
    }
    if !beyond_open.is_zero() {
        let reason = if duplicate {
            Reason::DuplicatePayment
        } else {
            Reason::Overpayment
        };
        out.review(beyond_open, reason, Vec::new());
    }
    true
}

/// The open item an advice line quotes: its number as issued or altered
/// (not a bare fragment), one item, the payer's when several.
fn resolve_quoted(found: &[u32], cx: &Context<'_>, payer: Option<u32>) -> Option<u32> {
    let mut found = found.to_vec();
    if found.len() > 1
        && let Some(customer) = payer
    {
        found.retain(|&i| cx.index.item_customer[i as usize] == customer);
    }
    (found.len() == 1).then(|| found[0])
}

/// Every open item an advice line's quoted number could name (as issued or
/// altered, not a bare fragment), sorted: `Index::quoted_in`, for a number
/// that is not an advice line's (those are resolved at build). Only until
/// the evidence is gathered: `run` then releases the key tables, and this
/// finds nothing.
pub fn quoted_candidates(quoted: &str, cx: &Context<'_>) -> Vec<u32> {
    cx.index.quoted_in(cx.items, quoted)
}

#[allow(clippy::too_many_arguments)]
fn by_customer_amount(
    line: &Line,
    cx: &Context<'_>,
    book: &Book,
    customer: u32,
    how: PayerHow,
    score: f64,
    out: &mut Outcome,
) {
    let name = &cx.index.customer_names[customer as usize];
    out.note(|| {
        format!(
            "payer identified by {} as {name} (score {})",
            how_name(how),
            Thousandths(score)
        )
    });
    let base = match how {
        PayerHow::Iban => "iban",
        PayerHow::LearnedIban => "learned_iban",
        PayerHow::Name => "name",
    };
    let confidence = payer_confidence(how, score);
    let open: Vec<u32> = cx.index.customer_items[customer as usize]
        .iter()
        .copied()
        .filter(|&i| !book.open(i).is_zero() && cx.items[i as usize].currency == line.currency)
        .collect();
    let paid = line.amount;
    let exact: Vec<u32> = open
        .iter()
        .copied()
        .filter(|&i| book.open(i) == paid)
        .collect();
    let settle = |items: &[u32], rule: &'static str, confidence: u16, out: &mut Outcome| {
        out.rule = rule;
        let due = settle_in_full(out, book, items, rule, confidence);
        if due != paid {
            out.proposals.push(adjustment(
                Kind::Writeoff,
                paid - due,
                "writeoff_tolerance",
                confidence,
            ));
        }
    };
    // The same customer already paid exactly this amount in this run: a
    // second line of that amount that names nothing is more likely the same
    // payment sent twice than the next invoice; a person decides.
    if book.paid_in_run(customer, paid) {
        out.rule = "duplicate_payment";
        out.note(|| {
            format!("this customer already paid {paid} earlier in this run: suspected resend")
        });
        let suggestions = exact
            .iter()
            .take(3)
            .map(|&i| Suggestion {
                items: vec![i],
                score: 400,
            })
            .collect();
        out.review(paid, Reason::DuplicatePayment, suggestions);
        return;
    }
    match exact.len() {
        1 => {
            settle(&exact, rule_name(base, "amount"), confidence, out);
            out.note(|| format!("one open item of the customer is exactly {}", Plain(paid)));
            return;
        }
        n if n >= 2 => {
            if cx.config.twins == Twins::Oldest {
                settle(
                    &exact[..1],
                    rule_name(base, "twins_oldest"),
                    confidence.saturating_sub(100),
                    out,
                );
                out.note(|| format!("{n} open items of exactly {paid}: the oldest due date settled (twins = \"oldest\")"));
            } else {
                out.rule = "ambiguous";
                out.note(|| format!("{n} open items of exactly {paid} (twins = \"review\")"));
                let suggestions = exact
                    .iter()
                    .take(3)
                    .map(|&i| Suggestion {
                        items: vec![i],
                        score: 500,
                    })
                    .collect();
                out.review(paid, Reason::Ambiguous, suggestions);
            }
            return;
        }
        _ => {}
    }
    let candidates: Vec<u32> = open
        .iter()
        .copied()
        .take(cx.config.subset_max_candidates)
        .collect();
    let amounts: Option<Vec<i64>> = candidates.iter().map(|&i| cents(book.open(i))).collect();
    let target = cents(paid);
    let tolerance = cents(cx.config.writeoff_max).unwrap_or(0);
    let mut near_suggestion: Option<Suggestion> = None;
    if let (Some(amounts), Some(target)) = (amounts, target) {
        match subset::search(
            &amounts,
            target,
            0,
            cx.config.subset_max_items,
            cx.config.subset_max_steps,
        ) {
            subset::Found::Unique(picked) => {
                let items: Vec<u32> = picked.iter().map(|&k| candidates[k]).collect();
                settle(
                    &items,
                    rule_name(base, "combination"),
                    confidence.saturating_sub(80),
                    out,
                );
                out.note(|| {
                    format!(
                        "exactly one combination of {} open items equals {paid}",
                        items.len()
                    )
                });
                return;
            }
            subset::Found::Ambiguous(sets) => {
                out.rule = "ambiguous";
                out.note(|| {
                    format!(
                        "{} or more combinations of the customer's items equal {paid}",
                        sets.len()
                    )
                });
                let suggestions = sets
                    .iter()
                    .take(3)
                    .map(|s| Suggestion {
                        items: s.iter().map(|&k| candidates[k]).collect(),
                        score: 500,
                    })
                    .collect();
                out.review(paid, Reason::Ambiguous, suggestions);
                return;
            }
            subset::Found::GaveUp => {
                out.note(|| {
                    format!(
                        "combination search stopped at subset_max_steps ({})",
                        cx.config.subset_max_steps
                    )
                });
            }
            subset::Found::None => {}
        }
        // Within the write-off tolerance, no reference: one item, settled
        // only for a payer known by IBAN (a name that merely resembles a
        // customer's, plus an amount near one of its items, is two weak
        // signs, not evidence). A combination within the tolerance is never
        // settled: among a customer's many items one is found too easily.
        // Both are offered to the reviewer instead.
        let near: Vec<usize> = (0..amounts.len())
            .filter(|&k| (amounts[k] - target).abs() <= tolerance)
            .collect();
        let by_iban = matches!(how, PayerHow::Iban | PayerHow::LearnedIban);
        if near.len() == 1 && by_iban {
            settle(
                &[candidates[near[0]]],
                rule_name(base, "amount_difference"),
                confidence.saturating_sub(50),
                out,
            );
            out.note(|| format!("one open item within writeoff_max of {paid}"));
            return;
        }
        if near.len() == 1 {
            near_suggestion = Some(Suggestion {
                items: vec![candidates[near[0]]],
                score: 700,
            });
        } else if near.is_empty()
            && tolerance > 0
            && let subset::Found::Unique(picked) = subset::search(
                &amounts,
                target,
                tolerance,
                cx.config.subset_max_items,
                cx.config.subset_max_steps,
            )
        {
            let items: Vec<u32> = picked.iter().map(|&k| candidates[k]).collect();
            out.note(|| {
                format!(
                    "one combination of {} items is within writeoff_max of {paid}: offered, not applied",
                    items.len()
                )
            });
            near_suggestion = Some(Suggestion { items, score: 650 });
        }
    }
    // Something already settled in this run for exactly this amount: the
    // payment was sent twice.
    let twice = cx.index.customer_items[customer as usize]
        .iter()
        .copied()
        .find(|&i| {
            book.settled_in_run(i)
                && book.open(i).is_zero()
                && cx.items[i as usize].open_amount == paid
        });
    if let Some(item) = twice {
        out.rule = "duplicate_payment";
        out.note(|| {
            format!(
                "{} of exactly {paid} was settled earlier in this run",
                cx.items[item as usize].invoice_id
            )
        });
        out.review(
            paid,
            Reason::DuplicatePayment,
            vec![Suggestion {
                items: vec![item],
                score: 700,
            }],
        );
        return;
    }
    out.rule = "no_candidate";
    out.note_fixed("no open item or combination of the customer fits the amount");
    let mut nearest: Vec<(Decimal, u32)> = open
        .iter()
        .map(|&i| ((book.open(i) - paid).abs(), i))
        .collect();
    nearest.sort();
    let first: Vec<Suggestion> = near_suggestion.into_iter().collect();
    let room = 3 - first.len();
    let mut suggestions = first.clone();
    suggestions.extend(
        nearest
            .iter()
            .filter(|(_, i)| !first.iter().any(|s| s.items == [*i]))
            .take(room)
            .map(|&(difference, i)| {
                let ratio = if paid.is_zero() {
                    Decimal::ONE
                } else {
                    (difference / paid).min(Decimal::ONE)
                };
                let score = 600
                    - (ratio * Decimal::from(500))
                        .round()
                        .try_into()
                        .unwrap_or(500i64) as i32;
                Suggestion {
                    items: vec![i],
                    score: score.clamp(50, 600) as u16,
                }
            }),
    );
    // A name that only resembles the customer's, with nothing of theirs
    // fitting the amount, does not identify the payer after all.
    let reason = if how == PayerHow::Name && score < 1.0 {
        out.rule = "unknown_payer";
        Reason::UnknownPayer
    } else {
        Reason::NoCandidate
    };
    out.review(paid, reason, suggestions);
}

fn rule_name(base: &'static str, what: &'static str) -> &'static str {
    match (base, what) {
        ("iban", "amount") => "iban_amount",
        ("iban", "twins_oldest") => "iban_twins_oldest",
        ("iban", "combination") => "iban_combination",
        ("iban", "amount_difference") => "iban_amount_difference",
        ("iban", "combination_difference") => "iban_combination_difference",
        ("learned_iban", "amount") => "learned_iban_amount",
        ("learned_iban", "twins_oldest") => "learned_iban_twins_oldest",
        ("learned_iban", "combination") => "learned_iban_combination",
        ("learned_iban", "amount_difference") => "learned_iban_amount_difference",
        ("learned_iban", "combination_difference") => "learned_iban_combination_difference",
        ("name", "amount") => "name_amount",
        ("name", "twins_oldest") => "name_twins_oldest",
        ("name", "combination") => "name_combination",
        ("name", "amount_difference") => "name_amount_difference",
        _ => "name_combination_difference",
    }
}

/// Items of the line's exact amount among the customers the name might be,
/// else anyone's: offered, never applied.
fn unknown_payer_suggestions(
    line: &Line,
    evidence: &Evidence,
    cx: &Context<'_>,
    book: &Book,
) -> Vec<Suggestion> {
    let Some(amount) = cents(line.amount) else {
        return Vec::new();
    };
    let mut suggestions: Vec<Suggestion> = Vec::new();
    for &(customer, score) in &evidence.payer_candidates {
        for &i in &cx.index.customer_items[customer as usize] {
            if book.open(i) == line.amount && suggestions.len() < 3 {
                suggestions.push(Suggestion {
                    items: vec![i],
                    score: (600.0 * score) as u16,
                });
            }
        }
    }
    if suggestions.is_empty() {
        for &(_, i) in cx
            .index
            .items_of_amount(amount)
            .iter()
            // The amounts as given, not as this run left them: anyone's
            // item may be offered, and reading another group's book would
            // make the suggestion depend on scheduling (see `run`).
            .filter(|&&(_, i)| cx.items[i as usize].open_amount == line.amount)
            .take(3)
        {
            suggestions.push(Suggestion {
                items: vec![i],
                score: 200,
            });
        }
    }
    suggestions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::evidence::RefHit;

    #[test]
    fn steps_print_as_the_decision_log_reads_them() {
        // Two steps in one small allocation per decision.
        assert!(std::mem::size_of::<Step>() <= 24);
        let item = OpenItem {
            invoice_id: "FA-2026-000006".into(),
            customer_id: "C0083407".into(),
            customer_name: "Boulangerie".into(),
            issue_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            currency: "EUR".into(),
            amount: Decimal::new(346624, 2),
            open_amount: Decimal::new(346624, 2),
            payment_reference: None,
        };
        let evidence = Evidence {
            references: vec![RefHit {
                item: 0,
                kind: RefKind::InvoiceNumber,
                found: Found::RemittanceText,
                text: "FA \"2026\" 000006".into(),
            }],
            ..Evidence::default()
        };
        let line = Line {
            amount: Decimal::new(344197, 2),
            charges: Decimal::new(150, 2),
            ..Line::default()
        };
        let mut outcome = Outcome::default();
        outcome.step(|| Step::Reference(0));
        outcome.step(|| Step::Due(Decimal::new(3466240, 3)));
        outcome.note_fixed("a fixed sentence");
        outcome.note(|| format!("a sentence of {}", 2));
        assert_eq!(outcome.notes.len(), 4);
        assert_eq!(
            outcome.notes_text(&line, &evidence, &[item], "\n"),
            "invoice number FA-2026-000006 found in remittance text as \"FA \\\"2026\\\" 000006\" (C0083407)\n\
             due 3466.240, paid 3441.97, charges reported 1.50\n\
             a fixed sentence\n\
             a sentence of 2"
        );
    }
}
