//! One run of the engine, without I/O and without a clock: lines, open
//! items, customers, advices and a config in; every line's decision, the
//! open amounts after, and the journal out.
//!
//! Order of work: indices (parallel) → evidence for all lines (parallel,
//! read-only) → lines split into independent groups (no two groups touch
//! the same customer, item, advice or payer IBAN) → each group's lines
//! decided and committed one at a time in the policy's order (value date,
//! booking date, statement, position), groups in parallel → lettrage codes
//! given in line order. Deciding independent groups apart gives exactly
//! what one pass over all lines would (`run_in_one_group`, tested). The output is a
//! function of the inputs only: never of thread count, input file order or
//! hash-map iteration order.

use std::collections::HashSet;

use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::apply::{Book, IndexMap, InvariantError, NO_GROUP, Slots, lettrage_code};
use crate::config::Config;
use crate::matching::decide::{Kind, Outcome, decide};
use crate::matching::evidence::{Context, Evidence, Scratch, gather_with};
use crate::matching::index::Index;
use crate::matching::settlement::SettlementIndex;
use crate::matching::{Line, lines_into};
use crate::model::{Customer, OpenItem, RemittanceAdvice, Settlement, Statement, Text};

/// Everything a run reads, already parsed.
pub struct RunInputs {
    pub lines: Vec<Line>,
    /// Account ids and IBANs of the statements: the company's own accounts.
    pub own_accounts: HashSet<String>,
    pub items: Vec<OpenItem>,
    pub customers: Vec<Customer>,
    pub advices: Vec<RemittanceAdvice>,
    /// Settlement reports (`--settlements`).
    pub settlements: Vec<Settlement>,
    pub config: Config,
}

impl RunInputs {
    /// Adds a statement's lines (the statement itself is not kept: its text
    /// moves into the lines).
    pub fn add_statement(&mut self, statement: Statement) {
        self.own_accounts.insert(statement.account.id.clone());
        if let Some(iban) = &statement.account.iban {
            self.own_accounts.insert(iban.clone());
        }
        lines_into(statement, &mut self.lines);
    }
}

/// One line's decision. Each group of lines puts its decisions straight
/// into the run's vector (`parallel::scatter_groups`): one place each, no
/// copy, no allocation per outcome.
#[derive(Default)]
pub struct Decision {
    pub outcome: Outcome,
    /// Whether the line settled an invoice, and so takes a lettrage code.
    pub settled: bool,
    /// Its lettrage code's number + 1 (`lettrage`): four bytes a line
    /// where the code itself took 24.
    pub lettrage: Option<std::num::NonZeroU32>,
}

impl Decision {
    /// The line's lettrage code, if it settled an invoice.
    pub fn lettrage_code(&self) -> Option<Text> {
        self.lettrage.map(|n| lettrage_code(u64::from(n.get() - 1)))
    }
}

pub struct RunResult {
    /// In serving order.
    pub lines: Vec<Line>,
    /// Parallel to `lines`.
    pub decisions: Vec<Decision>,
    /// Parallel to `lines`: what each line said about itself.
    pub evidence: Vec<Evidence>,
    pub items: Vec<OpenItem>,
    pub open_after: Vec<Decimal>,
    pub customers: Vec<Customer>,
    pub advices: Vec<RemittanceAdvice>,
    pub settlements: Vec<Settlement>,
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
    run_with(inputs, mark, false)
}

/// `run` with every line in one group, decided strictly one after another:
/// the reference the grouped, parallel run must equal (tested).
pub fn run_in_one_group(inputs: RunInputs) -> Result<RunResult, InvariantError> {
    run_with(inputs, &mut |_| {}, true)
}

/// Open items in the run's canonical order (invoice id, customer id, due
/// date, amounts), whatever order they came in. The keys are unique in
/// files (the readers refuse a repeated id), and the tie-break makes the
/// order total for items built otherwise: any sort gives the same order.
pub fn in_canonical_order(mut items: Vec<OpenItem>) -> Vec<OpenItem> {
    fn item_key(i: &OpenItem) -> (&Text, &Text, NaiveDate, Decimal, Decimal) {
        (
            &i.invoice_id,
            &i.customer_id,
            i.due_date,
            i.amount,
            i.open_amount,
        )
    }
    if !items.is_sorted_by(|a, b| item_key(a) <= item_key(b)) {
        // Nearly sorted (by number, but for credit notes written beside
        // their invoices, say): dealt onto a few rising piles that are
        // merged, and the items moved once, in place.
        let cmp = |a: &OpenItem, b: &OpenItem| item_key(a).cmp(&item_key(b));
        match crate::parallel::nearly_sorted_order(&items, cmp) {
            Some(order) => items = crate::parallel::permuted(items, &order),
            None => items.par_sort_unstable_by(cmp),
        }
    }
    items
}

