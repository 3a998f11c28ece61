//! `recon eval RUN_DIR TRUTH`: scores a run's `allocations.csv` and
//! `exceptions.csv` against the `truth.csv` of a generated data set
//! (`synth`), overall and per situation.
//!
//! Why these metrics: the policy's first rule is that a wrong application
//! is far worse than an exception, so precision is measured by amount
//! (money lettered to the wrong invoice), apart from how much was matched
//! automatically (auto-match rate) and how useful the exceptions are
//! (right reason, right first suggestions).
//!
//! Rows are joined on `bank_ref`, which the generator makes unique per
//! line. Pure: `evaluate` takes the three files' text; only `evaluate_dir`
//! reads files. Amounts are exact `Decimal`s; rates are `f64` for display.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::money::parse_amount;

/// Suggestions read per exception: the contract writes at most three.
pub const SUGGESTIONS_MAX: usize = 3;

/// Counts and sums of one group of lines (a situation, or all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Truth lines in the group.
    pub lines: u64,
    /// Truth lines found in neither allocations nor exceptions.
    pub lines_missing: u64,
    /// Sum of |amount| of the engine's invoice rows.
    pub applied_amount: Decimal,
    /// The part of `applied_amount` that went to an invoice the line does
    /// not settle, or beyond what it settles on that invoice.
    pub wrong_amount: Decimal,
    pub matchable_lines: u64,
    /// Sum of |line amount| of the matchable lines.
    pub matchable_value: Decimal,
    /// Matchable lines whose invoice rows are exactly the expected ones.
    pub auto_matched_lines: u64,
    pub auto_matched_value: Decimal,
    /// Lines whose truth names a customer.
    pub customer_lines: u64,
    /// Of those, lines whose allocations name that customer (every one of
    /// them, for a batch naming several).
    pub customer_identified: u64,
    /// Lines whose truth expects an exception reason.
    pub exceptions_expected: u64,
    /// Of those, lines with an exception row carrying that reason.
    pub exceptions_correct: u64,
    /// Matchable lines not auto-matched and routed to exceptions.
    pub suggestion_lines: u64,
    /// Of those, lines where one of the first `SUGGESTIONS_MAX` suggestions
    /// is exactly the expected invoice set.
    pub suggestion_hits: u64,
    /// `not_receivable` lines (credits and debits) with invoice rows.
    pub non_receivable_applied: u64,
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn ratio(part: Decimal, whole: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    if whole.is_zero() {
        return None;
    }
    (part / whole).to_f64()
}

impl Metrics {
    /// 1 - wrong / applied; 1 when nothing was applied.
    pub fn precision(&self) -> f64 {
        ratio(self.wrong_amount, self.applied_amount).map_or(1.0, |wrong| 1.0 - wrong)
    }

    pub fn auto_match_rate(&self) -> Option<f64> {
        rate(self.auto_matched_lines, self.matchable_lines)
    }

    pub fn auto_match_rate_by_value(&self) -> Option<f64> {
        ratio(self.auto_matched_value, self.matchable_value)
    }

    pub fn customer_identified_rate(&self) -> Option<f64> {
        rate(self.customer_identified, self.customer_lines)
    }

    pub fn exception_correct_rate(&self) -> Option<f64> {
        rate(self.exceptions_correct, self.exceptions_expected)
    }

    pub fn suggestion_hit_rate(&self) -> Option<f64> {
        rate(self.suggestion_hits, self.suggestion_lines)
    }

