//! Text normalisation shared by the indices and the evidence scan: reference
//! keys (upper-case alphanumerics, hashed), payer names (accents, legal
//! forms, word order), and ISO 11649 `RF` check digits.
//!
//! Both sides of every comparison go through the same function here, so an
//! open item's keys and a bank line's tokens can never drift apart.

/// A polynomial hash over 2^64 (`h = h * KEY_MULTIPLIER + byte`), finished
/// by splitmix64: fixed and dependency-free, so key tables are the same on
/// every machine and every run; `domain` separates key namespaces (invoice
/// numbers, payment references, advice references). Unlike FNV, the hash of
/// a concatenation comes from its parts' hashes and lengths (`append`): the
/// index hashes the eight variants of two million invoice numbers from each
/// number's groups, hashed once.
#[derive(Clone, Copy)]
pub struct KeyHasher(u64);

/// Odd (the golden ratio's bits): multiplying by it loses nothing.
const KEY_MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// `KEY_MULTIPLIER` to the powers 0 to 63, for `append`.
const KEY_POWERS: [u64; 64] = {
    let mut powers = [1u64; 64];
    let mut at = 1;
    while at < 64 {
        powers[at] = powers[at - 1].wrapping_mul(KEY_MULTIPLIER);
        at += 1;
    }
    powers
};

/// A run of bytes as `KeyHasher::append` takes it: its hash from zero
/// (`KeyRun::of`) and its length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyRun {
    pub hash: u64,
    pub len: usize,
}

impl KeyRun {
    /// The run one byte longer.
    #[inline]
    pub fn push(&mut self, byte: u8) {
        self.hash = self
            .hash
            .wrapping_mul(KEY_MULTIPLIER)
            .wrapping_add(u64::from(byte));
        self.len += 1;
    }

    /// The run of `bytes`, upper-cased.
    pub fn of(bytes: &[u8]) -> KeyRun {
        let hash = bytes.iter().fold(0u64, |h, &b| {
            h.wrapping_mul(KEY_MULTIPLIER)
                .wrapping_add(u64::from(b.to_ascii_uppercase()))
        });
        KeyRun {
            hash,
            len: bytes.len(),
        }
    }
}

impl KeyHasher {
    pub fn new(domain: u8) -> KeyHasher {
        let mut hasher = KeyHasher(0);
        hasher.byte(domain);
        hasher
    }

    #[inline]
    pub fn byte(&mut self, byte: u8) {
        self.0 = self
            .0
            .wrapping_mul(KEY_MULTIPLIER)
            .wrapping_add(u64::from(byte));
    }

    /// As if the run's bytes were given one by one to `byte`.
    #[inline]
    pub fn append(&mut self, run: KeyRun) {
        let power = match KEY_POWERS.get(run.len) {
            Some(&power) => power,
            None => (0..run.len).fold(1u64, |p, _| p.wrapping_mul(KEY_MULTIPLIER)),
        };
        self.0 = self.0.wrapping_mul(power).wrapping_add(run.hash);
    }

    /// The finished hash in `domain` of the bytes of `run`.
    #[inline]
    pub fn of_run(domain: u8, run: KeyRun) -> u64 {
        let mut hasher = KeyHasher::new(domain);
        hasher.append(run);
        hasher.finish()
    }

    /// Final mix (splitmix64) so the top bits, which bucket the tables, are
    /// well spread.
    #[inline]
    pub fn finish(self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Hash of the upper-case alphanumerics of `text` in `domain`.
pub fn key_hash(domain: u8, text: &str) -> u64 {
    let mut hasher = KeyHasher::new(domain);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            hasher.byte(byte.to_ascii_uppercase());
        }
    }
    hasher.finish()
}

/// Upper-case ASCII alphanumerics of `text`, everything else dropped.
pub fn compact(text: &str) -> String {
    // Sized once (a collected `String` grows from nothing, copying).
    let mut out = String::with_capacity(text.len());
    out.extend(
        text.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_uppercase())),
    );
    out
}

