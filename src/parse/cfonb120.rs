//! CFONB 120: the French "relevé de compte sur support informatique", one
//! fixed-width record of 120 characters per line (or none between records).
//!
//! Records: `01` old balance, `04` movement, `05` complement of the `04`
//! above it (qualifier in columns 46-48: `LIB`, `NPY`, `NBE`, `RCN`,
//! `REF`, `MMO`, ...), `07` new balance. One `Statement` per `01`..`07`
//! block. Amounts carry their sign and last digit in one character
//! (`{`, `A`-`I` positive, `}`, `J`-`R` negative) and the number of
//! decimals in column 20.
//!
//! Strict where a wrong reading would be costly: an amount or a date that
//! does not decode is an error naming the line. Tolerated, with a warning
//! on the statement: records whose trailing spaces were trimmed (padded),
//! a block without `01` or `07`, a `05` without `04`, unknown qualifiers,
//! balances that do not reconcile. A CFONB 240 file is recognised and
//! refused by name, so nobody mistakes it for a garbled 120.
//!
//! Columns are counted in characters, not bytes: a Windows-1252 file
//! decoded to UTF-8 keeps its layout.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Location, ParseError};
use crate::model::{
    Account, Balance, BalanceKind, BankTxCode, Charge, CreditorReference, Entry, EntryStatus,
    Format, Money, Statement, Text, Transaction,
};
use crate::parse::{
    TrimAscii, assign_line_ids, balance_warning, collapse_repeats, decode_text, non_empty,
    numbered_lines,
};

/// Characters in a CFONB 120 record.
pub const RECORD_LENGTH: usize = 120;

/// `05` records one `04` may carry: 1,000. Banks send a handful (a SEPA
/// transfer uses about ten); past this the file is broken and the extra
/// complements are dropped with a warning rather than kept without bound.
pub const COMPLEMENTS_PER_ENTRY_MAX: usize = 1_000;

/// Record codes of CFONB 120.
const RECORD_CODES: [&str; 4] = ["01", "04", "05", "07"];

/// Decodes the bytes (UTF-8, else Windows-1252 with a warning) and reads
/// every `01`..`07` block. Returns the statements and the warnings that
/// belong to no statement.
pub fn parse(source: &str, bytes: &[u8]) -> Result<(Vec<Statement>, Vec<String>), ParseError> {
    let mut encoding_warnings = Vec::new();
    let text = decode_text(bytes, &mut encoding_warnings);
    let (records, several_per_line) = split_records(source, &text)?;
    let mut reader = Reader {
        source,
        several_per_line,
        encoding_warnings,
        current: None,
        statements: Vec::new(),
        file_warnings: Vec::new(),
        orphan_complement: None,
    };
    for record in &records {
        reader.record(record)?;
    }
    reader.finish(Some(
        "the file ends before the 07 record (new balance) of this statement",
    ));
    if reader.statements.is_empty() {
        let (location, message) = match reader.orphan_complement {
            Some(number) => (
                Location::Line(number),
                "05 record without a preceding 04 record: expected a 01 (old balance) or 04 (movement) record first",
            ),
            None => (
                Location::File,
                "expected a CFONB 120 statement: 01, 04, 05 and 07 records of 120 characters",
            ),
        };
        return Err(ParseError::new(source, location, message));
    }
    Ok((reader.statements, reader.file_warnings))
}

/// One record, exactly `RECORD_LENGTH` characters.
struct Record {
    text: String,
    ascii: bool,
    /// 1-based physical line.
    line: u64,
    /// 1-based position among the records of the file.
    ordinal: u64,
    /// The line was shorter than 120 characters and was padded.
    padded: bool,
}

impl Record {
    fn code(&self) -> &str {
        self.columns(1, 2)
    }

    /// Columns `from..=to`, 1-based as the CFONB layout numbers them.
    fn columns(&self, from: usize, to: usize) -> &str {
        if from == 0 || to < from {
            return "";
        }
        if self.ascii {
            return self.text.get(from - 1..to).unwrap_or("");
        }
        let mut offsets = self
            .text
            .char_indices()
            .map(|(at, _)| at)
            .chain(std::iter::once(self.text.len()));
        let start = offsets.nth(from - 1);
        let end = offsets.nth(to - from);
        match (start, end) {
            (Some(start), Some(end)) => self.text.get(start..end).unwrap_or(""),
            _ => "",
        }
    }

    fn trimmed(&self, from: usize, to: usize) -> &str {
        self.columns(from, to).trim_fast()
    }
}

/// Whether the first line of a file is a CFONB 240 record (or several of
/// them without line breaks) rather than CFONB 120.
fn looks_like_cfonb240(line: &str) -> bool {
    let length = line.chars().count();
    if length <= RECORD_LENGTH || line.trim_end().chars().count() <= 2 {
        return false;
    }
    let code_at = |at: usize| -> String { line.chars().skip(at).take(2).collect() };
    let first_is_120 = RECORD_CODES.contains(&code_at(0).as_str());
    let second_is_120 = RECORD_CODES.contains(&code_at(RECORD_LENGTH).as_str());
    if first_is_120 && second_is_120 {
        // 120-character records written without line breaks.
        return false;
    }
    length <= 2 * RECORD_LENGTH
        || code_at(2 * RECORD_LENGTH)
            .chars()
            .all(|c| c.is_ascii_digit())
}

