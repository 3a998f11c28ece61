//! Money that goes back out: a direct debit returned or rejected by the
//! payer's bank (SEPA R-transactions: AC04 account closed, AM04
//! insufficient funds, MD06 refund claimed, MS02 refused, ...) and a
//! bounced cheque. Such a debit reopens the invoice its collection or
//! deposit settled: an `invoice` row with a negative amount, the reason in
//! the rule column. A return the engine cannot tie to one settled invoice is
//! an exception, never a guess.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::Line;
use super::decide::{Kind, Outcome, Proposal, Reason, Suggestion};
use super::evidence::{Context, Evidence, Found, RefHit, RefKind};
use crate::apply::Book;
use crate::model::Method;

/// SEPA R-transaction reason codes (ISO 20022 ExternalReturnReason1Code
/// and the rejects' codes), each with its rule name.
const REASON_CODES: &[(&str, &str)] = &[
    ("AC01", "return_AC01"),
    ("AC04", "return_AC04"),
    ("AC06", "return_AC06"),
    ("AC13", "return_AC13"),
    ("AG01", "return_AG01"),
    ("AG02", "return_AG02"),
    ("AM04", "return_AM04"),
    ("AM05", "return_AM05"),
    ("BE05", "return_BE05"),
    ("CNOR", "return_CNOR"),
    ("DNOR", "return_DNOR"),
    ("FF01", "return_FF01"),
    ("MD01", "return_MD01"),
    ("MD02", "return_MD02"),
    ("MD06", "return_MD06"),
    ("MD07", "return_MD07"),
    ("MS02", "return_MS02"),
    ("MS03", "return_MS03"),
    ("RC01", "return_RC01"),
    ("RR01", "return_RR01"),
    ("RR02", "return_RR02"),
    ("RR03", "return_RR03"),
    ("RR04", "return_RR04"),
    ("SL01", "return_SL01"),
];

/// Words that make a debit a return when no code says so (upper case,
/// accents folded).
const RETURN_WORDS: &[&str] = &[
    "RETOUR",
    "REJET",
    "IMPAYE",
    "RETURN",
    "REVERSAL",
    "UNPAID",
    "RUCKLASTSCHRIFT",
    "RUECKLASTSCHRIFT",
];

/// Whether a debit line returns an earlier receipt, and the rule it
/// decides under: `return_<CODE>` for a known reason code, `cheque_returned`
/// for a bounced cheque, `return` otherwise. `None` for any other line.
pub fn return_rule(line: &Line) -> Option<&'static str> {
    if line.is_credit() {
        return None;
    }
    let text = crate::matching::text::fold(&format!(
        "{} {} {} {}",
        line.return_reason.as_deref().unwrap_or(""),
        line.remittance_text,
        line.other_text,
        line.bank_tx_code
    ))
    .to_ascii_uppercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let coded = line
        .return_reason
        .as_deref()
        .map(str::trim)
        .and_then(|code| {
            REASON_CODES
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(code))
        });
    if let Some((_, rule)) = coded {
        return Some(rule);
    }
    // ISO 20022 bank transaction codes of money taken back: unpaid
    // direct debit, reversal due to a return or a cancellation, unpaid
    // cheque.
    let code = line.bank_tx_code.to_ascii_uppercase();
    if ["UPCQ", "URCQ"].iter().any(|c| code.contains(c)) {
        return Some("cheque_returned");
    }
    if ["UPDD", "RRTN", "RPCR"].iter().any(|c| code.contains(c)) {
        return Some("return");
    }
    // A return word alone also says "goods returned" (a refund to a
    // customer): only with a direct-debit or cheque word, or a reason code,
    // is it money the bank took back.
    if !words.iter().any(|w| RETURN_WORDS.contains(w)) {
        return None;
    }
    if words
        .iter()
        .any(|w| matches!(*w, "CHEQUE" | "CHQ" | "CHECK"))
    {
        return Some("cheque_returned");
    }
    if let Some((_, rule)) = words
        .iter()
        .find_map(|w| REASON_CODES.iter().find(|(c, _)| c == w))
    {
        return Some(rule);
    }
    let direct_debit = words.iter().any(|w| DIRECT_DEBIT_WORDS.contains(w))
        || line.bank_tx_code.to_ascii_uppercase().contains("DDT");
    direct_debit.then_some("return")
}

