//! `recon gen`: a deterministic synthetic data set (customers, open items,
//! remittance advices, bank statements in six wire formats) with a truth
//! file saying, for every bank line, what a correct engine does with it.
//!
//! Why: matching quality cannot be measured on real data we may not ship,
//! and hand-written fixtures cover a few dozen lines. This generator makes
//! a million lines in seconds, each tagged with one *situation* of the
//! matching policy (clean reference, noisy reference, IBAN only, grouped,
//! split, fees, duplicates, non-receivables, ...), so `recon eval` can
//! score a run per situation.
//!
//! Determinism: the output is a pure function of `SynthOptions` (one seeded
//! xorshift generator, no clock, no hash-map iteration: the one `HashSet`
//! only answers "is this name taken"). `generate` does no I/O; it hands the
//! files to a sink in a fixed order, large ones in consecutive chunks, and
//! `write_dataset` is the thin wrapper that writes them.
//!
//! The truth is constructed, not inferred: amount-only situations
//! (`iban_only`, `name_only`, `twins`, `grouped_no_reference`) use
//! customers reserved for that one line, whose every open item is created
//! with it and checked so the amount designates exactly the intended items.

mod codes;
mod names;
mod render;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use codes::{Cents, Rng, dec, french_iban, iso_date, rf_reference};
use names::{Customer, NameBook, payer_variant};
use render::{Cheque, Format, Fx, Line, Needs, ROTATION};

pub use codes::{iban_valid, rf_valid};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// Bank lines over all statements.
    pub lines: usize,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynthSummary {
    pub lines: usize,
    pub open_items: usize,
    pub customers: usize,
    /// Files handed to the sink (statements and CSVs).
    pub files: usize,
    pub bytes: u64,
}

/// Every situation with its share of bank lines in thousandths (the draw
/// is redrawn when the statement's format cannot carry the situation, so
/// the realised shares differ slightly; `split` lines bring 1-2 follow-up
/// lines, counted as `split` too).
pub const SITUATIONS: &[(&str, u32)] = &[
    ("clean", 177),
    ("noisy_reference", 140),
    ("rf_reference", 60),
    ("iban_only", 60),
    ("name_only", 40),
    ("grouped_reference", 40),
    ("grouped_advice", 25),
    ("grouped_no_reference", 25),
    ("split", 20),
    ("fees", 30),
    ("small_difference", 30),
    ("partial", 20),
    ("overpayment", 20),
    ("advice_deduction", 15),
    // Scheduled, not drawn: see `DUPLICATE_PERCENT`.
    ("duplicate", 0),
    ("third_party", 20),
    ("unknown_payer", 20),
    ("not_receivable", 30),
    ("debit", 110),
    ("twins", 15),
    ("cheque_batch", 15),
    // Settlement reports (`settlements/payouts.csv`) and returns.
    ("card_payout", 15),
    ("psp_payout", 10),
    ("cheque_deposit", 10),
    ("payout_mismatch", 5),
    ("direct_debit_return", 5),
    // A cheque of a deposit bounces; the debit names only its number.
    ("cheque_return", 5),
    // A return of a collection or cheque the data does not hold: to a
    // person.
    ("return_untied", 3),
    // Payments the bank converted from USD (`InstdAmt` + `CcyXchg`,
    // `/OCMT/` + `/EXCH/`, CFONB `MMO`).
    ("fx_usd_invoice", 10),
    ("fx_eur_invoice", 10),
    ("fx_mismatch", 5),
    // LCR remittances (lettres de change relevé), settled bill by bill.
    ("lcr_collection", 10),
];

/// Lines per statement file at most: 20,000 keeps a CAMT file near 30 MB.
pub const STATEMENT_LINES_MAX: usize = 20_000;

/// Open items per ten bank lines (background included): 22, so that with
/// about 1.1 items paid per line most open items are paid by no line.
pub const OPEN_ITEMS_PER_TEN_LINES: usize = 22;

/// Bank lines per customer.
pub const LINES_PER_CUSTOMER: usize = 3;

/// Bytes of one sink call for the large CSVs: 4 MB keeps memory flat
/// while writing two million open items.
pub const CHUNK_BYTES: usize = 4 << 20;

/// The engine's combination search bound (`subset_max_items`): the
/// generator checks uniqueness of amount-only matches up to this size.
pub const SUBSET_ITEMS_MAX: usize = 6;

/// Attempts at decoy amounts that keep an amount-only match unique before
/// the situation is given up (redrawn). Collisions are rare; this bounds
/// the loop.
const DECOY_ATTEMPTS_MAX: usize = 32;

/// Draws of a situation the statement's format can carry before `clean`
/// is taken.
const DRAW_ATTEMPTS_MAX: usize = 16;

/// Percent of single-invoice payments (clean, noisy, RF, IBAN, name) the
/// payer sends a second time 1-10 days later: about 1% of all lines.
const DUPLICATE_PERCENT: u64 = 2;

/// Bank lines span days 20..340 of 2026.
const FIRST_DAY: i64 = 20;
const DAY_SPAN: i64 = 320;

/// Opening balance of each of the six bank accounts.
const OPENING_BALANCE: Cents = 15_000_000;

/// Writeoff tolerance of the default policy (`writeoff_max` = 5.00).
const WRITEOFF_MAX: Cents = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Situation {
    Clean,
    NoisyReference,
    RfReference,
    IbanOnly,
    NameOnly,
    GroupedReference,
    GroupedAdvice,
    GroupedNoReference,
    Split,
    Fees,
    SmallDifference,
    Partial,
    Overpayment,
    AdviceDeduction,
    Duplicate,
    ThirdParty,
    UnknownPayer,
    NotReceivable,
    Debit,
    Twins,
    ChequeBatch,
    CardPayout,
    PspPayout,
    ChequeDeposit,
    PayoutMismatch,
    DirectDebitReturn,
    ChequeReturn,
    ReturnUntied,
    FxUsdInvoice,
    FxEurInvoice,
    FxMismatch,
    LcrCollection,
}

const ALL: [Situation; 32] = [
    Situation::Clean,
    Situation::NoisyReference,
    Situation::RfReference,
    Situation::IbanOnly,
    Situation::NameOnly,
    Situation::GroupedReference,
    Situation::GroupedAdvice,
    Situation::GroupedNoReference,
    Situation::Split,
    Situation::Fees,
    Situation::SmallDifference,
    Situation::Partial,
    Situation::Overpayment,
    Situation::AdviceDeduction,
    Situation::Duplicate,
    Situation::ThirdParty,
    Situation::UnknownPayer,
    Situation::NotReceivable,
    Situation::Debit,
    Situation::Twins,
    Situation::ChequeBatch,
    Situation::CardPayout,
    Situation::PspPayout,
    Situation::ChequeDeposit,
    Situation::PayoutMismatch,
    Situation::DirectDebitReturn,
    Situation::ChequeReturn,
    Situation::ReturnUntied,
    Situation::FxUsdInvoice,
    Situation::FxEurInvoice,
    Situation::FxMismatch,
    Situation::LcrCollection,
];

impl Situation {
    fn name(self) -> &'static str {
        SITUATIONS[ALL.iter().position(|s| *s == self).unwrap_or(0)].0
    }

    fn needs(self) -> Needs {
        match self {
            Situation::IbanOnly | Situation::GroupedNoReference | Situation::Twins => {
                Needs::PayerIban
            }
            Situation::Fees => Needs::Charges,
            Situation::ChequeBatch | Situation::ChequeReturn => Needs::Batch,
            _ => Needs::Nothing,
        }
    }
}

