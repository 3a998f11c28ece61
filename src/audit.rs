//! Audit: reading a finished run back. `explain` answers "why did this line
//! get this outcome?" from the run's `decisions.jsonl`, in a page a
//! reviewer reads in ten seconds: what the bank said, what recon found, the
//! rule that decided and why, and the runners-up.
//!
//! Reads the run directory only (no inputs needed), so an auditor can ask
//! about a run months later: the line's record in `decisions.jsonl`, joined
//! with its rows in allocations.csv.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

/// The decision records of `line_id` (several for a batch entry matched
/// detail by detail), in the order the run wrote them.
pub fn decisions_of(run_dir: &Path, line_id: &str) -> Result<Vec<Value>, String> {
    let path = run_dir.join("decisions.jsonl");
    let file =
        std::fs::File::open(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    // The id as it appears in a record; most lines are skipped on this test
    // alone, without parsing their JSON.
    let needle = format!("\"line_id\":{}", Value::String(line_id.to_string()));
    let mut found = Vec::new();
    for (number, text) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let text =
            text.map_err(|e| format!("{}: line {}: cannot read: {e}", path.display(), number + 1))?;
        if !text.contains(&needle) {
            continue;
        }
        let record: Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: line {}: not a decision record: {e}",
                path.display(),
                number + 1
            )
        })?;
        if record["line_id"] == line_id {
            found.push(record);
        }
    }
    if found.is_empty() {
        return Err(format!(
            "{}: no decision for line {line_id:?}",
            path.display()
        ));
    }
    // A record counts its allocation rows instead of repeating them (a run
    // before that wrote them inline, and is read as it is).
    if found.iter().all(|r| r.get("allocations").is_none()) {
        let allocations = rows_of(&run_dir.join("allocations.csv"), line_id)?;
        attach_rows(&mut found, allocations);
    }
    Ok(found)
}

/// The rows of `line_id` in one of the run's CSV files, in file order, as
/// objects keyed by the header.
fn rows_of(path: &Path, line_id: &str) -> Result<Vec<serde_json::Map<String, Value>>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut reader = csv::Reader::from_reader(BufReader::with_capacity(1 << 20, file));
    let header = reader
        .headers()
        .map_err(|e| format!("{}: line 1: {e}", path.display()))?
        .clone();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.get(0) == Some(line_id) => rows.push(
                header
                    .iter()
                    .zip(record.iter())
                    .map(|(key, value)| (key.to_string(), Value::String(value.to_string())))
                    .collect(),
            ),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(format!("{}: line {line}: {e}", path.display()));
            }
        }
    }
    Ok(rows)
}

