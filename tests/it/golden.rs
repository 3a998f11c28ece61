//! Golden fixtures: every input under `fixtures/` parses to the normalised
//! model stored beside it as `<input>.expected.json`. A missing expectation
//! is written (and the test fails, so it is reviewed); `UPDATE_EXPECT=1`
//! rewrites them all for review in the diff.
//!
//! Each XML fixture is also re-encoded as generated variants (LF, CRLF, CR,
//! BOM, one line, prefixed namespace, envelope) that must parse to exactly
//! the same model.

use std::path::{Path, PathBuf};

use recon::parse::{ParsedFile, parse_bytes};

fn inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    children.sort();
    for path in children {
        if path.is_dir() {
            // `fixtures/run/`: inputs of whole runs (open items, customers),
            // checked by the run tests, not parser fixtures.
            if path.file_name().is_some_and(|n| n == "run") {
                continue;
            }
            inputs(&path, out);
        } else {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".expected.json") && !name.ends_with(".md") && !name.starts_with('.')
            {
                out.push(path);
            }
        }
    }
}

/// All fixture inputs, relative names (`camt053/v02-mixed.xml`) and paths.
pub fn fixture_inputs() -> Vec<(String, PathBuf)> {
    let root = crate::fixtures_dir();
    let mut files = Vec::new();
    inputs(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .expect("under fixtures")
                .to_string_lossy()
                .replace('\\', "/");
            (name, p)
        })
        .collect()
}

fn snapshot(parsed: &Result<ParsedFile, recon::error::ParseError>) -> String {
    let value = match parsed {
        Ok(parsed) => serde_json::json!({
            "statements": parsed.statements,
            "advices": parsed.advices,
            "warnings": parsed.warnings,
        }),
        Err(error) => serde_json::json!({ "error": error.to_string() }),
    };
    serde_json::to_string_pretty(&value).expect("json") + "\n"
}

#[test]
fn fixtures_match_their_expected_output() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, path) in fixture_inputs() {
        let bytes = std::fs::read(&path).expect("read fixture");
        let actual = snapshot(&parse_bytes(&name, &bytes));
        let expected_path = PathBuf::from(format!("{}.expected.json", path.display()));
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => checked += 1,
            Ok(_) if update => std::fs::write(&expected_path, &actual).expect("write"),
            Ok(_) => failures.push(format!(
                "{name}: output differs from {} (UPDATE_EXPECT=1 rewrites it; review the diff)",
                expected_path.display()
            )),
            Err(_) => {
                std::fs::write(&expected_path, &actual).expect("write");
                if !update {
                    failures.push(format!(
                        "{name}: no expectation; written, review and commit it"
                    ));
                }
            }
        }
    }
    eprintln!("golden: {checked} fixtures match their expected output");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0 || update, "no fixture was checked");
}

/// Text variants of an XML document that must read the same.
pub fn xml_variants(bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut variants = Vec::new();
    let lf: Vec<u8> = String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .into_bytes();
    let utf8 = std::str::from_utf8(bytes).is_ok();
    let line_ending = |eol: &str| -> Vec<u8> {
        // Byte-level, so it is safe for any ASCII-compatible encoding.
        let mut out = Vec::with_capacity(bytes.len() + 64);
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(eol.as_bytes());
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => out.extend_from_slice(eol.as_bytes()),
                b => out.push(b),
            }
            i += 1;
        }
        out
    };
    variants.push(("lf", line_ending("\n")));
    variants.push(("crlf", line_ending("\r\n")));
    variants.push(("cr", line_ending("\r")));
    if !utf8 {
        return variants;
    }
    let text = String::from_utf8(lf).expect("utf8");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    variants.push(("bom", bom));
    let one_line: String = text.lines().map(str::trim).collect();
    variants.push(("one-line", one_line.into_bytes()));
    let body = match text.find("?>") {
        Some(at) if text.starts_with("<?xml") => text[at + 2..].trim_start().to_string(),
        _ => text.clone(),
    };
    if body.starts_with("<Document") {
        variants.push(("prefixed", prefix_elements(&body, "ns1").into_bytes()));
        let envelope = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Envelope xmlns=\"urn:swift:xsd:envelope\">\n<AppHdr xmlns=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.02\"><BizMsgIdr>X</BizMsgIdr><MsgDefIdr>camt</MsgDefIdr></AppHdr>\n{body}\n</Envelope>\n"
        );
        variants.push(("envelope", envelope.into_bytes()));
    }
    variants
}

