//! The normalised model every parser produces and every later stage reads.
//!
//! One `Statement` per bank statement / report / notification, whatever the
//! wire format; one `Entry` per bank line. Amounts are `rust_decimal` and are
//! signed once, at the parser boundary: credits (money in) positive, debits
//! negative. No credit/debit flag travels past the parser.
//!
//! This module holds data only: no I/O, no clock, no parsing. It is shaped
//! for the matching core, which needs the evidence (references, parties,
//! remittance) of every line in one place, and for the audit trail, which
//! needs to say where each piece came from (file, statement, position).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// A model string: up to 24 bytes are kept inline, longer text on the heap.
/// Most fields of a bank line (currencies, codes, references, IBANs, BICs,
/// short names, line ids) fit, so a line allocates a few strings instead of
/// a dozen; it reads as a `&str` wherever a `String` did.
pub type Text = compact_str::CompactString;

/// Wire format of a parsed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Camt052,
    Camt053,
    Camt054,
    Mt940,
    Mt942,
    Cfonb120,
    Bai2,
    Remt001,
    RemittanceCsv,
}

impl Format {
    /// The stable name used in `recon parse --json` (`camt053`, `mt940`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Camt052 => "camt052",
            Format::Camt053 => "camt053",
            Format::Camt054 => "camt054",
            Format::Mt940 => "mt940",
            Format::Mt942 => "mt942",
            Format::Cfonb120 => "cfonb120",
            Format::Bai2 => "bai2",
            Format::Remt001 => "remt001",
            Format::RemittanceCsv => "remittance_csv",
        }
    }
}

/// An amount with its currency. The amount is exact; the currency is the ISO
/// 4217 code as the file gives it (empty when the file gives none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Text,
}

/// The account a statement is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// IBAN when the bank gives one, else the bank's own account id.
    pub id: String,
    pub iban: Option<String>,
    pub currency: Option<String>,
    pub servicer_bic: Option<String>,
    pub name: Option<String>,
    pub owner_name: Option<String>,
}

/// What a balance is: the ISO 20022 balance type codes, mapped once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceKind {
    /// OPBD: opening booked.
    OpeningBooked,
    /// PRCD: closing booked of the previous statement (an opening balance).
    PreviouslyClosedBooked,
    /// CLBD: closing booked.
    ClosingBooked,
    /// CLAV: closing available.
    ClosingAvailable,
    /// FWAV: forward available.
    ForwardAvailable,
    /// ITBD: interim booked.
    InterimBooked,
    /// ITAV: interim available.
    InterimAvailable,
    /// OPAV: opening available.
    OpeningAvailable,
    /// Anything else (INFO, XPCD, proprietary codes), kept as given.
    Other(String),
}

impl BalanceKind {
    pub fn from_code(code: &str) -> BalanceKind {
        match code {
            "OPBD" => BalanceKind::OpeningBooked,
            "PRCD" => BalanceKind::PreviouslyClosedBooked,
            "CLBD" => BalanceKind::ClosingBooked,
            "CLAV" => BalanceKind::ClosingAvailable,
            "FWAV" => BalanceKind::ForwardAvailable,
            "ITBD" => BalanceKind::InterimBooked,
            "ITAV" => BalanceKind::InterimAvailable,
            "OPAV" => BalanceKind::OpeningAvailable,
            other => BalanceKind::Other(other.to_string()),
        }
    }

