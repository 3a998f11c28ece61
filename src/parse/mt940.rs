//! SWIFT MT940 (customer statement) and MT942 (interim report), in every
//! bank's dialect.
//!
//! One pass over the lines of the file, no copy of the text: fields are
//! found by their `:NN[A]:` tag at the start of a line, continuation lines
//! belong to the field above them, and each field is decoded as soon as it
//! ends. The SWIFT envelope (`{1:}{2:}{4: ... -}{5:}`), bank preambles,
//! several messages per file, LF / CRLF / CR / `@@` separators and a missing
//! final newline are all read the same way.
//!
//! The balances are parsed with nom and `:61:` on its bytes (its head is
//! fixed width), both strictly: an impossible date
//! (February 30) or a `:61:` cut short is an error naming the line. `:86:`
//! is decoded by dialect (`dialect_86`): slash codes (`/EREF/`, `/REMI/`,
//! `/CNTP/`... ING, ABN AMRO, Rabobank), German `?NN` sub-fields with SEPA
//! tags (`EREF+`, `SVWZ+`, ...), or free text kept whole with labelled
//! parts (`/DE ... /MOTIF ...`) picked out.

use std::borrow::Cow;

use chrono::NaiveDate;
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_while, take_while_m_n};
use nom::character::complete::anychar;
use rust_decimal::Decimal;

use crate::error::{Location, ParseError};
use crate::model::{
    Account, Balance, BalanceKind, BankTxCode, Charge, DeclaredTotals, Entry, EntryStatus, Format,
    Money, Party, Statement, Text, Transaction,
};
use crate::money::parse_amount_with;
use crate::parse::{TrimAscii, assign_line_ids, balance_warning, collapse_repeats};

/// Longest line accepted: 100,000 bytes. SWIFT lines are at most 65
/// characters and real files stay under a few hundred; a longer "line" is a
/// binary or a file whose line breaks were lost, and is refused rather than
/// read as one gigantic field.
pub const LINE_LENGTH_MAX: usize = 100_000;

/// Lines one field may span: 400. `:86:` is 6 x 65 characters in the
/// standard and banks stretch it to a few dozen lines; beyond this the file
/// is broken (a missing tag) and is refused with the line.
pub const FIELD_LINES_MAX: usize = 400;

/// Decodes the bytes (UTF-8, else Windows-1252 with a warning) and reads
/// every statement. Returns the statements and the file-level warnings.
pub fn parse(source: &str, bytes: &[u8]) -> Result<(Vec<Statement>, Vec<String>), ParseError> {
    let mut file_warnings = Vec::new();
    let text = crate::parse::decode_text(bytes, &mut file_warnings);
    let mut reader = Reader {
        source,
        statements: Vec::new(),
        current: None,
        file_warnings,
        message_type: None,
        spare_entries: Vec::new(),
        scratch: String::new(),
    };
    // The field being read: its tag and first line number, and its lines
    // (one buffer for the whole file).
    let mut field: Option<(&str, u64)> = None;
    let mut lines: Vec<&str> = Vec::new();
    let mut pending_colon = false;
    for (number, line) in Lines::new(&text) {
        if line.len() > LINE_LENGTH_MAX {
            return Err(ParseError::new(
                source,
                Location::Line(number),
                format!("line longer than {LINE_LENGTH_MAX} bytes (LINE_LENGTH_MAX)"),
            ));
        }
        let mut line = line;
        // Envelope blocks: `{1:...}{2:I940...}{4:` possibly followed by the
        // first field on the same line.
        if line.starts_with('{') {
            if let Some(at) = line.find("{2:")
                && let Some(kind) = line.get(at + 4..at + 7)
            {
                reader.message_type = Some(kind.to_string());
            }
            match line.find("{4:") {
                Some(at) => {
                    line = &line[at + 3..];
                    if line.is_empty() {
                        continue;
                    }
                }
                None => {
                    flush(&mut reader, &mut field, &mut lines)?;
                    continue;
                }
            }
        }
        // A tag broken after its first colon (`:` alone, then `86:...`).
        if line.trim_end_fast() == ":" {
            pending_colon = true;
            continue;
        }
        let tagged = if std::mem::take(&mut pending_colon) {
            split_tag_after_colon(line)
        } else {
            split_tag(line)
        };
        if let Some((tag, rest)) = tagged {
            flush(&mut reader, &mut field, &mut lines)?;
            field = Some((tag, number));
            lines.push(rest);
            continue;
        }
        let trimmed = line.trim_end_fast();
        if trimmed == "-"
            || trimmed.starts_with("-}")
            || (trimmed.starts_with('-') && trimmed.len() <= 4 && field.is_some())
        {
            // End of a message.
            flush(&mut reader, &mut field, &mut lines)?;
            reader.finish_statement()?;
            continue;
        }
        match field {
            Some((tag, _)) => {
                if lines.len() >= FIELD_LINES_MAX {
                    return Err(ParseError::new(
                        source,
                        Location::Line(number),
                        format!(
                            "field :{}: runs over more than {FIELD_LINES_MAX} lines (FIELD_LINES_MAX): a tag is missing",
                            tag
                        ),
                    ));
                }
                lines.push(line);
            }
            None => {
                // Bank preamble before the first field (`0000 01INGB...`,
                // `940`, `:940:`), or blank lines between messages.
            }
        }
    }
    flush(&mut reader, &mut field, &mut lines)?;
    reader.finish_statement()?;
    if reader.statements.is_empty() {
        return Err(ParseError::new(
            source,
            Location::File,
            "expected an MT940/MT942 statement (a :20: field followed by :25:, :60F: ...)",
        ));
    }
    Ok((reader.statements, reader.file_warnings))
}

/// Hands the field being read, if any, to the reader, and empties the line
/// buffer for the next one.
fn flush<'t>(
    reader: &mut Reader,
    field: &mut Option<(&'t str, u64)>,
    lines: &mut Vec<&'t str>,
) -> Result<(), ParseError> {
    if let Some((tag, line)) = field.take() {
        reader.field(RawField { tag, line, lines })?;
        lines.clear();
    }
    Ok(())
}

/// Lines of the text with their 1-based numbers; `\n`, `\r\n`, `\r` and the
/// `@@` record separator some banks use all end a line.
struct Lines<'a> {
    rest: &'a str,
    number: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            rest: text,
            number: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u64, &'a str);

    fn next(&mut self) -> Option<(u64, &'a str)> {
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        let bytes = self.rest.as_bytes();
        let mut from = 0;
        while let Some(found) = memchr::memchr3(b'\n', b'\r', b'@', &bytes[from..]) {
            let at = from + found;
            match bytes[at] {
                b'\n' => {
                    let line = &self.rest[..at];
                    self.rest = &self.rest[at + 1..];
                    return Some((self.number, line));
                }
                b'\r' => {
                    let line = &self.rest[..at];
                    let skip = if bytes.get(at + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    self.rest = &self.rest[at + skip..];
                    return Some((self.number, line));
                }
                _ if bytes.get(at + 1) == Some(&b'@') => {
                    let line = &self.rest[..at];
                    self.rest = &self.rest[at + 2..];
                    return Some((self.number, line));
                }
                // A lone `@` is text.
                _ => from = at + 1,
            }
        }
        let line = self.rest;
        self.rest = "";
        Some((self.number, line))
    }
}