/// Cuts the text into records: one per line, several per line when the
/// file has no line breaks, short lines padded. Returns the records and
/// whether some line held several (locations then count records).
fn split_records(source: &str, text: &str) -> Result<(Vec<Record>, bool), ParseError> {
    let mut records = Vec::new();
    let mut several_per_line = false;
    let mut first = true;
    for (line_number, line) in numbered_lines(text) {
        // A DOS end-of-file mark or NUL padding ends a line as spaces do.
        let content = line.trim_end_matches(['\u{1a}', '\0']);
        if content.trim().is_empty() {
            continue;
        }
        if first {
            first = false;
            if looks_like_cfonb240(content) {
                return Err(ParseError::new(
                    source,
                    Location::Line(line_number),
                    "this is a CFONB 240 file (records of 240 characters), not CFONB 120; recon reads CFONB 120 account statements only",
                ));
            }
        }
        let chars: Vec<char> = content.chars().collect();
        let mut chunks: Vec<&[char]> = chars.chunks(RECORD_LENGTH).collect();
        // Spaces after the last record (a 120-character record followed by
        // stray blanks) are not a record.
        if chunks.len() > 1
            && chunks
                .last()
                .is_some_and(|chunk| chunk.iter().all(|c| c.is_whitespace()))
        {
            chunks.pop();
        }
        if chunks.len() > 1 {
            several_per_line = true;
        }
        for chunk in chunks {
            let mut record_text: String = chunk.iter().collect();
            let padded = chunk.len() < RECORD_LENGTH;
            for _ in chunk.len()..RECORD_LENGTH {
                record_text.push(' ');
            }
            let record = Record {
                ascii: record_text.is_ascii(),
                text: record_text,
                line: line_number,
                ordinal: records.len() as u64 + 1,
                padded,
            };
            let code = record.code();
            if !RECORD_CODES.contains(&code) {
                let number = if several_per_line {
                    record.ordinal
                } else {
                    line_number
                };
                let message = if chunk.len() == RECORD_LENGTH
                    && chars.len().is_multiple_of(2 * RECORD_LENGTH)
                    && code.bytes().all(|b| b.is_ascii_digit())
                {
                    format!(
                        "expected a CFONB 120 record code (01, 04, 05 or 07), found {code:?}; records of 240 characters are CFONB 240, which recon does not read"
                    )
                } else {
                    format!(
                        "expected a CFONB 120 record code (01, 04, 05 or 07) at column 1, found {code:?}"
                    )
                };
                return Err(ParseError::new(source, Location::Line(number), message));
            }
            records.push(record);
        }
    }
    Ok((records, several_per_line))
}

/// The entry being read, with what its `05` records said about the parties
/// (resolved when it closes, once the sign is known).
struct OpenEntry {
    entry: Entry,
    payer: Option<String>,
    beneficiary: Option<String>,
    complements: usize,
}

impl OpenEntry {
    fn close(self) -> Entry {
        let OpenEntry {
            mut entry,
            payer,
            beneficiary,
            ..
        } = self;
        let transaction = &mut entry.transaction;
        if entry.amount.is_sign_negative() && !entry.amount.is_zero() {
            // A debit: the beneficiary is the other party. Banks also put
            // the creditor of a direct debit in `NPY`.
            match beneficiary {
                Some(name) => {
                    transaction.creditor.name = Some(name.into());
                    transaction.debtor.name = payer.map(Into::into);
                }
                None => transaction.creditor.name = payer.map(Into::into),
            }
        } else {
            transaction.debtor.name = payer.map(Into::into);
            transaction.creditor.name = beneficiary.map(Into::into);
        }
        entry
    }
}

/// One `01`..`07` block being read.
struct Block {
    statement: Statement,
    /// Account number (columns 22-32) the block is about.
    account_number: String,
    /// Opened by a `01`; else by a `04` outside any block.
    from_old_balance: bool,
    open: Option<OpenEntry>,
    opening_date: Option<NaiveDate>,
    closing_date: Option<NaiveDate>,
}

impl Block {
    fn close_entry(&mut self) {
        if let Some(open) = self.open.take() {
            self.statement.entries.push(open.close());
        }
    }
}

struct Reader<'s> {
    source: &'s str,
    several_per_line: bool,
    /// Copied to every statement.
    encoding_warnings: Vec<String>,
    current: Option<Block>,
    statements: Vec<Statement>,
    file_warnings: Vec<String>,
    /// Location of the first `05` found outside any block.
    orphan_complement: Option<u64>,
}

/// A field that does not decode: the message, later located.
type FieldError = String;

