//! The one parser of amounts. Money is `rust_decimal`, never a float;
//! amounts are parsed strictly (no exponent, no thousands separator, at most
//! `AMOUNT_SCALE_MAX` decimals; parsers warn beyond `AMOUNT_DECIMALS_MAX`)
//! so a garbled amount is an error, never a silently different number.
//! Amounts are written with `Decimal`'s `Display`: exact, no exponent.

use rust_decimal::Decimal;

/// Decimals an ISO 20022 amount may carry (`ActiveOrHistoricCurrencyAndAmount`
/// has 5 fraction digits). More are read exactly but the parser warns.
pub const AMOUNT_DECIMALS_MAX: usize = 5;

/// Most decimals read at all: 20. Real files have been seen with 13
/// (a bank's rounding bug); beyond 20 the text is not an amount.
pub const AMOUNT_SCALE_MAX: usize = 20;

/// Most digits accepted before the decimal point: 18 is the ISO 20022 total
/// digits limit, and keeps every amount far inside `Decimal`'s range.
pub const AMOUNT_INTEGER_DIGITS_MAX: usize = 18;

/// Parses `123`, `123.45`, `-0.5`, `.5`, `5.`. The decimal separator is
/// `sep` (`.` for XML and CSV, `,` for MT940).
pub fn parse_amount_with(text: &str, sep: char) -> Result<Decimal, String> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (integer, fraction) = match digits.split_once(sep) {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    // `xs:decimal` allows `.5` and `5.`; so do banks.
    let valid = !(integer.is_empty() && fraction.is_empty())
        && integer.len() <= AMOUNT_INTEGER_DIGITS_MAX
        && integer.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= AMOUNT_SCALE_MAX
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(format!(
            "expected an amount (digits and '{sep}'), found {trimmed:?}"
        ));
    }
    let mantissa_text = format!("0{integer}{fraction}");
    let mantissa: i128 = mantissa_text
        .parse()
        .map_err(|_| format!("amount out of range: {trimmed:?}"))?;
    // More digits than a Decimal's 96-bit mantissa holds is an error, never
    // a panic.
    let mut value = Decimal::try_from_i128_with_scale(mantissa, fraction.len() as u32)
        .map_err(|_| format!("amount out of range: {trimmed:?}"))?;
    // `-0.00` is zero, not a negative amount (an open amount of `-0.00`
    // would otherwise read as a credit note's).
    if negative && !value.is_zero() {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// `parse_amount_with(text, '.')`.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    parse_amount_with(text, '.')
}

/// An exchange rate: like an amount but with up to 12 decimals.
pub fn parse_rate(text: &str) -> Result<Decimal, String> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && trimmed.bytes().filter(|&b| b == b'.').count() <= 1
        && trimmed
            .split('.')
            .nth(1)
            .is_none_or(|f| f.len() <= 12 && !f.is_empty())
        && !trimmed.starts_with('.');
    if !ok {
        return Err(format!("expected an exchange rate, found {trimmed:?}"));
    }
    trimmed
        .parse::<Decimal>()
        .map_err(|_| format!("exchange rate out of range: {trimmed:?}"))
}

/// The currency the journal (FEC) is kept in: amounts of lines in another
/// currency are written with their currency in `Idevise`.
pub const BOOK_CURRENCY: &str = "EUR";

/// Decimals of a currency's minor unit (ISO 4217).
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" | "XPF" | "UGX" | "PYG" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_amounts() {
        assert_eq!(parse_amount("12.34").unwrap().to_string(), "12.34");
        assert_eq!(parse_amount("0.00001").unwrap().to_string(), "0.00001");
        assert_eq!(parse_amount("-5").unwrap().to_string(), "-5");
        assert_eq!(parse_amount(".5").unwrap().to_string(), "0.5");
        assert_eq!(parse_amount("5.").unwrap().to_string(), "5");
        assert_eq!(
            parse_amount_with("1234,5", ',').unwrap().to_string(),
            "1234.5"
        );
        assert_eq!(parse_amount_with("1234,", ',').unwrap().to_string(), "1234");
        assert_eq!(parse_amount("100.0000000000005").unwrap().scale(), 13);
        for bad in [
            "12..34",
            "1e5",
            "",
            "1,000.00",
            ".",
            "-",
            "abc",
            "--1",
            "1.000000000000000000001",
            "1000000000.00000000000000000000",
            "999999999999999999.99999999999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1.0876").unwrap().to_string(), "1.0876");
        assert!(parse_rate("1,08").is_err());
    }
}