    pub fn is_opening(&self) -> bool {
        matches!(
            self,
            BalanceKind::OpeningBooked | BalanceKind::PreviouslyClosedBooked
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub kind: BalanceKind,
    pub date: Option<NaiveDate>,
    /// Signed: a debit balance (overdraft) is negative.
    pub amount: Decimal,
    pub currency: String,
}

/// Declared totals of a statement (CAMT `TxsSummry`), checked against the
/// entries when present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeclaredTotals {
    pub entry_count: Option<u64>,
    /// Net signed sum of the entries (`TtlNtries/TtlNetNtry`).
    pub net_amount: Option<Decimal>,
    pub credit_count: Option<u64>,
    pub credit_sum: Option<Decimal>,
    pub debit_count: Option<u64>,
    pub debit_sum: Option<Decimal>,
}

/// One bank statement (camt.053 `Stmt`, camt.052 `Rpt`, camt.054 `Ntfctn`,
/// one MT940 message, one CFONB 01..07 block, one BAI2 account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub format: Format,
    /// Detected schema version, e.g. `camt.053.001.08`; `None` when the file
    /// carries no namespace.
    pub version: Option<String>,
    /// Source name as given to the parser (usually the file path).
    pub source: String,
    pub message_id: Option<String>,
    pub statement_id: String,
    pub electronic_sequence: Option<String>,
    pub legal_sequence: Option<String>,
    /// Page number and whether it is the last page (`MsgPgntn`).
    pub page_number: Option<String>,
    pub page_last: Option<bool>,
    /// Creation date-time exactly as given (ISO 8601, offset kept).
    pub created_at: Option<String>,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub account: Account,
    pub balances: Vec<Balance>,
    pub declared: Option<DeclaredTotals>,
    pub entries: Vec<Entry>,
    /// Free text the bank addressed to the account owner (camt
    /// `AddtlStmtInf`, MT940 statement-level `:86:`).
    pub information: Vec<String>,
    /// Every anomaly tolerated instead of rejecting the file.
    pub warnings: Vec<String>,
}

impl Statement {
    /// An empty statement of `format` read from `source`; parsers fill it.
    pub fn new(format: Format, source: &str) -> Statement {
        Statement {
            format,
            version: None,
            source: source.to_string(),
            message_id: None,
            statement_id: String::new(),
            electronic_sequence: None,
            legal_sequence: None,
            page_number: None,
            page_last: None,
            created_at: None,
            period_from: None,
            period_to: None,
            account: Account::default(),
            balances: Vec::new(),
            declared: None,
            entries: Vec::new(),
            information: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The opening balance: OPBD, else PRCD.
    pub fn opening_balance(&self) -> Option<&Balance> {
        self.balances
            .iter()
            .find(|b| b.kind == BalanceKind::OpeningBooked)
            .or_else(|| {
                self.balances
                    .iter()
                    .find(|b| b.kind == BalanceKind::PreviouslyClosedBooked)
            })
    }

    /// The closing balance: CLBD.
    pub fn closing_balance(&self) -> Option<&Balance> {
        self.balances
            .iter()
            .find(|b| b.kind == BalanceKind::ClosingBooked)
    }

    /// Signed sum of the booked entries (pending and information-only lines
    /// do not move the booked balance).
    pub fn booked_total(&self) -> Decimal {
        self.entries
            .iter()
            .filter(|e| e.status == EntryStatus::Booked)
            .map(|e| e.amount)
            .sum()
    }

    /// opening + booked entries = closing, when both balances are present.
    pub fn balance_ok(&self) -> Option<bool> {
        let opening = self.opening_balance()?;
        let closing = self.closing_balance()?;
        Some(opening.amount + self.booked_total() == closing.amount)
    }

    /// The statement's currency: the account's, else the first balance's,
    /// else the first entry's.
    pub fn currency(&self) -> Option<&str> {
        self.account
            .currency
            .as_deref()
            .or_else(|| self.balances.first().map(|b| b.currency.as_str()))
            .or_else(|| self.entries.first().map(|e| e.currency.as_str()))
            .filter(|c| !c.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Booked,
    Pending,
    /// Information only (camt `INFO`): never booked.
    Info,
    /// Future (camt `FUTR`) and other codes a bank may send.
    Other,
}

/// ISO 20022 bank transaction code, or the proprietary code a format carries
/// (MT940 transaction type, CFONB operation code, BAI2 type code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BankTxCode {
    pub domain: Option<Text>,
    pub family: Option<Text>,
    pub sub_family: Option<Text>,
    pub proprietary: Option<Text>,
    pub proprietary_issuer: Option<Text>,
}

impl BankTxCode {
    pub fn is_empty(&self) -> bool {
        *self == BankTxCode::default()
    }

    /// `PMNT/RCDT/ESCT`, else the proprietary code, else empty.
    pub fn display(&self) -> String {
        match (&self.domain, &self.family, &self.sub_family) {
            (Some(d), Some(f), Some(s)) => format!("{d}/{f}/{s}"),
            (Some(d), Some(f), None) => format!("{d}/{f}"),
            (Some(d), None, _) => d.to_string(),
            _ => self.proprietary.as_deref().unwrap_or_default().to_string(),
        }
    }
}

/// A party as a bank line names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    pub name: Option<Text>,
    pub iban: Option<Text>,
    /// Account id when it is not an IBAN (`Othr/Id`, a BBAN, ...).
    pub account_other: Option<Text>,
    pub bic: Option<Text>,
}

impl Party {
    pub fn is_empty(&self) -> bool {
        *self == Party::default()
    }
}

/// A structured creditor reference (`Strd/CdtrRefInf`): an ISO 11649 `RF`
/// reference, a Swiss QRR/ESR, a Belgian structured communication...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditorReference {
    /// `SCOR`, `RADM`, ... or the proprietary type; `None` when not given.
    pub kind: Option<Text>,
    pub reference: Text,
    pub issuer: Option<Text>,
}

/// A document a payment refers to (`Strd/RfrdDocInf` + `RfrdDocAmt`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReferredDocument {
    pub number: Option<String>,
    /// `CINV` (commercial invoice), `CREN` (credit note), ...
    pub kind: Option<String>,
    pub date: Option<String>,
    pub amount_due: Option<Money>,
    pub amount_remitted: Option<Money>,
    pub amount_discount: Option<Money>,
    pub amount_adjustment: Option<Money>,
    pub adjustment_reason: Option<String>,
}