impl Reader<'_> {
    /// The number `Location::Line` carries: the line, or the record's
    /// position when the file has several records per line.
    fn number(&self, record: &Record) -> u64 {
        if self.several_per_line {
            record.ordinal
        } else {
            record.line
        }
    }

    fn error(&self, record: &Record, message: impl Into<String>) -> ParseError {
        let message = message.into();
        let message = if self.several_per_line {
            format!(
                "record {} (120-character records without line breaks): {message}",
                record.ordinal
            )
        } else {
            message
        };
        ParseError::new(self.source, Location::Line(self.number(record)), message)
    }

    fn located<T>(&self, record: &Record, result: Result<T, FieldError>) -> Result<T, ParseError> {
        result.map_err(|message| self.error(record, message))
    }

    fn record(&mut self, record: &Record) -> Result<(), ParseError> {
        match record.code() {
            "01" => self.old_balance(record),
            "04" => self.movement(record),
            "05" => self.complement(record),
            "07" => self.new_balance(record),
            code => Err(self.error(
                record,
                format!("expected a record code 01, 04, 05 or 07, found {code:?}"),
            )),
        }
    }

    /// Notes on the statement what the record's own form tolerated.
    fn note_record(statement: &mut Statement, record: &Record) {
        if record.padded {
            statement.warnings.push(
                "records shorter than 120 characters (trailing spaces trimmed) were padded with spaces"
                    .to_string(),
            );
        }
    }

    fn start_block(&mut self, record: &Record, from_old_balance: bool) {
        let mut statement = Statement::new(Format::Cfonb120, self.source);
        let bank = record.trimmed(3, 7);
        let agency = record.trimmed(12, 16);
        let account_number = record.trimmed(22, 32).to_string();
        statement.account = Account {
            // Bank code + agency code + account number: the RIB without
            // its key, unique across banks (an account number alone is not).
            id: format!("{bank}{agency}{account_number}"),
            ..Account::default()
        };
        self.current = Some(Block {
            statement,
            account_number,
            from_old_balance,
            open: None,
            opening_date: None,
            closing_date: None,
        });
    }

    /// The currency of a record, noted on the block: the first one given
    /// becomes the account's; a different one later is a warning.
    fn currency(block: &mut Block, record: &Record) -> String {
        let currency = record.trimmed(17, 19).to_string();
        if currency.is_empty() {
            return currency;
        }
        match &block.statement.account.currency {
            None => block.statement.account.currency = Some(currency.clone()),
            Some(account) if *account != currency => block.statement.warnings.push(format!(
                "a {} record is in {currency} but the statement is in {account}",
                record.code()
            )),
            Some(_) => {}
        }
        currency
    }

    /// Number of decimals of the record's amounts (column 20).
    fn decimals(&self, record: &Record, warnings: &mut Vec<String>) -> Result<u32, ParseError> {
        match record.columns(20, 20).chars().next() {
            Some(digit @ '0'..='9') => Ok(digit as u32 - '0' as u32),
            Some(' ') | None => {
                warnings.push(format!(
                    "{} record without a number of decimals (column 20); 2 assumed",
                    record.code()
                ));
                Ok(2)
            }
            Some(other) => Err(self.error(
                record,
                format!("expected the number of decimals (a digit) in column 20, found {other:?}"),
            )),
        }
    }

    fn old_balance(&mut self, record: &Record) -> Result<(), ParseError> {
        if let Some(block) = &self.current {
            let reason = if block.from_old_balance {
                "a new 01 record (old balance) starts before the 07 record (new balance) of this statement"
            } else {
                "movements (04) outside a 01..07 block"
            };
            self.finish(Some(reason));
        }
        self.start_block(record, true);
        let mut warnings = Vec::new();
        let decimals = self.decimals(record, &mut warnings)?;
        let amount = self.located(record, signed_amount(record.columns(91, 104), decimals))?;
        let date = self.balance_date(record, &mut warnings)?;
        let block = self.current.as_mut().expect("just started");
        let currency = Self::currency(block, record);
        block.opening_date = date;
        block.statement.balances.push(Balance {
            kind: BalanceKind::OpeningBooked,
            date,
            amount,
            currency,
        });
        block.statement.warnings.append(&mut warnings);
        Self::note_record(&mut block.statement, record);
        Ok(())
    }

    fn new_balance(&mut self, record: &Record) -> Result<(), ParseError> {
        let account_number = record.trimmed(22, 32);
        let same_account = self
            .current
            .as_ref()
            .is_some_and(|block| block.account_number == account_number);
        if !same_account {
            if self.current.is_some() {
                self.finish(Some(
                    "statement closed without a 07 record (new balance): a 07 record for another account follows",
                ));
            }
            self.start_block(record, false);
            let number = self.number(record);
            let block = self.current.as_mut().expect("just started");
            block.statement.warnings.push(format!(
                "07 record (new balance) at line {number} without a 01 record (old balance) for its account"
            ));
        }
        let mut warnings = Vec::new();
        let decimals = self.decimals(record, &mut warnings)?;
        let amount = self.located(record, signed_amount(record.columns(91, 104), decimals))?;
        let date = self.balance_date(record, &mut warnings)?;
        let block = self.current.as_mut().expect("open block");
        let currency = Self::currency(block, record);
        block.closing_date = date;
        block.statement.balances.push(Balance {
            kind: BalanceKind::ClosingBooked,
            date,
            amount,
            currency,
        });
        block.statement.warnings.append(&mut warnings);
        Self::note_record(&mut block.statement, record);
        self.finish(None);
        Ok(())
    }

    /// Date of a `01` / `07` balance (columns 35-40); blank is tolerated.
    fn balance_date(
        &self,
        record: &Record,
        warnings: &mut Vec<String>,
    ) -> Result<Option<NaiveDate>, ParseError> {
        let text = record.columns(35, 40);
        if text.trim().is_empty() {
            warnings.push(format!(
                "{} record without a balance date (columns 35-40)",
                record.code()
            ));
            return Ok(None);
        }
        self.located(record, date_ddmmyy(text, "balance date", "35-40").map(Some))
    }

    fn movement(&mut self, record: &Record) -> Result<(), ParseError> {
        let account_number = record.trimmed(22, 32);
        match &mut self.current {
            None => {
                self.start_block(record, false);
                let number = self.number(record);
                let block = self.current.as_mut().expect("just started");
                block.statement.warnings.push(format!(
                    "04 record (movement) at line {number} outside a 01..07 block: a statement without old balance is started"
                ));
            }
            Some(block) if block.account_number != account_number => {
                if block.from_old_balance {
                    block.statement.warnings.push(format!(
                        "04 record for account {account_number:?} in the statement of account {:?}",
                        block.account_number
                    ));
                } else {
                    self.finish(None);
                    self.start_block(record, false);
                    let number = self.number(record);
                    let block = self.current.as_mut().expect("just started");
                    block.statement.warnings.push(format!(
                        "04 record (movement) at line {number} outside a 01..07 block: a statement without old balance is started"
                    ));
                }
            }
            Some(_) => {}
        }
        let mut warnings = Vec::new();
        let decimals = self.decimals(record, &mut warnings)?;
        let amount = self.located(record, signed_amount(record.columns(91, 104), decimals))?;
        let booking_date = self.located(
            record,
            date_ddmmyy(record.columns(35, 40), "operation date", "35-40"),
        )?;
        let value_text = record.columns(43, 48);
        let value_date = if value_text.trim().is_empty() {
            None
        } else if value_text == "000000" {
            warnings.push("04 record with value date 000000; no value date kept".to_string());
            None
        } else {
            Some(self.located(record, date_ddmmyy(value_text, "value date", "43-48"))?)
        };
        let mut transaction = Transaction::default();
        let label = record.trimmed(49, 79);
        if !label.is_empty() {
            transaction.remittance_lines.push(label.to_string());
        }
        let rejection = record.trimmed(41, 42);
        if !rejection.is_empty() {
            transaction.more_mut().return_reason = Some(rejection.to_string());
        }
        let entry_number = record.trimmed(82, 88);
        let operation_code = record.trimmed(33, 34);
        let block = self.current.as_mut().expect("open block");
        let currency = Self::currency(block, record);
        let entry = Entry {
            line_id: Text::default(),
            bank_ref: non_empty(record.trimmed(105, 120)),
            entry_ref: non_empty::<Text>(entry_number).filter(|n| n.bytes().any(|b| b != b'0')),
            status: EntryStatus::Booked,
            booking_date: Some(booking_date),
            value_date,
            amount,
            currency: currency.into(),
            reversal: false,
            bank_tx_code: BankTxCode {
                proprietary: non_empty(operation_code),
                proprietary_issuer: (!operation_code.is_empty()).then(|| Text::from("CFONB")),
                ..BankTxCode::default()
            },
            batch_count: None,
            transaction: Box::new(transaction),
            details: Vec::new(),
            charges: Vec::new(),
            additional_info: None,
        };
        block.close_entry();
        block.open = Some(OpenEntry {
            entry,
            payer: None,
            beneficiary: None,
            complements: 0,
        });
        block.statement.warnings.append(&mut warnings);
        Self::note_record(&mut block.statement, record);
        Ok(())
    }

    fn complement(&mut self, record: &Record) -> Result<(), ParseError> {
        let number = self.number(record);
        let qualifier = record.columns(46, 48).to_string();
        let text = record.columns(49, 118);
        let Some(block) = self.current.as_mut() else {
            self.orphan_complement.get_or_insert(number);
            self.file_warnings.push(format!(
                "05 record (complement) at line {number} outside any statement and without a 04 record; ignored"
            ));
            return Ok(());
        };
        Self::note_record(&mut block.statement, record);
        let Some(open) = block.open.as_mut() else {
            block.statement.warnings.push(format!(
                "05 record (complement) at line {number} without a preceding 04 record; its text is kept as statement information"
            ));
            let text = format!("{qualifier} {}", text.trim());
            if !text.trim().is_empty() {
                block.statement.information.push(text.trim().to_string());
            }
            return Ok(());
        };
        open.complements += 1;
        if open.complements > COMPLEMENTS_PER_ENTRY_MAX {
            block.statement.warnings.push(format!(
                "more than {COMPLEMENTS_PER_ENTRY_MAX} 05 records for one 04 record (COMPLEMENTS_PER_ENTRY_MAX); the rest are ignored"
            ));
            return Ok(());
        }
        match apply_complement(open, &qualifier, text) {
            Ok(None) => Ok(()),
            Ok(Some(warning)) => {
                block.statement.warnings.push(warning);
                Ok(())
            }
            Err(message) => Err(self.error(record, message)),
        }
    }

    /// Closes the block being read, if any, and keeps its statement.
    fn finish(&mut self, unfinished: Option<&str>) {
        let Some(mut block) = self.current.take() else {
            return;
        };
        block.close_entry();
        let Block {
            mut statement,
            opening_date,
            closing_date,
            from_old_balance,
            ..
        } = block;
        if let Some(reason) = unfinished
            && from_old_balance
            && !statement
                .balances
                .iter()
                .any(|b| b.kind == BalanceKind::ClosingBooked)
        {
            statement.warnings.push(reason.to_string());
        }
        let currency = statement.account.currency.clone().unwrap_or_default();
        if currency.is_empty() {
            statement.warnings.push(
                "no currency code (columns 17-19) in any record of the statement".to_string(),
            );
        }
        for balance in &mut statement.balances {
            if balance.currency.is_empty() {
                balance.currency.clone_from(&currency);
            }
        }
        let currency_text = Text::from(currency.as_str());
        for entry in &mut statement.entries {
            if entry.currency.is_empty() {
                entry.currency.clone_from(&currency_text);
            }
        }
        let iso = |date: Option<NaiveDate>| date.map(|d| d.format("%Y-%m-%d").to_string());
        statement.period_from = iso(opening_date);
        statement.period_to = iso(closing_date);
        statement.statement_id = iso(closing_date)
            .or_else(|| iso(opening_date))
            .or_else(|| iso(statement.entries.first().and_then(|e| e.booking_date)))
            .unwrap_or_default();
        if let Some(warning) = balance_warning(&statement) {
            statement.warnings.push(warning);
        }
        statement
            .warnings
            .splice(0..0, self.encoding_warnings.iter().cloned());
        collapse_repeats(&mut statement.warnings);
        assign_line_ids(&mut statement);
        self.statements.push(statement);
    }
}

