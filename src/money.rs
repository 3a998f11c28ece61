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
    let trimmed = crate::parse::TrimAscii::trim_fast(text);
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let at = if sep.is_ascii() {
        digits.bytes().position(|b| char::from(b) == sep)
    } else {
        digits.find(sep)
    };
    let (integer, fraction) = match at {
        Some(at) => (&digits[..at], &digits[at + sep.len_utf8()..]),
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
    // The digits were checked above: accumulated as they are, no text
    // built (this runs once per amount of every input file).
    let mantissa = integer
        .bytes()
        .chain(fraction.bytes())
        .try_fold(0i128, |value, digit| {
            value.checked_mul(10)?.checked_add(i128::from(digit - b'0'))
        })
        .ok_or_else(|| format!("amount out of range: {trimmed:?}"))?;
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
    // Matched as three bytes (integer compares), not string by string:
    // the journal asks for every amount it writes.
    let Ok(code) = <[u8; 3]>::try_from(currency.as_bytes()) else {
        return 2;
    };
    match &code {
        b"JPY" | b"KRW" | b"ISK" | b"CLP" | b"VND" | b"XOF" | b"XAF" | b"XPF" | b"UGX" | b"PYG" => {
            0
        }
        b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" | b"LYD" | b"IQD" => 3,
        _ => 2,
    }
}

