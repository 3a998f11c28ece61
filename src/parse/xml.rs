//! XML plumbing shared by the ISO 20022 parsers: decoding bytes to UTF-8,
//! safety limits, and a pull cursor over quick-xml events that walks the
//! document by local element names.
//!
//! The cursor is streaming: it never builds a tree, so memory stays near the
//! size of the model being built. It matches on local names only
//! (`camt:Ntry` and `Ntry` are the same element), which is what lets one
//! parser read every schema version and prefix. It keeps the open element
//! path so that every error can say where it happened.
//!
//! Safety: DTDs are refused (so no entity is ever declared, let alone
//! resolved from outside), the file size and the element depth are bounded,
//! and every loop consumes input, so no file makes the parser hang.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Location, ParseError, line_of_offset};
use crate::model::Money;
use crate::money::parse_amount;
use crate::parse::TrimAscii;

/// Largest XML file accepted: 1 GiB. A month of a busy corporate account in
/// camt.053 is a few hundred MB; beyond this the file is more likely a
/// mistake (or an attack) than a statement, and the model would not fit the
/// memory budget of a run anyway.
pub const FILE_SIZE_MAX: usize = 1 << 30;

/// Deepest element nesting accepted: 64. The deepest CAMT path
/// (`Envelope/Document/BkToCstmrStmt/Stmt/Ntry/NtryDtls/TxDtls/RmtInf/Strd/
/// RfrdDocAmt/AdjstmntAmtAndRsn/Amt`) is about 14 levels; a file nested far
/// deeper is malformed or hostile and is rejected before it costs anything.
pub const ELEMENT_DEPTH_MAX: usize = 64;

/// Bytes to UTF-8 text, honouring a BOM and the encoding declared in the XML
/// prolog. Returns the text and the warnings (a file declared UTF-8 that is
/// not is decoded as Windows-1252, with a warning naming the first bad byte).
pub fn decode<'a>(
    source: &str,
    bytes: &'a [u8],
) -> Result<(Cow<'a, str>, Vec<String>), ParseError> {
    let mut warnings = Vec::new();
    if bytes.len() > FILE_SIZE_MAX {
        return Err(ParseError::new(
            source,
            Location::File,
            format!(
                "file is {} bytes, larger than the {} bytes accepted (FILE_SIZE_MAX)",
                bytes.len(),
                FILE_SIZE_MAX
            ),
        ));
    }
    if let Some((encoding, bom_length)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_length..];
        if encoding == encoding_rs::UTF_8 {
            return Ok((crate::parse::decode_text(body, &mut warnings), warnings));
        }
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if had_errors {
            warnings.push(format!(
                "invalid {} sequences replaced by U+FFFD",
                encoding.name()
            ));
        }
        return Ok((Cow::Owned(text.into_owned()), warnings));
    }
    if let Some(label) = declared_encoding(bytes) {
        match encoding_rs::Encoding::for_label(label.as_bytes()) {
            Some(encoding) if encoding != encoding_rs::UTF_8 => {
                let (text, _, had_errors) = encoding.decode(bytes);
                if had_errors {
                    warnings.push(format!(
                        "invalid {} sequences replaced by U+FFFD",
                        encoding.name()
                    ));
                }
                return Ok((Cow::Owned(text.into_owned()), warnings));
            }
            Some(_) => {}
            None => warnings.push(format!(
                "unknown encoding {label:?} declared in the XML prolog; read as UTF-8"
            )),
        }
    }
    Ok((crate::parse::decode_text(bytes, &mut warnings), warnings))
}

/// The `encoding="..."` of an `<?xml ...?>` prolog, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let start = head.windows(5).position(|w| w == b"<?xml")?;
    let end = start + head[start..].windows(2).position(|w| w == b"?>")?;
    let prolog = std::str::from_utf8(&head[start..end]).ok()?;
    let at = prolog.find("encoding")?;
    let rest = prolog[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// What element text is stored as: a `String`, or a model [`Text`](crate::model::Text),
/// built straight from the borrowed input when it is short.
pub trait StoredText: From<String> + for<'t> From<&'t str> + AsRef<str> {}

impl<T: From<String> + for<'t> From<&'t str> + AsRef<str>> StoredText for T {}

/// An element the cursor has just entered.
pub struct Open<'a> {
    /// Local name: `Ntry` for `<camt:Ntry>`.
    pub name: &'a str,
    pub start: BytesStart<'a>,
}