/// Puts every element of `xml` in the prefix `prefix`, declared for the
/// default namespace.
fn prefix_elements(xml: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(xml.len() * 2);
    let mut chars = xml.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '<' {
            match chars.peek() {
                Some('/') => {
                    out.push('/');
                    chars.next();
                    out.push_str(prefix);
                    out.push(':');
                }
                Some(n) if n.is_ascii_alphabetic() => {
                    out.push_str(prefix);
                    out.push(':');
                }
                _ => {}
            }
        }
    }
    out.replacen(" xmlns=\"", &format!(" xmlns:{prefix}=\""), 1)
}

/// Variants of an MT940/MT942 file that must read the same: line endings,
/// no final newline, `@@` separators, and the SWIFT envelope added.
pub fn mt_variants(bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let text = String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut variants = vec![
        ("lf", text.clone().into_bytes()),
        ("crlf", text.replace('\n', "\r\n").into_bytes()),
        ("cr", text.replace('\n', "\r").into_bytes()),
        (
            "no-final-newline",
            text.trim_end_matches('\n').as_bytes().to_vec(),
        ),
        ("at-at", text.replace('\n', "@@").into_bytes()),
    ];
    if text.starts_with(":20:") {
        let kind = if text.contains(":13D:") || text.contains(":34F:") {
            "942"
        } else {
            "940"
        };
        let body = text
            .trim_end_matches('\n')
            .trim_end_matches("\n-")
            .to_string();
        let envelope = format!(
            "{{1:F01BNPAFRPPAXXX0000000000}}{{2:I{kind}BNPAFRPPXXXXN}}{{4:\n{body}\n-}}{{5:{{CHK:123456789ABC}}}}\n"
        );
        variants.push(("envelope", envelope.into_bytes()));
    }
    variants
}

/// Variants of a CFONB 120 or BAI2 file: line endings, no final newline,
/// and for CFONB the records run together with no line break at all.
pub fn record_variants(bytes: &[u8], cfonb: bool) -> Vec<(&'static str, Vec<u8>)> {
    let text = String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut variants = vec![
        ("lf", text.clone().into_bytes()),
        ("crlf", text.replace('\n', "\r\n").into_bytes()),
        ("cr", text.replace('\n', "\r").into_bytes()),
        (
            "no-final-newline",
            text.trim_end_matches('\n').as_bytes().to_vec(),
        ),
    ];
    if cfonb {
        variants.push(("no-line-breaks", text.replace('\n', "").into_bytes()));
    }
    variants
}

#[test]
fn generated_variants_parse_identically() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (name, path) in fixture_inputs() {
        let bytes = std::fs::read(&path).expect("read fixture");
        let variants = if name.ends_with(".xml") {
            xml_variants(&bytes)
        } else if name.starts_with("mt94") {
            mt_variants(&bytes)
        } else if name.starts_with("cfonb120") || name.starts_with("bai2") {
            record_variants(&bytes, name.starts_with("cfonb120"))
        } else {
            continue;
        };
        let original = parse_bytes(&name, &bytes);
        let Ok(original) = original else {
            continue;
        };
        for (variant, data) in variants {
            match parse_bytes(&name, &data) {
                Ok(parsed) if parsed == original => compared += 1,
                Ok(parsed) => failures.push(format!(
                    "{name} ({variant}): differs\n  original: {}\n  variant:  {}",
                    snapshot(&Ok(original.clone())).len(),
                    snapshot(&Ok(parsed)).len()
                )),
                Err(error) => failures.push(format!("{name} ({variant}): {error}")),
            }
        }
    }
    eprintln!("variants: {compared} generated variants parse identically to their fixture");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 20, "only {compared} variants compared");
}