/// `:61:rest` → (`61`, `rest`); `:28C:` → (`28C`, ...). Only two digits and
/// an optional letter make a tag, so `:` inside text never starts a field.
pub fn split_tag(line: &str) -> Option<(&str, &str)> {
    split_tag_after_colon(line.strip_prefix(':')?)
}

/// `61:rest` → (`61`, `rest`).
fn split_tag_after_colon(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    if bytes.len() < 3 || !bytes[0].is_ascii_digit() || !bytes[1].is_ascii_digit() {
        return None;
    }
    if bytes[2] == b':' {
        return Some((&line[..2], &line[3..]));
    }
    if bytes.len() >= 4 && bytes[2].is_ascii_uppercase() && bytes[3] == b':' {
        return Some((&line[..3], &line[4..]));
    }
    None
}

struct RawField<'f, 't> {
    tag: &'t str,
    line: u64,
    lines: &'f [&'t str],
}

struct Builder {
    statement: Statement,
    /// The statement's lines as they are read; moved into a vector of their
    /// final size when the statement ends (growing the statement's own
    /// vector would copy them several times and leave it up to half empty).
    entries: Vec<Entry>,
    /// The last field was a `:61:` or an `:86:` attached to it: the next
    /// `:86:` belongs to the same entry.
    entry_open: bool,
    closing_seen: bool,
    mt942: bool,
}

struct Reader<'s> {
    source: &'s str,
    statements: Vec<Statement>,
    current: Option<Builder>,
    file_warnings: Vec<String>,
    /// `940` / `942` from the `{2:}` block, when there is one.
    message_type: Option<String>,
    /// The emptied line buffer of the last statement, for the next one.
    spare_entries: Vec<Entry>,
    /// Where a multi-line `:86:` is joined (one buffer for the whole file).
    scratch: String,
}

impl Reader<'_> {
    fn error(&self, line: u64, message: impl Into<String>) -> ParseError {
        ParseError::new(self.source, Location::Line(line), message)
    }

    fn builder(&mut self, line: u64, tag: &str) -> &mut Builder {
        if self.current.is_none() {
            // A statement without `:20:`: tolerated, the id stays empty.
            self.file_warnings
                .push(format!("line {line}: field :{tag}: before any :20:; a statement without reference is started"));
            self.start_statement(String::new());
        }
        self.current.as_mut().expect("just started")
    }

    fn start_statement(&mut self, reference: String) {
        let mt942 = self.message_type.as_deref() == Some("942");
        self.current = Some(Builder {
            statement: Statement {
                statement_id: reference,
                ..Statement::new(
                    if mt942 { Format::Mt942 } else { Format::Mt940 },
                    self.source,
                )
            },
            entries: std::mem::take(&mut self.spare_entries),
            entry_open: false,
            closing_seen: false,
            mt942,
        });
    }

    fn finish_statement(&mut self) -> Result<(), ParseError> {
        let Some(builder) = self.current.take() else {
            return Ok(());
        };
        let mut statement = builder.statement;
        let mut entries = builder.entries;
        statement.entries = Vec::with_capacity(entries.len());
        statement.entries.append(&mut entries);
        self.spare_entries = entries;
        if builder.mt942 {
            statement.format = Format::Mt942;
        }
        if statement.account.id.is_empty() {
            statement
                .warnings
                .push("statement has no :25: account".to_string());
        }
        if !builder.mt942 && statement.format == Format::Mt940 {
            if statement.opening_balance().is_none() {
                statement
                    .warnings
                    .push("statement has no :60F:/:60M: opening balance".to_string());
            }
            if statement.closing_balance().is_none() {
                statement
                    .warnings
                    .push("statement has no :62F:/:62M: closing balance".to_string());
            }
        }
        let currency = Text::from(statement.currency().unwrap_or(""));
        for entry in &mut statement.entries {
            entry.currency.clone_from(&currency);
        }
        check_balances(&mut statement);
        collapse_repeats(&mut statement.warnings);
        assign_line_ids(&mut statement);
        self.statements.push(statement);
        Ok(())
    }

    fn field(&mut self, field: RawField) -> Result<(), ParseError> {
        let line = field.line;
        let first = field.lines[0].trim_end_fast();
        match field.tag {
            // The two fields of every line first: a string match tests its
            // arms in order.
            "61" => {
                let source = self.source;
                let builder = self.builder(line, "61");
                let warnings = Reader::statement_line(source, &field, &mut builder.entries)?;
                builder.statement.warnings.extend(warnings);
                builder.entry_open = true;
                return Ok(());
            }
            "86" => {
                let mut scratch = std::mem::take(&mut self.scratch);
                let builder = self.builder(line, "86");
                if builder.entry_open
                    && let Some(entry) = builder.entries.last_mut()
                {
                    apply_86(entry, field.lines, &mut scratch);
                } else {
                    // Information to the account owner at statement level.
                    builder
                        .statement
                        .information
                        .push(joined(field.lines, " ").trim_fast().to_string());
                }
                self.scratch = scratch;
                return Ok(());
            }
            "20" => {
                self.finish_statement()?;
                self.start_statement(first.trim_fast().to_string());
            }
            "21" => {
                let builder = self.builder(line, "21");
                builder.statement.message_id = Some(first.trim_fast().to_string());
            }
            "25" => {
                let account = account_of(&joined(field.lines, ""));
                self.builder(line, "25").statement.account = account;
            }
            "28" | "28C" => {
                let text = first.trim_fast();
                let builder = self.builder(line, field.tag);
                match text.split_once('/') {
                    Some((sequence, page)) => {
                        builder.statement.legal_sequence = Some(sequence.to_string());
                        builder.statement.page_number = Some(page.to_string());
                    }
                    None => builder.statement.legal_sequence = Some(text.to_string()),
                }
            }
            "60F" | "60M" | "62F" | "62M" | "64" | "65" => {
                let balance = parse_balance(first.trim_fast())
                    .map_err(|message| self.error(line, format!(":{}: {message}", field.tag)))?;
                let kind = match field.tag {
                    "60F" | "60M" => BalanceKind::OpeningBooked,
                    "62F" | "62M" => BalanceKind::ClosingBooked,
                    "64" => BalanceKind::ClosingAvailable,
                    _ => BalanceKind::ForwardAvailable,
                };
                let builder = self.builder(line, field.tag);
                for warning in &balance.warnings {
                    builder
                        .statement
                        .warnings
                        .push(format!(":{}: {warning}", field.tag));
                }
                if field.tag.starts_with("62") {
                    builder.closing_seen = true;
                }
                if builder.statement.account.currency.is_none() && field.tag.starts_with("60") {
                    builder.statement.account.currency = Some(balance.currency.clone());
                }
                builder.entry_open = false;
                builder.statement.balances.push(Balance {
                    kind,
                    date: Some(balance.date),
                    amount: balance.amount,
                    currency: balance.currency,
                });
                return Ok(());
            }
            "13" | "13D" => {
                let builder = self.builder(line, field.tag);
                builder.mt942 = true;
                builder.statement.created_at = Some(first.trim_fast().to_string());
            }
            "34F" => {
                let builder = self.builder(line, "34F");
                builder.mt942 = true;
                // `EUR0,`: the floor limit's currency is the account's.
                let currency = first
                    .trim_fast()
                    .get(..3)
                    .filter(|c| c.bytes().all(|b| b.is_ascii_alphabetic()));
                if builder.statement.account.currency.is_none() {
                    builder.statement.account.currency = currency.map(str::to_ascii_uppercase);
                }
            }
            "90D" | "90C" => {
                let text = first.trim_fast();
                let mut warnings = Vec::new();
                let (count, money) = parse_count_amount(text, &mut warnings)
                    .map_err(|message| self.error(line, format!(":{}: {message}", field.tag)))?;
                let builder = self.builder(line, field.tag);
                builder.mt942 = true;
                let tag = field.tag;
                builder
                    .statement
                    .warnings
                    .extend(warnings.into_iter().map(|w| format!(":{tag}: {w}")));
                let declared = builder
                    .statement
                    .declared
                    .get_or_insert_with(DeclaredTotals::default);
                if field.tag == "90D" {
                    declared.debit_count = Some(count);
                    declared.debit_sum = Some(money.amount);
                } else {
                    declared.credit_count = Some(count);
                    declared.credit_sum = Some(money.amount);
                }
            }
            other => {
                let tag = other.to_string();
                let builder = self.builder(line, other);
                builder
                    .statement
                    .warnings
                    .push(format!("field :{tag}: is not part of MT940/MT942; ignored"));
            }
        }
        if let Some(builder) = self.current.as_mut() {
            builder.entry_open = false;
        }
        Ok(())
    }

    /// `:61:` → an entry pushed onto `entries`, and the warnings it raised.
    fn statement_line(
        source: &str,
        field: &RawField,
        entries: &mut Vec<Entry>,
    ) -> Result<Vec<String>, ParseError> {
        let error =
            |line: u64, message: String| ParseError::new(source, Location::Line(line), message);
        let line = field.line;
        let first = field.lines[0].trim_end_fast();
        // A `:61:` wrapped before its transaction type (seen in Sparkasse
        // exports) is read with its second line joined.
        let wrapped: String;
        let (parsed, lines_used) = match statement_line(first) {
            Ok(parsed) => (parsed, 1),
            Err(message) => match field.lines.get(1) {
                Some(next) if !next.trim_fast().is_empty() => {
                    wrapped = format!("{first}{}", next.trim_fast());
                    let parsed = statement_line(&wrapped)
                        .map_err(|_| error(line, format!(":61: {message}")))?;
                    (parsed, 2)
                }
                _ => return Err(error(line, format!(":61: {message}"))),
            },
        };
        let mut warnings = parsed.warnings;
        if lines_used == 2 {
            warnings
                .push("the first line is cut short; read with the next line joined".to_string());
        }
        let value_date = parsed.value_date;
        let booking_date = match parsed.entry_month_day {
            None => None,
            Some((month, day)) => {
                let date = entry_date(value_date, month, day);
                if date.is_none() {
                    warnings.push(format!(
                        "impossible entry date {month:02}{day:02}; the booking date is left empty"
                    ));
                }
                date
            }
        };
        let mut supplementary: Vec<&str> = Vec::new();
        if !parsed.rest.trim_fast().is_empty() {
            supplementary.push(parsed.rest.trim_fast());
        }
        for extra in &field.lines[lines_used..] {
            if !extra.trim_fast().is_empty() {
                supplementary.push(extra.trim_end_fast());
            }
        }
        entries.push(Entry {
            line_id: Text::default(),
            bank_ref: non_empty(parsed.bank_ref),
            entry_ref: non_empty(parsed.customer_ref).filter(|r| r != "NONREF"),
            status: EntryStatus::Booked,
            booking_date,
            value_date: Some(value_date),
            amount: parsed.amount * parsed.sign,
            currency: Text::default(),
            reversal: parsed.reversal,
            bank_tx_code: BankTxCode {
                proprietary: Some(parsed.transaction_type.into()),
                ..BankTxCode::default()
            },
            batch_count: None,
            transaction: Box::default(),
            details: Vec::new(),
            charges: Vec::new(),
            additional_info: None,
        });
        let entry = entries.last_mut().expect("just pushed");
        let details = supplementary.join("");
        if details.starts_with('/') {
            let codes = slash_codes(&details);
            apply_slash_codes(entry, &codes);
        } else if !details.is_empty() {
            entry.additional_info = Some(supplementary.join(" ").into());
        }
        Ok(warnings
            .into_iter()
            .map(|w| format!(":61: line {}: {w}", field.line))
            .collect())
    }
}