/// A charge reported on a bank line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// Positive amount of the charge.
    pub amount: Money,
    /// The charge was deducted from the entry amount (`ChrgInclInd` true or
    /// absent) rather than booked separately.
    pub included: Option<bool>,
    pub kind: Option<String>,
}

/// Transaction-level information: the whole of a single-transaction entry,
/// or one detail of a batch entry.
///
/// What most bank lines carry is held inline; identifiers and conversion
/// details that few lines carry are in `more`, allocated only for a line
/// that has one (read them through `more()`, set them through `more_mut()`).
/// A line without them then costs about half the memory, which is what
/// bounds a parse's speed (every new page is cleared by the kernel).
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    /// Signed amount of this transaction in the account currency, when the
    /// file gives one (batch details always do; single entries may not).
    pub amount: Option<Money>,
    /// `AcctSvcrRef` of the transaction.
    pub bank_ref: Option<Text>,
    pub end_to_end_id: Option<Text>,
    pub debtor: Party,
    pub creditor: Party,
    pub ultimate_debtor: Option<Text>,
    /// Unstructured remittance lines (`Ustrd`, MT940 `:86:` text), in order.
    pub remittance_lines: Vec<String>,
    pub creditor_references: Vec<CreditorReference>,
    pub referred_documents: Vec<ReferredDocument>,
    /// Free text additional remittance information (`AddtlRmtInf`).
    pub additional_remittance: Vec<String>,
    pub charges: Vec<Charge>,
    /// Amount the payer instructed (`AmtDtls/InstdAmt`, MT940 `/OCMT/`).
    pub instructed_amount: Option<Money>,
    /// The fields few lines carry; `None` when the line has none of them.
    pub more: Option<Box<TransactionMore>>,
}