impl Open<'_> {
    /// Raw value of an attribute by its full name (attribute values used in
    /// CAMT, `Ccy`, never need unescaping).
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.start
            .try_get_attribute(name)
            .ok()
            .flatten()
            .map(|attribute| attribute.value.trim().to_string())
    }

    /// Every `xmlns` / `xmlns:*` attribute value.
    pub fn namespaces(&self) -> Vec<String> {
        self.start
            .attributes()
            .with_checks(false)
            .flatten()
            .filter(|a| {
                let key = a.key.as_ref();
                key == "xmlns" || key.starts_with("xmlns:")
            })
            .map(|a| a.value.to_string())
            .collect()
    }
}

/// A pull cursor over the elements of one document.
pub struct Cursor<'a> {
    reader: Reader<&'a [u8]>,
    text: &'a str,
    source: &'a str,
    path: Vec<&'a str>,
}

impl<'a> Cursor<'a> {
    pub fn new(source: &'a str, text: &'a str) -> Cursor<'a> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        Cursor {
            reader,
            text,
            source,
            path: Vec::with_capacity(16),
        }
    }

    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The open element path, `Document/BkToCstmrStmt/Stmt`.
    pub fn path(&self) -> String {
        self.path.join("/")
    }

    /// An error located at the current element and line.
    pub fn error(&self, message: impl Into<String>) -> ParseError {
        let offset = self.reader.buffer_position() as usize;
        ParseError::new(
            self.source,
            Location::Element {
                path: if self.path.is_empty() {
                    "/".to_string()
                } else {
                    self.path()
                },
                line: line_of_offset(self.text.as_bytes(), offset),
            },
            message,
        )
    }

    /// An error for a child element `name` of the current element.
    pub fn error_at(&self, name: &str, message: impl Into<String>) -> ParseError {
        let mut error = self.error(message);
        if let Location::Element { path, .. } = &mut error.location {
            path.push('/');
            path.push_str(name);
        }
        error
    }

    fn xml_error(&self, error: quick_xml::Error) -> ParseError {
        let offset = self.reader.error_position() as usize;
        ParseError::new(
            self.source,
            Location::Element {
                path: if self.path.is_empty() {
                    "/".to_string()
                } else {
                    self.path()
                },
                line: line_of_offset(self.text.as_bytes(), offset),
            },
            format!("malformed XML: {error}"),
        )
    }

    /// A `&'a str` for a slice of the event buffer: events of a borrowed
    /// reader point into `self.text`, so the name can outlive the event.
    fn stable<'e>(&self, name: &'e str) -> &'a str {
        let base = self.text.as_ptr() as usize;
        let at = name.as_ptr() as usize;
        if at >= base && at + name.len() <= base + self.text.len() {
            self.text
                .get(at - base..at - base + name.len())
                .unwrap_or("?")
        } else {
            "?"
        }
    }

    fn enter(&mut self, start: BytesStart<'a>) -> Result<Open<'a>, ParseError> {
        if self.path.len() >= ELEMENT_DEPTH_MAX {
            return Err(self.error(format!(
                "elements nested deeper than {ELEMENT_DEPTH_MAX} levels (ELEMENT_DEPTH_MAX)"
            )));
        }
        // The local name: after the first ':' (as `local_name()` cuts it,
        // without its generic char search: 95 M of a CAMT parse's 1.89 G
        // instructions on 100k lines).
        let raw = start.name().into_inner();
        let local = raw
            .bytes()
            .position(|b| b == b':')
            .map_or(raw, |colon| &raw[colon + 1..]);
        let name = self.stable(local);
        if name.is_empty() {
            let raw = start.name();
            return Err(self.error(format!(
                "malformed XML: element <{}> has no local name",
                AsRef::<str>::as_ref(&raw)
            )));
        }
        self.path.push(name);
        Ok(Open { name, start })
    }

    /// The next child element of the current element, entered; `None` when
    /// the current element ends (it is then closed). Text and comments
    /// between elements are skipped.
    pub fn next_child(&mut self) -> Result<Option<Open<'a>>, ParseError> {
        loop {
            match self.reader.read_event() {
                Ok(Event::Start(start)) => return self.enter(start).map(Some),
                Ok(Event::End(_)) => {
                    self.path.pop();
                    return Ok(None);
                }
                Ok(Event::Eof) => {
                    return Err(if self.path.is_empty() {
                        self.error("no XML element found: expected an ISO 20022 document")
                    } else {
                        self.error(format!(
                            "unexpected end of file: expected </{}>",
                            self.path.last().copied().unwrap_or("?")
                        ))
                    });
                }
                Ok(Event::DocType(_)) => {
                    return Err(self.error(
                        "a DOCTYPE declaration: DTDs and entity declarations are not accepted",
                    ));
                }
                Ok(_) => {}
                Err(error) => return Err(self.xml_error(error)),
            }
        }
    }

    /// The text content of the element just entered, trimmed; the element
    /// is closed. Child elements inside it are skipped.
    pub fn text<T: StoredText>(&mut self) -> Result<T, ParseError> {
        Ok(match self.collect_text(false)? {
            Cow::Borrowed(text) => T::from(text),
            Cow::Owned(text) => T::from(text),
        })
    }

    /// Like `text`, borrowed from the input when it can be (no entity, no
    /// CR): the hot path for amounts, dates and codes that are parsed at
    /// once and never stored as text.
    pub fn text_cow(&mut self) -> Result<Cow<'a, str>, ParseError> {
        self.collect_text(false)
    }

    /// The text of the element just entered and of all its descendants,
    /// concatenated and trimmed (`<Sts>BOOK</Sts>` and `<Sts><Cd>BOOK</Cd></Sts>`
    /// both give `BOOK`).
    pub fn deep_text(&mut self) -> Result<String, ParseError> {
        self.collect_text(true).map(Cow::into_owned)
    }

    fn collect_text(&mut self, nested: bool) -> Result<Cow<'a, str>, ParseError> {
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        let mut depth = 0usize;
        let append = |text: &mut Cow<'a, str>, piece: Cow<'a, str>| {
            if text.is_empty() {
                *text = piece;
            } else {
                text.to_mut().push_str(&piece);
            }
        };
        loop {
            match self.reader.read_event() {
                // A short text without CR is taken as it is; `xml10_content`
                // (which normalises CR and CRLF) would search it with
                // `memchr`, slower than a loop over a few bytes.
                Ok(Event::Text(t)) if depth == 0 || nested => append(
                    &mut text,
                    if t.as_bytes().contains(&b'\r') {
                        t.xml10_content()
                    } else {
                        t.into_inner()
                    },
                ),
                Ok(Event::CData(t)) if depth == 0 || nested => append(&mut text, t.xml10_content()),
                Ok(Event::GeneralRef(r)) if depth == 0 || nested => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(self.error(format!("undefined entity &{other};")));
                            }
                        },
                        Err(error) => return Err(self.xml_error(error)),
                    };
                    text.to_mut().push(c);
                }
                Ok(Event::Start(start)) => {
                    self.enter(start)?;
                    depth += 1;
                }
                Ok(Event::End(_)) => {
                    self.path.pop();
                    if depth == 0 {
                        return Ok(match text {
                            Cow::Borrowed(b) => Cow::Borrowed(b.trim_fast()),
                            Cow::Owned(o) if o.trim_fast().len() == o.len() => Cow::Owned(o),
                            Cow::Owned(o) => Cow::Owned(o.trim_fast().to_string()),
                        });
                    }
                    depth -= 1;
                }
                Ok(Event::Eof) => {
                    return Err(self.error("unexpected end of file inside an element"));
                }
                Ok(Event::DocType(_)) => {
                    return Err(self.error("a DOCTYPE declaration inside an element"));
                }
                Ok(_) => {}
                Err(error) => return Err(self.xml_error(error)),
            }
        }
    }

    /// Skips the rest of the element just entered, children included.
    pub fn skip(&mut self) -> Result<(), ParseError> {
        let mut depth = 0usize;
        loop {
            match self.reader.read_event() {
                Ok(Event::Start(start)) => {
                    self.enter(start)?;
                    depth += 1;
                }
                Ok(Event::End(_)) => {
                    self.path.pop();
                    if depth == 0 {
                        return Ok(());
                    }
                    depth -= 1;
                }
                Ok(Event::Eof) => {
                    return Err(self.error("unexpected end of file inside an element"));
                }
                Ok(Event::DocType(_)) => {
                    return Err(self.error("a DOCTYPE declaration inside an element"));
                }
                Ok(_) => {}
                Err(error) => return Err(self.xml_error(error)),
            }
        }
    }

    /// Checks that nothing but comments, processing instructions and
    /// whitespace follows the root element.
    pub fn finish(&mut self) -> Result<(), ParseError> {
        loop {
            match self.reader.read_event() {
                Ok(Event::Eof) => return Ok(()),
                Ok(Event::Start(_)) => {
                    return Err(self.error("a second root element after the end of the document"));
                }
                Ok(Event::Text(t)) if t.trim().is_empty() => {}
                Ok(Event::Text(_)) => return Err(self.error("text after the end of the document")),
                Ok(_) => {}
                Err(error) => return Err(self.xml_error(error)),
            }
        }
    }
}

