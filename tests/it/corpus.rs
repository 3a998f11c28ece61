//! Conformance over `../shared/corpus` (real statements from banks and other
//! open-source parsers; never copied into this repository).
//!
//! Every camt052/053/054 and remt input must parse; an input its source
//! expects to fail must be rejected with a located error or parsed with
//! warnings. Where the corpus holds another parser's expected output, the
//! values are compared field by field: entry count, signed amounts, dates,
//! balances, account, advice lines. The counts are printed (they go into
//! the closing note). Skipped, with a visible message, when the corpus is
//! absent.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use recon::error::Location;
use recon::model::{BalanceKind, Statement};
use recon::parse::{ParsedFile, parse_bytes};
use rust_decimal::Decimal;
use serde_json::Value;

/// A row of `index.tsv`.
struct Row {
    path: String,
    format: String,
    role: String,
    expected_output: String,
    expect_failure: bool,
}

fn index(corpus: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(corpus.join("index.tsv")).expect("index.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (path, format, role, expected, failure) = (
        column("path"),
        column("format"),
        column("role"),
        column("expected_output"),
        column("expect_failure"),
    );
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or("").to_string();
            Row {
                path: cell(path),
                format: cell(format),
                role: cell(role),
                expected_output: cell(expected),
                expect_failure: cell(failure) == "yes",
            }
        })
        .collect()
}

/// Inputs a source rejects although they are valid; recon reads them.
const VALID_THOUGH_THE_SOURCE_REJECTS: &[&str] =
    &["camt053/viafintech-camt_parser/general/invalid_namespace.xml"];

/// What the comparisons found.
#[derive(Default)]
struct Tally {
    fields: usize,
    mismatches: Vec<String>,
}

impl Tally {
    fn check(&mut self, file: &str, field: &str, expected: impl ToString, actual: impl ToString) {
        self.fields += 1;
        let (expected, actual) = (expected.to_string(), actual.to_string());
        if expected != actual {
            self.mismatches.push(format!(
                "{file}: {field}: expected {expected}, got {actual}"
            ));
        }
    }

    fn decimal(&mut self, file: &str, field: &str, expected: &str, actual: Decimal) {
        self.fields += 1;
        match Decimal::from_str(expected.trim()) {
            Ok(value) if value == actual => {}
            Ok(value) => self
                .mismatches
                .push(format!("{file}: {field}: expected {value}, got {actual}")),
            Err(_) => self.mismatches.push(format!(
                "{file}: {field}: expected value {expected:?} is not a decimal"
            )),
        }
    }
}

#[test]
fn camt_and_remt_corpus_conformance() {
    let Some(corpus) = crate::corpus_dir() else {
        eprintln!("corpus: ../shared/corpus absent, conformance skipped");
        return;
    };
    let rows = index(&corpus);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut per_format: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut accepted_valid = Vec::new();
    let mut compared_files = 0;
    for row in rows.iter().filter(|r| {
        r.role == "input"
            && matches!(
                r.format.as_str(),
                "camt052" | "camt053" | "camt054" | "remt"
            )
    }) {
        let bytes = std::fs::read(corpus.join(&row.path)).expect("corpus file");
        let result = parse_bytes(&row.path, &bytes);
        let counts = per_format.entry(row.format.clone()).or_default();
        counts[0] += 1;
        match (&result, row.expect_failure) {
            (Ok(_), false) => counts[1] += 1,
            (Err(error), false) => failures.push(format!("{}: must parse: {error}", row.path)),
            (Err(error), true) => {
                let located = match &error.location {
                    Location::Element { path, line } => !path.is_empty() && *line > 0,
                    Location::Line(line) | Location::LineField { line, .. } => *line > 0,
                    Location::File => false,
                };
                if located {
                    counts[2] += 1;
                } else {
                    failures.push(format!(
                        "{}: rejected without a location: {error}",
                        row.path
                    ));
                }
            }
            (Ok(parsed), true) => {
                let warned = !parsed.warnings.is_empty()
                    || parsed.statements.iter().any(|s| !s.warnings.is_empty())
                    || parsed.advices.iter().any(|a| !a.warnings.is_empty());
                if warned {
                    counts[2] += 1;
                } else if VALID_THOUGH_THE_SOURCE_REJECTS.contains(&row.path.as_str()) {
                    counts[1] += 1;
                    accepted_valid.push(row.path.clone());
                } else {
                    failures.push(format!(
                        "{}: its source rejects it; recon parsed it without a warning",
                        row.path
                    ));
                }
            }
        }
        let (Ok(parsed), false) = (&result, row.expected_output.is_empty()) else {
            continue;
        };
        let expected_path = corpus.join(&row.expected_output);
        let before = tally.fields;
        if row.expected_output.contains("genkgo") {
            compare_genkgo(&row.path, &expected_path, parsed, &mut tally);
        } else if row.expected_output.ends_with(".pydata") {
            compare_oca(&row.path, &expected_path, parsed, &mut tally);
        } else if row.expected_output.contains("svapnil") {
            compare_svapnil(&row.path, &expected_path, parsed, &mut tally);
        } else if row.expected_output.contains("moov") {
            compare_moov_remt(&row.path, &expected_path, parsed, &mut tally);
        } else {
            failures.push(format!(
                "{}: no comparator for {}",
                row.path, row.expected_output
            ));
        }
        if tally.fields > before {
            compared_files += 1;
            counts[3] += 1;
        }
    }
    for (format, [inputs, parsed, rejected, compared]) in &per_format {
        eprintln!(
            "corpus {format}: {inputs} inputs, {parsed} parsed, {rejected} expected failures rejected or flagged, {compared} compared with an expected output"
        );
    }
    for path in &accepted_valid {
        eprintln!("corpus: accepted: valid though the source rejects it: {path}");
    }
    eprintln!(
        "corpus: {compared_files} files compared, {} fields compared, {} mismatches, {} failures",
        tally.fields,
        tally.mismatches.len(),
        failures.len()
    );
    failures.extend(tally.mismatches);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared_files >= 20, "only {compared_files} files compared");
}

