//! recon: a cash-application engine. Bank statements and remittance advices
//! in, settled invoices, exceptions and accounting entries out.
//!
//! Data flows one way: `parse` (bytes → `model`) → `matching` (reads,
//! proposes) → `apply` (settles, letters) → `output` (files, summary);
//! `run` is that core without I/O. The library does I/O only in `input`,
//! `batch` (the I/O edge of `recon run`, which also times the stages) and
//! `output::write`; parsers take bytes and a source name, and the core reads
//! no clock.

pub mod apply;
pub mod audit;
pub mod batch;
pub mod config;
pub mod error;
pub mod eval;
pub mod fuzzing;
pub mod input;
pub mod matching;
pub mod model;
pub mod money;
pub mod output;
pub mod parallel;
pub mod parse;
pub mod process;
pub mod run;
pub mod synth;