/// One open item. The invoice number is `FA-2026-<seq>` (`AV-` for a
/// credit note); one sequence for both, so a number without its prefix
/// still designates one document.
#[derive(Debug, Clone, Copy)]
struct Item {
    customer: u32,
    seq: u32,
    amount: Cents,
    open: Cents,
    issue: i16,
    due: i16,
    rf: bool,
    /// Invoiced in USD (else EUR).
    usd: bool,
}

impl Item {
    fn id(&self) -> String {
        let prefix = if self.amount < 0 { "AV" } else { "FA" };
        format!("{prefix}-2026-{:06}", self.seq)
    }

    /// The ISO 11649 reference printed on the invoice: a body that is a
    /// bijection of the sequence number (unique, unrelated-looking).
    fn payment_reference(&self) -> Option<String> {
        self.rf.then(|| {
            let body = (self.seq as u64)
                .wrapping_mul(7_777_777_777)
                .wrapping_add(31_415_926_535)
                % 100_000_000_000;
            rf_reference(&format!("{body:011}"))
        })
    }
}

/// The truth row of one bank line.
struct Truth {
    situation: &'static str,
    matchable: bool,
    customer: String,
    amount: Cents,
    invoices: Vec<(String, Cents)>,
    adjustments: Vec<(&'static str, Cents)>,
    reason: &'static str,
}

impl Truth {
    fn applied(situation: Situation, customer: &str, amount: Cents) -> Truth {
        Truth {
            situation: situation.name(),
            matchable: true,
            customer: customer.to_string(),
            amount,
            invoices: Vec::new(),
            adjustments: Vec::new(),
            reason: "",
        }
    }

    fn exception(
        situation: Situation,
        customer: &str,
        amount: Cents,
        reason: &'static str,
    ) -> Truth {
        Truth {
            situation: situation.name(),
            matchable: false,
            customer: customer.to_string(),
            amount,
            invoices: Vec::new(),
            adjustments: Vec::new(),
            reason,
        }
    }
}

/// A line waiting for its turn (later parts of a split payment).
struct Pending {
    line: Line,
    truth: Truth,
}

struct Generator {
    rng: Rng,
    lines_total: usize,
    customers: Vec<Customer>,
    /// Customers `0..normal_count` serve referenced situations and get
    /// background items; the rest are reserved, one per amount-only line.
    normal_count: usize,
    next_reserved: usize,
    /// Reserved customers already used (no background items for them).
    reserved_used: Vec<bool>,
    items: Vec<Item>,
    next_seq: u32,
    next_iban: u64,
    next_e2e: u64,
    next_advice: u64,
    next_cheque: u64,
    emitted: u64,
    names: NameBook,
    pending: BTreeMap<(usize, u64), Pending>,
    pending_seq: u64,
    advices: String,
    /// `settlements/payouts.csv`.
    settlements: String,
    next_payout: u64,
    truth: String,
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

const CLEAN_TEMPLATES: &[&str] = &[
    "FACTURE {}",
    "REGLEMENT FACTURE {}",
    "Règlement facture {}",
    "PAIEMENT {}",
    "FACT {} MERCI",
    "{}",
    "VIREMENT FACTURE N {}",
    "REF {} ECHEANCE",
];

const GENERIC_TEXTS: &[&str] = &[
    "",
    "VIREMENT",
    "PAIEMENT",
    "REGLEMENT",
    "REGLEMENT FOURNISSEUR",
    "PAIEMENT ECHEANCE",
    "VIR SEPA",
];

const DEDUCTION_REASONS: &[&str] = &[
    "damaged goods",
    "Marchandise abîmée, 2 cartons",
    "quantité manquante",
    "retour produit non crédité",
    "litige prix",
    "short delivery",
];

/// `(label, party, text, low, high)` of credits that are not receipts.
const NOT_RECEIVABLE: &[(&str, &str, &str, Cents, Cents)] = &[
    (
        "INTERETS",
        "BNP PARIBAS",
        "INTERETS CREDITEURS TRIMESTRE",
        100,
        80_000,
    ),
    (
        "VIR SEPA RECU",
        "DGFIP",
        "REMBOURSEMENT TVA DGFIP CREDIT DE TVA",
        50_000,
        4_000_000,
    ),
    (
        "VIR INTERNE",
        "DUPONT INDUSTRIE SAS",
        "VIREMENT INTERNE TRESORERIE",
        100_000,
        10_000_000,
    ),
    (
        "VIR SEPA RECU",
        "AXA FRANCE IARD",
        "INDEMNITE SINISTRE ASSURANCE DEGAT DES EAUX",
        20_000,
        2_000_000,
    ),
    (
        "VIR SEPA RECU",
        "BPIFRANCE",
        "SUBVENTION AIDE A L INNOVATION",
        100_000,
        5_000_000,
    ),
    (
        "VIR SEPA RECU",
        "REGION AUVERGNE RHONE ALPES",
        "SUBVENTION REGIONALE EMPLOI",
        100_000,
        3_000_000,
    ),
];

/// `(label, party, text, low, high)` of money going out.
const DEBITS: &[(&str, &str, &str, Cents, Cents)] = &[
    (
        "VIR SEPA EMIS",
        "PAPETERIE DU CENTRE",
        "FACTURE FOURNISSEUR PAPETERIE",
        2_000,
        300_000,
    ),
    (
        "PRLV SEPA",
        "EDF ENTREPRISES",
        "PRELEVEMENT ELECTRICITE",
        10_000,
        900_000,
    ),
    (
        "PRLV SEPA",
        "URSSAF RHONE ALPES",
        "COTISATIONS SOCIALES",
        100_000,
        3_000_000,
    ),
    (
        "VIR SEPA EMIS",
        "ACIERS DU RHONE SAS",
        "REGLEMENT FOURNISSEUR MATIERES",
        50_000,
        5_000_000,
    ),
    ("FRAIS", "BNP PARIBAS", "FRAIS CARTE BANCAIRE", 500, 9_000),
    (
        "FRAIS",
        "BNP PARIBAS",
        "COMMISSION DE MOUVEMENT",
        1_000,
        30_000,
    ),
    (
        "PRLV SEPA",
        "ORANGE BUSINESS",
        "ABONNEMENT TELEPHONIE",
        3_000,
        60_000,
    ),
    (
        "VIR SEPA EMIS",
        "SCI LES TILLEULS",
        "LOYER BUREAUX",
        150_000,
        900_000,
    ),
];

impl Generator {
    fn new(options: &SynthOptions) -> Generator {
        let mut rng = Rng::new(options.seed);
        let count = (options.lines / LINES_PER_CUSTOMER).max(30);
        let mut names = NameBook::new();
        let mut customers = Vec::with_capacity(count);
        let mut next_iban = 1u64;
        for index in 0..count {
            let mut customer = names.customer(&mut rng, format!("C{:07}", index + 1));
            let ibans = match rng.below(100) {
                0..25 => 0,
                25..80 => 1,
                _ => 2,
            };
            for _ in 0..ibans {
                customer.ibans.push(known_iban(next_iban));
                next_iban += 1;
            }
            customers.push(customer);
        }
        let normal_count = count * 55 / 100;
        Generator {
            rng,
            lines_total: options.lines,
            reserved_used: vec![false; count],
            customers,
            normal_count,
            next_reserved: normal_count,
            items: Vec::with_capacity(options.lines * OPEN_ITEMS_PER_TEN_LINES / 10 + 16),
            next_seq: 1,
            next_iban,
            next_e2e: 1,
            next_advice: 1,
            next_cheque: 1,
            emitted: 0,
            names,
            pending: BTreeMap::new(),
            pending_seq: 0,
            advices: String::from(
                "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,payment_reference,deduction_amount,deduction_reason\n",
            ),
            settlements: String::from(
                "settlement_id,method,payout_reference,payout_date,currency,transaction_id,transaction_date,kind,gross_amount,fee_amount,net_amount,invoice_id,customer_id,payer_name\n",
            ),
            next_payout: 1,
            truth: String::from(
                "bank_ref,situation,matchable,customer_id,amount,expected_invoices,expected_adjustments,expected_reason\n",
            ),
        }
    }

