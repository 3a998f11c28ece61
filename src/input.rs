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
