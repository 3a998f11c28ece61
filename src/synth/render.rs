//! Writes abstract bank lines in the wire formats the parsers read:
//! camt.053.001.02 and .08, MT940 with three `:86:` dialects (ING slash
//! codes, German `?NN` sub-fields, French free text) and CFONB 120.
//!
//! Each writer puts the line's bank reference where the contract's
//! `bank_ref` reads it (CAMT `Ntry/AcctSvcrRef`, MT940 after `//` in
//! `:61:`, CFONB 120 columns 105-120 of the `04` record) and closes every
//! statement with opening + entries = closing. What a format cannot carry
//! (a payer IBAN in CFONB or French free text, charges outside CAMT and the
//! ING dialect, cheque batches outside CAMT) is refused by `Format::carries`
//! before a situation is drawn, never silently dropped here.

use std::fmt::Write as _;

use super::codes::{Cents, amount_text, ddmmyy, dec, fold_upper, iso_date, mmdd, truncate, yymmdd};

/// Statement lines of one MT940 message / CFONB block at most: files hold
/// one statement per day, like a bank's, and a busy day is cut every 500
/// lines to keep a message a realistic size.
pub const BLOCK_LINES_MAX: usize = 500;

/// The lines cut into daily statements of at most `BLOCK_LINES_MAX`.
fn daily_blocks(lines: &[Line]) -> Vec<&[Line]> {
    let mut blocks = Vec::new();
    let mut start = 0;
    for at in 1..=lines.len() {
        if at == lines.len() || lines[at].day != lines[start].day || at - start >= BLOCK_LINES_MAX {
            blocks.push(&lines[start..at]);
            start = at;
        }
    }
    blocks
}

/// Longest SWIFT line: 65 characters (the MT940 standard).
const SWIFT_LINE_MAX: usize = 65;

/// Longest `Ustrd`: 140 characters (ISO 20022 `Max140Text`).
const USTRD_MAX: usize = 140;

/// Characters of one German `?2x` purpose sub-field and of one name field.
const GERMAN_SUBFIELD_MAX: usize = 27;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Camt02,
    Camt08,
    MtSlash,
    MtGerman,
    MtFrench,
    Cfonb,
}

/// Order in which files rotate through the formats.
pub const ROTATION: [Format; 6] = [
    Format::Camt02,
    Format::MtSlash,
    Format::Cfonb,
    Format::Camt08,
    Format::MtGerman,
    Format::MtFrench,
];

/// What a situation may need from a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    PayerIban,
    Charges,
    Batch,
}

impl Format {
    pub fn file_name(self, index: usize) -> String {
        let stem = match self {
            Format::Camt02 => "camt053-v02.xml",
            Format::Camt08 => "camt053-v08.xml",
            Format::MtSlash => "mt940-ing.sta",
            Format::MtGerman => "mt940-de.sta",
            Format::MtFrench => "mt940-fr.sta",
            Format::Cfonb => "cfonb120.txt",
        };
        format!("statements/{:03}-{stem}", index + 1)
    }

    pub fn carries(self, needs: Needs) -> bool {
        match needs {
            Needs::Nothing => true,
            Needs::PayerIban => !matches!(self, Format::MtFrench | Format::Cfonb),
            Needs::Charges => matches!(self, Format::Camt02 | Format::Camt08 | Format::MtSlash),
            Needs::Batch => matches!(self, Format::Camt02 | Format::Camt08),
        }
    }

    fn account(self) -> &'static str {
        match self {
            Format::Camt02 => "FR7630006000011234567890189",
            Format::Camt08 => "FR7630004000031234567890143",
            Format::MtSlash => "FR7610107001011234567890129",
            Format::MtGerman => "FR7617515900001234567890133",
            Format::MtFrench => "FR7611808009101234567890147",
            Format::Cfonb => "FR7630003000701234567890185",
        }
    }
}

/// One cheque of a deposit.
#[derive(Debug, Clone)]
pub struct Cheque {
    pub amount: Cents,
    pub number: String,
    pub drawer: String,
    pub text: String,
}

