//! Rendering of results for people and programs. Pure functions from the
//! model to text; the CLI decides where the text goes.

pub mod csv_rows;
pub mod direct;
pub mod parse_report;
pub mod run_files;
pub mod write;
