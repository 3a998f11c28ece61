//! The files of `recon run --out DIR`, exactly as the contract lays them
//! out: allocations.csv, exceptions.csv, disputes.csv, open_items.csv,
//! journal.fec.txt; and the run summary. Pure: `RunResult` in, bytes out.
//!
//! Amounts are written in the currency's minor units (2 decimals for EUR),
//! from exact decimals; the FEC uses the comma decimal separator French
//! accounting software expects.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::matching::Line;
use crate::matching::decide::{Kind, Reason};
use crate::run::RunResult;

/// Decimals of a currency's minor unit (ISO 4217).
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" | "XPF" | "UGX" | "PYG" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

/// An amount with the currency's decimals; an amount with more (a bank's
/// five-decimal line) keeps them: exact, never rounded away.
pub fn money(amount: Decimal, currency: &str) -> String {
    let decimals = minor_units(currency).max(amount.normalize().scale());
    format!("{:.*}", decimals as usize, amount)
}

fn confidence(per_mille: u16) -> String {
    format!("{}.{:03}", per_mille / 1000, per_mille % 1000)
}

fn date(line: &Line) -> String {
    line.value_date.map(|d| d.to_string()).unwrap_or_default()
}

fn csv_text(rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&row);
    }
    writer.into_inner().unwrap_or_default()
}