/// A bank line before it has a format.
#[derive(Debug, Clone)]
pub struct Line {
    pub bank_ref: String,
    pub day: i64,
    /// Signed: credits positive.
    pub amount: Cents,
    /// Short bank label (`VIR SEPA RECU`, `PRLV SEPA`, ...).
    pub label: &'static str,
    /// The counterparty: debtor of a credit, creditor of a debit.
    pub party_name: Option<String>,
    pub party_iban: Option<String>,
    pub end_to_end: Option<String>,
    /// Unstructured remittance text (may be empty).
    pub text: String,
    /// Byte position in `text` where an MT940 free-text `:86:` must break
    /// the line (a reference wrapped across two lines).
    pub wrap_at: Option<usize>,
    /// Structured ISO 11649 reference (CAMT `CdtrRefInf`, MT940
    /// `/REMI/STRD/CUR/`, CFONB `LCS`).
    pub creditor_ref: Option<String>,
    /// Charges deducted by the banks (positive); 0 when none.
    pub fee: Cents,
    pub cheques: Vec<Cheque>,
    /// A payment the payer instructed in another currency, which the bank
    /// converted into the line's EUR.
    pub fx: Option<Fx>,
}

/// What a bank reports of a converted payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fx {
    pub currency: &'static str,
    /// Instructed amount in `currency`'s cents, positive.
    pub instructed: Cents,
    /// EUR per unit of `currency`, in ten-thousandths (9150 = 0.9150).
    pub rate: i64,
}

