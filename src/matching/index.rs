//! Read-only indices over the open items, customers and remittance advices,
//! built once per run (in parallel) and shared by every line's evidence scan.
//!
//! Keys are 64-bit hashes of normalised text in a sorted table bucketed by
//! the hash's top bits, each keeping the next 32 bits as a fingerprint: two
//! cache misses per lookup (prefetched by the text scan), 8 bytes per key,
//! where a `HashMap<String, _>` of two million invoices would cost gigabytes.
//! A hash hit is only a candidate: the caller re-checks the item's own text
//! (`Index::item_has_key`), so a collision can never settle an invoice.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::text::{KeyRun, compact, key_hash, name_key};
use crate::apply::IndexMap;
use crate::model::{Customer, OpenItem, RemittanceAdvice};

/// Key namespaces.
pub const DOMAIN_INVOICE: u8 = 1;
pub const DOMAIN_PAYMENT_REFERENCE: u8 = 2;
pub const DOMAIN_ADVICE: u8 = 3;

/// How an open item's key was derived from its number: the weaker the form,
/// the more a hit needs confirming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyForm {
    /// The number as issued (separators and case aside).
    Exact = 0,
    /// Leading zeros, the prefix or the year dropped.
    Noisy = 1,
    /// Only the last number group: counts when it resolves to one item.
    Fragment = 2,
}

/// A hint to load `value`'s cache line; no effect on what any code reads.
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86_64 target; a prefetch reads
        // nothing and cannot fault, and the pointer comes from a reference.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// A table of `(hash, value)` pairs, sorted and bucketed on the top `bits`
/// bits of the hash; each entry keeps the next 32 bits as its fingerprint.
/// Eight bytes an entry and four to eight entries a bucket, so that a
/// lookup reads one cache line of entries and one of a start table of at
/// most 16 MB at two million items (16-byte entries, two a bucket, read
/// from 270 + 128 MB, were a quarter of the evidence stage's time in cache
/// misses). `get` may so return a value stored under another hash that
/// agrees on those bits: every caller checks a value against the item's or
/// the advice's own text before it counts.
pub struct KeyTable {
    /// (fingerprint, value), in hash order.
    entries: Vec<(u32, u32)>,
    starts: Vec<u32>,
    bits: u32,
}

impl KeyTable {
    pub fn build(entries: Vec<(u64, u32)>) -> KeyTable {
        // Counted before duplicates go.
        let bits = crate::parallel::bucket_bits(entries.len());
        let buckets = 1usize << bits;
        let bucket_of = |hash: u64| (hash >> (64 - bits)) as usize;
        // What is kept of a hash besides its bucket.
        let fingerprint_of = |hash: u64| (hash >> (32 - bits)) as u32;
        // Sorted by bucket, then (fingerprint, value) within it (a
        // comparison sort of the 16-byte pairs was most of the index
        // stage's table building).
        let (mut sorted, mut starts) = crate::parallel::bucket_sort(
            entries,
            buckets,
            |&(hash, _)| bucket_of(hash),
            |&(hash, value)| (fingerprint_of(hash), value),
        );
        // Duplicates dropped, bucket by bucket (an equal pair in the next
        // bucket is another hash).
        let mut write = 0usize;
        for bucket in 0..buckets {
            let (from, to) = (starts[bucket] as usize, starts[bucket + 1] as usize);
            let first = write;
            starts[bucket] = write as u32;
            for read in from..to {
                if write == first || sorted[write - 1] != sorted[read] {
                    sorted[write] = sorted[read];
                    write += 1;
                }
            }
        }
        starts[buckets] = write as u32;
        sorted.truncate(write);
        KeyTable {
            entries: sorted,
            starts,
            bits,
        }
    }

    /// Asks the processor for the cache line of `hash`'s bucket start, so
    /// that several lookups' misses overlap (`scan_text`).
    #[inline]
    pub fn prefetch_start(&self, hash: u64) {
        prefetch(&self.starts[(hash >> (64 - self.bits)) as usize]);
    }

    /// Asks for the cache line of `hash`'s bucket entries (reads its start).
    #[inline]
    pub fn prefetch_entries(&self, hash: u64) {
        let from = self.starts[(hash >> (64 - self.bits)) as usize] as usize;
        if let Some(entry) = self.entries.get(from) {
            prefetch(entry);
        }
    }