/// Minor-unit digits of a currency, as the PHP Money library uses them.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// An amount in minor units, rounded as the Money library rounds.
fn minor_units(amount: Decimal, currency: &str) -> Decimal {
    (amount * Decimal::from(10i64.pow(minor_digits(currency)))).round()
}

fn records<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            let class = map.get("__CLASS__").and_then(Value::as_str).unwrap_or("");
            if class.ends_with("DTO\\Statement")
                || class.ends_with("DTO\\Report")
                || class.ends_with("DTO\\Notification")
            {
                out.push(value);
            }
            for child in map.values() {
                records(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| records(i, out)),
        _ => {}
    }
}

fn date_of(value: &Value) -> Option<String> {
    value
        .get("0")
        .and_then(Value::as_str)
        .map(|d| d[..10].to_string())
}

/// genkgo/camt (PHP) dumps its DTO graph; recursion is cut, so each file
/// shows its first record and the entries reachable without recursion.
/// Amounts are signed minor units of the `Money` library.
fn compare_genkgo(file: &str, expected: &Path, parsed: &ParsedFile, tally: &mut Tally) {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(expected).expect("json")).expect("json");
    let mut found = Vec::new();
    records(&json, &mut found);
    let Some(record) = found.first() else {
        tally
            .mismatches
            .push(format!("{file}: no record in the expected output"));
        return;
    };
    let id = record.get("getId").and_then(Value::as_str).unwrap_or("");
    let Some(statement) = parsed.statements.iter().find(|s| s.statement_id == id) else {
        tally
            .mismatches
            .push(format!("{file}: no statement with id {id:?}"));
        return;
    };
    if let Some(identification) = record
        .pointer("/getAccount/getIdentification")
        .and_then(Value::as_str)
    {
        tally.check(file, "account", identification, &statement.account.id);
    }
    let mut expected_types: BTreeMap<String, usize> = BTreeMap::new();
    for balance in record
        .get("getBalances")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = balance.get("getType").and_then(Value::as_str).unwrap_or("");
        let ours_kind = |b: &BalanceKind| match kind {
            "opening" => b.is_opening(),
            "closing" => *b == BalanceKind::ClosingBooked,
            "opening_available" => *b == BalanceKind::OpeningAvailable,
            "closing_available" => *b == BalanceKind::ClosingAvailable,
            "forward_available" => *b == BalanceKind::ForwardAvailable,
            "interim_available" => *b == BalanceKind::InterimAvailable,
            "interim" => *b == BalanceKind::InterimBooked,
            "expected_credit" => matches!(b, BalanceKind::Other(c) if c == "XPCD"),
            "information" => matches!(b, BalanceKind::Other(c) if c == "INFO"),
            _ => false,
        };
        let nth = expected_types.entry(kind.to_string()).or_default();
        let ours: Vec<_> = statement
            .balances
            .iter()
            .filter(|b| ours_kind(&b.kind))
            .collect();
        let Some(balance_ours) = ours.get(*nth) else {
            tally
                .mismatches
                .push(format!("{file}: balance {kind} #{nth}: missing"));
            continue;
        };
        *nth += 1;
        let currency = balance
            .pointer("/getAmount/getCurrency/getCode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let amount = balance
            .pointer("/getAmount/getAmount")
            .and_then(Value::as_str)
            .unwrap_or("");
        tally.decimal(
            file,
            &format!("balance {kind} amount"),
            amount,
            minor_units(balance_ours.amount, currency),
        );
        tally.check(
            file,
            &format!("balance {kind} currency"),
            currency,
            &balance_ours.currency,
        );
        if let Some(date) = balance.get("getDate").and_then(date_of) {
            tally.check(
                file,
                &format!("balance {kind} date"),
                date,
                balance_ours.date.map(|d| d.to_string()).unwrap_or_default(),
            );
        }
    }
    let entries = json
        .get("getEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for entry in entries.filter(|e| e.is_object()) {
        let index = entry.get("getIndex").and_then(Value::as_u64).unwrap_or(0) as usize;
        let Some(ours) = statement.entries.get(index) else {
            tally
                .mismatches
                .push(format!("{file}: entry {index}: missing"));
            continue;
        };
        let currency = entry
            .pointer("/getAmount/getCurrency/getCode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let amount = entry
            .pointer("/getAmount/getAmount")
            .and_then(Value::as_str)
            .unwrap_or("");
        tally.decimal(
            file,
            &format!("entry {index} amount"),
            amount,
            minor_units(ours.amount, currency),
        );
        tally.check(
            file,
            &format!("entry {index} currency"),
            currency,
            &ours.currency,
        );
        for (field, ours_date) in [
            ("getBookingDate", ours.booking_date),
            ("getValueDate", ours.value_date),
        ] {
            if let Some(date) = entry.get(field).and_then(date_of) {
                tally.check(
                    file,
                    &format!("entry {index} {field}"),
                    date,
                    ours_date.map(|d| d.to_string()).unwrap_or_default(),
                );
            }
        }
        if let Some(reference) = entry
            .get("getAccountServicerReference")
            .and_then(Value::as_str)
        {
            tally.check(
                file,
                &format!("entry {index} AcctSvcrRef"),
                reference,
                ours.bank_ref.as_deref().unwrap_or(""),
            );
        }
    }
}

