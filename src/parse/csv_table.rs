//! The contract's CSV conventions in one place: UTF-8 (a BOM accepted),
//! comma separated, a header row, RFC 4180 quoting, columns found by name in
//! any order, unknown columns ignored, `.` decimals, `YYYY-MM-DD` dates.
//!
//! Every error names the file, the line and the column, so the readers of
//! open items, customers and settlement reports (and anything added later)
//! report bad input the same way. Values are trimmed.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Location, ParseError};
use crate::money::parse_amount;
use crate::parse::TrimAscii;

/// A CSV file being read row by row.
pub struct Table<'b> {
    source: String,
    reader: csv::Reader<&'b [u8]>,
    headers: Vec<String>,
    record: csv::ByteRecord,
    /// Lines before this table's first row when it is a part of a file.
    line_offset: u64,
    /// At least the number of rows (lines, counting a last one without a
    /// line break), for sizing what they are read into.
    rows_hint: usize,
    /// The bytes the rows are read from, and whether they are all valid
    /// UTF-8 (checked when the first row is read): then every field is,
    /// since the reader cuts only at ASCII bytes, and fields are not
    /// checked one by one.
    body: &'b [u8],
    utf8: Option<bool>,
    /// How rows are cut from `body`.
    cutting: Cutting,
}

/// How a table's rows are cut.
#[derive(Clone, Copy)]
enum Cutting {
    /// By the `csv` reader.
    Reader,
    /// A part not yet read: `Plain` if it holds no quote and no CR, else
    /// `Reader`.
    Undecided,
    /// A part with no quote and no CR: rows are its non-empty lines,
    /// fields what commas separate, as the `csv` reader would cut them,
    /// without its byte-at-a-time state machine (483 M of the open items'
    /// 1.21 G instructions on 100k lines). `at`: where the next row
    /// starts; `line`: lines read.
    Plain { at: usize, line: u64 },
}

/// Size of the parts a large CSV is cut into to be read in parallel.
pub const PART_BYTES: usize = 4 << 20;

/// Longest row (header included, quoted line breaks included) a table
/// accepts: a row of the contract's files is a few hundred bytes, and a
/// longer one means the file is not such a CSV. Checked before the row is
/// read, so a 1 GB line costs a scan, not gigabytes of copies.
pub const ROW_BYTES_MAX: usize = 1 << 20;

/// Walks the rows of `body` (RFC 4180 quotes: a line break inside quotes
/// does not end a row), calling `row_end(offset after the newline, lines
/// so far)` at the end of each row, and refuses a row longer than
/// `ROW_BYTES_MAX`, naming the line it starts on.
fn scan_rows(
    source: &str,
    body: &[u8],
    mut row_end: impl FnMut(usize, u64),
) -> Result<(), ParseError> {
    let mut quoted = false;
    let mut lines = 0u64;
    let mut row_line = 1u64;
    let too_long = |line: u64, quoted: bool| {
        let why = if quoted {
            format!("a quote opened on line {line} and never closed makes a row")
        } else {
            "row".to_string()
        };
        ParseError::new(
            source,
            Location::Line(line),
            format!(
                "{why} longer than {ROW_BYTES_MAX} bytes (ROW_BYTES_MAX): not a CSV file of the contract's layout"
            ),
        )
    };
    // Where the current row (or, with CR-only line breaks, the current
    // physical line) started, for the length check.
    let mut length_from = 0usize;
    let mut at = 0;
    while at < body.len() {
        // Bytes other than quotes and line breaks are skipped in bulk.
        let Some(step) = memchr::memchr3(b'"', b'\n', b'\r', &body[at..]) else {
            break;
        };
        at += step;
        if at - length_from > ROW_BYTES_MAX {
            return Err(too_long(row_line, quoted));
        }
        match body[at] {
            b'"' => quoted = !quoted,
            b'\n' => {
                lines += 1;
                if !quoted {
                    row_end(at + 1, lines);
                    row_line = lines + 1;
                    length_from = at + 1;
                }
            }
            // A CR alone ends a line too (the csv crate reads CR-only
            // files); a CR before LF is left to the LF.
            _ => {
                if !quoted && body.get(at + 1) != Some(&b'\n') {
                    length_from = at + 1;
                }
            }
        }
        at += 1;
    }
    if body.len() - length_from > ROW_BYTES_MAX {
        return Err(too_long(row_line, quoted));
    }
    Ok(())
}