    /// Every value stored under `hash` (and, rarely, under another hash
    /// with the same top `bits` + 32 bits).
    #[inline]
    pub fn get(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let bucket = (hash >> (64 - self.bits)) as usize;
        let fingerprint = (hash >> (32 - self.bits)) as u32;
        let (from, to) = (
            self.starts[bucket] as usize,
            self.starts[bucket + 1] as usize,
        );
        self.entries[from..to]
            .iter()
            .filter(move |(f, _)| *f == fingerprint)
            .map(|&(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the keys of a table can look like: their first two bytes, last
/// byte and length range. A run of text that does not fit cannot be a key,
/// so `scan_text` skips its lookup (two cache misses in a table of millions
/// of keys), and a start whose first two bytes fit no key is skipped with
/// every run that would grow from it. Never refuses a key that was added.
#[derive(Clone, Debug)]
pub struct KeyShape {
    /// One bit per first two bytes (upper case).
    first_two: Vec<u64>,
    /// One bit per last byte.
    last: [u64; 4],
    min_len: usize,
    max_len: usize,
}

impl Default for KeyShape {
    fn default() -> KeyShape {
        KeyShape {
            first_two: vec![0; 1 << 10],
            last: [0; 4],
            min_len: usize::MAX,
            max_len: 0,
        }
    }
}

impl KeyShape {
    /// Adds a key given as its length, first two bytes and last byte (a key
    /// under two bytes is never looked up and is left out).
    pub fn add_parts(&mut self, length: usize, first: u8, second: u8, last: u8) {
        if length < 2 {
            return;
        }
        let pair = usize::from(first) << 8 | usize::from(second);
        self.first_two[pair / 64] |= 1 << (pair % 64);
        self.last[usize::from(last) / 64] |= 1 << (last % 64);
        self.min_len = self.min_len.min(length);
        self.max_len = self.max_len.max(length);
    }

    /// Adds the compact upper-case key of `text` (as `compact` makes it).
    pub fn add_compact(&mut self, text: &str) {
        let (mut length, mut first, mut second, mut last) = (0, 0, 0, 0);
        for byte in text.bytes().filter(u8::is_ascii_alphanumeric) {
            let upper = byte.to_ascii_uppercase();
            match length {
                0 => first = upper,
                1 => second = upper,
                _ => {}
            }
            last = upper;
            length += 1;
        }
        self.add_parts(length, first, second, last);
    }

    pub fn merge(mut self, other: KeyShape) -> KeyShape {
        for (mine, theirs) in self.first_two.iter_mut().zip(&other.first_two) {
            *mine |= theirs;
        }
        for (mine, theirs) in self.last.iter_mut().zip(&other.last) {
            *mine |= theirs;
        }
        self.min_len = self.min_len.min(other.min_len);
        self.max_len = self.max_len.max(other.max_len);
        self
    }

    /// Whether some key starts with these two (upper-case) bytes.
    #[inline]
    pub fn may_start(&self, first: u8, second: u8) -> bool {
        let pair = usize::from(first) << 8 | usize::from(second);
        self.first_two[pair / 64] & (1 << (pair % 64)) != 0
    }

    /// Whether `key` (compact, upper case) may be a key of the table.
    #[inline]
    pub fn may_be(&self, key: &[u8]) -> bool {
        let length = key.len();
        length >= self.min_len
            && length <= self.max_len
            && self.may_start(key[0], key[1])
            && self.last[usize::from(key[length - 1]) / 64] & (1 << (key[length - 1] % 64)) != 0
    }
}

/// The keys of an invoice number, with their forms. For `FA-2026-000123`:
/// exact `FA2026000123`; noisy `FA2026123`, `2026000123`, `2026123`,
/// `FA000123`, `FA123`; fragments `000123`, `123`.
pub fn invoice_keys(invoice_id: &str) -> Vec<(String, KeyForm)> {
    with_groups(invoice_id, |groups| {
        let concat = |keep: &dyn Fn(usize) -> bool, unzeroed: bool| -> String {
            let mut key = String::new();
            for (_, group) in groups.iter().enumerate().filter(|(i, _)| keep(*i)) {
                let piece = if unzeroed { unzero(group) } else { group };
                key.extend(piece.iter().map(|b| char::from(b.to_ascii_uppercase())));
            }
            key
        };
        let exact = concat(&|_| true, false);
        let mut keys: Vec<(String, KeyForm)> = Vec::new();
        for_each_variant(groups, &mut |keep, unzeroed, form| {
            let key = concat(keep, unzeroed);
            if usable_key(key.as_bytes()) && (form == KeyForm::Exact || key != exact) {
                keys.push((key, form));
            }
        });
        keys.sort();
        keys.dedup_by(|a, b| a.0 == b.0);
        keys
    })
}

/// Keys without a digit are words, not references; keys under three
/// characters would hit every amount and date in the text.
fn usable_key(key: &[u8]) -> bool {
    key.len() >= 3 && key.iter().any(u8::is_ascii_digit)
}

/// Called per variant with (which groups are kept, unzeroed, form).
type Visit<'v> = dyn FnMut(&dyn Fn(usize) -> bool, bool, KeyForm) + 'v;

/// The ways a payer writes an invoice number, as `visit(keep, unzeroed,
/// form)`: which groups are kept, whether number groups lose their leading
/// zeros, and the form that gives. For `FA-2026-000123`: as issued
/// (exact); zeros dropped, prefix dropped, year dropped (noisy, or a
/// fragment when one group is left); the last number alone (fragment).
/// The one definition every key derivation below follows.
fn for_each_variant(groups: &[&[u8]], visit: &mut Visit<'_>) {
    let n = groups.len();
    visit(&|_| true, false, KeyForm::Exact);
    if n < 2 {
        return;
    }
    let form = |count: usize| {
        if count >= 2 {
            KeyForm::Noisy
        } else {
            KeyForm::Fragment
        }
    };
    visit(&|_| true, true, form(n));
    if groups[0].iter().all(u8::is_ascii_alphabetic) {
        visit(&|i| i >= 1, false, form(n - 1));
        visit(&|i| i >= 1, true, form(n - 1));
    }
    let digits = |g: &[u8]| g.iter().all(u8::is_ascii_digit);
    let is_year =
        |g: &[u8]| g.len() == 4 && (g.starts_with(b"19") || g.starts_with(b"20")) && digits(g);
    // The year is never the last group: that is the number.
    if let Some(year) = groups[..n - 1].iter().position(|g| is_year(g)) {
        visit(&|i| i != year, true, form(n - 1));
        visit(&|i| i != year, false, form(n - 1));
    }
    if digits(groups[n - 1]) {
        visit(&|i| i == n - 1, false, KeyForm::Fragment);
        visit(&|i| i == n - 1, true, KeyForm::Fragment);
    }
}

/// Number groups of an id kept on the stack; longer ids (rare) allocate.
const GROUPS_MAX: usize = 8;

/// Calls `f` with the alphanumeric groups of `invoice_id`.
fn with_groups<R>(invoice_id: &str, f: impl FnOnce(&[&[u8]]) -> R) -> R {
    let mut stack: [&[u8]; GROUPS_MAX] = [&[]; GROUPS_MAX];
    let mut n = 0;
    let mut all = super::text::tokens(invoice_id);
    for group in all.by_ref() {
        if n == GROUPS_MAX {
            let mut heap: Vec<&[u8]> = stack.to_vec();
            heap.push(group.as_bytes());
            heap.extend(all.map(str::as_bytes));
            return f(&heap);
        }
        stack[n] = group.as_bytes();
        n += 1;
    }
    f(&stack[..n])
}

/// Item value in the invoice table: item index * 4 + form.
fn pack(item: u32, form: KeyForm) -> u32 {
    item * 4 + form as u32
}

pub fn unpack(value: u32) -> (u32, KeyForm) {
    let form = match value % 4 {
        0 => KeyForm::Exact,
        1 => KeyForm::Noisy,
        _ => KeyForm::Fragment,
    };
    (value / 4, form)
}

/// One customer name or alias under its normalised key.
pub struct NameEntry {
    pub key: String,
    pub customer: u32,
}

pub struct Index {
    /// Invoice number keys → packed (item, form).
    pub invoices: KeyTable,
    /// Normalised payment references (RF or other) → item.
    pub payment_references: KeyTable,
    /// Normalised advice payment references → advice.
    pub advice_references: KeyTable,
    /// The shapes of the three tables' keys, in that order: what a run of
    /// text must look like to be worth a lookup.
    pub shapes: [KeyShape; 3],
    /// Per advice, per advice line: the items its quoted number could name
    /// (`quoted_in`), resolved while the key tables are there.
    pub advice_quoted: Vec<Vec<Vec<u32>>>,
    /// Advices by (amount in cents, currency) for linking by payer + amount.
    pub advices_by_amount: HashMap<i64, Vec<u32>>,
    /// Normalised names of the advices' payers.
    pub advice_payer_keys: Vec<String>,
    /// Customer id → customer index (customers file and open items).
    pub customer_ids: IndexMap<String, u32>,
    /// Names of customers (customers file, else open items).
    pub customer_names: Vec<String>,
    /// Known payer IBAN → customers.
    pub ibans: IndexMap<String, Vec<u32>>,
    /// Exact normalised name → customers.
    pub names: IndexMap<String, Vec<u32>>,
    /// Name word → name entries holding it, for fuzzy candidates.
    pub name_words: IndexMap<String, Vec<u32>>,
    pub name_entries: Vec<NameEntry>,
    /// Customer → its items, oldest due date first.
    pub customer_items: Lists,
    /// Item → customer index.
    pub item_customer: Vec<u32>,
    /// Open amount in cents → items, for suggestions only (amount alone
    /// never settles).
    pub items_by_amount: Vec<(i64, u32)>,
}

/// An amount in cents; `None` when it has sub-cent digits.
pub fn cents(amount: Decimal) -> Option<i64> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if scaled.fract().is_zero() {
        i64::try_from(scaled.trunc().mantissa() / 10i128.pow(scaled.trunc().scale())).ok()
    } else {
        None
    }
}

/// Lists of numbers, one after another in one vector (list `n`:
/// `values[starts[n]..starts[n + 1]]`): the customers' items, where a
/// vector each was a third of a million allocations.
#[derive(Debug, Default)]
pub struct Lists {
    starts: Vec<u32>,
    values: Vec<u32>,
}

impl std::ops::Index<usize> for Lists {
    type Output = [u32];

    fn index(&self, list: usize) -> &[u32] {
        &self.values[self.starts[list] as usize..self.starts[list + 1] as usize]
    }
}

/// What `Index::build` makes of the customers, beside the key tables.
struct CustomerPart {
    customer_ids: IndexMap<String, u32>,
    customer_names: Vec<String>,
    ibans: IndexMap<String, Vec<u32>>,
    item_customer: Vec<u32>,
    customer_items: Lists,
    name_entries: Vec<NameEntry>,
    names: IndexMap<String, Vec<u32>>,
    name_words: IndexMap<String, Vec<u32>>,
}

/// Words of a name key too common to select candidates by.
const NAME_WORD_POSTINGS_MAX: usize = 2_000;

impl Index {
    /// Drops the key tables (invoice numbers, payment and advice
    /// references) once the evidence is gathered: nothing after the text
    /// scan looks a key up. Lookups after this find nothing.
    pub fn release_key_tables(&mut self) {
        for table in [
            &mut self.invoices,
            &mut self.payment_references,
            &mut self.advice_references,
        ] {
            *table = KeyTable::build(Vec::new());
        }
    }

    pub fn build(
        items: &[OpenItem],
        customers: &[Customer],
        advices: &[RemittanceAdvice],
    ) -> Index {
        // The customers and their names (serial passes of hash-map inserts)
        // while the key tables, their shapes and the items by amount are
        // built in parallel beside them.
        let (customer_part, key_part) = rayon::join(
            || {
                // Customers: the customers file first, then any id only the open
                // items know, in order of first appearance.
                let mut customer_ids: IndexMap<String, u32> =
                    IndexMap::with_capacity_and_hasher(customers.len(), Default::default());
                let mut customer_names: Vec<String> = Vec::with_capacity(customers.len());
                // Borrowed: only their keys are kept.
                let mut name_sources: Vec<(u32, &str)> = Vec::with_capacity(customers.len());
                let mut ibans: IndexMap<String, Vec<u32>> = IndexMap::default();
                for customer in customers {
                    let id = customer_names.len() as u32;
                    customer_ids.insert(customer.customer_id.clone(), id);
                    customer_names.push(customer.name.clone());
                    name_sources.push((id, &customer.name));
                    for alias in &customer.aliases {
                        name_sources.push((id, alias));
                    }
                    for iban in &customer.ibans {
                        let owners = ibans.entry(iban.clone()).or_default();
                        if !owners.contains(&id) {
                            owners.push(id);
                        }
                    }
                }
                // Each item's customer looked up in parallel; the ids only
                // the open items know are then numbered in item order.
                let known: Vec<Option<u32>> = items
                    .par_iter()
                    .map(|item| customer_ids.get(item.customer_id.as_str()).copied())
                    .collect();
                let mut item_customer = Vec::with_capacity(items.len());
                for (item, known) in items.iter().zip(known) {
                    let id = match known {
                        Some(id) => id,
                        None => {
                            let next = customer_names.len() as u32;
                            let id = *customer_ids
                                .entry(item.customer_id.to_string())
                                .or_insert(next);
                            if id == next {
                                customer_names.push(item.customer_name.to_string());
                                name_sources.push((next, item.customer_name.as_str()));
                            }
                            id
                        }
                    };
                    item_customer.push(id);
                }
                // Each customer's items by due date, then issue date, then
                // invoice number: room counted first (no vector grown by
                // doubling), the dates packed into one key per item (a
                // comparison reads eight bytes, not two items of 160).
                let mut starts = vec![0u32; customer_names.len() + 1];
                for &c in &item_customer {
                    starts[c as usize + 1] += 1;
                }
                for c in 0..customer_names.len() {
                    starts[c + 1] += starts[c];
                }
                let mut next = starts.clone();
                let mut values = vec![0u32; items.len()];
                for (i, &c) in item_customer.iter().enumerate() {
                    let at = &mut next[c as usize];
                    values[*at as usize] = i as u32;
                    *at += 1;
                }
                drop(next);
                let day = |date: NaiveDate| u64::from(date.num_days_from_ce() as u32 ^ 0x8000_0000);
                let dates: Vec<u64> = items
                    .par_iter()
                    .map(|i| day(i.due_date) << 32 | day(i.issue_date))
                    .collect();
                let bounds: Vec<usize> = starts.iter().map(|&s| s as usize).collect();
                crate::parallel::split_by(&mut values, &bounds)
                    .into_par_iter()
                    .for_each(|list| {
                        list.sort_by(|&a, &b| {
                            dates[a as usize].cmp(&dates[b as usize]).then_with(|| {
                                items[a as usize]
                                    .invoice_id
                                    .cmp(&items[b as usize].invoice_id)
                            })
                        })
                    });
                let customer_items = Lists { starts, values };
                let name_entries: Vec<NameEntry> = name_sources
                    .par_iter()
                    .map(|(customer, name)| NameEntry {
                        key: name_key(name),
                        customer: *customer,
                    })
                    .filter(|e| !e.key.is_empty())
                    .collect();
                let mut names: IndexMap<String, Vec<u32>> =
                    IndexMap::with_capacity_and_hasher(name_entries.len(), Default::default());
                let mut name_words: IndexMap<String, Vec<u32>> = IndexMap::default();
                // Keys copied only when new (most words of names are not).
                for (i, entry) in name_entries.iter().enumerate() {
                    match names.get_mut(entry.key.as_str()) {
                        Some(owners) => {
                            if !owners.contains(&entry.customer) {
                                owners.push(entry.customer);
                            }
                        }
                        None => {
                            names.insert(entry.key.clone(), vec![entry.customer]);
                        }
                    }
                    for word in entry.key.split(' ').filter(|w| w.len() >= 3) {
                        match name_words.get_mut(word) {
                            Some(postings) => postings.push(i as u32),
                            None => {
                                name_words.insert(word.to_string(), vec![i as u32]);
                            }
                        }
                    }
                }
                name_words.retain(|_, postings| postings.len() <= NAME_WORD_POSTINGS_MAX);
                CustomerPart {
                    customer_ids,
                    customer_names,
                    ibans,
                    item_customer,
                    customer_items,
                    name_entries,
                    names,
                    name_words,
                }
            },
            || {
                // Per-job entries and shapes, then one copy into a vector
                // of the final size.
                let parts: Vec<(Vec<(u64, u32)>, KeyShape)> = items
                    .par_iter()
                    .enumerate()
                    .fold(
                        || (Vec::new(), KeyShape::default()),
                        |(mut entries, mut shape), (i, item)| {
                            for (hash, form) in
                                invoice_key_hashes_shaped(&item.invoice_id, &mut shape)
                            {
                                entries.push((hash, pack(i as u32, form)));
                            }
                            (entries, shape)
                        },
                    )
                    .collect();
                let mut invoice_shape = KeyShape::default();
                let mut invoice_parts = Vec::with_capacity(parts.len());
                for (entries, shape) in parts {
                    invoice_parts.push(entries);
                    invoice_shape = invoice_shape.merge(shape);
                }
                let invoice_entries = crate::parallel::concat(invoice_parts);
                let reference_entries: Vec<(u64, u32)> = items
                    .par_iter()
                    .enumerate()
                    .filter_map(|(i, item)| {
                        let reference = compact(item.payment_reference.as_deref()?);
                        (reference.len() >= 4)
                            .then(|| (key_hash(DOMAIN_PAYMENT_REFERENCE, &reference), i as u32))
                    })
                    .collect();
                let reference_shape = items
                    .par_iter()
                    .filter_map(|item| item.payment_reference.as_deref())
                    .fold(KeyShape::default, |mut shape, reference| {
                        shape.add_compact(reference);
                        shape
                    })
                    .reduce(KeyShape::default, KeyShape::merge);
                let mut items_by_amount: Vec<(i64, u32)> = items
                    .par_iter()
                    .enumerate()
                    .filter_map(|(i, item)| {
                        cents(item.open_amount)
                            .filter(|&c| c != 0)
                            .map(|c| (c, i as u32))
                    })
                    .collect();
                items_by_amount.par_sort_unstable();
                (
                    KeyTable::build(invoice_entries),
                    KeyTable::build(reference_entries),
                    invoice_shape,
                    reference_shape,
                    items_by_amount,
                )
            },
        );
        let (invoices, payment_references, invoice_shape, reference_shape, items_by_amount) =
            key_part;
        let mut advice_shape = KeyShape::default();
        for advice in advices {
            if let Some(reference) = &advice.payment_reference {
                advice_shape.add_compact(reference);
            }
        }
        let advice_entries: Vec<(u64, u32)> = advices
            .iter()
            .enumerate()
            .filter_map(|(i, advice)| {
                let reference = compact(advice.payment_reference.as_deref()?);
                (reference.len() >= 4).then(|| (key_hash(DOMAIN_ADVICE, &reference), i as u32))
            })
            .collect();
        let mut advices_by_amount: HashMap<i64, Vec<u32>> = HashMap::new();
        for (i, advice) in advices.iter().enumerate() {
            if let Some(money) = &advice.payment_amount
                && let Some(c) = cents(money.amount)
            {
                advices_by_amount.entry(c).or_default().push(i as u32);
            }
        }
        let advice_payer_keys = advices
            .iter()
            .map(|a| name_key(a.payer_name.as_deref().unwrap_or("")))
            .collect();

        let mut index = Index {
            invoices,
            payment_references,
            advice_references: KeyTable::build(advice_entries),
            shapes: [invoice_shape, reference_shape, advice_shape],
            advice_quoted: Vec::new(),
            advices_by_amount,
            advice_payer_keys,
            customer_ids: customer_part.customer_ids,
            customer_names: customer_part.customer_names,
            ibans: customer_part.ibans,
            names: customer_part.names,
            name_words: customer_part.name_words,
            name_entries: customer_part.name_entries,
            customer_items: customer_part.customer_items,
            item_customer: customer_part.item_customer,
            items_by_amount,
        };
        index.advice_quoted = advices
            .par_iter()
            .map(|advice| {
                advice
                    .lines
                    .iter()
                    .map(|line| index.quoted_in(items, &line.invoice_ref))
                    .collect()
            })
            .collect();
        index
    }

    /// Every open item a quoted invoice number could name (as issued or
    /// altered, not a bare fragment), sorted. Needs the key tables.
    pub fn quoted_in(&self, items: &[OpenItem], quoted: &str) -> Vec<u32> {
        let key = compact(quoted);
        let mut found: Vec<u32> = self
            .invoices
            .get(key_hash(DOMAIN_INVOICE, &key))
            .map(unpack)
            .filter(|&(item, form)| {
                form != KeyForm::Fragment && Index::item_has_key(&items[item as usize], &key, form)
            })
            .map(|(item, _)| item)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// `quoted_in` for line `line` of advice `advice`, resolved at build.
    pub fn advice_line_items(&self, advice: u32, line: usize) -> &[u32] {
        self.advice_quoted
            .get(advice as usize)
            .and_then(|lines| lines.get(line))
            .map_or(&[], Vec::as_slice)
    }

    /// Items whose open amount in the input is `cents`, by index.
    pub fn items_of_amount(&self, cents: i64) -> &[(i64, u32)] {
        let from = self.items_by_amount.partition_point(|&(c, _)| c < cents);
        let to = self.items_by_amount.partition_point(|&(c, _)| c <= cents);
        &self.items_by_amount[from..to]
    }

    /// Whether `key` (compact) really is one of the item's invoice keys of
    /// `form`: the check behind every hash hit.
    pub fn item_has_key(item: &OpenItem, key: &str, form: KeyForm) -> bool {
        key_form(&item.invoice_id, key) == Some(form)
    }
}

/// A number group without its leading zeros (`0` when all are zeros);
/// other groups as they are.
fn unzero(g: &[u8]) -> &[u8] {
    if g.iter().all(u8::is_ascii_digit) {
        match g.iter().position(|&b| b != b'0') {
            Some(first) => &g[first..],
            None => &g[g.len() - 1..],
        }
    } else {
        g
    }
}

/// `invoice_keys` as `(key_hash(DOMAIN_INVOICE, key), form)`, computed
/// without building the keys: the index hashes two million invoice numbers.
/// Agrees with `invoice_keys` (tested).
pub fn invoice_key_hashes(invoice_id: &str) -> Vec<(u64, KeyForm)> {
    invoice_key_hashes_shaped(invoice_id, &mut KeyShape::default())
}

/// `invoice_key_hashes`, adding each key's shape to `shape` on the way.
pub fn invoice_key_hashes_shaped(invoice_id: &str, shape: &mut KeyShape) -> Vec<(u64, KeyForm)> {
    /// What a variant needs of one group, as issued (`[0]`) and without
    /// its leading zeros (`[1]`): its run, whether it has a digit, its
    /// first two and last bytes, upper case. Never empty.
    #[derive(Clone, Copy, Default)]
    struct Piece {
        run: KeyRun,
        digit: bool,
        first: [u8; 2],
        last: u8,
    }
    impl Piece {
        fn of(bytes: &[u8]) -> Piece {
            let upper = |at: usize| bytes.get(at).map_or(0, u8::to_ascii_uppercase);
            Piece {
                run: KeyRun::of(bytes),
                digit: bytes.iter().any(u8::is_ascii_digit),
                first: [upper(0), upper(1)],
                last: upper(bytes.len() - 1),
            }
        }
    }
    with_groups(invoice_id, |groups| {
        // Each group looked at once, in both forms; a variant is then put
        // together from its groups' pieces, its hash from their runs.
        let mut stack = [[Piece::default(); 2]; GROUPS_MAX];
        let mut heap = Vec::new();
        let pieces: &mut [[Piece; 2]] = if groups.len() <= GROUPS_MAX {
            &mut stack[..groups.len()]
        } else {
            heap.resize(groups.len(), [Piece::default(); 2]);
            &mut heap
        };
        for (piece, group) in pieces.iter_mut().zip(groups) {
            *piece = [Piece::of(group), Piece::of(unzero(group))];
        }
        let pieces = &*pieces;
        // (hash, length, has a digit, first two and last bytes) of a
        // variant's concatenation.
        let concat = |keep: &dyn Fn(usize) -> bool, unzeroed: bool| {
            let mut hasher = crate::matching::text::KeyHasher::new(DOMAIN_INVOICE);
            let (mut length, mut digit, mut ends) = (0, false, [0u8; 3]);
            for (i, both) in pieces.iter().enumerate() {
                if !keep(i) {
                    continue;
                }
                let piece = &both[usize::from(unzeroed)];
                hasher.append(piece.run);
                digit |= piece.digit;
                if length < 2 {
                    let take = piece.run.len.min(2 - length);
                    ends[length..length + take].copy_from_slice(&piece.first[..take]);
                }
                ends[2] = piece.last;
                length += piece.run.len;
            }
            (hasher.finish(), length, digit, ends)
        };
        let exact = concat(&|_| true, false).0;
        let mut out: Vec<(u64, KeyForm)> = Vec::with_capacity(10);
        for_each_variant(groups, &mut |keep, unzeroed, form| {
            let (hash, length, digit, ends) = concat(keep, unzeroed);
            if length >= 3 && digit && (form == KeyForm::Exact || hash != exact) {
                out.push((hash, form));
                shape.add_parts(length, ends[0], ends[1], ends[2]);
            }
        });
        out.sort_unstable();
        out.dedup_by_key(|(hash, _)| *hash);
        out
    })
}

/// The form under which `key` (compact, upper case) is one of
/// `invoice_keys(invoice_id)`, without building them: each variant compared
/// in place. Agrees with `invoice_keys` (tested).
pub fn key_form(invoice_id: &str, key: &str) -> Option<KeyForm> {
    let key = key.as_bytes();
    if !usable_key(key) {
        return None;
    }
    with_groups(invoice_id, |groups| {
        // Whether `key` is the concatenation of the kept groups.
        let equals = |keep: &dyn Fn(usize) -> bool, unzeroed: bool| -> bool {
            let mut at = 0;
            for (_, group) in groups.iter().enumerate().filter(|(i, _)| keep(*i)) {
                let piece = if unzeroed { unzero(group) } else { group };
                let end = at + piece.len();
                if end > key.len() || !key[at..end].eq_ignore_ascii_case(piece) {
                    return false;
                }
                at = end;
            }
            at == key.len()
        };
        let is_exact = equals(&|_| true, false);
        let mut best: Option<KeyForm> = None;
        for_each_variant(groups, &mut |keep, unzeroed, form| {
            // A key equal to the number as issued is exact, whatever other
            // variant also spells it.
            let counts = form == KeyForm::Exact || !is_exact;
            if counts && equals(keep, unzeroed) {
                best = Some(best.map_or(form, |b| b.min(form)));
            }
        });
        best
    })
}

/// Oldest first: the order twins and combination candidates are taken in.
pub fn item_age_key(item: &OpenItem) -> (NaiveDate, NaiveDate, &str) {
    (item.due_date, item.issue_date, item.invoice_id.as_str())
}

/// Deterministic map for reports (sorted keys).
pub type Counts = BTreeMap<String, u64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_numbered_and_their_items_by_due_then_issue_date_then_number() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let item = |id: &str, customer: &str, issued: NaiveDate, due: NaiveDate| OpenItem {
            invoice_id: id.into(),
            customer_id: customer.into(),
            customer_name: format!("Name of {customer}").into(),
            issue_date: issued,
            due_date: due,
            currency: "EUR".into(),
            amount: Decimal::new(100, 0),
            open_amount: Decimal::new(100, 0),
            payment_reference: None,
        };
        let customers = vec![Customer {
            customer_id: "C2".into(),
            name: "Martin SARL".into(),
            aliases: vec!["Ets Martin".into()],
            ibans: vec!["FR7600001111".into()],
            credit_limit: None,
            payment_terms_days: None,
        }];
        // In the run's canonical order (by number). C9 and C5 are known
        // only from the items, C9 first; a date before the common era
        // sorts first.
        let items = vec![
            item("FA-1", "C9", day(1, 5), day(2, 5)),
            item("FA-2", "C2", day(1, 9), day(3, 1)),
            item("FA-3", "C2", day(1, 7), day(3, 1)),
            item("FA-4", "C5", day(1, 1), day(1, 1)),
            item("FA-5", "C2", day(1, 9), day(3, 1)),
            item("FA-6", "C9", day(1, 1), day(2, 5)),
            item("FA-7", "C2", day(1, 1), day(2, 1)),
            item(
                "FA-8",
                "C2",
                NaiveDate::from_ymd_opt(-5, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(-5, 2, 1).unwrap(),
            ),
        ];
        let index = Index::build(&items, &customers, &[]);
        let mut ids: Vec<(&str, u32)> = index
            .customer_ids
            .iter()
            .map(|(id, &n)| (id.as_str(), n))
            .collect();
        ids.sort_by_key(|&(_, n)| n);
        assert_eq!(ids, [("C2", 0), ("C9", 1), ("C5", 2)]);
        assert_eq!(
            index.customer_names,
            ["Martin SARL", "Name of C9", "Name of C5"]
        );
        assert_eq!(index.item_customer, [1, 0, 0, 2, 0, 1, 0, 0]);
        // C2: FA-8 (year -5), FA-7 (due 2-1), then due 3-1: FA-3 (issued
        // 1-7), FA-2 and FA-5 (both issued 1-9, by number).
        assert_eq!(index.customer_items[0], [7, 6, 2, 1, 4]);
        assert_eq!(index.customer_items[1], [5, 0]);
        assert_eq!(index.customer_items[2], [3]);
        // Names and aliases of the customers file and of the items.
        for name in ["Martin SARL", "Ets Martin", "Name of C9", "Name of C5"] {
            assert!(index.names.contains_key(name_key(name).as_str()), "{name}");
        }
    }

    #[test]
    fn keys_of_an_invoice_number() {
        let keys = invoice_keys("FA-2026-000123");
        let find = |k: &str| keys.iter().find(|(key, _)| key == k).map(|(_, f)| *f);
        assert_eq!(find("FA2026000123"), Some(KeyForm::Exact));
        assert_eq!(find("FA2026123"), Some(KeyForm::Noisy));
        assert_eq!(find("2026000123"), Some(KeyForm::Noisy));
        assert_eq!(find("FA000123"), Some(KeyForm::Noisy));
        assert_eq!(find("FA123"), Some(KeyForm::Noisy));
        assert_eq!(find("000123"), Some(KeyForm::Fragment));
        assert_eq!(find("123"), Some(KeyForm::Fragment));
        assert_eq!(find("FA"), None);
        assert_eq!(
            invoice_keys("2026-00017"),
            [
                ("00017".to_string(), KeyForm::Fragment),
                ("202600017".to_string(), KeyForm::Exact),
                ("202617".to_string(), KeyForm::Noisy),
            ]
        );
        assert_eq!(invoice_keys("AB"), []);
    }

    /// Invoice numbers of every shape the key derivations treat apart.
    const SAMPLE_IDS: [&str; 12] = [
        "FA-2026-000123",
        "AV-2026-000045",
        "2026-00017",
        "FA2026000123",
        "INV/0042",
        "F-1999-7-0003",
        "X-00",
        "12345",
        "FA-2026-000000",
        "a-b-c-d-e-f-g-h-i-2026-1",
        "AB",
        "fa-2026-1",
    ];

    #[test]
    fn key_form_agrees_with_invoice_keys() {
        let ids = SAMPLE_IDS;
        for id in ids {
            let keys = invoice_keys(id);
            for (key, form) in &keys {
                assert_eq!(key_form(id, key), Some(*form), "{id} {key}");
            }
            for other in ids.iter().flat_map(|o| invoice_keys(o)) {
                if !keys.iter().any(|(k, _)| *k == other.0) {
                    assert_eq!(key_form(id, &other.0), None, "{id} {}", other.0);
                }
            }
        }
    }

    #[test]
    fn key_hashes_agree_with_invoice_keys() {
        for id in SAMPLE_IDS {
            let mut want: Vec<(u64, KeyForm)> = invoice_keys(id)
                .into_iter()
                .map(|(key, form)| (key_hash(DOMAIN_INVOICE, &key), form))
                .collect();
            want.sort_unstable();
            assert_eq!(invoice_key_hashes(id), want, "{id}");
        }
    }

    #[test]
    fn key_shapes_admit_every_key_and_refuse_others() {
        let ids = [
            "FA-2026-000123",
            "AV-2026-000002",
            "INV/19/7",
            "2026-5",
            "x1",
            "F-2026-A-0001-b",
            "a-b-c-d-e-f-g-h-i-10",
            "123",
        ];
        let mut shape = KeyShape::default();
        for id in ids {
            invoice_key_hashes_shaped(id, &mut shape);
        }
        for id in ids {
            for (key, _) in invoice_keys(id) {
                assert!(shape.may_be(key.as_bytes()), "{key} of {id}");
            }
        }
        for other in ["FACTURE", "ZZ2026000123", "FA2026000123X", "9"] {
            let other = format!("{other}{}", "0".repeat(40));
            assert!(!shape.may_be(other.as_bytes()), "{other}");
        }
        assert!(!shape.may_be(b"ZZ123"));
        assert!(!shape.may_be(b"FA202600012Q"));
        let mut references = KeyShape::default();
        references.add_compact("rf18 5390 0754 7034");
        assert!(references.may_be(compact("RF18539007547034").as_bytes()));
        assert!(!references.may_be(b"RF1853900754703"));
        let merged = shape.merge(references);
        assert!(merged.may_be(b"RF18539007547034") && merged.may_be(b"FA2026000123"));
    }

    #[test]
    fn key_table_finds_every_value() {
        let entries: Vec<(u64, u32)> = (0..10_000u32)
            .map(|i| (key_hash(1, &i.to_string()), i))
            .collect();
        let table = KeyTable::build(entries);
        for i in (0..10_000u32).step_by(97) {
            assert_eq!(
                table.get(key_hash(1, &i.to_string())).collect::<Vec<_>>(),
                [i]
            );
        }
        assert_eq!(table.get(key_hash(1, "nope")).count(), 0);
    }

    #[test]
    fn key_table_starts_are_those_counting_gives() {
        // Enough entries for several runs of buckets, the extreme hashes,
        // and one hash under several values.
        let mut entries: Vec<(u64, u32)> = (0..3_000_000u32)
            .map(|i| (key_hash(2, &i.to_string()), i))
            .collect();
        entries.extend([(0, 1), (u64::MAX, 2), (u64::MAX, 3), (7, 4), (7, 5), (7, 5)]);
        let table = KeyTable::build(entries.clone());
        let mut kept: Vec<(u64, u32)> = entries
            .iter()
            .map(|&(h, v)| (h >> (32 - table.bits), v))
            .collect();
        kept.sort_unstable();
        kept.dedup();
        assert_eq!(table.entries.len(), kept.len());
        // In hash order, (fingerprint, value) within a bucket.
        assert!(
            table
                .entries
                .iter()
                .zip(&kept)
                .all(|(&(f, v), &(k, w))| f == k as u32 && v == w)
        );
        let mut counted = vec![0u32; table.starts.len()];
        for &(k, _) in &kept {
            counted[(k >> 32) as usize + 1] += 1;
        }
        for i in 1..counted.len() {
            counted[i] += counted[i - 1];
        }
        assert_eq!(table.starts, counted);
        assert!(table.starts.len() > 4 * (1 << 16));
        let per_bucket = table.entries.len() as f64 / (table.starts.len() - 1) as f64;
        assert!((4.0..=8.0).contains(&per_bucket), "{per_bucket}");
        for &(hash, value) in entries.iter().step_by(101).chain(&entries[3_000_000..]) {
            assert!(table.get(hash).any(|v| v == value), "{hash} {value}");
        }
        assert_eq!(table.get(u64::MAX).collect::<Vec<_>>(), [2, 3]);
        // 0 and 7 agree on every bit kept: a lookup of either returns the
        // values of both, which the callers' own checks sort out.
        assert_eq!(table.get(7).collect::<Vec<_>>(), [1, 4, 5]);
        assert_eq!(table.get(0).collect::<Vec<_>>(), [1, 4, 5]);
        let empty = KeyTable::build(Vec::new());
        assert!(empty.starts.iter().all(|&s| s == 0) && empty.get(0).count() == 0);
    }

    #[test]
    fn cents_of_amounts() {
        assert_eq!(cents(Decimal::new(12345, 2)), Some(12345));
        assert_eq!(cents(Decimal::new(-5, 0)), Some(-500));
        assert_eq!(cents(Decimal::new(12345, 3)), None);
    }
}
