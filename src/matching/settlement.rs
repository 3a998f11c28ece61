//! Settlement reports (`--settlements`): one bank credit (a card or PSP
//! payout, a direct-debit collection, a cheque deposit, an LCR remittance)
//! covering many customer payments net of fees.
//!
//! 1. `plans` (before the run, pure): for each row of each settlement, the
//!    customer and the open items it can settle: by the provider's
//!    `invoice_id` (as issued or altered, as for advices), else by the
//!    customer (`customer_id`, else the exact normalised `payer_name`) and
//!    the row's gross amount. The line groups of `run` include these items'
//!    customers, so a payout is decided with everything it can touch.
//! 2. `link` (evidence, pure): the bank line of a payout, by its payout
//!    reference in the line's texts, else by net total, currency, a date
//!    window and a compatible method, when exactly one payout fits.
//! 3. `decide` (in line order, against the open amounts): the rows' net
//!    total must equal the line, else the whole line is an
//!    `amount_mismatch` naming the difference. Each charge settles its
//!    invoice like a payment of its own (refunds and chargebacks of the same
//!    invoice in the payout reduce it); fees are one `bank_fee` row; what
//!    no open item takes goes to review. A refund, chargeback or
//!    adjustment that names no invoice this payout pays sends the whole
//!    line to review: money given back is never guessed.

use std::collections::HashMap;

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::Line;
use super::decide::{Kind, Outcome, Proposal, Reason};
use super::evidence::Context;
use super::index::{KeyShape, cents};
use super::text::{compact, name_key, token_spans};
use crate::apply::Book;
use crate::config::Twins;
use crate::model::{Method, RowKind, Settlement};

/// Tokens of a line's text joined to find a payout reference.
const JOIN_TOKENS_MAX: usize = 4;

/// What one settlement row can settle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowPlan {
    pub customer: Option<u32>,
    /// Candidate open items, oldest due date first.
    pub items: Vec<u32>,
    /// How they were found: `invoice_id`, `customer_amount`, or `none`.
    pub how: &'static str,
}

/// Payouts by normalised reference and by net total, for `link`.
#[derive(Debug, Default)]
pub struct SettlementIndex {
    by_reference: crate::apply::IndexMap<String, Vec<u32>>,
    /// The shape of the payout references: `link` looks up only the runs
    /// of text that could be one (every credit line is scanned).
    reference_shape: KeyShape,
    by_amount: HashMap<i64, Vec<u32>>,
}

impl SettlementIndex {
    pub fn build(settlements: &[Settlement]) -> SettlementIndex {
        let mut index = SettlementIndex::default();
        for (at, settlement) in settlements.iter().enumerate() {
            if let Some(reference) = &settlement.payout_reference {
                let key = compact(reference);
                if key.len() >= 4 {
                    index.reference_shape.add_compact(&key);
                    index.by_reference.entry(key).or_default().push(at as u32);
                }
            }
            if let Some(total) = cents(settlement.net_total()) {
                index.by_amount.entry(total).or_default().push(at as u32);
            }
        }
        index
    }
}

/// The rule name of a payout's rows, per method.
pub fn rule(method: Method) -> &'static str {
    match method {
        Method::Card => "card_payout",
        Method::Psp => "psp_payout",
        Method::DirectDebit => "direct_debit_collection",
        Method::Cheque => "cheque_deposit",
        Method::Lcr => "lcr_remittance",
        Method::Transfer => "transfer_batch",
    }
}

/// `link`'s buffers, one set per thread.
#[derive(Default)]
pub struct LinkScratch {
    /// Token spans (byte ranges) of the text looked at.
    words: Vec<(usize, usize)>,
    key: String,
    found: Vec<u32>,
}