/// Reads one `05` record into the entry; returns a warning for what it
/// tolerated.
fn apply_complement(
    open: &mut OpenEntry,
    qualifier: &str,
    text: &str,
) -> Result<Option<String>, FieldError> {
    let trimmed = text.trim();
    let transaction = &mut open.entry.transaction;
    fn append<T: for<'a> From<&'a str> + std::fmt::Write>(slot: &mut Option<T>, value: &str) {
        if value.is_empty() {
            return;
        }
        match slot {
            Some(existing) => {
                let _ = existing.write_char(' ');
                let _ = existing.write_str(value);
            }
            None => *slot = Some(T::from(value)),
        }
    }
    match qualifier {
        // Free text: `LIB` (label), `LCC` / `LC2` (unstructured remittance).
        "LIB" | "LCC" | "LC2" => {
            if !trimmed.is_empty() {
                transaction.remittance_lines.push(trimmed.to_string());
            }
        }
        // Structured remittance (a creditor reference), 36 characters.
        "LCS" => {
            let reference = chars(text, 0, 36).trim().to_string();
            if !reference.is_empty() {
                transaction.creditor_references.push(CreditorReference {
                    kind: None,
                    reference: reference.into(),
                    issuer: None,
                });
            }
        }
        "NPY" => append(&mut open.payer, trimmed),
        "NBE" => append(&mut open.beneficiary, trimmed),
        "NPO" => append(&mut transaction.ultimate_debtor, trimmed),
        "NBU" => append(&mut transaction.more_mut().ultimate_creditor, trimmed),
        // Identifiers of the parties: 35 characters, then their type.
        "IPY" | "IBE" | "IPO" | "IBU" => {
            let id = chars(text, 0, 35).trim();
            let kind = chars(text, 35, 70).trim();
            if !id.is_empty() {
                let who = match qualifier {
                    "IPY" => "payer",
                    "IBE" => "beneficiary",
                    "IPO" => "ultimate payer",
                    _ => "ultimate beneficiary",
                };
                let value = if kind.is_empty() {
                    format!("{who} id {id}")
                } else {
                    format!("{who} id {id} ({kind})")
                };
                push_info(transaction, value);
            }
        }
        // The client's reference (end-to-end id, 35 characters), then the
        // purpose.
        "RCN" => {
            let reference = chars(text, 0, 35).trim();
            let purpose = chars(text, 35, 70).trim();
            if !reference.is_empty() {
                if transaction.end_to_end_id.is_none() {
                    transaction.end_to_end_id = Some(reference.into());
                } else {
                    transaction.remittance_lines.push(reference.to_string());
                }
            }
            if !purpose.is_empty() {
                push_info(transaction, format!("purpose {purpose}"));
            }
        }
        "REF" => {
            if !trimmed.is_empty() {
                match &transaction.bank_ref {
                    None => transaction.bank_ref = Some(trimmed.into()),
                    Some(_) => push_info(transaction, format!("bank reference {trimmed}")),
                }
            }
        }
        // Amount in the original currency: currency (3), decimals (1),
        // amount (14), then the exchange rate's decimals (1) and rate (11).
        "MMO" => {
            let money = original_money(text).map_err(|m| format!("05 MMO record: {m}"))?;
            transaction.instructed_amount = Some(money);
            let rate_text = chars(text, 19, 30).trim();
            if !rate_text.is_empty() {
                let scale = chars(text, 18, 19).trim();
                match (scale.parse::<u32>(), rate_text.parse::<u64>()) {
                    (Ok(scale), Ok(rate)) if scale <= 11 => {
                        transaction.more_mut().exchange_rate =
                            Some(Decimal::new(rate as i64, scale));
                    }
                    _ => {
                        return Ok(Some(format!(
                            "05 MMO record with an unreadable exchange rate {:?}; rate ignored",
                            chars(text, 18, 30)
                        )));
                    }
                }
            }
        }
        // Fee: currency (3), decimals (1), amount (14).
        "FEE" => {
            let money = original_money(text).map_err(|m| format!("05 FEE record: {m}"))?;
            transaction.charges.push(Charge {
                amount: Money {
                    amount: money.amount.abs(),
                    currency: money.currency,
                },
                included: None,
                kind: Some("FEE".to_string()),
            });
        }
        _ if trimmed.is_empty() => {}
        _ => {
            transaction.additional_remittance.push(trimmed.to_string());
            return Ok(Some(format!(
                "05 record with unknown qualifier {qualifier:?}; its text is kept as additional remittance information"
            )));
        }
    }
    Ok(None)
}

