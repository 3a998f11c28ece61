//! ISO 20022 cash management: camt.052 (account report), camt.053
//! (statement) and camt.054 (debit/credit notification), every version.
//!
//! One streaming pass over the document with `xml::Cursor`, matching local
//! element names only, so versions .001.01 to .001.14 and any prefix or
//! wrapper (`Envelope`, head.001 `AppHdr`, custom roots) are read by the same
//! code. The differences between versions that matter are handled where
//! they occur: party `Dbtr/Nm` (v02) vs `Dbtr/Pty/Nm` (v08+), `Sts` as text
//! or `Sts/Cd`, `Chrgs` as a list (v02) or `Chrgs/Rcrd` (v03+), `DscntApldAmt`
//! with or without `Amt`, `TtlNetNtryAmt` (v02) vs `TtlNetNtry/Amt`.
//!
//! What it does not do: validate against the XSD. It reads what the
//! matching needs and is strict only where a wrong reading would be
//! costly: amounts, signs, dates, a missing required element. Known bank
//! quirks (a balance without `CdtDbtInd`, too many decimals) are warnings.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::ParseError;
use crate::model::{
    Account, Balance, BalanceKind, BankTxCode, Charge, CreditorReference, DeclaredTotals, Entry,
    EntryStatus, Format, Money, Party, ReferredDocument, Statement, Text, Transaction,
    TransactionMore,
};
use crate::money::{AMOUNT_DECIMALS_MAX, parse_amount, parse_rate};
use crate::parse::xml::{Cursor, Open, StoredText};
use crate::parse::{assign_line_ids, balance_warning, collapse_repeats};

/// What a CAMT document held: its statements and the warnings that belong
/// to no statement (a message without statements).
pub struct CamtDocument {
    pub statements: Vec<Statement>,
    pub warnings: Vec<String>,
}

/// Reads every statement, report or notification in a CAMT document.
pub fn parse(
    source: &str,
    text: &str,
    mut warnings: Vec<String>,
) -> Result<CamtDocument, ParseError> {
    let mut cursor = Cursor::new(source, text);
    let root = cursor
        .next_child()?
        .ok_or_else(|| cursor.error("no XML element found: expected an ISO 20022 document"))?;
    let mut reader = CamtReader {
        cursor,
        warnings: std::mem::take(&mut warnings),
        statements: Vec::new(),
        version: None,
        messages_seen: 0,
        file_warnings: Vec::new(),
    };
    reader.check_namespace(&root)?;
    reader.walk(root)?;
    reader.cursor.finish()?;
    if reader.messages_seen == 0 {
        // An empty document in a camt namespace is a (useless) camt
        // document; without one, nothing says this is a statement at all.
        match &reader.version {
            Some(version) => reader
                .file_warnings
                .push(format!("{version} document holds no message")),
            None => {
                return Err(reader.cursor.error(
                    "expected a BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn message",
                ));
            }
        }
    }
    let mut warnings = reader.file_warnings;
    if reader.statements.is_empty() {
        warnings.extend(reader.warnings);
    }
    Ok(CamtDocument {
        statements: reader.statements,
        warnings,
    })
}

/// Which CAMT message an element starts, if any (v01 names carry a `V01`
/// suffix: `BkToCstmrStmtV01`).
fn message_format(name: &str) -> Option<Format> {
    let name = match name.rfind('V') {
        Some(at)
            if at > 0
                && name[at + 1..].bytes().all(|b| b.is_ascii_digit())
                && at + 1 < name.len() =>
        {
            &name[..at]
        }
        _ => name,
    };
    match name {
        "BkToCstmrStmt" => Some(Format::Camt053),
        "BkToCstmrAcctRpt" => Some(Format::Camt052),
        "BkToCstmrDbtCdtNtfctn" => Some(Format::Camt054),
        _ => None,
    }
}

/// The `camt.053.001.02` part of an ISO 20022 namespace.
fn version_of_namespace(namespace: &str) -> Option<String> {
    let at = namespace.find("camt.05")?;
    let version: String = namespace[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    Some(version)
}

/// `AmtDtls`: kept apart from `Transaction` so an entry-level block costs a
/// few words, not a whole (large) transaction.
#[derive(Default)]
struct AmountDetails {
    instructed: Option<Money>,
    transaction: Option<Money>,
    rate: Option<Decimal>,
    source_currency: Option<String>,
    target_currency: Option<String>,
    unit_currency: Option<String>,
}

impl AmountDetails {
    /// Fills the transaction's amount details it does not already have.
    fn fill(self, transaction: &mut Transaction) {
        if transaction.instructed_amount.is_none() {
            transaction.instructed_amount = self.instructed;
        }
        if self.transaction.is_some() && transaction.more().transaction_amount.is_none() {
            transaction.more_mut().transaction_amount = self.transaction;
        }
        if transaction.more().exchange_rate.is_none() {
            // The four are set together, absent ones cleared, as one
            // conversion; the rarer fields are allocated only for a value.
            let conversion = self.rate.is_some()
                || self.source_currency.is_some()
                || self.target_currency.is_some()
                || self.unit_currency.is_some();
            let more = if conversion {
                Some(transaction.more_mut())
            } else {
                transaction.more.as_deref_mut()
            };
            if let Some(more) = more {
                more.exchange_rate = self.rate;
                more.exchange_source_currency = self.source_currency;
                more.exchange_target_currency = self.target_currency;
                more.exchange_unit_currency = self.unit_currency;
            }
        }
    }
}

/// `(NbOfNtries, Sum, signed net)` of one `TxsSummry` block.
type SummaryBlock = (Option<u64>, Option<Decimal>, Option<Decimal>);

struct CamtReader<'a> {
    cursor: Cursor<'a>,
    /// File-level warnings (encoding), copied to every statement.
    warnings: Vec<String>,
    statements: Vec<Statement>,
    version: Option<String>,
    messages_seen: usize,
    file_warnings: Vec<String>,
}

