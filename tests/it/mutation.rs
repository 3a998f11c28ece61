//! Seeded mutation test over every reader of untrusted bytes
//! (`recon::fuzzing::Reader`): our fixtures, small files of the shared
//! corpus and generated files as seeds, mutated by truncation, bit flips,
//! deleted, repeated and swapped tags or lines, syntax bytes, long runs
//! and splices from other seeds, one to three at a time. No input may make
//! a reader panic or hang, and every refusal must be a located error.
//!
//! `MUTATION_CASES` sets the cases per reader (default 20,000: 220,000 in
//! CI); cases run in parallel, each from its own seed, so a failing case is
//! replayed by its reader and number alone (`MUTATION_ONLY=reader:case`).
//! `fuzz/` holds the cargo-fuzz targets over the same readers.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use recon::fuzzing::{Reader, is_located};
use recon::parse::parse_bytes;

use crate::Rng;

/// Largest corpus file taken as a seed: mutating larger ones adds time,
/// not paths.
const SEED_BYTES_MAX: u64 = 24 << 10;
/// Corpus seeds per reader, spread over the corpus's sources.
const CORPUS_SEEDS_MAX: usize = 40;
/// A case slower than this is a hang.
const CASE_TIME_MAX: Duration = Duration::from_secs(5);

/// Seeds per reader: (name, bytes).
fn seeds() -> BTreeMap<Reader, Vec<(String, Vec<u8>)>> {
    let mut seeds: BTreeMap<&'static str, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    let by_dir = |dir: &str| match dir {
        "camt052" | "camt053" | "camt054" => Some(Reader::Camt),
        "remt" => Some(Reader::Remt),
        "mt940" | "mt942" => Some(Reader::Mt940),
        "cfonb120" => Some(Reader::Cfonb120),
        "bai2" => Some(Reader::Bai2),
        "remittance_csv" => Some(Reader::RemittanceCsv),
        _ => None,
    };
    let mut add = |reader: Reader, name: String, bytes: Vec<u8>| {
        seeds.entry(reader.name()).or_default().push((name, bytes));
    };
    for (name, path) in crate::golden::fixture_inputs() {
        if let Some(reader) = name.split('/').next().and_then(by_dir) {
            add(reader, name, std::fs::read(path).expect("fixture"));
        }
    }
    let basic = crate::fixtures_dir().join("run/basic");
    add(
        Reader::OpenItems,
        "run/basic/open_items.csv".into(),
        std::fs::read(basic.join("open_items.csv")).unwrap(),
    );
    add(
        Reader::Customers,
        "run/basic/customers.csv".into(),
        std::fs::read(basic.join("customers.csv")).unwrap(),
    );
    let payouts = crate::fixtures_dir().join("run/settlements");
    add(
        Reader::Settlements,
        "run/settlements/settlements.csv".into(),
        std::fs::read(payouts.join("settlements.csv")).unwrap(),
    );
    add(
        Reader::Customers,
        "run/settlements/customers.csv".into(),
        std::fs::read(payouts.join("customers.csv")).unwrap(),
    );
    add(
        Reader::OpenItems,
        "run/settlements/open_items.csv".into(),
        std::fs::read(payouts.join("open_items.csv")).unwrap(),
    );
    // Generated files: every statement format the generator writes, and
    // open items, customers and advices with its quoting and names.
    let mut generated: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    recon::synth::generate(
        &recon::synth::SynthOptions { lines: 40, seed: 9 },
        &mut |path: &str, bytes: &[u8]| {
            generated
                .entry(path.to_string())
                .or_default()
                .extend_from_slice(bytes);
            Ok(())
        },
    )
    .expect("generate");
    for (path, bytes) in generated {
        let reader = match path.as_str() {
            "open_items.csv" => Some(Reader::OpenItems),
            "customers.csv" => Some(Reader::Customers),
            p if p.starts_with("remittances/") && p.ends_with(".csv") => {
                Some(Reader::RemittanceCsv)
            }
            p if p.starts_with("statements/") => match recon::parse::detect(&bytes) {
                recon::parse::Detected::Xml => Some(Reader::Camt),
                recon::parse::Detected::Mt94x => Some(Reader::Mt940),
                recon::parse::Detected::Cfonb120 => Some(Reader::Cfonb120),
                recon::parse::Detected::Bai2 => Some(Reader::Bai2),
                _ => None,
            },
            _ => None,
        };
        if let Some(reader) = reader {
            add(reader, format!("generated/{path}"), bytes);
        }
    }
    let defaults = recon::config::Config::default().to_toml();
    add(
        Reader::Config,
        "defaults.toml".into(),
        defaults.into_bytes(),
    );
    add(
        Reader::Config,
        "custom.toml".into(),
        b"writeoff_max = \"2.50\"\ntwins = \"review\"\n\n[accounts]\nsuspense = \"471000\"\n\n[accounts.bank]\nFR7630006000011234567890189 = \"512100\"\n".to_vec(),
    );
    if let Some(corpus) = crate::corpus_dir() {
        let index = std::fs::read_to_string(corpus.join("index.tsv")).expect("index");
        let mut by_reader: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for row in index.lines().skip(1) {
            let fields: Vec<&str> = row.split('\t').collect();
            let reader = match fields.get(1).copied() {
                Some(format) if format.starts_with("camt05") => Reader::Camt,
                Some("remt") => Reader::Remt,
                Some("mt940" | "mt942") => Reader::Mt940,
                Some("cfonb120") => Reader::Cfonb120,
                Some("bai2") => Reader::Bai2,
                _ => continue,
            };
            if fields.get(3) != Some(&"input") {
                continue;
            }
            let small =
                std::fs::metadata(corpus.join(fields[0])).is_ok_and(|m| m.len() <= SEED_BYTES_MAX);
            if small {
                by_reader
                    .entry(reader.name())
                    .or_default()
                    .push(fields[0].to_string());
            }
        }
        for (reader, paths) in by_reader {
            let step = paths.len().div_ceil(CORPUS_SEEDS_MAX).max(1);
            for path in paths.iter().step_by(step) {
                let bytes = std::fs::read(corpus.join(path)).expect("corpus file");
                add(
                    Reader::from_name(reader).unwrap(),
                    format!("corpus/{path}"),
                    bytes,
                );
            }
        }
    } else {
        eprintln!("mutation: ../shared/corpus not found: seeds are our fixtures only");
    }
    let mut out: BTreeMap<Reader, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    let mut every = Vec::new();
    for (name, list) in seeds {
        every.extend(list.iter().cloned());
        out.insert(Reader::from_name(name).unwrap(), list);
    }
    out.insert(Reader::Detect, every);
    out
}