    fn add(&mut self, line: &LineScore) {
        self.lines += 1;
        self.lines_missing += u64::from(line.missing);
        self.applied_amount += line.applied;
        self.wrong_amount += line.wrong;
        if line.matchable {
            self.matchable_lines += 1;
            self.matchable_value += line.amount.abs();
            if line.auto_matched {
                self.auto_matched_lines += 1;
                self.auto_matched_value += line.amount.abs();
            }
        }
        if let Some(identified) = line.customer_identified {
            self.customer_lines += 1;
            self.customer_identified += u64::from(identified);
        }
        if let Some(correct) = line.exception_correct {
            self.exceptions_expected += 1;
            self.exceptions_correct += u64::from(correct);
        }
        if let Some(hit) = line.suggestion_hit {
            self.suggestion_lines += 1;
            self.suggestion_hits += u64::from(hit);
        }
        self.non_receivable_applied += u64::from(line.non_receivable_applied);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "lines": self.lines,
            "lines_missing": self.lines_missing,
            "applied_amount": self.applied_amount.to_string(),
            "wrong_amount": self.wrong_amount.to_string(),
            "precision": self.precision(),
            "matchable_lines": self.matchable_lines,
            "matchable_value": self.matchable_value.to_string(),
            "auto_matched_lines": self.auto_matched_lines,
            "auto_matched_value": self.auto_matched_value.to_string(),
            "auto_match_rate": self.auto_match_rate(),
            "auto_match_rate_by_value": self.auto_match_rate_by_value(),
            "customer_lines": self.customer_lines,
            "customer_identified": self.customer_identified,
            "customer_identified_rate": self.customer_identified_rate(),
            "exceptions_expected": self.exceptions_expected,
            "exceptions_correct": self.exceptions_correct,
            "exception_correct_rate": self.exception_correct_rate(),
            "suggestion_lines": self.suggestion_lines,
            "suggestion_hits": self.suggestion_hits,
            "suggestion_hit_rate": self.suggestion_hit_rate(),
            "non_receivable_applied": self.non_receivable_applied,
        })
    }
}

/// The score of one truth line.
struct LineScore {
    amount: Decimal,
    missing: bool,
    applied: Decimal,
    wrong: Decimal,
    matchable: bool,
    auto_matched: bool,
    customer_identified: Option<bool>,
    exception_correct: Option<bool>,
    suggestion_hit: Option<bool>,
    non_receivable_applied: bool,
}

/// A run scored against a truth file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    overall: Metrics,
    situations: BTreeMap<String, Metrics>,
    /// Output rows whose `bank_ref` is empty or not in the truth file.
    rows_unmatched: u64,
}

impl Evaluation {
    pub fn overall(&self) -> &Metrics {
        &self.overall
    }

    pub fn situation(&self, name: &str) -> Option<&Metrics> {
        self.situations.get(name)
    }

    /// Situation names, sorted.
    pub fn situations(&self) -> impl Iterator<Item = (&str, &Metrics)> {
        self.situations.iter().map(|(n, m)| (n.as_str(), m))
    }

    /// Allocation and exception rows that named no truth line.
    pub fn rows_unmatched(&self) -> u64 {
        self.rows_unmatched
    }