/// Appends `amount` with `decimals` decimals and `separator` before them,
/// as `format!("{:.decimals$}")` writes it (sign of a negative zero
/// included), without the general formatter: a million-line run writes
/// about ten million amounts. `decimals` is at least the amount's own
/// significant decimals, so nothing is rounded.
pub fn push_fixed(out: &mut String, amount: Decimal, decimals: u32, separator: char) {
    debug_assert!(decimals >= amount.normalize().scale());
    let scale = amount.scale();
    let mantissa = amount.mantissa().unsigned_abs();
    let digits = if scale <= decimals {
        10u128
            .checked_pow(decimals - scale)
            .and_then(|f| mantissa.checked_mul(f))
    } else {
        // Only trailing zeros go (see the assertion).
        10u128.checked_pow(scale - decimals).map(|f| mantissa / f)
    };
    let Some(digits) = digits else {
        let text = format!("{:.*}", decimals as usize, amount);
        out.push_str(&text.replacen('.', &separator.to_string(), 1));
        return;
    };
    // u128 has at most 39 digits; a leading zero makes 40.
    let mut buffer = [b'0'; 40];
    let mut at = buffer.len();
    // u64 arithmetic when the digits fit (every real amount): u128
    // division is a library call.
    match u64::try_from(digits) {
        Ok(mut rest) => {
            while rest > 0 {
                at -= 1;
                buffer[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
        }
        Err(_) => {
            let mut rest = digits;
            while rest > 0 {
                at -= 1;
                buffer[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
        }
    }
    // At least one integer digit.
    let start = at.min(buffer.len() - decimals as usize - 1);
    let text = &buffer[start..];
    let split = text.len() - decimals as usize;
    if amount.is_sign_negative() {
        out.push('-');
    }
    // SAFETY: `text` holds ASCII digits only (the buffer's zeros and the
    // digits written above), so the string stays UTF-8. Pushed as bytes:
    // checking ten million amounts' digits as UTF-8 cost a third of
    // writing them.
    unsafe { out.as_mut_vec().extend_from_slice(&text[..split]) };
    if decimals > 0 {
        out.push(separator);
        // SAFETY: as above.
        unsafe { out.as_mut_vec().extend_from_slice(&text[split..]) };
    }
}

/// `Decimal`'s `Display` for `{}` (no width, precision or flag), byte for
/// byte, without its general formatter: the decision notes write a few
/// million amounts ("due 3466.24, paid 3441.97, charges reported 0"), most
/// of them in the one-core part of the decide stage. Anything else goes to
/// `Decimal`'s own `Display`.
#[derive(Clone, Copy)]
pub struct Plain(pub Decimal);

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options = f.width().is_some()
            || f.precision().is_some()
            || f.sign_plus()
            || f.sign_minus()
            || f.alternate()
            || f.sign_aware_zero_pad();
        let mantissa = u64::try_from(self.0.mantissa().unsigned_abs());
        let (false, Ok(mut rest)) = (options, mantissa) else {
            return std::fmt::Display::fmt(&self.0, f);
        };
        let scale = self.0.scale() as usize;
        // A u64 has at most 20 digits, a scale at most 28: at least one
        // integer digit, the buffer's zeros padding the rest.
        let mut buffer = [b'0'; 48];
        let mut at = buffer.len();
        while rest > 0 {
            at -= 1;
            buffer[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let digits = &buffer[at.min(buffer.len() - scale - 1)..];
        let split = digits.len() - scale;
        if self.0.is_sign_negative() {
            f.write_str("-")?;
        }
        // ASCII digits only.
        f.write_str(std::str::from_utf8(&digits[..split]).unwrap_or_default())?;
        if scale > 0 {
            f.write_str(".")?;
            f.write_str(std::str::from_utf8(&digits[split..]).unwrap_or_default())?;
        }
        Ok(())
    }
}

/// A score (a similarity, 0..1) with three decimals, byte for byte
/// `format!("{:.3}")`, without the float formatter's exact path (a bignum
/// division for most scores: a third of a second of a million-line run).
/// The scaled value is rounded where it is clearly on one side of a half;
/// the few that are not, and anything negative or huge, go to the
/// formatter.
#[derive(Clone, Copy)]
pub struct Thousandths(pub f64);

impl std::fmt::Display for Thousandths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.0;
        let scaled = value * 1000.0;
        // `scaled` is within 1e-12 of the exact value times 1000 (below
        // 1e9), so a fraction 1e-6 away from a half rounds as the exact
        // value does.
        let plain = value.is_sign_positive() && scaled < 1e9;
        let fraction = scaled - scaled.floor();
        if !plain || (fraction - 0.5).abs() <= 1e-6 {
            return f.pad(&format!("{value:.3}"));
        }
        let rounded = scaled.floor() as u64 + u64::from(fraction > 0.5);
        let (units, decimals) = (rounded / 1000, rounded % 1000);
        // At most 7 integer digits (below 1e9 thousandths), a point and 3.
        let mut buffer = [b'0'; 16];
        let mut at = 12;
        let mut rest = units;
        loop {
            at -= 1;
            buffer[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        buffer[12] = b'.';
        buffer[13] = b'0' + (decimals / 100) as u8;
        buffer[14] = b'0' + (decimals / 10 % 10) as u8;
        buffer[15] = b'0' + (decimals % 10) as u8;
        // ASCII digits and a point only.
        f.pad(std::str::from_utf8(&buffer[at..]).unwrap_or_default())
    }
}

/// Appends `date` as `YYYY-MM-DD` (`dash`) or `YYYYMMDD`, as chrono's
/// `%Y-%m-%d` and `%Y%m%d` write it.
pub fn push_date(out: &mut String, date: chrono::NaiveDate, dash: bool) {
    use chrono::Datelike;
    let year = date.year();
    if !(0..=9999).contains(&year) {
        let pattern = if dash { "%Y-%m-%d" } else { "%Y%m%d" };
        out.push_str(&date.format(pattern).to_string());
        return;
    }
    let (month, day) = (date.month(), date.day());
    let mut text = [
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
        b'-',
        b'0' + (month / 10) as u8,
        b'0' + (month % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ];
    if !dash {
        text.copy_within(5..7, 4);
        text.copy_within(8..10, 6);
    }
    let length = if dash { 10 } else { 8 };
    // ASCII digits and dashes only: pushed as chars, no UTF-8 check.
    out.reserve(length);
    for &byte in &text[..length] {
        out.push(char::from(byte));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_rust_decimal_reads_them() {
        use std::str::FromStr;
        for text in [
            "0",
            "0.00",
            "-0.00",
            "+12.5",
            ".5",
            "5.",
            "1234567.89",
            "-000123.4500",
            "999999999999999999.99999999999999999999",
            "-999999999999999999.99999999999999999999",
            "79228162514264337593543950335",
        ] {
            let ours = parse_amount(text);
            let theirs = Decimal::from_str(text.trim_start_matches('+'));
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => {
                    assert_eq!(ours, theirs, "{text}");
                    assert_eq!(ours.scale(), theirs.scale(), "{text}");
                    assert!(!(ours.is_zero() && ours.is_sign_negative()), "{text}");
                }
                (Err(message), _) => assert!(
                    message.contains("out of range") || message.contains("expected"),
                    "{text}: {message}"
                ),
                (Ok(ours), Err(_)) => panic!("{text} read as {ours}, rust_decimal refuses it"),
            }
        }
        // 18 integer digits and 20 decimals fill 38 digits: beyond a
        // Decimal's 96-bit mantissa, an error and never a panic.
        assert!(parse_amount("999999999999999999.99999999999999999999").is_err());
        assert!(parse_amount("1234567890123456789").is_err());
        assert_eq!(
            parse_amount_with("1234,56", ',').unwrap().to_string(),
            "1234.56"
        );
        assert!(parse_amount("12a.5").is_err());
    }

    #[test]
    fn fixed_amounts_as_the_formatter_writes_them() {
        let mut cases: Vec<(Decimal, u32)> = Vec::new();
        for text in [
            "0",
            "-0",
            "0.00",
            "-0.00",
            "1",
            "-1",
            "12.34",
            "-12.34",
            "0.5",
            "-0.05",
            "100.00",
            "1234567.891",
            "0.00001",
            "-0.00001",
            "99999999999999.99",
            "10",
            "1.10000",
        ] {
            let amount: Decimal = text.parse().unwrap();
            for extra in 0..4 {
                cases.push((amount, amount.normalize().scale() + extra));
            }
        }
        cases.push((-Decimal::ZERO, 2));
        cases.push((Decimal::MAX, 0));
        cases.push((Decimal::MIN, 0));
        cases.push((Decimal::new(1, 0), 20));
        for (amount, decimals) in cases {
            let expected = format!("{:.*}", decimals as usize, amount);
            let mut dot = String::from(">");
            push_fixed(&mut dot, amount, decimals, '.');
            assert_eq!(dot, format!(">{expected}"), "{amount:?} with {decimals}");
            let mut comma = String::new();
            push_fixed(&mut comma, amount, decimals, ',');
            assert_eq!(comma, expected.replace('.', ","), "{amount:?}");
        }
    }

    #[test]
    fn dates_as_chrono_writes_them() {
        use chrono::NaiveDate;
        for (y, m, d) in [
            (2026, 1, 5),
            (1999, 12, 31),
            (1, 2, 3),
            (9999, 12, 31),
            (0, 1, 1),
            (10000, 1, 1),
            (-5, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            for (dash, pattern) in [(true, "%Y-%m-%d"), (false, "%Y%m%d")] {
                let mut text = String::new();
                push_date(&mut text, date, dash);
                assert_eq!(text, date.format(pattern).to_string());
            }
        }
    }

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

    #[test]
    fn thousandths_write_what_the_float_formatter_writes() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.8505,
            0.0005,
            0.0015,
            0.9995,
            1.0 / 3.0,
            2.0 / 3.0,
            123_456.789_5,
            -0.25,
            1e12,
            f64::NAN,
            f64::INFINITY,
        ];
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Scores, and values a half-thousandth from a boundary.
            values.push((state % 1_000_001) as f64 / 1_000_000.0);
            values.push(((state >> 20) % 2001) as f64 / 2000.0);
        }
        for value in values {
            assert_eq!(
                Thousandths(value).to_string(),
                format!("{value:.3}"),
                "{value:?}"
            );
        }
        assert_eq!(format!("{:>6}", Thousandths(0.5)), " 0.500");
    }

    #[test]
    fn plain_writes_what_display_writes() {
        let mut state = 5u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 11
        };
        let mut cases: Vec<Decimal> = [
            "0",
            "-0",
            "0.00",
            "-0.00",
            "1",
            "-1.5",
            "0.05",
            "-0.000001",
            "123456789.123456789",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
            "18446744073709551615",
            "18446744073709551616",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        cases.push(Decimal::new(0, 28));
        cases.push(-Decimal::new(0, 3));
        for _ in 0..20_000 {
            let bits = next() % 64;
            let mantissa = (next() >> (64 - bits.max(1))) as i64;
            let scale = (next() % 29) as u32;
            let mut d = Decimal::new(mantissa, scale.min(28));
            if next() % 2 == 0 {
                d.set_sign_negative(true);
            }
            cases.push(d);
        }
        for d in cases {
            assert_eq!(Plain(d).to_string(), d.to_string(), "{d:?}");
            assert_eq!(format!("{:>12}", Plain(d)), format!("{d:>12}"));
            assert_eq!(format!("{:.1}", Plain(d)), format!("{d:.1}"));
        }
    }
}
