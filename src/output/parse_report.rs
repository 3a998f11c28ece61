//! `recon parse` output: one JSON object per statement (JSON Lines) with the
//! fields the contract lists, or a human table.
//!
//! Amounts are exact decimal strings, never JSON numbers, so no consumer
//! ever rounds them through a float.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{Charge, Entry, RemittanceAdvice, Statement, Transaction};

#[derive(Serialize)]
struct StatementJson<'a> {
    format: &'static str,
    version: Option<&'a str>,
    file: &'a str,
    account: &'a str,
    currency: Option<&'a str>,
    servicer_bic: Option<&'a str>,
    statement_id: &'a str,
    message_id: Option<&'a str>,
    electronic_sequence: Option<&'a str>,
    legal_sequence: Option<&'a str>,
    page_number: Option<&'a str>,
    page_last: Option<bool>,
    created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opening_balance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closing_balance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opening_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closing_date: Option<String>,
    balance_ok: Option<bool>,
    warnings: &'a [String],
    entries: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct ChargeJson<'a> {
    amount: String,
    currency: &'a str,
    included: Option<bool>,
    kind: Option<&'a str>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    line_id: &'a str,
    bank_ref: Option<&'a str>,
    entry_ref: Option<&'a str>,
    status: crate::model::EntryStatus,
    reversal: bool,
    booking_date: Option<String>,
    value_date: Option<String>,
    amount: String,
    currency: &'a str,
    payer_name: Option<&'a str>,
    payer_iban: Option<&'a str>,
    remittance_text: String,
    end_to_end_id: Option<&'a str>,
    creditor_reference: Option<&'a str>,
    bank_tx_code: String,
    charges: Vec<ChargeJson<'a>>,
    details: Vec<DetailJson<'a>>,
}

#[derive(Serialize)]
struct DetailJson<'a> {
    bank_ref: Option<&'a str>,
    amount: Option<String>,
    currency: Option<&'a str>,
    payer_name: Option<&'a str>,
    payer_iban: Option<&'a str>,
    remittance_text: String,
    end_to_end_id: Option<&'a str>,
    creditor_reference: Option<&'a str>,
    bank_tx_code: String,
    charges: Vec<ChargeJson<'a>>,
}

fn charges_json(charges: &[Charge]) -> Vec<ChargeJson<'_>> {
    charges
        .iter()
        .map(|c| ChargeJson {
            amount: c.amount.amount.to_string(),
            currency: &c.amount.currency,
            included: c.included,
            kind: c.kind.as_deref(),
        })
        .collect()
}

fn transaction_text(transaction: &Transaction) -> String {
    transaction
        .remittance_lines
        .iter()
        .chain(&transaction.additional_remittance)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The payer of a transaction: the debtor of a credit, the creditor of a debit.
fn payer(transaction: &Transaction, credit: bool) -> &crate::model::Party {
    if credit {
        &transaction.debtor
    } else {
        &transaction.creditor
    }
}

fn detail_json(transaction: &Transaction, credit: bool) -> DetailJson<'_> {
    let credit = transaction
        .amount
        .as_ref()
        .map_or(credit, |m| !m.amount.is_sign_negative());
    let party = payer(transaction, credit);
    DetailJson {
        bank_ref: transaction.bank_ref.as_deref(),
        amount: transaction.amount.as_ref().map(|m| m.amount.to_string()),
        currency: transaction.amount.as_ref().map(|m| m.currency.as_str()),
        payer_name: party.name.as_deref(),
        payer_iban: party.iban.as_deref(),
        remittance_text: transaction_text(transaction),
        end_to_end_id: transaction.end_to_end_id.as_deref(),
        creditor_reference: transaction
            .creditor_references
            .first()
            .map(|r| r.reference.as_str()),
        bank_tx_code: transaction.more().bank_tx_code.display(),
        charges: charges_json(&transaction.charges),
    }
}