/// The runs of ASCII letters and digits of `text`, as they are written.
/// Accented letters separate tokens: references are ASCII. Split on bytes,
/// not characters (every byte of a non-ASCII character separates, as the
/// character would), without decoding the text.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    // ASCII runs: both ends are character boundaries.
    token_spans(text).map(move |(from, to)| &text[from..to])
}

/// `tokens` as byte ranges of `text`, for buffers kept from one text to
/// the next (they cannot hold the text's slices).
pub fn token_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let base = text.as_ptr() as usize;
    text.as_bytes()
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(move |t| {
            let from = t.as_ptr() as usize - base;
            (from, from + t.len())
        })
}

/// ISO 11649: `RF` + 2 check digits + 1 to 21 alphanumerics, valid when the
/// reference moved behind `RF` + check digits, letters as numbers (A=10),
/// is 1 mod 97. `text` is already compact (no spaces).
pub fn is_valid_rf(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 5
        || bytes.len() > 25
        || !bytes[..2].eq_ignore_ascii_case(b"RF")
        || !bytes[2].is_ascii_digit()
        || !bytes[3].is_ascii_digit()
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let mut remainder: u32 = 0;
    let mut push = |value: u32| {
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    };
    for &b in bytes[4..].iter().chain(&bytes[..4]) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => u32::from(b - b'A') + 10,
        };
        push(value);
    }
    remainder == 1
}

/// Legal forms and filler words dropped from names before comparing: a payer
/// writes "MARTIN SARL", "Sarl Martin" or "Martin".
const NAME_NOISE: &[&str] = &[
    "SARL", "SAS", "SA", "EURL", "SASU", "SNC", "SCI", "SCP", "SCOP", "SELARL", "SCM", "GIE",
    "GMBH", "AG", "KG", "LTD", "LIMITED", "PLC", "INC", "LLC", "CORP", "BV", "NV", "SPA", "SRL",
    "SL", "ET", "CIE", "DE", "DU", "DES", "LA", "LE", "LES", "L", "D", "THE", "AND", "STE",
    "SOCIETE", "STE.", "MR", "MME", "M",
];

/// A name reduced to what identifies it: upper case, accents folded,
/// punctuation to spaces, legal forms and fillers dropped, "Établissements"
/// and "Etablissement" written "ETS", words sorted (word order is noise).
pub fn name_key(name: &str) -> String {
    let folded = fold(name);
    let mut words: Vec<&str> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "ETABLISSEMENTS" | "ETABLISSEMENT" | "ETABS" => "ETS",
            other => other,
        })
        .filter(|w| !NAME_NOISE.contains(w))
        .collect();
    words.sort_unstable();
    words.dedup();
    words.join(" ")
}

/// Upper case, accents folded, everything but letters and digits a space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match fold_char(c) {
            Some(s) => folded.push_str(s),
            None if c.is_ascii_alphanumeric() => folded.push(c.to_ascii_uppercase()),
            None => folded.push(' '),
        }
    }
    folded
}

/// Accented Latin letters to their upper-case base letters.
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "A",
        'ç' | 'Ç' => "C",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ñ' | 'Ñ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'ø' | 'Ø' => "O",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
        'ý' | 'ÿ' | 'Ý' => "Y",
        'œ' | 'Œ' => "OE",
        'æ' | 'Æ' => "AE",
        'ß' => "SS",
        _ => return None,
    })
}

/// `{:?}` of a string, byte for byte, printable ASCII with nothing to
/// escape written as is: a decision note quotes the text each reference
/// was found as, for nearly every line. Anything else goes to `str`'s own
/// `Debug`.
#[derive(Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plain = self
            .0
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if !plain || f.width().is_some() || f.precision().is_some() {
            return std::fmt::Debug::fmt(self.0, f);
        }
        f.write_str("\"")?;
        f.write_str(self.0)?;
        f.write_str("\"")
    }
}

