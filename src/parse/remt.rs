//! ISO 20022 remt.001 remittance advices, every version: which invoices a
//! payment covers, what was paid on each and what was withheld.
//!
//! Same streaming cursor and local-name matching as `camt`, so any version,
//! prefix or envelope reads the same. One `RemittanceAdvice` per `RmtInf`;
//! one `AdviceLine` per referred document (`Strd`). Amounts per document
//! come from `RfrdDocAmt` in both layouts: named elements up to v05
//! (`DuePyblAmt`, `RmtdAmt`, `DscntApldAmt`, `AdjstmntAmtAndRsn`) and typed
//! amounts from v06 (`RmtAmtAndTp/Tp` + `Amt`, `AdjstmntAmtAndRsn`).

use rust_decimal::Decimal;

use crate::error::ParseError;
use crate::model::{AdviceLine, Format, Money, RemittanceAdvice};
use crate::parse::camt::parse_date;
use crate::parse::xml::{Cursor, Open};

/// Whether an XML document is a remt.001 message: its namespace or its
/// message element appears near the start (checked on whole characters).
pub fn looks_like_remt(text: &str) -> bool {
    let end = (0..=text.len().min(4096))
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    let head = &text[..end];
    head.contains("remt.001") || head.contains("<RmtAdvc") || head.contains(":RmtAdvc")
}

/// What a remt document held: advices and file-level warnings.
pub struct RemtDocument {
    pub advices: Vec<RemittanceAdvice>,
    pub warnings: Vec<String>,
}

pub fn parse(source: &str, text: &str, warnings: Vec<String>) -> Result<RemtDocument, ParseError> {
    let mut cursor = Cursor::new(source, text);
    let root = cursor
        .next_child()?
        .ok_or_else(|| cursor.error("no XML element found: expected a remt.001 document"))?;
    let mut reader = RemtReader {
        cursor,
        source,
        file_warnings: warnings,
        advices: Vec::new(),
        messages_seen: 0,
    };
    reader.walk(root)?;
    reader.cursor.finish()?;
    if reader.messages_seen == 0 {
        return Err(reader
            .cursor
            .error("expected a RmtAdvc (remittance advice) message"));
    }
    if reader.advices.is_empty() {
        reader
            .file_warnings
            .push("remittance advice message holds no RmtInf".to_string());
    }
    Ok(RemtDocument {
        advices: reader.advices,
        warnings: reader.file_warnings,
    })
}

struct RemtReader<'a> {
    cursor: Cursor<'a>,
    source: &'a str,
    file_warnings: Vec<String>,
    advices: Vec<RemittanceAdvice>,
    messages_seen: usize,
}

impl<'a> RemtReader<'a> {
    fn walk(&mut self, open: Open<'a>) -> Result<(), ParseError> {
        if open.name == "RmtAdvc" || open.name.starts_with("RmtAdvcV") {
            self.messages_seen += 1;
            return self.message();
        }
        if open.name == "AppHdr" {
            return self.cursor.skip();
        }
        while let Some(child) = self.cursor.next_child()? {
            self.walk(child)?;
        }
        Ok(())
    }