/// An MT amount: `1234,56` (SWIFT). Tolerated with a warning: a decimal
/// point (`1234.56`) and a missing comma (`500`), both seen in real files.
fn mt_amount(text: &str, warnings: &mut Vec<String>) -> Result<Decimal, String> {
    if text.as_bytes().contains(&b',') {
        return parse_amount_with(text, ',');
    }
    let amount = parse_amount_with(text, '.')?;
    warnings.push(if text.contains('.') {
        format!("amount {text:?} uses a decimal point instead of a comma")
    } else {
        format!("amount {text:?} has no decimal comma")
    });
    Ok(amount)
}

/// A balance field: `C150226EUR3000,00`.
struct ParsedBalance {
    date: NaiveDate,
    currency: String,
    amount: Decimal,
    warnings: Vec<String>,
}

fn digits(count: usize) -> impl Fn(&str) -> IResult<&str, &str> {
    move |input| take_while_m_n(count, count, |c: char| c.is_ascii_digit())(input)
}

fn parse_balance(text: &str) -> Result<ParsedBalance, String> {
    let result: IResult<&str, (char, &str, &str)> = (
        anychar,
        digits(6),
        take_while_m_n(0, 3, |c: char| c.is_ascii_alphabetic()),
    )
        .parse(text);
    let Ok((amount_text, (mark, date, currency))) = result else {
        return Err(format!(
            "expected D/C, YYMMDD, currency and amount, found {text:?}"
        ));
    };
    let sign = match mark {
        'C' => Decimal::ONE,
        'D' => Decimal::NEGATIVE_ONE,
        other => return Err(format!("expected C or D, found {other:?} in {text:?}")),
    };
    let mut warnings = Vec::new();
    let date = yymmdd_repaired(date, &mut warnings)?;
    if currency.len() != 3 {
        warnings.push(format!("no currency code in {text:?}"));
    }
    let amount = mt_amount(amount_text.trim_fast(), &mut warnings)?;
    Ok(ParsedBalance {
        date,
        currency: currency.to_ascii_uppercase(),
        amount: amount * sign,
        warnings,
    })
}