fn run_with(
    inputs: RunInputs,
    mark: &mut dyn FnMut(&'static str),
    one_group: bool,
) -> Result<RunResult, InvariantError> {
    let RunInputs {
        mut lines,
        own_accounts,
        mut items,
        mut customers,
        mut advices,
        mut settlements,
        config,
    } = inputs;
    // Items and customers in a canonical order, whatever order their files
    // list them in: every tie broken by item or customer index (rows of a
    // line, twins, subsets, name candidates) is then broken the same way
    // for the same data. Checked first: files are often sorted already
    // (and `batch` orders the items while the statements are still read).
    items = in_canonical_order(items);
    if !customers
        .windows(2)
        .all(|w| w[0].customer_id <= w[1].customer_id)
    {
        customers
            .par_sort_unstable_by(|a, b| (&a.customer_id, &a.name).cmp(&(&b.customer_id, &b.name)));
    }
    // Advices in a fixed order whatever order their files came in.
    advices.sort_by(|a, b| (&a.advice_id, &a.source).cmp(&(&b.advice_id, &b.source)));
    settlements.sort_by(|a, b| (&a.settlement_id, &a.source).cmp(&(&b.settlement_id, &b.source)));
    // Order keys are unique (statement key, position, detail), so an
    // unstable sort is deterministic, and it needs no copy of the lines.
    // `batch` gives them merged in this order already.
    if !lines.is_sorted_by(|a, b| a.order_key() <= b.order_key()) {
        lines.par_sort_unstable_by(|a, b| a.order_key().cmp(&b.order_key()));
    }
    mark("sort");
    let mut index = Index::build(&items, &customers, &advices);
    mark("index");
    let settlement_index = SettlementIndex::build(&settlements);
    // The context of the evidence scan, and again of the decisions once
    // the key tables are released.
    macro_rules! context {
        ($index:expr, $plans:expr) => {
            Context {
                index: $index,
                items: &items,
                advices: &advices,
                config: &config,
                own_accounts: &own_accounts,
                settlements: &settlements,
                settlement_plans: $plans,
                settlement_index: &settlement_index,
            }
        };
    }
    let settlement_plans = crate::matching::settlement::plans(&settlements, &context!(&index, &[]));
    let (evidence, receipts) = {
        let cx = context!(&index, &settlement_plans);
        let mut evidence: Vec<Evidence> = lines
            .par_iter()
            .map_init(Scratch::default, |scratch, line| {
                gather_with(line, &cx, scratch)
            })
            .collect();
        let receipts = crate::matching::returns::tie_returns(&lines, &mut evidence, &cx);
        (evidence, receipts)
    };
    // Only the text scan looks keys up: their tables (a third of a GB at
    // two million items) are given back for the decisions to reuse.
    index.release_key_tables();
    let cx = context!(&index, &settlement_plans);
    mark("evidence");
    let (groups, slots) = if one_group {
        (vec![(0..lines.len()).collect()], None)
    } else {
        let (groups, customer_group) = independent_groups(&lines, &evidence, &cx);
        let slots = item_slots(&index, &customer_group, groups.len());
        (groups, Some(slots))
    };
    if std::env::var_os("RECON_DEBUG_GROUPS").is_some() {
        let largest = groups.iter().map(Vec::len).max().unwrap_or(0);
        eprintln!(
            "groups: {} for {} lines, largest {largest}",
            groups.len(),
            lines.len()
        );
    }
    mark("groups");
    // Each group in line order on one thread; groups in parallel. No two
    // groups touch the same item, advice, customer or payer IBAN, so this
    // gives what one pass over all lines in order would.
    // Every decision's place, touched first here by every thread rather
    // than in the one-core part below (fresh memory is dear).
    let mut decisions: Vec<Decision> = (0..lines.len())
        .into_par_iter()
        .map(|_| Decision::default())
        .collect();
    let decided: Vec<Result<Vec<(u32, Decimal)>, InvariantError>> =
        crate::parallel::scatter_groups(&mut decisions, &groups, |number, places| {
            let mut book = match &slots {
                Some(slots) => Book::for_group(&items, slots, number as u32),
                None => Book::new(&items),
            };
            for &at in places.positions() {
                let line = &lines[at];
                let mut outcome = decide(line, &evidence[at], &cx, &book);
                outcome.shrink();
                let settled = book.commit(line, &outcome).map_err(|mut error| {
                    error.message = format!(
                        "{} (rule {}: {})",
                        error.message,
                        outcome.rule,
                        outcome.notes_text(line, &evidence[at], &items, "; ")
                    );
                    error
                })?;
                if receipts.binary_search(&(at as u32)).is_ok() {
                    book.note_receipt(at as u32, &outcome);
                }
                if let Some(receipt) = evidence[at].receipt {
                    for row in outcome
                        .proposals
                        .iter()
                        .filter(|p| p.amount.is_sign_negative())
                    {
                        if let (Kind::Invoice, Some(item)) = (row.kind, row.item) {
                            book.take_receipt(receipt, item, -row.amount);
                        }
                    }
                }
                places.put(Decision {
                    outcome,
                    settled,
                    lettrage: None,
                });
            }
            Ok(book.changes().collect())
        });
    // In parallel: each item is a cache miss (two million of 160 bytes).
    let mut open_after: Vec<Decimal> = items.par_iter().map(|i| i.open_amount).collect();
    // The first error in group order, whatever the threads.
    for changes in decided {
        for (item, open) in changes? {
            open_after[item as usize] = open;
        }
    }
    // The groups cover every line; a line left out would keep an empty
    // outcome, which does not add up to a non-zero line's amount: the
    // output checks refuse it.
    // Lettrage codes in line order, one per bank line that settles an
    // invoice; the details of a batch entry share their line's.
    let mut next_code = 0u32;
    let mut last: Option<(usize, std::num::NonZeroU32)> = None;
    for (at, decision) in decisions.iter_mut().enumerate() {
        if !decision.settled {
            continue;
        }
        let code = match last {
            Some((previous, code)) if lines[previous].line_id == lines[at].line_id => code,
            _ => {
                next_code += 1;
                std::num::NonZeroU32::new(next_code).expect("counted from 1")
            }
        };
        last = Some((at, code));
        decision.lettrage = Some(code);
    }
    mark("decide");
    // The matching's own tables are freed on a thread of their own: freeing
    // their millions of allocations took a fifth of a second of a
    // million-line run, one core while the other waited; beside the
    // writing, their memory is given back for the output buffers to reuse
    // (kept instead, the run took 100 MB more from the system).
    let scaffolding = (index, settlement_plans, settlement_index, groups, slots);
    let index = &scaffolding.0;
    let mut customer_ids: Vec<String> = vec![String::new(); index.customer_names.len()];
    for (id, &i) in &index.customer_ids {
        customer_ids[i as usize] = id.clone();
    }
    // Should no thread be had, the tables are freed here, as the closure is.
    let _ = std::thread::Builder::new()
        .name("recon-free".into())
        .spawn(move || drop(scaffolding));
    Ok(RunResult {
        lines,
        decisions,
        evidence,
        items,
        open_after,
        customers,
        advices,
        settlements,
        customer_ids,
        config,
    })
}

/// Lines that may touch the same open state, as groups of line positions in
/// line order, groups ordered by their first line.
///
/// A line's footprint: the customers of every item it references or that an
/// advice it links could name, its payer (identified or candidate), the
/// advices it links, and its payer IBAN (a line may teach an IBAN that a
/// later line is identified by). Lines sharing any of these are joined
/// (union-find); lines in different groups never read or change the same
/// open amount, advice, learned IBAN or customer history.
/// Also returns each customer's group (`NO_GROUP` when no line touches it).
pub fn independent_groups(
    lines: &[Line],
    evidence: &[Evidence],
    cx: &Context<'_>,
) -> (Vec<Vec<usize>>, Vec<u32>) {
    let customers = cx.index.customer_names.len();
    let advices = cx.advices.len() + cx.settlements.len();
    let footprints: Vec<Vec<u32>> = lines
        .par_iter()
        .zip(evidence)
        .map(|(_, evidence)| {
            let mut nodes: Vec<u32> = Vec::new();
            let customer_of = |item: u32| cx.index.item_customer[item as usize];
            nodes.extend(evidence.references.iter().map(|h| customer_of(h.item)));
            nodes.extend(evidence.payer.iter().map(|p| p.customer));
            nodes.extend(evidence.payer_candidates.iter().map(|c| c.0));
            for &(advice, _) in &evidence.advices {
                nodes.push((customers + advice as usize) as u32);
                for at in 0..cx.advices[advice as usize].lines.len() {
                    nodes.extend(
                        cx.index
                            .advice_line_items(advice, at)
                            .iter()
                            .map(|&item| customer_of(item)),
                    );
                }
            }
            if let Some((settlement, _)) = evidence.settlement {
                // Settlement nodes after the advices'.
                nodes.push((customers + cx.advices.len() + settlement as usize) as u32);
                for plan in &cx.settlement_plans[settlement as usize] {
                    nodes.extend(plan.customer);
                    nodes.extend(plan.items.iter().map(|&i| customer_of(i)));
                }
            }
            nodes.sort_unstable();
            nodes.dedup();
            nodes
        })
        .collect();
    // IBAN nodes after customers and advices.
    let mut ibans: IndexMap<&str, u32> = IndexMap::default();
    let mut iban_node: Vec<Option<u32>> = Vec::with_capacity(lines.len());
    for line in lines {
        iban_node.push(if line.payer_iban.is_empty() {
            None
        } else {
            let next = (customers + advices + ibans.len()) as u32;
            Some(*ibans.entry(line.payer_iban.as_str()).or_insert(next))
        });
    }
    let mut parent: Vec<u32> = (0..(customers + advices + ibans.len()) as u32).collect();
    fn root(parent: &mut [u32], mut node: u32) -> u32 {
        while parent[node as usize] != node {
            let up = parent[parent[node as usize] as usize];
            parent[node as usize] = up;
            node = up;
        }
        node
    }
    let mut line_root: Vec<Option<u32>> = Vec::with_capacity(lines.len());
    for (nodes, iban) in footprints.iter().zip(&iban_node) {
        let mut all = nodes.iter().copied().chain(*iban);
        let first = all.next();
        if let Some(first) = first {
            let mut anchor = root(&mut parent, first);
            for node in all {
                let other = root(&mut parent, node);
                if other != anchor {
                    // The smaller index wins: the result does not depend on
                    // the order of unions.
                    let (keep, drop) = if other < anchor {
                        (other, anchor)
                    } else {
                        (anchor, other)
                    };
                    parent[drop as usize] = keep;
                    anchor = keep;
                }
            }
        }
        line_root.push(first);
    }
    // Each root's group, by node (`usize::MAX`: none yet).
    let mut group_of_root: Vec<usize> = vec![usize::MAX; parent.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut customer_group = vec![NO_GROUP; customers];
    for (at, first) in line_root.into_iter().enumerate() {
        match first {
            None => groups.push(vec![at]),
            Some(node) => {
                let r = root(&mut parent, node) as usize;
                match group_of_root[r] {
                    usize::MAX => {
                        group_of_root[r] = groups.len();
                        groups.push(vec![at]);
                    }
                    g => groups[g].push(at),
                }
            }
        }
    }
    for (customer, group) in customer_group.iter_mut().enumerate() {
        let r = root(&mut parent, customer as u32) as usize;
        if group_of_root[r] != usize::MAX {
            *group = group_of_root[r] as u32;
        }
    }
    (groups, customer_group)
}

/// Each item's group (its customer's) and slot in that group's book.
fn item_slots(index: &Index, customer_group: &[u32], groups: usize) -> Slots {
    let items = index.item_customer.len();
    let mut slots = Slots {
        group: vec![NO_GROUP; items],
        slot: vec![0; items],
        sizes: vec![0; groups],
    };
    for (item, &customer) in index.item_customer.iter().enumerate() {
        let group = customer_group[customer as usize];
        if group != NO_GROUP {
            slots.group[item] = group;
            slots.slot[item] = slots.sizes[group as usize];
            slots.sizes[group as usize] += 1;
        }
    }
    slots
}