impl<'b> Table<'b> {
    /// Opens `bytes` and checks that every `required` column is present.
    pub fn open(source: &str, bytes: &'b [u8], required: &[&str]) -> Result<Table<'b>, ParseError> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rows = 0usize;
        scan_rows(source, body, |_, _| rows += 1)?;
        let mut table = Table::open_scanned(source, bytes, required)?;
        // Rows after the header, counting a last one without a line break.
        table.rows_hint = rows;
        Ok(table)
    }

    /// `open` without the row scan (done by the caller).
    fn open_scanned(
        source: &str,
        bytes: &'b [u8],
        required: &[&str],
    ) -> Result<Table<'b>, ParseError> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(body);
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(|e| csv_error(source, &e))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|name| !headers.iter().any(|h| h == name))
            .collect();
        if !missing.is_empty() {
            return Err(ParseError::new(
                source,
                Location::LineField {
                    line: 1,
                    field: missing.join(", "),
                },
                format!(
                    "the header lacks the required column(s) {}",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Table {
            source: source.to_string(),
            reader,
            headers,
            record: csv::ByteRecord::new(),
            line_offset: 0,
            rows_hint: 0,
            body,
            utf8: None,
            cutting: Cutting::Reader,
        })
    }

    /// The file cut at row boundaries (never inside a quoted field) into
    /// parts of about `PART_BYTES`, each a table of its rows numbered as in
    /// the whole file: a large file is read in parallel, errors still name
    /// the file's own line.
    pub fn open_parts(
        source: &str,
        bytes: &'b [u8],
        required: &[&str],
    ) -> Result<Vec<Table<'b>>, ParseError> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // (start, lines before start) of every part; the first starts after
        // the header row.
        let mut cuts: Vec<(usize, u64)> = Vec::new();
        let mut last_cut = 0usize;
        let mut lines_seen = 0u64;
        scan_rows(source, body, |end, lines| {
            if cuts.is_empty() || end - last_cut >= PART_BYTES {
                cuts.push((end, lines));
                last_cut = end;
            }
            lines_seen = lines;
        })?;
        let header = Table::open_scanned(source, bytes, required)?;
        if cuts.is_empty() {
            // One line (or CR-only line breaks): read it whole.
            return Ok(vec![header]);
        }
        let mut parts = Vec::with_capacity(cuts.len());
        for (index, &(start, offset)) in cuts.iter().enumerate() {
            let (end, lines_at_end) = cuts
                .get(index + 1)
                .map_or((body.len(), lines_seen + 1), |c| (c.0, c.1));
            if start >= end {
                continue;
            }
            parts.push(Table {
                source: source.to_string(),
                reader: csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(false)
                    .from_reader(&body[start..end]),
                headers: header.headers.clone(),
                record: csv::ByteRecord::new(),
                line_offset: offset,
                rows_hint: (lines_at_end - offset) as usize,
                body: &body[start..end],
                utf8: None,
                cutting: Cutting::Undecided,
            });
        }
        Ok(parts)
    }

    /// A reader error with the part's line offset added.
    fn located(&self, mut error: ParseError) -> ParseError {
        if let Location::Line(line) = &mut error.location {
            *line += self.line_offset;
        }
        error
    }

    /// At least the number of rows left to read (a part's, or the whole
    /// table's): the capacity to read them into.
    pub fn rows_hint(&self) -> usize {
        self.rows_hint
    }

    /// Position of a column, `None` when the file does not have it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Reads the next row; `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, ParseError> {
        let utf8 = *self
            .utf8
            .get_or_insert_with(|| std::str::from_utf8(self.body).is_ok());
        if let Cutting::Undecided = self.cutting {
            self.cutting = if memchr::memchr2(b'"', b'\r', self.body).is_none() {
                Cutting::Plain { at: 0, line: 0 }
            } else {
                Cutting::Reader
            };
        }
        let more = match &mut self.cutting {
            Cutting::Plain { at, line } => plain_row(self.body, at, line, &mut self.record),
            _ => self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| self.located(csv_error(&self.source, &e)))?,
        };
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map_or(0, |p| p.line()) + self.line_offset;
        if self.record.len() != self.headers.len() {
            return Err(ParseError::new(
                &self.source,
                Location::Line(line),
                format!(
                    "expected {} fields like the header, found {}",
                    self.headers.len(),
                    self.record.len()
                ),
            ));
        }
        Ok(Some(Row {
            source: &self.source,
            line,
            record: &self.record,
            headers: &self.headers,
            utf8,
        }))
    }
}