/// The fields of a [`Transaction`] that few bank lines carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionMore {
    pub instruction_id: Option<String>,
    pub transaction_id: Option<String>,
    pub message_id: Option<String>,
    pub payment_information_id: Option<String>,
    pub mandate_id: Option<String>,
    pub cheque_number: Option<String>,
    /// UETR, when given.
    pub uetr: Option<String>,
    pub bank_tx_code: BankTxCode,
    pub ultimate_creditor: Option<String>,
    /// Amount in the transaction currency (`AmtDtls/TxAmt`).
    pub transaction_amount: Option<Money>,
    /// Exchange rate of a conversion (`CcyXchg/XchgRate`).
    pub exchange_rate: Option<Decimal>,
    pub exchange_source_currency: Option<String>,
    pub exchange_target_currency: Option<String>,
    /// `CcyXchg/UnitCcy`: the currency one unit of which the rate prices
    /// (the rate reads "1 unit = rate of the other").
    pub exchange_unit_currency: Option<String>,
    /// Return / reject reason code (`RtrInf/Rsn/Cd`), e.g. `AC04`.
    pub return_reason: Option<String>,
    pub additional_info: Option<String>,
}

impl TransactionMore {
    /// None of the fields: what `Transaction::more` reads when `more` is
    /// `None`.
    pub const EMPTY: TransactionMore = TransactionMore {
        instruction_id: None,
        transaction_id: None,
        message_id: None,
        payment_information_id: None,
        mandate_id: None,
        cheque_number: None,
        uetr: None,
        bank_tx_code: BankTxCode {
            domain: None,
            family: None,
            sub_family: None,
            proprietary: None,
            proprietary_issuer: None,
        },
        ultimate_creditor: None,
        transaction_amount: None,
        exchange_rate: None,
        exchange_source_currency: None,
        exchange_target_currency: None,
        exchange_unit_currency: None,
        return_reason: None,
        additional_info: None,
    };
}

impl Transaction {
    /// Whether the transaction carries nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Transaction::default()
    }

    /// The fields few lines carry (all `None` when the line has none).
    pub fn more(&self) -> &TransactionMore {
        self.more.as_deref().unwrap_or(&TransactionMore::EMPTY)
    }

    /// The fields few lines carry, allocated on first use.
    pub fn more_mut(&mut self) -> &mut TransactionMore {
        self.more.get_or_insert_with(Box::default)
    }
}

/// Equal when every field is, `more` absent and `more` empty alike.
impl PartialEq for Transaction {
    fn eq(&self, other: &Transaction) -> bool {
        let Transaction {
            amount,
            bank_ref,
            end_to_end_id,
            debtor,
            creditor,
            ultimate_debtor,
            remittance_lines,
            creditor_references,
            referred_documents,
            additional_remittance,
            charges,
            instructed_amount,
            more: _,
        } = self;
        *amount == other.amount
            && *bank_ref == other.bank_ref
            && *end_to_end_id == other.end_to_end_id
            && *debtor == other.debtor
            && *creditor == other.creditor
            && *ultimate_debtor == other.ultimate_debtor
            && *remittance_lines == other.remittance_lines
            && *creditor_references == other.creditor_references
            && *referred_documents == other.referred_documents
            && *additional_remittance == other.additional_remittance
            && *charges == other.charges
            && *instructed_amount == other.instructed_amount
            && self.more() == other.more()
    }
}

impl Eq for Transaction {}