/// MT942 `:90D:`/`:90C:`: `5EUR1234,56`.
fn parse_count_amount(text: &str, warnings: &mut Vec<String>) -> Result<(u64, Money), String> {
    let result: IResult<&str, (&str, &str)> = (
        take_while(|c: char| c.is_ascii_digit()),
        take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()),
    )
        .parse(text);
    let Ok((amount_text, (count, currency))) = result else {
        return Err(format!(
            "expected a count, a currency and an amount, found {text:?}"
        ));
    };
    let count = if count.is_empty() {
        warnings.push(format!("no entry count in {text:?}; read as 0"));
        0
    } else {
        count
            .parse::<u64>()
            .map_err(|_| format!("expected a count, found {text:?}"))?
    };
    let amount = mt_amount(amount_text.trim_fast(), warnings)?;
    Ok((
        count,
        Money {
            amount,
            currency: currency.into(),
        },
    ))
}

/// `YYMMDD`, years 80-99 read as 19xx, the others as 20xx.
fn yymmdd(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |at: usize| u32::from(b[at] - b'0') * 10 + u32::from(b[at + 1] - b'0');
    let yy = number(0) as i32;
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    NaiveDate::from_ymd_opt(year, number(2), number(4))
}

/// `YYMMDD`, repairing a day past the end of its month (`160230`, seen in
/// real files) to the month's last day, with a warning. A month outside
/// 1-12 or a day outside 1-31 is not a date at all: an error.
fn yymmdd_repaired(text: &str, warnings: &mut Vec<String>) -> Result<NaiveDate, String> {
    if let Some(date) = yymmdd(text) {
        return Ok(date);
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let impossible = || format!("impossible date {text:?}");
    let (yy, month, day) = (
        number(0..2).ok_or_else(impossible)?,
        number(2..4).ok_or_else(impossible)?,
        number(4..6).ok_or_else(impossible)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(impossible());
    }
    let year = if yy >= 80 {
        1900 + yy as i32
    } else {
        2000 + yy as i32
    };
    let repaired = (28..day)
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
        .ok_or_else(impossible)?;
    warnings.push(format!("impossible date {text:?} read as {repaired}"));
    Ok(repaired)
}

/// The entry date `MMDD` of a `:61:` in the year that puts it nearest the
/// value date (a value date of 31 December booked on 2 January is next
/// year's booking).
fn entry_date(value: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    use chrono::Datelike;
    // Nearly always the value date's year, days apart: a date of another
    // year would be at least 183 days further.
    if let Some(date) = NaiveDate::from_ymd_opt(value.year(), month, day)
        && (date - value).num_days().abs() <= 182
    {
        return Some(date);
    }
    let mut best: Option<NaiveDate> = None;
    for year in [value.year(), value.year() - 1, value.year() + 1] {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
            let distance = (date - value).num_days().abs();
            if best.is_none_or(|b| distance < (b - value).num_days().abs()) {
                best = Some(date);
            }
        }
    }
    // Only accept a date that exists in a year near the value date; Feb 29
    // is checked against the value date's year and its neighbours.
    best.filter(|date| (*date - value).num_days().abs() <= 200)
}

/// A `:61:` first line, decoded.
struct StatementLine<'a> {
    value_date: NaiveDate,
    entry_month_day: Option<(u32, u32)>,
    sign: Decimal,
    reversal: bool,
    amount: Decimal,
    transaction_type: &'a str,
    customer_ref: &'a str,
    bank_ref: &'a str,
    /// Text after the references on the first line (Rabobank's old layout
    /// puts the counterparty name there).
    rest: &'a str,
    warnings: Vec<String>,
}

/// `6!n[4!n]2a[1!a]15d1!a3!c16x[//16x]`.
fn statement_line(text: &str) -> Result<StatementLine<'_>, String> {
    let short = || {
        format!(
            "cut short: expected value date, D/C mark, amount and transaction type, found {text:?}"
        )
    };
    // The fixed-width head is read on bytes (ASCII digits are char
    // boundaries); the balances' grammar stays with nom.
    let leading_digits = |text: &str, count: usize| {
        text.as_bytes()
            .get(..count)
            .is_some_and(|head| head.iter().all(u8::is_ascii_digit))
    };
    if !leading_digits(text, 6) {
        return Err(short());
    }
    let (value, rest) = text.split_at(6);
    let mut warnings = Vec::new();
    let value_date = yymmdd_repaired(value, &mut warnings)?;
    let (rest, entry) = if leading_digits(rest, 4) {
        (&rest[4..], Some(&rest[..4]))
    } else {
        (rest, None)
    };
    let (rest, sign, reversal) = if let Some(r) = rest.strip_prefix("RC") {
        (r, Decimal::NEGATIVE_ONE, true)
    } else if let Some(r) = rest.strip_prefix("RD") {
        (r, Decimal::ONE, true)
    } else if let Some(r) = rest.strip_prefix("EC") {
        (r, Decimal::ONE, false)
    } else if let Some(r) = rest.strip_prefix("ED") {
        (r, Decimal::NEGATIVE_ONE, false)
    } else if let Some(r) = rest.strip_prefix('C') {
        (r, Decimal::ONE, false)
    } else if let Some(r) = rest.strip_prefix('D') {
        (r, Decimal::NEGATIVE_ONE, false)
    } else {
        return Err(format!(
            "expected the mark C, D, RC or RD after the dates, found {text:?}"
        ));
    };
    // Optional funds code: the third letter of the currency code.
    let rest = match rest.as_bytes().first() {
        Some(b) if b.is_ascii_alphabetic() => &rest[1..],
        _ => rest,
    };
    let amount_end = rest
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b',' || b == b'.'))
        .unwrap_or(rest.len());
    let (amount_text, rest) = rest.split_at(amount_end);
    if amount_text.is_empty() {
        return Err(format!(
            "expected an amount after the D/C mark, found {text:?}"
        ));
    }
    let amount = mt_amount(amount_text, &mut warnings)?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let typed = rest
        .get(..4)
        .filter(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()) && !t.contains('/'));
    let (transaction_type, rest) = match typed {
        Some(t) => (t, &rest[4..]),
        None if rest.is_empty() || rest.starts_with("//") => {
            warnings.push("no transaction type after the amount".to_string());
            ("", rest)
        }
        None => {
            return Err(format!(
                "expected a transaction type (e.g. NTRF) after the amount, found {text:?}"
            ));
        }
    };
    let (customer, bank, extra) = match memchr::memmem::find(rest.as_bytes(), b"//") {
        Some(at) => {
            let after = &rest[at + 2..];
            let bank_end = char_end(after, 16);
            (&rest[..at], &after[..bank_end], &after[bank_end..])
        }
        None => {
            let end = char_end(rest, 16);
            (&rest[..end], "", &rest[end..])
        }
    };
    // Four ASCII digits, checked above.
    let month_day = entry.map(|md| {
        let b = md.as_bytes();
        let two = |at: usize| u32::from(b[at] - b'0') * 10 + u32::from(b[at + 1] - b'0');
        (two(0), two(2))
    });
    Ok(StatementLine {
        value_date,
        entry_month_day: month_day,
        sign,
        reversal,
        amount,
        transaction_type,
        customer_ref: customer.trim_fast(),
        bank_ref: bank.trim_fast(),
        rest: extra,
        warnings,
    })
}