/// The rows' plans of every settlement (see the module comment).
pub fn plans(settlements: &[Settlement], cx: &Context<'_>) -> Vec<Vec<RowPlan>> {
    // In parallel, payout by payout (a fifth of a second on one core for
    // the 370,000 rows of a million-line run).
    settlements
        .par_iter()
        .map(|settlement| {
            settlement
                .rows
                .iter()
                .map(|row| {
                    let customer = row
                        .customer_id
                        .as_ref()
                        .and_then(|id| cx.index.customer_ids.get(id).copied())
                        .or_else(|| {
                            let name = name_key(row.payer_name.as_deref()?);
                            match cx.index.names.get(&name).map(Vec::as_slice) {
                                Some([one]) => Some(*one),
                                _ => None,
                            }
                        });
                    let same_currency =
                        |item: &u32| cx.items[*item as usize].currency == settlement.currency;
                    if let Some(invoice) = &row.invoice_id {
                        let mut items = super::decide::quoted_candidates(invoice, cx);
                        items.retain(same_currency);
                        if items.len() > 1
                            && let Some(customer) = customer
                        {
                            items.retain(|&i| cx.index.item_customer[i as usize] == customer);
                        }
                        let customer = customer
                            .or_else(|| items.first().map(|&i| cx.index.item_customer[i as usize]));
                        return RowPlan {
                            customer,
                            items,
                            how: "invoice_id",
                        };
                    }
                    match (customer, row.kind) {
                        (Some(c), RowKind::Charge) => RowPlan {
                            customer,
                            items: cx.index.customer_items[c as usize]
                                .iter()
                                .copied()
                                .filter(|&i| {
                                    same_currency(&i)
                                        && cx.items[i as usize].open_amount == row.gross_amount
                                })
                                .collect(),
                            how: "customer_amount",
                        },
                        _ => RowPlan {
                            customer,
                            items: Vec::new(),
                            how: "none",
                        },
                    }
                })
                .collect()
        })
        .collect()
}

/// The method a bank line reads as, when its code or words say (`None`:
/// it could be any).
fn line_method(line: &Line) -> Option<Method> {
    let code = line.bank_tx_code.to_ascii_uppercase();
    let text = format!(
        " {} {} {} ",
        line.payer_name, line.remittance_text, line.other_text
    )
    .to_ascii_uppercase();
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if code.contains("CCRD") || says(&[" CB ", " CARTE ", " CARD ", "VISA", "MASTERCARD", "AMEX"]) {
        Some(Method::Card)
    } else if code.contains("DDT") || says(&["PRLV", "PRELEVEMENT", " SDD ", "DIRECT DEBIT"]) {
        Some(Method::DirectDebit)
    } else if code.contains("CHQ") || says(&["CHEQUE", " CHQ ", "CHECK"]) {
        Some(Method::Cheque)
    } else if says(&[" LCR ", "LETTRE DE CHANGE", "EFFETS"]) {
        Some(Method::Lcr)
    } else if says(&[
        "STRIPE",
        "ADYEN",
        "PAYPAL",
        "MOLLIE",
        "PAYPLUG",
        "LEMONWAY",
        "SUMUP",
        "GOCARDLESS",
    ]) {
        Some(Method::Psp)
    } else {
        None
    }
}

