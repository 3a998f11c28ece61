//! The I/O edge for inputs: turns command-line paths into a sorted file list
//! and reads and parses them in parallel, results in a fixed order.
//!
//! This is the only library module that touches the file system for input;
//! the parsers it calls take bytes.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Location, ParseError};
use crate::parse::{ParsedFile, parse_bytes, xml::FILE_SIZE_MAX};

/// Files named on the command line, directories walked recursively; each
/// directory's files sorted by path so the order never depends on the file
/// system. Hidden files (`.name`) inside directories are skipped.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ParseError> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files, true)?;
    }
    Ok(files)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, named: bool) -> Result<(), ParseError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path)
        .map_err(|e| ParseError::new(&shown, Location::File, format!("cannot read: {e}")))?;
    if metadata.is_dir() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| ParseError::new(&shown, Location::File, format!("cannot list: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        children.sort();
        for child in children {
            walk(&child, files, false)?;
        }
    } else if named || metadata.is_file() {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// Reads one file, refusing it before reading when it is over the size limit.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ParseError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path)
        .map_err(|e| ParseError::new(&shown, Location::File, format!("cannot read: {e}")))?;
    if metadata.len() > FILE_SIZE_MAX as u64 {
        return Err(ParseError::new(
            &shown,
            Location::File,
            format!(
                "file is {} bytes, larger than the {} bytes accepted (FILE_SIZE_MAX)",
                metadata.len(),
                FILE_SIZE_MAX
            ),
        ));
    }
    std::fs::read(path)
        .map_err(|e| ParseError::new(&shown, Location::File, format!("cannot read: {e}")))
}

/// Reads and parses every file in parallel; results come back in the order
/// of `files`, whatever the thread count.
pub fn parse_files(files: &[PathBuf]) -> Vec<Result<ParsedFile, ParseError>> {
    files
        .par_iter()
        .map(|path| {
            let bytes = read_file(path)?;
            parse_bytes(&path.display().to_string(), &bytes)
        })
        .collect()
}

/// What one statement or remittance file gave a run, reduced to what the
/// run keeps (the statement model is dropped as soon as its lines are
/// built: a million-line run never holds every statement at once).
pub struct LoadedFile {
    pub source: String,
    pub size: u64,
    /// SHA-256 of the bytes read, for the manifest.
    pub sha256: String,
    pub lines: Vec<crate::matching::Line>,
    /// Account ids and IBANs of its statements.
    pub accounts: Vec<String>,
    /// Statement keys (line-id prefixes) of its statements.
    pub statement_keys: Vec<String>,
    pub advices: Vec<crate::model::RemittanceAdvice>,
    /// Statements found in a file given as a remittance (not matched).
    pub statements_ignored: usize,
    pub warnings: Vec<String>,
}

/// Reads, parses and reduces files in parallel; results in `files` order.
/// With `as_statements` false, statements found (camt.054 given as an
/// advice) are counted, not matched.
pub fn load_files(files: &[PathBuf], as_statements: bool) -> Vec<Result<LoadedFile, ParseError>> {
    files
        .par_iter()
        .map(|path| {
            let bytes = read_file(path)?;
            let parsed = parse_bytes(&path.display().to_string(), &bytes)?;
            let mut loaded = LoadedFile {
                source: parsed.source,
                size: bytes.len() as u64,
                sha256: crate::output::write::sha256_hex(&bytes),
                lines: Vec::new(),
                accounts: Vec::new(),
                statement_keys: Vec::new(),
                advices: parsed.advices,
                statements_ignored: 0,
                warnings: parsed.warnings,
            };
            if as_statements {
                // At most one line per entry, or per detail of a batch.
                let most: usize = parsed
                    .statements
                    .iter()
                    .flat_map(|s| &s.entries)
                    .map(|e| e.details.len().max(1))
                    .sum();
                loaded.lines.reserve_exact(most);
            }
            for mut statement in parsed.statements {
                loaded.warnings.append(&mut statement.warnings);
                if !as_statements {
                    loaded.statements_ignored += 1;
                    continue;
                }
                loaded.accounts.push(statement.account.id.clone());
                loaded.accounts.extend(statement.account.iban.clone());
                if let Some(entry) = statement.entries.first()
                    && let Some((key, _)) = entry.line_id.rsplit_once('-')
                {
                    loaded.statement_keys.push(key.to_string());
                }
                // The statement's text moves into its lines.
                crate::matching::lines_into(statement, &mut loaded.lines);
            }
            Ok(loaded)
        })
        .collect()
}