/// Byte ranges of the units a mutation moves: tags (`<...>`) in XML, lines
/// elsewhere.
fn units(data: &[u8]) -> Vec<(usize, usize)> {
    let xml = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let mut spans = Vec::new();
    let mut start = if xml { None } else { Some(0) };
    for (i, &b) in data.iter().enumerate() {
        if xml {
            match b {
                b'<' => start = Some(i),
                b'>' => {
                    if let Some(s) = start.take() {
                        spans.push((s, i + 1));
                    }
                }
                _ => {}
            }
        } else if b == b'\n' {
            spans.push((start.unwrap_or(0), i + 1));
            start = Some(i + 1);
        }
    }
    if !xml && start.is_some_and(|s| s < data.len()) {
        spans.push((start.unwrap(), data.len()));
    }
    spans
}

/// One mutation of `out`; `other` is another seed, for splices.
fn mutate_once(out: &mut Vec<u8>, other: &[u8], rng: &mut Rng) -> String {
    if out.is_empty() {
        out.extend_from_slice(&other[..other.len().min(64)]);
        return "refill".into();
    }
    let spans = units(out);
    match rng.below(10) {
        0 => {
            let at = rng.below(out.len());
            out.truncate(at);
            format!("truncate at {at}")
        }
        1 => {
            let flips = 1 + rng.below(4);
            for _ in 0..flips {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
            }
            format!("flip {flips} bits")
        }
        2 if !spans.is_empty() => {
            let (s, e) = spans[rng.below(spans.len())];
            out.drain(s..e);
            format!("delete unit {s}..{e}")
        }
        3 if !spans.is_empty() => {
            let (s, e) = spans[rng.below(spans.len())];
            let unit = out[s..e].to_vec();
            let at = spans[rng.below(spans.len())].0;
            out.splice(at..at, unit);
            format!("repeat unit {s}..{e} at {at}")
        }
        4 if spans.len() >= 2 => {
            let (a, b) = (rng.below(spans.len()), rng.below(spans.len()));
            let ((s1, e1), (s2, e2)) = (spans[a.min(b)], spans[a.max(b)]);
            if e1 <= s2 {
                let first = out[s1..e1].to_vec();
                let second = out[s2..e2].to_vec();
                out.splice(s2..e2, first);
                out.splice(s1..e1, second);
            }
            format!("swap units {s1} and {s2}")
        }
        5 => {
            // A byte that matters to some syntax.
            let specials = b"<>&\"/.-:,;?{}+\r\n\t0123456789CDRAJ\x00\xff\xc3'";
            let at = rng.below(out.len());
            out[at] = specials[rng.below(specials.len())];
            format!("special byte at {at}")
        }
        6 => {
            // A long run: lengths, digit counts and limits.
            let run = [b'9', b'A', b' ', b'0', b'\n', b'<'][rng.below(6)];
            let length = [16, 255, 4_096, 70_000][rng.below(4)];
            let at = rng.below(out.len() + 1);
            out.splice(at..at, std::iter::repeat_n(run, length));
            format!("run of {length} {:?} at {at}", run as char)
        }
        7 if !other.is_empty() => {
            // Splice a piece of another seed.
            let s = rng.below(other.len());
            let e = (s + 1 + rng.below(512)).min(other.len());
            let at = rng.below(out.len() + 1);
            out.splice(at..at, other[s..e].iter().copied());
            format!("splice other {s}..{e} at {at}")
        }
        _ => {
            let s = rng.below(out.len());
            let e = (s + 1 + rng.below(64)).min(out.len());
            if rng.below(2) == 0 {
                out.drain(s..e);
                format!("delete {s}..{e}")
            } else {
                let piece = out[s..e].to_vec();
                out.splice(s..s, piece);
                format!("repeat {s}..{e}")
            }
        }
    }
}

