//! The matching policy as scenario tables: bank lines, open items (and
//! customers, advices, config) in; the allocation and exception rows
//! expected out. One `check` drives the public API (`run::run`) and
//! compares compact rows, so each scenario reads like the policy line it
//! pins.

use std::collections::HashSet;

use chrono::NaiveDate;
use recon::config::{Config, Twins};
use recon::matching::{Conversion, Line};
use recon::parse::{customers, open_items, remittance_csv};
use recon::run::{RunInputs, run};

/// A bank line: id, value date (day of March 2026), amount, payer name,
/// payer IBAN, remittance text; `charges` and `currency` by builder.
#[derive(Clone)]
struct L {
    id: &'static str,
    day: u32,
    amount: &'static str,
    payer: &'static str,
    iban: &'static str,
    text: &'static str,
    charges: &'static str,
    currency: &'static str,
    end_to_end: &'static str,
    /// Bank transaction code.
    code: &'static str,
    /// What the bank reports of a conversion: `CCY AMOUNT` instructed
    /// and/or `RATE SRC TRGT` (currencies `-` when not given), or empty.
    instructed: &'static str,
    rate: &'static str,
    /// Cheque number (CAMT `Refs/ChqNb`), or empty.
    cheque: &'static str,
}

fn l(
    id: &'static str,
    day: u32,
    amount: &'static str,
    payer: &'static str,
    iban: &'static str,
    text: &'static str,
) -> L {
    L {
        id,
        day,
        amount,
        payer,
        iban,
        text,
        charges: "0",
        currency: "EUR",
        end_to_end: "",
        code: "",
        instructed: "",
        rate: "",
        cheque: "",
    }
}

impl L {
    fn conversion(&self) -> Option<Box<Conversion>> {
        if self.instructed.is_empty() && self.rate.is_empty() {
            return None;
        }
        let instructed = self
            .instructed
            .split_once(' ')
            .map(|(currency, amount)| (amount.parse().unwrap(), currency.into()));
        let rate: Vec<&str> = self.rate.split_whitespace().collect();
        let currency = |at: usize| rate.get(at).filter(|c| **c != "-").map(|c| c.to_string());
        Some(Box::new(Conversion {
            instructed,
            rate: rate.first().map(|r| r.parse().unwrap()),
            source: currency(1),
            target: currency(2),
            unit: currency(3),
        }))
    }

    fn to_line(&self) -> Line {
        let date = NaiveDate::from_ymd_opt(2026, 3, self.day);
        Line {
            line_id: self.id.into(),
            bank_ref: format!("REF-{}", self.id).into(),
            detail: None,
            value_date: date,
            booking_date: date,
            amount: self.amount.parse().unwrap(),
            currency: self.currency.into(),
            entry_amount: self.amount.parse().unwrap(),
            payer_name: self.payer.into(),
            payer_iban: self.iban.to_string(),
            remittance_text: self.text.to_string(),
            end_to_end_id: self.end_to_end.into(),
            creditor_references: Vec::new(),
            referred_documents: Vec::new(),
            other_text: String::new(),
            charges: self.charges.parse().unwrap(),
            bank_tx_code: self.code.to_string(),
            account: "FR7630006000011234567890189".into(),
            return_reason: None,
            cheque_number: (!self.cheque.is_empty()).then(|| self.cheque.into()),
            conversion: self.conversion(),
            statement_key: "s".into(),
            position: 0,
        }
    }
}

const SETTLEMENTS_HEADER: &str = "settlement_id,method,payout_reference,payout_date,currency,transaction_id,transaction_date,kind,gross_amount,fee_amount,net_amount,invoice_id,customer_id,payer_name\n";
const ITEMS_HEADER: &str = "invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount,payment_reference\n";
const CUSTOMERS: &str = "customer_id,name,aliases,ibans\n\
    C1,Établissements Martin et Fils,Martin Freres,FR7611111111111111111111111\n\
    C2,Boulangerie Lefèvre SARL,,FR7622222222222222222222222\n\
    C3,Garage Durand,,\n\
    C4,Holding Durand Participations SA,,FR7644444444444444444444444\n";

/// Open items: `id customer amount [open] [due-day] [reference]`, one per
/// line, blank-separated, `-` for defaults.
fn items(rows: &str) -> String {
    let mut csv = ITEMS_HEADER.to_string();
    for row in rows.lines().map(str::trim).filter(|r| !r.is_empty()) {
        let f: Vec<&str> = row.split_whitespace().collect();
        let amount = f[2];
        let open = f.get(3).filter(|v| **v != "-").copied().unwrap_or(amount);
        let due = f.get(4).filter(|v| **v != "-").copied().unwrap_or("15");
        let reference = f.get(5).copied().unwrap_or("");
        let name = match f[1] {
            "C1" => "Établissements Martin et Fils",
            "C2" => "Boulangerie Lefèvre SARL",
            "C3" => "Garage Durand",
            _ => "Holding Durand Participations SA",
        };
        let currency = if f[0].ends_with("USD") { "USD" } else { "EUR" };
        csv.push_str(&format!(
            "{},{},{name},2026-01-01,2026-02-{due:0>2},{currency},{amount},{open},{reference}\n",
            f[0].trim_end_matches("USD"),
            f[1]
        ));
    }
    csv
}

struct Scenario {
    items: &'static str,
    lines: Vec<L>,
    advices: &'static str,
    /// Settlement report rows, after `SETTLEMENTS_HEADER`.
    settlements: &'static str,
    config: Config,
    /// `line invoice amount kind` for allocations, `line amount reason` for
    /// exceptions; order free.
    expect: &'static str,
}

