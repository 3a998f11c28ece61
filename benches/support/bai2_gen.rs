//! Deterministic generator of large BAI2 files for the benches: one group,
//! accounts of 500 detail (`16`) records each, most with one or two `88`
//! continuations, opening and closing ledger in the `03` record and every
//! control total (`49`, `98`, `99`) right.

use std::fmt::Write as _;

/// A BAI2 file of at least `target_bytes`; returns the text and the number
/// of transactions (`16` records).
pub fn bai2(target_bytes: usize, seed: u64) -> (String, usize) {
    let mut state = seed.max(1);
    let mut next = move |n: u64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let mut out = String::with_capacity(target_bytes + 4096);
    out.push_str("01,026009593,ACMEWIDGETS,260305,0630,0305A1,,,2/\n");
    out.push_str("02,ACMEWIDGETS,026009593,1,260305,2400,USD,2/\n");
    let (mut group_total, mut group_records, mut accounts) = (0i64, 1usize, 0usize);
    let mut transactions = 0usize;
    while out.len() < target_bytes {
        accounts += 1;
        let opening = 1_000_000 + next(9_000_000) as i64;
        let mut body = String::new();
        let (mut records, mut total, mut closing) = (0usize, 0i64, opening);
        for n in 0..500u64 {
            let credit = next(3) != 0;
            let amount = 100 + next(2_000_000) as i64;
            let (code, text) = if credit {
                ("165", "ACH CREDIT RECEIVED")
            } else {
                ("475", "CHECK PAID")
            };
            closing += if credit { amount } else { -amount };
            total += amount;
            let _ = writeln!(
                body,
                "16,{code},{amount},0,REF{accounts:05}{n:05},CUST{n:06},{text}/"
            );
            records += 1;
            for k in 0..next(3) {
                let _ = writeln!(
                    body,
                    "88,REMI: INVOICE 2026-{:06} PAYER {:04} LINE {k}",
                    next(1_000_000),
                    next(10_000)
                );
                records += 1;
            }
            transactions += 1;
        }
        total += opening + closing;
        let _ = writeln!(
            out,
            "03,44{accounts:08},USD,010,{opening},,,015,{closing},,,/"
        );
        out.push_str(&body);
        // `03` through `49`.
        records += 2;
        let _ = writeln!(out, "49,{total},{records}/");
        group_total += total;
        group_records += records;
    }
    group_records += 1;
    let _ = writeln!(out, "98,{group_total},{accounts},{group_records}/");
    let _ = writeln!(out, "99,{group_total},1,{}/", group_records + 2);
    (out, transactions)
}
