//! Audit: reading a finished run back. `explain` answers "why did this line
//! get this outcome?" from the run's `decisions.jsonl`, in a page a
//! reviewer reads in ten seconds: what the bank said, what recon found, the
//! rule that decided and why, and the runners-up.
//!
//! Reads the run directory only (no inputs needed), so an auditor can ask
//! about a run months later.

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
    Ok(found)
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
        if references.is_empty() && record["advices"].as_array().is_none_or(Vec::is_empty) {
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
                "  to review: {} {}",
                text(exception, "amount"),
                text(exception, "reason")
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