fn scenario(items: &'static str, lines: Vec<L>, expect: &'static str) -> Scenario {
    Scenario {
        items,
        lines,
        advices: "",
        settlements: "",
        config: Config::default(),
        expect,
    }
}

/// Runs a scenario and compares its rows with the expectation.
fn check(name: &str, s: Scenario) -> recon::run::RunResult {
    let items = open_items::parse("items.csv", items(s.items).as_bytes()).expect("items");
    let customers = customers::parse("customers.csv", CUSTOMERS.as_bytes()).expect("customers");
    let advices = if s.advices.is_empty() {
        Vec::new()
    } else {
        remittance_csv::parse("advices.csv", s.advices.as_bytes()).expect("advices")
    };
    let settlements = if s.settlements.is_empty() {
        Vec::new()
    } else {
        recon::parse::settlements::parse(
            "settlements.csv",
            format!("{SETTLEMENTS_HEADER}{}", s.settlements).as_bytes(),
        )
        .expect("settlements")
    };
    let inputs = RunInputs {
        settlements,
        lines: s.lines.iter().map(L::to_line).collect(),
        own_accounts: HashSet::from(["FR7630006000011234567890189".to_string()]),
        items,
        customers,
        advices,
        config: s.config,
    };
    let result = run(inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut got: Vec<String> = Vec::new();
    for (line, decision) in result.lines.iter().zip(&result.decisions) {
        for p in &decision.outcome.proposals {
            let invoice = p.item.map_or("-".to_string(), |i| {
                result.items[i as usize].invoice_id.to_string()
            });
            got.push(format!(
                "{} {} {} {}",
                line.line_id,
                invoice,
                p.amount,
                p.kind.name()
            ));
        }
        for r in &decision.outcome.reviews {
            got.push(format!("{} {} {}", line.line_id, r.amount, r.reason.name()));
        }
        for d in &decision.outcome.disputes {
            got.push(format!(
                "{} {} {} dispute",
                line.line_id, result.items[d.item as usize].invoice_id, d.amount
            ));
        }
    }
    let mut want: Vec<String> = s
        .expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    got.sort();
    want.sort();
    let notes: Vec<String> = result
        .lines
        .iter()
        .zip(&result.decisions)
        .zip(&result.evidence)
        .map(|((l, d), e)| {
            let notes = d.outcome.notes_text(l, e, &result.items, "; ");
            format!("{}: {} {notes}", l.line_id, d.outcome.rule)
        })
        .collect();
    assert_eq!(got, want, "{name}\n{}", notes.join("\n"));
    result
}

/// The suggestions of a line's first exception, as invoice-id sets.
fn suggestions(result: &recon::run::RunResult, line_id: &str) -> Vec<Vec<String>> {
    let at = result
        .lines
        .iter()
        .position(|l| l.line_id == line_id)
        .expect("line");
    result.decisions[at].outcome.reviews[0]
        .suggestions
        .iter()
        .map(|s| {
            s.items
                .iter()
                .map(|&i| result.items[i as usize].invoice_id.to_string())
                .collect()
        })
        .collect()
}

#[test]
fn references_settle_whatever_their_form() {
    check(
        "clean invoice number",
        scenario(
            "FA-2026-000123 C1 1500.00",
            vec![l(
                "L1",
                2,
                "1500.00",
                "ETS MARTIN",
                "",
                "REGLEMENT FACTURE FA-2026-000123",
            )],
            "L1 FA-2026-000123 1500.00 invoice",
        ),
    );
    check(
        "separators, case, zeros, prefix and year",
        scenario(
            "FA-2026-000123 C1 100.00\nFA-2026-000124 C1 200.00\nFA-2026-000125 C1 300.00\nFA-2026-000126 C1 400.00",
            vec![
                l("L1", 2, "100.00", "X", "", "fa2026/000123"),
                l("L2", 2, "200.00", "X", "", "FA 2026 124"),
                l("L3", 2, "300.00", "X", "", "facture 2026-000125"),
                l("L4", 2, "400.00", "X", "", "FA-2026-00 0126"),
            ],
            "L1 FA-2026-000123 100.00 invoice\nL2 FA-2026-000124 200.00 invoice\nL3 FA-2026-000125 300.00 invoice\nL4 FA-2026-000126 400.00 invoice",
        ),
    );
    check(
        "RF creditor reference printed in groups, and a wrong check digit ignored",
        scenario(
            "FA-2026-000200 C2 1180.50 - - RF18539007547034",
            vec![
                l("L1", 2, "1180.50", "UNKNOWN CO", "", "RF18 5390 0754 7034"),
                l("L2", 3, "10.00", "UNKNOWN CO", "", "RF19 5390 0754 7034"),
            ],
            "L1 FA-2026-000200 1180.50 invoice\nL2 10.00 unknown_payer",
        ),
    );
    check(
        "a fragment counts when it resolves to one item of the identified customer",
        scenario(
            "FA-2026-000777 C2 250.00\nFA-2025-000777 C1 999.00\nFA-2026-000778 C2 250.00",
            vec![l(
                "L1",
                2,
                "250.00",
                "BOULANGERIE LEFEVRE",
                "FR7622222222222222222222222",
                "facture 777",
            )],
            "L1 FA-2026-000777 250.00 invoice",
        ),
    );
    check(
        "a bare number naming another customer's invoice than the identified payer's is not used",
        scenario(
            "FA-2026-000412 C3 1000.00",
            vec![l(
                "L1",
                2,
                "300.00",
                "",
                "FR7622222222222222222222222",
                "VIREMENT CMDE 412",
            )],
            "L1 300.00 no_candidate",
        ),
    );
    check(
        "a reference to another customer's invoice wins over the payer name (third party)",
        scenario(
            "FA-2026-000300 C3 800.00\nFA-2026-000301 C4 800.00",
            vec![l(
                "L1",
                2,
                "800.00",
                "HOLDING DURAND PARTICIPATIONS",
                "FR7644444444444444444444444",
                "pour Garage Durand FA-2026-000300",
            )],
            "L1 FA-2026-000300 800.00 invoice",
        ),
    );
}

#[test]
fn payer_and_amount_without_reference() {
    check(
        "known IBAN, one open item of that amount",
        scenario(
            "FA-2026-000001 C2 300.00\nFA-2026-000002 C2 450.00",
            vec![l(
                "L1",
                2,
                "450.00",
                "BLF",
                "FR7622222222222222222222222",
                "VIREMENT",
            )],
            "L1 FA-2026-000002 450.00 invoice",
        ),
    );
    check(
        "name variant (accents, legal form, word order, Ets), one open item",
        scenario(
            "FA-2026-000001 C1 300.00\nFA-2026-000002 C1 450.00",
            vec![l("L1", 2, "300.00", "MARTIN ET FILS ETS", "", "")],
            "L1 FA-2026-000001 300.00 invoice",
        ),
    );
    check(
        "amount alone never settles: unknown payer",
        scenario(
            "FA-2026-000001 C1 300.00",
            vec![l(
                "L1",
                2,
                "300.00",
                "SOMEONE ELSE",
                "FR7699999999999999999999999",
                "",
            )],
            "L1 300.00 unknown_payer",
        ),
    );
    check(
        "identified payer, no item or combination fits",
        scenario(
            "FA-2026-000001 C2 300.00",
            vec![l("L1", 2, "123.45", "", "FR7622222222222222222222222", "")],
            "L1 123.45 no_candidate",
        ),
    );
    let result = check(
        "near an item's amount: settled for a payer known by IBAN, offered for a payer known by name",
        scenario(
            "FA-2026-000001 C2 300.00\nFA-2026-000002 C3 300.00",
            vec![
                l("L1", 2, "298.00", "", "FR7622222222222222222222222", ""),
                l("L2", 2, "298.00", "GARAGE DURAND", "", ""),
            ],
            "L1 FA-2026-000001 300.00 invoice\nL1 - -2.00 writeoff\nL2 298.00 no_candidate",
        ),
    );
    assert_eq!(suggestions(&result, "L2")[0], ["FA-2026-000002"]);
    let result = check(
        "a combination within the tolerance is offered, never applied",
        scenario(
            "FA-2026-000001 C2 120.00 - 01\nFA-2026-000002 C2 340.00 - 02\nFA-2026-000003 C2 555.00 - 03",
            vec![l("L1", 2, "458.50", "", "FR7622222222222222222222222", "")],
            "L1 458.50 no_candidate",
        ),
    );
    assert_eq!(
        suggestions(&result, "L1")[0],
        ["FA-2026-000001", "FA-2026-000002"]
    );
    let mut twins = scenario(
        "FA-2026-000001 C2 300.00 - 20\nFA-2026-000002 C2 300.00 - 10",
        vec![l("L1", 2, "300.00", "", "FR7622222222222222222222222", "")],
        "L1 FA-2026-000002 300.00 invoice",
    );
    check("twins: the oldest due date", twins);
    twins = scenario(
        "FA-2026-000001 C2 300.00 - 20\nFA-2026-000002 C2 300.00 - 10",
        vec![l("L1", 2, "300.00", "", "FR7622222222222222222222222", "")],
        "L1 300.00 ambiguous",
    );
    twins.config.twins = Twins::Review;
    check("twins under review", twins);
    check(
        "an IBAN learned from a line settled on a reference identifies a later line",
        scenario(
            "FA-2026-000010 C3 100.00\nFA-2026-000011 C3 175.00",
            vec![
                l(
                    "L1",
                    2,
                    "100.00",
                    "GARAGE DURAND",
                    "FR7633333333333333333333333",
                    "FA-2026-000010",
                ),
                l("L2", 3, "175.00", "GD", "FR7633333333333333333333333", ""),
            ],
            "L1 FA-2026-000010 100.00 invoice\nL2 FA-2026-000011 175.00 invoice",
        ),
    );
}

#[test]
fn grouped_and_split_payments() {
    check(
        "grouped by references, credit note included",
        scenario(
            "FA-2026-000001 C1 1000.00\nFA-2026-000002 C1 500.00\nAV-2026-000003 C1 -200.00",
            vec![l(
                "L1",
                2,
                "1300.00",
                "MARTIN",
                "",
                "FA-2026-000001 FA-2026-000002 AV-2026-000003",
            )],
            "L1 FA-2026-000001 1000.00 invoice\nL1 FA-2026-000002 500.00 invoice\nL1 AV-2026-000003 -200.00 invoice",
        ),
    );
    check(
        "grouped without reference: the unique combination",
        scenario(
            "FA-2026-000001 C2 120.00 - 01\nFA-2026-000002 C2 340.00 - 02\nFA-2026-000003 C2 555.00 - 03",
            vec![l("L1", 2, "460.00", "", "FR7622222222222222222222222", "")],
            "L1 FA-2026-000001 120.00 invoice\nL1 FA-2026-000002 340.00 invoice",
        ),
    );
    check(
        "grouped without reference: two combinations are ambiguous",
        scenario(
            "FA-2026-000001 C2 100.00 - 01\nFA-2026-000002 C2 200.00 - 02\nFA-2026-000003 C2 150.00 - 03\nFA-2026-000004 C2 150.00 - 04",
            vec![l("L1", 2, "300.00", "", "FR7622222222222222222222222", "")],
            "L1 300.00 ambiguous",
        ),
    );
    check(
        "split: instalments settle one invoice in turn",
        scenario(
            "FA-2026-000001 C1 900.00",
            vec![
                l("L2", 5, "300.00", "MARTIN", "", "FA-2026-000001 2/2"),
                l("L1", 2, "600.00", "MARTIN", "", "FA-2026-000001 1/2"),
            ],
            "L1 FA-2026-000001 600.00 invoice\nL2 FA-2026-000001 300.00 invoice",
        ),
    );
}

#[test]
fn differences_follow_the_policy() {
    let mut fees = l("L1", 2, "995.00", "MARTIN", "", "FA-2026-000001");
    fees.charges = "5.00";
    check(
        "reported charges",
        scenario(
            "FA-2026-000001 C1 1000.00",
            vec![fees],
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -5.00 bank_fee",
        ),
    );
    check(
        "within the write-off tolerance, both ways",
        scenario(
            "FA-2026-000001 C1 1000.00\nFA-2026-000002 C1 200.00",
            vec![
                l("L1", 2, "997.50", "M", "", "FA-2026-000001"),
                l("L2", 2, "201.00", "M", "", "FA-2026-000002"),
            ],
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -2.50 writeoff\nL2 FA-2026-000002 200.00 invoice\nL2 - 1.00 writeoff",
        ),
    );
    check(
        "partial payment of one invoice",
        scenario(
            "FA-2026-000001 C1 1000.00",
            vec![l("L1", 2, "400.00", "M", "", "FA-2026-000001")],
            "L1 FA-2026-000001 400.00 invoice",
        ),
    );
    check(
        "several referenced invoices paid short: amount_mismatch",
        scenario(
            "FA-2026-000001 C1 1000.00\nFA-2026-000002 C1 500.00",
            vec![l(
                "L1",
                2,
                "1200.00",
                "M",
                "",
                "FA-2026-000001 FA-2026-000002",
            )],
            "L1 1200.00 amount_mismatch",
        ),
    );
    check(
        "overpayment",
        scenario(
            "FA-2026-000001 C1 1000.00",
            vec![l("L1", 2, "1100.00", "M", "", "FA-2026-000001")],
            "L1 FA-2026-000001 1000.00 invoice\nL1 100.00 overpayment",
        ),
    );
    let mut foreign = l("L1", 2, "1000.00", "M", "", "FA-2026-000001");
    foreign.currency = "GBP";
    check(
        "currency mismatch",
        scenario(
            "FA-2026-000001 C1 1000.00",
            vec![foreign],
            "L1 1000.00 currency_mismatch",
        ),
    );
}

/// A converted payment: `conv(line, instructed, rate)`.
fn conv(mut line: L, instructed: &'static str, rate: &'static str) -> L {
    line.instructed = instructed;
    line.rate = rate;
    line
}

#[test]
fn converted_payments_settle_within_fx_tolerance() {
    let usd = "FA-2026-000001USD C1 1000.00\nFA-2026-000002USD C1 400.00";
    check(
        "a EUR line for a USD invoice, the USD amount instructed: the invoice in USD, a bridge and the exchange difference in EUR",
        scenario(
            usd,
            vec![conv(
                l("L1", 2, "915.00", "M", "", "FA-2026-000001"),
                "USD 997.35",
                "",
            )],
            // 1000.00 USD is worth 915 x 1000 / 997.35 = 917.43 EUR.
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -82.57 fx\nL1 - -2.43 fx",
        ),
    );
    check(
        "the rate alone, with its direction: target = source x rate",
        scenario(
            usd,
            vec![conv(
                l("L1", 2, "920.00", "M", "", "FA-2026-000001"),
                "",
                "0.92 USD EUR",
            )],
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -80.00 fx",
        ),
    );
    check(
        "a rate without direction: the one reading within tolerance is taken",
        scenario(
            usd,
            vec![
                conv(
                    l("L1", 2, "920.00", "M", "", "FA-2026-000001"),
                    "",
                    "1.0870",
                ),
                conv(l("L2", 2, "368.00", "M", "", "FA-2026-000002"), "", "0.92"),
            ],
            // 920 x 1.087 = 1000.04 USD; 368 / 0.92 = 400 USD.
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -80.04 fx\nL1 - 0.04 fx\n\
             L2 FA-2026-000002 400.00 invoice\nL2 - -32.00 fx",
        ),
    );
    check(
        "found in review: a USD credit note referenced with its invoice settles with it",
        scenario(
            "FA-2026-000001USD C1 1000.00\nAV-2026-000002USD C1 -200.00",
            vec![conv(
                l("L1", 2, "736.00", "M", "", "FA-2026-000001 AV-2026-000002"),
                "USD 800.00",
                "",
            )],
            "L1 FA-2026-000001 1000.00 invoice\nL1 AV-2026-000002 -200.00 invoice\nL1 - -64.00 fx",
        ),
    );
    check(
        "a CAMT rate quoted per unit of the target currency (UnitCcy = TrgtCcy): 1 EUR = 1.087 USD",
        scenario(
            usd,
            vec![conv(
                l("L1", 2, "920.00", "M", "", "FA-2026-000001"),
                "",
                "1.087 USD EUR EUR",
            )],
            "L1 FA-2026-000001 1000.00 invoice\nL1 - -80.04 fx\nL1 - 0.04 fx",
        ),
    );
    check(
        "beyond fx_tolerance, no rate, a rate from a third currency, or a line in another currency than the journal's: currency_mismatch; a debit stays not_receivable; nothing settles",
        scenario(
            usd,
            vec![
                conv(
                    l("L1", 2, "850.00", "M", "", "FA-2026-000001"),
                    "USD 930.00",
                    "",
                ),
                l("L2", 2, "368.00", "M", "", "FA-2026-000002"),
                conv(
                    l("L3", 2, "368.00", "M", "", "FA-2026-000002"),
                    "",
                    "0.92 GBP EUR",
                ),
                conv(
                    l("L4", 2, "-368.00", "M", "", "FA-2026-000002"),
                    "USD 400.00",
                    "",
                ),
                // The rate converts the instructed GBP, not into USD.
                conv(
                    l("L5", 2, "1000.00", "M", "", "FA-2026-000001"),
                    "GBP 850.00",
                    "1.1765",
                ),
                {
                    let mut gbp = conv(
                        l("L6", 2, "322.00", "M", "", "FA-2026-000002"),
                        "USD 400.00",
                        "",
                    );
                    gbp.currency = "GBP";
                    gbp
                },
            ],
            "L1 850.00 currency_mismatch\nL2 368.00 currency_mismatch\nL3 368.00 currency_mismatch\nL4 368.00 not_receivable\n\
             L5 1000.00 currency_mismatch\nL6 322.00 currency_mismatch",
        ),
    );
    check(
        "a EUR invoice paid in USD: the shortfall within fx_tolerance is an exchange difference, not a writeoff",
        scenario(
            "FA-2026-000003 C1 1000.00\nFA-2026-000004 C1 1000.00\nFA-2026-000005 C1 1000.00",
            vec![
                conv(
                    l("L1", 2, "991.20", "M", "", "FA-2026-000003"),
                    "USD 1085.00",
                    "",
                ),
                // A rate alone does not say the payer paid in another
                // currency: the ordinary writeoff.
                conv(l("L2", 2, "1003.00", "M", "", "FA-2026-000004"), "", "1.08"),
                // 3 % short: beyond the 1 % tolerance, a partial payment.
                conv(
                    l("L3", 2, "970.00", "M", "", "FA-2026-000005"),
                    "USD 1050.00",
                    "",
                ),
            ],
            "L1 FA-2026-000003 1000.00 invoice\nL1 - -8.80 fx\n\
             L2 FA-2026-000004 1000.00 invoice\nL2 - 3.00 writeoff\n\
             L3 FA-2026-000005 970.00 invoice",
        ),
    );
}

#[test]
fn duplicates_and_competition() {
    check(
        "the first line in value-date order takes the open amount; the second is a duplicate",
        scenario(
            "FA-2026-000001 C1 500.00",
            vec![
                l("LATE", 9, "500.00", "M", "", "FA-2026-000001"),
                l("EARLY", 3, "500.00", "M", "", "FA-2026-000001"),
            ],
            "EARLY FA-2026-000001 500.00 invoice\nLATE 500.00 duplicate_payment",
        ),
    );
    check(
        "an invoice paid before the run",
        scenario(
            "FA-2026-000001 C1 500.00 0.00",
            vec![l("L1", 3, "500.00", "M", "", "FA-2026-000001")],
            "L1 500.00 duplicate_payment",
        ),
    );
    check(
        "the same payment twice without reference",
        scenario(
            "FA-2026-000001 C2 480.00",
            vec![
                l("L1", 3, "480.00", "", "FR7622222222222222222222222", ""),
                l("L2", 4, "480.00", "", "FR7622222222222222222222222", ""),
            ],
            "L1 FA-2026-000001 480.00 invoice\nL2 480.00 duplicate_payment",
        ),
    );
}

#[test]
fn not_receivables_are_never_applied() {
    check(
        "debits, interest, tax refunds, internal transfers",
        scenario(
            "FA-2026-000001 C1 50.00\nFA-2026-000002 C1 1200.00\nFA-2026-000003 C1 75.00",
            vec![
                l("D", 2, "-50.00", "FOURNISSEUR", "", "FA-2026-000001"),
                l("I", 2, "75.00", "BANQUE", "", "INTERETS CREDITEURS T1"),
                l("T", 2, "1200.00", "DGFIP", "", "REMBOURSEMENT TVA"),
                l(
                    "O",
                    2,
                    "75.00",
                    "NOUS",
                    "FR7630006000011234567890189",
                    "VIREMENT",
                ),
            ],
            "D 50.00 not_receivable\nI 75.00 not_receivable\nT 1200.00 not_receivable\nO 75.00 not_receivable",
        ),
    );
}

#[test]
fn remittance_advices() {
    let advices = "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,payment_reference,deduction_amount,deduction_reason\n\
        ADV1,Martin,2026-03-01,1450.00,EUR,FA 2026 1,950.00,PAY-778812,50.00,damaged goods\n\
        ADV1,Martin,2026-03-01,1450.00,EUR,FA-2026-000002,500.00,PAY-778812,,\n\
        ADV2,Boulangerie Lefevre,2026-03-01,588.00,EUR,FA-2026-000010,588.00,,12.00,escompte 2%\n\
        ADV3,Boulangerie Lefevre,2026-03-01,300.00,EUR,FA-2026-000011,100.00,,,\n\
        ADV3,Boulangerie Lefevre,2026-03-01,300.00,EUR,XX-9999,200.00,,,\n";
    let mut s = scenario(
        "FA-2026-000001 C1 1000.00\nFA-2026-000002 C1 500.00\nFA-2026-000010 C2 600.00\nFA-2026-000011 C2 100.00",
        vec![
            l("A", 2, "1450.00", "ETS MARTIN", "", "PAY-778812"),
            l("B", 2, "588.00", "BOULANGERIE LEFEVRE", "", "VIR"),
            l("C", 2, "300.00", "BOULANGERIE LEFEVRE", "", "VIR"),
        ],
        "A FA-2026-000001 950.00 invoice\nA FA-2026-000002 500.00 invoice\nA FA-2026-000001 50.00 dispute\n\
         B FA-2026-000010 600.00 invoice\nB - -12.00 discount\n\
         C FA-2026-000011 100.00 invoice\nC 200.00 partial_remittance",
    );
    s.advices = advices;
    check(
        "advice by reference (deduction disputed), by payer + amount (discount), unresolved line",
        s,
    );

    let words = "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,payment_reference,deduction_amount,deduction_reason\n\
        ADV1,Martin,2026-03-01,950.00,EUR,FA-2026-000001,950.00,PAY-1,50.00,PRICE DISCREPANCY\n\
        ADV2,SARL,2026-03-01,200.00,EUR,FA-2026-000002,200.00,,,\n";
    let mut s = scenario(
        "FA-2026-000001 C1 1000.00\nFA-2026-000002 C2 200.00",
        vec![
            l("A", 2, "950.00", "ETS MARTIN", "", "PAY-1"),
            l("B", 2, "200.00", "", "", "VIR"),
        ],
        "A FA-2026-000001 950.00 invoice\nA FA-2026-000001 50.00 dispute\nB 200.00 unknown_payer",
    );
    s.advices = words;
    check(
        "a discrepancy is a dispute, not a discount; an advice without a payer name is never linked by amount",
        s,
    );
    // Found at 1M lines: a namesake's advice of the same amount took a line
    // whose text names another invoice.
    let namesake = "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,payment_reference,deduction_amount,deduction_reason\n\
        ADV9,Boulangerie Lefevre Nord,2026-03-01,300.00,EUR,FA-2026-000011,300.00,,,\n";
    let mut s = scenario(
        "FA-2026-000010 C2 300.00\nFA-2026-000011 C2 300.00",
        vec![l(
            "A",
            2,
            "300.00",
            "BOULANGERIE LEFEVRE",
            "",
            "FA-2026-000010 SOLDE",
        )],
        "A FA-2026-000010 300.00 invoice",
    );
    s.advices = namesake;
    let result = check(
        "an advice linked by payer and amount that quotes none of the invoices the line names is not this payment",
        s,
    );
    assert!(result.evidence[0].advices.is_empty());

    // A run of text starting RF + digits is looked up as a payment
    // reference only: never as an invoice number, nor as an advice's
    // reference (an advice giving the invoice's RF is not this payment's).
    let rf_advice = "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount,payment_reference,deduction_amount,deduction_reason\n\
        ADV7,Another Payer,2026-03-01,1180.50,EUR,FA-2026-000201,1180.50,RF18539007547034,,\n";
    let mut s = scenario(
        "FA-2026-000200 C2 1180.50 - - RF18539007547034\nFA-2026-000201 C2 1500.00",
        vec![l(
            "L1",
            2,
            "1180.50",
            "UNKNOWN CO",
            "",
            "RF18 5390 0754 7034",
        )],
        "L1 FA-2026-000200 1180.50 invoice",
    );
    s.advices = rf_advice;
    let result = check(
        "an RF reference in the text links no advice by its reference",
        s,
    );
    assert!(
        result.evidence[0].advices.is_empty(),
        "{:?}",
        result.evidence[0].advices
    );
}

#[test]
fn settlement_reports() {
    let mut s = scenario(
        "FA-2026-000001 C1 100.00\nFA-2026-000002 C2 60.00\nFA-2026-000003 C2 60.00 - 20\nFA-2026-000004 C3 40.00",
        vec![
            l("A", 5, "157.00", "STRIPE", "", "PAYOUT PO-1001"),
            l("B", 6, "157.00", "STRIPE", "", "PAYOUT PO-1001"),
        ],
        "A FA-2026-000001 100.00 invoice\nA FA-2026-000002 60.00 invoice\nA - -3.00 bank_fee\n\
         B 157.00 unknown_payer",
    );
    s.settlements = "PO-1,card,PO-1001,2026-03-05,EUR,t1,2026-03-04,charge,100.00,2.00,98.00,FA-2026-000001,,\n\
        PO-1,card,PO-1001,2026-03-05,EUR,t2,2026-03-04,charge,60.00,1.00,59.00,,C2,\n";
    check(
        "charges by invoice and by customer + amount (twins: the oldest due); a payout is settled once",
        s,
    );

    let mut s = scenario(
        "FA-2026-000001 C1 100.00\nFA-2026-000004 C3 40.00",
        vec![l("A", 5, "70.00", "ADYEN", "", "SETTLEMENT 8812")],
        "A 70.00 partial_remittance",
    );
    s.settlements = "P8,psp,8812,2026-03-05,EUR,t1,2026-03-04,charge,100.00,0,100.00,FA-2026-000001,,\n\
        P8,psp,8812,2026-03-05,EUR,t2,2026-03-04,refund,-30.00,0,-30.00,FA-2026-000004,,\n";
    check(
        "a refund of an invoice the payout does not pay is never guessed: the whole line to review",
        s,
    );

    let mut s = scenario(
        "FA-2026-000001 C1 100.00 0\nFA-2026-000004 C3 40.00",
        vec![
            l("A", 5, "140.00", "", "", "REMISE CHEQUES"),
            l("B", 5, "90.00", "", "", "VERSEMENT CB"),
            l("C", 5, "90.00", "", "", "VERSEMENT CB"),
        ],
        "A FA-2026-000004 40.00 invoice\nA 100.00 duplicate_payment\n\
         B 90.00 unknown_payer\nC 90.00 unknown_payer",
    );
    s.settlements = "D1,cheque,,2026-03-04,EUR,c1,2026-03-03,charge,100.00,,100.00,FA-2026-000001,,\n\
        D1,cheque,,2026-03-04,EUR,c2,2026-03-03,charge,40.00,,40.00,FA-2026-000004,,\n\
        X1,card,,2026-03-05,EUR,t1,2026-03-04,charge,90.00,,90.00,,C1,\n\
        X2,card,,2026-03-05,EUR,t2,2026-03-04,charge,90.00,,90.00,,C2,\n";
    check(
        "linked by amount and date when one payout fits (a cheque paying a settled invoice is a duplicate); two payouts of one amount: neither",
        s,
    );
}

#[test]
fn returns_reopen_the_invoice_they_name() {
    let mut returned = l("R", 9, "-120.00", "", "", "RETOUR PRLV SEPA MOTIF AM04");
    returned.end_to_end = "FA-2026-000001";
    let mut collected = l("A", 2, "120.00", "", "", "PRLV SEPA");
    collected.end_to_end = "FA-2026-000001";
    let s = scenario(
        "FA-2026-000001 C1 120.00\nFA-2026-000002 C2 80.00 30.00\nFA-2026-000003 C3 50.00",
        vec![
            collected,
            returned,
            l("B", 9, "-80.00", "", "", "CHEQUE IMPAYE FA-2026-000002"),
            l("C", 9, "-45.00", "", "", "REJET PRLV MD06"),
            l(
                "D",
                9,
                "-50.00",
                "",
                "",
                "RETURN SDD FA-2026-000001 FA-2026-000003",
            ),
            l("E", 9, "-12.00", "", "", "FRAIS TENUE DE COMPTE"),
            l(
                "F",
                9,
                "-50.00",
                "",
                "",
                "RETOUR MARCHANDISE FA-2026-000003",
            ),
        ],
        "A FA-2026-000001 120.00 invoice\n\
         R FA-2026-000001 -120.00 invoice\n\
         B 80.00 amount_mismatch\n\
         C 45.00 no_candidate\n\
         D 50.00 ambiguous\n\
         E 12.00 not_receivable\n\
         F 50.00 not_receivable",
    );
    let result = check(
        "a return reopens what was settled, never more; an untied or ambiguous return goes to a person; other debits (goods returned too) stay not receivable",
        s,
    );
    let rules: Vec<&str> = result.decisions.iter().map(|d| d.outcome.rule).collect();
    assert_eq!(
        rules,
        [
            "invoice_number",
            "return_AM04",
            "cheque_returned",
            "return_MD06",
            "return",
            "debit",
            "debit"
        ]
    );
    // Reopened: open again for its full amount.
    let at = result
        .items
        .iter()
        .position(|i| i.invoice_id == "FA-2026-000001")
        .unwrap();
    assert_eq!(result.open_after[at].to_string(), "120.00");
}

#[test]
fn a_bounced_cheque_reopens_the_invoice_its_cheque_paid() {
    let cheque = |id, amount, number, text| {
        let mut line = l(id, 2, amount, "", "", text);
        line.cheque = number;
        line
    };
    let mut s = scenario(
        "FA-2026-000001 C1 300.00\nFA-2026-000002 C2 80.00\nFA-2026-000003 C3 50.00\n\
         FA-2026-000004 C1 75.00\nFA-2026-000005 C2 75.00",
        vec![
            // Deposited as batch details, each cheque naming its invoice.
            cheque("A1", "300.00", "1234567", "FA-2026-000001"),
            cheque("A2", "50.00", "2345678", "FA-2026-000003"),
            // The same number deposited twice for two invoices.
            cheque("A3", "75.00", "3456789", "FA-2026-000004"),
            cheque("A4", "75.00", "3456789", "FA-2026-000005"),
            // A deposit slip in the settlement report.
            l("D", 2, "80.00", "", "", "REMISE CHEQUES"),
            l("R1", 9, "-300.00", "", "", "CHEQUE IMPAYE N 1234567"),
            cheque("R2", "-80.00", "7654321", "CHQ IMPAYE"),
            l("R3", 9, "-75.00", "", "", "CHEQUE IMPAYE 3456789"),
            l("R4", 9, "-60.00", "", "", "CHEQUE IMPAYE 9999999"),
        ],
        "A1 FA-2026-000001 300.00 invoice\nA2 FA-2026-000003 50.00 invoice\n\
         A3 FA-2026-000004 75.00 invoice\nA4 FA-2026-000005 75.00 invoice\n\
         D FA-2026-000002 80.00 invoice\n\
         R1 FA-2026-000001 -300.00 invoice\nR2 FA-2026-000002 -80.00 invoice\n\
         R3 75.00 no_candidate\nR4 60.00 no_candidate",
    );
    s.settlements =
        "D1,cheque,,2026-03-02,EUR,7654321,2026-03-01,charge,80.00,,80.00,FA-2026-000002,,\n";
    let twice = scenario(
        "FA-2026-000009 C1 200.00",
        vec![
            cheque("A1", "100.00", "1111111", "FA-2026-000009"),
            cheque("A2", "100.00", "2222222", "FA-2026-000009"),
            l("R1", 9, "-100.00", "", "", "CHEQUE IMPAYE 1111111"),
            l("R2", 10, "-100.00", "", "", "CHEQUE IMPAYE 1111111"),
        ],
        "A1 FA-2026-000009 100.00 invoice\nA2 FA-2026-000009 100.00 invoice\n\
         R1 FA-2026-000009 -100.00 invoice\nR2 100.00 amount_mismatch",
    );
    check(
        "found in review: a cheque bounces once; a second debit naming it takes nothing back",
        twice,
    );
    let result = check(
        "tied by the cheque number to the batch detail or the deposit slip row; a number deposited for two invoices or never deposited goes to a person",
        s,
    );
    let at = |id: &str| result.lines.iter().position(|l| l.line_id == id).unwrap();
    assert_eq!(result.decisions[at("R1")].outcome.rule, "cheque_returned");
    assert!(
        result.evidence[at("R1")].references.iter().any(|h| h.found
            == recon::matching::evidence::Found::OriginalReceipt
            && h.text == "1234567"),
        "{:?}",
        result.evidence[at("R1")].references
    );
}

#[test]
fn a_returned_direct_debit_is_tied_by_its_end_to_end_id() {
    let mut collected = l("A", 2, "120.00", "", "", "PRLV SEPA FA-2026-000001");
    collected.end_to_end = "E2E0000000042";
    let mut returned = l("R1", 9, "-120.00", "", "", "RETOUR PRLV SEPA MOTIF AM04");
    returned.end_to_end = "E2E0000000042";
    let mut s = scenario(
        "FA-2026-000001 C1 120.00\nFA-2026-000002 C2 80.00",
        vec![
            collected,
            l("D", 2, "80.00", "", "", "PRLV SEPA REMISE DD-17"),
            returned,
            l("R2", 9, "-80.00", "", "", "REJET PRLV MS02 TX-998877"),
            l("R3", 9, "-80.00", "", "", "REJET PRLV MS02 TX-000000"),
        ],
        "A FA-2026-000001 120.00 invoice\nD FA-2026-000002 80.00 invoice\n\
         R1 FA-2026-000001 -120.00 invoice\nR2 FA-2026-000002 -80.00 invoice\n\
         R3 80.00 no_candidate",
    );
    s.settlements = "DD-17,direct_debit,DD-17,2026-03-02,EUR,TX-998877,2026-03-01,charge,80.00,,80.00,FA-2026-000002,,\n";
    let result = check(
        "tied to the collection line by end-to-end id, to the collection's settlement row by transaction id; an unknown one goes to a person",
        s,
    );
    let rules: Vec<&str> = result.decisions.iter().map(|d| d.outcome.rule).collect();
    assert_eq!(rules[2..], ["return_AM04", "return_MS02", "return_MS02"]);

    // Found in review: what a receipt names is not what it settled.
    let mut twice = l("B", 3, "1000.00", "", "", "PRLV SEPA FA-2026-000003");
    twice.end_to_end = "E2E0000000077";
    let mut back = l("R1", 9, "-1000.00", "", "", "RETOUR PRLV SEPA MOTIF MD06");
    back.end_to_end = "E2E0000000077";
    let mut fx_paid = conv(
        l("F", 2, "915.00", "", "", "FA-2026-000004"),
        "USD 1000.00",
        "",
    );
    fx_paid.end_to_end = "E2E0000000088";
    let mut fx_back = l("R4", 9, "-915.00", "", "", "RETOUR PRLV SEPA MOTIF AM04");
    fx_back.end_to_end = "E2E0000000088";
    let mut s = scenario(
        "FA-2026-000003 C1 1000.00\nFA-2026-000004USD C2 1000.00",
        vec![
            l("A", 2, "1000.00", "", "", "VIR FA-2026-000003"),
            twice,
            back,
            // A direct-debit return whose mandate reference is a cheque's
            // number, and one of another amount than the collection.
            l("R2", 9, "-300.00", "", "", "RETOUR PRLV AM04 RUM 4471234"),
            {
                let mut other = l("R3", 9, "-999.00", "", "", "RETOUR PRLV SEPA MOTIF AM04");
                other.end_to_end = "E2E0000000077";
                other
            },
            fx_paid,
            fx_back,
        ],
        "A FA-2026-000003 1000.00 invoice\nB 1000.00 duplicate_payment\n\
         R1 1000.00 amount_mismatch\nR2 300.00 no_candidate\nR3 999.00 no_candidate\n\
         F FA-2026-000004 1000.00 invoice\nF - -85.00 fx\nR4 915.00 currency_mismatch",
    );
    s.settlements =
        "D9,cheque,,2026-03-02,EUR,4471234,2026-03-01,charge,300.00,,300.00,FA-2026-000003,,\n";
    check(
        "a return of a receipt that settled nothing reopens nothing; keys of another kind or another amount tie nothing; an invoice settled across currencies is not reopened in the line's",
        s,
    );
}

#[test]
fn bank_codes_of_money_taken_back_are_returns() {
    // The unpaid direct debit says so only in its bank transaction code.
    let mut returned = l("R", 9, "-120.00", "", "", "");
    returned.end_to_end = "FA-2026-000001";
    returned.code = "PMNT/IDDT/UPDD";
    let mut collected = l("A", 2, "120.00", "", "", "PRLV SEPA");
    collected.end_to_end = "FA-2026-000001";
    let result = check(
        "an unpaid direct debit (PMNT/IDDT/UPDD) reopens",
        scenario(
            "FA-2026-000001 C1 120.00",
            vec![collected, returned],
            "A FA-2026-000001 120.00 invoice\nR FA-2026-000001 -120.00 invoice",
        ),
    );
    assert_eq!(result.decisions[1].outcome.rule, "return");
}