/// The byte length of the first `count` characters of `text` (all of it
/// when shorter): counted on bytes when they are ASCII.
fn char_end(text: &str, count: usize) -> usize {
    match text.as_bytes().get(..count) {
        None => text.len(),
        Some(head) if head.is_ascii() => count,
        _ => text
            .char_indices()
            .nth(count)
            .map_or(text.len(), |(at, _)| at),
    }
}

fn non_empty<T: for<'a> From<&'a str>>(text: &str) -> Option<T> {
    let text = text.trim_fast();
    if text.is_empty() {
        None
    } else {
        Some(T::from(text))
    }
}

/// The lines, each without its trailing blanks, joined by `separator` into
/// `buffer` (emptied first); the line itself when there is only one.
fn joined_into<'b>(lines: &[&'b str], separator: &str, buffer: &'b mut String) -> &'b str {
    match lines {
        [only] => only.trim_end_fast(),
        _ => {
            buffer.clear();
            push_joined(lines, separator, buffer);
            buffer
        }
    }
}

/// The lines, each without its trailing blanks, joined by `separator`:
/// borrowed when there is one line.
fn joined<'t>(lines: &[&'t str], separator: &str) -> Cow<'t, str> {
    match lines {
        [only] => Cow::Borrowed(only.trim_end_fast()),
        _ => {
            let length = lines.iter().map(|l| l.len() + separator.len()).sum();
            let mut text = String::with_capacity(length);
            push_joined(lines, separator, &mut text);
            Cow::Owned(text)
        }
    }
}

/// Appends the lines, each without its trailing blanks, joined by
/// `separator`.
fn push_joined(lines: &[&str], separator: &str, text: &mut String) {
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            text.push_str(separator);
        }
        text.push_str(line.trim_end_fast());
    }
}

/// `:25:` account: `NL54INGB0001234500EUR`, `25040066/0123456789`,
/// `1291.99.348EUR`, `DE89370400440532013000`.
fn account_of(text: &str) -> Account {
    let text = text.trim_fast();
    let mut id = text;
    let mut currency = None;
    let bytes = text.as_bytes();
    if bytes.len() > 3 {
        let tail_bytes = &bytes[bytes.len() - 3..];
        let before = bytes[bytes.len() - 4];
        if tail_bytes.iter().all(u8::is_ascii_uppercase)
            && (before.is_ascii_digit() || before == b'/' || before == b' ')
        {
            // ASCII checked, so these are char boundaries.
            let tail = &text[text.len() - 3..];
            currency = Some(tail.to_string());
            id = text[..text.len() - 3].trim_end_matches(['/', ' ']);
        }
    }
    let compact: String = id.chars().filter(|c| !c.is_whitespace()).collect();
    let iban = looks_like_iban(&compact).then(|| compact.clone());
    Account {
        id: iban.clone().unwrap_or_else(|| id.to_string()),
        iban,
        currency,
        ..Account::default()
    }
}

/// Two letters, two digits, then 11 to 30 alphanumerics.
pub fn looks_like_iban(text: &str) -> bool {
    let b = text.as_bytes();
    (15..=34).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b[4..].iter().all(|c| c.is_ascii_alphanumeric())
}

/// How a bank filled `:86:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect86 {
    /// `/CODE/value/CODE/value` (ING, ABN AMRO, Rabobank, SWIFT structured).
    SlashCodes,
    /// German `GVC?00text?20...` with the given separator.
    GermanSubfields(char),
    /// Anything else: kept as text.
    FreeText,
}

/// Recognises the `:86:` dialect from its joined text.
pub fn dialect_86(text: &str) -> Dialect86 {
    let b = text.as_bytes();
    if b.len() >= 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && !b[3].is_ascii_alphanumeric()
        && b[3] != b' '
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
    {
        return Dialect86::GermanSubfields(b[3] as char);
    }
    if let Some(body) = text.strip_prefix('/') {
        let code_length = body.bytes().take_while(u8::is_ascii_uppercase).count();
        if code_length >= 2 && body[code_length..].starts_with('/') {
            return Dialect86::SlashCodes;
        }
    }
    Dialect86::FreeText
}

/// Decodes an `:86:` field onto its entry.
fn apply_86(entry: &mut Entry, lines: &[&str], scratch: &mut String) {
    let joined_tight = joined_into(lines, "", scratch);
    let transaction = &mut entry.transaction;
    match dialect_86(joined_tight) {
        Dialect86::GermanSubfields(separator) => {
            let credit = !entry.amount.is_sign_negative();
            german_subfields(joined_tight, separator, credit, entry);
        }
        Dialect86::SlashCodes => {
            let codes = slash_codes(joined_tight);
            apply_slash_codes(entry, &codes);
        }
        Dialect86::FreeText => {
            let kept = lines.iter().filter(|l| !l.trim_fast().is_empty()).count();
            transaction.remittance_lines.reserve_exact(kept);
            for line in lines {
                let line = line.trim_fast();
                if !line.is_empty() {
                    transaction.remittance_lines.push(line.to_string());
                }
            }
            let text = joined_into(lines, " ", scratch);
            free_text_labels(text, entry);
        }
    }
}

/// Adds a remittance line; the first one takes a vector of one (most
/// lines have one or two), not the four a push would make room for.
fn push_remittance(lines: &mut Vec<String>, text: String) {
    if lines.capacity() == 0 {
        lines.reserve_exact(1);
    }
    lines.push(text);
}

/// Whether `part` is one of the codes of the slash dialect this parser
/// knows; a `/WORD/` that is not one of them is part of a value.
fn is_slash_code(part: &str) -> bool {
    matches!(
        part,
        "EREF"
            | "REMI"
            | "CNTP"
            | "ORDP"
            | "BENM"
            | "PURP"
            | "OCMT"
            | "CHGS"
            | "IBAN"
            | "NAME"
            | "BIC"
            | "MARF"
            | "CSID"
            | "BUSP"
            | "RTRN"
            | "ADDR"
            | "ISDT"
            | "TRCD"
            | "ULTC"
            | "ULTD"
            | "ULTB"
            | "SUM"
            | "PREF"
            | "EXCH"
            | "ATOS"
            | "ID"
            | "ACCW"
            | "BENEFICIARY"
            | "ORDERINGPARTY"
            | "CDTRREF"
            | "CDTRREFTP"
            | "KREF"
            | "MREF"
            | "CRED"
            | "SVWZ"
            | "ABWA"
            | "ABWE"
            | "TRTP"
            | "IREF"
            | "CODE"
            | "OSDR"
            | "CITY"
            | "FX"
            | "COAM"
            | "INFO"
    )
}