/// Adds a piece of information to the transaction's `additional_info`.
fn push_info(transaction: &mut Transaction, value: String) {
    match &mut transaction.more_mut().additional_info {
        Some(existing) => {
            existing.push_str("; ");
            existing.push_str(&value);
        }
        None => transaction.more_mut().additional_info = Some(value),
    }
}

/// Characters `from..to` (0-based, end exclusive) of `text`.
fn chars(text: &str, from: usize, to: usize) -> &str {
    let mut offsets = text
        .char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(text.len()));
    let start = offsets.nth(from);
    let end = if to > from {
        offsets.nth(to - from - 1)
    } else {
        start
    };
    match (start, end) {
        (Some(start), Some(end)) => text.get(start..end).unwrap_or(""),
        (Some(start), None) => text.get(start..).unwrap_or(""),
        _ => "",
    }
}

/// Currency (3), decimals (1), amount (14) of an `MMO` or `FEE` record.
/// The amount is 14 digits, or 13 and a sign character.
fn original_money(text: &str) -> Result<Money, FieldError> {
    let currency = chars(text, 0, 3).trim().to_string();
    let decimals = chars(text, 3, 4);
    let decimals = match decimals.chars().next() {
        Some(d @ '0'..='9') => d as u32 - '0' as u32,
        _ => {
            return Err(format!(
                "expected the number of decimals, found {decimals:?}"
            ));
        }
    };
    let amount_text = chars(text, 4, 18);
    let amount = if amount_text.trim().bytes().all(|b| b.is_ascii_digit()) {
        let digits = amount_text.trim();
        if digits.is_empty() {
            return Err("expected an amount in the original currency, found nothing".to_string());
        }
        let mantissa: i64 = digits
            .parse()
            .map_err(|_| format!("amount out of range: {amount_text:?}"))?;
        Decimal::new(mantissa, decimals)
    } else {
        signed_amount(amount_text, decimals)?
    };
    Ok(Money {
        amount,
        currency: currency.into(),
    })
}

