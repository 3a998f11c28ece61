//! BAI2 (Bank Administration Institute, version 2): the US cash management
//! balance report.
//!
//! Records are comma separated and end with `/`: `01` file header, `02`
//! group header (as-of date, currency), `03` account identifier with its
//! balances and summaries, `16` transaction detail, `88` continuation of
//! the record above, `49` account trailer, `98` group trailer, `99` file
//! trailer. One `Statement` per account (`03`..`49`).
//!
//! Read in three steps: physical records (several may share a line, a
//! `/` may be missing at the end of a line, a line without a record code
//! continues the record above), logical records (a record and its `88`
//! continuations), then fields. A `03` or a `16` cut before its text
//! continues field by field in the `88` below; once a `16`'s text has
//! started, each `88` is one more line of text, commas and slashes
//! included.
//!
//! Amounts are whole numbers of minor units, scaled by the currency's
//! decimals (2 for USD, 0 for JPY, 3 for KWD). `16` amounts are unsigned:
//! the type code gives the sign (100-399 credit, 400-699 debit); other
//! codes (loan 700-799, custom 900-999) are kept as information entries,
//! never booked. Control totals and record counts of `49`, `98` and `99`
//! are checked; a mismatch is a warning, as is any structure the parser
//! repairs (a missing trailer, a record without its header). An amount or
//! date that does not decode, or a record code BAI2 does not have, is an
//! error naming the line.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Location, ParseError};
use crate::model::{
    Account, Balance, BalanceKind, BankTxCode, DeclaredTotals, Entry, EntryStatus, Format,
    Statement, Text, Transaction,
};
use crate::parse::{
    assign_line_ids, balance_warning, collapse_repeats, decode_text, non_empty, numbered_lines,
};

/// Record codes of BAI2.
const RECORD_CODES: [&str; 8] = ["01", "02", "03", "16", "88", "49", "98", "99"];

/// Pairs a `D` (distributed availability) funds type may list: 100. The
/// standard has no limit but real files give a handful (one per day of
/// float); a larger count is a garbled field and is an error.
pub const AVAILABILITY_PAIRS_MAX: u64 = 100;

/// Digits an amount may have: 18, as `money::AMOUNT_INTEGER_DIGITS_MAX`.
const AMOUNT_DIGITS_MAX: usize = 18;

/// Currency used when neither the group nor the account names one: the
/// BAI2 default.
const DEFAULT_CURRENCY: &str = "USD";

/// Decodes the bytes (UTF-8, else Windows-1252 with a warning) and reads
/// every account. Returns the statements and the warnings that belong to
/// no statement (file trailer checks, structure repaired outside any
/// account).
pub fn parse(source: &str, bytes: &[u8]) -> Result<(Vec<Statement>, Vec<String>), ParseError> {
    let mut encoding_warnings = Vec::new();
    let text = decode_text(bytes, &mut encoding_warnings);
    let mut file_warnings = Vec::new();
    let physical = physical_records(source, &text, &mut file_warnings)?;
    let logical = logical_records(source, physical)?;
    let mut reader = Reader {
        source,
        encoding_warnings,
        file_warnings,
        statements: Vec::new(),
        file: None,
        group: None,
        account: None,
        records_seen: false,
    };
    for record in &logical {
        reader.record(record)?;
    }
    reader.end_of_file();
    let Reader {
        statements,
        mut file_warnings,
        encoding_warnings,
        ..
    } = reader;
    if statements.is_empty() {
        file_warnings.splice(0..0, encoding_warnings);
    }
    collapse_repeats(&mut file_warnings);
    Ok((statements, file_warnings))
}

/// One record as written: its code, its fields after `NN,`, its line.
struct Physical {
    code: String,
    body: String,
    line: u64,
}

/// The record code `text` starts with (`16,` → `16`), if any.
fn record_code(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    if bytes.len() >= 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b','
    {
        text.get(..2)
    } else {
        None
    }
}

/// Where a record ends inside a line and another begins: a `/`, at least
/// one blank, then a BAI2 record code and a comma (`.../   02,...`).
/// Returns the offset of the next record.
fn next_record_in_line(line: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut at = from;
    while let Some(offset) = line.get(at..).and_then(|rest| rest.find('/')) {
        let slash = at + offset;
        let mut next = slash + 1;
        while next < bytes.len() && (bytes[next] == b' ' || bytes[next] == b'\t') {
            next += 1;
        }
        if next > slash + 1
            && let Some(code) = line.get(next..).and_then(record_code)
            && RECORD_CODES.contains(&code)
        {
            return Some((slash, next));
        }
        at = slash + 1;
    }
    None
}