    /// A payout of a card acquirer, a payment provider or a cheque deposit:
    /// its settlement rows written to `settlements`, its bank line and
    /// truth returned. Charges name their invoice (as issued, or with
    /// spaces), or, for a customer with no other items, only the customer;
    /// a card payout carries a refund now and then and a monthly fee row.
    /// `mismatch`: the bank credits a different amount than the rows say.
    fn payout(&mut self, situation: Situation, day: i64, mismatch: bool) -> Option<(Line, Truth)> {
        use Situation as S;
        let (method, fee_permille, fixed_fee) = match situation {
            S::PspPayout => ("psp", 29, 25),
            S::ChequeDeposit => ("cheque", 0, 0),
            S::LcrCollection => ("lcr", 0, 0),
            _ => ("card", 14, 10),
        };
        let id = self.next_payout;
        self.next_payout += 1;
        let settlement_id = format!("ST{id:07}");
        // Letters and digits no invoice number resembles.
        let reference = (situation != S::PspPayout).then(|| {
            let letter = char::from(b'A' + (id % 26) as u8);
            format!("TR{id:06}{letter}K")
        });
        let count = self.rng.range(3, 12) as usize;
        let mut rows = String::new();
        let head = format!(
            "{settlement_id},{method},{},{}",
            reference.as_deref().unwrap_or(""),
            iso_date(day)
        );
        // One settlement row: transaction, its day, kind, gross, fee,
        // invoice as quoted, customer.
        let row = |rows: &mut String,
                   transaction: &str,
                   day: i64,
                   kind: &str,
                   gross: Cents,
                   fee: Cents,
                   invoice: &str,
                   customer: &str| {
            let _ = writeln!(
                rows,
                "{head},EUR,{transaction},{},{kind},{},{},{},{invoice},{customer},",
                iso_date(day),
                dec(gross),
                dec(fee),
                dec(gross - fee)
            );
        };
        let mut invoices: Vec<(String, Cents)> = Vec::new();
        let mut customers: Vec<String> = Vec::new();
        let (mut net_total, mut fees) = (0, 0);
        for n in 0..count {
            let by_customer = self.rng.chance(15);
            let customer = if by_customer {
                self.reserved_customer()?
            } else {
                self.normal_customer()
            };
            let amount = self.amount();
            let at = self.invoice_for(customer, day, amount);
            let item = self.items[at];
            let fee = amount * fee_permille / 1000 + fixed_fee;
            let quoted = if by_customer {
                String::new()
            } else if self.rng.chance(20) {
                item.id().replace('-', " ")
            } else {
                item.id()
            };
            let customer_id = self.customers[customer].id.clone();
            let payer = if by_customer {
                customer_id.as_str()
            } else {
                ""
            };
            let transaction = format!("{settlement_id}-{n}");
            row(
                &mut rows,
                &transaction,
                day - 1,
                "charge",
                amount,
                fee,
                &quoted,
                payer,
            );
            net_total += amount - fee;
            fees += fee;
            let mut paid = amount;
            if method == "card" && self.rng.chance(8) {
                // A partial refund of the same invoice, in the same payout.
                let refund = amount * self.rng.range(10, 50) / 100;
                let transaction = format!("{settlement_id}-{n}r");
                row(
                    &mut rows,
                    &transaction,
                    day,
                    "refund",
                    -refund,
                    0,
                    &quoted,
                    payer,
                );
                net_total -= refund;
                paid -= refund;
            }
            invoices.push((item.id(), paid));
            if !customers.contains(&customer_id) {
                customers.push(customer_id);
            }
        }
        if method == "card" && self.rng.chance(30) {
            let fee = self.rng.range(100, 2_000);
            let transaction = format!("{settlement_id}-fee");
            row(&mut rows, &transaction, day, "fee", -fee, 0, "", "");
            net_total -= fee;
            fees += fee;
        }
        self.settlements.push_str(&rows);
        let delta = if mismatch {
            self.rng.range(1, 5_000) * if self.rng.chance(50) { 1 } else { -1 }
        } else {
            0
        };
        let amount = net_total + delta;
        if amount <= 0 {
            return None;
        }
        let (label, party, text) = match situation {
            S::PspPayout => (
                "VIR SEPA RECU",
                "PAYPAL EUROPE S.A R.L",
                "VERSEMENT PAYPAL".to_string(),
            ),
            S::ChequeDeposit => (
                "REMISE CHEQUES",
                "",
                format!("REMISE {} CHQ {count}", reference.as_deref().unwrap_or("")),
            ),
            S::LcrCollection => (
                "REMISE LCR",
                "",
                format!(
                    "REMISE LCR {} {count} EFFETS",
                    reference.as_deref().unwrap_or("")
                ),
            ),
            _ => (
                "VIR SEPA RECU",
                "STRIPE PAYMENTS EUROPE LTD",
                format!("STRIPE PAYOUT {}", reference.as_deref().unwrap_or("")),
            ),
        };
        let party_name = (!party.is_empty()).then(|| party.to_string());
        let line = Line::plain(day, amount, label, party_name, text);
        let customers = customers.join(";");
        Some(if mismatch {
            (
                line,
                Truth::exception(situation, "", amount, "amount_mismatch"),
            )
        } else {
            let mut truth = Truth::applied(situation, &customers, amount);
            truth.invoices = invoices;
            truth.adjustments.push(("bank_fee", -fees));
            (line, truth)
        })
    }

    fn day_of(&self, index: usize) -> i64 {
        FIRST_DAY + (index as i64 * DAY_SPAN) / self.lines_total.max(1) as i64
    }

    /// The first line index whose day is `day` or later.
    fn index_for_day(&self, day: i64) -> usize {
        let total = self.lines_total.max(1) as i64;
        let mut index = (((day - FIRST_DAY).max(0) * total) / DAY_SPAN).max(0) as usize;
        while index < self.lines_total && self.day_of(index) < day {
            index += 1;
        }
        index
    }

    fn amount(&mut self) -> Cents {
        match self.rng.below(10) {
            0..4 => self.rng.range(5_000, 50_000),
            4..8 => self.rng.range(50_000, 300_000),
            _ => self.rng.range(300_000, 2_000_000),
        }
    }

    fn push_item(
        &mut self,
        customer: usize,
        amount: Cents,
        open: Cents,
        issue: i64,
        due: i64,
    ) -> usize {
        let rf = self.rng.chance(25);
        self.items.push(Item {
            customer: customer as u32,
            seq: self.next_seq,
            amount,
            open,
            issue: issue.clamp(0, 364) as i16,
            due: due.clamp(0, 400) as i16,
            rf,
            usd: false,
        });
        self.next_seq += 1;
        self.items.len() - 1
    }

    fn terms(&mut self) -> i64 {
        *self.rng.pick(&[30, 45, 60])
    }

    /// An invoice a line at `day` pays: issued before the day, now and then
    /// already partly paid.
    fn invoice_for(&mut self, customer: usize, day: i64, amount: Cents) -> usize {
        let issue = (day - self.rng.range(5, 80)).max(0);
        let due = issue + self.terms();
        let mut gross = amount;
        if self.rng.chance(6) {
            gross = amount + self.rng.range(1_000, amount.max(2_000));
        }
        self.push_item(customer, gross, amount, issue, due)
    }