/// iso20022.js renders the XML as JSON (fast-xml-parser): `Amt` is
/// `{"#text", "@_Ccy"}`, indicators and dates as in the XML.
fn compare_svapnil(file: &str, expected: &Path, parsed: &ParsedFile, tally: &mut Tally) {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(expected).expect("json")).expect("json");
    let list = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        }
    };
    let statements = list(json.pointer("/Document/BkToCstmrStmt/Stmt"));
    tally.check(
        file,
        "statement count",
        statements.len(),
        parsed.statements.len(),
    );
    let text = |v: Option<&Value>| -> String {
        match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Object(map)) => map.get("#text").map(text_of).unwrap_or_default(),
            _ => String::new(),
        }
    };
    fn text_of(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }
    let signed = |amount: String, indicator: String| -> String {
        if indicator == "DBIT" {
            format!("-{amount}")
        } else {
            amount
        }
    };
    // A `DtTm` without a zone was shifted to UTC by iso20022.js with the
    // time zone of the machine that made the file (2023-09-30T20:00 became
    // 2023-10-01T00:00Z), so only `Dt` dates are comparable.
    let date = |v: Option<&Value>| -> Option<String> {
        let raw = text(v?.get("Dt"));
        (!raw.is_empty()).then(|| raw.get(..10).unwrap_or(&raw).to_string())
    };
    for (s, (expected_statement, ours)) in statements.iter().zip(&parsed.statements).enumerate() {
        tally.check(
            file,
            &format!("stmt {s} id"),
            text(expected_statement.get("Id")),
            &ours.statement_id,
        );
        for balance in list(expected_statement.get("Bal")) {
            let code = text(balance.pointer("/Tp/CdOrPrtry/Cd"));
            let amount = signed(text(balance.get("Amt")), text(balance.get("CdtDbtInd")));
            let ours_balance = ours
                .balances
                .iter()
                .find(|b| BalanceKind::from_code(&code) == b.kind);
            match ours_balance {
                Some(b) => {
                    tally.decimal(file, &format!("stmt {s} balance {code}"), &amount, b.amount);
                    if let Some(expected_date) = date(balance.get("Dt")) {
                        tally.check(
                            file,
                            &format!("stmt {s} balance {code} date"),
                            expected_date,
                            b.date.map(|d| d.to_string()).unwrap_or_default(),
                        );
                    }
                }
                None => tally
                    .mismatches
                    .push(format!("{file}: stmt {s} balance {code} missing")),
            }
        }
        let entries = list(expected_statement.get("Ntry"));
        tally.check(
            file,
            &format!("stmt {s} entry count"),
            entries.len(),
            ours.entries.len(),
        );
        for (e, (expected_entry, entry)) in entries.iter().zip(&ours.entries).enumerate() {
            let amount = signed(
                text(expected_entry.get("Amt")),
                text(expected_entry.get("CdtDbtInd")),
            );
            tally.decimal(
                file,
                &format!("stmt {s} entry {e} amount"),
                &amount,
                entry.amount,
            );
            for (name, ours_date) in [("BookgDt", entry.booking_date), ("ValDt", entry.value_date)]
            {
                if let Some(expected_date) = date(expected_entry.get(name)) {
                    tally.check(
                        file,
                        &format!("stmt {s} entry {e} {name}"),
                        expected_date,
                        ours_date.map(|d| d.to_string()).unwrap_or_default(),
                    );
                }
            }
        }
    }
}

