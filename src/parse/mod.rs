//! Bytes → normalised model. Each parser takes the bytes of one file and its
//! source name and returns what it read or a located `ParseError`; none does
//! I/O. The format is detected from the content, never from the file name.
//!
//! Invariant: every `Entry` leaves here with a signed amount (credit
//! positive) and a `line_id` that depends only on the statement's content
//! and the entry's position, so the same statement read twice, from any
//! path, gives the same ids.

pub mod bai2;
pub mod camt;
pub mod cfonb120;
pub mod csv_table;
pub mod customers;
pub mod mt940;
pub mod open_items;
pub mod remittance_csv;
pub mod remt;
pub mod settlements;
pub mod xml;

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::error::{Location, ParseError};
use crate::model::{RemittanceAdvice, Statement};

/// What one file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub source: String,
    pub statements: Vec<Statement>,
    pub advices: Vec<RemittanceAdvice>,
    /// Warnings about the file that belong to no statement or advice.
    pub warnings: Vec<String>,
}

/// The family of a file, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// An XML document: CAMT or remt.001, told apart by its message.
    Xml,
    RemittanceCsv,
    Mt94x,
    Cfonb120,
    Bai2,
    Unknown,
}

/// Sniffs the format from the content.
pub fn detect(bytes: &[u8]) -> Detected {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &body[..body.len().min(4096)];
    let trimmed_start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[trimmed_start..];
    if head.starts_with(b"<") || bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Detected::Xml;
    }
    let first_line_end = head
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(head.len());
    let first_line = &head[..first_line_end];
    let first_line_text = String::from_utf8_lossy(first_line).to_ascii_lowercase();
    if first_line_text.contains("advice_id") && first_line_text.contains(',') {
        return Detected::RemittanceCsv;
    }
    let starts_with_tag = std::str::from_utf8(first_line)
        .ok()
        .and_then(mt940::split_tag)
        .is_some();
    if head.starts_with(b"{1:")
        || starts_with_tag
        || head.starts_with(b":940:")
        || head.windows(4).any(|w| w == b":20:") && head.windows(4).any(|w| w == b":25:")
    {
        return Detected::Mt94x;
    }
    if head.starts_with(b"01,") {
        return Detected::Bai2;
    }
    // CFONB: records of 120 characters (240 for CFONB 240, which its reader
    // names and refuses), opening with record code 01 and a 5-digit bank
    // code; with line breaks, or all records on one line.
    let bank_code = head
        .get(2..7)
        .is_some_and(|c| c.iter().all(u8::is_ascii_digit));
    let second_record = head
        .get(120..122)
        .is_some_and(|c| c[0] == b'0' && c[1].is_ascii_digit());
    if head.starts_with(b"01")
        && bank_code
        && first_line.len() >= 80
        && (first_line.len() <= 240 || second_record)
    {
        return Detected::Cfonb120;
    }
    Detected::Unknown
}

/// Parses one file of any supported format.
pub fn parse_bytes(source: &str, bytes: &[u8]) -> Result<ParsedFile, ParseError> {
    let mut parsed = ParsedFile {
        source: source.to_string(),
        statements: Vec::new(),
        advices: Vec::new(),
        warnings: Vec::new(),
    };
    match detect(bytes) {
        Detected::Xml => {
            let (text, warnings) = xml::decode(source, bytes)?;
            if remt::looks_like_remt(&text) {
                let document = remt::parse(source, &text, warnings)?;
                parsed.advices = document.advices;
                parsed.warnings = document.warnings;
            } else {
                let document = camt::parse(source, &text, warnings)?;
                parsed.statements = document.statements;
                parsed.warnings = document.warnings;
            }
        }
        Detected::RemittanceCsv => parsed.advices = remittance_csv::parse(source, bytes)?,
        Detected::Mt94x => (parsed.statements, parsed.warnings) = mt940::parse(source, bytes)?,
        Detected::Cfonb120 => {
            (parsed.statements, parsed.warnings) = cfonb120::parse(source, bytes)?
        }
        Detected::Bai2 => (parsed.statements, parsed.warnings) = bai2::parse(source, bytes)?,
        Detected::Unknown if bytes.starts_with(b"PK\x03\x04") => {
            return Err(ParseError::new(
                source,
                Location::File,
                "expected a statement, found a ZIP archive; extract the statements it holds and give those",
            ));
        }
        Detected::Unknown => {
            return Err(ParseError::new(
                source,
                Location::File,
                "expected a bank statement (ISO 20022 XML) or a remittance advice (remt.001 XML or CSV with an advice_id column)",
            ));
        }
    }
    Ok(parsed)
}

/// Text of a line-based file: a UTF-8 BOM dropped; not valid UTF-8, it is
/// decoded as Windows-1252 (which maps every byte) with a warning naming the
/// first bad byte.
pub fn decode_text<'b>(bytes: &'b [u8], warnings: &mut Vec<String>) -> Cow<'b, str> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(text) => Cow::Borrowed(text),
        Err(error) => {
            warnings.push(format!(
                "not valid UTF-8 (first bad byte at offset {}); decoded as Windows-1252",
                error.valid_up_to()
            ));
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(body);
            Cow::Owned(text.into_owned())
        }
    }
}

/// Lines of the text with their 1-based numbers; `\n`, `\r\n` and `\r`
/// all end a line. Each step consumes at least one byte.
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    let mut rest = text;
    let mut number = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        match rest.find(['\r', '\n']) {
            Some(at) => {
                let line = &rest[..at];
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + skip..];
                Some((number, line))
            }
            None => {
                let line = rest;
                rest = "";
                Some((number, line))
            }
        }
    })
}