enum Outcome {
    Parsed,
    Rejected,
    Problem(String),
}

/// Case `case` of `reader`: its seed, its mutations, its outcome.
fn run_case(reader: Reader, case: usize, seeds: &[(String, Vec<u8>)]) -> (Outcome, Duration) {
    let mut rng = Rng::new(
        0x005E_ED0F_2026
            ^ ((reader as u64) << 48)
            ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let (name, seed) = &seeds[rng.below(seeds.len())];
    let other = &seeds[rng.below(seeds.len())].1;
    let mut data = seed.clone();
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(3) {
        what.push(mutate_once(&mut data, other, &mut rng));
    }
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| reader.read(name, &data)));
    let took = started.elapsed();
    let describe = || format!("{}:{case} {name} ({})", reader.name(), what.join(", "));
    let outcome = match result {
        Err(_) => Outcome::Problem(format!("{}: panicked", describe())),
        Ok(_) if took > CASE_TIME_MAX => Outcome::Problem(format!("{}: took {took:?}", describe())),
        Ok(Ok(_)) => Outcome::Parsed,
        Ok(Err(error)) if is_located(reader, &error) && error.file == *name => Outcome::Rejected,
        Ok(Err(error)) => Outcome::Problem(format!("{}: unlocated error: {error}", describe())),
    };
    (outcome, took)
}

#[test]
fn mutated_inputs_never_panic_or_hang_and_fail_with_located_errors() {
    let cases: usize = std::env::var("MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let only = std::env::var("MUTATION_ONLY").ok();
    let seeds = seeds();
    let mut problems = Vec::new();
    let started = Instant::now();
    for reader in Reader::ALL {
        let reader_seeds = &seeds[&reader];
        assert!(!reader_seeds.is_empty(), "no seeds for {}", reader.name());
        let range: Vec<usize> = match only.as_deref().and_then(|o| o.split_once(':')) {
            Some((name, case)) if name == reader.name() => vec![case.parse().expect("case")],
            Some(_) => continue,
            None => (0..cases).collect(),
        };
        let reader_started = Instant::now();
        let outcomes: Vec<(Outcome, Duration)> = range
            .par_iter()
            .map(|&case| run_case(reader, case, reader_seeds))
            .collect();
        let (mut parsed, mut rejected, mut slowest) = (0usize, 0usize, Duration::ZERO);
        for (outcome, took) in outcomes {
            slowest = slowest.max(took);
            match outcome {
                Outcome::Parsed => parsed += 1,
                Outcome::Rejected => rejected += 1,
                Outcome::Problem(problem) => problems.push(problem),
            }
        }
        eprintln!(
            "mutation: {:<14} {} cases from {} seeds: {parsed} parsed, {rejected} refused with located errors; slowest case {slowest:.1?}; {:.1?}",
            reader.name(),
            parsed + rejected,
            reader_seeds.len(),
            reader_started.elapsed()
        );
    }
    eprintln!("mutation: all readers in {:.1?}", started.elapsed());
    problems.truncate(20);
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