/// moov-io/iso20022 remt: a Go struct dump; this one holds a group header
/// and no `RmtInf`, so no advice.
fn compare_moov_remt(file: &str, expected: &Path, parsed: &ParsedFile, tally: &mut Tally) {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(expected).expect("json")).expect("json");
    let advices = match json.pointer("/Message/RmtInf") {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Object(_)) => 1,
        _ => 0,
    };
    tally.check(file, "advice count", advices, parsed.advices.len());
}

/// Odoo OCA's importer output, a Python literal:
/// `(currency, account, [{balance_start, balance_end_real, name, date,
/// transactions: [{amount, date, ...}]}])`. OCA makes one transaction per
/// `TxDtls` of a batch entry, so amounts compare with our details.
fn compare_oca(file: &str, expected: &Path, parsed: &ParsedFile, tally: &mut Tally) {
    let text = std::fs::read_to_string(expected).expect("pydata");
    let value = python_literal(&text).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    let items = value.as_array().expect("a tuple");
    let statements = items
        .get(2)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Odoo's importer drops a statement without transactions; so does the
    // comparison.
    let ours_with_lines: Vec<&Statement> = parsed
        .statements
        .iter()
        .filter(|s| !s.entries.is_empty())
        .collect();
    tally.check(
        file,
        "statement count (with transactions)",
        statements.len(),
        ours_with_lines.len(),
    );
    if let Some(Value::String(account)) = items.get(1)
        && let Some(first) = parsed.statements.first()
    {
        tally.check(file, "account", account, &first.account.id);
    }
    if let Some(Value::String(currency)) = items.first()
        && let Some(first) = parsed.statements.first()
    {
        tally.check(file, "currency", currency, first.currency().unwrap_or(""));
    }
    for (s, (expected_statement, ours)) in statements.iter().zip(ours_with_lines).enumerate() {
        let number = |key: &str| {
            expected_statement
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let (Some(start), Some(b)) = (number("balance_start"), ours.opening_balance()) {
            tally.decimal(file, &format!("stmt {s} balance_start"), &start, b.amount);
        }
        if let (Some(end), Some(b)) = (number("balance_end_real"), ours.closing_balance()) {
            tally.decimal(file, &format!("stmt {s} balance_end_real"), &end, b.amount);
        }
        let transactions = expected_statement
            .get("transactions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let lines = transaction_lines(ours);
        tally.check(
            file,
            &format!("stmt {s} transaction count"),
            transactions.len(),
            lines.len(),
        );
        for (t, (expected_tx, (amount, date))) in transactions.iter().zip(&lines).enumerate() {
            if let Some(Value::String(value)) = expected_tx.get("amount") {
                tally.decimal(file, &format!("stmt {s} tx {t} amount"), value, *amount);
            }
            if let Some(Value::String(value)) = expected_tx.get("date") {
                tally.check(file, &format!("stmt {s} tx {t} date"), value, date);
            }
        }
    }
}

/// Our transactions as OCA counts them: a batch entry's details (signed by
/// the entry when they carry no amount of their own), else the entry.
fn transaction_lines(statement: &Statement) -> Vec<(Decimal, String)> {
    let mut lines = Vec::new();
    for entry in &statement.entries {
        let date = entry
            .booking_date
            .or(entry.value_date)
            .map(|d| d.to_string())
            .unwrap_or_default();
        if entry.details.len() > 1 && entry.details.iter().all(|d| d.amount.is_some()) {
            for detail in &entry.details {
                lines.push((
                    detail.amount.as_ref().map(|m| m.amount).unwrap_or_default(),
                    date.clone(),
                ));
            }
        } else {
            lines.push((entry.amount, date));
        }
    }
    lines
}

/// A Python literal (tuples, lists, dicts, strings, numbers, None, True,
/// False) as JSON; numbers stay exact as strings.
fn python_literal(text: &str) -> Result<Value, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let value = py_value(&chars, &mut at)?;
    Ok(value)
}

fn py_skip(chars: &[char], at: &mut usize) {
    while *at < chars.len() && (chars[*at].is_whitespace() || chars[*at] == '\\') {
        *at += 1;
    }
}

fn py_value(chars: &[char], at: &mut usize) -> Result<Value, String> {
    py_skip(chars, at);
    let Some(&c) = chars.get(*at) else {
        return Err("unexpected end".into());
    };
    match c {
        '(' | '[' => {
            let close = if c == '(' { ')' } else { ']' };
            *at += 1;
            let mut items = Vec::new();
            loop {
                py_skip(chars, at);
                if chars.get(*at) == Some(&close) {
                    *at += 1;
                    return Ok(Value::Array(items));
                }
                items.push(py_value(chars, at)?);
                py_skip(chars, at);
                if chars.get(*at) == Some(&',') {
                    *at += 1;
                }
            }
        }
        '{' => {
            *at += 1;
            let mut map = serde_json::Map::new();
            loop {
                py_skip(chars, at);
                if chars.get(*at) == Some(&'}') {
                    *at += 1;
                    return Ok(Value::Object(map));
                }
                let key = match py_value(chars, at)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                py_skip(chars, at);
                if chars.get(*at) != Some(&':') {
                    return Err(format!("expected ':' at {at}"));
                }
                *at += 1;
                let value = py_value(chars, at)?;
                map.insert(key, value);
                py_skip(chars, at);
                if chars.get(*at) == Some(&',') {
                    *at += 1;
                }
            }
        }
        '\'' | '"' => {
            // Adjacent literals concatenate: 'a' 'b' == 'ab'.
            let mut out = String::new();
            while let Some(&quote) = chars.get(*at).filter(|q| **q == '\'' || **q == '"') {
                *at += 1;
                while let Some(&ch) = chars.get(*at) {
                    *at += 1;
                    if ch == quote {
                        break;
                    }
                    if ch == '\\' {
                        let escaped = chars.get(*at).copied().unwrap_or('\\');
                        *at += 1;
                        out.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    } else {
                        out.push(ch);
                    }
                }
                py_skip(chars, at);
            }
            Ok(Value::String(out))
        }
        _ => {
            let start = *at;
            while *at < chars.len()
                && !matches!(chars[*at], ',' | ')' | ']' | '}' | ':')
                && !chars[*at].is_whitespace()
            {
                *at += 1;
            }
            let word: String = chars[start..*at].iter().collect();
            Ok(match word.as_str() {
                "None" => Value::Null,
                "True" => Value::Bool(true),
                "False" => Value::Bool(false),
                _ => Value::String(word),
            })
        }
    }
}

/// The remt.001.001.06 sample carries no expected output; its values are
/// read off the XML by hand.
#[test]
fn remt_v06_sample_values() {
    let Some(corpus) = crate::corpus_dir() else {
        eprintln!("corpus: ../shared/corpus absent, remt sample skipped");
        return;
    };
    let path = "remt/pyiso20022/remt_001_001_06.xml";
    let bytes = std::fs::read(corpus.join(path)).expect("sample");
    let parsed = parse_bytes(path, &bytes).expect("parses");
    assert_eq!(parsed.advices.len(), 1);
    let advice = &parsed.advices[0];
    assert_eq!(advice.advice_id, "20240427_121000322_1754_321");
    assert_eq!(advice.payer_name.as_deref(), Some("Payer McTest1"));
    assert_eq!(
        advice.payment_reference.as_deref(),
        Some("Linking ID Example 1")
    );
    let amount = advice.payment_amount.as_ref().expect("amount");
    assert_eq!(
        (amount.amount.to_string().as_str(), amount.currency.as_str()),
        ("7845.61", "USD")
    );
    assert_eq!(
        advice.payment_date.map(|d| d.to_string()).as_deref(),
        Some("2022-07-10")
    );
    let lines: Vec<(&str, String)> = advice
        .lines
        .iter()
        .map(|l| {
            (
                l.invoice_ref.as_str(),
                l.paid_amount.map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("684528", "3916.11".to_string()),
            ("683529", "3916.99".to_string())
        ]
    );
}
