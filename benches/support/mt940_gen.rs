//! Deterministic generator of large MT940 files for the benches: messages
//! rotating through the three `:86:` dialects (slash codes, German `?NN`,
//! free text), SWIFT character set only, so peers accept them too.

use std::fmt::Write as _;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const NAMES: &[&str] = &[
    "ETS MARTIN ET FILS",
    "BOULANGERIE LEFEVRE SARL",
    "LEGRAND DISTRIBUTION SA",
    "GARAGE DURAND",
    "PHARMACIE CENTRALE",
    "CABINET MOREAU",
];

fn money(cents: i64) -> String {
    format!("{},{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// An MT940 file of at least `target_bytes`; returns the text and the
/// number of transactions. `lines_per_message` `:61:` per message; with
/// `dashes`, each message ends with the `-` line (the `mt940` crate accepts
/// only files without them).
pub fn mt940(
    target_bytes: usize,
    lines_per_message: usize,
    dashes: bool,
    seed: u64,
) -> (String, usize) {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(target_bytes + 8192);
    let mut transactions = 0usize;
    let mut message = 0usize;
    while out.len() < target_bytes {
        message += 1;
        let mut balance: i64 = 1_000_000;
        let _ = write!(
            out,
            ":20:STMT{message:08}\r\n:25:NL91INGB0002445588\r\n:28C:{}/1\r\n:60F:C260301EUR{}\r\n",
            message % 100_000,
            money(balance)
        );
        for _ in 0..lines_per_message {
            transactions += 1;
            let cents = 100 + rng.below(900_000) as i64;
            let credit = rng.below(3) != 0;
            balance += if credit { cents } else { -cents };
            let day = 1 + rng.below(28);
            let name = NAMES[rng.below(NAMES.len() as u64) as usize];
            let invoice = 100_000 + rng.below(900_000);
            let iban = format!("FR76{:023}", rng.below(10u64.pow(18)));
            let _ = write!(
                out,
                ":61:2603{day:02}03{day:02}{}{}NTRFE2E{transactions:09}//B{transactions:015}\r\n",
                if credit { "C" } else { "D" },
                money(cents)
            );
            match transactions % 3 {
                0 => {
                    let _ = write!(
                        out,
                        ":86:/EREF/E2E{transactions:09}/CNTP/{iban}/AGRIFRPPXXX/{name}/PARIS/REMI/USTD//\r\nREGLEMENT FACTURE FA-2026-{invoice:06}/\r\n"
                    );
                }
                1 => {
                    let _ = write!(
                        out,
                        ":86:166?00GUTSCHRIFT?109310?20EREF+E2E{transactions:09}?21SVWZ+FA-2026-{invoice:06}\r\n?22RECHNUNG?30AGRIFRPP?31{iban}?32{name}\r\n"
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        ":86:VIREMENT RECU {name}\r\nFACTURE FA-2026-{invoice:06} REF E2E{transactions:09}\r\n"
                    );
                }
            }
        }
        let _ = write!(
            out,
            ":62F:{}260331EUR{}\r\n{}",
            if balance < 0 { "D" } else { "C" },
            money(balance),
            if dashes { "-\r\n" } else { "" }
        );
    }
    (out, transactions)
}
