//! Phase 1 of matching: everything a line says about itself, found against
//! the read-only indices. No open amount is read here (they change as lines
//! are committed), so this runs for all lines in parallel and its result
//! never depends on thread scheduling.

use std::collections::HashSet;

use super::Line;
use super::index::{
    DOMAIN_ADVICE, DOMAIN_INVOICE, DOMAIN_PAYMENT_REFERENCE, Index, KeyForm, cents, unpack,
};
use super::text::{KeyHasher, KeyRun, fold, is_valid_rf, name_key, name_similarity, token_spans};
use crate::config::Config;
use crate::model::{OpenItem, RemittanceAdvice};

/// Tokens of one line's text scanned for references: remittance fields are
/// at most 140 characters per line in every format, a few lines per entry;
/// this bounds a pathological line without losing real ones.
pub const TEXT_TOKENS_MAX: usize = 400;

/// Adjacent tokens joined to rebuild a reference a payer split ("FA 2026
/// 000123") or a bank wrapped across lines; RF references printed in groups
/// of four may take up to `RF_TOKENS_MAX`.
pub const JOIN_TOKENS_MAX: usize = 4;
pub const RF_TOKENS_MAX: usize = 8;

/// Name entries scored per line: those sharing the most words with the
/// payer's name. Similar names share words; scoring thousands of entries
/// that share one common word would cost more than the rest of the line.
pub const NAME_CANDIDATES_MAX: usize = 24;

/// The payer name's rarest words whose entries are candidates.
pub const NAME_WORDS_USED: usize = 3;

/// The non-receivable sign of a credit from one of the company's own
/// accounts: decisive, whatever the text says.
pub const INTERNAL_TRANSFER: &str = "internal transfer (own account)";

/// What identified an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    /// A valid ISO 11649 creditor reference equal to the item's.
    Rf = 0,
    /// The item's own payment reference (not RF).
    PaymentReference = 1,
    /// The invoice number as issued.
    InvoiceNumber = 2,
    /// The invoice number with separators, zeros, prefix or year changed.
    InvoiceNumberNoisy = 3,
    /// The last number group alone: counts only if it resolves to one item.
    InvoiceFragment = 4,
}

impl RefKind {
    pub fn rule(self) -> &'static str {
        match self {
            RefKind::Rf => "rf_reference",
            RefKind::PaymentReference => "payment_reference",
            RefKind::InvoiceNumber => "invoice_number",
            RefKind::InvoiceNumberNoisy => "invoice_number_noisy",
            RefKind::InvoiceFragment => "invoice_fragment",
        }
    }

    pub fn confidence(self) -> u16 {
        match self {
            RefKind::Rf => 990,
            RefKind::PaymentReference => 980,
            RefKind::InvoiceNumber => 970,
            RefKind::InvoiceNumberNoisy => 930,
            RefKind::InvoiceFragment => 850,
        }
    }
}

/// Where a reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    Structured,
    EndToEndId,
    RemittanceText,
    OtherText,
    /// The receipt a return takes back (the deposit of a bounced cheque,
    /// the collection of a returned direct debit), found by its cheque
    /// number or end-to-end id: the invoice it paid (`returns::tie_returns`).
    OriginalReceipt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefHit {
    pub item: u32,
    pub kind: RefKind,
    pub found: Found,
    /// The text as it matched (compact).
    pub text: String,
}