/// The payout a credit line pays out, and how it was linked. By amount
/// only for a line that names no invoice and reads as the payout's method
/// (its code or its words: a provider's name, `REMISE CHEQUES`, ...): an
/// amount alone is too common to take a customer's payment for a payout
/// (measured: 1M generated lines linked 30 customer payments to PSP
/// payouts of the same total before this rule).
pub fn link(
    line: &Line,
    cx: &Context<'_>,
    names_invoices: bool,
    scratch: &mut LinkScratch,
) -> Option<(u32, &'static str)> {
    if cx.settlements.is_empty() || !line.is_credit() {
        return None;
    }
    let index = cx.settlement_index;
    // Every credit line is looked at when payouts exist: the buffers are
    // the thread's, reused line after line (see `evidence::Scratch`).
    let LinkScratch { words, key, found } = scratch;
    found.clear();
    for text in [
        line.end_to_end_id.as_str(),
        line.remittance_text.as_str(),
        line.other_text.as_str(),
        line.bank_ref.as_str(),
    ] {
        words.clear();
        words.extend(token_spans(text).take(400));
        for start in 0..words.len() {
            key.clear();
            for &(from, to) in words[start..].iter().take(JOIN_TOKENS_MAX) {
                let at = key.len();
                key.push_str(&text[from..to]);
                key[at..].make_ascii_uppercase();
                let bytes = key.as_bytes();
                if bytes.len() >= 2 && !index.reference_shape.may_start(bytes[0], bytes[1]) {
                    // Every longer run from here starts the same way.
                    break;
                }
                if key.len() >= 4
                    && index.reference_shape.may_be(bytes)
                    && let Some(list) = index.by_reference.get(key.as_str())
                {
                    found.extend(list);
                }
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found.retain(|&s| cx.settlements[s as usize].currency == line.currency);
    if let [one] = found[..] {
        return Some((one, "payout_reference"));
    }
    if !found.is_empty() {
        return None;
    }
    if names_invoices {
        return None;
    }
    let method = line_method(line)?;
    let date = line.value_date.or(line.booking_date)?;
    let mut fitting: Vec<u32> = index
        .by_amount
        .get(&cents(line.amount)?)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .copied()
        .filter(|&s| {
            let settlement = &cx.settlements[s as usize];
            settlement.currency == line.currency
                && (date - settlement.payout_date).num_days().abs() <= cx.config.advice_window_days
                && method == settlement.method
                // A payout that names its reference is linked by it only.
                && settlement.payout_reference.is_none()
        })
        .collect();
    fitting.dedup();
    match fitting[..] {
        [one] => Some((one, "payout_amount_date")),
        _ => None,
    }
}

/// Settles a linked payout's rows (see the module comment).
pub fn decide(line: &Line, cx: &Context<'_>, book: &Book, at: u32, how: &str, out: &mut Outcome) {
    let settlement = &cx.settlements[at as usize];
    let plans = &cx.settlement_plans[at as usize];
    let rule = rule(settlement.method);
    out.settlement_used = Some(at);
    out.rule = rule;
    out.note(|| {
        format!(
            "{} payout {} ({} rows) linked by {}",
            settlement.method.name(),
            settlement.settlement_id,
            settlement.rows.len(),
            how.replace('_', " ")
        )
    });
    let total = settlement.net_total();
    if total != line.amount {
        let detail = format!(
            "payout {}: rows net {total}, bank line {}, difference {}",
            settlement.settlement_id,
            line.amount,
            line.amount - total
        );
        out.note(|| detail.clone());
        // The invoices the rows name, offered as they stand.
        let mut items: Vec<u32> = plans
            .iter()
            .filter_map(|plan| match plan.items[..] {
                [one] => Some(one),
                _ => None,
            })
            .collect();
        items.sort_unstable();
        items.dedup();
        let suggestions = if items.is_empty() {
            Vec::new()
        } else {
            vec![super::decide::Suggestion { items, score: 700 }]
        };
        out.review_detailed(
            line.amount,
            Reason::AmountMismatch,
            suggestions,
            Some(detail),
        );
        return;
    }
    // Per item, what the payout's rows pay on it (charges less refunds and
    // chargebacks), in first-row order.
    let mut per_item: Vec<(u32, Decimal, &'static str)> = Vec::new();
    // Item -> its position in `per_item` (a payout may have 10,000 rows).
    let mut position: HashMap<u32, usize> = HashMap::new();
    let mut fees = Decimal::ZERO;
    let mut unexplained = Decimal::ZERO;
    let mut reason: Option<Reason> = None;
    // The first thing left for a person, for exceptions.csv.
    let mut detail: Option<String> = None;
    let mut given_back_untied = false;
    for (row, plan) in settlement.rows.iter().zip(plans) {
        fees += row.fee_amount;
        let gross = row.gross_amount;
        match row.kind {
            RowKind::Fee => fees -= gross,
            RowKind::Adjustment => {
                given_back_untied |= gross.is_sign_negative();
                unexplained += gross;
                reason.get_or_insert(Reason::PartialRemittance);
                let what = format!(
                    "payout {} row {}: an adjustment of {gross}",
                    settlement.settlement_id, row.line
                );
                out.note(|| what.clone());
                detail.get_or_insert(what);
            }
            RowKind::Charge | RowKind::Refund | RowKind::Chargeback => {
                let open = |item: u32| {
                    book.open(item)
                        - position
                            .get(&item)
                            .map_or(Decimal::ZERO, |&p| per_item[p].1)
                };
                let chosen = match plan.how {
                    "invoice_id" => match plan.items[..] {
                        [one] => Some(one),
                        _ => None,
                    },
                    "customer_amount" if row.kind == RowKind::Charge => {
                        let fitting: Vec<u32> = plan
                            .items
                            .iter()
                            .copied()
                            .filter(|&i| open(i) == gross)
                            .collect();
                        match fitting[..] {
                            [one] => Some(one),
                            [oldest, ..] if cx.config.twins == Twins::Oldest => Some(oldest),
                            _ => None,
                        }
                    }
                    // Money given back to a customer the payout names
                    // only: the one invoice of theirs it pays.
                    "none" if row.kind != RowKind::Charge => {
                        let theirs: Vec<u32> = per_item
                            .iter()
                            .map(|p| p.0)
                            .filter(|&i| Some(cx.index.item_customer[i as usize]) == plan.customer)
                            .collect();
                        match theirs[..] {
                            [one] => Some(one),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match chosen {
                    Some(item) => match position.get(&item) {
                        Some(&at) => per_item[at].1 += gross,
                        None => {
                            position.insert(item, per_item.len());
                            per_item.push((item, gross, plan.how));
                        }
                    },
                    None if row.kind == RowKind::Charge => {
                        unexplained += gross;
                        let why = if plan.items.len() > 1 {
                            Reason::Ambiguous
                        } else if row.invoice_id.is_some() {
                            Reason::PartialRemittance
                        } else if plan.customer.is_some() {
                            Reason::NoCandidate
                        } else {
                            Reason::UnknownPayer
                        };
                        reason.get_or_insert(why);
                        let what = format!(
                            "payout {} row {} ({}): charge of {gross} for {}: no single open item",
                            settlement.settlement_id,
                            row.line,
                            row.transaction_id,
                            row.invoice_id
                                .as_deref()
                                .or(row.payer_name.as_deref())
                                .unwrap_or("no invoice, no payer")
                        );
                        out.note(|| what.clone());
                        detail.get_or_insert(what);
                    }
                    None => {
                        given_back_untied = true;
                        out.note(|| {
                            format!(
                                "row {} ({}): {} of {gross} names no invoice of this payout",
                                row.line,
                                row.transaction_id,
                                row.kind.name()
                            )
                        });
                    }
                }
            }
        }
    }
    let mut proposals: Vec<Proposal> = Vec::new();
    for &(item, paid, how) in &per_item {
        let open = book.open(item);
        if paid.is_sign_negative() {
            // Given back more than this payout paid on it: reopening an
            // invoice is a person's decision.
            given_back_untied = true;
            out.note(|| {
                format!(
                    "{}: refunds and chargebacks exceed what the payout pays on it",
                    cx.items[item as usize].invoice_id
                )
            });
            continue;
        }
        if paid.is_zero() {
            continue;
        }
        let applied = if open.is_sign_positive() {
            paid.min(open)
        } else {
            Decimal::ZERO
        };
        if applied < paid {
            unexplained += paid - applied;
            reason.get_or_insert(if open.is_zero() {
                Reason::DuplicatePayment
            } else {
                Reason::Overpayment
            });
            let what = format!(
                "payout {}: pays {paid} on {}, {open} is open",
                settlement.settlement_id, cx.items[item as usize].invoice_id
            );
            out.note(|| what.clone());
            detail.get_or_insert(what);
        }
        if !applied.is_zero() {
            proposals.push(Proposal {
                item: Some(item),
                kind: Kind::Invoice,
                amount: applied,
                rule,
                confidence: if how == "invoice_id" { 960 } else { 900 },
            });
        }
    }
    if given_back_untied || unexplained.is_sign_negative() {
        let what = format!(
            "payout {}: money given back (refund, chargeback or adjustment) that no invoice of the payout explains",
            settlement.settlement_id
        );
        out.note(|| format!("{what}: the whole line goes to review"));
        out.review_detailed(
            line.amount,
            Reason::PartialRemittance,
            Vec::new(),
            Some(what),
        );
        return;
    }
    if !fees.is_zero() {
        proposals.push(Proposal {
            item: None,
            kind: Kind::BankFee,
            amount: -fees,
            rule,
            confidence: 990,
        });
        out.note(|| {
            format!(
                "fees withheld by the provider: {}",
                crate::money::Plain(fees)
            )
        });
    }
    let applied: Decimal = proposals.iter().map(|p| p.amount).sum();
    let rest = line.amount - applied;
    out.proposals = proposals;
    if !rest.is_zero() {
        out.review_detailed(
            rest,
            reason.unwrap_or(Reason::NoCandidate),
            Vec::new(),
            detail,
        );
    }
}