/// Gives each record its `allocations` and `lettrage` from the line's
/// allocations.csv rows, taken in order by the count the record holds, and
/// an empty `exceptions` list where it has none.
fn attach_rows(records: &mut [Value], allocations: Vec<serde_json::Map<String, Value>>) {
    let mut allocations = allocations.into_iter();
    for record in records.iter_mut() {
        let count = record["allocation_rows"].as_u64().unwrap_or(0) as usize;
        let rows: Vec<_> = allocations.by_ref().take(count).collect();
        let lettrage = rows
            .iter()
            .find_map(|row| row.get("lettrage").and_then(Value::as_str))
            .filter(|code| !code.is_empty())
            .map(|code| Value::String(code.to_string()));
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|mut row| {
                for column in ["line_id", "bank_ref", "value_date", "lettrage"] {
                    row.remove(column);
                }
                if row.get("invoice_id").and_then(Value::as_str) == Some("") {
                    row.insert("invoice_id".into(), Value::Null);
                }
                Value::Object(row)
            })
            .collect();
        if let Value::Object(object) = record {
            object.insert("allocations".into(), Value::Array(rows));
            object.insert("lettrage".into(), lettrage.unwrap_or(Value::Null));
            object
                .entry("exceptions")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

/// The page `recon explain` prints.
pub fn explain_text(records: &[Value]) -> String {
    let mut out = String::new();
    for record in records {
        let detail = match record["detail"].as_u64() {
            Some(d) => format!(" (batch detail {})", d + 1),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "line {}{detail}  bank ref {}",
            text(record, "line_id"),
            text(record, "bank_ref")
        );
        let _ = writeln!(out, "\nWhat the bank said");
        let _ = writeln!(
            out,
            "  {}  {} {}  from {}{}",
            text(record, "value_date"),
            text(record, "amount"),
            text(record, "currency"),
            if text(record, "payer_name").is_empty() {
                "(no name)"
            } else {
                text(record, "payer_name")
            },
            if text(record, "payer_iban").is_empty() {
                String::new()
            } else {
                format!(" ({})", text(record, "payer_iban"))
            }
        );
        if !text(record, "remittance_text").is_empty() {
            let _ = writeln!(out, "  \"{}\"", text(record, "remittance_text"));
        }
        let _ = writeln!(out, "\nWhat recon found");
        let references = record["references"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for reference in references {
            let _ = writeln!(
                out,
                "  {} {} in {} (as {:?})",
                text(reference, "kind").replace('_', " "),
                text(reference, "invoice_id"),
                text(reference, "found_in").replace('_', " "),
                text(reference, "text")
            );
        }
        for advice in record["advices"].as_array().map_or(&[][..], Vec::as_slice) {
            let _ = writeln!(
                out,
                "  advice {} ({})",
                text(advice, "advice_id"),
                text(advice, "how").replace('_', " ")
            );
        }
        if record["settlement"].is_object() {
            let payout = &record["settlement"];
            let _ = writeln!(
                out,
                "  {} payout {} ({})",
                text(payout, "method").replace('_', " "),
                text(payout, "settlement_id"),
                text(payout, "how").replace('_', " ")
            );
        }
        match record["customer"].as_object() {
            Some(customer) => {
                let _ = writeln!(
                    out,
                    "  customer {} (by {})",
                    customer
                        .get("customer_id")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                    customer
                        .get("how")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .replace('_', " ")
                );
            }
            None => {
                let _ = writeln!(out, "  no customer identified");
            }
        }
        if references.is_empty()
            && record["advices"].as_array().is_none_or(Vec::is_empty)
            && !record["settlement"].is_object()
        {
            let _ = writeln!(out, "  no reference and no advice");
        }
        let _ = writeln!(out, "\nWhy: rule {}", text(record, "rule"));
        for note in record["notes"].as_array().map_or(&[][..], Vec::as_slice) {
            let _ = writeln!(out, "  - {}", note.as_str().unwrap_or(""));
        }
        let _ = writeln!(out, "\nOutcome");
        for allocation in record["allocations"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let _ = writeln!(
                out,
                "  {} {} {}  ({})",
                text(allocation, "kind"),
                allocation["invoice_id"].as_str().unwrap_or("-"),
                text(allocation, "amount"),
                text(allocation, "rule")
            );
        }
        if let Some(code) = record["lettrage"].as_str() {
            let _ = writeln!(out, "  lettrage {code}");
        }
        for exception in record["exceptions"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let _ = writeln!(
                out,
                "  to review: {} {}{}",
                text(exception, "amount"),
                text(exception, "reason"),
                match text(exception, "detail") {
                    "" => String::new(),
                    detail => format!(" ({detail})"),
                }
            );
            let suggestions = exception["suggestions"]
                .as_array()
                .map_or(&[][..], Vec::as_slice);
            if !suggestions.is_empty() {
                let _ = writeln!(out, "  runners-up:");
            }
            for suggestion in suggestions {
                let invoices: Vec<&str> = suggestion["invoices"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                let _ = writeln!(
                    out,
                    "    {}  score {}",
                    invoices.join(" + "),
                    text(suggestion, "score")
                );
            }
        }
        out.push('\n');
    }
    out
}

/// What `replay` concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Every output is byte-identical (exit 0).
    Identical { files: usize },
    /// The first output that differs, and the first differing line (exit 3).
    Differs {
        file: String,
        line: usize,
        detail: String,
    },
}

/// The engine version and commit a run directory's manifest records, when
/// they differ from this binary's: a replay by another build is worth
/// saying, even when it agrees.
pub fn other_build(run_dir: &Path) -> Option<String> {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("manifest.json")).ok()?).ok()?;
    let (version, commit) = (text(&manifest, "version"), text(&manifest, "commit"));
    (version != crate::batch::VERSION || commit != crate::batch::COMMIT).then(|| {
        format!(
            "the run was made by recon {version} (commit {commit}); replayed by recon {} (commit {})",
            crate::batch::VERSION,
            crate::batch::COMMIT
        )
    })
}

/// Why a replay could not run: an input missing or changed (exit 2), or
/// the run directory unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError(pub String);

/// Re-runs a finished run from its `manifest.json`: the inputs it names
/// (resolved under `inputs_dir` when given), checked against their SHA-256,
/// with the config it recorded, its outputs rendered and hashed in memory
/// (nothing written); then compares every output
/// file the manifest lists, byte for byte.
pub fn replay(run_dir: &Path, inputs_dir: Option<&Path>) -> Result<Replay, ReplayError> {
    let fail = |message: String| ReplayError(message);
    let manifest_path = run_dir.join("manifest.json");
    let manifest: Value = std::fs::read(&manifest_path)
        .map_err(|e| fail(format!("{}: cannot read: {e}", manifest_path.display())))
        .and_then(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| fail(format!("{}: not a manifest: {e}", manifest_path.display())))
        })?;
    let mut args = crate::batch::RunArgs {
        outputs: crate::batch::Outputs::HashOnly,
        ..Default::default()
    };
    let mut expected: Vec<(std::path::PathBuf, String)> = Vec::new();
    for input in manifest["inputs"].as_array().map_or(&[][..], Vec::as_slice) {
        let recorded = Path::new(text(input, "path"));
        let path = match inputs_dir {
            Some(dir) => dir.join(recorded.strip_prefix("/").unwrap_or(recorded)),
            None => recorded.to_path_buf(),
        };
        // Only its presence here: the replayed run reads and hashes every
        // input once, and its hashes are compared below (reading each
        // input twice would make a replay slower than the run).
        if !path.is_file() {
            return Err(fail(format!("{}: input missing", path.display())));
        }
        expected.push((path.clone(), text(input, "sha256").to_string()));
        match text(input, "role") {
            "open_items" => args.open_items = path,
            "customers" => args.customers = Some(path),
            "config" => args.config = Some(path),
            "statements" => args.statements.push(path),
            "remittances" => args.remittances.push(path),
            "settlements" => args.settlements.push(path),
            other => {
                return Err(fail(format!(
                    "{}: unknown input role {other:?}",
                    manifest_path.display()
                )));
            }
        }
    }
    // The run directory's outputs are hashed on another thread while the
    // run is redone: each is read once, and a replay costs about a run.
    let outputs = manifest["outputs"].as_object().cloned().unwrap_or_default();
    let names: Vec<String> = outputs.keys().cloned().collect();
    let hashed = {
        let run_dir = run_dir.to_path_buf();
        std::thread::spawn(move || {
            names
                .into_iter()
                .map(|name| {
                    let hash = hash_file(&run_dir.join(&name));
                    (name, hash)
                })
                .collect::<Vec<_>>()
        })
    };
    let executed = crate::batch::execute(&args);
    let hashed = hashed
        .join()
        .map_err(|_| fail("hashing the run's outputs failed".into()))?;
    let report = executed.map_err(|e| fail(format!("the replayed run failed: {e}")))?;
    // The inputs as the replayed run read them, in the manifest's order
    // (both sorted by role and path).
    let replayed: Value = serde_json::from_slice(&report.manifest)
        .map_err(|_| fail("the replayed run made no manifest".into()))?;
    let read_again = replayed["inputs"].as_array().map_or(&[][..], Vec::as_slice);
    for (index, (path, sha256)) in expected.iter().enumerate() {
        let now = read_again
            .get(index)
            .map_or("", |input| text(input, "sha256"));
        if now != sha256 {
            return Err(fail(format!(
                "{}: input changed since the run (SHA-256 {now}, the manifest says {sha256})",
                path.display()
            )));
        }
    }
    for (name, now) in hashed {
        // The file in the run directory, hashed as it stands now, against
        // the replayed run's own hash of it; both are read whole only to
        // name the first difference.
        let now = now.map_err(fail)?;
        if Some(now.as_str()) == replayed["outputs"][&name].as_str() {
            continue;
        }
        let read = |path: std::path::PathBuf| {
            std::fs::read(&path).map_err(|e| fail(format!("{}: cannot read: {e}", path.display())))
        };
        let original = read(run_dir.join(&name))?;
        let mut again = Vec::new();
        crate::output::run_files::render(&name, &report.result, &mut again)
            .map_err(|e| fail(format!("{name}: cannot render again: {e}")))?;
        if original != again {
            let (line, detail) = first_difference(&original, &again);
            return Ok(Replay::Differs {
                file: name,
                line,
                detail,
            });
        }
    }
    Ok(Replay::Identical {
        files: outputs.len(),
    })
}