/// Header of the message being read, shared by its statements.
#[derive(Default, Clone)]
struct GroupHeader {
    message_id: Option<String>,
    created_at: Option<String>,
    page_number: Option<String>,
    page_last: Option<bool>,
}

impl<'a> CamtReader<'a> {
    /// Notes the version from a namespace declaration; refuses a namespace
    /// that is not ISO 20022 cash management or its envelopes.
    fn check_namespace(&mut self, open: &Open<'a>) -> Result<(), ParseError> {
        for namespace in open.namespaces() {
            if let Some(version) = version_of_namespace(&namespace) {
                self.version.get_or_insert(version);
            } else if open.name == "Document"
                && !namespace.contains("iso:std:iso:20022")
                && !namespace.contains("www.w3.org")
                && !namespace.contains("swift.com")
            {
                return Err(self.cursor.error(format!(
                    "expected an ISO 20022 camt namespace (urn:iso:std:iso:20022:tech:xsd:camt.05x...), found {namespace:?}"
                )));
            } else if open.name == "Document" && namespace.contains("iso:std:iso:20022:tech:xsd:") {
                return Err(self.cursor.error(format!(
                    "expected a camt.052, camt.053 or camt.054 document, found namespace {namespace:?}"
                )));
            }
        }
        Ok(())
    }

    /// Walks wrappers until it finds messages; `AppHdr` is skipped.
    fn walk(&mut self, open: Open<'a>) -> Result<(), ParseError> {
        if let Some(format) = message_format(open.name) {
            self.messages_seen += 1;
            return self.message(format);
        }
        if open.name == "AppHdr" {
            return self.cursor.skip();
        }
        while let Some(child) = self.cursor.next_child()? {
            self.check_namespace(&child)?;
            self.walk(child)?;
        }
        Ok(())
    }