    fn credit_note_for(&mut self, customer: usize, day: i64, amount: Cents) -> usize {
        let issue = (day - self.rng.range(5, 60)).max(0);
        self.push_item(customer, -amount, -amount, issue, issue)
    }

    fn normal_customer(&mut self) -> usize {
        self.rng.below(self.normal_count.max(1) as u64) as usize
    }

    fn reserved_customer(&mut self) -> Option<usize> {
        if self.next_reserved >= self.customers.len() {
            return None;
        }
        let customer = self.next_reserved;
        self.next_reserved += 1;
        self.reserved_used[customer] = true;
        Some(customer)
    }

    fn e2e(&mut self) -> String {
        let id = format!("E2E{:010}", self.next_e2e);
        self.next_e2e += 1;
        id
    }

    fn unknown_iban(&mut self) -> String {
        let account = self.rng.below(100_000_000_000);
        french_iban(17515, 90000 + self.rng.below(9999) as u32, account)
    }

    /// A credit from `customer` as its bank shows it: a name variant, its
    /// IBAN most of the time, an end-to-end id half of the time.
    fn payer_line(&mut self, customer: usize, amount: Cents, text: String) -> Line {
        let name = payer_variant(&mut self.rng, &self.customers[customer]);
        let ibans = &self.customers[customer].ibans;
        let iban = if !ibans.is_empty() && self.rng.chance(75) {
            Some(ibans[self.rng.below(ibans.len() as u64) as usize].clone())
        } else {
            None
        };
        let e2e = self.rng.chance(50).then(|| self.e2e());
        Line {
            party_iban: iban,
            end_to_end: e2e,
            ..Line::plain(0, amount, "VIR SEPA RECU", Some(name), text)
        }
    }

    /// A payment of `item` the payer instructed in USD (cents) and the bank
    /// converted at `rate` (EUR per USD, ten-thousandths), with what it
    /// credited in EUR cents.
    fn converted_line(
        &mut self,
        customer: usize,
        item: &Item,
        instructed: Cents,
        rate: i64,
    ) -> (Line, Cents) {
        let paid = (instructed * rate + 5_000) / 10_000;
        let text = self.clean_text(&item.id());
        let mut line = self.payer_line(customer, paid, text);
        line.fx = Some(Fx {
            currency: "USD",
            instructed,
            rate,
        });
        (line, paid)
    }

    fn clean_text(&mut self, id: &str) -> String {
        self.rng.pick(CLEAN_TEMPLATES).replace("{}", id)
    }

    fn generic_text(&mut self) -> String {
        self.rng.pick(GENERIC_TEXTS).to_string()
    }

    /// A reference as a careless payer types it; with the byte offset of an
    /// MT940 line break inside it when the format wraps.
    fn noisy_reference(&mut self, item: &Item, format: Format) -> (String, Option<usize>) {
        let prefix = if item.amount < 0 { "AV" } else { "FA" };
        let number = format!("{:06}", item.seq);
        let short = item.seq.to_string();
        let slash_ok = format != Format::MtSlash;
        loop {
            let (text, wrap): (String, Option<usize>) = match self.rng.below(9) {
                0 => (format!("{prefix}2026{number}"), None),
                1 => (format!("{prefix} 2026 {number}"), None),
                2 if slash_ok => (format!("{prefix}/2026/{number}"), None),
                3 => (format!("{}-2026-{number}", prefix.to_lowercase()), None),
                4 => (format!("2026-{number}"), None),
                5 => (format!("{prefix}-{number}"), None),
                6 => (format!("{prefix}-2026-{short}"), None),
                7 => (format!("{prefix}2026{short}"), None),
                8 if matches!(format, Format::MtFrench | Format::Cfonb) => {
                    let text = format!("{prefix}-2026-{number}");
                    (text, Some(prefix.len() + 6))
                }
                _ => continue,
            };
            return (text, wrap);
        }
    }

    fn truth_row(&mut self, bank_ref: &str, truth: &Truth) {
        let invoices: Vec<String> = truth
            .invoices
            .iter()
            .map(|(id, amount)| format!("{id}={}", dec(*amount)))
            .collect();
        let adjustments: Vec<String> = truth
            .adjustments
            .iter()
            .map(|(kind, amount)| format!("{kind}={}", dec(*amount)))
            .collect();
        let _ = writeln!(
            self.truth,
            "{bank_ref},{},{},{},{},{},{},{}",
            truth.situation,
            truth.matchable,
            truth.customer,
            dec(truth.amount),
            invoices.join(";"),
            adjustments.join(";"),
            truth.reason
        );
    }

    fn draw(&mut self, format: Format) -> Situation {
        for _ in 0..DRAW_ATTEMPTS_MAX {
            let mut roll = self.rng.below(1000) as u32;
            let mut chosen = Situation::Clean;
            for (situation, (_, share)) in ALL.iter().zip(SITUATIONS) {
                if roll < *share {
                    chosen = *situation;
                    break;
                }
                roll -= share;
            }
            if format.carries(chosen.needs()) {
                return chosen;
            }
        }
        Situation::Clean
    }

    /// The line at `index` of the data set, in a statement of `format`.
    fn next_line(&mut self, index: usize, format: Format) -> Line {
        let day = self.day_of(index);
        let due = self.pending.keys().next().copied();
        let (mut line, truth) = match due {
            Some(key) if key.0 <= index => match self.pending.remove(&key) {
                Some(pending) => (pending.line, pending.truth),
                None => self.fresh_line(index, day, format),
            },
            _ => self.fresh_line(index, day, format),
        };
        self.emitted += 1;
        line.bank_ref = format!("B{:010}", self.emitted);
        line.day = day;
        self.truth_row(&line.bank_ref.clone(), &truth);
        line
    }

    fn fresh_line(&mut self, index: usize, day: i64, format: Format) -> (Line, Truth) {
        loop {
            let situation = self.draw(format);
            if let Some(made) = self.make(situation, index, day, format) {
                return made;
            }
        }
    }

    /// Sends the payment again later, now and then: the later line is a
    /// `duplicate` (the first line that claims an amount gets it).
    fn remember(&mut self, line: &Line, customer: &str, day: i64, index: usize) {
        if !self.rng.chance(DUPLICATE_PERCENT) {
            return;
        }
        let later = day + self.rng.range(1, 10);
        let at = self.index_for_day(later).max(index + 1);
        if at >= self.lines_total {
            return;
        }
        let truth = Truth::exception(
            Situation::Duplicate,
            customer,
            line.amount,
            "duplicate_payment",
        );
        self.pending_seq += 1;
        self.pending.insert(
            (at, self.pending_seq),
            Pending {
                line: line.clone(),
                truth,
            },
        );
    }