pub fn allocations_csv(result: &RunResult) -> Vec<u8> {
    let mut rows = vec![
        [
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
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (line, decision) in result.lines.iter().zip(&result.decisions) {
        let line_customer = decision
            .outcome
            .customer
            .map(|c| result.customer_ids[c.0 as usize].clone())
            .unwrap_or_default();
        for proposal in &decision.outcome.proposals {
            let (invoice_id, customer_id) = match proposal.item {
                Some(i) => {
                    let item = &result.items[i as usize];
                    (item.invoice_id.clone(), item.customer_id.clone())
                }
                None => (String::new(), line_customer.clone()),
            };
            rows.push(vec![
                line.line_id.clone(),
                line.bank_ref.clone(),
                date(line),
                invoice_id,
                customer_id,
                money(proposal.amount, &line.currency),
                line.currency.clone(),
                proposal.kind.name().to_string(),
                proposal.rule.to_string(),
                confidence(proposal.confidence),
                decision.lettrage.clone().unwrap_or_default(),
            ]);
        }
    }
    csv_text(rows)
}

pub fn exceptions_csv(result: &RunResult) -> Vec<u8> {
    let mut rows = vec![
        [
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
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (line, decision) in result.lines.iter().zip(&result.decisions) {
        for review in &decision.outcome.reviews {
            let suggestions: Vec<String> = review
                .suggestions
                .iter()
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
            rows.push(vec![
                line.line_id.clone(),
                line.bank_ref.clone(),
                date(line),
                money(review.amount, &line.currency),
                if line.amount.is_sign_negative() {
                    "debit"
                } else {
                    "credit"
                }
                .to_string(),
                line.currency.clone(),
                review.reason.name().to_string(),
                suggestions.join("|"),
                line.payer_name.clone(),
                line.remittance_text.clone(),
            ]);
        }
    }
    csv_text(rows)
}

pub fn disputes_csv(result: &RunResult) -> Vec<u8> {
    let mut rows = vec![
        [
            "invoice_id",
            "customer_id",
            "amount",
            "currency",
            "reason",
            "source",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (line, decision) in result.lines.iter().zip(&result.decisions) {
        for dispute in &decision.outcome.disputes {
            let item = &result.items[dispute.item as usize];
            rows.push(vec![
                item.invoice_id.clone(),
                item.customer_id.clone(),
                money(dispute.amount, &item.currency),
                item.currency.clone(),
                dispute.reason.clone(),
                format!(
                    "{} {}",
                    result.advices[dispute.advice as usize].advice_id, line.line_id
                ),
            ]);
        }
    }
    csv_text(rows)
}

pub fn open_items_csv(result: &RunResult) -> Vec<u8> {
    let mut rows = vec![
        [
            "invoice_id",
            "customer_id",
            "customer_name",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "open_amount",
            "payment_reference",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (item, open) in result.items.iter().zip(&result.open_after) {
        rows.push(vec![
            item.invoice_id.clone(),
            item.customer_id.clone(),
            item.customer_name.clone(),
            item.issue_date.to_string(),
            item.due_date.to_string(),
            item.currency.clone(),
            money(item.amount, &item.currency),
            money(*open, &item.currency),
            item.payment_reference.clone().unwrap_or_default(),
        ]);
    }
    csv_text(rows)
}

/// FEC amount: comma decimal separator, no thousands separator.
fn fec_amount(amount: Decimal, currency: &str) -> String {
    money(amount, currency).replace('.', ",")
}

/// The journal in the FEC layout: one entry per bank line, balanced.
pub fn journal_fec(result: &RunResult) -> Vec<u8> {
    let config = &result.config;
    let accounts = &config.accounts;
    let mut text = String::from(
        "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise\n",
    );
    let mut number = 0u64;
    let mut at = 0;
    while at < result.lines.len() {
        // The details of a batch entry form one entry with their line.
        let first = &result.lines[at];
        let mut end = at + 1;
        while end < result.lines.len() && result.lines[end].line_id == first.line_id {
            end += 1;
        }
        let total: Decimal = result.lines[at..end].iter().map(|l| l.amount).sum();
        if total.is_zero()
            && result.decisions[at..end]
                .iter()
                .all(|d| d.outcome.proposals.is_empty())
        {
            at = end;
            continue;
        }
        number += 1;
        let currency = &first.currency;
        let day = first
            .booking_date
            .or(first.value_date)
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default();
        let value_day = first
            .value_date
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default();
        let piece = if first.bank_ref.is_empty() {
            first.line_id.clone()
        } else {
            first.bank_ref.clone()
        };
        let label = clean(&if first.payer_name.is_empty() {
            first.remittance_text.clone()
        } else {
            first.payer_name.clone()
        });
        let foreign = currency != "EUR";
        let mut row = |account: &str,
                       account_label: &str,
                       aux: &str,
                       aux_label: &str,
                       amount: Decimal,
                       lettrage: &str| {
            // Positive = debit.
            let (debit, credit) = if amount.is_sign_negative() {
                (Decimal::ZERO, -amount)
            } else {
                (amount, Decimal::ZERO)
            };
            let _ = writeln!(
                text,
                "{}\t{}\t{number}\t{day}\t{account}\t{account_label}\t{aux}\t{aux_label}\t{piece}\t{value_day}\t{label}\t{}\t{}\t{lettrage}\t{}\t{day}\t{}\t{}",
                config.journal.code,
                config.journal.label,
                fec_amount(debit, currency),
                fec_amount(credit, currency),
                if lettrage.is_empty() {
                    ""
                } else {
                    value_day.as_str()
                },
                if foreign {
                    fec_amount(amount.abs(), currency)
                } else {
                    String::new()
                },
                if foreign { currency.as_str() } else { "" },
            );
        };
        let bank = accounts
            .bank
            .get(&first.account)
            .unwrap_or(&accounts.bank_default);
        row(bank, "Banque", "", "", total, "");
        for (line, decision) in result.lines[at..end].iter().zip(&result.decisions[at..end]) {
            let lettrage = decision.lettrage.as_deref().unwrap_or("");
            for proposal in &decision.outcome.proposals {
                match (proposal.kind, proposal.item) {
                    (Kind::Invoice, Some(i)) => {
                        let item = &result.items[i as usize];
                        row(
                            &accounts.customers,
                            "Clients",
                            &item.customer_id,
                            &clean(&item.customer_name),
                            -proposal.amount,
                            lettrage,
                        );
                    }
                    (Kind::BankFee, _) => row(
                        &accounts.bank_fees,
                        "Frais bancaires",
                        "",
                        "",
                        -proposal.amount,
                        "",
                    ),
                    (Kind::Discount, _) => row(
                        &accounts.discounts_granted,
                        "Escomptes accordes",
                        "",
                        "",
                        -proposal.amount,
                        "",
                    ),
                    (Kind::Writeoff, _) if proposal.amount.is_sign_negative() => row(
                        &accounts.payment_difference_loss,
                        "Ecarts de reglement (charge)",
                        "",
                        "",
                        -proposal.amount,
                        "",
                    ),
                    (Kind::Writeoff, _) => row(
                        &accounts.payment_difference_gain,
                        "Ecarts de reglement (produit)",
                        "",
                        "",
                        -proposal.amount,
                        "",
                    ),
                    (Kind::Fx, _) if proposal.amount.is_sign_negative() => row(
                        &accounts.exchange_loss,
                        "Pertes de change",
                        "",
                        "",
                        -proposal.amount,
                        "",
                    ),
                    (Kind::Fx, _) => row(
                        &accounts.exchange_gain,
                        "Gains de change",
                        "",
                        "",
                        -proposal.amount,
                        "",
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
                    row(&accounts.suspense, "Compte d'attente", "", "", signed, "");
                }
            }
        }
        at = end;
    }
    text.into_bytes()
}

/// FEC fields may not hold tabs or line breaks.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .take(100)
        .collect()
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
}

impl Summary {
    pub fn of(result: &RunResult) -> Summary {
        let mut by_entry: BTreeMap<&str, (bool, bool, bool, Decimal, bool)> = BTreeMap::new();
        let mut exceptions_by_reason: BTreeMap<String, usize> = BTreeMap::new();
        let mut applied = Decimal::ZERO;
        let mut received = Decimal::ZERO;
        let mut applied_credit_value = Decimal::ZERO;
        let mut disputes = 0;
        let mut exceptions = 0;
        for (line, decision) in result.lines.iter().zip(&result.decisions) {
            let outcome = &decision.outcome;
            let entry = by_entry.entry(line.line_id.as_str()).or_insert((
                true,
                false,
                false,
                line.entry_amount,
                false,
            ));
            let invoice_rows = outcome.proposals.iter().any(|p| p.kind == Kind::Invoice);
            entry.0 &= outcome.reviews.is_empty() && invoice_rows;
            entry.1 |= invoice_rows;
            entry.2 |= line.is_credit();
            entry.4 |= outcome.customer.is_some();
            let line_applied: Decimal = outcome
                .proposals
                .iter()
                .filter(|p| p.kind == Kind::Invoice)
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
                *exceptions_by_reason
                    .entry(review.reason.name().to_string())
                    .or_default() += 1;
            }
            disputes += outcome.disputes.len();
        }
        let credit_lines = by_entry.values().filter(|e| e.2).count();
        let fully = by_entry.values().filter(|e| e.0).count();
        let partly = by_entry.values().filter(|e| e.1 && !e.0).count();
        let rate = |a: f64, b: f64| {
            if b == 0.0 {
                0.0
            } else {
                (a / b * 10_000.0).round() / 10_000.0
            }
        };
        Summary {
            lines_read: by_entry.len(),
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
            customers_identified: by_entry.values().filter(|e| e.4).count(),
            disputes,
            stage_ms: BTreeMap::new(),
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
/// order: the evidence found, the rule that decided, the reasoning steps
/// and the rows written. What `recon explain` reads.
pub fn decisions_jsonl(result: &RunResult) -> Vec<u8> {
    let mut out = String::new();
    for (line, decision) in result.lines.iter().zip(&result.decisions) {
        let evidence = &decision.evidence;
        let references: Vec<serde_json::Value> = evidence
            .references
            .iter()
            .map(|h| {
                serde_json::json!({
                    "invoice_id": result.items[h.item as usize].invoice_id,
                    "kind": h.kind.rule(),
                    "found_in": h.found,
                    "text": h.text,
                })
            })
            .collect();
        let customer = decision.outcome.customer.map(|(c, how)| {
            serde_json::json!({ "customer_id": result.customer_ids[c as usize], "how": how })
        });
        let record = serde_json::json!({
            "line_id": line.line_id,
            "detail": line.detail,
            "bank_ref": line.bank_ref,
            "value_date": date(line),
            "amount": line.amount.to_string(),
            "currency": line.currency,
            "payer_name": line.payer_name,
            "payer_iban": line.payer_iban,
            "remittance_text": line.remittance_text,
            "references": references,
            "advices": evidence.advices.iter().map(|(a, how)| serde_json::json!({"advice_id": result.advices[*a as usize].advice_id, "how": how})).collect::<Vec<_>>(),
            "customer": customer,
            "not_receivable_sign": evidence.not_receivable,
            "rule": decision.outcome.rule,
            "notes": decision.outcome.notes,
            "allocations": decision.outcome.proposals.iter().map(|p| serde_json::json!({
                "invoice_id": p.item.map(|i| result.items[i as usize].invoice_id.clone()),
                "kind": p.kind.name(),
                "amount": p.amount.to_string(),
                "rule": p.rule,
            })).collect::<Vec<_>>(),
            "exceptions": decision.outcome.reviews.iter().map(|r| serde_json::json!({
                "reason": r.reason.name(),
                "amount": r.amount.to_string(),
                "suggestions": r.suggestions.iter().map(|s| serde_json::json!({
                    "invoices": s.items.iter().map(|&i| result.items[i as usize].invoice_id.clone()).collect::<Vec<_>>(),
                    "score": confidence(s.score.min(1000)),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "lettrage": decision.lettrage,
        });
        out.push_str(&record.to_string());
        out.push('\n');
    }
    out.into_bytes()
}