    /// One aligned row per situation, then the overall row.
    pub fn table(&self) -> String {
        let percent =
            |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{:.1}", v * 100.0));
        let header = [
            "situation",
            "lines",
            "precision%",
            "auto%",
            "auto%value",
            "customer%",
            "exception%",
            "top3%",
            "wrong_amount",
            "nonrec_applied",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        let row = |name: &str, m: &Metrics| -> Vec<String> {
            vec![
                name.to_string(),
                m.lines.to_string(),
                format!("{:.2}", m.precision() * 100.0),
                percent(m.auto_match_rate()),
                percent(m.auto_match_rate_by_value()),
                percent(m.customer_identified_rate()),
                percent(m.exception_correct_rate()),
                percent(m.suggestion_hit_rate()),
                m.wrong_amount.to_string(),
                m.non_receivable_applied.to_string(),
            ]
        };
        for (name, metrics) in &self.situations {
            rows.push(row(name, metrics));
        }
        rows.push(row("OVERALL", &self.overall));
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for cells in &rows {
            let mut line = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c == 0 {
                    line.push_str(&format!("{cell:<width$}", width = widths[c]));
                } else {
                    line.push_str(&format!("  {cell:>width$}", width = widths[c]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if self.rows_unmatched > 0 {
            out.push_str(&format!(
                "{} output rows named no line of the truth file\n",
                self.rows_unmatched
            ));
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let situations: serde_json::Map<String, Value> = self
            .situations
            .iter()
            .map(|(name, m)| (name.clone(), m.to_json()))
            .collect();
        json!({
            "overall": self.overall.to_json(),
            "situations": situations,
            "rows_unmatched": self.rows_unmatched,
        })
    }
}

/// A CSV read into rows of named columns.
struct Table {
    columns: BTreeMap<String, usize>,
    rows: Vec<csv::StringRecord>,
    name: &'static str,
}

impl Table {
    fn read(name: &'static str, text: &str, required: &[&str]) -> Result<Table, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format!("error: unreadable header in {name}: {e}"))?;
        let columns: BTreeMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        for column in required {
            if !columns.contains_key(*column) {
                return Err(format!("error: {name} has no column {column:?}"));
            }
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                format!("error: unreadable row in {name}:{line}: {e}")
            })?;
            rows.push(record);
        }
        Ok(Table {
            columns,
            rows,
            name,
        })
    }

    fn get<'r>(&self, row: &'r csv::StringRecord, column: &str) -> &'r str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .unwrap_or("")
            .trim()
    }

    fn amount(
        &self,
        row: &csv::StringRecord,
        index: usize,
        column: &str,
    ) -> Result<Decimal, String> {
        let text = self.get(row, column);
        parse_amount(text)
            .map_err(|e| format!("error: bad {column} in {}:{}: {e}", self.name, index + 2))
    }
}

/// `INV=12.50;INV2=-3.00` → invoice → amount (amounts of a repeated
/// invoice add up).
fn amount_pairs(text: &str, what: &str) -> Result<BTreeMap<String, Decimal>, String> {
    let mut pairs = BTreeMap::new();
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .rsplit_once('=')
            .ok_or_else(|| format!("error: expected KEY=amount in {what}, found {pair:?}"))?;
        let value = parse_amount(value).map_err(|e| format!("error: {what}: {e}"))?;
        *pairs.entry(key.trim().to_string()).or_insert(Decimal::ZERO) += value;
    }
    Ok(pairs)
}

/// `INV1+INV2:0.93|INV3:0.71` → the invoice sets, best first.
fn suggestion_sets(text: &str) -> Vec<BTreeSet<String>> {
    text.split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let invoices = s.rsplit_once(':').map_or(s, |(set, _)| set);
            invoices
                .split('+')
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect()
        })
        .collect()
}

/// What the engine wrote for one bank line.
#[derive(Default)]
struct Outcome {
    invoices: BTreeMap<String, Decimal>,
    customers: BTreeSet<String>,
    reasons: BTreeSet<String>,
    suggestions: Vec<BTreeSet<String>>,
    allocated: bool,
    excepted: bool,
}