    /// Builds one line of `situation`, or `None` when it cannot be made
    /// here (no reserved customer left, no earlier payment to repeat, a
    /// follow-up would fall past the last line): the caller draws again.
    fn make(
        &mut self,
        situation: Situation,
        index: usize,
        day: i64,
        format: Format,
    ) -> Option<(Line, Truth)> {
        use Situation as S;
        match situation {
            S::Clean | S::NoisyReference | S::RfReference | S::ThirdParty => {
                let customer = self.normal_customer();
                let amount = self.amount();
                let item_index = self.invoice_for(customer, day, amount);
                if situation == S::RfReference {
                    self.items[item_index].rf = true;
                }
                let item = self.items[item_index];
                let mut creditor_ref = None;
                let mut wrap_at = None;
                let text = match situation {
                    S::NoisyReference => {
                        let (reference, wrap) = self.noisy_reference(&item, format);
                        let template = self.rng.pick(CLEAN_TEMPLATES).to_string();
                        let at = template.find("{}").unwrap_or(0);
                        wrap_at = wrap.map(|w| w + at);
                        template.replace("{}", &reference)
                    }
                    S::RfReference => {
                        let reference = item.payment_reference().unwrap_or_default();
                        let structured = !matches!(format, Format::MtGerman | Format::MtFrench)
                            && self.rng.chance(60);
                        if structured {
                            creditor_ref = Some(reference);
                            String::new()
                        } else if self.rng.chance(50) {
                            let grouped: Vec<String> = reference
                                .as_bytes()
                                .chunks(4)
                                .map(|c| String::from_utf8_lossy(c).into_owned())
                                .collect();
                            format!("REF {}", grouped.join(" "))
                        } else {
                            format!("PAIEMENT {reference}")
                        }
                    }
                    _ => self.clean_text(&item.id()),
                };
                let customer_id = self.customers[customer].id.clone();
                let mut line = if situation == S::ThirdParty {
                    let mut line = if self.rng.chance(50) {
                        let other = self.normal_customer();
                        self.payer_line(other, amount, text)
                    } else {
                        let name = self.names.stranger(&mut self.rng);
                        let iban = self.unknown_iban();
                        let mut line = self.payer_line(customer, amount, text);
                        line.party_name = Some(name);
                        line.party_iban = Some(iban);
                        line
                    };
                    line.party_name = line.party_name.map(|n| n.replace("  ", " "));
                    line
                } else {
                    self.payer_line(customer, amount, text)
                };
                line.creditor_ref = creditor_ref;
                line.wrap_at = wrap_at;
                let mut truth = Truth::applied(situation, &customer_id, amount);
                truth.invoices.push((item.id(), amount));
                if situation != S::ThirdParty {
                    self.remember(&line, &customer_id, day, index);
                }
                Some((line, truth))
            }
            S::Fees | S::SmallDifference | S::Partial | S::Overpayment => {
                let customer = self.normal_customer();
                let due = self.amount().max(10_000);
                let at = self.invoice_for(customer, day, due);
                let item = self.items[at];
                let customer_id = self.customers[customer].id.clone();
                let text = self.clean_text(&item.id());
                let (paid, fee) = match situation {
                    S::Fees => {
                        let fee = self.rng.range(100, 3_500).min(due / 4);
                        (due - fee, fee)
                    }
                    S::SmallDifference => {
                        let mut difference = self.rng.range(-WRITEOFF_MAX, WRITEOFF_MAX);
                        if difference == 0 {
                            difference = -1;
                        }
                        (due + difference, 0)
                    }
                    S::Partial => (due * self.rng.range(20, 80) / 100, 0),
                    _ => (due + self.rng.range(WRITEOFF_MAX + 1, 50_000), 0),
                };
                let mut line = self.payer_line(customer, paid, text);
                line.fee = fee;
                let mut truth = Truth::applied(situation, &customer_id, paid);
                match situation {
                    S::Fees => {
                        truth.invoices.push((item.id(), due));
                        truth.adjustments.push(("bank_fee", -fee));
                    }
                    S::SmallDifference => {
                        truth.invoices.push((item.id(), due));
                        truth.adjustments.push(("writeoff", paid - due));
                    }
                    S::Partial => truth.invoices.push((item.id(), paid)),
                    _ => {
                        truth.invoices.push((item.id(), due));
                        truth.reason = "overpayment";
                    }
                }
                Some((line, truth))
            }
            S::IbanOnly | S::NameOnly | S::Twins => {
                let customer = self.reserved_customer()?;
                if situation != S::NameOnly && self.customers[customer].ibans.is_empty() {
                    let iban = known_iban(self.next_iban);
                    self.next_iban += 1;
                    self.customers[customer].ibans.push(iban);
                }
                let amount = self.amount();
                let decoys = self.decoys(amount, &[amount])?;
                let first = self.invoice_for(customer, day, amount);
                let mut expected = first;
                if situation == S::Twins {
                    let twin = self.invoice_for(customer, day, amount);
                    let (a, b) = (self.items[first].due, self.items[twin].due);
                    if a == b {
                        self.items[twin].due = a + 15;
                    }
                    if self.items[twin].due < self.items[first].due {
                        expected = twin;
                    }
                }
                self.add_decoys(customer, &decoys);
                let text = self.generic_text();
                let mut line = self.payer_line(customer, amount, text);
                line.end_to_end = None;
                let ibans = self.customers[customer].ibans.clone();
                if situation == S::NameOnly {
                    line.party_name = Some(names::payer_variant_full(
                        &mut self.rng,
                        &self.customers[customer],
                    ));
                    line.party_iban = self.rng.chance(50).then(|| self.unknown_iban());
                } else {
                    line.party_iban =
                        Some(ibans[self.rng.below(ibans.len() as u64) as usize].clone());
                    if self.rng.chance(30) {
                        line.party_name = None;
                    }
                }
                let customer_id = self.customers[customer].id.clone();
                let item = self.items[expected];
                let mut truth = Truth::applied(situation, &customer_id, amount);
                truth.invoices.push((item.id(), amount));
                self.remember(&line, &customer_id, day, index);
                Some((line, truth))
            }
            S::GroupedNoReference => {
                let customer = self.reserved_customer()?;
                if self.customers[customer].ibans.is_empty() {
                    let iban = known_iban(self.next_iban);
                    self.next_iban += 1;
                    self.customers[customer].ibans.push(iban);
                }
                let count = self.rng.range(2, 3) as usize;
                let targets: Vec<Cents> = (0..count).map(|_| self.amount()).collect();
                let total: Cents = targets.iter().sum();
                let decoys = self.decoys(total, &targets)?;
                let mut truth =
                    Truth::applied(situation, &self.customers[customer].id.clone(), total);
                for amount in &targets {
                    let at = self.invoice_for(customer, day, *amount);
                    let item = self.items[at];
                    truth.invoices.push((item.id(), *amount));
                }
                self.add_decoys(customer, &decoys);
                let text = self.generic_text();
                let mut line = self.payer_line(customer, total, text);
                let ibans = &self.customers[customer].ibans;
                line.party_iban = Some(ibans[self.rng.below(ibans.len() as u64) as usize].clone());
                line.end_to_end = None;
                Some((line, truth))
            }
            S::GroupedReference | S::GroupedAdvice | S::AdviceDeduction => {
                let customer = self.normal_customer();
                let customer_id = self.customers[customer].id.clone();
                let count = match situation {
                    // Mostly small groups, now and then up to 12.
                    S::GroupedReference => {
                        let spread = self.rng.below(4) * self.rng.below(4);
                        2 + (spread * 10 / 9) as i64
                    }
                    S::GroupedAdvice => self.rng.range(2, 6),
                    _ => self.rng.range(1, 3),
                } as usize;
                let mut rows: Vec<(Item, Cents, Cents)> = Vec::new(); // item, paid, deduction
                for _ in 0..count {
                    let amount = self.amount();
                    let at = self.invoice_for(customer, day, amount);
                    let item = self.items[at];
                    rows.push((item, amount, 0));
                }
                let invoices_total: Cents = rows.iter().map(|r| r.1).sum();
                if situation != S::AdviceDeduction && self.rng.chance(30) {
                    let credit = self.rng.range(1_000, (invoices_total / 3).max(1_001));
                    let at = self.credit_note_for(customer, day, credit);
                    let item = self.items[at];
                    rows.push((item, -credit, 0));
                }
                if situation == S::AdviceDeduction {
                    let deduction = (rows[0].1 * self.rng.range(5, 30) / 100).max(1_000);
                    rows[0].1 -= deduction;
                    rows[0].2 = deduction;
                }
                let total: Cents = rows.iter().map(|r| r.1).sum();
                let mut truth = Truth::applied(situation, &customer_id, total);
                for (item, paid, _) in &rows {
                    truth.invoices.push((item.id(), *paid));
                }
                if situation == S::GroupedReference {
                    let mut text = String::from(*self.rng.pick(&[
                        "FACTURES",
                        "REGLEMENT FACT",
                        "PAIEMENT FACTURES",
                        "FACT",
                    ]));
                    for (item, _, _) in &rows {
                        text.push(' ');
                        if item.amount < 0 {
                            text.push_str("AVOIR ");
                        }
                        text.push_str(&item.id());
                    }
                    let line = self.payer_line(customer, total, text);
                    return Some((line, truth));
                }
                let advice_id = format!("RA-{:07}", self.next_advice);
                self.next_advice += 1;
                let e2e = self.e2e();
                let payer = self.customers[customer].legal_name();
                for (item, paid, deduction) in &rows {
                    let quoted = if self.rng.chance(15) {
                        item.id().replace('-', "")
                    } else {
                        item.id()
                    };
                    let (deduction_text, reason) = if *deduction > 0 {
                        (
                            dec(*deduction),
                            csv_field(self.rng.pick::<&str>(DEDUCTION_REASONS)),
                        )
                    } else {
                        (String::new(), String::new())
                    };
                    let _ = writeln!(
                        self.advices,
                        "{advice_id},{},{},{},EUR,{quoted},{},{e2e},{deduction_text},{reason}",
                        csv_field(&payer),
                        iso_date(day),
                        dec(total),
                        dec(*paid)
                    );
                }
                let text = if self.rng.chance(50) {
                    String::from("PAIEMENT SELON AVIS")
                } else {
                    String::new()
                };
                let mut line = self.payer_line(customer, total, text);
                line.end_to_end = Some(e2e);
                Some((line, truth))
            }
            S::Split => {
                let customer = self.normal_customer();
                let due = self.rng.range(30_000, 2_000_000);
                let at = self.invoice_for(customer, day, due);
                let item = self.items[at];
                let parts = self.rng.range(2, 3) as usize;
                let mut amounts = Vec::with_capacity(parts);
                let mut left = due;
                for part in 0..parts {
                    let amount = if part + 1 == parts {
                        left
                    } else {
                        due * self.rng.range(20, 40) / 100
                    };
                    left -= amount;
                    amounts.push(amount);
                }
                let mut due_indexes = Vec::new();
                let mut follow_day = day;
                for _ in 1..parts {
                    follow_day += self.rng.range(2, 20);
                    let at = self.index_for_day(follow_day).max(index + 1);
                    if at >= self.lines_total {
                        return None;
                    }
                    due_indexes.push(at);
                }
                let customer_id = self.customers[customer].id.clone();
                let text = self.clean_text(&item.id());
                let mut first = None;
                for (part, amount) in amounts.iter().enumerate() {
                    let line_text = if part == 0 {
                        text.clone()
                    } else {
                        format!("{text} SOLDE {}/{parts}", part + 1)
                    };
                    let line = self.payer_line(customer, *amount, line_text);
                    let mut truth = Truth::applied(situation, &customer_id, *amount);
                    truth.invoices.push((item.id(), *amount));
                    if part == 0 {
                        first = Some((line, truth));
                    } else {
                        self.pending_seq += 1;
                        self.pending.insert(
                            (due_indexes[part - 1], self.pending_seq),
                            Pending { line, truth },
                        );
                    }
                }
                first
            }
            // Duplicates are scheduled by `remember`, never drawn.
            S::Duplicate => None,
            S::UnknownPayer => {
                let amount = self.amount();
                let owner = self.normal_customer();
                let issue = (day - self.rng.range(5, 80)).max(0);
                let due = issue + self.terms();
                self.push_item(owner, amount, amount, issue, due);
                let name = self.names.stranger(&mut self.rng);
                let iban = self.unknown_iban();
                let text = self.generic_text();
                let mut line = Line::plain(day, amount, "VIR SEPA RECU", Some(name), text);
                line.party_iban = Some(iban);
                Some((
                    line,
                    Truth::exception(situation, "", amount, "unknown_payer"),
                ))
            }
            S::NotReceivable | S::Debit => {
                let table = if situation == S::Debit {
                    DEBITS
                } else {
                    NOT_RECEIVABLE
                };
                let (label, party, text, low, high) = *self.rng.pick(table);
                let magnitude = self.rng.range(low, high);
                let amount = if situation == S::Debit {
                    -magnitude
                } else {
                    magnitude
                };
                let iban = (label != "FRAIS").then(|| self.unknown_iban());
                let line = Line {
                    bank_ref: String::new(),
                    day,
                    amount,
                    label,
                    party_name: Some(party.to_string()),
                    party_iban: iban,
                    end_to_end: None,
                    text: text.to_string(),
                    wrap_at: None,
                    creditor_ref: None,
                    fee: 0,
                    cheques: Vec::new(),
                    fx: None,
                };
                Some((
                    line,
                    Truth::exception(situation, "", amount, "not_receivable"),
                ))
            }
            S::CardPayout | S::PspPayout | S::ChequeDeposit => self.payout(situation, day, false),
            S::FxUsdInvoice | S::FxMismatch => {
                // A USD invoice paid in USD into the EUR account: the bank
                // converts. Now and then the payer's bank took USD charges
                // (under 0.8 %: within fx_tolerance); a mismatch is 5-20 %
                // short.
                let customer = self.normal_customer();
                let due = self.amount().max(10_000);
                let at = self.invoice_for(customer, day, due);
                self.items[at].usd = true;
                let item = self.items[at];
                let instructed = if situation == S::FxMismatch {
                    due * self.rng.range(80, 95) / 100
                } else if self.rng.chance(20) {
                    due - due * self.rng.range(1, 8) / 1_000
                } else {
                    due
                };
                let rate = self.rng.range(8_500, 9_500);
                let (line, paid) = self.converted_line(customer, &item, instructed, rate);
                let customer_id = self.customers[customer].id.clone();
                if situation == S::FxMismatch {
                    return Some((
                        line,
                        Truth::exception(situation, "", paid, "currency_mismatch"),
                    ));
                }
                let mut truth = Truth::applied(situation, &customer_id, paid);
                truth.invoices.push((item.id(), due));
                // What the invoice was worth in EUR at the payment's rate.
                let value = (paid * due * 2 + instructed) / (instructed * 2);
                // The nominal bridge (USD invoice row, EUR line) and the
                // exchange difference, as the engine books them.
                truth.adjustments.push(("fx", value - due));
                if paid != value {
                    truth.adjustments.push(("fx", paid - value));
                }
                Some((line, truth))
            }
            S::FxEurInvoice => {
                // A EUR invoice the payer paid in USD, converted at its own
                // bank's rate: up to 0.8 % off, an exchange difference.
                let customer = self.normal_customer();
                let due = self.amount().max(10_000);
                let at = self.invoice_for(customer, day, due);
                let item = self.items[at];
                let rate = self.rng.range(8_500, 9_500);
                let off = self.rng.range(0, 8);
                let instructed = due * 10_000 * (1_000 - off) / 1_000 / rate;
                let (line, paid) = self.converted_line(customer, &item, instructed, rate);
                let customer_id = self.customers[customer].id.clone();
                let mut truth = Truth::applied(situation, &customer_id, paid);
                truth.invoices.push((item.id(), due));
                if paid != due {
                    truth.adjustments.push(("fx", paid - due));
                }
                Some((line, truth))
            }
            // LCR bills: as a batch with one detail per bill in CAMT half
            // of the time, else a total-only line with its remittance in
            // the settlement report (method `lcr`).
            S::LcrCollection if format.carries(Needs::Batch) && self.rng.chance(50) => {
                self.batch(situation, day)
            }
            S::LcrCollection => self.payout(situation, day, false),
            S::PayoutMismatch => self.payout(situation, day, true),
            S::DirectDebitReturn => {
                // A collection, and days later its return by the payer's
                // bank, which reopens the invoice.
                let customer = self.normal_customer();
                let amount = self.amount();
                let at = self.invoice_for(customer, day, amount);
                let item = self.items[at];
                let back = day + self.rng.range(2, 8);
                let later = self.index_for_day(back).max(index + 1);
                if later >= self.lines_total {
                    return None;
                }
                let customer_id = self.customers[customer].id.clone();
                let name = payer_variant(&mut self.rng, &self.customers[customer]);
                let mut collection = Line::plain(
                    day,
                    amount,
                    "PRLV SEPA",
                    Some(name),
                    format!("PRLV SEPA {}", item.id()),
                );
                // Half of the returns name the invoice; the others only
                // carry the collection's end-to-end id, as banks send them.
                let by_e2e = self.rng.chance(50);
                collection.end_to_end = Some(if by_e2e { self.e2e() } else { item.id() });
                let code = *self.rng.pick(&["AM04", "AC04", "MD06", "MS02"]);
                let text = if by_e2e {
                    format!("RETOUR PRLV SEPA MOTIF {code}")
                } else {
                    format!("RETOUR PRLV SEPA MOTIF {code} {}", item.id())
                };
                let returned = Line {
                    amount: -amount,
                    day: back,
                    label: "RETOUR PRLV",
                    text,
                    ..collection.clone()
                };
                let mut truth = Truth::applied(situation, &customer_id, -amount);
                truth.invoices.push((item.id(), -amount));
                self.pending_seq += 1;
                self.pending.insert(
                    (later, self.pending_seq),
                    Pending {
                        line: returned,
                        truth,
                    },
                );
                let mut truth = Truth::applied(situation, &customer_id, amount);
                truth.invoices.push((item.id(), amount));
                Some((collection, truth))
            }
            S::ChequeBatch => self.batch(situation, day),
            S::ReturnUntied => {
                let amount = -self.amount();
                let mut line = if self.rng.chance(50) {
                    let code = *self.rng.pick(&["AM04", "AC04", "MD06", "MS02"]);
                    let mut line = Line::plain(
                        day,
                        amount,
                        "RETOUR PRLV",
                        None,
                        format!("RETOUR PRLV SEPA MOTIF {code}"),
                    );
                    line.end_to_end = Some(format!("X{}", self.e2e()));
                    line
                } else {
                    let number = 90_000_000 + self.rng.below(9_999_999);
                    Line::plain(
                        day,
                        amount,
                        "CHQ IMPAYE",
                        None,
                        format!("CHEQUE IMPAYE N {number:08}"),
                    )
                };
                line.party_name = None;
                Some((
                    line,
                    Truth::exception(situation, "", amount, "no_candidate"),
                ))
            }
            S::ChequeReturn => {
                // A deposit, and days later one of its cheques unpaid: the
                // bank's debit names the cheque number only.
                let back = day + self.rng.range(2, 8);
                let later = self.index_for_day(back).max(index + 1);
                if later >= self.lines_total {
                    return None;
                }
                let (deposit, truth) = self.batch(situation, day)?;
                let k = self.rng.below(deposit.cheques.len() as u64) as usize;
                let cheque = &deposit.cheques[k];
                let (invoice, amount) = truth.invoices[k].clone();
                let customer = truth.customer.split(';').nth(k).unwrap_or("").to_string();
                let returned = Line::plain(
                    back,
                    -amount,
                    "CHQ IMPAYE",
                    None,
                    format!("CHEQUE IMPAYE N {}", cheque.number),
                );
                let mut back_truth = Truth::applied(situation, &customer, -amount);
                back_truth.invoices.push((invoice, -amount));
                self.pending_seq += 1;
                self.pending.insert(
                    (later, self.pending_seq),
                    Pending {
                        line: returned,
                        truth: back_truth,
                    },
                );
                Some((deposit, truth))
            }
        }
    }