/// Serialised as one flat object, the rarer fields in their place: the
/// shape `recon parse`'s snapshots and tools have always read.
impl Serialize for Transaction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let more = self.more();
        let mut s = serializer.serialize_struct("Transaction", 28)?;
        s.serialize_field("amount", &self.amount)?;
        s.serialize_field("bank_ref", &self.bank_ref)?;
        s.serialize_field("end_to_end_id", &self.end_to_end_id)?;
        s.serialize_field("instruction_id", &more.instruction_id)?;
        s.serialize_field("transaction_id", &more.transaction_id)?;
        s.serialize_field("message_id", &more.message_id)?;
        s.serialize_field("payment_information_id", &more.payment_information_id)?;
        s.serialize_field("mandate_id", &more.mandate_id)?;
        s.serialize_field("cheque_number", &more.cheque_number)?;
        s.serialize_field("uetr", &more.uetr)?;
        s.serialize_field("bank_tx_code", &more.bank_tx_code)?;
        s.serialize_field("debtor", &self.debtor)?;
        s.serialize_field("creditor", &self.creditor)?;
        s.serialize_field("ultimate_debtor", &self.ultimate_debtor)?;
        s.serialize_field("ultimate_creditor", &more.ultimate_creditor)?;
        s.serialize_field("remittance_lines", &self.remittance_lines)?;
        s.serialize_field("creditor_references", &self.creditor_references)?;
        s.serialize_field("referred_documents", &self.referred_documents)?;
        s.serialize_field("additional_remittance", &self.additional_remittance)?;
        s.serialize_field("charges", &self.charges)?;
        s.serialize_field("instructed_amount", &self.instructed_amount)?;
        s.serialize_field("transaction_amount", &more.transaction_amount)?;
        s.serialize_field("exchange_rate", &more.exchange_rate)?;
        s.serialize_field("exchange_source_currency", &more.exchange_source_currency)?;
        s.serialize_field("exchange_target_currency", &more.exchange_target_currency)?;
        s.serialize_field("exchange_unit_currency", &more.exchange_unit_currency)?;
        s.serialize_field("return_reason", &more.return_reason)?;
        s.serialize_field("additional_info", &more.additional_info)?;
        s.end()
    }
}

/// One bank line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Stable id: the statement key's hash and the 1-based position.
    pub line_id: Text,
    /// The bank's own reference as the contract defines it per format.
    pub bank_ref: Option<Text>,
    /// `NtryRef` (CAMT) or the customer reference of MT940 `:61:`.
    pub entry_ref: Option<Text>,
    pub status: EntryStatus,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    /// Signed: credits positive, debits negative.
    pub amount: Decimal,
    pub currency: Text,
    pub reversal: bool,
    pub bank_tx_code: BankTxCode,
    /// Number of transactions the bank says the entry groups (`Btch/NbOfTxs`).
    pub batch_count: Option<u64>,
    /// The transaction of a single-transaction entry (empty when none).
    pub transaction: Box<Transaction>,
    /// The transactions of a batch entry (several `TxDtls`); empty otherwise.
    pub details: Vec<Transaction>,
    /// Charges reported at entry level.
    pub charges: Vec<Charge>,
    pub additional_info: Option<Text>,
}

impl Entry {
    /// A booked line of `amount` and nothing else; parsers fill the rest.
    pub fn booked(amount: Decimal) -> Entry {
        Entry {
            line_id: Text::default(),
            bank_ref: None,
            entry_ref: None,
            status: EntryStatus::Booked,
            booking_date: None,
            value_date: None,
            amount,
            currency: Text::default(),
            reversal: false,
            bank_tx_code: BankTxCode::default(),
            batch_count: None,
            transaction: Box::default(),
            details: Vec::new(),
            charges: Vec::new(),
            additional_info: None,
        }
    }