/// `/EREF/abc/REMI/USTD//text/` → `[("EREF", "abc"), ("REMI", "USTD//text")]`.
///
/// A value is the parts between its code and the next code, with the
/// slashes between them: one run of the text, so it is borrowed.
fn slash_codes(text: &str) -> Vec<(&str, &str)> {
    /// A code and the run of `body` its value spans so far.
    struct Open<'t> {
        code: &'t str,
        span: Option<(usize, usize)>,
    }
    let body = text.trim_fast().trim_end_matches('/');
    let close = |open: Open<'_>| -> &str {
        let value = open.span.map_or("", |(start, end)| &body[start..end]);
        // CNTP keeps its leading '/' per sub-field: strip exactly one.
        if open.code == "CNTP" {
            value.strip_prefix('/').unwrap_or(value)
        } else {
            value.trim_matches('/')
        }
    };
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let mut current: Option<Open> = None;
    // The parts between slashes, found on bytes ('/' is ASCII).
    let mut start = 0;
    let mut parts = memchr::memchr_iter(b'/', body.as_bytes())
        .chain(std::iter::once(body.len()))
        .map(|end| {
            let part = &body[start..end];
            start = end + 1;
            part
        });
    if body.starts_with('/') {
        parts.next();
    }
    // `/CNTP/` has four positional sub-fields (account/BIC/name/city) that
    // may be empty: they are values whatever they spell.
    let mut positional_left = 0usize;
    for part in parts {
        let is_code = positional_left == 0 && is_slash_code(part);
        if is_code {
            if let Some(done) = current.take() {
                fields.push((done.code, close(done)));
            }
            positional_left = if part == "CNTP" { 4 } else { 0 };
            current = Some(Open {
                code: part,
                span: None,
            });
            continue;
        }
        positional_left = positional_left.saturating_sub(1);
        if let Some(open) = current.as_mut() {
            // Every part after a code follows a '/', which the value takes
            // in when the part is not its first, is empty, or is CNTP's.
            let at = part.as_ptr() as usize - body.as_ptr() as usize;
            let end = at + part.len();
            open.span = Some(match open.span {
                Some((start, _)) => (start, end),
                None if part.is_empty() || open.code == "CNTP" => (at - 1, end),
                None => (at, end),
            });
        }
    }
    if let Some(done) = current {
        fields.push((done.code, close(done)));
    }
    fields
}

/// `EUR11,85` / `EUR/11,85` / `11,85EUR` → money.
fn currency_amount(text: &str) -> Option<Money> {
    let text = text.trim_fast().trim_matches('/');
    let (currency, amount) =
        if text.len() > 3 && text.as_bytes()[..3].iter().all(u8::is_ascii_alphabetic) {
            (&text[..3], text[3..].trim_start_matches('/'))
        } else if text.len() > 3
            && text.as_bytes()[text.len() - 3..]
                .iter()
                .all(u8::is_ascii_alphabetic)
        {
            (
                &text[text.len() - 3..],
                text[..text.len() - 3].trim_end_matches('/'),
            )
        } else {
            return None;
        };
    let amount = parse_amount_with(amount, ',')
        .or_else(|_| parse_amount_with(amount, '.'))
        .ok()?;
    Some(Money {
        amount,
        currency: currency.to_ascii_uppercase().into(),
    })
}

/// Decodes slash codes onto the line's transaction and, for `/CHGS/`, the
/// charges of its entry.
fn apply_slash_codes(entry: &mut Entry, codes: &[(&str, &str)]) {
    let credit = !entry.amount.is_sign_negative();
    let Entry {
        transaction,
        charges,
        ..
    } = entry;
    let mut party = Party::default();
    for (code, value) in codes {
        let value_trimmed = value.trim_fast();
        if value_trimmed.is_empty() {
            continue;
        }
        match *code {
            "EREF" if value_trimmed != "NOTPROVIDED" => {
                transaction.end_to_end_id = Some(value_trimmed.into());
            }
            "REMI" => {
                let text = value_trimmed
                    .strip_prefix("USTD//")
                    .or_else(|| value_trimmed.strip_prefix("USTD/"))
                    .unwrap_or(value_trimmed);
                if let Some(structured) = text
                    .strip_prefix("STRD/CUR/")
                    .or_else(|| text.strip_prefix("STRD/ISO/"))
                {
                    transaction
                        .creditor_references
                        .push(crate::model::CreditorReference {
                            kind: Some("SCOR".into()),
                            reference: structured.trim_matches('/').into(),
                            issuer: None,
                        });
                } else {
                    push_remittance(
                        &mut transaction.remittance_lines,
                        text.trim_matches('/').to_string(),
                    );
                }
            }
            "CNTP" => {
                // account/BIC/name/city
                let mut parts = value_trimmed.split('/');
                if let Some(account) = parts.next().filter(|a| !a.is_empty()) {
                    if looks_like_iban(account) {
                        party.iban = Some(account.into());
                    } else {
                        party.account_other = Some(account.into());
                    }
                }
                if let Some(bic) = parts.next().filter(|b| !b.is_empty()) {
                    party.bic = Some(bic.into());
                }
                if let Some(name) = parts.next().filter(|n| !n.is_empty()) {
                    party.name = Some(name.into());
                }
            }
            "IBAN" => party.iban = Some(value_trimmed.into()),
            "BIC" => party.bic = Some(value_trimmed.into()),
            "NAME" if party.name.is_none() => party.name = Some(value_trimmed.into()),
            // Usually `//NAME/...` follows as its own code; a plain value is
            // the name.
            "ORDP" | "BENM" if party.name.is_none() && !value_trimmed.contains('/') => {
                party.name = Some(value_trimmed.into());
            }
            "MARF" | "MREF" => transaction.more_mut().mandate_id = Some(value_trimmed.to_string()),
            "KREF" | "PREF" => {
                transaction.more_mut().payment_information_id = Some(value_trimmed.to_string())
            }
            "PURP" | "TRCD" | "BUSP" if transaction.more().additional_info.is_none() => {
                transaction.more_mut().additional_info = Some(format!("{code}/{value_trimmed}"));
            }
            "OCMT" => transaction.instructed_amount = currency_amount(value_trimmed),
            "CHGS" => {
                if let Some(money) = currency_amount(value_trimmed) {
                    charges.push(Charge {
                        amount: Money {
                            amount: money.amount.abs(),
                            currency: money.currency,
                        },
                        included: Some(true),
                        kind: None,
                    });
                }
            }
            "RTRN" => {
                transaction.more_mut().return_reason =
                    Some(value_trimmed.split('/').next().unwrap_or("").to_string())
            }
            "ULTD" => {
                transaction.ultimate_debtor =
                    Some(value_trimmed.split('/').next().unwrap_or("").into())
            }
            "ULTC" | "ULTB" => {
                transaction.more_mut().ultimate_creditor =
                    Some(value_trimmed.split('/').next().unwrap_or("").to_string())
            }
            "SVWZ" => push_remittance(&mut transaction.remittance_lines, value_trimmed.to_string()),
            "EXCH" => {
                transaction.more_mut().exchange_rate =
                    crate::money::parse_rate(&value_trimmed.replace(',', ".")).ok();
            }
            _ => {}
        }
    }
    if !party.is_empty() {
        let side = if credit {
            &mut transaction.debtor
        } else {
            &mut transaction.creditor
        };
        merge_party(side, party);
    }
}

fn merge_party(side: &mut Party, party: Party) {
    if side.name.is_none() {
        side.name = party.name;
    }
    if side.iban.is_none() {
        side.iban = party.iban;
    }
    if side.account_other.is_none() {
        side.account_other = party.account_other;
    }
    if side.bic.is_none() {
        side.bic = party.bic;
    }
}