impl Line {
    /// A line with only its day, amount, label, counterparty and text; no
    /// IBAN, end-to-end id, structured reference, fee or cheques.
    pub fn plain(
        day: i64,
        amount: Cents,
        label: &'static str,
        party_name: Option<String>,
        text: String,
    ) -> Line {
        Line {
            bank_ref: String::new(),
            day,
            amount,
            label,
            party_name,
            party_iban: None,
            end_to_end: None,
            text,
            wrap_at: None,
            creditor_ref: None,
            fee: 0,
            cheques: Vec::new(),
            fx: None,
        }
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits `text` in pieces of at most `max` characters, at spaces when one
/// is near.
fn word_chunks(text: &str, max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_string();
        while word.chars().count() > max {
            if !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
            }
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            chunks.push(head);
        }
        let needed = current.chars().count() + usize::from(!current.is_empty()) + word.len();
        if needed > max && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Cuts text that the parser joins without separator (slash codes, German
/// sub-fields) into SWIFT lines. A line never ends with a space (readers
/// trim it) and never starts with `-`, `:` or `{`, which would read as the
/// end of a message, a tag or an envelope.
fn tight_lines(text: &str, first_max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut max = first_max;
    while start < chars.len() {
        let mut end = (start + max).min(chars.len());
        while end < chars.len()
            && end > start + 1
            && (chars[end - 1] == ' ' || matches!(chars[end], '-' | ':' | '{' | '@'))
        {
            end -= 1;
        }
        lines.push(chars[start..end].iter().collect());
        start = end;
        max = SWIFT_LINE_MAX;
    }
    lines
}

/// Text safe for SWIFT and CFONB: folded to ASCII upper case, no `?`.
fn swift_text(text: &str) -> String {
    fold_upper(text).replace(['?', '@'], " ")
}

pub struct Rendered {
    pub bytes: Vec<u8>,
    pub closing: Cents,
}

pub fn render(format: Format, file_index: usize, lines: &[Line], opening: Cents) -> Rendered {
    match format {
        Format::Camt02 | Format::Camt08 => camt(format, file_index, lines, opening),
        Format::MtSlash | Format::MtGerman | Format::MtFrench => {
            mt940(format, file_index, lines, opening)
        }
        Format::Cfonb => cfonb(file_index, lines, opening),
    }
}

fn camt_balance(out: &mut String, code: &str, cents: Cents, day: i64) {
    let _ = writeln!(
        out,
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Dt><Dt>{}</Dt></Dt></Bal>",
        dec(cents.abs()),
        if cents < 0 { "DBIT" } else { "CRDT" },
        iso_date(day)
    );
}

fn camt(format: Format, file_index: usize, lines: &[Line], opening: Cents) -> Rendered {
    let v08 = format == Format::Camt08;
    let namespace = if v08 {
        "camt.053.001.08"
    } else {
        "camt.053.001.02"
    };
    let first_day = lines.first().map_or(0, |l| l.day);
    let last_day = lines.last().map_or(0, |l| l.day);
    let closing = opening + lines.iter().map(|l| l.amount).sum::<Cents>();
    let mut out = String::with_capacity(lines.len() * 1400 + 2048);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:{namespace}\">\n<BkToCstmrStmt>\n\
<GrpHdr><MsgId>SYNTH-{file_index:05}</MsgId><CreDtTm>{}T06:00:00+01:00</CreDtTm></GrpHdr>\n<Stmt><Id>SYNTH-STMT-{file_index:05}</Id><ElctrncSeqNb>{}</ElctrncSeqNb><CreDtTm>{}T06:00:00+01:00</CreDtTm>\n\
<Acct><Id><IBAN>{}</IBAN></Id><Ccy>EUR</Ccy><Ownr><Nm>DUPONT INDUSTRIE SAS</Nm></Ownr></Acct>\n",
        iso_date(last_day + 1),
        file_index + 1,
        iso_date(last_day + 1),
        format.account()
    );
    camt_balance(&mut out, "OPBD", opening, first_day);
    camt_balance(&mut out, "CLBD", closing, last_day);
    for (position, line) in lines.iter().enumerate() {
        camt_entry(&mut out, v08, position + 1, line);
    }
    out.push_str("</Stmt>\n</BkToCstmrStmt>\n</Document>\n");
    Rendered {
        bytes: out.into_bytes(),
        closing,
    }
}

fn camt_party(out: &mut String, v08: bool, role: &str, name: Option<&str>, iban: Option<&str>) {
    if let Some(name) = name {
        if v08 {
            let _ = write!(
                out,
                "<{role}><Pty><Nm>{}</Nm></Pty></{role}>",
                xml_escape(name)
            );
        } else {
            let _ = write!(out, "<{role}><Nm>{}</Nm></{role}>", xml_escape(name));
        }
    }
    if let Some(iban) = iban {
        let _ = write!(out, "<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct>");
    }
}

/// `instructed`: amount, currency and, for a conversion, the rate in
/// ten-thousandths of EUR per unit.
fn camt_amount(
    out: &mut String,
    v08: bool,
    cents: Cents,
    instructed: Option<(Cents, &str, Option<i64>)>,
) {
    if v08 {
        let _ = write!(
            out,
            "<Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd>",
            dec(cents.abs()),
            if cents < 0 { "DBIT" } else { "CRDT" }
        );
    }
    out.push_str("<AmtDtls>");
    if let Some((instructed, currency, rate)) = instructed {
        let _ = write!(
            out,
            "<InstdAmt><Amt Ccy=\"{currency}\">{}</Amt>",
            dec(instructed.abs())
        );
        if let Some(rate) = rate {
            let _ = write!(
                out,
                "<CcyXchg><SrcCcy>{currency}</SrcCcy><TrgtCcy>EUR</TrgtCcy><XchgRate>{}.{:04}</XchgRate></CcyXchg>",
                rate / 10_000,
                rate % 10_000
            );
        }
        out.push_str("</InstdAmt>");
    }
    let _ = write!(
        out,
        "<TxAmt><Amt Ccy=\"EUR\">{}</Amt></TxAmt></AmtDtls>",
        dec(cents.abs())
    );
}

fn camt_entry(out: &mut String, v08: bool, position: usize, line: &Line) {
    let credit = line.amount >= 0;
    let indicator = if credit { "CRDT" } else { "DBIT" };
    let date = iso_date(line.day);
    let status = if v08 {
        "<Sts><Cd>BOOK</Cd></Sts>"
    } else {
        "<Sts>BOOK</Sts>"
    };
    let lcr = line.label == "REMISE LCR";
    let (family, sub) = if lcr {
        // Bills of exchange settled at maturity.
        ("DRFT", "STAM")
    } else if !line.cheques.is_empty() {
        ("RCHQ", "BCHQ")
    } else if credit {
        ("RCDT", "ESCT")
    } else {
        ("ICDT", "ESCT")
    };
    let _ = write!(
        out,
        "<Ntry><NtryRef>{position}</NtryRef><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{status}\
<BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{}</AcctSvcrRef>\
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>",
        dec(line.amount.abs()),
        line.bank_ref
    );
    if line.fee > 0 {
        if v08 {
            let _ = write!(
                out,
                "<Chrgs><TtlChrgsAndTaxAmt Ccy=\"EUR\">{0}</TtlChrgsAndTaxAmt><Rcrd><Amt Ccy=\"EUR\">{0}</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd><Tp><Cd>COMM</Cd></Tp></Rcrd></Chrgs>",
                dec(line.fee)
            );
        } else {
            let _ = write!(
                out,
                "<Chrgs><Amt Ccy=\"EUR\">{}</Amt><Tp><Cd>COMM</Cd></Tp></Chrgs>",
                dec(line.fee)
            );
        }
    }
    out.push_str("<NtryDtls>");
    if !line.cheques.is_empty() {
        let _ = write!(
            out,
            "<Btch><NbOfTxs>{}</NbOfTxs></Btch>",
            line.cheques.len()
        );
        for cheque in &line.cheques {
            let reference = if lcr { "EndToEndId" } else { "ChqNb" };
            let _ = write!(
                out,
                "<TxDtls><Refs><{reference}>{}</{reference}></Refs>",
                cheque.number
            );
            camt_amount(out, v08, cheque.amount, None);
            out.push_str("<RltdPties>");
            camt_party(out, v08, "Dbtr", Some(&cheque.drawer), None);
            let _ = write!(
                out,
                "</RltdPties><RmtInf><Ustrd>{}</Ustrd></RmtInf></TxDtls>",
                xml_escape(&cheque.text)
            );
        }
        out.push_str("</NtryDtls></Ntry>\n");
        return;
    }
    let _ = write!(
        out,
        "<TxDtls><Refs><EndToEndId>{}</EndToEndId></Refs>",
        xml_escape(line.end_to_end.as_deref().unwrap_or("NOTPROVIDED"))
    );
    let instructed = match line.fx {
        Some(fx) => Some((fx.instructed, fx.currency, Some(fx.rate))),
        None => (line.fee > 0).then(|| (line.amount + line.fee, "EUR", None)),
    };
    camt_amount(out, v08, line.amount, instructed);
    let (role, other) = if credit {
        ("Dbtr", "Cdtr")
    } else {
        ("Cdtr", "Dbtr")
    };
    out.push_str("<RltdPties>");
    if credit {
        camt_party(
            out,
            v08,
            role,
            line.party_name.as_deref(),
            line.party_iban.as_deref(),
        );
        camt_party(out, v08, other, Some("DUPONT INDUSTRIE SAS"), None);
    } else {
        camt_party(out, v08, other, Some("DUPONT INDUSTRIE SAS"), None);
        camt_party(
            out,
            v08,
            role,
            line.party_name.as_deref(),
            line.party_iban.as_deref(),
        );
    }
    out.push_str("</RltdPties>");
    if !line.text.is_empty() || line.creditor_ref.is_some() {
        out.push_str("<RmtInf>");
        for chunk in word_chunks(&line.text, USTRD_MAX) {
            let _ = write!(out, "<Ustrd>{}</Ustrd>", xml_escape(&chunk));
        }
        if let Some(reference) = &line.creditor_ref {
            let _ = write!(
                out,
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd>"
            );
        }
        out.push_str("</RmtInf>");
    }
    out.push_str("</TxDtls></NtryDtls></Ntry>\n");
}

fn mt_balance(cents: Cents) -> String {
    format!(
        "{}{}",
        if cents < 0 { "D" } else { "C" },
        amount_text(cents.abs(), ',')
    )
}

fn mt940(format: Format, file_index: usize, lines: &[Line], opening: Cents) -> Rendered {
    let mut out = String::with_capacity(lines.len() * 420 + 1024);
    let mut balance = opening;
    for (block, chunk) in daily_blocks(lines).into_iter().enumerate() {
        let first_day = chunk.first().map_or(0, |l| l.day);
        let last_day = chunk.last().map_or(0, |l| l.day);
        let open = mt_balance(balance);
        let _ = write!(
            out,
            ":20:SY{file_index:05}{block:04}\r\n:25:{}EUR\r\n:28C:{:05}/1\r\n:60F:{}{}EUR{}\r\n",
            format.account(),
            file_index * 1000 + block + 1,
            &open[..1],
            yymmdd(first_day),
            &open[1..]
        );
        for line in chunk {
            balance += line.amount;
            mt_line(&mut out, format, line);
        }
        let sign_and_amount = mt_balance(balance);
        let _ = write!(
            out,
            ":62F:{}{}EUR{}\r\n-\r\n",
            &sign_and_amount[..1],
            yymmdd(last_day),
            &sign_and_amount[1..]
        );
    }
    Rendered {
        bytes: out.into_bytes(),
        closing: balance,
    }
}

fn mt_line(out: &mut String, format: Format, line: &Line) {
    let credit = line.amount >= 0;
    let kind = match format {
        Format::MtGerman => {
            if credit {
                "N166"
            } else {
                "N116"
            }
        }
        _ => "NTRF",
    };
    let customer_ref = line
        .end_to_end
        .as_deref()
        .filter(|e| e.len() <= 16)
        .unwrap_or("NONREF");
    let _ = write!(
        out,
        ":61:{}{}{}{}{kind}{customer_ref}//{}\r\n",
        yymmdd(line.day),
        mmdd(line.day),
        if credit { "C" } else { "D" },
        amount_text(line.amount.abs(), ','),
        line.bank_ref
    );
    if let Some(fx) = line.fx {
        let _ = write!(
            out,
            "/OCMT/{}{}//EXCH/{},{:04}/\r\n",
            fx.currency,
            amount_text(fx.instructed, ','),
            fx.rate / 10_000,
            fx.rate % 10_000
        );
    }
    if line.fee > 0 {
        let _ = write!(
            out,
            "/OCMT/EUR{}//CHGS/EUR{}/\r\n",
            amount_text(line.amount.abs() + line.fee, ','),
            amount_text(line.fee, ',')
        );
    }
    let name = line.party_name.as_deref().map(swift_text);
    let text = swift_text(&line.text);
    match format {
        Format::MtSlash => {
            let mut body = String::new();
            if let Some(e2e) = &line.end_to_end {
                let _ = write!(body, "/EREF/{e2e}");
            }
            if let Some(iban) = &line.party_iban {
                let _ = write!(body, "/IBAN/{iban}");
            }
            if let Some(name) = &name {
                let _ = write!(body, "/NAME/{}", name.replace('/', " "));
            }
            if let Some(reference) = &line.creditor_ref {
                let _ = write!(body, "/REMI/STRD/CUR/{reference}/");
            } else if !text.is_empty() {
                let _ = write!(body, "/REMI/USTD//{}/", text.replace('/', " "));
            } else if body.is_empty() {
                let _ = write!(body, "/TRCD/{}/", line.label.replace(' ', ""));
            }
            for (index, piece) in tight_lines(&body, SWIFT_LINE_MAX - 4).iter().enumerate() {
                if index == 0 {
                    let _ = write!(out, ":86:{piece}\r\n");
                } else {
                    let _ = write!(out, "{piece}\r\n");
                }
            }
        }
        Format::MtGerman => {
            let mut body = String::new();
            let (code, label) = if credit {
                ("166", "GUTSCHR. UEBERWEISUNG")
            } else {
                ("116", "SEPA UEBERWEISUNG")
            };
            let _ = write!(body, "{code}?00{label}?109310");
            let mut purpose = String::new();
            if let Some(e2e) = &line.end_to_end {
                let _ = write!(purpose, "EREF+{e2e}");
            }
            let words = if text.is_empty() {
                swift_text(line.label)
            } else {
                text.clone()
            };
            let _ = write!(purpose, "SVWZ+{words}");
            let pieces: Vec<String> = {
                let chars: Vec<char> = purpose.chars().collect();
                chars
                    .chunks(GERMAN_SUBFIELD_MAX)
                    .map(|c| c.iter().collect())
                    .collect()
            };
            const KEYS: [&str; 14] = [
                "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "60", "61", "62", "63",
            ];
            for (key, piece) in KEYS.iter().zip(pieces.iter()) {
                let _ = write!(body, "?{key}{piece}");
            }
            body.push_str("?30AGRIFRPP");
            if let Some(iban) = &line.party_iban {
                let _ = write!(body, "?31{iban}");
            }
            if let Some(name) = &name {
                let chars: Vec<char> = name.chars().collect();
                let mut parts = chars.chunks(GERMAN_SUBFIELD_MAX);
                if let Some(head) = parts.next() {
                    let _ = write!(body, "?32{}", head.iter().collect::<String>());
                }
                if let Some(tail) = parts.next() {
                    let _ = write!(body, "?33{}", tail.iter().collect::<String>());
                }
            }
            for (index, piece) in tight_lines(&body, SWIFT_LINE_MAX - 4).iter().enumerate() {
                if index == 0 {
                    let _ = write!(out, ":86:{piece}\r\n");
                } else {
                    let _ = write!(out, "{piece}\r\n");
                }
            }
        }
        _ => {
            // French free text: `VIR SEPA RECU /DE name /MOTIF text /REF e2e`,
            // wrapped at spaces, or inside a reference where the line says.
            let mut segments: Vec<String> = Vec::new();
            let mut head = swift_text(line.label);
            if let Some(name) = &name {
                let _ = write!(head, " /DE {name}");
            }
            let mut text_parts: Vec<String> = Vec::new();
            match line.wrap_at.filter(|at| *at < line.text.len()) {
                Some(at) => {
                    text_parts.push(swift_text(&line.text[..at]));
                    text_parts.push(swift_text(&line.text[at..]));
                }
                None if !text.is_empty() => text_parts.push(text.clone()),
                None => {}
            }
            let mut tail = String::new();
            if let Some(reference) = &line.creditor_ref {
                let _ = write!(tail, " {reference}");
            }
            if let Some(e2e) = &line.end_to_end {
                let _ = write!(tail, " /REF {e2e}");
            }
            if text_parts.is_empty() {
                segments.push(format!("{head}{tail}"));
            } else {
                let last = text_parts.len() - 1;
                for (index, part) in text_parts.into_iter().enumerate() {
                    let mut segment = if index == 0 {
                        format!("{head} /MOTIF {part}")
                    } else {
                        part
                    };
                    if index == last {
                        segment.push_str(&tail);
                    }
                    segments.push(segment);
                }
            }
            let mut first = true;
            for segment in segments {
                for piece in word_chunks(&segment, SWIFT_LINE_MAX - 4) {
                    let piece = if piece.starts_with(['-', ':', '{']) {
                        format!(" {piece}")
                    } else {
                        piece
                    };
                    if first {
                        let _ = write!(out, ":86:{piece}\r\n");
                        first = false;
                    } else {
                        let _ = write!(out, "{piece}\r\n");
                    }
                }
            }
        }
    }
}

/// A 120-character CFONB record with `parts` at their 1-based columns.
fn cfonb_record(out: &mut String, parts: &[(usize, &str)]) {
    let mut record = [b' '; 120];
    for (column, text) in parts {
        for (at, byte) in text.bytes().enumerate() {
            if let Some(slot) = record.get_mut(column - 1 + at) {
                *slot = byte;
            }
        }
    }
    out.push_str(std::str::from_utf8(&record).unwrap_or_default());
    out.push('\n');
}

/// 13 digits and the sign character that carries the last digit.
fn cfonb_amount(cents: Cents) -> String {
    let abs = cents.unsigned_abs();
    let last = (abs % 10) as u8;
    let sign = if cents < 0 {
        if last == 0 {
            '}'
        } else {
            (b'J' + last - 1) as char
        }
    } else if last == 0 {
        '{'
    } else {
        (b'A' + last - 1) as char
    };
    format!("{:013}{sign}", abs / 10)
}

const CFONB_BANK: &str = "30003";
const CFONB_BRANCH: &str = "00070";
const CFONB_ACCOUNT: &str = "12345678901";

fn cfonb(file_index: usize, lines: &[Line], opening: Cents) -> Rendered {
    let mut out = String::with_capacity(lines.len() * 121 * 5);
    let mut balance = opening;
    let mut number = file_index * 100_000;
    for chunk in daily_blocks(lines) {
        let first_day = chunk.first().map_or(0, |l| l.day);
        let last_day = chunk.last().map_or(0, |l| l.day);
        let common = |code: &'static str| {
            [
                (1usize, code),
                (3, CFONB_BANK),
                (12, CFONB_BRANCH),
                (17, "EUR"),
                (20, "2"),
                (22, CFONB_ACCOUNT),
            ]
        };
        let old = cfonb_amount(balance);
        let date = ddmmyy(first_day);
        let mut parts = common("01").to_vec();
        parts.extend([(35, date.as_str()), (91, old.as_str())]);
        cfonb_record(&mut out, &parts);
        for line in chunk {
            number += 1;
            balance += line.amount;
            let credit = line.amount >= 0;
            let date = ddmmyy(line.day);
            let amount = cfonb_amount(line.amount);
            let entry_number = format!("{:07}", number % 10_000_000);
            let mut label = swift_text(line.label);
            if let Some(name) = &line.party_name {
                label = format!("{label} {}", swift_text(name));
            }
            let label = truncate(&label, 31);
            let code = if credit { "05" } else { "06" };
            let mut parts = common("04").to_vec();
            parts.extend([
                (8, "0512"),
                (33, code),
                (35, date.as_str()),
                (43, date.as_str()),
                (49, label.as_str()),
                (82, entry_number.as_str()),
                (91, amount.as_str()),
                (105, line.bank_ref.as_str()),
            ]);
            cfonb_record(&mut out, &parts);
            let complement = |out: &mut String, qualifier: &str, text: &str| {
                let mut parts = common("05").to_vec();
                parts.extend([
                    (8, "0512"),
                    (33, code),
                    (35, date.as_str()),
                    (46, qualifier),
                    (49, text),
                ]);
                cfonb_record(out, &parts);
            };
            if let Some(name) = &line.party_name {
                let qualifier = if credit { "NPY" } else { "NBE" };
                complement(&mut out, qualifier, &truncate(&swift_text(name), 70));
            }
            match line.wrap_at.filter(|at| *at < line.text.len()) {
                Some(at) => {
                    for part in [&line.text[..at], &line.text[at..]] {
                        for chunk in word_chunks(&swift_text(part), 70) {
                            complement(&mut out, "LIB", &chunk);
                        }
                    }
                }
                None => {
                    for chunk in word_chunks(&swift_text(&line.text), 70) {
                        complement(&mut out, "LIB", &chunk);
                    }
                }
            }
            if let Some(e2e) = &line.end_to_end {
                complement(&mut out, "RCN", &format!("{:<35}", truncate(e2e, 35)));
            }
            if let Some(reference) = &line.creditor_ref {
                complement(&mut out, "LCS", reference);
            }
            if let Some(fx) = line.fx {
                // Currency, decimals, amount (14), rate decimals, rate (11).
                let original = format!("{}2{:014}4{:011}", fx.currency, fx.instructed, fx.rate);
                complement(&mut out, "MMO", &original);
            }
        }
        let new = cfonb_amount(balance);
        let date = ddmmyy(last_day);
        let mut parts = common("07").to_vec();
        parts.extend([(35, date.as_str()), (91, new.as_str())]);
        cfonb_record(&mut out, &parts);
    }
    Rendered {
        bytes: out.into_bytes(),
        closing: balance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfonb_amounts_carry_the_sign_in_the_last_character() {
        assert_eq!(cfonb_amount(12000), "0000000001200{");
        assert_eq!(cfonb_amount(12345), "0000000001234E");
        assert_eq!(cfonb_amount(-4000), "0000000000400}");
        assert_eq!(cfonb_amount(-12), "0000000000001K");
    }

    #[test]
    fn tight_lines_never_start_a_tag_or_end_with_a_space() {
        let text = "/EREF/E2E0000000001/REMI/USTD//FACTURE FA-2026-000123 ET :20: -1 /";
        for max in 5..40 {
            let lines = tight_lines(text, max);
            assert_eq!(lines.concat(), text);
            for line in &lines[1..] {
                assert!(!line.starts_with(['-', ':', '{']), "{line:?}");
            }
            for line in &lines[..lines.len() - 1] {
                assert!(!line.ends_with(' '), "{line:?}");
            }
        }
    }
}