/// A CFONB amount: 13 digits then one character holding the last digit
/// and the sign (`{`, `A`-`I`: positive 0-9; `}`, `J`-`R`: negative 0-9).
/// Leading spaces count as zeros.
fn signed_amount(text: &str, decimals: u32) -> Result<Decimal, FieldError> {
    let expected =
        "expected an amount of 13 digits and a sign character ({, A-I, }, J-R) in columns 91-104";
    let Some(last) = text.chars().last() else {
        return Err(format!("{expected}, found nothing"));
    };
    let (digit, negative) = match last {
        '{' => (0, false),
        'A'..='I' => (last as i64 - 'A' as i64 + 1, false),
        '}' => (0, true),
        'J'..='R' => (last as i64 - 'J' as i64 + 1, true),
        _ => return Err(format!("{expected}, found {text:?}")),
    };
    let head = &text[..text.len() - last.len_utf8()];
    let head = head.trim_start_matches(' ');
    if !head.bytes().all(|b| b.is_ascii_digit()) || head.len() > 17 {
        return Err(format!("{expected}, found {text:?}"));
    }
    let mut mantissa: i64 = if head.is_empty() {
        0
    } else {
        head.parse()
            .map_err(|_| format!("{expected}, found {text:?}"))?
    };
    mantissa = mantissa * 10 + digit;
    let mut value = Decimal::new(mantissa, decimals.min(28));
    if negative {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// `DDMMYY`; years 00-69 are 2000-2069, 70-99 are 1970-1999.
fn date_ddmmyy(text: &str, what: &str, columns: &str) -> Result<NaiveDate, FieldError> {
    let error = || format!("expected the {what} as DDMMYY in columns {columns}, found {text:?}");
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let number = |at: usize| -> u32 {
        text.get(at..at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let year = number(4) as i32;
    let year = if year < 70 { 2000 + year } else { 1900 + year };
    NaiveDate::from_ymd_opt(year, number(2), number(0)).ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 120-character record with `parts` placed at their 1-based columns.
    fn record(parts: &[(usize, &str)]) -> String {
        let mut line = vec![' '; RECORD_LENGTH];
        for (column, text) in parts {
            for (at, c) in text.chars().enumerate() {
                line[column - 1 + at] = c;
            }
        }
        line.into_iter().collect()
    }

    const ACCOUNT: &str = "00012345678";

    fn old_balance(date: &str, amount: &str) -> String {
        record(&[
            (1, "01"),
            (3, "30004"),
            (12, "01234"),
            (17, "EUR"),
            (20, "2"),
            (22, ACCOUNT),
            (35, date),
            (91, amount),
        ])
    }

    fn new_balance(date: &str, amount: &str) -> String {
        record(&[
            (1, "07"),
            (3, "30004"),
            (12, "01234"),
            (17, "EUR"),
            (20, "2"),
            (22, ACCOUNT),
            (35, date),
            (91, amount),
        ])
    }

    fn movement(code: &str, date: &str, label: &str, amount: &str, reference: &str) -> String {
        record(&[
            (1, "04"),
            (3, "30004"),
            (8, "0585"),
            (12, "01234"),
            (17, "EUR"),
            (20, "2"),
            (22, ACCOUNT),
            (33, code),
            (35, date),
            (43, date),
            (49, label),
            (82, "0000042"),
            (91, amount),
            (105, reference),
        ])
    }

    fn complement(qualifier: &str, text: &str) -> String {
        record(&[
            (1, "05"),
            (3, "30004"),
            (12, "01234"),
            (17, "EUR"),
            (20, "2"),
            (22, ACCOUNT),
            (46, qualifier),
            (49, text),
        ])
    }

    fn file(records: &[String], separator: &str) -> Vec<u8> {
        let mut text = records.join(separator);
        text.push_str(separator);
        text.into_bytes()
    }

    /// One statement: a credit with complements, a debit with an original
    /// amount, balances that reconcile.
    fn sample() -> Vec<String> {
        vec![
            old_balance("020326", "0000000100000{"),
            movement(
                "05",
                "030326",
                "VIR SEPA DUPONT SARL",
                "0000000012345E",
                "REF0001",
            ),
            complement("NPY", "DUPONT SARL"),
            complement("LIB", "FACTURE FA-2026-000123"),
            complement("RCN", &format!("{:<35}{}", "E2E-778899", "SUPP")),
            movement("01", "030326", "PRLV SEPA EDF", "0000000004000}", ""),
            complement("NPY", "EDF"),
            complement("MMO", "USD20000000004500050000010870000"),
            new_balance("030326", "0000000108345E"),
        ]
    }

    #[test]
    fn amounts_carry_sign_and_last_digit() {
        let cases = [
            ("0000000012345E", 2, "1234.55"),
            ("0000000000010}", 2, "-1.00"),
            ("0000000000000{", 2, "0.00"),
            ("0000000000001R", 0, "-19"),
            ("0000000000321J", 3, "-3.211"),
            ("  00000000012A", 1, "12.1"),
        ];
        for (text, decimals, expected) in cases {
            let value = signed_amount(text, decimals).expect(text);
            assert_eq!(value.to_string(), expected, "{text}");
        }
        for bad in ["0000000000012", "00000000X0012{", "", "000000000001é"] {
            assert!(signed_amount(bad, 2).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn dates_are_ddmmyy() {
        assert_eq!(
            date_ddmmyy("280226", "d", "35-40"),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap())
        );
        assert_eq!(
            date_ddmmyy("311299", "d", "35-40"),
            Ok(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap())
        );
        for bad in ["300226", "  CART", "2802", "0a0226", "000000"] {
            assert!(date_ddmmyy(bad, "d", "35-40").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_block_is_a_statement_with_its_complements() {
        let (statements, warnings) = parse("s.txt", &file(&sample(), "\n")).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(statements.len(), 1);
        let statement = &statements[0];
        assert!(statement.warnings.is_empty(), "{:?}", statement.warnings);
        assert_eq!(statement.format, Format::Cfonb120);
        assert_eq!(statement.account.id, "3000401234".to_string() + ACCOUNT);
        assert_eq!(statement.account.currency.as_deref(), Some("EUR"));
        assert_eq!(statement.statement_id, "2026-03-03");
        assert_eq!(statement.balance_ok(), Some(true));
        assert_eq!(
            statement.opening_balance().unwrap().amount.to_string(),
            "10000.00"
        );
        let [credit, debit] = &statement.entries[..] else {
            panic!("two entries expected");
        };
        assert_eq!(credit.amount.to_string(), "1234.55");
        assert_eq!(credit.bank_ref.as_deref(), Some("REF0001"));
        assert_eq!(credit.entry_ref.as_deref(), Some("0000042"));
        assert_eq!(credit.bank_tx_code.proprietary.as_deref(), Some("05"));
        assert_eq!(
            credit.transaction.debtor.name.as_deref(),
            Some("DUPONT SARL")
        );
        assert_eq!(
            credit.transaction.end_to_end_id.as_deref(),
            Some("E2E-778899")
        );
        assert_eq!(
            credit.remittance_text(),
            "VIR SEPA DUPONT SARL FACTURE FA-2026-000123"
        );
        assert_eq!(
            credit.transaction.more().additional_info.as_deref(),
            Some("purpose SUPP")
        );
        assert_eq!(credit.booking_date, NaiveDate::from_ymd_opt(2026, 3, 3));
        assert_eq!(debit.amount.to_string(), "-400.00");
        assert_eq!(debit.bank_ref, None);
        // NPY on a debit names the creditor (the biller of a direct debit).
        assert_eq!(debit.transaction.creditor.name.as_deref(), Some("EDF"));
        assert_eq!(debit.transaction.debtor.name, None);
        let instructed = debit.transaction.instructed_amount.as_ref().unwrap();
        assert_eq!(
            (
                instructed.amount.to_string().as_str(),
                instructed.currency.as_str()
            ),
            ("450.00", "USD")
        );
        assert_eq!(
            debit
                .transaction
                .more()
                .exchange_rate
                .map(|r| r.to_string()),
            Some("1.08700".to_string())
        );
        assert!(credit.line_id.ends_with("-1") && debit.line_id.ends_with("-2"));
        assert_eq!(credit.line_id.len(), 12 + 2);
    }

    #[test]
    fn line_endings_and_missing_breaks_read_the_same() {
        let records = sample();
        let (lf, _) = parse("s", &file(&records, "\n")).unwrap();
        let (crlf, _) = parse("s", &file(&records, "\r\n")).unwrap();
        let (cr, _) = parse("s", &file(&records, "\r")).unwrap();
        let (none, _) = parse("s", &file(&records, "")).unwrap();
        assert_eq!(lf, crlf);
        assert_eq!(lf, cr);
        assert_eq!(lf, none);
        // Trailing spaces trimmed: padded, with one collapsed warning.
        let trimmed: Vec<String> = records.iter().map(|r| r.trim_end().to_string()).collect();
        let (short, _) = parse("s", &file(&trimmed, "\n")).unwrap();
        assert_eq!(short[0].entries, lf[0].entries);
        assert_eq!(
            short[0].warnings,
            vec![
                "records shorter than 120 characters (trailing spaces trimmed) were padded with spaces (9 times)"
                    .to_string()
            ]
        );
    }

    #[test]
    fn beneficiary_names_the_creditor_of_a_debit() {
        let records = vec![
            old_balance("020326", "0000000000000{"),
            movement("06", "030326", "VIR EMIS", "0000000001000}", ""),
            complement("NPY", "ACME SA"),
            complement("NBE", "FOURNISSEUR SAS"),
            complement("REF", "BQ-REF-77"),
            complement("XYZ", "UNKNOWN TEXT"),
            complement("", ""),
            new_balance("030326", "0000000001000}"),
        ];
        let (statements, _) = parse("s", &file(&records, "\n")).unwrap();
        let entry = &statements[0].entries[0];
        assert_eq!(
            entry.transaction.creditor.name.as_deref(),
            Some("FOURNISSEUR SAS")
        );
        assert_eq!(entry.transaction.debtor.name.as_deref(), Some("ACME SA"));
        assert_eq!(entry.transaction.bank_ref.as_deref(), Some("BQ-REF-77"));
        assert_eq!(
            entry.transaction.additional_remittance,
            vec!["UNKNOWN TEXT"]
        );
        assert_eq!(
            statements[0].warnings,
            vec![
                "05 record with unknown qualifier \"XYZ\"; its text is kept as additional remittance information"
            ]
        );
    }

    #[test]
    fn bad_dates_and_amounts_are_located_errors() {
        let mut records = sample();
        records[5] = movement("01", "300226", "PRLV", "0000000004000}", "");
        let error = parse("bad.txt", &file(&records, "\n")).unwrap_err();
        assert_eq!(error.location, Location::Line(6));
        assert_eq!(error.file, "bad.txt");
        assert!(error.message.contains("operation date"), "{error}");

        let mut records = sample();
        records[8] = new_balance("030326", "00000001083X5E");
        let error = parse("bad.txt", &file(&records, "\r\n\r\n")).unwrap_err();
        assert_eq!(error.location, Location::Line(17));
        assert!(error.message.contains("columns 91-104"), "{error}");

        // Without line breaks the location counts records.
        let mut records = sample();
        records[2] = complement("MMO", "USD2ABC");
        let error = parse("bad.txt", &file(&records, "")).unwrap_err();
        assert_eq!(error.location, Location::Line(3));
        assert!(error.message.starts_with("record 3 "), "{error}");

        let error = parse("x", b"09 not a record\n").unwrap_err();
        assert_eq!(error.location, Location::Line(1));
        assert!(parse("x", b"").is_err());
        assert!(parse("x", b"\n\n   \n").is_err());
    }

    #[test]
    fn cfonb_240_is_named_and_refused() {
        let line = format!("31{}", "0".repeat(238));
        for bytes in [
            format!("{line}\n{line}\n"),
            format!("{line}{line}"),
            format!("31{}\n", " ".repeat(238)),
        ] {
            let error = parse("v.txt", bytes.as_bytes()).unwrap_err();
            assert!(error.message.contains("CFONB 240"), "{error}");
        }
        let error = parse("v.txt", format!("{line}\n").as_bytes()).unwrap_err();
        assert!(error.message.contains("CFONB 240"), "{error}");
        assert_eq!(error.location, Location::Line(1));
        let three_records = format!("03{}03{}", " ".repeat(238), " ".repeat(238));
        let error = parse("v.txt", three_records.as_bytes()).unwrap_err();
        assert!(error.message.contains("CFONB 240"), "{error}");
    }

    #[test]
    fn blocks_without_01_or_07_are_kept_with_warnings() {
        let records = vec![
            movement("05", "030326", "VIR HORS RELEVE", "0000000000100{", ""),
            old_balance("020326", "0000000000000{"),
            complement("LIB", "SANS MOUVEMENT"),
            movement("05", "030326", "VIR", "0000000000100{", ""),
            // No 07: a new 01 starts.
            old_balance("030326", "0000000001000{"),
            new_balance("040326", "0000000001000{"),
            new_balance("050326", "0000000002000{"),
        ];
        let (statements, warnings) = parse("s", &file(&records, "\n")).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(statements.len(), 4);
        assert!(statements[0].warnings[0].contains("outside a 01..07 block"));
        assert_eq!(statements[0].opening_balance(), None);
        assert_eq!(statements[1].information, vec!["LIB SANS MOUVEMENT"]);
        assert!(statements[1].warnings[0].contains("without a preceding 04"));
        assert!(
            statements[1].warnings[1].contains("before the 07 record"),
            "{:?}",
            statements[1].warnings
        );
        assert_eq!(statements[2].balance_ok(), Some(true));
        assert!(statements[2].warnings.is_empty());
        assert!(statements[3].warnings[0].contains("without a 01 record"));

        // Only 05 records: nothing to attach them to.
        let only = vec![complement("LIB", "X"), complement("LIB", "Y")];
        let error = parse("s", &file(&only, "\n")).unwrap_err();
        assert_eq!(error.location, Location::Line(1));
    }

    #[test]
    fn unreconciled_balances_and_latin1_are_warnings() {
        let mut records = sample();
        records[8] = new_balance("030326", "0000000108346E");
        let mut bytes = file(&records, "\n");
        // "DUPONT SARL" → "DUPONT SÀRL" in Windows-1252 (one byte).
        let at = bytes.windows(4).position(|w| w == b"SARL").unwrap();
        bytes[at + 1] = 0xC0;
        let (statements, warnings) = parse("s", &bytes).unwrap();
        assert!(warnings.is_empty());
        let statement = &statements[0];
        assert_eq!(statement.balance_ok(), Some(false));
        assert!(statement.warnings[0].contains("Windows-1252"));
        assert!(statement.warnings[1].contains("do not reconcile"));
        assert_eq!(
            statement.entries[0].transaction.remittance_lines[0],
            "VIR SEPA DUPONT SÀRL"
        );
        assert_eq!(statement.entries[0].bank_ref.as_deref(), Some("REF0001"));
    }

    #[test]
    fn no_panic_on_garbage() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let base = file(&sample(), "\n");
        for _ in 0..300 {
            let mut bytes = base.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % bytes.len() as u64) as usize;
                bytes[at] = (seed >> 32) as u8;
            }
            seed ^= seed << 13;
            bytes.truncate((seed % (bytes.len() as u64 + 1)) as usize);
            let _ = parse("fuzz", &bytes);
        }
    }

    /// Inputs a source rejects although every field recon reads is valid:
    /// silarhi's strict mode refuses blanks in columns 80-90 (entry number
    /// and indices), which carry nothing recon uses.
    const VALID_THOUGH_THE_SOURCE_REJECTS: &[&str] =
        &["cfonb120/silarhi-cfonb-parser/non-strict-test.txt"];

    /// The golden fixture of this format reads without a warning.
    #[test]
    fn fixture_reads_cleanly() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join("cfonb120/two-days-sepa-complements.txt");
        let bytes = std::fs::read(&path).expect("fixture");
        let (statements, warnings) =
            parse("cfonb120/two-days-sepa-complements.txt", &bytes).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(statements.len(), 2);
        for statement in &statements {
            assert!(statement.warnings.is_empty(), "{:?}", statement.warnings);
            assert_eq!(statement.balance_ok(), Some(true));
        }
        let fx = &statements[0].entries[2];
        assert_eq!(fx.value_date, NaiveDate::from_ymd_opt(2026, 3, 6));
        let instructed = fx.transaction.instructed_amount.as_ref().unwrap();
        assert_eq!(instructed.amount.to_string(), "2012.80");
        assert_eq!(
            fx.transaction.more().exchange_rate.unwrap().to_string(),
            "1.08800"
        );
        assert_eq!(fx.transaction.charges[0].amount.amount.to_string(), "12.50");
        assert_eq!(
            fx.transaction.creditor_references[0].reference,
            "RF18539007547034"
        );
        assert_eq!(statements[1].entries[0].bank_ref, None);
    }

    /// Every CFONB 120 input of `../shared/corpus`: valid ones parse;
    /// those their source rejects are rejected with a location or read
    /// with warnings; the CFONB 240 file is refused by name.
    #[test]
    fn corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let Ok(index) = std::fs::read_to_string(root.join("index.tsv")) else {
            eprintln!("cfonb120 corpus: {} absent, skipped", root.display());
            return;
        };
        let mut lines = index.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (path_at, format_at, role_at, failure_at, note_at) = (
            column("path"),
            column("format"),
            column("role"),
            column("expect_failure"),
            column("note"),
        );
        let mut seen = std::collections::BTreeSet::new();
        let (mut parsed, mut statements, mut entries, mut rejected, mut warned) = (0, 0, 0, 0, 0);
        let mut failures = Vec::new();
        for line in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |at: usize| cells.get(at).copied().unwrap_or("");
            if cell(format_at) != "cfonb120" || cell(role_at) != "input" {
                continue;
            }
            let path = cell(path_at);
            if !seen.insert(path.to_string()) {
                continue;
            }
            let bytes = std::fs::read(root.join(path)).expect("corpus file");
            let result = parse(path, &bytes);
            let has_warnings = |(list, file): &(Vec<Statement>, Vec<String>)| {
                !file.is_empty() || list.iter().any(|s| !s.warnings.is_empty())
            };
            if cell(note_at).contains("CFONB 240") {
                match &result {
                    Err(error) if error.message.contains("CFONB 240") => rejected += 1,
                    other => failures.push(format!("{path}: CFONB 240 not refused: {other:?}")),
                }
                continue;
            }
            match (&result, cell(failure_at) == "yes") {
                (Ok(read), _) => {
                    parsed += 1;
                    statements += read.0.len();
                    entries += read.0.iter().map(|s| s.entries.len()).sum::<usize>();
                    if has_warnings(read) {
                        warned += 1;
                    } else if cell(failure_at) == "yes"
                        && !VALID_THOUGH_THE_SOURCE_REJECTS.contains(&path)
                    {
                        failures.push(format!("{path}: expected to fail, read without warning"));
                    }
                }
                (Err(error), true) if matches!(error.location, Location::Line(_)) => rejected += 1,
                (Err(error), _) => failures.push(format!("{path}: {error}")),
            }
        }
        eprintln!(
            "cfonb120 corpus: {} inputs: {parsed} parsed ({warned} with warnings; {statements} statements, {entries} entries), {rejected} rejected with a location",
            seen.len()
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