/// Readers of the ISO 20022 building blocks `camt` and `remt` share.
impl<'a> Cursor<'a> {
    /// An amount element: its value and `Ccy` attribute
    /// (`<Amt Ccy="EUR">12.50</Amt>`).
    pub fn money(&mut self, open: &Open<'a>) -> Result<Money, ParseError> {
        let currency = open.attribute("Ccy").unwrap_or_default();
        let text = self.text_cow()?;
        let amount = parse_amount(&text).map_err(|message| self.error_at(open.name, message))?;
        Ok(Money {
            amount,
            currency: currency.into(),
        })
    }

    /// An amount given directly (`<RmtdAmt Ccy="EUR">`) or in an `Amt`,
    /// `InstdAmt` or `EqvtAmt` child (`DscntApldAmt` v02 vs v04+,
    /// `OrgnlPmtInf/Amt/InstdAmt`).
    pub fn money_nested(&mut self, open: &Open<'a>) -> Result<Option<Money>, ParseError> {
        if open.attribute("Ccy").is_some() {
            return self.money(open).map(Some);
        }
        let mut found = None;
        while let Some(child) = self.next_child()? {
            match child.name {
                // A bare `Amt` is the amount even without its (required)
                // `Ccy`; `InstdAmt` / `EqvtAmt` may wrap one more level.
                "Amt" if child.attribute("Ccy").is_none() => found = Some(self.money(&child)?),
                "Amt" | "InstdAmt" | "EqvtAmt" => found = self.money_nested(&child)?.or(found),
                _ => self.skip()?,
            }
        }
        Ok(found)
    }

    /// A party's name: `Nm` (v02) or `Pty/Nm` (v08+); an empty name is none.
    pub fn party_name<T: StoredText>(&mut self) -> Result<Option<T>, ParseError> {
        let mut name = None;
        while let Some(child) = self.next_child()? {
            match child.name {
                "Nm" => name = Some(self.text()?),
                "Pty" => {
                    let inner = self.party_name()?;
                    name = name.or(inner);
                }
                _ => self.skip()?,
            }
        }
        Ok(name.filter(|n: &T| !n.as_ref().is_empty()))
    }
}