/// `None` for an empty text, else the text.
pub fn non_empty<T: for<'a> From<&'a str>>(text: &str) -> Option<T> {
    if text.is_empty() {
        None
    } else {
        Some(T::from(text))
    }
}

/// One line per distinct warning, with its count: a bank that omits `Sts`
/// on every entry gives one warning, not ten thousand.
pub fn collapse_repeats(warnings: &mut Vec<String>) {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for warning in warnings.drain(..) {
        match counts.iter_mut().find(|(w, _)| *w == warning) {
            Some((_, n)) => *n += 1,
            None => counts.push((warning, 1)),
        }
    }
    warnings.extend(counts.into_iter().map(|(w, n)| {
        if n == 1 {
            w
        } else {
            format!("{w} ({n} times)")
        }
    }));
}

/// The warning for a statement whose balances do not reconcile, if any.
pub fn balance_warning(statement: &Statement) -> Option<String> {
    if statement.balance_ok() != Some(false) {
        return None;
    }
    let opening = statement.opening_balance()?.amount;
    let closing = statement.closing_balance()?.amount;
    let booked = statement.booked_total();
    Some(format!(
        "balances do not reconcile: opening {opening} + booked entries {booked} = {}, but closing is {closing}",
        opening + booked
    ))
}

/// Gives every entry of a statement its stable `line_id`:
/// `<12 hex of SHA-256 of the statement key>-<1-based position>`. The key is
/// what identifies a statement whatever file it came in: format, account,
/// ids, sequence numbers, creation time, period, page and balances.
pub fn assign_line_ids(statement: &mut Statement) {
    let mut hasher = Sha256::new();
    let mut field = |value: &str| {
        hasher.update(value.as_bytes());
        hasher.update([0x1f]);
    };
    field(statement.format.name());
    field(&statement.account.id);
    field(&statement.statement_id);
    for value in [
        &statement.message_id,
        &statement.electronic_sequence,
        &statement.legal_sequence,
        &statement.created_at,
        &statement.period_from,
        &statement.period_to,
        &statement.page_number,
    ] {
        field(value.as_deref().unwrap_or(""));
    }
    // The same text as `format!` gives, written into one buffer.
    let mut text = String::new();
    for balance in &statement.balances {
        text.clear();
        let _ = write!(text, "{:?}", balance.kind);
        field(&text);
        text.clear();
        if let Some(date) = balance.date {
            let _ = write!(text, "{date}");
        }
        field(&text);
        text.clear();
        let _ = write!(text, "{}", balance.amount);
        field(&text);
    }
    let digest = hasher.finalize();
    let mut prefix = String::with_capacity(12);
    for byte in &digest[..6] {
        let _ = write!(prefix, "{byte:02x}");
    }
    for (index, entry) in statement.entries.iter_mut().enumerate() {
        // 12 + 1 + up to 10 digits: kept inline, never allocated.
        // The id is built on the stack, then made a `Text` in one go.
        let mut id = [0u8; 64];
        id[..prefix.len()].copy_from_slice(prefix.as_bytes());
        id[prefix.len()] = b'-';
        let digits = (index + 1).ilog10() as usize + 1;
        let end = prefix.len() + 1 + digits;
        let mut number = index + 1;
        for at in (prefix.len() + 1..end).rev() {
            id[at] = b'0' + (number % 10) as u8;
            number /= 10;
        }
        // Hex digits, '-' and decimal digits: ASCII.
        entry.line_id = crate::model::Text::from_utf8(&id[..end]).expect("ASCII line id");
    }
}

/// `str::trim` and `str::trim_end` with the ASCII blanks stripped byte by
/// byte: the same result (Unicode's other white space is still stripped,
/// by `str::trim`, when the text starts or ends outside ASCII), without
/// decoding every character of the short fields the parsers trim by the
/// million.
pub trait TrimAscii {
    fn trim_fast(&self) -> &str;
    fn trim_end_fast(&self) -> &str;
}

/// The ASCII characters `char::is_whitespace` accepts.
fn is_ascii_blank(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ')
}

impl TrimAscii for str {
    fn trim_fast(&self) -> &str {
        let bytes = self.as_bytes();
        let start = bytes
            .iter()
            .position(|b| !is_ascii_blank(*b))
            .unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| !is_ascii_blank(*b))
            .map_or(start, |last| last + 1);
        // Both ends are ASCII or the text's ends: char boundaries.
        let text = &self[start..end];
        match (text.as_bytes().first(), text.as_bytes().last()) {
            (Some(first), Some(last)) if !first.is_ascii() || !last.is_ascii() => text.trim(),
            _ => text,
        }
    }

    fn trim_end_fast(&self) -> &str {
        let bytes = self.as_bytes();
        let end = bytes
            .iter()
            .rposition(|b| !is_ascii_blank(*b))
            .map_or(0, |last| last + 1);
        let text = &self[..end];
        match text.as_bytes().last() {
            Some(last) if !last.is_ascii() => text.trim_end(),
            _ => text,
        }
    }
}

#[cfg(test)]
mod trim_tests {
    use super::TrimAscii;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn trims_as_str_trim_does(text in "[ a\t\r\n\u{b}\u{c}\u{1f}\u{a0}\u{2003}\u{85}é]{0,8}") {
            prop_assert_eq!(text.trim_fast(), text.trim());
            prop_assert_eq!(text.trim_end_fast(), text.trim_end());
        }
    }
}