/// SHA-256 of a file, streamed.
fn hash_file(path: &Path) -> Result<String, String> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// 1-based number of the first differing line, and the two versions of it.
fn first_difference(a: &[u8], b: &[u8]) -> (usize, String) {
    let mut a_lines = a.split(|&byte| byte == b'\n');
    let mut b_lines = b.split(|&byte| byte == b'\n');
    let mut number = 0;
    loop {
        number += 1;
        match (a_lines.next(), b_lines.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&[u8]>| {
                    l.map_or("(end of file)".to_string(), |l| {
                        String::from_utf8_lossy(l).into_owned()
                    })
                };
                return (number, format!("run: {}\nreplay: {}", show(x), show(y)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> serde_json::Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    #[test]
    fn rows_are_shared_out_to_the_records_by_their_counts() {
        let suggestions = serde_json::json!([
            {"invoices": ["FA+7|1", "FA-8"], "score": "0.910"},
            {"invoices": ["FA-9"], "score": "0.700"}
        ]);
        let mut records = vec![
            serde_json::json!({"line_id": "L-1", "detail": 0, "allocation_rows": 2}),
            serde_json::json!({"line_id": "L-1", "detail": 1, "exceptions": [
                {"reason": "ambiguous", "amount": "5.00", "suggestions": suggestions.clone()}
            ]}),
            serde_json::json!({"line_id": "L-1", "detail": 2, "allocation_rows": 1}),
        ];
        let allocation = |invoice: &str, lettrage: &str| {
            row(&[
                ("line_id", "L-1"),
                ("invoice_id", invoice),
                ("amount", "10.00"),
                (
                    "kind",
                    if invoice.is_empty() {
                        "bank_fee"
                    } else {
                        "invoice"
                    },
                ),
                ("lettrage", lettrage),
            ])
        };
        attach_rows(
            &mut records,
            vec![
                allocation("FA-1", "AAB"),
                allocation("", "AAB"),
                allocation("FA-3", "AAC"),
            ],
        );
        assert_eq!(records[0]["allocations"][0]["invoice_id"], "FA-1");
        assert_eq!(records[0]["allocations"][1]["invoice_id"], Value::Null);
        assert_eq!(records[0]["lettrage"], "AAB");
        assert_eq!(records[0]["exceptions"], serde_json::json!([]));
        assert_eq!(records[1]["allocations"], serde_json::json!([]));
        assert_eq!(records[1]["lettrage"], Value::Null);
        assert_eq!(records[1]["exceptions"][0]["suggestions"], suggestions);
        assert_eq!(records[2]["allocations"][0]["invoice_id"], "FA-3");
        assert_eq!(records[2]["lettrage"], "AAC");
        let page = explain_text(&records);
        assert!(
            page.contains(
                "to review: 5.00 ambiguous\n  runners-up:\n    FA+7|1 + FA-8  score 0.910"
            ),
            "{page}"
        );
        assert!(page.contains("invoice FA-3 10.00"), "{page}");
    }
}
