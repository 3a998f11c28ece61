//! The contract's remittance CSV (placeholder until implemented).

use crate::error::{Location, ParseError};
use crate::model::RemittanceAdvice;

pub fn parse(source: &str, _bytes: &[u8]) -> Result<Vec<RemittanceAdvice>, ParseError> {
    Err(ParseError::new(
        source,
        Location::File,
        "remittance CSV is not read yet",
    ))
}