/// German `:86:`: `GVC?00text?10primanota?20purpose...?30BLZ?31account
/// ?32name?33name?34key?60purpose...`.
fn german_subfields(text: &str, separator: char, credit: bool, entry: &mut Entry) {
    let transaction = &mut entry.transaction;
    let code = &text[..3];
    // Filled here and boxed once at the end: a fresh box written field by
    // field and read back stalls on memory the allocator just handed out.
    let mut more = transaction
        .more
        .take()
        .map_or_else(crate::model::TransactionMore::default, |more| *more);
    more.bank_tx_code.proprietary = Some(code.into());
    more.bank_tx_code.proprietary_issuer = Some("GVC".into());
    let mut purpose = String::with_capacity(text.len());
    let mut party = Party::default();
    let mut name = String::new();
    for piece in split_on(&text[3..], separator).skip(1) {
        // The key is two ASCII digits (so `piece[2..]` starts on a char
        // boundary); anything else is skipped.
        let &[first, second, ..] = piece.as_bytes() else {
            continue;
        };
        let value = || &piece[2..];
        match (first, second) {
            (b'0', b'0') => more.additional_info = Some(value().trim_fast().to_string()),
            (b'2', b'0'..=b'9') | (b'6', b'0'..=b'3') => purpose.push_str(value()),
            (b'3', b'0') if !value().trim_fast().is_empty() => {
                party.bic = Some(value().trim_fast().into())
            }
            (b'3', b'1') => {
                let value = value();
                let account = value.trim_fast();
                if looks_like_iban(account) {
                    party.iban = Some(account.into());
                } else if !account.is_empty() {
                    party.account_other = Some(account.into());
                }
            }
            (b'3', b'2' | b'3') => name.push_str(value()),
            _ => {}
        }
    }
    if !name.trim_fast().is_empty() {
        party.name = Some(name.trim_fast().into());
    }
    transaction.more = Some(Box::new(more));
    sepa_purpose(&purpose, transaction);
    let side = if credit {
        &mut transaction.debtor
    } else {
        &mut transaction.creditor
    };
    merge_party(side, party);
}

/// `text.split(separator)`, found with `memchr` when the separator is ASCII
/// (it always is in real files).
fn split_on(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let ascii = u8::try_from(separator).ok().filter(u8::is_ascii);
    let mut bytes_split = ascii.map(|byte| {
        let mut start = 0;
        memchr::memchr_iter(byte, text.as_bytes())
            .chain(std::iter::once(text.len()))
            .map(move |end| {
                // ASCII separator: both ends are char boundaries.
                let piece = &text[start..end];
                start = end + 1;
                piece
            })
    });
    let mut char_split = if ascii.is_none() {
        Some(text.split(separator))
    } else {
        None
    };
    std::iter::from_fn(move || match bytes_split.as_mut() {
        Some(split) => split.next(),
        None => char_split.as_mut().and_then(Iterator::next),
    })
}

/// The SEPA tags German banks put in the purpose text.
const SEPA_TAGS: &[&str] = &[
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "COAM+", "OAMT+",
    "IBAN+", "BIC+",
];

fn sepa_purpose(purpose: &str, transaction: &mut Transaction) {
    // Positions of the tags, in order: every tag ends with its only `+`,
    // so one pass over the `+` signs finds them all.
    let mut marks: Vec<(usize, &str)> = Vec::new();
    let bytes = purpose.as_bytes();
    for plus in memchr::memchr_iter(b'+', bytes) {
        // Every tag is three or four capitals and its `+`.
        if plus < 3 || !bytes[plus - 3..plus].iter().all(u8::is_ascii_uppercase) {
            continue;
        }
        let before = &bytes[..=plus];
        for tag in SEPA_TAGS {
            if before.ends_with(tag.as_bytes()) {
                marks.push((plus + 1 - tag.len(), tag));
            }
        }
    }
    // Found in text order already (no two tags end at the same `+`).
    if !marks.is_sorted() {
        marks.sort();
    }
    if marks.is_empty() {
        let text = purpose.trim_fast();
        if !text.is_empty() {
            push_remittance(&mut transaction.remittance_lines, text.to_string());
        }
        return;
    }
    let lead = purpose[..marks[0].0].trim_fast();
    if !lead.is_empty() {
        push_remittance(&mut transaction.remittance_lines, lead.to_string());
    }
    for (index, (at, tag)) in marks.iter().enumerate() {
        let end = marks
            .get(index + 1)
            .map_or(purpose.len(), |(next, _)| *next);
        let value = purpose[at + tag.len()..end].trim_fast();
        if value.is_empty() {
            continue;
        }
        match *tag {
            "EREF+" if value != "NOTPROVIDED" => transaction.end_to_end_id = Some(value.into()),
            "KREF+" => transaction.more_mut().payment_information_id = Some(value.to_string()),
            "MREF+" => transaction.more_mut().mandate_id = Some(value.to_string()),
            "SVWZ+" => push_remittance(&mut transaction.remittance_lines, value.to_string()),
            "ABWA+" => transaction.ultimate_debtor = Some(value.into()),
            "ABWE+" => transaction.more_mut().ultimate_creditor = Some(value.to_string()),
            "OAMT+" => {
                if let Ok(amount) = parse_amount_with(value, ',') {
                    transaction.instructed_amount = Some(Money {
                        amount,
                        currency: Text::default(),
                    });
                }
            }
            _ => {}
        }
    }
}

/// French free text: `/DE name /MOTIF text /REF ref` or `DE: name MOTIF: text`.
fn free_text_labels(text: &str, entry: &mut Entry) {
    // The labels of the name, the purpose and the reference, any case:
    // every one starts with '/' or ends with ':', so one pass over those
    // bytes finds the first place of each.
    const LABELS: [(&[u8], usize); 6] = [
        (b"/DE ", 0),
        (b"DE:", 0),
        (b"/MOTIF ", 1),
        (b"MOTIF:", 1),
        (b"/REF ", 2),
        (b"REF:", 2),
    ];
    let bytes = text.as_bytes();
    let mut positions: [Option<(usize, usize)>; 3] = [None; 3];
    let mut found = [false; LABELS.len()];
    for mark in memchr::memchr2_iter(b'/', b':', bytes) {
        for (index, (label, group)) in LABELS.iter().enumerate() {
            let at = if label[0] == b'/' {
                mark
            } else if mark + 1 >= label.len() {
                mark + 1 - label.len()
            } else {
                continue;
            };
            if !found[index]
                && bytes
                    .get(at..at + label.len())
                    .is_some_and(|window| window.eq_ignore_ascii_case(label))
            {
                found[index] = true;
                let place = Some((at, at + label.len()));
                if positions[*group].is_none() || place < positions[*group] {
                    positions[*group] = place;
                }
            }
        }
    }
    let value = |index: usize| -> Option<String> {
        let (_, start) = positions[index]?;
        let end = positions
            .iter()
            .flatten()
            .map(|(at, _)| *at)
            .filter(|at| *at > start)
            .min()
            .unwrap_or(text.len());
        let value = text.get(start..end)?.trim_fast();
        (!value.is_empty()).then(|| value.to_string())
    };
    let credit = !entry.amount.is_sign_negative();
    if let Some(name) = value(0) {
        let side = if credit {
            &mut entry.transaction.debtor
        } else {
            &mut entry.transaction.creditor
        };
        if side.name.is_none() {
            side.name = Some(name.into());
        }
    }
    if let Some(reference) = value(2)
        && entry.transaction.end_to_end_id.is_none()
    {
        entry.transaction.end_to_end_id = Some(reference.into());
    }
}