fn entry_json(entry: &Entry) -> EntryJson<'_> {
    let credit = !entry.amount.is_sign_negative();
    let transaction = &entry.transaction;
    let party = payer(transaction, credit);
    let mut charges = charges_json(&entry.charges);
    charges.extend(charges_json(&transaction.charges));
    let bank_tx_code = if entry.bank_tx_code.is_empty() {
        transaction.more().bank_tx_code.display()
    } else {
        entry.bank_tx_code.display()
    };
    let mut remittance_text = transaction_text(transaction);
    if remittance_text.is_empty()
        && entry.details.is_empty()
        && let Some(info) = &entry.additional_info
    {
        remittance_text = info.to_string();
    }
    EntryJson {
        line_id: &entry.line_id,
        bank_ref: entry.bank_ref.as_deref(),
        entry_ref: entry.entry_ref.as_deref(),
        status: entry.status,
        reversal: entry.reversal,
        booking_date: entry.booking_date.map(|d| d.to_string()),
        value_date: entry.value_date.map(|d| d.to_string()),
        amount: entry.amount.to_string(),
        currency: &entry.currency,
        payer_name: party.name.as_deref(),
        payer_iban: party.iban.as_deref(),
        remittance_text,
        end_to_end_id: transaction.end_to_end_id.as_deref(),
        creditor_reference: transaction
            .creditor_references
            .first()
            .map(|r| r.reference.as_str()),
        bank_tx_code,
        charges,
        details: entry
            .details
            .iter()
            .map(|d| detail_json(d, credit))
            .collect(),
    }
}

/// One JSON line for a statement.
pub fn statement_json(statement: &Statement) -> String {
    let opening = statement.opening_balance();
    let closing = statement.closing_balance();
    let json = StatementJson {
        format: statement.format.name(),
        version: statement.version.as_deref(),
        file: &statement.source,
        account: &statement.account.id,
        currency: statement.currency(),
        servicer_bic: statement.account.servicer_bic.as_deref(),
        statement_id: &statement.statement_id,
        message_id: statement.message_id.as_deref(),
        electronic_sequence: statement.electronic_sequence.as_deref(),
        legal_sequence: statement.legal_sequence.as_deref(),
        page_number: statement.page_number.as_deref(),
        page_last: statement.page_last,
        created_at: statement.created_at.as_deref(),
        opening_balance: opening.map(|b| b.amount.to_string()),
        closing_balance: closing.map(|b| b.amount.to_string()),
        opening_date: opening.and_then(|b| b.date).map(|d| d.to_string()),
        closing_date: closing.and_then(|b| b.date).map(|d| d.to_string()),
        balance_ok: statement.balance_ok(),
        warnings: &statement.warnings,
        entries: statement.entries.iter().map(entry_json).collect(),
    };
    serde_json::to_string(&json).expect("serialising plain data cannot fail")
}

#[derive(Serialize)]
struct AdviceJson<'a> {
    format: &'static str,
    file: &'a str,
    advice_id: &'a str,
    payer_name: Option<&'a str>,
    payment_reference: Option<&'a str>,
    payment_amount: Option<String>,
    currency: Option<&'a str>,
    payment_date: Option<String>,
    warnings: &'a [String],
    lines: Vec<AdviceLineJson<'a>>,
}

#[derive(Serialize)]
struct AdviceLineJson<'a> {
    invoice_ref: &'a str,
    paid_amount: Option<String>,
    amount_due: Option<String>,
    deduction_amount: Option<String>,
    deduction_reason: Option<&'a str>,
}

