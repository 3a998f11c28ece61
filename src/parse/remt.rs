//! ISO 20022 remt.001 remittance advices (placeholder until implemented).

use crate::error::{Location, ParseError};
use crate::model::RemittanceAdvice;

/// Whether an XML document is a remt.001 message.
pub fn looks_like_remt(text: &str) -> bool {
    let head = &text[..text.len().min(4096)];
    head.contains("remt.001") || head.contains("RmtAdvc")
}

pub fn parse(
    source: &str,
    _text: &str,
    _warnings: Vec<String>,
) -> Result<Vec<RemittanceAdvice>, ParseError> {
    Err(ParseError::new(
        source,
        Location::File,
        "remt.001 is not read yet",
    ))
}