/// Cuts the text into physical records.
fn physical_records(
    source: &str,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Physical>, ParseError> {
    let mut records: Vec<Physical> = Vec::new();
    for (number, line) in numbered_lines(text) {
        let line = line.trim_end_matches(['\u{1a}', '\0']);
        if line.trim().is_empty() {
            continue;
        }
        if record_code(line).is_none() {
            // A record broken over two lines: the rest of the first.
            let Some(previous) = records.last_mut() else {
                let found: String = line.chars().take(10).collect();
                return Err(ParseError::new(
                    source,
                    Location::Line(number),
                    format!(
                        "expected a BAI2 record (01, 02, 03, 16, 88, 49, 98 or 99 followed by a comma), found {found:?}"
                    ),
                ));
            };
            warnings
                .push("a line without a record code was joined to the record above it".to_string());
            previous.body.push(' ');
            previous.body.push_str(strip_end(line.trim()));
            continue;
        }
        let mut start = 0;
        loop {
            let (end, next) = match next_record_in_line(line, start) {
                Some((slash, next)) => (slash, Some(next)),
                None => (line.len(), None),
            };
            let record = line.get(start..end).unwrap_or("");
            let code = record.get(..2).unwrap_or("").to_string();
            let body = strip_end(record.get(3..).unwrap_or(""));
            records.push(Physical {
                code,
                body: body.to_string(),
                line: number,
            });
            match next {
                Some(next) if next > start => start = next,
                _ => break,
            }
        }
    }
    Ok(records)
}

/// A record's fields without the trailing blanks and the final `/`.
fn strip_end(body: &str) -> &str {
    let body = body.trim_end();
    body.strip_suffix('/').unwrap_or(body)
}

/// A record and its `88` continuations.
struct Logical {
    code: String,
    line: u64,
    /// The record's fields, then each continuation's.
    segments: Vec<String>,
}

fn logical_records(source: &str, physical: Vec<Physical>) -> Result<Vec<Logical>, ParseError> {
    let mut logical: Vec<Logical> = Vec::new();
    for record in physical {
        if !RECORD_CODES.contains(&record.code.as_str()) {
            return Err(ParseError::new(
                source,
                Location::Line(record.line),
                format!(
                    "expected a BAI2 record code (01, 02, 03, 16, 88, 49, 98 or 99), found {:?}",
                    record.code
                ),
            ));
        }
        if record.code == "88" {
            let Some(previous) = logical.last_mut() else {
                return Err(ParseError::new(
                    source,
                    Location::Line(record.line),
                    "88 continuation record with no record before it to continue",
                ));
            };
            previous.segments.push(record.body);
            continue;
        }
        logical.push(Logical {
            code: record.code,
            line: record.line,
            segments: vec![record.body],
        });
    }
    Ok(logical)
}

/// The fields of a logical record, read across its continuations.
struct Fields<'a> {
    segments: &'a [String],
    /// Index of the segment being read.
    segment: usize,
    /// What is left of it; `None` once its last field was read.
    rest: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn new(segments: &'a [String]) -> Fields<'a> {
        Fields {
            segments,
            segment: 0,
            rest: segments
                .first()
                .map(String::as_str)
                .filter(|s| !s.is_empty()),
        }
    }

    /// The next field, crossing into the next continuation when this one
    /// is used up; `None` at the end of the record.
    fn next(&mut self) -> Option<&'a str> {
        while self.segment < self.segments.len() {
            if let Some(rest) = self.rest {
                return Some(match rest.find(',') {
                    Some(at) => {
                        self.rest = Some(&rest[at + 1..]);
                        rest[..at].trim()
                    }
                    None => {
                        self.rest = None;
                        rest.trim()
                    }
                });
            }
            self.segment += 1;
            self.rest = self
                .segments
                .get(self.segment)
                .map(String::as_str)
                .filter(|s| !s.is_empty());
        }
        None
    }

    /// Everything left, as lines of text: the rest of the current segment,
    /// then each continuation whole.
    fn text(&mut self) -> Vec<&'a str> {
        let mut lines = Vec::new();
        if let Some(rest) = self.rest.take() {
            lines.push(rest);
        }
        if let Some(more) = self.segments.get(self.segment + 1..) {
            lines.extend(more.iter().map(String::as_str));
        }
        self.segment = self.segments.len();
        lines
    }
}

/// Decimals of a currency's minor unit (ISO 4217).
fn currency_decimals(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// A BAI2 amount in minor units: optional sign, digits, no decimal point;
/// `None` when blank.
fn minor_units(text: &str) -> Result<Option<i128>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.len() > AMOUNT_DIGITS_MAX
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "expected an amount in minor units (digits, no decimal point), found {text:?}"
        ));
    }
    let value: i128 = digits
        .parse()
        .map_err(|_| format!("amount out of range: {text:?}"))?;
    Ok(Some(if negative { -value } else { value }))
}

/// Minor units as an amount of a currency with `decimals` decimals.
fn scaled(units: i128, decimals: u32) -> Decimal {
    Decimal::from_i128_with_scale(units, decimals)
}

/// `YYMMDD`; years 00-69 are 2000-2069, 70-99 are 1970-1999. `None` when
/// blank.
fn date_yymmdd(text: &str, what: &str) -> Result<Option<NaiveDate>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let error = || format!("expected the {what} as YYMMDD, found {text:?}");
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let number = |at: usize| -> u32 {
        text.get(at..at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let year = number(0) as i32;
    let year = if year < 70 { 2000 + year } else { 1900 + year };
    NaiveDate::from_ymd_opt(year, number(2), number(4))
        .map(Some)
        .ok_or_else(error)
}

/// What a status type code (001-099) of a `03` record is, as a balance.
fn balance_kind(code: &str) -> BalanceKind {
    match code {
        "010" => BalanceKind::OpeningBooked,
        "015" => BalanceKind::ClosingBooked,
        "030" => BalanceKind::InterimBooked,
        "040" => BalanceKind::OpeningAvailable,
        "045" => BalanceKind::ClosingAvailable,
        "060" => BalanceKind::InterimAvailable,
        other => BalanceKind::Other(format!("BAI2 {other}")),
    }
}

/// Sign a detail type code gives: credit, debit, or neither.
fn type_sign(code: u32) -> Option<Decimal> {
    match code {
        100..=399 => Some(Decimal::ONE),
        400..=699 => Some(Decimal::NEGATIVE_ONE),
        _ => None,
    }
}

/// The `01` file header and what the `99` checks.
struct FileState {
    line: u64,
    id: Option<String>,
    created_at: Option<String>,
    records: u64,
    groups: u64,
    /// Sum of the groups' control totals, in minor units.
    total: i128,
}

/// The `02` group header and what the `98` checks.
struct Group {
    line: u64,
    as_of: Option<NaiveDate>,
    currency: Option<String>,
    records: u64,
    accounts: u64,
    /// Sum of the accounts' control totals, in minor units.
    total: i128,
    /// Index of the group's first statement in `Reader::statements`.
    first_statement: usize,
}

/// The account being read and what the `49` checks.
struct AccountState {
    statement: Statement,
    decimals: u32,
    records: u64,
    /// Algebraic sum of every amount field of the `03` and `16` records,
    /// in minor units.
    total: i128,
}

struct Reader<'s> {
    source: &'s str,
    /// Copied to every statement.
    encoding_warnings: Vec<String>,
    file_warnings: Vec<String>,
    statements: Vec<Statement>,
    file: Option<FileState>,
    group: Option<Group>,
    account: Option<AccountState>,
    records_seen: bool,
}