/// How the payer was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayerHow {
    /// IBAN listed for the customer in the customers file.
    Iban,
    /// IBAN learned earlier in the run (set by `decide`, not here).
    LearnedIban,
    /// Name or alias, with its similarity.
    Name,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payer {
    pub customer: u32,
    pub how: PayerHow,
    /// 1.0 for an IBAN or an exact normalised name.
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// Items referenced, strongest hit per item, sorted by item.
    pub references: Vec<RefHit>,
    /// Advices linked by payment reference, then by payer + amount + date.
    pub advices: Vec<(u32, &'static str)>,
    pub payer: Option<Payer>,
    /// Customers the name could be when it did not single one out.
    pub payer_candidates: Vec<(u32, f64)>,
    /// Why the line looks like something other than a customer payment.
    pub not_receivable: Option<&'static str>,
    /// The settlement report (payout) this line pays out, and how linked.
    pub settlement: Option<(u32, &'static str)>,
    /// A debit returning an earlier receipt: the rule it decides under
    /// (`returns::return_rule`).
    pub returned: Option<&'static str>,
    /// The line index of the receipt such a debit is tied to by cheque
    /// number or end-to-end id (`returns::tie_returns`).
    pub receipt: Option<u32>,
    /// Whether the payer IBAN is one the customer file names, where the
    /// payer was looked up (`None`: not looked up): the decision asks
    /// again before it learns an IBAN, and the lookup is done here, in
    /// parallel, rather than in the one-core part of the decide stage.
    pub payer_iban_known: Option<bool>,
}

/// Words that mark a credit as no customer's payment (upper case, accents
/// folded), with the name the exception gives. Checked only when nothing
/// ties the line to a customer.
const NOT_RECEIVABLE: &[(&str, &str)] = &[
    ("INTERETS", "interest"),
    ("INTERET CREDITEUR", "interest"),
    ("INTEREST", "interest"),
    ("REMBOURSEMENT TVA", "tax refund"),
    ("REMB TVA", "tax refund"),
    ("CREDIT TVA", "tax refund"),
    ("DGFIP", "tax refund"),
    ("TRESOR PUBLIC", "tax refund"),
    ("IMPOTS", "tax refund"),
    ("TAX REFUND", "tax refund"),
    ("VIREMENT INTERNE", "internal transfer"),
    ("VIR INTERNE", "internal transfer"),
    ("TRANSFERT INTERNE", "internal transfer"),
    ("INTERNAL TRANSFER", "internal transfer"),
    ("INDEMNISATION", "insurance"),
    ("INDEMNITE", "insurance"),
    ("SINISTRE", "insurance"),
    ("SUBVENTION", "subsidy"),
    ("AIDE EXCEPTIONNELLE", "subsidy"),
    ("DIVIDENDE", "dividend"),
    ("APPORT EN COMPTE COURANT", "shareholder loan"),
    ("DEBLOCAGE PRET", "loan"),
    ("DEBLOCAGE DE FONDS", "loan"),
];

pub struct Context<'a> {
    pub index: &'a Index,
    pub items: &'a [OpenItem],
    pub advices: &'a [RemittanceAdvice],
    pub config: &'a Config,
    /// The company's own accounts (statement accounts): a credit from one
    /// of them is an internal transfer.
    pub own_accounts: &'a HashSet<String>,
    /// Settlement reports, their rows' plans and their lookup.
    pub settlements: &'a [crate::model::Settlement],
    pub settlement_plans: &'a [Vec<super::settlement::RowPlan>],
    pub settlement_index: &'a super::settlement::SettlementIndex,
}

pub fn gather(line: &Line, cx: &Context<'_>) -> Evidence {
    gather_with(line, cx, &mut Scratch::default())
}

/// `gather` with the text scans' buffers of `scratch`, reused line after
/// line (`rayon`'s `map_init`).
pub fn gather_with(line: &Line, cx: &Context<'_>, scratch: &mut Scratch) -> Evidence {
    let mut evidence = Evidence::default();
    if !line.is_credit() {
        // Money out: only a return of an earlier receipt is looked into,
        // for the invoice it names.
        if let Some(rule) = super::returns::return_rule(line) {
            evidence.returned = Some(rule);
            scan_references(line, cx, &mut evidence, scratch);
        }
        return evidence;
    }
    scan_references(line, cx, &mut evidence, scratch);
    // A reference that names one invoice outright makes the fuzzy name
    // search moot (the invoice names the customer); exact names and IBANs
    // are still looked up, they cost one hash probe.
    let strong = !evidence.references.is_empty()
        && evidence
            .references
            .iter()
            .all(|h| h.kind <= RefKind::InvoiceNumber);
    identify_payer(line, cx, strong, &mut evidence);
    link_advices_by_amount(line, cx, &mut evidence);
    evidence.settlement =
        super::settlement::link(line, cx, !evidence.references.is_empty(), &mut scratch.link);
    if !line.payer_iban.is_empty() && cx.own_accounts.contains(&line.payer_iban) {
        evidence.not_receivable = Some(INTERNAL_TRANSFER);
    } else if evidence.payer.is_none() {
        // Read only when no customer is identified: that is the only case
        // where `decide` asks.
        let folded = name_key_unsorted(&format!(
            "{} {} {}",
            line.payer_name, line.remittance_text, line.other_text
        ));
        evidence.not_receivable = NOT_RECEIVABLE
            .iter()
            .find(|(word, _)| contains_words(&folded, word))
            .map(|(_, what)| *what);
    }
    // Kept for every line until the files are written: no spare capacity.
    evidence.advices.shrink_to_fit();
    evidence.payer_candidates.shrink_to_fit();
    evidence
}

fn scan_references(line: &Line, cx: &Context<'_>, evidence: &mut Evidence, scratch: &mut Scratch) {
    scratch.found.clear();
    scratch.advices.clear();
    for reference in line
        .creditor_references
        .iter()
        .map(|r| r.as_str())
        .chain(line.referred_documents.iter().map(String::as_str))
    {
        scan_text(reference, Found::Structured, cx, scratch);
    }
    scan_text(&line.end_to_end_id, Found::EndToEndId, cx, scratch);
    scan_text(&line.remittance_text, Found::RemittanceText, cx, scratch);
    scan_text(&line.other_text, Found::OtherText, cx, scratch);
    // Strongest hit per item.
    let hits = &mut scratch.found;
    hits.sort_by_key(|h| (h.item, h.kind));
    hits.dedup_by_key(|h| h.item);
    // Kept for every line until the files are written: exactly as long,
    // and the scratch keeps its buffer for the next line.
    evidence.references = Vec::with_capacity(hits.len());
    evidence.references.append(hits);
    let advices = &mut scratch.advices;
    advices.sort_unstable();
    advices.dedup();
    evidence
        .advices
        .extend(advices.iter().map(|&a| (a, "advice_reference")));
}

/// Whether a stored payment reference, compacted, is `key`: a table hit is
/// only a candidate.
fn is_reference(stored: Option<&str>, key: &str) -> bool {
    // `compact(stored) == key`, compared as it is compacted.
    stored
        .unwrap_or("")
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .eq(key.bytes())
}

/// A run of tokens to look up: its token span, its key (a range of the
/// scan's key text), and its hash in each table whose key shape admits it
/// (a run starting `RF` + digits only in the payment references').
struct Probe {
    span: (usize, usize),
    key: std::ops::Range<usize>,
    is_rf: bool,
    reference: Option<u64>,
    invoice: Option<u64>,
    advice: Option<u64>,
}

/// A table hit of one text scan, before it is verified: its key is a range
/// of the scan's key text, copied out only for the hits kept.
struct Hit {
    item: u32,
    kind: RefKind,
    /// The token span (a hit inside a longer verified hit's is dropped).
    span: (usize, usize),
    key: std::ops::Range<usize>,
    /// Invoice-key form still to verify; `None` for a payment reference,
    /// already compared in full.
    form: Option<KeyForm>,
}

/// The buffers of the text scans, reused from line to line by one thread
/// (`gather_with`): a line's four scans otherwise take and give back some
/// twenty small allocations.
#[derive(Default)]
pub struct Scratch {
    /// Token spans (byte ranges) of the text scanned.
    words: Vec<(usize, usize)>,
    key: String,
    probes: Vec<Probe>,
    keys: String,
    hits: Vec<Hit>,
    verified: Vec<Option<bool>>,
    /// The line's hits kept so far, all its texts.
    found: Vec<RefHit>,
    advices: Vec<u32>,
    link: super::settlement::LinkScratch,
}

/// Looks up every run of up to `JOIN_TOKENS_MAX` adjacent tokens (up to
/// `RF_TOKENS_MAX` from a token starting `RF` + digits); the hits kept go
/// to `scratch.found`, the advices to `scratch.advices`.
fn scan_text(text: &str, found: Found, cx: &Context<'_>, scratch: &mut Scratch) {
    if text.is_empty() {
        return;
    }
    let Scratch {
        words,
        key,
        probes,
        keys,
        hits,
        verified,
        found: all_hits,
        advices,
        link: _,
    } = scratch;
    // Hits with their token spans: a hit inside a longer hit's span (the
    // "FA 2026" of "FA 2026 000008") is the longer hit's prefix, not a
    // reference of its own.
    hits.clear();
    probes.clear();
    keys.clear();
    words.clear();
    words.extend(token_spans(text).take(TEXT_TOKENS_MAX));
    let word = |(from, to): (usize, usize)| &text[from..to];
    let shapes = &cx.index.shapes;
    // Every run worth a lookup, its key text in `keys`.
    for start in 0..words.len() {
        let first = word(words[start]).as_bytes();
        let rf_start = first.len() >= 2
            && first[..2].eq_ignore_ascii_case(b"RF")
            && first.get(2).is_none_or(u8::is_ascii_digit);
        let join_max = if rf_start {
            RF_TOKENS_MAX
        } else {
            JOIN_TOKENS_MAX
        };
        key.clear();
        // One hash of the key's bytes, put in each table's domain when
        // looked up (`KeyHasher::of_run`).
        let mut run = KeyRun::default();
        let mut has_digit = false;
        for (joined, &span) in words[start..].iter().take(join_max).enumerate() {
            for byte in word(span).bytes() {
                let upper = byte.to_ascii_uppercase();
                run.push(upper);
                key.push(char::from(upper));
                has_digit |= byte.is_ascii_digit();
            }
            if key.len() > 35 {
                break;
            }
            let bytes = key.as_bytes();
            if bytes.len() >= 2 && !shapes.iter().any(|s| s.may_start(bytes[0], bytes[1])) {
                // Every longer run from here starts the same way.
                break;
            }
            if !has_digit || key.len() < 3 {
                continue;
            }
            let is_rf = rf_start && is_valid_rf(key);
            let [invoice_shape, reference_shape, advice_shape] = shapes;
            let reference = reference_shape
                .may_be(bytes)
                .then(|| KeyHasher::of_run(DOMAIN_PAYMENT_REFERENCE, run));
            // An RF reference is never also an invoice number, nor an
            // advice's reference: only the payment references are asked.
            let rf = rf_start && key.starts_with("RF");
            let invoice = (!rf && invoice_shape.may_be(bytes))
                .then(|| KeyHasher::of_run(DOMAIN_INVOICE, run));
            let advice =
                (!rf && advice_shape.may_be(bytes)).then(|| KeyHasher::of_run(DOMAIN_ADVICE, run));
            if reference.is_none() && invoice.is_none() && advice.is_none() {
                continue;
            }
            let from = keys.len();
            keys.push_str(key);
            probes.push(Probe {
                span: (start, start + joined + 1),
                key: from..keys.len(),
                is_rf,
                reference,
                invoice,
                advice,
            });
        }
    }
    // The lookups, a few per line into tables of hundreds of MB: each a
    // cache miss for the bucket's start, then one for its entries. Asked
    // for all at once (prefetched), so that they overlap, before any is
    // read.
    let tables = [
        &cx.index.payment_references,
        &cx.index.invoices,
        &cx.index.advice_references,
    ];
    let hashes = |probe: &Probe| {
        tables
            .into_iter()
            .zip([probe.reference, probe.invoice, probe.advice])
            .filter_map(|(table, hash)| hash.map(|hash| (table, hash)))
    };
    for (table, hash) in probes.iter().flat_map(hashes) {
        table.prefetch_start(hash);
    }
    for (table, hash) in probes.iter().flat_map(hashes) {
        table.prefetch_entries(hash);
    }
    for probe in probes.iter() {
        let key = &keys[probe.key.clone()];
        let (start, end) = probe.span;
        let joined = end - start - 1;
        let references = probe
            .reference
            .map(|hash| cx.index.payment_references.get(hash));
        for item in references.into_iter().flatten() {
            if is_reference(cx.items[item as usize].payment_reference.as_deref(), key) {
                let kind = if probe.is_rf {
                    RefKind::Rf
                } else {
                    RefKind::PaymentReference
                };
                hits.push(Hit {
                    item,
                    kind,
                    span: probe.span,
                    key: probe.key.clone(),
                    form: None,
                });
            }
        }
        let invoices = probe.invoice.map(|hash| cx.index.invoices.get(hash));
        for value in invoices.into_iter().flatten() {
            let (item, form) = unpack(value);
            // A fragment is one token of the remittance text, never a
            // join (joined fragments are dates and amounts) and never an
            // id field (entry references are sequence numbers).
            if form == KeyForm::Fragment && (joined > 0 || found != Found::RemittanceText) {
                continue;
            }
            let kind = match form {
                KeyForm::Exact => RefKind::InvoiceNumber,
                KeyForm::Noisy => RefKind::InvoiceNumberNoisy,
                KeyForm::Fragment => RefKind::InvoiceFragment,
            };
            // Verified below, lazily: only where it decides what counts.
            hits.push(Hit {
                item,
                kind,
                span: probe.span,
                key: probe.key.clone(),
                form: Some(form),
            });
        }
        let advice_hits = probe
            .advice
            .map(|hash| cx.index.advice_references.get(hash));
        for advice_index in advice_hits.into_iter().flatten() {
            if is_reference(
                cx.advices[advice_index as usize]
                    .payment_reference
                    .as_deref(),
                key,
            ) {
                advices.push(advice_index);
            }
        }
    }
    // A hash hit is only a candidate: the item's own number decides (a
    // table lookup may return a value stored under another key), and only a
    // verified hit drops the hits inside it. Checked lazily, longer hits
    // first as needed: a check reads the item, a cache miss, and most hits
    // inside a longer one never need theirs.
    verified.clear();
    verified.resize(hits.len(), None);
    let verify = |at: usize, verified: &mut Vec<Option<bool>>| -> bool {
        *verified[at].get_or_insert_with(|| {
            let hit = &hits[at];
            hit.form.is_none_or(|form| {
                Index::item_has_key(&cx.items[hit.item as usize], &keys[hit.key.clone()], form)
            })
        })
    };
    for at in 0..hits.len() {
        let (from, to) = hits[at].span;
        let inside_verified = (0..hits.len()).any(|other| {
            let (f, t) = hits[other].span;
            f <= from && to <= t && t - f > to - from && verify(other, verified)
        });
        if !inside_verified && verify(at, verified) {
            let hit = &hits[at];
            all_hits.push(RefHit {
                item: hit.item,
                kind: hit.kind,
                found,
                text: keys[hit.key.clone()].to_string(),
            });
        }
    }
}

fn identify_payer(line: &Line, cx: &Context<'_>, skip_fuzzy: bool, evidence: &mut Evidence) {
    let owners = (!line.payer_iban.is_empty())
        .then(|| cx.index.ibans.get(&line.payer_iban))
        .flatten();
    evidence.payer_iban_known = Some(owners.is_some());
    if let Some(owners) = owners
        && owners.len() == 1
    {
        evidence.payer = Some(Payer {
            customer: owners[0],
            how: PayerHow::Iban,
            score: 1.0,
        });
        return;
    }
    let key = name_key(&line.payer_name);
    if key.is_empty() {
        return;
    }
    if let Some(owners) = cx.index.names.get(&key) {
        if owners.len() == 1 {
            evidence.payer = Some(Payer {
                customer: owners[0],
                how: PayerHow::Name,
                score: 1.0,
            });
        } else {
            evidence.payer_candidates = owners.iter().map(|&c| (c, 1.0)).collect();
        }
        return;
    }
    if skip_fuzzy {
        return;
    }
    // Fuzzy: entries sharing the payer name's rarest words; the ones that
    // share the most words are scored, best score per customer.
    let mut lists: Vec<&Vec<u32>> = key
        .split(' ')
        .filter(|w| w.len() >= 3)
        .filter_map(|w| cx.index.name_words.get(w))
        .collect();
    lists.sort_by_key(|l| l.len());
    lists.truncate(NAME_WORDS_USED);
    let candidates = most_shared(&lists, NAME_CANDIDATES_MAX);
    let mut scored: Vec<(u32, f64)> = candidates
        .iter()
        .map(|&e| {
            let entry = &cx.index.name_entries[e as usize];
            (entry.customer, name_similarity(&key, &entry.key))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.dedup_by_key(|s| s.0);
    let threshold = cx.config.name_similarity_min;
    match scored.as_slice() {
        [best, rest @ ..]
            if best.1 >= threshold
                && rest.first().is_none_or(|second| second.1 < best.1 - 0.02) =>
        {
            evidence.payer = Some(Payer {
                customer: best.0,
                how: PayerHow::Name,
                score: best.1,
            });
        }
        _ => {
            evidence.payer_candidates = scored.into_iter().take(3).filter(|s| s.1 >= 0.8).collect();
        }
    }
}

/// The `max` entries found most often in `lists` (each rising, as the
/// index builds its postings), ties in entry order: the lists merged, not
/// sorted (a common word's list holds up to 2,000 entries).
fn most_shared(lists: &[&Vec<u32>], max: usize) -> Vec<u32> {
    debug_assert!(lists.iter().all(|l| l.is_sorted()));
    // (times found, entry), in entry order.
    let mut counted: Vec<(usize, u32)> = Vec::new();
    let mut heads = vec![0usize; lists.len()];
    while let Some(entry) = lists
        .iter()
        .zip(&heads)
        .filter_map(|(list, &at)| list.get(at).copied())
        .min()
    {
        let mut times = 0;
        for (list, at) in lists.iter().zip(heads.iter_mut()) {
            while list.get(*at) == Some(&entry) {
                *at += 1;
                times += 1;
            }
        }
        counted.push((times, entry));
    }
    let most = counted.iter().map(|&(times, _)| times).max().unwrap_or(0);
    let mut chosen = Vec::with_capacity(max.min(counted.len()));
    for times in (1..=most).rev() {
        let found = counted
            .iter()
            .filter(|c| c.0 == times)
            .map(|&(_, entry)| entry);
        chosen.extend(found.take(max - chosen.len()));
        if chosen.len() == max {
            break;
        }
    }
    chosen
}

/// Advices of the line's amount and currency, dated within the window, whose
/// payer name resembles the line's.
fn link_advices_by_amount(line: &Line, cx: &Context<'_>, evidence: &mut Evidence) {
    let Some(amount) = cents(line.amount) else {
        return;
    };
    let Some(list) = cx.index.advices_by_amount.get(&amount) else {
        return;
    };
    let payer_key = name_key(&line.payer_name);
    let mut found: Vec<(i64, u32)> = Vec::new();
    for &a in list {
        let advice = &cx.advices[a as usize];
        if advice
            .payment_amount
            .as_ref()
            .is_none_or(|m| m.currency != line.currency)
        {
            continue;
        }
        let days = match (advice.payment_date, line.value_date) {
            (Some(p), Some(v)) => (v - p).num_days().abs(),
            _ => i64::MAX,
        };
        if days > cx.config.advice_window_days {
            continue;
        }
        let similar = name_similarity(&payer_key, &cx.index.advice_payer_keys[a as usize]) >= 0.85;
        if similar
            && !evidence.advices.iter().any(|(x, _)| *x == a)
            && !contradicts_references(a, advice, evidence, cx)
        {
            found.push((days, a));
        }
    }
    found.sort_unstable();
    evidence
        .advices
        .extend(found.into_iter().map(|(_, a)| (a, "advice_payer_amount")));
}

/// Whether the line names invoices (a reference, not a fragment) of which
/// the advice quotes none: then an advice found only by payer and amount
/// announces another payment (a namesake paying the same amount), and the
/// line's own references decide.
fn contradicts_references(
    advice_index: u32,
    advice: &RemittanceAdvice,
    evidence: &Evidence,
    cx: &Context<'_>,
) -> bool {
    let named: Vec<u32> = evidence
        .references
        .iter()
        .filter(|h| h.kind < RefKind::InvoiceFragment)
        .map(|h| h.item)
        .collect();
    !named.is_empty()
        && !(0..advice.lines.len()).any(|at| {
            cx.index
                .advice_line_items(advice_index, at)
                .iter()
                .any(|i| named.contains(i))
        })
}

/// Upper case, accents folded, punctuation to single spaces, word order
/// kept, a space at both ends: for keyword search.
fn name_key_unsorted(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        out.push_str(word);
        out.push(' ');
    }
    out
}

fn contains_words(haystack: &str, words: &str) -> bool {
    haystack.contains(&format!(" {words} "))
}

#[cfg(test)]
mod tests {
    use super::most_shared;

    /// What `most_shared` replaced: every entry of the lists sorted,
    /// counted, then sorted by count (most first) and entry.
    fn by_sorting(lists: &[&Vec<u32>], max: usize) -> Vec<u32> {
        let mut shared: Vec<u32> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        shared.sort_unstable();
        let mut counted: Vec<(usize, u32)> = shared
            .chunk_by(|a, b| a == b)
            .map(|run| (run.len(), run[0]))
            .collect();
        counted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        counted.into_iter().take(max).map(|(_, e)| e).collect()
    }

    #[test]
    fn most_shared_entries_are_those_a_sort_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for case in 0..2_000 {
            let list_count = next(4) as usize;
            let range = 1 + next(60);
            // Rising lists, an entry now and then twice (a word twice in
            // one name).
            let lists: Vec<Vec<u32>> = (0..list_count)
                .map(|_| {
                    let mut list: Vec<u32> = (0..next(40)).map(|_| next(range) as u32).collect();
                    list.sort_unstable();
                    list
                })
                .collect();
            let refs: Vec<&Vec<u32>> = lists.iter().collect();
            for max in [0, 1, 3, 24, 200] {
                assert_eq!(
                    most_shared(&refs, max),
                    by_sorting(&refs, max),
                    "case {case}, max {max}, {lists:?}"
                );
            }
        }
    }
}