/// Whether `rule` is one `return_rule` gives: the only rules under which
/// `apply` lets a row reopen an invoice.
pub fn is_return_rule(rule: &str) -> bool {
    rule == "return" || rule == "cheque_returned" || rule.starts_with("return_")
}

/// Shortest word of a return's text looked up as the original receipt's
/// cheque number or collection reference (French cheque numbers have 7
/// digits).
const RECEIPT_KEY_MIN: usize = 5;

/// Digits of a cheque number written inside a word (`N°1234567`).
const CHEQUE_DIGITS: std::ops::RangeInclusive<usize> = 5..=12;

/// A receipt a return may take back: the invoice it names, the amount it
/// brought for it, and its bank line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Receipt {
    item: u32,
    kind: RefKind,
    amount: Decimal,
    line: Option<u32>,
}

/// A bounced cheque names its cheque, a returned direct debit its original
/// end-to-end id, seldom the invoice. This ties such a debit (a return rule,
/// no invoice named) to the receipt it takes back, and through it to the
/// invoice:
/// - a bounced cheque (`cheque_returned`): by its cheque number, or a word
///   or digit run of its text, among the credit lines with that cheque
///   number (CAMT `Refs/ChqNb`) and the `cheque` settlement rows with that
///   transaction id;
/// - any other return: by its end-to-end id, or a word of its text, among
///   the credit lines with that end-to-end id and the `direct_debit`
///   settlement rows with that transaction id.
///
/// The receipt must name exactly one invoice and bring exactly the amount
/// returned; a key that two receipts share ties nothing. The invoice becomes
/// a reference of the debit (`Found::OriginalReceipt`) and the receipt's
/// line is kept in `Evidence::receipt`: `decide` reopens only what that
/// line did settle. Returns the receipt lines to watch, sorted.
///
/// Runs between evidence and decisions: what the receipts name is static,
/// so the independent groups see the tie; what they settled is read from
/// the book at decision time.
pub fn tie_returns(lines: &[Line], evidence: &mut [Evidence], cx: &Context<'_>) -> Vec<u32> {
    let wanted: Vec<usize> = evidence
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.returned.is_some()
                && !e
                    .references
                    .iter()
                    .any(|h| h.kind < RefKind::InvoiceFragment)
        })
        .map(|(at, _)| at)
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    type Receipts<'k> = HashMap<&'k str, Option<Receipt>>;
    fn add<'k>(receipts: &mut Receipts<'k>, key: &'k str, receipt: Option<Receipt>) {
        receipts
            .entry(key)
            .and_modify(|known| {
                if *known != receipt {
                    *known = None;
                }
            })
            .or_insert(receipt);
    }
    let strong = |e: &Evidence| -> Option<(u32, RefKind)> {
        let mut hits = e
            .references
            .iter()
            .filter(|h| h.kind < RefKind::InvoiceFragment);
        match (hits.next(), hits.next()) {
            (Some(h), None) => Some((h.item, h.kind)),
            _ => None,
        }
    };
    // The keys each return looks up, first: receipts are recorded only
    // under those (a million credit lines, a few thousand returns).
    let looked_up: Vec<(usize, bool, Vec<&str>)> = wanted
        .iter()
        .map(|&at| {
            let line = &lines[at];
            let cheque = evidence[at].returned == Some("cheque_returned");
            let mut keys: Vec<&str> = Vec::new();
            if cheque {
                keys.extend(line.cheque_number.as_deref());
            } else if !line.end_to_end_id.is_empty() {
                keys.push(&line.end_to_end_id);
            }
            for text in [&line.remittance_text, &line.other_text] {
                keys.extend(
                    text.split_whitespace()
                        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
                        .filter(|w| w.len() >= RECEIPT_KEY_MIN),
                );
                if cheque {
                    keys.extend(
                        text.split(|c: char| !c.is_ascii_digit())
                            .filter(|w| CHEQUE_DIGITS.contains(&w.len())),
                    );
                }
            }
            (at, cheque, keys)
        })
        .collect();
    let mut cheque_keys: HashSet<&str> = HashSet::new();
    let mut collection_keys: HashSet<&str> = HashSet::new();
    for (_, cheque, keys) in &looked_up {
        let set = if *cheque {
            &mut cheque_keys
        } else {
            &mut collection_keys
        };
        set.extend(keys.iter().copied());
    }
    let mut cheques: Receipts = HashMap::new();
    let mut collections: Receipts = HashMap::new();
    // The bank line each payout was linked to, when one was.
    let mut payout_line: HashMap<u32, Option<u32>> = HashMap::new();
    for (at, (line, found)) in lines.iter().zip(evidence.iter()).enumerate() {
        if let Some((settlement, _)) = found.settlement {
            payout_line
                .entry(settlement)
                .and_modify(|l| *l = None)
                .or_insert(Some(at as u32));
        }
        if !line.is_credit() {
            continue;
        }
        let receipt = || {
            strong(found).map(|(item, kind)| Receipt {
                item,
                kind,
                amount: line.amount,
                line: Some(at as u32),
            })
        };
        if let Some(number) = line.cheque_number.as_deref()
            && cheque_keys.contains(number)
        {
            add(&mut cheques, number, receipt());
        }
        if collection_keys.contains(line.end_to_end_id.as_str()) {
            add(&mut collections, line.end_to_end_id.as_str(), receipt());
        }
    }
    for (at, (settlement, plans)) in cx.settlements.iter().zip(cx.settlement_plans).enumerate() {
        let (receipts, keys) = match settlement.method {
            Method::Cheque => (&mut cheques, &cheque_keys),
            Method::DirectDebit => (&mut collections, &collection_keys),
            _ => continue,
        };
        let line = payout_line.get(&(at as u32)).copied().flatten();
        for (row, plan) in settlement.rows.iter().zip(plans) {
            let receipt = match plan.items[..] {
                [item] if plan.how == "invoice_id" => Some(Receipt {
                    item,
                    kind: RefKind::InvoiceNumber,
                    amount: row.gross_amount,
                    line,
                }),
                _ => None,
            };
            let key = row.transaction_id.trim();
            if keys.contains(key) {
                add(receipts, key, receipt);
            }
        }
    }
    let mut watched = Vec::new();
    for (at, cheque, keys) in looked_up {
        let line = &lines[at];
        let receipts = if cheque { &cheques } else { &collections };
        let returned = -line.amount;
        let mut found: Vec<(&str, Receipt)> = Vec::new();
        for key in keys {
            if let Some(Some(receipt)) = receipts.get(key)
                && receipt.amount == returned
                && !found.iter().any(|(_, r)| r == receipt)
            {
                found.push((key, *receipt));
            }
        }
        if let [(_, receipt)] = found[..] {
            evidence[at].receipt = receipt.line;
            watched.extend(receipt.line);
        }
        let references = &mut evidence[at].references;
        for (key, receipt) in found {
            if !references.iter().any(|h| h.item == receipt.item) {
                references.push(RefHit {
                    item: receipt.item,
                    kind: receipt.kind,
                    found: Found::OriginalReceipt,
                    text: key.to_string(),
                });
            }
        }
        references.sort_by_key(|h| h.item);
    }
    watched.sort_unstable();
    watched.dedup();
    watched
}