/// Scores a run. Pure: the three arguments are the files' contents.
pub fn evaluate(
    allocations_csv: &str,
    exceptions_csv: &str,
    truth_csv: &str,
) -> Result<Evaluation, String> {
    let truth = Table::read(
        "truth.csv",
        truth_csv,
        &[
            "bank_ref",
            "situation",
            "matchable",
            "customer_id",
            "amount",
            "expected_invoices",
            "expected_reason",
        ],
    )?;
    let allocations = Table::read(
        "allocations.csv",
        allocations_csv,
        &["bank_ref", "invoice_id", "customer_id", "amount", "kind"],
    )?;
    let exceptions = Table::read(
        "exceptions.csv",
        exceptions_csv,
        &["bank_ref", "reason", "suggestions"],
    )?;

    let known: BTreeSet<&str> = truth
        .rows
        .iter()
        .map(|r| truth.get(r, "bank_ref"))
        .collect();
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut evaluation = Evaluation::default();
    for (index, row) in allocations.rows.iter().enumerate() {
        let bank_ref = allocations.get(row, "bank_ref");
        if !known.contains(bank_ref) {
            evaluation.rows_unmatched += 1;
            continue;
        }
        let outcome = outcomes.entry(bank_ref.to_string()).or_default();
        outcome.allocated = true;
        let customer = allocations.get(row, "customer_id");
        if !customer.is_empty() {
            outcome.customers.insert(customer.to_string());
        }
        let invoice = allocations.get(row, "invoice_id");
        let kind = allocations.get(row, "kind");
        if kind == "invoice" || (kind.is_empty() && !invoice.is_empty()) {
            let amount = allocations.amount(row, index, "amount")?;
            *outcome
                .invoices
                .entry(invoice.to_string())
                .or_insert(Decimal::ZERO) += amount;
        }
    }
    for row in &exceptions.rows {
        let bank_ref = exceptions.get(row, "bank_ref");
        if !known.contains(bank_ref) {
            evaluation.rows_unmatched += 1;
            continue;
        }
        let outcome = outcomes.entry(bank_ref.to_string()).or_default();
        outcome.excepted = true;
        let reason = exceptions.get(row, "reason");
        if !reason.is_empty() {
            outcome.reasons.insert(reason.to_string());
        }
        let room = SUGGESTIONS_MAX.saturating_sub(outcome.suggestions.len());
        outcome.suggestions.extend(
            suggestion_sets(exceptions.get(row, "suggestions"))
                .into_iter()
                .take(room),
        );
    }

    let empty = Outcome::default();
    for (index, row) in truth.rows.iter().enumerate() {
        let where_ = |column: &str| format!("truth.csv:{} column {column}", index + 2);
        let bank_ref = truth.get(row, "bank_ref");
        let situation = truth.get(row, "situation");
        let matchable = match truth.get(row, "matchable") {
            "true" => true,
            "false" => false,
            other => {
                return Err(format!(
                    "error: expected true or false in {}, found {other:?}",
                    where_("matchable")
                ));
            }
        };
        let amount = truth.amount(row, index, "amount")?;
        let expected = amount_pairs(
            truth.get(row, "expected_invoices"),
            &where_("expected_invoices"),
        )?;
        let reason = truth.get(row, "expected_reason");
        let customers: Vec<&str> = truth
            .get(row, "customer_id")
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let outcome = outcomes.get(bank_ref).unwrap_or(&empty);
        let applied: Decimal = outcome.invoices.values().map(|a| a.abs()).sum();
        let mut wrong = Decimal::ZERO;
        for (invoice, got) in &outcome.invoices {
            wrong += match expected.get(invoice) {
                None => got.abs(),
                Some(want)
                    if got.is_sign_negative() != want.is_sign_negative() && !got.is_zero() =>
                {
                    got.abs()
                }
                Some(want) => (got.abs() - want.abs()).max(Decimal::ZERO),
            };
        }
        let applied_rows: BTreeMap<&String, &Decimal> = outcome
            .invoices
            .iter()
            .filter(|(_, a)| !a.is_zero())
            .collect();
        let expected_rows: BTreeMap<&String, &Decimal> = expected.iter().collect();
        let auto_matched = !expected.is_empty() && applied_rows == expected_rows;
        let expected_set: BTreeSet<String> = expected.keys().cloned().collect();
        let score = LineScore {
            amount,
            missing: !outcome.allocated && !outcome.excepted,
            applied,
            wrong,
            matchable,
            auto_matched,
            customer_identified: (!customers.is_empty())
                .then(|| customers.iter().all(|c| outcome.customers.contains(*c))),
            exception_correct: (!reason.is_empty()).then(|| outcome.reasons.contains(reason)),
            suggestion_hit: (matchable && !auto_matched && outcome.excepted)
                .then(|| outcome.suggestions.contains(&expected_set)),
            non_receivable_applied: reason == "not_receivable" && !applied_rows.is_empty(),
        };
        evaluation.overall.add(&score);
        evaluation
            .situations
            .entry(situation.to_string())
            .or_default()
            .add(&score);
    }
    Ok(evaluation)
}