    /// A batch entry with one detail per cheque (or LCR bill), each
    /// naming the invoice it pays.
    fn batch(&mut self, situation: Situation, day: i64) -> Option<(Line, Truth)> {
        let lcr = situation == Situation::LcrCollection;
        let count = self.rng.range(2, 5) as usize;
        let mut cheques = Vec::with_capacity(count);
        let mut customers: Vec<String> = Vec::new();
        let mut invoices = Vec::new();
        for _ in 0..count * 4 {
            if cheques.len() == count {
                break;
            }
            let customer = self.normal_customer();
            let id = self.customers[customer].id.clone();
            if customers.contains(&id) {
                continue;
            }
            let amount = self.amount();
            let at = self.invoice_for(customer, day, amount);
            let item = self.items[at];
            let drawer = payer_variant(&mut self.rng, &self.customers[customer]);
            let text = self.clean_text(&item.id());
            let number = if lcr {
                format!("LCR{:09}", self.next_cheque)
            } else {
                format!("{:07}", 1_000_000 + self.next_cheque % 9_000_000)
            };
            cheques.push(Cheque {
                amount,
                number,
                drawer,
                text,
            });
            self.next_cheque += 1;
            customers.push(id);
            invoices.push((item.id(), amount));
        }
        let total: Cents = cheques.iter().map(|c| c.amount).sum();
        let line = Line {
            bank_ref: String::new(),
            day,
            amount: total,
            label: if lcr { "REMISE LCR" } else { "REMISE CHEQUES" },
            party_name: None,
            party_iban: None,
            end_to_end: None,
            text: String::new(),
            wrap_at: None,
            creditor_ref: None,
            fee: 0,
            cheques,
            fx: None,
        };
        let mut truth = Truth::applied(situation, &customers.join(";"), total);
        truth.invoices = invoices;
        Some((line, truth))
    }