/// Similarity of two name keys, 0..1: every word of each name must find a
/// close word in the other (Jaro-Winkler per word, weighted by length, the
/// weaker direction counts), so "CHARCUTERIE DELALIER PARTNERS" is not
/// "CHARCUTERIE DELACHET HALLES" however alike their first letters. A
/// truncation (one key's words all prefixes of the other's, as banks cut
/// names at 35 or 70 characters) scores just under an exact match.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    // No name is no evidence, even against another empty name.
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    // The words on the stack (a payer's name is scored against some two
    // dozen candidates), on the heap past `NAME_WORDS_MAX`.
    let (mut a_stack, mut b_stack) = ([""; NAME_WORDS_MAX], [""; NAME_WORDS_MAX]);
    let (a_heap, b_heap): (Vec<&str>, Vec<&str>);
    let a_words: &[&str] = match split_words(a, &mut a_stack) {
        Some(count) => &a_stack[..count],
        None => {
            a_heap = a.split(' ').collect();
            &a_heap
        }
    };
    let b_words: &[&str] = match split_words(b, &mut b_stack) {
        Some(count) => &b_stack[..count],
        None => {
            b_heap = b.split(' ').collect();
            &b_heap
        }
    };
    // A name cut short by the bank: the same words, one of them (the one
    // cut) a prefix of at least three letters of its counterpart.
    let truncated = |short: &[&str], long: &[&str], short_text: &str| {
        if short_text.len() < 8 || short.len() < 2 || short.len() != long.len() {
            return false;
        }
        let mut cut = short.iter().filter(|w| !long.contains(w));
        match (cut.next(), cut.next()) {
            (Some(word), None) => {
                word.len() >= 3
                    && long
                        .iter()
                        .any(|l| l.len() > word.len() && l.starts_with(*word))
            }
            _ => false,
        }
    };
    if truncated(a_words, b_words, a) || truncated(b_words, a_words, b) {
        return 0.95;
    }
    // Jaro-Winkler of each pair of words, computed once for both
    // directions (it is symmetric), and only where a word is not found as
    // is on the other side.
    let pairs = a_words.len() * b_words.len();
    let mut memo_stack = [f64::NAN; NAME_WORDS_MAX * NAME_WORDS_MAX];
    let mut memo_heap: Vec<f64>;
    let memo: &mut [f64] = if pairs <= memo_stack.len() {
        &mut memo_stack[..pairs]
    } else {
        memo_heap = vec![f64::NAN; pairs];
        &mut memo_heap
    };
    let mut similarity = |i: usize, j: usize| {
        let at = i * b_words.len() + j;
        if memo[at].is_nan() {
            memo[at] = jaro_winkler(a_words[i].as_bytes(), b_words[j].as_bytes());
        }
        memo[at]
    };
    // (weighted sum, total length, weakest word) of each direction, from
    // the best counterpart of each of its words.
    let mut weighted = [(0.0, 0.0, 1.0f64); 2];
    for (side, (from, to)) in [(a_words, b_words), (b_words, a_words)]
        .into_iter()
        .enumerate()
    {
        for (k, word) in from.iter().enumerate() {
            // The same word is the best counterpart (1.0, as Jaro-Winkler
            // scores it): most words of a payer's name are the customer's.
            let best = if to.contains(word) {
                1.0
            } else {
                (0..to.len())
                    .map(|l| {
                        if side == 0 {
                            similarity(k, l)
                        } else {
                            similarity(l, k)
                        }
                    })
                    .fold(0.0, f64::max)
            };
            add_word(&mut weighted[side], best, word.len());
        }
    }
    direction_score(weighted[0]).min(direction_score(weighted[1]))
}

/// Words of a name key, when there are at most `NAME_WORDS_MAX`.
fn split_words<'a>(key: &'a str, words: &mut [&'a str; NAME_WORDS_MAX]) -> Option<usize> {
    let mut count = 0;
    for word in key.split(' ') {
        *words.get_mut(count)? = word;
        count += 1;
    }
    Some(count)
}

/// Adds a word's best counterpart score to a direction's (weighted sum,
/// total length, weakest).
fn add_word(direction: &mut (f64, f64, f64), best: f64, length: usize) {
    direction.0 += best * length as f64;
    direction.1 += length as f64;
    direction.2 = direction.2.min(best);
}

