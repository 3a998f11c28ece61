//! recon: a cash-application engine. Bank statements and remittance advices
//! in, settled invoices, exceptions and accounting entries out.
//!
//! Data flows one way: `parse` (bytes → `model`) → matching → apply →
//! `output` and audit. The library does no I/O of its own outside
//! `output::files` helpers called by the CLI; parsers take bytes and a
//! source name, and nothing here reads a clock.

pub mod demo;
pub mod error;
pub mod eval;
pub mod input;
pub mod model;
pub mod money;
pub mod output;
pub mod parse;
pub mod synth;