    /// Amounts of 1-5 open items that no combination of (up to
    /// `SUBSET_ITEMS_MAX` items, targets included) confuses with `total`:
    /// the only subset of targets + decoys summing to `total` is the
    /// targets. `None` when no such decoys were found.
    fn decoys(&mut self, total: Cents, targets: &[Cents]) -> Option<Vec<Cents>> {
        for _ in 0..DECOY_ATTEMPTS_MAX {
            let count = self.rng.range(1, 5) as usize;
            let decoys: Vec<Cents> = (0..count).map(|_| self.amount()).collect();
            let mut all: Vec<Cents> = targets.to_vec();
            all.extend(&decoys);
            let target_mask = (1u32 << targets.len()) - 1;
            let mut matches = 0;
            let mut only_targets = true;
            for mask in 1u32..(1 << all.len()) {
                if mask.count_ones() as usize > SUBSET_ITEMS_MAX {
                    continue;
                }
                let sum: Cents = (0..all.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| all[i])
                    .sum();
                if sum == total {
                    matches += 1;
                    // Twins: one target alone is the expected match.
                    let allowed = if targets.len() == 1 || targets.iter().all(|t| *t == total) {
                        mask & !target_mask == 0 && mask.count_ones() == 1
                    } else {
                        mask == target_mask
                    };
                    only_targets &= allowed;
                }
            }
            if only_targets && matches >= 1 {
                return Some(decoys);
            }
        }
        None
    }