    fn message(&mut self, format: Format) -> Result<(), ParseError> {
        let mut header = GroupHeader::default();
        let before = self.statements.len();
        let statement_tag = match format {
            Format::Camt053 => "Stmt",
            Format::Camt052 => "Rpt",
            _ => "Ntfctn",
        };
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "GrpHdr" => header = self.group_header()?,
                name if name == statement_tag => {
                    let statement = self.statement(format, &header)?;
                    self.statements.push(statement);
                }
                _ => self.cursor.skip()?,
            }
        }
        if self.statements.len() == before {
            self.file_warnings.push(format!(
                "{}: message holds no {statement_tag}",
                self.cursor.path()
            ));
        }
        Ok(())
    }

    fn group_header(&mut self) -> Result<GroupHeader, ParseError> {
        let mut header = GroupHeader::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "MsgId" => header.message_id = Some(self.cursor.text()?),
                "CreDtTm" => header.created_at = Some(self.cursor.text()?),
                "MsgPgntn" => {
                    let (number, last) = self.pagination()?;
                    header.page_number = number;
                    header.page_last = last;
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(header)
    }

    fn pagination(&mut self) -> Result<(Option<String>, Option<bool>), ParseError> {
        let mut number = None;
        let mut last = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "PgNb" => number = Some(self.cursor.text()?),
                "LastPgInd" => last = Some(self.boolean()?),
                _ => self.cursor.skip()?,
            }
        }
        Ok((number, last))
    }

    fn boolean(&mut self) -> Result<bool, ParseError> {
        let text = self.cursor.text_cow()?;
        match &*text {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(self
                .cursor
                .error(format!("expected true or false, found {text:?}"))),
        }
    }

    fn statement(&mut self, format: Format, header: &GroupHeader) -> Result<Statement, ParseError> {
        let mut statement = Statement {
            version: self.version.clone(),
            message_id: header.message_id.clone(),
            page_number: header.page_number.clone(),
            page_last: header.page_last,
            created_at: header.created_at.clone(),
            warnings: self.warnings.clone(),
            ..Statement::new(format, self.cursor.source())
        };
        let mut has_id = false;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Id" => {
                    statement.statement_id = self.cursor.text()?;
                    has_id = true;
                }
                "ElctrncSeqNb" => statement.electronic_sequence = Some(self.cursor.text()?),
                "LglSeqNb" => statement.legal_sequence = Some(self.cursor.text()?),
                "CreDtTm" => statement.created_at = Some(self.cursor.text()?),
                "StmtPgntn" | "RptPgntn" | "NtfctnPgntn" => {
                    let (number, last) = self.pagination()?;
                    statement.page_number = number.or(statement.page_number);
                    statement.page_last = last.or(statement.page_last);
                }
                "FrToDt" => {
                    while let Some(bound) = self.cursor.next_child()? {
                        match bound.name {
                            "FrDtTm" | "FrDt" => statement.period_from = Some(self.cursor.text()?),
                            "ToDtTm" | "ToDt" => statement.period_to = Some(self.cursor.text()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "Acct" => statement.account = self.account()?,
                "Bal" => {
                    if let Some(balance) = self.balance(&mut statement.warnings)? {
                        statement.balances.push(balance);
                    }
                }
                "TxsSummry" => statement.declared = Some(self.summary()?),
                "AddtlStmtInf" | "AddtlRptInf" | "AddtlNtfctnInf" => {
                    let text: String = self.cursor.text()?;
                    if !text.is_empty() {
                        statement.information.push(text);
                    }
                }
                "Ntry" => {
                    let entry = self.entry(&statement.account, &mut statement.warnings)?;
                    statement.entries.push(entry);
                }
                _ => self.cursor.skip()?,
            }
        }
        if !has_id {
            statement
                .warnings
                .push("statement has no Id; an empty statement id is used".to_string());
        }
        if statement.account.id.is_empty() {
            statement
                .warnings
                .push("statement has no account id (Acct/Id)".to_string());
        }
        statement.entries.shrink_to_fit();
        check_integrity(&mut statement);
        collapse_repeats(&mut statement.warnings);
        assign_line_ids(&mut statement);
        Ok(statement)
    }

    fn account(&mut self) -> Result<Account, ParseError> {
        let mut account = Account::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Id" => {
                    let (iban, other) = self.account_id()?;
                    account.id = iban.clone().or(other).unwrap_or_default();
                    account.iban = iban;
                }
                "Ccy" => account.currency = Some(self.cursor.text()?),
                "Nm" => account.name = Some(self.cursor.text()?),
                "Ownr" => account.owner_name = self.cursor.party_name()?,
                "Svcr" => account.servicer_bic = self.agent_bic()?.map(Into::into),
                _ => self.cursor.skip()?,
            }
        }
        Ok(account)
    }

    /// `Id/IBAN` or `Id/Othr/Id` (or any other `Id` form's text).
    fn account_id<T: StoredText>(&mut self) -> Result<(Option<T>, Option<T>), ParseError> {
        let mut iban = None;
        let mut other = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "IBAN" => iban = Some(self.cursor.text()?),
                "Othr" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Id" => other = Some(self.cursor.text()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                // v01 `PrtryAcct/Id`, `UPIC`, `BBAN`...: whatever the
                // form, its text is the id.
                _ => {
                    let text = self.cursor.deep_text()?;
                    if other.is_none() && !text.is_empty() {
                        other = Some(T::from(text));
                    }
                }
            }
        }
        Ok((iban, other))
    }

    /// The BIC of an agent: `FinInstnId/BIC` (v02) or `FinInstnId/BICFI`.
    fn agent_bic(&mut self) -> Result<Option<Text>, ParseError> {
        let mut bic = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "BIC" | "BICFI" | "AnyBIC" => bic = Some(self.cursor.text()?),
                "FinInstnId" | "Agt" => {
                    let inner = self.agent_bic()?;
                    bic = bic.or(inner);
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(bic)
    }

    fn date(&mut self, name: &str) -> Result<NaiveDate, ParseError> {
        let text = self.cursor.text_cow()?;
        parse_date(&text).ok_or_else(|| {
            self.cursor
                .error_at(name, format!("expected a date YYYY-MM-DD, found {text:?}"))
        })
    }

    /// `Dt` or `DtTm` inside a date choice element (`BookgDt`, `ValDt`,
    /// `Bal/Dt`).
    fn date_choice(&mut self) -> Result<Option<NaiveDate>, ParseError> {
        let mut date = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Dt" | "DtTm" => date = Some(self.date(child.name)?),
                _ => self.cursor.skip()?,
            }
        }
        Ok(date)
    }

    fn indicator(&mut self) -> Result<Decimal, ParseError> {
        let text = self.cursor.text_cow()?;
        match &*text {
            "CRDT" => Ok(Decimal::ONE),
            "DBIT" => Ok(Decimal::NEGATIVE_ONE),
            _ => Err(self.cursor.error_at(
                "CdtDbtInd",
                format!("expected CRDT or DBIT, found {text:?}"),
            )),
        }
    }

    fn warn_scale(&self, money: &Money, what: &str, warnings: &mut Vec<String>) {
        if money.amount.scale() as usize > AMOUNT_DECIMALS_MAX {
            warnings.push(format!(
                "{}: {what} {} has more than {AMOUNT_DECIMALS_MAX} decimals",
                self.cursor.path(),
                money.amount
            ));
        }
    }

    fn balance(&mut self, warnings: &mut Vec<String>) -> Result<Option<Balance>, ParseError> {
        let mut code = None;
        let mut money = None;
        let mut sign = None;
        let mut date = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Tp" => code = self.code_or_proprietary()?,
                "Amt" => {
                    let value = self.cursor.money(&child)?;
                    self.warn_scale(&value, "balance", warnings);
                    money = Some(value);
                }
                "CdtDbtInd" => sign = Some(self.indicator()?),
                "Dt" => date = self.date_choice()?,
                _ => self.cursor.skip()?,
            }
        }
        let Some(money) = money else {
            return Err(self.cursor.error_at("Amt", "expected the balance amount"));
        };
        let code = code.unwrap_or_default();
        let sign = match sign {
            Some(sign) => sign,
            None => {
                warnings.push(format!(
                    "balance {code} has no CdtDbtInd; read as a credit balance"
                ));
                Decimal::ONE
            }
        };
        if date.is_none() {
            warnings.push(format!("balance {code} has no date"));
        }
        Ok(Some(Balance {
            kind: BalanceKind::from_code(&code),
            date,
            amount: money.amount * sign,
            currency: money.currency.into(),
        }))
    }

    /// `Tp/CdOrPrtry/Cd` or `Tp/CdOrPrtry/Prtry` (any depth of `Tp`).
    fn code_or_proprietary(&mut self) -> Result<Option<String>, ParseError> {
        let mut code = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Cd" | "Prtry" => {
                    // `Prtry` may be text or hold `Id` / `Issr`; take all text.
                    let text = self.cursor.deep_text()?;
                    if code.is_none() || child.name == "Cd" {
                        code = Some(text);
                    }
                }
                "CdOrPrtry" | "Tp" => {
                    let inner = self.code_or_proprietary()?;
                    code = code.or(inner);
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(code)
    }

    fn summary(&mut self) -> Result<DeclaredTotals, ParseError> {
        let mut totals = DeclaredTotals::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "TtlNtries" => {
                    let (count, sum, net) = self.summary_block()?;
                    totals.entry_count = count;
                    totals.net_amount = net;
                    let _ = sum;
                }
                "TtlCdtNtries" => {
                    let (count, sum, _) = self.summary_block()?;
                    totals.credit_count = count;
                    totals.credit_sum = sum;
                }
                "TtlDbtNtries" => {
                    let (count, sum, _) = self.summary_block()?;
                    totals.debit_count = count;
                    totals.debit_sum = sum;
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(totals)
    }

    /// `NbOfNtries`, `Sum`, and the signed net (`TtlNetNtry/Amt` +
    /// `CdtDbtInd`, or v02 `TtlNetNtryAmt` + `CdtDbtInd`).
    fn summary_block(&mut self) -> Result<SummaryBlock, ParseError> {
        let mut count = None;
        let mut sum = None;
        let mut net = None;
        let mut sign = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "NbOfNtries" => {
                    let text: String = self.cursor.text()?;
                    count = Some(text.parse::<u64>().map_err(|_| {
                        self.cursor
                            .error_at("NbOfNtries", format!("expected a count, found {text:?}"))
                    })?);
                }
                "Sum" => {
                    let text: String = self.cursor.text()?;
                    sum = Some(parse_amount(&text).map_err(|m| self.cursor.error_at("Sum", m))?);
                }
                "TtlNetNtryAmt" => {
                    let text: String = self.cursor.text()?;
                    net = Some(
                        parse_amount(&text)
                            .map_err(|m| self.cursor.error_at("TtlNetNtryAmt", m))?,
                    );
                }
                "CdtDbtInd" => sign = Some(self.indicator()?),
                "TtlNetNtry" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Amt" => {
                                let text: String = self.cursor.text()?;
                                net = Some(
                                    parse_amount(&text)
                                        .map_err(|m| self.cursor.error_at("Amt", m))?,
                                );
                            }
                            "CdtDbtInd" => sign = Some(self.indicator()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok((count, sum, net.map(|n| n * sign.unwrap_or(Decimal::ONE))))
    }

    fn entry(
        &mut self,
        account: &Account,
        warnings: &mut Vec<String>,
    ) -> Result<Entry, ParseError> {
        let mut money = None;
        let mut sign = None;
        let mut status = None;
        let mut entry = Entry::booked(Decimal::ZERO);
        let mut entry_amount_details = AmountDetails::default();
        let mut transactions_seen = 0usize;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "NtryRef" => entry.entry_ref = Some(self.cursor.text()?),
                "Amt" => {
                    let value = self.cursor.money(&child)?;
                    self.warn_scale(&value, "entry amount", warnings);
                    money = Some(value);
                }
                "CdtDbtInd" => sign = Some(self.indicator()?),
                "RvslInd" => entry.reversal = self.boolean()?,
                "Sts" => status = Some(self.status()?),
                "BookgDt" => entry.booking_date = self.date_choice()?,
                "ValDt" => entry.value_date = self.date_choice()?,
                "AcctSvcrRef" => entry.bank_ref = Some(self.cursor.text()?),
                "BkTxCd" => entry.bank_tx_code = self.bank_tx_code()?,
                "Chrgs" => self.charges(&mut entry.charges)?,
                "AmtDtls" => entry_amount_details = self.amount_details()?,
                "NtryDtls" => {
                    let default_sign = sign.unwrap_or(Decimal::ONE);
                    let currency = money
                        .as_ref()
                        .map(|m: &Money| m.currency.clone())
                        .unwrap_or_default();
                    self.entry_details(&mut entry, &mut transactions_seen, default_sign, &currency)?
                }
                "AddtlNtryInf" => entry.additional_info = Some(self.cursor.text()?),
                _ => self.cursor.skip()?,
            }
        }
        let Some(money) = money else {
            return Err(self
                .cursor
                .error_at("Ntry/Amt", "expected the entry amount"));
        };
        let Some(sign) = sign else {
            return Err(self
                .cursor
                .error_at("Ntry/CdtDbtInd", "expected CRDT or DBIT for the entry"));
        };
        entry.amount = money.amount * sign;
        entry.currency = if money.currency.is_empty() {
            let fallback = account.currency.clone().unwrap_or_default();
            warnings.push(format!(
                "entry amount {} has no Ccy; the account currency {fallback:?} is used",
                money.amount
            ));
            fallback.into()
        } else {
            money.currency
        };
        entry.status = match status {
            Some(status) => status,
            None => {
                warnings.push("entry has no Sts; read as booked".to_string());
                EntryStatus::Booked
            }
        };
        // A single `TxDtls` was read into `entry.transaction`; a batch that
        // announces several transactions but details one keeps it a detail.
        if transactions_seen == 1 && entry.batch_count.is_some_and(|n| n > 1) {
            entry.details.push(std::mem::take(&mut *entry.transaction));
        }
        entry.details.shrink_to_fit();
        entry_amount_details.fill(&mut entry.transaction);
        if entry.bank_ref.is_none() {
            entry.bank_ref = entry
                .transaction
                .bank_ref
                .clone()
                .or_else(|| entry.details.iter().find_map(|d| d.bank_ref.clone()))
                .or_else(|| entry.entry_ref.clone());
        }
        if !entry.details.is_empty() {
            let sum: Decimal = entry
                .details
                .iter()
                .filter_map(|d| d.amount.as_ref().map(|m| m.amount))
                .sum();
            let all_have_amounts = entry.details.iter().all(|d| d.amount.is_some());
            if all_have_amounts && sum != entry.amount {
                warnings.push(format!(
                    "entry {}: its {} transaction details sum to {sum}, not to the entry amount {}",
                    entry.bank_ref.as_deref().unwrap_or("?"),
                    entry.details.len(),
                    entry.amount
                ));
            }
        }
        Ok(entry)
    }

    /// `Sts` is text up to v08 and `Sts/Cd` (or `Sts/Prtry`) after.
    fn status(&mut self) -> Result<EntryStatus, ParseError> {
        let code = self.cursor.deep_text()?;
        Ok(status_of(&code))
    }

    fn bank_tx_code(&mut self) -> Result<BankTxCode, ParseError> {
        let mut code = BankTxCode::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Domn" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Cd" => code.domain = Some(self.cursor.text()?),
                            "Fmly" => {
                                while let Some(part) = self.cursor.next_child()? {
                                    match part.name {
                                        "Cd" => code.family = Some(self.cursor.text()?),
                                        "SubFmlyCd" => code.sub_family = Some(self.cursor.text()?),
                                        _ => self.cursor.skip()?,
                                    }
                                }
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "Prtry" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Cd" => code.proprietary = Some(self.cursor.text()?),
                            "Issr" => code.proprietary_issuer = Some(self.cursor.text()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(code)
    }

    /// v02: `Chrgs` holds `Amt`, `Tp`, ... directly (and repeats); v03+:
    /// `Chrgs/Rcrd` repeats, with a `TtlChrgsAndTaxAmt` total.
    fn charges(&mut self, charges: &mut Vec<Charge>) -> Result<(), ParseError> {
        let mut direct: Option<Charge> = None;
        let mut total: Option<Money> = None;
        let before = charges.len();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Rcrd" => {
                    if let Some(charge) = self.charge_record()? {
                        charges.push(charge);
                    }
                }
                "TtlChrgsAndTaxAmt" => total = Some(self.cursor.money(&child)?),
                "Amt" => {
                    let amount = self.cursor.money(&child)?;
                    direct = Some(Charge {
                        amount: Money {
                            amount: amount.amount.abs(),
                            currency: amount.currency,
                        },
                        included: None,
                        kind: direct.and_then(|d| d.kind),
                    });
                }
                "Tp" => {
                    let kind = self.code_or_proprietary()?;
                    if let Some(charge) = direct.as_mut() {
                        charge.kind = kind;
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        if let Some(charge) = direct {
            charges.push(charge);
        }
        if charges.len() == before
            && let Some(total) = total
            && !total.amount.is_zero()
        {
            charges.push(Charge {
                amount: Money {
                    amount: total.amount.abs(),
                    currency: total.currency,
                },
                included: None,
                kind: None,
            });
        }
        Ok(())
    }

    fn charge_record(&mut self) -> Result<Option<Charge>, ParseError> {
        let mut amount = None;
        let mut included = None;
        let mut kind = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Amt" => amount = Some(self.cursor.money(&child)?),
                "ChrgInclInd" => included = Some(self.boolean()?),
                "Tp" => kind = self.code_or_proprietary()?,
                _ => self.cursor.skip()?,
            }
        }
        Ok(amount.map(|money| Charge {
            amount: Money {
                amount: money.amount.abs(),
                currency: money.currency,
            },
            included,
            kind,
        }))
    }

    fn amount_details(&mut self) -> Result<AmountDetails, ParseError> {
        let mut details = AmountDetails::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "InstdAmt" | "TxAmt" | "CntrValAmt" | "AnncdPstngAmt" => {
                    let which = child.name;
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Amt" => {
                                let money = self.cursor.money(&field)?;
                                match which {
                                    "InstdAmt" => details.instructed = Some(money),
                                    "TxAmt" => details.transaction = Some(money),
                                    _ => {}
                                }
                            }
                            "CcyXchg" => self.currency_exchange(&mut details)?,
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(details)
    }

    /// One `CcyXchg` block: its rate and currencies replace those of an
    /// earlier block together, so two blocks never mix.
    fn currency_exchange(&mut self, details: &mut AmountDetails) -> Result<(), ParseError> {
        let (mut source, mut target, mut unit, mut rate) = (None, None, None, None);
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "SrcCcy" => source = Some(self.cursor.text()?),
                "TrgtCcy" => target = Some(self.cursor.text()?),
                "UnitCcy" => unit = Some(self.cursor.text()?),
                "XchgRate" => {
                    let text = self.cursor.text_cow()?;
                    rate =
                        Some(parse_rate(&text).map_err(|m| self.cursor.error_at("XchgRate", m))?);
                }
                _ => self.cursor.skip()?,
            }
        }
        details.source_currency = source;
        details.target_currency = target;
        details.unit_currency = unit;
        details.rate = rate;
        Ok(())
    }

    /// `NtryDtls`: the first `TxDtls` is read straight into the entry's
    /// transaction; from a second one on, all are details (a batch).
    fn entry_details(
        &mut self,
        entry: &mut Entry,
        seen: &mut usize,
        default_sign: Decimal,
        currency: &str,
    ) -> Result<(), ParseError> {
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Btch" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "NbOfTxs" => {
                                let text: String = self.cursor.text()?;
                                entry.batch_count = text.parse().ok();
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "TxDtls" => {
                    *seen += 1;
                    // Filled in place: a `Transaction` is large, and moving
                    // it through returns showed in profiles.
                    if *seen == 1 {
                        self.transaction(&mut entry.transaction, default_sign, currency)?;
                    } else {
                        if *seen == 2 {
                            entry.details.reserve_exact(entry.batch_count.unwrap_or(2).clamp(2, 64) as usize);
                            entry.details.push(std::mem::take(&mut *entry.transaction));
                        }
                        entry.details.push(Transaction::default());
                        let last = entry.details.len() - 1;
                        self.transaction(&mut entry.details[last], default_sign, currency)?;
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    /// One `TxDtls`. `default_sign` is the entry's: v02 details carry no
    /// indicator of their own.
    fn transaction(
        &mut self,
        transaction: &mut Transaction,
        default_sign: Decimal,
        currency: &str,
    ) -> Result<(), ParseError> {
        let mut money = None;
        let mut sign = None;
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Refs" => self.references(transaction)?,
                "Amt" => money = Some(self.cursor.money(&child)?),
                "CdtDbtInd" => sign = Some(self.indicator()?),
                "AmtDtls" => self.amount_details()?.fill(transaction),
                "BkTxCd" => transaction.more_mut().bank_tx_code = self.bank_tx_code()?,
                "Chrgs" => self.charges(&mut transaction.charges)?,
                "RltdPties" => self.related_parties(transaction)?,
                "RltdAgts" => {
                    while let Some(agent) = self.cursor.next_child()? {
                        match agent.name {
                            "DbtrAgt" => transaction.debtor.bic = self.agent_bic()?,
                            "CdtrAgt" => transaction.creditor.bic = self.agent_bic()?,
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "RmtInf" => self.remittance(transaction)?,
                "RtrInf" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Rsn" => {
                                transaction.more_mut().return_reason = self.code_or_proprietary()?
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "AddtlTxInf" => transaction.more_mut().additional_info = Some(self.cursor.text()?),
                _ => self.cursor.skip()?,
            }
        }
        let sign = sign.unwrap_or(default_sign);
        if let Some(money) = money {
            transaction.amount = Some(Money {
                amount: money.amount * sign,
                currency: money.currency,
            });
        } else if let Some(tx) = &transaction.more().transaction_amount
            && (tx.currency.is_empty() || tx.currency == currency)
        {
            // v02 has no `TxDtls/Amt`: `AmtDtls/TxAmt` in the account
            // currency is the detail's amount.
            transaction.amount = Some(Money {
                amount: tx.amount * sign,
                currency: tx.currency.clone(),
            });
        }
        Ok(())
    }

    fn references(&mut self, transaction: &mut Transaction) -> Result<(), ParseError> {
        /// The rarer references, each one of `TransactionMore`'s fields.
        type Field = fn(&mut TransactionMore) -> &mut Option<String>;
        while let Some(child) = self.cursor.next_child()? {
            let rarer: Option<Field> = match child.name {
                "MsgId" => Some(|m| &mut m.message_id),
                "PmtInfId" => Some(|m| &mut m.payment_information_id),
                "InstrId" => Some(|m| &mut m.instruction_id),
                "TxId" => Some(|m| &mut m.transaction_id),
                "MndtId" => Some(|m| &mut m.mandate_id),
                "ChqNb" => Some(|m| &mut m.cheque_number),
                "UETR" => Some(|m| &mut m.uetr),
                _ => None,
            };
            if let Some(field) = rarer {
                set(&mut transaction.more, field, non_empty(self.cursor.text()?));
                continue;
            }
            match child.name {
                "AcctSvcrRef" => transaction.bank_ref = non_empty(self.cursor.text()?),
                "EndToEndId" => {
                    let text: String = self.cursor.text()?;
                    // NOTPROVIDED is the schema's way of saying "none".
                    if text != "NOTPROVIDED" {
                        transaction.end_to_end_id = non_empty(text);
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    fn related_parties(&mut self, transaction: &mut Transaction) -> Result<(), ParseError> {
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Dbtr" => transaction.debtor.name = self.cursor.party_name()?,
                "Cdtr" => transaction.creditor.name = self.cursor.party_name()?,
                "UltmtDbtr" => transaction.ultimate_debtor = self.cursor.party_name()?,
                "UltmtCdtr" => set(
                    &mut transaction.more,
                    |m| &mut m.ultimate_creditor,
                    self.cursor.party_name()?,
                ),
                "DbtrAcct" => self.party_account(&mut transaction.debtor)?,
                "CdtrAcct" => self.party_account(&mut transaction.creditor)?,
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    fn party_account(&mut self, party: &mut Party) -> Result<(), ParseError> {
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Id" => {
                    let (iban, other) = self.account_id()?;
                    party.iban = iban;
                    party.account_other = other;
                }
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    fn remittance(&mut self, transaction: &mut Transaction) -> Result<(), ParseError> {
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "Ustrd" => {
                    let text: String = self.cursor.text()?;
                    if !text.is_empty() {
                        transaction.remittance_lines.push(text);
                    }
                }
                "Strd" => self.structured(transaction)?,
                _ => self.cursor.skip()?,
            }
        }
        Ok(())
    }

    fn structured(&mut self, transaction: &mut Transaction) -> Result<(), ParseError> {
        let mut document: Option<ReferredDocument> = None;
        let mut amounts = ReferredDocument::default();
        while let Some(child) = self.cursor.next_child()? {
            match child.name {
                "RfrdDocInf" => {
                    let mut doc = ReferredDocument::default();
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Tp" => doc.kind = self.code_or_proprietary()?,
                            "Nb" => doc.number = non_empty(self.cursor.text()?),
                            "RltdDt" => {
                                // v02: a date; v10+: `RltdDt/Dt`.
                                let text: String = self.cursor.text()?;
                                doc.date = non_empty(text);
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                    if let Some(previous) = document.replace(doc) {
                        transaction.referred_documents.push(previous);
                    }
                }
                "RfrdDocAmt" => {
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "DuePyblAmt" => {
                                amounts.amount_due = self.cursor.money_nested(&field)?
                            }
                            "DscntApldAmt" => {
                                amounts.amount_discount = self.cursor.money_nested(&field)?
                            }
                            "RmtdAmt" => {
                                amounts.amount_remitted = self.cursor.money_nested(&field)?
                            }
                            "AdjstmntAmtAndRsn" => {
                                while let Some(part) = self.cursor.next_child()? {
                                    match part.name {
                                        "Amt" => {
                                            amounts.amount_adjustment =
                                                Some(self.cursor.money(&part)?)
                                        }
                                        "Rsn" | "AddtlInf" => {
                                            let text: String = self.cursor.text()?;
                                            if amounts.adjustment_reason.is_none() {
                                                amounts.adjustment_reason = non_empty(text);
                                            }
                                        }
                                        _ => self.cursor.skip()?,
                                    }
                                }
                            }
                            _ => self.cursor.skip()?,
                        }
                    }
                }
                "CdtrRefInf" => {
                    let mut kind = None;
                    let mut issuer = None;
                    let mut reference = None;
                    while let Some(field) = self.cursor.next_child()? {
                        match field.name {
                            "Tp" => {
                                while let Some(part) = self.cursor.next_child()? {
                                    match part.name {
                                        "CdOrPrtry" => kind = self.code_or_proprietary()?,
                                        "Issr" => issuer = non_empty(self.cursor.text()?),
                                        _ => self.cursor.skip()?,
                                    }
                                }
                            }
                            "Ref" => reference = non_empty(self.cursor.text()?),
                            _ => self.cursor.skip()?,
                        }
                    }
                    if let Some(reference) = reference {
                        transaction.creditor_references.push(CreditorReference {
                            kind: kind.map(Into::into),
                            reference,
                            issuer,
                        });
                    }
                }
                "AddtlRmtInf" => {
                    let text: String = self.cursor.text()?;
                    if !text.is_empty() {
                        transaction.additional_remittance.push(text);
                    }
                }
                _ => self.cursor.skip()?,
            }
        }
        let has_amounts = amounts != ReferredDocument::default();
        match document {
            Some(mut doc) => {
                doc.amount_due = amounts.amount_due;
                doc.amount_discount = amounts.amount_discount;
                doc.amount_remitted = amounts.amount_remitted;
                doc.amount_adjustment = amounts.amount_adjustment;
                doc.adjustment_reason = amounts.adjustment_reason;
                transaction.referred_documents.push(doc);
            }
            None if has_amounts => transaction.referred_documents.push(amounts),
            None => {}
        }
        Ok(())
    }
}

/// Sets one of a transaction's rarer fields, allocating them only for a
/// value (an empty value clears the field as before).
fn set(
    more: &mut Option<Box<TransactionMore>>,
    field: impl FnOnce(&mut TransactionMore) -> &mut Option<String>,
    value: Option<String>,
) {
    match (more, value) {
        (more, Some(value)) => *field(more.get_or_insert_with(Box::default)) = Some(value),
        (Some(more), None) => *field(more) = None,
        (None, None) => {}
    }
}

fn non_empty<T: From<String>>(text: String) -> Option<T> {
    if text.is_empty() {
        None
    } else {
        Some(text.into())
    }
}

fn status_of(code: &str) -> EntryStatus {
    match code {
        "BOOK" => EntryStatus::Booked,
        "PDNG" => EntryStatus::Pending,
        "INFO" => EntryStatus::Info,
        _ => EntryStatus::Other,
    }
}

/// `YYYY-MM-DD`, optionally followed by a time (`DtTm`) or an offset
/// (`2013-12-27+01:00`, allowed by `xs:date`). Hand-written: it runs twice
/// per entry and chrono's format parser showed in profiles.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let rest = &b[10..];
    if !(rest.is_empty() || matches!(rest[0], b'T' | b'+' | b'-' | b'Z')) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

/// Balance and declared-totals checks; mismatches are warnings.
fn check_integrity(statement: &mut Statement) {
    if let Some(warning) = balance_warning(statement) {
        statement.warnings.push(warning);
    }
    let Some(declared) = statement.declared.clone() else {
        return;
    };
    let count = statement.entries.len() as u64;
    if let Some(expected) = declared.entry_count
        && expected != count
    {
        statement.warnings.push(format!(
            "TxsSummry declares {expected} entries, the statement has {count}"
        ));
    }
    if let Some(expected) = declared.net_amount {
        let net: Decimal = statement.entries.iter().map(|e| e.amount).sum();
        if expected != net {
            statement.warnings.push(format!(
                "TxsSummry declares a net total of {expected}, the entries sum to {net}"
            ));
        }
    }
    let credits: Vec<Decimal> = statement
        .entries
        .iter()
        .filter(|e| e.amount.is_sign_positive())
        .map(|e| e.amount)
        .collect();
    let debits: Vec<Decimal> = statement
        .entries
        .iter()
        .filter(|e| e.amount.is_sign_negative())
        .map(|e| -e.amount)
        .collect();
    for (what, declared_count, declared_sum, values) in [
        (
            "credit",
            declared.credit_count,
            declared.credit_sum,
            &credits,
        ),
        ("debit", declared.debit_count, declared.debit_sum, &debits),
    ] {
        if let Some(n) = declared_count
            && n != values.len() as u64
        {
            statement.warnings.push(format!(
                "TxsSummry declares {n} {what} entries, the statement has {}",
                values.len()
            ));
        }
        let sum: Decimal = values.iter().sum();
        if let Some(expected) = declared_sum
            && expected != sum
        {
            statement.warnings.push(format!(
                "TxsSummry declares {what} entries summing to {expected}, they sum to {sum}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    /// Two `CcyXchg` blocks (under `InstdAmt`, then `TxAmt` without
    /// `UnitCcy`): the later replaces the earlier whole, so no unit
    /// currency of one block turns the rate of the other around.
    #[test]
    fn exchange_blocks_do_not_mix() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">915.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-06-10</Dt></BookgDt><ValDt><Dt>2026-06-10</Dt></ValDt>
<NtryDtls><TxDtls><AmtDtls>
<InstdAmt><Amt Ccy="USD">1000.00</Amt><CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><UnitCcy>EUR</UnitCcy><XchgRate>1.0929</XchgRate></CcyXchg></InstdAmt>
<TxAmt><Amt Ccy="EUR">915.00</Amt><CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><XchgRate>0.915</XchgRate></CcyXchg></TxAmt>
</AmtDtls></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"#;
        let document = super::parse("x.xml", xml, Vec::new()).expect("parses");
        let transaction = &document.statements[0].entries[0].transaction;
        assert_eq!(
            transaction
                .more()
                .exchange_rate
                .map(|r| r.to_string())
                .as_deref(),
            Some("0.915")
        );
        assert_eq!(transaction.more().exchange_unit_currency, None);
        assert_eq!(
            transaction.more().exchange_source_currency.as_deref(),
            Some("USD")
        );
    }

    #[test]
    fn a_conversion_without_a_rate_is_cleared_by_the_entry_as_before() {
        // `CcyXchg` without its mandatory `XchgRate`: the entry's own
        // (absent) amount details clear the currencies, as they always did;
        // the rarer fields then hold nothing.
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">915.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-06-10</Dt></BookgDt>
<NtryDtls><TxDtls><AmtDtls>
<InstdAmt><Amt Ccy="USD">1000.00</Amt><CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy></CcyXchg></InstdAmt>
</AmtDtls></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"#;
        let document = super::parse("x.xml", xml, Vec::new()).expect("parses");
        let transaction = &document.statements[0].entries[0].transaction;
        assert_eq!(*transaction.more(), crate::model::TransactionMore::EMPTY);
        assert_eq!(
            transaction
                .instructed_amount
                .as_ref()
                .map(|m| m.currency.as_str()),
            Some("USD")
        );
    }

    #[test]
    fn dates_and_date_times() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 2, 28);
        assert_eq!(parse_date("2026-02-28"), day);
        assert_eq!(parse_date("2026-02-28T10:00:00+01:00"), day);
        assert_eq!(parse_date("2026-02-28+01:00"), day);
        assert_eq!(parse_date("2026-02-28Z"), day);
        for bad in [
            "2026-02-30",
            "2026-2-28",
            "2026-02-28x",
            "26-02-28",
            "2026-02-2é",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
