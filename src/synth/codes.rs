//! Small deterministic building blocks of the generator: the random number
//! generator, amounts in cents, dates as day numbers, valid IBANs and ISO
//! 11649 creditor references.
//!
//! Amounts are integer cents (`Cents`): exact like a `Decimal` of scale 2,
//! and cheap enough to generate two million of them in a second. They are
//! turned into text in exactly one place per separator (`amount_text`),
//! never through a float.

use chrono::{Datelike, Duration, NaiveDate};

/// An amount in euro cents, signed.
pub type Cents = i64;

/// xorshift64*: reproducible on every machine, no dependency (the benches'
/// generator, copied so the library does not depend on bench code).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Mixed so seeds 1 and 2 do not start with near-identical streams.
        let mut mixed = seed ^ 0x9E37_79B9_7F4A_7C15;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((mixed ^ (mixed >> 31)).max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// `1234.56` (`separator` `.`) or `1234,56` (`,`), sign kept.
pub fn amount_text(cents: Cents, separator: char) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}{separator}{:02}", abs / 100, abs % 100)
}

/// `amount_text` with a `.`: the CSV and XML form.
pub fn dec(cents: Cents) -> String {
    amount_text(cents, '.')
}

/// Day 0 is 2026-01-01; every date of the data set is a day number.
pub fn date_of(day: i64) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    start + Duration::days(day)
}

pub fn iso_date(day: i64) -> String {
    date_of(day).format("%Y-%m-%d").to_string()
}

/// `YYMMDD` (MT940).
pub fn yymmdd(day: i64) -> String {
    date_of(day).format("%y%m%d").to_string()
}

/// `MMDD` (MT940 entry date).
pub fn mmdd(day: i64) -> String {
    let date = date_of(day);
    format!("{:02}{:02}", date.month(), date.day())
}

/// `DDMMYY` (CFONB).
pub fn ddmmyy(day: i64) -> String {
    date_of(day).format("%d%m%y").to_string()
}

/// ISO 7064 mod 97-10 of alphanumeric text (letters are 10..35).
fn mod97(text: &str) -> u32 {
    let mut remainder: u32 = 0;
    for c in text.chars() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => continue,
        };
        let width = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * width + value) % 97;
    }
    remainder
}

/// A French IBAN for a bank, branch and 11-digit account number: the RIB
/// key is computed (so the check digits come out as the `76` every French
/// IBAN has) and the IBAN check digits are computed, not assumed.
pub fn french_iban(bank: u32, branch: u32, account: u64) -> String {
    let bank = bank % 100_000;
    let branch = branch % 100_000;
    let account = account % 100_000_000_000;
    // RIB key: 97 - ((89 bank + 15 branch + 3 account) mod 97).
    let weighted = (89 * bank as u64 + 15 * branch as u64 + 3 * account) % 97;
    let key = 97 - weighted;
    let bban = format!("{bank:05}{branch:05}{account:011}{key:02}");
    let check = 98 - mod97(&format!("{bban}FR00"));
    format!("FR{check:02}{bban}")
}

/// Whether an IBAN's check digits are right.
pub fn iban_valid(iban: &str) -> bool {
    iban.len() > 4 && mod97(&format!("{}{}", &iban[4..], &iban[..4])) == 1
}

/// The ISO 11649 creditor reference of `body` (alphanumeric, at most 21
/// characters): `RF` + two check digits + body.
pub fn rf_reference(body: &str) -> String {
    let check = 98 - mod97(&format!("{body}RF00"));
    format!("RF{check:02}{body}")
}

/// Whether an `RF` reference's check digits are right.
pub fn rf_valid(reference: &str) -> bool {
    reference.len() > 4
        && reference.starts_with("RF")
        && mod97(&format!("{}{}", &reference[4..], &reference[..4])) == 1
}

/// ASCII upper case with French accents folded (`É` → `E`, `Œ` → `OE`).
pub fn fold_upper(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' | 'Á' => "A",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "E",
            'î' | 'ï' | 'í' | 'Î' | 'Ï' => "I",
            'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' => "O",
            'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => "U",
            'ç' | 'Ç' => "C",
            'ÿ' => "Y",
            'ñ' | 'Ñ' => "N",
            'œ' | 'Œ' => "OE",
            'æ' | 'Æ' => "AE",
            'ß' => "SS",
            '’' | '\'' => " ",
            c if c.is_ascii() => {
                out.push(c.to_ascii_uppercase());
                continue;
            }
            _ => " ",
        };
        out.push_str(folded);
    }
    out
}

/// The first `max` characters of `text`, trailing spaces removed.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_ibans_are_valid_and_start_fr76() {
        for n in 0..200u64 {
            let iban = french_iban(30004 + n as u32, 100 + n as u32, n * 7_919_317);
            assert_eq!(iban.len(), 27, "{iban}");
            assert!(iban.starts_with("FR76"), "{iban}");
            assert!(iban_valid(&iban), "{iban}");
        }
        assert!(iban_valid("FR7630006000011234567890189"));
    }

    #[test]
    fn rf_references_match_the_standard_example() {
        // ISO 11649's example.
        assert_eq!(rf_reference("539007547034"), "RF18539007547034");
        assert!(rf_valid("RF18539007547034"));
        assert!(!rf_valid("RF19539007547034"));
    }

    #[test]
    fn amounts_are_formatted_exactly() {
        assert_eq!(dec(123456), "1234.56");
        assert_eq!(dec(-5), "-0.05");
        assert_eq!(amount_text(100, ','), "1,00");
    }
}
