//! CSV rows appended straight to a byte buffer, exactly as the `csv` crate
//! writes them with a `\n` terminator and its default (necessary) quoting:
//! a field is quoted when it holds a comma, a quote, a CR or a LF, quotes
//! inside it doubled; a record of one empty field is written `""`.
//!
//! The run's CSV files are hundreds of megabytes of short plain fields;
//! the `csv` writer's byte-at-a-time state machine was a sixteenth of the
//! instructions of a run outside hashing (`csv::Writer::write_record`,
//! 844 M of 14.0 G on 100k lines). The byte-for-byte agreement is tested
//! against the `csv` crate itself.

/// Rows appended to a buffer.
pub struct CsvRows {
    buf: Vec<u8>,
}

/// Whether the `csv` crate would quote `field`.
fn needs_quotes(field: &[u8]) -> bool {
    field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

impl CsvRows {
    /// Rows appended after what `buf` holds.
    pub fn new(buf: Vec<u8>) -> CsvRows {
        CsvRows { buf }
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// One record: its fields, comma separated, then `\n`.
    pub fn write_record<I, T>(&mut self, record: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let start = self.buf.len();
        for (index, field) in record.into_iter().enumerate() {
            if index > 0 {
                self.buf.push(b',');
            }
            let field = field.as_ref();
            if needs_quotes(field) {
                self.buf.push(b'"');
                for (part, piece) in field.split(|&b| b == b'"').enumerate() {
                    if part > 0 {
                        self.buf.extend_from_slice(b"\"\"");
                    }
                    self.buf.extend_from_slice(piece);
                }
                self.buf.push(b'"');
            } else {
                self.buf.extend_from_slice(field);
            }
        }
        if self.buf.len() == start {
            // Nothing written (one empty field, or none): an empty line
            // would read back as no record at all.
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_csv_crate(records: &[Vec<String>]) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .from_writer(Vec::new());
        for record in records {
            writer.write_record(record).unwrap();
        }
        writer.into_inner().unwrap()
    }

    fn with_rows(records: &[Vec<String>]) -> Vec<u8> {
        let mut rows = CsvRows::new(Vec::new());
        for record in records {
            rows.write_record(record);
        }
        rows.into_inner()
    }

    #[test]
    fn quotes_only_what_needs_it() {
        let records = vec![
            vec!["a".to_string(), "b c".to_string(), String::new()],
            vec![
                "x,y".to_string(),
                "say \"hi\"".to_string(),
                "l1\nl2".to_string(),
            ],
            vec!["cr\r".to_string(), "\"".to_string(), "é;ü".to_string()],
            vec![String::new()],
            vec![String::new(), String::new()],
        ];
        let written = with_rows(&records);
        assert_eq!(
            String::from_utf8(written.clone()).unwrap(),
            "a,b c,\n\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\"\n\"cr\r\",\"\"\"\",é;ü\n\"\"\n,\n"
        );
        assert_eq!(written, with_csv_crate(&records));
    }

    proptest! {
        #[test]
        fn agrees_with_the_csv_crate(
            records in prop::collection::vec(
                prop::collection::vec("[a-c ,\"\r\n;é]{0,6}", 1..5),
                0..6,
            )
        ) {
            prop_assert_eq!(with_rows(&records), with_csv_crate(&records));
        }
    }
}