/// The next row of a body with no quote and no CR into `record`, `false`
/// at the end. Blank lines are skipped; the row's position is the line
/// after the previous row (1-based), blank lines before it included, as
/// the `csv` reader gives it.
fn plain_row(body: &[u8], at: &mut usize, line: &mut u64, record: &mut csv::ByteRecord) -> bool {
    let first = *line + 1;
    while *at < body.len() {
        let rest = &body[*at..];
        let length = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        *line += 1;
        *at += length + 1;
        if length == 0 {
            continue;
        }
        record.clear();
        for field in rest[..length].split(|&b| b == b',') {
            record.push_field(field);
        }
        let mut position = csv::Position::new();
        position.set_line(first);
        record.set_position(Some(position));
        return true;
    }
    false
}

/// One row, with located accessors.
pub struct Row<'t> {
    source: &'t str,
    pub line: u64,
    record: &'t csv::ByteRecord,
    headers: &'t [String],
    /// Every field of the table is valid UTF-8.
    utf8: bool,
}

impl Row<'_> {
    /// An error about `field` on this row.
    pub fn error(&self, field: &str, message: impl Into<String>) -> ParseError {
        ParseError::new(
            self.source,
            Location::LineField {
                line: self.line,
                field: field.to_string(),
            },
            message,
        )
    }

    /// The trimmed text of a column, empty when absent or blank.
    pub fn text(&self, index: Option<usize>, name: &str) -> Result<&str, ParseError> {
        let Some(index) = index else { return Ok("") };
        let raw = self.record.get(index).unwrap_or(b"");
        if self.utf8 {
            // SAFETY: the table's bytes are valid UTF-8 and the reader
            // cuts them only at ASCII bytes (separators, quotes, line
            // breaks), which never fall inside a multi-byte character.
            return Ok(unsafe { std::str::from_utf8_unchecked(raw) }.trim_fast());
        }
        std::str::from_utf8(raw)
            .map(str::trim_fast)
            .map_err(|_| self.error(name, "not valid UTF-8 (the contract's CSV files are UTF-8)"))
    }

    /// A column that must hold a value.
    pub fn required(&self, index: Option<usize>, name: &str) -> Result<&str, ParseError> {
        let value = self.text(index, name)?;
        if value.is_empty() {
            let name = self
                .headers
                .get(index.unwrap_or(usize::MAX))
                .map_or(name, String::as_str);
            return Err(self.error(name, "is empty; a value is required"));
        }
        Ok(value)
    }

    pub fn amount(&self, index: Option<usize>, name: &str) -> Result<Decimal, ParseError> {
        parse_amount(self.required(index, name)?).map_err(|m| self.error(name, m))
    }

    /// An optional amount: `None` when the column is absent or blank.
    pub fn amount_opt(
        &self,
        index: Option<usize>,
        name: &str,
    ) -> Result<Option<Decimal>, ParseError> {
        let text = self.text(index, name)?;
        if text.is_empty() {
            return Ok(None);
        }
        parse_amount(text)
            .map(Some)
            .map_err(|m| self.error(name, m))
    }

    pub fn date(&self, index: Option<usize>, name: &str) -> Result<NaiveDate, ParseError> {
        let text = self.required(index, name)?;
        iso_date(text)
            .ok_or_else(|| self.error(name, format!("expected a date YYYY-MM-DD, found {text:?}")))
    }

    /// An ISO 4217 code, upper-cased.
    pub fn currency<T: for<'t> From<&'t str>>(
        &self,
        index: Option<usize>,
        name: &str,
    ) -> Result<T, ParseError> {
        let currency = self.required(index, name)?.to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(self.error(
                name,
                format!("expected an ISO 4217 code such as EUR, found {currency:?}"),
            ));
        }
        Ok(T::from(currency.as_str()))
    }

    /// A `;`-separated list, blanks dropped.
    pub fn list(&self, index: Option<usize>, name: &str) -> Result<Vec<String>, ParseError> {
        Ok(self
            .text(index, name)?
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// `YYYY-MM-DD`, exactly (chrono's format parser is general and, on
/// millions of rows, slow).
pub fn iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

/// A `csv` crate error as a located `ParseError`.
pub fn csv_error(source: &str, error: &csv::Error) -> ParseError {
    let line = error.position().map_or(1, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        csv::ErrorKind::Utf8 { .. } => {
            "not valid UTF-8 (the contract's CSV files are UTF-8)".to_string()
        }
        _ => format!("unreadable CSV: {error}"),
    };
    ParseError::new(source, Location::Line(line), message)
}

#[cfg(test)]
mod row_limit_tests {
    use super::*;

    #[test]
    fn cr_only_line_breaks_are_rows_for_the_length_limit() {
        let mut body = Vec::new();
        while body.len() <= ROW_BYTES_MAX * 2 {
            body.extend_from_slice(b"FA-1,C1,10.00\r");
        }
        assert!(scan_rows("cr.csv", &body, |_, _| {}).is_ok());
    }

    #[test]
    fn an_unclosed_quote_is_named_with_its_line() {
        let mut body = b"a,b\n1,\"2\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', ROW_BYTES_MAX + 1));
        let error = scan_rows("q.csv", &body, |_, _| {}).expect_err("too long");
        assert_eq!(error.location, Location::Line(2));
        assert!(
            error
                .message
                .starts_with("a quote opened on line 2 and never closed"),
            "{error}"
        );
        // The same length in one unquoted line is a plain long row.
        let mut body = b"a,b\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', ROW_BYTES_MAX + 1));
        let error = scan_rows("l.csv", &body, |_, _| {}).expect_err("too long");
        assert_eq!(
            error.to_string(),
            format!(
                "l.csv: line 2: row longer than {ROW_BYTES_MAX} bytes (ROW_BYTES_MAX): not a CSV file of the contract's layout"
            )
        );
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use proptest::prelude::*;

    /// Rows (fields and line) as the `csv` reader cuts `body`.
    fn with_reader(body: &[u8]) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body);
        let mut record = csv::ByteRecord::new();
        let mut rows = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let line = record.position().unwrap().line();
            rows.push((record.iter().map(<[u8]>::to_vec).collect(), line));
        }
        rows
    }

    fn with_plain(body: &[u8]) -> Vec<(Vec<Vec<u8>>, u64)> {
        let (mut at, mut line) = (0, 0);
        let mut record = csv::ByteRecord::new();
        let mut rows = Vec::new();
        while plain_row(body, &mut at, &mut line, &mut record) {
            let line = record.position().unwrap().line();
            rows.push((record.iter().map(<[u8]>::to_vec).collect(), line));
        }
        rows
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let body = b"a,b\n\n\nc,,d\n e \nlast";
        assert_eq!(with_plain(body), with_reader(body));
        // The `csv` reader's position: the line after the previous row.
        assert_eq!(with_plain(body)[1].1, 2);
        // A blank first line: the row after it is on line 1 to the reader.
        assert_eq!(with_plain(b"\na"), with_reader(b"\na"));
    }

    proptest! {
        #[test]
        fn cuts_as_the_csv_reader_does(body in "[ab ,\n\u{e9}]{0,40}") {
            prop_assert_eq!(with_plain(body.as_bytes()), with_reader(body.as_bytes()));
        }
    }

    #[test]
    fn a_part_with_quotes_is_left_to_the_reader() {
        let source = "items.csv";
        let mut body = b"a,b\n".to_vec();
        for i in 0..(PART_BYTES / 8 + 10) {
            body.extend_from_slice(format!("x{i},y\n").as_bytes());
        }
        body.extend_from_slice(b"\"q,1\",z\n");
        let parts = Table::open_parts(source, &body, &["a", "b"]).unwrap();
        assert!(parts.len() >= 2);
        let mut seen = Vec::new();
        for mut part in parts {
            while let Some(row) = part.next_row().unwrap() {
                seen.push((row.line, row.text(Some(0), "a").unwrap().to_string()));
            }
        }
        assert_eq!(seen.first(), Some(&(2, "x0".to_string())));
        assert_eq!(seen.last().map(|s| s.1.as_str()), Some("q,1"));
        assert_eq!(seen.last().map(|s| s.0), Some(seen.len() as u64 + 1));
    }
}