/// Reads `RUN_DIR/allocations.csv`, `RUN_DIR/exceptions.csv` and the truth
/// file, then `evaluate`s them.
pub fn evaluate_dir(run_dir: &Path, truth: &Path) -> Result<Evaluation, String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| format!("error: cannot read {}: {e}", path.display()))
    };
    let allocations = read(&run_dir.join("allocations.csv"))?;
    let exceptions = read(&run_dir.join("exceptions.csv"))?;
    let truth = read(truth)?;
    evaluate(&allocations, &exceptions, &truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUTH: &str = "\
bank_ref,situation,matchable,customer_id,amount,expected_invoices,expected_adjustments,expected_reason
B1,clean,true,C1,100.00,FA-1=100.00,,
B2,clean,true,C2,200.00,FA-2=200.00,,
B3,iban_only,true,C4,50.00,FA-4=50.00,,
B4,not_receivable,false,,30.00,,,not_receivable
B5,overpayment,true,C5,120.00,FA-6=100.00,,overpayment
";

    const ALLOCATIONS: &str = "\
line_id,bank_ref,value_date,invoice_id,customer_id,amount,currency,kind,rule,confidence,lettrage
L1,B1,2026-03-02,FA-1,C1,100.00,EUR,invoice,reference,0.990,AA
L2,B2,2026-03-02,FA-3,C3,200.00,EUR,invoice,reference,0.800,AB
L5,B5,2026-03-03,FA-6,C5,100.00,EUR,invoice,reference,0.990,AC
";

    const EXCEPTIONS: &str = "\
line_id,bank_ref,value_date,amount,direction,currency,reason,suggestions,payer_name,remittance_text
L3,B3,2026-03-02,50.00,credit,EUR,no_candidate,FA-5:0.40|FA-4:0.35,ACME,
L4,B4,2026-03-02,30.00,credit,EUR,not_receivable,,DGFIP,REMBOURSEMENT TVA
L5,B5,2026-03-03,20.00,credit,EUR,overpayment,,X,FA-6
";

    fn d(text: &str) -> Decimal {
        parse_amount(text).expect("amount")
    }

    #[test]
    fn one_right_one_wrong_one_missed() {
        let evaluation = evaluate(ALLOCATIONS, EXCEPTIONS, TRUTH).expect("valid files");
        let overall = evaluation.overall();
        assert_eq!(overall.lines, 5);
        assert_eq!(overall.lines_missing, 0);
        assert_eq!(overall.applied_amount, d("400.00"));
        assert_eq!(overall.wrong_amount, d("200.00"));
        assert_eq!(overall.precision(), 0.5);
        assert_eq!(overall.matchable_lines, 4);
        assert_eq!(overall.matchable_value, d("470.00"));
        assert_eq!(overall.auto_matched_lines, 2);
        assert_eq!(overall.auto_matched_value, d("220.00"));
        assert_eq!(overall.auto_match_rate(), Some(0.5));
        assert_eq!(overall.customer_lines, 4);
        assert_eq!(overall.customer_identified, 2);
        assert_eq!(overall.exceptions_expected, 2);
        assert_eq!(overall.exceptions_correct, 2);
        assert_eq!(overall.suggestion_lines, 1);
        assert_eq!(overall.suggestion_hits, 1);
        assert_eq!(overall.non_receivable_applied, 0);
        assert_eq!(evaluation.rows_unmatched(), 0);

        let clean = evaluation.situation("clean").expect("clean lines");
        assert_eq!(clean.lines, 2);
        assert_eq!(clean.wrong_amount, d("200.00"));
        assert_eq!(clean.auto_matched_lines, 1);
        assert_eq!(clean.customer_identified, 1);
        assert_eq!(
            clean.suggestion_lines, 0,
            "the wrong line went to no exception"
        );
        let missed = evaluation.situation("iban_only").expect("iban_only");
        assert_eq!(missed.auto_matched_lines, 0);
        assert_eq!(missed.suggestion_hits, 1);
        assert_eq!(missed.customer_identified, 0);
        assert!(evaluation.situation("twins").is_none());

        let table = evaluation.table();
        assert!(
            table
                .lines()
                .next()
                .is_some_and(|l| l.starts_with("situation"))
        );
        assert!(
            table
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("OVERALL"))
        );
        assert_eq!(table.lines().count(), 6);
        let json = evaluation.to_json();
        assert_eq!(json["overall"]["wrong_amount"], "200.00");
        assert_eq!(json["situations"]["clean"]["lines"], 2);
        assert_eq!(json["overall"]["auto_match_rate"], 0.5);
    }

    #[test]
    fn excess_and_non_receivables_are_counted() {
        let allocations = "\
bank_ref,invoice_id,customer_id,amount,kind
B1,FA-1,C1,100.00,invoice
B1,,C1,-5.00,writeoff
B4,FA-9,C9,30.00,invoice
B2,FA-2,C2,150.00,invoice
B9,FA-7,C7,1.00,invoice
";
        let truth = "\
bank_ref,situation,matchable,customer_id,amount,expected_invoices,expected_adjustments,expected_reason
B1,small_difference,true,C1,95.00,FA-1=100.00,writeoff=-5.00,
B2,partial,true,C2,150.00,FA-2=120.00,,
B4,not_receivable,false,,30.00,,,not_receivable
B6,clean,true,C6,10.00,FA-8=10.00,,
";
        let evaluation =
            evaluate(allocations, "bank_ref,reason,suggestions\n", truth).expect("valid");
        let overall = evaluation.overall();
        assert_eq!(overall.applied_amount, d("280.00"));
        assert_eq!(
            overall.wrong_amount,
            d("60.00"),
            "30 excess on FA-2 and 30 on a non-receivable"
        );
        assert_eq!(overall.non_receivable_applied, 1);
        assert_eq!(overall.lines_missing, 1);
        assert_eq!(overall.auto_matched_lines, 1);
        assert_eq!(overall.exceptions_correct, 0);
        assert_eq!(evaluation.rows_unmatched(), 1);
    }

    /// An engine that writes exactly what a generated truth file expects
    /// scores perfectly on every situation.
    #[test]
    fn the_truth_itself_scores_perfectly() {
        let mut truth = String::new();
        let options = crate::synth::SynthOptions {
            lines: 600,
            seed: 5,
        };
        crate::synth::generate(&options, &mut |path, bytes| {
            if path == "truth.csv" {
                truth.push_str(std::str::from_utf8(bytes).expect("UTF-8"));
            }
            Ok(())
        })
        .expect("no I/O");
        let mut allocations = String::from("bank_ref,invoice_id,customer_id,amount,kind\n");
        let mut exceptions = String::from("bank_ref,reason,suggestions\n");
        let mut reader = csv::Reader::from_reader(truth.as_bytes());
        for record in reader.records() {
            let record = record.expect("row");
            let customer = record[3].split(';').next().unwrap_or("");
            for pair in record[5].split(';').filter(|p| !p.is_empty()) {
                let (invoice, amount) = pair.split_once('=').expect("pair");
                allocations.push_str(&format!(
                    "{},{invoice},{customer},{amount},invoice\n",
                    &record[0]
                ));
            }
            for customer in record[3].split(';').skip(1) {
                allocations.push_str(&format!("{},,{customer},0.00,bank_fee\n", &record[0]));
            }
            if !record[7].is_empty() {
                exceptions.push_str(&format!("{},{},\n", &record[0], &record[7]));
            }
        }
        let evaluation = evaluate(&allocations, &exceptions, &truth).expect("valid");
        let overall = evaluation.overall();
        assert_eq!(overall.lines, 600);
        assert_eq!(overall.wrong_amount, Decimal::ZERO);
        assert_eq!(overall.auto_match_rate(), Some(1.0));
        assert_eq!(overall.exception_correct_rate(), Some(1.0));
        // A duplicate is an exception only, and exception rows name no
        // customer: it is the one situation never identified.
        for (name, metrics) in evaluation.situations() {
            let expected = if name == "duplicate" {
                0
            } else {
                metrics.customer_lines
            };
            assert_eq!(metrics.customer_identified, expected, "{name}");
        }
        assert_eq!(overall.non_receivable_applied, 0);
        assert!(evaluation.situations().count() >= 18);
    }

    #[test]
    fn a_missing_column_is_named() {
        let error = evaluate("bank_ref\n", EXCEPTIONS, TRUTH).expect_err("no invoice_id");
        assert!(
            error.contains("allocations.csv") && error.contains("invoice_id"),
            "{error}"
        );
    }
}
