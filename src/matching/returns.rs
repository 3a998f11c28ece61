//! Money that goes back out: a direct debit returned or rejected by the
//! payer's bank (SEPA R-transactions: AC04 account closed, AM04
//! insufficient funds, MD06 refund claimed, MS02 refused, ...) and a
//! bounced cheque. Such a debit reopens the invoice its collection or
//! deposit settled: an `invoice` row with a negative amount, the reason in
//! the rule column. A return the engine cannot tie to one settled invoice is
//! an exception, never a guess.

use std::collections::HashMap;

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

/// Shortest token of a return's text looked up as the original receipt's
/// cheque number or end-to-end id (French cheque numbers have 7 digits).
const RECEIPT_KEY_MIN: usize = 5;

/// A bounced cheque names its cheque, a returned direct debit its original
/// end-to-end id, seldom the invoice. This ties such a debit (a return rule,
/// no invoice named) to the invoice the original receipt paid. The receipt
/// is found by the return's cheque number, end-to-end id or a word of its
/// text. It is a credit line with that cheque number (CAMT `Refs/ChqNb`) or
/// end-to-end id and exactly one invoice reference, or a `cheque` or
/// `direct_debit` settlement row with that transaction id and an invoice
/// id. The invoice becomes a reference of the debit, found in
/// `Found::OriginalReceipt`. A key that two receipts share for different
/// invoices ties nothing.
///
/// Runs between evidence and decisions: static (what the receipts name,
/// not what they settled), so it needs no order and the independent
/// groups see the tie.
pub fn tie_returns(lines: &[Line], evidence: &mut [Evidence], cx: &Context<'_>) {
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
        return;
    }
    let mut receipts: HashMap<&str, Option<(u32, RefKind)>> = HashMap::new();
    let mut add = |key, hit: Option<(u32, RefKind)>| {
        receipts
            .entry(key)
            .and_modify(|known| {
                if *known != hit {
                    *known = None;
                }
            })
            .or_insert(hit);
    };
    for (line, found) in lines.iter().zip(evidence.iter()) {
        if !line.is_credit() {
            continue;
        }
        if let Some(number) = line.cheque_number.as_deref() {
            add(number, strong(found));
        }
        if !line.end_to_end_id.is_empty() {
            add(line.end_to_end_id.as_str(), strong(found));
        }
    }
    for (settlement, plans) in cx.settlements.iter().zip(cx.settlement_plans) {
        if !matches!(settlement.method, Method::Cheque | Method::DirectDebit) {
            continue;
        }
        for (row, plan) in settlement.rows.iter().zip(plans) {
            let hit = match plan.items[..] {
                [item] if plan.how == "invoice_id" => Some((item, RefKind::InvoiceNumber)),
                _ => None,
            };
            add(row.transaction_id.trim(), hit);
        }
    }
    for at in wanted {
        let line = &lines[at];
        let mut keys: Vec<&str> = line.cheque_number.as_deref().into_iter().collect();
        if !line.end_to_end_id.is_empty() {
            keys.push(&line.end_to_end_id);
        }
        for text in [&line.remittance_text, &line.other_text] {
            // Words as written (`TX-998877`), their letter-digit runs, and
            // their digit runs (`N°1234567`, `CHQ1234567`).
            let words = text
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()));
            keys.extend(
                words
                    .chain(text.split(|c: char| !c.is_ascii_alphanumeric()))
                    .chain(text.split(|c: char| !c.is_ascii_digit()))
                    .filter(|w| w.len() >= RECEIPT_KEY_MIN),
            );
        }
        let references = &mut evidence[at].references;
        for key in keys {
            if let Some(Some((item, kind))) = receipts.get(key) {
                if references.iter().any(|h| h.item == *item) {
                    continue;
                }
                references.push(RefHit {
                    item: *item,
                    kind: *kind,
                    found: Found::OriginalReceipt,
                    text: key.to_string(),
                });
            }
        }
        references.sort_by_key(|h| h.item);
    }
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
                out.note(|| detail.clone());
                out.review_detailed(
                    returned,
                    Reason::AmountMismatch,
                    vec![Suggestion {
                        items: vec![item],
                        score: 500,
                    }],
                    Some(detail),
                );
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