    pub fn is_credit(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    /// The other party of the line: the debtor of a credit, the creditor of a
    /// debit.
    pub fn counterparty(&self) -> &Party {
        if self.amount.is_sign_negative() {
            &self.transaction.creditor
        } else {
            &self.transaction.debtor
        }
    }

    /// All remittance text of the line, lines joined by a space.
    pub fn remittance_text(&self) -> String {
        let mut parts: Vec<&str> = self
            .transaction
            .remittance_lines
            .iter()
            .map(String::as_str)
            .collect();
        parts.extend(
            self.transaction
                .additional_remittance
                .iter()
                .map(String::as_str),
        );
        parts.join(" ")
    }
}

/// A remittance advice: which invoices a payment covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemittanceAdvice {
    pub format: Format,
    pub source: String,
    pub advice_id: String,
    pub payer_name: Option<String>,
    /// The reference the bank line will carry (end-to-end id or text).
    pub payment_reference: Option<String>,
    pub payment_amount: Option<Money>,
    pub payment_date: Option<NaiveDate>,
    pub lines: Vec<AdviceLine>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdviceLine {
    /// The invoice number as the payer quotes it (may be misspelt).
    pub invoice_ref: String,
    pub paid_amount: Option<Decimal>,
    pub deduction_amount: Option<Decimal>,
    pub deduction_reason: Option<String>,
    pub amount_due: Option<Decimal>,
}

/// An open item of the receivables ledger (an invoice or a credit note), as
/// the contract's open-items CSV gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenItem {
    /// Document number as printed, unique (`FA-2026-000123`).
    pub invoice_id: Text,
    /// Auxiliary account of 411.
    pub customer_id: Text,
    pub customer_name: Text,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: Text,
    /// Original gross amount; negative for a credit note.
    pub amount: Decimal,
    /// Still unpaid; same sign as `amount`.
    pub open_amount: Decimal,
    /// Reference printed for the payer (an ISO 11649 `RF..` or other).
    pub payment_reference: Option<Text>,
}

/// A customer of the company, as the contract's customers CSV gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub customer_id: String,
    pub name: String,
    /// Other names the customer pays under.
    pub aliases: Vec<String>,
    /// Known payer IBANs, normalised (upper case, no spaces).
    pub ibans: Vec<String>,
    pub credit_limit: Option<Decimal>,
    pub payment_terms_days: Option<u32>,
}

/// How the customers behind a settlement report paid (the contract's
/// `method` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Card,
    Psp,
    DirectDebit,
    Cheque,
    Lcr,
    Transfer,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::Card,
        Method::Psp,
        Method::DirectDebit,
        Method::Cheque,
        Method::Lcr,
        Method::Transfer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Psp => "psp",
            Method::DirectDebit => "direct_debit",
            Method::Cheque => "cheque",
            Method::Lcr => "lcr",
            Method::Transfer => "transfer",
        }
    }
}

/// What one row of a settlement report is (the contract's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// A customer's payment.
    Charge,
    /// Money given back to a customer.
    Refund,
    /// A payment the customer's bank took back.
    Chargeback,
    /// A fee of the provider's, not tied to one payment.
    Fee,
    /// Anything else the provider adds or withholds.
    Adjustment,
}

impl RowKind {
    pub const ALL: [RowKind; 5] = [
        RowKind::Charge,
        RowKind::Refund,
        RowKind::Chargeback,
        RowKind::Fee,
        RowKind::Adjustment,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RowKind::Charge => "charge",
            RowKind::Refund => "refund",
            RowKind::Chargeback => "chargeback",
            RowKind::Fee => "fee",
            RowKind::Adjustment => "adjustment",
        }
    }
}

/// One payout or deposit of a settlement report (`--settlements`): the
/// customer payments one bank credit covers, net of fees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub source: String,
    pub settlement_id: String,
    pub method: Method,
    /// The reference the bank line carries for the payout.
    pub payout_reference: Option<String>,
    pub payout_date: NaiveDate,
    pub currency: String,
    pub rows: Vec<SettlementRow>,
}

impl Settlement {
    /// What the bank should have credited: the rows' net amounts.
    pub fn net_total(&self) -> Decimal {
        self.rows.iter().map(|r| r.net_amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementRow {
    /// Line of the file, for messages.
    pub line: u64,
    pub transaction_id: String,
    pub transaction_date: NaiveDate,
    pub kind: RowKind,
    /// Signed: charges positive, refunds and chargebacks negative.
    pub gross_amount: Decimal,
    /// Withheld by the provider on this row (positive).
    pub fee_amount: Decimal,
    /// `gross_amount - fee_amount`.
    pub net_amount: Decimal,
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    pub payer_name: Option<String>,
}
