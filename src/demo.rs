//! Built-in demo data for `recon demo`.

pub const FILES: &[(&str, &[u8])] = &[];
