//! Built-in demo data for `recon demo`: our own fixtures, compiled into the
//! binary so the demo runs on a fresh machine with no files around.

/// `(name, bytes)` of every demo input.
pub const FILES: &[(&str, &[u8])] = &[
    (
        "demo/camt053-v02-mixed.xml",
        include_bytes!("../fixtures/camt053/v02-mixed.xml"),
    ),
    (
        "demo/camt053-v08-envelope.xml",
        include_bytes!("../fixtures/camt053/v08-envelope-prefixed.xml"),
    ),
    (
        "demo/camt052-v08-intraday.xml",
        include_bytes!("../fixtures/camt052/v08-intraday.xml"),
    ),
    (
        "demo/camt054-v04-direct-debit.xml",
        include_bytes!("../fixtures/camt054/v04-direct-debit-batch.xml"),
    ),
];