impl Reader<'_> {
    fn error(&self, line: u64, message: impl Into<String>) -> ParseError {
        ParseError::new(self.source, Location::Line(line), message)
    }

    fn record(&mut self, record: &Logical) -> Result<(), ParseError> {
        let first = !std::mem::replace(&mut self.records_seen, true);
        if first && record.code != "01" {
            self.file_warnings
                .push("the file does not start with a 01 file header".to_string());
        }
        let physical = record.segments.len() as u64;
        if let Some(file) = &mut self.file
            && record.code != "01"
        {
            file.records += physical;
        }
        if let Some(group) = &mut self.group
            && !matches!(record.code.as_str(), "01" | "02" | "99")
        {
            group.records += physical;
        }
        if let Some(account) = &mut self.account
            && matches!(record.code.as_str(), "16" | "49")
        {
            account.records += physical;
        }
        match record.code.as_str() {
            "01" => self.file_header(record),
            "02" => self.group_header(record),
            "03" => self.account_header(record),
            "16" => self.detail(record),
            "49" => self.account_trailer(record),
            "98" => self.group_trailer(record),
            "99" => self.file_trailer(record),
            code => Err(self.error(
                record.line,
                format!("expected a BAI2 record code, found {code:?}"),
            )),
        }
    }

    fn file_header(&mut self, record: &Logical) -> Result<(), ParseError> {
        if self.file.is_some() {
            self.close_account(&format!(
                "no 49 account trailer before the 01 file header at line {}",
                record.line
            ));
            self.close_group(&format!(
                "no 98 group trailer before the 01 file header at line {}",
                record.line
            ));
            self.file_warnings.push(format!(
                "no 99 file trailer before the 01 file header at line {}",
                record.line
            ));
        }
        let mut fields = Fields::new(&record.segments);
        let _sender = fields.next();
        let _receiver = fields.next();
        let date = fields.next().unwrap_or("");
        let time = fields.next().unwrap_or("");
        let id = fields.next().unwrap_or("");
        let created_at = match date_yymmdd(date, "file creation date") {
            Ok(Some(day)) => {
                let day = day.format("%Y-%m-%d").to_string();
                let hhmm = time.len() == 4
                    && time.bytes().all(|b| b.is_ascii_digit())
                    && &time[..2] < "24"
                    && &time[2..] < "60";
                Some(if hhmm {
                    format!("{day}T{}:{}", &time[..2], &time[2..])
                } else {
                    day
                })
            }
            Ok(None) => None,
            Err(message) => {
                self.file_warnings
                    .push(format!("01 file header at line {}: {message}", record.line));
                None
            }
        };
        self.file = Some(FileState {
            line: record.line,
            id: (!id.is_empty()).then(|| id.to_string()),
            created_at,
            records: record.segments.len() as u64,
            groups: 0,
            total: 0,
        });
        Ok(())
    }

    fn group_header(&mut self, record: &Logical) -> Result<(), ParseError> {
        if self.group.is_some() {
            self.close_account(&format!(
                "no 49 account trailer before the 02 group header at line {}",
                record.line
            ));
            self.close_group(&format!(
                "no 98 group trailer before the 02 group header at line {}",
                record.line
            ));
        }
        let mut fields = Fields::new(&record.segments);
        let _receiver = fields.next();
        let _originator = fields.next();
        let _status = fields.next();
        let date = fields.next().unwrap_or("");
        let _time = fields.next();
        let currency = fields.next().unwrap_or("");
        let as_of = date_yymmdd(date, "as-of date").map_err(|m| self.error(record.line, m))?;
        if as_of.is_none() {
            self.file_warnings.push(format!(
                "02 group header at line {} without an as-of date",
                record.line
            ));
        }
        self.group = Some(Group {
            line: record.line,
            as_of,
            currency: (!currency.is_empty()).then(|| currency.to_string()),
            records: record.segments.len() as u64,
            accounts: 0,
            total: 0,
            first_statement: self.statements.len(),
        });
        Ok(())
    }

    fn account_header(&mut self, record: &Logical) -> Result<(), ParseError> {
        if self.account.is_some() {
            self.close_account(&format!(
                "no 49 account trailer before the 03 record at line {}",
                record.line
            ));
        }
        let mut warnings = Vec::new();
        if self.group.is_none() {
            warnings.push("03 account record without a 02 group header before it".to_string());
            self.group = Some(Group {
                line: record.line,
                as_of: None,
                currency: None,
                records: record.segments.len() as u64,
                accounts: 0,
                total: 0,
                first_statement: self.statements.len(),
            });
        }
        let group = self.group.as_ref().expect("group open");
        let mut fields = Fields::new(&record.segments);
        let number = fields.next().unwrap_or("").to_string();
        let currency = match fields.next().unwrap_or("") {
            "" => group
                .currency
                .clone()
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
            given => given.to_string(),
        };
        let decimals = currency_decimals(&currency);
        let as_of = group.as_of;
        let mut statement = Statement::new(Format::Bai2, self.source);
        let iso = as_of.map(|d| d.format("%Y-%m-%d").to_string());
        statement.statement_id = iso.clone().unwrap_or_default();
        statement.period_from.clone_from(&iso);
        statement.period_to = iso;
        if let Some(file) = &self.file {
            statement.message_id.clone_from(&file.id);
            statement.created_at.clone_from(&file.created_at);
        }
        if number.is_empty() {
            warnings.push("03 account record without an account number".to_string());
        }
        statement.account = Account {
            id: number,
            currency: Some(currency.clone()),
            ..Account::default()
        };
        statement.warnings = warnings;
        let mut total: i128 = 0;
        let mut declared = DeclaredTotals::default();
        let mut has_declared = false;
        while let Some(code) = fields.next() {
            if code.is_empty() {
                // `,,,/` after the last summary: nothing more.
                continue;
            }
            let value = fields.next().unwrap_or("");
            let count = fields.next().unwrap_or("");
            let funds = fields.next().unwrap_or("");
            self.skip_funds(&mut fields, funds, record.line, &mut statement.warnings)?;
            let is_code = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
            if !is_code {
                return Err(self.error(
                    record.line,
                    format!("03 record: expected a 3-digit type code, found {code:?}"),
                ));
            }
            let Some(units) = minor_units(value)
                .map_err(|m| self.error(record.line, format!("03 record, type {code}: {m}")))?
            else {
                continue;
            };
            total += units;
            let value = scaled(units, decimals);
            let count = if count.is_empty() {
                None
            } else {
                Some(count.parse::<u64>().map_err(|_| {
                    self.error(
                        record.line,
                        format!("03 record, type {code}: expected an item count, found {count:?}"),
                    )
                })?)
            };
            match code {
                c if c < "100" => statement.balances.push(Balance {
                    kind: balance_kind(c),
                    date: as_of,
                    amount: value,
                    currency: currency.clone(),
                }),
                "100" => {
                    has_declared = true;
                    declared.credit_sum = Some(value);
                    declared.credit_count = count;
                }
                "400" => {
                    has_declared = true;
                    declared.debit_sum = Some(value);
                    declared.debit_count = count;
                }
                _ => {}
            }
        }
        if has_declared {
            statement.declared = Some(declared);
        }
        if let Some(group) = &mut self.group {
            group.accounts += 1;
        }
        self.account = Some(AccountState {
            statement,
            decimals,
            records: record.segments.len() as u64,
            total,
        });
        Ok(())
    }

    /// Reads the fields a funds type adds; returns the value date of a `V`.
    fn skip_funds(
        &self,
        fields: &mut Fields,
        funds: &str,
        line: u64,
        warnings: &mut Vec<String>,
    ) -> Result<Option<NaiveDate>, ParseError> {
        match funds {
            "" | "0" | "1" | "2" | "Z" => Ok(None),
            "S" => {
                for _ in 0..3 {
                    fields.next();
                }
                Ok(None)
            }
            "V" => {
                let date = fields.next().unwrap_or("");
                let _time = fields.next();
                date_yymmdd(date, "value date of funds type V").map_err(|m| self.error(line, m))
            }
            "D" => {
                let count = fields.next().unwrap_or("");
                let count: u64 = count.parse().map_err(|_| {
                    self.error(
                        line,
                        format!(
                            "expected the number of availability pairs after funds type D, found {count:?}"
                        ),
                    )
                })?;
                if count > AVAILABILITY_PAIRS_MAX {
                    return Err(self.error(
                        line,
                        format!(
                            "funds type D lists {count} availability pairs, more than {AVAILABILITY_PAIRS_MAX} (AVAILABILITY_PAIRS_MAX)"
                        ),
                    ));
                }
                for _ in 0..count * 2 {
                    fields.next();
                }
                Ok(None)
            }
            other => {
                warnings.push(format!(
                    "unknown funds type {other:?} (expected 0, 1, 2, S, V, D or Z); its fields may be misread"
                ));
                Ok(None)
            }
        }
    }

    fn detail(&mut self, record: &Logical) -> Result<(), ParseError> {
        let Some(account) = self.account.as_mut() else {
            return Err(self.error(
                record.line,
                "16 transaction detail outside an account: expected a 03 account record before it",
            ));
        };
        let decimals = account.decimals;
        let currency = account
            .statement
            .account
            .currency
            .clone()
            .unwrap_or_default();
        let as_of = self.group.as_ref().and_then(|g| g.as_of);
        let mut warnings = Vec::new();
        let mut fields = Fields::new(&record.segments);
        let code = fields.next().unwrap_or("");
        let code_number: u32 = match code.parse() {
            Ok(n) if code.len() == 3 => n,
            _ => {
                return Err(self.error(
                    record.line,
                    format!("16 record: expected a 3-digit type code, found {code:?}"),
                ));
            }
        };
        let value_text = fields.next().unwrap_or("");
        let sign = type_sign(code_number);
        let units = minor_units(value_text)
            .map_err(|m| self.error(record.line, format!("16 record: {m}")))?;
        let units = match (units, sign) {
            (Some(units), _) => units,
            (None, None) => 0,
            (None, Some(_)) => {
                return Err(self.error(
                    record.line,
                    format!("16 record, type {code}: expected an amount, found nothing"),
                ));
            }
        };
        let value = scaled(units, decimals);
        let funds = fields.next().unwrap_or("");
        let value_date = self.skip_funds(&mut fields, funds, record.line, &mut warnings)?;
        let bank_ref = fields.next().unwrap_or("");
        let customer_ref = fields.next().unwrap_or("");
        let text = fields.text();
        if value.is_sign_negative() && !value.is_zero() {
            warnings.push(
                "16 record with a signed amount (detail amounts are unsigned; the type code gives the sign)"
                    .to_string(),
            );
        }
        let (amount, status) = match sign {
            Some(sign) => (value * sign, EntryStatus::Booked),
            None => {
                warnings.push(format!(
                    "16 record with type code {code}, neither a credit (100-399) nor a debit (400-699): kept as an information entry, not booked"
                ));
                (value, EntryStatus::Info)
            }
        };
        let mut transaction = Transaction::default();
        read_text(&text, &mut transaction);
        let entry = Entry {
            line_id: Text::default(),
            bank_ref: non_empty(bank_ref),
            entry_ref: non_empty(customer_ref),
            status,
            booking_date: as_of,
            value_date: value_date.or(as_of),
            amount,
            currency: currency.into(),
            reversal: false,
            bank_tx_code: BankTxCode {
                proprietary: Some(code.into()),
                proprietary_issuer: Some("BAI".into()),
                ..BankTxCode::default()
            },
            batch_count: None,
            transaction: Box::new(transaction),
            details: Vec::new(),
            charges: Vec::new(),
            additional_info: None,
        };
        let account = self.account.as_mut().expect("account open");
        account.total += units;
        account.statement.entries.push(entry);
        account.statement.warnings.append(&mut warnings);
        Ok(())
    }

    fn account_trailer(&mut self, record: &Logical) -> Result<(), ParseError> {
        let Some(mut account) = self.account.take() else {
            self.file_warnings.push(format!(
                "49 account trailer at line {} without a 03 account record",
                record.line
            ));
            return Ok(());
        };
        let mut fields = Fields::new(&record.segments);
        let total_text = fields.next().unwrap_or("");
        let count_text = fields.next().unwrap_or("");
        let declared = minor_units(total_text)
            .map_err(|m| self.error(record.line, format!("49 account trailer: {m}")))?;
        let warnings = &mut account.statement.warnings;
        match declared {
            Some(declared) if declared != account.total => warnings.push(format!(
                "49 account trailer declares a control total of {}, the account's amounts sum to {}",
                scaled(declared, account.decimals),
                scaled(account.total, account.decimals)
            )),
            Some(_) => {}
            None => warnings
                .push("49 account trailer without a control total; not checked".to_string()),
        }
        check_count(warnings, "49 account trailer", count_text, account.records);
        let total = declared.unwrap_or(account.total);
        if let Some(group) = &mut self.group {
            group.total += total;
        }
        self.finish_account(account);
        Ok(())
    }

    fn group_trailer(&mut self, record: &Logical) -> Result<(), ParseError> {
        self.close_account(&format!(
            "no 49 account trailer before the 98 group trailer at line {}",
            record.line
        ));
        let Some(group) = self.group.take() else {
            self.file_warnings.push(format!(
                "98 group trailer at line {} without a 02 group header",
                record.line
            ));
            return Ok(());
        };
        let mut fields = Fields::new(&record.segments);
        let total_text = fields.next().unwrap_or("");
        let accounts_text = fields.next().unwrap_or("");
        let count_text = fields.next().unwrap_or("");
        let declared = minor_units(total_text)
            .map_err(|m| self.error(record.line, format!("98 group trailer: {m}")))?;
        let mut warnings = Vec::new();
        if let Some(declared) = declared
            && declared != group.total
        {
            warnings.push(format!(
                "98 group trailer (line {}) declares a control total of {declared} minor units, the group's accounts sum to {}",
                record.line, group.total
            ));
        }
        if accounts_text != group.accounts.to_string() {
            warnings.push(format!(
                "98 group trailer (line {}) declares {accounts_text:?} accounts, the group has {}",
                record.line, group.accounts
            ));
        }
        check_count(
            &mut warnings,
            &format!("98 group trailer (line {})", record.line),
            count_text,
            group.records,
        );
        self.group_warnings(&group, warnings);
        if let Some(file) = &mut self.file {
            file.groups += 1;
            file.total += declared.unwrap_or(group.total);
        }
        Ok(())
    }

    fn file_trailer(&mut self, record: &Logical) -> Result<(), ParseError> {
        self.close_account(&format!(
            "no 49 account trailer before the 99 file trailer at line {}",
            record.line
        ));
        self.close_group(&format!(
            "no 98 group trailer before the 99 file trailer at line {}",
            record.line
        ));
        let Some(file) = self.file.take() else {
            self.file_warnings.push(format!(
                "99 file trailer at line {} without a 01 file header",
                record.line
            ));
            return Ok(());
        };
        let mut fields = Fields::new(&record.segments);
        let total_text = fields.next().unwrap_or("");
        let groups_text = fields.next().unwrap_or("");
        let count_text = fields.next().unwrap_or("");
        let declared = minor_units(total_text)
            .map_err(|m| self.error(record.line, format!("99 file trailer: {m}")))?;
        if let Some(declared) = declared
            && declared != file.total
        {
            self.file_warnings.push(format!(
                "99 file trailer declares a control total of {declared} minor units, the file's groups sum to {}",
                file.total
            ));
        }
        if groups_text != file.groups.to_string() {
            self.file_warnings.push(format!(
                "99 file trailer declares {groups_text:?} groups, the file has {} (01 header at line {})",
                file.groups, file.line
            ));
        }
        check_count(
            &mut self.file_warnings,
            "99 file trailer",
            count_text,
            file.records,
        );
        Ok(())
    }

    fn end_of_file(&mut self) {
        self.close_account("the file ends before the 49 account trailer");
        self.close_group("the file ends before the 98 group trailer");
        if self.file.take().is_some() {
            self.file_warnings
                .push("the file ends before the 99 file trailer".to_string());
        }
    }

    /// Closes an account left open, with `reason` as its warning.
    fn close_account(&mut self, reason: &str) {
        if let Some(mut account) = self.account.take() {
            account.statement.warnings.push(reason.to_string());
            if let Some(group) = &mut self.group {
                group.total += account.total;
            }
            self.finish_account(account);
        }
    }

    /// Closes a group left open, with `reason` on its statements.
    fn close_group(&mut self, reason: &str) {
        if let Some(group) = self.group.take() {
            if let Some(file) = &mut self.file {
                file.groups += 1;
                file.total += group.total;
            }
            self.group_warnings(&group, vec![reason.to_string()]);
        }
    }

    /// Puts a group's warnings on each of its statements, or on the file
    /// when it has none.
    fn group_warnings(&mut self, group: &Group, warnings: Vec<String>) {
        if warnings.is_empty() {
            return;
        }
        let statements = self
            .statements
            .get_mut(group.first_statement..)
            .unwrap_or_default();
        if statements.is_empty() {
            self.file_warnings.extend(
                warnings
                    .into_iter()
                    .map(|w| format!("group at line {}: {w}", group.line)),
            );
            return;
        }
        for statement in statements {
            statement.warnings.extend(warnings.iter().cloned());
            collapse_repeats(&mut statement.warnings);
        }
    }

    fn finish_account(&mut self, account: AccountState) {
        let mut statement = account.statement;
        check_declared(&mut statement);
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

/// A trailer's record count against the records counted.
fn check_count(warnings: &mut Vec<String>, what: &str, declared: &str, counted: u64) {
    match declared.parse::<u64>() {
        Ok(n) if n == counted => {}
        Ok(n) => warnings.push(format!("{what} declares {n} records, {counted} were read")),
        Err(_) => warnings.push(format!(
            "{what}: expected a record count, found {declared:?}; not checked"
        )),
    }
}

/// The `100` (total credits) and `400` (total debits) summaries of the
/// `03` record against the booked entries.
fn check_declared(statement: &mut Statement) {
    let Some(declared) = statement.declared.clone() else {
        return;
    };
    for (what, count, sum, credit) in [
        ("credit", declared.credit_count, declared.credit_sum, true),
        ("debit", declared.debit_count, declared.debit_sum, false),
    ] {
        let values: Vec<Decimal> = statement
            .entries
            .iter()
            .filter(|e| e.status == EntryStatus::Booked && e.amount.is_sign_negative() != credit)
            .map(|e| e.amount.abs())
            .collect();
        if let Some(count) = count
            && count != values.len() as u64
        {
            statement.warnings.push(format!(
                "03 record declares {count} {what} items (type code {}), the account has {}",
                if credit { "100" } else { "400" },
                values.len()
            ));
        }
        let actual: Decimal = values.iter().sum();
        if let Some(sum) = sum
            && sum != actual
        {
            statement.warnings.push(format!(
                "03 record declares {what}s totalling {sum} (type code {}), the entries sum to {actual}",
                if credit { "100" } else { "400" }
            ));
        }
    }
}

/// Reads the text of a `16` and its `88` lines: labelled lines some banks
/// send (`EREF: ...`, `DBNM: ...`; Fedwire `ORG:=...`, `OBI:=...`) fill
/// their fields; other lines are remittance text.
fn read_text(lines: &[&str], transaction: &mut Transaction) {
    for line in lines {
        let line = line.trim().trim_end_matches(',').trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some((key, value)) = labelled(line) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let value = value.to_string();
            match key {
                "REMI" | "OBI" => transaction.remittance_lines.push(value),
                "EREF" => {
                    if transaction.end_to_end_id.is_none() {
                        transaction.end_to_end_id = Some(value.into());
                    }
                }
                "DBNM" | "ORG" => {
                    transaction.debtor.name.get_or_insert(value.into());
                }
                "CRNM" | "BNF NAME" => {
                    transaction.creditor.name.get_or_insert(value.into());
                }
                "DACT" => {
                    transaction.debtor.account_other.get_or_insert(value.into());
                }
                "CACT" => {
                    transaction
                        .creditor
                        .account_other
                        .get_or_insert(value.into());
                }
                "DBIC" => {
                    transaction.debtor.bic.get_or_insert(value.into());
                }
                "CBIC" => {
                    transaction.creditor.bic.get_or_insert(value.into());
                }
                _ => match &mut transaction.more_mut().additional_info {
                    Some(info) => {
                        info.push_str("; ");
                        info.push_str(line);
                    }
                    None => transaction.more_mut().additional_info = Some(line.to_string()),
                },
            }
            continue;
        }
        transaction.remittance_lines.push(line.to_string());
    }
}