/// One JSON line for a remittance advice.
pub fn advice_json(advice: &RemittanceAdvice) -> String {
    let json = AdviceJson {
        format: advice.format.name(),
        file: &advice.source,
        advice_id: &advice.advice_id,
        payer_name: advice.payer_name.as_deref(),
        payment_reference: advice.payment_reference.as_deref(),
        payment_amount: advice.payment_amount.as_ref().map(|m| m.amount.to_string()),
        currency: advice.payment_amount.as_ref().map(|m| m.currency.as_str()),
        payment_date: advice.payment_date.map(|d| d.to_string()),
        warnings: &advice.warnings,
        lines: advice
            .lines
            .iter()
            .map(|l| AdviceLineJson {
                invoice_ref: &l.invoice_ref,
                paid_amount: l.paid_amount.map(|a| a.to_string()),
                amount_due: l.amount_due.map(|a| a.to_string()),
                deduction_amount: l.deduction_amount.map(|a| a.to_string()),
                deduction_reason: l.deduction_reason.as_deref(),
            })
            .collect(),
    };
    serde_json::to_string(&json).expect("serialising plain data cannot fail")
}

/// Cuts `text` to `width` characters, marking the cut with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A human table for a statement.
pub fn statement_table(statement: &Statement) -> String {
    let mut out = String::new();
    let version = statement
        .version
        .as_deref()
        .unwrap_or(statement.format.name());
    let _ = writeln!(
        out,
        "{}  {}  account {}  statement {}  {} entries",
        statement.source,
        version,
        statement.account.id,
        statement.statement_id,
        statement.entries.len()
    );
    let balance = |b: Option<&crate::model::Balance>| {
        b.map(|b| {
            format!(
                "{} {} on {}",
                b.amount,
                b.currency,
                b.date.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
            )
        })
        .unwrap_or_else(|| "-".to_string())
    };
    let _ = writeln!(
        out,
        "  opening {}  closing {}  balance {}",
        balance(statement.opening_balance()),
        balance(statement.closing_balance()),
        match statement.balance_ok() {
            Some(true) => "ok",
            Some(false) => "MISMATCH",
            None => "not checked",
        }
    );
    if !statement.entries.is_empty() {
        let _ = writeln!(
            out,
            "  {:<16} {:<10} {:<10} {:>14} {:<3} {:<24} {:<18} text",
            "line_id", "booked", "value", "amount", "ccy", "payer", "bank_ref"
        );
    }
    for entry in &statement.entries {
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let credit = !entry.amount.is_sign_negative();
        let party = payer(&entry.transaction, credit);
        let text = if entry.details.is_empty() {
            transaction_text(&entry.transaction)
        } else {
            match entry.batch_count {
                Some(n) if n as usize != entry.details.len() => format!(
                    "batch of {n} transactions ({} detailed)",
                    entry.details.len()
                ),
                _ => format!("batch of {} transactions", entry.details.len()),
            }
        };
        let _ = writeln!(
            out,
            "  {:<16} {:<10} {:<10} {:>14} {:<3} {:<24} {:<18} {}",
            fit(&entry.line_id, 16),
            date(entry.booking_date),
            date(entry.value_date),
            entry.amount.to_string(),
            entry.currency,
            fit(party.name.as_deref().unwrap_or(""), 24),
            fit(entry.bank_ref.as_deref().unwrap_or(""), 18),
            fit(&text, 60)
        );
    }
    for warning in &statement.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    out
}

/// A human table for a remittance advice.
pub fn advice_table(advice: &RemittanceAdvice) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  advice {}  payer {}  amount {}  {} lines",
        advice.source,
        advice.format.name(),
        advice.advice_id,
        advice.payer_name.as_deref().unwrap_or("-"),
        advice
            .payment_amount
            .as_ref()
            .map(|m| format!("{} {}", m.amount, m.currency))
            .unwrap_or_else(|| "-".into()),
        advice.lines.len()
    );
    for line in &advice.lines {
        let _ = writeln!(
            out,
            "  {:<24} paid {:>12}  deduction {:>10} {}",
            fit(&line.invoice_ref, 24),
            line.paid_amount.map(|a| a.to_string()).unwrap_or_default(),
            line.deduction_amount
                .map(|a| a.to_string())
                .unwrap_or_default(),
            line.deduction_reason.as_deref().unwrap_or("")
        );
    }
    for warning in &advice.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    out
}