fn check_balances(statement: &mut Statement) {
    if let Some(warning) = balance_warning(statement) {
        statement.warnings.push(warning);
    }
    if let Some(declared) = statement.declared.clone() {
        for (what, count, sum, credit) in [
            ("debit", declared.debit_count, declared.debit_sum, false),
            ("credit", declared.credit_count, declared.credit_sum, true),
        ] {
            let values: Vec<Decimal> = statement
                .entries
                .iter()
                .filter(|e| e.amount.is_sign_negative() != credit)
                .map(|e| e.amount.abs())
                .collect();
            if let Some(count) = count
                && count != values.len() as u64
            {
                statement.warnings.push(format!(
                    ":90: declares {count} {what} entries, the report has {}",
                    values.len()
                ));
            }
            if let Some(sum) = sum {
                let actual: Decimal = values.iter().sum();
                if actual != sum {
                    statement.warnings.push(format!(
                        ":90: declares {what} entries summing to {sum}, they sum to {actual}"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text made of the characters that matter to the fast paths: ASCII
    /// blanks, Unicode white space, separators, digits and letters.
    fn tricky_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy as _;
        proptest::collection::vec(
            proptest::sample::select(vec![
                ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{3000}', '?', '/',
                '+', ',', '.', '0', '7', 'A', 'é', 'x',
            ]),
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn fast_trims_are_the_std_trims(text in tricky_text()) {
            proptest::prop_assert_eq!(text.trim_fast(), text.trim());
            proptest::prop_assert_eq!(text.trim_end_fast(), text.trim_end());
        }

        #[test]
        fn split_on_is_split(text in tricky_text(), separator in proptest::sample::select(vec!['?', '/', 'é', '\u{3000}'])) {
            let ours: Vec<&str> = split_on(&text, separator).collect();
            let std: Vec<&str> = text.split(separator).collect();
            proptest::prop_assert_eq!(ours, std);
        }

        #[test]
        fn joined_into_is_joined(lines in proptest::collection::vec(tricky_text(), 1..4)) {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let mut buffer = String::from("left over");
            for separator in ["", " "] {
                let expected = joined(&lines, separator).into_owned();
                proptest::prop_assert_eq!(joined_into(&lines, separator, &mut buffer), expected);
            }
        }
    }

    #[test]
    fn char_end_counts_characters() {
        for text in [
            "",
            "abc",
            "0123456789abcdefXYZ",
            "0123456789abcdef",
            "é0123456789abcdefXYZ",
            "aé",
        ] {
            let expected = text.char_indices().nth(16).map_or(text.len(), |(at, _)| at);
            assert_eq!(char_end(text, 16), expected, "{text:?}");
        }
    }

    #[test]
    fn statement_line_head_is_read_on_bytes() {
        let line = statement_line("2603060306C6961,48NTRFE2E000000001//B000000000000001").unwrap();
        assert_eq!(
            line.value_date,
            NaiveDate::from_ymd_opt(2026, 3, 6).unwrap()
        );
        assert_eq!(line.entry_month_day, Some((3, 6)));
        assert_eq!(line.amount, Decimal::new(696148, 2));
        assert_eq!(line.sign, Decimal::ONE);
        assert_eq!(
            (line.customer_ref, line.bank_ref),
            ("E2E000000001", "B000000000000001")
        );
        // No entry date, a reversal and a space before the type.
        let line = statement_line("260306RD12,5 NMSCREF").unwrap();
        assert_eq!(line.entry_month_day, None);
        assert!(line.reversal);
        assert_eq!(line.transaction_type, "NMSC");
        // Three digits are not an entry date; five are not a value date.
        assert!(statement_line("260306030C1,00NTRF").is_err());
        assert!(statement_line("26030C1,00NTRF").is_err());
        assert!(statement_line("2603é6C1,00NTRF").is_err());
        assert!(
            statement_line("260306C,NTRF").is_err(),
            "a comma alone is no amount"
        );
        assert!(statement_line("260306CNTRF").is_err());
    }

    #[test]
    fn slash_values_are_the_runs_between_their_codes() {
        assert_eq!(
            slash_codes("/EREF/abc/REMI/USTD//text/more/"),
            [("EREF", "abc"), ("REMI", "USTD//text/more")]
        );
        // An unknown `/WORD/` is part of the value; empty parts keep their
        // slashes inside a value and are trimmed at its ends.
        assert_eq!(
            slash_codes("/REMI/A/XYZ//B///EREF//x/"),
            [("REMI", "A/XYZ//B"), ("EREF", "x")]
        );
        // CNTP keeps its positional sub-fields, empty ones too, and they
        // may spell a code.
        assert_eq!(
            slash_codes("/CNTP//INGBNL2A/NAME/AMSTERDAM/REMI/r"),
            [("CNTP", "/INGBNL2A/NAME/AMSTERDAM"), ("REMI", "r")]
        );
        assert_eq!(
            slash_codes("/CNTP/NL91INGB0002445588/INGBNL2A/J DOE/X/"),
            [("CNTP", "NL91INGB0002445588/INGBNL2A/J DOE/X")]
        );
        assert_eq!(slash_codes("/EREF/"), [("EREF", "")]);
        assert_eq!(slash_codes("no codes"), []);
    }

    fn entry(amount: i64) -> Entry {
        Entry::booked(Decimal::from(amount))
    }

    #[test]
    fn french_labels_are_found_in_any_case_first_place_first() {
        let mut credit = entry(10);
        free_text_labels(
            "VIR /de Dupont SARL /MOTIF facture FA-12 /REF r1 ref: r2 de: other",
            &mut credit,
        );
        assert_eq!(
            credit.transaction.debtor.name.as_deref(),
            Some("Dupont SARL")
        );
        // A value runs to the next label's first place: later repeats of a
        // label are text.
        assert_eq!(
            credit.transaction.end_to_end_id.as_deref(),
            Some("r1 ref: r2 de: other")
        );
        let mut debit = entry(-10);
        free_text_labels("Motif: loyer DE: Bailleur SA REF:", &mut debit);
        assert_eq!(
            debit.transaction.creditor.name.as_deref(),
            Some("Bailleur SA")
        );
        assert_eq!(debit.transaction.end_to_end_id, None);
        let mut none = entry(10);
        free_text_labels("CODE:7 /DEBIT", &mut none);
        // `CODE:` holds `DE:` (as a search for the label finds it).
        assert_eq!(none.transaction.debtor.name.as_deref(), Some("7 /DEBIT"));
    }
}