/// A direction's score: its words' best scores weighted by length. A word
/// with no counterpart ("CONSEIL" against "LYON") is a different name
/// however long the shared words: capped below any sensible threshold.
fn direction_score((weighted, total, weakest): (f64, f64, f64)) -> f64 {
    let score = if total == 0.0 { 0.0 } else { weighted / total };
    if weakest < WORD_SIMILARITY_MIN {
        score.min(WORD_SIMILARITY_MIN)
    } else {
        score
    }
}

/// Words of a name key kept on the stack by `name_similarity`.
const NAME_WORDS_MAX: usize = 12;

/// Below this, a word of one name has no counterpart in the other.
const WORD_SIMILARITY_MIN: f64 = 0.85;

/// Words longer than this use `strsim` (allocating); name words never are.
const JARO_WORD_MAX: usize = 64;

/// Jaro-Winkler similarity of two ASCII words, as `strsim::jaro_winkler`
/// computes it (tested against it), with the match flags on the stack: the
/// payer-name search scores thousands of word pairs per second of a run.
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    if a.len() > JARO_WORD_MAX || b.len() > JARO_WORD_MAX {
        return strsim::jaro_winkler(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b));
    }
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let jaro = jaro(a, b);
    // Winkler's prefix bonus applies above 0.7 only.
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a == b {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_flags = [false; JARO_WORD_MAX];
    let mut b_flags = [false; JARO_WORD_MAX];
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let from = i.saturating_sub(window);
        let to = (i + window + 1).min(b.len());
        for j in from..to {
            if !b_flags[j] && b[j] == ca {
                a_flags[i] = true;
                b_flags[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        if !a_flags[i] {
            continue;
        }
        while !b_flags[j] {
            j += 1;
        }
        if ca != b[j] {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name_similarity` as it was written before it kept its words on the
    /// stack and scored each pair once: the reference it must agree with.
    fn reference_similarity(a: &str, b: &str) -> f64 {
        // No name is no evidence, even against another empty name.
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        if a == b {
            return 1.0;
        }
        let a_words: Vec<&str> = a.split(' ').collect();
        let b_words: Vec<&str> = b.split(' ').collect();
        // A name cut short by the bank: the same words, one of them (the one
        // cut) a prefix of at least three letters of its counterpart.
        let truncated = |short: &[&str], long: &[&str], short_text: &str| {
            if short_text.len() < 8 || short.len() < 2 || short.len() != long.len() {
                return false;
            }
            let cut: Vec<&&str> = short.iter().filter(|w| !long.contains(w)).collect();
            match cut.as_slice() {
                [word] => {
                    word.len() >= 3
                        && long
                            .iter()
                            .any(|l| l.len() > word.len() && l.starts_with(**word))
                }
                _ => false,
            }
        };
        if truncated(&a_words, &b_words, a) || truncated(&b_words, &a_words, b) {
            return 0.95;
        }
        let directional = |from: &[&str], to: &[&str]| {
            let mut weighted = 0.0;
            let mut total = 0.0;
            let mut weakest: f64 = 1.0;
            for word in from {
                // The same word is the best counterpart (1.0, as Jaro-Winkler
                // scores it): most words of a payer's name are the customer's.
                let best = if to.contains(word) {
                    1.0
                } else {
                    to.iter()
                        .map(|other| jaro_winkler(word.as_bytes(), other.as_bytes()))
                        .fold(0.0, f64::max)
                };
                weighted += best * word.len() as f64;
                total += word.len() as f64;
                weakest = weakest.min(best);
            }
            let score = if total == 0.0 { 0.0 } else { weighted / total };
            // A word with no counterpart ("CONSEIL" against "LYON") is a
            // different name however long the shared words: capped below any
            // sensible threshold.
            if weakest < WORD_SIMILARITY_MIN {
                score.min(WORD_SIMILARITY_MIN)
            } else {
                score
            }
        };
        directional(&a_words, &b_words).min(directional(&b_words, &a_words))
    }

    #[test]
    fn name_similarity_agrees_with_its_reference() {
        let words = [
            "BOULANGERIE",
            "BOULANGER",
            "LEFEVRE",
            "LEFEBVRE",
            "MARTIN",
            "MARTINS",
            "MRATIN",
            "ETS",
            "FILS",
            "DURAND",
            "DUPONT",
            "CHARCUTERIE",
            "DELALIER",
            "DELACHET",
            "PARTNERS",
            "HALLES",
            "LYON",
            "COLIN",
            "CONSEIL",
            "TRANSPORTS",
            "LOGIST",
            "LOGISTIQUE",
            "PETIT",
            "CIE",
            "A",
            "AB",
            "ABC",
        ];
        let mut state = 11u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        for _ in 0..20_000 {
            let mut name = || {
                let long = next(50) == 0;
                let count = 1 + next(if long { 20 } else { 5 });
                (0..count)
                    .map(|_| words[next(words.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let (a, b) = (name(), name());
            let ours = name_similarity(&a, &b);
            assert_eq!(
                ours.to_bits(),
                reference_similarity(&a, &b).to_bits(),
                "{a} | {b}"
            );
            assert_eq!(
                ours.to_bits(),
                name_similarity(&b, &a).to_bits(),
                "{a} | {b}"
            );
        }
    }

    #[test]
    fn jaro_winkler_agrees_with_strsim() {
        let words = [
            "MARTIN",
            "MARTINS",
            "MRATIN",
            "LEFEVRE",
            "LEFEBVRE",
            "BOULANGERIE",
            "BOULANGER",
            "DURAND",
            "DUPONT",
            "A",
            "AB",
            "BA",
            "ETS",
            "ESTABLISHMENT",
            "CHARCUTERIE",
            "DELACHET",
            "DELALIER",
            "PARTNERS",
            "HALLES",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "",
        ];
        for a in words {
            for b in words {
                let ours = jaro_winkler(a.as_bytes(), b.as_bytes());
                let theirs = strsim::jaro_winkler(a, b);
                assert!((ours - theirs).abs() < 1e-12, "{a} {b}: {ours} vs {theirs}");
            }
            // `name_similarity` scores a word found as is at 1.0 unscored.
            assert_eq!(jaro_winkler(a.as_bytes(), a.as_bytes()), 1.0, "{a}");
        }
        // Symmetric to the bit, which `name_similarity` relies on to score
        // each pair of words once: every pair of words over two and three
        // letters up to lengths 7 and 4 (repeats and transpositions
        // included), and long words (the `strsim` path).
        let mut all: Vec<String> = Vec::new();
        for (letters, longest) in [("AB", 7), ("ABC", 4)] {
            let mut words = vec![String::new()];
            for _ in 0..longest {
                words = words
                    .iter()
                    .flat_map(|w| letters.chars().map(move |c| format!("{w}{c}")))
                    .collect();
                all.extend(words.iter().cloned());
            }
        }
        all.push("X".repeat(70) + "Y");
        all.push("Y".to_string() + &"X".repeat(69));
        for a in &all {
            for b in &all {
                let (ab, ba) = (
                    jaro_winkler(a.as_bytes(), b.as_bytes()),
                    jaro_winkler(b.as_bytes(), a.as_bytes()),
                );
                assert_eq!(ab.to_bits(), ba.to_bits(), "{a} {b}");
            }
        }
    }

    #[test]
    fn quoted_writes_what_debug_writes() {
        for text in [
            "",
            "FA2026000123",
            "a \"b\" c",
            "back\\slash",
            "tab\there",
            "Lefèvre",
            "it's",
            "\u{7f}",
            "~ok!",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"), "{text}");
            let compact: crate::model::Text = text.into();
            assert_eq!(Quoted(&compact).to_string(), format!("{compact:?}"));
        }
    }

    #[test]
    fn rf_check_digits() {
        assert!(is_valid_rf("RF18539007547034"));
        assert!(is_valid_rf("RF712348231"));
        assert!(!is_valid_rf("RF19539007547034"));
        assert!(!is_valid_rf("RF18"));
        assert!(!is_valid_rf("XX18539007547034"));
    }

    #[test]
    fn names_fold_legal_forms_accents_and_order() {
        assert_eq!(
            name_key("Établissements Martin & Fils SARL"),
            "ETS FILS MARTIN"
        );
        assert_eq!(name_key("ETS MARTIN ET FILS"), "ETS FILS MARTIN");
        assert_eq!(
            name_key("Sarl Boulangerie Lefèvre"),
            name_key("BOULANGERIE LEFEVRE")
        );
        assert_eq!(
            name_key("LEFEVRE BOULANGERIE SAS"),
            name_key("Boulangerie Lefèvre")
        );
        assert!(
            name_similarity(
                &name_key("BOULANGERIE LEFEVRE"),
                &name_key("BOULANGERIE LEFEBVRE")
            ) > 0.9
        );
        assert!(
            name_similarity(
                &name_key("TRANSPORTS PETIT ET CIE LOGIST"),
                &name_key("Transports Petit et Cie Logistique")
            ) >= 0.95
        );
        assert!(name_similarity(&name_key("GARAGE DURAND"), &name_key("PHARMACIE CENTRALE")) < 0.7);
        assert!(
            name_similarity(
                &name_key("BOULANGERIE COLIN CONSEIL"),
                &name_key("Colin Boulangerie Lyon SARL")
            ) < 0.9
        );
        assert!(
            name_similarity(
                &name_key("CHARCUTERIE DELALIER PARTNERS"),
                &name_key("Charcuterie Delachet des Halles")
            ) < 0.9
        );
    }

    #[test]
    fn a_key_hashes_the_same_byte_by_byte_or_from_its_parts() {
        let one_by_one = |domain: u8, text: &[u8]| {
            let mut hasher = KeyHasher::new(domain);
            for &byte in text {
                hasher.byte(byte.to_ascii_uppercase());
            }
            hasher.finish()
        };
        // Parts short and long (past the table of powers).
        let long = [b'7'; 100];
        let parts: [&[u8]; 4] = [b"fa", b"2026", b"000123", &long];
        let whole: Vec<u8> = parts.concat();
        for domain in [1, 2, 3] {
            let mut hasher = KeyHasher::new(domain);
            let mut run = KeyRun::default();
            for part in parts {
                hasher.append(KeyRun::of(part));
                for &byte in part {
                    run.push(byte.to_ascii_uppercase());
                }
            }
            let expected = one_by_one(domain, &whole);
            assert_eq!(hasher.finish(), expected);
            assert_eq!(KeyHasher::of_run(domain, run), expected);
            assert_eq!(run, KeyRun::of(&whole));
            assert_eq!(run.len, 112);
        }
        // The same bytes split otherwise, and other bytes.
        let mut split = KeyHasher::new(1);
        split.append(KeyRun::of(b"FA20"));
        split.append(KeyRun::of(b"26000123"));
        assert_eq!(split.finish(), one_by_one(1, b"FA2026000123"));
        assert_ne!(
            one_by_one(1, b"FA2026000123"),
            one_by_one(1, b"FA2026000132")
        );
        assert_ne!(one_by_one(1, b"AB"), one_by_one(1, b"BA"));
    }

    #[test]
    fn keys_ignore_case_and_separators() {
        assert_eq!(key_hash(1, "FA-2026-000123"), key_hash(1, "fa 2026/000123"));
        assert_ne!(key_hash(1, "FA-2026-000123"), key_hash(2, "FA-2026-000123"));
        assert_eq!(compact("rf18 5390 0754 7034"), "RF18539007547034");
        assert_eq!(
            tokens("Fact. FA-2026/12, merci").collect::<Vec<_>>(),
            ["Fact", "FA", "2026", "12", "merci"]
        );
        // Every non-ASCII character separates, as it would split on
        // characters.
        let text = "Réf. FACTÜRE-12 €5 ß";
        assert_eq!(
            tokens(text).collect::<Vec<_>>(),
            text.split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            tokens(text).collect::<Vec<_>>(),
            ["R", "f", "FACT", "RE", "12", "5"]
        );
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("--").count(), 0);
    }
}
