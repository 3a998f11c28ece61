//! Seeded mutation test: truncations, byte flips, deleted and duplicated
//! tags over every fixture. No input may make a parser panic or hang, and
//! every rejection must be a located error (element path + line, a line, or
//! a line + column; `Location::File` only for what concerns the whole file).
//!
//! `MUTATION_CASES` sets the number of cases (default 12,000, so CI runs
//! more than 10,000); a failing case prints its seed so it can be replayed.

use crate::Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};

use recon::error::Location;
use recon::parse::parse_bytes;

/// xorshift64*: tiny, seeded, reproducible on every machine.
/// Byte ranges of the tags (`<...>`) in `data`.
fn tags(data: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, &b) in data.iter().enumerate() {
        match b {
            b'<' => start = Some(i),
            b'>' => {
                if let Some(s) = start.take() {
                    spans.push((s, i + 1));
                }
            }
            _ => {}
        }
    }
    spans
}

/// One mutation of `data`, chosen by the generator.
fn mutate(data: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let mut out = data.to_vec();
    let tag_spans = tags(data);
    match rng.below(6) {
        0 => {
            let at = rng.below(data.len());
            out.truncate(at);
            (format!("truncate at {at}"), out)
        }
        1 => {
            let flips = 1 + rng.below(4);
            for _ in 0..flips {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
            }
            (format!("flip {flips} bits"), out)
        }
        2 if !tag_spans.is_empty() => {
            let (s, e) = tag_spans[rng.below(tag_spans.len())];
            out.drain(s..e);
            (format!("delete tag at {s}"), out)
        }
        3 if !tag_spans.is_empty() => {
            let (s, e) = tag_spans[rng.below(tag_spans.len())];
            let tag = data[s..e].to_vec();
            let at = tag_spans[rng.below(tag_spans.len())].0;
            out.splice(at..at, tag);
            (format!("duplicate tag {s} at {at}"), out)
        }
        4 => {
            // Replace a byte with a character that matters to the syntax.
            let specials = [
                b'<', b'>', b'&', b'"', b'/', b'.', b'-', b':', 0u8, 0xFF, b'\r',
            ];
            let at = rng.below(out.len());
            out[at] = specials[rng.below(specials.len())];
            (format!("special byte at {at}"), out)
        }
        _ => {
            // Delete or duplicate a random slice.
            let s = rng.below(out.len());
            let e = (s + 1 + rng.below(64)).min(out.len());
            if rng.below(2) == 0 {
                out.drain(s..e);
                (format!("delete {s}..{e}"), out)
            } else {
                let piece = data[s..e].to_vec();
                out.splice(s..s, piece);
                (format!("repeat {s}..{e}"), out)
            }
        }
    }
}

#[test]
fn mutated_fixtures_never_panic_and_fail_with_located_errors() {
    let cases: usize = std::env::var("MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000);
    let fixtures: Vec<(String, Vec<u8>)> = crate::golden::fixture_inputs()
        .into_iter()
        .map(|(name, path)| (name, std::fs::read(path).expect("fixture")))
        .collect();
    assert!(!fixtures.is_empty());
    let mut rng = Rng(0x005E_ED0F_2026);
    let mut problems = Vec::new();
    let (mut parsed, mut rejected) = (0usize, 0usize);
    for case in 0..cases {
        let (name, data) = &fixtures[case % fixtures.len()];
        let (what, mutated) = mutate(data, &mut rng);
        let result = catch_unwind(AssertUnwindSafe(|| parse_bytes(name, &mutated)));
        match result {
            Err(_) => problems.push(format!("case {case} {name} ({what}): panicked")),
            Ok(Ok(_)) => parsed += 1,
            Ok(Err(error)) => {
                rejected += 1;
                let located = match &error.location {
                    Location::Element { path, line } => !path.is_empty() && *line > 0,
                    Location::Line(line) => *line > 0,
                    Location::LineField { line, field } => *line > 0 && !field.is_empty(),
                    Location::File => {
                        error.message.starts_with("expected") || error.message.contains("file is")
                    }
                };
                if !located || error.file != *name || error.message.is_empty() {
                    problems.push(format!(
                        "case {case} {name} ({what}): unlocated error: {error}"
                    ));
                }
            }
        }
        if problems.len() > 20 {
            break;
        }
    }
    eprintln!(
        "mutation: {cases} cases over {} fixtures: {parsed} parsed, {rejected} rejected with located errors, {} problems",
        fixtures.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Caught by the mutation test: an MT940 `:25:` ending in a multi-byte
/// character made the currency-suffix check slice inside the character.
#[test]
fn regression_account_ending_in_a_multibyte_character() {
    let text = ":20:X\n:25:12345678é\n:60F:C260101EUR1,00\n:62F:C260101EUR1,00\n";
    let parsed = parse_bytes("regression.sta", text.as_bytes()).expect("parses");
    assert_eq!(parsed.statements[0].account.id, "12345678é");
}
/// Caught by the mutation test: XML whose 4096th byte falls inside a
/// multi-byte character made the remt.001 sniffing slice inside it.
#[test]
fn regression_xml_with_a_multibyte_character_across_the_sniffing_window() {
    let mut text =
        String::from("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><!--");
    while text.len() < 4095 {
        text.push('a');
    }
    text.push_str("éé--></Document>");
    let result = std::panic::catch_unwind(|| parse_bytes("regression.xml", text.as_bytes()));
    assert!(result.is_ok(), "panicked");
}