    fn message(&mut self) -> Result<(), ParseError> {
        let mut message_id = String::new();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "GrpHdr" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "MsgId" => message_id = self.cursor.text()?,
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "RmtInf" => {
                    let index = self.advices.len() + 1;
                    let advice = self.remittance(&message_id, index)?;
                    self.advices.push(advice);
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    fn date_of(&mut self, name: &str) -> Result<Option<chrono::NaiveDate>, ParseError> {
        // `ReqdExctnDt` is a date (v04) or holds `Dt` / `DtTm` (v06+).
        let text = self.cursor.deep_text()?;
        if text.is_empty() {
            return Ok(None);
        }
        parse_date(&text).map(Some).ok_or_else(|| {
            self.cursor
                .error_at(name, format!("expected a date YYYY-MM-DD, found {text:?}"))
        })
    }

    fn remittance(
        &mut self,
        message_id: &str,
        index: usize,
    ) -> Result<RemittanceAdvice, ParseError> {
        let mut advice = RemittanceAdvice {
            format: Format::Remt001,
            source: self.source.to_string(),
            advice_id: String::new(),
            payer_name: None,
            payment_reference: None,
            payment_amount: None,
            payment_date: None,
            lines: Vec::new(),
            warnings: Vec::new(),
        };
        let mut ultimate_debtor = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "RmtId" => advice.advice_id = self.cursor.text()?,
                "Strd" => {
                    if let Some(line) = self.structured(&mut advice.warnings)? {
                        advice.lines.push(line);
                    }
                }
                "Ustrd" => {
                    let text: String = self.cursor.text()?;
                    if !text.is_empty() {
                        advice
                            .warnings
                            .push(format!("unstructured remittance not itemised: {text:?}"));
                    }
                }
                "OrgnlPmtInf" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Refs" => {
                                while let Some(reference) = self.cursor.next_child()? {
                                    match reference.name {
                                        "EndToEndId" => {
                                            let text: String = self.cursor.text()?;
                                            if !text.is_empty() && text != "NOTPROVIDED" {
                                                advice.payment_reference = Some(text);
                                            }
                                        }
                                        "InstrId" | "UETR" | "TxId" => {
                                            let text: String = self.cursor.text()?;
                                            if advice.payment_reference.is_none()
                                                && !text.is_empty()
                                            {
                                                advice.payment_reference = Some(text);
                                            }
                                        }
                                        _ => self.cursor.skip()?,
                                    }
                                }
                            }
                            "Amt" => advice.payment_amount = self.cursor.money_nested(&field)?,
                            "ReqdExctnDt" | "IntrBkSttlmDt" | "ReqdColltnDt" => {
                                let date = self.date_of(field.name)?;
                                advice.payment_date = advice.payment_date.or(date);
                            }
                            "Dbtr" => advice.payer_name = self.cursor.party_name()?,
                            "UltmtDbtr" => ultimate_debtor = self.cursor.party_name()?,
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        if advice.advice_id.is_empty() {
            advice.advice_id = format!("{message_id}#{index}");
            advice.warnings.push(format!(
                "no RmtId; the advice is named {}",
                advice.advice_id
            ));
        }
        if advice.payer_name.is_none() {
            advice.payer_name = ultimate_debtor;
        }
        if advice.payment_amount.is_none() {
            let total: Decimal = advice.lines.iter().filter_map(|l| l.paid_amount).sum();
            if !advice.lines.is_empty() && advice.lines.iter().all(|l| l.paid_amount.is_some()) {
                let currency = String::new();
                advice.payment_amount = Some(Money {
                    amount: total,
                    currency: currency.into(),
                });
                advice
                    .warnings
                    .push("no payment amount; the sum of the remitted amounts is used".to_string());
            }
        }
        Ok(advice)
    }

    /// One `Strd`: a referred document and its amounts.
    fn structured(&mut self, warnings: &mut Vec<String>) -> Result<Option<AdviceLine>, ParseError> {
        let mut number: Option<String> = None;
        let mut line = AdviceLine {
            invoice_ref: String::new(),
            paid_amount: None,
            deduction_amount: None,
            deduction_reason: None,
            amount_due: None,
        };
        let mut discount: Option<Decimal> = None;
        let mut adjustment: Option<(Decimal, Option<String>)> = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "RfrdDocInf" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Nb" => number = Some(self.cursor.text()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "RfrdDocAmt" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "DuePyblAmt" => {
                                line.amount_due =
                                    self.cursor.money_nested(&field)?.map(|m| m.amount)
                            }
                            "RmtdAmt" => {
                                line.paid_amount =
                                    self.cursor.money_nested(&field)?.map(|m| m.amount)
                            }
                            "DscntApldAmt" => {
                                discount = self.cursor.money_nested(&field)?.map(|m| m.amount)
                            }
                            "AdjstmntAmtAndRsn" => adjustment = Some(self.adjustment()?),
                            // v06+: `RmtAmtAndTp` / `AdjstmntAmtAndRsn` with a
                            // type telling what the amount is.
                            "RmtAmtAndTp" => {
                                let (kind, money) = self.typed_amount()?;
                                let amount = money.map(|m| m.amount);
                                match kind.as_deref().map(str::to_ascii_uppercase).as_deref() {
                                    Some("RMTD") | Some("REMITTEDAMOUNT") => {
                                        line.paid_amount = amount
                                    }
                                    Some("DUPA")
                                    | Some("DUEPAYABLEAMOUNT")
                                    | Some("INVOICEAMOUNT") => line.amount_due = amount,
                                    Some("DSCA") | Some("DISCOUNTAMOUNT") => discount = amount,
                                    _ => {
                                        if line.paid_amount.is_none() {
                                            line.paid_amount = amount;
                                        }
                                    }
                                }
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        let Some(number) = number.filter(|n| !n.is_empty()) else {
            warnings.push(
                "a referred document has no number (RfrdDocInf/Nb); it is not itemised".to_string(),
            );
            return Ok(None);
        };
        line.invoice_ref = number;
        if let Some((amount, reason)) = adjustment {
            line.deduction_amount = Some(amount.abs());
            line.deduction_reason = reason;
        } else if let Some(amount) = discount {
            line.deduction_amount = Some(amount.abs());
            line.deduction_reason = Some("discount".to_string());
        }
        if line.paid_amount.is_none()
            && let Some(due) = line.amount_due
        {
            // An invoice amount without a remitted amount: paid in full less
            // what was withheld.
            line.paid_amount = Some(due - line.deduction_amount.unwrap_or_default());
        }
        Ok(Some(line))
    }

    fn adjustment(&mut self) -> Result<(Decimal, Option<String>), ParseError> {
        let mut amount = Decimal::ZERO;
        let mut reason = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Amt" => amount = self.cursor.money(&child)?.amount,
                // `Rsn` (a code such as DMGD) and `AddtlInf` (the payer's
                // words) are both kept: "DMGD: Marchandise abîmée".
                "Rsn" | "AddtlInf" => {
                    let text = self.cursor.deep_text()?;
                    if !text.is_empty() {
                        reason = Some(match reason {
                            Some(previous) => format!("{previous}: {text}"),
                            None => text,
                        });
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok((amount, reason))
    }

    /// `RmtAmtAndTp`: `Tp/Cd` or `Tp/Prtry`, and `Amt`.
    fn typed_amount(&mut self) -> Result<(Option<String>, Option<Money>), ParseError> {
        let mut kind = None;
        let mut money = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Tp" => {
                    let text = self.cursor.deep_text()?;
                    kind = Some(text.split_whitespace().collect::<String>());
                }
                "Amt" => money = Some(self.cursor.money(&child)?),
                _ => self.cursor.skip()?,
            }
        }
        Ok((kind, money))
    }
}