    fn add_decoys(&mut self, customer: usize, decoys: &[Cents]) {
        for amount in decoys {
            let issue = self.rng.range(0, 330);
            let due = issue + self.terms();
            self.push_item(customer, *amount, *amount, issue, due);
        }
    }

    /// Open items no line pays, up to `OPEN_ITEMS_PER_TEN_LINES`: on
    /// normal customers and on reserved customers no line used.
    fn fill_background(&mut self) {
        let target = self.lines_total * OPEN_ITEMS_PER_TEN_LINES / 10;
        let count = self.customers.len() as u64;
        while self.items.len() < target {
            let mut customer = self.rng.below(count) as usize;
            if self.reserved_used[customer] {
                customer = self.normal_customer();
            }
            let issue = self.rng.range(0, 340);
            let due = issue + self.terms();
            if self.rng.chance(6) {
                let amount = self.rng.range(1_000, 80_000);
                self.push_item(customer, -amount, -amount, issue, issue);
                continue;
            }
            let amount = self.amount();
            let open = if self.rng.chance(10) {
                amount - amount * self.rng.range(10, 70) / 100
            } else {
                amount
            };
            self.push_item(customer, amount, open, issue, due);
        }
    }
}

/// The IBAN of the `n`-th known payer account.
fn known_iban(n: u64) -> String {
    // Bank and branch make it unique; the account number is scrambled
    // (an odd multiplier not divisible by 5 is a bijection mod 10^11).
    let account = n.wrapping_mul(48_271_000_003) % 100_000_000_000;
    french_iban(
        10_000 + (n % 89_000) as u32,
        (n / 89_000 % 99_999) as u32,
        account,
    )
}

/// Number of statement files for `lines`: enough for `STATEMENT_LINES_MAX`,
/// at least one per format (when there are lines for them), a multiple of
/// the six formats.
fn file_count(lines: usize) -> usize {
    if lines == 0 {
        return 0;
    }
    let needed = lines
        .div_ceil(STATEMENT_LINES_MAX)
        .max(lines.div_ceil(50).min(12));
    needed.div_ceil(ROTATION.len()).max(1) * ROTATION.len()
}

struct Emitter<'s> {
    sink: &'s mut dyn FnMut(&str, &[u8]) -> io::Result<()>,
    files: usize,
    bytes: u64,
}

impl Emitter<'_> {
    /// One file, in `CHUNK_BYTES` calls at line boundaries.
    fn file(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.files += 1;
        self.bytes += bytes.len() as u64;
        let mut rest = bytes;
        loop {
            if rest.len() <= CHUNK_BYTES {
                return (self.sink)(path, rest);
            }
            let cut = rest[CHUNK_BYTES..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |at| CHUNK_BYTES + at + 1);
            (self.sink)(path, &rest[..cut])?;
            rest = &rest[cut..];
            if rest.is_empty() {
                return Ok(());
            }
        }
    }
}

/// Generates the data set and hands every file to `sink(relative_path,
/// bytes)`, in this order: the statement files (`statements/NNN-...`, each
/// once complete), `customers.csv`, `open_items.csv`,
/// `remittances/advices.csv`, `truth.csv`. A large file comes in several
/// consecutive calls with the same path (at most `CHUNK_BYTES` each, cut
/// at line ends): the first call starts the file, the next ones append.
pub fn generate(
    options: &SynthOptions,
    sink: &mut dyn FnMut(&str, &[u8]) -> io::Result<()>,
) -> io::Result<SynthSummary> {
    let mut generator = Generator::new(options);
    let mut emitter = Emitter {
        sink,
        files: 0,
        bytes: 0,
    };
    let files = file_count(options.lines);
    let mut balances = [OPENING_BALANCE; ROTATION.len()];
    for file in 0..files {
        let format = ROTATION[file % ROTATION.len()];
        let start = file * options.lines / files;
        let end = (file + 1) * options.lines / files;
        let mut lines = Vec::with_capacity(end - start);
        for index in start..end {
            lines.push(generator.next_line(index, format));
        }
        let slot = file % ROTATION.len();
        let rendered = render::render(format, file, &lines, balances[slot]);
        balances[slot] = rendered.closing;
        emitter.file(&format.file_name(file), &rendered.bytes)?;
    }
    generator.fill_background();

    let mut customers =
        String::from("customer_id,name,aliases,ibans,credit_limit,payment_terms_days\n");
    let mut rng = Rng::new(options.seed ^ 0xC0FF_EE00);
    for customer in &generator.customers {
        let _ = writeln!(
            customers,
            "{},{},{},{},{},{}",
            customer.id,
            csv_field(&customer.legal_name()),
            csv_field(&customer.aliases.join(";")),
            customer.ibans.join(";"),
            dec(rng.range(10, 200) * 500_000 / 10),
            rng.pick(&[30, 45, 60])
        );
    }
    emitter.file("customers.csv", customers.as_bytes())?;
    drop(customers);

    let mut open_items = String::from(
        "invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount,payment_reference\n",
    );
    let mut legal_names: Vec<Option<String>> = vec![None; generator.customers.len()];
    let mut first_chunk = true;
    for item in &generator.items {
        let customer = &generator.customers[item.customer as usize];
        let name = legal_names[item.customer as usize]
            .get_or_insert_with(|| csv_field(&customer.legal_name()));
        let _ = writeln!(
            open_items,
            "{},{},{},{},{},{},{},{},{}",
            item.id(),
            customer.id,
            name,
            iso_date(item.issue as i64),
            iso_date(item.due as i64),
            if item.usd { "USD" } else { "EUR" },
            dec(item.amount),
            dec(item.open),
            item.payment_reference().unwrap_or_default()
        );
        if open_items.len() >= CHUNK_BYTES {
            (emitter.sink)("open_items.csv", open_items.as_bytes())?;
            emitter.bytes += open_items.len() as u64;
            open_items.clear();
            first_chunk = false;
        }
    }
    if !open_items.is_empty() || first_chunk {
        (emitter.sink)("open_items.csv", open_items.as_bytes())?;
        emitter.bytes += open_items.len() as u64;
    }
    emitter.files += 1;
    drop(open_items);

    let advices = std::mem::take(&mut generator.advices);
    emitter.file("remittances/advices.csv", advices.as_bytes())?;
    let settlements = std::mem::take(&mut generator.settlements);
    emitter.file("settlements/payouts.csv", settlements.as_bytes())?;
    let truth = std::mem::take(&mut generator.truth);
    emitter.file("truth.csv", truth.as_bytes())?;

    Ok(SynthSummary {
        lines: generator.emitted as usize,
        open_items: generator.items.len(),
        customers: generator.customers.len(),
        files: emitter.files,
        bytes: emitter.bytes,
    })
}

/// Writes the data set under `out_dir` (created with its subdirectories;
/// files already there are replaced).
pub fn write_dataset(options: &SynthOptions, out_dir: &Path) -> io::Result<SynthSummary> {
    use std::io::Write as _;
    std::fs::create_dir_all(out_dir)?;
    let mut current: Option<(String, io::BufWriter<std::fs::File>)> = None;
    let mut sink = |path: &str, bytes: &[u8]| -> io::Result<()> {
        let same = current.as_ref().is_some_and(|(open, _)| open == path);
        if !same {
            if let Some((_, mut writer)) = current.take() {
                writer.flush()?;
            }
            let full = out_dir.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let file = std::fs::File::create(&full)?;
            current = Some((
                path.to_string(),
                io::BufWriter::with_capacity(1 << 20, file),
            ));
        }
        match current.as_mut() {
            Some((_, writer)) => writer.write_all(bytes),
            None => Ok(()),
        }
    };
    let summary = generate(options, &mut sink)?;
    if let Some((_, mut writer)) = current.take() {
        writer.flush()?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