/// `EREF: value` (four capitals and a colon) or `ORG:=value` (Fedwire
/// tags: capitals and spaces, then `:=`).
fn labelled(line: &str) -> Option<(&str, &str)> {
    if let Some((key, value)) = line.split_once(":=")
        && !key.is_empty()
        && key.len() <= 20
        && key.bytes().all(|b| b.is_ascii_uppercase() || b == b' ')
    {
        return Some((key, value));
    }
    let key = line.get(..4)?;
    if key.bytes().all(|b| b.is_ascii_uppercase()) && line.get(4..5) == Some(":") {
        return Some((key, &line[5..]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One group, one account: a wire in with value date and Fedwire
    /// labels, a cheque out with split availability; every trailer right.
    const SAMPLE: &str = "01,BANKUS33,ACME,260305,0800,F001,80,1,2/
02,ACME,BANKUS33,1,260304,2400,USD,2/
03,123456789,USD,010,100000,,,015,112500,,,100,20000,1,,400,7500,1,/
16,195,20000,V,260305,,WIRE001,INV-42,INCOMING WIRE, REF INV-42/
88,ORG:=GLOBEX CORP
88,OBI:=INVOICE INV-42, PO 7/2026
16,475,7500,S,2500,2500,2500,CHK0001,1001,CHECK PAID/
49,267500,6/
98,267500,1,8/
99,267500,1,10/
";

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn an_account_is_a_statement_with_signed_entries() {
        let (statements, warnings) = parse("s.bai", SAMPLE.as_bytes()).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        let [statement] = &statements[..] else {
            panic!("one statement expected");
        };
        assert!(statement.warnings.is_empty(), "{:?}", statement.warnings);
        assert_eq!(statement.format, Format::Bai2);
        assert_eq!(statement.account.id, "123456789");
        assert_eq!(statement.currency(), Some("USD"));
        assert_eq!(statement.statement_id, "2026-03-04");
        assert_eq!(statement.message_id.as_deref(), Some("F001"));
        assert_eq!(statement.created_at.as_deref(), Some("2026-03-05T08:00"));
        assert_eq!(statement.balance_ok(), Some(true));
        assert_eq!(
            statement.opening_balance().unwrap().amount.to_string(),
            "1000.00"
        );
        assert_eq!(
            statement.closing_balance().unwrap().amount.to_string(),
            "1125.00"
        );
        let [wire, cheque] = &statement.entries[..] else {
            panic!("two entries expected");
        };
        assert_eq!(wire.amount.to_string(), "200.00");
        assert_eq!(wire.booking_date, day(2026, 3, 4));
        assert_eq!(wire.value_date, day(2026, 3, 5));
        assert_eq!(wire.bank_ref.as_deref(), Some("WIRE001"));
        assert_eq!(wire.entry_ref.as_deref(), Some("INV-42"));
        assert_eq!(wire.bank_tx_code.proprietary.as_deref(), Some("195"));
        assert_eq!(wire.transaction.debtor.name.as_deref(), Some("GLOBEX CORP"));
        assert_eq!(
            wire.transaction.remittance_lines,
            vec!["INCOMING WIRE, REF INV-42", "INVOICE INV-42, PO 7/2026"]
        );
        assert_eq!(cheque.amount.to_string(), "-75.00");
        assert_eq!(cheque.value_date, day(2026, 3, 4));
        assert_eq!(cheque.bank_ref.as_deref(), Some("CHK0001"));
        assert_eq!(cheque.entry_ref.as_deref(), Some("1001"));
        assert_eq!(cheque.remittance_text(), "CHECK PAID");
        assert!(wire.line_id.ends_with("-1") && cheque.line_id.ends_with("-2"));
    }

    #[test]
    fn line_endings_and_records_sharing_a_line_read_the_same() {
        let (lf, _) = parse("s", SAMPLE.as_bytes()).unwrap();
        let crlf = SAMPLE.replace('\n', "\r\n");
        let cr = SAMPLE.replace('\n', "\r");
        assert_eq!(parse("s", crlf.as_bytes()).unwrap().0, lf);
        assert_eq!(parse("s", cr.as_bytes()).unwrap().0, lf);
        // Records ended by `/` may share a line (`.../  16,...`).
        let shared = SAMPLE
            .replace("2/\n02,", "2/  02,")
            .replace("1,/\n16,", "1,/ 16,")
            .replace("PAID/\n49,", "PAID/   49,");
        let (statements, warnings) = parse("s", shared.as_bytes()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(
            statements[0].warnings.is_empty(),
            "{:?}",
            statements[0].warnings
        );
        assert_eq!(statements[0].entries, lf[0].entries);
    }

    #[test]
    fn continuations_carry_fields_then_text() {
        // The 03 is cut after a type code; the 16 before its references.
        let text = "01,B,C,260305,0800,F2,,,2/
02,C,B,1,260304,,JPY,2/
03,77,,010,5000,,,015/
88,6500,,/
16,301,1200,0/
88,BREF9,CREF9,SALE,PART ONE
88,PART TWO, WITH COMMA/
16,890,,Z,,,STATUS ONLY/
16,142,300,D,2,0,100,1,200,,,LOCKBOX/
49,13000,8/
98,13000,1,10/
99,13000,1,12/
";
        let (statements, warnings) = parse("j", text.as_bytes()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let statement = &statements[0];
        assert_eq!(statement.currency(), Some("JPY"));
        assert_eq!(
            statement.closing_balance().unwrap().amount.to_string(),
            "6500"
        );
        let entries = &statement.entries;
        assert_eq!(entries[0].amount.to_string(), "1200");
        assert_eq!(entries[0].bank_ref.as_deref(), Some("BREF9"));
        assert_eq!(entries[0].entry_ref.as_deref(), Some("CREF9"));
        assert_eq!(
            entries[0].transaction.remittance_lines,
            vec!["SALE,PART ONE", "PART TWO, WITH COMMA"]
        );
        assert_eq!(entries[1].status, EntryStatus::Info);
        assert_eq!(entries[2].amount.to_string(), "300");
        assert_eq!(entries[2].remittance_text(), "LOCKBOX");
        assert_eq!(statement.balance_ok(), Some(true));
        assert_eq!(
            statement.warnings,
            vec![
                "16 record with type code 890, neither a credit (100-399) nor a debit (400-699): kept as an information entry, not booked"
            ]
        );
    }

    #[test]
    fn control_totals_and_counts_are_checked() {
        let bad = SAMPLE
            .replace("49,267500,6/", "49,267501,7/")
            .replace("98,267500,1,8/", "98,267500,2,8/")
            .replace("99,267500,1,10/", "99,267499,1,11/");
        let (statements, warnings) = parse("s", bad.as_bytes()).unwrap();
        assert_eq!(
            statements[0].warnings,
            vec![
                "49 account trailer declares a control total of 2675.01, the account's amounts sum to 2675.00",
                "49 account trailer declares 7 records, 6 were read",
                "98 group trailer (line 9) declares a control total of 267500 minor units, the group's accounts sum to 267501",
                "98 group trailer (line 9) declares \"2\" accounts, the group has 1",
            ]
        );
        assert_eq!(
            warnings,
            vec![
                "99 file trailer declares a control total of 267499 minor units, the file's groups sum to 267500",
                "99 file trailer declares 11 records, 10 were read",
            ]
        );
        // Summaries 100 / 400 against the entries.
        let summary = SAMPLE.replace("100,20000,1,", "100,20001,2,");
        let (statements, _) = parse("s", summary.as_bytes()).unwrap();
        assert!(
            statements[0]
                .warnings
                .iter()
                .any(|w| w.contains("declares 2 credit items")),
            "{:?}",
            statements[0].warnings
        );
    }

    #[test]
    fn missing_structure_is_repaired_with_warnings() {
        let text = "03,55,USD,010,100,,,015,150,,/
16,108,50,,,,DEPOSIT/
03,56,EUR,010,0,,/
16,699,25,,,,FEE/
";
        let (statements, warnings) = parse("m", text.as_bytes()).unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(warnings[0], "the file does not start with a 01 file header");
        assert!(statements[0].warnings[0].contains("without a 02 group header"));
        assert!(statements[0].warnings[1].contains("no 49 account trailer"));
        assert_eq!(statements[0].balance_ok(), Some(true));
        assert_eq!(statements[1].entries[0].amount.to_string(), "-0.25");
        assert_eq!(statements[1].entries[0].currency, "EUR");
        assert!(
            statements[1]
                .warnings
                .iter()
                .any(|w| w.contains("ends before the 49"))
        );
    }

    #[test]
    fn bad_input_is_a_located_error() {
        let cases = [
            (
                SAMPLE.replace("16,475,7500,", "16,475,75.00,"),
                7,
                "minor units",
            ),
            (
                SAMPLE.replace("260304,2400", "260230,2400"),
                2,
                "as-of date",
            ),
            (SAMPLE.replace("V,260305,", "V,261305,"), 4, "value date"),
            (SAMPLE.replace("16,475,", "17,475,"), 7, "record code"),
            (SAMPLE.replace("16,475,", "16,47X,"), 7, "type code"),
            (
                SAMPLE.replace("16,475,7500,", "16,475,,"),
                7,
                "expected an amount",
            ),
            (
                SAMPLE.replace(
                    "03,123456789,USD,",
                    "49,1,2/\n16,100,1,,,,X/\n03,123456789,USD,",
                ),
                4,
                "outside an account",
            ),
            ("88,ORPHAN/\n".to_string(), 1, "no record before it"),
            ("garbage\n".to_string(), 1, "expected a BAI2 record"),
            (
                SAMPLE.replace("S,2500,", "D,5000,"),
                7,
                "AVAILABILITY_PAIRS_MAX",
            ),
        ];
        for (text, line, expected) in cases {
            let error = parse("bad.bai", text.as_bytes()).unwrap_err();
            assert_eq!(error.location, Location::Line(line), "{error}");
            assert_eq!(error.file, "bad.bai");
            assert!(error.message.contains(expected), "{error}");
        }
    }

    #[test]
    fn windows_1252_is_decoded_with_a_warning() {
        let mut bytes = SAMPLE.replace("CHECK PAID", "CHECK PAID CAF?").into_bytes();
        let at = bytes.iter().position(|&b| b == b'?').unwrap();
        bytes[at] = 0xC9;
        let (statements, _) = parse("w", &bytes).unwrap();
        assert!(statements[0].warnings[0].contains("Windows-1252"));
        assert_eq!(
            statements[0].entries[1].remittance_text(),
            "CHECK PAID CAF\u{c9}"
        );
    }

    #[test]
    fn no_panic_on_garbage() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let base = SAMPLE.as_bytes().to_vec();
        let alphabet = b",/\n0123456789SVDZ 88,16,";
        for _ in 0..500 {
            let mut bytes = base.clone();
            for _ in 0..6 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % bytes.len() as u64) as usize;
                bytes[at] = alphabet[((seed >> 40) % alphabet.len() as u64) as usize];
            }
            let _ = parse("fuzz", &bytes);
        }
    }

    /// The golden fixture of this format reads without a warning.
    #[test]
    fn fixture_reads_cleanly() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join("bai2/lockbox-ach-wires.bai");
        let bytes = std::fs::read(&path).expect("fixture");
        let (statements, warnings) = parse("bai2/lockbox-ach-wires.bai", &bytes).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(statements.len(), 2);
        for statement in &statements {
            assert!(statement.warnings.is_empty(), "{:?}", statement.warnings);
            assert_eq!(statement.balance_ok(), Some(true));
        }
        let ach = &statements[0].entries[1];
        assert_eq!(
            ach.transaction.debtor.name.as_deref(),
            Some("NORTHWIND TRADERS LLC")
        );
        assert_eq!(
            ach.transaction.end_to_end_id.as_deref(),
            Some("NW-PAY-000912")
        );
    }

    /// Every BAI2 input of `../shared/corpus`: valid ones parse; those
    /// their source rejects are rejected with a location or read with
    /// warnings.
    #[test]
    fn corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let Ok(index) = std::fs::read_to_string(root.join("index.tsv")) else {
            eprintln!("bai2 corpus: {} absent, skipped", root.display());
            return;
        };
        let mut lines = index.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (path_at, format_at, role_at, failure_at) = (
            column("path"),
            column("format"),
            column("role"),
            column("expect_failure"),
        );
        let mut seen = std::collections::BTreeSet::new();
        let (mut parsed, mut warned, mut rejected, mut statements, mut entries) = (0, 0, 0, 0, 0);
        let mut failures = Vec::new();
        for line in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |at: usize| cells.get(at).copied().unwrap_or("");
            if cell(format_at) != "bai2" || cell(role_at) != "input" {
                continue;
            }
            let path = cell(path_at);
            if !seen.insert(path.to_string()) {
                continue;
            }
            let bytes = std::fs::read(root.join(path)).expect("corpus file");
            let expect_failure = cell(failure_at) == "yes";
            match parse(path, &bytes) {
                Ok((list, file_warnings)) => {
                    parsed += 1;
                    statements += list.len();
                    entries += list.iter().map(|s| s.entries.len()).sum::<usize>();
                    let has_warnings =
                        !file_warnings.is_empty() || list.iter().any(|s| !s.warnings.is_empty());
                    if has_warnings {
                        warned += 1;
                    } else if expect_failure {
                        failures.push(format!("{path}: expected to fail, read without warning"));
                    }
                }
                Err(error) if expect_failure && matches!(error.location, Location::Line(_)) => {
                    rejected += 1
                }
                Err(error) => failures.push(format!("{path}: {error}")),
            }
        }
        eprintln!(
            "bai2 corpus: {} inputs: {parsed} parsed ({warned} with warnings; {statements} statements, {entries} entries), {rejected} rejected with a location",
            seen.len()
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
