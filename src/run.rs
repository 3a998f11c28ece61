//! One run of the engine, without I/O and without a clock: lines, open
//! items, customers, advices and a config in; every line's decision, the
//! open amounts after, and the journal out.
//!
//! Order of work: indices (parallel) → evidence for all lines (parallel,
//! read-only) → decisions committed one line at a time in the policy's
//! order (value date, booking date, statement, position). The output is a
//! function of the inputs only: never of thread count, input file order or
//! hash-map iteration order.

use std::collections::HashSet;

use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::apply::{Book, InvariantError};
use crate::config::Config;
use crate::matching::decide::{Outcome, decide};
use crate::matching::evidence::{Context, Evidence, gather};
use crate::matching::index::Index;
use crate::matching::{Line, lines_of};
use crate::model::{Customer, OpenItem, RemittanceAdvice, Statement};

/// Everything a run reads, already parsed.
pub struct RunInputs {
    pub lines: Vec<Line>,
    /// Account ids and IBANs of the statements: the company's own accounts.
    pub own_accounts: HashSet<String>,
    pub items: Vec<OpenItem>,
    pub customers: Vec<Customer>,
    pub advices: Vec<RemittanceAdvice>,
    pub config: Config,
}

impl RunInputs {
    /// Adds a statement's lines (the statement itself is not kept).
    pub fn add_statement(&mut self, statement: &Statement) {
        self.lines.extend(lines_of(statement));
        self.own_accounts.insert(statement.account.id.clone());
        if let Some(iban) = &statement.account.iban {
            self.own_accounts.insert(iban.clone());
        }
    }
}

/// One line's decision.
pub struct Decision {
    pub outcome: Outcome,
    pub evidence: Evidence,
    pub lettrage: Option<String>,
}

pub struct RunResult {
    /// In serving order.
    pub lines: Vec<Line>,
    /// Parallel to `lines`.
    pub decisions: Vec<Decision>,
    pub items: Vec<OpenItem>,
    pub open_after: Vec<Decimal>,
    pub customers: Vec<Customer>,
    pub advices: Vec<RemittanceAdvice>,
    pub customer_ids: Vec<String>,
    pub config: Config,
}

pub fn run(inputs: RunInputs) -> Result<RunResult, InvariantError> {
    run_marked(inputs, &mut |_| {})
}

/// `run`, calling `mark(stage)` as each stage ends (`sort`, `index`,
/// `evidence`, `decide`): the caller times them; the core reads no clock.
pub fn run_marked(
    inputs: RunInputs,
    mark: &mut dyn FnMut(&'static str),
) -> Result<RunResult, InvariantError> {
    let RunInputs {
        mut lines,
        own_accounts,
        items,
        customers,
        mut advices,
        config,
    } = inputs;
    // Advices in a fixed order whatever order their files came in.
    advices.sort_by(|a, b| (&a.advice_id, &a.source).cmp(&(&b.advice_id, &b.source)));
    // Order keys are unique (statement key, position, detail), so an
    // unstable sort is deterministic, and it needs no copy of the lines.
    lines.par_sort_unstable_by(|a, b| a.order_key().cmp(&b.order_key()));
    mark("sort");
    let index = Index::build(&items, &customers, &advices);
    mark("index");
    let cx = Context {
        index: &index,
        items: &items,
        advices: &advices,
        config: &config,
        own_accounts: &own_accounts,
    };
    let evidence: Vec<Evidence> = lines.par_iter().map(|line| gather(line, &cx)).collect();
    mark("evidence");
    let mut book = Book::new(&items, advices.len());
    let mut decisions = Vec::with_capacity(lines.len());
    for (line, evidence) in lines.iter().zip(evidence) {
        let outcome = decide(line, &evidence, &cx, &book);
        let lettrage = book.commit(line, &outcome).map_err(|mut error| {
            error.message = format!(
                "{} (rule {}: {})",
                error.message,
                outcome.rule,
                outcome.notes.join("; ")
            );
            error
        })?;
        decisions.push(Decision {
            outcome,
            evidence,
            lettrage,
        });
    }
    mark("decide");
    let open_after = book.open_amounts().to_vec();
    let mut customer_ids: Vec<String> = vec![String::new(); index.customer_names.len()];
    for (id, &i) in &index.customer_ids {
        customer_ids[i as usize] = id.clone();
    }
    Ok(RunResult {
        lines,
        decisions,
        items,
        open_after,
        customers,
        advices,
        customer_ids,
        config,
    })
}
