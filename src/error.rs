//! Input errors as data: every error names the file, where in it (line or
//! XML element path) and what was expected, so a person knows what to fix.
//!
//! Parsers never panic on bad input; they return a `ParseError` for what
//! makes a file unusable and push warnings onto the statement for what they
//! tolerate.

use std::fmt;

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (size, encoding, empty file).
    File,
    /// A 1-based line number (MT940, CFONB, BAI2, CSV).
    Line(u64),
    /// A 1-based line and a named column or field (CSV).
    LineField { line: u64, field: String },
    /// An XML element path (`Document/BkToCstmrStmt/Stmt/Ntry/Amt`) and the
    /// 1-based line where the problem was found.
    Element { path: String, line: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => write!(f, "file"),
            Location::Line(line) => write!(f, "line {line}"),
            Location::LineField { line, field } => write!(f, "line {line}, column {field}"),
            Location::Element { path, line } => write!(f, "{path} (line {line})"),
        }
    }
}

/// A file that cannot be used: `error: <file>: <location>: <expected>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {location}: {message}")]
pub struct ParseError {
    pub file: String,
    pub location: Location,
    pub message: String,
}

impl ParseError {
    pub fn new(file: &str, location: Location, message: impl Into<String>) -> ParseError {
        ParseError {
            file: file.to_string(),
            location,
            message: message.into(),
        }
    }
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of_offset(text: &[u8], offset: usize) -> u64 {
    let end = offset.min(text.len());
    1 + text[..end].iter().filter(|&&b| b == b'\n').count() as u64
        + if text[..end].contains(&b'\n') {
            0
        } else {
            // CR-only files: count lone CRs instead.
            text[..end].iter().filter(|&&b| b == b'\r').count() as u64
        }
}
