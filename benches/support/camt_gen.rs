//! Deterministic generator of large camt.053 documents for the benches:
//! realistic entries with parties, IBANs, references and remittance text.

use std::fmt::Write as _;

/// xorshift64*: reproducible on every machine, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const NAMES: &[&str] = &[
    "ETS MARTIN ET FILS",
    "Boulangerie Lefevre SARL",
    "LEGRAND DISTRIBUTION SA",
    "Garage Durand",
    "Pharmacie Centrale",
    "Cabinet Moreau",
    "Clotures Alpha EURL",
    "Acme Imports Ltd",
    "SCI Les Tilleuls",
    "Transports Petit &amp; Cie",
];

/// A camt.053.001.02 statement of at least `target_bytes`. With `rich`,
/// one entry in five carries v02 `Chrgs` and one in seven is a batch of
/// three `TxDtls` (which the `camt053` crate rejects); without it, every
/// entry has exactly one `TxDtls` and no charges.
pub fn camt053(target_bytes: usize, rich: bool, seed: u64) -> (String, usize) {
    let mut rng = Rng::new(seed);
    let mut entries = String::with_capacity(target_bytes + 4096);
    let mut count = 0usize;
    let mut net: i64 = 0;
    while entries.len() < target_bytes {
        count += 1;
        let cents = 100 + rng.below(500_000) as i64;
        let credit = rng.below(4) != 0;
        net += if credit { cents } else { -cents };
        let day = 1 + rng.below(28);
        let name = NAMES[rng.below(NAMES.len() as u64) as usize];
        let iban = format!("FR76{:023}", rng.below(10u64.pow(18)));
        let invoice = 100_000 + rng.below(900_000);
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let _ = write!(
            entries,
            "<Ntry><NtryRef>{count}</NtryRef><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{}</CdtDbtInd><Sts>BOOK</Sts>\
<BookgDt><Dt>2026-03-{day:02}</Dt></BookgDt><ValDt><Dt>2026-03-{day:02}</Dt></ValDt><AcctSvcrRef>2026030{count:09}</AcctSvcrRef>\
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>",
            if credit { "CRDT" } else { "DBIT" }
        );
        if rich && count.is_multiple_of(5) {
            entries.push_str("<Chrgs><Amt Ccy=\"EUR\">1.50</Amt><Tp><Cd>COMM</Cd></Tp></Chrgs>");
        }
        let details = if rich && count.is_multiple_of(7) {
            3
        } else {
            1
        };
        entries.push_str("<NtryDtls>");
        if details > 1 {
            let _ = write!(entries, "<Btch><NbOfTxs>{details}</NbOfTxs></Btch>");
        }
        let mut left = cents;
        for d in 0..details {
            let part = if d + 1 == details { left } else { left / 2 };
            left -= part;
            let part_text = format!("{}.{:02}", part / 100, part % 100);
            let _ = write!(
                entries,
                "<TxDtls><Refs><EndToEndId>E2E-{count}-{d}</EndToEndId><TxId>TX{count:08}{d}</TxId></Refs>\
<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{part_text}</Amt></TxAmt></AmtDtls>\
<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct><Cdtr><Nm>DUPONT INDUSTRIE SAS</Nm></Cdtr></RltdPties>\
<RltdAgts><DbtrAgt><FinInstnId><BIC>AGRIFRPPXXX</BIC></FinInstnId></DbtrAgt></RltdAgts>\
<RmtInf><Ustrd>REGLEMENT FACTURE FA-2026-{invoice:06} CLIENT {name}</Ustrd></RmtInf></TxDtls>"
            );
        }
        entries.push_str("</NtryDtls></Ntry>\n");
    }
    let opening: i64 = 100_000_000; // cents
    let closing = opening + net;
    let money = |c: i64| format!("{}.{:02}", c.abs() / 100, c.abs() % 100);
    let sign = |c: i64| if c < 0 { "DBIT" } else { "CRDT" };
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
<GrpHdr><MsgId>BENCH-{seed}</MsgId><CreDtTm>2026-04-01T06:00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-STMT-{seed}</Id><CreDtTm>2026-04-01T06:00:00</CreDtTm>\
<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>\
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>\
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Dt><Dt>2026-03-31</Dt></Dt></Bal>\n{entries}</Stmt></BkToCstmrStmt></Document>\n",
        money(opening),
        sign(opening),
        money(closing),
        sign(closing)
    );
    (document, count)
}
