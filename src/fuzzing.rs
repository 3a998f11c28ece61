//! Every reader of untrusted bytes as one entry point, by name: what the
//! fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer) and the seeded mutation
//! test (`tests/it/mutation.rs`, run in CI) both call. No I/O.
//!
//! A reader must return for any input, never panic and never hang; when it
//! refuses the input, the error names the file and, unless the problem is
//! the whole file, where in it.

use crate::error::{Location, ParseError};
use crate::parse::{
    bai2, camt, cfonb120, customers, mt940, open_items, remittance_csv, remt, settlements, xml,
};

/// One reader of untrusted bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reader {
    /// ISO 20022 camt.052/053/054 (XML decoding included).
    Camt,
    /// ISO 20022 remt.001.
    Remt,
    /// SWIFT MT940/MT942.
    Mt940,
    Cfonb120,
    Bai2,
    /// The contract's remittance CSV.
    RemittanceCsv,
    /// The contract's open items CSV.
    OpenItems,
    /// The contract's customers CSV.
    Customers,
    /// The contract's settlement report CSV.
    Settlements,
    /// The TOML config.
    Config,
    /// Detection from the content, then whichever reader it picks
    /// (`recon parse`'s entry point).
    Detect,
}

impl Reader {
    pub const ALL: [Reader; 11] = [
        Reader::Camt,
        Reader::Remt,
        Reader::Mt940,
        Reader::Cfonb120,
        Reader::Bai2,
        Reader::RemittanceCsv,
        Reader::OpenItems,
        Reader::Customers,
        Reader::Settlements,
        Reader::Config,
        Reader::Detect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reader::Camt => "camt",
            Reader::Remt => "remt",
            Reader::Mt940 => "mt940",
            Reader::Cfonb120 => "cfonb120",
            Reader::Bai2 => "bai2",
            Reader::RemittanceCsv => "remittance_csv",
            Reader::OpenItems => "open_items",
            Reader::Customers => "customers",
            Reader::Settlements => "settlements",
            Reader::Config => "config",
            Reader::Detect => "detect",
        }
    }

    pub fn from_name(name: &str) -> Option<Reader> {
        Reader::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Reads `bytes` as this reader does for a file named `source`: `Ok`
    /// with the number of records read (statements, advices, items,
    /// customers; 1 for a config), or the reader's error.
    pub fn read(self, source: &str, bytes: &[u8]) -> Result<usize, ParseError> {
        Ok(match self {
            Reader::Camt => {
                let (text, warnings) = xml::decode(source, bytes)?;
                camt::parse(source, &text, warnings)?.statements.len()
            }
            Reader::Remt => {
                let (text, warnings) = xml::decode(source, bytes)?;
                remt::parse(source, &text, warnings)?.advices.len()
            }
            Reader::Mt940 => mt940::parse(source, bytes)?.0.len(),
            Reader::Cfonb120 => cfonb120::parse(source, bytes)?.0.len(),
            Reader::Bai2 => bai2::parse(source, bytes)?.0.len(),
            Reader::RemittanceCsv => remittance_csv::parse(source, bytes)?.len(),
            Reader::OpenItems => open_items::parse(source, bytes)?.len(),
            Reader::Customers => customers::parse(source, bytes)?.len(),
            Reader::Settlements => settlements::parse(source, bytes)?.len(),
            Reader::Config => {
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    ParseError::new(
                        source,
                        Location::File,
                        format!("the config is not UTF-8 (byte {})", e.valid_up_to()),
                    )
                })?;
                crate::config::Config::from_toml(text).map_err(|message| {
                    ParseError::new(source, Location::File, format!("invalid config: {message}"))
                })?;
                1
            }
            Reader::Detect => {
                let parsed = crate::parse::parse_bytes(source, bytes)?;
                parsed.statements.len() + parsed.advices.len()
            }
        })
    }
}

/// Whether `error` says where: an element path and line, a line, or a line
/// and a field. `Location::File` passes only for what concerns the whole
/// file (its kind, size, encoding, or a config: TOML errors carry their
/// own line and column in the message).
pub fn is_located(reader: Reader, error: &ParseError) -> bool {
    if error.message.is_empty() {
        return false;
    }
    match &error.location {
        Location::Element { path, line } => !path.is_empty() && *line > 0,
        Location::Line(line) => *line > 0,
        Location::LineField { line, field } => *line > 0 && !field.is_empty(),
        Location::File => {
            reader == Reader::Config
                || error.message.starts_with("expected")
                || error.message.contains("file is")
        }
    }
}

/// What a fuzz target does with one input: reads it, and panics (which the
/// fuzzer reports, with the input) if a refusal does not say where.
pub fn check(reader: Reader, data: &[u8]) {
    if let Err(error) = reader.read("fuzz-input", data)
        && !is_located(reader, &error)
    {
        panic!("{}: unlocated error: {error}", reader.name());
    }
}