/// Words of a direct debit (upper case, accents folded).
const DIRECT_DEBIT_WORDS: &[&str] = &[
    "PRLV",
    "PRELEVEMENT",
    "SDD",
    "LASTSCHRIFT",
    "MANDAT",
    "MANDATE",
];

/// The return goes to a person, the one invoice it could concern offered.
fn to_person(out: &mut Outcome, returned: Decimal, reason: Reason, item: u32, detail: String) {
    out.note(|| detail.clone());
    out.review_detailed(
        returned,
        reason,
        vec![Suggestion {
            items: vec![item],
            score: 500,
        }],
        Some(detail),
    );
}

/// Reopens the one settled invoice a return names (see the module comment).
pub fn decide(
    line: &Line,
    evidence: &Evidence,
    cx: &Context<'_>,
    book: &Book,
    rule: &'static str,
    out: &mut Outcome,
) {
    out.rule = rule;
    let returned = -line.amount;
    // Fragments are too weak to take money back on.
    let mut named: Vec<(u32, RefKind)> = evidence
        .references
        .iter()
        .filter(|h| h.kind < RefKind::InvoiceFragment)
        .map(|h| (h.item, h.kind))
        .collect();
    named.sort_unstable();
    named.dedup_by_key(|h| h.0);
    let paid = |item: u32| cx.items[item as usize].amount - book.open(item);
    match named[..] {
        [] => {
            let detail = format!(
                "{}: no invoice named in the line; find the collection or deposit it returns",
                rule.replace('_', " ")
            );
            out.note(|| detail.clone());
            out.review_detailed(returned, Reason::NoCandidate, Vec::new(), Some(detail));
        }
        [(item, kind)] => {
            let invoice = &cx.items[item as usize];
            let by_receipt = evidence
                .references
                .iter()
                .any(|h| h.item == item && h.found == Found::OriginalReceipt);
            if invoice.currency != line.currency {
                let detail = format!(
                    "{} in {} of {}, an invoice in {}: for a person",
                    rule.replace('_', " "),
                    line.currency,
                    invoice.invoice_id,
                    invoice.currency
                );
                to_person(out, returned, Reason::CurrencyMismatch, item, detail);
                return;
            }
            let receipt_settled = evidence
                .receipt
                .map_or(Decimal::ZERO, |at| book.receipt_settled(at, item));
            if by_receipt && receipt_settled < returned {
                let detail = format!(
                    "{} of {returned}: the receipt it takes back settled {} of {}",
                    rule.replace('_', " "),
                    receipt_settled.max(Decimal::ZERO),
                    invoice.invoice_id
                );
                to_person(out, returned, Reason::AmountMismatch, item, detail);
                return;
            }
            if invoice.amount.is_sign_positive() && paid(item) >= returned {
                out.note(|| {
                    format!(
                        "{} returns {returned} of {} ({} settled): reopened",
                        rule.replace('_', " "),
                        invoice.invoice_id,
                        paid(item)
                    )
                });
                out.proposals.push(Proposal {
                    item: Some(item),
                    kind: Kind::Invoice,
                    amount: line.amount,
                    rule,
                    confidence: kind.confidence(),
                });
                out.customer = Some((cx.index.item_customer[item as usize], "return"));
            } else {
                let detail = format!(
                    "{} of {returned} names {}, of which only {} is settled",
                    rule.replace('_', " "),
                    invoice.invoice_id,
                    paid(item).max(Decimal::ZERO)
                );
                to_person(out, returned, Reason::AmountMismatch, item, detail);
            }
        }
        _ => {
            let detail = format!(
                "{} names {} invoices; which one it returns is for a person",
                rule.replace('_', " "),
                named.len()
            );
            out.note(|| detail.clone());
            let suggestions = named
                .iter()
                .filter(|&&(item, _)| paid(item) >= returned)
                .take(3)
                .map(|&(item, _)| Suggestion {
                    items: vec![item],
                    score: 600,
                })
                .collect();
            out.review_detailed(returned, Reason::Ambiguous, suggestions, Some(detail));
        }
    }
}
